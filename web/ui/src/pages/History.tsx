import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, api, isAbort } from '../api';
import { Badge, Card, Icon, LegalBadge, Notice, PageHead, SelectField } from '../components';
import * as fmt from '../fmt';
import { useApi } from '../hooks';
import { lang, t, tx } from '../i18n';
import { replaceQuery, route } from '../router';
import { useStore } from '../store';
import type { Consumption, Device, Interval, Series, SeriesPoint } from '../types';
import type { Chart, ChartConfig } from '../chart';

type Preset = 'day' | 'week' | 'month' | 'year';
type Step = 'hour' | 'day' | 'month';
const presets: Preset[] = ['day', 'week', 'month', 'year'];
const DAY = 86400000;
const presetSpan: Record<Preset, number> = { day: DAY, week: 7 * DAY, month: 30 * DAY, year: 365 * DAY };

/** Quantities of the metrology core that are counters (energy per step as bars). */
const meterCounters = ['energy_import', 'energy_export'];
const meterSeries = ['power', 'voltage_l1', 'voltage_l2', 'voltage_l3', 'current_l1', 'current_l2', 'current_l3', 'frequency', 'power_factor'];

export function isCounter(q: string, unit = ''): boolean {
  return q.startsWith('energy_') || ['Wh', 'kWh', 'varh', 'm³', 'm3', 'L', 'l'].includes(unit);
}

/** Loads the chart module once; History and Costs share it. */
let chartMod: Promise<typeof import('../chart')> | null = null;
export function loadChart() {
  chartMod ??= import('../chart');
  return chartMod;
}

// ---- axis and legend formatting (Intl, UI language) ----

export function fmtAxisTime(sec: number, incr: number): string {
  const d = new Date(sec * 1000);
  const l = lang.get();
  if (incr < DAY / 1000) {
    const midnight = d.getHours() === 0 && d.getMinutes() === 0;
    return midnight
      ? new Intl.DateTimeFormat(l, { month: 'short', day: 'numeric' }).format(d)
      : new Intl.DateTimeFormat(l, { hour: '2-digit', minute: '2-digit' }).format(d);
  }
  if (incr < 28 * DAY / 1000) return new Intl.DateTimeFormat(l, { month: 'short', day: 'numeric' }).format(d);
  if (incr < 365 * DAY / 1000) return new Intl.DateTimeFormat(l, { year: 'numeric', month: 'short' }).format(d);
  return new Intl.DateTimeFormat(l, { year: 'numeric' }).format(d);
}

export function fmtUnitValue(v: number, unit: string, range: number): string {
  if (unit === 'W' && range >= 1000) return `${fmt.num(v / 1000, 1)} kW`;
  if (unit === 'Wh' && range >= 1000) return `${fmt.num(v / 1000, 1)} kWh`;
  const digits = range >= 100 ? 0 : range >= 10 ? 1 : range >= 1 ? 2 : 3;
  return `${fmt.num(v, digits)}${unit ? ' ' + unit : ''}`;
}

// ---- ranges ----

function floorStep(ms: number, step: Step): number {
  const d = new Date(ms);
  if (step === 'hour') d.setMinutes(0, 0, 0);
  else if (step === 'day') d.setHours(0, 0, 0, 0);
  else {
    d.setDate(1);
    d.setHours(0, 0, 0, 0);
  }
  return d.getTime();
}

function addStep(ms: number, step: Step, n = 1): number {
  const d = new Date(ms);
  if (step === 'hour') d.setHours(d.getHours() + n);
  else if (step === 'day') d.setDate(d.getDate() + n);
  else d.setMonth(d.getMonth() + n);
  return d.getTime();
}

export function autoStep(span: number): Step {
  return span <= 2.5 * DAY ? 'hour' : span <= 92 * DAY ? 'day' : 'month';
}

function alignEnergy(from: number, to: number, step: Step): [number, number] {
  const a = floorStep(from, step);
  let b = floorStep(to, step);
  if (b < to) b = addStep(b, step);
  if (b <= a) b = addStep(a, step);
  return [a, b];
}

interface View {
  from: number;
  to: number;
  preset: Preset | null;
}

