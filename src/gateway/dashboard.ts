/**
 * The dashboard: its sign-in and app-admin routes, the connect result page,
 * and the React app's production build, served at `/`. `paybridge start`
 * rebuilds web/dist first when the sources under web/ changed, so `npm start`
 * needs no separate build step.
 */
import { fileURLToPath } from 'node:url';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, relative } from 'node:path';
import { asc } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { invalidRequest, StripeError } from '../stripe/errors.js';
import { escapeHtml } from '../stripe/html.js';
import { apps as appsTable } from '../store/schema.js';
import type { Services } from './server.js';
import { hostedPage, sendPage } from './look.js';

export const WEB_DIR = new URL('../../web/', import.meta.url).pathname;
const DIST = join(WEB_DIR, 'dist');
const STAMP = '.source-hash';

/** A hash of everything the build reads from web/ (contents, not mtimes: a fresh clone has new mtimes). */
function sourceHash(): string {
  const hash = createHash('sha256');
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else hash.update(relative(WEB_DIR, path)).update(readFileSync(path));
    }
  };
  walk(join(WEB_DIR, 'src'));
  for (const file of ['index.html', 'vite.config.ts']) hash.update(file).update(readFileSync(join(WEB_DIR, file)));
  return hash.digest('hex');
}

/** Builds the dashboard unless web/dist already holds a build of these sources. Answers whether it built. */
export async function ensureDashboardBuilt(log: (line: string) => void = () => undefined): Promise<boolean> {
  const wanted = sourceHash();
  const current = () => (existsSync(join(DIST, STAMP)) ? readFileSync(join(DIST, STAMP), 'utf8') : '');
  if (current() === wanted) return false;
  log('Building the dashboard (web/ changed since the last build)…');
  const { build } = await import('vite');
  // Built aside and moved into place, so gateways starting together never serve a half-written build.
  const staging = join(WEB_DIR, `.dist-${process.pid}-${Date.now()}`);
  await build({ configFile: join(WEB_DIR, 'vite.config.ts'), logLevel: 'warn', build: { outDir: staging, emptyOutDir: true } });
  writeFileSync(join(staging, STAMP), wanted);
  if (current() === wanted) {
    rmSync(staging, { recursive: true, force: true });
    return true;
  }
  const old = `${staging}-old`;
  if (existsSync(DIST)) renameSync(DIST, old);
  renameSync(staging, DIST);
  rmSync(old, { recursive: true, force: true });
  return true;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml', '.png': 'image/png', '.ico': 'image/x-icon', '.json': 'application/json', '.woff2': 'font/woff2',
};

export function registerDashboard(app: FastifyInstance, s: Services): void {
  const index = async () => readFile(join(DIST, 'index.html')).catch(() => undefined);
  app.get('/', async (_req, reply) => {
    const html = await index();
    if (html) return reply.type(TYPES['.html']).header('cache-control', 'no-cache').header('x-frame-options', 'DENY').send(html);
    return reply.type(TYPES['.html']).send(hostedPage('The dashboard is not built', '<p>Run <code>npx paybridge start</code> (it builds the dashboard), or <code>npx vite build web</code>.</p>', 'wait'));
  });
  app.get<{ Params: { '*': string } }>('/assets/*', async (req, reply) => {
    const path = normalize(join(DIST, 'assets', req.params['*']));
    if (!path.startsWith(join(DIST, 'assets'))) throw invalidRequest('Not found.', {}, 404);
    const body = await readFile(path).catch(() => undefined);
    if (!body) throw invalidRequest(`Unrecognized request URL (GET: ${req.url}).`, {}, 404);
    // File names carry a content hash, so they never change.
    return reply.type(TYPES[extname(path)] ?? 'application/octet-stream').header('cache-control', 'public, max-age=31536000, immutable').send(body);
  });

  // Where a connect session without a return_url ends: the person sees what happened, in words.
  app.get<{ Querystring: Record<string, string> }>('/connected', async (req, reply) => {
    const q = req.query;
    if (q.error) {
      const why = q.error_description ?? (q.error === 'access_denied' ? 'The account owner declined to connect.' : q.error.replace(/_/g, ' '));
      return sendPage(req, reply, 400, 'Stripe was not connected', `<p>${escapeHtml(why)}</p><p>You can close this window and try again.</p>`, 'bad');
    }
    const body = q.connection ? `<div class="line"><span>Connection</span><span class="mono">${escapeHtml(q.connection)}</span></div><p class="muted small" style="margin-top:14px">You can close this window.</p>` : '<p>You can close this window.</p>';
    return reply.type(TYPES['.html']).send(hostedPage('Stripe account connected', body, 'ok'));
  });
  app.get<{ Querystring: Record<string, string> }>('/oauth/callback', async (req, reply) => {
    try {
      return reply.redirect(await s.oauth.callback(req.query), 302);
    } catch (e) {
      if (!(e instanceof StripeError) || e.status >= 500) throw e;
      return sendPage(req, reply, e.status, 'Stripe was not connected', `<p>${escapeHtml(e.message)}</p>`, 'bad');
    }
  });
}

