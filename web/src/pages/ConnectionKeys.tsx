/**
 * Connection keys (`pbk_…`) on a connection's page: create one with a
 * permission picker, list them with hints and last use, revoke; and "Give
 * an agent access", which makes a key and shows the MCP client
 * configuration to copy, for stdio and for HTTP.
 */
import { useState } from 'react';
import { api } from '../api';
import { useShell } from '../App';
import { ago, Badge, Card, Field, Modal, Notice, Secret, Table, useAsync, when } from '../ui';
import type { Connection } from './Connections';

export type Level = 'read' | 'write' | 'none';
interface ConnectionKey { id: string; hint: string; permissions: Record<string, Level>; created: number; last_used: number | null; revoked: boolean; oauth_client: { id: string; name: string | null } | null }
interface KeyList { data: ConnectionKey[]; grantable_permissions: Record<string, 'read' | 'write'> }
interface Issued extends ConnectionKey { secret: string }

/** A least-privilege start for an agent: reading customers and payments, nothing written. */
export const AGENT_DEFAULT: Record<string, Level> = { customers: 'read', payment_intents: 'read', charges: 'read', refunds: 'read', invoices: 'read', subscriptions: 'read', products: 'read', prices: 'read' };

const summary = (permissions: Record<string, Level>) => {
  const granted = Object.entries(permissions).filter(([, l]) => l !== 'none');
  return granted.length ? granted.map(([r, l]) => `${r.replace(/_/g, ' ')}: ${l}`).join(', ') : 'nothing';
};

export function PermissionPicker(p: { grantable: Record<string, 'read' | 'write'>; value: Record<string, Level>; onChange: (v: Record<string, Level>) => void }) {
  const names = Object.keys(p.grantable).sort();
  return (
    <div className="permission-picker" role="group" aria-label="Permissions">
      {names.map((name) => (
        <label key={name} className="row" style={{ justifyContent: 'space-between', gap: 12 }}>
          <span>{name.replace(/_/g, ' ')}</span>
          <select aria-label={`Access to ${name.replace(/_/g, ' ')}`} value={p.value[name] ?? 'none'} onChange={(e) => p.onChange({ ...p.value, [name]: e.target.value as Level })}>
            <option value="none">None</option>
            <option value="read">Read</option>
            {p.grantable[name] === 'write' && <option value="write">Read and write</option>}
          </select>
        </label>
      ))}
    </div>
  );
}

/** The MCP client configuration for a key: stdio through `paybridge mcp`, or Streamable HTTP straight to the gateway. */
function AgentConfig(p: { secret: string }) {
  const origin = window.location.origin;
  const session = useAsync(() => api<{ cli_path?: string }>('GET', '/dashboard/api/session'), []);
  const cli = session.data?.cli_path ?? '/path/to/paybridge/bin/paybridge.mjs';
  const stdio = JSON.stringify({ mcpServers: { stripe: { command: 'node', args: [cli, 'mcp'], env: { PAYBRIDGE_URL: origin, PAYBRIDGE_API_KEY: p.secret } } } }, null, 2);
  const http = JSON.stringify({ mcpServers: { stripe: { type: 'http', url: `${origin}/mcp`, headers: { Authorization: `Bearer ${p.secret}` } } } }, null, 2);
  return (
    <>
      <Notice tone="warn">Copy this now: PayBridge keeps only a hash of the key and cannot show it again.</Notice>
      <Field label="Connection key"><Secret value={p.secret} label="connection key" /></Field>
      <Field label="MCP client configuration (stdio, runs paybridge mcp)"><Secret value={stdio} label="stdio configuration" /></Field>
      <Field label="MCP client configuration (HTTP)"><Secret value={http} label="HTTP configuration" /></Field>
      <p className="small muted" style={{ margin: 0 }}>The agent gets only the tools these permissions allow, on this connection only; each call it makes is in Request logs as "Agent tool …".</p>
    </>
  );
}

