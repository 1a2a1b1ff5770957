/** 2025-03-31.basil moved `current_period_start` and `current_period_end` from the subscription to each of its items. */
import type { VersionChange } from '../change.js';

export const subscriptionPeriods: VersionChange = {
  version: '2025-03-31.basil',
  title: 'Subscriptions: `current_period_start` and `current_period_end` moved to subscription items',
  objects: ['subscription'],
  down(sub) {
    const first = sub.items?.data?.[0];
    return { ...sub, current_period_end: first?.current_period_end ?? null, current_period_start: first?.current_period_start ?? null };
  },
};
