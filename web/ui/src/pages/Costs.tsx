import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, api, isAbort } from '../api';
import { Card, Icon, LegalBadge, Loading, Notice, PageHead } from '../components';
import * as fmt from '../fmt';
import { useApi } from '../hooks';
import { lang, t } from '../i18n';
import { useStore } from '../store';
import type { Consumption, Costs as CostsT, Device, Interval, TariffDoc } from '../types';
import type { Chart } from '../chart';
import { downloadCsv, fmtAxisTime, intervalsToData, loadChart } from './History';

type Mode = 'day' | 'month';

// Days and months of costs are the tariff's local ones (its timezone), which
// need not be the browser's: ranges and labels are computed in that zone.

/** The offset (ms) of zone tz from UTC at the instant utcMs; 0 for no zone. */
export function tzOffset(utcMs: number, tz: string | undefined): number {
  if (!tz) return -new Date(utcMs).getTimezoneOffset() * 60000;
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: tz,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(new Date(utcMs));
  const g = (t: string) => Number(parts.find((p) => p.type === t)?.value ?? 0);
  return Date.UTC(g('year'), g('month') - 1, g('day'), g('hour') % 24, g('minute'), g('second')) - (utcMs - (utcMs % 1000));
}

/** The instant of local midnight y-m-d (m 0-based, may overflow) in zone tz. */
export function zonedMidnight(y: number, m: number, d: number, tz: string | undefined): number {
  const guess = Date.UTC(y, m, d);
  let t = guess - tzOffset(guess, tz);
  const off2 = tzOffset(t, tz);
  if (guess - off2 !== t) t = guess - off2;
  return t;
}

/** Year and 0-based month of an instant in zone tz. */
function zonedYM(ms: number, tz: string | undefined): { y: number; m: number } {
  const d = new Date(ms + tzOffset(ms, tz));
  return { y: d.getUTCFullYear(), m: d.getUTCMonth() };
}

function periodRange(mode: Mode, a: { y: number; m: number }, tz: string | undefined): [Date, Date] {
  if (mode === 'day') return [new Date(zonedMidnight(a.y, a.m, 1, tz)), new Date(zonedMidnight(a.y, a.m + 1, 1, tz))];
  return [new Date(zonedMidnight(a.y, 0, 1, tz)), new Date(zonedMidnight(a.y + 1, 0, 1, tz))];
}

interface DeviceCost {
  d: Device;
  kwh: number;
  cost: number;
}

/** What each appliance with its own meter cost in the period, priced like the household's import. */
function ByDevice(props: { from: Date; to: Date; mode: Mode; currency: string; household: number; inPeriod: (s: string, e: string) => boolean }) {
  const [rows, setRows] = useState<DeviceCost[] | null>(null);
  useEffect(() => {
    const ac = new AbortController();
    const q = `from=${encodeURIComponent(props.from.toISOString())}&to=${encodeURIComponent(props.to.toISOString())}&step=${props.mode}`;
    (async () => {
      const { devices } = await api<{ devices: Device[] }>('/devices', { signal: ac.signal });
      const metered = devices.filter((d) => d.capabilities?.includes('meter'));
      const out = await Promise.all(
        metered.map(async (d): Promise<DeviceCost | null> => {
          try {
            const c = await api<CostsT>(`/costs?${q}&device=${encodeURIComponent(d.id)}`, { signal: ac.signal });
            const steps = (c.steps ?? []).filter((s) => props.inPeriod(s.start, s.end));
            return { d, kwh: steps.reduce((a, s) => a + s.import_kwh, 0), cost: steps.reduce((a, s) => a + s.total, 0) };
          } catch (e) {
            if (e instanceof ApiError && e.code === 'no_data') return null; // no history yet
            throw e;
          }
        }),
      );
      setRows(out.filter((r): r is DeviceCost => r !== null).sort((a, b) => b.cost - a.cost));
    })().catch((e) => {
      if (!isAbort(e)) setRows([]);
    });
    return () => ac.abort();
  }, [props.from.getTime(), props.to.getTime(), props.mode]);
  if (rows === null || rows.length === 0) return null;
  const cur = props.currency;
  return (
    <Card title={t('costs.byDevice')} class="card-wide" id="costs-devices">
      <div class="table-wrap">
        <table class="table" id="costs-devices-table">
          <caption class="sr-only">{t('costs.byDevice')}</caption>
          <thead>
            <tr>
              <th scope="col">{t('costs.device')}</th>
              <th scope="col" class="num">kWh</th>
              <th scope="col" class="num">{t('costs.deviceCost')}</th>
              <th scope="col" class="num">{t('costs.share')}</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.d.id} data-device={r.d.id}>
                <th scope="row">{fmt.deviceName(r.d)}</th>
                <td class="num">{fmt.kwh(r.kwh)}</td>
                <td class="num strong">{fmt.money(r.cost, cur)}</td>
                <td class="num">{props.household > 0 ? `${fmt.num((100 * r.cost) / props.household, 0)} %` : '–'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <p class="note">{t('costs.byDeviceNote')}</p>
    </Card>
  );
}

