/** Webhook endpoints of the app: create (secret shown once), delivery attempts, replay. */
import { useState } from 'react';
import { api, type List } from '../api';
import { useShell } from '../App';
import { ago, Badge, Card, Empty, Field, Modal, Notice, Page, Secret, Table, useAsync, when } from '../ui';

export interface EndpointHealth { status: 'ok' | 'failing' | 'unknown'; last_attempt: { at: number; http_status: number | null; error: string | null; response: string | null; event_type: string } | null; retrying: number }
export interface Endpoint { id: string; url: string; enabled_events: string[]; status: string; disabled_reason: string | null; description: string | null; created: number; secret?: string; health?: EndpointHealth }
interface Delivery { id: string; event: string; type: string; status: string; attempts: number; last_status: number | null; last_error: string | null; last_response: string | null; next_attempt_at: number | null }

/** What the endpoint's last answer was, in words: the status and the start of its body, or the network error. */
export const lastAnswer = (a: { http_status?: number | null; last_status?: number | null; error?: string | null; last_error?: string | null; response?: string | null; last_response?: string | null }) => {
  const status = a.http_status ?? a.last_status;
  const body = (a.response ?? a.last_response ?? '').trim().slice(0, 140);
  if (status) return `HTTP ${status}${body ? `: ${body}` : ''}`;
  return a.error ?? a.last_error ?? 'no answer';
};

/** An endpoint's state as a person needs it: disabled, failing (with its last answer), delivering, or not used yet. */
export function EndpointBadge(p: { e: Endpoint }) {
  if (p.e.status !== 'enabled') return <Badge tone="bad" dot>Disabled{p.e.disabled_reason ? `: ${p.e.disabled_reason}` : ''}</Badge>;
  if (p.e.health?.status === 'failing') return <Badge tone="bad" dot>Failing</Badge>;
  if (p.e.health?.status === 'ok') return <Badge tone="ok" dot>Delivering</Badge>;
  return <Badge dot>Enabled · nothing sent yet</Badge>;
}

const DELIVERY: Record<string, [string, 'ok' | 'warn' | 'bad' | undefined]> = { succeeded: ['Delivered', 'ok'], pending: ['Retrying', 'warn'], failed: ['Gave up', 'bad'], canceled: ['Canceled', undefined] };

function Deliveries(p: { endpoint: Endpoint }) {
  const { scope } = useShell();
  const list = useAsync(() => api<List<Delivery>>('GET', `/v1/webhook_endpoints/${p.endpoint.id}/deliveries`), [p.endpoint.id, scope]);
  const [note, setNote] = useState('');
  const replay = async (id: string) => {
    await api('POST', `/v1/webhook_deliveries/${id}/replay`).then(() => setNote('Sent again. The result appears here in a moment.'), (e: Error) => setNote(e.message));
    setTimeout(list.reload, 800);
  };
  const rows = list.data?.data ?? [];
  return (
    <Card title={<>Deliveries to <span className="mono small">{p.endpoint.url}</span></>} flush actions={<button className="small" onClick={list.reload}>Refresh</button>}>
      {note && <div style={{ padding: '12px 20px 0' }}><Notice tone="info">{note}</Notice></div>}
      {list.data && rows.length === 0 ? <Empty icon="↗" title="Nothing sent yet">Deliveries appear here when an event this endpoint listens to happens.</Empty> : (
        <Table label="Deliveries" rows={rows} rowKey={(d) => d.id} columns={[
          { label: 'Event', render: (d) => <><Badge tone="brand">{d.type}</Badge><div className="mono small muted">{d.event}</div></> },
          { label: 'Result', render: (d) => (d.status === 'pending' && d.attempts === 0 ? <Badge dot>Queued</Badge> : <Badge tone={DELIVERY[d.status]?.[1]} dot>{DELIVERY[d.status]?.[0] ?? d.status}</Badge>) },
          { label: 'Attempts', render: (d) => <>{d.attempts}{d.attempts > 0 && <div className="muted small wrap-anywhere">Last answer: {lastAnswer(d)}</div>}</> },
          { label: 'Next attempt', render: (d) => (d.next_attempt_at ? when(d.next_attempt_at) : '—') },
          { label: '', render: (d) => <button className="small" onClick={() => replay(d.id)}>Send again</button> },
        ]} />
      )}
    </Card>
  );
}

