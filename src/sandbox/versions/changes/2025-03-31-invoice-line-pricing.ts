/**
 * 2025-03-31.basil reshaped invoice line items: `price`, `plan`, `proration`,
 * `type`, `invoice_item`, `subscription_item` and `tax_amounts` gave way to
 * `pricing`, `parent` and `taxes`. Before it a line held the Price itself.
 */
import { without, type VersionChange } from '../change.js';

export const invoiceLinePricing: VersionChange = {
  version: '2025-03-31.basil',
  title: 'Invoice line items: `price`, `plan`, `proration`, `type`, `invoice_item`, `subscription_item`, `tax_amounts` and `tax_rates` removed (`pricing`, `parent`, `taxes` instead)',
  objects: ['line_item'],
  down(line, source) {
    const priceId: string | undefined = line.pricing?.price_details?.price;
    const price = priceId ? source.get('prices', priceId) ?? null : null;
    const item = line.parent?.invoice_item_details;
    const sub = line.parent?.subscription_item_details;
    const details = item ?? sub ?? {};
    const taxes: { amount: number; tax_behavior?: string; tax_rate_details?: { tax_rate: string }; taxability_reason?: string; taxable_amount?: number }[] = line.taxes ?? [];
    return {
      ...without(line, 'parent', 'pricing', 'taxes', 'pretax_credit_amounts'),
      amount_excluding_tax: line.amount,
      // Present only on lines from invoice items: the 2023 schema has no null here.
      ...(item?.invoice_item ? { invoice_item: item.invoice_item } : {}),
      plan: price?.recurring ? { id: price.id, object: 'plan', active: price.active, amount: price.unit_amount, currency: price.currency, interval: price.recurring.interval, interval_count: price.recurring.interval_count, product: price.product } : null,
      price,
      proration: details.proration ?? false,
      proration_details: { credited_items: null },
      subscription: details.subscription ?? line.subscription ?? null,
      subscription_item: sub?.subscription_item ?? null,
      tax_amounts: taxes.map((t) => ({ amount: t.amount, inclusive: t.tax_behavior === 'inclusive', tax_rate: t.tax_rate_details?.tax_rate ?? null, taxability_reason: t.taxability_reason ?? null, taxable_amount: t.taxable_amount ?? null })),
      tax_rates: [],
      type: item ? 'invoiceitem' : 'subscription',
      unit_amount_excluding_tax: line.pricing?.unit_amount_decimal ?? null,
    };
  },
};
