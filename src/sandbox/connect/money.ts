/**
 * Money between a Connect platform and its connected accounts, as Stripe
 * documents it, with a balance transaction on every side:
 *
 * - a direct charge (made on the account, `Stripe-Account`) with
 *   `application_fee_amount`: the fee is part of the account's charge fee and
 *   an `application_fee` (`fee_…`) credited to the platform;
 * - a destination charge (made on the platform, `transfer_data[destination]`):
 *   a transfer (`tr_…`) of `transfer_data[amount]`, or of the whole amount,
 *   arrives on the account as a payment (`py_…`); with
 *   `application_fee_amount` the account then pays that fee back to the
 *   platform out of the payment;
 * - separate charges and transfers (`/v1/transfers`), and reversals;
 * - refunds that reverse the transfer and refund the fee proportionally.
 *
 * Each side's writes go to its own account in the same transaction
 * (`ctx.in(account)`), so a request moves money on both sides or on neither.
 */
import { invalidRequest, resourceMissing, StripeError } from '../../stripe/errors.js';
import { newId } from '../../stripe/ids.js';
import type { Ctx } from '../engine/context.js';
import { listOf } from '../engine/list.js';
import type { Params } from '../engine/resource.js';
import type { StripeObject } from '../store/store.js';
import { CONNECTIONS } from './accounts.js';

const DAY = 86_400;
/** The platform's Connect application, as connected accounts' objects name it. */
export const PLATFORM_APPLICATION = 'ca_PayBridgeSandboxPlatform';

/** A balance transaction on `ctx`'s account; `applicationFee` joins Stripe's fee in `fee` and `fee_details`. */
export function balanceTransaction(ctx: Ctx, f: {
  amount: number; currency: string; fee?: number; applicationFee?: number; type: string; source: string; description?: string | null;
  availableOn?: number; availableNow?: boolean; category?: string;
}): StripeObject {
  const stripeFee = f.fee ?? 0;
  const appFee = f.applicationFee ?? 0;
  const availableOn = f.availableNow ? ctx.now() : f.availableOn ?? ctx.now() + 2 * DAY;
  const details = [
    ...(stripeFee ? [{ amount: stripeFee, application: null, currency: f.currency, description: 'Stripe processing fees', type: 'stripe_fee' }] : []),
    ...(appFee ? [{ amount: appFee, application: PLATFORM_APPLICATION, currency: f.currency, description: 'Application fee', type: 'application_fee' }] : []),
  ];
  const txn: StripeObject = {
    id: newId('txn'),
    object: 'balance_transaction',
    amount: f.amount,
    available_on: availableOn,
    balance_type: 'payments',
    created: ctx.now(),
    currency: f.currency,
    description: f.description ?? null,
    exchange_rate: null,
    fee: stripeFee + appFee,
    fee_details: details,
    net: f.amount - stripeFee - appFee,
    reporting_category: f.category ?? CATEGORY[f.type] ?? f.type,
    source: f.source,
    status: availableOn <= ctx.now() ? 'available' : 'pending',
    type: f.type,
  };
  ctx.put('balance_transactions', txn);
  if (txn.status === 'available' && txn.net > 0) announceAvailable(ctx);
  return txn;
}

const CATEGORY: Record<string, string> = {
  adjustment: 'dispute', payout_cancel: 'payout_reversal', application_fee: 'platform_earning', application_fee_refund: 'platform_earning_refund',
  transfer_refund: 'transfer_reversal', payment: 'charge', payment_refund: 'refund', payout_failure: 'payout_reversal',
};

/** `balance.available` once per request and account whose available balance grew (Stripe sends it as funds settle). */
function announceAvailable(ctx: Ctx): void {
  if (!ctx.once(`balance.available:${ctx.account}`)) return;
  // The balance has no id: the event carries it as Stripe's does.
  ctx.later.push((later) => later.in(ctx.account).emit('balance.available', balanceOf(later.in(ctx.account)) as StripeObject));
}

