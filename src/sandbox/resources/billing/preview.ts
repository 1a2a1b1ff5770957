/**
 * The invoice a customer will get next, without creating it: `GET
 * /v1/invoices/upcoming` (removed in 2025-03-31.basil) and its successor
 * `POST /v1/invoices/create_preview`. The preview is drafted on a scratch
 * view of the account whose writes and events are thrown away, so it is the
 * invoice a renewal would draft — the next period of every item, the
 * pending invoice items (prorations), discounts — with the customer's
 * balance applied as finalizing would apply it.
 */
import { invalidRequest } from '../../../stripe/errors.js';
import { olderThan } from '../../../stripe/versions.js';
import { Ctx } from '../../engine/context.js';
import type { Operation, Params } from '../../engine/resource.js';
import type { StripeObject } from '../../store/collection.js';
import type { ParamSchema } from '../../../stripe/schema.js';
import { draftInvoice } from './invoices.js';
import { itemLine } from './subscriptions.js';
import { nextBoundary } from './time.js';

const RENEWING = new Set(['active', 'trialing', 'past_due']);

/** The customer's subscription that renews first, when none is named. */
function soonestSubscription(ctx: Ctx, customer: string): StripeObject | undefined {
  let soonest: StripeObject | undefined;
  for (const sub of ctx.all('subscriptions')) {
    if (sub.customer !== customer || !RENEWING.has(sub.status) || sub.cancel_at_period_end) continue;
    if (!soonest || sub.items.data[0].current_period_end < soonest.items.data[0].current_period_end) soonest = sub;
  }
  return soonest;
}

function preview(ctx: Ctx, p: Params): StripeObject {
  if (!p.customer && !p.subscription) throw invalidRequest('Missing required param: customer.', { param: 'customer', code: 'parameter_missing' });
  const sub = p.subscription ? ctx.require('subscriptions', p.subscription, 'subscription', 'subscription') : soonestSubscription(ctx, p.customer);
  if (sub && p.customer && sub.customer !== p.customer) throw invalidRequest(`The subscription ${sub.id} does not belong to customer ${p.customer}.`, { param: 'subscription' });
  if (sub && (!RENEWING.has(sub.status) || sub.cancel_at_period_end)) {
    throw invalidRequest(`No upcoming invoices for subscription ${sub.id}: it does not renew.`, { code: 'invoice_upcoming_none' });
  }
  const customer = ctx.require('customers', sub?.customer ?? p.customer, 'customer', 'customer');
  // Writes here are never committed: the pipeline commits the request's own view, not this one.
  const scratch = new Ctx(ctx.store, ctx.account, ctx.env, ctx.request);
  scratch.setNow(ctx.now());
  let lines: ReturnType<typeof itemLine>[] = [];
  let currency = sub?.currency;
  if (sub) {
    const items: StripeObject[] = sub.items.data;
    const start = items[0].current_period_end;
    const recurring = items[0].price.recurring;
    const period = { start, end: nextBoundary(sub.billing_cycle_anchor, recurring.interval, recurring.interval_count, start) };
    lines = items.map((item) => itemLine(scratch, sub, item, period, false));
  } else {
    const pending = [...ctx.all('invoiceitems')].filter((ii) => ii.customer === customer.id && !ii.invoice && !ii.subscription);
    if (!pending.length) throw invalidRequest(`No upcoming invoices for customer: ${customer.id}`, { code: 'invoice_upcoming_none' });
    currency = pending[0].currency;
  }
  const draft = draftInvoice(scratch, {
    customer, currency, billingReason: sub ? 'upcoming' : 'manual', collectionMethod: sub?.collection_method, daysUntilDue: sub?.days_until_due,
    subscription: sub ?? null, lines, discountIds: sub?.discounts, periodStart: lines[0]?.period.start, periodEnd: lines[0]?.period.end,
  }, true);
  const starting = customer.balance ?? 0;
  const net = starting + draft.total;
  const ending = net <= 0 ? net : 0;
  const amountDue = Math.max(0, draft.total - (ending - starting));
  return {
    ...draft,
    amount_due: amountDue,
    amount_remaining: amountDue,
    ending_balance: ending,
    next_payment_attempt: sub ? lines[0]?.period.start ?? null : null,
    created: lines[0]?.period.start ?? ctx.now(),
    lines: { ...draft.lines, url: `/v1/invoices/upcoming/lines?customer=${customer.id}` },
  };
}

const PREVIEW_PARAMS: ParamSchema = {
  t: 'o', p: { customer: { t: 's' }, subscription: { t: 's' }, expand: { t: 'a', i: { t: 's' } } },
};

export const previewOperations: Operation[] = [
  {
    method: 'GET', path: '/v1/invoices/upcoming', permission: 'invoices', params: PREVIEW_PARAMS,
    handle: (ctx, p) => {
      if (!olderThan(ctx.request.apiVersion, '2025-03-31.basil')) {
        throw invalidRequest('The upcoming invoice API was removed in 2025-03-31.basil. Use POST /v1/invoices/create_preview instead.', { code: 'api_version_removed' }, 404);
      }
      const { id: _id, ...upcoming } = preview(ctx, p);
      return upcoming as StripeObject;
    },
  },
  {
    method: 'POST', path: '/v1/invoices/create_preview', permission: 'invoices', params: PREVIEW_PARAMS,
    handle: (ctx, p) => {
      const inv = preview(ctx, p);
      return { ...inv, id: `upcoming_${inv.id}`, lines: { ...inv.lines, url: `/v1/invoices/upcoming_${inv.id}/lines` } };
    },
  },
];
