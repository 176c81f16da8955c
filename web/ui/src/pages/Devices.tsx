import { useState } from 'preact/hooks';
import { ApiError, api } from '../api';
import { Badge, Card, LegalBadge, Loading, Notice, PageHead } from '../components';
import * as fmt from '../fmt';
import { useApi, useNow } from '../hooks';
import { t, tx } from '../i18n';
import { isAdmin } from '../session';
import type { Device } from '../types';
import { NearbyBLE, RemoveBLE } from './BLE';

const stateKind = { online: 'ok', offline: 'bad', unknown: 'muted' } as const;

const flags = new Set(['relay_open', 'clock_battery_low', 'reading_battery_low', 'power_reversed']);
const unixTimes = new Set(['last_power_down_start', 'last_power_down_end']);
/** Shown first; the rest fold away under "more values". */
const main = ['power', 'energy_import', 'energy_export', 'voltage_l1', 'voltage_l2', 'voltage_l3', 'current_l1', 'current_l2', 'current_l3', 'frequency', 'power_factor', 'gas', 'water', 'volume', 'temperature', 'state_of_charge'];

function valueText(q: string, v: number | null, unit: string): string {
  if (v === null) return '–';
  if (flags.has(q)) return v ? t('common.yes') : t('common.no');
  if (unixTimes.has(q)) return v > 0 ? fmt.dateTime(v * 1000) : '–';
  if (unit === 'Wh' && Math.abs(v) >= 1000) return `${fmt.num(v / 1000, 2, 2)} kWh`;
  if (unit === 'W') {
    const p = fmt.power(v);
    return `${v < 0 ? '−' : ''}${p.value} ${p.unit}`;
  }
  const digits = Math.abs(v) >= 100 ? 1 : Math.abs(v) >= 1 ? 2 : 3;
  return `${fmt.num(v, digits)}${unit ? ' ' + unit : ''}`;
}

/** Manual control: the buttons the device's capabilities allow. */
function Controls({ d, onDone }: { d: Device; onDone: () => void }) {
  const caps = d.capabilities ?? [];
  const [busy, setBusy] = useState(false);
  const [msg, setMsg] = useState<{ ok: boolean; text: string } | null>(null);
  const [limit, setLimit] = useState('');
  const switchable = caps.includes('switch') || caps.includes('deferrable');
  const curtail = caps.includes('curtail');
  if (!switchable && !curtail) return null;
  const offline = d.state !== 'online';
  const send = async (kind: string, limitW?: number) => {
    setBusy(true);
    setMsg(null);
    try {
      await api(`/devices/${encodeURIComponent(d.id)}/command`, { method: 'POST', body: limitW === undefined ? { kind } : { kind, limit_w: limitW } });
      setMsg({ ok: true, text: t('dev.cmdDone', { kind: tx('dev.cmd.' + kind, kind) }) });
      onDone();
    } catch (e) {
      setMsg({ ok: false, text: e instanceof ApiError ? e.message : String(e) });
    } finally {
      setBusy(false);
    }
  };
  const lw = Number(limit);
  return (
    <div class="device-controls" data-device={d.id}>
      <div class="btn-row" role="group" aria-label={t('dev.controlsOf', { name: fmt.deviceName(d) })}>
        {switchable && (
          <>
            <button type="button" class="btn btn-secondary btn-small" disabled={busy || offline} data-cmd="on" onClick={() => send('on')}>
              {t('dev.cmd.on')}
            </button>
            <button type="button" class="btn btn-secondary btn-small" disabled={busy || offline} data-cmd="off" onClick={() => send('off')}>
              {t('dev.cmd.off')}
            </button>
          </>
        )}
        {curtail && (
          <>
            <label class="inline-field">
              <span>{t('dev.limitW')}</span>
              <input type="number" min={1} step={100} inputMode="numeric" value={limit} onInput={(e) => setLimit((e.target as HTMLInputElement).value)} class="input input-small" />
            </label>
            <button type="button" class="btn btn-secondary btn-small" disabled={busy || offline || !(lw > 0)} data-cmd="limit" onClick={() => send('limit', Math.round(lw))}>
              {t('dev.cmd.limit')}
            </button>
            <button type="button" class="btn btn-secondary btn-small" disabled={busy || offline} data-cmd="normal" onClick={() => send('normal')}>
              {t('dev.cmd.normal')}
            </button>
          </>
        )}
      </div>
      {offline && <p class="muted small">{t('dev.offlineNoCmd')}</p>}
      {msg && (
        <p class={msg.ok ? 'muted small' : 'form-error'} role={msg.ok ? 'status' : 'alert'}>
          {msg.text}
        </p>
      )}
    </div>
  );
}

