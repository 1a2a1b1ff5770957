/**
 * Named moments other resources react to ("a payment succeeded"), so that
 * imports stay one-way: payment intents never import invoices or Checkout;
 * those modules subscribe here instead.
 */
import type { StripeObject } from '../store/collection.js';
import type { Ctx } from './context.js';

export class Hook {
  private listeners: ((ctx: Ctx, obj: StripeObject) => void)[] = [];

  on(listener: (ctx: Ctx, obj: StripeObject) => void): void {
    this.listeners.push(listener);
  }

  run(ctx: Ctx, obj: StripeObject): void {
    for (const listener of this.listeners) listener(ctx, obj);
  }
}

/** A PaymentIntent reached `succeeded` (on confirm, after 3-D Secure, or on capture). */
export const paymentSucceeded = new Hook();
/** A SetupIntent reached `succeeded`. */
export const setupSucceeded = new Hook();
/** An invoice was paid, or a payment attempt on it failed. */
export const invoicePaid = new Hook();
export const invoicePaymentFailed = new Hook();
