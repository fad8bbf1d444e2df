"""Importing watched entities from FollowTheMoney JSON lines and from CSV.

The fixtures in `tests/data/entities/` imitate OpenSanctions exports and a hand-kept
spreadsheet (see /work/shared/SOURCES.md); they are written by hand, ids and numbers
invented. Each has `x.expected.json` beside it with the entities, problems (with their
line numbers) and skipped schemata it must give. The other tests feed small inline lines.
"""

from __future__ import annotations

import json
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from alerts.domain import Entity, EntityKind, entity_to_dict
from alerts.matching.importing import (
    ImportProblem,
    ImportResult,
    detect_format,
    parse_entities_csv,
    parse_ftm,
)

ENTITIES = Path(__file__).parent / "data" / "entities"
FIXTURES = {
    "russia-officials.ftm.json": ("russia-officials.expected.json", "ftm"),
    "watch.csv": ("watch.expected.json", "csv"),
}


def as_json(result: ImportResult) -> dict[str, Any]:
    return {
        "entities": [entity_to_dict(e) for e in result.entities],
        "problems": [{"line": p.line, "message": p.message} for p in result.problems],
        "skipped_schemas": result.skipped_schemas,
    }


def ftm(schema: str = "Person", *, line_id: str = "NK-1", **props: Any) -> str:
    """One FtM JSON line; `props` are the entity's properties."""
    return json.dumps({"id": line_id, "schema": schema, "properties": props}, ensure_ascii=False)


def one(result: ImportResult) -> Entity:
    assert len(result.entities) == 1, result
    return result.entities[0]


def problems(result: ImportResult) -> list[tuple[int, str]]:
    return [(p.line, p.message) for p in result.problems]


# --- fixtures -------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_fixture_gives_the_expected_entities(name: str) -> None:
    expected_name, fmt = FIXTURES[name]
    expected = json.loads((ENTITIES / expected_name).read_text(encoding="utf-8"))

    # As the CLI opens it, minus utf-8-sig: the parsers strip a BOM themselves.
    with (ENTITIES / name).open(encoding="utf-8", newline="") as handle:
        first = handle.readline()
        handle.seek(0)
        assert detect_format(name, first) == fmt
        result = parse_ftm(handle) if fmt == "ftm" else parse_entities_csv(handle)

    assert as_json(result) == expected


def test_every_fixture_has_its_expected_json() -> None:
    for name, (expected_name, _) in FIXTURES.items():
        assert (ENTITIES / name).is_file(), name
        assert (ENTITIES / expected_name).is_file(), expected_name


def test_fixtures_have_the_shapes_they_claim() -> None:
    raw_csv = (ENTITIES / "watch.csv").read_bytes()
    assert raw_csv.startswith(b"\xef\xbb\xbf")
    ftm_lines = (ENTITIES / "russia-officials.ftm.json").read_text(encoding="utf-8").splitlines()
    assert 15 <= len(ftm_lines) <= 20
    assert "" in ftm_lines  # a blank line, ignored but counted


def test_ftm_fixture_in_detail() -> None:
    with (ENTITIES / "russia-officials.ftm.json").open(encoding="utf-8") as handle:
        result = parse_ftm(handle)
    by_id = {e.id: e for e in result.entities}

    putin = by_id["NK-t3stPutinVV"]
    assert putin.kind is EntityKind.PERSON
    assert putin.name == "Vladimir Vladimirovich Putin"  # first `name`, not the caption
    # Later names, then aliases; "vladimir  PUTIN" repeats "Vladimir Putin"; the name itself
    # is not repeated as an alias; a weak alias spelt like a strong name is dropped.
    assert putin.aliases == (
        "Путин Владимир Владимирович",
        "PUTIN, Vladimir Vladimirovich",
        "Vladimir Putin",
        "Володимир Путін",
    )
    assert putin.weak_aliases == ("Putin",)
    assert by_id["NK-t3stLavrovSV"].identifiers == ()  # passport and id numbers not read
    rosneft = by_id["NK-t3stRosneft"]
    assert rosneft.kind is EntityKind.ORGANIZATION
    assert "ПАО «Роснефть»" in rosneft.aliases
    assert "OJSC Rosneft Oil Company" in rosneft.aliases  # previousName
    assert rosneft.identifiers == ("1027700000017",)  # "7706" is too short to look for
    assert by_id["NK-t3stOceanAurora"].identifiers == ("9312547",)
    assert by_id["NK-t3stArcticWillow"].identifiers == ("9573062",)  # two spellings, one
    assert by_id["NK-t3stVolgaSpirit"].identifiers == ()  # both numbers bad; vessel kept
    assert by_id["NK-t3stShoiguSK"].name == "Sergei Kuzhugetovich Shoigu"  # the caption
    assert by_id["NK-t3stRostec"].identifiers == ("1077700000046",)  # owner IMO not read
    assert {e.kind for e in result.entities} == {
        EntityKind.PERSON,
        EntityKind.ORGANIZATION,
        EntityKind.VESSEL,
    }
    assert result.skipped_schemas == {"Sanction": 2, "Address": 1, "Ownership": 1}


