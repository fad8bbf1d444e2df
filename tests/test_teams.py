"""Teams: Adaptive Card messages (structure, escaping, byte-limit splitting) and the channel
against a real local server."""

from __future__ import annotations

import itertools
import json
import re
from dataclasses import replace
from typing import Any

import pytest
from markdown_it import MarkdownIt

from alerts.delivery.base import Receipt
from alerts.delivery.digest import build_digest
from alerts.delivery.teams import (
    MAX_BYTES,
    MIN_BYTES,
    TeamsChannel,
    markdown_link,
    teams_escape,
    teams_messages,
)
from alerts.delivery.webhook import encode_body
from alerts.domain import Digest, Importance, StorySource, Subscription
from alerts.errors import DeliveryError, PermanentDeliveryError
from tests.support.webhook_receiver import WebhookReceiver
from tests.test_digest import (
    HOSTILE_FACETS,
    NOW,
    entry,
    facet_digest,
    match,
    sample_digest,
    story_digest,
    with_facets,
)
from tests.test_slack import many

# CommonMark, the closest public grammar to what Adaptive Card renderers accept.
MARKDOWN = MarkdownIt("commonmark")


def card(message: dict[str, Any]) -> dict[str, Any]:
    [attachment] = message["attachments"]
    content: dict[str, Any] = attachment["content"]
    return content


def texts(message: dict[str, Any]) -> list[str]:
    """Every TextBlock text in a message, in order, containers opened."""
    out: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "TextBlock":
                out.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(card(message)["body"])
    return out


