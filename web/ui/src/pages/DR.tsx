import { useState } from 'preact/hooks';
import { api } from '../api';
import { Badge, Card, ConfirmButton, Loading, Notice, PageHead } from '../components';
import * as fmt from '../fmt';
import { useApi, useNow } from '../hooks';
import { t, tx } from '../i18n';
import { logEvents } from '../live';
import { isAdmin } from '../session';
import { useStore } from '../store';
import type { DrEvent, LogEvent } from '../types';

const statusKind: Record<string, 'ok' | 'warn' | 'bad' | 'muted' | 'info'> = {
  active: 'warn',
  pending: 'info',
  completed: 'muted',
  cancelled: 'muted',
  opted_out: 'muted',
};

function EventCard({ ev, canOptOut, onOptOut }: { ev: DrEvent; canOptOut: boolean; onOptOut: (ev: DrEvent) => Promise<void> }) {
  const [err, setErr] = useState<string | null>(null);
  const open = (ev.status === 'active' || ev.status === 'pending') && !ev.opted_out && ev.actionable !== false;
  return (
    <li class={`dr-event dr-${ev.status}`} data-id={ev.id} data-status={ev.status}>
      <div class="dr-event-head">
        <strong>{ev.program || t('dr.event')}</strong> <Badge kind={statusKind[ev.status] ?? 'muted'}>{tx('drs.' + ev.status, ev.status)}</Badge>
      </div>
      {ev.start && (
        <p class="small">
          <time dateTime={ev.start}>{fmt.dateTime(ev.start)}</time> –{' '}
          {ev.end ? (
            <>
              <time dateTime={ev.end}>{fmt.dateTime(ev.end)}</time>{' '}
              <span class="muted">({fmt.duration((Date.parse(ev.end) - Date.parse(ev.start)) / 1000)})</span>
            </>
          ) : (
            '…'
          )}
        </p>
      )}
      {(ev.limit_w !== null || ev.level !== null) && (
        <p class="small">
          {ev.limit_w !== null && t('dr.limit', { v: `${fmt.power(ev.limit_w).value} ${fmt.power(ev.limit_w).unit}` })}{' '}
          {ev.level !== null && t('dr.level', { v: ev.level })}
        </p>
      )}
      {ev.opted_out && <p class="small muted">{t('dr.optedOut')}</p>}
      {open && canOptOut && (
        <div class="dr-actions">
          <ConfirmButton
            label={t('dr.optOut')}
            question={t('dr.optOutQ')}
            confirmLabel={t('dr.optOutYes')}
            danger
            class="optout"
            onConfirm={async () => {
              setErr(null);
              try {
                await onOptOut(ev);
              } catch (e) {
                setErr(e instanceof Error ? e.message : String(e));
              }
            }}
          />
        </div>
      )}
      {err && (
        <p class="form-error" role="alert">
          {err}
        </p>
      )}
    </li>
  );
}

export function LogTable({ events, id, empty }: { events: LogEvent[]; id: string; empty: string }) {
  if (!events.length) return <p class="muted" id={id + '-empty'}>{empty}</p>;
  const sorted = [...events].sort((a, b) => Date.parse(b.time) - Date.parse(a.time));
  return (
    <ul class="log" id={id}>
      {sorted.map((e, i) => {
        const d = e.details ?? {};
        const why = d.reason ?? d.why ?? d.cause;
        const dur = d.duration ?? d.for;
        const rest = Object.entries(d).filter(([k]) => !['reason', 'why', 'cause', 'duration', 'for'].includes(k));
        return (
          <li key={e.time + i}>
            <div class="log-head">
              <time dateTime={e.time}>{fmt.dateTime(e.time)}</time>
              <strong>{e.subject}</strong>
            </div>
            {(why || dur || rest.length > 0) && (
              <dl class="log-details">
                {why && (
                  <div>
                    <dt>{t('log.why')}</dt>
                    <dd>{why}</dd>
                  </div>
                )}
                {dur && (
                  <div>
                    <dt>{t('log.howLong')}</dt>
                    <dd>{dur}</dd>
                  </div>
                )}
                {rest.map(([k, v]) => (
                  <div key={k}>
                    <dt>{k}</dt>
                    <dd>{v}</dd>
                  </div>
                ))}
              </dl>
            )}
          </li>
        );
      })}
    </ul>
  );
}

