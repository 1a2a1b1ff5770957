/** Payment sessions: charges and saved cards collected on hosted pages. */
import { Fragment, useState } from 'react';
import { api, qs, type List } from '../api';
import { go, useShell } from '../App';
import { CopyId, ago, Badge, Card, Empty, Field, Loaded, Modal, Notice, Page, PagedTable, money, useAsync, usePaged, when } from '../ui';
import { accountLabel, ConnectionFilter, useConnectionLabels, type Connection } from './Connections';

interface TimelineEntry { at: number; kind: string; title: string; detail?: Record<string, unknown> }
const ENTRY_TONE: Record<string, 'ok' | 'bad' | 'brand' | undefined> = { attempt_succeeded: 'ok', attempt_failed: 'bad', event: 'brand' };

/** Processor fields by name, in words; anything else Stripe returned follows under its own name. */
const PROCESSOR_FIELDS: [string, string][] = [
  ['stripe_payment_intent_id', 'PaymentIntent'], ['stripe_charge_id', 'Charge'], ['stripe_customer_id', 'Customer'], ['payment_method_id', 'Payment method'],
  ['card_brand', 'Card brand'], ['card_last4', 'Card number'], ['receipt_url', 'Receipt'],
  ['charge_type', 'Charge type'], ['application_fee_amount', 'Platform fee'], ['application_fee_id', 'Application fee'], ['transfer_id', 'Transfer'],
  ['destination_account', 'Paid to account'], ['on_behalf_of', 'On behalf of'],
];

function Processor(p: { processor: Record<string, unknown>; currency: string }) {
  const known = new Set(PROCESSOR_FIELDS.map(([k]) => k));
  const value = (k: string, v: unknown) => (k === 'receipt_url' && typeof v === 'string' ? <a href={v} target="_blank" rel="noreferrer">Open receipt</a> : k === 'card_last4' ? `•••• ${v}`
    : k === 'application_fee_amount' && typeof v === 'number' ? money(v, p.currency) : k === 'charge_type' ? (v === 'destination' ? 'Destination charge (on the platform)' : 'Direct charge (on the account)') : <span className="mono wrap-anywhere">{String(v)}</span>);
  return (
    <dl className="details">
      {PROCESSOR_FIELDS.filter(([k]) => p.processor[k] !== undefined && p.processor[k] !== null).map(([k, label]) => <Fragment key={k}><dt>{label}</dt><dd>{value(k, p.processor[k])}</dd></Fragment>)}
      {Object.entries(p.processor).filter(([k, v]) => !known.has(k) && v !== null).map(([k, v]) => <Fragment key={k}><dt>{k.replace(/_/g, ' ')}</dt><dd>{value(k, v)}</dd></Fragment>)}
    </dl>
  );
}

function Timeline(p: { id: string; status: string }) {
  const { scope } = useShell();
  const t = useAsync(() => api<List<TimelineEntry>>('GET', `/v1/sessions/${p.id}/timeline`), [p.id, scope, p.status]);
  return (
    <Card title="Timeline" flush>
      {t.error && <Notice tone="bad">{t.error}</Notice>}
      {!t.data && !t.error && <p className="muted" style={{ padding: '12px 20px', margin: 0 }}>Loading…</p>}
      <ol className="timeline" aria-label="Session timeline">
        {(t.data?.data ?? []).map((e, i) => (
          <li key={i}>
            <Badge tone={ENTRY_TONE[e.kind]} dot>{when(e.at)}</Badge>
            <div>
              <strong>{e.title}</strong>
              {e.detail && <div className="small muted wrap-anywhere">{Object.entries(e.detail).filter(([, v]) => v !== null && v !== undefined).map(([k, v]) => `${k.replace(/_/g, ' ')}: ${v}`).join(' · ')}</div>}
            </div>
          </li>
        ))}
      </ol>
    </Card>
  );
}

