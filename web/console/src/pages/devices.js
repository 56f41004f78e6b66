// The device fleet (Devices service): fleet health, the devices filtered by status and label, and registering one,
// whose activation code is shown for the person setting the device up. Live device_* events keep it current.
import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { useLiveEvents, useLiveStatus } from '../live.js';
import { CopyButton, Field, FormProblem, Loading, ProblemText, html, useForm, useLoad, when } from '../ui.js';

export function Devices() {
  const [status, setStatus] = useState('');
  const [label, setLabel] = useState('');
  const query = new URLSearchParams({ limit: '50', ...(status && { status }), ...(label && { label }) });
  const devices = useLoad(() => api(`/api/devices?${query}`), [status, label]);
  const health = useLoad(() => api('/api/organization/device-health'));
  const live = useLiveStatus();
  useLiveEvents(['device_'], () => {
    devices.reload();
    health.reload();
  });
  const [registered, setRegistered] = useState(null);

  return html`
    <div class="heading-row">
      <h1>Devices</h1>
      <p class="hint" role="status">Updates: <span class=${`status ${live === 'live' ? 'online' : 'pending'}`}>${live}</span></p>
    </div>
    <section aria-labelledby="fleet" class="cards">
      <h2 id="fleet" class="visually-hidden">Fleet health</h2>
      <${ProblemText} error=${health.error} />
      ${health.data && ['total', 'online', 'offline', 'pending'].map(k => html`
        <div class="card stat"><span>${k[0].toUpperCase() + k.slice(1)}</span><strong data-testid=${`fleet-${k}`}>${health.data[k]}</strong></div>`)}
    </section>
    <section aria-labelledby="register">
      <h2 id="register">Register a device</h2>
      <${Register} onRegistered=${device => { setRegistered(device); devices.reload(); health.reload(); }} />
      ${registered && html`
        <div class="notice" role="status">
          <p>Enter this activation code on <strong>${registered.name}</strong> before ${when(registered.expiresAt)}:</p>
          <p class="secret"><code class="code" data-testid="activation-code">${registered.activationCode}</code> <${CopyButton} text=${registered.activationCode} /></p>
        </div>`}
    </section>
    <section aria-labelledby="fleet-list">
      <h2 id="fleet-list">Fleet</h2>
      <div class="inline-fields">
        <${Field} label="Status" as="select" value=${status} onChange=${e => setStatus(e.currentTarget.value)}>
          <option value="">any</option><option value="online">online</option><option value="offline">offline</option><option value="pending">pending</option>
        </${Field}>
        <${Field} label="Label" type="search" value=${label} onInput=${e => setLabel(e.currentTarget.value.trim())} />
      </div>
      <${ProblemText} error=${devices.error} />
      ${devices.data === undefined ? html`<${Loading} />` : devices.data.data.length === 0 ? html`<p>No devices match.</p>` : html`
        <div class="table-wrap">
          <table>
            <thead><tr><th scope="col">Device</th><th scope="col">Status</th><th scope="col">Labels</th><th scope="col">Last seen</th><th scope="col">Version</th></tr></thead>
            <tbody>
              ${devices.data.data.map(d => html`
                <tr key=${d.id}>
                  <td>${d.name}</td>
                  <td><span class=${`status ${d.status}`} data-testid="device-status">${d.status}</span></td>
                  <td>${d.labels.map(l => html`<span class="badge">${l}</span> `)}</td>
                  <td>${when(d.lastSeenAt)}</td>
                  <td>${d.version ?? '—'}</td>
                </tr>`)}
            </tbody>
          </table>
        </div>`}
    </section>`;
}

function Register({ onRegistered }) {
  const form = useForm({ name: '', labels: '' }, async (values, setValues) => {
    const labels = values.labels.split(',').map(l => l.trim()).filter(Boolean);
    onRegistered(await api('/api/devices/register', { method: 'POST', body: { name: values.name, labels } }));
    setValues({ name: '', labels: '' });
  });
  return html`
    <form class="inline" onSubmit=${form.onSubmit} novalidate>
      <${FormProblem} problem=${form.problem} fields=${['name', 'labels']} />
      <${Field} label="Device name" required ...${form.bind('name')} />
      <${Field} label="Labels" hint="Separated by commas." ...${form.bind('labels')} />
      <button type="submit" disabled=${form.busy}>Register device</button>
    </form>`;
}
