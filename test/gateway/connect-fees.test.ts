/**
 * Payment sessions that take a platform fee on Connect OAuth connections
 * (issue 20): a direct charge on the connected account, and a destination
 * charge on the platform paying the account, each paid on the sandbox's
 * Checkout; the session's processor fields name the fee and the transfer,
 * and the money is checked on both sides through the SDK. The destination
 * session learns it was paid from the platform's own webhook.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type Stripe from 'stripe';
import { connectByOAuth, eventually, startGatewayHarness, type GatewayHarness } from './harness.js';

let h: GatewayHarness;
let oauth: { connection: string; account: string };
before(async () => {
  h = await startGatewayHarness();
  oauth = await connectByOAuth(h);
});
after(() => h?.close());

/** Pays a session's Checkout Session with the card that makes funds available at once. */
async function pay(sessionId: string): Promise<void> {
  const row = await h.gw.services.sessions.load(sessionId);
  const res = await fetch(`${h.gw.sandbox!.url}/_sandbox/checkout/${row!.checkoutSessionId}/complete`, { method: 'POST', body: 'card_number=4000000000000077&email=buyer%40example.com&name=Buyer' });
  assert.equal(res.status, 200, await res.text());
}

const available = async (account?: string) => (await h.sandbox.balance.retrieve(undefined, account ? { stripeAccount: account } : undefined)).available.find((b) => b.currency === 'usd')?.amount ?? 0;

