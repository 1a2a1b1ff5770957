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
  /**
   * 3-D Secure on every on-session payment; off-session works after a setup (4000 0025 0000 3155) unless `always`.
   * With `decline`, the payment is declined once authenticated (4000 0082 6000 3178).
   */
  | { kind: 'three_ds'; always: boolean; decline?: { code: string; decline_code: string; message: string } }
  /** Succeeds, then disputed; `eligibility` names the network programmes the dispute qualifies for. */
  | { kind: 'dispute'; reason: string; eligibility?: 'visa_compelling_evidence_3' | 'visa_compliance' | 'mastercard_compliance' }
  | { kind: 'available' };

export interface TestCard {
  number: string;
  brand: string;
  funding: 'credit' | 'debit' | 'prepaid';
  country: string;
  behaviour: CardBehaviour;
  /** Radar's risk level for a payment that goes through (Stripe's Radar test cards). */
  risk?: 'elevated' | 'highest';
  /** Address and CVC check results the card reports (the checks test cards); the payment still succeeds. */
  checks?: { address_line1_check?: string; address_postal_code_check?: string; cvc_check?: string };
  /**
   * What happens to a refund after it is answered: `fails` — answered succeeded, then failed
   * (`expired_or_canceled_card`) and the money returned; `pending` — answered pending, then succeeded.
   */
  refund?: 'fails' | 'pending';
  /** The issuer reports the payment as fraud: an early fraud warning follows the charge (4000 0000 0000 5423). */
  earlyFraudWarning?: boolean;
  /** A co-branded card's second network (Cartes Bancaires, eftpos Australia), beside its brand. */
  coBrand?: string;
}

const DECLINED = 'Your card was declined.';
const decline = (decline_code: string, message = DECLINED, code = 'card_declined', param?: string): CardBehaviour => ({
  kind: 'decline', code, decline_code, message, param,
});

const card = (number: string, brand: string, behaviour: CardBehaviour = { kind: 'success' }, funding: TestCard['funding'] = 'credit', country = 'US'): TestCard => ({
  number, brand, funding, country, behaviour,
});

