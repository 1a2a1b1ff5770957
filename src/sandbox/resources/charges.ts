/**
 * Charges and the money they move: balance transactions, refunds, disputes
 * and the balance. Charges are created by payment intents (`chargeCard`),
 * never directly: the Charges API is legacy and the sandbox does not offer it.
 */
import { legacyChargeOperations } from './legacy_charges.js';
import { balanceOf, balanceTransaction, settleCharge, settleRefund as settleConnectRefund } from '../connect/money.js';
import { cardOf } from './payment_methods.js';
import { earlyFraudWarningLater, settleEarlyFraudWarnings } from './early_fraud_warnings.js';
import { invalidRequest } from '../../stripe/errors.js';
import type { TestCard } from '../cards.js';
import type { Ctx } from '../engine/context.js';
import { newId, randomText } from '../../stripe/ids.js';
import { EMPTY, frozen } from '../engine/shared.js';
import { paginate } from '../engine/list.js';
import { applyUpdate, equals, saveUpdate, standardOperations, type Params, type Resource } from '../engine/resource.js';
import { cardFee, formatAmount } from '../../stripe/money.js';
import type { StripeObject } from '../store/collection.js';

const DAY = 86400;

/** A balance transaction on the request's account (charges.ts's callers' form of connect/money.ts's). */
export function createBalanceTransaction(ctx: Ctx, f: { amount: number; currency: string; fee: number; type: string; source: string; description?: string | null; availableNow?: boolean; availableOn?: number; applicationFee?: number; category?: string }): StripeObject {
  return balanceTransaction(ctx, f);
}

export interface ChargeRequest {
  amount: number;
  currency: string;
  pm: StripeObject;
  card: TestCard;
  customer: string | null;
  /** null for a charge made through the legacy Charges API. */
  paymentIntent: string | null;
  capture: boolean;
  description: string | null;
  metadata: Record<string, string>;
  receiptEmail: string | null;
  /** Present when the issuer declines: the failure to record. */
  failure?: { code: string; decline_code: string; message: string };
  threeDSecure?: boolean;
  /** Connect: an application fee, a destination, the account the payment is made on behalf of (checked at creation). */
  connect?: { application_fee_amount?: number | null; transfer_data?: { destination: string; amount?: number } | null; on_behalf_of?: string | null; transfer_group?: string | null };
}

const AUTHORIZED = frozen({
  advice_code: null, network_advice_code: null, network_decline_code: null, network_status: 'approved_by_network',
  reason: null, risk_level: 'normal', risk_score: 32, seller_message: 'Payment complete.', type: 'authorized',
});
const DISABLED = frozen({ status: 'disabled' });
const UNAVAILABLE = frozen({ status: 'unavailable' });
const NOT_USED = frozen({ used: false });

