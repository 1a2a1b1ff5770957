/**
 * Payment sessions end to end in Chromium, against a gateway with the
 * defaults `npm start` uses (embedded PGlite and sandbox): charge, tokenize
 * then charge off-session, a decline, expiry, and a session on an OAuth connection.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { startGatewayHarness, type GatewayHarness } from '../gateway/harness.js';
import { launch, merchantSite, screenshot, skipReason } from './browser.js';

const skip = skipReason();
let h: GatewayHarness;
let browser: Browser;
let merchant: Awaited<ReturnType<typeof merchantSite>>;
let connection: string;

before(async () => {
  if (skip) return;
  h = await startGatewayHarness();
  browser = await launch();
  merchant = await merchantSite();
  connection = (await h.api('POST', '/v1/connections', { secret_key: 'sk_test_sessions_merchant' })).json.id;
});
after(async () => {
  await browser?.close();
  await merchant?.close();
  await h?.close();
});

async function pay(page: Page, card: string, button: 'Pay' | 'Save card') {
  const email = page.getByLabel('Email');
  if (!(await email.inputValue())) await email.fill('payer@example.com');
  await page.getByLabel('Card number').fill(card);
  await page.getByLabel('Expiration date').fill('12 / 34');
  await page.getByLabel('CVC').fill('123');
  await page.getByLabel('Cardholder name').fill('Jenny Rosen');
  await page.getByRole('button', { name: button }).click();
}

describe('payment sessions in Chromium', { skip }, () => {
  it('charges 4242 4242 4242 4242 and reads the processor details', async () => {
    const created = await h.api('POST', '/v1/sessions', {
      mode: 'charge', amount: 2500, currency: 'usd', customer_email: 'payer@example.com', description: 'Order #42',
      success_url: `${merchant.url}/thanks`, cancel_url: `${merchant.url}/cart`, metadata: { order: '42' },
    });
    assert.equal(created.status, 200, JSON.stringify(created.json));
    const session = created.json;
    assert.match(session.id, /^ses_/);
    assert.equal(session.status, 'open');
    assert.equal(session.url, `${h.gw.url}/s/${session.id}`);
    const page = await browser.newPage();
    await page.goto(session.url);
    assert.equal(await page.getByTestId('total').textContent(), '$25.00');
    await pay(page, '4242424242424242', 'Pay');
    await page.waitForURL(`${merchant.url}/thanks?session_id=${session.id}`);
    await screenshot(page, 'session-charge-success');
    const done = (await h.api('GET', `/v1/sessions/${session.id}`)).json;
    assert.equal(done.status, 'succeeded');
    assert.equal(done.processor.card_brand, 'visa');
    assert.equal(done.processor.card_last4, '4242');
    assert.match(done.processor.receipt_url, /\/_sandbox\/receipts\/ch_/);
    assert.match(done.processor.stripe_payment_intent_id, /^pi_/);
    assert.match(done.processor.stripe_charge_id, /^ch_/);
    assert.match(done.processor.payment_method_id, /^pm_/);
    const events = (await h.api('GET', '/v1/gateway_events?type=session.succeeded')).json;
    assert.ok(events.data.some((e: { data: { session: { id: string } } }) => e.data.session.id === session.id));
    await page.close();
  });

  it('tokenizes a card, then charges it off-session; a failing card’s decline comes through clearly', async () => {
    const page = await browser.newPage();
    const tokenize = async (card: string) => {
      const s = (await h.api('POST', '/v1/sessions', { mode: 'tokenize', customer_email: 'saver@example.com' })).json;
      await page.goto(s.url);
      await pay(page, card, 'Save card');
      await page.waitForURL(`${h.gw.url}/s/${s.id}/return`);
      return s.id as string;
    };
    const saved = await tokenize('5555555555554444');
    assert.match(await page.locator('h1').textContent() ?? '', /Card saved/);
    await screenshot(page, 'session-tokenize-result');
    const session = (await h.api('GET', `/v1/sessions/${saved}`)).json;
    assert.equal(session.processor.card_brand, 'mastercard');
    assert.match(session.processor.stripe_customer_id, /^cus_/);
    const charged = await h.api('POST', `/v1/sessions/${saved}/charge`, { amount: 1200, currency: 'usd' });
    assert.equal(charged.status, 200, JSON.stringify(charged.json));
    assert.equal(charged.json.status, 'succeeded');
    assert.match(charged.json.processor.stripe_charge_id, /^ch_/);
    assert.equal(charged.json.processor.card_last4, '4444');

    const failing = await tokenize('4000000000000341');
    const declined = await h.api('POST', `/v1/sessions/${failing}/charge`, { amount: 1200, currency: 'usd' });
    assert.equal(declined.status, 402);
    assert.equal(declined.json.error.type, 'card_error');
    assert.equal(declined.json.error.code, 'card_declined');
    assert.equal(declined.json.error.message, 'Your card was declined.');
    await page.close();
  });

  it('keeps a session open with the decline shown, and reports an expired one', async () => {
    const s = (await h.api('POST', '/v1/sessions', { mode: 'charge', amount: 900, currency: 'usd', success_url: `${merchant.url}/thanks` })).json;
    const page = await browser.newPage();
    await page.goto(s.url);
    await pay(page, '4000000000000002', 'Pay');
    await page.getByRole('alert').waitFor();
    assert.equal(await page.getByRole('alert').textContent(), 'Your card was declined.');
    await screenshot(page, 'session-declined');
    const open = (await h.api('GET', `/v1/sessions/${s.id}`)).json;
    assert.equal(open.status, 'open');
    // The payer may try again, so the session stays open, with the failed attempt told (issue 18: it was null).
    assert.equal(open.failure?.decline_code, 'generic_decline', JSON.stringify(open.failure));
    const timeline = (await h.api('GET', `/v1/sessions/${s.id}/timeline`)).json.data;
    const attempt = timeline.find((e: { kind: string }) => e.kind === 'attempt_failed');
    assert.ok(attempt, JSON.stringify(timeline));
    assert.equal(attempt.detail.decline_code, 'generic_decline');
    assert.equal(timeline[0].kind, 'created');
    const row = await h.gw.services.sessions.load(s.id);
    await h.sandbox.checkout.sessions.expire(row!.checkoutSessionId!);
    assert.equal((await h.api('GET', `/v1/sessions/${s.id}`)).json.status, 'expired');
    await page.goto(s.url);
    assert.match(await page.locator('h1').textContent() ?? '', /expired/);
    await page.close();
  });

  it('connects an account by OAuth in the browser and takes a payment on it', async () => {
    const connect = (await h.api('POST', '/v1/connect_sessions', { return_url: `${merchant.url}/connected` })).json;
    const page = await browser.newPage();
    await page.goto(connect.url);
    await screenshot(page, 'oauth-authorize');
    await page.getByRole('button', { name: 'Connect' }).click();
    await page.waitForURL(/\/connected\?/);
    const conn = new URL(page.url()).searchParams.get('connection')!;
    assert.match(conn, /^conn_/);
    const s = (await h.api('POST', '/v1/sessions', { mode: 'charge', amount: 4200, currency: 'usd', connection: conn, success_url: `${merchant.url}/thanks` })).json;
    await page.goto(s.url);
    await pay(page, '4242424242424242', 'Pay');
    await page.waitForURL(`${merchant.url}/thanks?session_id=${s.id}`);
    const done = (await h.api('GET', `/v1/sessions/${s.id}`)).json;
    assert.equal(done.status, 'succeeded');
    const account = (await h.api('GET', `/v1/connections/${conn}`)).json.account;
    const pi = await h.sandbox.paymentIntents.retrieve(done.processor.stripe_payment_intent_id, {}, { stripeAccount: account });
    assert.equal(pi.amount, 4200, 'the payment is on the connected account');
    await page.close();
  });
});

it('sends sessions that name no connection to the default one, which is explicit and settable (issue 18)', { skip }, async () => {
  const first = (await h.api('POST', '/v1/connections', { secret_key: 'sk_test_default_first' })).json.id;
  const newest = (await h.api('POST', '/v1/connections', { secret_key: 'sk_test_default_newest' })).json.id;
  const body = { mode: 'charge', amount: 700, currency: 'usd', success_url: `${merchant.url}/thanks` };
  assert.equal((await h.api('POST', '/v1/sessions', body)).json.connection, newest, 'without a default, the newest');
  const set = await h.api('POST', `/v1/connections/${first}`, { default_for_sessions: true });
  assert.equal(set.json.default_for_sessions, true);
  assert.equal((await h.api('POST', '/v1/sessions', body)).json.connection, first);
  await h.api('POST', `/v1/connections/${newest}`, { default_for_sessions: true });
  assert.equal((await h.api('GET', `/v1/connections/${first}`)).json.default_for_sessions, false, 'one default per app and mode');
  const bad = await h.api('POST', `/v1/connections/${first}`, { default_for_sessions: 'maybe' });
  assert.equal(bad.status, 400);
  await h.api('POST', `/v1/connections/${newest}`, { default_for_sessions: false });
});

it('refuses new sessions once Stripe is disconnected, and keeps old ones readable', { skip }, async () => {
  const g = await startGatewayHarness();
  try {
    const none = await g.api('POST', '/v1/sessions', { mode: 'charge', amount: 100, currency: 'usd' });
    assert.equal(none.status, 400);
    assert.match(none.json.error.message, /Stripe is not connected for test mode/);
    const conn = (await g.api('POST', '/v1/connections', { secret_key: 'sk_test_disconnect' })).json;
    const first = await g.api('POST', '/v1/sessions', { mode: 'charge', amount: 100, currency: 'usd' }, undefined);
    const replay = await fetch(`${g.gw.url}/v1/sessions`, { method: 'POST', headers: { authorization: `Bearer ${g.key}`, 'content-type': 'application/json', 'idempotency-key': 'order-7' }, body: JSON.stringify({ mode: 'charge', amount: 300, currency: 'usd' }) }).then((r) => r.json());
    const replay2 = await fetch(`${g.gw.url}/v1/sessions`, { method: 'POST', headers: { authorization: `Bearer ${g.key}`, 'content-type': 'application/json', 'idempotency-key': 'order-7' }, body: JSON.stringify({ mode: 'charge', amount: 300, currency: 'usd' }) }).then((r) => r.json());
    assert.equal(replay.id, replay2.id, 'one session per idempotency key');
    // Stripe's checkout.session.completed reaches PayBridge's endpoint on the account; no read is needed to learn it.
    const paidRow = await g.gw.services.sessions.load(first.json.id);
    const paid = await fetch(`${g.gw.sandbox!.url}/_sandbox/checkout/${paidRow!.checkoutSessionId}/complete`, { method: 'POST', body: 'card_number=4242424242424242' }).then((r) => r.json());
    assert.equal(paid.kind, 'redirect');
    const deadline = Date.now() + 5000;
    while ((await g.gw.services.sessions.load(first.json.id))!.status !== 'succeeded' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.equal((await g.gw.services.sessions.load(first.json.id))!.status, 'succeeded', 'learned from the webhook');
    await g.api('DELETE', `/v1/connections/${conn.id}`);
    const after = await g.api('POST', '/v1/sessions', { mode: 'charge', amount: 100, currency: 'usd' });
    assert.equal(after.status, 400);
    assert.equal(after.json.error.code, 'stripe_not_connected');
    const old = await g.api('GET', `/v1/sessions/${first.json.id}`);
    assert.equal(old.status, 200);
    assert.equal(old.json.status, 'succeeded');
    assert.equal(old.json.processor.card_last4, '4242');
    const listed = await g.api('GET', '/v1/sessions?limit=5');
    assert.equal(listed.json.data.length, 2);
  } finally {
    await g.close();
  }
});

describe('an embedded payment session (issue 19)', { skip }, () => {
  it('gives the page a client secret and publishable key to mount Checkout with Stripe.js from the sandbox, and ends on success_url', async () => {
    const conn = (await h.api('POST', '/v1/connections', { secret_key: 'sk_test_embedded_shop', publishable_key: 'pk_test_embedded_shop' })).json;
    const created = await h.api('POST', '/v1/sessions', { mode: 'charge', amount: 4200, currency: 'usd', connection: conn.id, ui_mode: 'embedded', success_url: `${merchant.url}/thanks`, description: 'Embedded order' });
    assert.equal(created.status, 200, JSON.stringify(created.json));
    const s = created.json;
    assert.deepEqual([s.ui_mode, s.publishable_key, s.stripe_account], ['embedded', 'pk_test_embedded_shop', null]);
    assert.match(s.client_secret, /^cs_test_\w+_secret_\w+$/);
    const hosted = await fetch(s.url, { redirect: 'manual' });
    assert.equal(hosted.status, 409, 'no hosted page: the merchant’s page mounts it');
    // The merchant's page, as Stripe's embedded Checkout quickstart writes it.
    const shop = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(`<!doctype html><script src="${h.gw.sandbox!.url}/v3/"></script><div id="checkout"></div>
      <script>Stripe('${s.publishable_key}').initEmbeddedCheckout({ clientSecret: '${s.client_secret}' }).then((c) => c.mount('#checkout'));</script>`));
    await new Promise<void>((r) => shop.listen(0, '127.0.0.1', r));
    const page = await browser.newPage();
    try {
      await page.goto(`http://127.0.0.1:${(shop.address() as AddressInfo).port}/`);
      const frame = (await (await page.waitForSelector('iframe[title="Embedded Checkout"]')).contentFrame())!;
      await frame.getByLabel('Card number').waitFor();
      await frame.getByLabel('Email').fill('embedded@example.com');
      await frame.getByLabel('Card number').fill('4242424242424242');
      await frame.getByLabel('Expiration date').fill('12 / 34');
      await frame.getByLabel('CVC').fill('123');
      await frame.getByLabel('Cardholder name').fill('Jenny Rosen');
      await frame.getByRole('button', { name: 'Pay' }).click();
      await page.waitForURL(`${merchant.url}/thanks?session_id=${s.id}`);
      const done = (await h.api('GET', `/v1/sessions/${s.id}`)).json;
      assert.deepEqual([done.status, done.client_secret, done.processor.card_last4], ['succeeded', null, '4242']);
    } finally {
      await page.close();
      shop.close();
    }
  });
});
