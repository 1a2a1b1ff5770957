/**
 * The table of Stripe resources the sandbox serves. The router, the
 * expander and (later) the gateway's permission checks all read this.
 */
import type { VirtualExpansions } from '../engine/expand.js';
import type { Resource } from '../engine/resource.js';
import { coupons, prices, products } from './catalog.js';
import { balance, balanceTransactions, charges, disputes, refunds } from './charges.js';
import { customers } from './customers.js';
import { cardSources } from './legacy_charges.js';
import { customerBalanceTransactions } from './customer_balance.js';
import { events } from './events.js';
import { paymentIntents } from './payment_intents.js';
import { paymentMethods, tokens } from './payment_methods.js';
import { setupIntents } from './setup_intents.js';
import { discounts, promotionCodes } from './billing/discounts.js';
import { invoiceItems, invoicePayments, invoices } from './billing/invoices.js';
import { subscriptionItems, subscriptions } from './billing/subscriptions.js';
import { testClocks } from './billing/test_clocks.js';
import { previewOperations } from './billing/preview.js';
import { plans } from './billing/plans.js';
import { webhookEndpoints } from '../webhooks/endpoints.js';
import { checkoutSessions, paymentLinks } from './checkout.js';
import { taxRates } from './tax_rates.js';
import { payouts } from './payouts.js';
import { taxIds } from './tax_ids.js';
import { earlyFraudWarnings } from './early_fraud_warnings.js';
import { accounts } from '../connect/accounts.js';
import { applicationFees, transfers } from '../connect/transfers.js';

export const RESOURCES: Resource[] = [
  customers, customerBalanceTransactions, cardSources, products, prices, coupons, paymentMethods, tokens, paymentIntents, setupIntents,
  charges, refunds, disputes, balanceTransactions, balance, events,
  promotionCodes, discounts, plans, subscriptions, subscriptionItems, { ...invoices, operations: [...previewOperations, ...invoices.operations] }, invoiceItems, invoicePayments, testClocks,
  webhookEndpoints, checkoutSessions, paymentLinks, accounts, taxRates, payouts, taxIds, earlyFraudWarnings, applicationFees, transfers,
];

/** id prefix → collection, for expanding any id (`py_` charges share `ch_`'s collection). */
export const COLLECTION_OF_PREFIX: Record<string, string> = {
  ...Object.fromEntries(RESOURCES.map((r) => [r.prefix, r.collection])),
  py: 'charges',
  trr: 'transfer_reversals',
  fr: 'fee_refunds',
};

export const VIRTUAL_EXPANSIONS: VirtualExpansions = Object.fromEntries(
  RESOURCES.filter((r) => r.virtual).map((r) => [r.object, r.virtual!]),
);