function DeviceCard({ d, now, onChange }: { d: Device; now: number; onChange: () => void }) {
  return (
    <Card
      title={fmt.deviceName(d)}
      id={`device-${d.id}`}
      class="card-wide device"
      actions={
        <>
          <Badge kind={stateKind[d.state] ?? 'muted'}>{tx('state.' + d.state, d.state)}</Badge>
          <LegalBadge legal={d.legal} />
        </>
      }
    >
      <dl class="kv kv-inline small">
        <div>
          <dt>{t('dev.kind')}</dt>
          <dd>{tx('kind.' + d.kind, d.kind)}</dd>
        </div>
        <div>
          <dt>{t('dev.transport')}</dt>
          <dd>{d.transport}</dd>
        </div>
        <div>
          <dt>{t('dev.freshness')}</dt>
          <dd class="freshness">
            {d.last_seen ? t('dev.updated', { ago: fmt.ago(d.last_seen, now) }) : t('dev.neverSeen')}{' '}
            {!d.fresh && <Badge kind="warn">{t('now.stale')}</Badge>}
          </dd>
        </div>
      </dl>
      {isAdmin() && <Controls d={d} onDone={onChange} />}
      {isAdmin() && d.transport === 'ble' && <RemoveBLE d={d} onDone={onChange} />}
      {d.values && d.values.length > 0 ? (
        <>
          <ValueTable d={d} values={d.values.filter((v) => main.includes(v.quantity) || d.values!.length <= 12)} caption={t('dev.valuesOf', { name: fmt.deviceName(d) })} />
          {d.values.length > 12 && d.values.some((v) => !main.includes(v.quantity)) && (
            <details class="more">
              <summary>{t('dev.moreValues', { n: d.values.filter((v) => !main.includes(v.quantity)).length })}</summary>
              <ValueTable d={d} values={d.values.filter((v) => !main.includes(v.quantity))} caption={t('dev.valuesOf', { name: fmt.deviceName(d) })} />
            </details>
          )}
        </>
      ) : (
        <p class="muted">{t('dev.noValues')}</p>
      )}
    </Card>
  );
}

function ValueTable({ values, caption }: { d: Device; values: NonNullable<Device['values']>; caption: string }) {
  return (
        <div class="table-wrap">
          <table class="table">
            <caption class="sr-only">{caption}</caption>
            <thead>
              <tr>
                <th scope="col">{t('dev.quantity')}</th>
                <th scope="col" class="num">{t('dev.value')}</th>
                <th scope="col">{t('dev.measured')}</th>
                <th scope="col">{t('dev.source')}</th>
              </tr>
            </thead>
            <tbody>
              {values.map((v) => (
                <tr key={v.quantity}>
                  <th scope="row">
                    {fmt.quantityName(v.quantity)} <span class="muted small mono">{v.quantity}</span>
                  </th>
                  <td class="num">{valueText(v.quantity, v.value, v.unit)}</td>
                  <td>{v.measured ? fmt.time(v.measured) : '–'}</td>
                  <td>
                    <LegalBadge legal={v.legal} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
  );
}

export function Devices() {
  const res = useApi<{ devices: Device[] }>('/devices', 5000);
  const now = useNow(1000);
  const list = res.data?.devices ?? [];
  return (
    <div class="page page-devices">
      <PageHead title={t('dev.title')} />
      <p class="lead">{t('dev.intro')}</p>
      {res.error && !res.data && <Notice kind="bad" role="alert">{res.error.message}</Notice>}
      {res.loading && !res.data && <Loading />}
      <div class="cards" id="device-list">
        {list.map((d) => (
          <DeviceCard key={d.id} d={d} now={now} onChange={res.reload} />
        ))}
      </div>
      {res.data && list.length <= 1 && <p class="muted small">{t('dev.more')}</p>}
      {isAdmin() && <NearbyBLE now={now} onAdopted={res.reload} />}
    </div>
  );
}
