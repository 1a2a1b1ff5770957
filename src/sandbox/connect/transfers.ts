/**
 * The routes of Connect's money, declared as resources: application fees and
 * their refunds, transfers and their reversals (connect/money.ts moves the
 * money). Fees and transfers are the platform's objects: a connected account
 * sees its side as payments and balance transactions.
 */
import { resourceMissing } from '../../stripe/errors.js';
import type { Ctx } from '../engine/context.js';
import { paginate } from '../engine/list.js';
import { applyUpdate, equals, saveUpdate, standardOperations, type Operation, type Resource } from '../engine/resource.js';
import type { StripeObject } from '../store/store.js';
import { createSeparateTransfer, refundApplicationFee, refundFeeShare, reverseTransfer } from './money.js';

/** A child object (`fr_`, `trr_`) of its parent, or Stripe's 404. */
function child(ctx: Ctx, collection: string, noun: string, id: string, parentField: string, parent: string): StripeObject {
  const found = ctx.get(collection, id);
  if (!found || found[parentField] !== parent) throw resourceMissing(noun, id, 'id');
  return found;
}

/**
 * The list, retrieve and update routes of a parent's children (a fee's refunds, a transfer's reversals), with the
 * path parameter names Stripe's spec gives them (`{id}` for the parent in the list, `{parent}/…/{id}` for one child).
 */
function childRoutes(c: { base: string; segment: string; parentParam: string; parentCollection: string; parentNoun: string; collection: string; noun: string; parentField: string; permission: string }): Operation[] {
  return [
    {
      method: 'GET', path: `${c.base}/{id}/${c.segment}`, permission: c.permission,
      handle: (ctx, p, path) => {
        const parent = ctx.require(c.parentCollection, path.id, c.parentNoun, 'id');
        return paginate(ctx.collection(c.collection), p, `${c.base}/${parent.id}/${c.segment}`, c.noun, [(r) => r[c.parentField] === parent.id]);
      },
    },
    {
      method: 'GET', path: `${c.base}/{${c.parentParam}}/${c.segment}/{id}`, permission: c.permission,
      handle: (ctx, _p, path) => child(ctx, c.collection, c.noun, path.id, c.parentField, path[c.parentParam]),
    },
    {
      method: 'POST', path: `${c.base}/{${c.parentParam}}/${c.segment}/{id}`, permission: c.permission,
      handle: (ctx, p, path) => {
        const next = ctx.edit(child(ctx, c.collection, c.noun, path.id, c.parentField, path[c.parentParam]));
        applyUpdate(next, p);
        return ctx.put(c.collection, next);
      },
    },
  ];
}

const feeDeclaration = {
  collection: 'application_fees', object: 'application_fee', prefix: 'fee', noun: 'application fee', path: '/v1/application_fees', permission: 'application_fees',
  listFilters: { charge: equals('charge') },
};

const feeRefundOps: Operation[] = [
  {
    method: 'POST', path: '/v1/application_fees/{id}/refunds', permission: 'application_fees',
    handle: (ctx, p, path) => refundApplicationFee(ctx, ctx.require('application_fees', path.id, 'application fee', 'id').id, p.amount, p),
  },
  {
    // The older form: refunds and answers the fee.
    method: 'POST', path: '/v1/application_fees/{id}/refund', permission: 'application_fees',
    handle: (ctx, p, path) => {
      refundApplicationFee(ctx, ctx.require('application_fees', path.id, 'application fee', 'id').id, p.amount, p);
      return ctx.get('application_fees', path.id);
    },
  },
  ...childRoutes({ base: '/v1/application_fees', segment: 'refunds', parentParam: 'fee', parentCollection: 'application_fees', parentNoun: 'application fee', collection: 'fee_refunds', noun: 'fee refund', parentField: 'fee', permission: 'application_fees' }),
];

export const applicationFees: Resource = {
  ...feeDeclaration,
  operations: [...standardOperations(feeDeclaration, { idParam: 'id' }), ...feeRefundOps],
};

const transferDeclaration = {
  collection: 'transfers', object: 'transfer', prefix: 'tr', noun: 'transfer', path: '/v1/transfers', permission: 'transfers',
  listFilters: { destination: equals('destination'), transfer_group: equals('transfer_group') },
};

const reversalOps: Operation[] = [
  {
    method: 'POST', path: '/v1/transfers/{id}/reversals', permission: 'transfers',
    handle: (ctx, p, path) => {
      const transfer = ctx.require('transfers', path.id, 'transfer', 'id');
      const reversal = reverseTransfer(ctx, transfer.id, p.amount, p);
      // Reversing a transfer can give back its share of an application fee too.
      const charge = (p.refund_application_fee === true || p.refund_application_fee === 'true') && transfer.source_transaction ? ctx.get('charges', transfer.source_transaction) : undefined;
      if (charge?.application_fee) refundFeeShare(ctx, charge.application_fee, reversal.amount, transfer.amount, reversal.amount >= transfer.amount - transfer.amount_reversed);
      return reversal;
    },
  },
  ...childRoutes({ base: '/v1/transfers', segment: 'reversals', parentParam: 'transfer', parentCollection: 'transfers', parentNoun: 'transfer', collection: 'transfer_reversals', noun: 'transfer reversal', parentField: 'transfer', permission: 'transfers' }),
];

export const transfers: Resource = {
  ...transferDeclaration,
  operations: [
    ...standardOperations(transferDeclaration, {
      idParam: 'transfer', create: createSeparateTransfer,
      update: (ctx, transfer, p) => {
        const next = ctx.edit(transfer);
        return saveUpdate(ctx, 'transfers', next, applyUpdate(next, p), 'transfer.updated');
      },
    }),
    ...reversalOps,
  ],
};