function viewFromQuery(q: URLSearchParams): View {
  const p = q.get('range') as Preset | null;
  const from = Date.parse(q.get('from') ?? '');
  const to = Date.parse(q.get('to') ?? '');
  if (Number.isFinite(from) && Number.isFinite(to) && to > from) return { from, to, preset: null };
  const preset = p && presets.includes(p) ? p : 'day';
  const now = Date.now();
  return { from: now - presetSpan[preset], to: now, preset };
}

// ---- data → chart arrays ----

interface Shown {
  kind: 'band' | 'bars';
  unit: string;
  legal: boolean;
  tier: string;
  points: SeriesPoint[];
  intervals: Interval[];
  xs: number[];
  data: (number | null)[][];
}

export function seriesToData(points: SeriesPoint[]): { xs: number[]; data: (number | null)[][] } {
  const xs: number[] = [];
  const max: (number | null)[] = [];
  const min: (number | null)[] = [];
  const mean: (number | null)[] = [];
  // A gap (no bucket for more than twice the usual spacing) breaks the line.
  const ts = points.map((p) => Date.parse(p.t) / 1000);
  const deltas = ts.slice(1).map((t, i) => t - (ts[i] as number)).sort((a, b) => a - b);
  const typical = deltas.length ? (deltas[Math.floor(deltas.length / 2)] as number) : 0;
  points.forEach((p, i) => {
    const x = ts[i] as number;
    if (i > 0 && typical > 0 && x - (ts[i - 1] as number) > 2.5 * typical) {
      xs.push((ts[i - 1] as number) + typical);
      max.push(null);
      min.push(null);
      mean.push(null);
    }
    xs.push(x);
    max.push(p.max);
    min.push(p.min);
    mean.push(p.mean);
  });
  return { xs, data: [max, min, mean] };
}

export function intervalsToData(iv: Interval[], scale: number): { xs: number[]; data: (number | null)[][] } {
  const xs: number[] = [];
  const measured: (number | null)[] = [];
  const estimated: (number | null)[] = [];
  for (const i of iv) {
    const a = Date.parse(i.start);
    const b = Date.parse(i.end);
    xs.push((a + b) / 2000);
    const v = i.value === null ? null : i.value / scale;
    measured.push(i.estimated ? null : v);
    estimated.push(i.estimated ? v : null);
  }
  return { xs, data: [measured, estimated] };
}

