/**
 * Customer tax ids (`txi_`): `/v1/customers/:id/tax_ids` and
 * `tax_id_data` on customer create. The type must be one Stripe knows and
 * the value must have that type's form (Stripe's `tax_id_invalid`
 * otherwise); EU and UK VAT numbers start `pending` verification, as
 * Stripe's do.
 */
import { invalidRequest, resourceMissing } from '../../stripe/errors.js';
import { newId } from '../../stripe/ids.js';
import type { Ctx } from '../engine/context.js';
import { paginate } from '../engine/list.js';
import type { Operation, Params, Resource } from '../engine/resource.js';
import type { StripeObject } from '../store/store.js';

/** Type → [country (null: from the value's prefix), the value's form]. */
const TYPES: Record<string, [string | null, RegExp]> = {
  eu_vat: [null, /^(AT|BE|BG|CY|CZ|DE|DK|EE|EL|ES|FI|FR|HR|HU|IE|IT|LT|LU|LV|MT|NL|PL|PT|RO|SE|SI|SK|XI)[0-9A-Z+*]{2,12}$/],
  gb_vat: ['GB', /^GB(\d{9}|\d{12}|GD\d{3}|HA\d{3})$/],
  us_ein: ['US', /^\d{2}-?\d{7}$/],
  au_abn: ['AU', /^\d{11}$/],
  au_arn: ['AU', /^\d{12}$/],
  ca_bn: ['CA', /^\d{9}$/],
  ca_gst_hst: ['CA', /^\d{9}RT\d{4}$/],
  ch_vat: ['CH', /^CHE-?\d{3}\.?\d{3}\.?\d{3} ?(MWST|TVA|IVA)$/],
  in_gst: ['IN', /^\d{2}[A-Z]{5}\d{4}[A-Z][1-9A-Z]Z[0-9A-Z]$/],
  jp_cn: ['JP', /^\d{13}$/],
  br_cnpj: ['BR', /^\d{2}\.?\d{3}\.?\d{3}\/?\d{4}-?\d{2}$/],
  br_cpf: ['BR', /^\d{3}\.?\d{3}\.?\d{3}-?\d{2}$/],
  mx_rfc: ['MX', /^[A-Z&Ñ]{3,4}\d{6}[A-Z0-9]{3}$/],
  nz_gst: ['NZ', /^\d{8,9}$/],
  no_vat: ['NO', /^\d{9}MVA$/],
  sg_gst: ['SG', /^[A-Z]\d{8}[A-Z]$/],
  sg_uen: ['SG', /^\d{8,9}[A-Z]$|^[A-Z]\d{2}[A-Z]{2}\d{4}[A-Z]$/],
  za_vat: ['ZA', /^4\d{9}$/],
  ae_trn: ['AE', /^\d{15}$/],
  kr_brn: ['KR', /^\d{3}-?\d{2}-?\d{5}$/],
};

const VERIFIED_TYPES = new Set(['eu_vat', 'gb_vat']);

export function createTaxId(ctx: Ctx, customer: StripeObject, p: Params, prefix = ''): StripeObject {
  const param = (field: string) => (prefix ? `${prefix}[${field}]` : field);
  const known = TYPES[p.type];
  if (!known) throw invalidRequest(`Invalid value for type: must be one of ${Object.keys(TYPES).join(', ')}`, { param: param('type') });
  if (typeof p.value !== 'string' || !known[1].test(p.value.trim().toUpperCase())) {
    throw invalidRequest(`Invalid value for ${p.type}.`, { param: param('value'), code: 'tax_id_invalid' });
  }
  const value = p.value.trim();
  const taxId: StripeObject = {
    id: newId('txi'),
    object: 'tax_id',
    country: known[0] ?? value.slice(0, 2).toUpperCase().replace('EL', 'GR').replace('XI', 'GB'),
    created: ctx.now(),
    customer: customer.id,
    customer_account: null,
    livemode: false,
    owner: { customer: customer.id, type: 'customer' },
    type: p.type,
    value,
    verification: VERIFIED_TYPES.has(p.type) ? { status: 'pending', verified_address: null, verified_name: null } : null,
  };
  ctx.put('tax_ids', taxId);
  ctx.emit('customer.tax_id.created', taxId);
  return taxId;
}

const loadCustomer = (ctx: Ctx, path: Record<string, string>) => ctx.require('customers', path.customer, 'customer', 'customer');
function loadTaxId(ctx: Ctx, path: Record<string, string>): StripeObject {
  const taxId = ctx.get('tax_ids', path.id);
  if (!taxId || taxId.deleted || taxId.customer !== path.customer) throw resourceMissing('tax_id', path.id, 'id');
  return taxId;
}

const operations: Operation[] = [
  { method: 'POST', path: '/v1/customers/{customer}/tax_ids', permission: 'customers', handle: (ctx, p, path) => createTaxId(ctx, loadCustomer(ctx, path), p) },
  {
    method: 'GET', path: '/v1/customers/{customer}/tax_ids', permission: 'customers',
    handle: (ctx, p, path) => {
      const customer = loadCustomer(ctx, path);
      return paginate(ctx.collection('tax_ids'), p, `/v1/customers/${customer.id}/tax_ids`, 'tax_id', [(t) => t.customer === customer.id]);
    },
  },
  { method: 'GET', path: '/v1/customers/{customer}/tax_ids/{id}', permission: 'customers', handle: (ctx, _p, path) => loadTaxId(ctx, path) },
  {
    method: 'DELETE', path: '/v1/customers/{customer}/tax_ids/{id}', permission: 'customers',
    handle: (ctx, _p, path) => {
      const taxId = loadTaxId(ctx, path);
      ctx.put('tax_ids', { id: taxId.id, object: 'tax_id', deleted: true, customer: taxId.customer });
      ctx.emit('customer.tax_id.deleted', taxId);
      return { id: taxId.id, object: 'tax_id', deleted: true };
    },
  },
];

export const taxIds: Resource = {
  collection: 'tax_ids', object: 'tax_id', prefix: 'txi', noun: 'tax_id', path: '/v1/customers/{customer}/tax_ids', permission: 'customers',
  operations,
};
