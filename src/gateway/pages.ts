/**
 * The payer-facing pages of payment sessions: `/s/:id` sends the payer to
 * Stripe Checkout, and Checkout sends them back to `/s/:id/return` or
 * `/s/:id/cancelled`, which go on to the app's URLs or show a result page.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { escapeHtml } from '../stripe/html.js';
import { sendPage } from './look.js';
import { formatAmount } from '../stripe/money.js';
import type { PaymentSessions } from './sessions.js';

type Loaded = NonNullable<Awaited<ReturnType<PaymentSessions['load']>>>;

function withSession(url: string, id: string): string {
  const u = new URL(url);
  u.searchParams.set('session_id', id);
  return u.toString();
}

function result(req: FastifyRequest, reply: FastifyReply, title: string, body: string, status = 200, icon: 'ok' | 'bad' | 'wait' = status === 200 ? 'ok' : status === 202 ? 'wait' : 'bad'): FastifyReply {
  return sendPage(req, reply, status, title, body, icon);
}

function summary(s: Loaded): string {
  const processor = (s.processor ?? {}) as Record<string, string | null>;
  const card = processor.card_brand ? `<div class="line"><span>Card</span><span>${escapeHtml(processor.card_brand.charAt(0).toUpperCase() + processor.card_brand.slice(1))} •••• ${escapeHtml(processor.card_last4)}</span></div>` : '';
  const amount = s.kind === 'charge' && s.amount ? `<div class="line total"><span>Paid</span><span>${escapeHtml(formatAmount(s.amount, s.currency ?? 'usd'))}</span></div>` : '';
  return `${card}${amount}<p class="muted small" style="margin-top:14px">Reference ${escapeHtml(s.id)}. You can close this window.</p>`;
}

export function registerSessionPages(app: FastifyInstance, sessions: PaymentSessions): void {
  const find = async (id: string, req: FastifyRequest, reply: FastifyReply) => {
    const s = await sessions.load(id);
    if (!s) {
      result(req, reply, 'Payment link not found', '<p>Check the link you were given.</p>', 404);
      return undefined;
    }
    return sessions.refresh(s).catch(() => s);
  };

  const done = (req: FastifyRequest, reply: FastifyReply, s: Loaded) => {
    if (s.status === 'succeeded') {
      if (s.successUrl) return reply.redirect(withSession(s.successUrl, s.id), 303);
      return result(req, reply, s.kind === 'charge' ? 'Payment successful' : 'Card saved', summary(s));
    }
    if (s.status === 'expired') return result(req, reply, 'This payment session has expired', '<p>Ask the merchant for a new link.</p>', 410);
    if (s.status === 'canceled') return result(req, reply, 'This payment session was canceled', '<p>Ask the merchant for a new link.</p>', 410);
    if (s.status === 'failed') return result(req, reply, 'The payment failed', '<p>No money was taken. Ask the merchant for a new link.</p>', 402);
    return undefined;
  };

  app.get<{ Params: { id: string } }>('/s/:id', async (req, reply) => {
    const s = await find(req.params.id, req, reply);
    if (!s) return reply;
    // An embedded session has no Checkout page of its own: the merchant's page mounts it with Stripe.js.
    if (!s.checkoutUrl) return done(req, reply, s) ?? result(req, reply, 'Pay on the merchant’s page', '<p>This payment is completed on the page of the shop that started it.</p>', 409);
    return done(req, reply, s) ?? reply.redirect(s.checkoutUrl, 303);
  });

  app.get<{ Params: { id: string } }>('/s/:id/return', async (req, reply) => {
    const s = await find(req.params.id, req, reply);
    if (!s) return reply;
    return done(req, reply, s) ?? result(req, reply, 'Payment processing', '<p>Your payment is being processed. You can close this window.</p>', 202);
  });

  app.get<{ Params: { id: string } }>('/s/:id/cancelled', async (req, reply) => {
    const s = await find(req.params.id, req, reply);
    if (!s) return reply;
    if (s.cancelUrl) return reply.redirect(withSession(s.cancelUrl, s.id), 303);
    return result(req, reply, 'Payment not completed', `<p>No payment was made. <a href="/s/${escapeHtml(s.id)}">Return to the payment page</a>.</p>`, 200, 'bad');
  });
}
