/**
 * Parts of Stripe objects that are the same in every object of a kind
 * (`fraud_details: {}`, a successful charge's `outcome`, …), built once and
 * frozen. Stored objects are never changed in place, so they may share them;
 * a payment that shares a dozen keeps that many fewer objects alive, and the
 * young-generation collections that set the sandbox's p99 copy that much less.
 * Frozen, so a change in place would throw rather than reach other objects.
 */
export function frozen<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) frozen(v);
    Object.freeze(value);
  }
  return value;
}

/** One frozen value per key, built on first use (a card brand's `networks`, …). */
export function sharedBy<T>(build: (key: string) => T): (key: string) => T {
  const made = new Map<string, T>();
  return (key) => {
    let value = made.get(key);
    if (value === undefined) made.set(key, (value = frozen(build(key))));
    return value;
  };
}

export const EMPTY = frozen({}) as Record<string, never>;
