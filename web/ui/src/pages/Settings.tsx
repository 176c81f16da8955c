import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, api, errText } from '../api';
import { LangSelect } from '../App';
import {
  Badge,
  Card,
  DeleteButton,
  Field,
  FormError,
  Icon,
  Loading,
  Notice,
  PageHead,
  SelectField,
  fieldErr,
  formErr,
  toFormErr,
  type FormErr,
} from '../components';
import * as fmt from '../fmt';
import { useApi } from '../hooks';
import { t } from '../i18n';
import { route } from '../router';
import { isAdmin, session } from '../session';
import { useStore } from '../store';
import type { SystemInfo, TariffDoc, TariffProblem, Token, User } from '../types';
import { AppliancesCard } from './Appliances';
import { MIN_PASSWORD } from './Auth';
import { HomeKitCard } from './HomeKit';

const val = (e: Event) => (e.currentTarget as HTMLInputElement).value;

// ---- own password ----

function PasswordCard() {
  const [old, setOld] = useState('');
  const [pw, setPw] = useState('');
  const [confirm, setConfirm] = useState('');
  const [err, setErr] = useState<FormErr | null>(null);
  const [ok, setOk] = useState(false);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setErr(null);
    setOk(false);
    if (pw.length < MIN_PASSWORD) return setErr({ field: 'new', message: t('pw.tooShort', { n: MIN_PASSWORD }) });
    if (pw !== confirm) return setErr({ field: 'confirm', message: t('pw.mismatch') });
    setBusy(true);
    try {
      await api('/session/password', { method: 'POST', body: { old, new: pw } });
      setOk(true);
      setOld('');
      setPw('');
      setConfirm('');
    } catch (ex) {
      const fe = toFormErr(ex, ['old', 'new'], { password: 'new', old_password: 'old', new_password: 'new' });
      if (ex instanceof ApiError && ex.code === 'wrong_password') fe.field = 'old';
      setErr(fe);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Card title={t('set.password')} id="settings-password">
      <form onSubmit={submit} noValidate id="password-form">
        <Field id="pw-old" type="password" autoComplete="current-password" label={t('set.pwOld')} value={old} onInput={(e) => setOld(val(e))} error={fieldErr(err, 'old')} required />
        <Field id="pw-new" type="password" autoComplete="new-password" label={t('set.pwNew')} value={pw} onInput={(e) => setPw(val(e))} error={fieldErr(err, 'new')} hint={t('pw.hint', { n: MIN_PASSWORD })} required />
        <Field id="pw-confirm" type="password" autoComplete="new-password" label={t('set.pwConfirm')} value={confirm} onInput={(e) => setConfirm(val(e))} error={fieldErr(err, 'confirm')} required />
        <FormError message={formErr(err)} />
        {ok && (
          <Notice kind="ok" role="status">
            {t('set.pwChanged')}
          </Notice>
        )}
        <button type="submit" class="btn btn-primary" disabled={busy}>
          {t('set.pwSubmit')}
        </button>
      </form>
    </Card>
  );
}

// ---- users ----

