"""Generic webhook: body schema v2 (and its JSON Schema), Standard Webhooks signatures and
rotation, status handling and the Receipt, against a real local server."""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import re
import socket
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from alerts.delivery.base import RESPONSE_EXCERPT, Receipt
from alerts.delivery.labels import label_texts
from alerts.delivery.webhook import SCHEMA, WebhookChannel, encode_body, webhook_body
from alerts.domain import Digest, DigestSection, Importance, ItemFacets
from alerts.errors import DeliveryError, PermanentDeliveryError
from tests.support.webhook_receiver import WebhookReceiver
from tests.test_digest import (
    HOSTILE_FACETS,
    LISTING_FACETS,
    NOW,
    facet_digest,
    sample_digest,
    story_digest,
    with_facets,
)

SECRET = "correct horse battery staple"
WHSEC = "whsec_" + base64.b64encode(b"\x00\x01binary-key\xff" * 2).decode()
OLD_WHSEC = "whsec_" + base64.b64encode(b"the secret being retired").decode()
DOCS = Path(__file__).resolve().parents[1] / "docs"
GUIDE = DOCS / "webhooks.md"
SCHEMA_FILE = DOCS / "webhook.schema.json"


def heartbeat() -> Digest:
    return Digest("compliance-team", "dg-empty", NOW, (), timezone="Europe/London")


def with_importance(d: Digest, *levels: Importance) -> Digest:
    """`d` with its stories rated `levels` in order (the rest normal)."""
    it = iter(levels)
    sections = tuple(
        replace(s, entries=tuple(replace(e, importance=next(it, e.importance)) for e in s.entries))
        for s in d.sections
    )
    return replace(d, sections=sections)


def digests() -> dict[str, Digest]:
    """Digests that together use every field and every shape of the body."""
    story = story_digest(14)
    no_link = sample_digest(1, 0)
    entry = no_link.sections[0].entries[0]
    bare = replace(entry, link=None, published=None, feed_title="", also_in=())
    return {
        "normal": sample_digest(2, 1),
        "stories-and-update-lines": story,
        "heartbeat": heartbeat(),
        "urgent-cut-with-more-url": replace(
            with_importance(story, Importance.URGENT, Importance.HIGH),
            urgent=True,
            max_stories=2,
            more_url="https://alerts.example.org/digests/dg-story",
        ),
        "no-link-no-time": replace(no_link, sections=(DigestSection("russia", (bare,)),)),
        "unicode": sample_digest(title="Ünïcode “quotes” 😀 <b>&amp;</b>"),
        "facets-and-list-changes": facet_digest(),
        "hostile-facets": with_facets(facet_digest(HOSTILE_FACETS), HOSTILE_FACETS),
        "update-lines-with-facets": with_facets(story, *[LISTING_FACETS] * story.entry_count),
    }


def load_schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(SCHEMA_FILE.read_text())
    return schema


def closed(schema: Any) -> Any:
    """`schema` with unknown properties forbidden on every object: a body field that is
    not described in the schema then fails validation."""
    schema = copy.deepcopy(schema)

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "object" and "properties" in node:
                node["additionalProperties"] = False
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)
    return schema


def doc_examples() -> list[dict[str, Any]]:
    blocks = re.findall(r"```json\n(.*?)```", GUIDE.read_text(), re.S)
    assert len(blocks) >= 2, "docs/webhooks.md lacks the body examples"
    return [json.loads(b) for b in blocks]


def doc_python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", GUIDE.read_text(), re.S)


def verify_snippet() -> Any:
    """The stdlib `verify` function exactly as the docs print it."""
    namespace: dict[str, Any] = {}
    exec(doc_python_blocks()[0], namespace)  # our own docs
    return namespace["verify"]


# -- body ------------------------------------------------------------------------------


