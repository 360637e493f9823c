"""Subscriptions and billing (issue 17): the provider interface (``provider.py``), PayPal
Subscriptions (``paypal.py``), the sandbox provider (``sandbox.py``), webhook handling
(``webhooks.py``: verify, store the event id, apply in order), commissions (``commissions.py``)
and the tables (``models.py``)."""
