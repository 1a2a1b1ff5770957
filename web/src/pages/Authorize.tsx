/**
 * The consent page of an MCP client's OAuth authorization: the client asks,
 * the signed-in admin picks the app, the connection and the permissions the
 * agent gets (read-only to start, or what the client asked for), and allows
 * or denies. The browser then returns to the client with a code or the
 * refusal. The grant appears among the connection's keys, where it is revoked.
 */
import { useState } from 'react';
import { api, type List } from '../api';
import { useShell } from '../App';
import { Card, Field, Notice, Page, useAsync } from '../ui';
import { accountLabel, type Connection } from './Connections';
import { AGENT_DEFAULT, PermissionPicker, type Level } from './ConnectionKeys';

interface AuthorizationRequest { client_name: string | null; client_uri: string | null; redirect_uri: string; requested_permissions: Record<string, 'read' | 'write'> }

/** What the agent starts with: what its client asked for (within what the connection grants), else read-only basics. */
function startingPermissions(requested: Record<string, Level>, grantable: Record<string, 'read' | 'write'>): Record<string, Level> {
  const base = Object.keys(requested).length ? requested : AGENT_DEFAULT;
  return Object.fromEntries(Object.entries(base).filter(([r, l]) => grantable[r] && (l !== 'write' || grantable[r] === 'write')));
}

function Permissions(p: { app: string; connection: string; requested: Record<string, Level>; value: Record<string, Level> | null; onChange: (v: Record<string, Level>) => void }) {
  const { mode } = useShell();
  const keys = useAsync(() => api<{ grantable_permissions: Record<string, 'read' | 'write'> }>('GET', `/v1/connections/${p.connection}/keys`, undefined, { app: p.app, mode }), [p.app, p.connection, mode]);
  if (keys.error) return <Notice tone="bad">{keys.error}</Notice>;
  if (!keys.data) return <p className="muted">Loading what this connection allows…</p>;
  const grantable = keys.data.grantable_permissions;
  return <PermissionPicker grantable={grantable} value={p.value ?? startingPermissions(p.requested, grantable)} onChange={p.onChange} />;
}

export function Authorize(p: { id: string }) {
  const shell = useShell();
  const request = useAsync(() => api<AuthorizationRequest>('GET', `/dashboard/api/oauth/requests/${p.id}`), [p.id]);
  const [app, setApp] = useState(shell.app.id);
  const connections = useAsync(() => api<List<Connection>>('GET', '/v1/connections', undefined, { app, mode: shell.mode }), [app, shell.mode]);
  const usable = (connections.data?.data ?? []).filter((c) => c.status !== 'revoked');
  const [chosen, setChosen] = useState('');
  const connection = usable.find((c) => c.id === chosen)?.id ?? usable[0]?.id ?? '';
  // Null until the admin changes something: the page shows the starting permissions for the connection chosen.
  const [permissions, setPermissions] = useState<Record<string, Level> | null>(null);
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);

  const answer = async (approve: boolean) => {
    setBusy(true);
    setError('');
    try {
      let granted = permissions;
      if (approve && !granted) {
        const keys = await api<{ grantable_permissions: Record<string, 'read' | 'write'> }>('GET', `/v1/connections/${connection}/keys`, undefined, { app, mode: shell.mode });
        granted = startingPermissions(request.data!.requested_permissions, keys.grantable_permissions);
      }
      const { redirect_to } = await api<{ redirect_to: string }>('POST', `/dashboard/api/oauth/requests/${p.id}`, { approve, connection, permissions: granted ?? {} }, { app, mode: shell.mode });
      window.location.assign(redirect_to);
    } catch (e) {
      setError((e as Error).message);
      setBusy(false);
    }
  };

  if (request.error) return <Page title="Authorize an agent"><Notice tone="bad">{request.error}</Notice></Page>;
  if (!request.data) return <Page title="Authorize an agent"><p className="muted">Loading…</p></Page>;
  const r = request.data;
  const name = r.client_name ?? 'An MCP client';
  const returnsTo = (() => {
    try {
      return new URL(r.redirect_uri).host || r.redirect_uri;
    } catch {
      return r.redirect_uri;
    }
  })();
  return (
    <Page title="Authorize an agent" subtitle={`${name} asks to use PayBridge's Stripe tools.`}>
      <Card>
        <div className="stack">
          <p style={{ margin: 0 }}>
            Allow <strong>{name}</strong> to act on one Stripe account, with only the permissions you choose here. Each call it makes is in Request logs, and you can revoke it on the connection's page at any time.
          </p>
          <p className="small muted" style={{ margin: 0 }}>After you answer, your browser returns to <span className="mono">{returnsTo}</span>. Allow only a client you started yourself.</p>
          {error && <Notice tone="bad">{error}</Notice>}
          <Field label="App">
            <select aria-label="App for the agent" value={app} onChange={(e) => { setApp(e.target.value); setChosen(''); setPermissions(null); }}>
              {shell.apps.map((a) => <option key={a.id} value={a.id}>{a.name}</option>)}
            </select>
          </Field>
          {connections.error && <Notice tone="bad">{connections.error}</Notice>}
          {connections.data && usable.length === 0 && <Notice tone="warn">This app has no {shell.mode} mode connection yet. Connect a Stripe account first, or switch mode at the top of the page.</Notice>}
          {usable.length > 0 && (
            <>
              <Field label="Connection" hint={`The agent acts on this ${shell.mode} mode account only.`}>
                <select aria-label="Connection for the agent" value={connection} onChange={(e) => { setChosen(e.target.value); setPermissions(null); }}>
                  {usable.map((c) => <option key={c.id} value={c.id}>{accountLabel(c)}</option>)}
                </select>
              </Field>
              <Field label="Permissions" hint="Start from read-only and add only what the agent must change.">
                <Permissions app={app} connection={connection} requested={r.requested_permissions} value={permissions} onChange={setPermissions} />
              </Field>
            </>
          )}
          <div className="row" style={{ justifyContent: 'flex-end', flexWrap: 'wrap' }}>
            <button disabled={busy} onClick={() => answer(false)}>Deny</button>
            <button className="primary" disabled={busy || !connection} onClick={() => answer(true)}>{busy ? 'Answering…' : 'Allow access'}</button>
          </div>
        </div>
      </Card>
    </Page>
  );
}
