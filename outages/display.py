"""Shortening dispatcher text where it leaves the hub (public pages, feeds, API, mail).

A dispatcher may type up to 50,000 characters in a cell; the store keeps all of it, but a page, a feed entry or an
e-mail shows at most `display_max_chars` of each text field, cut at a word boundary and marked with «…».
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar, Token
from typing import Any, Iterator

MARKER = "…"

# The cap for output built in this context (a web request sets it from its app's settings). None: full text,
# as the CLI and the store see it.
_CAP: ContextVar[int | None] = ContextVar("display_max_chars", default=None)


def current_cap() -> int | None:
    return _CAP.get()


def enter(limit: int | None) -> Token:
    """For a web request (before_request); `leave` with the token at its teardown, so nothing outlives it."""
    return _CAP.set(limit)


def leave(token: Token | None) -> None:
    if token is not None:
        try:
            _CAP.reset(token)
        except ValueError:  # set in another context (an async view): that context ends with its request anyway
            pass


@contextmanager
def capped(limit: int | None) -> Iterator[None]:
    token = _CAP.set(limit)
    try:
        yield
    finally:
        _CAP.reset(token)


def shorten(text: str, limit: int | None) -> str:
    """At most `limit` characters of `text` plus «…», cut after the last whole word that fits."""
    if limit is None or len(text) <= limit:
        return text
    head = text[:limit]
    # Cut at the last space or line break in the second half, so a long first word is still cut, not dropped.
    cut = max(head.rfind(" "), head.rfind("\n"))
    if cut > limit // 2:
        head = head[:cut]
    return head.rstrip() + MARKER


def shorten_all(value: Any, limit: int | None) -> Any:
    """Every string inside lists, tuples and dicts shortened (event data, a mail's context)."""
    if limit is None:
        return value
    # Exact types only: Markup (already built HTML) and named tuples are left as they are.
    if type(value) is str:
        return shorten(value, limit)
    if type(value) is dict:
        return {key: shorten_all(item, limit) for key, item in value.items()}
    if type(value) in (list, tuple):
        return type(value)(shorten_all(item, limit) for item in value)
    return value


def any_long(value: Any, limit: int | None) -> bool:
    if limit is None:
        return False
    if isinstance(value, str):
        return len(value) > limit
    if isinstance(value, dict):
        return any(any_long(item, limit) for item in value.values())
    if isinstance(value, (list, tuple)):
        return any(any_long(item, limit) for item in value)
    return False


def clip(text: str, width: int) -> str:
    """Cut to `width` characters, the last one «…», wherever the cut falls: a CLI table's column, a sheet cell's
    verdict, a piece of a post. Reading text is shortened at a word by `shorten`."""
    return text if len(text) <= width else text[: width - 1].rstrip() + MARKER
