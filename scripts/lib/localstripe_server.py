"""Runs localstripe (PyPI), the Stripe stand-in for PaymentIntents and 3-D Secure, for GitTix's
tests: on 127.0.0.1 only, with its state in a file of the caller's private directory.

localstripe lacks a few things of Stripe's test mode that GitTix relies on; they are added here,
each as Stripe documents it (https://docs.stripe.com/testing), and listed in docs/payments.md:

- Stripe's test payment methods beyond the three localstripe knows (`pm_card_authenticationRequired`,
  `pm_card_chargeDeclined`, `pm_card_chargeDeclinedInsufficientFunds`, ...), and its test tokens
  (`tok_visa`, `tok_chargeDeclined`, ...), which localstripe does not have;
- paying with a token: `payment_method_data[type]=card&payment_method_data[card][token]=tok_...`;
- an intent's `transfer_group`;
- 400 `resource_missing` for an unknown token or payment method (localstripe answers 404);
- a decline message per card (localstripe says "Your card was declined." for every one) and the
  declines themselves for the cards localstripe lets through when charged (`...0002`, `...9995`);
- 400 for capturing an intent that holds no authorization (localstripe fails with a 500);
- idempotency keys: a repeated POST with the same `Idempotency-Key` answers what the first did;
- Stripe.js's `handleNextAction({clientSecret})`, which its stand-in Stripe.js lacks: it plays the
  same 3-D Secure dialog as its `confirmCardPayment(clientSecret)`;
- the webhook events Stripe sends and localstripe does not: `payment_intent.requires_action`,
  `payment_intent.amount_capturable_updated`, `payment_intent.canceled` and `charge.refunded`.

Usage: python localstripe_server.py --port PORT --state FILE
"""

import argparse
import asyncio
import json
import os
import pickle

from aiohttp import web
from localstripe import resources, server
from localstripe.errors import UserError
from localstripe.webhooks import schedule_webhook

# Stripe's test cards by the payment method and token names of its test mode, with what
# charging them does: None for a success, else the decline code and message.
TEST_CARDS = {
    'visa': ('4242424242424242', None),
    'visa_debit': ('4000056655665556', None),
    'mastercard': ('5555555555554444', None),
    'amex': ('378282246310005', None),
    'discover': ('6011111111111117', None),
    'authenticationRequired': ('4000002760003184', None),
    'threeDSecure2Required': ('4000000000003220', None),
    'chargeDeclined': ('4000000000000002', ('generic_decline', 'Your card was declined.')),
    'visa_chargeDeclined': ('4000000000000002', ('generic_decline', 'Your card was declined.')),
    'chargeDeclinedInsufficientFunds': (
        '4000000000009995', ('insufficient_funds', 'Your card has insufficient funds.')),
    'chargeDeclinedExpiredCard': ('4000000000000069', ('expired_card', 'Your card has expired.')),
    'chargeDeclinedIncorrectCvc': (
        '4000000000000127', ('incorrect_cvc', "Your card's security code is incorrect.")),
    'chargeDeclinedProcessingError': (
        '4000000000000119',
        ('processing_error',
         'An error occurred while processing your card. Try again in a little bit.')),
    'chargeCustomerFail': ('4000000000000341', ('card_declined', 'Your card was declined.')),
}
DECLINES = {number: decline for number, decline in TEST_CARDS.values() if decline}


def card_method(name):
    number = TEST_CARDS[name][0]
    if len(number) != 16:
        # localstripe's PaymentMethod takes 16 digits only; American Express has 15.
        number = '4242424242424242'
    return resources.PaymentMethod(
        type='card',
        card=dict(number=number, exp_month='12', exp_year='2034', cvc='123'))


# Test payment methods and tokens by name: `pm_card_<name>` and `tok_<name>`.
known_article = resources.PaymentMethod._try_get_canonical_test_article.__func__


