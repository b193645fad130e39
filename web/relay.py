"""Relay confirmation (regulation 7.6–7.7): the signed link «Інформацію передано» and the officials' page.

One click: the link opens a page that posts the confirmation at once in a browser (a few lines of inline
script), and shows the same button for a browser without scripts. A bare GET never confirms: mail systems fetch
links to scan them, and a scanner must not confirm a relay nobody made.
The relay-state page of a record is reached only through a signed link sent to officials.
"""

from __future__ import annotations

from flask import Blueprint, abort, render_template_string, request

from outages.notify import relay
from outages.notify.options import mail_options
from outages.queries import get_record
from outages.times import fmt

from . import hub

bp = Blueprint("relay", __name__)

_PAGE = """<!doctype html>
<html lang="uk"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>{{ title }}</title>
<style>body{font-family:Arial,Helvetica,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem;color:#111}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3rem .5rem;text-align:left}
button{background:#1a7f37;color:#fff;border:0;padding:.8rem 1.4rem;font-size:1.1rem;border-radius:4px;cursor:pointer}
.ok{color:#1a7f37}.wait{color:#9a6700}.bad{color:#b42318}</style></head><body>
<h1>{{ title }}</h1>
{% if record %}<p><b>{{ record.kind.uk }} №{{ record.number }}</b> · {{ record.service }} · {{ record.districts|join(", ") }}<br>
{{ record.summary }}<br>Термін ліквідації: {{ expected_end or "не вказано" }}{% if contact %}<br>
Відповідальна особа виконавця ({{ record.executor }}): {{ contact.name }}{% if contact.phone %}, тел. {{ contact.phone }}{% endif %}{% endif %}</p>{% endif %}
{% block content %}{% endblock %}
</body></html>"""

_CONFIRM = _PAGE.replace("{% block content %}{% endblock %}", """
{% if done %}<p class="ok">Підтверджено {{ done }}{% if who %} ({{ who }}){% endif %}. Дякуємо!</p>
<p lang="en">Relay confirmed.</p>
{% else %}<p>Адресат: {{ who }}. Підтвердьте, що ви довели інформацію до голів КСН / ОСББ (регламент, п. 7.6–7.7).</p>
<form method="post" id="relay-confirm"><button type="submit">Інформацію передано</button></form>
<p lang="en">Press the button to confirm that you relayed this information.</p>
<script>document.getElementById("relay-confirm").submit();</script>{% endif %}""")

_STATE = _PAGE.replace("{% block content %}{% endblock %}", """
<h2>Передача інформації головам КСН / ОСББ</h2>
{% if rows %}<table><tr><th>Адресат</th><th>Роль</th><th>Повідомлення</th><th>Надіслано</th><th>Підтверджено</th><th>Стан</th></tr>
{% for r in rows %}<tr><td>{{ r.name }}<br><small>{{ r.recipient }}</small></td><td>{{ r.role_uk }}</td><td>{{ r.kind_uk }}</td>
<td>{{ r.sent }}</td><td>{{ r.confirmed_text }}</td>
<td class="{{ 'ok' if r.confirmed_at else ('bad' if r.escalated_at or r.status == 'failed' else 'wait') }}">{{ r.label }}</td></tr>{% endfor %}
</table>
<p>Підтверджено {{ confirmed }} з {{ rows|length }}.</p>{% else %}<p>Повідомлень, що потребують підтвердження передачі, немає.</p>{% endif %}""")

_KIND_UK = {"created": "нове", "updated": "оновлення", "resolved": "ліквідовано", "edited": "уточнення"}


def _options():  # noqa: ANN202
    return mail_options(hub().settings)


@bp.route("/relay/confirm/<token>", methods=["GET", "POST"])
def confirm(token: str):  # noqa: ANN201
    dedup_key = relay.read_confirm_token(_options(), token)
    if dedup_key is None:
        abort(404, "Посилання недійсне / invalid link")
    h = hub()
    tz = h.settings.tz
    with h.engine.begin() as conn:
        message = relay.message_for(conn, dedup_key)
        if message is None:
            abort(404, "Повідомлення не знайдено / message not found")
        done = relay.confirmation(conn, message.id)
        if request.method == "POST" and done is None:
            done = relay.confirm(conn, dedup_key, h.now(), request.remote_addr or "",
                                 request.headers.get("User-Agent", ""))
        record = get_record(conn, message.record_number, h.now())
    return render_template_string(
        _CONFIRM, title="Інформацію передано", record=record, contact=None,
        expected_end=fmt(record.expected_end, tz) if record else "",
        done=fmt(done.confirmed_at, tz) if done else "", who=message.recipient_name or message.recipient,
    )


@bp.get("/relay/records/<token>")
def record_state(token: str):  # noqa: ANN201
    number = relay.read_state_token(_options(), token)
    if number is None:
        abort(404, "Посилання недійсне / invalid link")
    h = hub()
    tz = h.settings.tz
    with h.engine.connect() as conn:
        record = get_record(conn, number, h.now())
        if record is None:
            abort(404)
        rows = relay.state(conn, number)
    for row in rows:
        row.update(sent=fmt(row["sent_at"], tz) or "—", confirmed_text=fmt(row["confirmed_at"], tz) or "—",
                   kind_uk=_KIND_UK.get(row["kind"], row["kind"]))
    # Officials only (the link is signed): they may see the utility's contact person and phone.
    contact = {"name": record.contact.get("name", ""), "phone": record.contact.get("phone", "")}
    return render_template_string(
        _STATE, title=f"Стан передачі інформації · №{number}", record=record, contact=contact,
        expected_end=fmt(record.expected_end, tz), rows=rows, confirmed=sum(r["confirmed"] for r in rows),
    )
