/** Connections: connect Stripe by OAuth or with a key, test, see health and permissions, disconnect. */
import { useEffect, useState } from 'react';
import { api, type List } from '../api';
import { go, useShell } from '../App';
import { ConnectionKeys } from './ConnectionKeys';
import { ConnectAccount } from './ConnectAccount';
import { CopyId, ago, Badge, Card, Empty, Field, Modal, Notice, Page, Table, useAsync, when } from '../ui';

export interface Connection {
  id: string;
  type: 'api_key' | 'oauth' | 'stripe_app';
  livemode: boolean;
  account: string | null;
  account_name: string | null;
  default_for_sessions: boolean;
  key_type: 'secret' | 'restricted' | 'oauth';
  key_hint: string | null;
  permissions: Record<string, 'read' | 'write' | 'none'> | null;
  scope: string | null;
  publishable_key: string | null;
  status: string;
  health: { status: string; last_success_at: number | null; last_error: { message: string; at: number } | null; refresh_failures: number; access_token_expires_at: number | null };
  created: number;
  webhook: { url: string; signing_secret: 'registered' | 'configured' | null } | null;
}

/** Whether Stripe's events for this account reach PayBridge (sessions, syncs and app webhooks depend on them). */
function StripeEvents(p: { c: Connection }) {
  if (p.c.type !== 'api_key') return <>Received through the platform's Connect endpoint</>;
  if (p.c.webhook?.signing_secret === 'registered') return <><Badge tone="ok" dot>Received</Badge> <span className="small muted">PayBridge registered a webhook endpoint on the account.</span></>;
  if (p.c.webhook?.signing_secret === 'configured') return <><Badge tone="ok" dot>Received</Badge> <span className="small muted">with the signing secret you gave for <span className="mono wrap-anywhere">{p.c.webhook.url}</span>.</span></>;
  return (
    <><Badge tone="warn" dot>Not received</Badge>{' '}
      <span className="small muted">This key may not create webhook endpoints, so payment sessions and syncs learn of changes only when they ask Stripe. Give the key <code>webhook_endpoints: write</code> and add it again, or create an endpoint at {p.c.webhook ? <span className="mono wrap-anywhere">{p.c.webhook.url}</span> : 'PayBridge\'s public URL'} in Stripe and set its signing secret with <code>POST /v1/connections/{p.c.id} {'{"webhook_secret": "whsec_…"}'}</code>.</span></>
  );
}

const LEVEL = { write: 2, read: 1, none: 0 };
const TYPE_WORDS = { api_key: 'API key', oauth: 'Stripe Connect (OAuth)', stripe_app: 'Stripe App (OAuth)' };

/** How a person knows an account: its name when Stripe gave one, its id always. */
export const accountLabel = (c: Pick<Connection, 'account' | 'account_name' | 'id'>) => (c.account_name ? `${c.account_name} (${c.account})` : c.account ?? c.id);

/** The app's connections in this mode by id, for lists that name a connection. */
export function useConnectionLabels(): (id: string | null) => string {
  const { scope } = useShell();
  const connections = useAsync(() => api<List<Connection>>('GET', '/v1/connections'), [scope]);
  const byId = new Map((connections.data?.data ?? []).map((c) => [c.id, accountLabel(c)]));
  return (id) => (id ? byId.get(id) ?? id : '—');
}

/** A select of the app's connections in the current mode, for filtering a list by connection. */
export function ConnectionFilter(p: { value: string; onChange: (id: string) => void }) {
  const { scope } = useShell();
  const connections = useAsync(() => api<List<Connection>>('GET', '/v1/connections'), [scope]);
  return (
    <select aria-label="Filter by connection" value={p.value} onChange={(e) => p.onChange(e.target.value)}>
      <option value="">All connections</option>
      {(connections.data?.data ?? []).map((c) => <option key={c.id} value={c.id}>{accountLabel(c)} · {c.id}</option>)}
    </select>
  );
}

export function HealthBadge(p: { c: Connection }) {
  if (p.c.status === 'active') return <Badge tone="ok" dot>Healthy</Badge>;
  if (p.c.status === 'revoked') return <Badge tone="bad" dot>Access revoked</Badge>;
  if (p.c.status === 'refresh_failed') return <Badge tone="warn" dot>Token refresh failing</Badge>;
  return <Badge tone="warn" dot>{p.c.status}</Badge>;
}

