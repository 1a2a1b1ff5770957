/**
 * Conformance with Stripe's OpenAPI spec of 2023-08-16 (the bundled
 * ../shared/reference copy): every object kind the sandbox serves, created
 * through a client pinned to 2023-08-16, validates against the spec's
 * schema for it — required fields, types, nullability, enums, and
 * expandable fields as an id or the object — with the spec's own schemas
 * (converted to JSON Schema by `npm run gen:spec`) compiled by Ajv.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { before, it } from 'node:test';
import { Ajv, type ValidateFunction } from 'ajv';
import Stripe from 'stripe';
import { harnessPerFile, type Harness } from '../helpers.js';
import { objectsOfEveryKind } from './flows.js';

/** Compiled from the spec by `npm run gen:spec` (the spec itself lives outside the repository). */
const SCHEMAS = JSON.parse(readFileSync(new URL('../fixtures/stripe-openapi-2023-08-16-schemas.json', import.meta.url), 'utf8')) as { served: string[]; $defs: Record<string, unknown> };
const VERSION = '2023-08-16';

let h: Harness;
harnessPerFile((x) => (h = x));
let validators: (kind: string) => ValidateFunction;

before(() => {
  const ajv = new Ajv({ strict: false, allErrors: true });
  ajv.addSchema({ $id: 'stripe', $defs: SCHEMAS.$defs });
  const cache = new Map<string, ValidateFunction>();
  validators = (kind) => {
    let v = cache.get(kind);
    if (!v) cache.set(kind, (v = ajv.compile({ $ref: `stripe#/$defs/${kind}` })));
    return v;
  };
});

/**
 * The JSON as the sandbox sent it, by object id: today's SDK turns decimal
 * strings into Decimal values, so its objects are not the wire format.
 */
const wire = new Map<string, unknown>();
function remember(value: unknown): void {
  if (Array.isArray(value)) value.forEach(remember);
  else if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    if (typeof o.id === 'string' && typeof o.object === 'string' && o.object !== 'list') wire.set(`${o.object}:${o.id}`, o);
    if (o.object === 'balance') wire.set('balance', o);
    Object.values(o).forEach(remember);
  }
}
const recordingFetch: typeof fetch = async (input, init) => {
  const res = await fetch(input, init);
  remember(await res.clone().json().catch(() => undefined));
  return res;
};
const onTheWire = (obj: unknown): unknown => {
  const o = obj as { id?: string; object?: string };
  return wire.get(o.object === 'balance' ? 'balance' : `${o.object}:${o.id}`) ?? obj;
};

it(`answers every object kind it serves in the shape of Stripe’s ${VERSION} spec`, async () => {
  const stripe = new Stripe('sk_test_openapi_conformance', { apiVersion: VERSION as Stripe.LatestApiVersion, host: '127.0.0.1', port: h.sandbox.port, protocol: 'http', maxNetworkRetries: 0, httpClient: Stripe.createFetchHttpClient(recordingFetch) });
  await fetch(`${h.sandbox.url}/_sandbox/api_version`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ api_version: VERSION }) });
  const objects = await objectsOfEveryKind(stripe, VERSION);
  const failures: string[] = [];
  const kinds = new Set<string>();
  for (const [kind, sdkObject] of objects) {
    kinds.add(kind);
    const obj = onTheWire(sdkObject);
    assert.ok(obj, `no ${kind} to check`);
    const validate = validators(kind);
    if (!validate(obj)) {
      const seen = new Set<string>();
      for (const e of validate.errors ?? []) {
        const line = `${kind}${e.instancePath} ${e.message}${e.params && 'missingProperty' in e.params ? `: ${e.params.missingProperty}` : e.params && 'allowedValues' in e.params ? `: ${JSON.stringify(e.params.allowedValues)}` : ''}`;
        if (!seen.has(line) && !/must match a schema in anyOf|must be null|must be string$/.test(line)) failures.push(line);
        seen.add(line);
      }
      if (!failures.some((f) => f.startsWith(kind))) failures.push(`${kind}: ${JSON.stringify(validate.errors?.slice(0, 3))}`);
    }
  }
  assert.deepEqual(SCHEMAS.served.filter((k) => !kinds.has(k)), [], 'every served kind is checked');
  assert.deepEqual(failures, []);
});
