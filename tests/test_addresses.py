"""The «Адреси» cell read as streets and houses, and a resident's search read as a street and a house, against
the demo city's street catalogue (outages/defaults.toml). Pure functions: no store, no clock."""

from __future__ import annotations

import pytest

from outages import settings as settings_module
from outages.places.addresses import covers, parse_addresses, parse_query
from outages.places.streets import load
from outages.settings import SettingsError

STREETS = settings_module.load({}).streets


@pytest.mark.parametrize("cell, described", [
    # a list of houses
    ("вул. Соборна, 12, 14", ["вул. Соборна, 12, 14"]),
    # a range, with a hyphen or an en dash, or in words
    ("вул. Потьомкінська, 120-160", ["вул. Потьомкінська, 120–160"]),
    ("вул. Соборна, 1–25", ["вул. Соборна, 1–25"]),
    ("вул. Соборна, з 10 по 20", ["вул. Соборна, 10–20"]),
    # one side of the street
    ("вул. Соборна, непарні 1-25", ["вул. Соборна, непарні 1–25"]),
    ("вул. Соборна, парні 2-40", ["вул. Соборна, парні 2–40"]),
    ("вул. Соборна, парна сторона", ["вул. Соборна, парна сторона"]),
    ("вул. Соборна, непарна сторона", ["вул. Соборна, непарна сторона"]),
    # suffixes: a letter, a fraction, a building
    ("вул. Соборна, 12а", ["вул. Соборна, 12а"]),
    ("вул. Соборна, 12-А", ["вул. Соборна, 12а"]),
    ("вул. Соборна, 12/1", ["вул. Соборна, 12/1"]),
    ("вул. Соборна, 12 корп. 2", ["вул. Соборна, 12 корп. 2"]),
    ("вул. Соборна, 12, корп. 2", ["вул. Соборна, 12 корп. 2"]),
    # an entrance is inside its house, not another house
    ("вул. Космонавтів, 81/1, під'їзд 3", ["вул. Космонавтів, 81/1"]),
    # several streets, by «;» or by a new street type after a comma
    ("просп. Центральний, 1-15; вул. Заводська, 2-40", ["просп. Центральний, 1–15", "вул. Заводська, 2–40"]),
    ("вул. Соборна, 12, 14, вул. Садова, 3", ["вул. Соборна, 12, 14", "вул. Садова, 3"]),
    # a bare street: all of it
    ("вул. Садова", ["вул. Садова (уся вулиця)"]),
    ("Каштановий сквер", ["Каштановий сквер (уся вулиця)"]),
    # houses without a comma; a street whose name starts with a number
    ("вул. Соборна 12, 14", ["вул. Соборна, 12, 14"]),
    ("вул. 8 Березня, 41", ["вул. 8 Березня, 41"]),
    ("вул. 8 Березня", ["вул. 8 Березня (уся вулиця)"]),
    # a dispatcher's Russian spelling or old name becomes the catalogue's street
    ("ул. Фалеевская, 7", ["вул. Фалеєвська, 7"]),
    ("вул. Рюмина, 1-17", ["вул. Рюміна, 1–17"]),
    ("вул. Радянська, 3", ["вул. Соборна, 3"]),
    # a crossing names two streets and covers no house
    ("перехрестя вул. Соборна / просп. Миру", ["вул. Соборна", "просп. Миру"]),
    # what is not houses leaves the street whole, so nobody on it misses the record
    ("вул. Соборна, біля школи", ["вул. Соборна (уся вулиця)"]),
    ("", []),
])
def test_every_address_form_is_read(cell, described):
    parsed = parse_addresses(cell, STREETS)
    assert [item.describe() for item in parsed.items] == described
    assert parsed.unknown_streets == ()


def test_a_street_the_catalogue_does_not_know_is_kept_as_typed_and_named():
    parsed = parse_addresses("вул. Незнайома, 5; вул. Соборна, 1", STREETS)
    assert [item.describe() for item in parsed.items] == ["вул. Незнайома, 5", "вул. Соборна, 1"]
    assert [item.known for item in parsed.items] == [False, True]
    assert parsed.unknown_streets == ("вул. Незнайома",)


