/**
 * 2022-11-15 stopped embedding lists that grow: a PaymentIntent's `charges`
 * (`latest_charge` instead) and a Charge's `refunds` (expand it, or list
 * refunds by charge).
 */
import { embeddedList, where, type VersionChange } from '../change.js';

export const intentCharges: VersionChange = {
  version: '2022-11-15',
  title: 'PaymentIntents: `charges` removed (`latest_charge` instead)',
  objects: ['payment_intent'],
  down: (pi, source) => ({ ...pi, charges: embeddedList([...where(source, 'charges', (c) => c.payment_intent === pi.id)].reverse(), `/v1/charges?payment_intent=${pi.id}`) }),
};

export const chargeRefunds: VersionChange = {
  version: '2022-11-15',
  title: 'Charges: `refunds` no longer included unless expanded',
  objects: ['charge'],
  down: (c, source) => (c.refunds && typeof c.refunds === 'object' ? c : { ...c, refunds: embeddedList([...where(source, 'refunds', (r) => r.charge === c.id)].reverse(), `/v1/charges/${c.id}/refunds`) }),
};
