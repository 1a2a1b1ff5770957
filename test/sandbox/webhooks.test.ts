import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Stripe from 'stripe';
import { harnessPerFile, startHarness, type Harness } from '../helpers.js';

interface Received {
  body: string;
  signature: string;
  event: Stripe.Event;
  at: number;
}

/** A local webhook receiver; `answer` decides the status code of each delivery. */
async function receiver(answer: (event: Stripe.Event, seen: number) => number = () => 200) {
  const received: Received[] = [];
  const waiters: (() => void)[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const event = JSON.parse(body) as Stripe.Event;
      received.push({ body, signature: String(req.headers['stripe-signature']), event, at: Date.now() });
      const seen = received.filter((r) => r.event.id === event.id).length;
      res.writeHead(answer(event, seen)).end('ok');
      for (const w of waiters.splice(0)) w();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhook`;
  /** Resolves once `predicate` holds for what was received. */
  const until = async (predicate: (r: Received[]) => boolean, timeoutMs = 8000) => {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(received)) {
      if (Date.now() > deadline) throw new Error(`timed out; received ${received.map((r) => r.event.type).join(', ')}`);
      await new Promise<void>((r) => {
        waiters.push(r);
        setTimeout(r, 50);
      });
    }
  };
  const close = () => new Promise<void>((r) => {
    server.close(() => r());
    server.closeAllConnections();
  });
  return { received, url, until, close };
}

let h: Harness;
let stripe: Stripe;
harnessPerFile((x) => {
  h = x;
  stripe = x.stripe;
}, { webhooks: { retryBaseMs: 100 } });

describe('webhook endpoints', () => {
  it('returns the signing secret only on create', async () => {
    const endpoint = await stripe.webhookEndpoints.create({ url: 'https://example.com/hook', enabled_events: ['customer.created'] });
    assert.match(endpoint.id, /^we_/);
    assert.match(endpoint.secret!, /^whsec_/);
    assert.equal(endpoint.status, 'enabled');
    const again = await stripe.webhookEndpoints.retrieve(endpoint.id);
    assert.equal(again.secret, undefined);
    const disabled = await stripe.webhookEndpoints.update(endpoint.id, { disabled: true });
    assert.equal(disabled.status, 'disabled');
    const bad = await h.http('POST', '/v1/webhook_endpoints', { body: 'url=https://example.com&enabled_events[]=customer.nope' });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.error.param, 'enabled_events[0]');
    await stripe.webhookEndpoints.del(endpoint.id);
  });

  it('delivers matching events signed for constructEvent, and only those', async () => {
    const r = await receiver();
    const endpoint = await stripe.webhookEndpoints.create({ url: r.url, enabled_events: ['customer.created', 'payment_intent.created', 'payment_intent.succeeded'] });
    try {
      const customer = await stripe.customers.create({ email: 'hooks@example.com' });
      await stripe.products.create({ name: 'not subscribed to' });
      const pi = await stripe.paymentIntents.create({ amount: 1000, currency: 'usd', payment_method: 'pm_card_visa', confirm: true });
      await r.until((got) => got.length >= 3);
      const types = r.received.map((x) => x.event.type).sort();
      assert.deepEqual(types, ['customer.created', 'payment_intent.created', 'payment_intent.succeeded']);
      for (const got of r.received) {
        const event = stripe.webhooks.constructEvent(got.body, got.signature, endpoint.secret!);
        assert.equal(event.id, got.event.id);
      }
      assert.throws(() => stripe.webhooks.constructEvent(r.received[0].body, r.received[0].signature, 'whsec_wrong'), /signature/i);
      const created = r.received.find((x) => x.event.type === 'customer.created')!.event;
      assert.equal((created.data.object as Stripe.Customer).id, customer.id);
      assert.equal(created.pending_webhooks, 1);
      assert.ok(r.received.some((x) => (x.event.data.object as Stripe.PaymentIntent).id === pi.id));
      await h.sandbox.webhooks.drained();
      assert.equal((await stripe.events.retrieve(created.id)).pending_webhooks, 0);
    } finally {
      await stripe.webhookEndpoints.del(endpoint.id);
      await r.close();
    }
  });

  it('retries with backoff after the receiver answers 500, keeping pending_webhooks until delivered', async () => {
    const r = await receiver((_e, seen) => (seen < 3 ? 500 : 200));
    const endpoint = await stripe.webhookEndpoints.create({ url: r.url, enabled_events: ['coupon.created'] });
    try {
      const coupon = await stripe.coupons.create({ percent_off: 5 });
      await r.until((got) => got.length >= 1);
      const event = r.received[0].event;
      assert.equal((await stripe.events.retrieve(event.id)).pending_webhooks, 1);
      await r.until((got) => got.length >= 3);
      const [first, second, third] = r.received;
      assert.ok(second.at - first.at >= 90, 'first retry waits the base delay');
      assert.ok(third.at - second.at >= 190, 'then twice as long');
      for (const got of r.received) assert.equal(stripe.webhooks.constructEvent(got.body, got.signature, endpoint.secret!).id, event.id);
      await h.sandbox.webhooks.drained();
      assert.equal((await stripe.events.retrieve(event.id)).pending_webhooks, 0);
      const log = await h.http('GET', `/_sandbox/webhook_deliveries?event=${event.id}`);
      assert.equal(log.json.data[0].status, 'succeeded');
      assert.equal(log.json.data[0].attempts, 3);
      assert.equal(log.json.data[0].last_status, 200);
      assert.equal((event.data.object as Stripe.Coupon).id, coupon.id);
    } finally {
      await stripe.webhookEndpoints.del(endpoint.id);
      await r.close();
    }
  });
});

describe('webhook delivery defaults and durability', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'paybridge-hooks-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('retries first within 10 seconds by default, and resumes pending deliveries after a restart', async () => {
    const first = await startHarness({ dataDir: dir });
    const down = await receiver(() => 503);
    const endpoint = await first.stripe.webhookEndpoints.create({ url: down.url, enabled_events: ['customer.created'] });
    const customer = await first.stripe.customers.create({ email: 'durable@example.com' });
    await down.until((got) => got.length >= 1);
    const url = down.url;
    await down.close();
    const log = await first.http('GET', '/_sandbox/webhook_deliveries');
    const delivery = log.json.data[0];
    assert.equal(delivery.last_status, 503);
    assert.ok(delivery.next_attempt_at - delivery.last_attempt_at <= 10_000, 'first retry within 10 s');
    await first.sandbox.close();

    // The receiver comes back on the same port; a new sandbox process picks the delivery up.
    const port = Number(new URL(url).port);
    const got: Stripe.Event[] = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        got.push(first.stripe.webhooks.constructEvent(body, String(req.headers['stripe-signature']), endpoint.secret!));
        res.end();
      });
    });
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
    const second = await startHarness({ dataDir: dir });
    try {
      const deadline = Date.now() + 5000;
      while (got.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      assert.equal(got.length, 1);
      assert.equal((got[0].data.object as Stripe.Customer).id, customer.id);
    } finally {
      await second.sandbox.close();
      await new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      });
    }
  });
});
