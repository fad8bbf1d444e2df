"""Generic webhook: body schema v2, Standard Webhooks signature, status handling, real server."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import socket
from pathlib import Path
from typing import Any

import pytest

from alerts.delivery.webhook import SCHEMA, WebhookChannel, webhook_body
from alerts.errors import DeliveryError, PermanentDeliveryError
from tests.support.webhook_receiver import WebhookReceiver
from tests.test_digest import sample_digest, story_digest

SECRET = "correct horse battery staple"
SCHEMA_DOC = Path(__file__).resolve().parents[1] / "docs" / "webhook-schema.md"


def test_body_schema_v2() -> None:
    body = webhook_body(sample_digest(2, 1))
    assert body["schema"] == SCHEMA == "sanctions-alerts.digest/v2"
    assert body["idempotency_key"] == "dg-7f3a"
    assert body["subscription"] == "compliance-team"
    assert body["created_at"] == "2026-11-29T08:15:00Z"
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


def doc_example() -> dict[str, Any]:
    found = re.search(r"## Body\n\n```json\n(.*?)```", SCHEMA_DOC.read_text(), re.S)
    assert found, "docs/webhook-schema.md has no JSON body example"
    example: dict[str, Any] = json.loads(found.group(1))
    return example


def test_schema_doc_matches_the_body() -> None:
    doc = SCHEMA_DOC.read_text()
    assert doc.startswith(f"# Webhook body and headers (schema `{SCHEMA}`)")
    example = doc_example()
    body = webhook_body(story_digest(3))
    assert example["schema"] == SCHEMA
    assert set(example) == set(body)
    for story in example["stories"]:
        assert set(story) == set(body["stories"][0])
        assert all(set(m) == set(body["stories"][0]["matches"][0]) for m in story["matches"])
        assert all(set(x) == set(body["stories"][1]["sources"][0]) for x in story["sources"])
    assert any(s["update"] for s in example["stories"])
    # Every field of the body is in the field table.
    documented = set(re.findall(r"^\| `([^`]+)` \|", doc, re.M))
    fields = {f"{key}" for key in body}
    fields |= {f"stories[].{key}" for key in body["stories"][0]}
    fields |= {f"matches[].{key}" for key in body["stories"][0]["matches"][0]}
    fields |= {f"sources[].{key}" for key in body["stories"][1]["sources"][0]}
    assert fields <= documented, sorted(fields - documented)


async def test_signed_post_verifies_independently(webhook_receiver: WebhookReceiver) -> None:
    ch = WebhookChannel(
        "hook", webhook_receiver.url("/in"), secret=SECRET, clock=lambda: 1_790_000_000.7
    )
    d = sample_digest(title="Ünïcode “quotes”")
    await ch.send(d)
    await ch.aclose()
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
    with pytest.raises(ValueError, match="base64"):
        WebhookChannel("hook", "http://127.0.0.1:1/", secret="whsec_not base64!")


async def test_no_secret_no_signature(webhook_receiver: WebhookReceiver) -> None:
    ch = WebhookChannel("hook", webhook_receiver.url("/in"))
    await ch.send(sample_digest())
    await ch.aclose()
    [req] = webhook_receiver.wait_for(1)
    assert "webhook-signature" not in req.headers
    assert req.headers["webhook-id"] == "dg-7f3a"


async def test_500_then_200_resends_same_body(webhook_receiver: WebhookReceiver) -> None:
    webhook_receiver.respond("/in", [500, 200])
    ch = WebhookChannel("hook", webhook_receiver.url("/in"), secret=SECRET)
    d = sample_digest()
    with pytest.raises(DeliveryError, match="HTTP 500") as info:
        await ch.send(d)
    assert type(info.value) is DeliveryError
    await ch.send(d)
    await ch.aclose()
    a, b = webhook_receiver.wait_for(2)
    assert a.body == b.body and a.headers["webhook-id"] == b.headers["webhook-id"]


async def test_429_retry_after(webhook_receiver: WebhookReceiver) -> None:
    webhook_receiver.respond("/in", [429], retry_after="120")
    ch = WebhookChannel("hook", webhook_receiver.url("/in"))
    with pytest.raises(DeliveryError) as info:
        await ch.send(sample_digest())
    await ch.aclose()
    assert type(info.value) is DeliveryError
    assert info.value.retry_after == 120.0


@pytest.mark.parametrize("status", [400, 401, 404, 410, 301])
async def test_other_statuses_are_permanent(webhook_receiver: WebhookReceiver, status: int) -> None:
    webhook_receiver.respond("/in", [status])
    ch = WebhookChannel("hook", webhook_receiver.url("/in"))
    with pytest.raises(PermanentDeliveryError, match=f"HTTP {status}"):
        await ch.send(sample_digest())
    await ch.aclose()


async def test_timeout_is_retryable(webhook_receiver: WebhookReceiver) -> None:
    webhook_receiver.respond("/slow", delay=5.0)
    ch = WebhookChannel("hook", webhook_receiver.url("/slow"), timeout=0.3)
    with pytest.raises(DeliveryError, match="timed out") as info:
        await ch.send(sample_digest())
    await ch.aclose()
    assert type(info.value) is DeliveryError


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
