/**
 * 2025-03-31.basil moved an invoice's payment to InvoicePayments and its
 * subscription under `parent`: `charge`, `payment_intent`, `paid`,
 * `paid_out_of_band`, `subscription` and `subscription_details` left the
 * invoice; taxes became `total_taxes` (was `tax` and `total_tax_amounts`);
 * `discount` left for `discounts`.
 */
import { without, type RenderSource, type VersionChange } from '../change.js';
import type { StripeObject } from '../../store/store.js';

function defaultPayment(inv: StripeObject, source: RenderSource): StripeObject | undefined {
  for (const p of source.list('invoice_payments')) if (p.invoice === inv.id && p.is_default) return p;
  return undefined;
}

export const invoicePayments: VersionChange = {
  version: '2025-03-31.basil',
  title: 'Invoices: `payment_intent`, `charge`, `paid`, `paid_out_of_band`, `subscription`, `tax`, `total_tax_amounts` and `discount` removed (InvoicePayments, `parent`, `total_taxes`, `discounts` instead)',
  objects: ['invoice'],
  down(inv, source) {
    const payment = defaultPayment(inv, source);
    const intentId: string | null = payment?.payment?.payment_intent ?? null;
    const intent = intentId ? source.get('payment_intents', intentId) : undefined;
    const subscription = inv.parent?.subscription_details ?? null;
    const taxes: StripeObject[] = inv.total_taxes ?? [];
    const paidOutOfBand = inv.status === 'paid' && (inv.amount_paid_off_stripe ?? 0) > 0;
    return {
      ...without(inv, 'parent', 'payments', 'total_taxes', 'confirmation_secret', 'amount_overpaid', 'amount_paid_off_stripe'),
      charge: intent?.latest_charge ?? null,
      discount: null,
      paid: inv.status === 'paid',
      paid_out_of_band: paidOutOfBand,
      payment_intent: intentId,
      quote: null,
      subscription: subscription?.subscription ?? null,
      subscription_details: subscription ? { metadata: subscription.metadata ?? null } : null,
      tax: taxes.length ? taxes.reduce((sum, t) => sum + t.amount, 0) : null,
      total_tax_amounts: taxes.map((t) => ({ amount: t.amount, inclusive: t.tax_behavior === 'inclusive', tax_rate: t.tax_rate_details?.tax_rate ?? null, taxability_reason: t.taxability_reason ?? null, taxable_amount: t.taxable_amount ?? null })),
    };
  },
};