function UserRow({ u, me, onChanged }: { u: User; me: string; onChanged: () => void }) {
  const [err, setErr] = useState<string | null>(null);
  const [resetting, setResetting] = useState(false);
  const [pw, setPw] = useState('');
  const [pwErr, setPwErr] = useState<string | null>(null);
  const [msg, setMsg] = useState<string | null>(null);
  const setRole = async (role: string) => {
    setErr(null);
    setMsg(null);
    try {
      await api(`/users/${encodeURIComponent(u.name)}`, { method: 'PUT', body: { role } });
      onChanged();
    } catch (ex) {
      setErr(errText(ex));
      onChanged();
    }
  };
  const resetPw = async (e: Event) => {
    e.preventDefault();
    setPwErr(null);
    if (pw.length < MIN_PASSWORD) return setPwErr(t('pw.tooShort', { n: MIN_PASSWORD }));
    try {
      await api(`/users/${encodeURIComponent(u.name)}`, { method: 'PUT', body: { password: pw } });
      setResetting(false);
      setPw('');
      setMsg(t('set.pwReset', { user: u.name }));
    } catch (ex) {
      setPwErr(errText(ex));
    }
  };
  const id = `user-${u.name.replace(/[^A-Za-z0-9_-]/g, '_')}`;
  return (
    <li class="row-item" id={id} data-user={u.name}>
      <div class="row-main">
        <strong>{u.name}</strong> {u.name === me && <Badge kind="info">{t('set.you')}</Badge>}
        <p class="muted small">
          {t('set.created', { date: fmt.date(u.created) })} · {t('set.lastLogin', { when: u.last_login ? fmt.dateTime(u.last_login) : t('common.never') })}
        </p>
      </div>
      <div class="row-actions">
        <div class="field field-inline">
          <label for={id + '-role'}>{t('set.role')}</label>
          <select id={id + '-role'} value={u.role} onChange={(e) => void setRole((e.currentTarget as HTMLSelectElement).value)} aria-invalid={err ? 'true' : undefined} aria-describedby={err ? id + '-err' : undefined}>
            <option value="admin">{t('role.admin')}</option>
            <option value="viewer">{t('role.viewer')}</option>
          </select>
        </div>
        <button type="button" class="btn btn-secondary btn-small" onClick={() => setResetting(!resetting)} aria-expanded={resetting}>
          {t('set.resetPw')}
        </button>
        <DeleteButton
          label={t('common.delete')}
          question={t('set.deleteUserQ', { user: u.name })}
          path={`/users/${encodeURIComponent(u.name)}`}
          onDone={onChanged}
          onError={setErr}
        />
      </div>
      {resetting && (
        <form class="inline-form" onSubmit={resetPw} noValidate>
          <Field id={id + '-pw'} type="password" autoComplete="new-password" label={t('set.newPwFor', { user: u.name })} value={pw} onInput={(e) => setPw(val(e))} error={pwErr ?? undefined} />
          <button type="submit" class="btn btn-primary btn-small">
            {t('common.save')}
          </button>
        </form>
      )}
      {err && (
        <p class="field-error" id={id + '-err'} role="alert">
          {err}
        </p>
      )}
      {msg && (
        <p class="ok-text" role="status">
          {msg}
        </p>
      )}
    </li>
  );
}

function UsersCard({ me }: { me: string }) {
  const users = useApi<{ users: User[] }>('/users');
  const [name, setName] = useState('');
  const [pw, setPw] = useState('');
  const [role, setRole] = useState('viewer');
  const [err, setErr] = useState<FormErr | null>(null);
  const [busy, setBusy] = useState(false);
  const add = async (e: Event) => {
    e.preventDefault();
    setErr(null);
    if (!name.trim()) return setErr({ field: 'user', message: t('setup.userRequired') });
    if (pw.length < MIN_PASSWORD) return setErr({ field: 'password', message: t('pw.tooShort', { n: MIN_PASSWORD }) });
    setBusy(true);
    try {
      await api('/users', { method: 'POST', body: { user: name.trim(), password: pw, role } });
      setName('');
      setPw('');
      users.reload();
    } catch (ex) {
      setErr(toFormErr(ex, ['user', 'password', 'role'], { name: 'user' }));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Card title={t('set.users')} id="settings-users" class="card-wide">
      {users.error && <Notice kind="bad">{users.error.message}</Notice>}
      {users.loading && !users.data && <Loading />}
      {users.data && (
        <ul class="rows" id="user-list">
          {users.data.users.map((u) => (
            <UserRow key={u.name} u={u} me={me} onChanged={users.reload} />
          ))}
        </ul>
      )}
      <form class="add-form" onSubmit={add} noValidate id="add-user-form">
        <h3>{t('set.addUser')}</h3>
        <div class="form-row">
          <Field id="new-user" label={t('setup.user')} autoComplete="off" value={name} onInput={(e) => setName(val(e))} error={fieldErr(err, 'user')} />
          <Field id="new-user-pw" type="password" autoComplete="new-password" label={t('setup.password')} value={pw} onInput={(e) => setPw(val(e))} error={fieldErr(err, 'password')} />
          <SelectField
            id="new-user-role"
            label={t('set.role')}
            value={role}
            onChange={setRole}
            options={[
              { value: 'viewer', label: t('role.viewer') },
              { value: 'admin', label: t('role.admin') },
            ]}
            error={fieldErr(err, 'role')}
          />
        </div>
        <p class="muted small">{t('set.rolesHelp')}</p>
        <FormError message={formErr(err)} />
        <button type="submit" class="btn btn-primary" disabled={busy}>
          {t('set.addUserSubmit')}
        </button>
      </form>
    </Card>
  );
}

// ---- API tokens ----

async function copy(text: string, input: HTMLInputElement | null): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    if (!input) return false;
    input.select();
    return document.execCommand('copy');
  }
}

