"""Where rows come from: `--source` names a file export (CSV/XLSX); the live sources plug in here too."""

from __future__ import annotations

from outages.record import SheetTable
from outages.settings import Settings

from .files import read_file


def read_source(spec: str, settings: Settings) -> SheetTable:
    """Read one source into a table. A file path for now; `gsheet:KEY` and CSV URLs join in the live-sync work."""
    return read_file(spec)
