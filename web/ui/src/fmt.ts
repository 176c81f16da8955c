import { lang, t, tx } from './i18n';

// Number and date formatting through Intl, in the UI language. Formatters are
// cached per language and option set.
const cache = new Map<string, Intl.NumberFormat | Intl.DateTimeFormat | Intl.RelativeTimeFormat>();

function nf(opts: Intl.NumberFormatOptions): Intl.NumberFormat {
  const k = 'n' + lang.get() + JSON.stringify(opts);
  let f = cache.get(k) as Intl.NumberFormat | undefined;
  if (!f) cache.set(k, (f = new Intl.NumberFormat(lang.get(), opts)));
  return f;
}

function df(opts: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const k = 'd' + lang.get() + JSON.stringify(opts);
  let f = cache.get(k) as Intl.DateTimeFormat | undefined;
  if (!f) cache.set(k, (f = new Intl.DateTimeFormat(lang.get(), opts)));
  return f;
}

export function num(v: number | null | undefined, digits = 1, minDigits = 0): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  return nf({ maximumFractionDigits: digits, minimumFractionDigits: Math.min(minDigits, digits) }).format(v);
}

/** A power in W as "850 W" or "1.23 kW" (absolute value; the sign is said in words). */
export function power(w: number | null | undefined): { value: string; unit: string } {
  if (w === null || w === undefined || !Number.isFinite(w)) return { value: '–', unit: 'W' };
  const a = Math.abs(w);
  if (a >= 1000) return { value: num(a / 1000, 2, 2), unit: 'kW' };
  return { value: num(a, 0), unit: 'W' };
}

export function kwh(v: number | null | undefined, digits = 2): string {
  return num(v, digits, digits);
}

export function money(v: number | null | undefined, currency: string): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  try {
    return nf({ style: 'currency', currency, minimumFractionDigits: 2, maximumFractionDigits: 2 }).format(v);
  } catch {
    return `${num(v, 2, 2)} ${currency}`;
  }
}

/** A price per kWh: up to 4 decimals. */
export function price(v: number | null | undefined, currency: string): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  try {
    return nf({ style: 'currency', currency, minimumFractionDigits: 2, maximumFractionDigits: 4 }).format(v);
  } catch {
    return `${num(v, 4)} ${currency}`;
  }
}

export function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${num(n, i ? 1 : 0)} ${units[i]}`;
}

const toDate = (v: string | number | Date) => (v instanceof Date ? v : new Date(v));

export const time = (v: string | number | Date, seconds = true) =>
  df({ hour: '2-digit', minute: '2-digit', ...(seconds ? { second: '2-digit' } : {}) }).format(toDate(v));
export const date = (v: string | number | Date) =>
  df({ year: 'numeric', month: 'short', day: 'numeric' }).format(toDate(v));
export const dateTime = (v: string | number | Date) =>
  df({ year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' }).format(toDate(v));
export const dayLabel = (v: string | number | Date) =>
  df({ month: 'short', day: 'numeric', weekday: 'short' }).format(toDate(v));
export const monthLabel = (v: string | number | Date) =>
  df({ year: 'numeric', month: 'long' }).format(toDate(v));
export const yearLabel = (v: string | number | Date) => df({ year: 'numeric' }).format(toDate(v));

/** "3 s ago" style, relative to now (ms). */
export function ago(v: string | number | Date | null | undefined, now = Date.now()): string {
  if (v === null || v === undefined) return t('common.never');
  // Clocks of gateway and browser may differ by a little: never "in 1 s".
  const s = Math.max(0, Math.round((now - toDate(v).getTime()) / 1000));
  const k = 'r' + lang.get();
  let f = cache.get(k) as Intl.RelativeTimeFormat | undefined;
  if (!f) cache.set(k, (f = new Intl.RelativeTimeFormat(lang.get(), { numeric: 'auto', style: 'short' })));
  const abs = Math.abs(s);
  if (abs < 60) return f.format(-s, 'second');
  if (abs < 3600) return f.format(-Math.round(s / 60), 'minute');
  if (abs < 86400) return f.format(-Math.round(s / 3600), 'hour');
  return f.format(-Math.round(s / 86400), 'day');
}

/** A duration in seconds as "1 h 5 min". */
export function duration(sec: number): string {
  sec = Math.max(0, Math.round(sec));
  const h = Math.floor(sec / 3600);
  const m = Math.floor((sec % 3600) / 60);
  const s = sec % 60;
  const parts: string[] = [];
  if (h) parts.push(t('unit.h', { n: h }));
  if (m) parts.push(t('unit.min', { n: m }));
  if (s && !h) parts.push(t('unit.s', { n: s }));
  return parts.join(' ') || t('unit.s', { n: 0 });
}

/** The household name of a quantity: power, energy_import, voltage_l1, ... */
export function quantityName(q: string): string {
  const m = /^(voltage|current|power)_l([123])$/.exec(q);
  if (m) return t(`q.${m[1]}_phase` as 'q.voltage_phase', { n: m[2] as string });
  const mp = /^(.+)_l([123])$/.exec(q);
  if (mp) return `${quantityName(mp[1] as string)} L${mp[2]}`;
  const mt = /^energy_(import|export)_t([1-4])$/.exec(q);
  if (mt) return t(`q.energy_${mt[1]}_tariff` as 'q.energy_import_tariff', { band: bandName(tariffBands[Number(mt[2]) - 1] as string) });
  return tx('q.' + q, q);
}

/** The server names the metrology core in English; say it in the UI language. */
export function deviceName(d: { id: string; name: string }): string {
  return d.id === 'meter' && d.name === 'Electricity meter' ? t('dev.meterName') : d.name;
}

export const tariffBands = ['sharp', 'peak', 'flat', 'valley'];
export const bandName = (b: string) => tx('band.' + b, b);
