// Credits (Billing service): the balance with what is held, daily usage as a chart, the history, and buying credits
// through Stripe Checkout when the server has Stripe configured.
import { useEffect, useRef, useState } from 'preact/hooks';
import { BarController, BarElement, CategoryScale, Chart, LinearScale, Tooltip } from 'chart.js';
import { api } from '../api.js';
import { Field, FormProblem, Loading, ProblemText, credits, day, html, useForm, useInterval, useLoad, when } from '../ui.js';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Tooltip);

export function Credits() {
  const purchase = new URLSearchParams(location.search).get('purchase');
  const balance = useLoad(() => api('/api/tokens/balance'));
  // Back from Stripe: the webhook grants the credits a moment later, so the balance is asked for again meanwhile.
  useInterval(balance.reload, purchase === 'success' ? 3000 : 15000);
  return html`
    <h1>Credits</h1>
    ${purchase === 'success' && html`<p class="notice" role="status">Thank you: your payment went through. The credits appear here as soon as Stripe confirms it.</p>`}
    ${purchase === 'cancelled' && html`<p class="notice" role="status">The checkout was cancelled; nothing was charged.</p>`}
    <${Balance} state=${balance} />
    <${Usage} />
    <${Buy} />
    <${History} key=${balance.data?.balance} />`;
}

export function Balance({ state }) {
  const wallet = state.data;
  return html`
    <section aria-labelledby="balance" class="cards">
      <h2 id="balance" class="visually-hidden">Balance</h2>
      <${ProblemText} error=${state.error} />
      ${wallet === undefined ? html`<${Loading} />` : html`
        <div class="card stat"><span>Available</span><strong data-testid="available">${credits(wallet.available)}</strong></div>
        <div class="card stat"><span>Balance</span><strong data-testid="balance">${credits(wallet.balance)}</strong></div>
        <div class="card stat"><span>Held for answers in progress</span><strong data-testid="held">${credits(wallet.held)}</strong></div>`}
    </section>`;
}

function Usage() {
  const [days, setDays] = useState(7);
  const usage = useLoad(() => api(`/api/usage?days=${days}`), [days]);
  const canvas = useRef(null);
  const chart = useRef(null);
  useEffect(() => {
    if (!usage.data || !canvas.current) return;
    const series = usage.data.series;
    const data = {
      labels: series.map(d => day(d.date)),
      datasets: [{ label: 'Credits used', data: series.map(d => d.credits), backgroundColor: '#4f46e5', borderRadius: 3 }],
    };
    if (chart.current) {
      chart.current.data = data;
      chart.current.update();
    } else {
      chart.current = new Chart(canvas.current, {
        type: 'bar',
        data,
        options: {
          animation: false,
          maintainAspectRatio: false,
          scales: { y: { beginAtZero: true, ticks: { precision: 0 } } },
          plugins: { tooltip: { callbacks: { afterLabel: item => `${series[item.dataIndex].requests} requests` } } },
        },
      });
    }
  }, [usage.data]);
  useEffect(() => () => chart.current?.destroy(), []);
  const total = usage.data?.series.reduce((sum, d) => sum + d.credits, 0) ?? 0;
  const requests = usage.data?.series.reduce((sum, d) => sum + d.requests, 0) ?? 0;
  return html`
    <section aria-labelledby="usage">
      <div class="heading-row">
        <h2 id="usage">Daily usage</h2>
        <label class="compact">Period
          <select value=${days} onChange=${e => setDays(Number(e.currentTarget.value))}>
            <option value="7">7 days</option><option value="30">30 days</option><option value="90">90 days</option>
          </select>
        </label>
      </div>
      <${ProblemText} error=${usage.error} />
      <div class="chart">
        <canvas ref=${canvas} role="img" aria-label=${`Credits used per day over the last ${days} days: ${credits(total)} in all, over ${requests} ${requests === 1 ? 'request' : 'requests'}.`}></canvas>
      </div>
      <p class="hint">${credits(total)} credits over ${requests} ${requests === 1 ? 'request' : 'requests'} in the last ${days} days.</p>
    </section>`;
}

function Buy() {
  const form = useForm({ amountUsd: '10' }, async values => {
    const answer = await api('/api/credits/purchase', { method: 'POST', body: { amountUsd: Number(values.amountUsd) } });
    location.assign(answer.checkoutUrl);
  });
  return html`
    <section aria-labelledby="buy">
      <h2 id="buy">Buy credits</h2>
      <form class="inline" onSubmit=${form.onSubmit} novalidate>
        <${FormProblem} problem=${form.problem} fields=${['amountUsd']} />
        <${Field} label="Amount (USD)" type="number" min="1" step="0.01" inputmode="decimal" ...${form.bind('amountUsd')} />
        <button type="submit" disabled=${form.busy}>${form.busy ? 'Opening checkout…' : 'Checkout with Stripe'}</button>
      </form>
    </section>`;
}

// Read again from its first page whenever the balance changes (keyed on it): a grant or a purchase that lands after
// the page opened shows up in the list too.
function History() {
  const [pages, setPages] = useState([]);
  const [next, setNext] = useState(null);
  const [error, setError] = useState(null);
  const [loading, setLoading] = useState(true);
  const load = async cursor => {
    setLoading(true);
    try {
      const page = await api(`/api/credits/history?limit=20${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      setPages(p => (cursor ? [...p, ...page.data] : page.data));
      setNext(page.nextCursor);
    } catch (problem) {
      setError(problem);
    } finally {
      setLoading(false);
    }
  };
  useEffect(() => { load(null); }, []);
  return html`
    <section aria-labelledby="history">
      <h2 id="history">History</h2>
      <${ProblemText} error=${error} />
      ${pages.length === 0 && !loading ? html`<p>No entries yet.</p>` : html`
        <div class="table-wrap">
          <table>
            <thead><tr><th scope="col">When</th><th scope="col">What</th><th scope="col" class="number">Credits</th><th scope="col">Details</th></tr></thead>
            <tbody>
              ${pages.map(entry => html`
                <tr key=${entry.id}>
                  <td>${when(entry.createdAt)}</td>
                  <td>${entry.type}</td>
                  <td class=${`number ${entry.amount < 0 ? 'out' : 'in'}`}>${entry.amount > 0 ? '+' : ''}${credits(entry.amount)}</td>
                  <td>${entry.model ? `${entry.model}: ${entry.inputTokens ?? 0} in, ${entry.outputTokens ?? 0} out` : entry.reason}</td>
                </tr>`)}
            </tbody>
          </table>
        </div>`}
      ${loading ? html`<${Loading} />` : next && html`<button type="button" class="secondary" onClick=${() => load(next)}>Show older entries</button>`}
    </section>`;
}
