// What every page shares: forms whose problems appear beside the field they name, loading, copying, formatting.
import { h } from 'preact';
import { useCallback, useEffect, useId, useRef, useState } from 'preact/hooks';
import htm from 'htm';
import { Problem } from './api.js';

export const html = htm.bind(h);

// A labelled input; the problem's reason for it is read out with it (aria-describedby) and marks it invalid.
export function Field({ label, error, hint, as = 'input', children, ...input }) {
  const id = useId();
  const Tag = as;
  const described = [error && `${id}-error`, hint && `${id}-hint`].filter(Boolean).join(' ') || undefined;
  return html`
    <div class="field">
      <label for=${id}>${label}</label>
      <${Tag} id=${id} aria-invalid=${error ? "true" : undefined} aria-describedby=${described} ...${input}>${children}<//>
      ${hint && html`<small id=${`${id}-hint`} class="hint">${hint}</small>`}
      ${error && html`<small id=${`${id}-error`} class="error" role="alert">${error}</small>`}
    </div>`;
}

// A form's state: its values, the problem its last submission got, and whether one is under way.
export function useForm(initial, submit) {
  const [values, setValues] = useState(initial);
  const [problem, setProblem] = useState(null);
  const [busy, setBusy] = useState(false);
  const bind = name => ({
    name,
    value: values[name],
    onInput: event => setValues(v => ({ ...v, [name]: event.currentTarget.type === 'checkbox' ? event.currentTarget.checked : event.currentTarget.value })),
    error: problem?.field?.(name) ?? undefined,
  });
  const onSubmit = async event => {
    event.preventDefault();
    setBusy(true);
    setProblem(null);
    try {
      await submit(values, setValues);
    } catch (error) {
      setProblem(asProblem(error));
    } finally {
      setBusy(false);
    }
  };
  return { values, setValues, bind, problem, setProblem, busy, onSubmit };
}

export function asProblem(error) {
  return error instanceof Problem ? error : new Problem(0, { detail: error?.message ?? String(error) });
}

// The problem's sentence, when no field of the form shows it already.
export function FormProblem({ problem, fields = [] }) {
  if (!problem || !problem.namesNoneOf(fields)) return null;
  return html`<p class="problem" role="alert">${problem.message}</p>`;
}

// A problem's sentence; a 402's with where credits are bought (the Credits page).
export function ProblemText({ error }) {
  if (!error) return null;
  const problem = asProblem(error);
  return html`<p class="problem" role="alert">${problem.message}${problem.status === 402 && html` <a href="/">Buy credits</a>`}</p>`;
}

// Loads data for a page; reload() asks again (after a change, or on a live event).
export function useLoad(load, deps = []) {
  const [state, setState] = useState({ data: undefined, error: null, loading: true });
  const generation = useRef(0);
  const reload = useCallback(async () => {
    const mine = ++generation.current;
    setState(s => ({ ...s, loading: true }));
    try {
      const data = await load();
      if (mine === generation.current) setState({ data, error: null, loading: false });
    } catch (error) {
      if (mine === generation.current) setState(s => ({ ...s, error, loading: false }));
    }
  }, deps);
  useEffect(() => { reload(); }, [reload]);
  return { ...state, reload };
}

// Calls fn every `ms` while the page shows it.
export function useInterval(fn, ms) {
  const saved = useRef(fn);
  saved.current = fn;
  useEffect(() => {
    if (!ms) return undefined;
    const id = setInterval(() => saved.current(), ms);
    return () => clearInterval(id);
  }, [ms]);
}

export function CopyButton({ text, label = 'Copy' }) {
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
    } catch {
      // No clipboard (an http page on another host): select the text for the user instead.
      const area = Object.assign(document.createElement('textarea'), { value: text });
      document.body.append(area);
      area.select();
      document.execCommand('copy');
      area.remove();
    }
    setCopied(true);
    setTimeout(() => setCopied(false), 2000);
  };
  return html`<button type="button" class="secondary" onClick=${copy} aria-live="polite">${copied ? 'Copied' : label}</button>`;
}

export function Loading({ what = 'Loading' }) {
  return html`<p class="loading" role="status">${what}…</p>`;
}

export const credits = n => (n ?? 0).toLocaleString('en-US');
export const when = iso => (iso ? new Date(iso).toLocaleString() : '—');
export const day = iso => new Date(`${iso}T00:00:00Z`).toLocaleDateString(undefined, { month: 'short', day: 'numeric', timeZone: 'UTC' });

// The console's pages are paths under one document: links change the path without a reload.
const routeListeners = new Set();

export function navigate(path, { replace = false } = {}) {
  if (replace) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  routeListeners.forEach(listener => listener());
}

window.addEventListener('popstate', () => routeListeners.forEach(listener => listener()));

export function usePath() {
  const [path, setPath] = useState(location.pathname);
  useEffect(() => {
    const listener = () => setPath(location.pathname);
    routeListeners.add(listener);
    return () => routeListeners.delete(listener);
  }, []);
  return path;
}

export function Link({ href, children, ...rest }) {
  const follow = event => {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(href);
  };
  return html`<a href=${href} onClick=${follow} ...${rest}>${children}</a>`;
}
