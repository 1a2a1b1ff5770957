/**
 * SetupIntents: save a card for later. A 3-D Secure card asks for
 * authentication once here, and is then chargeable off-session.
 */
import { invalidRequest, StripeError, cardError } from '../../stripe/errors.js';
import type { Ctx } from '../engine/context.js';
import { setupSucceeded } from '../engine/hooks.js';
import { newId, randomText } from '../../stripe/ids.js';
import { clientSecretRoutes, applyUpdate, equals, patchSpec, saveUpdate, standardOperations, type Operation, type Params, type Resource } from '../engine/resource.js';
import type { StripeObject } from '../store/collection.js';
import { ALLOWED_TYPES_PARAM, AUTHENTICATED_FOR_OFF_SESSION, allowedPaymentMethodTypes, automaticByDefault, INTENT_TYPE_CHOICES } from './payment_intents.js';
import { attachPaymentMethod, cardOf, resolvePaymentMethod } from './payment_methods.js';

const unexpectedState = (si: StripeObject, message: string): StripeError =>
  invalidRequest(message, { code: 'setup_intent_unexpected_state', extra: { setup_intent: si } });

export function createSetupIntent(ctx: Ctx, p: Params): StripeObject {
  if (p.customer) ctx.require('customers', p.customer, 'customer', 'customer');
  const id = newId('seti');
  let si: StripeObject = {
    id,
    object: 'setup_intent',
    allowed_payment_method_types: p.allowed_payment_method_types ?? null,
    application: null,
    automatic_payment_methods: !automaticByDefault(ctx, p) ? null : { allow_redirects: p.automatic_payment_methods?.allow_redirects ?? 'always', enabled: true },
    cancellation_reason: null,
    client_secret: `${id}_secret_${randomText(25)}`,
    created: ctx.now(),
    customer: p.customer ?? null,
    customer_account: null,
    description: p.description ?? null,
    excluded_payment_method_types: null,
    flow_directions: p.flow_directions ?? null,
    last_setup_error: null,
    latest_attempt: null,
    livemode: false,
    mandate: null,
    metadata: p.metadata || {},
    next_action: null,
    on_behalf_of: p.on_behalf_of ?? null,
    payment_method: null,
    payment_method_configuration_details: null,
    payment_method_options: { card: { mandate_options: null, network: null, request_three_d_secure: 'automatic' } },
    payment_method_types: allowedPaymentMethodTypes(p, INTENT_TYPE_CHOICES) ?? p.payment_method_types ?? ['card'],
    single_use_mandate: null,
    status: 'requires_payment_method',
    usage: p.usage ?? 'off_session',
  };
  if (p.payment_method) {
    si.payment_method = resolvePaymentMethod(ctx, p.payment_method, 'payment_method').id;
    si.status = 'requires_confirmation';
  }
  ctx.put('setup_intents', si);
  ctx.emit('setup_intent.created', si);
  if (p.confirm) si = confirmSetup(ctx, si, { return_url: p.return_url });
  return si;
}

export function confirmSetup(ctx: Ctx, current: StripeObject, o: { payment_method?: string; return_url?: string; authenticated?: boolean }): StripeObject {
  if (!['requires_payment_method', 'requires_confirmation', 'requires_action'].includes(current.status)) {
    throw unexpectedState(current, `You cannot confirm this SetupIntent because it has a status of ${current.status}.`);
  }
  const si = ctx.edit(current);
  if (o.payment_method) si.payment_method = resolvePaymentMethod(ctx, o.payment_method, 'payment_method').id;
  if (!si.payment_method) {
    throw unexpectedState(si, "You cannot confirm this SetupIntent because it's missing a payment method. Update it with a payment method, or confirm it with one.");
  }
  const pm = ctx.require('payment_methods', si.payment_method, 'PaymentMethod', 'payment_method');
  const behaviour = cardOf(ctx, pm).behaviour;
  si.last_setup_error = null;
  si.next_action = null;
  if (behaviour.kind === 'decline') {
    const doc_url = `https://stripe.com/docs/error-codes/${behaviour.code.replace(/_/g, '-')}`;
    si.status = 'requires_payment_method';
    si.last_setup_error = { code: behaviour.code, decline_code: behaviour.decline_code, doc_url, message: behaviour.message, payment_method: pm, type: 'card_error' };
    ctx.put('setup_intents', si);
    ctx.emit('setup_intent.setup_failed', si);
    throw cardError(behaviour.message, { code: behaviour.code, decline_code: behaviour.decline_code, doc_url, extra: { setup_intent: si, payment_method: pm }, commit: true });
  }
  if (behaviour.kind === 'three_ds' && !o.authenticated) {
    si.status = 'requires_action';
    const url = `${ctx.env.baseUrl}/_sandbox/3ds/${si.id}${o.return_url ? `?return_url=${encodeURIComponent(o.return_url)}` : ''}`;
    si.next_action = { redirect_to_url: { return_url: o.return_url ?? null, url }, type: 'redirect_to_url' };
    ctx.put('setup_intents', si);
    ctx.emit('setup_intent.requires_action', si);
    return si;
  }
  if (si.customer) attachPaymentMethod(ctx, pm, ctx.require('customers', si.customer, 'customer', 'customer'));
  if (behaviour.kind === 'three_ds') ctx.put(AUTHENTICATED_FOR_OFF_SESSION, { id: pm.id });
  si.status = 'succeeded';
  si.latest_attempt = newId('setatt');
  ctx.put('setup_intents', si);
  ctx.emit('setup_intent.succeeded', si);
  setupSucceeded.run(ctx, si);
  return si;
}