/** Records one attempt to charge a card; emits charge.succeeded or charge.failed. */
export function chargeCard(ctx: Ctx, r: ChargeRequest): StripeObject {
  const id = newId('ch');
  const failed = !!r.failure;
  const card = r.pm.card;
  const charge: StripeObject = {
    id,
    object: 'charge',
    amount: r.amount,
    amount_captured: !failed && r.capture ? r.amount : 0,
    amount_refunded: 0,
    application: null,
    application_fee: null,
    application_fee_amount: r.connect?.application_fee_amount ?? null,
    balance_transaction: null,
    billing_details: r.pm.billing_details,
    calculated_statement_descriptor: 'PAYBRIDGE SANDBOX',
    captured: !failed && r.capture,
    created: ctx.now(),
    currency: r.currency,
    customer: r.customer,
    description: r.description,
    disputed: false,
    failure_balance_transaction: null,
    failure_code: r.failure?.code ?? null,
    failure_message: r.failure?.message ?? null,
    fraud_details: EMPTY,
    livemode: false,
    metadata: r.metadata,
    on_behalf_of: r.connect?.on_behalf_of ?? null,
    outcome: failed
      ? {
          advice_code: r.failure!.decline_code === 'fraudulent' ? 'do_not_try_again' : 'try_again_later',
          network_advice_code: null, network_decline_code: null,
          network_status: r.failure!.decline_code === 'fraudulent' ? 'not_sent_to_network' : 'declined_by_network',
          reason: r.failure!.decline_code, risk_level: r.failure!.decline_code === 'fraudulent' ? 'highest' : 'normal', risk_score: r.failure!.decline_code === 'fraudulent' ? 95 : 20,
          seller_message: 'The bank did not return any further details with this decline.',
          type: r.failure!.decline_code === 'fraudulent' ? 'blocked' : 'issuer_declined',
        }
      : r.card.risk ? { ...AUTHORIZED, risk_level: r.card.risk, risk_score: r.card.risk === 'elevated' ? 72 : 92 } : AUTHORIZED,
    paid: !failed,
    payment_intent: r.paymentIntent,
    payment_method: r.pm.id,
    payment_method_details: {
      card: {
        amount_authorized: failed ? null : r.amount,
        authorization_code: failed ? null : String(100000 + Math.floor(Math.random() * 899999)),
        brand: card.brand,
        capture_before: failed || r.capture ? undefined : ctx.now() + 7 * DAY,
        checks: card.checks,
        country: card.country,
        exp_month: card.exp_month,
        exp_year: card.exp_year,
        extended_authorization: DISABLED,
        fingerprint: card.fingerprint,
        funding: card.funding,
        incremental_authorization: UNAVAILABLE,
        installments: null,
        last4: card.last4,
        mandate: null,
        multicapture: UNAVAILABLE,
        network: card.brand,
        network_token: NOT_USED,
        network_transaction_id: failed ? null : randomText(15),
        overcapture: { maximum_amount_capturable: r.amount, status: 'unavailable' },
        regulated_status: 'unregulated',
        three_d_secure: r.threeDSecure
          ? { authentication_flow: 'challenge', electronic_commerce_indicator: '05', exemption_indicator: null, result: 'authenticated', result_reason: null, transaction_id: randomText(32), version: '2.2.0' }
          : null,
        wallet: null,
      },
      type: 'card',
    },
    radar_options: EMPTY,
    receipt_email: r.receiptEmail,
    receipt_number: null,
    receipt_url: failed ? null : `${ctx.env.baseUrl}/_sandbox/receipts/${id}`,
    refunded: false,
    review: null,
    shipping: null,
    source: null,
    source_transfer: null,
    statement_descriptor: null,
    statement_descriptor_suffix: null,
    status: failed ? 'failed' : 'succeeded',
    transfer_data: r.connect?.transfer_data ? { amount: r.connect.transfer_data.amount ?? null, destination: r.connect.transfer_data.destination } : null,
    transfer_group: r.connect?.transfer_group ?? null,
  };
  if (!failed && r.capture) {
    const availableOn = r.card.behaviour.kind === 'available' ? ctx.now() : ctx.now() + 2 * DAY;
    const { applicationFee } = settleCharge(ctx, charge, r.amount, availableOn);
    charge.balance_transaction = createBalanceTransaction(ctx, {
      amount: r.amount, currency: r.currency, fee: cardFee(r.amount), applicationFee, type: 'charge', source: id, description: r.description, availableOn,
    }).id;
  }
  ctx.put('charges', charge);
  ctx.emit(failed ? 'charge.failed' : 'charge.succeeded', charge);
  if (!failed && r.capture && r.card.behaviour.kind === 'dispute') openDispute(ctx, charge, r.card.behaviour.reason, r.card.behaviour.eligibility);
  if (!failed && r.card.earlyFraudWarning) earlyFraudWarningLater(ctx, charge);
  return charge;
}

/** Captures an authorized charge for `amount` (the rest is released). */
export function captureCharge(ctx: Ctx, charge: StripeObject, amount: number, availableNow: boolean): StripeObject {
  const next = ctx.edit(charge);
  next.captured = true;
  next.amount_captured = amount;
  next.amount_refunded = charge.amount - amount;
  next.refunded = amount === 0;
  const availableOn = availableNow ? ctx.now() : ctx.now() + 2 * DAY;
  const { applicationFee } = settleCharge(ctx, next, amount, availableOn);
  next.balance_transaction = createBalanceTransaction(ctx, {
    amount, currency: charge.currency, fee: cardFee(amount), applicationFee, type: 'charge', source: charge.id, description: charge.description, availableOn,
  }).id;
  const { capture_before: _captureBefore, ...card } = charge.payment_method_details.card;
  next.payment_method_details = { ...charge.payment_method_details, card };
  ctx.put('charges', next);
  ctx.emit('charge.captured', next, { amount_captured: 0, captured: false });
  return next;
}

