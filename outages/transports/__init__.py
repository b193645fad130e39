"""Transports, one module per medium, found through the registry in outages/transports/__init__.py."""
