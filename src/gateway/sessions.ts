/**
 * Payment sessions: an app asks for a charge (or a saved card), the payer
 * completes it on Stripe Checkout through a PayBridge link, and the app reads
 * back the processor details — or charges the saved card later, off-session.
 * Every Stripe call carries an idempotency key derived from the session, so
 * retries never create a second Checkout Session, customer or payment.
 * Status is learned when the payer comes back, from Stripe's Checkout events
 * (`/webhooks/stripe`), and by asking Stripe whenever an open session is read.
 */
import { createHash } from 'node:crypto';
import { and, desc, eq, lt, sql, type SQL } from 'drizzle-orm';
import { invalidRequest, resourceMissing, StripeError } from '../stripe/errors.js';
import { connections, gatewayEvents, paymentSessions } from '../store/schema.js';
import type { AppKey } from './apps.js';
import type { Connection, Connections } from './connections.js';
import { newGatewayId } from './ids.js';
import { checkRedirectUrl } from './paths.js';
import type { Proxy } from './proxy.js';
import { emitGatewayEvent, type Runtime } from './runtime.js';

type Session = typeof paymentSessions.$inferSelect;

const seconds = (d: Date | null) => (d ? Math.floor(d.getTime() / 1000) : null);
const FINAL = ['succeeded', 'failed', 'expired', 'canceled'];

/** A failed attempt as a session reports it: Stripe's message and codes. */
const attemptFailure = (e: { message?: string; code?: string; decline_code?: string }) => ({ message: e.message ?? 'The payment failed.', code: e.code ?? null, decline_code: e.decline_code ?? null });

export function sessionView(s: Session, publicUrl: string) {
  return {
    id: s.id,
    object: 'session',
    mode: s.kind,
    status: s.status,
    livemode: s.mode === 'live',
    connection: s.connectionId,
    amount: s.amount,
    currency: s.currency,
    customer_email: s.customerEmail,
    description: s.description,
    metadata: s.metadata,
    url: `${publicUrl}/s/${s.id}`,
    success_url: s.successUrl,
    cancel_url: s.cancelUrl,
    processor: s.processor ?? null,
    failure: s.failure ?? null,
    ui_mode: s.uiMode ?? 'hosted',
    charge_type: s.chargeType ?? null,
    application_fee_amount: s.applicationFeeAmount ?? null,
    on_behalf_of: s.chargeType === 'destination' ? !!s.onBehalfOf : null,
    expires_at: seconds(s.expiresAt),
    created: seconds(s.createdAt),
  };
}

/** Stripe calls about a session go where its Checkout Session is: the platform's for a destination charge. */
const onPlatform = (s: Session) => ({ asPlatform: s.chargeType === 'destination' });
const idOf = (v: unknown) => (typeof v === 'string' ? v : (v as { id?: string } | null)?.id ?? null);

/**
 * A session's platform fee and charge type, from `application_fee_amount` or `application_fee_percent` (of the
 * amount), `charge_type` (`direct`, the default, or `destination`) and, for a destination charge, `on_behalf_of`
 * (the account as settlement merchant; true by default). Undefined when the session asks for none of them.
 */
