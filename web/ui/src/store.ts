import { useEffect, useReducer } from 'preact/hooks';

/** A minimal observable value: the app's shared state (session, route, live data). */
export interface Store<T> {
  get(): T;
  set(v: T): void;
  update(f: (v: T) => T): void;
  sub(f: () => void): () => void;
}

export function store<T>(init: T): Store<T> {
  let v = init;
  const subs = new Set<() => void>();
  return {
    get: () => v,
    set(n: T) {
      v = n;
      for (const f of [...subs]) f();
    },
    update(f) {
      this.set(f(v));
    },
    sub(f) {
      subs.add(f);
      return () => {
        subs.delete(f);
      };
    },
  };
}

/** Re-renders the component whenever s changes; returns its value. */
export function useStore<T>(s: Store<T>): T {
  const [, force] = useReducer((x: number) => x + 1, 0);
  useEffect(() => s.sub(() => force(0)), [s]);
  return s.get();
}
