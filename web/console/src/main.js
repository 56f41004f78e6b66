// The Gateway console: one page per concern of the public API, chosen by the path.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { session, signOut } from './session.js';
import { Link, html, navigate, usePath } from './ui.js';
import { AcceptInvite, OAuthCallback, SignIn, SignUp } from './pages/auth.js';
import { Keys } from './pages/keys.js';
import { Vault } from './pages/vault.js';
import { Credits } from './pages/credits.js';
import { Chat } from './pages/chat.js';
import { Playground } from './pages/playground.js';
import { Generations } from './pages/generations.js';
import { Assistant } from './pages/assistant.js';
import { Organization } from './pages/organization.js';
import { Devices } from './pages/devices.js';
import { Approvals } from './pages/approvals.js';

// Path → page, and the navigation's sections. Pages marked public show without a session.
const pages = [
  { path: '/', title: 'Credits', page: Credits, section: 'Account' },
  { path: '/keys', title: 'API keys', page: Keys, section: 'Account' },
  { path: '/vault', title: 'Vault', page: Vault, section: 'Account' },
  { path: '/chat', title: 'Chat', page: Chat, section: 'Build' },
  { path: '/playground', title: 'API playground', page: Playground, section: 'Build' },
  { path: '/generations', title: 'Generations', page: Generations, section: 'Build' },
  { path: '/assistant', title: 'Assistant', page: Assistant, section: 'Build' },
  { path: '/organization', title: 'Profile and members', page: Organization, section: 'Organisation' },
  { path: '/devices', title: 'Devices', page: Devices, section: 'Organisation' },
  { path: '/approvals', title: 'Approvals', page: Approvals, section: 'Organisation' },
  { path: '/sign-in', page: SignIn, public: true },
  { path: '/sign-up', page: SignUp, public: true },
  { path: '/accept-invite', page: AcceptInvite, public: true },
  // Where Stripe sends the browser back to (Billing:Stripe:SuccessUrl, CancelUrl, PortalReturnUrl).
  { path: '/billing', title: 'Credits', page: Credits, navPath: '/' },
  { path: '/settings/billing', title: 'Profile and members', page: Organization, navPath: '/organization' },
];

function match(path) {
  const oauth = path.match(/\/api\/auth\/oauth\/([^/]+)\/callback$/);
  if (oauth) return { page: OAuthCallback, public: true, params: { provider: oauth[1] } };
  return pages.find(p => p.path === path) ?? { page: NotFound };
}

function App() {
  const path = usePath();
  const [current, setCurrent] = useState(session.current);
  useEffect(() => session.subscribe(setCurrent), []);
  const route = match(path);

  useEffect(() => {
    if (!current && !route.public) navigate('/sign-in', { replace: true });
    if (current && (path === '/sign-in' || path === '/sign-up')) navigate('/', { replace: true });
  }, [current, route, path]);
  useEffect(() => {
    document.title = route.title ? `${route.title} · Gateway` : 'Gateway console';
  }, [route]);

  const Page = route.page;
  if (route.public) return html`<${Page} ...${route.params} />`;
  if (!current) return null;
  return html`
    <a class="skip" href="#main">Skip to content</a>
    <${Shell} path=${route.navPath ?? path} user=${current.user}>
      <${Page} key=${path} ...${route.params} />
    </${Shell}>`;
}

function Shell({ path, user, children }) {
  const sections = [...new Set(pages.filter(p => p.section).map(p => p.section))];
  return html`
    <div class="shell">
      <header class="top">
        <${Link} class="brand" href="/">Gateway</${Link}>
        <div class="who">
          <span title=${user.email}>${user.name ?? user.email}</span>
          <button type="button" class="secondary" onClick=${() => signOut()}>Sign out</button>
        </div>
      </header>
      <nav aria-label="Console">
        ${sections.map(section => html`
          <div class="section">
            <h2>${section}</h2>
            <ul>
              ${pages.filter(p => p.section === section).map(p => html`
                <li><${Link} href=${p.path} aria-current=${p.path === path ? 'page' : undefined}>${p.title}</${Link}></li>`)}
            </ul>
          </div>`)}
      </nav>
      <main id="main" tabindex="-1">${children}</main>
    </div>`;
}

function NotFound() {
  return html`<h1>Not found</h1><p>There is no such page. <${Link} href="/">Back to the console</${Link}></p>`;
}

render(html`<${App} />`, document.getElementById('app'));