describe('payment sessions with a platform fee', () => {
  it('takes the fee on a direct charge on the connected account', async () => {
    const [platform0, account0] = [await available(), await available(oauth.account)];
    const created = await h.api('POST', '/v1/sessions', { mode: 'charge', amount: 10_000, currency: 'usd', connection: oauth.connection, application_fee_amount: 1000, description: 'Pottery class' });
    assert.equal(created.status, 200, JSON.stringify(created.json));
    assert.deepEqual([created.json.charge_type, created.json.application_fee_amount, created.json.on_behalf_of], ['direct', 1000, null]);
    await pay(created.json.id);
    const paid = (await h.api('GET', `/v1/sessions/${created.json.id}`)).json;
    assert.equal(paid.status, 'succeeded');
    assert.deepEqual([paid.processor.charge_type, paid.processor.application_fee_amount, paid.processor.transfer_id], ['direct', 1000, null]);
    assert.match(paid.processor.application_fee_id, /^fee_/);
    const fee = await h.sandbox.applicationFees.retrieve(paid.processor.application_fee_id);
    assert.deepEqual([fee.account, fee.charge], [oauth.account, paid.processor.stripe_charge_id]);
    assert.equal(await available() - platform0, 1000);
    assert.equal(await available(oauth.account) - account0, 10_000 - 320 - 1000);
  });

  it('pays the account by a destination charge on the platform, keeps a percentage, and learns of the payment from the platform’s webhook', async () => {
    const [platform0, account0] = [await available(), await available(oauth.account)];
    const created = await h.api('POST', '/v1/sessions', { mode: 'charge', amount: 8000, currency: 'usd', connection: oauth.connection, charge_type: 'destination', application_fee_percent: 12.5 });
    assert.equal(created.status, 200, JSON.stringify(created.json));
    assert.deepEqual([created.json.charge_type, created.json.application_fee_amount, created.json.on_behalf_of], ['destination', 1000, true]);
    const row = (await h.gw.services.sessions.load(created.json.id))!;
    const checkout = await h.sandbox.checkout.sessions.retrieve(row.checkoutSessionId!);
    assert.ok(checkout.id, 'the Checkout Session is the platform’s own');
    await pay(created.json.id);
    // Not read through the API (which would ask Stripe): the platform's checkout.session.completed moves it.
    await eventually(async () => assert.equal((await h.gw.services.sessions.load(created.json.id))!.status, 'succeeded'));
    const paid = (await h.api('GET', `/v1/sessions/${created.json.id}`)).json;
    assert.deepEqual([paid.processor.charge_type, paid.processor.application_fee_amount, paid.processor.destination_account, paid.processor.on_behalf_of], ['destination', 1000, oauth.account, oauth.account]);
    const transfer = await h.sandbox.transfers.retrieve(paid.processor.transfer_id);
    assert.deepEqual([transfer.amount, transfer.destination], [8000, oauth.account]);
    assert.equal(await available() - platform0, 1000 - Math.round(8000 * 0.029) - 30);
    assert.equal(await available(oauth.account) - account0, 8000 - 1000);
    const timeline = (await h.api('GET', `/v1/sessions/${created.json.id}/timeline`)).json;
    assert.ok(timeline.data.some((e: { kind: string }) => e.kind === 'attempt_succeeded'), 'the platform’s charge is in the timeline');
  });

  it('refuses a fee on an API-key connection, on a tokenize session, and fees it cannot take', async () => {
    const keyConn = (await h.api('POST', '/v1/connections', { secret_key: 'sk_test_no_connect_here' })).json;
    const onKey = await h.api('POST', '/v1/sessions', { mode: 'charge', amount: 1000, currency: 'usd', connection: keyConn.id, application_fee_amount: 100 });
    assert.deepEqual([onKey.status, onKey.json.error.code], [400, 'connect_required']);
    const tokenize = await h.api('POST', '/v1/sessions', { mode: 'tokenize', connection: oauth.connection, application_fee_amount: 100 });
    assert.equal(tokenize.status, 400);
    for (const bad of [{ application_fee_amount: 2000 }, { application_fee_percent: 101 }, { charge_type: 'separate' }, { application_fee_amount: 1, application_fee_percent: 1 }, { on_behalf_of: true }]) {
      const res = await h.api('POST', '/v1/sessions', { mode: 'charge', amount: 1000, currency: 'usd', connection: oauth.connection, ...bad });
      assert.equal(res.status, 400, JSON.stringify(bad));
      assert.equal(res.json.error.type, 'invalid_request_error');
    }
    const sessions = (await h.api('GET', '/v1/sessions?limit=100')).json.data as Stripe.Checkout.Session[];
    assert.equal(sessions.length, 2, 'nothing stored for a refused session');
  });

  it('reports the platform’s fees by connection and month, and each connection’s gross and net, from synced records', async () => {
    assert.equal((await h.api('POST', `/v1/connections/${oauth.connection}/sync`)).status, 200);
    await h.gw.services.syncs.settled(oauth.connection);
    const status = (await h.api('GET', `/v1/connections/${oauth.connection}/sync`)).json.models;
    for (const model of ['application_fees', 'transfers', 'payouts']) assert.equal(status.find((m: { model: string }) => m.model === model)?.status, 'synced', model);
    const month = new Date().toISOString().slice(0, 7);
    const fees = (await h.api('GET', '/v1/reports/platform_fees')).json;
    assert.deepEqual(fees.rows.map((r: any) => [r.connection, r.account, r.month, r.currency, r.fees, r.net, r.count]), [[oauth.connection, oauth.account, month, 'usd', 2000, 2000, 2]]);
    const totals = (await h.api('GET', `/v1/reports/connections?connection=${oauth.connection}`)).json;
    // The direct charge (10000, fee 1000) and the destination payment (8000, fee 1000) are both the account's.
    assert.deepEqual(totals.rows.map((r: any) => [r.gross, r.refunds, r.platform_fees, r.net, r.count]), [[18_000, 0, 2000, 16_000, 2]]);
    const records = (await h.api('GET', `/v1/records?connection=${oauth.connection}&model=transfers`)).json.data;
    assert.deepEqual(records.map((r: any) => r.data.destination), [oauth.account], 'only the transfers to this account');
  });

  it('shows a connection’s onboarding, balance, payouts and fees, and makes an onboarding link for an account not yet onboarded', async () => {
    const summary = (await h.api('GET', `/v1/connections/${oauth.connection}/connect`)).json;
    assert.deepEqual([summary.onboarding.charges_enabled, summary.onboarding.currently_due], [true, []]);
    assert.ok(summary.balance.available.some((b: { currency: string; amount: number }) => b.currency === 'usd' && b.amount > 0));
    assert.deepEqual(summary.application_fees.totals.map((t: any) => [t.currency, t.amount, t.count]), [['usd', 2000, 2]]);
    const fresh = await h.sandbox.accounts.create({ type: 'express', email: 'new-seller@example.com' });
    const pending = await connectByOAuth(h, h.key, fresh.id);
    assert.equal(pending.account, fresh.id);
    const before = (await h.api('GET', `/v1/connections/${pending.connection}/connect`)).json.onboarding;
    assert.equal(before.charges_enabled, false);
    assert.ok(before.currently_due.includes('external_account'));
    const link = (await h.api('POST', `/v1/connections/${pending.connection}/onboarding_link`, {})).json;
    assert.match(link.url, /\/_sandbox\/connect\/onboarding\//);
    const done = await fetch(link.url, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'tos=accepted' });
    assert.equal(done.headers.get('location'), `${h.gw.url}/#/connections/${pending.connection}`);
    assert.equal((await h.api('GET', `/v1/connections/${pending.connection}/connect`)).json.onboarding.charges_enabled, true);
    const keyConn = (await h.api('GET', '/v1/connections')).json.data.find((c: { type: string }) => c.type === 'api_key');
    assert.equal((await h.api('GET', `/v1/connections/${keyConn.id}/connect`)).json.error.code, 'connect_required');
  });
});