def stories(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [el for el in card(message)["body"] if el["type"] == "Container"]


def rendered(text: str) -> tuple[list[str], list[str]]:
    """(link targets, emphasised texts) CommonMark finds in `text`."""
    links: list[str] = []
    emphasis: list[str] = []
    tokens = MARKDOWN.parseInline(text)
    for token in tokens:
        children = token.children or []
        for i, child in enumerate(children):
            if child.type == "link_open":
                links.append(str(child.attrGet("href")))
            if child.type in ("strong_open", "em_open") and i + 1 < len(children):
                emphasis.append(children[i + 1].content)
    return links, emphasis


EVIL = (
    "[click here](http://evil.test) **bold** _it_ ~~gone~~ `code` <at>Boss</at> "
    "{{DATE(2026-01-01T00:00:00Z, SHORT)}} ![img](http://evil.test/x.png) & \\ end"
)


def evil_digest() -> Digest:
    sub = Subscription("s", ("russia",), "c")
    e = entry(
        1,
        match("russia", "Rosneft", "1. Rosneft " + EVIL),
        title="- " + EVIL,
        link="https://example.org/a b)(c",
        feed_title="# Wire " + EVIL,
        published=NOW,
    )
    d = build_digest(sub, [e], idempotency_key="k", now=NOW)
    first = d.sections[0].entries[0]
    sources = (
        StorySource(1, "ofac", "> OFAC " + EVIL, "Notice [x](http://evil.test)", None, NOW, True),
        StorySource(2, "wire", "Wire", EVIL, "javascript:alert(1)", NOW),
    )
    return replace(
        d, sections=(replace(d.sections[0], entries=(replace(first, sources=sources),)),)
    )


# -- messages --------------------------------------------------------------------------


def test_envelope_and_card() -> None:
    [msg] = teams_messages(sample_digest(2, 1))
    assert msg["type"] == "message"
    [attachment] = msg["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert attachment["contentUrl"] is None
    c = attachment["content"]
    assert (c["type"], c["version"]) == ("AdaptiveCard", "1.4")
    assert c["fallbackText"] == "Sanctions alerts: 3 new stories (russia, iran)"
    body = c["body"]
    assert body[0]["text"] == "Sanctions alerts: 3 new stories (russia, iran)"
    assert body[1] == {
        "type": "TextBlock",
        "text": "compliance-team · 29 Nov 2026 08:15 GMT",
        "wrap": True,
        "isSubtle": True,
        "size": "Small",
        "spacing": "None",
    }
    assert [el["type"] for el in body[2:]] == ["TextBlock", "Container", "Container"] * 1 + [
        "TextBlock",
        "Container",
    ]
    assert body[2]["text"] == "russia (2)" and body[5]["text"] == "iran (1)"
    assert [t["text"] for t in body[3]["items"]] == [
        "[Treasury designates Rosneft network 1](https://example.org/news/1)",
        "OFAC Recent Actions · also in: eu-council · 29 Nov 2026 07:15 GMT",
        "- _Rosneft_ (title): Treasury sanctions **Rosneft** subsidiaries in Dubai",
    ]
    assert body[3]["items"][1]["isSubtle"] is True and body[3]["items"][1]["size"] == "Small"


def test_sources_and_update_lines() -> None:
    [msg] = teams_messages(story_digest(14))
    [rosneft_shares, big, edited, grown, irgc] = stories(msg)
    sources = big["items"][-1]
    assert (sources["isSubtle"], sources["size"]) == (True, "Small")
    lines = sources["text"].split("\n")
    assert lines[0] == "**Sources (15)**"
    assert lines[2] == (
        "- **official** OFAC Recent Actions: "
        "[Russia-related Designations](https://ofac.example/news/10) · 29 Nov 2026 04:15 GMT"
    )
    assert lines[3] == "- [Global Wire](https://globalwire.example/news/11) · 29 Nov 2026 05:15 GMT"
    assert lines[-1] == "and 5 more" and len([x for x in lines if x.startswith("- ")]) == 10
    assert [t["text"] for t in edited["items"]] == [
        "**Update:** [Rosneft traders named (corrected)](https://example.org/news/40) · _updated_"
    ]
    assert [t["text"] for t in grown["items"]] == [
        "**Update:** [EU follows US on Sovcomflot tankers](https://example.org/news/30)"
        " — also reported by Council of the EU",
        "**New: Sovcomflot**",
        "- _Sovcomflot_ (summary): The Council adds **Sovcomflot** and 12 tankers",
    ]
    assert grown["items"][1]["color"] == "Attention"
    assert "Sources" not in json.dumps(rosneft_shares) + json.dumps(irgc)


def test_feed_text_cannot_link_or_format() -> None:
    [msg] = teams_messages(evil_digest())
    ours = {"https://example.org/a%20b%29%28c"}
    for text in texts(msg):
        links, emphasis = rendered(text)
        assert set(links) <= ours, text
        # The only emphasis is what we add: the hit, the term, "official", "Sources (2)".
        assert set(emphasis) <= {"Rosneft", "official", "Sources (2)"}, text
        assert "{{" not in text
        assert not re.search(r"^\s*(?:[-+*#>]|\d+[.)])\s", text.split("\n")[0]) or text.startswith(
            "- "
        )
    raw = json.dumps(msg, ensure_ascii=False)
    headline = stories(msg)[0]["items"][0]["text"]
    # Brackets in a link label become parentheses; the rest is escaped.
    assert headline.startswith(r"[\- (click here)(http://evil.test) \*\*bold\*\* \_it\_")
    assert headline.endswith("](https://example.org/a%20b%29%28c)")
    # The source whose link is javascript: is shown, not linked.
    assert "javascript" not in raw


def test_labels_are_a_line_under_the_headline() -> None:
    [msg] = teams_messages(facet_digest())
    news, listing, plain = stories(msg)
    tags = news["items"][1]
    assert tags == {
        "type": "TextBlock",
        "text": "EU · Sanctions package · Russia · Belarus · Asset freeze · Travel ban",
        "wrap": True,
        "size": "Small",
        "weight": "Bolder",
        "color": "Accent",
        "spacing": "None",
    }
    assert news["items"][3]["text"].split("\n")[1] == (
        "- _issuer:EU_ (facet): issuer:eu from Council of the EU (official source)"
    )
    assert [t["text"] for t in listing["items"][1:4:2]] == [
        "US · Added to us-ofac-sdn · Russia · Asset freeze · RUSSIA-EO14024",
        "- _Arkady Rotenberg_ (designation): us-ofac-sdn: added **ROTENBERG, Arkadii**"
        " (RUSSIA-EO14024)",
    ]
    assert len(plain["items"]) == 3  # headline, meta, matches: no labels
    assert "****" not in json.dumps(msg)


def test_facet_values_cannot_link_or_format() -> None:
    [msg] = teams_messages(facet_digest(HOSTILE_FACETS))
    tags = stories(msg)[0]["items"][1]["text"]
    links, emphasis = rendered(tags)
    assert links == [] and emphasis == []
    assert "{{" not in tags and r"\[x\](https://evil.example)" in tags
    assert r"\<https://evil.example|click>" in tags  # no autolink either
    ours = {f"https://example.org/news/{i}" for i in (1, 2, 3)}
    for text in texts(msg):
        assert set(rendered(text)[0]) <= ours, text


def test_update_lines_and_small_budgets_with_labels() -> None:
    d = story_digest(14)
    d = with_facets(d, *[HOSTILE_FACETS] * d.entry_count)
    for max_bytes in (MAX_BYTES, MIN_BYTES):
        messages = teams_messages(d, max_bytes=max_bytes)
        assert all(len(encode_body(m)) <= max_bytes for m in messages)
    [msg] = teams_messages(d)
    updates = [s for s in stories(msg) if s["items"][0]["text"].startswith("**Update:**")]
    assert len(updates) == 2
    assert not any("Accent" in json.dumps(u) for u in updates)


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("[a](http://x)", r"\[a\](http://x)"),
        ("**b** _i_ ~~s~~ `c`", r"\*\*b\*\* \_i\_ \~\~s\~\~ \`c\`"),
        ("{{DATE(2026-01-01T00:00:00Z)}}", "{\u200b{DATE(2026-01-01T00:00:00Z)}}"),
        ("1. one", r"1\. one"),
        ("- item", r"\- item"),
        ("# head", r"\# head"),
        ("> quote", r"\> quote"),
        ("a\n\n- b\r\nc", r"a - b c"),
        ("back\\slash", "back\\\\slash"),
        ("<https://evil.test> <at>x</at>", r"\<https://evil.test> \<at>x\</at>"),
    ],
)
def test_teams_escape(text: str, escaped: str) -> None:
    assert teams_escape(text) == escaped
    links, emphasis = rendered(escaped)
    assert links == [] and emphasis == []


