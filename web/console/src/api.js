// The public API, on the edge this page came from, with the signed-in user's access token; the same routes and
// tokens any client uses. A refused request throws a Problem: the RFC 7807 answer's sentence and its fields.
import { refresh, session } from './session.js';

export class Problem extends Error {
  constructor(status, body) {
    const said = body?.detail ?? body?.title ?? body?.error?.message ?? `The request failed (${status}).`;
    // A 402's detail is Billing's figures ("Required: 29, Available: 0"): said what it means first.
    super(status === 402 ? `Not enough credits. ${said}` : said);
    this.status = status;
    this.errors = body?.errors ?? {};
  }

  // The reason given for one field, matched without regard to case ("Email" and "email").
  field(name) {
    const key = Object.keys(this.errors).find(k => k.toLowerCase() === name.toLowerCase());
    return key ? [].concat(this.errors[key])[0] : null;
  }

  // True when the problem names none of these fields, so it belongs above the form rather than beside one.
  namesNoneOf(fields) {
    return !fields.some(f => this.field(f));
  }
}

export async function problemOf(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    // not JSON: the status says it
  }
  return new Problem(response.status, body);
}

// fetch with the access token; refreshes once on a 401 and tries again.
export async function send(path, { method = 'GET', body, headers = {}, signal, token } = {}) {
  const attempt = () => fetch(path, {
    method,
    signal,
    body: body === undefined ? undefined : JSON.stringify(body),
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...((token ?? session.accessToken) ? { authorization: `Bearer ${token ?? session.accessToken}` } : {}),
      ...headers,
    },
  });
  let response = await attempt();
  if (response.status === 401 && !token && session.current && await refresh()) {
    response = await attempt();
  }
  return response;
}

export async function api(path, options) {
  const response = await send(path, options);
  if (!response.ok) throw await problemOf(response);
  if (response.status === 204) return null;
  return (response.headers.get('content-type') ?? '').includes('json') ? response.json() : response.text();
}

// Reads a Server-Sent Events answer, calling onEvent(name, data) for each event as it arrives.
export async function stream(path, { body, onEvent, signal, token }) {
  const response = await send(path, { method: 'POST', body, signal, token, headers: { accept: 'text/event-stream' } });
  if (!response.ok) throw await problemOf(response);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let name = 'message';
      const data = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) name = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
      }
      if (data.length === 0) continue;
      const text = data.join('\n');
      let parsed = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        // plain text data, as /v1 sends "[DONE]"
      }
      onEvent(name, parsed);
    }
  }
}