/** Finishes or fails a setup after the sandbox's 3-D Secure page. */
export function completeSetupAuthentication(ctx: Ctx, id: string, approved: boolean): StripeObject {
  const si = ctx.require('setup_intents', id, 'setup_intent', 'intent');
  if (si.status !== 'requires_action') return si;
  if (approved) return confirmSetup(ctx, si, { authenticated: true });
  const pm = ctx.require('payment_methods', si.payment_method, 'PaymentMethod');
  const next = {
    ...si,
    status: 'requires_payment_method',
    next_action: null,
    last_setup_error: {
      code: 'setup_intent_authentication_failure',
      doc_url: 'https://stripe.com/docs/error-codes/setup-intent-authentication-failure',
      message: 'The latest attempt to set up the payment method has failed because authentication failed.',
      payment_method: pm,
      type: 'invalid_request_error',
    },
  };
  ctx.put('setup_intents', next);
  ctx.emit('setup_intent.setup_failed', next);
  return next;
}

const declaration = {
  collection: 'setup_intents', object: 'setup_intent', prefix: 'seti', noun: 'setup_intent', path: '/v1/setup_intents', permission: 'setup_intents',
  listFilters: { customer: equals('customer'), payment_method: equals('payment_method') },
};

const action = (name: string, handle: Operation['handle']): Operation => ({
  method: 'POST', path: `/v1/setup_intents/{intent}/${name}`, permission: 'setup_intents', handle,
});
const ALLOWED_TYPES_PATCH: Operation['specPatch'] = { add: { allowed_payment_method_types: ALLOWED_TYPES_PARAM } };
const load = (ctx: Ctx, path: Record<string, string>) => ctx.require('setup_intents', path.intent, 'setup_intent', 'intent');

export const setupIntents: Resource = {
  ...declaration,
  operations: clientSecretRoutes([
    ...patchSpec(patchSpec(standardOperations(declaration, {
      idParam: 'intent',
      create: createSetupIntent,
      update: (ctx, si, p) => {
        const next = ctx.edit(si);
        const allowedTypes = allowedPaymentMethodTypes(p, INTENT_TYPE_CHOICES);
        const previous = applyUpdate(next, p, ['payment_method']);
        if (allowedTypes) {
          previous.payment_method_types = si.payment_method_types;
          next.payment_method_types = allowedTypes;
          next.automatic_payment_methods = null;
        }
        if (p.payment_method) {
          previous.payment_method = si.payment_method;
          next.payment_method = resolvePaymentMethod(ctx, p.payment_method, 'payment_method').id;
          next.status = 'requires_confirmation';
        }
        return saveUpdate(ctx, 'setup_intents', next, previous, 'setup_intent.updated');
      },
    }), 'POST', '/v1/setup_intents', ALLOWED_TYPES_PATCH), 'POST', '/v1/setup_intents/{intent}', ALLOWED_TYPES_PATCH),
    action('confirm', (ctx, p, path) => confirmSetup(ctx, load(ctx, path), p)),
    action('cancel', (ctx, p, path) => {
      const si = load(ctx, path);
      if (si.status === 'succeeded' || si.status === 'canceled') {
        throw unexpectedState(si, `You cannot cancel this SetupIntent because it has a status of ${si.status}.`);
      }
      const next = { ...si, status: 'canceled', cancellation_reason: p.cancellation_reason ?? null, next_action: null };
      ctx.put('setup_intents', next);
      ctx.emit('setup_intent.canceled', next);
      return next;
    }),
  ], declaration, 'intent'),
};
