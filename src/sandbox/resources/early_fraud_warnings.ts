/**
 * Radar's early fraud warnings: the issuer reporting a payment as fraud
 * before any dispute. Stripe's test card 4000 0000 0000 5423
 * (`pm_card_createIssuerFraudRecord`) draws one shortly after its charge.
 * A warning is actionable until its charge is fully refunded or disputed.
 */
import type { Ctx } from '../engine/context.js';
import { equals, standardOperations, type Resource } from '../engine/resource.js';
import { newId } from '../../stripe/ids.js';
import type { StripeObject } from '../store/store.js';

const COLLECTION = 'early_fraud_warnings';

/** Queues the warning the issuer sends some time after `charge` (Stripe's arrive after the charge, not with it). */
export function earlyFraudWarningLater(ctx: Ctx, charge: StripeObject): void {
  ctx.later.push((later) => {
    const warning: StripeObject = {
      id: newId('issfr'),
      object: 'radar.early_fraud_warning',
      actionable: true,
      charge: charge.id,
      created: later.now(),
      fraud_type: 'made_with_stolen_card',
      livemode: false,
      payment_intent: charge.payment_intent ?? null,
    };
    later.put(COLLECTION, warning);
    later.emit('radar.early_fraud_warning.created', warning);
  });
}

/** After a full refund or a dispute, the warnings of `charge` are no longer actionable. */
export function settleEarlyFraudWarnings(ctx: Ctx, charge: StripeObject): void {
  if (!charge.refunded && !charge.disputed) return;
  for (const w of ctx.collection(COLLECTION).descending()) {
    if (w.charge !== charge.id || !w.actionable) continue;
    const next = { ...w, actionable: false };
    ctx.put(COLLECTION, next);
    ctx.emit('radar.early_fraud_warning.updated', next, { actionable: true });
  }
}

const declaration = {
  collection: COLLECTION, object: 'radar.early_fraud_warning', prefix: 'issfr', noun: 'early fraud warning', path: '/v1/radar/early_fraud_warnings',
  permission: 'radar', listFilters: { charge: equals('charge'), payment_intent: equals('payment_intent') },
};

export const earlyFraudWarnings: Resource = {
  ...declaration,
  operations: standardOperations(declaration, { idParam: 'early_fraud_warning' }),
};
