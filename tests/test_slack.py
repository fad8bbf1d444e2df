"""Slack: Block Kit payloads (escaping, limits, splitting) and the channel against a real server."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import timedelta

import httpx
import pytest

from alerts.delivery.base import Receipt
from alerts.delivery.digest import build_digest
from alerts.delivery.slack import SlackChannel, slack_escape, slack_messages, truncate
from alerts.domain import (
    AlertKind,
    Digest,
    Importance,
    PendingEntry,
    StorySource,
    Subscription,
    term_key,
)
from alerts.errors import DeliveryError, PermanentDeliveryError
from tests.support.webhook_receiver import WebhookReceiver
from tests.test_digest import (
    HOSTILE_FACETS,
    NOW,
    as_entry,
    entry,
    facet_digest,
    match,
    outlets,
    sample_digest,
    story_digest,
    with_facets,
)


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


def test_labels_lead_the_story_context() -> None:
    [msg] = slack_messages(facet_digest())
    blocks = msg["blocks"]
    assert [b["type"] for b in blocks] == ["header", "section", *("section", "context") * 3]
    news, listing, plain = (
        [el["text"] for el in b["elements"]] for b in blocks if b["type"] == "context"
    )
    assert news[0] == ("`EU` `Sanctions package` `Russia` `Belarus` `Asset freeze` `Travel ban`")
    assert news[1].startswith("OFAC Recent Actions · also in: eu-council")
    # A facet match shows its reason, unmarked; a designation match marks the listed name.
    assert news[2].split("\n")[1] == (
        "_issuer:EU_ (facet): issuer:eu from Council of the EU (official source)"
    )
    assert listing[0] == "`US` `Added to us-ofac-sdn` `Russia` `Asset freeze` `RUSSIA-EO14024`"
    assert listing[2] == (
        "_Arkady Rotenberg_ (designation): us-ofac-sdn: added *ROTENBERG, Arkadii* (RUSSIA-EO14024)"
    )
    assert not plain[0].startswith("`")  # no facets, no labels
    assert "**" not in json.dumps(msg)  # no empty highlight


def test_facet_values_cannot_ping_or_inject_links() -> None:
    [msg] = slack_messages(facet_digest(HOSTILE_FACETS))
    raw = json.dumps(msg)
    for bad in ("<!channel>", "<@U123>", "<https://evil.example", "<script"):
        assert bad not in raw
    labels = msg["blocks"][3]["elements"][0]["text"]
    assert labels.startswith("`&lt;!channel&gt;` `&lt;script&gt;alert(1)&lt;/script&gt;`")
    # A backtick cannot end a label's code span early.
    assert "`&lt;@U123&gt; *b* _i_ 'c' {{DATE(2026-01-01T00:00:00Z)}}`" in labels
    for text in all_texts(msg):
        assert re.findall(r"<(?!https://)", text) == []


def test_update_lines_and_tiny_pages_keep_within_limits_with_labels() -> None:
    d = story_digest(14)
    d = with_facets(d, *[HOSTILE_FACETS] * d.entry_count)
    for kwargs in ({}, {"max_blocks": 4, "max_text": 40}):
        for msg in slack_messages(d, **kwargs):  # type: ignore[arg-type]
            assert len(msg["blocks"]) <= kwargs.get("max_blocks", 50)
            for block in msg["blocks"][1:]:  # after the header (its own limit: 150)
                if block["type"] == "context":
                    assert len(block["elements"]) <= 10
                    texts = [el["text"] for el in block["elements"]]
                else:
                    texts = [block["text"]["text"]]
                assert all(len(t) <= kwargs.get("max_text", 3000) for t in texts)
    [msg] = slack_messages(d)
    updates = [b for b in msg["blocks"] if "*Update:*" in block_texts(b)]
    assert updates and not any("&lt;!channel&gt;" in block_texts(b) for b in updates)


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
    d = replace(build_digest(sub, entries, idempotency_key="k", now=NOW), max_stories=0)
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


# -- stories ---------------------------------------------------------------------------


def block_texts(block: dict) -> str:
    if block["type"] == "context":
        return "\n".join(el["text"] for el in block["elements"])
    return str(block["text"]["text"])


def test_story_sources_and_update_lines() -> None:
    [msg] = slack_messages(story_digest(14))
    blocks = msg["blocks"]
    assert msg["text"] == "Sanctions alerts: 3 new stories, 2 updates (russia, iran)"
    assert [b["type"] for b in blocks] == [
        "header",
        "section",  # russia heading
        *("section", "context"),  # a story of one item: as before
        *("section", "context", "context"),  # a story of 15: its sources below
        "context",  # an update line that adds a source and an edit
        "section",  # an update line flagged with a new entity
        "section",  # iran heading
        *("section", "context"),
    ]
    assert blocks[1]["text"]["text"] == "*russia* (2 new, 2 updates)"
    assert blocks[5]["elements"][0]["text"] == "Global Wire · 29 Nov 2026 05:15 GMT"
    [sources] = blocks[6]["elements"]
    lines = sources["text"].split("\n")
    assert lines[0] == "*Sources (15)*"
    assert lines[1] == (
        "`official` OFAC Recent Actions: <https://ofac.example/news/10|Russia-related Designations>"
        " · 29 Nov 2026 04:15 GMT"
    )
    assert lines[2] == "<https://globalwire.example/news/11|Global Wire> · 29 Nov 2026 05:15 GMT"
    assert len(lines) == 1 + 10 + 1 and lines[-1] == "and 5 more"
    assert sources["text"].count("`official`") == 1
    assert block_texts(blocks[7]) == (
        "*Update:* <https://example.org/news/40|Rosneft traders named (corrected)> · _updated_"
    )
    assert block_texts(blocks[8]).split("\n") == [
        "*Update:* <https://example.org/news/30|EU follows US on Sovcomflot tankers>"
        " — also reported by Council of the EU",
        "*New: Sovcomflot*",
        "_Sovcomflot_ (summary): The Council adds *Sovcomflot* and 12 tankers",
    ]


def test_source_text_cannot_ping_or_inject_links() -> None:
    d = story_digest(
        4,
        feed_title="<!channel> Wire <@U123>",
        source_title="<!channel> Rosneft <http://evil.test|click here> & co",
    )
    first = d.sections[0].entries[1]
    evil = StorySource(99, "evil", "<!here>", "x", "https://e.org/a|b>c <!channel>", NOW)
    d = replace(
        d,
        sections=(
            replace(d.sections[0], entries=(replace(first, sources=(*first.sources, evil)),)),
        ),
    )
    [msg] = slack_messages(d)
    raw = json.dumps(msg)
    for bad in ("<!channel>", "<!here>", "<@U123>", "<http://evil.test"):
        assert bad not in raw
    sources = msg["blocks"][-1]["elements"][0]["text"]
    assert "Outlet 1: <https://outlet1.example/news/12|&lt;!channel&gt; Rosneft " in sources
    assert "&lt;http://evil.test|click here&gt; &amp; co>" in sources
    assert "<https://globalwire.example/news/11|&lt;!channel&gt; Wire &lt;@U123&gt;>" in sources
    assert "&lt;!here&gt;: <https://e.org/a%7Cb%3Ec%20%3C!channel%3E|x>" in sources
    # Every "<" left anywhere opens a link we built.
    for text in all_texts(msg):
        assert re.findall(r"<(?!https://)", text) == []


def many_stories(n_stories: int, n_sources: int, *, n_updates: int = 0) -> list[PendingEntry]:
    """`n_stories` new stories of `n_sources` items each (an official notice first), long
    titles, and `n_updates` flagged update lines."""
    entries = []
    for k in range(n_stories):
        notice = StorySource(
            1000 * k,
            "ofac",
            "OFAC Recent Actions",
            f"Notice {k}",
            f"https://ofac.example/{k}",
            NOW,
            official=True,
        )
        title = f"Story {k} " + "Rosneft network designated in Dubai " * 8
        press = outlets(n_sources - 1, first_id=1000 * k + 1, hours_ago=k / 10, title=title)
        base = entry(0, match("russia", "Rosneft", "Rosneft " * 50), story_key=f"s{k}")
        entries.append(as_entry(replace(base, sources=(notice, *press)), press[0]))
    for k in range(n_updates):
        # Twelve outlets join a story sent before; one of them names a new entity.
        copies = outlets(12, first_id=5000 + 100 * k, hours_ago=5, title=f"Update {k}")
        sent = entry(
            0,
            story_key=f"u{k}",
            kind=AlertKind.MEMBER,
            story_sent=True,
            sent_terms=frozenset({term_key("russia", "Rosneft")}),
        )
        entries += [as_entry(sent, c) for c in copies]
        entries[-1] = replace(entries[-1], matches=(match("russia", "Sovcomflot"),))
    return entries


def test_30_stories_of_20_sources_split_within_limits() -> None:
    sub = Subscription("s", ("russia",), "c")
    d = build_digest(sub, many_stories(30, 20, n_updates=5), idempotency_key="k", now=NOW)
    messages = slack_messages(d)
    # 30 stories x 3 blocks + 5 update lines + headings, 49 blocks of room per message.
    assert len(messages) == 2
    headlines: list[str] = []
    for msg in messages:
        blocks = msg["blocks"]
        assert len(blocks) <= 50
        assert all(len(t) <= 3000 for t in all_texts(msg))
        for i, b in enumerate(blocks):
            text = block_texts(b)
            if b["type"] == "section" and text.startswith("*<https://outlet0"):
                headlines.append(text)
                # A story is never split from its details and sources.
                assert blocks[i + 1]["type"] == "context"
                assert block_texts(blocks[i + 2]).startswith("*Sources (20)*")
                assert block_texts(blocks[i + 2]).endswith("\nand 10 more")
            elif b["type"] == "context" and text.startswith("*Sources"):
                assert block_texts(blocks[i - 2]).startswith("*<")
    assert len(headlines) == 30 and len(set(headlines)) == 30
    updates = [
        block_texts(b) for m in messages for b in m["blocks"] if "*Update:*" in block_texts(b)
    ]
    assert len(updates) == 5 and all("*New: Sovcomflot*" in u for u in updates)
    assert all("also reported by Outlet 0, Outlet 1, " in u for u in updates)
    assert all("Outlet 9 and 2 more\n*New: Sovcomflot*" in u for u in updates)


def test_tiny_limits_fold_sources_into_the_story_context() -> None:
    d = story_digest(14)
    messages = slack_messages(d, max_blocks=4)
    assert all(2 <= len(m["blocks"]) <= 4 for m in messages)  # no empty page
    texts = "\n".join(block_texts(b) for m in messages for b in m["blocks"])
    assert texts.count("*Sources (15)*") == 1
    assert texts.count("*Update:*") == 2
    story = [b for m in messages for b in m["blocks"] if "*Sources (15)*" in block_texts(b)]
    assert [len(b["elements"]) for b in story] == [3]  # details, matches, sources
    # A short text limit drops whole source lines and counts them.
    for msg in slack_messages(d, max_text=300):
        for text in all_texts(msg):
            assert len(text) <= 300
    sources = [t for m in slack_messages(d, max_text=300) for t in all_texts(m) if "*Sources" in t]
    assert re.search(r"\nand \d+ more$", sources[0]) and "…" not in sources[0]


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
    with pytest.raises(DeliveryError, match="message 2/3: HTTP 500: rollup_error") as info:
        await ch.send(d)
    assert type(info.value) is DeliveryError
    assert (info.value.status, info.value.response) == (500, "rollup_error")
    assert "/hook" not in str(info.value)  # the URL is a secret
    assert await ch.send(d) == Receipt(200, "rollup_error", 3)
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


# -- issue 5: heartbeat, urgency, importance, max_stories ------------------------------


def many(n: int, *, max_stories: int, more_url: str = "") -> Digest:
    """`n` one-item stories: two thirds russia, one third iran."""
    sub = Subscription("s", ("russia", "iran"), "c", max_stories=max_stories)
    entries = [
        entry(i, match("russia" if i % 3 else "iran", "x"), published=NOW - timedelta(minutes=i))
        for i in range(1, n + 1)
    ]
    return build_digest(sub, entries, idempotency_key="k", now=NOW, more_url=more_url)


def test_heartbeat_is_one_short_message() -> None:
    d = Digest("<!channel> desk", "hb", NOW, ())
    [msg] = slack_messages(d)
    assert msg["text"] == "Sanctions alerts: no new stories"
    assert [b["type"] for b in msg["blocks"]] == ["header", "section"]
    assert msg["blocks"][0]["text"]["text"] == "Sanctions alerts: no new stories"
    assert msg["blocks"][1]["text"]["text"] == "No new alerts for *&lt;!channel&gt; desk*."


def test_urgent_digest_says_so_and_tags_its_stories() -> None:
    d = sample_digest(1, 1)
    first = replace(d.sections[0].entries[0], importance=Importance.URGENT)
    second = replace(d.sections[1].entries[0], importance=Importance.HIGH)
    d = replace(
        d,
        urgent=True,
        sections=(
            replace(d.sections[0], entries=(first,)),
            replace(d.sections[1], entries=(second,)),
        ),
    )
    [msg] = slack_messages(d)
    assert msg["text"] == "[Urgent] Sanctions alerts: 2 new stories (russia, iran)"
    assert msg["blocks"][0]["text"]["text"] == msg["text"]
    headlines = [
        b["text"]["text"] for b in msg["blocks"] if "|" in b.get("text", {}).get("text", "")
    ]
    assert headlines[0].startswith("`urgent` *<https://example.org/news/1|")
    assert headlines[1].startswith("`high` *<https://example.org/news/101|")


def test_max_stories_cuts_with_a_link_to_the_full_digest() -> None:
    d = many(120, max_stories=50, more_url="https://alerts.example.org/digests/k?t=a|b>c")
    messages = slack_messages(d)
    # 50 russia stories x 2 blocks + 2 headings + "and 70 more", 49 blocks of room each.
    assert len(messages) == 3
    assert [len(m["blocks"]) for m in messages] == [50, 50, 7]
    stories = [
        b for m in messages for b in m["blocks"] if "|Story" in b.get("text", {}).get("text", "")
    ]
    assert len(stories) == 50
    headings = [m["blocks"][1]["text"]["text"] for m in messages]
    # Headings count the whole section: the cut is explained by the last line.
    assert headings == ["*russia* (80)", "*russia* (continued)", "*russia* (continued)"]
    assert messages[-1]["blocks"][-1]["text"]["text"] == (
        "and 70 more: <https://alerts.example.org/digests/k?t=a%7Cb%3Ec|see the full digest>"
    )
    assert "*iran*" not in json.dumps(messages)  # every story shown is a russia one
    assert messages[0]["text"] == "Sanctions alerts: 120 new stories (russia, iran) (1/3)"


@pytest.mark.parametrize("url", ["", "javascript:alert(1)"])
def test_more_line_without_a_safe_url_is_plain(url: str) -> None:
    [msg] = slack_messages(many(6, max_stories=4, more_url=url))
    assert msg["blocks"][-1]["text"]["text"] == "and 2 more not shown here"


def test_more_line_starts_a_message_when_the_last_is_full() -> None:
    # max_blocks 6: a heading and two stories fill a message, so "and 1 more" goes alone.
    messages = slack_messages(replace(sample_digest(5, 0), max_stories=4), max_blocks=6)
    assert [len(m["blocks"]) for m in messages] == [6, 6, 2]
    assert messages[-1]["blocks"][1]["text"]["text"] == "and 1 more not shown here"
    assert messages[-1]["text"].endswith("(3/3)")


async def test_errors_name_the_message_and_keep_the_answer(
    webhook_receiver: WebhookReceiver,
) -> None:
    webhook_receiver.fail("/hook", 200)
    webhook_receiver.fail("/hook", 429, retry_after="4", body=b"rate_limited")
    webhook_receiver.hang("/hook")
    webhook_receiver.reset("/hook")
    webhook_receiver.fail("/hook", 404, body=b"no_service")
    ch = SlackChannel("slack", webhook_receiver.url("/hook"), timeout=0.5)
    d = many(120, max_stories=50)
    with pytest.raises(DeliveryError, match="message 2/3: HTTP 429: rate_limited") as info:
        await ch.send(d)
    assert (info.value.retry_after, info.value.status, info.value.response) == (
        4.0,
        429,
        "rate_limited",
    )
    with pytest.raises(DeliveryError, match="message 2/3: timed out") as info:
        await ch.send(d)
    assert type(info.value) is DeliveryError and info.value.status is None
    with pytest.raises(DeliveryError, match="message 2/3: ") as info:
        await ch.send(d)
    assert type(info.value) is DeliveryError
    with pytest.raises(PermanentDeliveryError, match="message 2/3: HTTP 404: no_service"):
        await ch.send(d)
    assert await ch.send(d) == Receipt(200, "ok", 3)
    await ch.aclose()
    reqs = webhook_receiver.wait_for(7)
    assert [r.json["text"][-5:] for r in reqs] == ["(1/3)"] + ["(2/3)"] * 5 + ["(3/3)"]
    assert [r.answer for r in reqs] == [200, 429, None, None, 404, 200, 200]
