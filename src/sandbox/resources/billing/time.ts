/** Calendar arithmetic for billing periods, in UTC as Stripe bills. */

const DAY = 86_400;

function addMonths(seconds: number, months: number, anchorDay: number): number {
  const d = new Date(seconds * 1000);
  const target = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + months, 1, d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()));
  // A subscription anchored on the 31st renews on the last day of shorter months, then returns to the 31st.
  const lastDay = new Date(Date.UTC(target.getUTCFullYear(), target.getUTCMonth() + 1, 0)).getUTCDate();
  target.setUTCDate(Math.min(anchorDay, lastDay));
  return Math.floor(target.getTime() / 1000);
}

/** The end of billing period `n` (1 = the first) of a cycle starting at `anchor`. */
export function periodBoundary(anchor: number, interval: string, count: number, n: number): number {
  switch (interval) {
    case 'day': return anchor + n * count * DAY;
    case 'week': return anchor + n * count * 7 * DAY;
    case 'month': return addMonths(anchor, n * count, new Date(anchor * 1000).getUTCDate());
    case 'year': return addMonths(anchor, n * count * 12, new Date(anchor * 1000).getUTCDate());
    default: throw new Error(`unknown interval ${interval}`);
  }
}

/** The first period boundary of the cycle strictly after `after`. */
export function nextBoundary(anchor: number, interval: string, count: number, after: number): number {
  let n = 1;
  let end = periodBoundary(anchor, interval, count, n);
  while (end <= after) end = periodBoundary(anchor, interval, count, ++n);
  return end;
}

export const days = (n: number) => n * DAY;