function platformFee(p: Record<string, any>, kind: string, amount: number | undefined): { chargeType: 'direct' | 'destination'; fee?: number; onBehalfOf: boolean } | undefined {
  const asked = ['application_fee_amount', 'application_fee_percent', 'charge_type', 'on_behalf_of'].filter((k) => p[k] !== undefined && p[k] !== '');
  if (!asked.length) return undefined;
  if (kind !== 'charge') throw invalidRequest('A platform fee applies to charge sessions only.', { param: asked[0] });
  if (p.charge_type !== undefined && p.charge_type !== 'direct' && p.charge_type !== 'destination') throw invalidRequest('charge_type must be "direct" or "destination".', { param: 'charge_type' });
  const chargeType = p.charge_type === 'destination' ? 'destination' : 'direct';
  if (p.application_fee_amount !== undefined && p.application_fee_percent !== undefined) {
    throw invalidRequest('Give application_fee_amount or application_fee_percent, not both.', { param: 'application_fee_percent' });
  }
  let fee: number | undefined;
  if (p.application_fee_amount !== undefined) {
    fee = Number(p.application_fee_amount);
    if (!Number.isInteger(fee) || fee < 0 || fee > (amount ?? 0)) throw invalidRequest('application_fee_amount must be a whole number of minor units, from 0 to the amount.', { param: 'application_fee_amount', code: 'parameter_invalid_integer' });
  } else if (p.application_fee_percent !== undefined) {
    const pct = Number(p.application_fee_percent);
    if (!Number.isFinite(pct) || pct < 0 || pct > 100) throw invalidRequest('application_fee_percent must be between 0 and 100.', { param: 'application_fee_percent' });
    fee = Math.round(((amount ?? 0) * pct) / 100);
  }
  const obo = p.on_behalf_of === undefined ? chargeType === 'destination' : p.on_behalf_of === true || p.on_behalf_of === 'true';
  if (p.on_behalf_of !== undefined && !['true', 'false', true, false].includes(p.on_behalf_of)) throw invalidRequest('on_behalf_of must be true or false.', { param: 'on_behalf_of' });
  if (obo && chargeType === 'direct') throw invalidRequest('on_behalf_of applies to destination charges: a direct charge is already the account\'s own.', { param: 'on_behalf_of' });
  return { chargeType, fee, onBehalfOf: obo };
}

export class PaymentSessions {
  constructor(private readonly rt: Runtime, private readonly conns: Connections, private readonly proxy: Proxy) {}

  /**
   * The session as its app sees it; an open embedded session adds what its page needs to mount Checkout with
   * Stripe.js: the Checkout Session's client secret, the connection's publishable key and, for a direct charge
   * on a Connect account, that account (`Stripe({stripeAccount})`).
   */
  async view(s: Session) {
    const base = sessionView(s, this.rt.publicUrl);
    if (s.uiMode !== 'embedded') return base;
    const conn = await this.conns.load(s.connectionId);
    const open = s.status === 'open' && s.checkoutClientSecretId;
    return {
      ...base,
      client_secret: open ? await this.rt.vault.open(s.checkoutClientSecretId!) : null,
      publishable_key: conn?.publishableKey ?? null,
      stripe_account: conn?.kind === 'oauth' && s.chargeType !== 'destination' ? conn.accountId : null,
    };
  }

  /** The connection a session uses: the one asked for, else the app's default for sessions, else its newest active one. */
  private async connectionFor(app: AppKey, requested: unknown): Promise<Connection> {
    if (requested !== undefined) {
      if (typeof requested !== 'string') throw invalidRequest('connection must be a connection id.', { param: 'connection' });
      return this.conns.require(app, requested);
    }
    const rows = await this.rt.db.select().from(connections)
      .where(and(eq(connections.appId, app.appId), eq(connections.mode, app.mode), eq(connections.status, 'active')))
      .orderBy(desc(connections.createdAt));
    const usable = rows.find((c) => !c.deletedAt && c.defaultForSessions) ?? rows.find((c) => !c.deletedAt);
    if (!usable) {
      throw invalidRequest(`Stripe is not connected for ${app.mode} mode: connect a Stripe account first (POST /v1/connections or /v1/connect_sessions).`, { code: 'stripe_not_connected' });
    }
    return usable;
  }

