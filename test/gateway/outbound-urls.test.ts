/**
 * URLs that apps hand PayBridge (webhook endpoints, sync alert URLs) cannot
 * point inward (issue 16): every refused address class in every spelling is
 * refused when registered, a name that resolves inward is refused when
 * connecting, redirects are not followed, loopback is allowed only where the
 * operator allows it, and an app has a bounded number of endpoints.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { eventually, startGatewayHarness, type GatewayHarness } from './harness.js';

/** Refused under every policy short of `private`, whatever the spelling. */
const INWARD = [
  'http://169.254.169.254/latest/meta-data/', 'http://[fd00:ec2::254]/', 'http://10.0.0.1/', 'http://172.16.5.4/', 'http://192.168.1.1:6379/',
  'http://100.64.0.1/', 'http://224.0.0.1/', 'http://0.0.0.0/', 'http://[::]/', 'http://[fe80::1]/', 'http://[fc00::1]/', 'http://255.255.255.255/',
  'http://0xa9fea9fe/', 'http://2852039166/', 'http://169.254.43518/', 'http://[::ffff:169.254.169.254]/', 'http://[::ffff:a9fe:a9fe]/', 'http://012.0.0.1/',
];
/** Loopback in its spellings: refused unless loopback is allowed. */
const LOOPBACK = ['http://127.0.0.1:6379/', 'http://[::1]/', 'http://2130706433/', 'http://0x7f000001/', 'http://127.1/', 'http://[::ffff:127.0.0.1]/', 'http://0177.0.0.1/'];
const NOT_HTTP = ['ftp://example.com/x', 'gopher://127.0.0.1:6379/_INFO', 'file:///etc/passwd', 'javascript:alert(1)', 'http://', 'http:///x', 'http://user:pass@example.com/'];

const endpoint = (h: GatewayHarness, url: string) => h.api('POST', '/v1/webhook_endpoints', { url, enabled_events: ['*'] });

/** A Stripe event for the app: a customer created through a connection of its own, whose event the gateway passes on. */
async function trigger(h: GatewayHarness, key: string): Promise<void> {
  const conn = (await h.api('POST', '/v1/connections', { secret_key: key })).json.id;
  const res = await fetch(`${h.gw.url}/proxy/${conn}/v1/customers`, { method: 'POST', headers: { authorization: `Bearer ${h.key}` }, body: 'email=hook%40example.com' });
  assert.equal(res.status, 200);
}

async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<Server & { url: string }> {
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return Object.assign(server, { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
}

describe('outbound URLs under the default policy (embedded: loopback allowed)', () => {
  let h: GatewayHarness;
  const hits: string[] = [];
  let target: Server & { url: string };
  before(async () => {
    h = await startGatewayHarness({ config: { appWebhookRetryBaseMs: 60_000 } });
    target = await listen((req, res) => {
      hits.push(req.url!);
      if (req.url === '/redirect') res.writeHead(307, { location: `${target.url}/landed` }).end();
      else res.writeHead(500).end('x'.repeat(5000));
    });
  });
  after(async () => {
    await h?.close();
    target?.close();
  });

  it('refuses every inward address class in every spelling, and every scheme but http(s), naming the reason', async () => {
    for (const url of [...INWARD, ...NOT_HTTP]) {
      const answer = await endpoint(h, url);
      assert.equal(answer.status, 400, `${url} → ${answer.status}`);
      assert.equal(answer.json.error.param, 'url', url);
      assert.match(answer.json.error.message, /(address|scheme|http|credentials|host)/i, url);
    }
    const conn = (await h.api('POST', '/v1/connections', { secret_key: 'sk_test_alerts' })).json.id;
    for (const url of INWARD) {
      const alert = await h.api('POST', `/v1/connections/${conn}/sync`, { alert_url: url });
      assert.equal(alert.status, 400, `alert_url ${url}`);
    }
  });

  it('accepts loopback in the embedded default, so local development works', async () => {
    for (const url of LOOPBACK) {
      const created = await endpoint(h, url);
      assert.equal(created.status, 200, url);
      await h.api('DELETE', `/v1/webhook_endpoints/${created.json.id}`);
    }
  });

  it('does not follow a redirect, and shows the app only the status and a short body', async () => {
    const created = await h.api('POST', '/v1/webhook_endpoints', { url: `${target.url}/redirect`, enabled_events: ['*'] });
    assert.equal(created.status, 200);
    await trigger(h, 'sk_test_redirected');
    // The first attempt of the first delivery (later ones about the same customer wait behind it).
    const firstAttempt = async (endpointId: string) => eventually(async () => {
      const all = (await h.api('GET', `/v1/webhook_endpoints/${endpointId}/deliveries`)).json.data;
      const d = all.find((x: { attempts: number }) => x.attempts >= 1);
      assert.ok(d, JSON.stringify(all));
      return d;
    });
    const delivery = await firstAttempt(created.json.id);
    assert.equal(delivery.last_status, 307);
    assert.ok(!hits.includes('/landed'), 'the redirect was not followed');
    const failing = await h.api('POST', '/v1/webhook_endpoints', { url: `${target.url}/fails`, enabled_events: ['*'] });
    await trigger(h, 'sk_test_failing');
    const failed = await firstAttempt(failing.json.id);
    assert.equal(failed.last_status, 500);
    assert.ok(typeof failed.last_response === 'string' && failed.last_response.length <= 500, 'a short body');
  });

  it('limits the endpoints of one app', async () => {
    const existing = (await h.api('GET', '/v1/webhook_endpoints')).json.data.length;
    let refused: { status: number; json: any } | undefined;
    for (let i = existing; i < 20 && !refused; i++) {
      const answer = await endpoint(h, `${target.url}/many/${i}`);
      if (answer.status !== 200) refused = answer;
    }
    assert.ok(refused, 'the 17th endpoint is refused');
    assert.equal(refused.status, 400);
    assert.match(refused.json.error.message, /16/);
    assert.equal((await h.api('GET', '/v1/webhook_endpoints')).json.data.length, 16);
  });
});

describe('outbound URLs with PAYBRIDGE_ALLOW_PRIVATE_URLS=none', () => {
  let h: GatewayHarness;
  const hits: string[] = [];
  let target: Server & { url: string };
  before(async () => {
    h = await startGatewayHarness({ env: { PAYBRIDGE_ALLOW_PRIVATE_URLS: 'none' } });
    target = await listen((req, res) => {
      hits.push(req.url!);
      res.end('ok');
    });
  });
  after(async () => {
    await h?.close();
    target?.close();
  });

  it('refuses loopback literals when registered', async () => {
    for (const url of LOOPBACK) assert.equal((await endpoint(h, url)).status, 400, url);
  });

  it('refuses a name that resolves to loopback when connecting (so DNS rebinding fails)', async () => {
    const port = (target.address() as AddressInfo).port;
    const created = await endpoint(h, `http://localhost:${port}/rebound`);
    assert.equal(created.status, 200, 'a name is accepted when registered: it is checked when connecting');
    await trigger(h, 'sk_test_rebinding');
    const delivery = await eventually(async () => {
      const d = (await h.api('GET', `/v1/webhook_endpoints/${created.json.id}/deliveries`)).json.data[0];
      assert.ok(d && d.attempts >= 1);
      return d;
    });
    assert.equal(delivery.last_status, null);
    assert.match(delivery.last_error, /refused/i);
    assert.deepEqual(hits, []);
  });
});
