/**
 * Payouts: money leaving the available balance for the account's bank. A
 * payout takes its amount out of the available balance at once (a
 * `payout` balance transaction) and is refused beyond it; canceling a
 * pending payout puts the amount back (`payout_cancel`). The sandbox has
 * no bank: an instant payout is paid at once, a standard one stays
 * pending until canceled, as far as the API can tell.
 */
import { invalidRequest } from '../../stripe/errors.js';
import { checkCurrency } from '../../stripe/money.js';
import { newId } from '../../stripe/ids.js';
import type { Ctx } from '../engine/context.js';
import { applyUpdate, equals, saveUpdate, standardOperations, type Operation, type Params, type Resource } from '../engine/resource.js';
import type { StripeObject } from '../store/store.js';
import { createBalanceTransaction } from './charges.js';

const DAY = 86_400;

/** What may be paid out now in `currency`: balance transactions already available. */
export function availableBalance(ctx: Ctx, currency: string): number {
  let sum = 0;
  for (const txn of ctx.all('balance_transactions')) if (txn.currency === currency && txn.available_on <= ctx.now()) sum += txn.net;
  return sum;
}

function createPayout(ctx: Ctx, p: Params): StripeObject {
  const currency = checkCurrency(p.currency);
  if (!Number.isInteger(p.amount) || p.amount <= 0) throw invalidRequest('Invalid positive integer', { param: 'amount' });
  const method = p.method ?? 'standard';
  const available = availableBalance(ctx, currency);
  if (p.amount > available) {
    throw invalidRequest(`You have insufficient funds in your Stripe account for this payout: ${available} ${currency} is available (funds from charges become available after two days; the test card 4000000000000077 makes them available at once).`, { code: 'balance_insufficient', param: 'amount' });
  }
  const id = newId('po');
  const txn = createBalanceTransaction(ctx, { amount: -p.amount, currency, fee: 0, type: 'payout', source: id, description: p.description ?? 'STRIPE PAYOUT', availableNow: true });
  const payout: StripeObject = {
    id,
    object: 'payout',
    amount: p.amount,
    application_fee: null,
    application_fee_amount: null,
    arrival_date: method === 'instant' ? ctx.now() : ctx.now() + 2 * DAY,
    automatic: false,
    balance_transaction: txn.id,
    created: ctx.now(),
    currency,
    description: p.description ?? 'STRIPE PAYOUT',
    destination: p.destination ?? 'ba_sandbox_bank_account',
    failure_balance_transaction: null,
    failure_code: null,
    failure_message: null,
    livemode: false,
    metadata: p.metadata || {},
    method,
    original_payout: null,
    payout_method: null,
    reconciliation_status: 'not_applicable',
    reversed_by: null,
    source_type: p.source_type ?? 'card',
    statement_descriptor: p.statement_descriptor ?? null,
    status: 'pending',
    trace_id: { status: 'pending', value: null },
    type: 'bank_account',
  };
  ctx.put('payouts', payout);
  ctx.emit('payout.created', payout);
  if (method !== 'instant') return payout;
  const paid = { ...payout, status: 'paid', trace_id: { status: 'supported', value: `TRACE${id.slice(-10).toUpperCase()}` } };
  ctx.put('payouts', paid);
  ctx.emit('payout.paid', paid);
  return paid;
}

function cancelPayout(ctx: Ctx, payout: StripeObject): StripeObject {
  if (payout.status !== 'pending') throw invalidRequest(`Payouts can only be canceled while they are pending; this one is ${payout.status}.`, { code: 'payout_not_cancelable' });
  const back = createBalanceTransaction(ctx, { amount: payout.amount, currency: payout.currency, fee: 0, type: 'payout_cancel', source: payout.id, description: `Cancellation of ${payout.id}`, availableNow: true });
  const canceled = { ...payout, status: 'canceled', failure_balance_transaction: back.id };
  ctx.put('payouts', canceled);
  ctx.emit('payout.canceled', canceled);
  return canceled;
}

const declaration = {
  collection: 'payouts', object: 'payout', prefix: 'po', noun: 'payout', path: '/v1/payouts', permission: 'payouts',
  listFilters: { status: equals('status'), destination: equals('destination') },
};

const cancel: Operation = {
  method: 'POST', path: '/v1/payouts/{payout}/cancel', permission: 'payouts',
  handle: (ctx, _p, path) => cancelPayout(ctx, ctx.require('payouts', path.payout, 'payout', 'payout')),
};

export const payouts: Resource = {
  ...declaration,
  operations: [
    ...standardOperations(declaration, {
      idParam: 'payout', create: createPayout,
      update: (ctx, payout, p) => {
        const next = ctx.edit(payout);
        return saveUpdate(ctx, 'payouts', next, applyUpdate(next, p), 'payout.updated');
      },
    }),
    cancel,
  ],
};