def canonical_test_article(cls, id):
    for prefix in ('pm_card_', 'tok_'):
        if id.startswith(prefix) and id[len(prefix):] in TEST_CARDS:
            return card_method(id[len(prefix):])
    return known_article(cls, id)


resources.PaymentMethod._try_get_canonical_test_article = classmethod(canonical_test_article)


def charging_is_declined(self):
    return self.type == 'card' and self._card_number in DECLINES


resources.PaymentMethod._charging_is_declined = charging_is_declined


def set_auth_failure(self):
    self.status = 'failed'
    self.failure_code = 'card_declined'
    self.failure_message = 'Your card was declined.'
    try:
        method = resources.PaymentMethod._api_retrieve(self.payment_method)
        code, message = DECLINES.get(method._card_number, (None, None))
        if message:
            self.failure_message = message
            self.decline_code = code
    except UserError:
        pass


resources.Charge._set_auth_failure = set_auth_failure

# Paying with a token: Stripe turns `payment_method_data[card][token]` into a payment method.
create_intent = resources.PaymentIntent._api_create.__func__


def create_intent_from_token(cls, payment_method_data=None, transfer_group=None, **data):
    if payment_method_data is not None:
        try:
            assert payment_method_data.get('type') == 'card'
            token = payment_method_data['card']['token']
            assert isinstance(token, str) and token.startswith('tok_')
        except (AssertionError, KeyError, TypeError, AttributeError):
            raise UserError(400, 'Bad request')
        if token[len('tok_'):] in TEST_CARDS:
            data['payment_method'] = 'pm_card_' + token[len('tok_'):]
        else:
            data['payment_method'] = token
    try:
        if data.get('payment_method', '').startswith('tok_'):
            data['payment_method'] = resources.Token._api_retrieve(data['payment_method']).card.id
        intent = create_intent(cls, **data)
    except UserError as error:
        # Stripe answers 400 resource_missing for an unknown token or payment method in a
        # request's fields; localstripe answers 404, as for an unknown URL.
        if error.code == 404:
            error.code = 400
            error.body['error']['code'] = 'resource_missing'
            error.body['error']['message'] = 'No such payment method: ' + repr(
                data.get('payment_method'))
        raise
    # Kept, as Stripe keeps it, for the seller's transfer; localstripe does not take it.
    intent.transfer_group = transfer_group
    return intent


resources.PaymentIntent._api_create = classmethod(create_intent_from_token)

# Capturing an intent that holds nothing: Stripe answers 400; localstripe fails with a 500.
# (Its routes hold its own functions, so this is checked in front of them.)
@web.middleware
async def capture_only_a_hold(request, handler):
    parts = request.path.strip('/').split('/')
    if request.method == 'POST' and len(parts) == 4 and parts[:2] == ['v1', 'payment_intents'] \
            and parts[3] == 'capture':
        try:
            status = resources.PaymentIntent._api_retrieve(parts[2]).status
        except UserError as error:
            return error.to_response()
        if status != 'requires_capture':
            return UserError(400, 'This PaymentIntent could not be captured because it has a '
                             'status of ' + status + '.',
                             {'code': 'payment_intent_unexpected_state'}).to_response()
    return await handler(request)


# A charge's refunds, by charge: localstripe finds them by reading its whole store, which every
# answer about a charge or an intent does, so each call took longer than the one before.
refunds_by_charge = {}
refund_init = resources.Refund.__init__


def indexed_refund_init(self, *args, **kwargs):
    refund_init(self, *args, **kwargs)
    refunds_by_charge.setdefault(self.charge, []).append(self)


def charge_refunds(self):
    refunds = resources.List('/v1/charges/' + self.id + '/refunds')
    refunds._list = list(refunds_by_charge.get(self.id, []))
    return refunds


resources.Refund.__init__ = indexed_refund_init
resources.Charge.refunds = property(charge_refunds)

# Idempotency keys: the first answer to a key is kept and given again.
answers = {}


