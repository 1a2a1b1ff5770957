/** Connector actions: the built-ins and your own, a mapping editor, and "Try it" against a connection. */
import { useState } from 'react';
import { api, ApiError, type List } from '../api';
import { go, useShell } from '../App';
import { Badge, Card, Empty, Field, Json, Notice, Page, Table, useAsync, when } from '../ui';
import type { Connection } from './Connections';

type FieldType = 'string' | 'integer' | 'number' | 'boolean';
type Source = string | { const: string | number | boolean };

interface Definition {
  name: string;
  description?: string;
  operation: string;
  input: Record<string, { type: FieldType; required?: boolean; default?: string | number | boolean; description?: string }>;
  map: Record<string, Source>;
  output?: Record<string, string>;
}

interface Action extends Definition {
  version: number;
  built_in: boolean;
  created: number | null;
}

const OPERATIONS = [
  'POST /v1/customers', 'POST /v1/customers/{customer}', 'GET /v1/customers/{customer}', 'POST /v1/payment_intents', 'POST /v1/payment_intents/{intent}/capture',
  'POST /v1/refunds', 'POST /v1/subscriptions', 'POST /v1/subscriptions/{subscription_exposed_id}', 'DELETE /v1/subscriptions/{subscription_exposed_id}',
  'POST /v1/checkout/sessions', 'POST /v1/products', 'POST /v1/prices', 'POST /v1/invoices', 'POST /v1/setup_intents', 'POST /v1/payment_links',
];

interface InputRow { name: string; type: FieldType; required: boolean; default: string }
interface MapRow { target: string; kind: 'input' | 'const'; value: string }
interface OutputRow { name: string; path: string }

function rowsOf(d?: Definition): { inputs: InputRow[]; map: MapRow[]; output: OutputRow[] } {
  if (!d) return { inputs: [{ name: '', type: 'string', required: true, default: '' }], map: [{ target: '', kind: 'input', value: '' }], output: [{ name: 'id', path: '$.id' }] };
  return {
    inputs: Object.entries(d.input).map(([name, f]) => ({ name, type: f.type, required: !!f.required, default: f.default === undefined ? '' : String(f.default) })),
    map: Object.entries(d.map).map(([target, s]) => (typeof s === 'string' ? { target, kind: 'input' as const, value: s.slice(2) } : { target, kind: 'const' as const, value: String(s.const) })),
    output: Object.entries(d.output ?? {}).map(([name, path]) => ({ name, path })),
  };
}

/** A constant typed as it reads: numbers and true/false stay numbers and booleans. */
const constant = (v: string): string | number | boolean => (v === 'true' ? true : v === 'false' ? false : v.trim() !== '' && !Number.isNaN(Number(v)) ? Number(v) : v);

