/**
 * Stripe.js in the sandbox (issue 19), in Chromium: merchant pages written
 * like Stripe's quickstarts load the script from the sandbox (`/v3/`) and
 * nothing else changes. The Card Element with confirmCardPayment, the
 * Payment Element with confirmPayment (a redirect with redirect_status, a
 * decline the page shows, 3-D Secure completed and failed), a SetupIntent
 * with confirmSetup and an off-session charge, a deferred intent, and
 * embedded Checkout; each checked on the server through the SDK, and no
 * request leaves for any host but the merchant's and the sandbox.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Browser, Frame, Page } from 'playwright-core';
import { startHarness, type Harness } from '../helpers.js';
import { launch, screenshot, skipReason } from './browser.js';

const skip = skipReason();
const PK = 'pk_test_paybridge_stripejs';
let h: Harness;
let browser: Browser;
let merchant: Server;
let site = '';

const body = async (req: IncomingMessage) => {
  let text = '';
  for await (const chunk of req) text += chunk;
  return text ? JSON.parse(text) : {};
};

/** A merchant page: Stripe.js from the sandbox, and the quickstart's own script. */
const html = (title: string, markup: string, script: string) => `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title>
<script src="${h.sandbox.url}/v3/"></script></head><body><h1>${title}</h1>${markup}<div id="message" role="status"></div>
<script>const stripe = Stripe('${PK}'); const show = (t) => { document.getElementById('message').textContent = t; };
${script}</script></body></html>`;

const PAGES: Record<string, (q: URLSearchParams) => Promise<string>> = {
  '/card': async () => html('Card Element', '<form id="form"><div id="card"></div><button id="pay">Pay</button></form>', `
    const elements = stripe.elements();
    const card = elements.create('card');
    card.mount('#card');
    card.on('change', (e) => { if (e.error) show(e.error.message); else show(e.brand ? 'brand ' + e.brand : ''); });
    document.getElementById('form').addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const { clientSecret } = await fetch('/create-payment-intent', { method: 'POST', body: JSON.stringify({ amount: 1400 }) }).then((r) => r.json());
      const result = await stripe.confirmCardPayment(clientSecret, { payment_method: { card, billing_details: { name: 'Jenny Rosen' } } });
      show(result.error ? 'error ' + result.error.type + ' ' + result.error.code + ': ' + result.error.message : 'paid ' + result.paymentIntent.id + ' ' + result.paymentIntent.status);
    });`),
  '/payment': async (q) => {
    const pi = await h.stripe.paymentIntents.create({ amount: Number(q.get('amount') ?? 2500), currency: 'usd', automatic_payment_methods: { enabled: true } });
    return html('Payment Element', '<form id="form"><div id="payment-element"></div><button id="submit">Pay now</button></form>', `
      const elements = stripe.elements({ clientSecret: '${pi.client_secret}', appearance: { theme: 'stripe', variables: { colorPrimary: '#0570de' } } });
      const paymentElement = elements.create('payment');
      paymentElement.on('ready', () => document.body.dataset.ready = '1');
      paymentElement.mount('#payment-element');
      document.getElementById('form').addEventListener('submit', async (ev) => {
        ev.preventDefault();
        const { error } = await stripe.confirmPayment({ elements, confirmParams: { return_url: location.origin + '/return' } });
        show(error.type === 'card_error' || error.type === 'validation_error' ? error.message : 'An unexpected error occurred.');
      });`);
  },
  '/setup': async () => {
    const customer = await h.stripe.customers.create({ email: 'saver@example.com' });
    const si = await h.stripe.setupIntents.create({ customer: customer.id, automatic_payment_methods: { enabled: true } });
    return html('Save a card', '<form id="form"><div id="payment-element"></div><button id="save">Save</button></form>', `
      const elements = stripe.elements({ clientSecret: '${si.client_secret}' });
      elements.create('payment').mount('#payment-element');
      document.getElementById('form').addEventListener('submit', async (ev) => {
        ev.preventDefault();
        const result = await stripe.confirmSetup({ elements, redirect: 'if_required', confirmParams: { return_url: location.origin + '/return' } });
        show(result.error ? result.error.message : 'saved ' + result.setupIntent.id + ' ' + result.setupIntent.status);
      });`);
  },
  '/deferred': async () => html('Deferred intent', '<form id="form"><div id="payment-element"></div><button id="submit">Pay</button></form>', `
    const elements = stripe.elements({ mode: 'payment', amount: 1999, currency: 'usd' });
    elements.create('payment').mount('#payment-element');
    document.getElementById('form').addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const { error: submitError } = await elements.submit();
      if (submitError) return show(submitError.message);
      const { clientSecret } = await fetch('/create-payment-intent', { method: 'POST', body: JSON.stringify({ amount: 1999 }) }).then((r) => r.json());
      const result = await stripe.confirmPayment({ elements, clientSecret, redirect: 'if_required', confirmParams: { return_url: location.origin + '/return' } });
      show(result.error ? result.error.message : 'paid ' + result.paymentIntent.id + ' ' + result.paymentIntent.status);
    });`),
  '/checkout': async () => html('Embedded Checkout', '<div id="checkout"></div>', `
    (async () => {
      const checkout = await stripe.initEmbeddedCheckout({ fetchClientSecret: () => fetch('/create-checkout-session', { method: 'POST' }).then((r) => r.json()).then((j) => j.clientSecret) });
      checkout.mount('#checkout');
    })();`),
  // README's "Your front-end against the sandbox" page, as written there (only the sandbox's port differs).
  '/readme': async () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const block = /```html\n(<!doctype html>[\s\S]*?)```/.exec(readme)![1];
    return block.replaceAll('http://127.0.0.1:12111', h.sandbox.url);
  },
  // A page that knows nothing of the sandbox: @stripe/stripe-js's loadStripe, as Stripe's React and npm quickstarts use it.
  '/npm': async () => `<!doctype html><title>loadStripe</title><h1>loadStripe</h1><form id="form"><div id="card"></div><button>Pay</button></form><div id="message" role="status"></div>
    <script type="module">
      import { loadStripe } from '/stripe-js.mjs';
      const stripe = await loadStripe('${PK}');
      const card = stripe.elements().create('card');
      card.mount('#card');
      document.getElementById('form').addEventListener('submit', async (ev) => {
        ev.preventDefault();
        const { clientSecret } = await fetch('/create-payment-intent', { method: 'POST', body: JSON.stringify({ amount: 700 }) }).then((r) => r.json());
        const result = await stripe.confirmCardPayment(clientSecret, { payment_method: { card } });
        document.getElementById('message').textContent = result.error ? result.error.message : 'paid ' + result.paymentIntent.id + ' ' + result.paymentIntent.status;
      });
    </script>`,
  '/done': async (q) => `<!doctype html><title>Done</title><h1>Done</h1><p id="where">${new URLSearchParams(q).toString()}</p>`,
  '/return': async (q) => `<!doctype html><title>Return</title><h1>Returned</h1><p id="where">${new URLSearchParams(q).toString()}</p>`,
};

