/**
 * MCP authorization at /mcp (issue 21), with the official MCP SDK client's
 * OAuth support as the MCP client: discovery from the 401, dynamic client
 * registration, PKCE S256, the admin's consent over the dashboard's API,
 * the code exchange, tools limited to what was granted, refresh rotation,
 * and revocation from the connection's keys. Then the protocol's edges by
 * hand: a wrong verifier, a used code, a foreign resource, a denial.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UnauthorizedError, type OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import type { OAuthClientInformationMixed, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
import { startGatewayHarness, type GatewayHarness } from '../gateway/harness.js';

const PASSWORD = 'mcp-oauth-admin-password';
const REDIRECT = 'http://127.0.0.1:9/callback';

/** An MCP client's side of OAuth, in memory: what a desktop agent keeps on disk. */
class MemoryProvider implements OAuthClientProvider {
  info?: OAuthClientInformationMixed;
  saved?: OAuthTokens;
  verifier = '';
  authorizationUrl?: URL;
  get redirectUrl() {
    return REDIRECT;
  }
  get clientMetadata() {
    return { client_name: 'Test agent', redirect_uris: [REDIRECT], grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], token_endpoint_auth_method: 'none' };
  }
  clientInformation() {
    return this.info;
  }
  saveClientInformation(info: OAuthClientInformationMixed) {
    this.info = info;
  }
  tokens() {
    return this.saved;
  }
  saveTokens(tokens: OAuthTokens) {
    this.saved = tokens;
  }
  redirectToAuthorization(url: URL) {
    this.authorizationUrl = url;
  }
  saveCodeVerifier(v: string) {
    this.verifier = v;
  }
  codeVerifier() {
    return this.verifier;
  }
}

type Result = { isError?: boolean; content: { type: string; text: string }[] };