function Editor(p: { base?: Action; onSaved: (a: Action) => void; onCancel: () => void }) {
  const start = rowsOf(p.base);
  const [name, setName] = useState(p.base?.built_in ? `${p.base.name}-custom` : p.base?.name ?? '');
  const [description, setDescription] = useState(p.base?.description ?? '');
  const [operation, setOperation] = useState(p.base?.operation ?? 'POST /v1/customers');
  const [inputs, setInputs] = useState(start.inputs);
  const [map, setMap] = useState(start.map);
  const [output, setOutput] = useState(start.output);
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const editing = p.base && !p.base.built_in;

  const definition = (): Definition => ({
    name: name.trim(),
    ...(description.trim() ? { description: description.trim() } : {}),
    operation: operation.trim(),
    input: Object.fromEntries(inputs.filter((i) => i.name.trim()).map((i) => [i.name.trim(), {
      type: i.type, ...(i.required ? { required: true } : {}), ...(i.default !== '' ? { default: i.type === 'string' ? i.default : constant(i.default) } : {}),
    }])),
    map: Object.fromEntries(map.filter((m) => m.target.trim()).map((m) => [m.target.trim(), m.kind === 'input' ? `$.${m.value}` : { const: constant(m.value) }])),
    ...(output.some((o) => o.name.trim()) ? { output: Object.fromEntries(output.filter((o) => o.name.trim()).map((o) => [o.name.trim(), o.path.trim()])) } : {}),
  });
  const save = async () => {
    setBusy(true);
    setError('');
    try {
      p.onSaved(await api<Action>('POST', '/v1/actions', definition()));
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };
  const inputNames = inputs.map((i) => i.name.trim()).filter(Boolean);
  const set = <T,>(list: T[], setList: (v: T[]) => void, i: number, patch: Partial<T>) => setList(list.map((row, j) => (j === i ? { ...row, ...patch } : row)));

  return (
    <Card title={editing ? `Edit ${p.base!.name} (saving makes version ${p.base!.version + 1})` : 'New action'} actions={<><button onClick={p.onCancel}>Cancel</button><button className="primary" disabled={busy} onClick={save}>{busy ? 'Saving…' : 'Save action'}</button></>}>
      <div className="stack">
        {error && <Notice tone="bad">{error}</Notice>}
        <div className="grid cols-2">
          <Field label="Name" hint="Lowercase letters, digits and dashes. Called at /v1/actions/{connection}/{name}."><input aria-label="Action name" value={name} disabled={!!editing} onChange={(e) => setName(e.target.value)} placeholder="e.g. create-customer" /></Field>
          <Field label="Stripe operation" hint="A method and a Stripe API path.">
            <input aria-label="Stripe operation" list="operations" value={operation} onChange={(e) => setOperation(e.target.value)} />
            <datalist id="operations">{OPERATIONS.map((o) => <option key={o} value={o} />)}</datalist>
          </Field>
        </div>
        <Field label="Description"><input aria-label="Description" value={description} onChange={(e) => setDescription(e.target.value)} placeholder="What this action does, for the people who call it" /></Field>

        <h3 style={{ marginTop: 8 }}>Input fields <span className="muted small" style={{ fontWeight: 400 }}>— what callers send, in their own words</span></h3>
        {inputs.map((row, i) => (
          <div className="editor-row" key={i}>
            <input aria-label={`Input ${i + 1} name`} placeholder="e.g. customer_email" value={row.name} onChange={(e) => set(inputs, setInputs, i, { name: e.target.value })} />
            <select aria-label={`Input ${i + 1} type`} value={row.type} onChange={(e) => set(inputs, setInputs, i, { type: e.target.value as FieldType })}>
              <option value="string">Text</option><option value="integer">Whole number</option><option value="number">Number</option><option value="boolean">Yes / no</option>
            </select>
            <label className="row small"><input type="checkbox" aria-label={`Input ${i + 1} required`} checked={row.required} onChange={(e) => set(inputs, setInputs, i, { required: e.target.checked })} />Required</label>
            <input aria-label={`Input ${i + 1} default`} placeholder="Default (optional)" value={row.default} onChange={(e) => set(inputs, setInputs, i, { default: e.target.value })} />
            <button className="small" aria-label={`Remove input ${i + 1}`} onClick={() => setInputs(inputs.filter((_, j) => j !== i))}>✕</button>
          </div>
        ))}
        <div><button className="small" onClick={() => setInputs([...inputs, { name: '', type: 'string', required: false, default: '' }])}>+ Add input field</button></div>

        <h3 style={{ marginTop: 8 }}>Mapping to Stripe <span className="muted small" style={{ fontWeight: 400 }}>— Stripe parameter ← input field or constant; nested with dots, e.g. <code>metadata.order</code>, <code>items.0.price</code>, path parts as <code>path.customer</code></span></h3>
        {map.map((row, i) => (
          <div className="map-row" key={i}>
            <input aria-label={`Stripe parameter ${i + 1}`} placeholder="e.g. email" value={row.target} onChange={(e) => set(map, setMap, i, { target: e.target.value })} />
            <span className="muted" aria-hidden="true">←</span>
            <div className="row">
              <select aria-label={`Source ${i + 1} kind`} value={row.kind} onChange={(e) => set(map, setMap, i, { kind: e.target.value as 'input' | 'const', value: '' })}>
                <option value="input">Input field</option><option value="const">Constant</option>
              </select>
              {row.kind === 'input' ? (
                <select aria-label={`Source ${i + 1}`} value={row.value} onChange={(e) => set(map, setMap, i, { value: e.target.value })} style={{ flex: 1 }}>
                  <option value="">Choose a field…</option>
                  {inputNames.map((n) => <option key={n} value={n}>{n}</option>)}
                </select>
              ) : (
                <input aria-label={`Source ${i + 1}`} placeholder="e.g. true, 100, usd" value={row.value} onChange={(e) => set(map, setMap, i, { value: e.target.value })} style={{ flex: 1 }} />
              )}
            </div>
            <button className="small" aria-label={`Remove mapping ${i + 1}`} onClick={() => setMap(map.filter((_, j) => j !== i))}>✕</button>
          </div>
        ))}
        <div><button className="small" onClick={() => setMap([...map, { target: '', kind: 'input', value: '' }])}>+ Add mapping</button></div>

        <h3 style={{ marginTop: 8 }}>Output <span className="muted small" style={{ fontWeight: 400 }}>— fields of Stripe's answer to return, e.g. <code>$.id</code>, <code>$.invoice_settings.default_payment_method</code></span></h3>
        {output.map((row, i) => (
          <div className="map-row" key={i}>
            <input aria-label={`Output ${i + 1} name`} placeholder="e.g. customer_id" value={row.name} onChange={(e) => set(output, setOutput, i, { name: e.target.value })} />
            <span className="muted" aria-hidden="true">←</span>
            <input aria-label={`Output ${i + 1} path`} placeholder="e.g. $.id" value={row.path} onChange={(e) => set(output, setOutput, i, { path: e.target.value })} />
            <button className="small" aria-label={`Remove output ${i + 1}`} onClick={() => setOutput(output.filter((_, j) => j !== i))}>✕</button>
          </div>
        ))}
        <div><button className="small" onClick={() => setOutput([...output, { name: '', path: '$.' }])}>+ Add output field</button></div>
      </div>
    </Card>
  );
}

interface Trial { output?: unknown; stripe_request?: { method: string; path: string; params: unknown }; stripe_response?: unknown; error?: string }

function TryIt(p: { action: Action }) {
  const { scope } = useShell();
  const connections = useAsync(() => api<List<Connection>>('GET', '/v1/connections'), [scope]);
  const [chosen, setConnection] = useState('');
  const [values, setValues] = useState<Record<string, string>>({});
  const [trial, setTrial] = useState<Trial | null>(null);
  const [busy, setBusy] = useState(false);
  const usable = (connections.data?.data ?? []).filter((c) => c.status !== 'revoked');
  const connection = usable.some((c) => c.id === chosen) ? chosen : (usable[0]?.id ?? '');
  const run = async () => {
    setBusy(true);
    setTrial(null);
    const input = Object.fromEntries(Object.entries(values).filter(([, v]) => v !== ''));
    try {
      setTrial(await api<Trial>('POST', `/v1/actions/${connection}/${p.action.name}?trace=true`, input));
    } catch (e) {
      const err = e as ApiError;
      const sent = (err.body?.error as { stripe_request?: Trial['stripe_request'] } | undefined)?.stripe_request;
      setTrial({ error: err.message, stripe_request: sent, stripe_response: sent ? err.body : undefined });
    } finally {
      setBusy(false);
    }
  };
  return (
    <Card title="Try it">
      {connections.data && usable.length === 0 ? (
        <Empty icon="⇄" title="No connection to try it on" action={<button onClick={() => go('connections')}>Connect Stripe</button>}>Actions run on a connected Stripe account. Connect one first.</Empty>
      ) : (
        <div className="stack">
          <Field label="Connection">
            <select aria-label="Connection" value={connection} onChange={(e) => setConnection(e.target.value)}>
              {usable.map((c) => <option key={c.id} value={c.id}>{c.account} · {c.key_type === 'oauth' ? 'OAuth' : c.key_type === 'restricted' ? 'restricted key' : 'secret key'} ({c.id})</option>)}
            </select>
          </Field>
          <div className="grid cols-2">
            {Object.entries(p.action.input).map(([name, f]) => (
              <Field key={name} label={`${name}${f.required ? ' *' : ''}`} hint={f.description}>
                <input aria-label={`Sample ${name}`} value={values[name] ?? ''} placeholder={f.default !== undefined ? String(f.default) : f.type} onChange={(e) => setValues({ ...values, [name]: e.target.value })} />
              </Field>
            ))}
          </div>
          <div><button className="primary" disabled={!connection || busy} onClick={run}>{busy ? 'Running…' : 'Run action'}</button></div>
          {trial?.error && <Notice tone="bad">{trial.error}</Notice>}
          {trial && !trial.error && <Notice tone="ok">Stripe accepted the request.</Notice>}
          {trial?.output !== undefined && <><h3>Output</h3><Json value={trial.output} /></>}
          {trial?.stripe_request && (
            <div className="grid cols-2">
              <div><h3>Request to Stripe</h3><pre>{`${trial.stripe_request.method} ${trial.stripe_request.path}\n\n${JSON.stringify(trial.stripe_request.params, null, 2)}`}</pre></div>
              <div><h3>Stripe's answer</h3><Json value={trial.stripe_response} /></div>
            </div>
          )}
        </div>
      )}
    </Card>
  );
}

function ActionDetail(p: { name: string }) {
  const { scope } = useShell();
  const [editing, setEditing] = useState(false);
  const action = useAsync(() => api<Action>('GET', `/v1/actions/${p.name}`), [p.name, scope]);
  const versions = useAsync(() => api<List<Action>>('GET', `/v1/actions/${p.name}/versions`), [p.name, scope]);
  if (action.error) return <Notice tone="bad">{action.error}</Notice>;
  const a = action.data;
  if (!a) return <p className="muted">Loading…</p>;
  return (
    <Page
      title={a.name}
      subtitle={<><a href="#/actions">Actions</a> / {a.operation} · version {a.version} {a.built_in && <Badge>Built in</Badge>}</>}
      actions={<button onClick={() => setEditing(true)}>{a.built_in ? 'Copy as a new action' : 'Edit'}</button>}
    >
      <div className="stack">
        {editing && <Editor base={a} onCancel={() => setEditing(false)} onSaved={(saved) => { setEditing(false); if (saved.name === a.name) { action.reload(); versions.reload(); } else go(`actions/${saved.name}`); }} />}
        {a.description && <p>{a.description}</p>}
        <div className="grid cols-2">
          <Card title="Inputs" flush>
            <Table label="Inputs" rows={Object.entries(a.input)} rowKey={([n]) => n} columns={[
              { label: 'Field', render: ([n]) => <code>{n}</code> },
              { label: 'Type', render: ([, f]) => f.type },
              { label: 'Required', render: ([, f]) => (f.required ? 'Yes' : f.default !== undefined ? `No (default ${f.default})` : 'No') },
            ]} />
          </Card>
          <Card title="Mapping to Stripe" flush>
            <Table label="Mapping" rows={Object.entries(a.map)} rowKey={([t]) => t} columns={[
              { label: 'Stripe parameter', render: ([t]) => <code>{t}</code> },
              { label: 'From', render: ([, s]) => (typeof s === 'string' ? <code>{s.slice(2)}</code> : <span>constant <code>{JSON.stringify(s.const)}</code></span>) },
            ]} />
          </Card>
        </div>
        <Card title="Output returned to the caller" flush>
          {a.output && Object.keys(a.output).length ? (
            <Table label="Output" rows={Object.entries(a.output)} rowKey={([n]) => n} columns={[
              { label: 'Field', render: ([n]) => <code>{n}</code> },
              { label: "From Stripe's answer", render: ([, path]) => <code>{path}</code> },
            ]} />
          ) : <p className="muted" style={{ padding: '16px 20px', margin: 0 }}>No output mapping: the caller receives Stripe's whole answer.</p>}
        </Card>
        <TryIt action={a} />
        {versions.data && versions.data.data.length > 1 && (
          <Card title="Versions" flush>
            <Table label="Versions" rows={versions.data.data} rowKey={(v) => String(v.version)} columns={[
              { label: 'Version', render: (v) => `v${v.version}` },
              { label: 'Operation', render: (v) => v.operation },
              { label: 'Saved', render: (v) => when(v.created) },
            ]} />
          </Card>
        )}
      </div>
    </Page>
  );
}

export function Actions(p: { name?: string }) {
  const { scope } = useShell();
  const list = useAsync(() => api<List<Action>>('GET', '/v1/actions'), [scope]);
  if (p.name === 'new') {
    return <Page title="New action" subtitle={<><a href="#/actions">Actions</a> / new</>}><Editor onCancel={() => go('actions')} onSaved={(a) => go(`actions/${a.name}`)} /></Page>;
  }
  if (p.name) return <ActionDetail name={p.name} />;
  const rows = list.data?.data ?? [];
  const custom = rows.filter((a) => !a.built_in);
  return (
    <Page title="Actions" subtitle="Named Stripe operations with your own field names, callable at POST /v1/actions/{connection}/{action} with an app key." actions={<button className="primary" onClick={() => go('actions/new')}>New action</button>}>
      <div className="stack">
        {list.error && <Notice tone="bad">{list.error}</Notice>}
        {list.data && custom.length === 0 && <Notice tone="info">You have not defined an action yet. Start from a built-in one (open it and choose “Copy as a new action”) or create one from scratch.</Notice>}
        <Card flush>
          <Table label="Actions" rows={rows} rowKey={(a) => a.name} onRow={(a) => go(`actions/${a.name}`)} columns={[
            { label: 'Action', render: (a) => <><strong>{a.name}</strong><div className="muted small">{a.description}</div></> },
            { label: 'Stripe operation', render: (a) => <code>{a.operation}</code> },
            { label: 'Inputs', render: (a) => Object.keys(a.input).join(', ') },
            { label: 'Version', render: (a) => (a.built_in ? <Badge>Built in</Badge> : <Badge tone="brand">v{a.version}</Badge>) },
          ]} />
        </Card>
      </div>
    </Page>
  );
}
