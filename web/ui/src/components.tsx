import type { ComponentChildren, InputHTMLAttributes } from 'preact';
import { useState } from 'preact/hooks';
import { ApiError, api, errText } from './api';
import { t } from './i18n';

// ---- icons (SVG elements built by the DOM, so the CSP is happy) ----

const paths: Record<string, string> = {
  now: 'M13 2 4 14h7l-1 8 9-12h-7z',
  history: 'M3 3v18h18M7 15l4-4 3 3 5-6',
  costs: 'M12 2v20M17 6H9.5a3.5 3.5 0 0 0 0 7h5a3.5 3.5 0 0 1 0 7H6',
  dr: 'M12 3 2 20h20L12 3zm0 6v5m0 3v.5',
  devices: 'M4 4h16v12H4zM8 20h8M12 16v4',
  settings:
    'M12 15a3 3 0 1 0 0-6 3 3 0 0 0 0 6zM19.4 15a1.7 1.7 0 0 0 .3 1.8l.1.1a2 2 0 1 1-2.8 2.8l-.1-.1a1.7 1.7 0 0 0-1.8-.3 1.7 1.7 0 0 0-1 1.5V21a2 2 0 1 1-4 0v-.1a1.7 1.7 0 0 0-1.1-1.5 1.7 1.7 0 0 0-1.8.3l-.1.1a2 2 0 1 1-2.8-2.8l.1-.1a1.7 1.7 0 0 0 .3-1.8 1.7 1.7 0 0 0-1.5-1H3a2 2 0 1 1 0-4h.1a1.7 1.7 0 0 0 1.5-1.1 1.7 1.7 0 0 0-.3-1.8l-.1-.1a2 2 0 1 1 2.8-2.8l.1.1a1.7 1.7 0 0 0 1.8.3H9a1.7 1.7 0 0 0 1-1.5V3a2 2 0 1 1 4 0v.1a1.7 1.7 0 0 0 1 1.5 1.7 1.7 0 0 0 1.8-.3l.1-.1a2 2 0 1 1 2.8 2.8l-.1.1a1.7 1.7 0 0 0-.3 1.8V9a1.7 1.7 0 0 0 1.5 1H21a2 2 0 1 1 0 4h-.1a1.7 1.7 0 0 0-1.5 1z',
  grid: 'M12 2 7 22M12 2l5 20M8.5 9h7M6 16h12M4 5h16',
  home: 'M3 11 12 3l9 8v10H3zM9 21v-6h6v6',
  sun: 'M12 17a5 5 0 1 0 0-10 5 5 0 0 0 0 10zM12 1v2M12 21v2M4.2 4.2l1.4 1.4M18.4 18.4l1.4 1.4M1 12h2M21 12h2M4.2 19.8l1.4-1.4M18.4 5.6l1.4-1.4',
  battery: 'M2 7h16v10H2zM22 11v2M6 10v4M10 10v4',
  logout: 'M9 21H5a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2h4M16 17l5-5-5-5M21 12H9',
  download: 'M21 15v4a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2v-4M7 10l5 5 5-5M12 15V3',
  left: 'M15 18l-6-6 6-6',
  right: 'M9 18l6-6-6-6',
  plus: 'M12 5v14M5 12h14',
  minus: 'M5 12h14',
  copy: 'M9 9h11v11H9zM5 15H4a1 1 0 0 1-1-1V4a1 1 0 0 1 1-1h10a1 1 0 0 1 1 1v1',
  globe: 'M12 22a10 10 0 1 0 0-20 10 10 0 0 0 0 20zM2 12h20M12 2a15 15 0 0 1 0 20M12 2a15 15 0 0 0 0 20',
};

export function Icon({ name, size = 20 }: { name: string; size?: number }) {
  return (
    <svg
      class="icon"
      width={size}
      height={size}
      viewBox="0 0 24 24"
      fill="none"
      stroke="currentColor"
      stroke-width="2"
      stroke-linecap="round"
      stroke-linejoin="round"
      aria-hidden="true"
      focusable="false"
    >
      <path d={paths[name] ?? ''} />
    </svg>
  );
}

// ---- small building blocks ----

export function Badge(props: { kind?: 'legal' | 'ok' | 'warn' | 'bad' | 'muted' | 'info'; children: ComponentChildren; title?: string }) {
  return (
    <span class={`badge badge-${props.kind ?? 'muted'}`} title={props.title}>
      {props.children}
    </span>
  );
}

export function LegalBadge({ legal, long = false }: { legal: boolean; long?: boolean }) {
  return legal ? (
    <Badge kind="legal" title={t('legal.title')}>
      {long ? t('legal.long') : t('legal.short')}
    </Badge>
  ) : (
    <Badge kind="muted" title={t('derived.title')}>
      {t('derived.short')}
    </Badge>
  );
}

export function Card(props: { title?: ComponentChildren; children: ComponentChildren; class?: string; id?: string; actions?: ComponentChildren; headingLevel?: 2 | 3 }) {
  const H = props.headingLevel === 3 ? 'h3' : 'h2';
  return (
    <section class={`card ${props.class ?? ''}`} id={props.id} aria-labelledby={props.id && props.title ? props.id + '-h' : undefined}>
      {(props.title || props.actions) && (
        <div class="card-head">
          {props.title && <H id={props.id ? props.id + '-h' : undefined}>{props.title}</H>}
          {props.actions && <div class="card-actions">{props.actions}</div>}
        </div>
      )}
      {props.children}
    </section>
  );
}

