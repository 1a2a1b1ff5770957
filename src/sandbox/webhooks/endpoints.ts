/**
 * Webhook endpoints (`/v1/webhook_endpoints`). The signing secret is shown
 * once, on create, as Stripe does; it is kept apart from the endpoint so no
 * later read can return it.
 */
import { CURRENT_API_VERSION, isApiVersion } from '../../stripe/versions.js';
import { refusedUrlReason } from '../../net/outbound.js';
import { readFileSync } from 'node:fs';
import { invalidRequest } from '../../stripe/errors.js';
import type { Ctx } from '../engine/context.js';
import { newId, randomText } from '../../stripe/ids.js';
import { applyUpdate, deleteObject, patchSpec, standardOperations, type Params, type Resource } from '../engine/resource.js';
import type { ParamSchema } from '../../stripe/schema.js';
import type { StripeObject } from '../store/collection.js';

export const EVENT_TYPES: string[] = JSON.parse(readFileSync(new URL('../../stripe/spec/event_types.json', import.meta.url), 'utf8'));
/** Endpoint id → signing secret. */
export const WEBHOOK_SECRETS = 'webhook_secrets';

const ENABLED_EVENTS: ParamSchema = { t: 'a', i: { t: 's', e: EVENT_TYPES } };

export const newWebhookSecret = () => `whsec_${randomText(32)}`;

const originOf = (url: string) => {
  try {
    return new URL(url).origin;
  } catch {
    return '';
  }
};

/** Stripe refuses URLs that are not publicly reachable; the sandbox takes the inward ones its policy allows (local servers). */
function checkUrl(ctx: Ctx, url: string): void {
  const refused = refusedUrlReason(url, ctx.env.urlPolicy ?? 'private');
  if (refused && ctx.env.trustedOrigins?.has(originOf(url))) return;
  if (refused) throw invalidRequest(`Invalid URL: URL must be publicly accessible and use http or https (${refused}).`, { param: 'url', code: 'url_invalid' });
}

/** Creates an endpoint; `secret` is only passed by the sandbox's own `listen` sessions, which keep one secret across runs. */
export function createEndpoint(ctx: Ctx, p: Params, secret = newWebhookSecret()): StripeObject {
  checkUrl(ctx, p.url);
  if (!Array.isArray(p.enabled_events) || p.enabled_events.length === 0) {
    throw invalidRequest('Missing required param: enabled_events.', { param: 'enabled_events', code: 'parameter_missing' });
  }
  if (p.api_version !== undefined && !isApiVersion(p.api_version)) {
    throw invalidRequest(`Invalid API version: ${String(p.api_version).slice(0, 100)}. Give a published version such as ${CURRENT_API_VERSION}.`, { param: 'api_version' });
  }
  const endpoint: StripeObject = {
    id: newId('we'),
    object: 'webhook_endpoint',
    api_version: p.api_version ?? null,
    application: null,
    connect: p.connect ?? false,
    created: ctx.now(),
    description: p.description ?? null,
    enabled_events: p.enabled_events,
    livemode: false,
    metadata: p.metadata || {},
    status: 'enabled',
    url: p.url,
  };
  ctx.put('webhook_endpoints', endpoint);
  ctx.put(WEBHOOK_SECRETS, { id: endpoint.id, secret });
  return { ...endpoint, secret };
}

function update(ctx: Ctx, endpoint: StripeObject, p: Params): StripeObject {
  if (p.url) checkUrl(ctx, p.url);
  const next = ctx.edit(endpoint);
  applyUpdate(next, p, ['disabled']);
  if (p.disabled !== undefined) next.status = p.disabled ? 'disabled' : 'enabled';
  ctx.put('webhook_endpoints', next);
  return next;
}

const declaration = {
  collection: 'webhook_endpoints', object: 'webhook_endpoint', prefix: 'we', noun: 'webhook_endpoint', path: '/v1/webhook_endpoints', permission: 'webhook_endpoints',
};

const standard = standardOperations(declaration, {
  idParam: 'webhook_endpoint',
  create: (ctx, p) => createEndpoint(ctx, p),
  update,
  del: (ctx, endpoint) => {
    ctx.remove(WEBHOOK_SECRETS, endpoint.id);
    return deleteObject(ctx, 'webhook_endpoints', endpoint);
  },
});

export const webhookEndpoints: Resource = {
  ...declaration,
  operations: patchSpec(patchSpec(standard, 'POST', '/v1/webhook_endpoints', { add: { enabled_events: ENABLED_EVENTS } }),
    'POST', '/v1/webhook_endpoints/{webhook_endpoint}', { add: { enabled_events: ENABLED_EVENTS } }),
};