  async create(app: AppKey, p: Record<string, any>, idempotencyKey: string | undefined): Promise<Session> {
    const kind = p.mode;
    if (kind !== 'charge' && kind !== 'tokenize') throw invalidRequest('mode must be "charge" or "tokenize".', { param: 'mode', code: kind === undefined ? 'parameter_missing' : 'parameter_invalid_string' });
    const amount = p.amount === undefined ? undefined : Number(p.amount);
    // Stripe takes at most eight digits in minor units.
    if (kind === 'charge' && (amount === undefined || !Number.isInteger(amount) || amount < 1 || amount > 99_999_999)) {
      throw invalidRequest('amount must be a positive integer in the smallest currency unit (e.g. 2000 for $20.00).', { param: 'amount', code: amount === undefined ? 'parameter_missing' : 'parameter_invalid_integer' });
    }
    const currency = typeof p.currency === 'string' ? p.currency.toLowerCase() : kind === 'tokenize' ? 'usd' : undefined;
    if (!currency || !/^[a-z]{3}$/.test(currency)) throw invalidRequest('currency must be a three-letter ISO code such as usd.', { param: 'currency', code: currency ? 'parameter_invalid_string' : 'parameter_missing' });
    for (const url of ['success_url', 'cancel_url'] as const) if (p[url] !== undefined) checkRedirectUrl(p[url], url);
    if (p.customer_email !== undefined && (typeof p.customer_email !== 'string' || !/^[^\s@]+@[^\s@]+$/.test(p.customer_email))) throw invalidRequest('customer_email must be an email address.', { param: 'customer_email' });
    const metadata = p.metadata && typeof p.metadata === 'object' ? Object.fromEntries(Object.entries(p.metadata).map(([k, v]) => [k, String(v)])) : {};
    const connect = platformFee(p, kind, amount);
    if (p.ui_mode !== undefined && p.ui_mode !== 'hosted' && p.ui_mode !== 'embedded') throw invalidRequest('ui_mode must be "hosted" or "embedded".', { param: 'ui_mode' });
    const embedded = p.ui_mode === 'embedded';
    const fingerprint = createHash('sha256').update(JSON.stringify([kind, amount, currency, p.connection, p.customer_email, p.description, metadata, p.success_url, p.cancel_url, connect, embedded])).digest('hex');
    if (idempotencyKey) {
      const [earlier] = await this.rt.db.select().from(paymentSessions)
        .where(and(eq(paymentSessions.appId, app.appId), eq(paymentSessions.mode, app.mode), eq(paymentSessions.idempotencyKey, idempotencyKey)));
      if (earlier) {
        if (earlier.fingerprint !== fingerprint) {
          throw new StripeError(400, 'idempotency_error', `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${idempotencyKey}' if you meant to create a different session.`);
        }
        return earlier;
      }
    }
    const conn = await this.connectionFor(app, p.connection);
    if (connect && conn.kind !== 'oauth') {
      throw invalidRequest(`A platform fee or charge_type needs a Stripe Connect OAuth connection: ${conn.id} is ${conn.kind === 'api_key' ? 'an API-key' : 'a Stripe Apps'} connection, whose account is not one of the platform's.`, { param: p.charge_type !== undefined ? 'charge_type' : 'application_fee_amount', code: 'connect_required' });
    }
    const id = newGatewayId('ses', 24);
    // Stored first, so a crash after Stripe's calls still finds the session, whose keys then replay those calls.
    await this.rt.db.insert(paymentSessions).values({
      id, appId: app.appId, mode: app.mode, kind, connectionId: conn.id, status: 'open', amount: amount ?? null, currency,
      customerEmail: p.customer_email ?? null, description: p.description ?? null, metadata, successUrl: p.success_url ?? null,
      cancelUrl: p.cancel_url ?? null, idempotencyKey: idempotencyKey ?? null, fingerprint,
      chargeType: connect?.chargeType ?? null, applicationFeeAmount: connect?.fee ?? null, onBehalfOf: connect ? connect.onBehalfOf : null,
      uiMode: embedded ? 'embedded' : null,
    });
    try {
      const back = `${this.rt.publicUrl}/s/${id}`;
      // Embedded: the merchant's page mounts Checkout, which ends on PayBridge's return page like the hosted one.
      const common = embedded
        ? { ui_mode: 'embedded_page', return_url: `${back}/return`, metadata: { ...metadata, paybridge_session: id } }
        : { success_url: `${back}/return`, cancel_url: `${back}/cancelled`, metadata: { ...metadata, paybridge_session: id } };
      let checkout: any;
      let customerId: string | null = null;
      // `embedded_page` since 2026-03-25.dahlia, `embedded` before: an account on an older version refuses the new name.
      const createCheckout = async (params: Record<string, unknown>, o: { asPlatform?: boolean } = {}) => {
        try {
          return await this.proxy.request(app, conn, 'POST', '/v1/checkout/sessions', params, `${id}-checkout`, 'paybridge', o);
        } catch (e) {
          if (!(embedded && e instanceof StripeError && e.fields.param === 'ui_mode')) throw e;
          return this.proxy.request(app, conn, 'POST', '/v1/checkout/sessions', { ...params, ui_mode: 'embedded' }, `${id}-checkout-embedded`, 'paybridge', o);
        }
      };
      if (kind === 'charge') {
        // A destination charge is the platform's Checkout Session, paying the connection's account; a direct one is the account's.
        const destination = connect?.chargeType === 'destination';
        checkout = await createCheckout({
          ...common, mode: 'payment', customer_email: p.customer_email,
          line_items: [{ quantity: 1, price_data: { currency, unit_amount: amount, product_data: { name: p.description || 'Payment' } } }],
          payment_intent_data: {
            description: p.description, metadata: { paybridge_session: id },
            ...(connect?.fee !== undefined ? { application_fee_amount: connect.fee } : {}),
            ...(destination ? { transfer_data: { destination: conn.accountId }, ...(connect.onBehalfOf ? { on_behalf_of: conn.accountId } : {}) } : {}),
          },
        }, { asPlatform: destination });
      } else {
        const customer = await this.proxy.request(app, conn, 'POST', '/v1/customers', { email: p.customer_email, description: p.description, metadata: { paybridge_session: id } }, `${id}-customer`);
        customerId = customer.id;
        checkout = await createCheckout({ ...common, mode: 'setup', currency, customer: customer.id, setup_intent_data: { metadata: { paybridge_session: id } } });
      }
      await this.rt.db.update(paymentSessions).set({
        checkoutSessionId: checkout.id, checkoutUrl: checkout.url, stripeCustomerId: customerId, expiresAt: new Date(checkout.expires_at * 1000), updatedAt: new Date(),
        checkoutClientSecretId: embedded && checkout.client_secret ? await this.rt.vault.seal(checkout.client_secret, 'checkout_client_secret') : null,
      }).where(eq(paymentSessions.id, id));
    } catch (e) {
      await this.rt.db.delete(paymentSessions).where(eq(paymentSessions.id, id));
      throw e;
    }
    return (await this.load(id))!;
  }

