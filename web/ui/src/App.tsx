import type { ComponentChildren, ComponentType } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { Icon, Loading } from './components';
import { languages, lang, setLang, t, type Lang, type MsgKey } from './i18n';
import { live, startLive, stopLive } from './live';
import { navigate, route, type RouteName } from './router';
import { loadSession, logout, rememberRoute, session } from './session';
import { useStore } from './store';
import { Now } from './pages/Now';
import { Login, Setup, SetupRequired } from './pages/Auth';

// Only the Now page (and login/setup) is in the first bundle; the other
// pages are chunks of their own, fetched when first shown (or when the
// pointer or focus reaches their link).
type PageName = 'history' | 'costs' | 'dr' | 'devices' | 'settings';
const loaders: Record<PageName, () => Promise<ComponentType>> = {
  history: () => import('./pages/History').then((m) => m.History),
  costs: () => import('./pages/Costs').then((m) => m.Costs),
  dr: () => import('./pages/DR').then((m) => m.DR),
  devices: () => import('./pages/Devices').then((m) => m.Devices),
  settings: () => import('./pages/Settings').then((m) => m.Settings),
};
const loaded: Partial<Record<PageName, ComponentType>> = {};
const loading: Partial<Record<PageName, Promise<ComponentType>>> = {};

function loadPage(name: PageName): Promise<ComponentType> {
  loading[name] ??= loaders[name]().then((c) => (loaded[name] = c));
  return loading[name] as Promise<ComponentType>;
}

function prefetch(name: RouteName) {
  if (name in loaders) void loadPage(name as PageName).catch(() => {});
}

function LazyPage({ name }: { name: PageName }) {
  const [, setN] = useState(0);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    if (!loaded[name]) {
      loadPage(name)
        .then(() => setN((x) => x + 1))
        .catch(() => {
          delete loading[name];
          setFailed(true);
        });
    }
  }, [name]);
  const C = loaded[name];
  if (C) return <C />;
  if (failed) {
    return (
      <div class="page">
        <p role="alert">{t('err.network')}</p>
        <button type="button" class="btn btn-secondary" onClick={() => location.reload()}>
          {t('common.retry')}
        </button>
      </div>
    );
  }
  return <Loading />;
}

const nav: { name: RouteName; icon: string; label: MsgKey }[] = [
  { name: 'now', icon: 'now', label: 'nav.now' },
  { name: 'history', icon: 'history', label: 'nav.history' },
  { name: 'costs', icon: 'costs', label: 'nav.costs' },
  { name: 'dr', icon: 'dr', label: 'nav.dr' },
  { name: 'devices', icon: 'devices', label: 'nav.devices' },
  { name: 'settings', icon: 'settings', label: 'nav.settings' },
];

export function LangSelect({ id = 'lang-select' }: { id?: string }) {
  const l = useStore(lang);
  return (
    <div class="lang">
      <label for={id} class="lang-label">
        <Icon name="globe" size={16} />
        <span class="sr-only">{t('header.language')}</span>
      </label>
      <select id={id} value={l} onChange={(e) => void setLang((e.currentTarget as HTMLSelectElement).value as Lang)}>
        {languages.map((x) => (
          <option value={x.code} key={x.code} lang={x.code}>
            {x.name}
          </option>
        ))}
      </select>
    </div>
  );
}

function LiveDot() {
  const l = useStore(live);
  const state = l.stream === 'open' ? 'ok' : l.stream === 'off' ? 'muted' : 'warn';
  const label = l.stream === 'open' ? t('live.connected') : l.stream === 'connecting' ? t('live.connecting') : t('live.disconnected');
  return (
    <span class={`live-dot live-${state}`} title={label} data-stream={l.stream}>
      <span class="dot" aria-hidden="true" />
      <span class="live-text">{label}</span>
    </span>
  );
}

