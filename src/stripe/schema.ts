/**
 * Compact request-parameter schema compiled from Stripe's OpenAPI spec by
 * `scripts/gen-spec.ts`. One-letter keys keep the generated table small.
 *  t: o(bject) a(rray) s(tring) i(nteger) n(umber) b(oolean) u(nion) x(any)
 *  p: properties, r: required, ap: schema of additional properties,
 *  i: array items, e: enum, m: max length, o: union options,
 *  z: an empty string is accepted (Stripe's "unset this field").
 */
export interface ParamSchema {
  t: 'o' | 'a' | 's' | 'i' | 'n' | 'b' | 'u' | 'x';
  p?: Record<string, ParamSchema>;
  r?: string[];
  ap?: ParamSchema;
  i?: ParamSchema;
  e?: string[];
  m?: number;
  o?: ParamSchema[];
  z?: 1;
}