  async load(id: string): Promise<Session | undefined> {
    const [s] = await this.rt.db.select().from(paymentSessions).where(eq(paymentSessions.id, id));
    return s;
  }

  async require(app: AppKey, id: string): Promise<Session> {
    const s = await this.load(id);
    if (!s || s.appId !== app.appId || s.mode !== app.mode) throw resourceMissing('session', id, 'id');
    return s;
  }

  async list(app: AppKey, f: { status?: string; mode?: string; connection?: string; limit: number; startingAfter?: string }) {
    const where: SQL[] = [eq(paymentSessions.appId, app.appId), eq(paymentSessions.mode, app.mode)];
    if (f.status) where.push(eq(paymentSessions.status, f.status));
    if (f.connection) where.push(eq(paymentSessions.connectionId, f.connection));
    if (f.mode) where.push(eq(paymentSessions.kind, f.mode));
    if (f.startingAfter) {
      const cursor = await this.load(f.startingAfter);
      if (cursor) where.push(lt(paymentSessions.seq, cursor.seq!));
    }
    const rows = await this.rt.db.select().from(paymentSessions).where(and(...where)).orderBy(desc(paymentSessions.seq)).limit(f.limit + 1);
    return { object: 'list', url: '/v1/sessions', has_more: rows.length > f.limit, data: rows.slice(0, f.limit).map((s) => sessionView(s, this.rt.publicUrl)) };
  }

  /** Reads of one open session at the same time (a page, its poll, an app) share one question to Stripe. */
  private refreshing = new Map<string, Promise<Session>>();

