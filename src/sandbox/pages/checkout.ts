/**
 * The hosted Checkout page a session's `url` opens, the payment-link
 * entry (`/b/:id`), the return from 3-D Secure, and a confirmation page.
 * The page is plain HTML with a few lines of script for the card brand
 * and input formatting; everything else happens on the server.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { resourceMissing, StripeError } from '../../stripe/errors.js';
import { transact, type PipelineDeps } from '../pipeline.js';
import { currentSession, sessionForLink, submitCheckout, successUrl, type CheckoutForm, type CheckoutOutcome } from '../resources/checkout.js';
import { formatAmount } from '../../stripe/money.js';
import type { StripeObject } from '../store/store.js';
import { escapeHtml, page } from './html.js';

const CSS = `
main.checkout{max-width:920px;display:grid;grid-template-columns:1fr 1fr;gap:48px;padding:40px}
@media(max-width:760px){main.checkout{grid-template-columns:1fr;gap:24px}}
.merchant{font-weight:600;color:#1a1f36;margin-bottom:24px}.amount{font-size:36px;font-weight:700;margin:4px 0 24px}
.item{display:flex;justify-content:space-between;gap:12px;padding:10px 0}.item small{display:block;color:#8792a2}
label{display:block;font-size:13px;font-weight:500;color:#4f566b;margin:14px 0 6px}
input{width:100%;padding:10px 12px;border:1px solid #d5dbe1;border-radius:6px;font-size:16px;box-shadow:0 1px 1px rgba(0,0,0,.03)}
input:focus{outline:none;border-color:#635bff;box-shadow:0 0 0 3px rgba(99,91,255,.25)}
.pair{display:grid;grid-template-columns:1fr 1fr;gap:12px}.card{position:relative}
.brand{position:absolute;right:10px;top:50%;transform:translateY(-50%);font-size:12px;font-weight:700;color:#635bff;letter-spacing:.02em}
.error{background:#fdecea;color:#b3261e;border-radius:6px;padding:10px 12px;margin:12px 0;font-size:14px}
.cancel{display:inline-block;margin-top:16px;color:#635bff;text-decoration:none;font-size:14px}
.invalid{border-color:#df1b41}`;

/** Shows the brand as the number is typed, groups digits in fours, and types the " / " of the expiry. */
const SCRIPT = `
const brands=[[/^4/,'Visa'],[/^(5[1-5]|2[2-7])/,'Mastercard'],[/^3[47]/,'American Express'],[/^(6011|65|64[4-9])/,'Discover'],[/^3(0[0-5]|[68])/,'Diners Club'],[/^35/,'JCB'],[/^62/,'UnionPay']];
const n=document.getElementById('card_number'),b=document.getElementById('card_brand'),x=document.getElementById('expiry');
function brand(){const d=n.value.replace(/\\D/g,'');const m=brands.find(([r])=>r.test(d));b.textContent=m?m[1]:'';n.dataset.brand=m?m[1]:''}
n.addEventListener('input',()=>{const d=n.value.replace(/\\D/g,'').slice(0,19);n.value=d.replace(/(\\d{4})(?=\\d)/g,'$1 ');brand()});
x.addEventListener('input',e=>{let d=x.value.replace(/\\D/g,'').slice(0,4);if(d.length>=3||(d.length===2&&e.inputType!=='deleteContentBackward'))d=d.slice(0,2)+' / '+d.slice(2);x.value=d});
brand();`;

const BUTTONS: Record<string, string> = { payment: 'Pay', subscription: 'Subscribe', setup: 'Save card' };

function buttonLabel(session: StripeObject): string {
  if (session.mode === 'payment' && session.submit_type && ['donate', 'book'].includes(session.submit_type)) {
    return session.submit_type === 'donate' ? 'Donate' : 'Book';
  }
  return BUTTONS[session.mode];
}