@pytest.mark.parametrize("cell, query, covered", [
    ("вул. Потьомкінська, 120-160", "Потьомкінська 130", True),  # inside a range
    ("вул. Потьомкінська, 120-160", "Потьомкінська 130а", True),  # a lettered house inside a range
    ("вул. Потьомкінська, 120-160", "Потьомкінська 162", False),  # outside it
    ("вул. Потьомкінська, 120-160", "Потьомкінська 119", False),
    ("вул. Соборна, 12, 14", "Соборна 14", True),
    ("вул. Соборна, 12, 14", "Соборна 1", False),  # 1 is not a prefix of 12
    ("вул. Соборна, 12, 14", "Соборна 13", False),
    ("вул. Соборна, непарні 1-25", "Соборна 7", True),  # odd side
    ("вул. Соборна, непарні 1-25", "Соборна 8", False),
    ("вул. Соборна, парна сторона", "Соборна 140", True),  # even side, all of it
    ("вул. Соборна, парна сторона", "Соборна 141", False),
    ("вул. Соборна, 12а", "Соборна 12а", True),  # suffix
    ("вул. Соборна, 12а", "Соборна 12", False),
    ("вул. Соборна, 12", "Соборна 12б", False),
    ("вул. Соборна, 12/1", "Соборна, 12/1", True),
    ("вул. Соборна, 12 корп. 2", "Соборна 12 корп 2", True),
    ("вул. Садова", "Садова 99", True),  # the whole street
    ("вул. Садова, 3", "Садова", True),  # a street alone: every record on it
    ("вул. Потьомкінська, 120-160", "потьомкинська 130", True),  # misspelt
    ("вул. Фалеєвська, 7", "Фалеевская 7", True),  # Russian
    ("вул. Соборна, 12, 14", "Радянська 14", True),  # former name
    ("просп. Центральний, 1-15", "проспект Леніна 3", True),
    ("вул. Соборна, 12, 14", "вулиця СОБОРНА", True),  # case and street type
    ("вул. Велика Морська, 10-48", "Морська 20", True),  # part of the name
    ("вул. Соборна, 12, 14", "Садова 12", False),  # another street
    ("перехрестя вул. Соборна / просп. Миру", "Соборна 14", False),  # a crossing covers no house…
    ("перехрестя вул. Соборна / просп. Миру", "Соборна", True),  # …but is on the street
])
def test_covers(cell, query, covered):
    wanted = parse_query(query, STREETS)
    assert any(covers(item, wanted) for item in parse_addresses(cell, STREETS).items) is covered


@pytest.mark.parametrize("typed, street, house, suffix", [
    ("Потьомкінська 130", "вул. Потьомкінська", 130, ""),
    ("вул. Соборна, 14", "вул. Соборна", 14, ""),
    ("Соборна буд. 12а", "вул. Соборна", 12, "а"),
    ("8 Березня 41", "вул. 8 Березня", 41, ""),
    ("вул. 8 Березня", "вул. 8 Березня", None, ""),
    ("Фалеевская", "вул. Фалеєвська", None, ""),
])
def test_a_residents_query_is_a_street_and_a_house(typed, street, house, suffix):
    query = parse_query(typed, STREETS)
    assert (query.streets, query.house, query.suffix) == ((street,), house, suffix)


def test_a_query_naming_no_street_finds_nothing():
    assert parse_query("Неіснуюча 5", STREETS).street_keys == ()
    assert parse_query("   ", STREETS).street_keys == ()


def test_an_unknown_street_in_records_is_found_by_its_typed_name():
    other = {"вул. незнайома": "вул. Незнайома"}
    assert parse_query("Незнайома 5", STREETS, other).street_keys == ("вул. незнайома",)


@pytest.mark.parametrize("raw, message", [
    ([{"name": ""}], "streets[0]: every street needs a name"),
    ([{"name": "Соборна"}, {"name": "вул. Соборна"}], "«вул. Соборна» is listed twice"),
    ([{"name": "Соборна", "type": "хутір"}], "streets[0].type: unknown street type 'хутір'"),
    ([{"name": "Соборна", "aliases": "Радянська"}], "streets[0].aliases: expected a list of text"),
])
def test_a_bad_catalogue_is_refused_by_name(raw, message):
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load(raw)


def test_settings_name_the_bad_street(tmp_path):
    city = tmp_path / "city.toml"
    city.write_text('[[streets]]\nname = "Соборна"\ntype = "хутір"\n', encoding="utf-8")
    with pytest.raises(SettingsError, match="streets"):
        settings_module.load({}, path=city)
