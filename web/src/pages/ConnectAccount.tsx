/**
 * A Connect OAuth connection's account as the platform sees it: whether it
 * is onboarded (and a "Send onboarding link" action when it is not, or to
 * update it), its balance and payouts, and the platform's fees from it.
 */
import { useState } from 'react';
import { api } from '../api';
import { useShell } from '../App';
import { ago, Badge, Card, Field, Notice, Secret, Table, money, useAsync, when } from '../ui';
import type { Connection } from './Connections';

interface Amount { amount: number; currency: string }
interface Summary {
  onboarding: { charges_enabled: boolean; payouts_enabled: boolean; details_submitted: boolean; currently_due: string[]; disabled_reason: string | null; type: string | null };
  balance: { available: Amount[]; pending: Amount[] };
  payouts: { id: string; amount: number; currency: string; status: string; arrival_date: number; created: number; failure_code: string | null }[];
  application_fees: { totals: { currency: string; amount: number; refunded: number; net: number; count: number }[]; recent: { id: string; amount: number; amount_refunded: number; currency: string; created: number }[] };
}

const amounts = (list: Amount[]) => (list.filter((a) => a.amount !== 0).map((a) => money(a.amount, a.currency)).join(' + ') || money(0));
const PAYOUT_TONE: Record<string, 'ok' | 'warn' | 'bad' | undefined> = { paid: 'ok', pending: 'warn', in_transit: 'warn', failed: 'bad', canceled: undefined };

export function ConnectAccount(p: { connection: Connection }) {
  const { scope } = useShell();
  const summary = useAsync(() => api<Summary>('GET', `/v1/connections/${p.connection.id}/connect`), [p.connection.id, scope]);
  const [link, setLink] = useState<{ url: string; expires_at: number } | null>(null);
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const sendLink = async () => {
    setBusy(true);
    setError('');
    try {
      setLink(await api<{ url: string; expires_at: number }>('POST', `/v1/connections/${p.connection.id}/onboarding_link`, {}));
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };
  if (summary.error) return <Card title="Connect account"><Notice tone="bad">{summary.error}</Notice></Card>;
  const s = summary.data;
  if (!s) return <Card title="Connect account"><p className="muted" style={{ margin: 0 }}>Loading…</p></Card>;
  const ready = s.onboarding.charges_enabled && s.onboarding.payouts_enabled;
  return (
    <>
      <Card title="Connect account" actions={<><Badge tone={ready ? 'ok' : 'warn'} dot>{ready ? 'Onboarded' : 'Onboarding needed'}</Badge><button className="small" onClick={sendLink} disabled={busy}>{busy ? 'Making a link…' : ready ? 'Send update link' : 'Send onboarding link'}</button></>}>
        <div className="stack">
          {error && <Notice tone="bad">{error}</Notice>}
          {link && (
            <Field label="Onboarding link" hint={`Send it to the account's owner: it works once, until ${when(link.expires_at)}, and brings them back here.`}>
              <Secret value={link.url} label="onboarding link" />
              <a href={link.url} className="small">Open the onboarding page</a>
            </Field>
          )}
          <dl className="details">
            <dt>Payments</dt><dd>{s.onboarding.charges_enabled ? 'Enabled' : 'Not yet: details are due'}</dd>
            <dt>Payouts</dt><dd>{s.onboarding.payouts_enabled ? 'Enabled' : 'Not yet'}</dd>
            {s.onboarding.currently_due.length > 0 && <><dt>Still due</dt><dd className="small">{s.onboarding.currently_due.map((f) => f.replace(/[._]/g, ' ')).join(', ')}</dd></>}
            <dt>Available</dt><dd><strong>{amounts(s.balance.available)}</strong></dd>
            <dt>Pending</dt><dd>{amounts(s.balance.pending)}</dd>
            <dt>Platform fees</dt><dd>{s.application_fees.totals.length ? s.application_fees.totals.map((t) => `${money(t.net, t.currency)} from ${t.count} payment${t.count === 1 ? '' : 's'}${t.refunded ? ` (${money(t.refunded, t.currency)} refunded)` : ''}`).join('; ') : 'None yet'}</dd>
          </dl>
        </div>
      </Card>
      <Card title="Payouts" flush>
        {s.payouts.length === 0 ? <p className="muted" style={{ padding: '16px 20px', margin: 0 }}>No payouts yet.</p> : (
          <Table label="Payouts" rows={s.payouts} rowKey={(x) => x.id} columns={[
            { label: 'Amount', render: (x) => <strong>{money(x.amount, x.currency)}</strong> },
            { label: 'Status', render: (x) => <Badge tone={PAYOUT_TONE[x.status]}>{x.status.replace(/_/g, ' ')}{x.failure_code ? `: ${x.failure_code.replace(/_/g, ' ')}` : ''}</Badge> },
            { label: 'Arrives', render: (x) => when(x.arrival_date) },
            { label: 'Created', render: (x) => ago(x.created) },
          ]} />
        )}
      </Card>
    </>
  );
}