function TokensCard() {
  const tokens = useApi<{ tokens: Token[] }>('/tokens');
  const [name, setName] = useState('');
  const [scope, setScope] = useState('read');
  const [err, setErr] = useState<FormErr | null>(null);
  const [created, setCreated] = useState<Token | null>(null);
  const [copied, setCopied] = useState(false);
  const [rowErr, setRowErr] = useState<string | null>(null);
  const tokRef = useRef<HTMLInputElement>(null);
  const add = async (e: Event) => {
    e.preventDefault();
    setErr(null);
    setCopied(false);
    try {
      const tok = await api<Token>('/tokens', { method: 'POST', body: { name: name.trim(), scope } });
      setCreated(tok);
      setName('');
      tokens.reload();
    } catch (ex) {
      setErr(toFormErr(ex, ['name', 'scope']));
    }
  };
  return (
    <Card title={t('set.tokens')} id="settings-tokens" class="card-wide">
      <p class="muted small">{t('set.tokensIntro')}</p>
      {tokens.error && <Notice kind="bad">{tokens.error.message}</Notice>}
      {tokens.data && tokens.data.tokens.length === 0 && <p class="muted">{t('set.noTokens')}</p>}
      {tokens.data && tokens.data.tokens.length > 0 && (
        <ul class="rows" id="token-list">
          {tokens.data.tokens.map((tk) => (
            <li class="row-item" key={tk.id} data-token={tk.name}>
              <div class="row-main">
                <strong>{tk.name}</strong> <Badge kind={tk.scope === 'control' ? 'warn' : 'muted'}>{t(tk.scope === 'control' ? 'scope.control' : 'scope.read')}</Badge>
                <p class="muted small">{t('set.created', { date: fmt.dateTime(tk.created) })}</p>
              </div>
              <div class="row-actions">
                <DeleteButton
                  label={t('set.revoke')}
                  question={t('set.revokeQ', { name: tk.name })}
                  path={`/tokens/${encodeURIComponent(tk.id)}`}
                  onDone={() => {
                    if (created?.id === tk.id) setCreated(null);
                    tokens.reload();
                  }}
                  onError={setRowErr}
                />
              </div>
            </li>
          ))}
        </ul>
      )}
      {rowErr && <p class="form-error" role="alert">{rowErr}</p>}
      {created?.token && (
        <Notice kind="ok" id="new-token">
          <p>
            <strong>{t('set.tokenCreated', { name: created.name })}</strong> {t('set.tokenOnce')}
          </p>
          <div class="copy-row">
            <label for="new-token-value" class="sr-only">
              {t('set.tokenValue')}
            </label>
            <input id="new-token-value" class="mono" readOnly value={created.token} ref={tokRef} onFocus={(e) => (e.currentTarget as HTMLInputElement).select()} />
            <button type="button" class="btn btn-secondary btn-small" onClick={async () => setCopied(await copy(created.token ?? '', tokRef.current))}>
              <Icon name="copy" size={16} /> {copied ? t('set.copied') : t('set.copy')}
            </button>
          </div>
        </Notice>
      )}
      <form class="add-form" onSubmit={add} noValidate id="add-token-form">
        <h3>{t('set.addToken')}</h3>
        <div class="form-row">
          <Field id="token-name" label={t('set.tokenName')} autoComplete="off" value={name} onInput={(e) => setName(val(e))} error={fieldErr(err, 'name')} />
          <SelectField
            id="token-scope"
            label={t('set.scope')}
            value={scope}
            onChange={setScope}
            options={[
              { value: 'read', label: t('scope.read') },
              { value: 'control', label: t('scope.control') },
            ]}
            error={fieldErr(err, 'scope')}
          />
        </div>
        <FormError message={formErr(err)} />
        <button type="submit" class="btn btn-primary">
          {t('set.addTokenSubmit')}
        </button>
      </form>
    </Card>
  );
}

// ---- tariff editor ----

// The engine's Chinese four-band example (dr/tariff/doc.go); prices are illustrative.
export const TARIFF_EXAMPLE = `tariff:
  timezone: Asia/Shanghai
  currency: CNY
  import:
    tou:
      default: 0.62
      zones:
        - { price: 0.62, band: flat }
        - { hours: "8-11,18-23", price: 0.98, band: peak }
        - { hours: "0-8,23-0", price: 0.32, band: valley }
        - { months: "Jul-Aug,Dec-Jan", hours: "19-21", price: 1.18, band: sharp }
    tiers:
      period: annual
      anchor: "01-01"
      steps:
        - { startKWh: 0, adder: 0 }
        - { startKWh: 2760, adder: 0.05 }
        - { startKWh: 4800, adder: 0.30 }
  export:
    fixed: 0.08
`;

