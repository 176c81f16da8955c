import { Badge, Card, Loading, Notice } from '../components';
import { useApi } from '../hooks';
import { t } from '../i18n';

/** GET /api/v1/homekit (admins only). */
interface HomeKitInfo {
  enabled: boolean;
  running: boolean;
  paired: boolean;
  code: string;
  setup_uri: string;
  accessories: number;
  name: string;
}

/** The HomeKit setup code and pairing state; the code lets anyone on the LAN pair, so admins only. */
export function HomeKitCard() {
  const hk = useApi<HomeKitInfo>('/homekit', 10000);
  const h = hk.data;
  return (
    <Card title={t('hk.title')} id="settings-homekit">
      {hk.error && <Notice kind="bad">{hk.error.message}</Notice>}
      {hk.loading && !h && <Loading />}
      {h && (
        <>
          <dl class="kv kv-small kv-list">
            <div>
              <dt>{t('hk.code')}</dt>
              <dd class="mono" id="homekit-code">{h.code}</dd>
            </div>
            <div>
              <dt>{t('hk.state')}</dt>
              <dd id="homekit-state">
                {!h.enabled ? (
                  <Badge kind="warn">{t('hk.disabled')}</Badge>
                ) : h.paired ? (
                  <Badge kind="ok">{t('hk.paired')}</Badge>
                ) : (
                  <Badge kind="warn">{t('hk.unpaired')}</Badge>
                )}
              </dd>
            </div>
            {h.enabled && (
              <div>
                <dt>{t('hk.accessories')}</dt>
                <dd>{h.accessories}</dd>
              </div>
            )}
            <div>
              <dt>{t('hk.uri')}</dt>
              <dd class="mono small" id="homekit-uri">{h.setup_uri}</dd>
            </div>
          </dl>
          <p class="muted small">{h.enabled ? t('hk.help', { name: h.name }) : t('hk.enableHelp')}</p>
        </>
      )}
    </Card>
  );
}
