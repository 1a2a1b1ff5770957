/** Home: what happened in the last day, and what to do next when nothing has yet. */
import { api, type List } from '../api';
import { go, useShell } from '../App';
import { BarChart, Card, Page, useAsync } from '../ui';

interface Stats { buckets: { start: number; requests: number; errors: number }[]; total: { requests: number; errors: number } }

export function Home() {
  const { scope, mode } = useShell();
  const data = useAsync(async () => {
    const [stats, connections, sessions, actions] = await Promise.all([
      api<Stats>('GET', '/v1/logs/stats?hours=24'),
      api<List<{ id: string; status: string }>>('GET', '/v1/connections'),
      api<List<{ id: string; status: string }>>('GET', '/v1/sessions?limit=100'),
      api<List<{ built_in: boolean }>>('GET', '/v1/actions'),
    ]);
    return { stats, connections: connections.data, sessions: sessions.data, customActions: actions.data.filter((a) => !a.built_in).length };
  }, [scope]);
  const d = data.data;
  const steps = d && [
    { done: d.connections.length > 0, title: 'Connect a Stripe account', text: 'Connect with Stripe (OAuth) or paste a secret or restricted key.', to: 'connections' },
    { done: d.customActions > 0, title: 'Define an action', text: 'Map your own field names to a Stripe operation, e.g. customer_email → email.', to: 'actions' },
    { done: d.stats.total.requests > 0, title: 'Make your first request', text: 'Call Stripe through the proxy, an action or a payment session.', to: 'logs' },
  ];
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
          <div className="grid cols-4">
            <div className="card stat"><div className="label">Requests to Stripe</div><div className="value">{d.stats.total.requests}</div></div>
            <div className="card stat"><div className="label">Error rate</div><div className="value">{errorRate}</div></div>
            <div className="card stat"><div className="label">Active connections</div><div className="value">{d.connections.filter((c) => c.status === 'active').length}</div></div>
            <div className="card stat"><div className="label">Paid sessions</div><div className="value">{d.sessions.filter((s) => s.status === 'succeeded').length}</div></div>
          </div>
          <Card title="Requests and errors" actions={<a href="#/logs">View logs →</a>}>
            <BarChart buckets={d.stats.buckets} label="Requests and errors over the last 24 hours" />
          </Card>
        </div>
      )}
    </Page>
  );
}
