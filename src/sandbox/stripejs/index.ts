/**
 * Stripe.js for the sandbox: `GET /v3/` serves a `window.Stripe` that talks
 * to this sandbox (a page changes only its script's origin, or a test routes
 * js.stripe.com here), the frames its Elements live in, and the page that
 * ends a 3-D Secure challenge in its modal. Stripe.js calls the API from the
 * merchant's page, so `/v1` answers CORS as Stripe's API does.
 */
import { readFileSync } from 'node:fs';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

const read = (name: string) => readFileSync(new URL(name, import.meta.url), 'utf8');
const SCRIPT = read('./stripe-v3.js');
const FRAME_SCRIPT = read('./frame.js');

/** The Element frame: its styles (the appearance's variables), its inputs built by frame.js. */
const FRAME = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>Secure payment input</title><style>
html,body{margin:0;padding:0;background:transparent;font-family:var(--font);color:var(--text);font-size:var(--size,15px)}
#root{padding:2px}.row{display:flex;gap:8px;align-items:center;border:1px solid var(--border);border-radius:var(--radius);background:var(--bg);padding:8px 10px}
.row .field{flex:1}.row .f-number{flex:3}.row input{border:0;padding:2px 0}
.grid{display:grid;grid-template-columns:1fr 1fr;gap:calc(var(--space) * 3)}.grid .f-number,.grid .f-name,.grid .f-line1,.grid .f-email{grid-column:1 / -1}
.label{display:block;font-size:14px;margin-bottom:4px}
input{width:100%;box-sizing:border-box;font:inherit;color:var(--text);background:var(--bg);outline:none}
.grid input{border:1px solid var(--border);border-radius:var(--radius);padding:10px 12px}
.grid input:focus,.focused .row{border-color:var(--primary);box-shadow:0 0 0 3px color-mix(in srgb,var(--primary) 25%,transparent)}
.invalid .row,.invalid .grid input{border-color:var(--danger)}.error{color:var(--danger);font-size:13px;min-height:0;margin-top:4px}.error:empty{display:none}
.tab{display:inline-block;border:1px solid var(--primary);color:var(--primary);border-radius:var(--radius);padding:6px 12px;font-size:13px;font-weight:600;margin-bottom:10px}
</style></head><body><div id="root"></div><script>${FRAME_SCRIPT}</script></body></html>`;

/** Where the 3-D Secure page returns inside Stripe.js's modal: it tells the page the challenge was answered. */
const AUTHENTICATION_COMPLETE = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Authentication complete</title></head><body>
<p style="font-family:sans-serif">Authentication complete.</p><script>parent.postMessage({ __pbjs3ds: true }, '*');</script></body></html>`;

export function registerStripeJs(app: FastifyInstance): void {
  // The script calls the sandbox by the origin it was asked for (the Host it was fetched from), and says which
  // release it is: `3` at /v3/, the release train's name at /<train>/stripe.js (where @stripe/stripe-js loads it).
  const serve = (req: FastifyRequest, reply: FastifyReply, version: string) => {
    const host = String(req.headers.host ?? '');
    if (!/^[\w.-]+(:\d+)?$|^\[[\da-f:.]+\](:\d+)?$/i.test(host)) return reply.code(400).type('text/plain').send('Bad Host header.');
    return reply.type('text/javascript; charset=utf-8').header('cache-control', 'no-cache').header('access-control-allow-origin', '*')
      .send(SCRIPT.replace('__PAYBRIDGE_ORIGIN__', `${req.protocol}://${host}`).replace("'__PAYBRIDGE_VERSION__'", version));
  };
  app.get('/v3', (req, reply) => serve(req, reply, '3'));
  app.get('/v3/stripe.js', (req, reply) => serve(req, reply, '3'));
  app.get<{ Params: { train: string } }>('/:train/stripe.js', (req, reply) => {
    if (!/^[a-z]{3,20}$/.test(req.params.train)) return reply.code(404).type('text/plain').send('No such release of Stripe.js.');
    return serve(req, reply, JSON.stringify(req.params.train));
  });
  app.get('/v3/elements/frame', async (_req, reply) => reply.type('text/html; charset=utf-8').header('cache-control', 'public, max-age=300').send(FRAME));
  app.get('/v3/authentication-complete', async (_req, reply) => reply.type('text/html; charset=utf-8').send(AUTHENTICATION_COMPLETE));

  // CORS for the API, as Stripe's: any page may call it with a key (there are no cookies to send).
  app.addHook('onRequest', async (req, reply) => {
    if (!req.url.startsWith('/v1/') || !req.headers.origin) return;
    reply.header('access-control-allow-origin', '*').header('access-control-expose-headers', 'request-id, stripe-version');
    if (req.method === 'OPTIONS') {
      return reply.code(204).header('access-control-allow-methods', 'GET, POST, DELETE').header('access-control-allow-headers', 'authorization, content-type, stripe-account, stripe-version, idempotency-key')
        .header('access-control-max-age', '600').send();
    }
  });
}
