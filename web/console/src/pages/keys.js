// API keys (Keys service): the list, a new key shown once with a copy button, revoking, and the default key.
import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { CopyButton, Field, FormProblem, Loading, ProblemText, html, useForm, useLoad, when } from '../ui.js';

export function Keys() {
  const keys = useLoad(() => api('/api/keys'));
  const [secret, setSecret] = useState(null);
  const shown = created => {
    setSecret(created);
    keys.reload();
  };
  const hasDefault = keys.data?.some(k => k.isDefault && k.status === 'active');

  return html`
    <h1>API keys</h1>
    <p class="lead">Send a key as <code>Authorization: Bearer sk_live_…</code> or in <code>x-api-key</code> to <code>/v1</code> and <code>/api/chat</code>.</p>
    ${secret && html`<${NewSecret} secret=${secret} onDone=${() => setSecret(null)} />`}
    <section aria-labelledby="create-key">
      <h2 id="create-key">Create a key</h2>
      <${CreateKey} onCreated=${shown} />
      ${!hasDefault && keys.data && html`<${DefaultKey} onCreated=${shown} />`}
    </section>
    <section aria-labelledby="your-keys">
      <h2 id="your-keys">Your keys</h2>
      <${ProblemText} error=${keys.error} />
      ${keys.data === undefined ? html`<${Loading} />` : html`<${KeyTable} keys=${keys.data} onRevoked=${keys.reload} />`}
    </section>`;
}

function CreateKey({ onCreated }) {
  const form = useForm({ name: '', expiresAt: '' }, async (values, setValues) => {
    const created = await api('/api/keys', {
      method: 'POST',
      body: { name: values.name, expiresAt: values.expiresAt ? new Date(`${values.expiresAt}T23:59:59`).toISOString() : undefined },
    });
    setValues({ name: '', expiresAt: '' });
    onCreated({ name: created.name, key: created.key });
  });
  return html`
    <form class="inline" onSubmit=${form.onSubmit} novalidate>
      <${FormProblem} problem=${form.problem} fields=${['name', 'expiresAt']} />
      <${Field} label="Name" placeholder="e.g. production server" required ...${form.bind('name')} />
      <${Field} label="Expires (optional)" type="date" ...${form.bind('expiresAt')} />
      <button type="submit" disabled=${form.busy}>Create key</button>
    </form>`;
}

// Seed 004's default key: created on the first call, shown in full only then.
function DefaultKey({ onCreated }) {
  const [error, setError] = useState(null);
  const create = async () => {
    setError(null);
    try {
      const answer = await api('/api/user/api-key', { method: 'POST' });
      onCreated({ name: 'Default key', key: answer.apiKey, note: answer.apiKey ? null : answer.note });
    } catch (problem) {
      setError(problem);
    }
  };
  return html`
    <p>You have no default key yet (the one the playground and seed apps use).${' '}
      <button type="button" class="secondary" onClick=${create}>Create my default key</button></p>
    <${ProblemText} error=${error} />`;
}

function NewSecret({ secret, onDone }) {
  return html`
    <div class="notice" role="status">
      ${secret.key
        ? html`
          <p><strong>${secret.name}</strong>: this is the only time the whole key is shown. Copy it now; Gateway keeps only its hash.</p>
          <p class="secret"><code data-testid="new-key">${secret.key}</code> <${CopyButton} text=${secret.key} /></p>`
        : html`<p>${secret.note}</p>`}
      <button type="button" class="secondary" onClick=${onDone}>I have copied it</button>
    </div>`;
}

function KeyTable({ keys, onRevoked }) {
  if (keys.length === 0) return html`<p>No keys yet.</p>`;
  return html`
    <div class="table-wrap">
      <table>
        <thead><tr><th scope="col">Name</th><th scope="col">Key</th><th scope="col">Status</th><th scope="col">Created</th><th scope="col">Last used</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
        <tbody>
          ${keys.map(key => html`<${KeyRow} key=${key.id} apiKey=${key} onRevoked=${onRevoked} />`)}
        </tbody>
      </table>
    </div>`;
}

function KeyRow({ apiKey, onRevoked }) {
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState(null);
  const revoke = async () => {
    try {
      await api(`/api/keys/${apiKey.id}`, { method: 'DELETE' });
      onRevoked();
    } catch (problem) {
      setError(problem);
    }
  };
  return html`
    <tr>
      <td>${apiKey.name} ${apiKey.isDefault && html`<span class="badge">default</span>`}</td>
      <td><code>${apiKey.maskedKey}</code></td>
      <td><span class=${`status ${apiKey.status}`}>${apiKey.status}</span>${apiKey.expiresAt && apiKey.status === 'active' ? html`<br /><small>until ${when(apiKey.expiresAt)}</small>` : ''}</td>
      <td>${when(apiKey.createdAt)}</td>
      <td>${when(apiKey.lastUsedAt)}</td>
      <td class="actions">
        ${apiKey.status === 'active' && (confirming
          ? html`<button type="button" class="danger" onClick=${revoke}>Revoke ${apiKey.name}</button>
                 <button type="button" class="secondary" onClick=${() => setConfirming(false)}>Keep</button>`
          : html`<button type="button" class="secondary" onClick=${() => setConfirming(true)} aria-label=${`Revoke ${apiKey.name}…`}>Revoke…</button>`)}
        <${ProblemText} error=${error} />
      </td>
    </tr>`;
}
