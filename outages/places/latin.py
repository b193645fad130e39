"""Street names in Latin letters: what a resident on the English pages types («Soborna 12», «Potiomkinska 130»).

The catalogue's names are romanised with the official Ukrainian national system, resolution 55 of the Cabinet of
Ministers of Ukraine of 27 January 2010 («Про впорядкування транслітерації українського алфавіту латиницею»):
Щ shch, Ж zh, Х kh, Ц ts, Ч ch, Ш sh, Г h, Ґ g, И y, І i, Є/Ї/Й/Ю/Я ye/yi/y/yu/ya at the start of a word and
ie/i/i/iu/ia elsewhere, «зг» zgh, the soft sign and the apostrophe dropped. The table is translitua's
`UkrainianKMU` (a maintained implementation of that resolution); this module only adds what matching needs.

People do not all write the resolution's spelling, so a name and a query are both reduced to a *Latin key*:
case, apostrophes, hyphens and punctuation do not matter, «y» and «j» count as «i» (so the word-initial and the
medial forms of Є/Ї/Й/Ю/Я are one key, and «y»/«i» for И/І is forgiven: «Myru» and «Miru», «Yuriia» and
«Iuriia», «Sobornaya» and «Sobornaia»). «ьо», which the resolution writes «o» («Potomkinska»), also gets the key
of «io», which most people write («Potiomkinska», «Potyomkinska»). Russian aliases are romanised too, their
letters first read as the Ukrainian ones nearest (ё йо, ы и, э е).
"""

from __future__ import annotations

import re
from functools import lru_cache

from translitua import UkrainianKMU, translit

from outages.text import fold

_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_LATIN = re.compile(r"[a-z]", re.IGNORECASE)
_NOT_WORD = re.compile(r"[^\w\s]+|_")
_RUSSIAN = str.maketrans({"ё": "йо", "ы": "и", "э": "е", "ъ": None})
# The letters a resident writing in Latin puts after a house number («12b» is 12б), as the resolution spells them.
HOUSE_LETTERS = str.maketrans({"a": "а", "b": "б", "v": "в", "h": "г", "g": "г", "d": "д", "e": "е"})


def is_latin(name: str) -> bool:
    """Whether a typed street name is written in Latin letters only (a Cyrillic letter anywhere: it is not)."""
    return _CYRILLIC.search(name) is None and _LATIN.search(name) is not None


def key(latin: str) -> str:
    """The Latin key of a name already in Latin letters: «Vul. Sobornaya» -> «vul sobornaia»."""
    text = _NOT_WORD.sub(" ", fold(latin).replace("'", ""))
    return " ".join(text.replace("yi", "i").replace("y", "i").replace("j", "i").split())


@lru_cache(maxsize=16384)  # the catalogue's spellings once; the names records give, once per name
def keys(name: str) -> tuple[str, ...]:
    """The Latin keys a name (Cyrillic or Latin, without its street type) is found by: the resolution's spelling,
    and for «ьо» also the common «io»."""
    text = fold(name).translate(_RUSSIAN)
    spellings = [text] + ([text.replace("ьо", "йо")] if "ьо" in text else [])
    out = []
    for spelling in spellings:
        found = key(translit(spelling, UkrainianKMU))
        if found and found not in out:
            out.append(found)
    return tuple(out)