def test_body_schema_v2() -> None:
    body = webhook_body(sample_digest(2, 1))
    assert body["schema"] == SCHEMA == "sanctions-alerts.digest/v2"
    assert body["idempotency_key"] == "dg-7f3a"
    assert body["subscription"] == "compliance-team"
    assert body["created_at"] == "2026-11-29T08:15:00Z"
    assert (body["urgent"], body["heartbeat"], body["more_url"]) == (False, False, None)
    assert [s["watchlist"] for s in body["stories"]] == ["russia", "russia", "iran"]
    first = body["stories"][0]
    assert first == {
        "title": "Treasury designates Rosneft network 1",
        "link": "https://example.org/news/1",
        "feed": "ofac",
        "feed_title": "OFAC Recent Actions",
        "published": "2026-11-29T07:15:00Z",
        "also_in": ["eu-council"],
        "watchlist": "russia",
        "importance": "normal",
        "matches": [
            {
                "watchlist": "russia",
                "term": "Rosneft",
                "field": "title",
                "snippet": "Treasury sanctions Rosneft subsidiaries in Dubai",
                "kind": "term",
                "matched": "",
                "score": 1.0,
                "highlight": None,
            }
        ],
        # v2: a digest entry without a story (one item) has no sources and is new.
        "story_key": "",
        "sources": [],
        "update": False,
        "edited": False,
        "new_terms": [],
        # Issue 6 (additive): a story that was not classified has neither.
        "facets": {},
        "labels": [],
    }
    json.dumps(body)  # JSON-safe


def test_body_carries_stories_sources_and_update_lines() -> None:
    body = webhook_body(story_digest(3))
    stories = {s["story_key"]: s for s in body["stories"]}
    assert [s["story_key"] for s in body["stories"]] == [
        "story-2",
        "story-1",
        "story-4",
        "story-3",
        "story-5",
    ]
    first = stories["story-1"]
    assert (first["title"], first["feed"], first["update"]) == (
        "Treasury designates Rosneft network",
        "globalwire",
        False,
    )
    assert first["also_in"] == ["OFAC Recent Actions", "Outlet 1", "Outlet 2"]
    assert first["sources"][0] == {
        "feed": "ofac",
        "feed_title": "OFAC Recent Actions",
        "title": "Russia-related Designations",
        "link": "https://ofac.example/news/10",
        "published": "2026-11-29T04:15:00Z",
        "official": True,
    }
    assert [x["official"] for x in first["sources"]] == [True, False, False, False]
    assert [x["feed"] for x in first["sources"][1:]] == ["globalwire", "outlet1", "outlet2"]
    grown, edited = stories["story-3"], stories["story-4"]
    assert (grown["update"], grown["edited"], grown["new_terms"]) == (True, False, ["Sovcomflot"])
    assert grown["also_in"] == ["Council of the EU"]
    assert (edited["update"], edited["edited"], edited["new_terms"]) == (True, True, [])
    assert stories["story-5"]["sources"] == []


def test_body_carries_facets_labels_and_facet_matches() -> None:
    body = webhook_body(facet_digest())
    news, listing, plain = body["stories"]
    assert news["facets"] == {
        "sanctions_action": ["true"],
        "action": ["package"],
        "issuer": ["EU"],
        "target": ["RU", "BY"],
        "measure": ["asset_freeze", "travel_ban"],
    }
    assert news["labels"] == [
        "EU",
        "Sanctions package",
        "Russia",
        "Belarus",
        "Asset freeze",
        "Travel ban",
    ]
    assert news["matches"][1] == {
        "watchlist": "russia",
        "term": "issuer:EU",
        "field": "facet",
        "snippet": "issuer:eu from Council of the EU (official source)",
        "kind": "query",
        "matched": "issuer:EU",
        "score": 1.0,
        "highlight": None,
    }
    assert listing["facets"]["designation"] == ["added"]
    assert listing["labels"][:2] == ["US", "Added to us-ofac-sdn"]
    assert (listing["matches"][0]["field"], listing["matches"][0]["matched"]) == (
        "designation",
        "ROTENBERG, Arkadii",
    )
    assert (plain["facets"], plain["labels"]) == ({}, [])
    # Facet reasons are ours to explain, not part of the body.
    assert "source:official" not in json.dumps(body)
    # JSON carries feed values as they are (documented untrusted); nothing is unescaped
    # by the encoder either.
    hostile = webhook_body(facet_digest(HOSTILE_FACETS))["stories"][0]
    assert hostile["facets"]["issuer"] == ["<!channel>"]
    assert hostile["labels"][:2] == ["<!channel>", "<script>alert(1)</script>"]
    assert json.loads(encode_body(webhook_body(facet_digest(HOSTILE_FACETS))))["stories"][0] == (
        hostile
    )


