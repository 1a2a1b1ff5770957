/**
 * The payer-facing pages of payment sessions: `/s/:id` sends the payer to
 * Stripe Checkout, and Checkout sends them back to `/s/:id/return` or
 * `/s/:id/cancelled`, which go on to the app's URLs or show a result page.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { escapeHtml } from '../stripe/html.js';
import { hostedPage } from './look.js';
import { formatAmount } from '../stripe/money.js';
import type { PaymentSessions } from './sessions.js';

type Loaded = NonNullable<Awaited<ReturnType<PaymentSessions['load']>>>;

function withSession(url: string, id: string): string {
  const u = new URL(url);
  u.searchParams.set('session_id', id);
  return u.toString();
}

function result(reply: FastifyReply, title: string, body: string, status = 200, icon: 'ok' | 'bad' | 'wait' = status === 200 ? 'ok' : status === 202 ? 'wait' : 'bad'): FastifyReply {
  return reply.code(status).type('text/html').send(hostedPage(title, body, icon));
}

function summary(s: Loaded): string {
  const processor = (s.processor ?? {}) as Record<string, string | null>;
  const card = processor.card_brand ? `<div class="line"><span>Card</span><span>${escapeHtml(processor.card_brand.charAt(0).toUpperCase() + processor.card_brand.slice(1))} •••• ${escapeHtml(processor.card_last4)}</span></div>` : '';
  const amount = s.kind === 'charge' && s.amount ? `<div class="line total"><span>Paid</span><span>${escapeHtml(formatAmount(s.amount, s.currency ?? 'usd'))}</span></div>` : '';
  return `${card}${amount}<p class="muted small" style="margin-top:14px">Reference ${escapeHtml(s.id)}. You can close this window.</p>`;
}

export function registerSessionPages(app: FastifyInstance, sessions: PaymentSessions): void {
  const find = async (id: string, reply: FastifyReply) => {
    const s = await sessions.load(id);
    if (!s) {
      result(reply, 'Payment link not found', '<p>Check the link you were given.</p>', 404);
      return undefined;
    }
    return sessions.refresh(s).catch(() => s);
  };

  const done = (reply: FastifyReply, s: Loaded) => {
    if (s.status === 'succeeded') {
      if (s.successUrl) return reply.redirect(withSession(s.successUrl, s.id), 303);
      return result(reply, s.kind === 'charge' ? 'Payment successful' : 'Card saved', summary(s));
    }
    if (s.status === 'expired') return result(reply, 'This payment session has expired', '<p>Ask the merchant for a new link.</p>', 410);
    if (s.status === 'canceled') return result(reply, 'This payment session was canceled', '<p>Ask the merchant for a new link.</p>', 410);
    if (s.status === 'failed') return result(reply, 'The payment failed', '<p>No money was taken. Ask the merchant for a new link.</p>', 402);
    return undefined;
  };

  app.get<{ Params: { id: string } }>('/s/:id', async (req, reply) => {
    const s = await find(req.params.id, reply);
    if (!s) return reply;
    return done(reply, s) ?? reply.redirect(s.checkoutUrl!, 303);
  });

  app.get<{ Params: { id: string } }>('/s/:id/return', async (req, reply) => {
    const s = await find(req.params.id, reply);
    if (!s) return reply;
    return done(reply, s) ?? result(reply, 'Payment processing', '<p>Your payment is being processed. You can close this window.</p>', 202);
  });

  app.get<{ Params: { id: string } }>('/s/:id/cancelled', async (req, reply) => {
    const s = await find(req.params.id, reply);
    if (!s) return reply;
    if (s.cancelUrl) return reply.redirect(withSession(s.cancelUrl, s.id), 303);
    return result(reply, 'Payment not completed', `<p>No payment was made. <a href="/s/${escapeHtml(s.id)}">Return to the payment page</a>.</p>`, 200, 'bad');
  });
}