before(async () => {
  if (skip) return;
  h = await startHarness();
  merchant = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    try {
      if (req.method === 'POST' && url.pathname === '/create-payment-intent') {
        const { amount } = await body(req);
        const pi = await h.stripe.paymentIntents.create({ amount, currency: 'usd', automatic_payment_methods: { enabled: true } });
        return res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ clientSecret: pi.client_secret }));
      }
      if (req.method === 'POST' && url.pathname === '/create-checkout-session') {
        const session = await h.stripe.checkout.sessions.create({
          ui_mode: 'embedded_page' as never, mode: 'payment', return_url: `${site}/return?session_id={CHECKOUT_SESSION_ID}`,
          line_items: [{ price_data: { currency: 'usd', unit_amount: 3300, product_data: { name: 'Vase' } }, quantity: 1 }],
        });
        return res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ clientSecret: session.client_secret }));
      }
      if (url.pathname === '/stripe-js.mjs') return res.writeHead(200, { 'content-type': 'text/javascript' }).end(readFileSync(new URL('../../node_modules/@stripe/stripe-js/dist/index.mjs', import.meta.url)));
      const page = PAGES[url.pathname];
      if (!page) return res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'text/html' }).end(await page(url.searchParams));
    } catch (e) {
      res.writeHead(500).end(String(e));
    }
  });
  await new Promise<void>((r) => merchant.listen(0, '127.0.0.1', r));
  site = `http://127.0.0.1:${(merchant.address() as AddressInfo).port}`;
  browser = await launch();
});
after(async () => {
  await browser?.close();
  merchant?.close();
  merchant?.closeAllConnections();
  await h?.sandbox.close();
});

/** A page that records every host it asks for (the sandbox and the merchant only, asserted at the end). */
async function open(path: string): Promise<{ page: Page; hosts: Set<string> }> {
  const page = await browser.newPage({ viewport: { width: 1000, height: 900 } });
  const hosts = new Set<string>();
  page.on('request', (r) => hosts.add(new URL(r.url()).host));
  await page.goto(site + path);
  return { page, hosts };
}
const onlyOurs = (hosts: Set<string>) => assert.deepEqual([...hosts].filter((x) => x !== new URL(site).host && x !== new URL(h.sandbox.url).host), [], 'no other host is asked for anything');

/** The frame of an Element by its type. */
async function elementFrame(page: Page, type: string): Promise<Frame> {
  const handle = await page.waitForSelector(`iframe[name$="-${type}"]`);
  const frame = await handle.contentFrame();
  await frame!.waitForSelector('input');
  return frame!;
}