def test_body_sends_every_story_with_urgency_importance_and_more_url() -> None:
    d = digests()["urgent-cut-with-more-url"]
    assert d.shown()[1] == 3  # chat channels would show 2 and "and 3 more"
    body = webhook_body(d)
    assert len(body["stories"]) == d.entry_count == 5
    assert body["urgent"] is True and body["heartbeat"] is False
    assert body["more_url"] == "https://alerts.example.org/digests/dg-story"
    assert [s["importance"] for s in body["stories"]] == ["urgent", "high", *["normal"] * 3]


def test_heartbeat_body() -> None:
    body = webhook_body(heartbeat())
    assert body["heartbeat"] is True and body["stories"] == []
    assert body["idempotency_key"] == "dg-empty"


# -- JSON Schema -----------------------------------------------------------------------


def test_schema_is_valid_2020_12() -> None:
    schema = load_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["properties"]["schema"] == {"const": SCHEMA}
    Draft202012Validator.check_schema(schema)


@pytest.mark.parametrize("name", list(digests()))
def test_every_body_validates_against_the_schema(name: str) -> None:
    body = json.loads(json.dumps(webhook_body(digests()[name])))
    Draft202012Validator(load_schema()).validate(body)
    # Closed: every field the body has is described by the schema.
    Draft202012Validator(closed(load_schema())).validate(body)


def test_schema_rejects_what_we_never_send() -> None:
    validator = Draft202012Validator(load_schema())
    good = webhook_body(sample_digest())
    assert validator.is_valid(good)
    bad: list[dict[str, Any]] = []
    for change in (
        lambda b: b.pop("idempotency_key"),
        lambda b: b.update(schema="sanctions-alerts.digest/v3"),
        lambda b: b.update(created_at="2026-11-29T08:15:00+01:00"),
        lambda b: b.update(heartbeat=True),  # a heartbeat has no stories
        lambda b: b["stories"][0].update(importance="critical"),
        lambda b: b["stories"][0]["matches"][0].update(highlight=[1]),
        lambda b: b["stories"][0]["matches"][0].update(field="body"),
        lambda b: b["stories"][0].update(facets={"issuer": "EU"}),  # values are lists
        lambda b: b["stories"][0].update(facets={"issuer": [1]}),
        lambda b: b["stories"][0].update(labels=["x"] * 9),  # capped at 8
        lambda b: b["stories"][0].update(labels=[""]),
        lambda b: b["stories"][0].pop("labels"),
    ):
        body = copy.deepcopy(good)
        change(body)
        bad.append(body)
    bad.append({**webhook_body(heartbeat()), "heartbeat": False})
    assert [validator.is_valid(b) for b in bad] == [False] * len(bad)
    # Unknown fields are allowed: receivers must ignore them (the versioning policy).
    assert validator.is_valid({**good, "added_later": 1})
    # Facet names are open: a facet added later is valid (and not a schema change).
    later = copy.deepcopy(good)
    later["stories"][0]["facets"] = {"added_later": ["x"]}
    assert Draft202012Validator(closed(load_schema())).is_valid(later)


