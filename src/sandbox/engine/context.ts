/**
 * One request's view of the store: reads see the request's own staged
 * writes, and nothing is visible to others until the pipeline commits.
 * Stored objects are immutable; `edit` hands out a copy to change.
 */
import type { UrlPolicy } from '../../net/outbound.js';
import { resourceMissing } from '../../stripe/errors.js';
import type { Change, Store, StripeObject } from '../store/store.js';
import type { Collection } from '../store/collection.js';
import { newId } from '../../stripe/ids.js';
import { frozen } from './shared.js';

export interface SandboxEnv {
  /** Public base URL of the sandbox, for hosted pages and receipts. */
  baseUrl: string;
  apiVersion: string;
  /** The account every unscoped request acts on: the Connect platform. */
  platform: string;
  /** Lifetime of Stripe Apps OAuth access tokens, in seconds (an hour, as Stripe's). */
  oauthTokenTtl: number;
  /** Webhook endpoints an event of `type` on `account` goes to. */
  webhookTargets?: (account: string, type: string) => { account: string; endpoint: StripeObject }[];
  /** Which inward addresses webhook endpoint URLs may name (the gateway embeds the sandbox with its own policy). */
  urlPolicy?: UrlPolicy;
  /** Origins reached whatever the policy: the embedding gateway's own endpoints (`Sandbox.trustOrigin`). */
  trustedOrigins?: Set<string>;
}

/** Delivery records of webhooks, written with the event they deliver. */
export const DELIVERIES = 'webhook_deliveries';

export interface RequestInfo {
  id: string;
  /** Made with a publishable key (Stripe.js), so limited to what a client secret allows. */
  publishable?: boolean;
  idempotencyKey?: string;
  /** The version the answer is rendered in: the request's `Stripe-Version`, else its account's default. */
  apiVersion: string;
  /** The version this request's events are created in: the acting account's default, whatever the request asked. */
  eventVersion: string;
  /** The request's API key, masked as Stripe shows keys in errors (`sk_test_…abcd`). */
  keyHint?: string;
}

/** What the contexts of one transaction share, whichever account each acts on. */
interface Txn {
  /** The account the request acts on: its changes are the commit's own; others carry their account. */
  root: string;
  staged: Map<string, Change>;
  owned: WeakSet<object>;
  events: StripeObject[];
  deliveries: string[];
  later: ((ctx: Ctx) => void)[];
  emitted: WeakSet<object>;
  clock: { now: number };
  eventRequest?: { id: string; idempotency_key: string | null };
  /** Keys `once` has seen. */
  seen: Set<string>;
}

export class Ctx {
  private readonly txn: Txn;

  constructor(
    readonly store: Store,
    readonly account: string,
    readonly env: SandboxEnv,
    readonly request: RequestInfo,
    shared?: Txn,
  ) {
    this.txn = shared ?? {
      root: account, staged: new Map(), owned: new WeakSet(), events: [], deliveries: [], later: [], emitted: new WeakSet(),
      clock: { now: Math.floor(Date.now() / 1000) }, seen: new Set(),
    };
  }

  /** This request's events, in the order emitted (on every account it touched). */
  get events(): StripeObject[] {
    return this.txn.events;
  }

  /** Webhook deliveries this request's events queued (all kept on the request's own account). */
  get deliveries(): string[] {
    return this.txn.deliveries;
  }

  /** Work Stripe does some time after answering (a refund that fails later): each runs in its own transaction once this one committed. */
  get later(): ((ctx: Ctx) => void)[] {
    return this.txn.later;
  }

  /** True the first time this transaction asks for `key` (an event sent once per request, whatever its parts do). */
  once(key: string): boolean {
    if (this.txn.seen.has(key)) return false;
    this.txn.seen.add(key);
    return true;
  }

  /**
   * The same transaction acting on another account: money moving between a platform and its connected accounts
   * (a destination payment, an application fee) writes both sides in one commit, each in its own account.
   */
  in(account: string): Ctx {
    return account === this.account ? this : new Ctx(this.store, account, this.env, this.request, this.txn);
  }

  /** Current time in seconds: the wall clock, or a test clock's frozen time. */
  now(): number {
    return this.txn.clock.now;
  }