function CreateKey(p: { connection: Connection; grantable: KeyList['grantable_permissions']; forAgent: boolean; onClose: () => void; onCreated: () => void }) {
  const start = p.forAgent ? Object.fromEntries(Object.entries(AGENT_DEFAULT).filter(([r]) => p.grantable[r])) : {};
  const [permissions, setPermissions] = useState<Record<string, Level>>(start);
  const [issued, setIssued] = useState<Issued | null>(null);
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const chosen = Object.fromEntries(Object.entries(permissions).filter(([, l]) => l !== 'none'));
  const create = async () => {
    setBusy(true);
    setError('');
    try {
      setIssued(await api<Issued>('POST', `/v1/connections/${p.connection.id}/keys`, { permissions: chosen }));
      p.onCreated();
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };
  const title = p.forAgent ? 'Give an agent access' : 'Create a connection key';
  if (issued) {
    return (
      <Modal title={title} onClose={p.onClose} wide footer={<button className="primary" onClick={p.onClose}>Done</button>}>
        {p.forAgent ? <AgentConfig secret={issued.secret} /> : (
          <>
            <Notice tone="warn">Copy this now: PayBridge keeps only a hash of the key and cannot show it again.</Notice>
            <Field label="Connection key"><Secret value={issued.secret} label="connection key" /></Field>
            <p className="small muted" style={{ margin: 0 }}>Use it as the API key of any Stripe SDK pointed at this PayBridge: it may do {summary(issued.permissions)}.</p>
          </>
        )}
      </Modal>
    );
  }
  return (
    <Modal title={title} onClose={p.onClose} wide footer={<><button onClick={p.onClose}>Cancel</button><button className="primary" disabled={busy || Object.keys(chosen).length === 0} onClick={create}>{busy ? 'Creating…' : p.forAgent ? 'Create key and show configuration' : 'Create key'}</button></>}>
      <p className="muted" style={{ margin: 0 }}>
        {p.forAgent ? 'The agent gets a key of its own on this connection, limited to what you choose here. Start from read-only and add only what it must change.' : 'A key limited to this connection and the permissions you choose, for an app or a teammate.'}
        {p.connection.key_type === 'restricted' ? ' This connection uses a restricted key, so only its own permissions are offered.' : ''}
      </p>
      {error && <Notice tone="bad">{error}</Notice>}
      <PermissionPicker grantable={p.grantable} value={permissions} onChange={setPermissions} />
    </Modal>
  );
}

export function ConnectionKeys(p: { connection: Connection }) {
  const { scope } = useShell();
  const keys = useAsync(() => api<KeyList>('GET', `/v1/connections/${p.connection.id}/keys`), [p.connection.id, scope]);
  const [creating, setCreating] = useState<'' | 'key' | 'agent'>('');
  const [revoking, setRevoking] = useState<ConnectionKey | null>(null);
  const [error, setError] = useState('');
  const revoke = async (k: ConnectionKey) => {
    try {
      await api('DELETE', `/v1/connections/${p.connection.id}/keys/${k.id}`);
      setRevoking(null);
      keys.reload();
    } catch (e) {
      setError((e as Error).message);
    }
  };
  const rows = keys.data?.data ?? [];
  return (
    <Card title="Connection keys" flush actions={<><button className="small" onClick={() => setCreating('key')} disabled={!keys.data}>Create key</button><button className="small primary" onClick={() => setCreating('agent')} disabled={!keys.data}>Give an agent access</button></>}>
      {(keys.error || error) && <Notice tone="bad">{keys.error || error}</Notice>}
      {keys.data && rows.length === 0 && <p className="muted" style={{ padding: '16px 20px', margin: 0 }}>No keys yet. A connection key lets an app, a teammate or an AI agent use this account with only the permissions it needs, without your app key.</p>}
      {rows.length > 0 && (
        <Table label="Connection keys" rows={rows} rowKey={(k) => k.id} columns={[
          // An MCP client's OAuth grant is a key too: named by its client, its tokens rotating behind it.
          { label: 'Key', render: (k) => (k.oauth_client ? <span><Badge tone="brand">OAuth</Badge> {k.oauth_client.name ?? 'MCP client'}</span> : <span className="mono">{k.hint}</span>) },
          { label: 'May do', render: (k) => <span className="small">{summary(k.permissions)}</span> },
          { label: 'Created', render: (k) => when(k.created) },
          { label: 'Last used', render: (k) => ago(k.last_used) },
          { label: 'Status', render: (k) => (k.revoked ? <Badge tone="bad">Revoked</Badge> : <Badge tone="ok">Active</Badge>) },
          { label: '', render: (k) => (k.revoked ? null : <button className="small danger" onClick={() => setRevoking(k)}>Revoke</button>) },
        ]} />
      )}
      {creating && keys.data && <CreateKey connection={p.connection} grantable={keys.data.grantable_permissions} forAgent={creating === 'agent'} onClose={() => setCreating('')} onCreated={keys.reload} />}
      {revoking && (
        <Modal title="Revoke this key?" onClose={() => setRevoking(null)} footer={<><button onClick={() => setRevoking(null)}>Keep it</button><button className="primary" style={{ background: '#b91c1c', borderColor: '#b91c1c' }} onClick={() => revoke(revoking)}>Revoke</button></>}>
          <p style={{ margin: 0 }}>{revoking.oauth_client ? <>The MCP client <strong>{revoking.oauth_client.name ?? revoking.oauth_client.id}</strong> loses its access and its tokens stop working.</> : <>Whoever uses <span className="mono">{revoking.hint}</span> (an app or an agent) is refused from now on.</>} Other keys of this connection keep working.</p>
        </Modal>
      )}
    </Card>
  );
}
