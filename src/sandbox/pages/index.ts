/**
 * Pages the sandbox serves outside `/v1`: the 3-D Secure challenge that
 * `next_action.redirect_to_url` points to, charge receipts, and the
 * `/_sandbox/` admin routes (reset, health).
 */
import { CURRENT_API_VERSION, isApiVersion } from '../../stripe/versions.js';
import { setAccountApiVersion } from '../versions/account.js';
import type { FastifyInstance } from 'fastify';
import { invalidRequest, resourceMissing, StripeError } from '../../stripe/errors.js';
import { DEFAULT_ACCOUNT, transact, type PipelineDeps } from '../pipeline.js';
import { SETTINGS } from '../resources/billing/subscriptions.js';
import { registerCheckoutPages } from './checkout.js';
import { registerInvoicePages } from './invoices.js';
import { formatAmount } from '../../stripe/money.js';
import { completeAuthentication } from '../resources/payment_intents.js';
import { completeSetupAuthentication } from '../resources/setup_intents.js';
import type { StripeObject } from '../store/store.js';
import { escapeHtml, page } from './html.js';

export function registerPages(app: FastifyInstance, deps: PipelineDeps): void {
  const { store } = deps;
  const findIntent = (id: string) => store.locate(id.startsWith('seti_') ? 'setup_intents' : 'payment_intents', id);

  app.get<{ Params: { id: string }; Querystring: { return_url?: string } }>('/_sandbox/3ds/:id', async (req, reply) => {
    const found = findIntent(req.params.id);
    if (!found) throw resourceMissing('payment_intent', req.params.id);
    const intent = found.obj;
    const amount = intent.object === 'payment_intent' ? `<div class="row total"><span>Amount</span><span>${escapeHtml(formatAmount(intent.amount, intent.currency))}</span></div>` : '';
    const rt = req.query.return_url ? `<input type="hidden" name="return_url" value="${escapeHtml(req.query.return_url)}">` : '';
    const done = intent.status !== 'requires_action';
    return reply.type('text/html').send(page('3D Secure authentication', `
      <span class="badge">Test mode</span>
      <h1>3D Secure authentication</h1>
      <p>Your bank asks you to confirm this ${intent.object === 'payment_intent' ? 'payment' : 'card'}. This is the sandbox's test challenge: choose how it ends.</p>
      ${amount}
      ${done ? `<p>This authentication is finished (status: ${escapeHtml(intent.status)}).</p>` : `
      <form method="post" action="/_sandbox/3ds/${escapeHtml(intent.id)}/complete">${rt}<button class="primary" type="submit">Complete authentication</button></form>
      <form method="post" action="/_sandbox/3ds/${escapeHtml(intent.id)}/fail">${rt}<button class="secondary" type="submit">Fail authentication</button></form>`}
    `));
  });

  for (const outcome of ['complete', 'fail'] as const) {
    app.post<{ Params: { id: string }; Body: { return_url?: string } }>(`/_sandbox/3ds/:id/${outcome}`, async (req, reply) => {
      const found = findIntent(req.params.id);
      if (!found) throw resourceMissing('payment_intent', req.params.id);
      const approved = outcome === 'complete';
      let intent: StripeObject;
      try {
        intent = transact(deps, found.account, (ctx) =>
          found.obj.object === 'setup_intent' ? completeSetupAuthentication(ctx, found.obj.id, approved) : completeAuthentication(ctx, found.obj.id, approved),
        );
      } catch (e) {
        // A card that declines after authentication: the decline is recorded like any other.
        if (!(e instanceof StripeError && e.fields.commit)) throw e;
        intent = store.get(found.account, found.obj.object === 'setup_intent' ? 'setup_intents' : 'payment_intents', found.obj.id) ?? found.obj;
      }
      const returnUrl = req.body?.return_url ?? (req.query as { return_url?: string }).return_url;
      if (returnUrl) {
        const url = new URL(returnUrl);
        const kind = intent.object === 'setup_intent' ? 'setup_intent' : 'payment_intent';
        url.searchParams.set(kind, intent.id);
        url.searchParams.set(`${kind}_client_secret`, intent.client_secret);
        url.searchParams.set('redirect_status', approved ? 'succeeded' : 'failed');
        return reply.redirect(url.toString(), 303);
      }
      return reply.type('text/html').send(page('Authentication finished', `<h1>Authentication ${approved ? 'completed' : 'failed'}</h1><p>You can close this window.</p>`));
    });
  }

  app.get<{ Params: { id: string } }>('/_sandbox/receipts/:id', async (req, reply) => {
    const found = store.locate('charges', req.params.id);
    if (!found) throw resourceMissing('charge', req.params.id);
    const c = found.obj;
    const card = c.payment_method_details?.card;
    return reply.type('text/html').send(page('Receipt', `
      <span class="badge">Test mode</span>
      <h1>Receipt</h1>
      <p class="muted">Receipt for ${escapeHtml(c.id)}</p>
      <div class="row"><span>Date</span><span>${new Date((c.created ?? 0) * 1000).toISOString().slice(0, 10)}</span></div>
      <div class="row"><span>Payment method</span><span>${escapeHtml(card?.brand)} •••• ${escapeHtml(card?.last4)}</span></div>
      ${c.description ? `<div class="row"><span>Description</span><span>${escapeHtml(c.description)}</span></div>` : ''}
      ${c.amount_refunded ? `<div class="row"><span>Refunded</span><span>−${escapeHtml(formatAmount(c.amount_refunded, c.currency))}</span></div>` : ''}
      <div class="row total"><span>Amount paid</span><span>${escapeHtml(formatAmount(c.amount_captured || c.amount, c.currency))}</span></div>`));
  });

  registerInvoicePages(app, store);
  registerCheckoutPages(app, deps);

  /** Account settings Stripe keeps in its Dashboard, e.g. what happens after the last failed retry of a subscription payment. */
  app.post<{ Body: Record<string, string> }>('/_sandbox/settings', async (req, reply) => {
    const { account = DEFAULT_ACCOUNT, ...settings } = req.body ?? {};
    const action = settings.subscription_failed_payment_action;
    if (action !== undefined && !['cancel', 'mark_unpaid', 'past_due'].includes(action)) {
      throw invalidRequest('Invalid subscription_failed_payment_action: must be one of cancel, mark_unpaid, past_due', { param: 'subscription_failed_payment_action' });
    }
    const saved = transact(deps, account, (ctx) => ctx.put(SETTINGS, { ...ctx.get(SETTINGS, 'billing'), id: 'billing', ...settings }));
    return reply.send({ object: 'sandbox.settings', ...saved });
  });

  /** An account's default API version (Stripe sets it in Workbench): requests without Stripe-Version, and events, use it. */
  app.post<{ Body: { account?: string; api_version?: string } }>('/_sandbox/api_version', async (req, reply) => {
    const { account = DEFAULT_ACCOUNT, api_version } = req.body ?? {};
    if (!isApiVersion(api_version)) throw invalidRequest(`Invalid API version: ${String(api_version ?? '').slice(0, 100)}. Give a published version such as ${CURRENT_API_VERSION}.`, { param: 'api_version' });
    transact(deps, account, (ctx) => setAccountApiVersion(ctx, api_version));
    return reply.send({ object: 'sandbox.api_version', account, api_version });
  });

  app.post('/_sandbox/reset', async (_req, reply) => {
    store.reset();
    return reply.send({ object: 'sandbox.reset', ok: true });
  });

  app.get('/_sandbox/health', async () => ({ ok: true }));

  app.get('/', async (_req, reply) => {
    return reply.type('text/html').send(page('PayBridge sandbox', `<h1>PayBridge sandbox</h1><p>A Stripe-compatible test-mode API. Point the Stripe SDK at this host (host, port, protocol) with any <code>sk_test_</code> key.</p>`));
  });

}
