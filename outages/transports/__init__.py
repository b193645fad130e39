"""Transports, one module per medium (smtp, telegram, webhook; catcher is the demo's local SMTP server), and
registry.py, which names each medium's transport and the lane of `outages run` that drains it."""