/** Releases an uncaptured charge (the payment intent was canceled). */
export function releaseCharge(ctx: Ctx, charge: StripeObject): void {
  const next = { ...charge, amount_refunded: charge.amount, refunded: true };
  ctx.put('charges', next);
  ctx.emit('charge.expired', next);
}

/** What each network programme a dispute qualifies for reports at first. */
const ELIGIBILITY: Record<string, object> = {
  visa_compelling_evidence_3: { required_actions: ['missing_prior_undisputed_transactions'], status: 'requires_action' },
  visa_compliance: { status: 'requires_fee_acknowledgement' },
  mastercard_compliance: { status: 'requires_fee_acknowledgement' },
};

/** The chargeback's withdrawal: the disputed amount and Stripe's dispute fee leave the balance. */
const withdrawal = (ctx: Ctx, charge: StripeObject, disputeId: string) =>
  createBalanceTransaction(ctx, { amount: -charge.amount, currency: charge.currency, fee: 1500, type: 'adjustment', source: disputeId, description: `Chargeback withdrawal for ${charge.id}`, availableNow: true });

function openDispute(ctx: Ctx, charge: StripeObject, reason: string, eligibility?: string): void {
  const inquiry = reason === 'general';
  const dispute: StripeObject = {
    id: newId('dp'),
    object: 'dispute',
    amount: charge.amount,
    // Stripe embeds the balance transactions themselves here, not their ids.
    balance_transactions: [] as StripeObject[],
    charge: charge.id,
    created: ctx.now(),
    currency: charge.currency,
    enhanced_eligibility_types: eligibility ? [eligibility] : [],
    intended_submission_method: null,
    evidence: Object.fromEntries(EVIDENCE_FIELDS.map((f) => [f, null])),
    evidence_details: { due_by: ctx.now() + 7 * DAY, enhanced_eligibility: eligibility ? { [eligibility]: ELIGIBILITY[eligibility] } : {}, has_evidence: false, past_due: false, submission_count: 0 },
    is_charge_refundable: inquiry,
    livemode: false,
    metadata: {},
    payment_intent: charge.payment_intent,
    payment_method_details: { card: { brand: charge.payment_method_details.card.brand, case_type: inquiry ? 'inquiry' : 'chargeback', network_reason_code: '10.4' }, type: 'card' },
    reason,
    status: inquiry ? 'warning_needs_response' : 'needs_response',
  };
  if (!inquiry) dispute.balance_transactions = [withdrawal(ctx, charge, dispute.id)];
  ctx.put('disputes', dispute);
  ctx.put('charges', { ...charge, disputed: true });
  settleEarlyFraudWarnings(ctx, { ...charge, disputed: true });
  ctx.emit('charge.dispute.created', dispute);
}

const EVIDENCE_FIELDS = [
  'access_activity_log', 'billing_address', 'cancellation_policy', 'cancellation_policy_disclosure', 'cancellation_rebuttal',
  'customer_communication', 'customer_email_address', 'customer_name', 'customer_purchase_ip', 'customer_signature',
  'duplicate_charge_documentation', 'duplicate_charge_explanation', 'duplicate_charge_id', 'product_description', 'receipt',
  'refund_policy', 'refund_policy_disclosure', 'refund_refusal_explanation', 'service_date', 'service_documentation',
  'shipping_address', 'shipping_carrier', 'shipping_date', 'shipping_documentation', 'shipping_tracking_number',
  'uncategorized_file', 'uncategorized_text',
];

