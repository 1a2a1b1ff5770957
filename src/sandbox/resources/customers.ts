import { createTaxId } from './tax_ids.js';
import { invalidRequest } from '../../stripe/errors.js';
import { attachSource, checkDefaultSource } from './legacy_charges.js';
import { changeBalance } from './customer_balance.js';
import type { Ctx } from '../engine/context.js';
import { newId, randomText } from '../../stripe/ids.js';
import { EMPTY, frozen } from '../engine/shared.js';
import { listOf, paginate } from '../engine/list.js';
import { deleteObject, applyUpdate, equals, saveUpdate, standardOperations, type Params, type Resource } from '../engine/resource.js';
import type { StripeObject } from '../store/collection.js';
import { attachPaymentMethod, resolvePaymentMethod } from './payment_methods.js';

const declaration = {
  collection: 'customers',
  object: 'customer',
  prefix: 'cus',
  noun: 'customer',
  path: '/v1/customers',
  permission: 'customers',
  searchFields: ['email', 'name', 'phone', 'created', 'description'],
  listFilters: {
    email: equals('email'),
    test_clock: equals('test_clock'),
  },
  virtual: {
    sources: (ctx: Ctx, c: StripeObject) =>
      listOf([...ctx.all('cards')].filter((s) => s.customer === c.id && !s.deleted).reverse(), `/v1/customers/${c.id}/sources`),
    subscriptions: (ctx: Ctx, c: StripeObject) =>
      paginate(ctx.collection('subscriptions'), { limit: 100 }, `/v1/customers/${c.id}/subscriptions`, 'subscription', [(s) => s.customer === c.id]),
    tax_ids: (ctx: Ctx, c: StripeObject) =>
      listOf([...ctx.all('tax_ids')].filter((t) => t.customer === c.id && !t.deleted).reverse(), `/v1/customers/${c.id}/tax_ids`),
    cash_balance: () => null,
    invoice_credit_balance: () => ({}),
  },
};

const emptyAddress = () => ({ city: null, country: null, line1: null, line2: null, postal_code: null, state: null });

const NO_INVOICE_SETTINGS = frozen({ custom_fields: null, default_payment_method: null, footer: null, rendering_options: null });
const NO_LOCALES = frozen([]) as string[];

export function createCustomer(ctx: Ctx, p: Params): StripeObject {
  const id = newId('cus', 14);
  const customer: StripeObject = {
    id,
    object: 'customer',
    address: p.address ? { ...emptyAddress(), ...p.address } : null,
    balance: p.balance ?? 0,
    created: ctx.now(),
    currency: null,
    customer_account: null,
    default_source: null,
    delinquent: false,
    description: p.description ?? null,
    discount: null,
    email: p.email ?? null,
    invoice_prefix: p.invoice_prefix ?? randomText(8).toUpperCase(),
    invoice_settings: p.invoice_settings
      ? { custom_fields: p.invoice_settings.custom_fields || null, default_payment_method: null, footer: p.invoice_settings.footer ?? null, rendering_options: null }
      : NO_INVOICE_SETTINGS,
    livemode: false,
    metadata: p.metadata || EMPTY,
    name: p.name ?? null,
    next_invoice_sequence: p.next_invoice_sequence ?? 1,
    phone: p.phone ?? null,
    preferred_locales: p.preferred_locales || NO_LOCALES,
    shipping: p.shipping || null,
    tax_exempt: p.tax_exempt || 'none',
    test_clock: p.test_clock ?? null,
  };
  if (p.test_clock) ctx.require('test_clocks', p.test_clock, 'test_clock', 'test_clock');
  if (customer.balance) {
    // A balance given at creation is the ledger's first entry.
    const initial = changeBalance(ctx, { ...customer, balance: 0 }, customer.balance, 'initial');
    Object.assign(customer, { balance: initial.customer.balance, currency: initial.customer.currency });
  }
  ctx.put('customers', customer);
  ctx.emit('customer.created', customer);
  (Array.isArray(p.tax_id_data) ? p.tax_id_data : []).forEach((data: Params, i: number) => createTaxId(ctx, customer, data, `tax_id_data[${i}]`));
  // A card token as `source` becomes the customer's first card source and its default.
  if (p.source) return attachSource(ctx, customer, p.source).customer;
  // Stripe attaches `payment_method` as part of creating the customer.
  if (p.payment_method) {
    const pm = attachPaymentMethod(ctx, resolvePaymentMethod(ctx, p.payment_method, 'payment_method'), customer);
    const defaultPm = p.invoice_settings?.default_payment_method;
    if (defaultPm && defaultPm !== p.payment_method && defaultPm !== pm.id) {
      ctx.require('payment_methods', defaultPm, 'PaymentMethod', 'invoice_settings[default_payment_method]');
    }
    if (defaultPm) return setDefault(ctx, customer, pm.id, false);
  } else if (p.invoice_settings?.default_payment_method) {
    throw invalidRequest(
      `No such PaymentMethod: '${p.invoice_settings.default_payment_method}'; it must be attached to the customer first.`,
      { param: 'invoice_settings[default_payment_method]', code: 'resource_missing' },
    );
  }
  return customer;
}

