/** Events: Stripe's events for connected accounts and PayBridge's own (session.*, connection.*, sync.*, records.*). */
import { useState } from 'react';
import { api, qs, type List } from '../api';
import { go, useShell } from '../App';
import { ago, Badge, Card, Empty, Json, Loaded, Page, PagedTable, useAsync, usePaged, when } from '../ui';

interface GatewayEvent { id: string; type: string; connection: string | null; data: Record<string, unknown>; created: number }

const GROUPS = ['session.*', 'connection.*', 'sync.*', 'records.*', 'payment_intent.*', 'charge.*', 'customer.*', 'checkout.session.*', 'invoice.*'];

function EventDetail(p: { id: string }) {
  const { scope } = useShell();
  const e = useAsync(() => api<GatewayEvent>('GET', `/v1/gateway_events/${p.id}`), [p.id, scope]);
  return <Loaded state={e}>{(d) => (
    <Page title={d.type} subtitle={<><a href="#/events">Events</a> / {d.id} · {when(d.created)}</>}>
      <Card title="Event data"><Json value={d.data} /></Card>
    </Page>
  )}</Loaded>;
}

export function Events(p: { id?: string }) {
  const { scope } = useShell();
  const [type, setType] = useState('');
  const list = usePaged((after) => api<List<GatewayEvent>>('GET', `/v1/gateway_events${qs({ type, limit: 20, starting_after: after })}`), [scope, type]);
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
              { label: 'Object', render: (e) => <span className="mono small">{String(e.data.id ?? e.data.connection ?? '')}</span> },
              { label: 'Connection', render: (e) => <span className="mono small">{e.connection ?? '—'}</span> },
              { label: 'Id', render: (e) => <span className="mono small muted">{e.id}</span> },
              { label: 'When', render: (e) => ago(e.created) },
        ]} />
      </Card>
    </Page>
  );
}
