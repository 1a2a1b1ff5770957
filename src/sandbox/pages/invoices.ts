/** The hosted invoice page (`hosted_invoice_url`) and its PDF (`invoice_pdf`). */
import type { FastifyInstance } from 'fastify';
import { resourceMissing } from '../../stripe/errors.js';
import { formatAmount } from '../../stripe/money.js';
import type { Store, StripeObject } from '../store/store.js';
import { escapeHtml, page } from './html.js';
import { textPdf } from './pdf.js';

const date = (seconds: number | null) => (seconds ? new Date(seconds * 1000).toISOString().slice(0, 10) : '—');

function summary(inv: StripeObject): [string, string][] {
  return [
    ['Invoice number', inv.number ?? 'Draft'],
    ['Status', inv.status],
    ['Date', date(inv.status_transitions?.finalized_at ?? inv.created)],
    ...(inv.due_date ? [['Due', date(inv.due_date)] as [string, string]] : []),
    ['Billed to', inv.customer_email ?? inv.customer],
  ];
}

export function registerInvoicePages(app: FastifyInstance, store: Store): void {
  const find = (id: string) => {
    const found = store.locate('invoices', id);
    if (!found || found.obj.deleted) throw resourceMissing('invoice', id);
    return found.obj;
  };

  app.get<{ Params: { id: string } }>('/_sandbox/invoices/:id', async (req, reply) => {
    const inv = find(req.params.id);
    const lines = inv.lines.data.map((l: StripeObject) =>
      `<div class="row"><span>${escapeHtml(l.description ?? 'Item')}</span><span>${escapeHtml(formatAmount(l.amount, l.currency))}</span></div>`).join('');
    const discount = inv.subtotal - inv.total;
    return reply.type('text/html').send(page(`Invoice ${inv.number ?? ''}`, `
      <span class="badge">Test mode</span>
      <h1>Invoice from ${escapeHtml(inv.account_name)}</h1>
      ${summary(inv).map(([k, v]) => `<div class="row"><span>${escapeHtml(k)}</span><span>${escapeHtml(v)}</span></div>`).join('')}
      <h2 style="font-size:15px;margin:20px 0 4px">Items</h2>
      ${lines}
      ${discount ? `<div class="row"><span>Discount</span><span>−${escapeHtml(formatAmount(discount, inv.currency))}</span></div>` : ''}
      <div class="row total"><span>${inv.status === 'paid' ? 'Amount paid' : 'Amount due'}</span><span>${escapeHtml(formatAmount(inv.status === 'paid' ? inv.amount_paid : inv.amount_due, inv.currency))}</span></div>
      <a class="button secondary" href="/_sandbox/invoices/${escapeHtml(inv.id)}/pdf">Download invoice</a>`));
  });

  app.get<{ Params: { id: string } }>('/_sandbox/invoices/:id/pdf', async (req, reply) => {
    const inv = find(req.params.id);
    const lines = [
      `Invoice ${inv.number ?? '(draft)'}`,
      ...summary(inv).map(([k, v]) => `${k}: ${v}`),
      '',
      ...inv.lines.data.map((l: StripeObject) => `${l.description ?? 'Item'}    ${formatAmount(l.amount, l.currency)}`),
      '',
      `Total: ${formatAmount(inv.total, inv.currency)}`,
      `Amount due: ${formatAmount(inv.amount_due, inv.currency)}`,
    ];
    return reply.type('application/pdf').header('content-disposition', `inline; filename="${inv.number ?? inv.id}.pdf"`).send(textPdf(lines));
  });
}
