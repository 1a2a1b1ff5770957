import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import Stripe from 'stripe';
import { harnessPerFile, stripeError, type Harness } from '../helpers.js';

let h: Harness;
let stripe: Stripe;
harnessPerFile((x) => {
  h = x;
  stripe = x.stripe;
}, { oauthTokenTtl: 1 });

const CLIENT_ID = 'ca_PayBridgeTestPlatform';
const REDIRECT = 'https://platform.example.com/oauth/callback';

const client = (key: string) => new Stripe(key, { host: '127.0.0.1', port: h.sandbox.port, protocol: 'http', maxNetworkRetries: 0 });

/** Opens an authorize page and presses one of its buttons, returning where the browser is sent. */
async function decide(pageUrl: string, decision: 'approve' | 'deny', account = 'new'): Promise<URL> {
  const pageRes = await fetch(pageUrl);
  assert.equal(pageRes.status, 200);
  const html = await pageRes.text();
  const form = new URLSearchParams({ decision, account });
  for (const m of html.matchAll(/<input type="hidden" name="(\w+)" value="([^"]*)">/g)) form.set(m[1], m[2].replace(/&amp;/g, '&'));
  const action = /<form method="post" action="([^"]+)"/.exec(html)![1];
  const res = await fetch(new URL(action, h.sandbox.url), { method: 'POST', body: form, redirect: 'manual' });
  assert.equal(res.status, 302);
  return new URL(res.headers.get('location')!);
}

/** `stripe.oauth.authorizeUrl` builds the URL for connect.stripe.com's scheme and port; point it at the sandbox. */
const onSandbox = (url: string) => `${h.sandbox.url}${new URL(url).pathname}${new URL(url).search}`;