function setDefault(ctx: Ctx, customer: StripeObject, pmId: string, emit = true): StripeObject {
  const next = ctx.edit(customer);
  next.invoice_settings = { ...next.invoice_settings, default_payment_method: pmId };
  ctx.put('customers', next);
  if (emit) ctx.emit('customer.updated', next, { invoice_settings: { default_payment_method: customer.invoice_settings.default_payment_method } });
  return next;
}

function update(ctx: Ctx, customer: StripeObject, p: Params): StripeObject {
  let next = ctx.edit(customer);
  const previous = applyUpdate(next, p, ['invoice_settings', 'address', 'source', 'balance', 'default_source']);
  if (p.source) {
    // `source` on an update replaces the default source with a new card.
    previous.default_source = customer.default_source;
    next = attachSource(ctx, { ...next, default_source: null }, p.source).customer;
  } else if (p.default_source !== undefined) {
    if (p.default_source !== '') checkDefaultSource(ctx, customer, p.default_source);
    previous.default_source = customer.default_source;
    next.default_source = p.default_source === '' ? null : p.default_source;
  }
  if (p.balance !== undefined && p.balance !== (customer.balance ?? 0)) {
    // Setting the balance is an adjustment by the difference, so the ledger still adds up to it.
    previous.balance = customer.balance;
    next = changeBalance(ctx, next, p.balance - (customer.balance ?? 0), 'adjustment').customer;
  }
  if (p.address !== undefined) {
    previous.address = customer.address;
    next.address = p.address === '' ? null : { ...emptyAddress(), ...(customer.address ?? {}), ...p.address };
  }
  if (p.invoice_settings) {
    const dpm = p.invoice_settings.default_payment_method;
    if (dpm) {
      const pm = ctx.require('payment_methods', dpm, 'PaymentMethod', 'invoice_settings[default_payment_method]');
      if (pm.customer !== customer.id) {
        throw invalidRequest(`The customer does not have a payment method with the ID ${dpm}. The payment method must be attached to the customer.`, {
          param: 'invoice_settings[default_payment_method]',
          code: 'resource_missing',
        });
      }
    }
    previous.invoice_settings = customer.invoice_settings;
    next.invoice_settings = { ...next.invoice_settings, ...p.invoice_settings };
    if (dpm === '') next.invoice_settings.default_payment_method = null;
  }
  return saveUpdate(ctx, 'customers', next, previous, 'customer.updated');
}

function del(ctx: Ctx, customer: StripeObject): StripeObject {
  return deleteObject(ctx, 'customers', customer, 'customer.deleted');
}

export const customers: Resource = {
  ...declaration,
  operations: [
    ...standardOperations(declaration, { idParam: 'customer', create: createCustomer, update, del, search: true, retrieve: false }),
    {
      method: 'GET',
      path: '/v1/customers/{customer}',
      permission: 'customers',
      // Stripe answers a deleted customer with its deletion stub, not a 404.
      handle: (ctx, _p, path) => {
        const c = ctx.get('customers', path.customer);
        if (!c) ctx.require('customers', path.customer, 'customer', 'id');
        return c;
      },
    },
  ],
};
