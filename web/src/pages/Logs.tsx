/** Request logs: every call to Stripe, filterable, with redacted bodies and a chart over time. */
import { useState } from 'react';
import { api, qs, type List } from '../api';
import { go, useShell } from '../App';
import { CopyId, ago, BarChart, Card, Empty, Json, Loaded, Notice, Page, PagedTable, StatusBadge, useAsync, usePaged, when, words } from '../ui';
import { ConnectionFilter, useConnectionLabels } from './Connections';

export interface Log {
  id: string; connection: string | null; method: string; path: string; status: number | null; duration_ms: number; attempts: number;
  stripe_request_id: string | null; idempotency_key: string | null; error: { type: string; code: string | null; message: string | null } | null; response: unknown; source: string; request: unknown; created: number;
}

const SOURCES: Record<string, string> = { proxy: 'Proxy', connection_key: 'Connection key', key_check: 'Key check', verify: 'Key check', oauth: 'OAuth', test: 'Connection test', sync: 'Sync', session: 'Payment session', session_charge: 'Off-session charge', paybridge: 'PayBridge' };
const source = (s: string) => (s.startsWith('action:') ? `Action ${s.slice(7)}` : s.startsWith('mcp:') ? `Agent tool ${s.slice(4)}` : SOURCES[s] ?? words(s));

/** Stripe object ids in a request path (`/v1/customers/cus_123/sources` → cus_123): what the request was about. */
const objectsIn = (path: string) => path.split('/').filter((seg, i) => i >= 3 && i % 2 === 1 && /^[a-z]+_\w+$/.test(seg));

function LogDetail(p: { id: string }) {
  const { scope } = useShell();
  const log = useAsync(() => api<Log>('GET', `/v1/logs/${p.id}`), [p.id, scope]);
  const label = useConnectionLabels();
  return <Loaded state={log}>{(l) => (
    <Page title={`${l.method} ${l.path}`} subtitle={<><a href="#/logs">Request logs</a> / <CopyId id={l.id} /></>} actions={<StatusBadge status={l.status} />}>
      <div className="stack">
        {l.error && <Notice tone="bad">Stripe answered {l.status ?? 'nothing'}{l.error.code ? ` (${l.error.code})` : ''}: {l.error.message ?? words(l.error.type)}</Notice>}
        <div className="grid cols-2">
          <Card title="Request">
            <dl className="details">
              <dt>Made by</dt><dd>{source(l.source)}</dd>
              <dt>Connection</dt><dd>{l.connection ? <a href={`#/connections/${l.connection}`}>{label(l.connection)}</a> : '—'}</dd>
              <dt>Time</dt><dd>{when(l.created)}</dd>
              <dt>Duration</dt><dd>{l.duration_ms} ms{l.attempts > 1 ? ` over ${l.attempts} attempts` : ''}</dd>
              <dt>Stripe request id</dt><dd className="mono">{l.stripe_request_id ?? '—'}</dd>
              <dt>Idempotency key</dt><dd className="mono">{l.idempotency_key ?? '—'}</dd>
            </dl>
          </Card>
          <Card title="Body sent (secrets redacted)">{l.request ? <Json value={l.request} /> : <p className="muted" style={{ margin: 0 }}>No body.</p>}</Card>
        </div>
        {l.response !== null && l.response !== undefined && <Card title="Stripe's answer (secrets redacted)"><Json value={l.response} /></Card>}
        {objectsIn(l.path).length > 0 && (
          <Card title="Related">
            <ul style={{ margin: 0, paddingLeft: 18 }}>
              {objectsIn(l.path).map((id) => <li key={id}><a href={`#/logs?path=${encodeURIComponent(id)}`}>Every request about <span className="mono">{id}</span></a></li>)}
              {l.connection && <li><a href={`#/connections/${l.connection}`}>The connection {label(l.connection)}</a></li>}
            </ul>
          </Card>
        )}
      </div>
    </Page>
  )}</Loaded>;
}

export function Logs(p: { id?: string }) {
  const { scope } = useShell();
  const fromHash = new URLSearchParams(window.location.hash.split('?')[1] ?? '');
  const [connection, setConnection] = useState(fromHash.get('connection') ?? '');
  const [status, setStatus] = useState('');
  const [path, setPath] = useState(fromHash.get('path') ?? '');
  const [pathFilter, setPathFilter] = useState(fromHash.get('path') ?? '');
  const stats = useAsync(() => api<{ buckets: { start: number; requests: number; errors: number }[] }>('GET', `/v1/logs/stats${qs({ hours: 24, connection })}`), [scope, connection]);
  const label = useConnectionLabels();
  const list = usePaged((after) => api<List<Log>>('GET', `/v1/logs${qs({ connection, status, path: pathFilter, limit: 20, starting_after: after })}`), [scope, connection, status, pathFilter]);
  if (p.id) return <LogDetail id={p.id} />;
  const filtered = connection || status || pathFilter;
  return (
    <Page title="Request logs" subtitle="Every request PayBridge made to Stripe, newest first. Card numbers, keys and tokens are never stored.">
      <div className="stack">
        {stats.data && <Card title="Last 24 hours"><BarChart buckets={stats.data.buckets} label="Requests and errors over the last 24 hours" /></Card>}
        <Card flush>
          <div className="row wrap" style={{ padding: '12px 20px', borderBottom: '1px solid var(--line)' }}>
            <ConnectionFilter value={connection} onChange={setConnection} />
            <select aria-label="Filter by status" value={status} onChange={(e) => setStatus(e.target.value)}>
              <option value="">All results</option><option value="2xx">Succeeded</option><option value="error">Failed</option><option value="4xx">Refused by Stripe (4xx)</option><option value="5xx">Stripe errors (5xx)</option>
            </select>
            <form onSubmit={(e) => { e.preventDefault(); setPathFilter(path.trim()); }} className="row">
              <input aria-label="Filter by path" placeholder="Path contains, e.g. /v1/customers" value={path} onChange={(e) => setPath(e.target.value)} style={{ width: 260 }} />
              <button className="small">Filter</button>
            </form>
          </div>
          <PagedTable list={list} label="Request logs" onRow={(l) => go(`logs/${l.id}`)} empty={
            <Empty icon="≡" title={filtered ? 'No requests match these filters' : 'No requests yet'}>
              {filtered ? 'Try other filters.' : 'Requests appear here as soon as an app, action, payment session or agent calls Stripe through PayBridge.'}
            </Empty>
          } columns={[
                { label: 'Result', render: (l) => <StatusBadge status={l.status} />, width: '170px' },
                { label: 'Request', render: (l) => <><code>{l.method} {l.path}</code>{l.error && <div className="small" style={{ color: 'var(--bad)' }}>{l.error.message ?? words(l.error.code ?? l.error.type)}</div>}</> },
                { label: 'Connection', render: (l) => <span className="small">{label(l.connection)}</span> },
                { label: 'Made by', render: (l) => source(l.source) },
                { label: 'Duration', render: (l) => `${l.duration_ms} ms` },
                { label: 'When', render: (l) => ago(l.created) },
          ]} />
        </Card>
      </div>
    </Page>
  );
}
