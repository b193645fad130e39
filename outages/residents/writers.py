"""What a subscriber receives about a record, one writer per medium a resident can subscribe through.

Each writer turns one piece of news into an outbox row of its medium; the fan-out (fanout.py) picks the writer by
the subscription's medium. A new medium for residents is one writer here and one line in WRITERS.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from outages.delivery.queue import row
from outages.officials.options import MailOptions
from outages.records.views import RecordView
from outages.residents import mail as subscriber_mail
from outages.residents import posts
from outages.residents.subscriptions import link_token
from outages.settings import Settings


@dataclass(frozen=True)
class News:
    kind: str  # created, updated, resolved, planned_eve
    record: RecordView  # its texts already cut to display_max_chars
    subscription: Any
    event_id: int | None
    dedup_key: str
    now: datetime
    not_before: datetime
    old_end: datetime | None = None
    said: str = ""  # an update's or resolution's own words, cut like the record's texts


def email_news(news: News, options: MailOptions, settings: Settings) -> dict[str, Any]:
    sub = news.subscription
    return subscriber_mail.news_row(options, settings.city_name, settings.tz, news.kind, news.record, sub,
                                    link_token(options.secret_key, sub.id), event_id=news.event_id,
                                    dedup_key=news.dedup_key, now=news.now, not_before=news.not_before,
                                    old_end=news.old_end, said=news.said)


def telegram_news(news: News, options: MailOptions, settings: Settings) -> dict[str, Any]:
    sub, record = news.subscription, news.record
    text = posts.subscriber_text(news.kind, record, settings.tz, options.public_url, sub.address, news.old_end,
                                 said=news.said)
    text += "\n\n/list — ваші адреси, /stop — відписатися"
    return row(channel="telegram", dedup_key=news.dedup_key, kind=f"sub_{news.kind}", recipient=sub.target,
               role="subscriber", text=text, payload={"method": "send", "text": text}, now=news.now,
               not_before=news.not_before, record_number=record.number, event_id=news.event_id,
               subscription_id=sub.id, subject=posts.subject(news.kind, record, sub.address))


# The subscription's medium -> its writer.
WRITERS: dict[str, Callable[[News, MailOptions, Settings], dict[str, Any]]] = {
    "email": email_news,
    "telegram": telegram_news,
}
