/** Apps and their API keys: create an app, see a new key once, roll or revoke keys. */
import { useState } from 'react';
import { api, type Mode } from '../api';
import { useShell, type AppSummary } from '../App';
import { ago, Badge, Card, Field, Modal, Notice, Page, Secret, Table, when } from '../ui';

type Revealed = { title: string; secrets: { mode: Mode; secret: string }[] };

/** Keys of one app; key routes act on the app a request names, so every call here names this one. */
/** The windows Stripe offers for the old key when a key is rolled. */
const EXPIRIES: [number, string][] = [[0, 'Now'], [3600, 'In 1 hour'], [86_400, 'In 24 hours'], [604_800, 'In 7 days']];

/** Keys of one app; key routes act on the app a request names, so every call here names this one. */
function KeyTable(p: { app: AppSummary; onRevealed: (r: Revealed) => void; onChanged: () => Promise<void> }) {
  const [error, setError] = useState('');
  const [busy, setBusy] = useState('');
  // Destructive actions ask first: which key, and (rolling) when the old one should stop.
  const [rolling, setRolling] = useState<Mode | null>(null);
  const [expiresIn, setExpiresIn] = useState(0);
  const [revoking, setRevoking] = useState<AppSummary['keys'][number] | null>(null);
  const roll = async (mode: Mode) => {
    setBusy(`roll-${mode}`);
    setError('');
    try {
      const issued = await api<{ secret: string }>('POST', '/v1/app/keys/rotate', { mode, expires_in: expiresIn }, { app: p.app.id });
      setRolling(null);
      p.onRevealed({ title: `New ${mode} key for ${p.app.name}`, secrets: [{ mode, secret: issued.secret }] });
      await p.onChanged();
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy('');
    }
  };
  const revoke = async (id: string) => {
    setBusy(id);
    setError('');
    try {
      await api('DELETE', `/v1/app/keys/${id}`, undefined, { app: p.app.id });
      setRevoking(null);
      await p.onChanged();
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy('');
    }
  };
  const keys = [...p.app.keys].sort((a, b) => Number(a.revoked) - Number(b.revoked) || b.created - a.created);
  const status = (k: AppSummary['keys'][number]) => {
    if (k.revoked) return <Badge>Revoked</Badge>;
    if (k.expires_at) return <Badge tone="warn" dot>Expires {when(k.expires_at)}</Badge>;
    return <Badge tone="ok" dot>Active</Badge>;
  };
  return (
    <>
      {error && <div style={{ padding: '12px 20px 0' }}><Notice tone="bad">{error}</Notice></div>}
      <Table
        label={`Keys of ${p.app.name}`}
        rows={keys}
        rowKey={(k) => k.id}
        columns={[
          { label: 'Key', render: (k) => <span className="mono">{k.hint}</span> },
          { label: 'Mode', render: (k) => <Badge tone={k.mode === 'live' ? 'ok' : 'warn'}>{k.mode === 'live' ? 'Live' : 'Test'}</Badge> },
          { label: 'Status', render: status },
          { label: 'Created', render: (k) => ago(k.created) },
          { label: '', render: (k) => !k.revoked && <button className="small danger" disabled={busy === k.id} onClick={() => setRevoking(k)}>Revoke</button> },
        ]}
      />
      <div className="pager">
        <span>Rolling a key issues a new one; the old one keeps working for the window you choose.</span>
        <div className="row">
          <button className="small" disabled={!!busy} onClick={() => { setExpiresIn(0); setRolling('test'); }}>Roll test key</button>
          <button className="small" disabled={!!busy} onClick={() => { setExpiresIn(0); setRolling('live'); }}>Roll live key</button>
        </div>
      </div>
      {rolling && (
        <Modal title={`Roll the ${rolling} key of ${p.app.name}`} onClose={() => setRolling(null)} footer={<>
          <button onClick={() => setRolling(null)}>Cancel</button>
          <button className="primary" disabled={!!busy} onClick={() => roll(rolling)}>Roll key</button>
        </>}>
          <p style={{ marginTop: 0 }}>A new {rolling} key is shown once. Apps using the current one need the new key before the old one stops.</p>
          <Field label="The old key stops">
            <select aria-label="The old key stops" value={expiresIn} onChange={(e) => setExpiresIn(Number(e.target.value))}>
              {EXPIRIES.map(([seconds, label]) => <option key={seconds} value={seconds}>{label}</option>)}
            </select>
          </Field>
        </Modal>
      )}
      {revoking && (
        <Modal title="Revoke this key?" onClose={() => setRevoking(null)} footer={<>
          <button onClick={() => setRevoking(null)}>Cancel</button>
          <button className="danger" disabled={!!busy} onClick={() => revoke(revoking.id)}>Revoke key</button>
        </>}>
          <p style={{ margin: 0 }}>Anything still using <span className="mono">{revoking.hint}</span> is refused within a few seconds. This cannot be undone.</p>
        </Modal>
      )}
    </>
  );
}

export function Apps() {
  const { apps, app: current, reloadApps } = useShell();
  const [creating, setCreating] = useState(false);
  const [name, setName] = useState('');
  const [error, setError] = useState('');
  const [revealed, setRevealed] = useState<Revealed | null>(null);
  const create = async () => {
    setError('');
    try {
      const created = await api<{ name: string; secrets: Record<Mode, string> }>('POST', '/dashboard/api/apps', { name });
      setCreating(false);
      setName('');
      setRevealed({ title: `Keys for ${created.name}`, secrets: [{ mode: 'test', secret: created.secrets.test }, { mode: 'live', secret: created.secrets.live }] });
      await reloadApps();
    } catch (e) {
      setError((e as Error).message);
    }
  };
  return (
    <Page title="Apps & API keys" subtitle="Each app owns its connections and has a test key and a live key. Keys are stored hashed: PayBridge shows them once." actions={<button className="primary" onClick={() => setCreating(true)}>Create app</button>}>
      <div className="stack">
        {apps.map((a) => (
          <Card key={a.id} title={<>{a.name} <span className="muted small mono" style={{ fontWeight: 400 }}>{a.id}</span> {a.id === current.id && <Badge tone="brand">Selected</Badge>}</>} flush>
            <KeyTable app={a} onRevealed={setRevealed} onChanged={reloadApps} />
          </Card>
        ))}
      </div>
      {creating && (
        <Modal title="Create an app" onClose={() => setCreating(false)} footer={<><button onClick={() => setCreating(false)}>Cancel</button><button className="primary" disabled={!name.trim()} onClick={create}>Create app</button></>}>
          {error && <Notice tone="bad">{error}</Notice>}
          <Field label="Name" hint="For example the product or team that will use it."><input value={name} autoFocus onChange={(e) => setName(e.target.value)} /></Field>
        </Modal>
      )}
      {revealed && (
        <Modal title={revealed.title} onClose={() => setRevealed(null)} footer={<button className="primary" onClick={() => setRevealed(null)}>I have stored it</button>}>
          <Notice tone="warn">Copy this now: PayBridge keeps only a hash and cannot show it again.</Notice>
          {revealed.secrets.map((s) => <Field key={s.mode} label={`${s.mode === 'live' ? 'Live' : 'Test'} key`}><Secret value={s.secret} label={`${s.mode} key`} /></Field>)}
        </Modal>
      )}
    </Page>
  );
}
