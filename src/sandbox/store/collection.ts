/** A Stripe object as the sandbox stores it: immutable once committed. */
export interface StripeObject {
  id: string;
  object?: string;
  created?: number;
  deleted?: boolean;
  [field: string]: any;
}

/**
 * One kind of object in one account, in creation order. Lists walk it from
 * the end (newest first) in O(page), and a cursor is found through `index`.
 */
export class Collection {
  private items: (StripeObject | undefined)[] = [];
  private index = new Map<string, number>();
  private live = 0;

  get size(): number {
    return this.live;
  }

  get(id: string): StripeObject | undefined {
    const i = this.index.get(id);
    return i === undefined ? undefined : this.items[i];
  }

  put(obj: StripeObject): void {
    const i = this.index.get(obj.id);
    if (i !== undefined) {
      this.items[i] = obj;
      return;
    }
    this.index.set(obj.id, this.items.length);
    this.items.push(obj);
    this.live++;
  }

  remove(id: string): void {
    const i = this.index.get(id);
    if (i === undefined) return;
    this.items[i] = undefined;
    this.index.delete(id);
    this.live--;
  }

  /** Position of `id` in creation order, for cursors. */
  positionOf(id: string): number | undefined {
    return this.index.get(id);
  }

  /** Newest first, starting just before position `before` (exclusive). */
  *descending(before = this.items.length): Generator<StripeObject> {
    for (let i = before - 1; i >= 0; i--) {
      const item = this.items[i];
      if (item) yield item;
    }
  }

  /** Oldest first, starting just after position `after` (exclusive). */
  *ascending(after = -1): Generator<StripeObject> {
    for (let i = after + 1; i < this.items.length; i++) {
      const item = this.items[i];
      if (item) yield item;
    }
  }
}
