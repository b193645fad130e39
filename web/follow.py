"""How a resident hears of outages without coming back to look: the e-mail subscription, the Telegram bot and
channel, the contact centre's hotline. Every page offers them (web/templates/_follow.html), and a search that
names a house offers the subscription with that address filled in.

Each is offered only when the city set it up: `/subscribe` needs OUTAGES_SECRET_KEY (it answers 503 without),
the bot its public user name (`telegram_bot_name`), the channel an `@name` (a `-100…` id has no public link), the
hotline a number to dial. What is offered depends on the settings, the page's language and the query only, so a
cached page stays the same for every reader of its URL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlencode

from flask import Blueprint, request

from outages.officials.options import mail_options
from outages.officials.words import tel
from outages.places.addresses import parse_query
from outages.residents.audience import locate
from outages.residents.subscriptions import ADDRESS_MAX
from outages.settings import Settings
from outages.text import one_line
from web import hub
from web.i18n import language

bp = Blueprint("follow", __name__)

# A public channel's user name as the Bot API takes it: 5–32 letters, digits and underscores after the @.
_CHANNEL = re.compile(r"@([A-Za-z][A-Za-z0-9_]{4,31})")


@dataclass(frozen=True)
class Way:
    href: str
    label: str  # Ukrainian; web/i18n.py has the English
    shown: str = ""  # said after the label as the city wrote it: the @name, the number


def subscriptions_open(settings: Settings) -> bool:
    # Without the key that signs the confirmation links, /subscribe answers 503: offering it would be a dead end.
    return bool(mail_options(settings).secret_key)


def subscribe_url(settings: Settings, lang: str, **args: str) -> str:
    """/subscribe with `args` (the address), in the page's language. In the static copy (a static server may
    stand in for the app) it is the live site's, when the city gave its public URL."""
    path = "/subscribe"
    public = str(settings.data.get("public_url") or "").strip().rstrip("/")
    if public and request.environ.get("outages.static"):
        path = public + path
    # The sign-up page's frame follows ?lang= like the site's pages: an English page leads to it in English.
    if lang == "en" or request.args.get("lang") in ("uk", "en"):
        args["lang"] = lang
    return path + ("?" + urlencode(args) if args else "")


@bp.app_template_global("follow_ways")
def ways(lang: str | None = None) -> list[Way]:
    """What this city offers, in the order of the footer: e-mail, the bot, the channel, the hotline."""
    settings = hub().settings
    lang = lang or language()
    data = settings.data
    out = []
    if subscriptions_open(settings):
        out.append(Way(subscribe_url(settings, lang), "Листи за вашою адресою"))
    bot = str(data.get("telegram_bot_name") or "")  # checked when the settings loaded: "" or "@name…bot"
    if bot:
        out.append(Way("https://t.me/" + bot.removeprefix("@"), "Telegram-бот", bot))
    channel = _CHANNEL.fullmatch(str(data.get("telegram_channel") or "").strip())
    if channel:
        out.append(Way("https://t.me/" + channel.group(1), "Telegram-канал", channel.group(0)))
    hotline = one_line(data.get("hotline") or "")
    if tel(hotline):
        out.append(Way(tel(hotline), "Гаряча лінія", hotline))
    return out


@bp.app_template_global("follow_address")
def address_url(text: str) -> str:
    """The sign-up link with the searched house filled in as the answer names it («вул. Соборна, 5»), or "" when
    the search is not one house of a street in the city's catalogue (the only addresses a subscription takes)."""
    settings = hub().settings
    if not text or not subscriptions_open(settings):
        return ""
    query = parse_query(text, settings.streets)
    if query.house is None or len(query.streets) != 1:
        return ""
    address = query.label
    if len(address) > ADDRESS_MAX or locate(address, settings) is None:
        return ""
    return subscribe_url(settings, language(), address=address)
