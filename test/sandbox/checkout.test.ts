import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type Stripe from 'stripe';
import { harnessPerFile, stripeError, type Harness } from '../helpers.js';

let h: Harness;
let stripe: Stripe;
harnessPerFile((x) => {
  h = x;
  stripe = x.stripe;
});

const SUCCESS = 'https://shop.example.com/success?session_id={CHECKOUT_SESSION_ID}';

async function tshirt() {
  return stripe.prices.create({ currency: 'usd', unit_amount: 2000, product_data: { name: 'T-shirt' } });
}

/** Presses the hosted page's button through the sandbox's JSON twin of the form. */
async function complete(session: Stripe.Checkout.Session, form: Record<string, string> = {}) {
  const res = await h.http('POST', `/_sandbox/checkout/${session.id}/complete`, { body: new URLSearchParams({ card_number: '4242424242424242', ...form }).toString() });
  assert.equal(res.status, 200, res.text);
  return res.json as { kind: 'redirect' | 'error'; url?: string; message?: string };
}

describe('checkout sessions', () => {
  it('creates a payment session with a hosted page, line items and totals', async () => {
    const price = await tshirt();
    const session = await stripe.checkout.sessions.create({
      mode: 'payment', success_url: SUCCESS, cancel_url: 'https://shop.example.com/cart',
      line_items: [{ price: price.id, quantity: 2 }, { quantity: 1, price_data: { currency: 'usd', unit_amount: 500, product_data: { name: 'Stickers' } } }],
      customer_email: 'jenny@example.com', client_reference_id: 'order_42', metadata: { order: '42' },
    });
    assert.match(session.id, /^cs_test_/);
    assert.equal(session.status, 'open');
    assert.equal(session.payment_status, 'unpaid');
    assert.equal(session.amount_subtotal, 4500);
    assert.equal(session.amount_total, 4500);
    assert.equal(session.currency, 'usd');
    assert.equal(session.url, `${h.sandbox.url}/c/pay/${session.id}`);
    assert.ok(session.expires_at - session.created <= 24 * 3600);
    const items = await stripe.checkout.sessions.listLineItems(session.id);
    assert.deepEqual(items.data.map((i) => [i.description, i.quantity, i.amount_total]), [['T-shirt', 2, 4000], ['Stickers', 1, 500]]);
    const expanded = await stripe.checkout.sessions.retrieve(session.id, { expand: ['line_items'] });
    assert.equal(expanded.line_items!.data.length, 2);
    const page = await fetch(session.url!);
    const html = await page.text();
    assert.equal(page.status, 200);
    for (const label of ['Email', 'Card number', 'Expiration date', 'CVC', 'Cardholder name']) assert.match(html, new RegExp(`<label for="\\w+">${label}</label>`));
    assert.match(html, /<button class="primary" type="submit">Pay<\/button>/);
    assert.match(html, /\$45\.00/);
    assert.match(html, /href="https:\/\/shop\.example\.com\/cart"/);
  });

  it('completes with 4242, emits checkout.session.completed and redirects to success_url with the id', async () => {
    const price = await tshirt();
    const session = await stripe.checkout.sessions.create({ mode: 'payment', success_url: SUCCESS, line_items: [{ price: price.id, quantity: 1 }] });
    const outcome = await complete(session);
    assert.deepEqual(outcome, { kind: 'redirect', url: `https://shop.example.com/success?session_id=${session.id}` });
    const done = await stripe.checkout.sessions.retrieve(session.id, { expand: ['payment_intent'] });
    assert.equal(done.status, 'complete');
    assert.equal(done.payment_status, 'paid');
    assert.equal(done.customer_details?.email, 'jenny.rosen@example.com');
    assert.equal(done.customer, null, 'payment mode creates no customer unless asked');
    const pi = done.payment_intent as Stripe.PaymentIntent;
    assert.equal(pi.status, 'succeeded');
    assert.equal(pi.amount, 2000);
    const events = await stripe.events.list({ type: 'checkout.session.completed', limit: 5 });
    assert.ok(events.data.some((e) => (e.data.object as Stripe.Checkout.Session).id === session.id));
  });

  it('shows the decline message and keeps the session open; the page then takes another card', async () => {
    const price = await tshirt();
    const session = await stripe.checkout.sessions.create({ mode: 'payment', success_url: SUCCESS, line_items: [{ price: price.id, quantity: 1 }], customer_creation: 'always' });
    const form = new URLSearchParams({ email: 'a@example.com', card_number: '4000 0000 0000 0002', expiry: '12 / 34', cvc: '123', name: 'A B' });
    const declined = await fetch(session.url!, { method: 'POST', body: form, redirect: 'manual' });
    assert.equal(declined.status, 402);
    assert.match(await declined.text(), /role="alert">Your card was declined\./);
    assert.equal((await stripe.checkout.sessions.retrieve(session.id)).status, 'open');
    form.set('card_number', '4242 4242 4242 4241');
    const badNumber = await fetch(session.url!, { method: 'POST', body: form, redirect: 'manual' });
    assert.match(await badNumber.text(), /Your card number is incorrect\./);
    form.set('card_number', '5555 5555 5555 4444');
    const ok = await fetch(session.url!, { method: 'POST', body: form, redirect: 'manual' });
    assert.equal(ok.status, 303);
    assert.equal(ok.headers.get('location'), `https://shop.example.com/success?session_id=${session.id}`);
    const done = await stripe.checkout.sessions.retrieve(session.id);
    assert.equal(done.status, 'complete');
    assert.match(done.customer as string, /^cus_/);
  });

  it('sends a 3DS card through the authentication page and back', async () => {
    const price = await tshirt();
    const session = await stripe.checkout.sessions.create({ mode: 'payment', success_url: SUCCESS, line_items: [{ price: price.id, quantity: 1 }] });
    const outcome = await complete(session, { card_number: '4000002760003184' });
    assert.equal(outcome.kind, 'redirect');
    assert.match(outcome.url!, /\/_sandbox\/3ds\/pi_/);
    assert.equal((await stripe.checkout.sessions.retrieve(session.id)).status, 'open');
    const challenge = await (await fetch(outcome.url!)).text();
    const returnUrl = /name="return_url" value="([^"]+)"/.exec(challenge)![1].replace(/&amp;/g, '&');
    const approved = await fetch(new URL(/action="([^"]+\/complete)"/.exec(challenge)![1], outcome.url), { method: 'POST', body: new URLSearchParams({ return_url: returnUrl }), redirect: 'manual' });
    const back = await fetch(approved.headers.get('location')!, { redirect: 'manual' });
    assert.equal(back.status, 303);
    assert.equal(back.headers.get('location'), `https://shop.example.com/success?session_id=${session.id}`);
    assert.equal((await stripe.checkout.sessions.retrieve(session.id)).payment_status, 'paid');
  });

  it('subscription mode creates a customer and an active subscription; setup mode saves a card', async () => {
    const plan = await stripe.prices.create({ currency: 'usd', unit_amount: 900, recurring: { interval: 'month' }, product_data: { name: 'Starter' } });
    const session = await stripe.checkout.sessions.create({ mode: 'subscription', success_url: SUCCESS, line_items: [{ price: plan.id, quantity: 1 }] });
    assert.match(await (await fetch(session.url!)).text(), />Subscribe</);
    assert.equal((await complete(session)).kind, 'redirect');
    const done = await stripe.checkout.sessions.retrieve(session.id, { expand: ['subscription'] });
    assert.equal(done.status, 'complete');
    assert.equal(done.payment_status, 'paid');
    const sub = done.subscription as Stripe.Subscription;
    assert.equal(sub.status, 'active');
    assert.equal(sub.customer, done.customer);
    assert.ok(done.invoice);

    const declinedSub = await stripe.checkout.sessions.create({ mode: 'subscription', success_url: SUCCESS, line_items: [{ price: plan.id, quantity: 1 }] });
    const declined = await complete(declinedSub, { card_number: '4000000000000341' });
    assert.deepEqual(declined, { kind: 'error', message: 'Your card was declined.' });
    assert.equal((await stripe.checkout.sessions.retrieve(declinedSub.id)).subscription, null);

    const customer = await stripe.customers.create({ email: 'saver@example.com' });
    const setup = await stripe.checkout.sessions.create({ mode: 'setup', success_url: SUCCESS, customer: customer.id, currency: 'usd' } as Stripe.Checkout.SessionCreateParams);
    assert.match(await (await fetch(setup.url!)).text(), />Save card</);
    assert.equal((await complete(setup)).kind, 'redirect');
    const saved = await stripe.checkout.sessions.retrieve(setup.id, { expand: ['setup_intent'] });
    assert.equal(saved.payment_status, 'no_payment_required');
    const si = saved.setup_intent as Stripe.SetupIntent;
    assert.equal(si.status, 'succeeded');
    const pms = await stripe.paymentMethods.list({ customer: customer.id, type: 'card' });
    assert.equal(pms.data[0].id, si.payment_method);
  });

  it('expires, refuses bad parameters, and lists', async () => {
    const price = await tshirt();
    const session = await stripe.checkout.sessions.create({ mode: 'payment', success_url: SUCCESS, line_items: [{ price: price.id, quantity: 1 }] });
    const expired = await stripe.checkout.sessions.expire(session.id);
    assert.equal(expired.status, 'expired');
    assert.equal(expired.url, null);
    const again = await stripeError(() => stripe.checkout.sessions.expire(session.id));
    assert.match(again.message, /Only Checkout Sessions with a status in \["open"\] can be expired/);
    const page = await fetch(session.url!);
    assert.match(await page.text(), /has expired/);
    const noItems = await stripeError(() => stripe.checkout.sessions.create({ mode: 'payment', success_url: SUCCESS }));
    assert.equal(noItems.param, 'line_items');
    const recurring = await stripe.prices.create({ currency: 'usd', unit_amount: 900, recurring: { interval: 'month' }, product_data: { name: 'Plan' } });
    const wrongMode = await stripeError(() => stripe.checkout.sessions.create({ mode: 'payment', success_url: SUCCESS, line_items: [{ price: recurring.id, quantity: 1 }] }));
    assert.match(wrongMode.message, /recurring price/);
    const both = await stripeError(() => stripe.checkout.sessions.create({ mode: 'payment', success_url: SUCCESS, line_items: [{ price: price.id, quantity: 1 }], customer: 'cus_x', customer_email: 'x@example.com' }));
    assert.match(both.message, /only specify one of these parameters: customer, customer_email/);
    const tooLate = await stripeError(() => stripe.checkout.sessions.create({ mode: 'payment', success_url: SUCCESS, line_items: [{ price: price.id, quantity: 1 }], expires_at: Math.floor(Date.now() / 1000) + 48 * 3600 }));
    assert.equal(tooLate.param, 'expires_at');
    const listed = await stripe.checkout.sessions.list({ status: 'expired' });
    assert.ok(listed.data.some((s) => s.id === session.id));
  });
});

