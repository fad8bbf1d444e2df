"""Slack: Block Kit payloads (escaping, limits, splitting) and the channel against a real server."""

from __future__ import annotations

import json
from datetime import timedelta

import httpx
import pytest

from alerts.delivery.digest import build_digest
from alerts.delivery.slack import SlackChannel, slack_escape, slack_messages, truncate
from alerts.domain import Subscription
from alerts.errors import DeliveryError, PermanentDeliveryError
from tests.support.webhook_receiver import WebhookReceiver
from tests.test_digest import NOW, entry, match, sample_digest


def all_texts(message: dict) -> list[str]:
    """Every text string in a message, wherever Block Kit nests it."""
    out: list[str] = [message["text"]]

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("text"), str):
                out.append(node["text"])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(message["blocks"])
    return out


def evil_digest():  # type: ignore[no-untyped-def]
    sub = Subscription("s", ("russia",), "c")
    e = entry(
        1,
        match("russia", "Rosneft", "<!here> Rosneft <@U123> & <http://evil.test|click>"),
        title="<!channel> Rosneft <http://evil.test|click here> & co",
        link="https://example.org/a|b>c",
        published=NOW,
    )
    return build_digest(sub, [e], idempotency_key="k", now=NOW)


def test_structure_header_sections_stories() -> None:
    [msg] = slack_messages(sample_digest(2, 1))
    blocks = msg["blocks"]
    assert blocks[0]["type"] == "header"
    assert blocks[0]["text"]["text"] == "Sanctions alerts: 3 new stories (russia, iran)"
    assert msg["text"] == "Sanctions alerts: 3 new stories (russia, iran)"
    assert [b["type"] for b in blocks] == ["header"] + ["section", "section", "context"] * 1 + [
        "section",
        "context",
        "section",
        "section",
        "context",
    ]
    assert blocks[1]["text"]["text"] == "*russia* (2)"
    story = blocks[2]["text"]["text"]
    assert story == "*<https://example.org/news/1|Treasury designates Rosneft network 1>*"
    context = [el["text"] for el in blocks[3]["elements"]]
    assert context[0] == "OFAC Recent Actions · also in: eu-council · 29 Nov 2026 07:15 GMT"
    assert context[1] == "_Rosneft_ (title): Treasury sanctions *Rosneft* subsidiaries in Dubai"
    assert msg["unfurl_links"] is False


def test_feed_text_cannot_ping_or_inject_links() -> None:
    [msg] = slack_messages(evil_digest())
    raw = json.dumps(msg)
    for bad in ("<!channel>", "<!here>", "<@U123>", "<http://evil.test"):
        assert bad not in raw
    story = msg["blocks"][2]["text"]["text"]
    assert story == (
        "*<https://example.org/a%7Cb%3Ec|&lt;!channel&gt; Rosneft "
        "&lt;http://evil.test|click here&gt; &amp; co>*"
    )
    # The only "<" left anywhere are the links we built.
    for text in all_texts(msg):
        assert text.count("<") == text.count("<https://example.org/a%7Cb%3Ec|")


def test_unsafe_link_scheme_is_not_linked() -> None:
    sub = Subscription("s", ("russia",), "c")
    d = build_digest(
        sub,
        [entry(1, match("russia", "x"), link="javascript:alert(1)")],
        idempotency_key="k",
        now=NOW,
    )
    [msg] = slack_messages(d)
    assert msg["blocks"][2]["text"]["text"] == "*Story 1*"


def test_truncate_never_cuts_an_escape_or_a_link() -> None:
    assert truncate("abc", 3) == "abc"
    assert truncate("abcdef", 4) == "abc…"
    assert truncate("ab &amp; cd", 6) == "ab …"
    assert truncate("x <https://e.org|title> y", 10) == "x …"
    assert slack_escape("a<b>&c") == "a&lt;b&gt;&amp;c"


def test_long_texts_are_truncated_to_the_limit() -> None:
    snippet = "Rosneft " + "&<>" * 2000
    sub = Subscription("s", ("russia",), "c")
    d = build_digest(
        sub,
        [entry(1, match("russia", "Rosneft", snippet), title="T" * 5000)],
        idempotency_key="k",
        now=NOW,
    )
    [msg] = slack_messages(d, max_text=3000)
    for text in all_texts(msg):
        assert len(text) <= 3000
    context = msg["blocks"][3]["elements"][1]["text"]
    assert context.endswith("…") and not context.endswith("&…") and "&am…" not in context
    assert len(msg["blocks"][0]["text"]["text"]) <= 150