  /** Asks Stripe about an open session and records what it learns; a deleted connection leaves the session as it was. */
  refresh(s: Session): Promise<Session> {
    if (FINAL.includes(s.status) || !s.checkoutSessionId) return Promise.resolve(s);
    let pending = this.refreshing.get(s.id);
    if (!pending) {
      pending = this.refreshNow(s).finally(() => this.refreshing.delete(s.id));
      this.refreshing.set(s.id, pending);
    }
    return pending;
  }

  private async refreshNow(s: Session): Promise<Session> {
    const conn = await this.conns.load(s.connectionId);
    if (!conn || conn.status !== 'active') return s;
    const app: AppKey = { appId: s.appId, mode: s.mode as 'test' | 'live', keyId: '' };
    const expand = s.kind === 'charge' ? ['payment_intent.latest_charge'] : ['setup_intent.payment_method'];
    const checkout = await this.proxy.request(app, conn, 'GET', `/v1/checkout/sessions/${s.checkoutSessionId}?${expand.map((e) => `expand[]=${e}`).join('&')}`, undefined, undefined, 'session', onPlatform(s));
    return this.apply(s, checkout);
  }

  /** Moves a session on from a Checkout Session (read from Stripe or from one of its events). */
  async apply(s: Session, checkout: any): Promise<Session> {
    let status = s.status;
    let processor: Record<string, unknown> | null = null;
    let failure: Record<string, unknown> | null = null;
    if (checkout.status === 'complete') {
      if (s.kind === 'charge') {
        const pi = checkout.payment_intent;
        const charge = pi?.latest_charge;
        if (pi?.status === 'succeeded' || checkout.payment_status === 'paid') {
          status = 'succeeded';
          const card = charge?.payment_method_details?.card;
          processor = {
            stripe_payment_intent_id: pi.id, stripe_charge_id: charge?.id ?? null, receipt_url: charge?.receipt_url ?? null,
            payment_method_id: typeof pi.payment_method === 'string' ? pi.payment_method : pi.payment_method?.id ?? null,
            card_brand: card?.brand ?? null, card_last4: card?.last4 ?? null,
            // Connect: what the platform took, and what moved to the account.
            ...(s.chargeType ? {
              charge_type: s.chargeType, application_fee_amount: charge?.application_fee_amount ?? null, application_fee_id: idOf(charge?.application_fee),
              transfer_id: idOf(charge?.transfer), destination_account: charge?.transfer_data?.destination ?? null, on_behalf_of: charge?.on_behalf_of ?? null,
            } : {}),
          };
        } else if (checkout.payment_status === 'unpaid' && (pi?.status === 'requires_payment_method' || pi?.status === 'canceled')) {
          // A delayed payment method that failed after Checkout completed (Stripe's async_payment_failed), as Stripe shows it.
          status = 'failed';
          failure = { message: pi.last_payment_error?.message ?? 'The payment failed after checkout.', code: pi.last_payment_error?.code ?? null, decline_code: pi.last_payment_error?.decline_code ?? null };
        }
      } else {
        const si = checkout.setup_intent;
        if (si?.status === 'succeeded') {
          status = 'succeeded';
          const pm = si.payment_method;
          processor = { stripe_customer_id: checkout.customer ?? s.stripeCustomerId, payment_method_id: pm?.id ?? pm, card_brand: pm?.card?.brand ?? null, card_last4: pm?.card?.last4 ?? null };
        }
      }
    } else if (checkout.status === 'expired') {
      status = s.status === 'canceled' ? 'canceled' : 'expired';
    } else if (checkout.status === 'open') {
      // The payer may try again, so the session stays open; the last failed attempt is kept for whoever looks.
      const error = (s.kind === 'charge' ? checkout.payment_intent : checkout.setup_intent)?.[s.kind === 'charge' ? 'last_payment_error' : 'last_setup_error'];
      if (error && JSON.stringify(s.failure ?? null) !== JSON.stringify(attemptFailure(error))) {
        const [updated] = await this.rt.db.update(paymentSessions).set({ failure: attemptFailure(error), updatedAt: new Date() })
          .where(and(eq(paymentSessions.id, s.id), eq(paymentSessions.status, 'open'))).returning();
        return updated ?? s;
      }
    }
    if (status === s.status) return s;
    // Only an open session moves, and only once: concurrent readers and webhooks agree on one transition.
    return (await this.transition(s, { status, processor, ...(failure ? { failure } : {}) })) ?? (await this.load(s.id))!;
  }

