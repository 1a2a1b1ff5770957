import { matchesEventType } from '../engine/event_types.js';
import { standardOperations, type Resource } from '../engine/resource.js';
import type { StripeObject } from '../store/collection.js';


const declaration = {
  collection: 'events', object: 'event', prefix: 'evt', noun: 'event', path: '/v1/events', permission: 'events',
  listFilters: {
    type: (v: string) => (e: StripeObject) => matchesEventType(v, e.type),
    types: (v: string[]) => (e: StripeObject) => v.some((t) => matchesEventType(t, e.type)),
  },
};

export const events: Resource = {
  ...declaration,
  operations: standardOperations(declaration, { idParam: 'id' }),
};
