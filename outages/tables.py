"""Plain-text tables and CSV for the CLI."""

from __future__ import annotations

import csv
import io
import math
from typing import Any, Sequence


def text_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    cells = [[_show(v) for v in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip(),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths)).rstrip() for row in cells]
    return "\n".join(lines)


def csv_text(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(headers)
    writer.writerows([[_show(v) for v in row] for row in rows])
    return out.getvalue()


def whole(value: float | None) -> int | None:
    """A whole number as people read minutes and hours: half up (Python's round() goes to even)."""
    return None if value is None else math.floor(value + 0.5)


def decimal(value: float | None, digits: int = 1) -> str | None:
    """A number the Ukrainian way: decimal comma, no trailing «,0» (66,7 · 100)."""
    if value is None:
        return None
    text = f"{value:.{digits}f}".rstrip("0").rstrip(".")
    return text.replace(".", ",")


def _show(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "так" if value else "ні"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple)):
        return ", ".join(map(str, value))
    return str(value)