@web.middleware
async def idempotent(request, handler):
    key = request.headers.get('Idempotency-Key')
    if request.method != 'POST' or not key:
        return await handler(request)
    if key in answers:
        status, body = answers[key]
        return web.Response(status=status, body=body, content_type='application/json')
    response = await handler(request)
    if response.status < 500 and hasattr(response, 'body'):
        answers[key] = (response.status, response.body)
    return response


# Stripe.js's way to finish an intent confirmed on the server, which localstripe's Stripe.js
# lacks: its `confirmCardPayment` plays the same test dialog ("Complete authentication" or
# "Fail authentication") and reports the outcome to localstripe.
HANDLE_NEXT_ACTION = """
(function () {
  const localstripe = Stripe;
  Stripe = function (key) {
    const stripe = localstripe(key);
    stripe.handleNextAction = ({ clientSecret }) => stripe.confirmCardPayment(clientSecret);
    return stripe;
  };
})();
"""


@web.middleware
async def stripe_js_with_next_action(request, handler):
    response = await handler(request)
    if request.path == '/js.stripe.com/v3/' and response.status == 200:
        return web.Response(text=response.text + HANDLE_NEXT_ACTION,
                            content_type='application/javascript')
    return response


# The events Stripe sends for what an intent became, which localstripe sends only for a
# success or a failure (`payment_intent.succeeded`, `payment_intent.payment_failed`).
EVENT_OF_STATUS = {
    'requires_action': 'payment_intent.requires_action',
    'requires_capture': 'payment_intent.amount_capturable_updated',
    'canceled': 'payment_intent.canceled',
}


@web.middleware
async def stripes_other_events(request, handler):
    response = await handler(request)
    parts = request.path.strip('/').split('/')
    if request.method != 'POST' or response.status != 200 or parts[:1] != ['v1']:
        return response
    try:
        if parts[1:2] == ['payment_intents'] and len(parts) in (2, 4):
            intent = resources.PaymentIntent._api_retrieve(json.loads(response.body)['id'])
            kind = EVENT_OF_STATUS.get(intent.status)
            if kind:
                schedule_webhook(resources.Event(kind, intent))
        elif parts[1:] == ['refunds']:
            refund = json.loads(response.body)
            charge = resources.Charge._api_retrieve(refund['charge'])
            schedule_webhook(resources.Event('charge.refunded', charge))
    except (UserError, KeyError, TypeError, ValueError):
        pass
    return response


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--port', type=int, required=True)
    parser.add_argument('--state', required=True)
    args = parser.parse_args()

    def load():
        try:
            with open(args.state, 'rb') as f:
                resources.store.update(pickle.load(f))
        except FileNotFoundError:
            pass
        for value in resources.store.values():
            if isinstance(value, resources.Refund):
                refunds_by_charge.setdefault(value.charge, []).append(value)

    # localstripe writes its whole store to disk on every change, which made each payment slower
    # than the last (660 ms after a thousand). It is written once a second instead, when changed,
    # and when the server stops.
    dirty = [False]

    def dump():
        with open(args.state + '.new', 'wb') as f:
            pickle.dump(dict(resources.store), f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(args.state + '.new', args.state)
        dirty[0] = False

    def mark_dirty():
        dirty[0] = True

    async def keep_saving(app):
        async def loop():
            while True:
                await asyncio.sleep(1)
                if dirty[0]:
                    dump()
        task = asyncio.ensure_future(loop())
        yield
        task.cancel()
        dump()

    resources.Store.try_load_from_disk = lambda self: load()
    resources.Store.dump_to_disk = lambda self: mark_dirty()
    load()
    server.app.cleanup_ctx.append(keep_saving)
    server.app.middlewares.insert(0, idempotent)
    server.app.middlewares.insert(1, capture_only_a_hold)
    server.app.middlewares.insert(2, stripe_js_with_next_action)
    server.app.middlewares.insert(3, stripes_other_events)
    web.run_app(server.app, host='127.0.0.1', port=args.port, access_log=None)


if __name__ == '__main__':
    main()