interface Data {
  costs: CostsT | null;
  noTariff: boolean;
  imp: Interval[];
  exp: Interval[];
}

function BarChart(props: { xs: number[]; ys: (number | null)[]; est?: (number | null)[]; unit: string; label: string; range: [number, number]; fmtV: (v: number) => string }) {
  const box = useRef<HTMLDivElement>(null);
  const chart = useRef<Chart | null>(null);
  useStore(lang);
  useEffect(() => {
    let dead = false;
    void loadChart().then((mod) => {
      const el = box.current;
      if (dead || !el) return;
      chart.current?.destroy();
      el.textContent = '';
      chart.current = new mod.Chart(
        el,
        {
          kind: 'bars',
          width: Math.max(280, el.clientWidth),
          height: window.innerWidth < 600 ? 200 : 260,
          labels: props.est ? [props.label, t('hist.estimated')] : [props.label],
          fmtX: fmtAxisTime,
          fmtLegendX: (s) => fmt.date(s * 1000),
          fmtY: (v) => props.fmtV(v),
          fmtLegendY: (v) => (v === null ? '–' : props.fmtV(v)),
          ariaLabel: props.label,
          xLabel: t('hist.time'),
          onDraw: () => performance.mark('gwd:chart-drawn'),
        },
        props.est ? [props.xs, props.ys, props.est] : [props.xs, props.ys],
        [props.range[0] / 1000, props.range[1] / 1000],
      );
    });
    return () => {
      dead = true;
    };
  }, [JSON.stringify([props.xs, props.ys, props.est, props.range]), lang.get()]);
  useEffect(() => {
    const el = box.current;
    if (!el || typeof ResizeObserver === 'undefined') return undefined;
    const ro = new ResizeObserver(() => chart.current?.resize(el.clientWidth, window.innerWidth < 600 ? 200 : 260));
    ro.observe(el);
    return () => {
      ro.disconnect();
      chart.current?.destroy();
      chart.current = null;
    };
  }, []);
  return <div class="chart" ref={box} id="costs-chart" data-points={props.xs.length} />;
}

