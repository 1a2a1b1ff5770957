/**
 * The sandbox's HTTP host: Fastify, with Stripe's form encoding, every
 * declared route wired to the one pipeline, and Stripe-shaped errors for
 * everything that goes wrong, including unknown routes and broken bodies.
 */
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { apiError, invalidRequest, StripeError } from '../stripe/errors.js';
import type { SandboxEnv } from './engine/context.js';
import { Expander } from './engine/expand.js';
import { newId } from '../stripe/ids.js';
import { Faults } from './faults.js';
import { Pace, type PaceConfig } from './pace.js';
import { parseForm } from './params/form.js';
import { registerPages } from './pages/index.js';
import { schemaFor } from './schemas.js';
import { registerWebhookAdmin } from './webhooks/admin.js';
import { registerOAuth } from './connect/oauth.js';
import { registerOnboarding } from './connect/onboarding.js';
import { registerStripeJs } from './stripejs/index.js';
import { DEFAULT_ACCOUNT, runOperation, type PipelineDeps } from './pipeline.js';
import { registerRestrictedKeys } from './restricted_keys.js';
import { COLLECTION_OF_PREFIX, RESOURCES, VIRTUAL_EXPANSIONS } from './resources/index.js';
import type { Store } from './store/store.js';

const BODY_LIMIT = 1024 * 1024;

export interface SandboxServerOptions {
  store: Store;
  env: SandboxEnv;
  logger?: boolean;
  onCommit?: (account: string, deliveries: string[]) => void;
  /** Stripe's pace: latency, a rate limit per account, injected errors (all off by default); changeable at run time. */
  pace?: Partial<PaceConfig>;
  onParamsRead?: PipelineDeps['onParamsRead'];
}

/** Stripe's answer to a route it does not have. */
export const unrecognizedUrl = (method: string, url: string) =>
  invalidRequest(`Unrecognized request URL (${method}: ${url.split('?')[0]}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.`, {}, 404);

/**
 * Stripe App permission names (`customer_read`, `checkout_session_write`)
 * → the sandbox's resource permissions (`customers`, `checkout_sessions`).
 */
function appPermissionNames(): Map<string, string> {
  const names = new Map<string, string>(RESOURCES.map((r) => [r.object.replace(/^test_helpers\./, '').replace(/\./g, '_'), r.permission]));
  for (const [alias, resource] of Object.entries({ plan: 'prices', webhook: 'webhook_endpoints', balance_transaction_source: 'balance_transactions', connected_account: 'accounts' })) names.set(alias, resource);
  return names;
}

function sendError(reply: FastifyReply, error: StripeError, requestId = newId('req', 14)): FastifyReply {
  return reply.code(error.status).header('request-id', requestId).type('application/json').send(JSON.stringify(error.toJSON()));
}

export function buildSandboxServer(options: SandboxServerOptions): FastifyInstance {
  const app = Fastify({
    logger: options.logger ? { level: 'info', redact: ['req.headers.authorization'] } : false,
    bodyLimit: BODY_LIMIT,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 500 },
  });
  const deps: PipelineDeps = {
    store: options.store,
    env: options.env,
    expander: new Expander(COLLECTION_OF_PREFIX, VIRTUAL_EXPANSIONS),
    onCommit: options.onCommit,
    onParamsRead: options.onParamsRead,
    pace: new Pace(options.pace),
  };
  deps.log = app.log;
  const pace = deps.pace!;

  app.removeAllContentTypeParsers();
  // Stripe's API takes form-encoded bodies; JSON is accepted too, and anything else is read as a form.
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    if (!body) return done(null, {});
    try {
      const parsed = JSON.parse(body as string);
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
      done(null, parsed);
    } catch {
      done(invalidRequest('Invalid JSON body: the request body must be a JSON object or form-encoded parameters.'), undefined);
    }
  });
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => {
    done(null, parseForm(body as string));
  });

  const faults = new Faults();
  faults.register(app);
  app.get('/_sandbox/config', async () => ({ object: 'sandbox.config', ...pace.current }));
  app.post<{ Body: Record<string, unknown> }>('/_sandbox/config', async (req) => ({ object: 'sandbox.config', ...pace.set(req.body ?? {}) }));
  // Stripe.js (and the API's CORS, answered before faults or pace see a preflight).
  registerStripeJs(app);
  app.addHook('onRequest', async (req, reply) => {
    const fault = faults.check(req);
    if (fault) return sendError(reply.headers(fault.fields.headers ?? {}), fault);
    const q = req.url.indexOf('?');
    (req as FastifyRequest & { formQuery?: unknown }).formQuery = q === -1 ? {} : parseForm(req.url.slice(q + 1));
  });

  for (const resource of RESOURCES) {
    for (const op of resource.operations) {
      const schema = schemaFor(op);
      const url = op.path.replace(/\{(\w+)\}/g, ':$1');
      app.route({
        method: op.method,
        url,
        handler: async (req, reply) => {
          const query = (req as FastifyRequest & { formQuery?: Record<string, unknown> }).formQuery ?? {};
          const body = (req.body ?? {}) as Record<string, unknown>;
          const input = op.method === 'POST' ? { ...query, ...body } : query;
          const wait = pace.delay();
          if (wait) await new Promise((r) => setTimeout(r, wait));
          const answer = runOperation(deps, op, schema, { method: op.method, headers: req.headers, params: req.params as Record<string, string>, input });
          return reply.code(answer.status).headers(answer.headers).type('application/json').send(answer.body);
        },
      });
    }
  }

  registerPages(app, deps);
  registerWebhookAdmin(app, deps);
  registerOAuth(app, deps, appPermissionNames());
  registerOnboarding(app, deps);
  registerRestrictedKeys(app, options.store, new Set(RESOURCES.flatMap((r) => r.operations.map((op) => op.permission))), DEFAULT_ACCOUNT);

  app.setNotFoundHandler((req, reply) => sendError(reply, unrecognizedUrl(req.method, req.url)));

  app.setErrorHandler((err: Error & { statusCode?: number; code?: string; requestId?: string }, req, reply) => {
    if (err instanceof StripeError) return sendError(reply, err);
    const status = err.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      const message = err.code === 'FST_ERR_CTP_BODY_TOO_LARGE' ? `Request body is too large: the limit is ${BODY_LIMIT} bytes.` : `Invalid request: ${err.message}`;
      return sendError(reply, invalidRequest(message, {}, status === 413 ? 413 : 400));
    }
    req.log.error({ err, url: req.url }, 'sandbox fault');
    if (!options.logger) console.error('[sandbox] internal error on', req.method, req.url.split('?')[0], err);
    return sendError(reply, apiError(`An unknown error occurred (request ${err.requestId ?? 'unknown'})`), err.requestId);
  });

  return app;
}