def test_csv_fixture_line_numbers_count_the_lines_of_multi_line_cells() -> None:
    with (ENTITIES / "watch.csv").open(encoding="utf-8-sig", newline="") as handle:
        result = parse_entities_csv(handle)
    # Rosneft's aliases cell spans lines 3-5, the broken Timchenko name lines 13-14.
    assert [p.line for p in result.problems] == [8, 10, 11, 13]
    rosneft = result.entities[1]
    assert rosneft.aliases == ("PJSC Rosneft", "ПАО «Роснефть»")  # one a line in the cell
    assert result.entities[-1].id == "watch-010"  # the row after the broken one is read


# --- FtM: mapping -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("schema", "kind"),
    [
        ("Person", EntityKind.PERSON),
        ("Organization", EntityKind.ORGANIZATION),
        ("Company", EntityKind.ORGANIZATION),
        ("LegalEntity", EntityKind.ORGANIZATION),
        ("PublicBody", EntityKind.ORGANIZATION),
        ("Vessel", EntityKind.VESSEL),
    ],
)
def test_ftm_watched_schemata(schema: str, kind: EntityKind) -> None:
    result = parse_ftm([ftm(schema, line_id="x-1", name=["Sovcomflot"])])
    assert one(result) == Entity(name="Sovcomflot", kind=kind, id="x-1")
    assert result.problems == ()
    assert result.skipped_schemas == {}


def test_ftm_other_schemata_are_counted_not_reported() -> None:
    lines = [
        ftm("Sanction", entity=["NK-1"]),
        ftm("Address", full=["Moscow"]),
        ftm("Sanction", entity=["NK-2"]),
        ftm("Airplane", name=["RA-96012"]),
        ftm("Person", name=["Igor Sechin"]),
    ]
    result = parse_ftm(lines)
    assert result.skipped_schemas == {"Sanction": 2, "Address": 1, "Airplane": 1}
    assert result.problems == ()
    assert one(result).name == "Igor Sechin"


def test_ftm_name_order_and_strength() -> None:
    line = ftm(
        name=["Arkady Romanovich Rotenberg", "Ротенберг Аркадий Романович"],
        alias=["ROTENBERG, Arkadii Romanovich"],
        previousName=["Arkady Rotenberg"],
        weakAlias=["Rotenberg"],
    )
    entity = one(parse_ftm([line]))
    assert entity.name == "Arkady Romanovich Rotenberg"
    assert entity.aliases == (
        "Ротенберг Аркадий Романович",
        "ROTENBERG, Arkadii Romanovich",
        "Arkady Rotenberg",
    )
    assert entity.weak_aliases == ("Rotenberg",)


def test_ftm_caption_is_the_fallback_for_the_primary_name() -> None:
    line = json.dumps({"id": "c", "schema": "Person", "caption": "Sergei Shoigu", "properties": {}})
    assert one(parse_ftm([line])).name == "Sergei Shoigu"


def test_ftm_first_usable_name_is_the_primary() -> None:
    result = parse_ftm([ftm(name=["  ", "Igor Sechin"], alias=["Сечин"])])
    entity = one(result)
    assert entity.name == "Igor Sechin"
    assert entity.aliases == ("Сечин",)
    assert problems(result) == [(1, "name '  ' skipped: name is empty")]