describe('MCP authorization: PayBridge as the OAuth server of /mcp', () => {
  let h: GatewayHarness;
  let conn: { id: string };
  let cookie = '';
  let csrf = '';
  before(async () => {
    h = await startGatewayHarness({ env: { PAYBRIDGE_ADMIN_PASSWORD: PASSWORD } });
    conn = (await h.api('POST', '/v1/connections', { secret_key: 'sk_test_mcp_oauth' })).json;
    const res = await fetch(`${h.gw.url}/dashboard/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ password: PASSWORD }) });
    cookie = res.headers.get('set-cookie')!.split(';')[0];
    csrf = (await res.json()).csrf_token;
  });
  after(() => h?.close());

  /** The dashboard's consent API, as the signed-in admin acting in the default app's test mode. */
  const admin = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(h.gw.url + path, {
      method, body: body === undefined ? undefined : JSON.stringify(body),
      headers: { cookie, 'paybridge-mode': 'test', ...(method === 'GET' ? {} : { 'x-csrf-token': csrf }), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    });
    return { status: res.status, json: await res.json() };
  };

  /** Follows an authorization URL to the consent page and answers it; answers the redirect back to the client. */
  const consent = async (authorizationUrl: string | URL, answer: { approve: boolean; permissions?: Record<string, string> }) => {
    const res = await fetch(authorizationUrl, { redirect: 'manual' });
    assert.equal(res.status, 302, await res.text());
    const location = res.headers.get('location')!;
    const id = /#\/authorize\/(mcpr_\w+)$/.exec(location)?.[1];
    assert.ok(id, `sent to the dashboard's consent page: ${location}`);
    const shown = await admin('GET', `/dashboard/api/oauth/requests/${id}`);
    assert.equal(shown.status, 200, JSON.stringify(shown.json));
    const decided = await admin('POST', `/dashboard/api/oauth/requests/${id}`, { approve: answer.approve, connection: conn.id, permissions: answer.permissions });
    assert.equal(decided.status, 200, JSON.stringify(decided.json));
    return { shown: shown.json, back: new URL(decided.json.redirect_to) };
  };

  const mcpPost = (token: string) => fetch(`${h.gw.url}/mcp`, {
    method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
  });

  it('points a client without a token to its metadata, and publishes the authorization server’s', async () => {
    const res = await fetch(`${h.gw.url}/mcp`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    assert.equal(res.status, 401);
    const challenge = res.headers.get('www-authenticate') ?? '';
    const metadataUrl = /^Bearer resource_metadata="([^"]+)"$/.exec(challenge)?.[1];
    assert.equal(metadataUrl, `${h.gw.url}/.well-known/oauth-protected-resource`);
    assert.equal((await res.json()).error.type, 'invalid_request_error', 'the body stays a Stripe-shaped error');
    for (const url of [metadataUrl!, `${h.gw.url}/.well-known/oauth-protected-resource/mcp`]) {
      const resource = await (await fetch(url)).json();
      assert.equal(resource.resource, `${h.gw.url}/mcp`);
      assert.deepEqual(resource.authorization_servers, [`${h.gw.url}/`]);
    }
    const server = await (await fetch(`${h.gw.url}/.well-known/oauth-authorization-server`)).json();
    assert.deepEqual(server.code_challenge_methods_supported, ['S256']);
    assert.deepEqual(server.grant_types_supported, ['authorization_code', 'refresh_token']);
    for (const endpoint of ['authorization_endpoint', 'token_endpoint', 'registration_endpoint', 'revocation_endpoint']) assert.match(server[endpoint], new RegExp(`^${h.gw.url}/`), endpoint);
  });

  it('lets the SDK’s client register, get the admin’s consent, and use only what was granted; refreshes rotate; revoking ends it', async () => {
    const provider = new MemoryProvider();
    const first = new StreamableHTTPClientTransport(new URL(`${h.gw.url}/mcp`), { authProvider: provider });
    await assert.rejects(new Client({ name: 'oauth-agent', version: '1.0.0' }).connect(first), UnauthorizedError);
    assert.match(String(provider.info?.client_id), /^mcpc_/, 'registered dynamically');
    const asked = provider.authorizationUrl!;
    assert.equal(asked.searchParams.get('code_challenge_method'), 'S256');
    assert.equal(asked.searchParams.get('resource'), `${h.gw.url}/mcp`);
    const { shown, back } = await consent(asked, { approve: true, permissions: { customers: 'read' } });
    assert.equal(shown.client_name, 'Test agent');
    assert.equal(shown.redirect_uri, REDIRECT);
    assert.equal(back.origin + back.pathname, REDIRECT);
    assert.equal(back.searchParams.get('state'), asked.searchParams.get('state'));
    await first.finishAuth(back.searchParams.get('code')!);
    const tokens = provider.saved!;
    assert.match(tokens.access_token, /^pbk_test_oat_/);
    assert.equal(tokens.expires_in, 3600);
    assert.equal(tokens.scope, 'customers:read');

    const client = new Client({ name: 'oauth-agent', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${h.gw.url}/mcp`), { authProvider: provider }));
    try {
      const names = (await client.listTools()).tools.map((t) => t.name);
      assert.ok(names.includes('list_customers'));
      assert.ok(!names.includes('create_customer'), 'only what the admin granted');
      const listed = (await client.callTool({ name: 'list_customers', arguments: { limit: 1 } })) as Result;
      assert.notEqual(listed.isError, true, listed.content[0].text);
      const refused = (await client.callTool({ name: 'create_customer', arguments: { name: 'No' } })) as Result;
      assert.match(refused.content[0].text, /^Refused: create_customer is not offered/);
    } finally {
      await client.close();
    }
    const rest = await fetch(`${h.gw.url}/v1/customers`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    assert.equal(rest.status, 401, 'an MCP access token is not a Stripe API key');

    // Refresh: new tokens, the old refresh token is spent, the old access token stops working.
    const refresh = (refreshToken: string) => fetch(`${h.gw.url}/token`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: String(provider.info!.client_id) }),
    });
    const renewed = await refresh(tokens.refresh_token!);
    assert.equal(renewed.status, 200);
    const next = (await renewed.json()) as OAuthTokens;
    assert.notEqual(next.access_token, tokens.access_token);
    assert.equal((await refresh(tokens.refresh_token!)).status, 400, 'a refresh token is used once');
    assert.equal((await mcpPost(tokens.access_token)).status, 401, 'the replaced access token is refused');
    assert.equal((await mcpPost(next.access_token)).status, 200);

    // The grant is one of the connection's keys, named by its client; revoking it there ends the client's access.
    const keys = (await h.api('GET', `/v1/connections/${conn.id}/keys`)).json.data;
    const grant = keys.find((k: { oauth_client: { name: string } | null }) => k.oauth_client?.name === 'Test agent');
    assert.ok(grant, JSON.stringify(keys));
    assert.deepEqual(grant.permissions, { customers: 'read' });
    assert.equal((await h.api('DELETE', `/v1/connections/${conn.id}/keys/${grant.id}`)).status, 200);
    assert.equal((await mcpPost(next.access_token)).status, 401);
    assert.equal((await refresh(next.refresh_token!)).status, 400, 'a revoked grant cannot be refreshed');
  });

  it('refuses a wrong verifier, a used code, another resource, an http redirect elsewhere; a denial goes back as access_denied', async () => {
    const register = async (redirect: string) => fetch(`${h.gw.url}/register`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_name: 'By hand', redirect_uris: [redirect], token_endpoint_auth_method: 'none' }),
    });
    assert.equal((await register('http://attacker.example/cb')).status, 400, 'plain http to another machine is refused');
    const client = await (await register(REDIRECT)).json();
    const verifier = randomBytes(32).toString('base64url');
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const authorize = (extra: Record<string, string> = {}) => `${h.gw.url}/authorize?${new URLSearchParams({
      response_type: 'code', client_id: client.client_id, redirect_uri: REDIRECT, code_challenge: challenge, code_challenge_method: 'S256', state: 'xyz', ...extra,
    })}`;
    const token = (code: string, codeVerifier: string) => fetch(`${h.gw.url}/token`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'authorization_code', code, code_verifier: codeVerifier, redirect_uri: REDIRECT, client_id: client.client_id }),
    });

    const { back } = await consent(authorize({ scope: 'customers:write' }), { approve: true, permissions: { customers: 'write' } });
    assert.equal(back.searchParams.get('iss'), `${h.gw.url}/`);
    const code = back.searchParams.get('code')!;
    const wrong = await token(code, randomBytes(32).toString('base64url'));
    assert.equal(wrong.status, 400);
    assert.equal((await wrong.json()).error, 'invalid_grant');
    assert.equal((await token(code, verifier)).status, 200);
    const again = await token(code, verifier);
    assert.equal((await again.json()).error, 'invalid_grant', 'a code is used once');

    const foreign = await fetch(authorize({ resource: 'https://elsewhere.example/mcp' }), { redirect: 'manual' });
    const refusedTarget = new URL(foreign.headers.get('location')!);
    assert.equal(refusedTarget.searchParams.get('error'), 'invalid_target');
    assert.equal(refusedTarget.searchParams.get('state'), 'xyz');

    const denied = await consent(authorize(), { approve: false });
    assert.equal(denied.back.searchParams.get('error'), 'access_denied');
    assert.equal(denied.back.searchParams.get('code'), null);

    const noSession = await fetch(`${h.gw.url}/dashboard/api/oauth/requests/mcpr_nothing`);
    assert.equal(noSession.status, 401, 'the consent API needs the signed-in admin');
  });
});
