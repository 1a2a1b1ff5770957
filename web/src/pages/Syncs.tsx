/** Syncs of Stripe data per connection, and the reports computed from them. */
import { useEffect, useState } from 'react';
import { api, qs, type List } from '../api';
import { go, useShell } from '../App';
import { Badge, Card, Empty, Notice, Page, Table, YAxis, money, niceMax, useAsync, when } from '../ui';
import { accountLabel, type Connection } from './Connections';

interface SyncStatus { models: { model: string; status: string; synced: number; error: string | null; last_synced_at: number | null }[] }
interface Revenue { rows: { month: string; product: string; currency: string; gross: number; refunds: number; net: number; count: number }[] }
interface Subscriptions { mrr: { currency: string; mrr: number; subscriptions: number }[]; active: number; churned_30d: number; churn_rate_30d: number }
interface PlatformFees { rows: { connection: string; account: string | null; month: string; currency: string; fees: number; refunded: number; net: number; count: number }[] }
interface ConnectionTotals { rows: { connection: string; month: string; currency: string; gross: number; refunds: number; platform_fees: number; net: number; count: number }[] }
interface Failed { rows: { charge: string; customer: string | null; customer_email: string | null; customer_name: string | null; amount: number; currency: string; decline_reason: string | null; message: string | null; created: number }[] }

const SYNC: Record<string, [string, 'ok' | 'warn' | 'bad' | undefined]> = { synced: ['Up to date', 'ok'], backfilling: ['Copying', 'warn'], error: ['Failed', 'bad'], skipped: ['Skipped', undefined] };

/** Net revenue and refunds by month for one currency: minor units of different currencies are never added up. */
function RevenueBars(p: { rows: Revenue['rows']; currency: string }) {
  const byMonth = new Map<string, { net: number; refunds: number }>();
  for (const r of p.rows) {
    const m = byMonth.get(r.month) ?? { net: 0, refunds: 0 };
    byMonth.set(r.month, { net: m.net + r.net, refunds: m.refunds + r.refunds });
  }
  const months = [...byMonth.entries()].sort(([a], [b]) => a.localeCompare(b));
  const max = niceMax(Math.max(1, ...months.map(([, v]) => v.net + v.refunds)));
  const label = (m: string) => new Date(`${m}-01T00:00:00`).toLocaleDateString(undefined, { month: 'short', year: 'numeric' });
  return (
    <figure style={{ margin: 0 }}>
      <figcaption className="small muted" style={{ marginBottom: 6 }}>{p.currency.toUpperCase()}</figcaption>
      <div className="plot">
        <YAxis max={max} format={(n) => money(n, p.currency)} />
        <div className="row" style={{ alignItems: 'flex-end', gap: 16, height: 160, borderBottom: '1px solid var(--line)', borderLeft: '1px solid var(--line)', padding: '0 8px' }} role="img" aria-label={`Net revenue and refunds by month in ${p.currency.toUpperCase()}`}>
          {months.map(([m, v]) => (
            <div key={m} style={{ flex: '0 1 72px', display: 'flex', flexDirection: 'column', justifyContent: 'flex-end', height: '100%' }} title={`${label(m)}: net ${money(v.net, p.currency)}, refunds ${money(v.refunds, p.currency)}`}>
              <div className="small" style={{ textAlign: 'center', whiteSpace: 'nowrap' }}>{money(v.net, p.currency)}</div>
              <div style={{ height: `${(v.net / max) * 140}px`, background: 'var(--brand)', borderRadius: '4px 4px 0 0' }} />
              <div style={{ height: `${(v.refunds / max) * 140}px`, background: '#fca5a5' }} />
            </div>
          ))}
        </div>
      </div>
      <div className="row" style={{ justifyContent: 'space-between', paddingLeft: 40 }}>
        <div className="row small muted" style={{ gap: 16 }}>{months.map(([m]) => <span key={m} style={{ flex: '0 1 72px', textAlign: 'center' }}>{label(m)}</span>)}</div>
        <div className="legend"><span><i style={{ background: 'var(--brand)' }} />Net</span><span><i style={{ background: '#fca5a5' }} />Refunds</span></div>
      </div>
    </figure>
  );
}