/** The balance of `ctx`'s account: balance transactions summed by currency, available or still pending. */
export function balanceOf(ctx: Ctx): Record<string, unknown> {
  const available = new Map<string, number>();
  const pending = new Map<string, number>();
  for (const txn of ctx.all('balance_transactions')) {
    const bucket = txn.available_on <= ctx.now() ? available : pending;
    bucket.set(txn.currency, (bucket.get(txn.currency) ?? 0) + txn.net);
  }
  const currencies = new Set(['usd', ...available.keys(), ...pending.keys()]);
  const rows = (m: Map<string, number>) => [...currencies].map((currency) => ({ amount: m.get(currency) ?? 0, currency, source_types: { card: m.get(currency) ?? 0 } }));
  return {
    object: 'balance',
    available: rows(available),
    connect_reserved: [...currencies].map((currency) => ({ amount: 0, currency })),
    livemode: false,
    pending: rows(pending),
    refund_and_dispute_prefunding: { available: [], pending: [] },
  };
}

/** What may move out of `ctx`'s account now in `currency`: balance transactions already available. */
export function availableBalance(ctx: Ctx, currency: string): number {
  let sum = 0;
  for (const txn of ctx.all('balance_transactions')) if (txn.currency === currency && txn.available_on <= ctx.now()) sum += txn.net;
  return sum;
}

/** A connected account of the platform that may receive transfers, or Stripe's refusal naming `param`. */
export function transferDestination(ctx: Ctx, id: unknown, param: string): StripeObject {
  if (ctx.account !== ctx.env.platform) {
    throw invalidRequest('Only a platform can send funds to a connected account: make this request without Stripe-Account.', { param });
  }
  const account = typeof id === 'string' ? ctx.store.get(ctx.env.platform, 'accounts', id) : undefined;
  if (!account || account.deleted || !ctx.store.get(ctx.env.platform, CONNECTIONS, account.id)?.active) {
    throw invalidRequest(`No such destination: '${String(id)}'`, { param, code: 'resource_missing' });
  }
  if (account.capabilities?.transfers !== 'active') {
    throw invalidRequest('Your destination account needs to have at least one of the following capabilities enabled: transfers, crypto_transfers, legacy_payments', { param, code: 'insufficient_capabilities_for_transfer' });
  }
  return account;
}

/**
 * The Connect parameters of a payment, checked when it is created: an application fee needs a connected account
 * (the request's, or a destination) and may not exceed the amount; a destination must be reachable.
 */
export function checkConnectParams(ctx: Ctx, p: Params, amount: number | undefined, prefix = ''): void {
  const param = (name: string) => (prefix ? `${prefix}[${name}]` : name);
  const fee = p.application_fee_amount;
  const destination = p.transfer_data?.destination;
  if (p.transfer_data !== undefined && p.transfer_data !== '') {
    if (!destination) throw invalidRequest('Missing required param: transfer_data[destination].', { param: param('transfer_data[destination]'), code: 'parameter_missing' });
    transferDestination(ctx, destination, param('transfer_data[destination]'));
    const t = p.transfer_data.amount;
    if (t !== undefined && (!Number.isInteger(t) || t < 0 || (amount !== undefined && t > amount))) {
      throw invalidRequest('The transfer amount must be a non-negative integer no greater than the amount of the payment.', { param: param('transfer_data[amount]') });
    }
    if (t !== undefined && fee !== undefined) {
      throw invalidRequest('You may only specify one of these parameters: application_fee_amount, transfer_data[amount].', { param: param('application_fee_amount') });
    }
  }
  if (p.on_behalf_of !== undefined && p.on_behalf_of !== '') transferDestination(ctx, p.on_behalf_of, param('on_behalf_of'));
  if (fee !== undefined && fee !== '') {
    if (!Number.isInteger(fee) || fee < 0) throw invalidRequest('Invalid non-negative integer', { param: param('application_fee_amount') });
    if (ctx.account === ctx.env.platform && !destination) {
      throw invalidRequest("Can only apply an application_fee_amount when the PaymentIntent is attempting a direct payment (using an OAuth key or Stripe-Account header) or destination payment (using `transfer_data[destination]`).", { param: param('application_fee_amount') });
    }
    if (amount !== undefined && fee > amount) throw invalidRequest('The application fee amount cannot be greater than the amount of the payment.', { param: param('application_fee_amount'), code: 'amount_too_large' });
  }
}

/**
 * A subscription's Connect parameters: `application_fee_percent` (0–100, needing a connected account or a
 * destination) and `transfer_data` (`destination`, `amount_percent`), applied to each of its invoices' payments.
 */
