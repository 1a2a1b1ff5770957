/**
 * A customer's balance and its ledger. Every change of `customer.balance`
 * is a customer balance transaction (`cbtxn_`): the balance set when the
 * customer is created (`initial`), set or moved by hand (`adjustment`, from
 * `POST /v1/customers/:id/balance_transactions` or an update of `balance`),
 * applied to an invoice when it is finalized (`applied_to_invoice`), and
 * given back when that invoice is voided (`unapplied_from_invoice`). So
 * a customer's balance is always the sum of their balance transactions.
 * Negative is credit the customer has; positive is what they owe.
 */
import { invalidRequest } from '../../stripe/errors.js';
import { checkCurrency } from '../../stripe/money.js';
import { newId } from '../../stripe/ids.js';
import type { Ctx } from '../engine/context.js';
import { paginate } from '../engine/list.js';
import type { Params, Resource } from '../engine/resource.js';
import type { StripeObject } from '../store/store.js';

export type BalanceChange = 'initial' | 'adjustment' | 'applied_to_invoice' | 'unapplied_from_invoice' | 'invoice_too_small';

/**
 * Moves `customer`'s balance by `amount` and records it; answers the customer as changed (not yet stored, so a
 * caller editing it further stores it once).
 */
export function changeBalance(ctx: Ctx, customer: StripeObject, amount: number, type: BalanceChange, o: { currency?: string; description?: string | null; invoice?: string; metadata?: Record<string, string> } = {}): { customer: StripeObject; transaction: StripeObject } {
  const currency = o.currency ?? customer.currency ?? 'usd';
  if (customer.currency && currency !== customer.currency) {
    throw invalidRequest(`The currency ${currency} does not match the customer's currency (${customer.currency}).`, { param: 'currency' });
  }
  const next = ctx.edit(customer);
  next.balance = (customer.balance ?? 0) + amount;
  next.currency = currency;
  const transaction: StripeObject = {
    id: newId('cbtxn'),
    object: 'customer_balance_transaction',
    amount,
    checkout_session: null,
    created: ctx.now(),
    credit_note: null,
    currency,
    customer: customer.id,
    customer_account: null,
    description: o.description ?? null,
    ending_balance: next.balance,
    invoice: o.invoice ?? null,
    livemode: false,
    metadata: o.metadata ?? {},
    type,
  };
  ctx.put('customer_balance_transactions', transaction);
  return { customer: next, transaction };
}

const loadCustomer = (ctx: Ctx, id: string) => ctx.require('customers', id, 'customer', 'customer');
const loadTransaction = (ctx: Ctx, path: Record<string, string>) => {
  const t = ctx.get('customer_balance_transactions', path.transaction);
  if (!t || t.customer !== path.customer) throw invalidRequest(`No such customer balance transaction: '${path.transaction}'`, { param: 'transaction', code: 'resource_missing' }, 404);
  return t;
};

function create(ctx: Ctx, p: Params, path: Record<string, string>): StripeObject {
  const customer = loadCustomer(ctx, path.customer);
  if (p.amount === 0) throw invalidRequest('Invalid amount: must not be zero.', { param: 'amount' });
  const { customer: next, transaction } = changeBalance(ctx, customer, p.amount, 'adjustment', { currency: checkCurrency(p.currency), description: p.description, metadata: p.metadata });
  ctx.put('customers', next);
  ctx.emit('customer.updated', next, { balance: customer.balance });
  return transaction;
}

export const customerBalanceTransactions: Resource = {
  collection: 'customer_balance_transactions', object: 'customer_balance_transaction', prefix: 'cbtxn', noun: 'customer balance transaction',
  path: '/v1/customers/{customer}/balance_transactions', permission: 'customers',
  operations: [
    { method: 'POST', path: '/v1/customers/{customer}/balance_transactions', permission: 'customers', handle: (ctx, p, path) => create(ctx, p, path) },
    {
      method: 'GET', path: '/v1/customers/{customer}/balance_transactions', permission: 'customers',
      handle: (ctx, p, path) => {
        loadCustomer(ctx, path.customer);
        return paginate(ctx.collection('customer_balance_transactions'), p, `/v1/customers/${path.customer}/balance_transactions`, 'customer balance transaction', [(t) => t.customer === path.customer]);
      },
    },
    { method: 'GET', path: '/v1/customers/{customer}/balance_transactions/{transaction}', permission: 'customers', handle: (ctx, _p, path) => loadTransaction(ctx, path) },
    {
      method: 'POST', path: '/v1/customers/{customer}/balance_transactions/{transaction}', permission: 'customers',
      handle: (ctx, p, path) => {
        const t = ctx.edit(loadTransaction(ctx, path));
        if (p.description !== undefined) t.description = p.description === '' ? null : p.description;
        if (p.metadata !== undefined) t.metadata = p.metadata === '' ? {} : { ...t.metadata, ...p.metadata };
        return ctx.put('customer_balance_transactions', t);
      },
    },
  ],
};