def test_ftm_dedup_ignores_case_and_whitespace_and_keeps_the_first_spelling() -> None:
    line = ftm(
        name=["Gennady  Timchenko"],
        alias=[
            "GENNADY TIMCHENKO",
            "Gennady\u00a0Timchenko",
            "Геннадий Тимченко",
            "геннадий тимченко",
        ],
        weakAlias=["gennady timchenko", "Timchenko", "TIMCHENKO"],
    )
    entity = one(parse_ftm([line]))
    assert entity.name == "Gennady Timchenko"  # runs of spaces become one
    assert entity.aliases == ("Геннадий Тимченко",)
    assert entity.weak_aliases == ("Timchenko",)


def test_ftm_a_lone_string_property_is_read_as_one_value() -> None:
    entity = one(parse_ftm([ftm(name="Rosneft", alias="ПАО «Роснефть»")]))
    assert (entity.name, entity.aliases) == ("Rosneft", ("ПАО «Роснефть»",))


def test_ftm_nested_entities_in_other_properties_are_ignored() -> None:
    line = ftm(
        name=["Igor Sechin"],
        sanctions=[{"id": "s", "schema": "Sanction", "properties": {"program": ["X"]}}],
    )
    result = parse_ftm([line])
    assert one(result).name == "Igor Sechin"
    assert result.problems == ()
    assert result.skipped_schemas == {}


def test_ftm_missing_id_gives_an_empty_id() -> None:
    line = json.dumps({"schema": "Person", "properties": {"name": ["Igor Sechin"]}})
    assert one(parse_ftm([line])).id == ""


# --- FtM: identifiers -------------------------------------------------------------------


@pytest.mark.parametrize("written", ["IMO 9312547", "IMO9312547", "9312547", "imo: 9312547"])
def test_ftm_imo_numbers_are_normalised_to_seven_digits(written: str) -> None:
    result = parse_ftm([ftm("Vessel", name=["OCEAN AURORA"], imoNumber=[written])])
    assert one(result).identifiers == ("9312547",)
    assert result.problems == ()


@pytest.mark.parametrize(
    ("written", "why"),
    [
        ("IMO 9312548", "wrong IMO check digit"),
        ("9365026", "wrong IMO check digit"),
        ("IMO 931254", "not an IMO number (7 digits)"),
        ("93125470", "not an IMO number (7 digits)"),
        ("unknown", "not an IMO number (7 digits)"),
    ],
)
def test_ftm_bad_imo_number_is_reported_and_the_vessel_kept(written: str, why: str) -> None:
    lines = ["", ftm("Vessel", name=["VOLGA SPIRIT"], imoNumber=[written, "IMO 9365025"])]
    result = parse_ftm(lines)
    assert one(result).identifiers == ("9365025",)
    assert problems(result) == [(2, f"imoNumber {written!r} skipped: {why}")]


def test_ftm_imo_number_of_a_company_is_not_read() -> None:
    entity = one(parse_ftm([ftm("Company", name=["Sovcomflot"], imoNumber=["5900001"])]))
    assert entity.identifiers == ()


@pytest.mark.parametrize(
    ("written", "kept"),
    [
        ("1027700000017", True),  # an OGRN
        ("SC123456", True),
        ("12-345", False),  # five digits
        ("770601", True),
        ("ABCDEFGH", False),  # no digit: would match as a word
        ("A12", False),
    ],
)
def test_ftm_registration_numbers_need_six_letters_and_digits(written: str, kept: bool) -> None:
    result = parse_ftm([ftm("Company", name=["Rosneft"], registrationNumber=[written])])
    assert one(result).identifiers == ((written,) if kept else ())
    assert result.problems == ()  # a short number is fine data, just not looked for


def test_ftm_other_identifiers_are_not_read() -> None:
    line = ftm(
        name=["Sergey Lavrov"],
        passportNumber=["100000117"],
        idNumber=["4501 000001"],
        taxNumber=["770000000001"],
        innCode=["770000000001"],
    )
    assert one(parse_ftm([line])).identifiers == ()


def test_ftm_registration_number_with_a_control_character_is_reported() -> None:
    result = parse_ftm([ftm("Company", name=["Rosneft"], registrationNumber=["10277\x0000017"])])
    assert one(result).identifiers == ()
    assert problems(result) == [
        (
            1,
            "registrationNumber '10277\\x0000017' skipped: "
            "identifier has a control character (U+0000) at column 6",
        )
    ]


# --- FtM: problems ----------------------------------------------------------------------


