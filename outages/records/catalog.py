"""Named things a city configures (districts, services, utilities), each with aliases."""

from __future__ import annotations

from dataclasses import dataclass, field

from outages.text import fold


@dataclass(frozen=True)
class Entry:
    name: str
    aliases: tuple[str, ...] = ()
    en: str = ""


@dataclass(frozen=True)
class Catalog:
    """Looks up what a dispatcher typed against the canonical names and their aliases."""

    what: str
    entries: tuple[Entry, ...]
    _index: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        for entry in self.entries:
            for spelling in (entry.name, *entry.aliases):
                key = fold(spelling)
                owner = self._index.setdefault(key, entry.name)
                if owner != entry.name:
                    raise ValueError(f"{self.what}: «{spelling}» names both «{owner}» and «{entry.name}»")

    @property
    def names(self) -> list[str]:
        return [entry.name for entry in self.entries]

    @property
    def spellings(self) -> dict[str, str]:
        """Every accepted spelling (folded) → its proper name: what a mistyped name is compared against."""
        return dict(self._index)

    def lookup(self, text: str) -> str | None:
        return self._index.get(fold(text))

    def english(self, name: str) -> str:
        for entry in self.entries:
            if entry.name == name:
                return entry.en or entry.name
        return name

    def __bool__(self) -> bool:
        return bool(self.entries)
