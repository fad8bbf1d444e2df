"""Sanctions list files: parsing each publisher's shape, diffing versions, and the guards."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from alerts.sources.lists import (
    Action,
    Alias,
    EntityKind,
    ListDiffRefused,
    ListFormatError,
    Snapshot,
    Strength,
    diff,
    parse_eu_fsf,
    parse_ofac_sdn,
    parse_ofac_sls_delta,
    parse_opensanctions_delta,
    parse_uk_sanctions_list,
    parse_un_consolidated,
)

DATA = Path(__file__).parent / "data" / "lists"

Parser = Callable[[bytes], Snapshot]

# name, parser, (added, amended with what changed, removed) between v1 and v2
VERSIONS: list[tuple[str, Parser, str, tuple[str, ...], str]] = [
    ("ofac-sdn", parse_ofac_sdn, "90107", ("90101", "aliases", "programmes"), "90105"),
    ("uk-sanctions-list", parse_uk_sanctions_list, "RUS9107", ("RUS9101", "aliases"), "CYB9105"),
    ("un-consolidated", parse_un_consolidated, "8800104", ("8800102", "aliases"), "8800203"),
    ("eu-fsf", parse_eu_fsf, "990107", ("990101", "programmes"), "990105"),
]


def read(name: str) -> bytes:
    return (DATA / name).read_bytes()


# --- parsing -------------------------------------------------------------------------------


def test_ofac_sdn_reads_entries_aliases_and_header() -> None:
    snapshot = parse_ofac_sdn(read("ofac-sdn-v1.xml"))
    assert snapshot.list == "us-ofac-sdn"
    assert snapshot.published == datetime(2026, 6, 30, tzinfo=UTC)
    assert (snapshot.declared_count, snapshot.entry_count, len(snapshot.records)) == (6, 6, 6)
    person = snapshot.records["90101"]
    assert person.kind is EntityKind.PERSON
    assert person.name == "PETROVSKY, Ivan Sergeyevich"
    assert person.programmes == ("RUSSIA-EO14024",)
    assert Alias("ПЕТРОВСКИЙ, Иван Сергеевич") in person.aliases
    assert Alias("VANYA THE BUILDER", Strength.WEAK) in person.aliases
    company = snapshot.records["90102"]
    assert Alias("STROYTEKH TRADING LLC", previous=True) in company.aliases
    assert snapshot.records["90103"].kind is EntityKind.VESSEL
    assert snapshot.records["90105"].kind is EntityKind.AIRCRAFT
    assert snapshot.records["90105"].programmes == ("IRAN", "SDGT")
    assert Alias("الراشدي, خالد يوسف") in snapshot.records["90104"].aliases


def test_uk_list_reads_names_regimes_and_dates() -> None:
    snapshot = parse_uk_sanctions_list(read("uk-sanctions-list-v1.xml"))
    assert snapshot.published == datetime(2026, 6, 30, tzinfo=UTC)
    person = snapshot.records["RUS9101"]
    assert person.name == "PETROVSKY, Ivan Sergeyevich"
    assert person.listed == date(2022, 3, 15)
    assert person.programmes == ("Russia",)
    assert person.aliases == (
        Alias("PETROVSKII, Ivan Sergeevich"),
        Alias("Vanya the Builder", Strength.WEAK),
        Alias("Иван Сергеевич ПЕТРОВСКИЙ"),
    )
    ship = snapshot.records["RUS9103"]
    assert (ship.kind, ship.name) == (EntityKind.VESSEL, "NORTHERN LANTERN")
    assert Alias("خالد يوسف الراشدي") in snapshot.records["SYR9104"].aliases
    assert Alias("ООО «СТРОЙТЕХ-ИНВЕСТ»") in snapshot.records["RUS9102"].aliases


def test_un_list_reads_individuals_entities_and_alias_quality() -> None:
    snapshot = parse_un_consolidated(read("un-consolidated-v1.xml"))
    assert snapshot.published == datetime(2026, 6, 30, 21, 0, 4, 512000, tzinfo=UTC)
    person = snapshot.records["8800101"]
    assert (person.name, person.kind) == ("KHALID YUSUF AL-RASHIDI", EntityKind.PERSON)
    assert person.programmes == ("Al-Qaida",)
    assert person.listed == date(2011, 9, 23)
    assert Alias("Abu Yusuf", Strength.WEAK) in person.aliases
    assert Alias("خالد يوسف الراشدي") in person.aliases
    entity = snapshot.records["8800201"]
    assert entity.kind is EntityKind.ORGANIZATION
    assert Alias("Al-Hilal Marine Services", previous=True) in entity.aliases
    assert Alias("조선대양별해운회사") in snapshot.records["8800202"].aliases


def test_eu_fsf_reads_strong_flags_programmes_and_subject_type() -> None:
    snapshot = parse_eu_fsf(read("eu-fsf-v1.xml"))
    assert snapshot.published == datetime(2026, 6, 30, 16, 2, 11, 385000, tzinfo=UTC)
    person = snapshot.records["990101"]
    assert person.name == "Ivan Sergeyevich Petrovsky"
    assert person.aliases == (
        Alias("Иван Сергеевич Петровский"),
        Alias("Vanya the Builder", Strength.WEAK),
    )
    assert snapshot.records["990102"].kind is EntityKind.ORGANIZATION
    assert snapshot.records["990104"].programmes == ("SYR",)
    assert snapshot.records["990104"].listed == date(2011, 12, 1)


def test_parsers_take_file_objects() -> None:
    with (DATA / "eu-fsf-v1.xml").open("rb") as handle:
        assert len(parse_eu_fsf(handle).records) == 6


def test_ofac_sls_delta_gives_changes_directly() -> None:
    delta = parse_ofac_sls_delta(read("ofac-sls-delta.xml"))
    assert delta.published == datetime(2026, 7, 1, 4, tzinfo=UTC)
    assert [(c.action, c.id) for c in delta.changes] == [
        (Action.ADDED, "90107"),
        (Action.AMENDED, "90101"),
        (Action.REMOVED, "90105"),
    ]
    added = delta.changes[0].designation
    assert added is not None
    assert added.name == "VOLKOVA, Marina Olegovna"
    assert added.aliases == (Alias("ВОЛКОВА, Марина Олеговна"),)
    assert added.listed == date(2026, 7, 1)
    amended = delta.changes[1].designation
    assert amended is not None
    assert amended.programmes == ("RUSSIA-EO14024", "UKRAINE-EO13660")
    assert amended.aliases == (Alias("THE FOREMAN", Strength.WEAK),)


def test_opensanctions_delta_ops() -> None:
    delta = parse_opensanctions_delta(read("opensanctions-entities.delta.json"))
    assert [(c.action, c.id) for c in delta.changes] == [
        (Action.ADDED, "NK-a1b2c3d4e5f6"),
        (Action.AMENDED, "NK-9f8e7d6c5b4a"),
        (Action.REMOVED, "NK-0011aabbccdd"),
        (Action.ADDED, "NK-vessel-9000002"),
    ]
    assert delta.changes[2].designation is None  # a DEL line carries the id only
    person = delta.changes[1].designation
    assert person is not None
    assert person.kind is EntityKind.PERSON
    assert Alias("The Foreman", Strength.WEAK) in person.aliases
    assert Alias("Ivan Petrov", previous=True) in person.aliases
    assert Alias("Иван Сергеевич Петровский") in person.aliases
    assert person.programmes == ("us_ofac_sdn", "eu_fsf", "gb_fcdo_sanctions")
    vessel = delta.changes[3].designation
    assert vessel is not None and vessel.kind is EntityKind.VESSEL


def test_opensanctions_hash_ignores_bookkeeping_dates() -> None:
    line = json.loads(read("opensanctions-entities.delta.json").splitlines()[0])
    later = json.loads(json.dumps(line))
    later["entity"]["last_seen"] = "2026-07-09T06:00:00"
    (a,) = parse_opensanctions_delta(json.dumps(line).encode()).changes
    (b,) = parse_opensanctions_delta(json.dumps(later).encode()).changes
    assert a.designation is not None and b.designation is not None
    assert a.designation.content_hash == b.designation.content_hash


# --- diffing -------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "parse", "added", "amended", "removed"), VERSIONS)
def test_diff_between_versions(
    name: str, parse: Parser, added: str, amended: tuple[str, ...], removed: str
) -> None:
    result = diff(parse(read(f"{name}-v1.xml")), parse(read(f"{name}-v2.xml")))
    assert not result.baseline
    assert [c.id for c in result.added] == [added]
    assert [(c.id, *c.changed) for c in result.amended] == [amended]
    assert [c.id for c in result.removed] == [removed]
    assert {c.action for c in result.changes} == set(Action)
    (change,) = result.amended
    assert change.previous is not None and change.designation is not None
    assert change.previous.content_hash != change.designation.content_hash
    assert result.removed[0].designation is not None  # removals keep the last listed entry


@pytest.mark.parametrize(("name", "parse", "added", "amended", "removed"), VERSIONS)
def test_first_snapshot_is_a_quiet_baseline(
    name: str, parse: Parser, added: str, amended: tuple[str, ...], removed: str
) -> None:
    result = diff(None, parse(read(f"{name}-v1.xml")))
    assert result.baseline
    assert result.changes == ()


@pytest.mark.parametrize(("name", "parse", "added", "amended", "removed"), VERSIONS)
def test_same_file_diffs_to_nothing(
    name: str, parse: Parser, added: str, amended: tuple[str, ...], removed: str
) -> None:
    assert diff(parse(read(f"{name}-v1.xml")), parse(read(f"{name}-v1.xml"))).changes == ()


def test_namespace_and_whitespace_changes_are_not_amendments() -> None:
    body = read("ofac-sdn-v1.xml")
    reshaped = body.replace(
        b'xmlns="https://sanctionslistservice.ofac.treas.gov/api/PublicationPreview/exports/XML"',
        b'xmlns="http://tempuri.org/sdnList.xsd"',
    ).replace(b"\n    ", b"\n\t")
    assert diff(parse_ofac_sdn(body), parse_ofac_sdn(reshaped)).changes == ()


def test_detail_only_change_is_an_amendment_of_details() -> None:
    body = read("ofac-sdn-v1.xml")
    moved = body.replace(b"<city>Sharjah</city>", b"<city>Dubai</city>")
    result = diff(parse_ofac_sdn(body), parse_ofac_sdn(moved))
    assert [(c.id, c.changed) for c in result.amended] == [("90106", ("details",))]


# --- guards --------------------------------------------------------------------------------


def test_mass_removal_is_refused() -> None:
    previous = parse_uk_sanctions_list(read("uk-sanctions-list-v1.xml"))
    kept = dict(list(previous.records.items())[:4])
    current = dataclasses.replace(previous, records=kept, entry_count=4)
    with pytest.raises(ListDiffRefused, match=r"2 of 6 entries would be removed \(more than 20%\)"):
        diff(previous, current)
    assert len(diff(previous, current, max_removed_share=0.5).removed) == 2


def test_declared_count_mismatch_is_refused() -> None:
    previous = parse_ofac_sdn(read("ofac-sdn-v1.xml"))
    current = parse_ofac_sdn(read("ofac-sdn-miscount.xml"))
    with pytest.raises(ListDiffRefused, match="declares 7 records but 6 were read"):
        diff(previous, current)
    with pytest.raises(ListDiffRefused):
        diff(None, current)


def test_truncated_xml_names_the_list_and_the_open_record() -> None:
    with pytest.raises(ListFormatError) as caught:
        parse_uk_sanctions_list(read("uk-sanctions-list-truncated.xml"))
    assert caught.value.feed == "uk-fcdo"
    assert str(caught.value.message) == (
        "UK Sanctions List: the file ends inside <Designation> (opened at line 96) "
        "at line 109 (truncated download?)"
    )


def test_truncated_through_a_file_object_at_a_record_boundary() -> None:
    body = read("ofac-sdn-v1.xml")
    cut = body[: body.index(b"  <sdnEntry>\n    <uid>90104")]
    with pytest.raises(ListFormatError, match=r"ends inside <sdnList> .*truncated download"):
        parse_ofac_sdn(cut)


def test_malformed_xml_is_not_called_truncated() -> None:
    body = read("un-consolidated-v1.xml").replace(b"</SECOND_NAME>", b"</SECOND>", 1)
    with pytest.raises(ListFormatError, match=r"UN consolidated list: malformed XML at line 8"):
        parse_un_consolidated(body)


@pytest.mark.parametrize(
    ("parse", "name", "message"),
    [
        (parse_eu_fsf, "eu-fsf-error-page.html", "expected a <export> document, found <html>"),
        (parse_uk_sanctions_list, "not-a-list.xml", "expected a <Designations> document"),
        (parse_uk_sanctions_list, "eu-fsf-v1.xml", r"found <export> \(wrong file\?\)"),
        (parse_un_consolidated, "opensanctions-entities.delta.json", "the file is not XML"),
        (parse_opensanctions_delta, "ofac-sdn-v1.xml", "the file is not JSON lines"),
        (parse_ofac_sls_delta, "ofac-sdn-v1.xml", "expected a <sanctionsData> document"),
    ],
)
def test_wrong_format_is_refused(parse: Callable[[bytes], object], name: str, message: str) -> None:
    with pytest.raises(ListFormatError, match=message):
        parse(read(name))


def test_empty_and_recordless_files_are_errors() -> None:
    with pytest.raises(ListFormatError, match="the file is empty"):
        parse_eu_fsf(b"")
    with pytest.raises(ListFormatError, match="holds no <sanctionEntity> records"):
        parse_eu_fsf(b'<export xmlns="http://eu.europa.ec/fpi/fsd/export"/>')


def test_record_without_id_is_an_error() -> None:
    body = read("ofac-sdn-v1.xml").replace(b"<uid>90103</uid>", b"", 1)
    with pytest.raises(ListFormatError, match="<sdnEntry> at line 74 has no <uid>"):
        parse_ofac_sdn(body)


def test_bad_header_date_is_an_error() -> None:
    body = read("ofac-sdn-v1.xml").replace(b"06/30/2026", b"2026-06-30")
    with pytest.raises(ListFormatError, match="Publish_Date '2026-06-30' is not MM/DD/YYYY"):
        parse_ofac_sdn(body)


def test_billion_laughs_is_refused() -> None:
    # Refused at the DOCTYPE, before any expansion: a parser that expanded would hang here.
    with pytest.raises(ListFormatError, match="declares XML entities"):
        parse_ofac_sdn(read("billion-laughs.xml"))


def test_external_entity_is_refused() -> None:
    body = (
        b'<?xml version="1.0"?><!DOCTYPE export [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b"<export><sanctionEntity logicalId='1'><nameAlias wholeName='&x;'/></sanctionEntity>"
        b"</export>"
    )
    with pytest.raises(ListFormatError, match="declares XML entities"):
        parse_eu_fsf(body)


def test_opensanctions_truncated_and_bad_lines() -> None:
    with pytest.raises(ListFormatError, match="ends inside a JSON record at line 2"):
        parse_opensanctions_delta(read("opensanctions-truncated.delta.json"))
    with pytest.raises(ListFormatError, match="line 2 has an unknown op 'UPSERT'"):
        parse_opensanctions_delta(b'{"op": "DEL", "entity": {"id": "a"}}\n{"op": "UPSERT"}\n')
    with pytest.raises(ListFormatError, match="line 1 has no entity id"):
        parse_opensanctions_delta(b'{"op": "ADD", "entity": {}}\n')
    with pytest.raises(ListFormatError, match=r"line 2 is not JSON"):
        parse_opensanctions_delta(b'{"op": "DEL", "entity": {"id": "a"}}\n{oops}\n\n')


# --- streaming -----------------------------------------------------------------------------

_MEASURE = """
import sys, tracemalloc
from alerts.sources.lists import parse_ofac_sdn
def status_kib(field):
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith(field))
before = status_kib("VmRSS:")
with open(sys.argv[1], "rb") as handle:
    snapshot = parse_ofac_sdn(handle)
