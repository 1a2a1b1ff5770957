/**
 * A platform's Connect flow in Chromium (issue 20), with `paybridge start`'s
 * defaults: an account the platform created connects by OAuth, is onboarded
 * through the onboarding link the dashboard makes (the sandbox's hosted
 * form), then a payment session with a platform fee is paid on the hosted
 * page; the fee shows in the session, in the platform-fee report after a
 * sync, and on the connection's page — at 1280 and 390 px.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { startPaybridge, type PaybridgeProcess } from '../cli/paybridge-process.js';
import { launch, screenshot, skipReason } from './browser.js';

const skip = skipReason();
const PLATFORM_KEY = 'sk_test_paybridge_embedded_platform';
let pb: PaybridgeProcess;
let browser: Browser;
let page: Page;
let appKey: string;
let password: string;
let account: string;
let connection: string;
const dir = mkdtempSync(join(tmpdir(), 'paybridge-connect-'));

before(async () => {
  if (skip) return;
  pb = await startPaybridge(dir);
  password = /Dashboard admin password \(shown once[^)]*\): (\S+)/.exec(pb.output)![1];
  appKey = /Its test API key .*: (pb_test_\w+)/.exec(pb.output)![1];
  // The platform creates an Express account for a new seller (as a platform's backend does): not yet onboarded.
  const created = await fetch(`${pb.sandboxUrl}/v1/accounts`, { method: 'POST', headers: { authorization: `Bearer ${PLATFORM_KEY}` }, body: new URLSearchParams({ type: 'express', email: 'potter@example.com', 'business_profile[name]': 'Rosen Pottery' }) });
  account = (await created.json()).id;
  browser = await launch();
  page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
});
after(async () => {
  await browser?.close();
  await pb?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const api = async (path: string) => (await fetch(`${pb.url}${path}`, { headers: { authorization: `Bearer ${appKey}` } })).json();

describe('Connect in the dashboard', { skip }, () => {
  it('connects the platform’s account by OAuth and onboards it through the link the dashboard makes', async () => {
    await page.goto(pb.url);
    await page.getByLabel('Admin password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('link', { name: 'Connections' }).click();
    await page.getByRole('button', { name: 'Connect Stripe (test)' }).click();
    await page.waitForURL(`${pb.sandboxUrl}/oauth/authorize?**`);
    await page.getByLabel('Account').selectOption(account);
    await page.getByRole('button', { name: 'Connect', exact: true }).click();
    await page.getByText('Stripe account connected.').waitFor();
    connection = (await api('/v1/connections')).data.find((c: { account: string }) => c.account === account).id;
    await page.goto(`${pb.url}/#/connections/${connection}`);
    const card = page.locator('.card', { has: page.getByRole('heading', { name: 'Connect account' }) });
    await card.getByText('Onboarding needed').waitFor();
    assert.match(await card.textContent() ?? '', /Still due.*external account/);
    await screenshot(page, 'connect-1-onboarding-needed');
    await card.getByRole('button', { name: 'Send onboarding link' }).click();
    await card.getByRole('link', { name: 'Open the onboarding page' }).click();
    await page.waitForURL(`${pb.sandboxUrl}/_sandbox/connect/onboarding/**`);
    await page.getByRole('heading', { name: 'Set up payments' }).waitFor();
    assert.equal(await page.getByLabel('Routing number').inputValue(), '110000000');
    await screenshot(page, 'connect-2-onboarding-form');
    await page.getByRole('button', { name: 'Submit' }).click();
    await page.waitForURL(`${pb.url}/#/connections/${connection}`);
    await page.locator('.card', { has: page.getByRole('heading', { name: 'Connect account' }) }).getByText('Onboarded').waitFor();
    await screenshot(page, 'connect-3-onboarded');
  });

  it('takes a platform fee on a session paid in Chromium, and shows it in the session, the report and the connection', async () => {
    await page.getByRole('link', { name: 'Payment sessions' }).click();
    await page.getByRole('button', { name: 'New session' }).click();
    await page.getByLabel('Amount').fill('100.00');
    await page.getByLabel('Connection for the session').selectOption(connection);
    await page.getByLabel('Platform fee').fill('12.00');
    await page.getByLabel('Charge type').selectOption('destination');
    await page.getByRole('button', { name: 'Create session' }).click();
    await page.waitForURL(/#\/sessions\/ses_\w+$/);
    const sessionId = /#\/sessions\/(ses_\w+)/.exec(page.url())![1];
    const session = await api(`/v1/sessions/${sessionId}`);
    assert.deepEqual([session.charge_type, session.application_fee_amount], ['destination', 1200]);
    await page.goto(session.url);
    await page.getByLabel('Email').fill('buyer@example.com');
    await page.getByLabel('Card number').fill('4000000000000077');
    await page.getByLabel('Expiration date').fill('12 / 34');
    await page.getByLabel('CVC').fill('123');
    await page.getByLabel('Cardholder name').fill('Jenny Rosen');
    await page.getByRole('button', { name: 'Pay' }).click();
    // Back on the success URL the dashboard gave (PayBridge adds the session's id to it).
    await page.waitForURL((u) => u.href.startsWith(`${pb.url}/?session_id=${sessionId}`) && u.hash === '#/sessions');
    const paid = await api(`/v1/sessions/${sessionId}`);
    assert.equal(paid.status, 'succeeded');
    assert.equal(paid.processor.application_fee_amount, 1200);
    await page.goto(`${pb.url}/#/sessions/${sessionId}`);
    const details = page.locator('.card', { has: page.getByRole('heading', { name: 'Processor details' }) });
    await details.getByText('Destination charge (on the platform)').waitFor();
    assert.match(await details.textContent() ?? '', /Platform fee\$12\.00.*Application feefee_/);
    await screenshot(page, 'connect-4-session-with-fee');

    await page.getByRole('link', { name: 'Syncs & reports' }).click();
    await page.getByLabel('Connection').selectOption(connection);
    await page.getByRole('button', { name: 'Start sync' }).click();
    const fees = page.getByRole('table', { name: 'Platform fees' });
    await fees.waitFor({ timeout: 20_000 });
    assert.match(await fees.textContent() ?? '', new RegExp(`${account}.*\\$12\\.00`));
    await screenshot(page, 'connect-5-platform-fee-report');

    await page.goto(`${pb.url}/#/connections/${connection}`);
    const card = page.locator('.card', { has: page.getByRole('heading', { name: 'Connect account' }) });
    await card.getByText('$12.00 from 1 payment').waitFor();
    assert.match(await card.textContent() ?? '', /Available\$88\.00/);
    for (const width of [390, 1280]) {
      await page.setViewportSize({ width, height: 844 });
      const scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(scrollWidth <= width, `the connection page is ${scrollWidth} px wide at ${width}`);
      await screenshot(page, `connect-6-connection-${width}`);
    }
  });
});
