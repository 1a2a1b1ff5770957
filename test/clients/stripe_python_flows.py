"""
Flows of an integration written against Debian's python3-stripe (5.0: booleans sent as True/False, no
Stripe-Version header unless set), run against the sandbox named by STRIPE_API_BASE. Each flow prints
"ok <name>" or "FAIL <name>: <why>"; the process exits non-zero when any flow failed. Run by
test/sandbox/stripe-python.test.ts.
"""
import hashlib
import hmac
import json
import os
import sys
import time
import traceback

import stripe

stripe.api_key = "sk_test_python_client_flows"
stripe.api_base = os.environ["STRIPE_API_BASE"]
stripe.max_network_retries = 0

failures = []


def flow(fn):
    try:
        fn()
        print("ok " + fn.__name__)
    except Exception as e:  # noqa: BLE001 - every failure is reported, none stops the others
        failures.append(fn.__name__)
        print("FAIL %s: %s" % (fn.__name__, "".join(traceback.format_exception_only(type(e), e)).strip()))
    sys.stdout.flush()


def customers():
    c = stripe.Customer.create(email="py@example.com", name="Py Thon", metadata={"source": "python"})
    assert c.id.startswith("cus_"), c.id
    c = stripe.Customer.modify(c.id, description="updated")
    assert c.description == "updated"
    listed = stripe.Customer.list(limit=3)
    assert any(x.id == c.id for x in listed.auto_paging_iter())
    deleted = stripe.Customer.delete(c.id)
    assert deleted.deleted is True


def payment_intent_and_refund():
    pi = stripe.PaymentIntent.create(amount=2000, currency="usd", payment_method="pm_card_visa", confirm=True,
                                     automatic_payment_methods={"enabled": True, "allow_redirects": "never"})
    assert pi.status == "succeeded", pi.status
    refund = stripe.Refund.create(payment_intent=pi.id, amount=500)
    assert refund.status == "succeeded" and refund.amount == 500
    charge = stripe.Charge.retrieve(pi.latest_charge)
    assert charge.amount_refunded == 500 and charge.refunded is False


def manual_capture():
    pi = stripe.PaymentIntent.create(amount=3000, currency="usd", payment_method="pm_card_visa", confirm=True,
                                     capture_method="manual", payment_method_types=["card"])
    assert pi.status == "requires_capture", pi.status
    pi = stripe.PaymentIntent.capture(pi.id, amount_to_capture=1200)
    assert pi.status == "succeeded" and pi.amount_received == 1200


def subscription_and_invoice():
    customer = stripe.Customer.create(email="sub@example.com", payment_method="pm_card_visa",
                                      invoice_settings={"default_payment_method": "pm_card_visa"})
    price = stripe.Price.create(unit_amount=1500, currency="usd", recurring={"interval": "month"}, product_data={"name": "Py plan"})
    sub = stripe.Subscription.create(customer=customer.id, items=[{"price": price.id}], expand=["latest_invoice"])
    assert sub.status == "active", sub.status
    invoice = sub.latest_invoice
    assert invoice.status == "paid" and invoice.amount_paid == 1500, (invoice.status, invoice.amount_paid)
    sub = stripe.Subscription.modify(sub.id, cancel_at_period_end=True)
    assert sub.cancel_at_period_end is True
    sub = stripe.Subscription.delete(sub.id)
    assert sub.status == "canceled"


def checkout_session():
    session = stripe.checkout.Session.create(
        mode="payment", success_url="https://example.com/ok", cancel_url="https://example.com/no",
        line_items=[{"price_data": {"currency": "usd", "unit_amount": 999, "product_data": {"name": "Thing"}}, "quantity": 2}],
        allow_promotion_codes=False, phone_number_collection={"enabled": False})
    assert session.url and session.amount_total == 1998, session.amount_total
    again = stripe.checkout.Session.retrieve(session.id)
    assert again.status == "open"


def webhook_signature():
    secret = "whsec_python_flows"
    payload = json.dumps({"id": "evt_py", "object": "event", "type": "customer.created", "data": {"object": {"id": "cus_py"}}})
    t = int(time.time())
    signature = hmac.new(secret.encode(), ("%d.%s" % (t, payload)).encode(), hashlib.sha256).hexdigest()
    event = stripe.Webhook.construct_event(payload, "t=%d,v1=%s" % (t, signature), secret)
    assert event.type == "customer.created"
    endpoint = stripe.WebhookEndpoint.create(url="https://example.com/hooks", enabled_events=["customer.created"])
    assert endpoint.secret.startswith("whsec_")


def errors():
    try:
        stripe.PaymentIntent.create(amount=2000, currency="usd", payment_method="pm_card_chargeDeclined", confirm=True,
                                    payment_method_types=["card"])
        raise AssertionError("a declined card did not raise")
    except stripe.error.CardError as e:
        assert e.code == "card_declined" and e.http_status == 402, (e.code, e.http_status)
    try:
        stripe.Customer.retrieve("cus_doesNotExist")
        raise AssertionError("a missing customer did not raise")
    except stripe.error.InvalidRequestError as e:
        assert e.http_status == 404 and e.code == "resource_missing"
    try:
        stripe.Customer.create(not_a_param=True)
        raise AssertionError("an unknown parameter did not raise")
    except stripe.error.InvalidRequestError as e:
        assert e.code == "parameter_unknown"


def connect_destination_charge():
    # Issue 20: a platform's destination charge with a fee, refunded with the transfer reversed, from an older client.
    acct = stripe.Account.create(type="custom", country="US", business_type="individual",
                                 business_profile={"mcc": "5734", "url": "https://accessible.stripe.com"},
                                 individual={"first_name": "Jenny", "last_name": "Rosen", "email": "py-seller@example.com"},
                                 external_account="btok_us_verified", tos_acceptance={"date": int(time.time()), "ip": "127.0.0.1"},
                                 capabilities={"card_payments": {"requested": True}, "transfers": {"requested": True}})
    assert acct.charges_enabled is True, acct.requirements
    pi = stripe.PaymentIntent.create(amount=10000, currency="usd", payment_method="pm_card_bypassPending", confirm=True,
                                     payment_method_types=["card"], application_fee_amount=1000,
                                     transfer_data={"destination": acct.id}, expand=["latest_charge"])
    charge = pi.latest_charge
    assert charge.transfer.startswith("tr_") and charge.application_fee.startswith("fee_"), charge
    balance = stripe.Balance.retrieve(stripe_account=acct.id)
    assert [b.amount for b in balance.available if b.currency == "usd"] == [9000], balance
    refund = stripe.Refund.create(charge=charge.id, reverse_transfer=True, refund_application_fee=True)
    assert refund.transfer_reversal.startswith("trr_"), refund
    balance = stripe.Balance.retrieve(stripe_account=acct.id)
    assert [b.amount for b in balance.available if b.currency == "usd"] == [0], balance
    transfer = stripe.Transfer.retrieve(charge.transfer)
    assert transfer.reversed is True and transfer.amount_reversed == 10000, transfer


for f in (customers, payment_intent_and_refund, manual_capture, subscription_and_invoice, checkout_session, webhook_signature, errors, connect_destination_charge):
    flow(f)
sys.exit(1 if failures else 0)