const keyWords = (c: Connection) => (c.key_type === 'oauth' ? 'OAuth token' : `${c.key_type === 'restricted' ? 'Restricted' : 'Secret'} key ${c.key_hint ?? ''}`);

/** Starts Stripe's OAuth flow in this mode; Stripe sends the person back to this page. */
async function connectWithStripe(mode: string) {
  const back = `${window.location.origin}/#/connections`;
  const session = await api<{ url: string }>('POST', '/v1/connect_sessions', { mode, return_url: back });
  window.location.assign(session.url);
}

function AddKey(p: { onClose: () => void; onAdded: (c: Connection) => void }) {
  const { mode } = useShell();
  const [secret, setSecret] = useState('');
  const [publishable, setPublishable] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const save = async () => {
    setBusy(true);
    setError('');
    try {
      p.onAdded(await api<Connection>('POST', '/v1/connections', { secret_key: secret.trim(), ...(publishable.trim() ? { publishable_key: publishable.trim() } : {}) }));
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Modal title="Add an API key" onClose={p.onClose} footer={<><button onClick={p.onClose}>Cancel</button><button className="primary" disabled={!secret || busy} onClick={save}>{busy ? 'Checking with Stripe…' : 'Add key'}</button></>}>
      <p className="muted" style={{ margin: 0 }}>Paste a {mode} mode secret key (<code>sk_{mode}_…</code>) or, better, a restricted key (<code>rk_{mode}_…</code>) with only the permissions you need. PayBridge checks it with Stripe, then keeps it encrypted; it is never shown again.</p>
      {error && <Notice tone="bad">{error}</Notice>}
      <Field label="Secret or restricted key"><input value={secret} onChange={(e) => setSecret(e.target.value)} placeholder={`rk_${mode}_…`} autoComplete="off" spellCheck={false} /></Field>
      <Field label="Publishable key" hint="Optional: handed to your front end with the connection."><input value={publishable} onChange={(e) => setPublishable(e.target.value)} placeholder={`pk_${mode}_…`} autoComplete="off" spellCheck={false} /></Field>
    </Modal>
  );
}

function ConnectionDetail(p: { id: string }) {
  const { scope } = useShell();
  const conn = useAsync(() => api<Connection>('GET', `/v1/connections/${p.id}`), [p.id, scope]);
  const all = useAsync(() => api<List<Connection>>('GET', '/v1/connections'), [p.id, scope]);
  const [test, setTest] = useState<{ ok: boolean; message: string; latency_ms?: number } | null>(null);
  const [busy, setBusy] = useState('');
  const [confirm, setConfirm] = useState(false);
  const [error, setError] = useState('');
  const runTest = async () => {
    setBusy('test');
    setTest(null);
    try {
      setTest(await api('POST', `/v1/connections/${p.id}/test`));
      conn.reload();
    } catch (e) {
      setTest({ ok: false, message: (e as Error).message });
    } finally {
      setBusy('');
    }
  };
  const disconnect = async () => {
    setBusy('delete');
    try {
      await api('DELETE', `/v1/connections/${p.id}`);
      go('connections');
    } catch (e) {
      setError((e as Error).message);
      setBusy('');
    }
  };
  const makeDefault = async (on: boolean) => {
    setError('');
    try {
      await api('POST', `/v1/connections/${p.id}`, { default_for_sessions: on });
      conn.reload();
    } catch (e) {
      setError((e as Error).message);
    }
  };
  if (conn.error) return <Notice tone="bad">{conn.error}</Notice>;
  const c = conn.data;
  if (!c) return <p className="muted">Loading…</p>;
  // Other connections of this app to the same Stripe account (another key, say): they keep working if this one goes.
  const sameAccount = (all.data?.data ?? []).filter((o) => o.id !== c.id && o.account && o.account === c.account);
  return (
    <Page
      title={c.account_name ?? c.account ?? c.id}
      subtitle={<><a href="#/connections">Connections</a> / <CopyId id={c.id} /></>}
      actions={<><button onClick={runTest} disabled={!!busy}>{busy === 'test' ? 'Testing…' : 'Test connection'}</button><button className="danger" onClick={() => setConfirm(true)}>Disconnect</button></>}
    >
      <div className="stack">
        {test && <Notice tone={test.ok ? 'ok' : 'bad'}>{test.ok ? `${test.message} (${test.latency_ms} ms)` : `Connection failed: ${test.message}`}</Notice>}
        {error && <Notice tone="bad">{error}</Notice>}
        {sameAccount.length > 0 && <Notice tone="info">This account is also connected as {sameAccount.map((o, i) => <span key={o.id}>{i ? ', ' : ''}<a href={`#/connections/${o.id}`} className="mono">{o.id}</a> ({keyWords(o)})</span>)}.</Notice>}
        <div className="grid cols-2">
          <Card title="Details">
            <dl className="details">
              <dt>Account</dt><dd className="mono">{c.account}</dd>
              <dt>Connected with</dt><dd>{TYPE_WORDS[c.type]}</dd>
              <dt>Credential</dt><dd>{keyWords(c)}</dd>
              <dt>Mode</dt><dd>{c.livemode ? 'Live' : 'Test'}</dd>
              {c.publishable_key && <><dt>Publishable key</dt><dd className="mono">{c.publishable_key}</dd></>}
              {c.scope && <><dt>Scope</dt><dd>{c.scope}</dd></>}
              <dt>Connected</dt><dd>{when(c.created)}</dd>
              <dt>Stripe events</dt><dd><StripeEvents c={c} /></dd>
              <dt>Payment sessions</dt><dd>{c.default_for_sessions
                ? <>Default for new sessions <button className="small" onClick={() => makeDefault(false)}>Stop being the default</button></>
                : <>Used when a session names it <button className="small" onClick={() => makeDefault(true)} disabled={c.status !== 'active'}>Make default for sessions</button></>}</dd>
            </dl>
          </Card>
          <Card title="Health" actions={<HealthBadge c={c} />}>
            <dl className="details">
              <dt>Last success</dt><dd>{ago(c.health.last_success_at)}</dd>
              <dt>Last error</dt><dd>{c.health.last_error ? `${c.health.last_error.message} (${ago(c.health.last_error.at)})` : 'None'}</dd>
              {c.type === 'stripe_app' && <><dt>Token expires</dt><dd>{when(c.health.access_token_expires_at)}</dd><dt>Refresh failures</dt><dd>{c.health.refresh_failures}</dd></>}
            </dl>
            <p className="small muted" style={{ marginTop: 12 }}><a href={`#/logs?connection=${c.id}`}>See this connection's requests →</a></p>
          </Card>
        </div>
        {c.type === 'oauth' && c.status !== 'revoked' && <ConnectAccount connection={c} />}
        <ConnectionKeys connection={c} />
        <Card title="Permissions" flush>
          {c.permissions ? (
            <Table
              label="Permissions"
              rowKey={([r]) => r}
              rows={Object.entries(c.permissions).sort(([a, x], [b, y]) => LEVEL[y] - LEVEL[x] || a.localeCompare(b))}
              columns={[
                { label: 'Resource', render: ([r]) => r.replace(/_/g, ' ') },
                { label: 'Access', render: ([, a]) => <Badge tone={a === 'write' ? 'ok' : a === 'read' ? 'brand' : undefined}>{a === 'write' ? 'Read and write' : a === 'read' ? 'Read only' : 'None'}</Badge> },
              ]}
            />
          ) : (
            <p style={{ padding: '16px 20px', margin: 0 }} className="muted">{c.key_type === 'secret' ? 'A secret key can do everything on its account. Use a restricted key to limit what PayBridge, its actions and agents may do.' : `Granted by Stripe: ${c.scope ?? 'read_write'}.`}</p>
          )}
        </Card>
      </div>
      {confirm && (
        <Modal title="Disconnect this account?" onClose={() => setConfirm(false)} footer={<><button onClick={() => setConfirm(false)}>Keep it</button><button className="primary" style={{ background: '#b91c1c', borderColor: '#b91c1c' }} disabled={busy === 'delete'} onClick={disconnect}>Disconnect</button></>}>
          <p style={{ margin: 0 }}>PayBridge forgets this connection's credentials{c.type !== 'api_key' ? ' and revokes its access at Stripe' : ''}. Apps, actions, agents and payment sessions using <strong>this connection</strong> ({c.id}) stop working; payment sessions already made stay readable, and its synced records are deleted.{sameAccount.length ? ` The other connection${sameAccount.length > 1 ? 's' : ''} to ${c.account} (${sameAccount.map((o) => o.id).join(', ')}) keep${sameAccount.length > 1 ? '' : 's'} working.` : ''}</p>
        </Modal>
      )}
    </Page>
  );
}

export function Connections(p: { id?: string }) {
  const { scope, mode, oauthModes } = useShell();
  const oauthReady = oauthModes.includes(mode);
  const list = useAsync(() => api<List<Connection>>('GET', '/v1/connections'), [scope]);
  const [adding, setAdding] = useState(false);
  const [error, setError] = useState('');
  const [returned, setReturned] = useState<{ tone: 'ok' | 'bad'; text: string } | null>(null);

  // Back from Stripe's OAuth page: say what happened, then tidy the address bar.
  useEffect(() => {
    const q = new URLSearchParams(window.location.search);
    if (!q.has('connect_session')) return;
    if (q.get('connection')) setReturned({ tone: 'ok', text: 'Stripe account connected.' });
    else setReturned({ tone: 'bad', text: `Stripe was not connected: ${q.get('error_description') ?? (q.get('error') === 'access_denied' ? 'the request was declined on Stripe.' : q.get('error'))}` });
    window.history.replaceState(null, '', `/${window.location.hash}`);
  }, []);

  if (p.id) return <ConnectionDetail id={p.id} />;
  const connect = () => connectWithStripe(mode).catch((e: Error) => setError(e.message));
  const rows = list.data?.data ?? [];
  return (
    <Page
      title="Connections"
      subtitle={`Stripe accounts your apps use in ${mode} mode. Test and live credentials are kept apart.`}
      actions={<><button onClick={() => setAdding(true)}>Add API key</button><button className="primary" onClick={connect} disabled={!oauthReady} title={oauthReady ? undefined : `Needs STRIPE_CLIENT_ID_${mode.toUpperCase()} and STRIPE_SECRET_KEY_${mode.toUpperCase()}`}>Connect Stripe ({mode})</button></>}
    >
      <div className="stack">
        {!oauthReady && <Notice tone="info">Connecting with Stripe's OAuth page in {mode} mode needs your platform's {mode} credentials (<code>STRIPE_CLIENT_ID_{mode.toUpperCase()}</code> and <code>STRIPE_SECRET_KEY_{mode.toUpperCase()}</code>) in PayBridge's settings. Until then, add an API key: a restricted key with only the permissions you need is the safest choice.</Notice>}
        {returned && <Notice tone={returned.tone}>{returned.text}</Notice>}
        {error && <Notice tone="bad">{error}</Notice>}
        <Card flush>
          {list.error && <Notice tone="bad">{list.error}</Notice>}
          {list.data && rows.length === 0 && (
            <Empty icon="⇄" title={`No ${mode} mode Stripe accounts yet`} action={<div className="row" style={{ justifyContent: 'center' }}>{oauthReady && <button className="primary" onClick={connect}>Connect Stripe</button>}<button className={oauthReady ? undefined : 'primary'} onClick={() => setAdding(true)}>Add API key</button></div>}>
              Connect an account with Stripe's OAuth page, or paste an API key. A restricted key with only the permissions you need is the safest choice.
            </Empty>
          )}
          {rows.length > 0 && (
            <Table
              label="Connections"
              rows={rows}
              rowKey={(c) => c.id}
              onRow={(c) => go(`connections/${c.id}`)}
              columns={[
                { label: 'Account', render: (c) => <>{c.account_name && <div><strong>{c.account_name}</strong></div>}<div className="mono">{c.account}</div><div className="muted small">{c.id}{c.default_for_sessions ? ' · default for sessions' : ''}{rows.some((o) => o.id !== c.id && o.account === c.account) ? ' · account connected more than once' : ''}</div></> },
                { label: 'Connected with', render: (c) => TYPE_WORDS[c.type] },
                { label: 'Credential', render: keyWords },
                { label: 'Health', render: (c) => <HealthBadge c={c} /> },
                { label: 'Connected', render: (c) => ago(c.created) },
              ]}
            />
          )}
        </Card>
      </div>
      {adding && <AddKey onClose={() => setAdding(false)} onAdded={(c) => { setAdding(false); go(`connections/${c.id}`); }} />}
    </Page>
  );
}