export function checkSubscriptionConnect(ctx: Ctx, p: Params, prefix: string): void {
  const param = (name: string) => (prefix ? `${prefix}[${name}]` : name);
  const td = p.transfer_data;
  if (td !== undefined && td !== '') {
    if (!td?.destination) throw invalidRequest('Missing required param: transfer_data[destination].', { param: param('transfer_data[destination]'), code: 'parameter_missing' });
    transferDestination(ctx, td.destination, param('transfer_data[destination]'));
    if (td.amount_percent !== undefined && !(Number(td.amount_percent) >= 0 && Number(td.amount_percent) <= 100)) {
      throw invalidRequest('transfer_data[amount_percent] must be between 0 and 100.', { param: param('transfer_data[amount_percent]') });
    }
  }
  if (p.on_behalf_of !== undefined && p.on_behalf_of !== '') transferDestination(ctx, p.on_behalf_of, param('on_behalf_of'));
  const pct = p.application_fee_percent;
  if (pct !== undefined && pct !== '') {
    if (!(Number(pct) >= 0 && Number(pct) <= 100)) throw invalidRequest('application_fee_percent must be between 0 and 100.', { param: param('application_fee_percent') });
    if (ctx.account === ctx.env.platform && !td?.destination) {
      throw invalidRequest('Can only apply an application_fee_percent when the request is made on behalf of another account (using an OAuth key or the Stripe-Account header) or with transfer_data[destination].', { param: param('application_fee_percent') });
    }
  }
}

/** The Connect parameters of an invoice's payment, from its own or its subscription's, for `amountDue`. */
export function invoicePaymentConnect(own: Params | undefined, sub: StripeObject | undefined, amountDue: number): Params {
  const pct = sub?.application_fee_percent;
  const td = own?.transfer_data ?? (sub?.transfer_data ? {
    destination: sub.transfer_data.destination,
    ...(sub.transfer_data.amount_percent !== null && sub.transfer_data.amount_percent !== undefined ? { amount: Math.round((amountDue * Number(sub.transfer_data.amount_percent)) / 100) } : {}),
  } : undefined);
  const fee = own?.application_fee_amount ?? (pct !== null && pct !== undefined && td?.amount === undefined ? Math.round((amountDue * Number(pct)) / 100) : undefined);
  return { application_fee_amount: fee, transfer_data: td, on_behalf_of: own?.on_behalf_of ?? sub?.on_behalf_of ?? undefined };
}

function newApplicationFee(ctx: Ctx, f: { account: string; amount: number; currency: string; charge: string; originating: string | null; availableOn: number }): StripeObject {
  const platform = ctx.in(ctx.env.platform);
  const id = newId('fee');
  const txn = balanceTransaction(platform, { amount: f.amount, currency: f.currency, type: 'application_fee', source: id, description: null, availableOn: f.availableOn });
  const fee: StripeObject = {
    id,
    object: 'application_fee',
    account: f.account,
    amount: f.amount,
    amount_refunded: 0,
    application: PLATFORM_APPLICATION,
    balance_transaction: txn.id,
    charge: f.charge,
    created: ctx.now(),
    currency: f.currency,
    fee_source: { charge: f.charge, type: 'charge' },
    livemode: false,
    originating_transaction: f.originating,
    refunded: false,
    refunds: listOf([], `/v1/application_fees/${id}/refunds`),
  };
  platform.put('application_fees', fee);
  platform.emit('application_fee.created', fee);
  return fee;
}

/** A payment (`py_…`) arriving on the destination account from a transfer, and its balance transaction there. */
function destinationPayment(ctx: Ctx, f: { account: string; amount: number; currency: string; transfer: string; availableOn: number; applicationFee?: number }): { payment: StripeObject; txn: StripeObject } {
  const dest = ctx.in(f.account);
  const id = newId('py');
  const txn = balanceTransaction(dest, { amount: f.amount, currency: f.currency, applicationFee: f.applicationFee, type: 'payment', source: id, availableOn: f.availableOn });
  const payment: StripeObject = {
    id, object: 'charge', amount: f.amount, amount_captured: f.amount, amount_refunded: 0, application: PLATFORM_APPLICATION, application_fee: null,
    application_fee_amount: f.applicationFee ?? null, balance_transaction: txn.id, billing_details: { address: null, email: null, name: null, phone: null },
    calculated_statement_descriptor: null, captured: true, created: ctx.now(), currency: f.currency, customer: null, description: null, disputed: false,
    failure_balance_transaction: null, failure_code: null, failure_message: null, fraud_details: {}, livemode: false, metadata: {}, on_behalf_of: null,
    outcome: null, paid: true, payment_intent: null, payment_method: null, payment_method_details: { stripe_account: {}, type: 'stripe_account' },
    receipt_email: null, receipt_number: null, receipt_url: null, refunded: false, review: null, shipping: null, source: null, source_transfer: f.transfer,
    statement_descriptor: null, statement_descriptor_suffix: null, status: 'succeeded', transfer_data: null, transfer_group: null,
  };
  dest.put('charges', payment);
  dest.emit('payment.created', payment);
  return { payment, txn };
}