function Reports(p: { connection: string; syncing: boolean }) {
  const { scope } = useShell();
  const data = useAsync(async () => {
    const c = qs({ connection: p.connection });
    const [revenue, subs, failed, fees, totals] = await Promise.all([
      api<Revenue>('GET', `/v1/reports/revenue${c}`), api<Subscriptions>('GET', `/v1/reports/subscriptions${c}`), api<Failed>('GET', `/v1/reports/failed_payments${qs({ connection: p.connection, hours: 24 })}`),
      api<PlatformFees>('GET', '/v1/reports/platform_fees'), api<ConnectionTotals>('GET', `/v1/reports/connections${c}`),
    ]);
    return { revenue, subs, failed, fees, totals };
  }, [p.connection, scope, p.syncing]);
  if (data.error) return <Notice tone="bad">{data.error}</Notice>;
  const d = data.data;
  if (!d) return null;
  return (
    <>
      <div className="grid cols-4">
        <div className="card stat"><div className="label">MRR</div><div className="value">{d.subs.mrr.length ? d.subs.mrr.map((m) => money(m.mrr, m.currency)).join(' + ') : money(0)}</div></div>
        <div className="card stat"><div className="label">Active subscriptions</div><div className="value">{d.subs.active}</div></div>
        <div className="card stat"><div className="label">Churn (30 days)</div><div className="value">{(d.subs.churn_rate_30d * 100).toFixed(1)}%</div></div>
        <div className="card stat"><div className="label">Failed payments (24 h)</div><div className="value">{d.failed.rows.length}</div></div>
      </div>
      <Card title="Revenue by month">{d.revenue.rows.length ? (
        <div className="stack">{[...new Set(d.revenue.rows.map((r) => r.currency))].sort().map((c) => <RevenueBars key={c} currency={c} rows={d.revenue.rows.filter((r) => r.currency === c)} />)}</div>
      ) : <p className="muted" style={{ margin: 0 }}>No succeeded charges synced yet.</p>}</Card>
      {d.revenue.rows.length > 0 && (
        <Card title="Revenue by product and month" flush>
          <Table label="Revenue" rows={d.revenue.rows} rowKey={(r) => `${r.month}${r.product}${r.currency}`} columns={[
            { label: 'Month', render: (r) => r.month }, { label: 'Product', render: (r) => r.product },
            { label: 'Gross', render: (r) => money(r.gross, r.currency) }, { label: 'Refunds', render: (r) => money(r.refunds, r.currency) },
            { label: 'Net', render: (r) => <strong>{money(r.net, r.currency)}</strong> }, { label: 'Charges', render: (r) => r.count },
          ]} />
        </Card>
      )}
      {d.totals.rows.length > 0 && (
        <Card title="Gross and net by month" flush>
          <Table label="Gross and net" rows={d.totals.rows} rowKey={(r) => `${r.month}${r.currency}`} columns={[
            { label: 'Month', render: (r) => r.month }, { label: 'Gross', render: (r) => money(r.gross, r.currency) }, { label: 'Refunds', render: (r) => money(r.refunds, r.currency) },
            { label: 'Platform fees', render: (r) => money(r.platform_fees, r.currency) }, { label: 'Net', render: (r) => <strong>{money(r.net, r.currency)}</strong> }, { label: 'Payments', render: (r) => r.count },
          ]} />
          <p className="small muted" style={{ padding: '8px 20px 14px', margin: 0 }}>What the account took, less refunds and the platform's fees; before Stripe's processing fees.</p>
        </Card>
      )}
      {d.fees.rows.length > 0 && (
        <Card title="Platform fees by connection and month" flush>
          <Table label="Platform fees" rows={d.fees.rows} rowKey={(r) => `${r.connection}${r.month}${r.currency}`} columns={[
            { label: 'Month', render: (r) => r.month }, { label: 'Connection', render: (r) => <span className="mono small">{r.account ?? r.connection}</span> },
            { label: 'Fees', render: (r) => money(r.fees, r.currency) }, { label: 'Refunded', render: (r) => money(r.refunded, r.currency) },
            { label: 'Net', render: (r) => <strong>{money(r.net, r.currency)}</strong> }, { label: 'Payments', render: (r) => r.count },
          ]} />
        </Card>
      )}
      <Card title="Failed payments in the last 24 hours" flush>
        {d.failed.rows.length === 0 ? <p className="muted" style={{ padding: '16px 20px', margin: 0 }}>None. Nothing to chase.</p> : (
          <Table label="Failed payments" rows={d.failed.rows} rowKey={(r) => r.charge} columns={[
            { label: 'Customer', render: (r) => (r.customer_email || r.customer_name ? <>{r.customer_name && <div>{r.customer_name}</div>}{r.customer_email && <div className="small">{r.customer_email}</div>}</> : <span className="mono">{r.customer ?? '—'}</span>) }, { label: 'Amount', render: (r) => money(r.amount, r.currency) },
            { label: 'Why', render: (r) => r.message ?? r.decline_reason ?? '—' }, { label: 'When', render: (r) => when(r.created) },
          ]} />
        )}
      </Card>
    </>
  );
}

