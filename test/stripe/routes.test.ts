/**
 * The gateway knows Stripe's routes from src/stripe/routes.json, generated from
 * the sandbox's resource table: the two must not drift apart, and the gateway
 * must not load the sandbox to use it.
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import { routeTable } from '../../src/sandbox/route-table.js';
import { permissionFor, routeSchema } from '../../src/stripe/routes.js';

it('matches the sandbox’s routes (run npm run gen:routes after changing them)', () => {
  const stored = JSON.parse(readFileSync(new URL('../../src/stripe/routes.json', import.meta.url), 'utf8'));
  assert.deepEqual(stored, JSON.parse(JSON.stringify(routeTable())));
});

it('answers the permission a path needs, literal segments first', () => {
  assert.deepEqual(permissionFor('GET', '/v1/customers/cus_1'), { permission: 'customers', level: 'read' });
  assert.deepEqual(permissionFor('GET', '/v1/customers/search'), { permission: 'customers', level: 'read' });
  assert.deepEqual(permissionFor('POST', '/v1/payment_intents/pi_1/confirm'), { permission: 'payment_intents', level: 'write' });
  assert.equal(permissionFor('GET', '/v1/nothing_here'), undefined);
  assert.ok(routeSchema('POST', '/v1/customers')?.schema.p?.email);
});

it('keeps the gateway, the MCP server and the shared module free of sandbox imports', () => {
  const offenders: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (/\.(ts|mjs)$/.test(entry.name)) {
        for (const m of readFileSync(path, 'utf8').matchAll(/^import (?!type ).*from '([^']*sandbox[^']*)'/gm)) offenders.push(`${path}: ${m[1]}`);
      }
    }
  };
  for (const dir of ['gateway', 'mcp', 'stripe', 'net', 'store']) walk(new URL(`../../src/${dir}`, import.meta.url).pathname);
  // The embedded sandbox is started in a worker thread by file path (sandbox-worker.mjs), its options imported as a type only.
  assert.deepEqual(offenders.filter((o) => !o.includes('sandbox-thread.js') && !o.includes('sandbox-worker')), []);
});