/** A transfer from the platform to `destination`, arriving there as a payment. */
export function createTransfer(ctx: Ctx, f: {
  amount: number; currency: string; destination: string; sourceTransaction: string | null; transferGroup: string | null;
  availableOn: number; description?: string | null; metadata?: Record<string, string>; applicationFee?: number; sourceType?: string;
}): { transfer: StripeObject; payment: StripeObject } {
  const platform = ctx.in(ctx.env.platform);
  const id = newId('tr');
  const txn = balanceTransaction(platform, { amount: -f.amount, currency: f.currency, type: 'transfer', source: id, availableOn: f.availableOn });
  const { payment } = destinationPayment(ctx, { account: f.destination, amount: f.amount, currency: f.currency, transfer: id, availableOn: f.availableOn, applicationFee: f.applicationFee });
  const transfer: StripeObject = {
    id,
    object: 'transfer',
    amount: f.amount,
    amount_reversed: 0,
    balance_transaction: txn.id,
    created: ctx.now(),
    currency: f.currency,
    description: f.description ?? null,
    destination: f.destination,
    destination_payment: payment.id,
    livemode: false,
    metadata: f.metadata ?? {},
    reversals: listOf([], `/v1/transfers/${id}/reversals`),
    reversed: false,
    source_transaction: f.sourceTransaction,
    source_type: f.sourceType ?? 'card',
    transfer_group: f.transferGroup,
  };
  platform.put('transfers', transfer);
  platform.emit('transfer.created', transfer);
  return { transfer, payment };
}

/**
 * A captured charge's Connect side, applied to the charge before it is stored: the application fee of a direct
 * charge, or the transfer (and fee) of a destination charge. `availableOn` is the charge's own.
 */
export function settleCharge(ctx: Ctx, charge: StripeObject, captured: number, availableOn: number): { applicationFee: number } {
  const fee = charge.application_fee_amount ?? 0;
  const destination = charge.transfer_data?.destination;
  if (ctx.account !== ctx.env.platform && fee > 0) {
    // Direct: the account pays the fee out of its charge, the platform earns it.
    const appFee = newApplicationFee(ctx, { account: ctx.account, amount: Math.min(fee, captured), currency: charge.currency, charge: charge.id, originating: null, availableOn });
    charge.application = PLATFORM_APPLICATION;
    charge.application_fee = appFee.id;
    return { applicationFee: appFee.amount };
  }
  if (destination) {
    // Destination: the whole amount (or transfer_data[amount]) goes to the account, which pays the fee back.
    const requested = charge.transfer_data.amount;
    const amount = requested ?? captured;
    const group = charge.transfer_group ?? (charge.payment_intent ? `group_${charge.payment_intent}` : null);
    const { transfer, payment } = createTransfer(ctx, {
      amount: Math.min(amount, captured), currency: charge.currency, destination, sourceTransaction: charge.id, transferGroup: group, availableOn,
      applicationFee: requested === undefined || requested === null ? Math.min(fee, captured) : undefined,
    });
    charge.transfer = transfer.id;
    charge.transfer_group = group;
    if (fee > 0 && (requested === undefined || requested === null)) {
      const appFee = newApplicationFee(ctx, { account: destination, amount: Math.min(fee, captured), currency: charge.currency, charge: payment.id, originating: charge.id, availableOn });
      charge.application_fee = appFee.id;
      ctx.in(destination).put('charges', { ...payment, application_fee: appFee.id });
    }
  }
  return { applicationFee: 0 };
}

/** Part of `total` in proportion to `part / whole`; the last part takes what is left, so parts add up exactly. */
const share = (total: number, part: number, whole: number, left: number) => (part >= whole ? left : Math.min(left, Math.round((total * part) / whole)));

/** What a fee refund or transfer reversal gives back: `amount`, else all that is `left`, checked as Stripe checks it. */
function amountBack(left: number, amount: number | undefined, noun: { done: string; code: string; over: string }): number {
  const value = amount ?? left;
  if (left <= 0) throw invalidRequest(noun.done, { code: noun.code });
  if (!Number.isInteger(value) || value <= 0) throw invalidRequest('Invalid positive integer', { param: 'amount' });
  if (value > left) throw invalidRequest(`${noun.over} (${value}) is greater than the amount left (${left}).`, { param: 'amount', code: 'amount_too_large' });
  return value;
}

