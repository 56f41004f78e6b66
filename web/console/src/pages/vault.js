// The secrets vault (Keys service): values are encrypted at rest and only ever listed masked.
import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { Field, FormProblem, Loading, ProblemText, html, useForm, useLoad, when } from '../ui.js';

export function Vault() {
  const secrets = useLoad(() => api('/api/vault'));
  const form = useForm({ name: '', value: '' }, async (values, setValues) => {
    await api('/api/vault', { method: 'POST', body: values });
    setValues({ name: '', value: '' });
    secrets.reload();
  });
  return html`
    <h1>Vault</h1>
    <p class="lead">Secrets your assistant and your own provider keys use. A value is never shown again once stored.</p>
    <section aria-labelledby="add-secret">
      <h2 id="add-secret">Add a secret</h2>
      <form class="inline" onSubmit=${form.onSubmit} novalidate>
        <${FormProblem} problem=${form.problem} fields=${['name', 'key', 'value']} />
        <${Field} label="Name" placeholder="e.g. OPENAI_API_KEY" required ...${form.bind('name')} />
        <${Field} label="Value" type="password" autocomplete="off" required ...${form.bind('value')} />
        <button type="submit" disabled=${form.busy}>Store secret</button>
      </form>
    </section>
    <section aria-labelledby="stored">
      <h2 id="stored">Stored secrets</h2>
      <${ProblemText} error=${secrets.error} />
      ${secrets.data === undefined ? html`<${Loading} />` : secrets.data.length === 0 ? html`<p>No secrets stored.</p>` : html`
        <ul class="list">
          ${secrets.data.map(secret => html`<${SecretItem} key=${secret.id} secret=${secret} onDeleted=${secrets.reload} />`)}
        </ul>`}
    </section>`;
}

function SecretItem({ secret, onDeleted }) {
  const [error, setError] = useState(null);
  const remove = async () => {
    try {
      await api(`/api/vault/${secret.id}`, { method: 'DELETE' });
      onDeleted();
    } catch (problem) {
      setError(problem);
    }
  };
  return html`
    <li>
      <span><strong>${secret.name}</strong> <code>${secret.maskedValue}</code> <small>added ${when(secret.createdAt)}</small></span>
      <button type="button" class="secondary" onClick=${remove} aria-label=${`Delete ${secret.name}`}>Delete</button>
      <${ProblemText} error=${error} />
    </li>`;
}
