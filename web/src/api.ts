/**
 * The dashboard's client of PayBridge's API. A signed-in dashboard uses the
 * same /v1 routes as apps do, with its session cookie, the app and mode it
 * acts as, and the session's CSRF token on every change.
 */
export type Mode = 'test' | 'live';

export interface List<T> {
  object: 'list';
  data: T[];
  has_more: boolean;
}

export class ApiError extends Error {
  constructor(message: string, readonly status: number, readonly code?: string, readonly param?: string, readonly body?: Record<string, unknown>) {
    super(message);
  }
}

const context = { csrf: '', app: '', mode: 'test' as Mode, onSignedOut: () => undefined as void };

export function setApiContext(next: Partial<typeof context>): void {
  Object.assign(context, next);
}

/** Errors whose API message speaks to a program, said for a person at the dashboard instead (by code, in its own words). */
const FOR_A_PERSON: Record<string, () => string> = {
  mode_mismatch: () => {
    const other = context.mode === 'live' ? 'test' : 'live';
    return `This is a ${other} mode Stripe key, and you are in ${context.mode} mode: switch to ${other === 'live' ? 'Live' : 'Test'} mode at the top of the page to add it.`;
  },
};

/** What a failed request means, in words. */
function describe(status: number, error: { message?: string; code?: string } | undefined): string {
  if (error?.code && FOR_A_PERSON[error.code]) return FOR_A_PERSON[error.code]();
  if (error?.message) return error.message;
  if (status === 0) return 'PayBridge could not be reached. Check that it is running.';
  if (status >= 500) return 'PayBridge ran into a problem. Try again in a moment.';
  return 'The request was not accepted.';
}

/** Calls PayBridge as the selected app and mode (or the ones `as` names). */
export async function api<T = any>(method: string, path: string, body?: unknown, as: { app?: string; mode?: Mode } = {}): Promise<T> {
  const headers: Record<string, string> = { 'PayBridge-Mode': as.mode ?? context.mode };
  const app = as.app ?? context.app;
  if (app) headers['PayBridge-App'] = app;
  if (method !== 'GET') headers['X-CSRF-Token'] = context.csrf;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(path, { method, headers, credentials: 'same-origin', body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiError(describe(0, undefined), 0);
  }
  const text = await res.text();
  let json: any = {};
  try {
    json = text ? JSON.parse(text) : {};
  } catch {
    json = {};
  }
  if (!res.ok) {
    const error = json.error ?? {};
    if (res.status === 401 && error.code === 'not_signed_in') context.onSignedOut();
    throw new ApiError(describe(res.status, error), res.status, error.code, error.param, json);
  }
  return json as T;
}

export const qs = (params: Record<string, string | number | undefined | null>) => {
  const entries = Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== '') as [string, string][];
  return entries.length ? `?${new URLSearchParams(entries.map(([k, v]) => [k, String(v)]))}` : '';
};
