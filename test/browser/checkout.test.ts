/**
 * The hosted Checkout page as a person uses it, in Chromium: pay, decline,
 * 3-D Secure, subscribe, save a card; each lands on success_url.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import type Stripe from 'stripe';
import { harnessPerFile, type Harness } from '../helpers.js';
import { launch, merchantSite, screenshot, skipReason } from './browser.js';

const skip = skipReason();
let h: Harness;
let stripe: Stripe;
harnessPerFile((x) => {
  h = x;
  stripe = x.stripe;
});

let browser: Browser;
let merchant: Awaited<ReturnType<typeof merchantSite>>;
before(async () => {
  if (skip) return;
  browser = await launch();
  merchant = await merchantSite();
});
after(async () => {
  await browser?.close();
  await merchant?.close();
});

async function session(params: Partial<Stripe.Checkout.SessionCreateParams>): Promise<Stripe.Checkout.Session> {
  return stripe.checkout.sessions.create({
    success_url: `${merchant.url}/success?session_id={CHECKOUT_SESSION_ID}`,
    cancel_url: `${merchant.url}/cart`,
    ...params,
  } as Stripe.Checkout.SessionCreateParams);
}

async function fillCard(page: Page, number: string, o: { email?: string } = {}) {
  if (o.email) await page.getByLabel('Email').fill(o.email);
  await page.getByLabel('Card number').pressSequentially(number, { delay: 5 });
  await page.getByLabel('Expiration date').pressSequentially('1234');
  await page.getByLabel('CVC').fill('123');
  await page.getByLabel('Cardholder name').fill('Jenny Rosen');
}

const landed = (page: Page, id: string) => page.waitForURL(`${merchant.url}/success?session_id=${id}`);

describe('hosted checkout page in Chromium', { skip }, () => {
  it('pays with 4242 4242 4242 4242 and lands on success_url', async () => {
    const price = await stripe.prices.create({ currency: 'usd', unit_amount: 2500, product_data: { name: 'Espresso machine' } });
    const s = await session({ mode: 'payment', line_items: [{ price: price.id, quantity: 2 }] });
    const page = await browser.newPage();
    await page.goto(s.url!);
    assert.equal(await page.getByTestId('total').textContent(), '$50.00');
    assert.match(await page.locator('body').textContent() ?? '', /Espresso machine/);
    await fillCard(page, '4242424242424242', { email: 'jenny@example.com' });
    assert.equal(await page.getByLabel('Card number').inputValue(), '4242 4242 4242 4242');
    assert.equal(await page.getByLabel('Expiration date').inputValue(), '12 / 34');
    assert.equal(await page.locator('#card_brand').textContent(), 'Visa');
    await screenshot(page, 'checkout-payment-filled');
    await page.getByRole('button', { name: 'Pay' }).click();
    await landed(page, s.id);
    const done = await stripe.checkout.sessions.retrieve(s.id);
    assert.equal(done.status, 'complete');
    assert.equal(done.payment_status, 'paid');
    assert.equal(done.customer_details?.email, 'jenny@example.com');
    await page.close();
  });

  it('recognises the brand as you type', async () => {
    const price = await stripe.prices.create({ currency: 'usd', unit_amount: 100, product_data: { name: 'Gum' } });
    const s = await session({ mode: 'payment', line_items: [{ price: price.id, quantity: 1 }] });
    const page = await browser.newPage();
    await page.goto(s.url!);
    const brand = page.locator('#card_brand');
    for (const [digits, name] of [['5555', 'Mastercard'], ['3782', 'American Express'], ['6011', 'Discover'], ['4000', 'Visa']]) {
      await page.getByLabel('Card number').fill('');
      await page.getByLabel('Card number').pressSequentially(digits);
      assert.equal(await brand.textContent(), name);
    }
    await page.close();
  });

  it('shows the decline message for 4000 0000 0000 0002 and keeps the session open', async () => {
    const price = await stripe.prices.create({ currency: 'usd', unit_amount: 1500, product_data: { name: 'Headphones' } });
    const s = await session({ mode: 'payment', line_items: [{ price: price.id, quantity: 1 }], customer_email: 'decline@example.com' });
    const page = await browser.newPage();
    await page.goto(s.url!);
    assert.equal(await page.getByLabel('Email').inputValue(), 'decline@example.com');
    await fillCard(page, '4000000000000002');
    await page.getByRole('button', { name: 'Pay' }).click();
    await page.getByRole('alert').waitFor();
    assert.equal(await page.getByRole('alert').textContent(), 'Your card was declined.');
    await screenshot(page, 'checkout-declined');
    assert.equal((await stripe.checkout.sessions.retrieve(s.id)).status, 'open');
    await page.getByLabel('Card number').fill('');
    await page.getByLabel('Card number').pressSequentially('4242424242424242');
    await page.getByRole('button', { name: 'Pay' }).click();
    await landed(page, s.id);
    await page.close();
  });

  it('completes a 3-D Secure card through the authentication page', async () => {
    const price = await stripe.prices.create({ currency: 'eur', unit_amount: 4200, product_data: { name: 'Concert ticket' } });
    const s = await session({ mode: 'payment', line_items: [{ price: price.id, quantity: 1 }] });
    const page = await browser.newPage();
    await page.goto(s.url!);
    await fillCard(page, '4000002760003184', { email: 'three-ds@example.com' });
    await page.getByRole('button', { name: 'Pay' }).click();
    await page.getByRole('button', { name: 'Complete authentication' }).waitFor();
    await screenshot(page, 'checkout-3ds-challenge');
    await page.getByRole('button', { name: 'Complete authentication' }).click();
    await landed(page, s.id);
    assert.equal((await stripe.checkout.sessions.retrieve(s.id)).payment_status, 'paid');
    await page.close();
  });

  it('subscribes in subscription mode', async () => {
    const price = await stripe.prices.create({ currency: 'usd', unit_amount: 1200, recurring: { interval: 'month' }, product_data: { name: 'Team plan' } });
    const s = await session({ mode: 'subscription', line_items: [{ price: price.id, quantity: 3 }] });
    const page = await browser.newPage();
    await page.goto(s.url!);
    assert.match(await page.locator('body').textContent() ?? '', /Subscribe to Team plan/);
    assert.match(await page.locator('body').textContent() ?? '', /Then \$36\.00 per month/);
    await fillCard(page, '5555555555554444', { email: 'team@example.com' });
    await screenshot(page, 'checkout-subscription');
    await page.getByRole('button', { name: 'Subscribe' }).click();
    await landed(page, s.id);
    const done = await stripe.checkout.sessions.retrieve(s.id, { expand: ['subscription'] });
    assert.equal((done.subscription as Stripe.Subscription).status, 'active');
    await page.close();
  });

  it('saves a card in setup mode, and the cancel link leads back to cancel_url', async () => {
    const customer = await stripe.customers.create({ email: 'setup@example.com', name: 'Setup Person' });
    const s = await session({ mode: 'setup', customer: customer.id, currency: 'usd' });
    const page = await browser.newPage();
    await page.goto(s.url!);
    assert.equal(await page.getByLabel('Email').inputValue(), 'setup@example.com');
    await fillCard(page, '4242424242424242');
    await screenshot(page, 'checkout-setup');
    await page.getByRole('button', { name: 'Save card' }).click();
    await landed(page, s.id);
    const done = await stripe.checkout.sessions.retrieve(s.id, { expand: ['setup_intent'] });
    assert.equal((done.setup_intent as Stripe.SetupIntent).status, 'succeeded');

    const other = await session({ mode: 'setup', customer: customer.id, currency: 'usd' });
    await page.goto(other.url!);
    await page.getByRole('link', { name: /Cancel/ }).click();
    await page.waitForURL(`${merchant.url}/cart`);
    await page.close();
  });
});