def test_ftm_every_problem_is_reported_with_its_line_and_parsing_goes_on() -> None:
    lines = [
        "\ufeff" + ftm(name=["First Person"]) + "\n",  # 1: BOM stripped
        "\n",  # 2: blank
        "   \r\n",  # 3: blank
        '{"id": "x", "schema": "Person", "properties": {"name": ["Cut Of',  # 4
        "[1, 2]",  # 5
        '"a string"',  # 6
        "42",  # 7
        json.dumps({"id": "y", "properties": {"name": ["No Schema"]}}),  # 8
        json.dumps({"op": "ADD", "entity": {"id": "z", "schema": "Person"}}),  # 9
        json.dumps({"id": "p", "schema": "Person", "properties": ["name"]}),  # 10
        ftm(line_id="n", alias=["Only An Alias"]),  # 11
        ftm(line_id="t", name=["x" * 201]),  # 12
        ftm(name=["Second Person"], alias=5),  # 13
        ftm(name=["Third Person", 7, None], weakAlias=["ok", {"x": 1}]),  # 14
        "not json at all",  # 15
        ftm(name=["Last Person"]) + "\r\n",  # 16
    ]
    result = parse_ftm(lines)
    assert [e.name for e in result.entities] == [
        "First Person",
        "Second Person",
        "Third Person",
        "Last Person",
    ]
    assert problems(result) == [
        (4, "invalid JSON: Unterminated string starting at column 57"),
        (5, "expected one FtM entity (a JSON object) per line, got an array"),
        (6, "expected one FtM entity (a JSON object) per line, got str"),
        (7, "expected one FtM entity (a JSON object) per line, got int"),
        (8, 'no "schema": not a FollowTheMoney entity'),
        (
            9,
            "a delta operation, not an entity: import the full export "
            "(entities.ftm.json), not entities.delta.json",
        ),
        (10, "Person 'p' skipped: \"properties\" is not an object"),
        (11, "Person 'n' skipped: no usable name"),
        (12, "Person 't' skipped: no usable name (name is too long (201 characters, at most 200))"),
        (13, "alias skipped: not a list"),
        (14, "name: 2 non-text value(s) skipped"),
        (14, "weakAlias: 1 non-text value(s) skipped"),
        (15, "invalid JSON: Expecting value at column 1"),
    ]


def test_ftm_entity_without_any_name_is_skipped() -> None:
    line = json.dumps({"id": "e", "schema": "Person", "caption": "", "properties": {"name": [""]}})
    result = parse_ftm([line])
    assert result.entities == ()
    assert result.problems == (
        ImportProblem(1, "Person 'e' skipped: no usable name (name is empty)"),
    )


def test_ftm_bad_names_are_dropped_and_the_entity_kept() -> None:
    line = ftm(
        name=["Igor Sechin"],
        alias=["Igor\tSechin", "***", "y" * 201, "Сечин Игорь"],
        weakAlias=["\x07Sechin"],
    )
    result = parse_ftm(["", line])
    entity = one(result)
    assert entity.aliases == ("Сечин Игорь",)
    assert entity.weak_aliases == ()
    messages = [m for _, m in problems(result)]
    assert {line for line, _ in problems(result)} == {2}
    assert messages[0] == (
        "alias 'Igor\\tSechin' skipped: name has a control character (U+0009) at column 5"
    )
    assert messages[1] == "alias '***' skipped: name has no letters or digits"
    assert messages[2].startswith("alias 'yyyy")
    assert messages[2].endswith("…' skipped: name is too long (201 characters, at most 200)")
    assert messages[3].startswith("weakAlias '\\x07Sechin' skipped: name has a control character")


# --- detect_format ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filename", "first_line", "expected"),
    [
        ("entities.ftm.json", "name,kind\n", "ftm"),
        ("targets.JSONL", "", "ftm"),
        ("/data/export.ndjson", "", "ftm"),
        ("watch.csv", "name,kind\n", "csv"),
        ("watch.csv", "\ufeffName,Kind\r\n", "csv"),
        ("download", '{"id": "NK-1", "schema": "Person"}\n', "ftm"),
        ("download.txt", '\ufeff  {"id": "NK-1"}', "ftm"),
        ("watch.txt", "", "csv"),
        ("json", "name\n", "csv"),  # a name, not a suffix
    ],
)
def test_detect_format(filename: str, first_line: str, expected: str) -> None:
    assert detect_format(filename, first_line) == expected


