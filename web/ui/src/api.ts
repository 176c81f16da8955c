import { lang, t } from './i18n';

/** An API failure: the server's (already localised) error, its code and the field it names. */
export class ApiError extends Error {
  constructor(
    public status: number,
    public code: string,
    message: string,
    public param: string | undefined,
    public body: Record<string, unknown>,
  ) {
    super(message);
  }
}

let csrf = '';
export function setCsrf(token: string) {
  csrf = token;
}

let onUnauthorized: () => void = () => {};
export function setUnauthorizedHandler(f: () => void) {
  onUnauthorized = f;
}

/** 401 codes that are answers about the input, not "you are not logged in". */
const inputCodes = new Set(['bad_credentials', 'wrong_password', 'setup_token']);

export interface CallOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  body?: unknown;
  signal?: AbortSignal;
}

export async function api<T>(path: string, opts: CallOptions = {}): Promise<T> {
  const method = opts.method ?? 'GET';
  const headers: Record<string, string> = {
    Accept: 'application/json',
    'Accept-Language': lang.get(),
  };
  if (method !== 'GET') headers['X-CSRF-Token'] = csrf;
  let body: string | undefined;
  if (opts.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(opts.body);
  }
  let res: Response;
  try {
    res = await fetch('/api/v1' + path, {
      method,
      headers,
      body,
      signal: opts.signal,
      credentials: 'same-origin',
      cache: 'no-store',
    });
  } catch (e) {
    if (e instanceof DOMException && e.name === 'AbortError') throw e;
    throw new ApiError(0, 'network', t('err.network'), undefined, {});
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let json: Record<string, unknown> = {};
  if (text) {
    try {
      json = JSON.parse(text) as Record<string, unknown>;
    } catch {
      if (res.ok) throw new ApiError(res.status, 'bad_response', t('err.badResponse'), undefined, {});
    }
  }
  if (!res.ok) {
    const code = typeof json.code === 'string' ? json.code : String(res.status);
    const msg = typeof json.error === 'string' && json.error ? json.error : t('err.http', { status: res.status });
    const param = typeof json.param === 'string' && json.param ? json.param : undefined;
    if (res.status === 401 && !inputCodes.has(code)) onUnauthorized();
    throw new ApiError(res.status, code, msg, param, json);
  }
  return json as T;
}

export const isAbort = (e: unknown) => e instanceof DOMException && e.name === 'AbortError';

/** The message to show for any failure (ApiError text is already localised). */
export function errText(e: unknown): string {
  if (e instanceof ApiError) return e.message;
  return t('err.unexpected');
}