def test_doc_examples_validate_and_have_the_body_fields() -> None:
    examples = doc_examples()
    validator = Draft202012Validator(closed(load_schema()))
    for example in examples:
        validator.validate(example)
    body = webhook_body(story_digest(3))
    normal, beat = examples[0], examples[1]
    assert set(normal) == set(body)
    assert beat["heartbeat"] is True and beat["stories"] == []
    story_keys = set(body["stories"][0])
    for story in normal["stories"]:
        assert set(story) == story_keys
        assert all(set(m) == set(body["stories"][0]["matches"][0]) for m in story["matches"])
        assert all(set(x) == set(body["stories"][1]["sources"][0]) for x in story["sources"])
    assert any(s["update"] for s in normal["stories"])


def test_doc_examples_label_their_facets_as_we_do() -> None:
    for story in doc_examples()[0]["stories"]:
        assert story["labels"] == label_texts(ItemFacets(story["facets"]))


def test_doc_names_the_schema_and_documents_every_field() -> None:
    doc = GUIDE.read_text()
    assert doc.startswith(f"# Webhooks: body, headers and signatures (schema `{SCHEMA}`)")
    assert not (DOCS / "webhook-schema.md").exists()
    documented = set(re.findall(r"^\| `([^`]+)` \|", doc, re.M))
    body = webhook_body(story_digest(3))
    fields = set(body)
    fields |= {f"stories[].{key}" for key in body["stories"][0]}
    fields |= {f"matches[].{key}" for key in body["stories"][0]["matches"][0]}
    fields |= {f"sources[].{key}" for key in body["stories"][1]["sources"][0]}
    assert fields <= documented, sorted(fields - documented)
    headers = {"webhook-id", "webhook-timestamp", "webhook-signature", "Idempotency-Key"}
    assert headers <= documented


# -- signatures ------------------------------------------------------------------------


async def test_signed_post_verifies_independently(webhook_receiver: WebhookReceiver) -> None:
    ch = WebhookChannel(
        "hook", webhook_receiver.url("/in"), secret=SECRET, clock=lambda: 1_790_000_000.7
    )
    d = sample_digest(title="Ünïcode “quotes”")
    receipt = await ch.send(d)
    await ch.aclose()
    assert receipt == Receipt(status=200, response="ok", messages=1)
    [req] = webhook_receiver.wait_for(1)
    assert req.path == "/in"
    h = req.headers
    assert h["content-type"] == "application/json"
    assert h["idempotency-key"] == h["webhook-id"] == "dg-7f3a"
    assert h["webhook-timestamp"] == "1790000000"
    signed = f"{h['webhook-id']}.{h['webhook-timestamp']}.".encode() + req.body
    expected = base64.b64encode(hmac.new(SECRET.encode(), signed, hashlib.sha256).digest()).decode()
    assert h["webhook-signature"] == f"v1,{expected}"
    assert req.json == webhook_body(d)
    assert req.json["stories"][0]["title"] == "Ünïcode “quotes”"


async def test_standardwebhooks_library_verifies_our_requests(
    webhook_receiver: WebhookReceiver,
) -> None:
    webhook_receiver.verify("/whsec", WHSEC)
    webhook_receiver.verify("/raw", SECRET.encode())  # the library takes raw keys as bytes
    for path, secret in (("/whsec", WHSEC), ("/raw", SECRET)):
        ch = WebhookChannel("hook", webhook_receiver.url(path), secret=secret)
        assert (await ch.send(sample_digest())).status == 200
        await ch.aclose()
    reqs = webhook_receiver.wait_for(2)
    assert [(r.verified, r.answer) for r in reqs] == [(True, 200), (True, 200)]
    # And directly, with the parsed body back from the library.
    assert Webhook(WHSEC).verify(reqs[0].body, reqs[0].headers) == webhook_body(sample_digest())


