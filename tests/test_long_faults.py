"""A day-long outage of a peer ends in a backlog, not a crash loop (issue 22): the retry wait stays bounded for any
number of attempts, and a peer's Retry-After is read defensively and clamped."""

from __future__ import annotations

from datetime import timedelta

import pytest

from outages.delivery.protocol import RetryPolicy, peer_seconds

POLICY = RetryPolicy(retry_first=timedelta(seconds=30), retry_max=timedelta(minutes=10), give_up=timedelta(hours=24),
                     claim_lease=timedelta(minutes=2))


@pytest.mark.parametrize(("attempts", "wait"), [
    (1, timedelta(seconds=30)), (2, timedelta(minutes=1)), (5, timedelta(minutes=8)), (6, timedelta(minutes=10)),
    (43, timedelta(minutes=10)),  # ~6.4 h of Telegram errors: it overflowed here
    (2_880, timedelta(minutes=10)),  # a day of attempts every 30 s
    (10**9, timedelta(minutes=10)),
])
def test_the_retry_wait_is_capped_before_it_doubles(attempts, wait):
    assert POLICY.backoff(attempts) == wait


# (what the peer sent, the wait the drain keeps: None means the growing backoff)
RETRY_AFTER = [
    ("30", timedelta(seconds=30)),
    ("0.5", timedelta(seconds=0.5)),
    ("1e12", timedelta(minutes=10)),  # clamped to retry_max, not parked for 31,000 years
    ("inf", None), ("nan", None), ("abc", None), ("-60", None), ("0", None), ("", None), (None, None),
]


@pytest.mark.parametrize(("sent", "kept"), RETRY_AFTER)
def test_a_peers_retry_after_is_read_defensively_and_clamped(sent, kept):
    assert POLICY.peer_wait(peer_seconds(sent) if sent else None) == kept


# (the setting, a value that would spin or crash, what the refusal names)
SPINNING = [
    ("OUTAGES_SYNC_INTERVAL", "0", "OUTAGES_SYNC_INTERVAL"),
    ("OUTAGES_SYNC_INTERVAL", "-5", "OUTAGES_SYNC_INTERVAL"),
    ("OUTAGES_SYNC_INTERVAL", "nan", "OUTAGES_SYNC_INTERVAL"),
    ("OUTAGES_QUIET_HOURS", "25:00-07:00", "OUTAGES_QUIET_HOURS"),
]


@pytest.mark.parametrize(("name", "value", "named"), SPINNING)
def test_a_setting_that_would_spin_or_crash_is_refused_at_load_naming_it(run_cli, monkeypatch, name, value, named):
    monkeypatch.setenv(name, value)
    result = run_cli("status")
    assert result.exit_code == 2 and named in result.output, result.output


def test_a_drain_interval_of_zero_is_refused_naming_it(run_cli, tmp_path, monkeypatch):
    config = tmp_path / "city.toml"
    config.write_text("[notify]\ndrain_interval_seconds = 0\n", encoding="utf-8")
    monkeypatch.setenv("OUTAGES_CONFIG", str(config))
    result = run_cli("status")
    assert result.exit_code == 2 and "notify.drain_interval_seconds = 0" in result.output, result.output



def test_a_post_of_text_outside_the_basic_plane_fits_telegrams_limit_in_utf16_units(engine, settings):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from rows import emergency, table

    from outages.records.sync import sync
    from outages.records.views import get_record
    from outages.residents.posts import post_text, subscriber_text, units

    now = datetime(2026, 11, 22, 18, 0, tzinfo=ZoneInfo("Europe/Kyiv"))
    wide = emergency(summary="😀" * 2000, impact="𝔸" * 2000, cause="🚰" * 2000,
                     addresses="вул. Соборна, 12 " + "🏠" * 600)
    sync(engine, table(wide), settings, now)
    with engine.connect() as conn:
        record = get_record(conn, 1, now)
    post = post_text(record, settings.tz, "https://hub.example.org")
    assert units(post) <= 4096
    assert units(subscriber_text("created", record, settings.tz, "https://hub.example.org", "Соборна 12",
                                 said="💬" * 2000)) <= 4096


@pytest.mark.parametrize(("toml", "named"), [
    ("[notify]\nretry_max_seconds = 1e308\n", "[notify] «retry_max_seconds»"),  # it was blamed on the database URL
    ("[notify]\nbatch_size = nan\n", "[notify] «batch_size»"),
    ("[rules]\nemergency_max_delay_minutes = inf\n", "[rules] «emergency_max_delay_minutes»"),
    ("cache_seconds = -1\n", "«cache_seconds»"),
])
def test_a_number_out_of_any_sane_range_is_refused_naming_its_key(run_cli, tmp_path, monkeypatch, toml, named):
    config = tmp_path / "city.toml"
    config.write_text(toml, encoding="utf-8")
    monkeypatch.setenv("OUTAGES_CONFIG", str(config))
    result = run_cli("status")
    assert result.exit_code == 2 and named in result.output and "Traceback" not in result.output, result.output
