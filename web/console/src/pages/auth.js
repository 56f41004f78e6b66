// Sign up, sign in (password, and the OAuth providers this server has configured), accepting an invitation, and
// the OAuth callback. Each answer is Identity's session: {user, accessToken, refreshToken, expiresAt}.
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.js';
import { signedIn } from '../session.js';
import { Field, FormProblem, Link, ProblemText, html, navigate, useForm } from '../ui.js';

const providers = [
  { id: 'github', name: 'GitHub' },
  { id: 'google', name: 'Google' },
  { id: 'microsoft', name: 'Microsoft' },
];

function finish(session) {
  signedIn(session);
  navigate('/');
}

export function SignIn() {
  const form = useForm({ email: '', password: '' }, async values => finish(await api('/api/auth/login', { method: 'POST', body: values })));
  return html`
    <${AuthCard} title="Sign in">
      <form onSubmit=${form.onSubmit} novalidate>
        <${FormProblem} problem=${form.problem} fields=${['email', 'password']} />
        <${Field} label="E-mail" type="email" autocomplete="username" required ...${form.bind('email')} />
        <${Field} label="Password" type="password" autocomplete="current-password" required ...${form.bind('password')} />
        <button type="submit" disabled=${form.busy}>${form.busy ? 'Signing in…' : 'Sign in'}</button>
      </form>
      <${OAuthButtons} />
      <p>New here? <${Link} href="/sign-up">Create an account</${Link}></p>
    </${AuthCard}>`;
}

export function SignUp() {
  const form = useForm({ name: '', email: '', password: '' }, async values =>
    finish(await api('/api/auth/register', { method: 'POST', body: { ...values, name: values.name || undefined } })));
  return html`
    <${AuthCard} title="Create an account">
      <form onSubmit=${form.onSubmit} novalidate>
        <${FormProblem} problem=${form.problem} fields=${['name', 'email', 'password']} />
        <${Field} label="Name" autocomplete="name" ...${form.bind('name')} />
        <${Field} label="E-mail" type="email" autocomplete="email" required ...${form.bind('email')} />
        <${Field} label="Password" type="password" autocomplete="new-password" required ...${form.bind('password')} />
        <button type="submit" disabled=${form.busy}>${form.busy ? 'Creating your account…' : 'Create account'}</button>
      </form>
      <${OAuthButtons} />
      <p>Already have an account? <${Link} href="/sign-in">Sign in</${Link}></p>
    </${AuthCard}>`;
}

// The link in an invitation mail: <public URL>/accept-invite?token=…
export function AcceptInvite() {
  const token = new URLSearchParams(location.search).get('token') ?? '';
  const form = useForm({ password: '', name: '' }, async values =>
    finish(await api('/api/auth/accept-invite', { method: 'POST', body: { token, password: values.password, name: values.name || undefined } })));
  return html`
    <${AuthCard} title="Join your organisation">
      <p>Choose a password to accept the invitation.</p>
      <form onSubmit=${form.onSubmit} novalidate>
        <${FormProblem} problem=${form.problem} fields=${['password', 'name']} />
        <${Field} label="Name" autocomplete="name" ...${form.bind('name')} />
        <${Field} label="Password" type="password" autocomplete="new-password" required ...${form.bind('password')} />
        <button type="submit" disabled=${form.busy || !token}>Accept invitation</button>
      </form>
    </${AuthCard}>`;
}

// A provider sends the browser back to <CallbackBaseUrl>/api/auth/oauth/{provider}/callback; with CallbackBaseUrl set to
// <public URL>/console that path is this page's (docs/console.md), which hands the code and state to Identity.
export function OAuthCallback({ provider }) {
  const [error, setError] = useState(null);
  useEffect(() => {
    api(`/api/auth/oauth/${encodeURIComponent(provider)}/callback${location.search}`).then(finish, setError);
  }, [provider]);
  return html`
    <${AuthCard} title="Signing in">
      ${error ? html`<${ProblemText} error=${error} /><p><${Link} href="/sign-in">Back to sign in</${Link}></p>` : html`<p role="status">Finishing the sign-in…</p>`}
    </${AuthCard}>`;
}

// Only the providers this server has configured (GET /api/auth/oauth), each with its start URL, which is the link
// itself (its state lasts ten minutes, so it is asked for again after nine).
function OAuthButtons() {
  const [links, setLinks] = useState([]);
  useEffect(() => {
    let live = true;
    const ask = () => api('/api/auth/oauth')
      .then(({ providers: configured }) => Promise.all(providers.filter(p => configured.includes(p.id)).map(p =>
        api(`/api/auth/oauth/${p.id}`, { headers: { accept: 'application/json' } }).then(r => ({ ...p, url: r.url }), () => null))))
      .then(found => live && setLinks(found.filter(Boolean)), () => {});
    ask();
    const id = setInterval(ask, 9 * 60_000);
    return () => { live = false; clearInterval(id); };
  }, []);
  if (links.length === 0) return null;
  return html`
    <div class="oauth" aria-label="Other ways to sign in">
      ${links.map(p => html`<a class="button secondary" href=${p.url}>Continue with ${p.name}</a>`)}
    </div>`;
}

function AuthCard({ title, children }) {
  return html`
    <main class="auth" id="main">
      <div class="card">
        <p class="brand">Gateway</p>
        <h1>${title}</h1>
        ${children}
      </div>
    </main>`;
}
