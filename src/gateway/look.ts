/**
 * The gateway's hosted pages (payment session results, the connect result)
 * in the dashboard's look: the same stylesheet, read from web/src/theme.css.
 */
import { readFileSync } from 'node:fs';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { StripeError } from '../stripe/errors.js';
import { escapeHtml } from '../stripe/html.js';

const THEME = readFileSync(new URL('../../web/src/theme.css', import.meta.url), 'utf8');

export const BRAND_MARK = '<span class="brand-mark"><svg viewBox="0 0 24 24" fill="none"><path d="M4 16c3.5-7 12.5-7 16 0" stroke="white" stroke-width="2.6" stroke-linecap="round"/><circle cx="4" cy="16" r="2" fill="white"/><circle cx="20" cy="16" r="2" fill="white"/></svg></span>';

const ICONS = { ok: ['', '✓'], bad: [' bad', '!'], wait: [' wait', '…'] } as const;

export function hostedPage(title: string, body: string, icon?: keyof typeof ICONS): string {
  const mark = icon ? `<div class="result-icon${ICONS[icon][0]}" aria-hidden="true">${ICONS[icon][1]}</div>` : '';
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${escapeHtml(title)} · PayBridge</title><style>${THEME}</style></head>`
    + `<body><div class="center"><main class="panel"><div class="brand">${BRAND_MARK}PayBridge</div>${mark}<h1>${escapeHtml(title)}</h1>${body}`
    + '<div class="foot">Payments processed by Stripe, connected through PayBridge.</div></main></div></body></html>';
}

/**
 * Answers a page meant for a person. A failure is a page to a browser (which asks for text/html) and Stripe's
 * JSON error to anything else: a script or SDK that follows a link gets an error it can read.
 */
export function sendPage(req: FastifyRequest, reply: FastifyReply, status: number, title: string, body: string, icon?: keyof typeof ICONS): FastifyReply {
  if (status >= 400 && !/text\/html/.test(String(req.headers.accept ?? ''))) {
    const text = body.replace(/<[^>]+>/g, ' ').replace(/&amp;/g, '&').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/\s+/g, ' ').trim();
    const error = new StripeError(status, 'invalid_request_error', `${title}: ${text}`);
    return reply.code(status).type('application/json').send(JSON.stringify(error.toJSON()));
  }
  return reply.code(status).type('text/html; charset=utf-8').send(hostedPage(title, body, icon));
}
