/** OTEL_EXPORTER_OTLP_ENDPOINT: proxied calls arrive at a collector as OTLP/HTTP JSON spans in the caller's trace. */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, it } from 'node:test';
import { startGatewayHarness, type GatewayHarness } from './harness.js';

const received: any[] = [];
const collector = createServer((req, res) => {
  let body = '';
  req.on('data', (c) => (body += c));
  req.on('end', () => {
    received.push({ path: req.url, body: JSON.parse(body) });
    res.end('{}');
  });
});
let h: GatewayHarness;
before(async () => {
  await new Promise<void>((r) => collector.listen(0, '127.0.0.1', r));
  h = await startGatewayHarness({ env: { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${(collector.address() as AddressInfo).port}` } });
});
after(async () => {
  await h?.close();
  collector.close();
});

it('exports a span per call to Stripe, joined to the caller’s traceparent', async () => {
  const conn = (await h.api('POST', '/v1/connections', { secret_key: 'sk_test_traced' })).json;
  const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
  const res = await fetch(`${h.gw.url}/proxy/${conn.id}/v1/customers`, {
    method: 'POST', headers: { authorization: `Bearer ${h.key}`, traceparent: `00-${traceId}-00f067aa0ba902b7-01` }, body: 'email=t%40example.com',
  });
  assert.equal(res.status, 200);
  await h.gw.services.rt.tracer.flush();
  const spans = received.filter((r) => r.path === '/v1/traces').flatMap((r) => r.body.resourceSpans[0].scopeSpans[0].spans);
  const span = spans.find((s) => s.name === 'stripe POST /v1/customers');
  assert.ok(span, JSON.stringify(spans.map((s) => s.name)));
  assert.equal(span.traceId, traceId);
  assert.equal(span.parentSpanId, '00f067aa0ba902b7');
  const attrs = Object.fromEntries(span.attributes.map((a: { key: string; value: Record<string, string> }) => [a.key, Object.values(a.value)[0]]));
  assert.equal(attrs['http.response.status_code'], '200');
  assert.equal(attrs['paybridge.connection'], conn.id);
  assert.match(attrs['stripe.request_id'], /^req_/);
  assert.equal(JSON.stringify(received).includes('sk_test_traced'), false);
});