function summary(session: StripeObject, items: StripeObject[]): string {
  const rows = items.map((li) => {
    const recurring = li.price.recurring ? ` / ${li.price.recurring.interval}` : '';
    return `<div class="item"><div>${escapeHtml(li.description ?? 'Item')}<small>Qty ${li.quantity}${li.quantity > 1 ? ` · ${escapeHtml(formatAmount(li.price.unit_amount ?? 0, li.currency))} each` : ''}</small></div><div>${escapeHtml(formatAmount(li.amount_subtotal, li.currency))}${escapeHtml(recurring)}</div></div>`;
  }).join('');
  if (session.mode === 'setup') {
    return `<p>Save your card with ${escapeHtml('PayBridge Sandbox')} for future payments. You won't be charged now.</p>`;
  }
  const recurring = items.find((li) => li.price.recurring);
  const heading = session.mode === 'subscription' ? `Subscribe to ${escapeHtml(recurring?.description ?? 'plan')}` : 'Pay PayBridge Sandbox';
  const discount = session.total_details?.amount_discount
    ? `<div class="row"><span>Discount</span><span>−${escapeHtml(formatAmount(session.total_details.amount_discount, session.currency))}</span></div>` : '';
  const then = recurring ? `<p class="muted">Then ${escapeHtml(formatAmount(session.amount_total, session.currency))} per ${escapeHtml(recurring.price.recurring.interval)}</p>` : '';
  return `<div>${heading}</div>
    <div class="amount" data-testid="total">${escapeHtml(formatAmount(session.amount_total, session.currency))}</div>
    ${then}${rows}
    <div class="row"><span>Subtotal</span><span>${escapeHtml(formatAmount(session.amount_subtotal, session.currency))}</span></div>${discount}
    <div class="row total"><span>${session.mode === 'subscription' ? 'Total due today' : 'Total due'}</span><span>${escapeHtml(formatAmount(session.amount_total, session.currency))}</span></div>`;
}

function render(session: StripeObject, items: StripeObject[], customerEmail: string | null, problem?: { message: string; field?: string }, form: CheckoutForm = {}): string {
  const email = customerEmail ?? form.email ?? session.customer_email ?? '';
  const invalid = (field: string) => (problem?.field === field ? ' class="invalid" aria-invalid="true"' : '');
  const cancel = session.cancel_url ? `<a class="cancel" href="${escapeHtml(session.cancel_url)}">← Cancel and return</a>` : '';
  return page(`Checkout · ${buttonLabel(session)}`, `
    <section>
      <div class="merchant">PayBridge Sandbox <span class="badge">Test mode</span></div>
      ${summary(session, items)}
    </section>
    <section>
      <h1>${session.mode === 'setup' ? 'Card details' : 'Pay with card'}</h1>
      ${problem ? `<div class="error" role="alert">${escapeHtml(problem.message)}</div>` : ''}
      <form method="post" action="/c/pay/${escapeHtml(session.id)}" novalidate>
        <label for="email">Email</label>
        <input id="email" name="email" type="email" autocomplete="email" value="${escapeHtml(email)}"${customerEmail ? ' readonly' : ''}${invalid('email')}>
        <label for="card_number">Card number</label>
        <div class="card"><input id="card_number" name="card_number" inputmode="numeric" autocomplete="cc-number" placeholder="1234 1234 1234 1234" value="${escapeHtml(form.card_number ?? '')}"${invalid('number')}><span id="card_brand" class="brand" aria-live="polite"></span></div>
        <div class="pair">
          <div><label for="expiry">Expiration date</label><input id="expiry" name="expiry" inputmode="numeric" autocomplete="cc-exp" placeholder="MM / YY" value="${escapeHtml(form.expiry ?? '')}"${invalid('expiry') || invalid('exp_month') || invalid('exp_year')}></div>
          <div><label for="cvc">CVC</label><input id="cvc" name="cvc" inputmode="numeric" autocomplete="cc-csc" placeholder="CVC" value="${escapeHtml(form.cvc ?? '')}"${invalid('cvc')}></div>
        </div>
        <label for="name">Cardholder name</label>
        <input id="name" name="name" autocomplete="cc-name" placeholder="Full name on card" value="${escapeHtml(form.name ?? '')}"${invalid('name')}>
        <button class="primary" type="submit">${buttonLabel(session)}</button>
      </form>
      ${cancel}
    </section>
    <script>${SCRIPT}</script>`, { mainClass: 'checkout', css: CSS });
}

function closed(session: StripeObject): string {
  const why = session.status === 'expired' ? 'This Checkout Session has expired.' : 'This Checkout Session is complete.';
  return page('Checkout', `<span class="badge">Test mode</span><h1>${why}</h1><p>Start again from the merchant's site.</p>`);
}