function TariffCard() {
  const doc = useApi<TariffDoc>('/tariff');
  const [text, setText] = useState<string | null>(null);
  const [problems, setProblems] = useState<TariffProblem[]>([]);
  const [err, setErr] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  const [busy, setBusy] = useState(false);
  const taRef = useRef<HTMLTextAreaElement>(null);
  const gutterRef = useRef<HTMLDivElement>(null);
  const backRef = useRef<HTMLDivElement>(null);

  useEffect(() => {
    if (doc.data && text === null) setText(doc.data.yaml || '');
  }, [doc.data]);

  const value = text ?? '';
  const lines = value.split('\n');
  const bad = new Map<number, TariffProblem[]>();
  for (const p of problems) if (p.line > 0) bad.set(p.line, [...(bad.get(p.line) ?? []), p]);

  const syncScroll = () => {
    const ta = taRef.current;
    if (!ta) return;
    if (gutterRef.current) gutterRef.current.style.transform = `translateY(${-ta.scrollTop}px)`;
    if (backRef.current) backRef.current.style.transform = `translate(${-ta.scrollLeft}px, ${-ta.scrollTop}px)`;
  };
  useEffect(syncScroll);

  const jump = (line: number) => {
    const ta = taRef.current;
    if (!ta || line < 1) return;
    let start = 0;
    for (let i = 1; i < line && i <= lines.length; i++) start += (lines[i - 1] as string).length + 1;
    const end = start + (lines[line - 1]?.length ?? 0);
    ta.focus();
    ta.setSelectionRange(start, end);
    const lh = parseFloat(getComputedStyle(ta).lineHeight) || 20;
    ta.scrollTop = Math.max(0, (line - 3) * lh);
    syncScroll();
  };

  const save = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setErr(null);
    setSaved(false);
    try {
      const res = await api<TariffDoc>('/tariff', { method: 'PUT', body: { yaml: value } });
      doc.set(res);
      setText(res.yaml ?? value);
      setProblems([]);
      setSaved(true);
    } catch (ex) {
      setErr(errText(ex));
      const ps = ex instanceof ApiError && Array.isArray(ex.body.problems) ? (ex.body.problems as TariffProblem[]) : [];
      setProblems(ps);
    } finally {
      setBusy(false);
    }
  };

  const configured = doc.data?.configured ?? false;
  return (
    <Card title={t('set.tariff')} id="settings-tariff" class="card-wide">
      {doc.error && <Notice kind="bad">{doc.error.message}</Notice>}
      {doc.loading && !doc.data && <Loading />}
      {doc.data && (
        <form onSubmit={save} noValidate id="tariff-form">
          <p class="small">
            {configured ? (
              <>
                <Badge kind="ok">{t('set.tariffConfigured')}</Badge> {doc.data.currency && `${doc.data.currency}`} {doc.data.timezone && `· ${doc.data.timezone}`}
              </>
            ) : (
              <Badge kind="warn">{t('set.tariffNone')}</Badge>
            )}
          </p>
          {!configured && !value.trim() && (
            <Notice kind="info" id="tariff-example-hint">
              {t('set.tariffStart')}{' '}
              <button type="button" class="btn btn-secondary btn-small" onClick={() => setText(TARIFF_EXAMPLE)} id="tariff-use-example">
                {t('set.tariffUseExample')}
              </button>
            </Notice>
          )}
          <label for="tariff-yaml" class="block-label">
            {t('set.tariffYaml')}
          </label>
          <div class={`editor ${problems.length ? 'has-problems' : ''}`}>
            <div class="editor-gutter" aria-hidden="true">
              <div ref={gutterRef}>
                {lines.map((_, i) => (
                  <div key={i} class={bad.has(i + 1) ? 'ln bad' : 'ln'}>
                    {i + 1}
                  </div>
                ))}
              </div>
            </div>
            <div class="editor-code">
              <div class="editor-backdrop" aria-hidden="true" ref={backRef}>
                {lines.map((l, i) => (
                  <div key={i} class={bad.has(i + 1) ? 'bl bad' : 'bl'} data-line={i + 1} title={bad.get(i + 1)?.map((p) => p.message).join('; ')}>
                    {l || ' '}
                  </div>
                ))}
              </div>
              <textarea
                id="tariff-yaml"
                ref={taRef}
                wrap="off"
                spellcheck={false}
                autoCapitalize="off"
                autoComplete="off"
                rows={Math.min(24, Math.max(10, lines.length + 1))}
                value={value}
                placeholder={TARIFF_EXAMPLE}
                aria-invalid={problems.length ? 'true' : undefined}
                aria-describedby={problems.length || err ? 'tariff-problems' : undefined}
                onInput={(e) => {
                  setText((e.currentTarget as HTMLTextAreaElement).value);
                  setSaved(false);
                }}
                onScroll={syncScroll}
              />
            </div>
          </div>
          {(err || problems.length > 0) && (
            <div id="tariff-problems" class="problems" role="alert">
              {err && <p class="form-error">{err}</p>}
              {problems.length > 0 && (
                <ul>
                  {problems.map((p, i) => (
                    <li key={i} class="problem" data-line={p.line} data-key={p.key}>
                      {p.line > 0 ? (
                        <button type="button" class="link-btn" onClick={() => jump(p.line)}>
                          {t('set.line', { n: p.line })}
                        </button>
                      ) : null}{' '}
                      {p.key && <code>{p.key}</code>}: {p.key && p.message.startsWith(p.key + ': ') ? p.message.slice(p.key.length + 2) : p.message}
                    </li>
                  ))}
                </ul>
              )}
            </div>
          )}
          {saved && (
            <Notice kind="ok" role="status" id="tariff-saved">
              {t('set.tariffSaved')}
            </Notice>
          )}
          <div class="btn-row">
            <button type="submit" class="btn btn-primary" disabled={busy} id="tariff-save">
              {t('set.tariffSave')}
            </button>
            <button
              type="button"
              class="btn btn-ghost"
              onClick={() => {
                setText(doc.data?.yaml ?? '');
                setProblems([]);
                setErr(null);
              }}
            >
              {t('set.tariffRevert')}
            </button>
          </div>
          <p class="note">{t('set.tariffHelp')}</p>
        </form>
      )}
    </Card>
  );
}