describe('Connect accounts and Stripe-Account scoping', () => {
  it('answers as Stripe for accounts a key cannot reach, and lets a connected account read itself', async () => {
    const unknown = await stripeError(() => stripe.accounts.retrieve('acct_1NoSuchAccount00'));
    assert.equal(unknown.statusCode, 403);
    assert.equal(unknown.code, 'account_invalid');
    const a = await stripe.accounts.create({ type: 'express' });
    const b = await stripe.accounts.create({ type: 'express' });
    assert.equal((await stripe.accounts.retrieve(a.id, {}, { stripeAccount: a.id })).id, a.id);
    assert.equal((await stripeError(() => stripe.accounts.retrieve(b.id, {}, { stripeAccount: a.id }))).code, 'account_invalid');
    const nested = await stripeError(() => stripe.accounts.create({ type: 'express' }, { stripeAccount: a.id }));
    assert.equal(nested.statusCode, 403);
    assert.match(nested.message, /cannot create new accounts on behalf of their connected accounts/);
  });

  it('acts on a connected account named by Stripe-Context, which supersedes Stripe-Account', async () => {
    const a = await stripe.accounts.create({ type: 'express' });
    const b = await stripe.accounts.create({ type: 'express' });
    const created = await h.http('POST', '/v1/customers', { body: 'email=ctx%40example.com', headers: { 'stripe-context': a.id, 'stripe-account': b.id } });
    assert.equal(created.status, 200, created.text);
    assert.equal((await stripe.customers.retrieve(created.json.id, {}, { stripeAccount: a.id })).id, created.json.id);
    assert.equal((await stripeError(() => stripe.customers.retrieve(created.json.id, {}, { stripeAccount: b.id }))).statusCode, 404);
    // A path from the platform names the same account.
    const platform = (await h.http('GET', '/v1/account')).json.id as string;
    const viaPath = await h.http('GET', `/v1/customers/${created.json.id}`, { headers: { 'stripe-context': `${platform}/${a.id}` } });
    assert.equal(viaPath.status, 200);
    const unknown = await h.http('GET', '/v1/customers', { headers: { 'stripe-context': 'acct_1NotConnectedHere' } });
    assert.equal(unknown.status, 403);
    assert.equal(unknown.json.error.code, 'account_invalid');
    const deeper = await h.http('GET', '/v1/customers', { headers: { 'stripe-context': `${a.id}/${b.id}` } });
    assert.equal(deeper.status, 403);
    const malformed = await h.http('GET', '/v1/customers', { headers: { 'stripe-context': 'not an account' } });
    assert.equal(malformed.status, 400);
  });

  it('creates, lists, updates and deletes accounts', async () => {
    const account = await stripe.accounts.create({ type: 'custom', country: 'US', email: 'shop@example.com', capabilities: { card_payments: { requested: true }, transfers: { requested: true } } });
    assert.match(account.id, /^acct_/);
    assert.equal(account.type, 'custom');
    // As Stripe's test mode: a new account takes payments once what it is asked for is given (issue 20).
    assert.equal(account.charges_enabled, false);
    assert.equal(account.capabilities?.card_payments, 'inactive');
    assert.ok(account.requirements?.currently_due?.includes('tos_acceptance.date'));
    const updated = await stripe.accounts.update(account.id, { metadata: { tier: 'gold' } });
    assert.equal(updated.metadata?.tier, 'gold');
    const ready = await stripe.accounts.update(account.id, {
      business_type: 'company', business_profile: { mcc: '5734', url: 'https://accessible.stripe.com' }, company: { name: 'Shop', tax_id: '000000000' },
      external_account: 'btok_us_verified', tos_acceptance: { date: Math.floor(Date.now() / 1000), ip: '127.0.0.1' },
    });
    assert.deepEqual([ready.charges_enabled, ready.payouts_enabled, ready.capabilities?.card_payments, ready.requirements?.currently_due], [true, true, 'active', []]);
    assert.ok((await stripe.accounts.list()).data.some((a) => a.id === account.id));
    const me = await stripe.accounts.retrieveCurrent();
    assert.equal(me.id, 'acct_1PayBridgeSandbox0');
    const missing = await stripeError(() => stripe.accounts.create({} as Stripe.AccountCreateParams));
    assert.equal(missing.param, 'type');
    const deleted = await stripe.accounts.del(account.id);
    assert.equal(deleted.deleted, true);
    const gone = await stripeError(() => stripe.customers.list({}, { stripeAccount: account.id }));
    assert.equal(gone.statusCode, 403);
    assert.equal(gone.code, 'account_invalid');
  });

  it('keeps each account’s objects apart', async () => {
    const a = await stripe.accounts.create({ type: 'express' });
    const b = await stripe.accounts.create({ type: 'express' });
    const onA = await stripe.customers.create({ email: 'a@example.com' }, { stripeAccount: a.id });
    await stripe.customers.create({ email: 'b@example.com' }, { stripeAccount: b.id });
    const listA = await stripe.customers.list({}, { stripeAccount: a.id });
    assert.deepEqual(listA.data.map((c) => c.email), ['a@example.com']);
    const fromB = await stripeError(() => stripe.customers.retrieve(onA.id, {}, { stripeAccount: b.id }));
    assert.equal(fromB.statusCode, 404);
    const fromPlatform = await stripeError(() => stripe.customers.retrieve(onA.id));
    assert.equal(fromPlatform.statusCode, 404);
    const pi = await stripe.paymentIntents.create({ amount: 1000, currency: 'usd', payment_method: 'pm_card_visa', confirm: true }, { stripeAccount: a.id });
    assert.equal(pi.status, 'succeeded');
    const events = await stripe.events.list({ type: 'payment_intent.succeeded', limit: 1 }, { stripeAccount: a.id });
    assert.equal(events.data[0].account, a.id);
    const unknown = await stripeError(() => stripe.customers.list({}, { stripeAccount: 'acct_doesNotExist1' }));
    assert.equal(unknown.statusCode, 403);
    assert.match(unknown.message, /does not have access to account 'acct_doesNotExist1'/);
  });
});

