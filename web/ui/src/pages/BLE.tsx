import { useState } from 'preact/hooks';
import { api } from '../api';
import { Badge, Card, DeleteButton, Field, FormError, Loading, Notice, fieldErr, formErr, toFormErr, type FormErr } from '../components';
import * as fmt from '../fmt';
import { useApi } from '../hooks';
import { t, tx } from '../i18n';
import type { BLESeen, Device } from '../types';

const val = (e: Event) => (e.currentTarget as HTMLInputElement).value;
const encrypted = (s: BLESeen) => (s.advertises ?? []).includes('bthome-encrypted');

/** The adoption form of one candidate: a name and, for an encrypted device, its key. */
function AdoptForm({ s, onDone, onCancel }: { s: BLESeen; onDone: () => void; onCancel: () => void }) {
  const [name, setName] = useState(s.name);
  const [key, setKey] = useState('');
  const [err, setErr] = useState<FormErr | null>(null);
  const [busy, setBusy] = useState(false);
  const enc = encrypted(s);
  const submit = async (e: Event) => {
    e.preventDefault();
    setErr(null);
    const k = key.trim().replace(/\s+/g, '');
    if (enc && !/^[0-9a-fA-F]{32}$/.test(k)) return setErr({ field: 'key', message: t('ble.keyFormat') });
    setBusy(true);
    try {
      await api('/devices', { method: 'POST', body: enc ? { ble: s.mac, name: name.trim(), key: k } : { ble: s.mac, name: name.trim() } });
      onDone();
    } catch (ex) {
      setErr(toFormErr(ex, ['name', 'key']));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="inline-form ble-adopt" onSubmit={submit} noValidate id="ble-adopt-form" aria-label={t('ble.adoptOf', { name: s.name || s.mac })}>
      <Field id="ble-adopt-name" label={t('ble.name')} autoComplete="off" maxLength={64} value={name} onInput={(e) => setName(val(e))} error={fieldErr(err, 'name')} />
      {enc && (
        <Field
          id="ble-adopt-key"
          label={t('ble.key')}
          autoComplete="off"
          spellcheck={false}
          class="mono"
          value={key}
          onInput={(e) => setKey(val(e))}
          error={fieldErr(err, 'key')}
          hint={t('ble.keyHint')}
        />
      )}
      <div class="btn-row">
        <button type="submit" class="btn btn-primary" disabled={busy}>
          {t('ble.adoptSubmit')}
        </button>
        <button type="button" class="btn btn-ghost" onClick={onCancel}>
          {t('common.cancel')}
        </button>
      </div>
      <FormError message={formErr(err)} />
    </form>
  );
}

function Candidate({ s, now, open, setOpen, onAdopted }: { s: BLESeen; now: number; open: boolean; setOpen: (mac: string | null) => void; onAdopted: () => void }) {
  return (
    <li class="row-item ble-candidate" data-mac={s.mac}>
      <div class="ble-who">
        <strong>{s.name || t('ble.unnamed')}</strong> <span class="mono small">{s.mac}</span>
        <div class="ble-meta small muted">
          {(s.advertises ?? []).map((a) => (
            <Badge key={a} kind={a === 'bthome-encrypted' ? 'warn' : 'info'}>
              {tx('ble.adv.' + a, a)}
            </Badge>
          ))}{' '}
          <span>{[s.kind ? tx('kind.' + s.kind, s.kind) : '', (s.quantities ?? []).map((q) => fmt.quantityName(q)).join(', ')].filter(Boolean).join(' · ')}</span>
        </div>
        <div class="small muted">
          <span class="ble-rssi">{t('ble.rssi', { dbm: s.rssi })}</span> · <span>{t('ble.heard', { ago: fmt.ago(s.last_seen, now) })}</span>
        </div>
      </div>
      {s.adopted ? (
        <Badge kind="ok">{t('ble.adopted')}</Badge>
      ) : (
        !open && (
          <button type="button" class="btn btn-secondary btn-small" data-adopt={s.mac} onClick={() => setOpen(s.mac)}>
            {t('ble.adopt')}
          </button>
        )
      )}
      {open && !s.adopted && (
        <AdoptForm
          s={s}
          onCancel={() => setOpen(null)}
          onDone={() => {
            setOpen(null);
            onAdopted();
          }}
        />
      )}
    </li>
  );
}

/** BLE devices heard nearby, for the household to adopt (admins only: GET /ble/seen is admin-only). */
export function NearbyBLE({ now, onAdopted }: { now: number; onAdopted: () => void }) {
  const res = useApi<{ enabled: boolean; seen: BLESeen[] }>('/ble/seen', 5000);
  const [open, setOpen] = useState<string | null>(null);
  const off = res.error?.code === 'ble_disabled';
  const list = res.data?.seen ?? [];
  return (
    <Card title={t('ble.title')} id="ble-nearby" class="card-wide">
      {off ? (
        <p class="muted small" id="ble-off">
          {res.error!.message}. {t('ble.offHelp')}
        </p>
      ) : (
        <>
          <p class="muted small">{t('ble.intro')}</p>
          {res.error && !res.data && <Notice kind="bad">{res.error.message}</Notice>}
          {res.loading && !res.data && <Loading />}
          {res.data && list.length === 0 && <p class="muted">{t('ble.none')}</p>}
          {list.length > 0 && (
            <ul class="rows" id="ble-list">
              {list.map((s) => (
                <Candidate
                  key={s.mac}
                  s={s}
                  now={now}
                  open={open === s.mac}
                  setOpen={setOpen}
                  onAdopted={() => {
                    res.reload();
                    onAdopted();
                  }}
                />
              ))}
            </ul>
          )}
        </>
      )}
    </Card>
  );
}

/** Un-adopt a BLE device (DELETE /devices/{id}); it becomes a candidate again. */
export function RemoveBLE({ d, onDone }: { d: Device; onDone: () => void }) {
  const [err, setErr] = useState('');
  return (
    <div class="ble-remove" data-device={d.id}>
      <DeleteButton
        label={t('ble.remove')}
        question={t('ble.removeQ', { name: fmt.deviceName(d) })}
        confirmLabel={t('ble.removeYes')}
        path={`/devices/${encodeURIComponent(d.id)}`}
        onDone={onDone}
        onError={(msg) => setErr(msg ?? '')}
      />
      {err && (
        <p class="form-error" role="alert">
          {err}
        </p>
      )}
    </div>
  );
}