def test_120_stories_split_into_messages_within_limits() -> None:
    sub = Subscription("s", ("russia", "iran"), "c")
    entries = [
        entry(i, match("russia" if i % 3 else "iran", "x"), published=NOW - timedelta(minutes=i))
        for i in range(1, 121)
    ]
    d = build_digest(sub, entries, idempotency_key="k", now=NOW)
    messages = slack_messages(d)
    assert len(messages) == 6  # 120 stories x 2 blocks, 49 blocks of room per message
    seen: list[str] = []
    for i, msg in enumerate(messages, 1):
        blocks = msg["blocks"]
        assert len(blocks) <= 50
        assert blocks[0]["type"] == "header"
        assert blocks[0]["text"]["text"].endswith(f"({i}/6)")
        assert msg["text"].endswith(f"({i}/6)")
        assert blocks[1]["text"]["text"].startswith(("*russia*", "*iran*"))  # heading first
        seen += [
            b["text"]["text"]
            for b in blocks
            if b["type"] == "section" and "|Story" in b["text"]["text"]
        ]
        assert all(len(t) <= 3000 for t in all_texts(msg))
    assert len(seen) == 120 and len(set(seen)) == 120
    headings = [
        b["text"]["text"]
        for m in messages
        for b in m["blocks"][1:]
        if b["type"] == "section"
        and b["text"]["text"].startswith("*")
        and "|" not in b["text"]["text"]
    ]
    assert headings[0] == "*russia* (80)"
    assert "*russia* (continued)" in headings and "*iran* (40)" in headings


def test_small_limits_are_respected() -> None:
    messages = slack_messages(sample_digest(5, 5), max_blocks=6)
    assert all(len(m["blocks"]) <= 6 for m in messages)
    assert sum(1 for m in messages for b in m["blocks"] if b["type"] == "context") == 10
    with pytest.raises(ValueError):
        slack_messages(sample_digest(), max_blocks=3)


# -- channel ---------------------------------------------------------------------------


async def test_posts_each_message_with_idempotency_key(webhook_receiver: WebhookReceiver) -> None:
    ch = SlackChannel("slack", webhook_receiver.url("/services/T/B/X"))
    d = build_digest(
        Subscription("s", ("russia",), "c"),
        [entry(i, match("russia", "x")) for i in range(60)],
        idempotency_key="key-1",
        now=NOW,
    )
    await ch.send(d)
    await ch.aclose()
    reqs = webhook_receiver.wait_for(3)
    assert len(reqs) == 3
    assert all(r.headers["idempotency-key"] == "key-1" for r in reqs)
    assert all(r.headers["content-type"] == "application/json" for r in reqs)
    assert [r.json for r in reqs] == slack_messages(d)


async def test_500_is_retryable_and_retry_resumes(webhook_receiver: WebhookReceiver) -> None:
    webhook_receiver.respond("/hook", [200, 500], body=b"rollup_error")
    ch = SlackChannel("slack", webhook_receiver.url("/hook"))
    d = build_digest(
        Subscription("s", ("russia",), "c"),
        [entry(i, match("russia", "x")) for i in range(60)],
        idempotency_key="key-2",
        now=NOW,
    )
    with pytest.raises(DeliveryError, match="HTTP 500: rollup_error") as info:
        await ch.send(d)
    assert type(info.value) is DeliveryError
    assert "/hook" not in str(info.value)  # the URL is a secret
    await ch.send(d)
    await ch.aclose()
    reqs = webhook_receiver.wait_for(4)
    # Message 1 was accepted, so the retry starts again at message 2.
    assert [r.json["text"][-5:] for r in reqs] == ["(1/3)", "(2/3)", "(2/3)", "(3/3)"]


async def test_429_carries_retry_after(webhook_receiver: WebhookReceiver) -> None:
    webhook_receiver.respond("/hook", [429], retry_after="17")
    async with httpx.AsyncClient() as client:
        ch = SlackChannel("slack", webhook_receiver.url("/hook"), client=client)
        with pytest.raises(DeliveryError) as info:
            await ch.send(sample_digest())
        await ch.aclose()  # does not close a client it does not own
        assert not client.is_closed
    assert info.value.retry_after == 17.0
    assert type(info.value) is DeliveryError


async def test_400_is_permanent(webhook_receiver: WebhookReceiver) -> None:
    webhook_receiver.respond("/hook", [400], body=b"invalid_payload")
    ch = SlackChannel("slack", webhook_receiver.url("/hook"))
    with pytest.raises(PermanentDeliveryError, match="invalid_payload"):
        await ch.send(sample_digest())
    await ch.aclose()


async def test_timeout_is_retryable(webhook_receiver: WebhookReceiver) -> None:
    webhook_receiver.respond("/slow", [200], delay=5.0)
    ch = SlackChannel("slack", webhook_receiver.url("/slow"), timeout=0.3)
    with pytest.raises(DeliveryError, match="timed out") as info:
        await ch.send(sample_digest())
    assert type(info.value) is DeliveryError
    await ch.aclose()