  /**
   * What happened to a session, oldest first: its creation, each payment attempt Stripe made for it (with
   * decline codes and 3-D Secure), and the events PayBridge sent about it.
   */
  async timeline(app: AppKey, id: string) {
    const s = await this.require(app, id);
    const entries: { at: number; kind: string; title: string; detail?: Record<string, unknown> }[] = [
      { at: seconds(s.createdAt)!, kind: 'created', title: s.kind === 'charge' ? 'Session created' : 'Session created (save a card)' },
    ];
    const conn = await this.conns.load(s.connectionId);
    if (conn && conn.status === 'active' && s.checkoutSessionId) {
      const checkout = await this.proxy.request(app, conn, 'GET', `/v1/checkout/sessions/${s.checkoutSessionId}`, undefined, undefined, 'session', onPlatform(s)).catch(() => null);
      const intent = typeof checkout?.payment_intent === 'string' ? checkout.payment_intent : checkout?.payment_intent?.id;
      if (intent) {
        const charges = await this.proxy.request(app, conn, 'GET', `/v1/charges?payment_intent=${intent}&limit=20`, undefined, undefined, 'session', onPlatform(s)).catch(() => ({ data: [] }));
        for (const c of charges.data ?? []) {
          const threeDs = c.payment_method_details?.card?.three_d_secure;
          entries.push({
            at: c.created, kind: c.status === 'succeeded' ? 'attempt_succeeded' : 'attempt_failed',
            title: c.status === 'succeeded' ? `Paid with ${c.payment_method_details?.card?.brand ?? 'card'} •••• ${c.payment_method_details?.card?.last4 ?? ''}` : `Attempt declined: ${c.failure_message ?? c.outcome?.seller_message ?? 'declined'}`,
            detail: { charge: c.id, failure_code: c.failure_code ?? null, decline_code: c.outcome?.reason ?? null, risk_level: c.outcome?.risk_level ?? null, three_d_secure: threeDs ? threeDs.result ?? 'attempted' : null },
          });
        }
      }
    }
    if (s.failure && !entries.some((e) => e.kind === 'attempt_failed')) {
      const f = s.failure as { message?: string; code?: string; decline_code?: string };
      entries.push({ at: seconds(s.updatedAt)!, kind: 'attempt_failed', title: `Attempt failed: ${f.message ?? f.code ?? 'failed'}`, detail: { failure_code: f.code ?? null, decline_code: f.decline_code ?? null } });
    }
    const events = await this.rt.db.select().from(gatewayEvents)
      .where(and(eq(gatewayEvents.appId, app.appId), eq(gatewayEvents.mode, app.mode), sql`${gatewayEvents.type} LIKE 'session.%'`, sql`${gatewayEvents.data}->'session'->>'id' = ${s.id}`));
    for (const e of events) entries.push({ at: seconds(e.createdAt)!, kind: 'event', title: `Event ${e.type} sent to your webhooks`, detail: { event: e.id } });
    entries.sort((a, b) => a.at - b.at);
    return { object: 'list', url: `/v1/sessions/${s.id}/timeline`, has_more: false, data: entries };
  }