function Header({ user, role }: { user?: string; role?: string }) {
  return (
    <header class="topbar">
      <a class="brand" href="#/now">
        <svg class="brand-mark" width="24" height="24" viewBox="0 0 32 32" aria-hidden="true" focusable="false">
          <rect width="32" height="32" rx="7" fill="#1f6feb" />
          <path d="M18 4 8 18h7l-2 10 11-15h-7z" fill="#fff" />
        </svg>
        <span>gatewayd</span>
      </a>
      <div class="topbar-right">
        {user && <LiveDot />}
        <LangSelect />
        {user && (
          <span class="user" title={role ? t(('role.' + role) as MsgKey) : undefined}>
            <span class="user-name">{user}</span>
          </span>
        )}
        {user && (
          <button type="button" class="btn btn-ghost btn-icon" onClick={() => void logout()} id="logout">
            <Icon name="logout" size={18} />
            <span class="logout-text">{t('header.logout')}</span>
          </button>
        )}
      </div>
    </header>
  );
}

function Nav({ current }: { current: RouteName }) {
  return (
    <nav class="nav" aria-label={t('nav.label')}>
      <ul>
        {nav.map((n) => (
          <li key={n.name}>
            <a
              href={`#/${n.name}`}
              onPointerEnter={() => prefetch(n.name)}
              onFocus={() => prefetch(n.name)}
              onTouchStart={() => prefetch(n.name)}
              aria-current={current === n.name ? 'page' : undefined} class={current === n.name ? 'active' : ''}>
              <Icon name={n.icon} />
              <span>{t(n.label)}</span>
            </a>
          </li>
        ))}
      </ul>
    </nav>
  );
}

function AuthShell({ children }: { children: ComponentChildren }) {
  return (
    <div class="auth-shell">
      <Header />
      <main id="main" class="auth-main">
        {children}
      </main>
    </div>
  );
}

export function App() {
  const s = useStore(session);
  const r = useStore(route);
  useStore(lang);
  const first = useRef(true);

  const authed = s.state === 'ready' && s.session.authenticated;
  useEffect(() => {
    if (authed) startLive();
    else stopLive();
  }, [authed]);

  // Redirects: unauthenticated → #/login (unless setup); authenticated on #/login → #/now.
  useEffect(() => {
    if (s.state !== 'ready') return;
    const ses = s.session;
    if (!ses.authenticated && !ses.setup_required && r.name !== 'login' && r.name !== 'setup') {
      rememberRoute();
      navigate('#/login');
    } else if (ses.authenticated && r.name === 'login') {
      navigate('#/now');
    }
  }, [s, r.name]);

  // Focus the page heading on navigation (not on the first load), for screen readers.
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    document.getElementById('page-title')?.focus({ preventScroll: false });
    window.scrollTo(0, 0);
  }, [r.name]);

  if (s.state === 'loading') {
    return (
      <div class="splash" role="status">
        <span class="spinner" aria-hidden="true" /> {t('common.loading')}
      </div>
    );
  }
  if (s.state === 'error') {
    return (
      <AuthShell>
        <div class="auth-card">
          <h1 id="page-title">{t('app.unreachable')}</h1>
          <p role="alert">{s.message}</p>
          <button type="button" class="btn btn-primary" onClick={() => void loadSession()}>
            {t('common.retry')}
          </button>
        </div>
      </AuthShell>
    );
  }
  const ses = s.session;
  if (r.name === 'setup') {
    return (
      <AuthShell>
        <Setup token={r.param} setupRequired={ses.setup_required} authenticated={ses.authenticated} />
      </AuthShell>
    );
  }
  if (!ses.authenticated) {
    return <AuthShell>{ses.setup_required ? <SetupRequired /> : <Login />}</AuthShell>;
  }
  const page = r.name in loaders ? <LazyPage name={r.name as PageName} key={r.name} /> : <Now />;
  return (
    <div class="shell">
      <a class="skip" href="#main" onClick={(e) => { e.preventDefault(); document.getElementById('main')?.focus(); }}>
        {t('common.skip')}
      </a>
      <Header user={ses.user} role={ses.role} />
      <Nav current={r.name} />
      <main id="main" tabIndex={-1} data-page={r.name}>
        {page}
      </main>
    </div>
  );
}
