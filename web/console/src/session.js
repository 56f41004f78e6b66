// The signed-in user's tokens, kept in localStorage so a reload or another tab stays signed in. The access token is
// refreshed a minute before it expires; the refresh token rotates, so every tab refreshes under one lock and reads
// what another tab may have stored first.
const storageKey = 'gateway.session';
const listeners = new Set();
let current = read();
let timer;

function read() {
  try {
    return JSON.parse(localStorage.getItem(storageKey)) ?? null;
  } catch {
    return null;
  }
}

function store(value) {
  current = value;
  if (value) localStorage.setItem(storageKey, JSON.stringify(value));
  else localStorage.removeItem(storageKey);
  schedule();
  listeners.forEach(listener => listener(current));
}

export const session = {
  get current() { return current; },
  get accessToken() { return current?.accessToken; },
  subscribe(listener) {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
};

// From Identity's answer to register, login, accept-invite or an OAuth callback: {user, accessToken, refreshToken, expiresAt}.
export function signedIn({ user, accessToken, refreshToken, expiresAt }) {
  store({ user, accessToken, refreshToken, expiresAt });
}

export function updateUser(user) {
  if (current) store({ ...current, user: { ...current.user, ...user } });
}

export async function signOut() {
  const ended = current;
  store(null);
  if (ended?.refreshToken) {
    // Ends the session at Identity too; the page is signed out whatever the answer.
    await fetch('/api/auth/logout', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ refreshToken: ended.refreshToken }),
    }).catch(() => {});
  }
}

let refreshing = null;

// Exchanges the refresh token for new tokens; false (and signed out) when Identity refuses it.
export function refresh() {
  refreshing ??= withLock(async () => {
    const seen = current;
    const stored = read();
    if (stored?.refreshToken && stored.refreshToken !== seen?.refreshToken) {
      store(stored); // another tab refreshed meanwhile
      return true;
    }
    if (!seen?.refreshToken) return false;
    const response = await fetch('/api/auth/refresh', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ refreshToken: seen.refreshToken }),
    }).catch(() => null);
    if (response?.ok) {
      store({ ...seen, ...(await response.json()) });
      return true;
    }
    if (response && response.status < 500) store(null); // refused: the session has ended
    return false;
  }).finally(() => { refreshing = null; });
  return refreshing;
}

function withLock(work) {
  return navigator.locks ? navigator.locks.request(storageKey, work) : work();
}

function schedule() {
  clearTimeout(timer);
  if (!current?.expiresAt) return;
  const due = new Date(current.expiresAt).getTime() - Date.now() - 60_000;
  timer = setTimeout(refresh, Math.max(due, 0));
}

// Another tab signed in, refreshed or signed out.
window.addEventListener('storage', event => {
  if (event.key !== storageKey) return;
  current = read();
  schedule();
  listeners.forEach(listener => listener(current));
});

schedule();