describe('Connect OAuth', () => {
  it('authorizes, exchanges the code with stripe.oauth.token, acts as the account, refreshes and deauthorizes', async () => {
    const authorizeUrl = stripe.oauth.authorizeUrl({ client_id: CLIENT_ID, scope: 'read_write', state: 'csrf-123', redirect_uri: REDIRECT });
    const back = await decide(onSandbox(authorizeUrl), 'approve');
    assert.equal(back.origin + back.pathname, REDIRECT);
    assert.equal(back.searchParams.get('state'), 'csrf-123');
    assert.equal(back.searchParams.get('scope'), 'read_write');
    const code = back.searchParams.get('code')!;
    assert.match(code, /^ac_/);

    const token = await stripe.oauth.token({ grant_type: 'authorization_code', code });
    assert.match(token.access_token!, /^sk_test_/);
    assert.match(token.refresh_token!, /^rt_/);
    assert.match(token.stripe_publishable_key!, /^pk_test_/);
    assert.match(token.stripe_user_id!, /^acct_/);
    assert.equal(token.livemode, false);
    assert.equal(token.scope, 'read_write');
    assert.equal(token.token_type, 'bearer');

    const reuse = await stripeError(() => stripe.oauth.token({ grant_type: 'authorization_code', code }));
    assert.equal(reuse.type, 'StripeInvalidGrantError', 'the SDK recognises the OAuth error shape');

    const merchant = client(token.access_token!);
    const customer = await merchant.customers.create({ email: 'merchant-customer@example.com' });
    const viaHeader = await stripe.customers.retrieve(customer.id, {}, { stripeAccount: token.stripe_user_id! });
    assert.equal(viaHeader.id, customer.id);
    assert.equal((await merchant.accounts.retrieveCurrent()).id, token.stripe_user_id);

    const refreshed = await stripe.oauth.token({ grant_type: 'refresh_token', refresh_token: token.refresh_token! });
    assert.notEqual(refreshed.access_token, token.access_token);
    assert.equal(refreshed.stripe_user_id, token.stripe_user_id);

    // The platform learns of a deauthorization through a Connect webhook endpoint, as on Stripe.
    const received: Stripe.Event[] = [];
    const hooks = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        received.push(stripe.webhooks.constructEvent(body, String(req.headers['stripe-signature']), endpoint.secret!));
        res.end();
      });
    });
    await new Promise<void>((r) => hooks.listen(0, '127.0.0.1', r));
    const endpoint = await stripe.webhookEndpoints.create({ url: `http://127.0.0.1:${(hooks.address() as AddressInfo).port}/`, enabled_events: ['account.application.deauthorized'], connect: true });
    const deauth = await stripe.oauth.deauthorize({ client_id: CLIENT_ID, stripe_user_id: token.stripe_user_id! });
    assert.equal(deauth.stripe_user_id, token.stripe_user_id);
    const revoked = await stripeError(() => merchant.customers.list());
    assert.equal(revoked.statusCode, 401);
    assert.equal(revoked.code, 'api_key_expired');
    const headerRevoked = await stripeError(() => stripe.customers.list({}, { stripeAccount: token.stripe_user_id! }));
    assert.equal(headerRevoked.code, 'account_invalid');
    await h.sandbox.webhooks.drained();
    hooks.close();
    hooks.closeAllConnections();
    assert.equal(received.length, 1);
    assert.equal(received[0].type, 'account.application.deauthorized');
    assert.equal(received[0].account, token.stripe_user_id);
    assert.equal((received[0].data.object as { id: string }).id, CLIENT_ID);
    const twice = await h.http('POST', '/oauth/deauthorize', { body: `client_id=${CLIENT_ID}&stripe_user_id=${token.stripe_user_id}` });
    assert.equal(twice.status, 401);
    assert.equal(twice.json.error, 'invalid_client');
  });

  it('redirects with access_denied on Cancel, and answers OAuth errors in OAuth’s shape', async () => {
    const back = await decide(`${h.sandbox.url}/oauth/authorize?response_type=code&client_id=${CLIENT_ID}&scope=read_only&state=s1&redirect_uri=${encodeURIComponent(REDIRECT)}`, 'deny');
    assert.equal(back.searchParams.get('error'), 'access_denied');
    assert.equal(back.searchParams.get('state'), 's1');
    assert.equal(back.searchParams.get('code'), null);
    const bad = await h.http('POST', '/oauth/token', { body: 'grant_type=authorization_code&code=ac_nope' });
    assert.deepEqual(bad.json, { error: 'invalid_grant', error_description: 'Authorization code does not exist: ac_nope' });
    const noGrant = await h.http('POST', '/oauth/token', { body: 'code=ac_nope' });
    assert.equal(noGrant.json.error, 'invalid_request');
    const noKey = await h.http('POST', '/oauth/token', { body: 'grant_type=authorization_code&code=x', key: null });
    assert.equal(noKey.status, 401);
    assert.equal(noKey.json.error, 'invalid_client');
    const badClient = await fetch(`${h.sandbox.url}/oauth/authorize?client_id=nope`);
    assert.equal(badClient.status, 400);
  });

  it('limits read_only tokens to reading', async () => {
    const back = await decide(`${h.sandbox.url}/oauth/authorize?client_id=${CLIENT_ID}&scope=read_only&redirect_uri=${encodeURIComponent(REDIRECT)}`, 'approve');
    const token = await stripe.oauth.token({ grant_type: 'authorization_code', code: back.searchParams.get('code')! });
    const merchant = client(token.access_token!);
    assert.equal((await merchant.customers.list()).object, 'list');
    const refused = await stripeError(() => merchant.customers.create({ email: 'x@example.com' }));
    assert.equal(refused.statusCode, 403);
  });
});

