// The organisation's live events from the /api/events WebSocket ({id, type, data, at}), shared by every page that
// listens. A browser cannot set headers on a WebSocket, so the access token goes as ?access_token=; after a drop the
// socket reconnects with a fresh token and ?lastEventId=, and the server replays what was missed (or sends "resync").
import { useEffect, useRef, useState } from 'preact/hooks';
import { refresh, session } from './session.js';

const listeners = new Set();
const statusListeners = new Set();
let socket = null;
let lastEventId = null;
let retry = 0;
let timer;
let status = 'closed';

function setStatus(next) {
  status = next;
  statusListeners.forEach(listener => listener(status));
}

function connect() {
  if (!session.accessToken || socket) return;
  const url = new URL('/api/events', location.href);
  url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
  url.searchParams.set('access_token', session.accessToken);
  if (lastEventId !== null) url.searchParams.set('lastEventId', lastEventId);
  setStatus('connecting');
  const ws = new WebSocket(url);
  socket = ws;
  ws.onopen = () => { retry = 0; setStatus('live'); };
  ws.onmessage = message => {
    const event = JSON.parse(message.data);
    if (event.id != null) lastEventId = event.id;
    listeners.forEach(listener => listener(event));
  };
  ws.onclose = async () => {
    if (socket !== ws) return;
    socket = null;
    setStatus('reconnecting');
    if (listeners.size === 0 || !session.current) return setStatus('closed');
    // The token may have ended (the server closes at its expiry): a fresh one first, then back off up to 10 s.
    if (retry > 0) await refresh();
    timer = setTimeout(connect, Math.min(10_000, 500 * 2 ** retry++));
  };
}

function disconnect() {
  clearTimeout(timer);
  const ws = socket;
  socket = null;
  ws?.close();
  setStatus('closed');
}

session.subscribe(current => {
  if (!current) {
    lastEventId = null;
    disconnect();
  }
});

// Calls onEvent for each live event whose type starts with one of the prefixes ("device_", "session_"…), and for
// "resync" (the page should read everything again).
export function useLiveEvents(prefixes, onEvent) {
  const saved = useRef(onEvent);
  saved.current = onEvent;
  useEffect(() => {
    const listener = event => {
      if (event.type === 'resync' || prefixes.some(p => event.type.startsWith(p))) saved.current(event);
    };
    listeners.add(listener);
    connect();
    return () => {
      listeners.delete(listener);
      if (listeners.size === 0) disconnect();
    };
  }, [prefixes.join()]);
}

export function useLiveStatus() {
  const [current, setCurrent] = useState(status);
  useEffect(() => {
    statusListeners.add(setCurrent);
    return () => statusListeners.delete(setCurrent);
  }, []);
  return current;
}
