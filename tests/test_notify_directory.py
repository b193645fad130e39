"""The directory: the demo's passes `directory check`; problems are named; a CSV import is all or nothing."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from outages.officials.directory import ROLE_UK, load
from outages.settings import load as load_settings


@pytest.fixture(params=["sqlite"])
def database_url(request, tmp_path):
    return f"sqlite:///{tmp_path / 'outages.db'}"


def test_the_demo_directory_covers_every_district_and_utility(run_cli):
    result = run_cli("directory", "check")
    assert result.exit_code == 0, result.output
    counted = result.output.splitlines()[0]
    assert counted.startswith("адресатів / recipients: 24 (контроль Контакт-центру (control) 2, ")
    for role, n in (("deputy", 2), ("district_duty", 4), ("executive_head", 3), ("executor", 6),
                    ("hoa_department", 1), ("hoa_head", 5), ("press", 1)):  # in Ukrainian, the code in brackets
        assert f"{ROLE_UK[role]} ({role}) {n}" in counted
    assert "directory OK" in result.output


def test_check_names_duplicates_bad_addresses_and_gaps(run_cli, tmp_path, monkeypatch):
    config = tmp_path / "city.toml"
    config.write_text("""
[[recipients]]
email = "duty@example.org"
name = "Черговий"
role = "district_duty"
districts = ["Центральний"]

[[recipients]]
email = "DUTY@example.org"
name = "Черговий ще раз"
role = "district_duty"
districts = ["Центральний"]

[[recipients]]
email = "not an address"
name = "Хтось"
role = "deputy"

[[recipients]]
email = "x@example.org"
name = "Марсіанин"
role = "district_duty"
districts = ["Марс"]
""", encoding="utf-8")
    monkeypatch.setenv("OUTAGES_CONFIG", str(config))
    result = run_cli("directory", "check")
    assert result.exit_code == 1
    out = result.output
    assert "recipients[2]: email «not an address»: недійсна адреса / bad address" in out
    assert "recipients[3]: districts: «Марс» — невідома назва / unknown name" in out
    assert "дублікат / duplicate: duty@example.org як district_duty — 2 записи" in out
    assert "район «Заводський»: немає адресата з роллю / nobody covers it as district_duty" in out
    assert "район «Центральний»: немає адресата з роллю / nobody covers it as district_duty" not in out
    assert "виконавець «КП «Водоканал»»: немає адреси виконавця / no executor address" in out
    assert "nobody has role press" in out


def test_import_writes_the_city_file_and_keeps_the_rest_of_it(run_cli, tmp_path, monkeypatch):
    config = tmp_path / "city.toml"
    config.write_text('city_name = "Місто N"  # keep me\n', encoding="utf-8")
    monkeypatch.setenv("OUTAGES_CONFIG", str(config))
    source = tmp_path / "people.csv"
    source.write_text(
        "email,name,role,districts,streets,services,executor\n"
        "duty.z@example.org,Черговий Заводського,district_duty,Заводський район,,,\n"
        "hoa@example.org,ОСББ,hoa_head,Центральний,вул. Соборна; вул. Садова,,\n"
        "gas@example.org,Газ,executor,,,Газ,Міськгаз\n",
        encoding="utf-8")
    result = run_cli("directory", "import", str(source))
    assert result.exit_code == 0, result.output
    assert f"imported 3 адресатів → {config}" in result.output
    written = tomllib.loads(config.read_text(encoding="utf-8"))
    assert written["city_name"] == "Місто N" and "# keep me" in config.read_text(encoding="utf-8")
    assert written["recipients"][1] == {"email": "hoa@example.org", "name": "ОСББ", "role": "hoa_head",
                                        "districts": ["Центральний"], "streets": ["вул. Соборна", "вул. Садова"]}
    people = load(load_settings())
    assert [(p.email, p.role) for p in people] == [
        ("duty.z@example.org", "district_duty"), ("hoa@example.org", "hoa_head"), ("gas@example.org", "executor")]
    assert people[0].districts == ("Заводський",) and people[2].executor == "АТ «Міськгаз»"
    assert people[2].services == ("Газопостачання",)


def test_a_bad_csv_line_imports_nothing(run_cli, tmp_path, monkeypatch):
    config = tmp_path / "city.toml"
    config.write_text('city_name = "Місто N"\n', encoding="utf-8")
    monkeypatch.setenv("OUTAGES_CONFIG", str(config))
    source: Path = tmp_path / "people.csv"
    source.write_text("email,name,role\nok@example.org,Добре,press\nbad@,Погано,press\nz@example.org,Z,mayor\n",
                      encoding="utf-8")
    result = run_cli("directory", "import", str(source))
    assert result.exit_code == 2
    assert "рядок / line 3: email «bad@»: недійсна адреса" in result.output
    assert "рядок / line 4: role «mayor»: невідома роль" in result.output
    assert config.read_text(encoding="utf-8") == 'city_name = "Місто N"\n'


def test_smtp_secrets_come_from_files_are_masked_and_a_bad_tls_mode_is_named(run_cli, tmp_path, monkeypatch):
    secret = tmp_path / "smtp-password"
    secret.write_text("p4ss-w0rd\n", encoding="utf-8")
    monkeypatch.setenv("OUTAGES_SMTP_PASSWORD_FILE", str(secret))
    monkeypatch.setenv("OUTAGES_SECRET_KEY", "link-signing-key")
    monkeypatch.setenv("OUTAGES_MAIL_GIVE_UP", "2d")
    shown = run_cli("config")
    assert shown.exit_code == 0
    assert "OUTAGES_SMTP_PASSWORD = ***" in shown.output and "OUTAGES_SECRET_KEY = ***" in shown.output
    assert "p4ss-w0rd" not in shown.output and "link-signing-key" not in shown.output
    assert "OUTAGES_MAIL_GIVE_UP = 48.0" in shown.output
    monkeypatch.setenv("OUTAGES_SMTP_TLS", "tls1.3")
    bad = run_cli("config")
    assert bad.exit_code == 2 and "OUTAGES_SMTP_TLS" in bad.output and "none, starttls or ssl" in bad.output