// ---- system ----

function SystemCard({ admin }: { admin: boolean }) {
  const sys = useApi<SystemInfo>('/system');
  const s = sys.data;
  return (
    <Card title={t('set.system')} id="settings-system">
      {sys.error && <Notice kind="bad">{sys.error.message}</Notice>}
      {sys.loading && !s && <Loading />}
      {s && (
        <dl class="kv kv-small kv-list">
          <div><dt>{t('set.version')}</dt><dd class="mono">{s.version}</dd></div>
          <div><dt>{t('set.protocol')}</dt><dd>{s.metering.protocol}</dd></div>
          <div><dt>{t('set.port')}</dt><dd class="mono">{s.metering.port}</dd></div>
          <div><dt>{t('set.baud')}</dt><dd>{s.metering.baud}</dd></div>
          <div><dt>{t('set.address')}</dt><dd class="mono">{s.metering.address}</dd></div>
          <div><dt>{t('set.interval')}</dt><dd>{s.metering.interval}</dd></div>
          <div><dt>{t('set.timeSync')}</dt><dd>{s.metering.time_sync ? t('common.on') : t('common.off')}</dd></div>
          <div>
            <dt>{t('now.link')}</dt>
            <dd>{s.metering.link_up ? <Badge kind="ok">{t('now.linkUp')}</Badge> : <Badge kind="bad">{t('now.linkDown')}</Badge>}</dd>
          </div>
          <div><dt>{t('set.storage')}</dt><dd class="mono">{s.storage.path}</dd></div>
          <div><dt>{t('set.dbSize')}</dt><dd>{fmt.bytes(s.storage.size_bytes)}</dd></div>
          <div><dt>{t('set.tls')}</dt><dd>{s.tls ? t('common.on') : t('common.off')}</dd></div>
        </dl>
      )}
      {admin && (
        <p>
          <a class="btn btn-secondary" href="/api/v1/backup" download id="backup-link">
            <Icon name="download" size={16} /> {t('set.backup')}
          </a>
        </p>
      )}
    </Card>
  );
}

export function Settings() {
  const s = useStore(session);
  const r = useStore(route);
  const admin = isAdmin();
  const me = s.state === 'ready' ? s.session.user ?? '' : '';
  const section = r.query.get('section');
  useEffect(() => {
    if (section) document.getElementById('settings-' + section)?.scrollIntoView({ block: 'start' });
  }, [section]);
  return (
    <div class="page page-settings">
      <PageHead title={t('set.title')} />
      {!admin && (
        <p class="muted" id="viewer-note">
          {t('set.viewerNote')}
        </p>
      )}
      <div class="cards">
        <Card title={t('set.language')} id="settings-language">
          <LangSelect id="settings-lang" />
        </Card>
        <PasswordCard />
        {admin && <UsersCard me={me} />}
        {admin && <TokensCard />}
        {admin && <AppliancesCard />}
        {admin && <TariffCard />}
        {admin && <HomeKitCard />}
        <SystemCard admin={admin} />
      </div>
    </div>
  );
}