describe('Stripe Apps OAuth', () => {
  it('installs with the app’s permissions, expires access tokens after the TTL and rotates refresh tokens', async () => {
    const appId = 'ca_PayBridgeStripeApp';
    await h.http('POST', '/_sandbox/apps', {
      body: JSON.stringify({ client_id: appId, name: 'Ledger Sync', permissions: [{ permission: 'customer_read' }, { permission: 'payment_intent_write' }], allowed_redirect_uris: [REDIRECT] }),
      headers: { 'content-type': 'application/json' },
    });
    const installUrl = `${h.sandbox.url}/oauth/v2/authorize?client_id=${appId}&redirect_uri=${encodeURIComponent(REDIRECT)}&state=st-9`;
    const html = await (await fetch(installUrl)).text();
    assert.match(html, /Install Ledger Sync/);
    assert.match(html, /Read customers/);
    assert.match(html, /Read and write payment intents/);
    assert.match(html, />Install</);
    const elsewhere = await fetch(`${h.sandbox.url}/oauth/v2/authorize?client_id=${appId}&redirect_uri=${encodeURIComponent('https://evil.example.com')}`);
    assert.equal(elsewhere.status, 400);

    const back = await decide(installUrl, 'approve');
    assert.equal(back.searchParams.get('state'), 'st-9');
    const tokens = await h.http('POST', '/v1/oauth/token', { body: `grant_type=authorization_code&code=${back.searchParams.get('code')}` });
    assert.equal(tokens.status, 200);
    const { access_token, refresh_token, stripe_user_id, livemode, scope } = tokens.json;
    assert.match(access_token, /^sk_test_/);
    assert.match(refresh_token, /^rt_/);
    assert.match(stripe_user_id, /^acct_/);
    assert.equal(livemode, false);
    assert.equal(scope, 'stripe_apps');

    const asApp = client(access_token);
    assert.equal((await asApp.customers.list()).object, 'list');
    const pi = await asApp.paymentIntents.create({ amount: 500, currency: 'usd' });
    assert.equal(pi.status, 'requires_payment_method');
    const denied = await stripeError(() => asApp.customers.create({ email: 'no@example.com' }));
    assert.equal(denied.statusCode, 403);
    assert.match(denied.message, /rak_customer_write/);

    await new Promise((r) => setTimeout(r, 1100));
    const expired = await stripeError(() => asApp.customers.list());
    assert.equal(expired.statusCode, 401);
    assert.equal(expired.code, 'api_key_expired');

    const refreshed = await h.http('POST', '/v1/oauth/token', { body: `grant_type=refresh_token&refresh_token=${refresh_token}` });
    assert.equal(refreshed.status, 200);
    assert.notEqual(refreshed.json.refresh_token, refresh_token);
    assert.equal((await client(refreshed.json.access_token).customers.list()).object, 'list');
    const old = await h.http('POST', '/v1/oauth/token', { body: `grant_type=refresh_token&refresh_token=${refresh_token}` });
    assert.equal(old.status, 400);
    assert.equal(old.json.error, 'invalid_grant');

    const cancel = await decide(installUrl, 'deny');
    assert.equal(cancel.searchParams.get('error'), 'access_denied');
  });
});
