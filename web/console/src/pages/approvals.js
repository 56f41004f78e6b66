// Customer sessions (Devices service): what devices submitted, with approve and reject for the pending ones, kept
// current by the live session_* events.
import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { useLiveEvents } from '../live.js';
import { Loading, ProblemText, html, useLoad, when } from '../ui.js';

export function Approvals() {
  const [status, setStatus] = useState('pending');
  const sessions = useLoad(() => api(`/api/customer-sessions?limit=50${status ? `&status=${status}` : ''}`), [status]);
  useLiveEvents(['session_'], sessions.reload);
  return html`
    <div class="heading-row">
      <h1>Approvals</h1>
      <label class="compact">Show
        <select value=${status} onChange=${e => setStatus(e.currentTarget.value)}>
          <option value="pending">pending</option><option value="approved">approved</option><option value="rejected">rejected</option><option value="">all</option>
        </select>
      </label>
    </div>
    <${ProblemText} error=${sessions.error} />
    ${sessions.data === undefined ? html`<${Loading} />` : sessions.data.data.length === 0 ? html`<p>No ${status} sessions.</p>` : html`
      <ul class="list sessions-list">${sessions.data.data.map(s => html`<${SessionItem} key=${s.id} summary=${s} onDecided=${sessions.reload} />`)}</ul>`}`;
}

function SessionItem({ summary, onDecided }) {
  const [detail, setDetail] = useState(null);
  const [note, setNote] = useState('');
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const open = async event => {
    if (event.currentTarget.open && !detail) setDetail(await api(`/api/customer-sessions/${summary.id}`).catch(setError));
  };
  const decide = async decision => {
    setBusy(true);
    setError(null);
    try {
      await api(`/api/customer-sessions/${summary.id}/${decision}`, { method: 'POST', body: decision === 'approve' ? { note: note || undefined } : { reason: note || undefined } });
      onDecided();
    } catch (problem) {
      setError(problem);
    } finally {
      setBusy(false);
    }
  };
  const who = summary.customerName ?? 'A customer';
  return html`
    <li aria-label=${`${who} at ${summary.deviceName}`}>
      <div class="session">
        <p><strong>${who}</strong> at ${summary.deviceName} <span class=${`status ${summary.status}`}>${summary.status}</span> <small>${when(summary.submittedAt)} · ${summary.turns} turns</small></p>
        <p>${summary.summary}</p>
        <details onToggle=${open}>
          <summary>Transcript</summary>
          ${detail ? html`<ol class="transcript">${detail.transcript.map(t => html`<li><strong>${t.speaker}:</strong> ${t.text}</li>`)}</ol>` : html`<${Loading} />`}
        </details>
        ${summary.status === 'pending' && html`
          <div class="decide">
            <label for=${`note-${summary.id}`}>Note or reason</label>
            <input id=${`note-${summary.id}`} value=${note} onInput=${e => setNote(e.currentTarget.value)} />
            <button type="button" disabled=${busy} onClick=${() => decide('approve')}>Approve</button>
            <button type="button" class="danger" disabled=${busy} onClick=${() => decide('reject')}>Reject</button>
          </div>`}
        <${ProblemText} error=${error} />
      </div>
    </li>`;
}
