/** The dashboard's building blocks: layout, tables with pagination, modals, badges, a chart. */
import { useCallback, useEffect, useRef, useState, type ReactNode } from 'react';
import type { List } from './api';

export function Page(p: { title: string; subtitle?: ReactNode; actions?: ReactNode; children: ReactNode }) {
  return (
    <>
      <div className="page-head">
        <div>
          <h1>{p.title}</h1>
          {p.subtitle && <p className="muted">{p.subtitle}</p>}
        </div>
        {p.actions && <div className="row">{p.actions}</div>}
      </div>
      {p.children}
    </>
  );
}

export function Card(p: { title?: ReactNode; actions?: ReactNode; flush?: boolean; children: ReactNode }) {
  return (
    <section className={`card${p.flush || p.title ? ' flush' : ''}`}>
      {p.title && (
        <div className="card-head">
          <h2>{p.title}</h2>
          {p.actions && <div className="row">{p.actions}</div>}
        </div>
      )}
      {p.title && !p.flush ? <div style={{ padding: '16px 20px' }}>{p.children}</div> : p.children}
    </section>
  );
}

export function Empty(p: { icon?: string; title: string; children: ReactNode; action?: ReactNode }) {
  return (
    <div className="empty">
      <div className="icon" aria-hidden="true">{p.icon ?? '＋'}</div>
      <h3>{p.title}</h3>
      <p>{p.children}</p>
      {p.action}
    </div>
  );
}

export function Notice(p: { tone: 'ok' | 'bad' | 'info' | 'warn'; children: ReactNode }) {
  return <div className={`notice ${p.tone}`} role={p.tone === 'bad' ? 'alert' : 'status'}>{p.children}</div>;
}

export function Badge(p: { tone?: 'ok' | 'warn' | 'bad' | 'brand'; dot?: boolean; children: ReactNode }) {
  return <span className={`badge ${p.tone ?? ''}`}>{p.dot && <span className="dot" />}{p.children}</span>;
}

const STATUS_WORDS: Record<number, string> = {
  200: 'OK', 201: 'Created', 202: 'Accepted', 204: 'No content', 400: 'Invalid request', 401: 'Not authorized', 402: 'Payment failed',
  403: 'Forbidden', 404: 'Not found', 409: 'Conflict', 429: 'Too many requests', 500: 'Stripe error', 502: 'Stripe unreachable', 503: 'Unavailable', 504: 'Timed out',
};

/** An HTTP status as a badge that says what it means. */
export function StatusBadge(p: { status: number | null }) {
  if (p.status === null) return <Badge tone="bad">No answer</Badge>;
  const tone = p.status < 300 ? 'ok' : p.status < 500 ? 'warn' : 'bad';
  return <Badge tone={tone}>{p.status} {STATUS_WORDS[p.status] ?? ''}</Badge>;
}

/** `card_declined` → "Card declined". */
export const words = (code: string | null | undefined) => (code ? code.charAt(0).toUpperCase() + code.slice(1).replace(/[_.]/g, ' ') : '');

export interface Column<T> {
  label: string;
  render: (row: T) => ReactNode;
  width?: string;
}