async def test_rotation_signs_with_both_secrets(webhook_receiver: WebhookReceiver) -> None:
    """While previous_secret is set, a receiver holding either secret accepts every request."""
    for path, secrets in (("/old", [OLD_WHSEC]), ("/new", [WHSEC]), ("/both", [OLD_WHSEC, WHSEC])):
        webhook_receiver.verify(path, *secrets)
        ch = WebhookChannel("hook", webhook_receiver.url(path), WHSEC, OLD_WHSEC)
        assert (await ch.send(sample_digest())).status == 200
        await ch.aclose()
    reqs = webhook_receiver.wait_for(3)
    assert all(r.verified and r.answer == 200 for r in reqs)
    signatures = reqs[0].headers["webhook-signature"].split(" ")
    assert len(signatures) == 2 and all(s.startswith("v1,") for s in signatures)
    # New first; each entry is the signature of one secret.
    new = Webhook(WHSEC)
    ts = int(reqs[0].headers["webhook-timestamp"])
    body = reqs[0].body.decode()
    when = datetime.fromtimestamp(ts, UTC)
    assert signatures[0] == new.sign("dg-7f3a", when, body)
    assert signatures[1] == Webhook(OLD_WHSEC).sign("dg-7f3a", when, body)


async def test_a_receiver_with_another_secret_refuses(webhook_receiver: WebhookReceiver) -> None:
    other = "whsec_" + base64.b64encode(b"somebody else's key").decode()
    webhook_receiver.verify("/in", other)
    ch = WebhookChannel("hook", webhook_receiver.url("/in"), WHSEC, OLD_WHSEC)
    with pytest.raises(PermanentDeliveryError) as info:
        await ch.send(sample_digest())
    await ch.aclose()
    assert (info.value.status, info.value.response) == (401, "signature does not verify")
    [req] = webhook_receiver.wait_for(1)
    assert req.verified is False
    with pytest.raises(WebhookVerificationError):
        Webhook(other).verify(req.body, req.headers)


async def test_docs_verification_snippet_verifies_our_requests(
    webhook_receiver: WebhookReceiver,
) -> None:
    verify = verify_snippet()
    for path, secret, previous in (
        ("/raw", SECRET, ""),
        ("/whsec", WHSEC, ""),
        ("/rotating", WHSEC, OLD_WHSEC),
    ):
        ch = WebhookChannel("hook", webhook_receiver.url(path), secret, previous)
        await ch.send(sample_digest())
        await ch.aclose()
    raw, whsec, rotating = webhook_receiver.wait_for(3)
    assert verify(SECRET, raw.headers, raw.body)
    assert verify(WHSEC, whsec.headers, whsec.body)
    assert verify(WHSEC, rotating.headers, rotating.body)
    assert verify(OLD_WHSEC, rotating.headers, rotating.body)
    # What it must refuse: another secret, a changed body, an old timestamp, no signature.
    assert not verify(OLD_WHSEC, whsec.headers, whsec.body)
    assert not verify(SECRET, raw.headers, raw.body + b" ")
    stale = {**raw.headers, "webhook-timestamp": str(int(time.time()) - 600)}
    assert not verify(SECRET, stale, raw.body)
    unsigned = {k: v for k, v in raw.headers.items() if k != "webhook-signature"}
    assert not verify(SECRET, unsigned, raw.body)
    # Header names in any case, as frameworks hand them over.
    assert verify(SECRET, {k.title(): v for k, v in raw.headers.items()}, raw.body)


def test_docs_library_snippet_uses_the_real_api() -> None:
    blocks = doc_python_blocks()
    assert len(blocks) == 2
    assert "from standardwebhooks.webhooks import Webhook" in blocks[1]
    assert ".verify(body, headers)" in blocks[1]


async def test_whsec_secret_is_base64_decoded(webhook_receiver: WebhookReceiver) -> None:
    key = b"\x00\x01binary-key\xff"
    secret = "whsec_" + base64.b64encode(key).decode()
    ch = WebhookChannel("hook", webhook_receiver.url("/in"), secret=secret)
    await ch.send(sample_digest())
    await ch.aclose()
    [req] = webhook_receiver.wait_for(1)
    h = req.headers
    signed = f"{h['webhook-id']}.{h['webhook-timestamp']}.".encode() + req.body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    assert h["webhook-signature"] == f"v1,{expected}"


