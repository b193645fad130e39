"""Absolute public URLs for feeds, calendars and alerts.

Feed readers, calendar apps and CAP aggregators keep the links and ids we give them, so they are built from
the configured public URL (OUTAGES_PUBLIC_URL) when there is one: a document published from a worker or served
behind a proxy must not carry the internal host. Without it, the request's own host is used.
"""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

from flask import g, request

from web import hub


def base_url() -> str:
    # Once per request: a feed asks for it for each of its 200 entries.
    known = g.get("_base_url")
    if known is None:
        configured = str(hub().settings.data.get("public_url") or "").strip()
        known = g._base_url = (configured or request.url_root).rstrip("/")
    return known


def absolute(path: str, args: dict[str, str] | None = None) -> str:
    """The public URL of a path on this site; args (already filtered) become a sorted query string, so the same
    filters always give the same URL (it is also the feed's id)."""
    query = urlencode(sorted((args or {}).items()))
    return base_url() + path + ("?" + query if query else "")


def authority() -> str:
    """The host name alone (no port): the naming authority of tag: URIs and the CAP sender."""
    known = g.get("_authority")
    if known is None:
        known = g._authority = (urlsplit(base_url()).hostname or "localhost").lower()
    return known