  /** Runs the rest of the request at a test clock's time. */
  setNow(seconds: number): void {
    this.txn.clock.now = seconds;
  }

  /** The staged key: the request's own account's writes, nearly all of them, without the account (measured: a tenth of a PaymentIntent's confirm). */
  private key(collection: string, id: string): string {
    return this.account === this.txn.root ? collection + '\0' + id : `${this.account}\0${collection}\0${id}`;
  }

  get(collection: string, id: string): StripeObject | undefined {
    const staged = this.txn.staged.get(this.key(collection, id));
    if (staged) return staged[2] ?? undefined;
    return this.store.get(this.account, collection, id);
  }

  /** The object, or Stripe's `No such <noun>: 'id'` 404. */
  require(collection: string, id: string, noun: string, param?: string): StripeObject {
    const obj = typeof id === 'string' ? this.get(collection, id) : undefined;
    if (!obj || obj.deleted) throw resourceMissing(noun, String(id), param);
    return obj;
  }

  /**
   * A private copy of a stored object, to change and `put` back. The copy is
   * shallow: replace nested objects (`next.card = {...next.card, x}`), never
   * change them in place, since they are shared with the stored original.
   */
  edit<T extends StripeObject>(obj: T): T {
    if (this.txn.owned.has(obj) && !this.txn.emitted.has(obj)) return obj;
    const copy = { ...obj };
    this.txn.owned.add(copy);
    return copy;
  }

  put(collection: string, obj: StripeObject): StripeObject {
    this.txn.owned.add(obj);
    this.txn.staged.set(this.key(collection, obj.id), this.change(collection, obj.id, obj));
    return obj;
  }

  remove(collection: string, id: string): void {
    this.txn.staged.set(this.key(collection, id), this.change(collection, id, null));
  }

  private change(collection: string, id: string, obj: StripeObject | null): Change {
    return this.account === this.txn.root ? [collection, id, obj] : [collection, id, obj, this.account];
  }

  /** Committed objects of one kind, for lists and searches. */
  collection(name: string): Collection {
    return this.store.collection(this.account, name);
  }

  /**
   * Every object of a collection as this request sees it, oldest first: the
   * committed ones with this request's changes applied, then the new ones.
   */
  *all(name: string): Generator<StripeObject> {
    const collection = this.collection(name);
    for (const committed of collection.ascending()) {
      const current = this.get(name, committed.id);
      if (current) yield current;
    }
    for (const [stagedName, id, obj, account] of this.txn.staged.values()) {
      if (stagedName === name && (account ?? this.txn.root) === this.account && obj && !collection.get(id)) yield obj;
    }
  }

  /** Records a Stripe event about `obj` (a snapshot: stored objects never change). */
  emit(type: string, obj: StripeObject, previous?: Record<string, unknown>): StripeObject {
    const targets = this.env.webhookTargets?.(this.account, type) ?? [];
    const event: StripeObject = {
      id: newId('evt'),
      object: 'event',
      account: this.account === this.env.platform ? undefined : this.account,
      api_version: this.request.eventVersion,
      context: undefined,
      created: this.now(),
      data: previous ? { object: obj, previous_attributes: previous } : { object: obj },
      livemode: false,
      pending_webhooks: targets.length,
      request: (this.txn.eventRequest ??= frozen({ id: this.request.id, idempotency_key: this.request.idempotencyKey ?? null })),
      type,
    };
    this.txn.emitted.add(obj);
    this.txn.events.push(event);
    // Deliveries live on the request's own account, where the pipeline hands them to the dispatcher.
    const root = this.in(this.txn.root);
    for (const target of targets) {
      const id = `${event.id}:${target.endpoint.id}`;
      root.put(DELIVERIES, {
        id, object: 'webhook_delivery', event: event.id, type, endpoint: target.endpoint.id, endpoint_account: target.account, url: target.endpoint.url,
        status: 'pending', attempts: 0, created: Date.now(), next_attempt_at: Date.now(), last_status: null, last_error: null,
      });
      this.txn.deliveries.push(id);
    }
    return this.put('events', event);
  }

  changes(): Change[] {
    return [...this.txn.staged.values()];
  }
}
