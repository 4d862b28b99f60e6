"""Telling subscribers: the outbox, the worker that drains it, and the
channels (email, webhooks) it delivers through."""
