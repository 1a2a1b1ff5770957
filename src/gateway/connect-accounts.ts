/**
 * A Connect OAuth connection's side of the platform's money: its account's
 * onboarding (`charges_enabled`, what is still due) and an onboarding link
 * to send, its balance and payouts, and the platform's fees from it. The
 * account and the fees are read as the platform (they are the platform's
 * objects); the balance and payouts as the account.
 */
import { invalidRequest } from '../stripe/errors.js';
import type { AppKey } from './apps.js';
import type { Connection, Connections } from './connections.js';
import { checkRedirectUrl } from './paths.js';
import type { Proxy } from './proxy.js';
import type { Runtime } from './runtime.js';

const PLATFORM = { asPlatform: true };

export class ConnectAccounts {
  constructor(private readonly rt: Runtime, private readonly conns: Connections, private readonly proxy: Proxy) {}

  private async oauthConnection(app: AppKey, id: string): Promise<Connection> {
    const conn = await this.conns.require(app, id);
    if (conn.kind !== 'oauth' || !conn.accountId) {
      throw invalidRequest(`Connection ${conn.id} is not a Stripe Connect OAuth connection: its account is not one of the platform's connected accounts.`, { code: 'connect_required' });
    }
    return conn;
  }

  /** `GET /v1/connections/:id/connect`: onboarding, balance, recent payouts and the platform's fees from the account. */
  async summary(app: AppKey, id: string) {
    const conn = await this.oauthConnection(app, id);
    const [account, balance, payouts, fees] = await Promise.all([
      this.proxy.request(app, conn, 'GET', `/v1/accounts/${encodeURIComponent(conn.accountId!)}`, undefined, undefined, 'paybridge', PLATFORM),
      this.proxy.request(app, conn, 'GET', '/v1/balance'),
      this.proxy.request(app, conn, 'GET', '/v1/payouts', { limit: 10 }),
      this.platformFees(app, conn),
    ]);
    const totals = new Map<string, { currency: string; amount: number; refunded: number; count: number }>();
    for (const f of fees) {
      const t = totals.get(f.currency) ?? { currency: f.currency, amount: 0, refunded: 0, count: 0 };
      t.amount += f.amount;
      t.refunded += f.amount_refunded;
      t.count++;
      totals.set(f.currency, t);
    }
    return {
      object: 'connect_summary', connection: conn.id, account: conn.accountId,
      onboarding: {
        charges_enabled: account.charges_enabled, payouts_enabled: account.payouts_enabled, details_submitted: account.details_submitted,
        currently_due: account.requirements?.currently_due ?? [], disabled_reason: account.requirements?.disabled_reason ?? null,
        type: account.type ?? null, dashboard: account.controller?.stripe_dashboard?.type ?? null,
      },
      balance: { available: balance.available ?? [], pending: balance.pending ?? [] },
      payouts: (payouts.data ?? []).map((p: any) => ({ id: p.id, amount: p.amount, currency: p.currency, status: p.status, arrival_date: p.arrival_date, created: p.created, failure_code: p.failure_code ?? null })),
      application_fees: {
        totals: [...totals.values()].map((t) => ({ ...t, net: t.amount - t.refunded })),
        recent: fees.slice(0, 10).map((f) => ({ id: f.id, amount: f.amount, amount_refunded: f.amount_refunded, currency: f.currency, charge: f.charge, created: f.created })),
      },
    };
  }

  /** The platform's application fees taken from this connection's account (the last 500), newest first. */
  private async platformFees(app: AppKey, conn: Connection): Promise<any[]> {
    const out: any[] = [];
    let after: string | undefined;
    for (let page = 0; page < 5; page++) {
      const list = await this.proxy.request(app, conn, 'GET', '/v1/application_fees', { limit: 100, ...(after ? { starting_after: after } : {}) }, undefined, 'paybridge', PLATFORM);
      out.push(...(list.data ?? []).filter((f: any) => f.account === conn.accountId));
      if (!list.has_more || !list.data?.length) break;
      after = list.data.at(-1).id;
    }
    return out;
  }

  /** `POST /v1/connections/:id/onboarding_link`: an account link to send the account's owner (single use, minutes). */
  async onboardingLink(app: AppKey, id: string, p: { return_url?: unknown; refresh_url?: unknown; type?: unknown }) {
    const conn = await this.oauthConnection(app, id);
    for (const url of ['return_url', 'refresh_url'] as const) if (p[url] !== undefined) checkRedirectUrl(p[url], url);
    const type = p.type === 'account_update' ? 'account_update' : 'account_onboarding';
    const back = `${this.rt.publicUrl}/#/connections/${conn.id}`;
    const link = await this.proxy.request(app, conn, 'POST', '/v1/account_links', {
      account: conn.accountId, type, return_url: (p.return_url as string | undefined) ?? back, refresh_url: (p.refresh_url as string | undefined) ?? back,
    }, undefined, 'paybridge', PLATFORM);
    return { object: 'onboarding_link', connection: conn.id, account: conn.accountId, type, url: link.url, expires_at: link.expires_at };
  }
}
