import { store } from './store';

export type RouteName =
  | 'now' | 'history' | 'costs' | 'dr' | 'devices' | 'settings' | 'login' | 'setup';

export interface Route {
  name: RouteName;
  /** The token of #/setup/<token>. */
  param: string;
  /** Query after "?" in the hash, e.g. #/history?range=year. */
  query: URLSearchParams;
  raw: string;
}

const names: RouteName[] = ['now', 'history', 'costs', 'dr', 'devices', 'settings', 'login', 'setup'];

export function parseHash(hash: string): Route {
  const raw = hash.replace(/^#\/?/, '');
  const [path = '', q = ''] = raw.split('?', 2);
  const [first = '', ...rest] = path.split('/');
  const name = (names as string[]).includes(first) ? (first as RouteName) : 'now';
  return { name, param: decodeURIComponent(rest.join('/')), query: new URLSearchParams(q), raw };
}

export const route = store<Route>(parseHash(location.hash));

window.addEventListener('hashchange', () => route.set(parseHash(location.hash)));

export function navigate(hash: string) {
  if (location.hash === hash) route.set(parseHash(hash));
  else location.hash = hash;
}

/** Replaces the hash query without a new history entry (e.g. chart range). */
export function replaceQuery(q: URLSearchParams) {
  const r = route.get();
  const s = q.toString();
  const hash = `#/${r.name}${r.param ? '/' + encodeURIComponent(r.param) : ''}${s ? '?' + s : ''}`;
  history.replaceState(null, '', hash);
  route.set(parseHash(hash));
}