export function Table<T>(p: { columns: Column<T>[]; rows: T[]; onRow?: (row: T) => void; rowKey: (row: T) => string; label?: string }) {
  return (
    <table className="table" aria-label={p.label}>
      <thead>
        <tr>{p.columns.map((c) => <th key={c.label} style={{ width: c.width }}>{c.label}</th>)}</tr>
      </thead>
      <tbody>
        {p.rows.map((row) => (
          <tr key={p.rowKey(row)} className={p.onRow ? 'clickable' : undefined} onClick={p.onRow ? () => p.onRow!(row) : undefined}>
            {p.columns.map((c) => <td key={c.label}>{c.render(row)}</td>)}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** Loads `load()` when `deps` change; `reload` runs it again. */
export function useAsync<T>(load: () => Promise<T>, deps: unknown[]) {
  const [state, setState] = useState<{ data?: T; error?: string; loading: boolean }>({ loading: true });
  const seq = useRef(0);
  const run = useCallback((fresh: boolean) => {
    const mine = ++seq.current;
    // New inputs drop the old answer (it belongs to another connection or
    // filter); a reload of the same inputs keeps it on screen until replaced.
    setState((s) => (fresh ? { loading: true } : { ...s, loading: true }));
    load().then(
      (data) => mine === seq.current && setState({ data, loading: false }),
      (e: Error) => mine === seq.current && setState({ error: e.message, loading: false }),
    );
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, deps);
  useEffect(() => run(true), [run]);
  const reload = useCallback(() => run(false), [run]);
  return { ...state, reload };
}

/** Cursor pagination over a Stripe-style list: `starting_after` forwards, a stack of cursors back. */
export function usePaged<T extends { id: string }>(load: (startingAfter?: string) => Promise<List<T>>, deps: unknown[]) {
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  useEffect(() => setCursors([undefined]), deps); // eslint-disable-line react-hooks/exhaustive-deps
  const at = cursors[cursors.length - 1];
  const page = useAsync(() => load(at), [...deps, at]);
  const rows = page.data?.data ?? [];
  return {
    ...page,
    rows,
    page: cursors.length,
    hasMore: page.data?.has_more ?? false,
    next: () => rows.length && setCursors((c) => [...c, rows[rows.length - 1].id]),
    prev: () => setCursors((c) => (c.length > 1 ? c.slice(0, -1) : c)),
  };
}

export function Pager(p: { page: number; hasMore: boolean; count: number; onPrev: () => void; onNext: () => void }) {
  return (
    <div className="pager">
      <span>Page {p.page} · {p.count} shown</span>
      <div className="row">
        <button className="small" disabled={p.page <= 1} onClick={p.onPrev}>Previous</button>
        <button className="small" disabled={!p.hasMore} onClick={p.onNext}>Next</button>
      </div>
    </div>
  );
}

export function Modal(p: { title: string; onClose: () => void; children: ReactNode; footer?: ReactNode; wide?: boolean }) {
  useEffect(() => {
    const esc = (e: KeyboardEvent) => e.key === 'Escape' && p.onClose();
    window.addEventListener('keydown', esc);
    return () => window.removeEventListener('keydown', esc);
  }, [p.onClose]);
  return (
    <div className="backdrop" onMouseDown={(e) => e.target === e.currentTarget && p.onClose()}>
      <div className={`modal${p.wide ? ' wide' : ''}`} role="dialog" aria-label={p.title}>
        <header>
          <h2>{p.title}</h2>
          <button className="link" onClick={p.onClose} aria-label="Close">✕</button>
        </header>
        <div className="body">{p.children}</div>
        {p.footer && <footer>{p.footer}</footer>}
      </div>
    </div>
  );
}

export function Field(p: { label: string; hint?: ReactNode; children: ReactNode }) {
  return (
    <label className="field">
      {p.label}
      {p.children}
      {p.hint && <span className="hint">{p.hint}</span>}
    </label>
  );
}

export function Json(p: { value: unknown }) {
  return <pre>{JSON.stringify(p.value, null, 2)}</pre>;
}

/** An id as people need one: readable, wrapping where it must, and copied with one click. */
export function CopyId(p: { id: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <span className="copy-id">
      <span className="mono wrap-anywhere">{p.id}</span>
      <button type="button" className="link small" aria-label={`Copy ${p.id}`} onClick={() => navigator.clipboard?.writeText(p.id).then(() => setCopied(true), () => undefined)}>{copied ? 'Copied' : 'Copy'}</button>
    </span>
  );
}

export function Secret(p: { value: string; label: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <div className="secret" aria-label={p.label}>
      <span style={{ flex: 1 }} data-testid="secret">{p.value}</span>
      <button className="small" onClick={() => navigator.clipboard?.writeText(p.value).then(() => setCopied(true), () => undefined)}>{copied ? 'Copied' : 'Copy'}</button>
    </div>
  );
}

export const when = (seconds: number | null | undefined) => (seconds ? new Date(seconds * 1000).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' }) : '—');

export function ago(seconds: number | null | undefined): string {
  if (!seconds) return '—';
  const d = Date.now() / 1000 - seconds;
  if (d < 60) return 'just now';
  if (d < 3600) return `${Math.floor(d / 60)} min ago`;
  if (d < 86400) return `${Math.floor(d / 3600)} h ago`;
  return when(seconds);
}

export const money = (amount: number | null | undefined, currency = 'usd') =>
  amount === null || amount === undefined ? '—' : new Intl.NumberFormat(undefined, { style: 'currency', currency: currency.toUpperCase() }).format(amount / 100);

/** A chart's value axis: the top value, half of it and zero, beside the plot. */
export function YAxis(p: { max: number; format?: (n: number) => string }) {
  const f = p.format ?? ((n: number) => n.toLocaleString());
  return <div className="y-axis" aria-hidden="true"><span>{f(p.max)}</span><span>{f(p.max / 2)}</span><span>{f(0)}</span></div>;
}

/** A round top for an axis: 1, 2 or 5 times a power of ten, at least the largest value. */
export function niceMax(value: number): number {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  return ([1, 2, 5, 10].find((m) => m * power >= value) ?? 10) * power;
}

/** Requests (and, in red, errors) per time bucket, with a value axis and dated ends. */
export function BarChart(p: { buckets: { start: number; requests: number; errors: number }[]; label: string }) {
  const max = niceMax(Math.max(1, ...p.buckets.map((b) => b.requests)));
  const w = 100 / p.buckets.length;
  const fmt = (s: number) => new Date(s * 1000).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
  const dated = (s: number) => new Date(s * 1000).toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
  return (
    <div>
      <div className="plot">
        <YAxis max={max} format={(n) => String(Math.round(n))} />
        <svg className="chart" viewBox="0 0 100 60" preserveAspectRatio="none" role="img" aria-label={p.label}>
          {[0, 30].map((y) => <line key={y} x1="0" x2="100" y1={y} y2={y} stroke="#eef0f3" strokeWidth="0.3" />)}
          {p.buckets.map((b, i) => {
            const h = (b.requests / max) * 60;
            const e = (b.errors / max) * 60;
            return (
              <g key={b.start}>
                <title>{`${fmt(b.start)}: ${b.requests} requests, ${b.errors} errors`}</title>
                <rect className="bar" x={i * w + w * 0.15} width={w * 0.7} y={60 - h} height={h} rx="0.4" />
                {b.errors > 0 && <rect className="bar err" x={i * w + w * 0.15} width={w * 0.7} y={60 - e} height={e} rx="0.4" />}
              </g>
            );
          })}
        </svg>
      </div>
      <div className="row" style={{ justifyContent: 'space-between' }}>
        <span className="muted small">{p.buckets.length ? dated(p.buckets[0].start) : ''}</span>
        <div className="legend"><span><i style={{ background: '#c7d2fe' }} />Requests</span><span><i style={{ background: '#f87171' }} />Errors</span></div>
        <span className="muted small">now</span>
      </div>
    </div>
  );
}

/** A loaded object's page: the error in words, "Loading…", or the page itself. */
export function Loaded<T>(p: { state: { data?: T; error?: string }; children: (data: T) => ReactNode }) {
  if (p.state.error) return <Notice tone="bad">{p.state.error}</Notice>;
  if (p.state.data === undefined) return <p className="muted">Loading…</p>;
  return <>{p.children(p.state.data)}</>;
}

/** A paged list: its empty state on an empty first page, otherwise the table and the pager. */
export function PagedTable<T extends { id: string }>(p: { list: ReturnType<typeof usePaged<T>>; empty: ReactNode; label: string; columns: Column<T>[]; onRow: (row: T) => void }) {
  const { list } = p;
  if (list.error) return <Notice tone="bad">{list.error}</Notice>;
  if (list.data && list.rows.length === 0 && list.page === 1) return <>{p.empty}</>;
  return (
    <>
      <Table label={p.label} rows={list.rows} rowKey={(r) => r.id} onRow={p.onRow} columns={p.columns} />
      <Pager page={list.page} hasMore={list.hasMore} count={list.rows.length} onPrev={list.prev} onNext={list.next} />
    </>
  );
}
