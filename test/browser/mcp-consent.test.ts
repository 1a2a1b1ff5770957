/**
 * The consent page of MCP's OAuth (issue 21), in Chromium, as an admin meets
 * it when an MCP client opens the authorization URL: sign in, see who asks
 * and where the answer goes, pick the app, the connection and the
 * permissions, allow (at 1280 px) or deny (at 390 px); the client gets its
 * code (exchanged here with its PKCE verifier) or the refusal, and the grant
 * shows on the connection's page, revocable.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { startPaybridge, type PaybridgeProcess } from '../cli/paybridge-process.js';
import { launch, merchantSite, screenshot, skipReason } from './browser.js';

const skip = skipReason();
let pb: PaybridgeProcess;
let browser: Browser;
let client: Awaited<ReturnType<typeof merchantSite>>;
let password: string;
let appKey: string;
let connection: string;
const dir = mkdtempSync(join(tmpdir(), 'paybridge-consent-'));

before(async () => {
  if (skip) return;
  pb = await startPaybridge(dir);
  password = /Dashboard admin password \(shown once[^)]*\): (\S+)/.exec(pb.output)![1];
  appKey = /Its test API key .*: (pb_test_\w+)/.exec(pb.output)![1];
  client = await merchantSite();
  browser = await launch();
  const res = await fetch(`${pb.url}/v1/connections`, { method: 'POST', headers: { authorization: `Bearer ${appKey}`, 'content-type': 'application/json' }, body: JSON.stringify({ secret_key: 'sk_test_consent_page' }) });
  connection = (await res.json()).id;
});
after(async () => {
  await browser?.close();
  await client?.close();
  await pb?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('the MCP consent page', { skip }, () => {
  const redirect = () => `${client.url}/callback`;
  const register = async () => (await fetch(`${pb.url}/register`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ client_name: 'Desk agent', redirect_uris: [redirect()], token_endpoint_auth_method: 'none' }),
  })).json();
  const pkce = () => {
    const verifier = randomBytes(32).toString('base64url');
    return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
  };
  const authorizeUrl = (clientId: string, challenge: string) => `${pb.url}/authorize?${new URLSearchParams({
    response_type: 'code', client_id: clientId, redirect_uri: redirect(), code_challenge: challenge, code_challenge_method: 'S256', state: 'st-1', scope: 'customers:read', resource: `${pb.url}/mcp`,
  })}`;

  it('signs the admin in, shows who asks, and sends the chosen grant back to the client (1280 px)', async () => {
    const registered = await register();
    const { verifier, challenge } = pkce();
    const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
    await page.goto(authorizeUrl(registered.client_id, challenge));
    await page.getByRole('heading', { name: 'Sign in to your dashboard' }).waitFor();
    await page.getByLabel('Admin password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Authorize an agent' }).waitFor();
    await page.getByText('Desk agent asks to use PayBridge').waitFor();
    assert.match(await page.locator('main').textContent() ?? '', new RegExp(`returns to ${new URL(client.url).host.replace(/\./g, '\\.')}`));
    assert.equal(await page.getByLabel('Access to customers').inputValue(), 'read', 'starts from the scope the client asked for');
    assert.equal(await page.getByLabel('Access to payment intents').inputValue(), 'none');
    await page.getByLabel('Access to payment intents').selectOption('read');
    await screenshot(page, 'mcp-consent-1280');
    await page.getByRole('button', { name: 'Allow access' }).click();
    await page.waitForURL(`${redirect()}?**`);
    const back = new URL(page.url());
    assert.equal(back.searchParams.get('state'), 'st-1');
    const token = await fetch(`${pb.url}/token`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'authorization_code', code: back.searchParams.get('code')!, code_verifier: verifier, redirect_uri: redirect(), client_id: registered.client_id }),
    });
    assert.equal(token.status, 200);
    assert.equal((await token.json()).scope, 'customers:read payment_intents:read');

    // The grant on the connection's page, among its keys, with Revoke.
    await page.goto(`${pb.url}/#/connections/${connection}`);
    const keys = page.getByRole('table', { name: 'Connection keys' });
    await keys.getByText('Desk agent').waitFor();
    assert.match(await keys.textContent() ?? '', /OAuth\s*Desk agent.*customers: read, payment intents: read.*Active/);
    await screenshot(page, 'mcp-consent-grant-on-connection');
    await keys.getByRole('button', { name: 'Revoke' }).click();
    await page.getByText('The MCP client Desk agent loses its access').waitFor();
    await page.getByRole('button', { name: 'Revoke', exact: true }).last().click();
    await keys.getByText('Revoked').waitFor();
    await page.close();
  });

  it('fits a 390 px window and sends a denial back as access_denied', async () => {
    const registered = await register();
    const { challenge } = pkce();
    const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
    await page.goto(authorizeUrl(registered.client_id, challenge));
    await page.getByLabel('Admin password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Authorize an agent' }).waitFor();
    await page.getByLabel('Access to customers').waitFor();
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 390, `the page is ${width} px wide`);
    for (const name of ['Allow access', 'Deny']) {
      const box = await page.getByRole('button', { name }).boundingBox();
      assert.ok(box && box.x >= 0 && box.x + box.width <= 390, `${name} is inside the window`);
    }
    await screenshot(page, 'mcp-consent-390');
    await page.getByRole('button', { name: 'Deny' }).click();
    await page.waitForURL(`${redirect()}?**`);
    const back = new URL(page.url());
    assert.deepEqual([back.searchParams.get('error'), back.searchParams.get('state'), back.searchParams.get('code')], ['access_denied', 'st-1', null]);
    await page.close();
  });
});
