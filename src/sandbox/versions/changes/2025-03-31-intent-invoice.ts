/** 2025-03-31.basil removed `invoice` from Charges and PaymentIntents (an invoice's payments list them instead). */
import type { RenderSource, VersionChange } from '../change.js';

function invoiceOfIntent(source: RenderSource, intent: string | null | undefined): string | null {
  if (!intent) return null;
  for (const p of source.list('invoice_payments')) if (p.payment?.payment_intent === intent) return p.invoice;
  return null;
}

export const intentInvoice: VersionChange = {
  version: '2025-03-31.basil',
  title: 'Charges and PaymentIntents: `invoice` removed',
  objects: ['payment_intent', 'charge'],
  down: (obj, source) => ({ ...obj, invoice: invoiceOfIntent(source, obj.object === 'charge' ? obj.payment_intent : obj.id) }),
};