@pytest.mark.parametrize(
    ("secret", "previous", "error"),
    [
        ("whsec_not base64!", "", "base64"),
        (WHSEC, "whsec_not base64!", "base64"),
        ("", OLD_WHSEC, "rotation"),
        ("whsec_", "", "no key"),
    ],
)
def test_bad_secrets_fail_at_configuration(secret: str, previous: str, error: str) -> None:
    with pytest.raises(ValueError, match=error):
        WebhookChannel("hook", "http://127.0.0.1:1/", secret, previous)


async def test_no_secret_no_signature(webhook_receiver: WebhookReceiver) -> None:
    ch = WebhookChannel("hook", webhook_receiver.url("/in"))
    await ch.send(sample_digest())
    await ch.aclose()
    [req] = webhook_receiver.wait_for(1)
    assert "webhook-signature" not in req.headers
    assert req.headers["webhook-id"] == "dg-7f3a"


# -- responses -------------------------------------------------------------------------


async def test_receipt_keeps_status_and_an_excerpt(webhook_receiver: WebhookReceiver) -> None:
    webhook_receiver.respond("/in", [202], body=b"  queued as case 41  ")
    webhook_receiver.respond("/long", [200], body=b"x" * 2000)
    ch = WebhookChannel("hook", webhook_receiver.url("/in"))
    assert await ch.send(sample_digest()) == Receipt(202, "queued as case 41", 1)
    await ch.aclose()
    ch = WebhookChannel("hook", webhook_receiver.url("/long"))
    receipt = await ch.send(sample_digest())
    await ch.aclose()
    assert len(receipt.response) == RESPONSE_EXCERPT and receipt.response.endswith("…")


async def test_500_then_200_resends_same_body_and_id(webhook_receiver: WebhookReceiver) -> None:
    webhook_receiver.fail("/in", 500, body=b"database down")
    webhook_receiver.verify("/in", WHSEC)
    ch = WebhookChannel("hook", webhook_receiver.url("/in"), secret=WHSEC)
    d = sample_digest()
    with pytest.raises(DeliveryError, match="HTTP 500: database down") as info:
        await ch.send(d)
    assert type(info.value) is DeliveryError
    assert (info.value.status, info.value.response, info.value.retry_after) == (
        500,
        "database down",
        None,
    )
    assert (await ch.send(d)).status == 200
    await ch.aclose()
    a, b = webhook_receiver.wait_for(2)
    assert a.body == b.body and a.headers["webhook-id"] == b.headers["webhook-id"]
    assert a.verified and b.verified
    # The receiver sees one repeat of one webhook-id: what it must deduplicate.
    assert webhook_receiver.webhook_ids() == {"dg-7f3a": 2}
    assert webhook_receiver.duplicates() == 1


@pytest.mark.parametrize(
    ("status", "retry_after", "expected"),
    [
        (429, "120", 120.0),
        (429, None, None),
        (503, "7", 7.0),
        (408, None, None),
        (502, None, None),
        (429, "http-date", 90.0),
    ],
)
async def test_retryable_statuses_honour_retry_after(
    webhook_receiver: WebhookReceiver, status: int, retry_after: str | None, expected: float | None
) -> None:
    if retry_after == "http-date":
        retry_after = format_datetime(datetime.now(UTC) + timedelta(seconds=91), usegmt=True)
    webhook_receiver.fail("/in", status, retry_after=retry_after, body=b"slow down")
    ch = WebhookChannel("hook", webhook_receiver.url("/in"))
    with pytest.raises(DeliveryError) as info:
        await ch.send(sample_digest())
    await ch.aclose()
    assert type(info.value) is DeliveryError
    assert info.value.status == status and info.value.response == "slow down"
    if expected is None:
        assert info.value.retry_after is None
    else:
        assert info.value.retry_after == pytest.approx(expected, abs=1.5)


