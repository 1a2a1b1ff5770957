/**
 * Payouts: money leaving the available balance for the account's bank. A
 * payout takes its amount out of the available balance at once (a
 * `payout` balance transaction) and is refused beyond it; canceling a
 * pending payout puts the amount back (`payout_cancel`). The sandbox's bank
 * answers at once: an instant payout is paid when created, a standard one
 * moments later — or fails, for Stripe's failing test bank accounts
 * (000111111116 `no_account`, 000111111113 `account_closed`, 000222222227
 * `insufficient_funds`, 000333333335 `debit_not_authorized`, 000444444440
 * `invalid_currency`), its amount coming back (`payout_failure`).
 */
import { invalidRequest } from '../../stripe/errors.js';
import { checkCurrency } from '../../stripe/money.js';
import { newId } from '../../stripe/ids.js';
import type { Ctx } from '../engine/context.js';
import { applyUpdate, equals, saveUpdate, standardOperations, type Operation, type Params, type Resource } from '../engine/resource.js';
import type { StripeObject } from '../store/store.js';
import { createBalanceTransaction } from './charges.js';
import { availableBalance } from '../connect/money.js';

const DAY = 86_400;
const BANK_MS = 2000;

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
    destination: p.destination ?? bankOf(ctx, '')?.id ?? 'ba_sandbox_bank_account',
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
  const failure = FAILING_ACCOUNTS[bankOf(ctx, payout.destination)?.last4 ?? ''];
  if (method !== 'instant' || failure) {
    // The bank answers in two seconds: time enough to cancel a payout, as Stripe allows while it is pending.
    ctx.later.push(Object.assign((later: Ctx) => arrive(later.in(ctx.account), id), { delayMs: BANK_MS }));
    return payout;
  }
  return paid(ctx, payout);
}

/** Stripe's test bank accounts whose payouts fail, by their last four digits, and how. */
const FAILING_ACCOUNTS: Record<string, { code: string; message: string }> = {
  '1116': { code: 'no_account', message: 'The bank account details on file are probably incorrect. No bank account could be located with those details.' },
  '1113': { code: 'account_closed', message: 'The bank account has been closed.' },
  '2227': { code: 'insufficient_funds', message: 'Your Stripe account has insufficient funds to cover the payout.' },
  '3335': { code: 'debit_not_authorized', message: 'Debit transactions are not approved on the bank account.' },
  '4440': { code: 'invalid_currency', message: 'The bank was unable to process this payout because of its currency.' },
};

/** The account's bank account a payout goes to (its own external account for a connected account). */
function bankOf(ctx: Ctx, destination: string): StripeObject | undefined {
  const account = ctx.store.get(ctx.env.platform, 'accounts', ctx.account);
  return account?.external_accounts?.data?.find((b: StripeObject) => b.id === destination) ?? account?.external_accounts?.data?.[0];
}

function paid(ctx: Ctx, payout: StripeObject): StripeObject {
  const next = { ...payout, status: 'paid', trace_id: { status: 'supported', value: `TRACE${payout.id.slice(-10).toUpperCase()}` } };
  ctx.put('payouts', next);
  ctx.emit('payout.paid', next);
  return next;
}

/** A standard payout reaching the bank: paid, or failed with its amount back in the balance. */
function arrive(ctx: Ctx, id: string): void {
  const payout = ctx.get('payouts', id);
  if (!payout || payout.status !== 'pending') return;
  const failure = FAILING_ACCOUNTS[bankOf(ctx, payout.destination)?.last4 ?? ''];
  if (!failure) return void paid(ctx, payout);
  const back = createBalanceTransaction(ctx, { amount: payout.amount, currency: payout.currency, fee: 0, type: 'payout_failure', source: payout.id, description: `Payout failure for ${payout.id}`, availableNow: true });
  const failed = { ...payout, status: 'failed', failure_balance_transaction: back.id, failure_code: failure.code, failure_message: failure.message };
  ctx.put('payouts', failed);
  ctx.emit('payout.failed', failed);
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
