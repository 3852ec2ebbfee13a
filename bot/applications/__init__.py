"""Submitted applications: stored with their outbox entry, delivered by the worker."""
