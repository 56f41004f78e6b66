// Chat (Chat service): the user's sessions, and a conversation streamed from POST /api/chat as Server-Sent Events —
// `token` text, `activity` (tool calls, reasoning: collapsible), `artifact` (files the answer wrote) and `done`, which
// carries the answer's usage and the balance after it.
import { useEffect, useRef, useState } from 'preact/hooks';
import { Problem, api, stream } from '../api.js';
import { Loading, ProblemText, asProblem, credits, html, useLoad } from '../ui.js';

export function Chat() {
  const sessions = useLoad(() => api('/api/chat/sessions?limit=50'));
  // A chosen conversation mounts anew (key); one the user just started keeps its page as it streamed.
  const [view, setView] = useState({ sessionId: null, key: 0 });
  const choose = sessionId => setView(v => ({ sessionId, key: v.key + 1 }));
  const [balance, setBalance] = useState(null);
  useEffect(() => { api('/api/tokens/balance').then(w => setBalance(w.available), () => {}); }, []);

  return html`
    <div class="heading-row">
      <h1>Chat</h1>
      <p class="hint" aria-live="polite">Available: <strong data-testid="chat-balance">${balance === null ? '…' : credits(balance)}</strong> credits</p>
    </div>
    <div class="chat">
      <aside aria-labelledby="sessions-heading" class="sessions">
        <h2 id="sessions-heading" class="visually-hidden">Conversations</h2>
        <button type="button" class="secondary" onClick=${() => choose(null)}>New chat</button>
        <${ProblemText} error=${sessions.error} />
        <ul>
          ${sessions.data?.data.map(s => html`
            <li key=${s.id}>
              <button type="button" class="link" aria-current=${s.id === view.sessionId ? 'true' : undefined} onClick=${() => choose(s.id)}>${s.title}</button>
            </li>`)}
        </ul>
      </aside>
      <${Conversation} key=${view.key} sessionId=${view.sessionId}
        onStarted=${sessionId => { setView(v => ({ ...v, sessionId })); sessions.reload(); }}
        onBalance=${setBalance} />
    </div>`;
}

function Conversation({ sessionId, onStarted, onBalance }) {
  const [turns, setTurns] = useState(sessionId ? null : []);
  const [message, setMessage] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const abort = useRef(null);
  const end = useRef(null);
  const current = useRef(sessionId);

  useEffect(() => {
    if (!sessionId || turns) return;
    api(`/api/chat/sessions/${sessionId}/messages?limit=100`)
      .then(page => setTurns(page.data.map(m => ({ role: m.role, text: m.content, usage: m.usage, activity: storedActivity(m), artifacts: [] }))), setError);
  }, [sessionId]);
  useEffect(() => end.current?.scrollIntoView({ block: 'nearest' }), [turns]);

  // Changes the answer being streamed (the last turn).
  const update = change => setTurns(all => (all.at(-1)?.role === 'assistant' ? [...all.slice(0, -1), change(all.at(-1))] : all));
  const send = async event => {
    event.preventDefault();
    if (!message.trim() || busy) return;
    const text = message;
    setMessage('');
    setError(null);
    setBusy(true);
    setTurns(all => [...all, { role: 'user', text }, { role: 'assistant', text: '', activity: [], artifacts: [], streaming: true }]);
    abort.current = new AbortController();
    try {
      await stream('/api/chat', {
        body: { message: text, sessionId: current.current ?? undefined },
        signal: abort.current.signal,
        onEvent: (name, data) => {
          if (name === 'token') update(t => ({ ...t, text: t.text + data.text }));
          else if (name === 'activity') update(t => ({ ...t, activity: [...t.activity, data] }));
          else if (name === 'artifact') update(t => ({ ...t, artifacts: [...t.artifacts.filter(a => a.path !== data.path), data] }));
          else if (name === 'error') update(t => ({ ...t, error: new Problem(data.status, data) }));
          else if (name === 'done') {
            update(t => ({ ...t, usage: data.usage, finishReason: data.finishReason }));
            onBalance(data.balance);
            if (!current.current) {
              current.current = data.sessionId;
              onStarted(data.sessionId);
            }
          }
        },
      });
    } catch (problem) {
      if (problem.name !== 'AbortError') {
        setError(asProblem(problem));
        setTurns(all => (all.at(-1).text ? all : all.slice(0, -2))); // refused before any answer: the message goes back to the box
        setMessage(text);
      }
    } finally {
      update(t => ({ ...t, streaming: false }));
      setBusy(false);
    }
  };

  return html`
    <section class="conversation" aria-label="Conversation">
      <div class="turns" aria-live="polite" aria-busy=${busy ? 'true' : 'false'}>
        ${turns === null ? html`<${Loading} />` : turns.length === 0 ? html`<p class="hint">Ask anything. Each answer shows what it cost.</p>` : turns.map((turn, i) => html`<${Turn} key=${i} turn=${turn} />`)}
        <div ref=${end}></div>
      </div>
      <${ProblemText} error=${error} />
      <form class="composer" onSubmit=${send}>
        <label for="message" class="visually-hidden">Message</label>
        <textarea id="message" value=${message} placeholder="Message" rows="2"
          onInput=${e => setMessage(e.currentTarget.value)}
          onKeyDown=${e => { if (e.key === 'Enter' && !e.shiftKey) send(e); }}></textarea>
        ${busy
          ? html`<button type="button" class="secondary" onClick=${() => abort.current?.abort()}>Stop</button>`
          : html`<button type="submit" disabled=${!message.trim()}>Send</button>`}
      </form>
    </section>`;
}

// A stored answer's tool calls, shown as its activity was while it streamed.
function storedActivity(message) {
  return (message.toolCalls ?? []).flatMap(t => [
    { type: 'tool_call', name: t.name, detail: t.arguments },
    { type: 'tool_result', name: t.name, detail: t.result },
  ]);
}

function Turn({ turn }) {
  if (turn.role === 'user') return html`<div class="turn user"><p>${turn.text}</p></div>`;
  return html`
    <article class="turn assistant" aria-label="Answer">
      ${turn.activity.map(a => html`
        <details class="activity">
          <summary>${a.type === 'tool_call' ? `Called ${a.name}` : a.type === 'tool_result' ? `Result of ${a.name ?? 'a tool'}` : a.type}</summary>
          ${a.detail && html`<pre><code>${a.detail}</code></pre>`}
        </details>`)}
      <p class="answer">${turn.text}${turn.streaming && html`<span class="cursor" aria-hidden="true">▍</span>`}</p>
      ${turn.artifacts.map(f => html`
        <details class="artifact" open>
          <summary>${f.action === 'updated' ? 'Updated' : 'Wrote'} <code>${f.path}</code></summary>
          <pre><code>${f.content}</code></pre>
        </details>`)}
      <${ProblemText} error=${turn.error} />
      ${turn.usage && html`<p class="cost" data-testid="cost">${credits(turn.usage.credits)} credits · ${turn.usage.inputTokens} in, ${turn.usage.outputTokens} out${turn.finishReason === 'length' ? ' · cut at the output limit' : ''}</p>`}
    </article>`;
}
