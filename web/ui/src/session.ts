import { api, setCsrf, setUnauthorizedHandler } from './api';
import { navigate, route } from './router';
import { store } from './store';
import type { Session } from './types';

export type SessionState =
  | { state: 'loading' }
  | { state: 'error'; message: string }
  | { state: 'ready'; session: Session };

export const session = store<SessionState>({ state: 'loading' });

/** The route to return to after logging in. */
let wanted = '';

export function applySession(s: Session) {
  setCsrf(s.csrf ?? '');
  session.set({ state: 'ready', session: s });
}

export async function loadSession() {
  try {
    const s = await api<Session>('/session');
    applySession(s);
  } catch (e) {
    session.set({ state: 'error', message: e instanceof Error ? e.message : String(e) });
  }
}

export function afterLogin() {
  const to = wanted && !wanted.startsWith('#/login') && !wanted.startsWith('#/setup') ? wanted : '#/now';
  wanted = '';
  navigate(to);
}

export function loggedOut() {
  const cur = session.get();
  const setupRequired = cur.state === 'ready' ? cur.session.setup_required : false;
  setCsrf('');
  session.set({ state: 'ready', session: { authenticated: false, setup_required: setupRequired } });
  const r = route.get();
  if (r.name !== 'login' && r.name !== 'setup') {
    wanted = location.hash;
    navigate('#/login');
  }
}

export async function logout() {
  try {
    await api('/logout', { method: 'POST' });
  } catch {
    /* the session is gone either way */
  }
  wanted = '';
  loggedOut();
}

export function rememberRoute() {
  const r = route.get();
  if (r.name !== 'login' && r.name !== 'setup') wanted = location.hash;
}

setUnauthorizedHandler(() => {
  const cur = session.get();
  if (cur.state === 'ready' && cur.session.authenticated) loggedOut();
});

export function isAdmin(): boolean {
  const s = session.get();
  return s.state === 'ready' && s.session.role === 'admin';
}