const chargeDeclaration = {
  collection: 'charges', object: 'charge', prefix: 'ch', noun: 'charge', path: '/v1/charges', permission: 'charges',
  searchFields: ['amount', 'currency', 'customer', 'created', 'disputed', 'payment_method_details.card.last4', 'payment_method_details.card.brand', 'refunded', 'status', 'payment_intent'],
  listFilters: { customer: equals('customer'), payment_intent: equals('payment_intent') },
  virtual: {
    refunds: (ctx: Ctx, c: StripeObject) =>
      paginate(ctx.collection('refunds'), { limit: 100 }, `/v1/charges/${c.id}/refunds`, 'refund', [(r) => r.charge === c.id]),
  },
};

export const charges: Resource = {
  ...chargeDeclaration,
  operations: [
    ...standardOperations(chargeDeclaration, {
      idParam: 'charge',
      search: true,
      update: (ctx, charge, p) => {
        const next = ctx.edit(charge);
        return saveUpdate(ctx, 'charges', next, applyUpdate(next, p), 'charge.updated');
      },
    }),
    ...legacyChargeOperations((ctx, p) => createRefund(ctx, p)),
    {
      method: 'GET',
      path: '/v1/charges/{charge}/refunds',
      permission: 'charges',
      handle: (ctx, p, path) => {
        ctx.require('charges', path.charge, 'charge', 'charge');
        return paginate(ctx.collection('refunds'), p, `/v1/charges/${path.charge}/refunds`, 'refund', [(r) => r.charge === path.charge]);
      },
    },
  ],
};

export function createRefund(ctx: Ctx, p: Params): StripeObject {
  let charge: StripeObject;
  if (p.charge) charge = ctx.require('charges', p.charge, 'charge', 'charge');
  else if (p.payment_intent) {
    const pi = ctx.require('payment_intents', p.payment_intent, 'payment_intent', 'payment_intent');
    if (!pi.latest_charge || pi.status !== 'succeeded') {
      throw invalidRequest(`This PaymentIntent (${pi.id}) does not have a successful charge to refund.`, { param: 'payment_intent', code: 'charge_not_refundable' });
    }
    charge = ctx.require('charges', pi.latest_charge, 'charge', 'payment_intent');
  } else {
    throw invalidRequest('One of the following params should be provided for this request: payment_intent or charge.', { code: 'parameter_missing' });
  }
  if (charge.status !== 'succeeded') throw invalidRequest(`Charge ${charge.id} has a status of ${charge.status} and cannot be refunded.`, { param: 'charge', code: 'charge_not_refundable' });
  if (!charge.captured) {
    throw invalidRequest(`Charge ${charge.id} has not been captured. Cancel its PaymentIntent to release the authorization instead.`, { param: 'charge', code: 'charge_not_refundable' });
  }
  if (charge.disputed && !ctx.get('disputes', disputeOf(ctx, charge.id)?.id ?? '')?.is_charge_refundable) {
    throw invalidRequest(`Charge ${charge.id} has been charged back; cannot issue a refund.`, { param: 'charge', code: 'charge_disputed' });
  }
  // A partial capture counts its released remainder as refunded (amount_refunded starts at amount − amount_captured):
  // what is left to refund is what was captured less what was refunded since.
  const remaining = charge.amount - charge.amount_refunded;
  if (remaining <= 0) throw invalidRequest(`Charge ${charge.id} has already been refunded.`, { param: 'charge', code: 'charge_already_refunded' });
  const amount = p.amount ?? remaining;
  if (amount <= 0) throw invalidRequest('Invalid positive integer', { param: 'amount', code: 'parameter_invalid_integer' });
  if (amount > remaining) {
    throw invalidRequest(
      `Refund amount (${formatAmount(amount, charge.currency)}) is greater than unrefunded amount on charge (${formatAmount(remaining, charge.currency)})`,
      { param: 'amount', code: 'amount_too_large' },
    );
  }
  const id = newId('re');
  const txn = createBalanceTransaction(ctx, { amount: -amount, currency: charge.currency, fee: 0, type: 'refund', source: id, description: 'REFUND FOR CHARGE', availableNow: true });
  const transferReversal = settleConnectRefund(ctx, charge, amount, id, p);
  const pm = charge.payment_method ? ctx.get('payment_methods', charge.payment_method) : undefined;
  const outcome = pm ? cardOf(ctx, pm).refund : undefined;
  const refund: StripeObject = {
    id,
    object: 'refund',
    amount,
    balance_transaction: txn.id,
    charge: charge.id,
    created: ctx.now(),
    currency: charge.currency,
    customer: charge.customer,
    customer_account: null,
    destination_details: { card: { reference_status: 'pending', reference_type: 'acquirer_reference_number', type: 'refund' }, type: 'card' },
    metadata: p.metadata || {},
    payment_intent: charge.payment_intent,
    payment_method: charge.payment_method,
    reason: p.reason ?? null,
    receipt_number: null,
    source_transfer_reversal: null,
    status: outcome === 'pending' ? 'pending' : 'succeeded',
    transfer_reversal: transferReversal,
  };
  ctx.put('refunds', refund);
  if (outcome) ctx.later.push((later) => settleRefund(later, id, outcome));
  const nextCharge = { ...charge, amount_refunded: charge.amount_refunded + amount, refunded: charge.amount_refunded + amount >= charge.amount };
  ctx.put('charges', nextCharge);
  settleEarlyFraudWarnings(ctx, nextCharge);
  ctx.emit('refund.created', refund);
  ctx.emit('charge.refunded', nextCharge, { amount_refunded: charge.amount_refunded, refunded: charge.refunded });
  return refund;
}

