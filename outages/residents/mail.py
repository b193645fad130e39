"""E-mail to residents who subscribed by address: the confirmation of a sign-up and the news about a record.

Written as outbox rows of channel "email", role "subscriber", so they are delivered, retried and shown like any
other mail. News carries `List-Unsubscribe` (an https link) and `List-Unsubscribe-Post: List-Unsubscribe=One-Click`
(RFC 8058) in the row's `headers`, which the SMTP transport adds to the message; the body links to a page to manage
the subscription. Templates are named Jinja templates in outages/templates/subscriber/, escaped in HTML.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from outages.delivery.queue import row
from outages.officials.messages import Rendered, environments, message_id, short_time
from outages.officials.options import MailOptions
from outages.records.model import Kind
from outages.records.views import RecordView
from outages.residents import posts
from outages.text import one_line
from outages.times import fmt

ONE_CLICK = "List-Unsubscribe=One-Click"


def render(name: str, context: dict[str, Any]) -> Rendered:
    text_env, html_env = environments()
    subject = one_line(text_env.get_template(f"subscriber/{name}.subject.txt").render(context))[:200]
    text = text_env.get_template(f"subscriber/{name}.txt").render(context).strip() + "\n"
    html = html_env.get_template(f"subscriber/{name}.html").render(context)
    html = " ".join(line.strip() for line in html.splitlines() if line.strip())
    return Rendered(subject=subject, text=text, html=html)


def links(options: MailOptions, link_token: str) -> dict[str, str]:
    base = options.public_url
    return {"unsubscribe_url": f"{base}/subscribe/unsubscribe/{link_token}",
            "manage_url": f"{base}/subscribe/manage/{link_token}"}


def confirmation_row(options: MailOptions, city: str, subscription: Any, token: str, now: datetime,
                     attempt: int) -> dict[str, Any]:
    context = {"city": city, "address": subscription.address,
               "confirm_url": f"{options.public_url}/subscribe/confirm/{token}"}
    rendered = render("confirm", context)
    return row(channel="email", dedup_key=f"sub-confirm:{subscription.id}:{attempt}", kind="subscribe_confirm",
               recipient=subscription.target, role="subscriber", subject=rendered.subject, text=rendered.text,
               html=rendered.html, payload={}, now=now, subscription_id=subscription.id,
               msg_id=message_id(options.domain, "subscribe", subscription.id, attempt,
                                 recipient=subscription.target))


def news_row(options: MailOptions, city: str, tz, kind: str, record: RecordView, subscription: Any,  # noqa: ANN001
             link_token: str, *, event_id: int | None, dedup_key: str, now: datetime, not_before: datetime,
             old_end: datetime | None = None, said: str = "") -> dict[str, Any]:
    """One subscriber's mail about one change. `event_id` with the address as recipient makes it one mail per
    person per change, however many of their subscribed addresses the record covers."""
    urls = links(options, link_token)
    context = {
        "city": city, "kind": kind, "address": subscription.address, "number": record.number,
        "emergency": record.kind is Kind.EMERGENCY, "kind_uk": record.kind.uk, "service": one_line(record.service),
        "addresses": record.addresses, "summary": record.summary, "impact": record.impact,
        "status": record.status, "event_at": fmt(record.event_at, tz), "expected_end": fmt(record.expected_end, tz),
        "old_end": short_time(old_end, tz, record.expected_end) if old_end else "",
        "resolved_at": fmt(record.resolved_at, tz), "executor": one_line(record.executor), "said": said,
        "state": record.state.value,
        "record_url": posts.record_url(options.public_url, record.number), **urls,
    }
    rendered = render("news", context)
    return row(channel="email", dedup_key=dedup_key, kind=f"sub_{kind}", recipient=subscription.target,
               role="subscriber", subject=rendered.subject, text=rendered.text, html=rendered.html,
               payload={}, headers={"List-Unsubscribe": f"<{urls['unsubscribe_url']}>",
                                    "List-Unsubscribe-Post": ONE_CLICK},
               now=now, not_before=not_before, record_number=record.number, event_id=event_id,
               subscription_id=subscription.id,
               msg_id=message_id(options.domain, "sub", dedup_key, recipient=subscription.target))