function useLog(kind: string) {
  const now = useNow(60000);
  const from = new Date(now - 90 * 86400000).toISOString();
  const res = useApi<{ events: LogEvent[] }>(`/events?kind=${kind}&from=${encodeURIComponent(from)}&limit=500`);
  const liveEv = useStore(logEvents).filter((e) => e.kind === kind);
  const seen = new Set((res.data?.events ?? []).map((e) => e.time + e.subject));
  return { ...res, events: [...(res.data?.events ?? []), ...liveEv.filter((e) => !seen.has(e.time + e.subject))] };
}

export function DR() {
  const dr = useApi<{ events: DrEvent[] }>('/dr/events', 30000);
  const interventions = useLog('intervention');
  const drLog = useLog('dr');
  const admin = isAdmin();
  const [done, setDone] = useState<string | null>(null);

  const unavailable = dr.error?.code === 'dr_unavailable' || dr.error?.status === 503;
  const events = dr.data?.events ?? [];
  // Grouped by time: an opted-out event stays where its time puts it.
  const now = Date.now();
  const ended = (e: DrEvent) =>
    e.status === 'completed' || e.status === 'cancelled' || (e.end != null && Date.parse(e.end) <= now);
  const started = (e: DrEvent) => e.status === 'active' || (e.start != null && Date.parse(e.start) <= now);
  const active = events.filter((e) => !ended(e) && started(e));
  const upcoming = events.filter((e) => !ended(e) && !started(e));
  const past = events.filter(ended);

  const optOut = async (ev: DrEvent) => {
    const updated = await api<DrEvent>(`/dr/events/${encodeURIComponent(ev.id)}/optout`, { method: 'POST' });
    if (dr.data) dr.set({ events: dr.data.events.map((e) => (e.id === ev.id ? { ...e, ...updated } : e)) });
    setDone(t('dr.optOutDone', { program: ev.program }));
    dr.reload();
  };

  const list = (evs: DrEvent[], id: string, empty: string) =>
    evs.length ? (
      <ul class="dr-list" id={id}>
        {evs.map((e) => (
          <EventCard key={e.id} ev={e} canOptOut={admin} onOptOut={optOut} />
        ))}
      </ul>
    ) : (
      <p class="muted">{empty}</p>
    );

  return (
    <div class="page page-dr">
      <PageHead title={t('dr.title')} />
      <p class="lead">{t('dr.intro')}</p>
      {unavailable ? (
        <Notice kind="info" id="dr-unavailable" role="status">
          <strong>{t('dr.unavailable')}</strong> {t('dr.unavailableBody')}
        </Notice>
      ) : dr.error ? (
        <Notice kind="bad" role="alert">
          {dr.error.message}
        </Notice>
      ) : dr.loading && !dr.data ? (
        <Loading />
      ) : (
        <div class="cards">
          {done && (
            <Notice kind="ok" role="status" id="optout-done">
              {done}
            </Notice>
          )}
          <Card title={t('dr.active')} id="dr-active" class="card-wide">
            {list(active, 'dr-active-list', t('dr.noActive'))}
          </Card>
          <Card title={t('dr.upcoming')} id="dr-upcoming">
            {list(upcoming, 'dr-upcoming-list', t('dr.noUpcoming'))}
          </Card>
          <Card title={t('dr.past')} id="dr-past">
            {list(past, 'dr-past-list', t('dr.noPast'))}
          </Card>
        </div>
      )}
      <div class="cards">
        <Card title={t('dr.interventions')} id="intervention-log" class="card-wide">
          <p class="muted small">{t('dr.interventionsIntro')}</p>
          {interventions.error ? (
            <Notice kind="bad">{interventions.error.message}</Notice>
          ) : interventions.loading && !interventions.data ? (
            <Loading />
          ) : (
            <LogTable events={interventions.events} id="intervention-list" empty={t('dr.noInterventions')} />
          )}
        </Card>
        <Card title={t('dr.log')} id="dr-log" class="card-wide">
          {drLog.error ? (
            <Notice kind="bad">{drLog.error.message}</Notice>
          ) : drLog.loading && !drLog.data ? (
            <Loading />
          ) : (
            <LogTable events={drLog.events} id="dr-log-list" empty={t('dr.noLog')} />
          )}
        </Card>
      </div>
    </div>
  );
}
