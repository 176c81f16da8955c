import { api } from './api';
import { store } from './store';
import type { Health, LogEvent, Meter } from './types';

// The live connection: EventSource('/api/v1/stream') with events meter,
// health and log. EventSource reconnects by itself after network errors;
// when the server refuses the stream (e.g. 401) it closes, and we try again
// after a pause while the session lasts.

export type StreamState = 'off' | 'connecting' | 'open' | 'down';

export interface Live {
  meter: Meter | null;
  /** Client time (ms) of the last meter update received. */
  meterAt: number;
  health: Health | null;
  stream: StreamState;
}

export const live = store<Live>({ meter: null, meterAt: 0, health: null, stream: 'off' });
export const logEvents = store<LogEvent[]>([]);

let es: EventSource | null = null;
let retry: number | undefined;
let wanted = false;

function set(p: Partial<Live>) {
  live.set({ ...live.get(), ...p });
}

export function setMeter(m: Meter) {
  set({ meter: m, meterAt: Date.now() });
}

export function setHealth(h: Health) {
  set({ health: h });
}

function parse<T>(ev: Event): T | null {
  try {
    return JSON.parse((ev as MessageEvent<string>).data) as T;
  } catch {
    return null;
  }
}

function open() {
  clearTimeout(retry);
  if (!wanted) return;
  set({ stream: 'connecting' });
  const src = new EventSource('/api/v1/stream');
  es = src;
  src.onopen = () => set({ stream: 'open' });
  src.addEventListener('meter', (ev) => {
    const m = parse<Meter>(ev);
    if (m) setMeter(m);
  });
  src.addEventListener('health', (ev) => {
    const h = parse<Health>(ev);
    if (h) setHealth(h);
  });
  src.addEventListener('log', (ev) => {
    const e = parse<LogEvent>(ev);
    if (e) logEvents.set([...logEvents.get().slice(-199), e]);
  });
  src.onerror = () => {
    if (es !== src) return;
    set({ stream: src.readyState === EventSource.CLOSED ? 'down' : 'connecting' });
    if (src.readyState === EventSource.CLOSED) {
      // Refused (not a network blip): check the session (a 401 logs out), then retry.
      es = null;
      api('/session').catch(() => {});
      retry = window.setTimeout(open, 5000);
    } else {
      set({ stream: 'down' });
    }
  };
}

/**
 * Asks for the meter and health at boot, in parallel with the session, so the
 * Now page has its first data one round trip earlier. Without a session the
 * answers are 401 and simply ignored (the session decides where to go).
 */
export let bootLoad: Promise<void> | null = null;
export function prefetchLive(lang: string): Promise<void> {
  const get = <T>(path: string, set: (v: T) => void) =>
    fetch('/api/v1' + path, { headers: { Accept: 'application/json', 'Accept-Language': lang }, credentials: 'same-origin', cache: 'no-store' })
      .then((r) => (r.ok ? (r.json() as Promise<T>) : null))
      .then((v) => {
        if (v) set(v);
      })
      .catch(() => {});
  bootLoad = Promise.all([
    get<Meter>('/meter', (m) => {
      if (!live.get().meter) setMeter(m);
    }),
    get<Health>('/health', (h) => {
      if (!live.get().health) setHealth(h);
    }),
  ]).then(() => {
    bootLoad = null;
  });
  return bootLoad;
}

/**
 * While the stream is not open (a proxy that buffers SSE, a refused stream),
 * the meter is polled every 5 s instead, so the page never freezes silently.
 */
let poll: number | undefined;
function pollWhileDown() {
  clearInterval(poll);
  poll = window.setInterval(() => {
    if (!wanted || live.get().stream === 'open') return;
    fetch('/api/v1/meter', { headers: { Accept: 'application/json' }, credentials: 'same-origin', cache: 'no-store' })
      .then((r) => (r.ok ? (r.json() as Promise<Meter>) : null))
      .then((m) => {
        if (m && live.get().stream !== 'open') setMeter(m);
      })
      .catch(() => {});
  }, 5000);
}

export function startLive() {
  if (wanted) return;
  wanted = true;
  open();
  pollWhileDown();
}

export function stopLive() {
  wanted = false;
  clearTimeout(retry);
  clearInterval(poll);
  es?.close();
  es = null;
  live.set({ meter: null, meterAt: 0, health: null, stream: 'off' });
  logEvents.set([]);
}
