/**
 * Delivers events to webhook endpoints. A delivery record is written in the
 * same transaction as its event (see Ctx.emit), so an acknowledged event is
 * delivered even across a crash; this class works through the records:
 * POST with a `Stripe-Signature`, retry with exponential backoff on any
 * non-2xx answer, and decrement the event's `pending_webhooks` on success.
 */
import { renderEvent } from '../versions/index.js';
import { storeSource } from '../versions/account.js';
import { describeFailure, Outbound, type UrlPolicy } from '../../net/outbound.js';
import { DELIVERIES } from '../engine/context.js';
import { matchesEventType } from '../engine/event_types.js';
import type { Store, StripeObject } from '../store/store.js';
import { WEBHOOK_SECRETS } from './endpoints.js';
import { signatureHeader } from '../../stripe/signature.js';


export interface WebhookOptions {
  /** Delay before the first retry; each further retry waits twice as long (Stripe's schedule, compressed). */
  retryBaseMs?: number;
  /** Attempts before a delivery is given up. */
  maxAttempts?: number;
  timeoutMs?: number;
  /** Deliveries in flight at once, across endpoints. */
  concurrency?: number;
  /** Inward addresses deliveries may reach (names are checked when connecting). */
  urlPolicy?: UrlPolicy;
  /** Origins reached whatever the policy (the embedding gateway's). */
  trustedOrigins?: Set<string>;
}

export interface WebhookTarget {
  account: string;
  endpoint: StripeObject;
}

interface Job {
  account: string;
  id: string;
}

export class WebhookDispatcher {
  private queue: Job[] = [];
  private outbound: Outbound;
  private inFlight = 0;
  private timers = new Set<NodeJS.Timeout>();
  private closed = false;
  private idle: (() => void)[] = [];
  readonly options: Required<WebhookOptions>;

  constructor(private readonly store: Store, private readonly platform: string, options: WebhookOptions = {}) {
    this.options = { retryBaseMs: 1000, maxAttempts: 10, timeoutMs: 10_000, concurrency: 32, urlPolicy: 'private', trustedOrigins: new Set(), ...options };
    // The one guarded module for app-supplied URLs: no redirects, no inward address the policy refuses.
    this.outbound = new Outbound(this.options.urlPolicy, { timeoutMs: this.options.timeoutMs, maxSockets: this.options.concurrency, userAgent: 'Stripe/1.0 (+https://stripe.com/docs/webhooks)', trustedOrigins: this.options.trustedOrigins });
  }

  /** Endpoints that receive an event of `type` on `account`: its own, and the platform's Connect endpoints. */
  targets(account: string, type: string): WebhookTarget[] {
    const out: WebhookTarget[] = [];
    const consider = (owner: string, connect: boolean) => {
      const endpoints = this.store.collection(owner, 'webhook_endpoints');
      if (endpoints.size === 0) return;
      for (const endpoint of endpoints.ascending()) {
        if (endpoint.deleted || endpoint.status !== 'enabled' || !!endpoint.connect !== connect) continue;
        if ((endpoint.enabled_events as string[]).some((pattern) => matchesEventType(pattern, type))) out.push({ account: owner, endpoint });
      }
    };
    consider(account, false);
    if (account !== this.platform) consider(this.platform, true);
    return out;
  }

  /** Queues the deliveries a transaction just committed. */
  onCommit(account: string, deliveries: string[]): void {
    for (const id of deliveries) this.push({ account, id });
  }

  /** Picks up deliveries left pending by a previous run (after a restart or a crash). */
  resume(): void {
    for (const account of this.store.accountIds()) {
      for (const delivery of this.store.collection(account, DELIVERIES).ascending()) {
        if (delivery.status === 'pending') this.schedule({ account, id: delivery.id }, Math.max(0, delivery.next_attempt_at - Date.now()));
      }
    }
  }

  /** Resolves once nothing is queued, in flight or waiting for a retry. */
  drained(): Promise<void> {
    if (this.queue.length === 0 && this.inFlight === 0 && this.timers.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  close(): void {
    this.closed = true;
    this.outbound.close();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.queue = [];
  }

  private push(job: Job): void {
    if (this.closed) return;
    this.queue.push(job);
    this.pump();
  }

  private schedule(job: Job, delayMs: number): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.push(job);
    }, delayMs);
    this.timers.add(timer);
  }

  private pump(): void {
    while (this.inFlight < this.options.concurrency && this.queue.length) {
      const job = this.queue.shift()!;
      this.inFlight++;
      this.attempt(job).finally(() => {
        this.inFlight--;
        this.pump();
        if (this.queue.length === 0 && this.inFlight === 0 && this.timers.size === 0) for (const resolve of this.idle.splice(0)) resolve();
      });
    }
  }

  private async attempt(job: Job): Promise<void> {
    const delivery = this.store.get(job.account, DELIVERIES, job.id);
    if (!delivery || delivery.status !== 'pending') return;
    const endpoint = this.store.get(delivery.endpoint_account, 'webhook_endpoints', delivery.endpoint);
    const secret = this.store.get(delivery.endpoint_account, WEBHOOK_SECRETS, delivery.endpoint)?.secret;
    const event = this.store.get(job.account, 'events', delivery.event);
    if (!endpoint || endpoint.deleted || !secret || !event) {
      this.record(job.account, { ...delivery, status: 'canceled' });
      return;
    }
    // An endpoint pinned to a version gets the event in that version; others in the event's own.
    const payload = JSON.stringify(renderEvent(event, storeSource(this.store, job.account), endpoint.api_version ?? event.api_version), null, 2);
    let status = 0;
    let error: string | null = null;
    const started = Date.now();
    try {
      status = (await this.outbound.post(endpoint.url, payload, { 'stripe-signature': signatureHeader(secret, payload) })).status;
    } catch (e) {
      error = describeFailure(e);
    }
    if (this.closed) return;
    const attempts = delivery.attempts + 1;
    const ok = status >= 200 && status < 300;
    const last = { attempts, last_status: status || null, last_error: error, last_attempt_at: started, duration_ms: Date.now() - started };
    if (ok) {
      this.record(job.account, { ...delivery, ...last, status: 'succeeded', next_attempt_at: null }, event);
    } else if (attempts >= this.options.maxAttempts) {
      this.record(job.account, { ...delivery, ...last, status: 'failed', next_attempt_at: null });
    } else {
      const delay = this.options.retryBaseMs * 2 ** (attempts - 1);
      this.record(job.account, { ...delivery, ...last, next_attempt_at: Date.now() + delay });
      this.schedule(job, delay);
    }
  }

  private record(account: string, delivery: StripeObject, deliveredEvent?: StripeObject): void {
    const changes: [string, string, StripeObject][] = [[DELIVERIES, delivery.id, delivery]];
    if (deliveredEvent) {
      const current = this.store.get(account, 'events', deliveredEvent.id)!;
      changes.push(['events', current.id, { ...current, pending_webhooks: Math.max(0, current.pending_webhooks - 1) }]);
    }
    this.store.commit(account, changes);
  }
}