function NewSession(p: { onClose: () => void; onCreated: (s: Session) => void }) {
  const { scope } = useShell();
  const connections = useAsync(() => api<List<Connection>>('GET', '/v1/connections'), [scope]);
  const usable = (connections.data?.data ?? []).filter((c) => c.status === 'active');
  const fallback = usable.find((c) => c.default_for_sessions) ?? usable[0];
  const [form, setForm] = useState({ mode: 'charge', amount: '', currency: 'usd', customer_email: '', description: '', connection: '', fee: '', charge_type: 'direct' });
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const set = (k: keyof typeof form) => (e: { target: { value: string } }) => setForm({ ...form, [k]: e.target.value });
  // A platform fee is taken on a Connect OAuth connection only.
  const chosen = usable.find((c) => c.id === form.connection) ?? fallback;
  const connect = form.mode === 'charge' && chosen?.type === 'oauth';
  const create = async () => {
    setBusy(true);
    setError('');
    const amount = Math.round(Number(form.amount.replace(',', '.')) * 100);
    try {
      p.onCreated(await api<Session>('POST', '/v1/sessions', {
        mode: form.mode, ...(form.mode === 'charge' ? { amount, currency: form.currency } : {}), connection: form.connection || fallback?.id,
        ...(form.customer_email.trim() ? { customer_email: form.customer_email.trim() } : {}), ...(form.description.trim() ? { description: form.description.trim() } : {}),
        success_url: `${window.location.origin}/#/sessions`,
        ...(connect && form.fee.trim() ? { application_fee_amount: Math.round(Number(form.fee.replace(',', '.')) * 100), charge_type: form.charge_type } : {}),
      }));
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };
  const amountOk = form.mode === 'tokenize' || (Number(form.amount.replace(',', '.')) > 0);
  return (
    <Modal title="New payment session" onClose={p.onClose} footer={<><button onClick={p.onClose}>Cancel</button><button className="primary" disabled={busy || !amountOk || !fallback} onClick={create}>{busy ? 'Creating…' : 'Create session'}</button></>}>
      {error && <Notice tone="bad">{error}</Notice>}
      {connections.data && !fallback && <Notice tone="warn">Connect a Stripe account first: a session is paid into one.</Notice>}
      <Field label="Kind"><select value={form.mode} onChange={set('mode')}><option value="charge">Take a payment</option><option value="tokenize">Save a card for later</option></select></Field>
      {form.mode === 'charge' && (
        <div className="row" style={{ gap: 12 }}>
          <Field label="Amount"><input inputMode="decimal" value={form.amount} onChange={set('amount')} placeholder="e.g. 49.00" /></Field>
          <Field label="Currency"><select value={form.currency} onChange={set('currency')}>{['usd', 'eur', 'gbp', 'cad', 'aud', 'jpy'].map((c) => <option key={c} value={c}>{c.toUpperCase()}</option>)}</select></Field>
        </div>
      )}
      <Field label="Customer email" hint="Optional: prefilled on the payment page."><input type="email" value={form.customer_email} onChange={set('customer_email')} placeholder="e.g. jenny@example.com" /></Field>
      <Field label="Description" hint="Optional: shown to the payer and in Stripe."><input value={form.description} onChange={set('description')} placeholder="e.g. Annual plan" /></Field>
      {connect && (
        <div className="row" style={{ gap: 12, flexWrap: 'wrap' }}>
          <Field label="Platform fee" hint="Optional: what the platform keeps."><input inputMode="decimal" value={form.fee} onChange={set('fee')} placeholder="e.g. 4.90" aria-label="Platform fee" /></Field>
          <Field label="Charge type"><select value={form.charge_type} onChange={set('charge_type')} aria-label="Charge type"><option value="direct">Direct (on the account)</option><option value="destination">Destination (on the platform)</option></select></Field>
        </div>
      )}
      <Field label="Paid into" hint={fallback ? `Without a choice, new sessions go to ${accountLabel(fallback)}${fallback.default_for_sessions ? ' (the default for sessions)' : ' (the newest connection; make one the default on its page)'}.` : undefined}>
        <select value={form.connection} onChange={set('connection')} aria-label="Connection for the session">
          <option value="">{fallback ? `Default: ${accountLabel(fallback)}` : 'No connection'}</option>
          {usable.map((c) => <option key={c.id} value={c.id}>{accountLabel(c)} · {c.id}</option>)}
        </select>
      </Field>
    </Modal>
  );
}

interface Session {
  id: string; mode: 'charge' | 'tokenize'; status: string; connection: string; amount: number | null; currency: string | null;
  customer_email: string | null; description: string | null; url: string; processor: Record<string, unknown> | null;
  failure: { message?: string; code?: string; decline_code?: string } | null; expires_at: number; created: number; metadata: unknown;
  charge_type: 'direct' | 'destination' | null; application_fee_amount: number | null;
}

const TONE: Record<string, 'ok' | 'warn' | 'bad' | undefined> = { succeeded: 'ok', open: 'warn', failed: 'bad', expired: undefined, canceled: undefined };
const STATUS_WORDS: Record<string, string> = { succeeded: 'Succeeded', open: 'Waiting for payer', failed: 'Failed', expired: 'Expired', canceled: 'Canceled' };
export const SessionStatus = (p: { status: string }) => <Badge tone={TONE[p.status]} dot>{STATUS_WORDS[p.status] ?? p.status}</Badge>;

function SessionDetail(p: { id: string }) {
  const { scope } = useShell();
  const s = useAsync(() => api<Session>('GET', `/v1/sessions/${p.id}`), [p.id, scope]);
  const label = useConnectionLabels();
  const [canceling, setCanceling] = useState(false);
  const [error, setError] = useState('');
  const cancel = async () => {
    try {
      await api('POST', `/v1/sessions/${p.id}/cancel`);
      setCanceling(false);
      s.reload();
    } catch (e) {
      setError((e as Error).message);
      setCanceling(false);
    }
  };
  return <Loaded state={s}>{(d) => (
    <Page title={d.mode === 'charge' ? money(d.amount, d.currency ?? 'usd') : 'Saved card'} subtitle={<><a href="#/sessions">Payment sessions</a> / <CopyId id={d.id} /></>} actions={<><SessionStatus status={d.status} />{d.status === 'open' && <button className="danger" onClick={() => setCanceling(true)}>Cancel session</button>}</>}>
      <div className="stack">
      {error && <Notice tone="bad">{error}</Notice>}
      {d.status === 'open' && d.failure && <Notice tone="bad">Last attempt failed: {d.failure.message}{d.failure.decline_code ? ` (${d.failure.decline_code})` : ''}. The payer can try again on the payment page.</Notice>}
      <div className="grid cols-2">
        <Card title="Session">
          <dl className="details">
            <dt>Kind</dt><dd>{d.mode === 'charge' ? 'Charge' : 'Save a card for later'}</dd>
            <dt>Customer email</dt><dd>{d.customer_email ?? '—'}</dd>
            <dt>Description</dt><dd>{d.description ?? '—'}</dd>
            <dt>Connection</dt><dd><a href={`#/connections/${d.connection}`}>{label(d.connection)}</a></dd>
            {d.charge_type && <><dt>Platform fee</dt><dd>{d.application_fee_amount !== null ? money(d.application_fee_amount, d.currency ?? 'usd') : 'None'} · {d.charge_type === 'destination' ? 'destination charge' : 'direct charge'}</dd></>}
            <dt>Payment page</dt><dd><a href={d.url} target="_blank" rel="noreferrer">{d.url}</a></dd>
            <dt>Created</dt><dd>{when(d.created)}</dd>
            <dt>Expires</dt><dd>{when(d.expires_at)}</dd>
          </dl>
          {d.status !== 'open' && d.failure && <div style={{ marginTop: 12 }}><Notice tone="bad">{d.failure.message ?? 'The payment failed.'}</Notice></div>}
        </Card>
        <Card title="Processor details">{d.processor ? <Processor processor={d.processor} currency={d.currency ?? 'usd'} /> : <p className="muted" style={{ margin: 0 }}>{d.status === 'open' ? 'Filled in once the payer completes the payment.' : d.mode === 'charge' ? 'No payment was taken.' : 'No card was saved.'}</p>}</Card>
      </div>
      <Timeline id={d.id} status={d.status} />
      </div>
      {canceling && (
        <Modal title="Cancel this session?" onClose={() => setCanceling(false)} footer={<><button onClick={() => setCanceling(false)}>Keep it open</button><button className="primary" style={{ background: '#b91c1c', borderColor: '#b91c1c' }} onClick={cancel}>Cancel session</button></>}>
          <p style={{ margin: 0 }}>The payment page stops taking payments and your app receives <code>session.canceled</code>. Nothing has been charged.</p>
        </Modal>
      )}
    </Page>
  )}</Loaded>;
}

export function Sessions(p: { id?: string }) {
  const { scope } = useShell();
  const [status, setStatus] = useState('');
  const [connection, setConnection] = useState('');
  const list = usePaged((after) => api<List<Session>>('GET', `/v1/sessions${qs({ status, connection, limit: 20, starting_after: after })}`), [scope, status, connection]);
  const label = useConnectionLabels();
  const [creating, setCreating] = useState(false);
  if (p.id) return <SessionDetail id={p.id} />;
  return (
    <Page title="Payment sessions" subtitle="Charges and saved cards collected on hosted payment pages." actions={<>
      <ConnectionFilter value={connection} onChange={setConnection} />
      <select aria-label="Status" value={status} onChange={(e) => setStatus(e.target.value)}>
        <option value="">All statuses</option>{Object.entries(STATUS_WORDS).map(([k, v]) => <option key={k} value={k}>{v}</option>)}
      </select>
      <button className="primary" onClick={() => setCreating(true)}>New session</button>
    </>}>
      {creating && <NewSession onClose={() => setCreating(false)} onCreated={(s) => { setCreating(false); go(`sessions/${s.id}`); }} />}
      <Card flush>
        <PagedTable list={list} label="Payment sessions" onRow={(s) => go(`sessions/${s.id}`)} empty={
          <Empty icon="▭" title={status || connection ? 'No sessions match these filters' : 'No payment sessions yet'}>
            Create one here with <strong>New session</strong>, or with <code>POST /v1/sessions</code> from your app, and send the payer to its payment page; it shows up here with its result.
          </Empty>
        } columns={[
              { label: 'Amount', render: (s) => <strong>{s.mode === 'charge' ? money(s.amount, s.currency ?? 'usd') : 'Card'}</strong> },
              { label: 'Status', render: (s) => <SessionStatus status={s.status} /> },
              { label: 'Customer', render: (s) => s.customer_email ?? '—' },
              { label: 'Connection', render: (s) => <span className="small">{label(s.connection)}</span> },
              { label: 'Description', render: (s) => s.description ?? '—' },
              { label: 'Created', render: (s) => ago(s.created) },
        ]} />
      </Card>
    </Page>
  );
}
