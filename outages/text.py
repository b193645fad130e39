"""Normalising what people type (control characters, spaces, quotes, apostrophes), and a counted noun's plural."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Control characters (a pasted \x0b breaks XML feeds) except tab/newline, which we fold or keep.
# Lone surrogates (possible in JSON from the Sheets API) and U+FFFE/U+FFFF cannot be encoded or put in XML.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b\u2028\u2029\ufeff\ud800-\udfff\ufffe\uffff]")
_SPACES = re.compile(r"[ \t\u00a0\u2007\u202f]+")
# Ukrainian apostrophe has several look-alikes on phones and keyboards.
_APOSTROPHES = str.maketrans({"’": "'", "ʼ": "'", "`": "'", "‘": "'", "ʹ": "'", "′": "'"})
_QUOTES = re.compile(r"[«»\"“”„]")


def clean(value: object) -> str:
    """Text as a dispatcher meant it: no control characters, single spaces, trimmed lines."""
    if type(value) is str and len(value) <= 200:
        return _clean_short(value)
    return _clean(value)


@lru_cache(maxsize=16384)  # executors, services, districts, causes… repeat in most rows; long texts are not kept
def _clean_short(value: str) -> str:
    return _clean(value)


def _clean(value: object) -> str:
    if value is None:
        return ""
    text = str(value)
    # Most cells are already clean: printable (no control, line or odd space characters), single-spaced, trimmed.
    if text.isprintable() and "  " not in text and text == text.strip() and unicodedata.is_normalized("NFC", text):
        return text
    text = unicodedata.normalize("NFC", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub(" ", text)
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    # Keep paragraph breaks, drop runs of empty lines.
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip()


def one_line(value: object) -> str:
    """Text that must stay on one line (names, subjects)."""
    text = clean(value)
    # Printable text out of clean() has single spaces and no line breaks already (split() would change nothing).
    return text if text.isprintable() else " ".join(text.split())


@lru_cache(maxsize=8192)  # the same few district, service and utility names, thousands of times per sync
def fold(value: object) -> str:
    """A comparison key: case, spaces, quotes and apostrophes do not matter."""
    text = one_line(value).translate(_APOSTROPHES)
    text = _QUOTES.sub("", text)
    return " ".join(text.casefold().split())


def plural_word(count: int, one: str, few: str, many: str) -> str:
    """The Ukrainian form of a noun after `count`: «1 запис», «2 записи», «5 записів», «11 записів», «21 запис»."""
    if count % 10 == 1 and count % 100 != 11:
        return one
    if 2 <= count % 10 <= 4 and not 12 <= count % 100 <= 14:
        return few
    return many