# VmHWM, not ru_maxrss: Linux keeps ru_maxrss across exec, so a child of a large pytest
# process would report its parent's size. RSS first: tracemalloc itself costs RSS.
after = status_kib("VmHWM:")
del snapshot
tracemalloc.start()
with open(sys.argv[1], "rb") as handle:
    snapshot = parse_ofac_sdn(handle)
peak = tracemalloc.get_traced_memory()[1]
print(len(snapshot.records), peak, (after - before) * 1024)
"""


def _write_big_sdn(path: Path, entries: int) -> None:
    entry = (
        "  <sdnEntry>\n    <uid>{uid}</uid>\n    <firstName>Ivan{uid}</firstName>\n"
        "    <lastName>PETROVSKY{uid}</lastName>\n    <sdnType>Individual</sdnType>\n"
        "    <programList><program>RUSSIA-EO14024</program></programList>\n"
        "    <akaList><aka><uid>1{uid}</uid><type>a.k.a.</type><category>weak</category>"
        "<lastName>ПЕТРОВСКИЙ {uid}</lastName></aka></akaList>\n"
        "    <remarks>{filler}</remarks>\n  </sdnEntry>\n"
    )
    filler = "Fictitious remark to give each synthetic entry a realistic size. " * 10
    with path.open("w", encoding="utf-8") as out:
        out.write('<?xml version="1.0"?>\n<sdnList xmlns="urn:test:sdn">\n')
        out.write("  <publshInformation><Publish_Date>07/01/2026</Publish_Date>")
        out.write(f"<Record_Count>{entries}</Record_Count></publshInformation>\n")
        for uid in range(entries):
            out.write(entry.format(uid=uid, filler=filler))
        out.write("</sdnList>\n")


def test_streaming_keeps_memory_flat(tmp_path: Path) -> None:
    path = tmp_path / "sdn.xml"
    _write_big_sdn(path, 20_000)
    size = path.stat().st_size
    assert size > 19_000_000
    # A child process, so RSS counts libxml2's own memory too and no earlier test skews it.
    run = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(path)],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).parent.parent,
    )
    records, traced_peak, rss_growth = (int(v) for v in run.stdout.split())
    print(
        f"parsed {size / 1e6:.1f} MB, {records} records: tracemalloc peak "
        f"{traced_peak / 1e6:.1f} MB, RSS growth {rss_growth / 1e6:.1f} MB"
    )
    assert records == 20_000
    assert traced_peak < 100_000_000
    assert rss_growth < 100_000_000