export function registerCheckoutPages(app: FastifyInstance, deps: PipelineDeps): void {
  const { store } = deps;
  const locate = (id: string) => {
    const found = store.locate('checkout_sessions', id);
    if (!found) throw resourceMissing('checkout.session', id);
    return found;
  };
  const lineItems = (account: string, session: StripeObject): StripeObject[] => store.get(account, 'checkout_line_items', session.id)?.items ?? [];
  const emailOf = (account: string, session: StripeObject): string | null => (session.customer ? store.get(account, 'customers', session.customer)?.email ?? null : null);

  const show = (reply: FastifyReply, id: string, status = 200, problem?: { message: string; field?: string }, form?: CheckoutForm, embedded?: string) => {
    const { account } = locate(id);
    const session = transact(deps, account, (ctx) => currentSession(ctx, ctx.require('checkout_sessions', id, 'checkout.session')));
    if (session.status !== 'open') return reply.code(status === 200 ? 200 : 409).type('text/html').send(closed(session));
    let html = render(session, lineItems(account, session), emailOf(account, session), problem, form);
    // In Stripe.js's embedded frame the form posts back with the embedding page's origin, to tell it when it is done.
    if (embedded) html = html.replace(`action="/c/pay/${escapeHtml(session.id)}"`, `action="/c/pay/${escapeHtml(session.id)}?embedded=${encodeURIComponent(embedded)}"`);
    return reply.code(status).type('text/html').send(html);
  };

  /** Submits a checkout form and turns the outcome (or a decline) into a redirect or a message. */
  const submit = (id: string, form: CheckoutForm): CheckoutOutcome => {
    const { account } = locate(id);
    try {
      return transact(deps, account, (ctx) => submitCheckout(ctx, id, form));
    } catch (e) {
      if (e instanceof StripeError && e.type === 'card_error') return { kind: 'error', message: e.message };
      throw e;
    }
  };

  app.get<{ Params: { id: string }; Querystring: { embedded?: string } }>('/c/pay/:id', async (req, reply) => show(reply, req.params.id, 200, undefined, undefined, req.query.embedded));

  app.post<{ Params: { id: string }; Querystring: { embedded?: string }; Body: CheckoutForm }>('/c/pay/:id', async (req, reply) => {
    const form = req.body ?? {};
    const outcome = submit(req.params.id, form);
    // Embedded Checkout (Stripe.js's initEmbeddedCheckout): the page around the frame goes on, not the frame.
    const embedded = req.query.embedded;
    if (outcome.kind === 'redirect' && embedded && /^https?:\/\/[^/]+$/.test(embedded) && !outcome.url.includes('/_sandbox/3ds/')) {
      return reply.type('text/html').send(page('Payment complete', `<h1>Payment complete</h1><p><a href="${escapeHtml(outcome.url)}" target="_top">Continue</a></p>
        <script>parent.postMessage({ __pbjsCheckout: ${JSON.stringify(req.params.id)}, url: ${JSON.stringify(outcome.url)} }, ${JSON.stringify(embedded)});</script>`));
    }
    if (outcome.kind === 'redirect') return reply.redirect(outcome.url, 303);
    return show(reply, req.params.id, 402, outcome, { ...form, card_number: form.card_number }, embedded);
  });

  app.get<{ Params: { id: string } }>('/c/pay/:id/return', async (req, reply) => {
    const { account, obj } = locate(req.params.id);
    const session = store.get(account, 'checkout_sessions', obj.id)!;
    if (session.status === 'complete') return reply.redirect(successUrl(session), 303);
    return show(reply, session.id, 402, { message: 'We are unable to authenticate your payment method. Please choose a different payment method and try again.' });
  });

  app.get<{ Params: { id: string } }>('/c/done/:id', async (req, reply) => {
    const { obj } = locate(req.params.id);
    return reply.type('text/html').send(page('Thank you', `<span class="badge">Test mode</span><h1>Thanks for your ${obj.mode === 'subscription' ? 'subscription' : 'payment'}</h1><p>A receipt was sent to ${escapeHtml(obj.customer_details?.email ?? 'you')}.</p>`));
  });

  app.get<{ Params: { id: string } }>('/b/:id', async (req, reply) => {
    const found = store.locate('payment_links', req.params.id);
    if (!found) throw resourceMissing('payment_link', req.params.id);
    if (!found.obj.active) return reply.code(410).type('text/html').send(page('Link inactive', '<h1>This link is no longer active</h1><p>Contact the seller for a new link.</p>'));
    const session = transact(deps, found.account, (ctx) => sessionForLink(ctx, found.obj));
    return reply.redirect(session.url, 303);
  });

  /** For tests and `paybridge trigger`: what pressing the button with these details does, answered as JSON. */
  app.post<{ Params: { id: string }; Body: CheckoutForm }>('/_sandbox/checkout/:id/complete', async (req) => {
    const body = req.body ?? {};
    return submit(req.params.id, { email: 'jenny.rosen@example.com', expiry: '12 / 34', cvc: '123', name: 'Jenny Rosen', ...body });
  });
}
