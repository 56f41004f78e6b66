// Generations (Chat service): icons (an SVG each) and pages (a document in one of four formats, streamed as it is
// written), with their history. Each costs the flat price the server's configuration names.
import { useState } from 'preact/hooks';
import { api, stream } from '../api.js';
import { Field, FormProblem, Loading, ProblemText, credits, html, useForm, useLoad, when } from '../ui.js';

const formats = [
  { id: 'html_tailwind', name: 'HTML with Tailwind' },
  { id: 'html_css', name: 'HTML with CSS' },
  { id: 'react_tailwind', name: 'React with Tailwind' },
  { id: 'vue_tailwind', name: 'Vue with Tailwind' },
];

export function Generations() {
  return html`
    <h1>Generations</h1>
    <${Icons} />
    <${Pages} />`;
}

// An SVG shown as an image: a script in it never runs.
const svgImage = svg => `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`;

function Icons() {
  const icons = useLoad(() => api('/api/icons?limit=24'));
  const [made, setMade] = useState(null);
  const form = useForm({ prompt: '' }, async values => {
    setMade(await api('/api/icons', { method: 'POST', body: values }));
    icons.reload();
  });
  return html`
    <section aria-labelledby="icons">
      <h2 id="icons">Icons</h2>
      <form class="inline" onSubmit=${form.onSubmit} novalidate>
        <${FormProblem} problem=${form.problem} fields=${['prompt']} />
        <${Field} label="Describe an icon" placeholder="a paper plane" required ...${form.bind('prompt')} />
        <button type="submit" disabled=${form.busy}>${form.busy ? 'Drawing…' : 'Generate icon'}</button>
      </form>
      ${made && html`<p class="notice" role="status">Made for ${credits(made.credits)} credits; ${credits(made.balance)} left.</p>`}
      <${ProblemText} error=${icons.error} />
      ${icons.data === undefined ? html`<${Loading} />` : icons.data.data.length === 0 ? html`<p>No icons yet.</p>` : html`
        <ul class="icons">
          ${icons.data.data.map(icon => html`
            <li key=${icon.id}><img src=${svgImage(icon.svg)} alt=${icon.prompt} width="64" height="64" /><span>${icon.prompt}</span></li>`)}
        </ul>`}
    </section>`;
}

function Pages() {
  const history = useLoad(() => api('/api/generations?limit=20'));
  const [current, setCurrent] = useState(null);
  const form = useForm({ prompt: '', format: formats[0].id }, async values => {
    setCurrent({ format: values.format, code: '', status: 'running' });
    await stream('/api/generations', {
      body: values,
      onEvent: (name, data) => {
        if (name === 'started') setCurrent(c => ({ ...c, id: data.id }));
        else if (name === 'code') setCurrent(c => ({ ...c, code: c.code + data.text }));
        else if (name === 'done') setCurrent(c => ({ ...c, status: 'completed', credits: data.credits, balance: data.balance }));
        else if (name === 'error') setCurrent(c => ({ ...c, status: 'failed', error: data.detail }));
      },
    });
    history.reload();
  });
  const open = async id => {
    try {
      setCurrent(await api(`/api/generations/${id}`));
    } catch (problem) {
      setCurrent({ status: 'failed', error: problem.message });
    }
  };
  return html`
    <section aria-labelledby="pages">
      <h2 id="pages">Pages</h2>
      <form onSubmit=${form.onSubmit} novalidate>
        <${FormProblem} problem=${form.problem} fields=${['prompt', 'format']} />
        <${Field} label="Describe a page" as="textarea" placeholder="A landing page for a bakery" required ...${form.bind('prompt')} />
        <${Field} label="Format" as="select" ...${form.bind('format')}>
          ${formats.map(f => html`<option value=${f.id}>${f.name}</option>`)}
        </${Field}>
        <button type="submit" disabled=${form.busy}>${form.busy ? 'Writing…' : 'Generate page'}</button>
      </form>
      ${current && html`<${PageResult} page=${current} />`}
      <h3>History</h3>
      <${ProblemText} error=${history.error} />
      ${history.data === undefined ? html`<${Loading} />` : history.data.data.length === 0 ? html`<p>No pages yet.</p>` : html`
        <ul class="list">
          ${history.data.data.map(g => html`
            <li key=${g.id}>
              <span><span class=${`status ${g.status}`}>${g.status}</span> ${g.prompt} <small>${g.format} · ${when(g.createdAt)}${g.credits != null ? ` · ${credits(g.credits)} credits` : ''}</small></span>
              <button type="button" class="secondary" onClick=${() => open(g.id)} aria-label=${`Open ${g.prompt}`}>Open</button>
            </li>`)}
        </ul>`}
    </section>`;
}

function PageResult({ page }) {
  const isHtml = page.format?.startsWith('html_');
  return html`
    <div class="result" aria-live="polite" aria-busy=${page.status === 'running' ? 'true' : 'false'}>
      <p><span class=${`status ${page.status}`}>${page.status === 'running' ? 'writing…' : page.status}</span>
        ${page.credits != null && page.status === 'completed' && html` ${credits(page.credits)} credits${page.balance != null ? `; ${credits(page.balance)} left` : ''}`}</p>
      ${page.error && html`<p class="problem" role="alert">${page.error}</p>`}
      ${page.code && html`
        ${isHtml && page.status === 'completed' && html`<iframe class="preview" title="Preview" sandbox="" srcdoc=${page.code}></iframe>`}
        <details open=${!isHtml}><summary>Code</summary><pre><code data-testid="page-code">${page.code}</code></pre></details>`}
    </div>`;
}