/**
 * What a refund test card does after the refund was answered (Stripe's refunds are asynchronous): a pending refund
 * succeeds; a failing one fails with `expired_or_canceled_card`, its amount goes back to the balance (a
 * `refund_failure` transaction) and off the charge's `amount_refunded`. Each change is a `charge.refund.updated`
 * and `refund.updated` event, and a failure also `refund.failed`.
 */
function settleRefund(ctx: Ctx, id: string, outcome: 'fails' | 'pending'): void {
  const refund = ctx.get('refunds', id);
  if (!refund || refund.status === 'failed' || refund.status === 'canceled') return;
  const previous = { status: refund.status };
  const next = ctx.edit(refund);
  if (outcome === 'pending') {
    next.status = 'succeeded';
  } else {
    next.status = 'failed';
    next.failure_reason = 'expired_or_canceled_card';
    next.failure_balance_transaction = createBalanceTransaction(ctx, {
      amount: refund.amount, currency: refund.currency, fee: 0, type: 'refund_failure', source: id, description: 'REFUND FAILURE', availableNow: true,
    }).id;
    const charge = ctx.get('charges', refund.charge);
    if (charge) {
      const amountRefunded = charge.amount_refunded - refund.amount;
      ctx.put('charges', { ...charge, amount_refunded: amountRefunded, refunded: amountRefunded >= charge.amount });
    }
  }
  ctx.put('refunds', next);
  ctx.emit('charge.refund.updated', next, previous);
  ctx.emit('refund.updated', next, previous);
  if (next.status === 'failed') ctx.emit('refund.failed', next);
}

const disputeOf = (ctx: Ctx, chargeId: string) => {
  for (const d of ctx.collection('disputes').descending()) if (d.charge === chargeId) return d;
  return undefined;
};

const refundDeclaration = {
  collection: 'refunds', object: 'refund', prefix: 're', noun: 'refund', path: '/v1/refunds', permission: 'refunds',
  listFilters: { charge: equals('charge'), payment_intent: equals('payment_intent') },
};

export const refunds: Resource = {
  ...refundDeclaration,
  operations: standardOperations(refundDeclaration, {
    idParam: 'refund',
    create: createRefund,
    update: (ctx, refund, p) => {
      const next = ctx.edit(refund);
      return saveUpdate(ctx, 'refunds', next, applyUpdate(next, p), 'refund.updated');
    },
  }),
};

const disputeDeclaration = {
  collection: 'disputes', object: 'dispute', prefix: 'dp', noun: 'dispute', path: '/v1/disputes', permission: 'disputes',
  listFilters: { charge: equals('charge'), payment_intent: equals('payment_intent') },
};