# --- CSV ------------------------------------------------------------------------------------


def csv_lines(text: str) -> list[str]:
    """Lines with their endings, as a file opened with newline="" gives them."""
    return text.splitlines(keepends=True)


def test_csv_columns_are_case_insensitive_and_unknown_ones_ignored() -> None:
    text = (
        "ID,NAME,Notes,Kind,Weak-Aliases,Aliases,Identifiers\n"
        "w1,Sovcomflot,state shipping,ORGANIZATION,SCF,ПАО «Совкомфлот»; PAO Sovcomflot,\n"
    )
    result = parse_entities_csv(csv_lines(text))
    assert one(result) == Entity(
        name="Sovcomflot",
        kind=EntityKind.ORGANIZATION,
        aliases=("ПАО «Совкомфлот»", "PAO Sovcomflot"),
        weak_aliases=("SCF",),
        id="w1",
    )
    assert result.problems == ()
    assert result.skipped_schemas == {}


def test_csv_only_name_is_required_and_kind_defaults() -> None:
    text = "name\nSergey Lavrov\n"
    assert one(parse_entities_csv(csv_lines(text))) == Entity(name="Sergey Lavrov")
    vessel = one(parse_entities_csv(csv_lines(text), default_kind=EntityKind.VESSEL))
    assert vessel.kind is EntityKind.VESSEL


def test_csv_kind_spellings() -> None:
    text = "name,kind\nA Org,organisation\nB Ship, Vessel \nC Land,country\nD Who,\n"
    kinds = [e.kind for e in parse_entities_csv(csv_lines(text)).entities]
    assert kinds == [
        EntityKind.ORGANIZATION,
        EntityKind.VESSEL,
        EntityKind.COUNTRY,
        EntityKind.PERSON,
    ]


def test_csv_missing_name_column_is_one_problem_and_no_entities() -> None:
    text = "full_name,kind\nVladimir Putin,person\nIgor Sechin,person\n"
    result = parse_entities_csv(csv_lines(text))
    assert result.entities == ()
    assert problems(result) == [
        (1, "no \"name\" column in the header ('full_name', 'kind'): nothing imported")
    ]


@pytest.mark.parametrize("text", ["", "\ufeff", "\n\n", ",,\n"])
def test_csv_without_a_header(text: str) -> None:
    result = parse_entities_csv(csv_lines(text))
    assert result.entities == ()
    assert problems(result) == [
        (1, "no header row: expected columns such as name,kind,aliases,weak_aliases,identifiers,id")
    ]


def test_csv_header_only_is_not_a_problem() -> None:
    assert parse_entities_csv(["name,kind\r\n"]) == ImportResult((), (), {})


def test_csv_every_problem_is_reported_with_its_line_and_parsing_goes_on() -> None:
    text = (
        "\ufeffname,kind,aliases,identifiers\r\n"  # 1
        "Vladimir Putin,person,Путин,\r\n"  # 2
        "Central Bank of Russia,bank,Банк России,\r\n"  # 3
        '"Arctic\r\nWillow",vessel,,\r\n'  # 4-5: name with a line break
        ",person,Nobody,\r\n"  # 6
        "   ,person,,\r\n"  # 7
        "Gazprom, PJSC,organization,Газпром,1027700000011\r\n"  # 8: unquoted comma
        '"Rosneft"x,organization,,\r\n'  # 9: junk after a quoted cell
        "***,organization,,\r\n"  # 10
        "\r\n"  # 11
        'Igor Sechin,person,"Сечин\r\nИгорь Сечин\r\n",\r\n'  # 12-14
        "OCEAN AURORA,vessel,,IMO 9312548;1234568;IMO 931;273000001\r\n"  # 15
        "Last Person,person,,\r\n"  # 16
    )
    result = parse_entities_csv(csv_lines(text))
    assert [e.name for e in result.entities] == [
        "Vladimir Putin",
        "Igor Sechin",
        "OCEAN AURORA",
        "Last Person",
    ]
    assert result.entities[1].aliases == ("Сечин", "Игорь Сечин")
    assert result.entities[2].identifiers == ("273000001",)
    assert problems(result) == [
        (3, "row skipped: kind 'bank' is not one of person, organization, vessel, country"),
        (4, "row skipped: name has a control character (U+000D) at column 7"),
        (6, "row skipped: name is empty"),
        (7, "row skipped: name is empty"),
        (8, "row skipped: 5 cells but the header has 4 (quote a cell that holds a comma)"),
        (9, "bad CSV, record skipped: ',' expected after '\"'"),
        (10, "row skipped: name has no letters or digits"),
        (15, "identifier 'IMO 9312548' skipped: wrong IMO check digit"),
        (15, "identifier '1234568' skipped: wrong IMO check digit"),
        (15, "identifier 'IMO 931' skipped: not an IMO number (7 digits)"),
    ]


