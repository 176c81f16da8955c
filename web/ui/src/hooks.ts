import { useCallback, useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { ApiError, api, isAbort } from './api';
import { lang } from './i18n';

export interface Loaded<T> {
  data: T | null;
  error: ApiError | null;
  loading: boolean;
  reload: () => void;
  set: (d: T) => void;
}

/** GET path (re-fetched when path changes, or every refreshMs if given). */
export function useApi<T>(path: string | null, refreshMs = 0): Loaded<T> {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [loading, setLoading] = useState(path !== null);
  const [n, setN] = useState(0);
  const reload = useCallback(() => setN((x) => x + 1), []);
  useEffect(() => {
    if (path === null) return undefined;
    const ac = new AbortController();
    setLoading(true);
    api<T>(path, { signal: ac.signal })
      .then((d) => {
        setData(d);
        setError(null);
      })
      .catch((e) => {
        if (isAbort(e)) return;
        setError(e instanceof ApiError ? e : new ApiError(0, 'unexpected', String(e), undefined, {}));
      })
      .finally(() => {
        if (!ac.signal.aborted) setLoading(false);
      });
    let timer: number | undefined;
    if (refreshMs > 0) timer = window.setTimeout(reload, refreshMs);
    return () => {
      ac.abort();
      clearTimeout(timer);
    };
  }, [path, n, lang.get()]);
  return { data, error, loading, reload, set: setData };
}

/** Date.now(), refreshed every ms (for "3 s ago" and staleness). */
export function useNow(ms = 1000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const id = window.setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(id);
  }, [ms]);
  return now;
}

/** Calls f once, right after the first render (DOM committed, handlers wired) where ready is true. */
export function useOnce(ready: boolean, f: () => void) {
  const done = useRef(false);
  useLayoutEffect(() => {
    if (ready && !done.current) {
      done.current = true;
      f();
    }
  });
}
