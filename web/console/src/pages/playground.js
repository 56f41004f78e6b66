// The OpenAI-compatible API (/v1) tried with one of the user's own keys, as any SDK would call it, and the same call as
// code to copy. The console never has a key's secret after it was shown, so the user pastes one or makes one here.
import { useEffect, useState } from 'preact/hooks';
import { api, stream } from '../api.js';
import { CopyButton, Field, ProblemText, html } from '../ui.js';

export function Playground() {
  const [key, setKey] = useState(sessionStorage.getItem('gateway.playground-key') ?? '');
  const [models, setModels] = useState([]);
  const [model, setModel] = useState('');
  const [prompt, setPrompt] = useState('Say hello in three languages.');
  const [streamed, setStreamed] = useState(true);
  const [answer, setAnswer] = useState(null);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);

  // Kept for this tab only, so a reload does not lose it; never in localStorage.
  useEffect(() => {
    if (key) sessionStorage.setItem('gateway.playground-key', key);
    else sessionStorage.removeItem('gateway.playground-key');
  }, [key]);
  useEffect(() => {
    if (!key.startsWith('sk_live_')) return;
    api('/v1/models', { token: key }).then(list => {
      const ids = list.data.map(m => m.id);
      setModels(ids);
      setModel(m => m || ids[0] || '');
    }, setError);
  }, [key]);

  const newKey = async () => {
    try {
      setKey((await api('/api/keys', { method: 'POST', body: { name: 'playground' } })).key);
    } catch (problem) {
      setError(problem);
    }
  };

  const body = { model, messages: [{ role: 'user', content: prompt }], ...(streamed ? { stream: true, stream_options: { include_usage: true } } : {}) };
  const run = async event => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    setAnswer({ text: '', usage: null });
    try {
      if (streamed) {
        await stream('/v1/chat/completions', {
          body,
          token: key,
          onEvent: (_, data) => {
            if (data === '[DONE]') return;
            const piece = data.choices?.[0]?.delta?.content ?? '';
            setAnswer(a => ({ text: a.text + piece, usage: data.usage ?? a.usage }));
          },
        });
      } else {
        const completion = await api('/v1/chat/completions', { method: 'POST', body, token: key });
        setAnswer({ text: completion.choices[0].message.content, usage: completion.usage });
      }
    } catch (problem) {
      setError(problem);
    } finally {
      setBusy(false);
    }
  };

  return html`
    <h1>API playground</h1>
    <p class="lead">Calls <code>POST /v1/chat/completions</code> with your API key, exactly as an OpenAI SDK pointed at Gateway does.</p>
    <form onSubmit=${run} novalidate>
      <div class="inline-fields">
        <${Field} label="API key" type="password" autocomplete="off" placeholder="sk_live_…" value=${key}
          onInput=${e => setKey(e.currentTarget.value.trim())} hint="Kept in this tab only." />
        <button type="button" class="secondary" onClick=${newKey}>Create a playground key</button>
      </div>
      <${Field} label="Model" as="select" value=${model} onChange=${e => setModel(e.currentTarget.value)}>
        ${models.map(m => html`<option value=${m}>${m}</option>`)}
      </${Field}>
      <${Field} label="Prompt" as="textarea" value=${prompt} onInput=${e => setPrompt(e.currentTarget.value)} />
      <label class="compact"><input type="checkbox" checked=${streamed} onChange=${e => setStreamed(e.currentTarget.checked)} /> Stream the answer</label>
      <p><button type="submit" disabled=${busy || !key || !model}>${busy ? 'Running…' : 'Run'}</button></p>
    </form>
    <${ProblemText} error=${error} />
    ${answer && html`
      <section aria-labelledby="answer-heading" aria-live="polite">
        <h2 id="answer-heading">Answer</h2>
        <div class="turn assistant"><p data-testid="playground-answer">${answer.text}</p>
          ${answer.usage && html`<p class="cost">${answer.usage.prompt_tokens} prompt + ${answer.usage.completion_tokens} completion tokens</p>`}</div>
      </section>`}
    <${CodeSample} body=${body} />`;
}

function CodeSample({ body }) {
  const [language, setLanguage] = useState('curl');
  const base = `${location.origin}/v1`;
  const messages = JSON.stringify(body.messages);
  const samples = {
    curl: `curl ${base}/chat/completions \\
  -H "Authorization: Bearer $GATEWAY_API_KEY" \\
  -H "Content-Type: application/json" \\
  -d '${JSON.stringify(body).replaceAll("'", "'\\''")}'`,
    python: `import os
from openai import OpenAI

client = OpenAI(base_url="${base}", api_key=os.environ["GATEWAY_API_KEY"])
response = client.chat.completions.create(
    model="${body.model}",
    messages=${messages},${body.stream ? '\n    stream=True,' : ''}
)
${body.stream ? 'for chunk in response:\n    print(chunk.choices[0].delta.content or "", end="")' : 'print(response.choices[0].message.content)'}`,
    javascript: `import OpenAI from "openai";

const client = new OpenAI({ baseURL: "${base}", apiKey: process.env.GATEWAY_API_KEY });
const response = await client.chat.completions.create({
  model: "${body.model}",
  messages: ${messages},${body.stream ? '\n  stream: true,' : ''}
});
${body.stream ? 'for await (const chunk of response) process.stdout.write(chunk.choices[0]?.delta?.content ?? "");' : 'console.log(response.choices[0].message.content);'}`,
  };
  return html`
    <section aria-labelledby="sample-heading">
      <div class="heading-row">
        <h2 id="sample-heading">The same call in code</h2>
        <div class="tabs" role="group" aria-label="Language">
          ${Object.keys(samples).map(l => html`<button type="button" class=${l === language ? '' : 'secondary'} aria-pressed=${l === language} onClick=${() => setLanguage(l)}>${l}</button>`)}
          <${CopyButton} text=${samples[language]} label="Copy code" />
        </div>
      </div>
      <pre><code data-testid="code-sample">${samples[language]}</code></pre>
    </section>`;
}
