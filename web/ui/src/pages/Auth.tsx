import { useEffect, useState } from 'preact/hooks';
import { ApiError, api } from '../api';
import { Field, FormError, Notice, fieldErr, formErr, toFormErr, type FormErr } from '../components';
import * as fmt from '../fmt';
import { useNow } from '../hooks';
import { t } from '../i18n';
import { navigate } from '../router';
import { afterLogin, applySession, loadSession } from '../session';
import type { Session } from '../types';

export const MIN_PASSWORD = 10;

const val = (e: Event) => (e.currentTarget as HTMLInputElement).value;

export function SetupRequired() {
  return (
    <div class="auth-card" id="setup-required">
      <h1 id="page-title">{t('setupReq.title')}</h1>
      <p>{t('setupReq.body')}</p>
      <pre class="example" aria-label={t('setupReq.exampleLabel')}>
        {'  setup: http://…/#/setup/…'}
      </pre>
      <p class="muted">{t('setupReq.hint')}</p>
      <button type="button" class="btn btn-secondary" onClick={() => void loadSession()}>
        {t('common.retry')}
      </button>
    </div>
  );
}

export function Login() {
  const [user, setUser] = useState('');
  const [password, setPassword] = useState('');
  const [err, setErr] = useState<FormErr | null>(null);
  const [busy, setBusy] = useState(false);
  const [lockedUntil, setLockedUntil] = useState(0);
  const now = useNow(1000);
  const locked = lockedUntil > now;

  const submit = async (e: Event) => {
    e.preventDefault();
    if (busy || locked) return;
    setBusy(true);
    setErr(null);
    try {
      const s = await api<Session>('/login', { method: 'POST', body: { user, password } });
      applySession(s);
      afterLogin();
    } catch (ex) {
      if (ex instanceof ApiError && ex.status === 429) {
        const ra = Number(ex.body.retry_after);
        const secs = Number.isFinite(ra) && ra > 0 ? ra : 60;
        setLockedUntil(Date.now() + secs * 1000);
      }
      setErr(toFormErr(ex, ['user', 'password']));
      setPassword('');
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="auth-card" id="login-form" onSubmit={submit} noValidate>
      <h1 id="page-title">{t('login.title')}</h1>
      <p class="muted">{t('login.intro')}</p>
      <Field id="login-user" name="user" label={t('login.user')} autoComplete="username" required value={user} onInput={(e) => setUser(val(e))} error={fieldErr(err, 'user')} />
      <Field
        id="login-password"
        name="password"
        type="password"
        label={t('login.password')}
        autoComplete="current-password"
        required
        value={password}
        onInput={(e) => setPassword(val(e))}
        error={fieldErr(err, 'password')}
      />
      <FormError message={formErr(err)} />
      {locked && (
        <Notice kind="warn" role="status" id="login-locked">
          {t('login.lockedUntil', { time: fmt.time(lockedUntil), s: Math.ceil((lockedUntil - now) / 1000) })}
        </Notice>
      )}
      <button type="submit" class="btn btn-primary btn-block" disabled={busy || locked}>
        {busy ? t('common.working') : t('login.submit')}
      </button>
    </form>
  );
}

export function Setup({ token, setupRequired, authenticated }: { token: string; setupRequired: boolean; authenticated: boolean }) {
  const [user, setUser] = useState('');
  const [password, setPassword] = useState('');
  const [confirm, setConfirm] = useState('');
  const [err, setErr] = useState<FormErr | null>(null);
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState<'used' | null>(null);

  useEffect(() => {
    if (authenticated && !setupRequired) navigate('#/now');
  }, [authenticated, setupRequired]);

  if (!setupRequired || done === 'used') {
    return (
      <div class="auth-card" id="setup-void">
        <h1 id="page-title">{t('setup.title')}</h1>
        <Notice kind="info" role="status">
          {t('setup.void')}
        </Notice>
        <a class="btn btn-primary" href="#/login">
          {t('setup.toLogin')}
        </a>
      </div>
    );
  }

  const submit = async (e: Event) => {
    e.preventDefault();
    if (busy) return;
    setErr(null);
    if (!user.trim()) return setErr({ field: 'user', message: t('setup.userRequired') });
    if (password.length < MIN_PASSWORD) return setErr({ field: 'password', message: t('pw.tooShort', { n: MIN_PASSWORD }) });
    if (password !== confirm) return setErr({ field: 'confirm', message: t('pw.mismatch') });
    setBusy(true);
    try {
      const s = await api<Session>('/setup', { method: 'POST', body: { token, user: user.trim(), password } });
      applySession(s);
      navigate('#/now');
    } catch (ex) {
      if (ex instanceof ApiError && ex.status === 409) setDone('used');
      setErr(toFormErr(ex, ['user', 'password']));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="auth-card" id="setup-form" onSubmit={submit} noValidate>
      <h1 id="page-title">{t('setup.title')}</h1>
      <p>{t('setup.intro')}</p>
      <Field id="setup-user" name="user" label={t('setup.user')} autoComplete="username" required value={user} onInput={(e) => setUser(val(e))} error={fieldErr(err, 'user')} hint={t('setup.userHint')} />
      <Field
        id="setup-password"
        name="password"
        type="password"
        label={t('setup.password')}
        autoComplete="new-password"
        required
        minLength={MIN_PASSWORD}
        value={password}
        onInput={(e) => setPassword(val(e))}
        error={fieldErr(err, 'password')}
        hint={t('pw.hint', { n: MIN_PASSWORD })}
      />
      <Field
        id="setup-confirm"
        name="confirm"
        type="password"
        label={t('setup.confirm')}
        autoComplete="new-password"
        required
        value={confirm}
        onInput={(e) => setConfirm(val(e))}
        error={fieldErr(err, 'confirm')}
      />
      <FormError message={formErr(err)} />
      <button type="submit" class="btn btn-primary btn-block" disabled={busy}>
        {busy ? t('common.working') : t('setup.submit')}
      </button>
    </form>
  );
}