export function Notice(props: { kind?: 'info' | 'warn' | 'bad' | 'ok'; children: ComponentChildren; id?: string; role?: 'alert' | 'status' }) {
  return (
    <div class={`notice notice-${props.kind ?? 'info'}`} id={props.id} role={props.role}>
      {props.children}
    </div>
  );
}

export function Loading() {
  return (
    <p class="loading" role="status">
      <span class="spinner" aria-hidden="true" />
      {t('common.loading')}
    </p>
  );
}

export function ErrorNote({ error }: { error: ApiError | Error | null }) {
  if (!error) return null;
  return (
    <Notice kind="bad" role="alert">
      {error.message}
    </Notice>
  );
}

/** A failure at a form field (named by the server's param) or at the whole form. */
export interface FormErr {
  field?: string;
  message: string;
}

export function toFormErr(e: unknown, fields: string[], alias: Record<string, string> = {}): FormErr {
  if (e instanceof ApiError) {
    const p = e.param ? alias[e.param] ?? e.param : undefined;
    return { field: p && fields.includes(p) ? p : undefined, message: e.message };
  }
  return { message: e instanceof Error ? e.message : String(e) };
}

export const fieldErr = (err: FormErr | null, field: string) => (err && err.field === field ? err.message : undefined);
export const formErr = (err: FormErr | null) => (err && !err.field ? err.message : undefined);

type InputProps = Omit<InputHTMLAttributes<HTMLInputElement>, 'label'>;

export function Field(props: InputProps & { id: string; label: ComponentChildren; error?: string; hint?: ComponentChildren }) {
  const { id, label, error, hint, ...rest } = props;
  const describedBy = [error ? id + '-err' : '', hint ? id + '-hint' : ''].filter(Boolean).join(' ') || undefined;
  return (
    <div class={`field ${error ? 'has-error' : ''}`}>
      <label for={id}>{label}</label>
      <input id={id} aria-invalid={error ? 'true' : undefined} aria-describedby={describedBy} {...rest} />
      {hint && (
        <p class="hint" id={id + '-hint'}>
          {hint}
        </p>
      )}
      {error && (
        <p class="field-error" id={id + '-err'} data-field={id}>
          {error}
        </p>
      )}
    </div>
  );
}

export function SelectField(props: {
  id: string;
  label: ComponentChildren;
  value: string;
  onChange: (v: string) => void;
  options: { value: string; label: string }[];
  error?: string;
  disabled?: boolean;
}) {
  return (
    <div class={`field ${props.error ? 'has-error' : ''}`}>
      <label for={props.id}>{props.label}</label>
      <select
        id={props.id}
        value={props.value}
        disabled={props.disabled}
        aria-invalid={props.error ? 'true' : undefined}
        aria-describedby={props.error ? props.id + '-err' : undefined}
        onChange={(e) => props.onChange((e.currentTarget as HTMLSelectElement).value)}
      >
        {props.options.map((o) => (
          <option value={o.value} key={o.value}>
            {o.label}
          </option>
        ))}
      </select>
      {props.error && (
        <p class="field-error" id={props.id + '-err'}>
          {props.error}
        </p>
      )}
    </div>
  );
}

export function FormError({ message }: { message?: string }) {
  if (!message) return null;
  return (
    <p class="form-error" role="alert">
      {message}
    </p>
  );
}

/** A button that asks "are you sure?" inline before it acts. */
export function ConfirmButton(props: {
  label: string;
  question: string;
  confirmLabel: string;
  onConfirm: () => Promise<void> | void;
  danger?: boolean;
  class?: string;
}) {
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  if (!asking) {
    return (
      <button type="button" class={`btn ${props.danger ? 'btn-danger-outline' : 'btn-secondary'} ${props.class ?? ''}`} onClick={() => setAsking(true)}>
        {props.label}
      </button>
    );
  }
  return (
    <span class="confirm" role="group" aria-label={props.question}>
      <span class="confirm-q">{props.question}</span>
      <button
        type="button"
        class={`btn ${props.danger ? 'btn-danger' : 'btn-primary'}`}
        disabled={busy}
        autoFocus
        onClick={async () => {
          setBusy(true);
          try {
            await props.onConfirm();
          } finally {
            setBusy(false);
            setAsking(false);
          }
        }}
      >
        {props.confirmLabel}
      </button>
      <button type="button" class="btn btn-ghost" onClick={() => setAsking(false)}>
        {t('common.cancel')}
      </button>
    </span>
  );
}

export function PageHead(props: { title: string; children?: ComponentChildren }) {
  return (
    <div class="page-head">
      <h1 id="page-title" tabIndex={-1}>
        {props.title}
      </h1>
      {props.children && <div class="page-head-extra">{props.children}</div>}
    </div>
  );
}

/**
 * DeleteButton asks first, then DELETEs path: onDone after success, the
 * API's message to onError otherwise (null when a new try starts).
 */
export function DeleteButton(props: {
  label: string;
  question: string;
  confirmLabel?: string;
  path: string;
  onDone: () => void;
  onError: (msg: string | null) => void;
}) {
  return (
    <ConfirmButton
      label={props.label}
      question={props.question}
      confirmLabel={props.confirmLabel ?? props.label}
      danger
      class="btn-small"
      onConfirm={async () => {
        props.onError(null);
        try {
          await api(props.path, { method: 'DELETE' });
          props.onDone();
        } catch (ex) {
          props.onError(errText(ex));
        }
      }}
    />
  );
}