/** This installation's command, for the MCP client configuration the dashboard hands out (signed-in admins only). */
const CLI_PATH = fileURLToPath(new URL('../../bin/paybridge.mjs', import.meta.url));

/** Sign-in and app administration, inside the JSON API scope. */
export function registerAdminRoutes(api: FastifyInstance, s: Services): void {
  api.post<{ Body: { password?: unknown } }>('/dashboard/api/session', async (req, reply) => s.admin.signIn(req, reply, req.body?.password));
  api.delete('/dashboard/api/session', async (req, reply) => s.admin.signOut(req, reply));
  api.get('/dashboard/api/session', async (req) => {
    const session = await s.admin.session(req, false).catch(() => undefined);
    return session
      ? { object: 'admin_session', signed_in: true, csrf_token: session.csrfToken, embedded_sandbox: !s.rt.config.stripeApiBase, public_url: s.rt.publicUrl, cli_path: CLI_PATH,
        oauth_modes: (['test', 'live'] as const).filter((m) => s.rt.platform[m].clientId && s.rt.platform[m].secretKey) }
      : { object: 'admin_session', signed_in: false };
  });
  api.get('/dashboard/api/apps', async (req) => {
    await s.admin.session(req);
    const rows = await s.rt.db.select().from(appsTable).orderBy(asc(appsTable.createdAt));
    const data = await Promise.all(rows.map(async (a) => ({ id: a.id, object: 'app', name: a.name, created: Math.floor(a.createdAt.getTime() / 1000), keys: await s.apps.listKeys(a.id) })));
    return { object: 'list', url: '/dashboard/api/apps', has_more: false, data };
  });
  // The consent page of an MCP client's OAuth authorization (mcp-oauth.ts): what it asks, and the admin's answer.
  api.get<{ Params: { id: string } }>('/dashboard/api/oauth/requests/:id', async (req) => {
    await s.admin.session(req);
    return s.mcpOAuth.request(req.params.id);
  });
  api.post<{ Params: { id: string }; Body: { approve?: unknown; connection?: unknown; permissions?: unknown } | undefined }>('/dashboard/api/oauth/requests/:id', async (req) => {
    const app = await s.admin.appKey(req);
    const approve = req.body?.approve === true || req.body?.approve === 'true';
    return s.mcpOAuth.decide(req.params.id, app, { approve, connection: req.body?.connection, permissions: req.body?.permissions });
  });
  api.post<{ Body: { name?: unknown } }>('/dashboard/api/apps', async (req) => {
    await s.admin.session(req);
    const name = typeof req.body?.name === 'string' ? req.body.name.trim() : '';
    if (!name || name.length > 80) throw invalidRequest('Give the app a name (up to 80 characters).', { param: 'name', code: 'parameter_missing' });
    const created = await s.apps.create(name);
    return { id: created.app.id, object: 'app', name, secrets: created.keys, keys: await s.apps.listKeys(created.app.id) };
  });
}
