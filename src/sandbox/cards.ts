/**
 * Stripe's documented test cards and what each does, by number and by the
 * `pm_card_*` / `tok_*` shortcuts. The behaviour decides what a charge on
 * the card does: succeed, decline with a reason, ask for 3-D Secure, or
 * succeed and then be disputed.
 */
export type CardBehaviour =
  | { kind: 'success' }
  | { kind: 'decline'; code: string; decline_code: string; message: string; param?: string }
  /** Attaching works; every charge fails (pm_card_chargeCustomerFail). */
  | { kind: 'charge_fail' }
  /** 3-D Secure on every on-session payment; off-session works after a setup (4000 0025 0000 3155). */
  | { kind: 'three_ds'; always: boolean }
  | { kind: 'dispute'; reason: string }
  | { kind: 'available' };

export interface TestCard {
  number: string;
  brand: string;
  funding: 'credit' | 'debit' | 'prepaid';
  country: string;
  behaviour: CardBehaviour;
  /** Radar's risk level for a payment that goes through (Stripe's Radar test cards). */
  risk?: 'elevated' | 'highest';
}

const DECLINED = 'Your card was declined.';
const decline = (decline_code: string, message = DECLINED, code = 'card_declined', param?: string): CardBehaviour => ({
  kind: 'decline', code, decline_code, message, param,
});

const card = (number: string, brand: string, behaviour: CardBehaviour = { kind: 'success' }, funding: TestCard['funding'] = 'credit', country = 'US'): TestCard => ({
  number, brand, funding, country, behaviour,
});

export const TEST_CARDS: TestCard[] = [
  card('4242424242424242', 'visa'),
  card('4000056655665556', 'visa', undefined, 'debit'),
  card('5555555555554444', 'mastercard'),
  card('2223003122003222', 'mastercard'),
  card('5200828282828210', 'mastercard', undefined, 'debit'),
  card('5105105105105100', 'mastercard', undefined, 'prepaid'),
  card('378282246310005', 'amex'),
  card('371449635398431', 'amex'),
  card('6011111111111117', 'discover'),
  card('6011000990139424', 'discover'),
  card('3056930009020004', 'diners'),
  card('36227206271667', 'diners'),
  card('3566002020360505', 'jcb'),
  card('6200000000000005', 'unionpay'),
  card('4000000000000077', 'visa', { kind: 'available' }),
  card('4000000000000002', 'visa', decline('generic_decline')),
  card('4000000000009995', 'visa', decline('insufficient_funds', 'Your card has insufficient funds.')),
  card('4000000000009987', 'visa', decline('lost_card')),
  card('4000000000009979', 'visa', decline('stolen_card')),
  card('4000000000000069', 'visa', decline('expired_card', 'Your card has expired.', 'expired_card', 'exp_month')),
  card('4000000000000127', 'visa', decline('incorrect_cvc', "Your card's security code is incorrect.", 'incorrect_cvc', 'cvc')),
  card('4000000000000119', 'visa', decline('processing_error', 'An error occurred while processing your card. Try again in a little bit.', 'processing_error')),
  card('4000000000006975', 'visa', decline('card_velocity_exceeded')),
  card('4100000000000019', 'visa', decline('fraudulent')),
  // Radar's test cards: highest risk is blocked by Radar's default rule, elevated risk goes through with its level.
  card('4000000000004954', 'visa', decline('fraudulent')),
  { ...card('4000000000009235', 'visa'), risk: 'elevated' },
  card('4000000000000341', 'visa', { kind: 'charge_fail' }),
  card('4000002500003155', 'visa', { kind: 'three_ds', always: false }),
  card('4000002760003184', 'visa', { kind: 'three_ds', always: true }),
  card('4000000000003220', 'visa', { kind: 'three_ds', always: false }),
  card('4000000000003063', 'visa', { kind: 'three_ds', always: true }),
  card('4000000000000259', 'visa', { kind: 'dispute', reason: 'fraudulent' }),
  card('4000000000002685', 'visa', { kind: 'dispute', reason: 'product_not_received' }),
  card('4000000000001976', 'visa', { kind: 'dispute', reason: 'general' }),
];

const BY_NUMBER = new Map(TEST_CARDS.map((c) => [c.number, c]));

/** Test tokens (`pm_card_visa`, `tok_chargeDeclined`, ...) and the card number each stands for. */
const SHORTCUTS: Record<string, string> = {
  visa: '4242424242424242',
  visa_debit: '4000056655665556',
  mastercard: '5555555555554444',
  mastercard_debit: '5200828282828210',
  mastercard_prepaid: '5105105105105100',
  amex: '378282246310005',
  discover: '6011111111111117',
  diners: '3056930009020004',
  jcb: '3566002020360505',
  unionpay: '6200000000000005',
  bypassPending: '4000000000000077',
  chargeDeclined: '4000000000000002',
  chargeDeclinedInsufficientFunds: '4000000000009995',
  chargeDeclinedLostCard: '4000000000009987',
  chargeDeclinedStolenCard: '4000000000009979',
  chargeDeclinedExpiredCard: '4000000000000069',
  chargeDeclinedIncorrectCvc: '4000000000000127',
  chargeDeclinedProcessingError: '4000000000000119',
  chargeDeclinedVelocityLimitExceeded: '4000000000006975',
  chargeDeclinedFraudulent: '4100000000000019',
  radarBlock: '4100000000000019',
  riskLevelHighest: '4000000000004954',
  riskLevelElevated: '4000000000009235',
  chargeCustomerFail: '4000000000000341',
  authenticationRequired: '4000002760003184',
  authenticationRequiredOnSetup: '4000002500003155',
  threeDSecure2Required: '4000000000003220',
  threeDSecureRequired: '4000000000003063',
  createDispute: '4000000000000259',
  createDisputeProductNotReceived: '4000000000002685',
  createDisputeInquiry: '4000000000001976',
};

/** The card number a `pm_card_*` or `tok_*` test token stands for. */
export function shortcutNumber(token: string): string | undefined {
  const m = /^(?:pm_card|tok)_(.+)$/.exec(token);
  // Stripe also spells the decline tokens with the brand: pm_card_visa_chargeDeclined.
  return m ? SHORTCUTS[m[1]] ?? SHORTCUTS[m[1].replace(/^visa_(?=chargeDeclined)/, '')] : undefined;
}

export function luhnValid(number: string): boolean {
  let sum = 0;
  for (let i = 0; i < number.length; i++) {
    let d = number.charCodeAt(number.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

/** Brand from the number's prefix, for numbers that are not listed test cards. */
export function brandOf(number: string): string {
  if (/^4/.test(number)) return 'visa';
  if (/^(5[1-5]|2[2-7])/.test(number)) return 'mastercard';
  if (/^3[47]/.test(number)) return 'amex';
  if (/^(6011|65|64[4-9])/.test(number)) return 'discover';
  if (/^3(0[0-5]|[68])/.test(number)) return 'diners';
  if (/^35/.test(number)) return 'jcb';
  if (/^62/.test(number)) return 'unionpay';
  return 'unknown';
}

export function testCard(number: string): TestCard {
  return BY_NUMBER.get(number) ?? card(number, brandOf(number));
}