describe('payment links', () => {
  it('opens a fresh Checkout Session on each visit and completes like one', async () => {
    const price = await tshirt();
    const link = await stripe.paymentLinks.create({ line_items: [{ price: price.id, quantity: 3 }], after_completion: { type: 'redirect', redirect: { url: 'https://shop.example.com/thanks' } } });
    assert.match(link.id, /^plink_/);
    assert.equal(link.url, `${h.sandbox.url}/b/${link.id}`);
    const items = await stripe.paymentLinks.listLineItems(link.id);
    assert.equal(items.data[0].quantity, 3);
    const visit = await fetch(link.url, { redirect: 'manual' });
    assert.equal(visit.status, 303);
    const sessionUrl = visit.headers.get('location')!;
    const sessionId = sessionUrl.split('/').pop()!;
    const session = await stripe.checkout.sessions.retrieve(sessionId);
    assert.equal(session.payment_link, link.id);
    assert.equal(session.amount_total, 6000);
    assert.equal((await complete(session)).url, 'https://shop.example.com/thanks');
    const second = await fetch(link.url, { redirect: 'manual' });
    assert.notEqual(second.headers.get('location'), sessionUrl);
    await stripe.paymentLinks.update(link.id, { active: false });
    assert.equal((await fetch(link.url, { redirect: 'manual' })).status, 410);
    assert.deepEqual((await stripe.checkout.sessions.list({ payment_link: link.id })).data.length, 2);
  });
});