function updateDispute(ctx: Ctx, dispute: StripeObject, p: Params): StripeObject {
  if (['won', 'lost', 'warning_closed'].includes(dispute.status)) {
    throw invalidRequest(`This dispute is already closed`, { code: 'charge_dispute_closed' });
  }
  const next = ctx.edit(dispute);
  const previous = applyUpdate(next, p, ['evidence', 'submit']);
  if (p.evidence) {
    previous.evidence = dispute.evidence;
    next.evidence = { ...next.evidence, ...p.evidence };
    next.evidence_details = { ...next.evidence_details, has_evidence: true };
  }
  if (p.submit !== false && p.evidence) {
    next.evidence_details = { ...next.evidence_details, submission_count: next.evidence_details.submission_count + 1 };
    previous.status = dispute.status;
    // Stripe's test evidence: "winning_evidence" wins, "losing_evidence" loses (an inquiry closes), and
    // "escalate_inquiry_evidence" turns an inquiry into a chargeback that withdraws the funds.
    const text = String(p.evidence.uncategorized_text ?? '');
    const inquiry = dispute.status.startsWith('warning_');
    if (text === 'escalate_inquiry_evidence' && inquiry) {
      const charge = ctx.require('charges', dispute.charge, 'charge');
      next.status = 'needs_response';
      next.is_charge_refundable = false;
      next.balance_transactions = [...dispute.balance_transactions, withdrawal(ctx, charge, dispute.id)];
      next.payment_method_details = { ...dispute.payment_method_details, card: { ...dispute.payment_method_details.card, case_type: 'chargeback' } };
      next.evidence_details = { ...next.evidence_details, submission_count: dispute.evidence_details.submission_count };
    } else {
      next.status = text === 'winning_evidence' ? (inquiry ? 'warning_closed' : 'won') : text === 'losing_evidence' ? (inquiry ? 'warning_closed' : 'lost') : inquiry ? 'warning_under_review' : 'under_review';
    }
    // A won chargeback gives back what it withdrew, the dispute fee included.
    if (next.status === 'won' && dispute.balance_transactions.length) {
      next.balance_transactions = [...dispute.balance_transactions, createBalanceTransaction(ctx, {
        amount: dispute.amount, currency: dispute.currency, fee: -1500, type: 'adjustment', source: dispute.id, description: `Chargeback reversal for ${dispute.charge}`, availableNow: true, category: 'dispute_reversal',
      })];
    }
  }
  saveUpdate(ctx, 'disputes', next, previous, 'charge.dispute.updated');
  if (['won', 'lost', 'warning_closed'].includes(next.status)) ctx.emit('charge.dispute.closed', next);
  return next;
}

export const disputes: Resource = {
  ...disputeDeclaration,
  operations: [
    ...standardOperations(disputeDeclaration, { idParam: 'dispute', update: updateDispute }),
    {
      method: 'POST',
      path: '/v1/disputes/{dispute}/close',
      permission: 'disputes',
      handle: (ctx, _p, path) => {
        const dispute = ctx.require('disputes', path.dispute, 'dispute', 'dispute');
        if (['won', 'lost', 'warning_closed'].includes(dispute.status)) throw invalidRequest('This dispute is already closed', { code: 'charge_dispute_closed' });
        const next = { ...dispute, status: dispute.status === 'warning_needs_response' ? 'warning_closed' : 'lost', is_charge_refundable: false };
        ctx.put('disputes', next);
        ctx.emit('charge.dispute.closed', next);
        return next;
      },
    },
  ],
};

const txnDeclaration = {
  collection: 'balance_transactions', object: 'balance_transaction', prefix: 'txn', noun: 'balance transaction', path: '/v1/balance_transactions', permission: 'balance',
  listFilters: { type: equals('type'), source: equals('source'), currency: equals('currency') },
};

export const balanceTransactions: Resource = {
  ...txnDeclaration,
  operations: standardOperations(txnDeclaration, { idParam: 'id' }),
};

export const balance: Resource = {
  collection: 'balance', object: 'balance', prefix: 'balance', noun: 'balance', path: '/v1/balance', permission: 'balance',
  operations: [
    {
      method: 'GET',
      path: '/v1/balance',
      permission: 'balance',
      handle: (ctx) => balanceOf(ctx),
    },
  ],
};

