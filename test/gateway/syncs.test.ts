/** Syncs into the database: a paged backfill, events keeping records current (never older over newer), records and SQL reports. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import { backends, dropTestDatabases, eventually, startGatewayHarness, type GatewayHarness } from './harness.js';

const list = await backends();
after(() => (list.some((b) => b.name === 'postgres') ? dropTestDatabases() : undefined));

for (const backend of list) {
  describe(`syncs on ${backend.name}`, () => {
    let h: GatewayHarness;
    let conn: string;
    let unusual: { id: string; name: string; metadata: Record<string, string> };
    const proxy = (path: string, body?: string) =>
      fetch(`${h.gw.url}/proxy/${conn}${path}`, { method: body === undefined ? 'GET' : 'POST', headers: { authorization: `Bearer ${h.key}` }, body }).then((r) => r.json());

    before(async () => {
      h = await startGatewayHarness({ databaseUrl: await backend.database() });
      conn = (await h.api('POST', '/v1/connections', { secret_key: 'sk_test_syncs' })).json.id;
      for (let i = 0; i < 129; i++) await proxy('/v1/customers', `email=c${i}%40example.com`);
      // Text that JSON escapes, in more than one byte per character: the backfill stores Stripe's bytes as they came.
      unusual = await proxy('/v1/customers', `email=z%40example.com&name=${encodeURIComponent('Zoë "Ünïcode" \\ 💳')}&metadata[note]=${encodeURIComponent('line1\nline2\t\u0001 ✓')}`);
      const a = await proxy('/v1/payment_intents', 'amount=1000&currency=usd&payment_method=pm_card_visa&confirm=true&description=Mugs');
      await proxy('/v1/payment_intents', 'amount=2000&currency=usd&payment_method=pm_card_visa&confirm=true&description=Mugs');
      await proxy('/v1/payment_intents', 'amount=3000&currency=usd&payment_method=pm_card_visa&confirm=true&description=Posters');
      await proxy('/v1/refunds', `payment_intent=${a.id}&amount=500`);
      await proxy('/v1/payment_intents', `amount=700&currency=usd&payment_method=pm_card_chargeDeclinedInsufficientFunds&confirm=true&description=Mugs&customer=${unusual.id}`);
    });
    after(() => h?.close());

    it('backfills every model through paged lists, and pages through records', async () => {
      const started = await h.api('POST', `/v1/connections/${conn}/sync`);
      assert.equal(started.status, 200);
      await h.gw.services.syncs.settled(conn);
      const status = (await h.api('GET', `/v1/connections/${conn}/sync`)).json;
      assert.ok(status.models.every((m: { status: string }) => m.status === 'synced'), JSON.stringify(status));
      assert.equal(status.models.find((m: { model: string }) => m.model === 'customers').synced, 130);
      const seen = new Set<string>();
      let cursor: string | null = null;
      for (;;) {
        const page: { data: { id: string }[]; has_more: boolean; next_cursor: string } = (await h.api('GET', `/v1/records?connection=${conn}&model=customers&limit=50${cursor ? `&cursor=${cursor}` : ''}`)).json;
        page.data.forEach((r) => seen.add(r.id));
        if (!page.has_more) break;
        cursor = page.next_cursor;
      }
      assert.equal(seen.size, 130);
      const all = (await h.api('GET', `/v1/records?connection=${conn}&model=customers&limit=1000`)).json.data;
      const stored = all.find((r: { id: string }) => r.id === unusual.id).data;
      assert.deepEqual(stored, unusual);
      assert.equal(stored.name, 'Zoë "Ünïcode" \\ 💳');
      assert.equal(stored.metadata.note, 'line1\nline2\t\u0001 ✓');
      const charges = (await h.api('GET', `/v1/records?connection=${conn}&model=charges`)).json.data;
      assert.equal(charges.length, 4);
    });

    it('skips the models a restricted key may not read, says so plainly, and raises no failure', async () => {
      const rk = await fetch(`${h.gw.sandbox!.url}/_sandbox/restricted_keys`, {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ permissions: { customers: 'read', charges: 'read' } }),
      }).then((r) => r.json());
      const restricted = (await h.api('POST', '/v1/connections', { secret_key: rk.secret })).json.id;
      await h.api('POST', `/v1/connections/${restricted}/sync`, {});
      const status = await eventually(async () => {
        const s = (await h.api('GET', `/v1/connections/${restricted}/sync`)).json;
        assert.ok(s.models.length === 12 && s.models.every((m: { status: string }) => m.status !== 'backfilling'), JSON.stringify(s));
        return s;
      }, 20_000);
      const by = Object.fromEntries(status.models.map((m: { model: string }) => [m.model, m]));
      assert.equal(by.customers.status, 'synced');
      assert.equal(by.charges.status, 'synced');
      assert.ok(typeof by.customers.last_synced_at === 'number', 'the last synced time is shown');
      for (const model of ['products', 'prices', 'subscriptions', 'invoices', 'payment_intents', 'refunds', 'disputes', 'payouts', 'transfers', 'application_fees']) {
        assert.equal(by[model].status, 'skipped', model);
        assert.match(by[model].error, /^Not permitted by this key \(it needs \w+ read\)\.$/, model);
      }
      const failures = (await h.api('GET', '/v1/gateway_events?type=sync.failed&limit=100')).json.data;
      assert.deepEqual(failures.filter((e: { data: { connection: string } }) => e.data.connection === restricted), []);
    });

    it('keeps records current from events, and an older event never overwrites a newer version', async () => {
      const records = (await h.api('GET', `/v1/records?connection=${conn}&model=customers&limit=1`)).json.data;
      const id = records[0].id;
      const end = (await h.api('GET', `/v1/records?connection=${conn}&model=customers&limit=1000`)).json;
      assert.equal(end.has_more, false);
      await proxy(`/v1/customers/${id}`, 'name=Renamed%20by%20the%20app');
      const deadline = Date.now() + 5000;
      let current;
      do {
        current = (await h.api('GET', `/v1/records?connection=${conn}&model=customers&limit=1000`)).json.data.find((r: { id: string }) => r.id === id);
        if (current.data.name === 'Renamed by the app') break;
        await new Promise((r) => setTimeout(r, 50));
      } while (Date.now() < deadline);
      assert.equal(current.data.name, 'Renamed by the app');
      // Records come in the order they last changed: the cursor kept from the end of the list now yields just this change.
      const since = (await h.api('GET', `/v1/records?connection=${conn}&model=customers&cursor=${end.next_cursor}`)).json;
      assert.deepEqual(since.data.map((r: { id: string }) => r.id), [id]);
      const connection = await h.gw.services.connections.load(conn);
      await h.gw.services.syncs.onEvent(connection!, { type: 'customer.updated', created: 1_000_000_000, data: { object: { ...current.data, name: 'Stale' } } });
      const after = (await h.api('GET', `/v1/records?connection=${conn}&model=customers&limit=1000`)).json.data.find((r: { id: string }) => r.id === id);
      assert.equal(after.data.name, 'Renamed by the app');
    });

    it('tells the app what changed with records.* events', async () => {
      const events = (await h.api('GET', '/v1/gateway_events?type=records.updated&limit=100')).json.data;
      assert.ok(events.some((e: { data: { model: string } }) => e.data.model === 'customers'), 'the rename above was announced');
      const added = (await h.api('GET', '/v1/gateway_events?type=records.added&limit=100')).json.data;
      assert.ok(added.reduce((n: number, e: { data: { ids?: string[] } }) => n + (e.data.ids?.length ?? 1), 0) >= 100, 'new records are announced (one by one from events, by page from the backfill)');
    });

    it('reports MRR and churn from synced subscriptions', async () => {
      const monthly = await proxy('/v1/prices', 'currency=usd&unit_amount=1000&recurring[interval]=month&product_data[name]=Monthly');
      const yearly = await proxy('/v1/prices', 'currency=usd&unit_amount=12000&recurring[interval]=year&product_data[name]=Yearly');
      const customer = await proxy('/v1/customers', 'email=subs%40example.com&payment_method=pm_card_visa&invoice_settings[default_payment_method]=pm_card_visa');
      await proxy('/v1/subscriptions', `customer=${customer.id}&items[0][price]=${monthly.id}&items[0][quantity]=2`);
      await proxy('/v1/subscriptions', `customer=${customer.id}&items[0][price]=${yearly.id}`);
      const gone = await proxy('/v1/subscriptions', `customer=${customer.id}&items[0][price]=${monthly.id}`);
      await fetch(`${h.gw.url}/proxy/${conn}/v1/subscriptions/${gone.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${h.key}` } });
      await h.api('POST', `/v1/connections/${conn}/sync`);
      await h.gw.services.syncs.settled(conn);
      // The cancellation arrives as Stripe's customer.subscription.deleted event, processed after the webhook's answer.
      await eventually(async () => {
        const report = (await h.api('GET', `/v1/reports/subscriptions?connection=${conn}`)).json;
        assert.deepEqual(report.mrr, [{ currency: 'usd', mrr: 2000 + 1000, subscriptions: 2 }]);
        assert.equal(report.active, 2);
        assert.equal(report.churned_30d, 1);
        assert.equal(report.churn_rate_30d, 0.3333);
      });
    });

    it('removes a deleted connection\'s records, even while its backfill runs, and stores none after', async () => {
      const other = (await h.api('POST', '/v1/connections', { secret_key: 'sk_test_syncs_deleted' })).json.id;
      const post = (path: string, body: string) => fetch(`${h.gw.url}/proxy/${other}${path}`, { method: 'POST', headers: { authorization: `Bearer ${h.key}` }, body }).then((r) => r.json());
      const customers = await Promise.all(Array.from({ length: 300 }, (_, i) => post('/v1/customers', `email=gone${i}%40example.com`)));
      const count = async (table: string) => Number(((await h.gw.services.rt.db.execute(sql`SELECT count(*) AS n FROM ${sql.raw(table)} WHERE connection_id = ${other}`)).rows[0] as { n: string }).n);
      assert.equal((await h.api('POST', `/v1/connections/${other}/sync`)).status, 200);
      await eventually(async () => assert.ok((await count('records')) > 0));
      const connection = await h.gw.services.connections.load(other, true);
      const kept = async () => (await h.api('GET', `/v1/records?connection=${conn}&model=customers&limit=1000`)).json.data.length;
      const before = await kept();
      assert.equal((await h.api('DELETE', `/v1/connections/${other}`)).status, 200);
      await h.gw.services.syncs.settled(other);
      assert.equal(await count('records'), 0);
      assert.equal(await count('sync_state'), 0);
      assert.equal((await h.api('GET', `/v1/records?connection=${other}&model=customers`)).status, 404);
      await h.gw.services.syncs.onEvent(connection!, { type: 'customer.updated', created: Math.floor(Date.now() / 1000), data: { object: { ...customers[0], name: 'After' } } });
      assert.equal(await count('records'), 0);
      // The records of another connection (of the same sandbox account, so it keeps receiving these customers' events) stay.
      assert.ok((await kept()) >= before);
    });

    it('reports revenue and failed payments by SQL, matching hand-computed figures', async () => {
      // The subscriptions of the test above paid 2 × $10 + $120 + $10 on creation; their charges arrive as events.
      await eventually(async () => {
        const revenue = (await h.api('GET', `/v1/reports/revenue?connection=${conn}`)).json.rows;
        const byProduct = Object.fromEntries(revenue.map((r: { product: string; gross: number; refunds: number; net: number }) => [r.product, [r.gross, r.refunds, r.net]]));
        // Invoice-paid charges count under the products of the invoices' lines (issue 18: they were all "Subscription creation").
        assert.deepEqual(byProduct, { Mugs: [3000, 500, 2500], Posters: [3000, 0, 3000], Monthly: [3000, 0, 3000], Yearly: [12000, 0, 12000] });
      });
      const failed = (await h.api('GET', `/v1/reports/failed_payments?connection=${conn}&hours=24`)).json.rows;
      assert.equal(failed.length, 1);
      assert.equal(failed[0].amount, 700);
      assert.equal(failed[0].failure_code, 'card_declined');
      assert.equal(failed[0].customer_email, 'z@example.com', 'the customer is named, not only cus_…');
    });
  });
}
