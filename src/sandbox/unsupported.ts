/**
 * Parameters Stripe takes that the sandbox does not model and that change
 * money or what happens to it: refused with a clear 400 rather than
 * accepted and silently ignored (a payment that should have moved funds to
 * a connected account, a coupon that should have discounted invoices).
 * Parameters without such an effect offline are accepted as Stripe accepts
 * them; test/fixtures/inert-params.json lists each, with why it is inert.
 */
import { invalidRequest } from '../stripe/errors.js';

export const UNSUPPORTED: Record<string, Record<string, string>> = {
  'POST /v1/customers': {
    coupon: 'a coupon on the customer (before 2025-03-31.basil) is not modelled: give it as `discounts` on the subscription or invoice',
    promotion_code: 'a promotion code on the customer is not modelled: give it as `discounts` on the subscription or invoice',
    cash_balance: 'customer cash balances (bank transfers) are not modelled',
  },
  'POST /v1/refunds': {
    customer: "refunds of a customer's cash balance are not modelled: refund a charge or PaymentIntent",
    currency: "refunds of a customer's cash balance are not modelled: refund a charge or PaymentIntent",
    origin: "refunds of a customer's cash balance are not modelled: refund a charge or PaymentIntent",
    instructions_email: "refunds of a customer's cash balance are not modelled: refund a charge or PaymentIntent",
  },
  'POST /v1/subscriptions/{subscription_exposed_id}': {
    add_invoice_items: 'one-off items on a subscription update are not modelled: create invoice items for the customer (POST /v1/invoiceitems with subscription)',
    billing_cycle_anchor: 'moving the billing cycle on an update is not modelled',
    trial_from_plan: "a plan's trial on an update is not modelled: give trial_end",
  },
  'POST /v1/setup_intents': { payment_method_data: 'creating the payment method from its data on a SetupIntent is not modelled: give payment_method (pm_… or a test token such as pm_card_visa)' },
  'POST /v1/invoiceitems': { discounts: 'discounts on one invoice item are not modelled: give them on the invoice' },
  'POST /v1/coupons': { currency_options: 'amounts in several currencies (currency_options) are not modelled: create one coupon per currency' },
  'POST /v1/prices': { currency_options: 'prices in several currencies (currency_options) are not modelled: create one price per currency', tiers: 'tiered prices are not modelled' },
  'POST /v1/plans': { tiers: 'tiered plans are not modelled', aggregate_usage: 'metered usage is not modelled', transform_usage: 'metered usage is not modelled' },
};

/** A Stripe-shaped 400 for the first unsupported parameter present. */
export function refuseUnsupported(route: string, params: Record<string, unknown>): void {
  const table = UNSUPPORTED[route];
  if (!table) return;
  for (const [param, reason] of Object.entries(table)) {
    if (params[param] !== undefined && params[param] !== '') {
      throw invalidRequest(`The PayBridge sandbox does not support \`${param}\` here: ${reason}.`, { param, code: 'parameter_unknown' });
    }
  }
}