export function Costs() {
  useStore(lang);
  const [mode, setMode] = useState<Mode>('day');
  const tariff = useApi<TariffDoc>('/tariff');
  const tz = tariff.data?.configured ? tariff.data.timezone : undefined;
  const [anchor, setAnchor] = useState<{ y: number; m: number } | null>(null);
  const cur = anchor ?? zonedYM(Date.now(), tz);
  const [data, setData] = useState<Data | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [loading, setLoading] = useState(true);
  const [from, to] = periodRange(mode, cur, tz);
  const ready = tariff.data !== null || tariff.error !== null;

  useEffect(() => {
    if (!ready) return undefined;
    const ac = new AbortController();
    const q = `from=${encodeURIComponent(from.toISOString())}&to=${encodeURIComponent(to.toISOString())}&step=${mode}`;
    setLoading(true);
    setError(null);
    (async () => {
      try {
        const costs = await api<CostsT>(`/costs?${q}`, { signal: ac.signal });
        setData({ costs, noTariff: false, imp: [], exp: [] });
      } catch (e) {
        if (isAbort(e)) return;
        if (!(e instanceof ApiError) || e.code !== 'no_tariff') throw e;
        const [imp, exp] = await Promise.all([
          api<Consumption>(`/consumption?device=meter&quantity=energy_import&${q}`, { signal: ac.signal }),
          api<Consumption>(`/consumption?device=meter&quantity=energy_export&${q}`, { signal: ac.signal }).catch(() => ({ unit: 'Wh', intervals: [] }) as Consumption),
        ]);
        setData({ costs: null, noTariff: true, imp: imp.intervals ?? [], exp: exp.intervals ?? [] });
      }
    })()
      .catch((e) => {
        if (!isAbort(e)) setError(e instanceof ApiError ? e : new ApiError(0, 'unexpected', String(e), undefined, {}));
      })
      .finally(() => {
        if (!ac.signal.aborted) setLoading(false);
      });
    return () => ac.abort();
  }, [mode, from.getTime(), to.getTime(), ready]);

  const move = (n: number) => {
    if (mode === 'day') {
      const d = new Date(Date.UTC(cur.y, cur.m + n, 1));
      setAnchor({ y: d.getUTCFullYear(), m: d.getUTCMonth() });
    } else setAnchor({ y: cur.y + n, m: 0 });
  };
  // Labels in the tariff's zone (a step starts at its local midnight).
  const inTz = (opts: Intl.DateTimeFormatOptions) => new Intl.DateTimeFormat(lang.get(), { ...opts, timeZone: tz });
  const periodLabel = mode === 'day' ? inTz({ year: 'numeric', month: 'long' }).format(from) : inTz({ year: 'numeric' }).format(from);
  const stepLabel = (s: string) =>
    mode === 'day' ? inTz({ month: 'numeric', day: 'numeric', weekday: 'short' }).format(new Date(s)) : inTz({ year: 'numeric', month: 'long' }).format(new Date(s));
  const now = Date.now();
  const isCurrent = now >= from.getTime() && now < to.getTime();
  // Steps of the chosen period that have begun (the server may add a partial one at an edge).
  const inPeriod = (start: string, end: string) => {
    const mid = (Date.parse(start) + Date.parse(end)) / 2;
    return mid >= from.getTime() && mid < to.getTime() && Date.parse(start) <= now;
  };

  let body = null;
  if (data?.noTariff) {
    const imp = data.imp.filter((i) => inPeriod(i.start, i.end));
    const { xs, data: arr } = intervalsToData(imp, 1000);
    const total = imp.reduce((a, i) => a + (i.value ?? 0), 0) / 1000;
    const totalExp = data.exp.filter((i) => inPeriod(i.start, i.end)).reduce((a, i) => a + (i.value ?? 0), 0) / 1000;
    const expBy = new Map(data.exp.map((i) => [i.start, i]));
    body = (
      <>
        <Notice kind="warn" id="no-tariff-notice" role="status">
          <strong>{t('costs.noTariffTitle')}</strong> {t('costs.noTariffBody')}{' '}
          <a href="#/settings?section=tariff">{t('costs.configure')}</a>
        </Notice>
        <Card title={t('costs.energyTitle', { period: periodLabel })} class="card-wide" id="costs-energy" actions={<LegalBadge legal />}>
          <BarChart xs={xs} ys={arr[0] ?? []} est={arr[1] ?? []} unit="kWh" label={t('costs.import')} range={[from.getTime(), to.getTime()]} fmtV={(v) => `${fmt.num(v, 1)} kWh`} />
          <dl class="kv kv-inline">
            <div><dt>{t('costs.import')}</dt><dd id="energy-total">{fmt.kwh(total)} kWh</dd></div>
            <div><dt>{t('costs.export')}</dt><dd>{fmt.kwh(totalExp)} kWh</dd></div>
          </dl>
          <div class="table-wrap">
            <table class="table">
              <caption class="sr-only">{t('costs.energyTitle', { period: periodLabel })}</caption>
              <thead>
                <tr>
                  <th scope="col">{mode === 'day' ? t('costs.day') : t('costs.month')}</th>
                  <th scope="col" class="num">{t('costs.import')} (kWh)</th>
                  <th scope="col" class="num">{t('costs.export')} (kWh)</th>
                </tr>
              </thead>
              <tbody>
                {imp.map((i) => (
                  <tr key={i.start} class={i.estimated ? 'est' : ''}>
                    <th scope="row">
                      {stepLabel(i.start)}
                      {i.estimated && <span class="muted small"> · {t('hist.estimated')}</span>}
                    </th>
                    <td class="num">{i.value === null ? (Date.parse(i.end) > Date.now() ? <span class="muted small">{t('hist.inProgress')}</span> : '–') : fmt.kwh(i.value / 1000)}</td>
                    <td class="num">{fmt.kwh((expBy.get(i.start)?.value ?? null) === null ? null : (expBy.get(i.start)?.value as number) / 1000)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </Card>
      </>
    );
  } else if (data?.costs) {
    const c = data.costs;
    const steps = (c.steps ?? []).filter((s) => inPeriod(s.start, s.end));
    const bandNames = [...new Set(steps.flatMap((s) => (s.bands ?? []).map((b) => b.band)))];
    const sum = (f: (s: (typeof steps)[number]) => number) => steps.reduce((a, s) => a + (f(s) || 0), 0);
    const xs = steps.map((s) => (Date.parse(s.start) + Date.parse(s.end)) / 2000);
    const ys = steps.map((s) => s.total);
    const tier = c.tier;
    body = (
      <>
        {tier && (
          <Card title={t('costs.tier')} id="costs-tier">
            <p>
              {t('costs.tierText', {
                step: tier.step + 1,
                kwh: fmt.kwh(tier.consumed_kwh, 0),
                period: t(tier.period === 'annual' ? 'costs.periodAnnual' : tier.period === 'monthly' ? 'costs.periodMonthly' : 'costs.periodOther'),
                since: inTz({ year: 'numeric', month: 'short', day: 'numeric' }).format(new Date(tier.start)),
              })}
            </p>
            {tier.next_step_kwh !== null ? (
              <>
                <progress max={tier.next_step_kwh} value={Math.min(tier.consumed_kwh, tier.next_step_kwh)} aria-label={t('costs.tierProgress')} />
                <p class="muted small">{t('costs.tierNext', { kwh: fmt.kwh(tier.next_step_kwh, 0), left: fmt.kwh(Math.max(0, tier.next_step_kwh - tier.consumed_kwh), 0) })}</p>
              </>
            ) : (
              <p class="muted small">{t('costs.tierTop')}</p>
            )}
          </Card>
        )}
        <Card
          title={t('costs.costTitle', { period: periodLabel })}
          class="card-wide"
          id="costs-table-card"
          actions={
            <button
              type="button"
              class="btn btn-secondary btn-small"
              onClick={() =>
                downloadCsv(`gatewayd-costs-${mode}-${from.toISOString().slice(0, 10)}.csv`, [
                  ['start', 'end', 'currency', 'import_kwh', 'export_kwh', 'import_cost', 'export_credit', 'fixed', 'total', ...bandNames.flatMap((b) => [`${b}_kwh`, `${b}_cost`])],
                  ...steps.map((s) => [s.start, s.end, c.currency, s.import_kwh, s.export_kwh, s.import_cost, s.export_credit, s.fixed, s.total, ...bandNames.flatMap((b) => { const x = s.bands?.find((y) => y.band === b); return [x?.kwh ?? '', x?.cost ?? '']; })]),
                ])
              }
            >
              <Icon name="download" size={16} /> {t('hist.csv')}
            </button>
          }
        >
          <BarChart xs={xs} ys={ys} unit={c.currency} label={t('costs.total')} range={[from.getTime(), to.getTime()]} fmtV={(v) => fmt.money(v, c.currency)} />
          <dl class="kv kv-inline">
            <div><dt>{t('costs.total')}</dt><dd id="costs-total">{fmt.money(sum((s) => s.total), c.currency)}</dd></div>
            <div><dt>{t('costs.import')}</dt><dd>{fmt.kwh(sum((s) => s.import_kwh))} kWh</dd></div>
            <div><dt>{t('costs.export')}</dt><dd>{fmt.kwh(sum((s) => s.export_kwh))} kWh</dd></div>
          </dl>
          <div class="table-wrap">
            <table class="table" id="costs-table">
              <caption class="sr-only">{t('costs.costTitle', { period: periodLabel })}</caption>
              <thead>
                <tr>
                  <th scope="col">{mode === 'day' ? t('costs.day') : t('costs.month')}</th>
                  <th scope="col" class="num">kWh</th>
                  {bandNames.map((b) => (
                    <th scope="col" class="num" key={b}>
                      {fmt.bandName(b)}
                    </th>
                  ))}
                  <th scope="col" class="num">{t('costs.fixed')}</th>
                  <th scope="col" class="num">{t('costs.exportCredit')}</th>
                  <th scope="col" class="num">{t('costs.total')}</th>
                </tr>
              </thead>
              <tbody>
                {steps.map((s) => (
                  <tr key={s.start}>
                    <th scope="row">{stepLabel(s.start)}</th>
                    <td class="num">{fmt.kwh(s.import_kwh)}</td>
                    {bandNames.map((b) => {
                      const x = s.bands?.find((y) => y.band === b);
                      return (
                        <td class="num" key={b} title={x ? `${fmt.kwh(x.kwh)} kWh` : undefined}>
                          {x ? fmt.money(x.cost, c.currency) : '–'}
                        </td>
                      );
                    })}
                    <td class="num">{fmt.money(s.fixed, c.currency)}</td>
                    <td class="num">{fmt.money(s.export_credit, c.currency)}</td>
                    <td class="num strong">{fmt.money(s.total, c.currency)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <p class="note">{t('costs.note')}</p>
        </Card>
        <ByDevice from={from} to={to} mode={mode} currency={c.currency} household={sum((s) => s.total)} inPeriod={inPeriod} />
      </>
    );
  }

  return (
    <div class="page page-costs">
      <PageHead title={t('costs.title')} />
      <Card class="card-wide controls-card">
        <div class="range-bar">
          <div class="seg" role="group" aria-label={t('costs.per')}>
            <button type="button" class={`seg-btn ${mode === 'day' ? 'active' : ''}`} aria-pressed={mode === 'day'} onClick={() => setMode('day')}>
              {t('costs.perDay')}
            </button>
            <button type="button" class={`seg-btn ${mode === 'month' ? 'active' : ''}`} aria-pressed={mode === 'month'} onClick={() => setMode('month')}>
              {t('costs.perMonth')}
            </button>
          </div>
          <div class="seg" role="group" aria-label={t('hist.navigate')}>
            <button type="button" class="seg-btn" onClick={() => move(-1)} aria-label={t('costs.prev')} title={t('costs.prev')}>
              <Icon name="left" size={18} />
            </button>
            <span class="seg-label" aria-live="polite">
              {periodLabel}
            </span>
            <button type="button" class="seg-btn" onClick={() => move(1)} disabled={isCurrent} aria-label={t('costs.next')} title={t('costs.next')}>
              <Icon name="right" size={18} />
            </button>
          </div>
        </div>
      </Card>
      {error && (
        <Notice kind="bad" role="alert">
          {error.message}
        </Notice>
      )}
      {loading && !data && <Loading />}
      {body}
    </div>
  );
}
