"""The WSGI entry point for gunicorn and other servers: `web.wsgi:app`."""

from __future__ import annotations

from web import create_app

app = create_app()
