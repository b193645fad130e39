"""E-mail subscriptions by address: sign-up, confirmation, one-click unsubscribe (RFC 8058), a page to manage one.

- `GET /subscribe` a form (`?address=` fills the address in: a search answer's «Повідомляти мене про цю адресу»
  links here with the house it answered for); `POST /subscribe` answers the same page whether the e-mail is known
  or not (nobody learns who subscribed) and queues a confirmation mail through the outbox. Sign-ups are limited per
  client, and confirmation mails per e-mail address (3 a day); the address kept is the matcher's label of it.
- `GET /subscribe/confirm/<token>` shows a button and changes nothing (mail scanners fetch links); the button
  POSTs to the same URL, which confirms. The token is signed and expires in 24 hours.
- `POST /subscribe/unsubscribe/<token>` unsubscribes at once, whether the body is RFC 8058's
  `List-Unsubscribe=One-Click` (a mail client's button) or the page's own button; GET shows the button.
- `GET /subscribe/manage/<token>` shows the subscription (its address and services, never the e-mail).
"""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request

from outages.delivery.queue import insert_rows
from outages.officials.directory import check_address
from outages.officials.options import mail_options
from outages.residents import subscriptions as store
from outages.residents.audience import locate
from outages.residents.mail import confirmation_row
from outages.schema import outbox
from web import hub
from web.public.pages import presenter

bp = Blueprint("subscribe", __name__)

# No script at all; the site's own stylesheet and icon; forms post only here.
SUBSCRIBE_CSP = ("default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; "
                 "frame-ancestors 'none'")


@bp.after_request
def private(response):  # noqa: ANN001, ANN201
    """For pages whose URL acts for someone (a subscriber's or a reporter's token, a utility's signed link): no
    cache keeps them, no Referer carries the token away, no search engine lists them."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex"
    response.headers["Content-Security-Policy"] = SUBSCRIBE_CSP
    return response


def _secret() -> str:
    secret = mail_options(hub().settings).secret_key
    if not secret:
        abort(503, "Підписка недоступна: не задано OUTAGES_SECRET_KEY / subscriptions need OUTAGES_SECRET_KEY")
    return secret


def _services() -> list[str]:
    return [entry.name for entry in hub().settings.services.entries]


def _page(name: str, status: int = 200, **context):  # noqa: ANN003, ANN202
    # In the site's frame (templates/base.html): the presenter gives it the reader's language.
    return render_template(f"subscribe/{name}.html", p=presenter(), changed_at=None, **context), status


@bp.get("/subscribe")
def form():  # noqa: ANN201
    _secret()
    # Filled in, never acted on: a GET only shows the form (the link may come from anywhere).
    address = " ".join(request.args.get("address", "").split())[:store.ADDRESS_MAX]
    return _page("form", services=_services(), values={"address": address}, errors=[])


@bp.post("/subscribe")
def sign_up():  # noqa: ANN201
    secret = _secret()
    h = hub()
    email = request.form.get("email", "").strip()
    address = " ".join(request.form.get("address", "").split())
    chosen = [s for s in request.form.getlist("services") if s in _services()]
    values = {"email": email, "address": address, "services": chosen}
    errors = []
    try:
        email = check_address(email)
    except ValueError:
        errors.append(f"Адреса електронної пошти «{email}» неправильна. / The e-mail address is not valid.")
    where = None
    if not address:
        errors.append("Вкажіть адресу: вулицю і номер будинку. / Enter a street and a house number.")
    elif len(address) > store.ADDRESS_MAX:
        errors.append(f"Адреса задовга (понад {store.ADDRESS_MAX} символів). / The address is too long.")
    else:
        where = locate(address, h.settings)
        if where is None:
            errors.append(f"Вулицю «{address}» не знайдено в довіднику міста. Перевірте назву. "
                          f"/ No such street in the city's list.")
    if errors:
        return _page("form", 400, services=_services(), values=values, errors=errors)
    options = mail_options(h.settings)
    now = h.now()
    # Only what the matcher recognised is kept («вул. Соборна, 12»): the rest of what was typed never reaches a
    # mail's Subject or the store.
    address = where.label
    try:
        with h.engine.begin() as conn:
            subscription, ask = store.sign_up(
                conn, medium="email", target=email, address=address, where=where, services=chosen,
                client=request.remote_addr or "", now=now, limit=int(h.settings.subscribe_limit))
            # However many clients ask, one address gets at most CONFIRMATIONS_PER_DAY mails a day; the answer
            # below is the same either way.
            if ask and store.confirmations_due(conn, email, now):
                sent_before = conn.execute(outbox.select().where(
                    outbox.c.subscription_id == subscription.id, outbox.c.kind == "subscribe_confirm")).all()
                token = store.confirm_token(secret, subscription.id, now)
                insert_rows(conn, [confirmation_row(options, h.settings.city_name, subscription, token, now,
                                                    len(sent_before) + 1)])
    except store.TooMany:
        return _page("limited", 429)
    # The same answer for a new, a known and a confirmed address: the page must not tell who is subscribed.
    return _page("sent", address=address)


@bp.route("/subscribe/confirm/<token>", methods=["GET", "POST"])
def confirm(token: str):  # noqa: ANN201
    secret = _secret()
    number, expired = store.read_confirm_token(secret, token, hub().now())
    if expired:
        return _page("expired", 410)
    if number is None:
        abort(404, "Посилання недійсне / invalid link")
    h = hub()
    with h.engine.begin() as conn:
        subscription = store.get(conn, number)
        if subscription is None:
            return _page("expired", 410)
        if request.method == "POST":
            subscription = store.confirm(conn, number, h.now())
    done = subscription.confirmed_at is not None and subscription.disabled_at is None
    return _page("confirm", subscription=subscription, done=done)


@bp.route("/subscribe/unsubscribe/<token>", methods=["GET", "POST"])
def unsubscribe(token: str):  # noqa: ANN201
    number = store.read_link_token(_secret(), token)
    if number is None:
        abort(404, "Посилання недійсне / invalid link")
    h = hub()
    with h.engine.begin() as conn:
        subscription = store.get(conn, number)
        if subscription is not None and request.method == "POST":
            # RFC 8058: the mail client POSTs "List-Unsubscribe=One-Click"; our page's button posts the same.
            subscription = store.unsubscribe(conn, number, h.now())
    gone = subscription is None or subscription.disabled_at is not None
    return _page("unsubscribe", subscription=subscription, gone=gone)


@bp.get("/subscribe/manage/<token>")
def manage(token: str):  # noqa: ANN201
    number = store.read_link_token(_secret(), token)
    if number is None:
        abort(404, "Посилання недійсне / invalid link")
    with hub().engine.connect() as conn:
        subscription = store.get(conn, number)
    return _page("manage", subscription=subscription, token=token)