function csvCell(v: unknown): string {
  const s = v === null || v === undefined ? '' : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function downloadCsv(name: string, rows: unknown[][]) {
  const text = rows.map((r) => r.map(csvCell).join(',')).join('\r\n') + '\r\n';
  const blob = new Blob([text], { type: 'text/csv;charset=utf-8' });
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

const isoName = (ms: number) => new Date(ms).toISOString().slice(0, 16).replace(/[:]/g, '');

// ---- the page ----

export function History() {
  const r = useStore(route);
  useStore(lang);
  const q = r.query;
  const devices = useApi<{ devices: Device[] }>('/devices');
  const deviceList = devices.data?.devices ?? [];
  const device = q.get('device') ?? 'meter';
  const dev = deviceList.find((d) => d.id === device);

  // Quantities: the meter's known ones (those it has, when /devices says), else the device's own.
  const quantities: string[] = (() => {
    if (device === 'meter') {
      const have = new Set((dev?.values ?? []).map((v) => v.quantity));
      const list = [...meterSeries, ...meterCounters];
      return have.size ? list.filter((x) => have.has(x) || x === 'power' || meterCounters.includes(x)) : list;
    }
    return (dev?.values ?? []).map((v) => v.quantity);
  })();
  const quantity = q.get('quantity') ?? (device === 'meter' ? 'power' : quantities[0] ?? 'power');
  const unitHint = dev?.values?.find((v) => v.quantity === quantity)?.unit ?? '';
  const counter = isCounter(quantity, unitHint);
  const stepSel = (q.get('step') as Step | 'auto' | null) ?? 'auto';

  const [view, setView] = useState<View>(() => viewFromQuery(q));
  const step: Step = stepSel === 'auto' ? autoStep(view.to - view.from) : stepSel;

  const [shown, setShown] = useState<Shown | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const boxRef = useRef<HTMLDivElement>(null);
  const chartRef = useRef<Chart | null>(null);
  const reqRef = useRef<AbortController | null>(null);
  const pendingStart = useRef<number | null>(null);
  /** Wheel zooming comes in bursts: the chart rescales at once, the query waits for a pause. */
  const debounce = useRef(0);
  const viewRef = useRef(view);
  viewRef.current = view;

  const setQuery = (changes: Record<string, string | null>) => {
    const nq = new URLSearchParams(route.get().query);
    for (const [k, v] of Object.entries(changes)) {
      if (v === null) nq.delete(k);
      else nq.set(k, v);
    }
    replaceQuery(nq);
  };

  const changeView = (v: View) => {
    // Clamp to the present; keep at least a minute visible.
    const now = Date.now();
    let { from, to } = v;
    if (to - from < 60000) {
      const mid = (from + to) / 2;
      from = mid - 30000;
      to = mid + 30000;
    }
    if (to > now + 60000) {
      from -= to - now;
      to = now;
    }
    const nv = { from, to, preset: v.preset };
    setView(nv);
    chartRef.current?.setRange(from, to);
    setQuery(v.preset ? { range: v.preset, from: null, to: null } : { range: null, from: new Date(from).toISOString(), to: new Date(to).toISOString() });
  };

  const chartWidth = () => Math.max(280, Math.floor(boxRef.current?.clientWidth ?? 800));
  const chartHeight = () => (window.innerWidth < 600 ? 240 : 320);

  // Fetch what the view shows; the previous data stays drawn until the new arrives.
  useEffect(() => {
    reqRef.current?.abort();
    const ac = new AbortController();
    reqRef.current = ac;
    const delay = debounce.current;
    debounce.current = 0;
    const timer = window.setTimeout(() => query(ac), delay);
    return () => {
      clearTimeout(timer);
      ac.abort();
    };
  }, [device, quantity, view.from, view.to, step, counter]);

  const query = (ac: AbortController) => {
    const start = performance.now();
    performance.mark('gwd:chart-request');
    setLoading(true);
    setError(null);
    const modP = loadChart();
    let path: string;
    let from = view.from;
    let to = view.to;
    if (counter) {
      [from, to] = alignEnergy(view.from, view.to, step);
      path = `/consumption?device=${encodeURIComponent(device)}&quantity=${encodeURIComponent(quantity)}&from=${encodeURIComponent(new Date(from).toISOString())}&to=${encodeURIComponent(new Date(to).toISOString())}&step=${step}`;
    } else {
      const points = Math.min(10000, Math.max(50, chartWidth() - 70));
      path = `/series?device=${encodeURIComponent(device)}&quantity=${encodeURIComponent(quantity)}&from=${encodeURIComponent(new Date(from).toISOString())}&to=${encodeURIComponent(new Date(to).toISOString())}&points=${points}`;
    }
    const dataP = counter ? api<Consumption>(path, { signal: ac.signal }) : api<Series>(path, { signal: ac.signal });
    Promise.all([dataP, modP])
      .then(([res, mod]) => {
        if (ac.signal.aborted) return;
        let next: Shown;
        if (counter) {
          const c = res as Consumption;
          const iv = c.intervals ?? [];
          const scale = c.unit === 'Wh' ? 1000 : 1;
          const { xs, data } = intervalsToData(iv, scale);
          next = { kind: 'bars', unit: c.unit === 'Wh' ? 'kWh' : c.unit, legal: dev?.legal ?? device === 'meter', tier: '', points: [], intervals: iv, xs, data };
        } else {
          const s = res as Series;
          const pts = s.points ?? [];
          const { xs, data } = seriesToData(pts);
          next = { kind: 'band', unit: s.unit, legal: s.legal, tier: s.tier, points: pts, intervals: [], xs, data };
        }
        pendingStart.current = start;
        drawChart(mod, next, from, to);
        setShown(next);
        setLoading(false);
      })
      .catch((e) => {
        if (isAbort(e) || ac.signal.aborted) return;
        setLoading(false);
        setError(e instanceof ApiError ? e : new ApiError(0, 'unexpected', String(e), undefined, {}));
      });
  };

  const drawChart = (mod: typeof import('../chart'), s: Shown, from: number, to: number) => {
    const box = boxRef.current;
    if (!box) return;
    const data = [s.xs, ...s.data] as [number[], ...(number | null)[][]];
    const cur = chartRef.current;
    const kindKey = `${s.kind}:${s.unit}:${lang.get()}`;
    if (cur && box.dataset.kind === kindKey) {
      cur.setData(data, from, to);
      return;
    }
    cur?.destroy();
    box.textContent = '';
    box.dataset.kind = kindKey;
    const unit = s.unit;
    const cfg: ChartConfig = {
      kind: s.kind,
      width: chartWidth(),
      height: chartHeight(),
      labels: s.kind === 'band' ? [t('hist.max'), t('hist.min'), t('hist.mean')] : [t('hist.measured'), t('hist.estimated')],
      fmtX: fmtAxisTime,
      fmtLegendX: (sec) => fmt.dateTime(sec * 1000),
      fmtY: (v, range) => fmtUnitValue(v, unit, range),
      fmtLegendY: (v) => (v === null ? '–' : `${fmt.num(v, unit === 'kWh' ? 3 : 2)} ${unit}`),
      ariaLabel: t('hist.chartLabel', { q: fmt.quantityName(quantity) }),
      xLabel: t('hist.time'),
      onDraw: () => {
        const mk = performance.mark('gwd:chart-drawn');
        if (pendingStart.current !== null) {
          performance.measure('gwd:chart', { start: pendingStart.current, end: mk.startTime });
          pendingStart.current = null;
        }
        box.dataset.drawn = String(Number(box.dataset.drawn ?? 0) + 1);
      },
      onZoom: (a, b, source) => {
        debounce.current = source === 'wheel' ? 150 : 0;
        changeView({ from: a, to: b, preset: null });
      },
    };
    chartRef.current = new mod.Chart(box, cfg, data, [from / 1000, to / 1000]);
  };

  // Resize with the container.
  useEffect(() => {
    const box = boxRef.current;
    if (!box || typeof ResizeObserver === 'undefined') return undefined;
    const ro = new ResizeObserver(() => chartRef.current?.resize(chartWidth(), chartHeight()));
    ro.observe(box);
    return () => ro.disconnect();
  }, []);

  useEffect(
    () => () => {
      reqRef.current?.abort();
      chartRef.current?.destroy();
      chartRef.current = null;
    },
    [],
  );

  // Relabel on a language switch: rebuild the chart with the same data.
  useEffect(() => {
    if (shown && chartRef.current) {
      void loadChart().then((mod) => drawChart(mod, shown, view.from, view.to));
    }
  }, [lang.get()]);

  const span = view.to - view.from;
  const pan = (f: number) => changeView({ from: view.from + span * f, to: view.to + span * f, preset: null });
  const zoom = (k: number) => {
    const mid = (view.from + view.to) / 2;
    changeView({ from: mid - (span * k) / 2, to: mid + (span * k) / 2, preset: null });
  };
  const preset = (p: Preset) => {
    const now = Date.now();
    changeView({ from: now - presetSpan[p], to: now, preset: p });
  };

  // What is shown: the points inside the visible range.
  const visPoints = (shown?.points ?? []).filter((p) => {
    const x = Date.parse(p.t);
    return x >= view.from && x < view.to;
  });
  const visIntervals = (shown?.intervals ?? []).filter((i) => Date.parse(i.end) > view.from && Date.parse(i.start) < view.to);
  const shownCount = shown ? (shown.kind === 'band' ? visPoints.length : visIntervals.length) : 0;

  const exportCsv = () => {
    if (!shown) return;
    const name = `gatewayd-${device}-${quantity}-${isoName(view.from)}-${isoName(view.to)}.csv`;
    if (shown.kind === 'band') {
      downloadCsv(name, [
        ['time', 'device', 'quantity', 'unit', 'tier', 'legal', 'min', 'max', 'mean', 'first', 'last', 'n'],
        ...visPoints.map((p) => [p.t, device, quantity, shown.unit, shown.tier, shown.legal, p.min, p.max, p.mean, p.first, p.last, p.n]),
      ]);
    } else {
      downloadCsv(name, [
        ['start', 'end', 'device', 'quantity', 'unit', 'value', 'estimated', 'missing', 'notes'],
        ...visIntervals.map((i) => [i.start, i.end, device, quantity, 'Wh', i.value, i.estimated, i.missing, (i.notes ?? []).join(' ')]),
      ]);
    }
  };

  const hasGasWater = deviceList.some((d) => d.kind === 'gas' || d.kind === 'water');
  const deviceOptions = (deviceList.length ? deviceList : [{ id: 'meter', name: t('dev.meterName') } as Device]).map((d) => ({ value: d.id, label: fmt.deviceName(d) }));

  // Summary of the visible data.
  let summary = null;
  if (shown && shown.kind === 'band' && visPoints.length) {
    let mn = Infinity;
    let mx = -Infinity;
    let sum = 0;
    let n = 0;
    for (const p of visPoints) {
      mn = Math.min(mn, p.min);
      mx = Math.max(mx, p.max);
      sum += p.mean * (p.n || 1);
      n += p.n || 1;
    }
    const r = Math.max(Math.abs(mn), Math.abs(mx));
    summary = (
      <dl class="kv kv-inline" id="hist-summary">
        <div><dt>{t('hist.min')}</dt><dd>{fmtUnitValue(mn, shown.unit, r)}</dd></div>
        <div><dt>{t('hist.mean')}</dt><dd>{fmtUnitValue(sum / n, shown.unit, r)}</dd></div>
        <div><dt>{t('hist.max')}</dt><dd>{fmtUnitValue(mx, shown.unit, r)}</dd></div>
      </dl>
    );
  } else if (shown && shown.kind === 'bars' && visIntervals.length) {
    const total = visIntervals.reduce((a, i) => a + (i.value ?? 0), 0) / 1000;
    const est = visIntervals.filter((i) => i.estimated).length;
    // The interval still running has no end reading yet: in progress, not missing.
    const miss = visIntervals.filter((i) => (i.missing || i.value === null) && Date.parse(i.end) <= Date.now()).length;
    summary = (
      <dl class="kv kv-inline" id="hist-summary">
        <div><dt>{t('hist.total')}</dt><dd>{fmt.kwh(total, 2)} kWh</dd></div>
        <div><dt>{t('hist.estimatedN')}</dt><dd>{est}</dd></div>
        <div><dt>{t('hist.missingN')}</dt><dd>{miss}</dd></div>
      </dl>
    );
  }

  return (
    <div class="page page-history">
      <PageHead title={t('hist.title')} />
      <Card class="card-wide controls-card">
        <div class="controls">
          <SelectField id="hist-device" label={t('hist.device')} value={device} options={deviceOptions} onChange={(v) => setQuery({ device: v, quantity: null })} />
          <SelectField
            id="hist-quantity"
            label={t('hist.quantity')}
            value={quantity}
            options={quantities.map((x) => ({ value: x, label: fmt.quantityName(x) }))}
            onChange={(v) => setQuery({ quantity: v })}
          />
          {counter && (
            <SelectField
              id="hist-step"
              label={t('hist.step')}
              value={stepSel}
              options={[
                { value: 'auto', label: t('hist.stepAuto', { step: t(`hist.step_${autoStep(span)}`) }) },
                { value: 'hour', label: t('hist.step_hour') },
                { value: 'day', label: t('hist.step_day') },
                { value: 'month', label: t('hist.step_month') },
              ]}
              onChange={(v) => setQuery({ step: v === 'auto' ? null : v })}
              error={error?.param === 'step' ? error.message : undefined}
            />
          )}
        </div>
        {!hasGasWater && devices.data && (
          <p class="muted small" id="no-gas-water">
            {t('hist.noGasWater')}
          </p>
        )}
        <div class="range-bar">
          <div class="seg" role="group" aria-label={t('hist.range')}>
            {presets.map((p) => (
              <button type="button" key={p} class={`seg-btn ${view.preset === p ? 'active' : ''}`} aria-pressed={view.preset === p} onClick={() => preset(p)} data-range={p}>
                {t(`hist.preset_${p}`)}
              </button>
            ))}
          </div>
          <div class="seg" role="group" aria-label={t('hist.navigate')}>
            <button type="button" class="seg-btn" onClick={() => pan(-0.5)} aria-label={t('hist.panLeft')} title={t('hist.panLeft')} id="pan-left">
              <Icon name="left" size={18} />
            </button>
            <button type="button" class="seg-btn" onClick={() => zoom(0.5)} aria-label={t('hist.zoomIn')} title={t('hist.zoomIn')} id="zoom-in">
              <Icon name="plus" size={18} />
            </button>
            <button type="button" class="seg-btn" onClick={() => zoom(2)} aria-label={t('hist.zoomOut')} title={t('hist.zoomOut')} id="zoom-out">
              <Icon name="minus" size={18} />
            </button>
            <button type="button" class="seg-btn" onClick={() => pan(0.5)} aria-label={t('hist.panRight')} title={t('hist.panRight')} id="pan-right">
              <Icon name="right" size={18} />
            </button>
          </div>
        </div>
        <p class="range-text" aria-live="polite">
          <time dateTime={new Date(view.from).toISOString()}>{fmt.dateTime(view.from)}</time> – <time dateTime={new Date(view.to).toISOString()}>{fmt.dateTime(view.to)}</time>
          {loading && (
            <span class="loading-inline" role="status">
              <span class="spinner" aria-hidden="true" /> {t('common.loading')}
            </span>
          )}
        </p>
      </Card>

      <Card
        class="card-wide"
        id="hist-chart-card"
        title={fmt.quantityName(quantity)}
        actions={
          <>
            {shown && <LegalBadge legal={shown.legal} long />}
            {shown?.tier && <Badge kind="muted">{tx(`tier.${shown.tier}`, shown.tier)}</Badge>}
            <button type="button" class="btn btn-secondary btn-small" onClick={exportCsv} disabled={!shown || shownCount === 0} id="csv-export">
              <Icon name="download" size={16} /> {t('hist.csv')}
            </button>
          </>
        }
      >
        {error &&
          (error.code === 'unknown_series' && dev ? (
            <p class="muted" id="hist-no-history">
              {t('hist.noHistoryYet')}
            </p>
          ) : (
            <Notice kind="bad" role="alert">
              {error.message}
            </Notice>
          ))}
        <div class="chart" ref={boxRef} id="hist-chart" data-points={shownCount} data-kind={shown?.kind ?? ''} />
        {shown && shownCount === 0 && !loading && <p class="muted" id="hist-empty">{t('hist.empty')}</p>}
        {summary}
        <p class="note" id="hist-legend-note">
          {[shown?.kind === 'bars' ? t('hist.noteBars') : t('hist.noteBand'), shown?.legal ? t('hist.noteLegal') : t('hist.noteDerived'), t('hist.noteZoom')].join(lang.get() === 'zh-CN' ? '' : ' ')}
        </p>
        {shown?.kind === 'bars' && visIntervals.some((i) => i.estimated || i.missing || (i.notes ?? []).length) && (
          <details class="more" id="hist-flags">
            <summary>{t('hist.flagged')}</summary>
            <ul class="plain small">
              {visIntervals
                .filter((i) => i.estimated || i.missing || (i.notes ?? []).length)
                .slice(0, 100)
                .map((i) => (
                  <li key={i.start}>
                    {fmt.dateTime(i.start)}: {Date.parse(i.end) > Date.now() ? t('hist.inProgress') : i.missing ? t('hist.missing') : i.estimated ? t('hist.estimated') : ''} {(i.notes ?? []).map((n) => tx(`note.${n.replace(/ /g, '_')}`, n)).join(', ')}
                  </li>
                ))}
            </ul>
          </details>
        )}
      </Card>
    </div>
  );
}
