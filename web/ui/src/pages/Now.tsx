import { useEffect } from 'preact/hooks';
import { api } from '../api';
import { Badge, Card, Icon, LegalBadge, Notice, PageHead } from '../components';
import * as fmt from '../fmt';
import { useApi, useNow, useOnce } from '../hooks';
import { t, tx } from '../i18n';
import { bootLoad, live, setHealth, setMeter } from '../live';
import { useStore } from '../store';
import type { Device, DrEvent, Health, Meter, Prices } from '../types';

/** No meter update for this long (ms) while the page is open counts as stale on the client too. */
const CLIENT_STALE_MS = 15000;

export function drActive(events: DrEvent[] | null | undefined, now: number): DrEvent | undefined {
  // Events that ask the home to act (not price-only ones), not opted out of.
  return (events ?? []).find(
    (e) =>
      e.actionable !== false &&
      !e.opted_out &&
      (e.status === 'active' ||
        (e.status === 'pending' &&
          e.start != null &&
          Date.parse(e.start) <= now &&
          (e.end == null || Date.parse(e.end) > now))),
  );
}

export function DrBanner({ ev }: { ev: DrEvent }) {
  return (
    <div class="dr-banner" role="status" id="dr-banner">
      <Icon name="dr" size={22} />
      <div>
        <strong>{t('dr.bannerTitle')}</strong>
        <p>
          {t('dr.bannerBody', { program: ev.program, end: ev.end ? fmt.time(ev.end, false) : '…' })}
          {ev.limit_w !== null && ` ${t('dr.limit', { v: `${fmt.power(ev.limit_w).value} ${fmt.power(ev.limit_w).unit}` })}`}
          {ev.level !== null && ` ${t('dr.level', { v: ev.level })}`}
        </p>
        <a href="#/dr">{t('dr.bannerLink')}</a>
      </div>
    </div>
  );
}

function PowerFlow({ m, devices }: { m: Meter; devices: Device[] | null }) {
  const w = m.power_w;
  const p = fmt.power(w);
  const dir = w === null ? 'none' : w > 0.5 ? 'import' : w < -0.5 ? 'export' : 'idle';
  const pv = (devices ?? []).filter((d) => ['pv', 'solar', 'inverter'].includes(d.kind));
  const bat = (devices ?? []).filter((d) => d.kind === 'battery');
  const consumers = (devices ?? [])
    .filter((d) => !['meter', 'pv', 'solar', 'inverter', 'battery', 'gas', 'water'].includes(d.kind))
    .map((d) => ({ d, w: d.values?.find((v) => v.quantity === 'power')?.value ?? null }))
    .filter((x): x is { d: Device; w: number } => x.w !== null)
    .sort((a, b) => b.w - a.w)
    .slice(0, 5);
  const devPower = (d: Device) => {
    const v = d.values?.find((x) => x.quantity === 'power')?.value ?? null;
    const pp = fmt.power(v);
    return `${pp.value} ${pp.unit}`;
  };
  return (
    <Card title={t('now.flow')} id="card-flow" class="card-wide">
      <div class={`flow flow-${dir}`}>
        <div class="flow-node">
          <Icon name="grid" size={28} />
          <span>{t('now.grid')}</span>
        </div>
        <div class="flow-line" aria-hidden="true">
          <span class="flow-track" />
        </div>
        <div class="flow-node">
          <Icon name="home" size={28} />
          <span>{t('now.home')}</span>
        </div>
      </div>
      <div class="power" aria-live="polite" aria-atomic="true" id="now-power">
        <span class="power-value" id="power-value" data-w={w ?? ''}>
          {p.value}
        </span>
        <span class="power-unit">{p.unit}</span>
        <span class="power-dir">
          {dir === 'import' ? t('now.importing') : dir === 'export' ? t('now.exporting') : dir === 'idle' ? t('now.idle') : t('now.noPower')}
        </span>
      </div>
      <div class="flow-extra">
        {pv.length > 0 ? (
          pv.map((d) => (
            <p key={d.id}>
              <Icon name="sun" size={16} /> {d.name}: {devPower(d)}
            </p>
          ))
        ) : (
          <p class="muted" id="no-pv">
            <Icon name="sun" size={16} /> {t('now.noSolar')}
          </p>
        )}
        {bat.length > 0 ? (
          bat.map((d) => (
            <p key={d.id}>
              <Icon name="battery" size={16} /> {d.name}: {devPower(d)}
            </p>
          ))
        ) : (
          <p class="muted" id="no-battery">
            <Icon name="battery" size={16} /> {t('now.noBattery')}
          </p>
        )}
        {consumers.length > 0 && (
          <div>
            <h3 class="small-head">{t('now.topConsumers')}</h3>
            <ul class="plain">
              {consumers.map((c) => (
                <li key={c.d.id}>
                  {c.d.name}: {fmt.power(c.w).value} {fmt.power(c.w).unit}
                </li>
              ))}
            </ul>
          </div>
        )}
      </div>
    </Card>
  );
}