export function Syncs() {
  const { scope } = useShell();
  const connections = useAsync(() => api<List<Connection>>('GET', '/v1/connections'), [scope]);
  const [chosen, setConnection] = useState('');
  const list = connections.data?.data ?? [];
  // Derived, not set by an effect: an effect that picks the first connection
  // can run after the person has chosen another and undo their choice.
  const connection = list.some((c) => c.id === chosen) ? chosen : (list[0]?.id ?? '');
  const status = useAsync(() => (connection ? api<SyncStatus>('GET', `/v1/connections/${connection}/sync`) : Promise.resolve({ models: [] })), [connection, scope]);
  const [error, setError] = useState('');
  const running = status.data?.models.some((m) => m.status === 'backfilling');
  useEffect(() => {
    if (!running) return;
    const t = setTimeout(status.reload, 1500);
    return () => clearTimeout(t);
  }, [running, status]);
  // Reloaded whenever the chosen connection's models change state: a sync can finish before the page ever saw it
  // running, and the overview would then still say "Not synced".
  const statusKey = (status.data?.models ?? []).map((m) => `${m.model}:${m.status}`).join();
  const overview = useAsync(() => Promise.all(list.map(async (c) => ({ c, s: await api<SyncStatus>('GET', `/v1/connections/${c.id}/sync`).catch(() => ({ models: [] })) }))), [connections.data, scope, statusKey]);
  const start = () => api('POST', `/v1/connections/${connection}/sync`).then(status.reload, (e: Error) => setError(e.message));
  if (connections.data && list.length === 0) {
    return <Page title="Syncs & reports"><Card><Empty icon="↻" title="Nothing to sync yet" action={<button className="primary" onClick={() => go('connections')}>Connect Stripe</button>}>Connect a Stripe account, then sync its customers, payments and subscriptions here for fast local queries and reports.</Empty></Card></Page>;
  }
  const models = status.data?.models ?? [];
  return (
    <Page title="Syncs & reports" subtitle="Stripe data copied into PayBridge's database, kept current by events, and reported on with SQL." actions={<>
      <select aria-label="Connection" value={connection} onChange={(e) => setConnection(e.target.value)}>{list.map((c) => <option key={c.id} value={c.id}>{accountLabel(c)} ({c.id})</option>)}</select>
      <button className="primary" disabled={!connection || running} onClick={start}>{running ? 'Syncing…' : models.length ? 'Catch up' : 'Start sync'}</button>
    </>}>
      <div className="stack">
        {error && <Notice tone="bad">{error}</Notice>}
        <Card title="Sync status" flush>
          {models.length === 0 ? <p className="muted" style={{ padding: '16px 20px', margin: 0 }}>This connection has not been synced yet. Start a sync to copy its data.</p> : (
            <Table label="Sync status" rows={models} rowKey={(m) => m.model} columns={[
              { label: 'Model', render: (m) => m.model.replace(/_/g, ' ') },
              { label: 'Status', render: (m) => <Badge tone={SYNC[m.status]?.[1]} dot>{SYNC[m.status]?.[0] ?? m.status}</Badge> },
              { label: 'Records', render: (m) => m.synced.toLocaleString() },
              { label: 'Last synced', render: (m) => when(m.last_synced_at) },
              { label: 'Note', render: (m) => m.error ?? '—' },
            ]} />
          )}
        </Card>
        {connection && models.length > 0 && <Reports connection={connection} syncing={!!running} />}
        {list.length > 1 && overview.data && (
          <Card title="Which connections are synced" flush>
            <Table label="Sync overview" rows={overview.data} rowKey={(r) => r.c.id} onRow={(r) => setConnection(r.c.id)} columns={[
              { label: 'Connection', render: (r) => <>{accountLabel(r.c)}<div className="small muted mono">{r.c.id}</div></> },
              { label: 'Models', render: (r) => (r.s.models.length === 0 ? 'Not synced' : `${r.s.models.filter((m) => m.status === 'synced').length} of ${r.s.models.length} up to date${r.s.models.some((m) => m.status === 'skipped') ? `, ${r.s.models.filter((m) => m.status === 'skipped').length} not permitted` : ''}${r.s.models.some((m) => m.status === 'error') ? `, ${r.s.models.filter((m) => m.status === 'error').length} failed` : ''}`) },
              { label: 'Last synced', render: (r) => when(Math.max(0, ...r.s.models.map((m) => m.last_synced_at ?? 0)) || null) },
            ]} />
          </Card>
        )}
      </div>
    </Page>
  );
}
