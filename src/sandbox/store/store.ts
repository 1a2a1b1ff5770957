/**
 * The sandbox's state: per account, one Collection per kind of object, plus
 * saved idempotent answers. Writes arrive only as whole transactions through
 * `commit`, so a failing request never leaves half its changes behind.
 */
import { Collection, type StripeObject } from './collection.js';
import { Journal, type JournalEntry } from './journal.js';

export type { StripeObject } from './collection.js';

/** A saved answer for an idempotency key. */
export interface IdempotentAnswer {
  key: string;
  /** method, path and parameters of the first request, to detect reuse with others */
  fingerprint: string;
  status: number;
  body: string;
  created: number;
  requestId?: string;
}

/** A write; the fourth element names the account when it is not the commit's own (the other side of a Connect transfer). */
export type Change = [collection: string, id: string, obj: StripeObject | null, account?: string];

const IDEMPOTENCY_TTL_MS = 24 * 3600 * 1000;
/** Bounds memory under load tests that send a fresh key with every request. */
const IDEMPOTENCY_MAX = 100_000;

export class Store {
  private accounts = new Map<string, Map<string, Collection>>();
  /** account → idempotency key → answer, oldest first. */
  private answers = new Map<string, Map<string, IdempotentAnswer>>();
  private answerCount = 0;
  private journal?: Journal;

  /** An in-memory store, or one journaled under `dataDir` when given. */
  static open(dataDir?: string, options: { fsync?: boolean; key?: Buffer } = {}): Store {
    const store = new Store();
    if (dataDir) {
      store.journal = Journal.open(dataDir, (entry) => store.apply(entry), options);
      store.journal.rewrite(store.snapshot());
    }
    return store;
  }

  collection(account: string, name: string): Collection {
    let collections = this.accounts.get(account);
    if (!collections) this.accounts.set(account, (collections = new Map()));
    let collection = collections.get(name);
    if (!collection) collections.set(name, (collection = new Collection()));
    return collection;
  }

  get(account: string, name: string, id: string): StripeObject | undefined {
    return this.accounts.get(account)?.get(name)?.get(id);
  }

  /** Finds an object in whichever account holds it (hosted pages carry only an id). */
  locate(name: string, id: string): { account: string; obj: StripeObject } | undefined {
    for (const [account, collections] of this.accounts) {
      const obj = collections.get(name)?.get(id);
      if (obj) return { account, obj };
    }
    return undefined;
  }

  accountIds(): string[] {
    return [...this.accounts.keys()];
  }

  answer(account: string, key: string): IdempotentAnswer | undefined {
    const saved = this.answers.get(account)?.get(key);
    if (saved && Date.now() - saved.created > IDEMPOTENCY_TTL_MS) return undefined;
    return saved;
  }

  /** Applies a transaction: journaled first, then made visible. */
  commit(account: string, changes: Change[], answer?: IdempotentAnswer): void {
    if (changes.length === 0 && !answer) return;
    const entry: JournalEntry = { a: account, c: changes };
    if (answer) entry.k = answer;
    this.journal?.append(entry);
    this.apply(entry);
  }

  reset(): void {
    this.accounts.clear();
    this.answers.clear();
    this.answerCount = 0;
    this.journal?.rewrite([]);
  }

  close(): void {
    this.journal?.close();
  }

  private apply(entry: JournalEntry): void {
    for (const [name, id, obj, account] of entry.c) {
      const collection = this.collection(account ?? entry.a, name);
      if (obj) collection.put(obj as StripeObject);
      else collection.remove(id);
    }
    if (entry.k) {
      const answer = entry.k as IdempotentAnswer;
      let saved = this.answers.get(entry.a);
      if (!saved) this.answers.set(entry.a, (saved = new Map()));
      if (!saved.delete(answer.key)) this.answerCount++;
      saved.set(answer.key, answer);
      if (this.answerCount > IDEMPOTENCY_MAX) this.forgetOldestAnswers();
    }
  }

  /**
   * Drops the oldest tenth of each account's saved answers (each map keeps insertion order) in one pass.
   * Dropping one per request instead made every request walk the deleted slots at the map's start.
   */
  private forgetOldestAnswers(): void {
    for (const saved of this.answers.values()) {
      let drop = Math.ceil(saved.size / 10);
      for (const key of saved.keys()) {
        if (drop-- <= 0) break;
        saved.delete(key);
        this.answerCount--;
      }
    }
  }

  private *snapshot(): Generator<JournalEntry> {
    for (const [account, collections] of this.accounts) {
      for (const [name, collection] of collections) {
        for (const obj of collection.ascending()) yield { a: account, c: [[name, obj.id, obj]] };
      }
    }
    for (const [account, saved] of this.answers) {
      for (const answer of saved.values()) yield { a: account, c: [], k: answer };
    }
  }
}
