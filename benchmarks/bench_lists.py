"""List diffing speed and memory: `python benchmarks/bench_lists.py [--records N]`.

Generates two OFAC SDN XML files in the legacy shape (N entries with aliases, addresses,
ids and dates of birth, about 1.5 KB each, so 20,000 entries make a file of the real
SDN's size), the second with 1% of entries added, 1% amended and 0.5% removed. Then:
parse each (streamed from a file on disk), store the first as a snapshot, load it back,
diff, and turn the changes into items. Prints each step's time, the snapshot's stored size
and the process's peak RSS, ready for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from alerts.sources.lists import Snapshot, diff, parse_ofac_sdn
from alerts.sources.lists.items import change_items
from alerts.sources.lists.snapshots import dump_snapshot, load_snapshot

HEAD = (
    '<?xml version="1.0" standalone="yes"?>\n<sdnList xmlns="https://sanctionslistservice.'
    'ofac.treas.gov/api/PublicationPreview/exports/XML">\n<publshInformation><Publish_Date>'
    "{date}</Publish_Date><Record_Count>{count}</Record_Count></publshInformation>\n"
)


def entry(uid: int, version: int) -> str:
    aliases = "".join(
        f"<aka><uid>{uid * 10 + k}</uid><type>a.k.a.</type><category>"
        f"{'weak' if k == 3 else 'strong'}</category><lastName>ALIAS{k} {uid}</lastName>"
        f"<firstName>Ivan{'ovich' * version}</firstName></aka>"
        for k in range(4)
    )
    return (
        f"<sdnEntry><uid>{uid}</uid><firstName>Ivan Sergeyevich</firstName>"
        f"<lastName>TESTOV {uid}</lastName><sdnType>Individual</sdnType>"
        f"<programList><program>RUSSIA-EO14024</program><program>UKRAINE-EO13660</program>"
        f"</programList><akaList>{aliases}</akaList>"
        f"<idList><id><uid>{uid}1</uid><idType>Passport</idType><idNumber>{uid:09d}</idNumber>"
        f"<idCountry>Russia</idCountry></id></idList>"
        f"<addressList><address><uid>{uid}2</uid><address1>{uid} Lenina Street</address1>"
        f"<city>Moscow</city><country>Russia</country></address></addressList>"
        f"<dateOfBirthList><dateOfBirthItem><uid>{uid}3</uid><dateOfBirth>14 Mar 1968"
        f"</dateOfBirth><mainEntry>true</mainEntry></dateOfBirthItem></dateOfBirthList>"
        f"</sdnEntry>\n"
    )


def write(path: Path, uids: list[int], amended: set[int]) -> None:
    with path.open("w", encoding="utf-8") as out:
        out.write(HEAD.format(date="07/01/2026", count=len(uids)))
        for uid in uids:
            out.write(entry(uid, 1 if uid in amended else 0))
        out.write("</sdnList>\n")


def timed(label: str, fn, *args, **kwargs):  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    result = fn(*args, **kwargs)
    print(f"{label}: {time.perf_counter() - started:.2f} s")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=20_000)
    args = parser.parse_args()
    n = args.records
    old_ids = list(range(1, n + 1))
    removed = set(old_ids[::200])  # 0.5%
    amended = set(old_ids[1::100])  # 1%
    new_ids = [u for u in old_ids if u not in removed] + list(range(n + 1, n + 1 + n // 100))
    with tempfile.TemporaryDirectory() as tmp:
        v1, v2 = Path(tmp) / "sdn-v1.xml", Path(tmp) / "sdn-v2.xml"
        write(v1, old_ids, set())
        write(v2, new_ids, amended)
        print(
            f"records: {n:,}; file sizes {v1.stat().st_size / 1e6:.1f} / "
            f"{v2.stat().st_size / 1e6:.1f} MB"
        )
        with v1.open("rb") as f:
            old: Snapshot = timed("parse v1 (streamed)", parse_ofac_sdn, f)
        blob = timed("dump snapshot", dump_snapshot, old)
        print(f"stored snapshot: {len(blob) / 1e6:.2f} MB (gzip'd JSON)")
        stored = timed("load snapshot", load_snapshot, blob)
        with v2.open("rb") as f:
            new = timed("parse v2 (streamed)", parse_ofac_sdn, f)
        result = timed("diff", diff, stored, new)
        print(f"changes: +{len(result.added)} ~{len(result.amended)} -{len(result.removed)}")
        items = timed(
            "change items", change_items, "sdn", "OFAC SDN", result.changes, published=None
        )
        print(f"items: {len(items)}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS: {peak:.0f} MB")


if __name__ == "__main__":
    main()