/** Stripe's cards by country: [number, country, brand, funding]; each succeeds and reports its country. */
const INTERNATIONAL: [string, string, string?, string?][] = [
  ['4000000760000002', 'BR'], ['4000001240000000', 'CA'], ['4000004840008001', 'MX'], ['4000000400000008', 'AT'],
  ['4000000560000004', 'BE'], ['4000002080000001', 'DK'], ['4000002460000001', 'FI'], ['4000002500000003', 'FR'],
  ['4000002760000016', 'DE'], ['4000003720000005', 'IE'], ['4000003800000008', 'IT'], ['4000004420000006', 'LU'],
  ['4000005280000002', 'NL'], ['4000005780000007', 'NO'], ['4000006160000005', 'PL'], ['4000006200000007', 'PT'],
  ['4000007240000007', 'ES'], ['4000007520000008', 'SE'], ['4000007560000009', 'CH'], ['4000008260000000', 'GB'],
  ['4000058260000005', 'GB', 'visa', 'debit'], ['5555558265554449', 'GB', 'mastercard'], ['4000000360000006', 'AU'],
  ['4000003440000004', 'HK'], ['4000003560000008', 'IN'], ['4000003920000003', 'JP'], ['3530111333300000', 'JP', 'jcb'],
  ['4000004580000002', 'MY'], ['4000005540000008', 'NZ'], ['4000007020000003', 'SG'], ['4000007640000003', 'TH'],
];

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
  card('6200000000000047', 'unionpay', undefined, 'debit'),
  card('6205500000000000004', 'unionpay'),
  card('6011981111111113', 'discover', undefined, 'debit'),
  // Co-branded cards: both networks are available, the international brand is the card's brand.
  { ...card('4000002500001001', 'visa', undefined, 'credit', 'FR'), coBrand: 'cartes_bancaires' },
  { ...card('5555552500001001', 'mastercard', undefined, 'credit', 'FR'), coBrand: 'cartes_bancaires' },
  { ...card('4000050360000001', 'visa', undefined, 'debit', 'AU'), coBrand: 'eftpos_au' },
  { ...card('5555050360000080', 'mastercard', undefined, 'debit', 'AU'), coBrand: 'eftpos_au' },
  card('4000000000000077', 'visa', { kind: 'available' }),
  card('4000003720000278', 'visa', { kind: 'available' }, 'credit', 'IE'),
  card('4000000000000093', 'visa'),
  { ...card('4000000000005126', 'visa'), refund: 'fails' },
  { ...card('4000000000007726', 'visa'), refund: 'pending' },
  { ...card('4000000000005423', 'visa'), earlyFraudWarning: true },
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
  { ...card('4000000000000010', 'visa'), checks: { address_line1_check: 'fail', address_postal_code_check: 'fail' } },
  { ...card('4000000000000028', 'visa'), checks: { address_line1_check: 'fail', address_postal_code_check: 'pass' } },
  { ...card('4000000000000036', 'visa'), checks: { address_line1_check: 'pass', address_postal_code_check: 'fail' } },
  { ...card('4000000000000044', 'visa'), checks: { address_line1_check: 'unavailable', address_postal_code_check: 'unavailable' } },
  { ...card('4000000000000101', 'visa'), checks: { cvc_check: 'fail' } },
  card('4000000000003055', 'visa'),
  ...INTERNATIONAL.map(([number, country, brand = 'visa', funding = 'credit']) => card(number, brand, undefined, funding as TestCard['funding'], country)),
  card('4000002500003155', 'visa', { kind: 'three_ds', always: false }),
  card('4000002760003184', 'visa', { kind: 'three_ds', always: true }),
  card('4000000000003220', 'visa', { kind: 'three_ds', always: false }),
  card('4000000000003063', 'visa', { kind: 'three_ds', always: true }),
  card('4000008260003178', 'visa', { kind: 'three_ds', always: true, decline: { code: 'card_declined', decline_code: 'insufficient_funds', message: 'Your card has insufficient funds.' } }),
  card('4000008400001629', 'visa', { kind: 'three_ds', always: true, decline: { code: 'card_declined', decline_code: 'generic_decline', message: 'Your card was declined.' } }),
  card('4000000000000259', 'visa', { kind: 'dispute', reason: 'fraudulent' }),
  card('4000000000002685', 'visa', { kind: 'dispute', reason: 'product_not_received' }),
  card('4000000000001976', 'visa', { kind: 'dispute', reason: 'general' }),
  card('4000000404000038', 'visa', { kind: 'dispute', reason: 'fraudulent', eligibility: 'visa_compelling_evidence_3' }),
  card('4000008400000779', 'visa', { kind: 'dispute', reason: 'noncompliant', eligibility: 'visa_compliance' }),
  card('5105008400000002', 'mastercard', { kind: 'dispute', reason: 'noncompliant', eligibility: 'mastercard_compliance' }),
  card('4000000001000043', 'visa', { kind: 'dispute', reason: 'fraudulent' }),
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
  discover_debit: '6011981111111113',
  unionpay_debit: '6200000000000047',
  bypassPending: '4000000000000077',
  bypassPendingInternational: '4000003720000278',
  domesticPricing: '4000000000000093',
  refundFail: '4000000000005126',
  pendingRefund: '4000000000007726',
  createIssuerFraudRecord: '4000000000005423',
  authenticationRequiredChargeDeclinedInsufficientFunds: '4000008260003178',
  avsFail: '4000000000000010',
  avsLine1Fail: '4000000000000028',
  avsZipFail: '4000000000000036',
  avsUnchecked: '4000000000000044',
  cvcCheckFail: '4000000000000101',
  threeDSecureOptional: '4000000000003055',
  br: '4000000760000002', ca: '4000001240000000', mx: '4000004840008001', at: '4000000400000008', be: '4000000560000004',
  dk: '4000002080000001', fi: '4000002460000001', fr: '4000002500000003', de: '4000002760000016', ie: '4000003720000005',
  it: '4000003800000008', lu: '4000004420000006', nl: '4000005280000002', no: '4000005780000007', pl: '4000006160000005',
  pt: '4000006200000007', es: '4000007240000007', se: '4000007520000008', ch: '4000007560000009', gb: '4000008260000000',
  gb_debit: '4000058260000005', gb_mastercard: '5555558265554449', au: '4000000360000006', hk: '4000003440000004',
  in: '4000003560000008', jp: '4000003920000003', jcb_jp: '3530111333300000', my: '4000004580000002', nz: '4000005540000008',
  sg: '4000007020000003', th: '4000007640000003',
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
  createCe3EligibleDispute: '4000000404000038',
  createComplianceDispute: '4000008400000779',
  createMastercardComplianceDispute: '5105008400000002',
  createAutoRepresentmentEligibleDispute: '4000000001000043',
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
