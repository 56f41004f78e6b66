// The personal assistant (seed 002): its status (live from the events socket), start and stop; its settings and the
// user's own (PATCH /api/user); and Telegram connect: a deep link shown as a QR code, polled until the chat is linked.
import { useEffect, useState } from 'preact/hooks';
import QRCode from 'qrcode';
import { api } from '../api.js';
import { useLiveEvents } from '../live.js';
import { updateUser } from '../session.js';
import { Field, FormProblem, Loading, ProblemText, html, useForm, useInterval, useLoad, when } from '../ui.js';

export function Assistant() {
  return html`
    <h1>Assistant</h1>
    <p class="lead">Your own assistant runs tools in its workspace when you chat; the chat page shows what it did.</p>
    <${Status} />
    <${Settings} />
    <${Telegram} />`;
}

function Status() {
  const assistant = useLoad(() => api('/api/assistant'));
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  useLiveEvents(['assistant_'], assistant.reload);
  // Starting takes a few seconds; the socket says when it runs, and this looks too in case the socket is down.
  useInterval(assistant.reload, ['starting', 'stopping'].includes(assistant.data?.status) ? 2000 : 0);
  const act = async action => {
    setBusy(true);
    setError(null);
    try {
      await api(`/api/assistant/${action}`, { method: 'POST' });
    } catch (problem) {
      setError(problem);
    } finally {
      setBusy(false);
      assistant.reload();
    }
  };
  const status = assistant.data?.status;
  return html`
    <section aria-labelledby="assistant-status">
      <h2 id="assistant-status">Status</h2>
      <${ProblemText} error=${assistant.error ?? error} />
      ${assistant.data === undefined ? html`<${Loading} />` : html`
        <p aria-live="polite">
          <span class=${`status ${status}`} data-testid="assistant-status">${status}</span>
          ${assistant.data.reason && html` <span class="hint">${assistant.data.reason}</span>`}
          ${assistant.data.startedAt && html` <small>since ${when(assistant.data.startedAt)}</small>`}
        </p>
        ${status === 'running' || status === 'starting'
          ? html`<button type="button" class="secondary" disabled=${busy} onClick=${() => act('stop')}>Stop assistant</button>`
          : html`<button type="button" disabled=${busy || status === 'stopping'} onClick=${() => act('start')}>Start assistant</button>`}`}
    </section>`;
}

function Settings() {
  const profile = useLoad(() => api('/api/user'));
  return html`
    <section aria-labelledby="assistant-settings">
      <h2 id="assistant-settings">Settings</h2>
      <${ProblemText} error=${profile.error} />
      ${profile.data === undefined ? html`<${Loading} />` : html`<${SettingsForm} profile=${profile.data} />`}
    </section>`;
}

function SettingsForm({ profile }) {
  const [saved, setSaved] = useState(false);
  const form = useForm({
    name: profile.name ?? '',
    timezone: profile.timezone ?? Intl.DateTimeFormat().resolvedOptions().timeZone,
    'assistant.name': profile.assistant.name ?? '',
    'assistant.interests': (profile.assistant.interests ?? []).join(', '),
  }, async values => {
    setSaved(false);
    const interests = values['assistant.interests'].split(',').map(i => i.trim()).filter(Boolean);
    const updated = await api('/api/user', {
      method: 'PATCH',
      body: {
        name: values.name || undefined,
        timezone: values.timezone || undefined,
        assistant: { name: values['assistant.name'] || undefined, interests },
      },
    });
    updateUser({ name: updated.name });
    setSaved(true);
  });
  return html`
    <form onSubmit=${form.onSubmit} novalidate>
      <${FormProblem} problem=${form.problem} fields=${['name', 'timezone', 'assistant.name', 'assistant.interests']} />
      <div class="inline-fields">
        <${Field} label="Your name" autocomplete="name" ...${form.bind('name')} />
        <${Field} label="Time zone" placeholder="Europe/Paris" ...${form.bind('timezone')} />
      </div>
      <div class="inline-fields">
        <${Field} label="Assistant's name" ...${form.bind('assistant.name')} />
        <${Field} label="Interests" hint="Separated by commas." ...${form.bind('assistant.interests')} />
      </div>
      <button type="submit" disabled=${form.busy}>Save settings</button>
      ${saved && html` <span role="status">Saved.</span>`}
    </form>`;
}

function Telegram() {
  const connection = useLoad(() => api('/api/telegram/connect'));
  const [link, setLink] = useState(null);
  const [qr, setQr] = useState(null);
  const [error, setError] = useState(null);
  const connected = connection.data?.connected;
  // While a link is shown, ask every 3 s whether the chat that opened it is linked.
  useInterval(connection.reload, link && !connected ? 3000 : 0);
  useEffect(() => {
    if (connected) setLink(null);
  }, [connected]);
  useEffect(() => {
    if (link) QRCode.toString(link.botUrl, { type: 'svg', margin: 1 }).then(setQr);
  }, [link]);

  const connect = async () => {
    setError(null);
    try {
      setLink(await api('/api/telegram/connect', { method: 'POST' }));
    } catch (problem) {
      setError(problem);
    }
  };
  const disconnect = async () => {
    await api('/api/telegram/connect', { method: 'DELETE' }).catch(setError);
    connection.reload();
  };
  return html`
    <section aria-labelledby="telegram">
      <h2 id="telegram">Telegram</h2>
      <${ProblemText} error=${error ?? connection.error} />
      ${connection.data === undefined && !connection.error ? html`<${Loading} />` : connected
        ? html`<p><span class="status connected">connected</span> since ${when(connection.data.connectedAt)}
            <button type="button" class="secondary" onClick=${disconnect}>Disconnect</button></p>`
        : connection.data && (link
          ? html`
            <div class="telegram">
              ${qr && html`<img src=${`data:image/svg+xml;charset=utf-8,${encodeURIComponent(qr)}`} alt="QR code of the link to the bot" width="192" height="192" />`}
              <div>
                <p>Scan it with your phone, or open <a href=${link.botUrl} target="_blank" rel="noopener">the link</a> in Telegram and press Start.</p>
                <p role="status" class="hint">Waiting for Telegram… (the link works until ${when(link.expiresAt)})</p>
              </div>
            </div>`
          : connection.data.available
            ? html`<button type="button" onClick=${connect}>Connect Telegram</button>`
            : html`<p class="hint">Telegram is not set up on this server.</p>`)}
    </section>`;
}
