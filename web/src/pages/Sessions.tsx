/** Payment sessions: charges and saved cards collected on hosted pages. */
import { useState } from 'react';
import { api, qs, type List } from '../api';
import { go, useShell } from '../App';
import { ago, Badge, Card, Empty, Json, Loaded, Notice, Page, PagedTable, money, useAsync, usePaged, when } from '../ui';
import { ConnectionFilter } from './Connections';

interface Session {
  id: string; mode: 'charge' | 'tokenize'; status: string; connection: string; amount: number | null; currency: string | null;
  customer_email: string | null; description: string | null; url: string; processor: Record<string, unknown> | null;
  failure: { message?: string; code?: string; decline_code?: string } | null; expires_at: number; created: number; metadata: unknown;
}

const TONE: Record<string, 'ok' | 'warn' | 'bad' | undefined> = { succeeded: 'ok', open: 'warn', failed: 'bad', expired: undefined, canceled: undefined };
const STATUS_WORDS: Record<string, string> = { succeeded: 'Succeeded', open: 'Waiting for payer', failed: 'Failed', expired: 'Expired', canceled: 'Canceled' };
export const SessionStatus = (p: { status: string }) => <Badge tone={TONE[p.status]} dot>{STATUS_WORDS[p.status] ?? p.status}</Badge>;

function SessionDetail(p: { id: string }) {
  const { scope } = useShell();
  const s = useAsync(() => api<Session>('GET', `/v1/sessions/${p.id}`), [p.id, scope]);
  return <Loaded state={s}>{(d) => (
    <Page title={d.mode === 'charge' ? money(d.amount, d.currency ?? 'usd') : 'Saved card'} subtitle={<><a href="#/sessions">Payment sessions</a> / {d.id}</>} actions={<SessionStatus status={d.status} />}>
      <div className="grid cols-2">
        <Card title="Session">
          <dl className="details">
            <dt>Kind</dt><dd>{d.mode === 'charge' ? 'Charge' : 'Save a card for later'}</dd>
            <dt>Customer email</dt><dd>{d.customer_email ?? '—'}</dd>
            <dt>Description</dt><dd>{d.description ?? '—'}</dd>
            <dt>Connection</dt><dd><a href={`#/connections/${d.connection}`}>{d.connection}</a></dd>
            <dt>Payment page</dt><dd><a href={d.url} target="_blank" rel="noreferrer">{d.url}</a></dd>
            <dt>Created</dt><dd>{when(d.created)}</dd>
            <dt>Expires</dt><dd>{when(d.expires_at)}</dd>
          </dl>
          {d.failure && <div style={{ marginTop: 12 }}><Notice tone="bad">{d.failure.message ?? 'The payment failed.'}</Notice></div>}
        </Card>
        <Card title="Processor details">{d.processor ? <Json value={d.processor} /> : <p className="muted" style={{ margin: 0 }}>Filled in once the payer completes the payment.</p>}</Card>
      </div>
    </Page>
  )}</Loaded>;
}

export function Sessions(p: { id?: string }) {
  const { scope } = useShell();
  const [status, setStatus] = useState('');
  const [connection, setConnection] = useState('');
  const list = usePaged((after) => api<List<Session>>('GET', `/v1/sessions${qs({ status, connection, limit: 20, starting_after: after })}`), [scope, status, connection]);
  if (p.id) return <SessionDetail id={p.id} />;
  return (
    <Page title="Payment sessions" subtitle="Charges and saved cards collected on hosted payment pages." actions={<>
      <ConnectionFilter value={connection} onChange={setConnection} />
      <select aria-label="Status" value={status} onChange={(e) => setStatus(e.target.value)}>
        <option value="">All statuses</option>{Object.entries(STATUS_WORDS).map(([k, v]) => <option key={k} value={k}>{v}</option>)}
      </select>
    </>}>
      <Card flush>
        <PagedTable list={list} label="Payment sessions" onRow={(s) => go(`sessions/${s.id}`)} empty={
          <Empty icon="▭" title={status || connection ? 'No sessions match these filters' : 'No payment sessions yet'}>
            Create one with <code>POST /v1/sessions</code> and send the payer to its <code>url</code>; it shows up here with its result.
          </Empty>
        } columns={[
              { label: 'Amount', render: (s) => <strong>{s.mode === 'charge' ? money(s.amount, s.currency ?? 'usd') : 'Card'}</strong> },
              { label: 'Status', render: (s) => <SessionStatus status={s.status} /> },
              { label: 'Customer', render: (s) => s.customer_email ?? '—' },
              { label: 'Connection', render: (s) => <code>{s.connection}</code> },
              { label: 'Description', render: (s) => s.description ?? '—' },
              { label: 'Created', render: (s) => ago(s.created) },
        ]} />
      </Card>
    </Page>
  );
}