@pytest.mark.parametrize("status", [301, 302, 307, 400, 401, 403, 404, 410, 413, 422])
async def test_other_statuses_are_permanent(webhook_receiver: WebhookReceiver, status: int) -> None:
    webhook_receiver.fail("/in", status, body=b'{"error":"nope"}')
    ch = WebhookChannel("hook", webhook_receiver.url("/in"))
    with pytest.raises(PermanentDeliveryError, match=f"HTTP {status}") as info:
        await ch.send(sample_digest())
    await ch.aclose()
    assert (info.value.status, info.value.response) == (status, '{"error":"nope"}')


async def test_redirects_are_not_followed(webhook_receiver: WebhookReceiver) -> None:
    webhook_receiver.fail("/in", 307)
    # Even a client that follows redirects elsewhere never sends the signed body on.
    async with httpx.AsyncClient(follow_redirects=True) as client:
        ch = WebhookChannel("hook", webhook_receiver.url("/in"), SECRET, client=client)
        with pytest.raises(PermanentDeliveryError, match="HTTP 307"):
            await ch.send(sample_digest())
    assert len(webhook_receiver.requests) == 1


async def test_timeout_is_retryable(webhook_receiver: WebhookReceiver) -> None:
    webhook_receiver.hang("/in")
    ch = WebhookChannel("hook", webhook_receiver.url("/in"), timeout=0.3)
    with pytest.raises(DeliveryError, match=r"timed out after 0\.3s") as info:
        await ch.send(sample_digest())
    assert type(info.value) is DeliveryError
    assert (info.value.status, info.value.response) == (None, "")
    # The next request is answered: the hang was for one request only.
    assert (await ch.send(sample_digest())).status == 200
    await ch.aclose()
    assert [r.answer for r in webhook_receiver.wait_for(2)] == [None, 200]


async def test_connection_reset_is_retryable(webhook_receiver: WebhookReceiver) -> None:
    webhook_receiver.reset("/in", times=2)
    ch = WebhookChannel("hook", webhook_receiver.url("/in"))
    for _ in range(2):
        with pytest.raises(DeliveryError) as info:
            await ch.send(sample_digest())
        assert type(info.value) is DeliveryError and info.value.status is None
    assert (await ch.send(sample_digest())).status == 200
    await ch.aclose()
    assert webhook_receiver.duplicates() == 2


async def test_connection_refused_is_retryable() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    ch = WebhookChannel("hook", f"http://127.0.0.1:{port}/in", timeout=2)
    with pytest.raises(DeliveryError) as info:
        await ch.send(sample_digest())
    await ch.aclose()
    assert type(info.value) is DeliveryError
    assert "ConnectError" in info.value.message


async def test_the_url_never_appears_in_errors(webhook_receiver: WebhookReceiver) -> None:
    path = "/workflows/0a1b2c/triggers/manual/paths/invoke"
    query = "api-version=2016-06-01&sig=S3cr3tSignatureValue"
    url = webhook_receiver.url(f"{path}?{query}")
    echo = f"no flow at {url}; path {path}; sig S3cr3tSignatureValue".encode()
    webhook_receiver.fail(path, 404, body=echo)
    ch = WebhookChannel("hook", url)
    with pytest.raises(PermanentDeliveryError) as info:
        await ch.send(sample_digest())
    await ch.aclose()
    for text in (str(info.value), info.value.response):
        assert "S3cr3t" not in text and "0a1b2c" not in text and "127.0.0.1" not in text
        assert "<redacted>" in text
    # A URL the client cannot even request is a configuration error: permanent, unnamed.
    ch = WebhookChannel("hook", "ftp://hooks.example/T0K3N")
    with pytest.raises(PermanentDeliveryError) as bad:
        await ch.send(sample_digest())
    await ch.aclose()
    assert "T0K3N" not in str(bad.value)
