/** Events: Stripe's events for connected accounts and PayBridge's own (session.*, connection.*, sync.*, records.*). */
import { useState } from 'react';
import { api, qs, type List } from '../api';
import { go, useShell } from '../App';
import { CopyId, ago, Badge, Card, Empty, Json, Loaded, Page, PagedTable, Table, useAsync, usePaged, when } from '../ui';
import { useConnectionLabels } from './Connections';
import { lastAnswer } from './Webhooks';

interface EventDelivery { id: string; endpoint: string; endpoint_url: string; status: string; attempts: number; last_status: number | null; last_error: string | null; last_response: string | null }
const DELIVERY_WORDS: Record<string, [string, 'ok' | 'warn' | 'bad' | undefined]> = { succeeded: ['Delivered', 'ok'], pending: ['Retrying', 'warn'], failed: ['Gave up', 'bad'], canceled: ['Canceled', undefined] };

/** What an event is about: the object's id, a session, a connection. */
const subjectOf = (data: Record<string, unknown>): string => {
  const session = data.session as { id?: string } | undefined;
  return String(data.id ?? session?.id ?? data.connection ?? data.model ?? '');
};

/** Where in the dashboard the event's subject lives. */
function subjectLink(e: GatewayEvent): { href: string; text: string } | null {
  const session = (e.data.session as { id?: string } | undefined)?.id;
  if (session) return { href: `#/sessions/${session}`, text: `Payment session ${session}` };
  const connection = (e.data.connection as string | undefined) ?? e.connection;
  if (e.type.startsWith('connection.') && connection) return { href: `#/connections/${connection}`, text: `Connection ${connection}` };
  if (e.type.startsWith('sync.') || e.type.startsWith('records.')) return connection ? { href: '#/syncs', text: 'Syncs & reports' } : null;
  return null;
}

interface GatewayEvent { id: string; type: string; connection: string | null; data: Record<string, unknown>; created: number }

const GROUPS = ['session.*', 'connection.*', 'sync.*', 'records.*', 'payment_intent.*', 'charge.*', 'customer.*', 'checkout.session.*', 'invoice.*'];

function EventDetail(p: { id: string }) {
  const { scope } = useShell();
  const e = useAsync(() => api<GatewayEvent>('GET', `/v1/gateway_events/${p.id}`), [p.id, scope]);
  const deliveries = useAsync(() => api<List<EventDelivery>>('GET', `/v1/gateway_events/${p.id}/deliveries`), [p.id, scope]);
  const label = useConnectionLabels();
  return <Loaded state={e}>{(d) => {
    const link = subjectLink(d);
    return (
      <Page title={d.type} subtitle={<><a href="#/events">Events</a> / <CopyId id={d.id} /> · {when(d.created)}</>}>
        <div className="stack">
          <Card title="About">
            <dl className="details">
              <dt>Subject</dt><dd>{link ? <a href={link.href}>{link.text}</a> : <span className="mono wrap-anywhere">{subjectOf(d.data) || '—'}</span>}</dd>
              <dt>Connection</dt><dd>{d.connection ? <><a href={`#/connections/${d.connection}`}>{label(d.connection)}</a> · <a href={`#/logs?connection=${d.connection}`}>its requests</a></> : '—'}</dd>
            </dl>
          </Card>
          <Card title="Deliveries to your webhook endpoints" flush>
            {deliveries.data && deliveries.data.data.length === 0 && <p className="muted" style={{ padding: '16px 20px', margin: 0 }}>No endpoint listens to {d.type}. <a href="#/webhooks">Add one</a> to receive it.</p>}
            {(deliveries.data?.data.length ?? 0) > 0 && (
              <Table label="Event deliveries" rows={deliveries.data!.data} rowKey={(x) => x.id} columns={[
                { label: 'Endpoint', render: (x) => <a href={`#/webhooks/${x.endpoint}`} className="mono small wrap-anywhere">{x.endpoint_url}</a> },
                { label: 'Result', render: (x) => <Badge tone={DELIVERY_WORDS[x.status]?.[1]} dot>{DELIVERY_WORDS[x.status]?.[0] ?? x.status}</Badge> },
                { label: 'Attempts', render: (x) => <>{x.attempts}{x.attempts > 0 && <div className="small muted wrap-anywhere">Last answer: {lastAnswer(x)}</div>}</> },
              ]} />
            )}
          </Card>
          <Card title="Event data"><Json value={d.data} /></Card>
        </div>
      </Page>
    );
  }}</Loaded>;
}

export function Events(p: { id?: string }) {
  const { scope } = useShell();
  const [type, setType] = useState('');
  const list = usePaged((after) => api<List<GatewayEvent>>('GET', `/v1/gateway_events${qs({ type, limit: 20, starting_after: after })}`), [scope, type]);
  const label = useConnectionLabels();
  if (p.id) return <EventDetail id={p.id} />;
  return (
    <Page title="Events" subtitle="What happened on your connected accounts and in PayBridge; apps receive these at their webhook endpoints." actions={
      <select aria-label="Event type" value={type} onChange={(e) => setType(e.target.value)}>
        <option value="">All events</option>{GROUPS.map((g) => <option key={g} value={g}>{g}</option>)}
      </select>
    }>
      <Card flush>
        <PagedTable list={list} label="Events" onRow={(e) => go(`events/${e.id}`)} empty={type
          ? <Empty icon="◎" title="No events match this filter">Choose “All events” to see every event.</Empty>
          : <Empty icon="◎" title="No events yet">Events arrive when Stripe reports a change on a connected account, when payment sessions finish, and when syncs run.</Empty>
        } columns={[
              { label: 'Event', render: (e) => <Badge tone={e.type.endsWith('failed') || e.type.endsWith('disabled') ? 'bad' : 'brand'}>{e.type}</Badge> },
              { label: 'Object', render: (e) => <span className="mono small">{subjectOf(e.data) || '—'}</span> },
              { label: 'Connection', render: (e) => <span className="small">{e.connection ? label(e.connection) : '—'}</span> },
              { label: 'Id', render: (e) => <span className="mono small muted">{e.id}</span> },
              { label: 'When', render: (e) => ago(e.created) },
        ]} />
      </Card>
    </Page>
  );
}