  /**
   * Moves an open session on, once (concurrent readers and webhooks agree on one transition), and records
   * its `session.<status>` event in the same transaction: a crash keeps both or neither.
   */
  private async transition(s: Session, set: { status: string; processor?: unknown; failure?: unknown }): Promise<Session | undefined> {
    return this.rt.db.transaction(async (tx) => {
      const [moved] = await tx.update(paymentSessions).set({ ...set, updatedAt: new Date() })
        .where(and(eq(paymentSessions.id, s.id), eq(paymentSessions.status, 'open'))).returning();
      if (moved) await emitGatewayEvent(this.rt, s.appId, s.mode, `session.${set.status}`, { session: sessionView(moved, this.rt.publicUrl) }, undefined, tx);
      return moved;
    });
  }

  /** An event from Stripe about a Checkout Session that belongs to a session. */
  /**
   * A Checkout event names a session in its metadata; the session moves only if the event came from where the
   * session lives (its connection's endpoint, or the platform's endpoint for its connection's account), and then
   * only to what Stripe itself says when asked with that connection's credentials: an event is a hint, not a fact.
   */
  async onCheckoutEvent(checkout: any, from: { connection: string } | { account: string | null }): Promise<void> {
    const id = checkout?.metadata?.paybridge_session;
    const s = typeof id === 'string' && (await this.load(id));
    if (!s || FINAL.includes(s.status)) return;
    if ('connection' in from) {
      if (s.connectionId !== from.connection) return;
    } else {
      // A destination session's Checkout Session is the platform's own (no account); a direct one is the account's.
      const conn = await this.conns.load(s.connectionId);
      if (!conn || conn.kind === 'api_key' || (s.chargeType === 'destination' ? from.account !== null : conn.accountId !== from.account)) return;
    }
    await this.refresh(s);
  }

  async cancel(app: AppKey, id: string): Promise<Session> {
    const s = await this.require(app, id);
    if (s.status !== 'open') throw invalidRequest(`Only open sessions can be canceled; this one is ${s.status}.`, { code: 'session_not_open' });
    const conn = await this.conns.require(app, s.connectionId);
    await this.proxy.request(app, conn, 'POST', `/v1/checkout/sessions/${s.checkoutSessionId}/expire`, {}, `${s.id}-expire`, 'paybridge', onPlatform(s));
    return (await this.transition(s, { status: 'canceled' })) ?? (await this.require(app, id));
  }

  /** `POST /v1/sessions/:id/charge`: an off-session payment on a tokenized session's saved card. */
  async charge(app: AppKey, id: string, p: Record<string, any>, idempotencyKey: string | undefined) {
    const s = await this.refresh(await this.require(app, id));
    if (s.kind !== 'tokenize') throw invalidRequest('Only tokenize sessions can be charged later; a charge session has already been paid.', { code: 'session_not_tokenized' });
    if (s.status !== 'succeeded') throw invalidRequest(`This session has no saved card yet (status: ${s.status}).`, { code: 'session_not_succeeded' });
    const amount = Number(p.amount);
    if (!Number.isInteger(amount) || amount < 1) throw invalidRequest('amount must be a positive integer in the smallest currency unit.', { param: 'amount' });
    const currency = String(p.currency ?? s.currency ?? '').toLowerCase();
    const conn = await this.conns.require(app, s.connectionId);
    const processor = s.processor as { stripe_customer_id: string; payment_method_id: string };
    const pi = await this.proxy.request(app, conn, 'POST', '/v1/payment_intents?expand[]=latest_charge', {
      amount, currency, customer: processor.stripe_customer_id, payment_method: processor.payment_method_id, confirm: true, off_session: true,
      description: p.description ?? s.description ?? undefined, metadata: { paybridge_session: s.id },
    }, idempotencyKey ? `${s.id}-charge-${idempotencyKey}` : undefined);
    const charge = pi.latest_charge;
    return {
      object: 'session_charge', session: s.id, status: pi.status, amount: pi.amount, currency: pi.currency,
      processor: {
        stripe_payment_intent_id: pi.id, stripe_charge_id: charge?.id ?? null, receipt_url: charge?.receipt_url ?? null,
        payment_method_id: processor.payment_method_id, card_brand: charge?.payment_method_details?.card?.brand ?? null, card_last4: charge?.payment_method_details?.card?.last4 ?? null,
      },
    };
  }
}