export function Webhooks(p: { id?: string }) {
  const { scope, mode } = useShell();
  const list = useAsync(() => api<List<Endpoint>>('GET', '/v1/webhook_endpoints'), [scope]);
  const [creating, setCreating] = useState(false);
  const [url, setUrl] = useState('');
  const [events, setEvents] = useState('*');
  const [error, setError] = useState('');
  /** The add dialog's own error: shown in the dialog only, not twice (issue 18). */
  const [createError, setCreateError] = useState('');
  const [created, setCreated] = useState<Endpoint | null>(null);
  const [open, setOpen] = useState<string | undefined>(p.id);
  const [deleting, setDeleting] = useState<Endpoint | null>(null);
  const create = async () => {
    setCreateError('');
    try {
      const e = await api<Endpoint>('POST', '/v1/webhook_endpoints', { url: url.trim(), enabled_events: events.split(',').map((x) => x.trim()).filter(Boolean) });
      setCreating(false);
      setCreated(e);
      list.reload();
    } catch (e) {
      setCreateError((e as Error).message);
    }
  };
  const remove = async (id: string) => {
    await api('DELETE', `/v1/webhook_endpoints/${id}`).catch((e: Error) => setError(e.message));
    setDeleting(null);
    list.reload();
  };
  const rows = list.data?.data ?? [];
  const selected = rows.find((r) => r.id === open);
  return (
    <Page title="Webhooks" subtitle={`Where PayBridge sends ${mode} mode events to your app, signed like Stripe's (verify with stripe.webhooks.constructEvent).`} actions={<button className="primary" onClick={() => setCreating(true)}>Add endpoint</button>}>
      <div className="stack">
        {error && <Notice tone="bad">{error}</Notice>}
        <Card flush>
          {list.data && rows.length === 0 ? (
            <Empty icon="↗" title="No webhook endpoints yet" action={<button className="primary" onClick={() => setCreating(true)}>Add endpoint</button>}>
              Add your app's URL to receive Stripe's events from your connected accounts and PayBridge's own (payment sessions, connections, syncs). Failed deliveries are retried for three days.
            </Empty>
          ) : (
            <Table label="Webhook endpoints" rows={rows} rowKey={(e) => e.id} onRow={(e) => setOpen(e.id)} columns={[
              { label: 'URL', render: (e) => <span className="mono">{e.url}</span> },
              { label: 'Events', render: (e) => (e.enabled_events.includes('*') ? 'All events' : e.enabled_events.join(', ')) },
              { label: 'Status', render: (e) => <><EndpointBadge e={e} />{e.health?.status === 'failing' && e.health.last_attempt && <div className="small muted wrap-anywhere">{lastAnswer(e.health.last_attempt)}{e.health.retrying ? ` · ${e.health.retrying} waiting to retry` : ''}</div>}</> },
              { label: 'Created', render: (e) => ago(e.created) },
              { label: '', render: (e) => <button className="small danger" onClick={(ev) => { ev.stopPropagation(); setDeleting(e); }}>Delete</button> },
            ]} />
          )}
        </Card>
        {selected && <Deliveries endpoint={selected} />}
      </div>
      {creating && (
        <Modal title="Add a webhook endpoint" onClose={() => setCreating(false)} footer={<><button onClick={() => setCreating(false)}>Cancel</button><button className="primary" disabled={!url} onClick={create}>Add endpoint</button></>}>
          {createError && <Notice tone="bad">{createError}</Notice>}
          <Field label="Endpoint URL"><input value={url} onChange={(e) => setUrl(e.target.value)} placeholder="https://example.com/webhooks/paybridge" /></Field>
          <Field label="Events" hint="Comma-separated, e.g. payment_intent.succeeded, session.*; * for all."><input value={events} onChange={(e) => setEvents(e.target.value)} /></Field>
        </Modal>
      )}
      {deleting && (
        <Modal title="Delete this endpoint?" onClose={() => setDeleting(null)} footer={<><button onClick={() => setDeleting(null)}>Keep it</button><button className="primary" style={{ background: '#b91c1c', borderColor: '#b91c1c' }} onClick={() => remove(deleting.id)}>Delete endpoint</button></>}>
          <p style={{ margin: 0 }}>PayBridge stops sending events to <span className="mono wrap-anywhere">{deleting.url}</span>, and deliveries waiting to be retried are dropped. Other endpoints keep receiving theirs.</p>
        </Modal>
      )}
      {created?.secret && (
        <Modal title="Endpoint added" onClose={() => setCreated(null)} footer={<button className="primary" onClick={() => setCreated(null)}>I have stored it</button>}>
          <Notice tone="warn">This signing secret is shown once. Your app needs it to verify PayBridge-Signature.</Notice>
          <Field label="Signing secret"><Secret value={created.secret} label="Signing secret" /></Field>
        </Modal>
      )}
    </Page>
  );
}
