"""Settings: embedded defaults, a TOML file key by key, OUTAGES_* on top, loud failures, masked secrets."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from outages.settings import SETTINGS, SettingsError, load

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
    ("[columns]\nsummmary = 'x'\n", "columns: unknown field"),
    ("[rules]\nemergency_max_delay_minutes = 'half an hour'\n", "rules.emergency_max_delay_minutes"),
    ("[[districts]]\naliases = ['x']\n", "districts[0]"),
    ("[[services]]\nname = 'Вода'\n[[services]]\nname = 'Водопостачання'\naliases = ['вода']\n", "services"),
    ("timezone = \n", "not valid TOML"),
])
def test_a_bad_file_names_the_setting(tmp_path, toml, named):
    config = tmp_path / "city.toml"
    config.write_text(toml, encoding="utf-8")
    with pytest.raises(SettingsError, match=re.escape(named)):
        load(environ={"OUTAGES_CONFIG": str(config)})


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
