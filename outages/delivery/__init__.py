"""Delivery: the one outbox, claims and leases, the drain and the worker's lanes."""
