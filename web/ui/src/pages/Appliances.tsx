import { useState } from 'preact/hooks';
import { api } from '../api';
import { Badge, Card, DeleteButton, Field, FormError, Notice, fieldErr, formErr, toFormErr, type FormErr } from '../components';
import * as fmt from '../fmt';
import { useApi } from '../hooks';
import { t } from '../i18n';

// CoAP appliances (han.coap): pair (the PSK is shown once, with the QR
// text) and revoke.
interface ApplianceRow {
  identity: string;
  name: string;
  created: string;
  registered: boolean;
  kind?: string;
  state?: string;
  power_w: number;
}

interface ApplianceList {
  enabled: boolean;
  listen?: string;
  appliances: ApplianceRow[];
}

interface Paired {
  identity: string;
  name: string;
  psk: string;
  qr: string;
}

const val = (e: Event) => (e.currentTarget as HTMLInputElement).value;

export function AppliancesCard() {
  const list = useApi<ApplianceList>('/appliances');
  const [name, setName] = useState('');
  const [err, setErr] = useState<FormErr | null>(null);
  const [paired, setPaired] = useState<Paired | null>(null);
  const [rowErr, setRowErr] = useState<string | null>(null);
  const pair = async (e: Event) => {
    e.preventDefault();
    setErr(null);
    try {
      const p = await api<Paired>('/appliances', { method: 'POST', body: { name: name.trim() } });
      setPaired(p);
      setName('');
      list.reload();
    } catch (ex) {
      setErr(toFormErr(ex, ['name']));
    }
  };
  return (
    <Card title={t('coapdev.title')} id="settings-appliances" class="card-wide">
      <p class="muted small">{t('coapdev.intro')}</p>
      {list.data && !list.data.enabled && <Notice kind="warn">{t('coapdev.disabled')}</Notice>}
      {list.error && <Notice kind="bad">{list.error.message}</Notice>}
      {list.data && list.data.appliances.length === 0 && <p class="muted">{t('coapdev.none')}</p>}
      {list.data && list.data.appliances.length > 0 && (
        <ul class="rows" id="appliance-list">
          {list.data.appliances.map((a) => (
            <li class="row-item" key={a.identity} data-appliance={a.name}>
              <div class="row-main">
                <strong>{a.name}</strong> <Badge kind={a.registered ? 'ok' : 'muted'}>{t(a.registered ? 'coapdev.online' : 'coapdev.offline')}</Badge>
                <p class="muted small mono">{a.identity}</p>
                <p class="muted small">{t('set.created', { date: fmt.dateTime(a.created) })}</p>
              </div>
              <div class="row-actions">
                <DeleteButton
                  label={t('set.revoke')}
                  question={t('coapdev.revokeQ', { name: a.name })}
                  path={`/appliances/${encodeURIComponent(a.identity)}`}
                  onDone={() => {
                    if (paired?.identity === a.identity) setPaired(null);
                    list.reload();
                  }}
                  onError={setRowErr}
                />
              </div>
            </li>
          ))}
        </ul>
      )}
      {rowErr && <p class="form-error" role="alert">{rowErr}</p>}
      {paired && (
        <Notice kind="ok" id="new-appliance">
          <p>
            <strong>{t('coapdev.paired', { name: paired.name })}</strong> {t('set.tokenOnce')}
          </p>
          <dl class="kv">
            <dt>{t('coapdev.identity')}</dt>
            <dd class="mono" id="new-appliance-identity">{paired.identity}</dd>
            <dt>PSK</dt>
            <dd class="mono" id="new-appliance-psk">{paired.psk}</dd>
            <dt>{t('coapdev.qr')}</dt>
            <dd class="mono small" id="new-appliance-qr">{paired.qr}</dd>
          </dl>
        </Notice>
      )}
      <form class="add-form" onSubmit={pair} noValidate id="pair-appliance-form">
        <h3>{t('coapdev.pair')}</h3>
        <div class="form-row">
          <Field id="appliance-name" label={t('set.tokenName')} autoComplete="off" value={name} onInput={(e) => setName(val(e))} error={fieldErr(err, 'name')} />
        </div>
        <FormError message={formErr(err)} />
        <button type="submit" class="btn btn-primary">
          {t('coapdev.pairSubmit')}
        </button>
      </form>
    </Card>
  );
}