def test_csv_unclosed_quote_is_reported_on_the_line_it_opens() -> None:
    text = 'name,aliases\nIgor Sechin,"Сечин\nGennady Timchenko,Тимченко\n'
    result = parse_entities_csv(csv_lines(text))
    assert result.entities == ()
    assert problems(result) == [(2, "bad CSV, record skipped: unexpected end of data")]


def test_csv_extra_empty_cells_are_fine() -> None:
    text = "name,kind\nRosneft,organization,,\n"
    assert one(parse_entities_csv(csv_lines(text))).name == "Rosneft"


def test_csv_dedup_and_identifiers() -> None:
    text = (
        "name,kind,aliases,weak_aliases,identifiers\n"
        "OCEAN AURORA,vessel,ocean  aurora;SEA PEARL;Sea Pearl,sea pearl;AURORA,"
        "IMO9312547;9312547;imo 9312547;273000001\n"
        "Rosneft,organization,,,1027700000017;1027700000017;9312547\n"
    )
    vessel, company = parse_entities_csv(csv_lines(text)).entities
    assert vessel.aliases == ("SEA PEARL",)
    assert vessel.weak_aliases == ("AURORA",)
    assert vessel.identifiers == ("9312547", "273000001")
    # Only a vessel's bare seven digits are taken for an IMO number.
    assert company.identifiers == ("1027700000017", "9312547")


def test_csv_a_bad_alias_drops_only_the_alias() -> None:
    text = "name,aliases\nIgor Sechin,Сечин;\x01Sechin\n"
    result = parse_entities_csv(csv_lines(text))
    assert one(result).aliases == ("Сечин",)
    assert problems(result) == [
        (2, "alias '\\x01Sechin' skipped: name has a control character (U+0001) at column 1")
    ]


def test_csv_repeated_column_first_one_counts() -> None:
    text = "name,Name,kind\nFirst,Second,vessel\n"
    assert one(parse_entities_csv(csv_lines(text))).name == "First"


# --- streaming ------------------------------------------------------------------------------

LARGE = 100_000


def generated_lines(count: int) -> Iterator[str]:
    """OpenSanctions-like lines: 3 in 5 persons, the rest sanctions, addresses and blanks."""
    for i in range(count):
        match i % 5:
            case 0 | 1 | 2:
                name, alias = f"Ivan Petrovich Testov {i}", f"Иван Тестов {i}"
                yield ftm(line_id=f"NK-{i}", name=[name], alias=[alias]) + "\n"
            case 3:
                yield ftm("Sanction", line_id=f"s-{i}", entity=[f"NK-{i - 1}"]) + "\n"
            case _:
                yield "\n" if i % 10 == 4 else ftm("Address", line_id=f"a-{i}") + "\n"


def test_large_input_is_parsed_completely() -> None:
    # Speed is measured by benchmarks/bench_importing.py, not asserted here.
    result = parse_ftm(generated_lines(LARGE))

    assert len(result.entities) == LARGE * 3 // 5
    assert result.problems == ()
    assert result.skipped_schemas == {"Sanction": LARGE // 5, "Address": LARGE // 10}
    assert result.entities[-1].id == f"NK-{LARGE - 3}"


def test_lines_are_not_held_once_read() -> None:
    # Every line is a skipped record, so the result is tiny: a parser that kept the lines
    # (a list, a read-ahead) would hold megabytes.
    padding = "x" * 200
    lines = (ftm("Sanction", line_id=f"s-{i}", summary=[padding]) + "\n" for i in range(20_000))
    tracemalloc.start()
    try:
        result = parse_ftm(lines)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.skipped_schemas == {"Sanction": 20_000}
    assert peak < 500_000, peak
