"""Settings: embedded defaults, a TOML file key by key, OUTAGES_* on top, loud failures, masked secrets."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from clocks import child_env

from outages.options import load_checked
from outages.settings import SETTINGS, SettingsError, load

OUTAGES = str(Path(sys.executable).with_name("outages"))
DEMO_CSV = Path(__file__).resolve().parent.parent / "outages" / "demo" / "responses.csv"

DOCS = Path(__file__).resolve().parent.parent / "docs" / "settings.md"


def test_defaults_are_the_demo_city_and_need_no_configuration():
    settings = load(environ={})
    assert settings.districts.names == ["Заводський", "Інгульський", "Корабельний", "Центральний"]
    assert "КП «Водоканал»" in settings.utilities.names
    assert settings.timezone == "Europe/Kyiv" and str(settings.tz) == "Europe/Kyiv"
    assert settings.database_url.startswith("sqlite:///")
    assert settings.columns["event_at"] == "Час настання події"


def test_a_file_overrides_key_by_key_and_the_environment_wins(tmp_path):
    config = tmp_path / "city.toml"
    config.write_text(
        'timezone = "Europe/Warsaw"\n[columns]\nsummary = "Що сталося"\n'
        '[[districts]]\nname = "Північний"\naliases = ["Пн"]\n',
        encoding="utf-8",
    )
    settings = load(environ={"OUTAGES_CONFIG": str(config), "OUTAGES_TIMEZONE": "Europe/Kyiv"})
    assert settings.timezone == "Europe/Kyiv"
    assert settings.sources["timezone"] == "OUTAGES_TIMEZONE"
    assert settings.columns["summary"] == "Що сталося"
    assert settings.columns["cause"] == "Причини виникнення"  # left out of the file: default kept
    assert settings.districts.names == ["Північний"] and settings.districts.lookup("пн") == "Північний"
    assert settings.services.names[0] == "Електропостачання"


@pytest.mark.parametrize("environ, named", [
    ({"OUTAGES_TIMEZONE": "Mars/Olympus"}, "OUTAGES_TIMEZONE"),
    ({"OUTAGES_CONFIG": "/nonexistent/city.toml"}, "OUTAGES_CONFIG"),
    ({"OUTAGES_DISPLAY_MAX_CHARS": "0"}, "OUTAGES_DISPLAY_MAX_CHARS"),  # would cut every text to «…»
    ({"OUTAGES_DISPLAY_MAX_CHARS": "60000"}, "OUTAGES_DISPLAY_MAX_CHARS"),
])
def test_a_bad_setting_names_itself(environ, named):
    with pytest.raises(SettingsError, match=named):
        load(environ=environ)


@pytest.mark.parametrize("toml, named", [
    ("[columns]\nsummmary = 'x'\n", "[columns] «summmary»: невідомий ключ / unknown key"),
    ("[rules]\nemergency_max_delay_minutes = 'half an hour'\n",
     "[rules] «emergency_max_delay_minutes»: очікується число"),
    ("[rules]\nemergency_max_delay_minutes = -5\n", "[rules] «emergency_max_delay_minutes»: очікується число від 0"),
    ("[notify]\nbogus_key = 1\n", "[notify] «bogus_key»: невідомий ключ / unknown key"),
    ("[notify]\nbatch_size = 'many'\n", "[notify] «batch_size»: очікується число"),
    ("smtp_hots = 'mail.example.org'\n", "«smtp_hots»: невідомий ключ / unknown key"),
    ("notify = 5\n", "«notify»: очікується таблиця / expected a [notify] table"),
    ("districts = 'Центральний'\n", "«districts»: очікується список"),
    ("cache_seconds = 'long'\n", "«cache_seconds»: очікується число"),
    ("[delivery]\ndeputy = 'weekly'\n", "delivery.deputy: expected one of now, hourly, daily"),
    ("[routing]\ncreated = ['mayor']\n", "routing.created: expected a list of roles"),
    ("quiet_hours = '22-7'\n", "OUTAGES_QUIET_HOURS: expected HH:MM-HH:MM"),
    ("[notify]\nclaim_lease_minutes = 1\n", "notify.claim_lease_minutes: 1 min не довше"),
    ("[[districts]]\naliases = ['x']\n", "districts[0]"),
    ("[[services]]\nname = 'Вода'\n[[services]]\nname = 'Водопостачання'\naliases = ['вода']\n", "services"),
    ("timezone = \n", "not valid TOML"),
    # Residents' reports (docs/reports.md).
    ("[reports]\nhourz = '08:00-20:00'\n", "[reports] «hourz»: невідомий ключ / unknown key"),
    ("[reports]\nhours = '8-20'\n", "reports.hours: expected HH:MM-HH:MM"),
    ("[reports]\ncrowd_min = 0\n", "reports.crowd_min: expected a whole number ≥ 1"),
    ("[reports]\nopen311_keys = 'k'\n", "reports.open311_keys: expected a list of keys"),
    ("[[services]]\nname = 'Вода'\ncode = 'Water Supply'\n", "services «Вода».code"),
    ("[[services]]\nname = 'Вода'\ncode = 'water'\n[[services]]\nname = 'Світло'\ncode = 'water'\n",
     "services: code «water» is given twice"),
    ("[[services]]\nname = 'Вода'\ncode = 'water'\n[[utilities]]\nname = 'Водоканал'\nservices = ['gas']\n",
     "utilities.services: unknown service code «gas»"),
])
def test_a_bad_file_names_the_setting(tmp_path, toml, named):
    config = tmp_path / "city.toml"
    config.write_text(toml, encoding="utf-8")
    with pytest.raises(SettingsError, match=re.escape(named)):
        load_checked(environ={"OUTAGES_CONFIG": str(config)})


@pytest.mark.parametrize("command", [["config"], ["sync", "--source", str(DEMO_CSV)], ["records"], ["send"]])
def test_every_command_refuses_an_unknown_key_at_start_naming_it(tmp_path, command):
    config = tmp_path / "city.toml"
    config.write_text("[notify]\nbogus_key = 1\n", encoding="utf-8")
    env = child_env(dict(os.environ, OUTAGES_CONFIG=str(config),
                         OUTAGES_DATABASE_URL=f"sqlite:///{tmp_path / 'hub.db'}"))
    done = subprocess.run([OUTAGES, *command], env=env, capture_output=True, text=True, timeout=60,
                          stdin=subprocess.DEVNULL)
    assert done.returncode == 2
    assert done.stderr.strip() == (f"Помилка / Error: налаштування / setting {config}: [notify] «bogus_key»: "
                                   "невідомий ключ / unknown key (known: batch_size, relay_reminder_minutes, "
                                   "relay_escalation_minutes, retry_first_seconds, retry_max_seconds, "
                                   "claim_lease_minutes, report_hour, planned_reminder_hour, smtp_timeout, "
                                   "smtp_data_timeout, drain_budget_seconds, drain_interval_seconds, news_max_hours, "
                                   "relay_link_days, digest_hour, reminder_fold_hours)")
    assert "Traceback" not in done.stderr and done.stdout == ""
    assert not (tmp_path / "hub.db").exists()  # refused before anything was touched


def test_secrets_come_from_files_and_are_masked(tmp_path, run_cli, monkeypatch):
    secret = tmp_path / "db-url"
    secret.write_text("postgresql://hub:s3cr3t-pass@db.internal/outages\n", encoding="utf-8")
    monkeypatch.delenv("OUTAGES_DATABASE_URL")
    monkeypatch.setenv("OUTAGES_DATABASE_URL_FILE", str(secret))
    result = run_cli("config")
    assert result.exit_code == 0
    assert "OUTAGES_DATABASE_URL = postgresql://hub:***@db.internal/outages" in result.output
    assert "s3cr3t-pass" not in result.output


def test_config_command_reports_a_bad_setting_and_exits_non_zero(run_cli, monkeypatch):
    monkeypatch.setenv("OUTAGES_TIMEZONE", "Nowhere/Town")
    result = run_cli("config")
    assert result.exit_code == 2 and "OUTAGES_TIMEZONE" in result.output


def test_the_settings_document_lists_every_setting():
    text = DOCS.read_text(encoding="utf-8")
    missing = [s.env for s in SETTINGS if f"`{s.env}`" not in text]
    assert not missing, f"docs/settings.md does not describe {missing}"
