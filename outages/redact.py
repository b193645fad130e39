"""URLs as messages and logs may show them: without query strings (a published sheet's link or a signed URL
carries its token there) and without passwords.

Errors from requests, urllib3 and drivers quote the URL they failed on; everything that turns such an error into
a message for a person or a log line passes it through `redact` first.
"""

from __future__ import annotations

import logging
import re

# scheme://user:password@ — the password goes, the user stays (it says which account).
_USERINFO = re.compile(r"(?P<head>\b[a-z][a-z0-9+.\-]*://[^\s/@:'\"<>]*):[^\s/@'\"<>]*@", re.IGNORECASE)
# ?query and #fragment of an absolute URL, or of the path urllib3 quotes after "url: ".
_QUERY = re.compile(r"(?P<head>(?:\b[a-z][a-z0-9+.\-]*://|\burl: /)[^\s?#'\"<>]*)[?#][^\s'\"<>)]*",
                    re.IGNORECASE)


def redact(text: str) -> str:
    """The text with every URL's password masked and its query string and fragment cut to «?…»."""
    text = _USERINFO.sub(r"\g<head>:***@", text)
    return _QUERY.sub(r"\g<head>?…", text)


class RedactingFilter(logging.Filter):
    """On a handler: every record it writes, traceback included, has its URLs redacted."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = redact(record.getMessage()), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


def install(root: logging.Logger | None = None) -> None:
    """Redact on every handler of the root logger (after logging is configured)."""
    for handler in (root or logging.getLogger()).handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
