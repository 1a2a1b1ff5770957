/**
 * The request side of API versions: parameters a version removed or whose
 * values it renamed, declared as data and applied to every request before
 * its handler runs. Handlers see one spelling, the current one; a request
 * in a version's spelling is translated, one in another version's is
 * refused as Stripe refuses it. (Changes to what a parameter *does* live
 * with the handler, which reads `ctx.request.apiVersion`.)
 */
import { invalidRequest } from '../../stripe/errors.js';
import { olderThan } from '../../stripe/versions.js';

interface RemovedParam {
  kind: 'removed';
  /** The first version that refuses it. */
  version: string;
  title: string;
  routes: string[];
  param: string;
  code: string;
  message: string;
}

interface RenamedValues {
  kind: 'renamed';
  /** The first version with the new names. */
  version: string;
  title: string;
  routes: string[];
  param: string;
  /** Old name → new name. */
  names: Record<string, string>;
}

/** A value the version stopped taking; before it, the value means what `values` maps it to. */
interface RetiredValues {
  kind: 'retired';
  version: string;
  title: string;
  routes: string[];
  param: string;
  /** Retired value → the current value that does what it did. */
  values: Record<string, string>;
}

export type RequestChange = RemovedParam | RenamedValues | RetiredValues;

const INTENT_ROUTES = [
  'POST /v1/payment_intents', 'POST /v1/payment_intents/{intent}', 'POST /v1/payment_intents/{intent}/confirm',
  'POST /v1/setup_intents', 'POST /v1/setup_intents/{intent}',
];

export const REQUEST_CHANGES: readonly RequestChange[] = [
  {
    kind: 'removed',
    version: '2026-09-30.endive',
    title: 'PaymentIntents, SetupIntents and Checkout Sessions: `payment_method_types` no longer taken (`allowed_payment_method_types` filters instead)',
    routes: [...INTENT_ROUTES, 'POST /v1/checkout/sessions'],
    param: 'payment_method_types',
    code: 'payment_method_types_no_longer_supported',
    message:
      'payment_method_types is no longer supported on API version 2026-09-30.endive and later. Use allowed_payment_method_types to limit the payment method types, or leave it out for dynamic payment methods.',
  },
  {
    kind: 'renamed',
    version: '2026-03-25.dahlia',
    title: 'Checkout Sessions: `ui_mode` values renamed (`hosted` → `hosted_page`, `embedded` → `embedded_page`, `custom` → `elements`)',
    routes: ['POST /v1/checkout/sessions'],
    param: 'ui_mode',
    names: { hosted: 'hosted_page', embedded: 'embedded_page', custom: 'elements' },
  },
  {
    kind: 'retired',
    version: '2024-04-10',
    title: 'Invoices: `pending_invoice_items_behavior=include_and_require` no longer taken (`include`)',
    routes: ['POST /v1/invoices'],
    param: 'pending_invoice_items_behavior',
    values: { include_and_require: 'include' },
  },
];

const byRoute = new Map<string, RequestChange[]>();
for (const change of REQUEST_CHANGES) for (const route of change.routes) byRoute.set(route, [...(byRoute.get(route) ?? []), change]);

const invalidValue = (param: string, value: string, version: string) =>
  invalidRequest(`Invalid ${param}: '${value}' is not a value API version ${version} takes.`, { param, code: 'parameter_invalid_enum' });

/** `params` in the current spelling, or a Stripe error for a parameter `version` does not take. */
export function requestForVersion(route: string, params: Record<string, unknown>, version: string): Record<string, unknown> {
  const changes = byRoute.get(route);
  if (!changes) return params;
  let out = params;
  for (const change of changes) {
    const value = out[change.param];
    if (value === undefined) continue;
    const before = olderThan(version, change.version);
    if (change.kind === 'removed') {
      if (!before) throw invalidRequest(change.message, { param: change.param, code: change.code });
      continue;
    }
    if (typeof value !== 'string') continue;
    if (change.kind === 'retired') {
      if (!(value in change.values)) continue;
      if (!before) throw invalidValue(change.param, value, version);
      out = { ...out, [change.param]: change.values[value] };
      continue;
    }
    const renamed = change.names[value];
    const isNewName = Object.values(change.names).includes(value);
    if (before && renamed) out = { ...out, [change.param]: renamed };
    else if (before && isNewName) throw invalidValue(change.param, value, version);
    else if (!before && renamed) throw invalidValue(change.param, value, version);
  }
  return out;
}
