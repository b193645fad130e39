"""Residents' channels at scale: 20,000 subscribers over 300 streets; one emergency on a street with 1,000 of them.

Measures (medians of several runs):
1. the sync of that emergency (the sync writes one fan-out row, never the subscribers' messages);
2. matching and queueing: `fanout.expand_due` turning that change into one outbox row per covered subscriber;
3. throughput against the fake Telegram Bot API (tests/fake_telegram.py) with Telegram's limits: posts to the
   city's channel (20 a minute) and bot messages to 300 different chats (about 30 a second overall).

    python bench/subscriptions_bench.py [--runs 5] [--database-url postgresql+psycopg://…]
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from fake_telegram import TOKEN, fake_bot_api  # noqa: E402
from rows import emergency, table  # noqa: E402
from sqlalchemy import delete, func, select, update  # noqa: E402

from outages import db  # noqa: E402
from outages.delivery.drain import drain  # noqa: E402
from outages.records.sync import sync  # noqa: E402
from outages.residents.audience import locate  # noqa: E402
from outages.residents.channels import insert_rows, row  # noqa: E402
from outages.residents.fanout import expand_due  # noqa: E402
from outages.schema import delivery_attempts, fanouts, outbox, subscriptions  # noqa: E402
from outages.settings import load  # noqa: E402
from outages.transports.telegram import RateLimit, TelegramTransport, telegram_options  # noqa: E402

KYIV = ZoneInfo("Europe/Kyiv")
NOW = datetime(2026, 11, 22, 18, 0, tzinfo=KYIV)
FIRST = ["Зелена", "Садова", "Липова", "Кленова", "Вишнева", "Дубова", "Ясенева", "Соснова", "Березова", "Горіхова",
         "Калинова", "Малинова", "Ожинова", "Трояндова", "Бузкова", "Ромашкова"]
SECOND = ["Гора", "Балка", "Долина", "Левада", "Діброва", "Поляна", "Слобода", "Хутір", "Криниця", "Стежка",
          "Гребля", "Затока", "Пристань", "Гавань", "Вежа", "Брама", "Нива", "Оболонь", "Роща"]


def city(folder: Path) -> Path:
    names = ["Соборна"] + [f"{a} {b}" for a in FIRST for b in SECOND][:299]
    lines = [f'[[streets]]\nname = "вул. {name}"\n' for name in names]
    path = folder / "bench-city.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def populate(engine, settings, total: int, popular: int) -> int:
    """Subscribers straight into the store (the sign-up path is tested elsewhere): `popular` on Соборна."""
    keys = {}
    for street in settings.streets.entries:
        where = locate(f"{street.name} 1", settings)
        assert where is not None, street.name
        keys[street.name] = where.street_key
    others = [k for name, k in keys.items() if name != "Соборна"]
    rng = random.Random(11)
    rows = []
    for i in range(total):
        key = keys["Соборна"] if i < popular else rng.choice(others)
        house = rng.randint(1, 200)
        medium = "telegram" if i % 2 else "email"
        target = str(10_000_000 + i) if medium == "telegram" else f"r{i}@example.org"
        rows.append({"medium": medium, "target": target, "address": f"bench {i} {house}", "street_key": key,
                     "house": str(house), "services": [], "client": "bench", "created_at": NOW,
                     "confirmed_at": NOW, "disabled_at": None})
    with engine.begin() as conn:
        conn.execute(subscriptions.insert(), rows)
    return len(rows)


def timed(fn) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def reset_fanout(engine) -> None:
    with engine.begin() as conn:
        conn.execute(delete(outbox).where(outbox.c.role == "subscriber"))
        conn.execute(update(fanouts).values(done_at=None))


def bench_fanout(engine, settings, runs: int) -> None:
    sync_times, expand_times, queued = [], [], 0
    for run in range(runs):
        with engine.begin() as conn:  # a fresh record each run: the sync's cost with 1,000 subscribers waiting
            conn.execute(delete(fanouts))
        rows = [emergency(addresses="вул. Соборна, 1-100", summary=f"Порив {i}") for i in range(run + 1)]
        seconds, _ = timed(lambda: sync(engine, table(*rows), settings, NOW + timedelta(minutes=run)))
        sync_times.append(seconds)
        with engine.begin() as conn:  # keep only this run's new record's fan-out
            newest = conn.execute(select(func.max(fanouts.c.event_id))).scalar()
            conn.execute(delete(fanouts).where(fanouts.c.event_id != newest))
        seconds, _ = timed(lambda: expand_due(engine, settings, NOW + timedelta(minutes=run)))
        expand_times.append(seconds)
        with engine.connect() as conn:
            queued = conn.execute(
                select(func.count()).select_from(outbox).where(outbox.c.role == "subscriber")).scalar()
        reset_fanout(engine)
    print(f"sync of one emergency on Соборна (1,000 subscribers there):"
          f" median {statistics.median(sync_times)*1000:.1f} ms"
          f" over {runs} runs")
    print(f"fan-out (match + queue) of it: median {statistics.median(expand_times)*1000:.1f} ms,"
          f" {queued} messages queued (covered houses 1-100 of 1-200, each person once), over {runs} runs")


def bench_telegram(engine, settings, api) -> None:
    options = telegram_options(settings)
    # Channel: 25 posts queued at once; Telegram takes about 20 a minute to one channel.
    now = datetime.now(KYIV)
    posts = [row(channel="telegram", dedup_key=f"bench-post:{i}", kind="tg_post", recipient="@bench", role="channel",
                 text=f"Пост {i}", payload={"method": "send", "text": f"Пост {i}"}, now=now) for i in range(25)]
    with engine.begin() as conn:
        insert_rows(conn, posts)
    transport = TelegramTransport(options, limit=RateLimit())
    seconds, counts = timed(lambda: drain(engine, transport, budget_s=60))
    with engine.connect() as conn:
        waiting = conn.execute(select(outbox.c.next_attempt_at).where(
            outbox.c.recipient == "@bench", outbox.c.status == "queued")).scalars().all()
    wait = (min(waiting) - datetime.now(KYIV)).total_seconds() if waiting else 0
    print(f"channel: {counts['sent']} of 25 posts sent in {seconds:.2f} s, {counts['deferred']} deferred by the "
          f"flood limit; the next may go in {wait:.0f} s (20 a minute); 429s from the fake API: "
          f"{sum(1 for m, _ in api.calls if m == 'sendMessage') - len(api.chat('@bench'))}")
    # Bot: one message to each of 300 chats; about 30 a second overall, one a second per chat.
    now = datetime.now(KYIV)
    chats = [row(channel="telegram", dedup_key=f"bench-chat:{i}", kind="sub_created", recipient=str(20_000_000 + i),
                 role="subscriber", text=f"Новина {i}", payload={"method": "send", "text": f"Новина {i}"}, now=now)
             for i in range(300)]
    with engine.begin() as conn:
        insert_rows(conn, chats)
    start = time.perf_counter()
    rounds = 0
    while True:
        rounds += 1
        drain(engine, transport, budget_s=60)
        with engine.connect() as conn:
            left = conn.execute(select(func.count()).select_from(outbox).where(
                outbox.c.role == "subscriber", outbox.c.status != "sent", outbox.c.kind == "sub_created")).scalar()
        if not left:
            break
        time.sleep(0.2)  # the deferred rows' next attempt is at most a second away
    seconds = time.perf_counter() - start
    print(f"bot: 300 messages to 300 chats in {seconds:.2f} s = {300/seconds:.1f} messages/s (limit about 30/s), "
          f"{rounds} drain rounds")
    with engine.begin() as conn:
        conn.execute(delete(delivery_attempts))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    logging.disable(logging.WARNING)  # each flood-limited row logs a warning; the figures are what matter here
    with tempfile.TemporaryDirectory() as folder:
        os.chdir(folder)
        for key in [k for k in os.environ if k.startswith("OUTAGES_")]:
            del os.environ[key]
        os.environ["OUTAGES_CONFIG"] = str(city(Path(folder)))
        os.environ["OUTAGES_DATABASE_URL"] = args.database_url or f"sqlite:///{folder}/bench.db"
        os.environ["OUTAGES_SECRET_KEY"] = "bench"
        os.environ["OUTAGES_PUBLIC_URL"] = "https://hub.example.org"
        api_gen = fake_bot_api()
        api = next(api_gen)
        os.environ["OUTAGES_TELEGRAM_BOT_TOKEN"] = TOKEN
        os.environ["OUTAGES_TELEGRAM_API_URL"] = api.url
        settings = load()
        engine = db.engine_for(settings)
        db.upgrade(engine)
        print(f"database: {engine.dialect.name}")
        seconds, count = timed(lambda: populate(engine, settings, 20_000, 1_000))
        print(f"{count} subscribers over 300 streets stored in {seconds:.1f} s (1,000 on Соборна)")
        bench_fanout(engine, settings, args.runs)
        bench_telegram(engine, settings, api)
        api_gen.close()
        engine.dispose()


if __name__ == "__main__":
    main()