/**
 * Refunds an application fee's share of `part` of `whole` (a refund of a charge, a reversal of a transfer), all
 * that is left of it when `all` (the last of them); nothing when the fee is already refunded.
 */
export function refundFeeShare(ctx: Ctx, feeId: string, part: number, whole: number, all: boolean): void {
  const fee = ctx.in(ctx.env.platform).get('application_fees', feeId);
  if (!fee) return;
  const left = fee.amount - fee.amount_refunded;
  const amount = all ? left : share(fee.amount, part, whole, left);
  if (amount > 0) refundApplicationFee(ctx, fee.id, amount);
}

/** Refunds `amount` of an application fee: the platform gives it back to the account the fee came from. */
export function refundApplicationFee(ctx: Ctx, feeId: string, amount: number | undefined, p: { metadata?: Record<string, string> } = {}): StripeObject {
  const platform = ctx.in(ctx.env.platform);
  const fee = platform.get('application_fees', feeId);
  if (!fee) throw resourceMissing('application_fee', feeId, 'id');
  const value = amountBack(fee.amount - fee.amount_refunded, amount, { done: `Application fee ${fee.id} has already been refunded.`, code: 'charge_already_refunded', over: 'Refund amount' });
  const id = newId('fr');
  const txn = balanceTransaction(platform, { amount: -value, currency: fee.currency, type: 'application_fee_refund', source: id, availableNow: true });
  balanceTransaction(ctx.in(fee.account), { amount: value, currency: fee.currency, type: 'application_fee_refund', source: id, availableNow: true });
  const refund: StripeObject = { id, object: 'fee_refund', amount: value, balance_transaction: txn.id, created: ctx.now(), currency: fee.currency, fee: fee.id, metadata: p.metadata ?? {} };
  platform.put('fee_refunds', refund);
  const next = {
    ...fee, amount_refunded: fee.amount_refunded + value, refunded: fee.amount_refunded + value >= fee.amount,
    refunds: listOf([refund, ...fee.refunds.data], `/v1/application_fees/${fee.id}/refunds`),
  };
  platform.put('application_fees', next);
  platform.emit('application_fee.refunded', next, { amount_refunded: fee.amount_refunded, refunded: fee.refunded });
  return refund;
}

/** Reverses `amount` of a transfer: the account gives it back to the platform. */
export function reverseTransfer(ctx: Ctx, transferId: string, amount: number | undefined, p: { metadata?: Record<string, string>; description?: string; sourceRefund?: string } = {}): StripeObject {
  const platform = ctx.in(ctx.env.platform);
  const transfer = platform.get('transfers', transferId);
  if (!transfer) throw resourceMissing('transfer', transferId, 'id');
  const value = amountBack(transfer.amount - transfer.amount_reversed, amount, { done: `Transfer ${transfer.id} has already been fully reversed.`, code: 'transfer_already_reversed', over: 'Reversal amount' });
  const id = newId('trr');
  const txn = balanceTransaction(platform, { amount: value, currency: transfer.currency, type: 'transfer_refund', source: id, availableNow: true });
  const dest = ctx.in(transfer.destination);
  const paymentRefundId = newId('pyr');
  const destTxn = balanceTransaction(dest, { amount: -value, currency: transfer.currency, type: 'payment_refund', source: paymentRefundId, availableNow: true });
  const payment = dest.get('charges', transfer.destination_payment);
  dest.put('refunds', {
    id: paymentRefundId, object: 'refund', amount: value, balance_transaction: destTxn.id, charge: transfer.destination_payment, created: ctx.now(), currency: transfer.currency,
    destination_details: null, metadata: {}, payment_intent: null, reason: null, receipt_number: null, source_transfer_reversal: id, status: 'succeeded', transfer_reversal: null,
  });
  if (payment) dest.put('charges', { ...payment, amount_refunded: payment.amount_refunded + value, refunded: payment.amount_refunded + value >= payment.amount });
  const reversal: StripeObject = {
    id, object: 'transfer_reversal', amount: value, balance_transaction: txn.id, created: ctx.now(), currency: transfer.currency,
    destination_payment_refund: paymentRefundId, metadata: p.metadata ?? {}, source_refund: p.sourceRefund ?? null, transfer: transfer.id,
  };
  platform.put('transfer_reversals', reversal);
  const next = {
    ...transfer, amount_reversed: transfer.amount_reversed + value, reversed: transfer.amount_reversed + value >= transfer.amount,
    reversals: listOf([reversal, ...transfer.reversals.data], `/v1/transfers/${transfer.id}/reversals`),
  };
  platform.put('transfers', next);
  platform.emit('transfer.reversed', next, { amount_reversed: transfer.amount_reversed, reversed: transfer.reversed });
  return reversal;
}

