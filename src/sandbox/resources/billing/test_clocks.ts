/**
 * Test clocks: a frozen time for the customers attached to them. Advancing
 * a clock runs everything that would have happened in between (renewals,
 * trials ending, payment retries) in time order.
 */
import { invalidRequest } from '../../../stripe/errors.js';
import type { Ctx } from '../../engine/context.js';
import { newId } from '../../../stripe/ids.js';
import { deleteObject, standardOperations, type Params, type Resource } from '../../engine/resource.js';
import type { StripeObject } from '../../store/collection.js';
import { advanceSubscriptions } from './subscriptions.js';
import { days } from './time.js';

function create(ctx: Ctx, p: Params): StripeObject {
  const clock: StripeObject = {
    id: newId('clock'),
    object: 'test_helpers.test_clock',
    created: ctx.now(),
    deletes_after: ctx.now() + days(30),
    frozen_time: p.frozen_time,
    livemode: false,
    name: p.name ?? null,
    status: 'ready',
    status_details: {},
  };
  ctx.put('test_clocks', clock);
  ctx.emit('test_helpers.test_clock.created', clock);
  return clock;
}

/**
 * Stripe advances clocks in the background and answers `advancing` at once.
 * The sandbox does the work within the request, so the clock is already
 * `ready` when read back; the answer still says `advancing`, as Stripe's does.
 */
function advance(ctx: Ctx, clock: StripeObject, p: Params): StripeObject {
  if (clock.status !== 'ready') throw invalidRequest('The test clock is currently advancing. Wait for it to finish.', { code: 'test_clock_not_ready' });
  if (p.frozen_time <= clock.frozen_time) {
    throw invalidRequest('The frozen_time must be after the test clock’s current frozen_time.', { param: 'frozen_time' });
  }
  ctx.emit('test_helpers.test_clock.advancing', { ...clock, status: 'advancing' });
  ctx.setNow(clock.frozen_time);
  advanceSubscriptions(ctx, clock.id, p.frozen_time);
  ctx.setNow(p.frozen_time);
  const ready = { ...clock, frozen_time: p.frozen_time, status: 'ready' };
  ctx.put('test_clocks', ready);
  ctx.emit('test_helpers.test_clock.ready', ready);
  return { ...ready, status: 'advancing' };
}

function remove(ctx: Ctx, clock: StripeObject): StripeObject {
  for (const customer of ctx.collection('customers').ascending()) {
    if (customer.test_clock === clock.id && !customer.deleted) {
      ctx.put('customers', { id: customer.id, object: 'customer', deleted: true });
      ctx.emit('customer.deleted', customer);
    }
  }
  for (const sub of ctx.collection('subscriptions').ascending()) {
    if (sub.test_clock === clock.id && sub.status !== 'canceled') {
      const ended = { ...sub, status: 'canceled', canceled_at: ctx.now(), ended_at: ctx.now() };
      ctx.put('subscriptions', ended);
      ctx.emit('customer.subscription.deleted', ended);
    }
  }
  return deleteObject(ctx, 'test_clocks', clock, 'test_helpers.test_clock.deleted');
}

const declaration = {
  collection: 'test_clocks', object: 'test_helpers.test_clock', prefix: 'clock', noun: 'test_clock', path: '/v1/test_helpers/test_clocks', permission: 'test_clocks',
};

export const testClocks: Resource = {
  ...declaration,
  operations: [
    ...standardOperations(declaration, { idParam: 'test_clock', create, del: remove }),
    {
      method: 'POST', path: '/v1/test_helpers/test_clocks/{test_clock}/advance', permission: 'test_clocks',
      handle: (ctx, p, path) => advance(ctx, ctx.require('test_clocks', path.test_clock, 'test_clock', 'test_clock'), p),
    },
  ],
};