def test_links_are_http_only_encoded_and_bounded() -> None:
    assert markdown_link("a [b] c", "https://e.org/x (1)") == "[a (b) c](https://e.org/x%20%281%29)"
    assert markdown_link("t", "javascript:alert(1)") == "t"
    assert markdown_link("t", "https://e.org/" + "x" * 2000) == "t"
    assert markdown_link("t", None) == "t"


def test_heartbeat_is_one_short_message() -> None:
    [msg] = teams_messages(Digest("compliance-team", "hb", NOW, ()))
    body = card(msg)["body"]
    assert [b["text"] for b in body] == [
        "Sanctions alerts: no new stories",
        "compliance-team · 29 Nov 2026 08:15 UTC",
        "No new alerts for compliance-team.",
    ]


def test_urgent_digest_and_story_importance() -> None:
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
    [msg] = teams_messages(d)
    header = card(msg)["body"][0]
    assert header["text"] == r"\[Urgent\] Sanctions alerts: 2 new stories (russia, iran)"
    assert header["color"] == "Attention"
    assert card(msg)["fallbackText"].startswith("[Urgent] ")
    urgent, high = (s["items"][0] for s in stories(msg))
    assert urgent["text"].startswith("**Urgent:** [Treasury") and urgent["color"] == "Attention"
    assert high["text"].startswith("**High:** [IRGC") and high["color"] == "Warning"


def test_max_stories_and_more_url() -> None:
    [msg] = teams_messages(many(10, max_stories=4, more_url="https://alerts.example.org/d/k"))
    assert len(stories(msg)) == 4
    assert texts(msg)[-1] == "and 6 more: [see the full digest](https://alerts.example.org/d/k)"
    assert texts(msg)[2] == "russia (7)"  # the whole section's count
    [plain] = teams_messages(many(10, max_stories=4, more_url="ftp://x"))
    assert texts(plain)[-1] == "and 6 more not shown here"


def test_split_under_the_byte_limit_between_stories() -> None:
    d = many(300, max_stories=0)
    messages = teams_messages(d)
    sizes = [len(encode_body(m)) for m in messages]
    assert len(messages) == 5 and all(s <= MAX_BYTES for s in sizes)
    assert [len(stories(m)) for m in messages] == [70, 70, 69, 70, 21]
    titles = [s["items"][0]["text"] for m in messages for s in stories(m)]
    assert len(titles) == 300 and len(set(titles)) == 300
    for i, m in enumerate(messages, 1):
        body = card(m)["body"]
        assert body[0]["text"].endswith(f"({i}/5)")
        assert body[2]["text"].startswith(("russia", "iran"))  # a heading first
    # Greedy: the next message's first story would not have fitted in the previous one.
    for prev, nxt in itertools.pairwise(messages):
        first = stories(nxt)[0]
        assert len(encode_body(prev)) + len(encode_body(first)) + 1 > MAX_BYTES
    headings = [
        b["text"] for m in messages for b in card(m)["body"][2:] if b["type"] == "TextBlock"
    ]
    assert headings == [
        "russia (200)",
        "russia (continued)",
        "russia (continued)",
        "iran (100)",
        "iran (continued)",
        "iran (continued)",
    ]


def oversized(text: str, n_matches: int) -> Digest:
    """Two copies of a story with ten long sources and `n_matches` long matches of `text`."""
    sub = Subscription("s", ("russia",), "c")
    sources = tuple(
        StorySource(i, f"f{i}", "F" * 150, "T" * 150, "https://e.org/" + "x" * 1000, NOW)
        for i in range(10)
    )
    matches = [match("russia", f"Rosneft{i} {text}", f"Rosneft {text}") for i in range(n_matches)]
    e = entry(1, *matches, title="😀" * 400, link="https://e.org/" + "y" * 1500)
    d = build_digest(sub, [e], idempotency_key="k", now=NOW)
    big = replace(d.sections[0].entries[0], sources=sources)
    return replace(d, sections=(replace(d.sections[0], entries=(big, big)),))