/**
 * A refund's Connect side: with `reverse_transfer` the destination gives back its share of the refund, with
 * `refund_application_fee` the platform gives back its share of the fee, each in proportion to the amount
 * refunded (all of what is left when the charge is refunded in full). Answers the transfer reversal, if any.
 */
export function settleRefund(ctx: Ctx, charge: StripeObject, refunded: number, refundId: string, p: Params): string | null {
  const reverse = p.reverse_transfer === true || p.reverse_transfer === 'true';
  const refundFee = p.refund_application_fee === true || p.refund_application_fee === 'true';
  const done = charge.amount_refunded + refunded >= charge.amount_captured + (charge.amount - charge.amount_captured);
  let reversalId: string | null = null;
  if (reverse) {
    if (!charge.transfer) throw invalidRequest('This charge has no transfer to reverse: reverse_transfer applies to destination charges.', { param: 'reverse_transfer' });
    const transfer = ctx.in(ctx.env.platform).get('transfers', charge.transfer)!;
    const left = transfer.amount - transfer.amount_reversed;
    const amount = done ? left : share(transfer.amount, refunded, charge.amount_captured, left);
    if (amount > 0) reversalId = reverseTransfer(ctx, transfer.id, amount, { sourceRefund: refundId }).id;
  }
  if (refundFee) {
    if (!charge.application_fee) throw invalidRequest('This charge has no application fee to refund.', { param: 'refund_application_fee' });
    refundFeeShare(ctx, charge.application_fee, refunded, charge.amount_captured, done);
  }
  return reversalId;
}

/** `POST /v1/transfers`: separate charges and transfers, from the available balance or tied to a charge. */
export function createSeparateTransfer(ctx: Ctx, p: Params): StripeObject {
  const destination = transferDestination(ctx, p.destination, 'destination');
  if (!Number.isInteger(p.amount) || p.amount <= 0) throw invalidRequest('Invalid positive integer', { param: 'amount' });
  const currency = String(p.currency ?? '').toLowerCase();
  if (!/^[a-z]{3}$/.test(currency)) throw invalidRequest('Missing required param: currency.', { param: 'currency', code: 'parameter_missing' });
  let availableOn = ctx.now();
  if (p.source_transaction) {
    // Tied to a charge: it waits for that charge's funds, not for the available balance.
    const charge = ctx.get('charges', p.source_transaction);
    if (!charge || charge.status !== 'succeeded') throw invalidRequest(`No such charge: '${p.source_transaction}'`, { param: 'source_transaction', code: 'resource_missing' });
    if (charge.currency !== currency) throw invalidRequest(`The currency of source_transaction's balance transaction (${charge.currency}) must be the same as the transfer currency (${currency})`, { param: 'currency' });
    const sent = [...ctx.all('transfers')].filter((t) => t.source_transaction === charge.id).reduce((sum, t) => sum + t.amount, 0);
    if (p.amount > charge.amount_captured - charge.amount_refunded - sent) {
      throw invalidRequest(`Transfer amount exceeds the amount left on source_transaction ${charge.id}.`, { param: 'amount', code: 'amount_too_large' });
    }
    availableOn = ctx.get('balance_transactions', charge.balance_transaction)?.available_on ?? ctx.now();
  } else if (p.amount > availableBalance(ctx, currency)) {
    throw new StripeError(400, 'invalid_request_error', 'You have insufficient available funds in your Stripe account. Try adding funds directly to your available balance by creating Charges using the 4000000000000077 test card.', { code: 'balance_insufficient', param: 'amount' });
  }
  return createTransfer(ctx, {
    amount: p.amount, currency, destination: destination.id, sourceTransaction: p.source_transaction ?? null, transferGroup: p.transfer_group ?? null,
    availableOn, description: p.description, metadata: p.metadata, sourceType: p.source_type,
  }).transfer;
}