function Registers({ m }: { m: Meter }) {
  const bands = fmt.tariffBands;
  return (
    <Card title={t('now.registers')} id="card-registers" actions={<LegalBadge legal={m.legal} />}>
      <dl class="kv">
        <div>
          <dt>{t('now.importReg')}</dt>
          <dd id="import-kwh">
            {fmt.kwh(m.import_kwh)} <span class="unit">kWh</span>
          </dd>
        </div>
        <div>
          <dt>{t('now.exportReg')}</dt>
          <dd id="export-kwh">
            {fmt.kwh(m.export_kwh)} <span class="unit">kWh</span>
          </dd>
        </div>
      </dl>
      {m.import_kwh_tariffs && (
        <details class="more">
          <summary>{t('now.perBand')}</summary>
          <dl class="kv kv-small">
            {m.import_kwh_tariffs.map((v, i) => (
              <div key={i}>
                <dt>{fmt.bandName(bands[i] ?? `t${i + 1}`)}</dt>
                <dd>
                  {fmt.kwh(v)} <span class="unit">kWh</span>
                </dd>
              </div>
            ))}
          </dl>
        </details>
      )}
      <p class="note">{t('legal.note')}</p>
    </Card>
  );
}

function GridValues({ m }: { m: Meter }) {
  const phases = (arr: (number | null)[] | null, unit: string, digits: number) =>
    arr && arr.length
      ? arr.map((v, i) => (
          <div key={i}>
            <dt>{arr.length > 1 ? `L${i + 1}` : ''}</dt>
            <dd>
              {fmt.num(v, digits, digits)} <span class="unit">{unit}</span>
            </dd>
          </div>
        ))
      : [
          <div key="x">
            <dt />
            <dd>–</dd>
          </div>,
        ];
  return (
    <Card title={t('now.gridValues')} id="card-grid">
      <div class="grid-values">
        <div>
          <h3 class="small-head">{t('q.voltage')}</h3>
          <dl class="phases">{phases(m.voltage_v, 'V', 1)}</dl>
        </div>
        <div>
          <h3 class="small-head">{t('q.current')}</h3>
          <dl class="phases">{phases(m.current_a, 'A', 2)}</dl>
        </div>
        <div>
          <h3 class="small-head">{t('q.frequency')}</h3>
          <p class="value-line">
            {fmt.num(m.frequency_hz, 2, 2)} <span class="unit">Hz</span>
          </p>
          <h3 class="small-head">{t('q.power_factor')}</h3>
          <p class="value-line">{fmt.num(m.power_factor, 3, 2)}</p>
        </div>
      </div>
    </Card>
  );
}

function LinkHealth({ m, h }: { m: Meter | null; h: Health | null }) {
  const conds = h?.conditions ?? [];
  return (
    <Card title={t('now.link')} id="card-health">
      <p class="status-line">
        {m ? (
          m.link_up ? (
            <Badge kind="ok">{t('now.linkUp')}</Badge>
          ) : (
            <Badge kind="bad">{t('now.linkDown')}</Badge>
          )
        ) : (
          <Badge>{t('common.unknown')}</Badge>
        )}{' '}
        {h && (h.status === 'ok' ? <Badge kind="ok">{t('health.ok')}</Badge> : <Badge kind="warn">{t('health.degraded')}</Badge>)}
      </p>
      {m && (
        <p class="muted small">
          {t('now.meterInfo', { protocol: m.protocol || '–', address: m.address ?? '–' })}
          {m.relay !== 'unknown' && ` · ${t('now.relay')}: ${t(m.relay === 'closed' ? 'now.relayClosed' : 'now.relayOpen')}`}
        </p>
      )}
      {conds.length > 0 ? (
        <ul class="conditions" id="conditions">
          {conds.map((c) => (
            <li key={c.code}>
              <strong>{tx('cond.' + c.code, c.code)}</strong>
              <span class="muted small"> · {t('health.since', { time: fmt.dateTime(c.since) })}</span>
              <p class="small">{c.message}</p>
            </li>
          ))}
        </ul>
      ) : (
        h && <p class="muted small">{t('health.noConditions')}</p>
      )}
    </Card>
  );
}

