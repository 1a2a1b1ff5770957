/**
 * Sandbox-only webhook routes: the delivery log (what was sent where, with
 * which answer) and the sessions `paybridge listen` opens. A listen session
 * is a webhook endpoint whose secret stays the same for an account across
 * runs, as the Stripe CLI's does, so it can live in a `.env` file.
 */
import type { FastifyInstance } from 'fastify';
import { DELIVERIES } from '../engine/context.js';
import { invalidRequest } from '../../stripe/errors.js';
import { transact, type PipelineDeps } from '../pipeline.js';
import { SETTINGS } from '../resources/billing/subscriptions.js';
import type { StripeObject } from '../store/store.js';
import { createEndpoint, EVENT_TYPES, newWebhookSecret } from './endpoints.js';

export function registerWebhookAdmin(app: FastifyInstance, deps: PipelineDeps): void {
  const { store, env } = deps;

  app.get<{ Querystring: { account?: string; event?: string; endpoint?: string; status?: string; limit?: string } }>('/_sandbox/webhook_deliveries', async (req) => {
    const { account = env.platform, event, endpoint, status } = req.query;
    const limit = Math.min(Number(req.query.limit ?? 100) || 100, 1000);
    const data: StripeObject[] = [];
    for (const d of store.collection(account, DELIVERIES).descending()) {
      if ((event && d.event !== event) || (endpoint && d.endpoint !== endpoint) || (status && d.status !== status)) continue;
      data.push(d);
      if (data.length === limit) break;
    }
    return { object: 'list', data, has_more: false, url: '/_sandbox/webhook_deliveries' };
  });

  app.post<{ Body: { url?: string; events?: string | string[]; account?: string } }>('/_sandbox/webhook_sessions', async (req) => {
    const { url, account = env.platform } = req.body ?? {};
    const events = typeof req.body?.events === 'string' ? req.body.events.split(',') : req.body?.events ?? ['*'];
    if (!url) throw invalidRequest('Missing required param: url.', { param: 'url', code: 'parameter_missing' });
    const unknown = events.find((e) => !EVENT_TYPES.includes(e) && !e.endsWith('.*'));
    if (unknown) throw invalidRequest(`Unknown event type: ${unknown}`, { param: 'events' });
    return transact(deps, account, (ctx) => {
      const settings = ctx.get(SETTINGS, 'cli') ?? { id: 'cli', webhook_secret: newWebhookSecret() };
      ctx.put(SETTINGS, settings);
      return createEndpoint(ctx, { url, enabled_events: events, description: 'paybridge listen', metadata: { paybridge_listen: 'true' } }, settings.webhook_secret);
    });
  });

  app.delete<{ Params: { id: string }; Querystring: { account?: string } }>('/_sandbox/webhook_sessions/:id', async (req) => {
    const account = req.query.account ?? env.platform;
    transact(deps, account, (ctx) => {
      const endpoint = ctx.require('webhook_endpoints', req.params.id, 'webhook_endpoint');
      ctx.put('webhook_endpoints', { id: endpoint.id, object: 'webhook_endpoint', deleted: true });
    });
    return { id: req.params.id, object: 'webhook_endpoint', deleted: true };
  });
}