@pytest.mark.parametrize(
    ("d", "full", "small"),
    [
        # Fits whole in a Teams message; at 8,000 bytes without its sources.
        (oversized("ü" * 3000, 3), [4, 4], [3, 3]),
        # 30 long matches: without sources (three matches) even at 27,000 bytes.
        (oversized("ü" * 3000, 30), [3, 3], [3, 3]),
        # Emoji everywhere: at 8,000 bytes only the headline is left.
        (oversized("😀" * 3000, 30), [3, 3], [1, 1]),
    ],
)
def test_a_story_too_big_for_a_message_is_shown_smaller(
    d: Digest, full: list[int], small: list[int]
) -> None:
    for max_bytes, items in ((MAX_BYTES, full), (MIN_BYTES, small)):
        messages = teams_messages(d, max_bytes=max_bytes)
        assert all(len(encode_body(m)) <= max_bytes for m in messages)
        assert [len(s["items"]) for m in messages for s in stories(m)] == items
        for story in (s for m in messages for s in stories(m)):
            if len(story["items"]) == 3:  # three matches at most, no sources
                assert story["items"][2]["text"].count("\n- ") == 2
    with pytest.raises(ValueError, match="max_bytes"):
        teams_messages(d, max_bytes=MIN_BYTES - 1)


# -- channel ---------------------------------------------------------------------------

FLOW = "/workflows/4f1e/triggers/manual/paths/invoke"
QUERY = "?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=Zm9vYmFyU2lnbmF0dXJl"


async def test_posts_every_message_and_returns_a_receipt(
    webhook_receiver: WebhookReceiver,
) -> None:
    webhook_receiver.respond(FLOW, [], body=b"")
    for _ in range(5):
        webhook_receiver.fail(FLOW, 202)
    ch = TeamsChannel("teams", webhook_receiver.url(FLOW + QUERY))
    d = many(300, max_stories=0)
    assert await ch.send(d) == Receipt(202, "", 5)
    await ch.aclose()
    reqs = webhook_receiver.wait_for(5)
    assert [r.json for r in reqs] == teams_messages(d)
    assert all(r.headers["content-type"] == "application/json" for r in reqs)
    assert all(r.headers["idempotency-key"] == "k" for r in reqs)


async def test_failures_carry_status_and_answer_and_the_retry_resumes(
    webhook_receiver: WebhookReceiver,
) -> None:
    error = json.dumps(
        {"error": {"code": "TriggerInputSchemaMismatch", "message": f"see {FLOW}{QUERY}"}}
    ).encode()
    webhook_receiver.fail(FLOW, 202, times=2)
    webhook_receiver.fail(FLOW, 502, body=b"Bad Gateway")
    webhook_receiver.fail(FLOW, 429, retry_after="30")
    webhook_receiver.fail(FLOW, 400, body=error, content_type="application/json")
    ch = TeamsChannel("teams", webhook_receiver.url(FLOW + QUERY))
    d = many(300, max_stories=0)
    with pytest.raises(DeliveryError, match="message 3/5: HTTP 502: Bad Gateway") as info:
        await ch.send(d)
    assert (type(info.value), info.value.status) == (DeliveryError, 502)
    with pytest.raises(DeliveryError, match="message 3/5: HTTP 429") as info:
        await ch.send(d)
    assert (info.value.retry_after, info.value.status) == (30.0, 429)
    with pytest.raises(PermanentDeliveryError, match="message 3/5: HTTP 400") as perm:
        await ch.send(d)
    assert perm.value.status == 400
    assert "TriggerInputSchemaMismatch" in perm.value.response
    for text in (str(perm.value), perm.value.response):
        assert "Zm9vYmFy" not in text and "4f1e" not in text
    assert (await ch.send(d)).messages == 5
    await ch.aclose()
    reqs = webhook_receiver.wait_for(8)
    assert [r.json["attachments"][0]["content"]["body"][0]["text"][-5:] for r in reqs] == [
        "(1/5)",
        "(2/5)",
        "(3/5)",
        "(3/5)",
        "(3/5)",
        "(3/5)",
        "(4/5)",
        "(5/5)",
    ]


async def test_timeout_and_reset_are_retryable(webhook_receiver: WebhookReceiver) -> None:
    webhook_receiver.hang(FLOW)
    webhook_receiver.reset(FLOW)
    ch = TeamsChannel("teams", webhook_receiver.url(FLOW + QUERY), timeout=0.3)
    with pytest.raises(DeliveryError, match="timed out") as info:
        await ch.send(sample_digest())
    assert type(info.value) is DeliveryError and info.value.status is None
    with pytest.raises(DeliveryError) as info:
        await ch.send(sample_digest())
    assert type(info.value) is DeliveryError and "Zm9vYmFy" not in str(info.value)
    assert (await ch.send(sample_digest())).status == 200
    await ch.aclose()