function PriceCard({ prices, error }: { prices: Prices | null; error: { status: number; code: string; message: string } | null }) {
  const now = Date.now();
  let body;
  if (error && error.code === 'no_tariff') {
    body = (
      <p id="no-tariff">
        {t('now.noTariff')} <a href="#/settings?section=tariff">{t('now.configureTariff')}</a>
      </p>
    );
  } else if (error) {
    body = <p class="muted">{error.message}</p>;
  } else if (!prices) {
    body = <p class="muted">{t('common.loading')}</p>;
  } else {
    const slot = (prices.slots ?? []).find((s) => Date.parse(s.start) <= now && Date.parse(s.end) > now) ?? prices.slots?.[0];
    body = slot ? (
      <div id="price-now">
        <p class="price">
          {fmt.price(slot.import, prices.currency)}
          <span class="unit"> / kWh</span>
        </p>
        <p>
          {slot.band && <Badge kind="info">{fmt.bandName(slot.band)}</Badge>}{' '}
          <span class="muted small">{t('now.priceUntil', { time: fmt.time(slot.end, false) })}</span>
        </p>
        {slot.export ? (
          <p class="muted small">
            {t('now.exportPrice')}: {fmt.price(slot.export, prices.currency)} / kWh
          </p>
        ) : null}
      </div>
    ) : (
      <p class="muted">{t('now.noPrice')}</p>
    );
  }
  return (
    <Card title={t('now.price')} id="card-price">
      {body}
    </Card>
  );
}

export function Now() {
  const l = useStore(live);
  const now = useNow(1000);
  const m = l.meter;

  useEffect(() => {
    const ac = new AbortController();
    if (bootLoad) return () => ac.abort(); // the boot fetch is under way
    if (!live.get().meter) api<Meter>('/meter', { signal: ac.signal }).then((x) => { if (!live.get().meter) setMeter(x); }).catch(() => {});
    if (!live.get().health) api<Health>('/health', { signal: ac.signal }).then((x) => { if (!live.get().health) setHealth(x); }).catch(() => {});
    return () => ac.abort();
  }, []);

  // The price slot is refreshed each minute; the path changes with it.
  const minute = Math.floor(now / 60000);
  const from = new Date(minute * 60000).toISOString();
  const to = new Date(minute * 60000 + 15 * 60000).toISOString();
  const prices = useApi<Prices>(`/prices?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`);
  const dr = useApi<{ events: DrEvent[] }>('/dr/events', 60000);
  const devices = useApi<{ devices: Device[] }>('/devices', 30000);

  useOnce(m !== null, () => performance.mark('gwd:interactive'));

  const active = dr.data ? drActive(dr.data.events, now) : undefined;
  const clientStale = m !== null && l.meterAt > 0 && now - l.meterAt > CLIENT_STALE_MS;
  const stale = m ? m.stale || clientStale : false;
  const linkDown = m ? !m.link_up : false;
  const updated = m?.received ?? m?.time ?? null;

  return (
    <div class="page page-now">
      <PageHead title={t('now.title')}>
        <p class="updated" id="last-update">
          {updated ? (
            <>
              {t('now.updated')} <time dateTime={updated} id="last-update-time">{fmt.time(updated)}</time>{' '}
              <span class="muted">({fmt.ago(updated, now)})</span>
            </>
          ) : (
            t('now.noData')
          )}{' '}
          {linkDown ? (
            <Badge kind="bad">{t('now.linkDown')}</Badge>
          ) : stale ? (
            <Badge kind="warn">{t('now.stale')}</Badge>
          ) : m ? (
            <Badge kind="ok">{t('now.live')}</Badge>
          ) : null}
        </p>
      </PageHead>
      {active && <DrBanner ev={active} />}
      {m && (linkDown || stale) && (
        <Notice kind={linkDown ? 'bad' : 'warn'} role="status" id="stale-notice">
          {linkDown ? t('now.linkDownBody') : t('now.staleBody', { ago: fmt.ago(updated, now) })}
        </Notice>
      )}
      {l.stream === 'down' && (
        <Notice kind="warn" role="status">
          {t('live.lostBody')}
        </Notice>
      )}
      {!m ? (
        <p class="loading" role="status">
          <span class="spinner" aria-hidden="true" />
          {t('common.loading')}
        </p>
      ) : (
        <div class={`cards ${stale || linkDown ? 'is-stale' : ''}`}>
          <PowerFlow m={m} devices={devices.data?.devices ?? null} />
          <PriceCard prices={prices.data} error={prices.error} />
          <Registers m={m} />
          <GridValues m={m} />
          <LinkHealth m={m} h={l.health} />
        </div>
      )}
    </div>
  );
}