async function fillCard(frame: Frame, number: string) {
  await frame.getByLabel('Card number').fill(number);
  await frame.getByLabel('Expiration date').fill('12 / 34');
  await frame.getByLabel('Security code').fill('123');
}

describe('Stripe.js in the sandbox', { skip }, () => {
  it('serves a small script that defines window.Stripe, and keeps card data inside its frames', async () => {
    const res = await fetch(`${h.sandbox.url}/v3/`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /javascript/);
    assert.ok((await res.text()).length < 100_000, 'under 100 KB');
    const { page } = await open('/card');
    const frame = await elementFrame(page, 'card');
    assert.deepEqual(await frame.$$eval('input', (els) => els.map((e) => (e as HTMLInputElement).placeholder)), ['Card number', 'MM / YY', 'CVC']);
    await frame.getByLabel('Card number').fill('4242 4242 4242 4241');
    await page.getByText('Your card number is invalid.').waitFor();
    await frame.getByLabel('Card number').fill('');
    await frame.getByLabel('Card number').pressSequentially('37828224631');
    await page.getByText('brand amex').waitFor();
    assert.equal(await page.locator('input').count(), 0, 'no card input in the merchant page');
    await page.close();
  });

  it('pays with the Card Element and confirmCardPayment, without a redirect', async () => {
    const { page, hosts } = await open('/card');
    await fillCard(await elementFrame(page, 'card'), '4242424242424242');
    await page.getByRole('button', { name: 'Pay' }).click();
    await page.getByText(/^paid pi_\w+ succeeded$/).waitFor();
    const id = /pi_\w+/.exec(await page.locator('#message').textContent() ?? '')![0];
    const pi = await h.stripe.paymentIntents.retrieve(id, { expand: ['latest_charge'] });
    assert.deepEqual([pi.status, pi.amount, (pi.latest_charge as { billing_details: { name: string } }).billing_details.name], ['succeeded', 1400, 'Jenny Rosen']);
    await screenshot(page, 'stripejs-card-element');
    onlyOurs(hosts);
    await page.close();
  });

  it('confirms the Payment Element and lands on return_url with redirect_status, or shows a decline', async () => {
    const { page, hosts } = await open('/payment');
    const frame = await elementFrame(page, 'payment');
    assert.ok(await frame.getByText('Card number').isVisible(), 'labels as Stripe shows them');
    await fillCard(frame, '4000000000000002');
    await page.getByRole('button', { name: 'Pay now' }).click();
    await page.getByText('Your card was declined.').waitFor();
    await screenshot(page, 'stripejs-payment-element-declined');
    await fillCard(frame, '4242424242424242');
    await page.getByRole('button', { name: 'Pay now' }).click();
    await page.waitForURL(`${site}/return?**`);
    const q = new URL(page.url()).searchParams;
    assert.equal(q.get('redirect_status'), 'succeeded');
    assert.match(q.get('payment_intent_client_secret') ?? '', /^pi_\w+_secret_/);
    assert.equal((await h.stripe.paymentIntents.retrieve(q.get('payment_intent')!)).status, 'succeeded');
    onlyOurs(hosts);
    await page.close();
  });

  it('shows 3-D Secure in a modal: completed, the payment succeeds; failed, the page gets the error', async () => {
    for (const [button, outcome] of [['Complete authentication', 'succeeded'], ['Fail authentication', 'failed']] as const) {
      const { page, hosts } = await open('/card');
      await fillCard(await elementFrame(page, 'card'), '4000002760003184');
      await page.getByRole('button', { name: 'Pay' }).click();
      const modal = page.frameLocator('iframe[name="paybridge-3ds"]');
      await modal.getByRole('heading', { name: '3D Secure authentication' }).waitFor();
      if (outcome === 'succeeded') await screenshot(page, 'stripejs-3ds-modal');
      await modal.getByRole('button', { name: button }).click();
      if (outcome === 'succeeded') await page.getByText(/^paid pi_\w+ succeeded$/).waitFor();
      else await page.getByText(/^error invalid_request_error payment_intent_authentication_failure: The provided PaymentMethod has failed authentication/).waitFor();
      assert.equal(await page.locator('[data-paybridge="3ds"]').count(), 0, 'the modal is gone');
      onlyOurs(hosts);
      await page.close();
    }
  });

  it('runs 3-D Secure from the Payment Element: completed, on to return_url; failed, the page shows why', async () => {
    for (const button of ['Complete authentication', 'Fail authentication']) {
      const { page, hosts } = await open('/payment');
      const frame = await elementFrame(page, 'payment');
      await fillCard(frame, '4000002760003184');
      await page.getByRole('button', { name: 'Pay now' }).click();
      await page.frameLocator('iframe[name="paybridge-3ds"]').getByRole('button', { name: button }).click();
      if (button === 'Complete authentication') {
        await page.waitForURL(`${site}/return?**`);
        const q = new URL(page.url()).searchParams;
        assert.equal(q.get('redirect_status'), 'succeeded');
        assert.equal((await h.stripe.paymentIntents.retrieve(q.get('payment_intent')!)).status, 'succeeded');
      } else {
        await page.getByText('An unexpected error occurred.').waitFor();
        assert.equal(new URL(page.url()).pathname, '/payment', 'no redirect after a failed authentication');
      }
      onlyOurs(hosts);
      await page.close();
    }
  });

  it('honours the appearance in the rendered fields', async () => {
    const { page } = await open('/payment');
    const frame = await elementFrame(page, 'payment');
    assert.equal(await frame.locator('.tab').evaluate((e) => getComputedStyle(e).color), 'rgb(5, 112, 222)', 'colorPrimary #0570de');
    await page.close();
  });

  it('saves a card with confirmSetup (no redirect needed), then the server charges it off-session', async () => {
    const { page } = await open('/setup');
    await fillCard(await elementFrame(page, 'payment'), '4242424242424242');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText(/^saved seti_\w+ succeeded$/).waitFor();
    const si = await h.stripe.setupIntents.retrieve(/seti_\w+/.exec(await page.locator('#message').textContent() ?? '')![0]);
    const charge = await h.stripe.paymentIntents.create({ amount: 900, currency: 'usd', customer: si.customer as string, payment_method: si.payment_method as string, off_session: true, confirm: true });
    assert.equal(charge.status, 'succeeded');
    await page.close();
  });

  it('validates with elements.submit(), then confirms a deferred intent the server made after', async () => {
    const { page } = await open('/deferred');
    const frame = await elementFrame(page, 'payment');
    await page.getByRole('button', { name: 'Pay' }).click();
    await page.getByText('Your card number is incomplete.').first().waitFor();
    await fillCard(frame, '4242424242424242');
    await page.getByRole('button', { name: 'Pay' }).click();
    await page.getByText(/^paid pi_\w+ succeeded$/).waitFor();
    assert.equal((await h.stripe.paymentIntents.retrieve(/pi_\w+/.exec(await page.locator('#message').textContent() ?? '')![0])).amount, 1999);
    await page.close();
  });

  it('runs the README’s page as written', async () => {
    const { page, hosts } = await open('/readme');
    await fillCard(await elementFrame(page, 'payment'), '4242424242424242');
    await page.getByRole('button', { name: 'Pay' }).click();
    await page.waitForURL(`${site}/done?**`);
    assert.equal(new URL(page.url()).searchParams.get('redirect_status'), 'succeeded');
    onlyOurs(hosts);
    await page.close();
  });

  it('stands in for js.stripe.com when a test routes it here, as the README shows, under @stripe/stripe-js’s loadStripe', async () => {
    const page = await browser.newPage();
    const hosts = new Set<string>();
    page.on('request', (r) => hosts.add(new URL(r.url()).host));
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const snippet = /```js\n(await page\.route[\s\S]*?)```/.exec(readme)![1].replaceAll('http://127.0.0.1:12111', h.sandbox.url);
    await (new Function('page', `return (async () => { ${snippet} })();`) as (p: Page) => Promise<void>)(page);
    await page.goto(`${site}/npm`);
    await fillCard(await elementFrame(page, 'card'), '4242424242424242');
    await page.getByRole('button', { name: 'Pay' }).click();
    await page.getByText(/^paid pi_\w+ succeeded$/).waitFor();
    assert.ok(hosts.has('js.stripe.com'), 'the page asked for js.stripe.com, which the route answered');
    assert.deepEqual([...hosts].filter((x) => ![new URL(site).host, new URL(h.sandbox.url).host, 'js.stripe.com'].includes(x)), []);
    await page.close();
  });

  it('mounts embedded Checkout and goes on to return_url with the session id', async () => {
    const { page, hosts } = await open('/checkout');
    const handle = await page.waitForSelector('iframe[title="Embedded Checkout"]');
    const checkout = (await handle.contentFrame())!;
    await checkout.getByLabel('Email').fill('buyer@example.com');
    await checkout.getByLabel('Card number').fill('4242424242424242');
    await checkout.getByLabel('Expiration date').fill('12 / 34');
    await checkout.getByLabel('CVC').fill('123');
    await checkout.getByLabel('Cardholder name').fill('Jenny Rosen');
    await screenshot(page, 'stripejs-embedded-checkout');
    await checkout.getByRole('button', { name: 'Pay' }).click();
    await page.waitForURL(`${site}/return?**`);
    const id = new URL(page.url()).searchParams.get('session_id')!;
    assert.equal((await h.stripe.checkout.sessions.retrieve(id)).status, 'complete');
    onlyOurs(hosts);
    await page.close();
  });
});
