/**
 * Stripe's error families. Every failure inside the sandbox is one of these
 * classes; `toStripeError` in the HTTP boundary is the only place that turns
 * them into Stripe's `{error: {...}}` JSON.
 */
export type StripeErrorType =
  | 'api_connection_error'
  | 'api_error' | 'card_error' | 'idempotency_error' | 'invalid_request_error'
  | 'authentication_error' | 'rate_limit_error' | 'permission_error';

export interface StripeErrorFields {
  code?: string;
  decline_code?: string;
  param?: string;
  doc_url?: string;
  /** Extra members Stripe puts on some errors, e.g. `payment_intent` on a card error. */
  extra?: Record<string, unknown>;
  /** Commit the request's staged changes even though it fails (a decline is recorded). */
  commit?: boolean;
  /** HTTP headers the error answer carries, e.g. `Stripe-Should-Retry`. */
  headers?: Record<string, string>;
}

const DOCS = 'https://stripe.com/docs/error-codes/';

export class StripeError extends Error {
  constructor(
    readonly status: number,
    readonly type: StripeErrorType,
    message: string,
    readonly fields: StripeErrorFields = {},
  ) {
    super(message);
  }

  toJSON(): { error: Record<string, unknown> } {
    const { code, decline_code, param, extra } = this.fields;
    const doc_url = this.fields.doc_url ?? (code ? DOCS + code.replace(/_/g, '-') : undefined);
    const error: Record<string, unknown> = { type: this.type, message: this.message };
    if (code) error.code = code;
    if (decline_code) error.decline_code = decline_code;
    if (doc_url) error.doc_url = doc_url;
    if (param) error.param = param;
    if (extra) Object.assign(error, extra);
    return { error };
  }
}

/** 400: the request is malformed or names something that is not allowed. */
export const invalidRequest = (message: string, fields: StripeErrorFields = {}, status = 400) =>
  new StripeError(status, 'invalid_request_error', message, fields);

/** 404: the object named by `id` does not exist (in this account). */
export const resourceMissing = (noun: string, id: string, param?: string) =>
  invalidRequest(`No such ${noun}: '${id}'`, { code: 'resource_missing', param }, 404);

/** 401: no key, a malformed key or an unknown key. */
export const authenticationError = (message: string, code?: string) =>
  new StripeError(401, 'invalid_request_error', message, { code });

/** 403: the key is valid but may not do this. */
export const permissionError = (message: string, code?: string) =>
  new StripeError(403, 'invalid_request_error', message, { code });

/** 402: a card was declined or could not be charged. */
export const cardError = (message: string, fields: StripeErrorFields) =>
  new StripeError(402, 'card_error', message, fields);

/** 400/409: an idempotency key was reused with other parameters or concurrently. */
export const idempotencyError = (message: string, status = 400) =>
  new StripeError(status, 'idempotency_error', message);

/** 500: a fault of the sandbox itself; never blamed on the client. */
export const apiError = (message = 'An unknown error occurred') =>
  new StripeError(500, 'api_error', message);