describe('where Checkout sends the payer', () => {
  it('takes http(s) URLs only for success_url and cancel_url', async () => {
    for (const url of ['javascript:alert(1)', 'data:text/html,<script>alert(1)</script>', 'ftp://example.com/', '//evil.example/x', 'not a url']) {
      const e = await stripeError(() => stripe.checkout.sessions.create({ mode: 'payment', success_url: url, line_items: [{ price_data: { currency: 'usd', unit_amount: 500, product_data: { name: 'x' } }, quantity: 1 }] }));
      assert.equal(e.code, 'url_invalid', url);
      assert.equal(e.param, 'success_url');
    }
    const cancel = await stripeError(() => stripe.checkout.sessions.create({ mode: 'payment', success_url: 'https://example.com/ok?s={CHECKOUT_SESSION_ID}', cancel_url: 'javascript:void(0)', line_items: [{ price_data: { currency: 'usd', unit_amount: 500, product_data: { name: 'x' } }, quantity: 1 }] }));
    assert.equal(cancel.param, 'cancel_url');
    const ok = await stripe.checkout.sessions.create({ mode: 'payment', success_url: 'https://example.com/ok?s={CHECKOUT_SESSION_ID}', line_items: [{ price_data: { currency: 'usd', unit_amount: 500, product_data: { name: 'x' } }, quantity: 1 }] });
    assert.match(ok.id, /^cs_test_/);
  });
});
