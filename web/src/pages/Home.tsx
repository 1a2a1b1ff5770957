/** Home: what happened in the last day, and what to do next when nothing has yet. */
import { api, type List } from '../api';
import { go, useShell } from '../App';
import { BarChart, Card, money, Page, useAsync } from '../ui';
import { accountLabel, type Connection } from './Connections';
import { lastAnswer, type Endpoint } from './Webhooks';

const CONNECTION_TROUBLE: Record<string, string> = { revoked: 'its access was revoked at Stripe', refresh_failed: 'its token cannot be refreshed', expired: 'its token expired' };

interface Stats { buckets: { start: number; requests: number; errors: number }[]; total: { requests: number; errors: number } }

export function Home() {
  const { scope, mode } = useShell();
  const data = useAsync(async () => {
    const [stats, connections, sessions, actions, endpoints] = await Promise.all([
      api<Stats>('GET', '/v1/logs/stats?hours=24'),
      api<List<Connection>>('GET', '/v1/connections'),
      api<List<{ id: string; status: string; amount: number | null; currency: string | null; created: number }>>('GET', '/v1/sessions?limit=100'),
      api<List<{ built_in: boolean }>>('GET', '/v1/actions'),
      api<List<Endpoint>>('GET', '/v1/webhook_endpoints'),
    ]);
    return { stats, connections: connections.data, sessions: sessions.data, customActions: actions.data.filter((a) => !a.built_in).length, endpoints: endpoints.data };
  }, [scope]);
  const d = data.data;
  const steps = d && [
    { done: d.connections.length > 0, title: 'Connect a Stripe account', text: 'Connect with Stripe (OAuth) or paste a secret or restricted key.', to: 'connections' },
    { done: d.customActions > 0, title: 'Define an action', text: 'Map your own field names to a Stripe operation, e.g. customer_email → email.', to: 'actions' },
    { done: d.stats.total.requests > 0, title: 'Make your first request', text: 'Call Stripe through the proxy, an action or a payment session.', to: 'logs' },
  ];
  const dayAgo = Date.now() / 1000 - 86_400;
  // Paid volume per currency: adding minor units of different currencies says nothing.
  const volume = new Map<string, number>();
  for (const session of d?.sessions ?? []) {
    if (session.status === 'succeeded' && session.amount && session.currency && session.created >= dayAgo) volume.set(session.currency, (volume.get(session.currency) ?? 0) + session.amount);
  }
  const attention = d ? [
    ...d.connections.filter((c) => c.status !== 'active').map((c) => ({ key: c.id, text: `${accountLabel(c)}: ${CONNECTION_TROUBLE[c.status] ?? c.status}. Reconnect it.`, to: `connections/${c.id}` })),
    ...d.endpoints.filter((e) => e.status !== 'enabled' || e.health?.status === 'failing').map((e) => ({
      key: e.id, to: `webhooks/${e.id}`,
      text: e.status !== 'enabled' ? `Webhook endpoint ${e.url} is disabled${e.disabled_reason ? `: ${e.disabled_reason}` : ''}.` : `Webhook endpoint ${e.url} is failing (last answer ${lastAnswer(e.health!.last_attempt ?? {})}${e.health!.retrying ? `; ${e.health!.retrying} waiting to retry` : ''}).`,
    })),
  ] : [];
  const errorRate = d && d.stats.total.requests ? `${((d.stats.total.errors / d.stats.total.requests) * 100).toFixed(1)}%` : '0%';
  return (
    <Page title="Home" subtitle={`Your ${mode} mode activity over the last 24 hours.`}>
      {data.error && <p className="notice bad">{data.error}</p>}
      {d && (
        <div className="stack">
          {steps!.some((s) => !s.done) && (
            <Card title="Get started">
              <div className="stack">
                {steps!.map((s, i) => (
                  <div key={s.title} className="row" style={{ justifyContent: 'space-between' }}>
                    <div className="row">
                      <span className={`badge ${s.done ? 'ok' : 'brand'}`} style={{ width: 26, justifyContent: 'center' }}>{s.done ? '✓' : i + 1}</span>
                      <div>
                        <strong>{s.title}</strong>
                        <div className="muted small">{s.text}</div>
                      </div>
                    </div>
                    {!s.done && <button className="small" onClick={() => go(s.to)}>Start</button>}
                  </div>
                ))}
              </div>
            </Card>
          )}
          {attention.length > 0 && (
            <Card title="Needs attention">
              <ul className="stack" style={{ margin: 0, paddingLeft: 18 }} aria-label="Needs attention">
                {attention.map((a) => <li key={a.key} className="wrap-anywhere"><a href={`#/${a.to}`}>{a.text}</a></li>)}
              </ul>
            </Card>
          )}
          <div className="grid cols-4">
            <div className="card stat"><div className="label">Requests to Stripe</div><div className="value">{d.stats.total.requests}</div></div>
            <div className="card stat"><div className="label">Error rate</div><div className="value">{errorRate}</div></div>
            <div className="card stat"><div className="label">Active connections</div><div className="value">{d.connections.filter((c) => c.status === 'active').length}</div></div>
            <div className="card stat"><div className="label">Paid through sessions (24 h)</div><div className="value">{volume.size ? [...volume].map(([c, a]) => money(a, c)).join(' + ') : money(0)}</div></div>
          </div>
          <Card title="Requests and errors" actions={<a href="#/logs">View logs →</a>}>
            <BarChart buckets={d.stats.buckets} label="Requests and errors over the last 24 hours" />
          </Card>
        </div>
      )}
    </Page>
  );
}
