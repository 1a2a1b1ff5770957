/** Currency rules Stripe applies to amounts: minimums, maximum, zero-decimal currencies. */
import { invalidRequest } from './errors.js';

const ZERO_DECIMAL = new Set(['bif', 'clp', 'djf', 'gnf', 'jpy', 'kmf', 'krw', 'mga', 'pyg', 'rwf', 'ugx', 'vnd', 'vuv', 'xaf', 'xof', 'xpf']);
/** Minimum charge amounts in minor units (Stripe's published table, main currencies). */
const MINIMUMS: Record<string, number> = {
  usd: 50, aud: 50, brl: 50, cad: 50, chf: 50, eur: 50, inr: 50, nzd: 50, sgd: 50, gbp: 30, dkk: 250, nok: 300, sek: 300,
  hkd: 400, jpy: 50, mxn: 1000, pln: 200, czk: 1500, huf: 17500, ron: 200, bgn: 100, thb: 1000, myr: 200, aed: 200,
};
const SYMBOLS: Record<string, string> = { usd: '$', aud: '$', cad: '$', nzd: '$', sgd: '$', hkd: '$', mxn: '$', eur: '€', gbp: '£', jpy: '¥', inr: '₹' };
const MAX_AMOUNT = 99_999_999;

export function formatAmount(amount: number, currency: string): string {
  const symbol = SYMBOLS[currency] ?? '';
  const major = ZERO_DECIMAL.has(currency) ? amount.toLocaleString('en-US') : (amount / 100).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  return symbol ? `${symbol}${major}` : `${major} ${currency}`;
}

export function checkCurrency(currency: unknown, param = 'currency'): string {
  const c = String(currency ?? '').toLowerCase();
  if (!/^[a-z]{3}$/.test(c)) throw invalidRequest(`Invalid currency: ${currency}. Stripe currently supports these currencies: usd, eur, gbp, ...`, { param, code: 'parameter_invalid_string' });
  return c;
}

/** Throws Stripe's amount_too_small / amount_too_large errors. */
/** The smallest amount Stripe charges in `currency` (its documented minimums; 50 of the minor unit otherwise). */
export const minimumCharge = (currency: string): number => MINIMUMS[currency] ?? 50;

export function checkAmount(amount: number, currency: string, param = 'amount'): void {
  const min = minimumCharge(currency);
  if (amount < min) {
    throw invalidRequest(`Amount must be at least ${formatAmount(min, currency)} ${currency}`, { param, code: 'amount_too_small' });
  }
  if (amount > MAX_AMOUNT) {
    throw invalidRequest(`Amount must be no more than ${formatAmount(MAX_AMOUNT, currency)}`, { param, code: 'amount_too_large' });
  }
}

/** Stripe's standard card fee: 2.9% + 30 minor units. */
export const cardFee = (amount: number) => Math.round(amount * 0.029) + 30;
