/**
 * An integration we did not write, against the sandbox: Debian's python3-stripe
 * (5.0, which sends booleans as `True`/`False` and no Stripe-Version) running
 * customer, PaymentIntent, capture, refund, subscription and invoice, Checkout,
 * webhook-signature and error flows (test/clients/stripe_python_flows.py).
 * Skipped where python3-stripe is not installed, except in CI, which installs it.
 */
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { it } from 'node:test';
import { harnessPerFile, type Harness } from '../helpers.js';

const PYTHON = '/usr/bin/python3';
const available = (() => {
  try {
    execFileSync(PYTHON, ['-c', 'import stripe'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
if (!available && process.env.CI) throw new Error('python3-stripe is missing: .ci/run installs it (apt-get install python3-stripe)');

let h: Harness;
harnessPerFile((x) => (h = x));

it('runs an older stripe-python integration’s flows unchanged', { skip: !available && 'python3-stripe is not installed' }, async () => {
  // python3-stripe 5.0 sends no Stripe-Version: its requests are answered in the account's version, which for an
  // integration of its time (late 2022) is 2022-11-15, as Workbench would show it.
  const set = await fetch(`${h.sandbox.url}/_sandbox/api_version`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ api_version: '2022-11-15' }) });
  assert.equal(set.status, 200);
  const run = await promisify(execFile)(PYTHON, [new URL('../clients/stripe_python_flows.py', import.meta.url).pathname], { env: { ...process.env, STRIPE_API_BASE: h.sandbox.url } })
    .catch((e: { stdout: string; stderr: string }) => e);
  const lines = run.stdout.trim().split('\n');
  assert.deepEqual(lines.filter((l) => !l.startsWith('ok ')), [], run.stderr);
  assert.equal(lines.length, 8, run.stdout);
});
