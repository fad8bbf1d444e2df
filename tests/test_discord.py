"""Discord: embeds (structure, escaping, mentions, limits, splitting) and the channel against a
real local server."""

from __future__ import annotations

import itertools
import json
import re
from dataclasses import replace
from typing import Any

import pytest

from alerts.delivery import discord
from alerts.delivery.base import Receipt
from alerts.delivery.discord import (
    MAX_EMBED_CHARS,
    DiscordChannel,
    discord_escape,
    discord_messages,
    embed_chars,
)
from alerts.domain import Digest, Importance
from alerts.errors import DeliveryError, PermanentDeliveryError
from tests.support.webhook_receiver import WebhookReceiver
from tests.test_digest import (
    HOSTILE_FACETS,
    NOW,
    facet_digest,
    sample_digest,
    story_digest,
    with_facets,
)
from tests.test_slack import many
from tests.test_teams import evil_digest, oversized

HOOK = "/api/webhooks/112233/T0k3n-s3cret"


def units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def assert_within_discord_limits(message: dict[str, Any]) -> None:
    """Discord's documented limits, checked independently of the code under test."""
    assert units(message["content"]) <= 2000
    assert message["allowed_mentions"] == {"parse": []}
    embeds = message["embeds"]
    assert len(embeds) <= 10
    total = 0
    for e in embeds:
        assert units(e.get("title", "")) <= 256
        assert units(e.get("description", "")) <= 4096
        assert units(e.get("author", {}).get("name", "")) <= 256
        assert units(e.get("footer", {}).get("text", "")) <= 2048
        fields = e.get("fields", [])
        assert len(fields) <= 25
        for f in fields:
            assert 0 < units(f["name"]) <= 256 and 0 < units(f["value"]) <= 1024
        assert "url" not in e or e["url"].startswith(("http://", "https://"))
        total += units(e.get("title", "")) + units(e.get("description", ""))
        total += units(e.get("author", {}).get("name", ""))
        total += units(e.get("footer", {}).get("text", ""))
        total += sum(units(f["name"]) + units(f["value"]) for f in fields)
    assert total <= 6000


def strings(message: dict[str, Any]) -> list[str]:
    out: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, str):
            out.append(node)
        elif isinstance(node, dict):
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(message)
    return out


def masked_links(text: str) -> list[str]:
    """Targets of `[label](url)` links Discord would render (an escaped `[` opens none)."""
    return re.findall(r"(?<!\\)\[(?:[^\]\\]|\\.)*\]\(([^)\s]+)\)", text)


def with_importance(d: Digest, *levels: Importance) -> Digest:
    it = iter(levels)
    return replace(
        d,
        sections=tuple(
            replace(s, entries=tuple(replace(e, importance=next(it)) for e in s.entries))
            for s in d.sections
        ),
    )


# -- messages --------------------------------------------------------------------------


def test_message_and_embed_structure() -> None:
    [msg] = discord_messages(sample_digest(2, 1))
    assert msg["content"] == "**Sanctions alerts: 3 new stories (russia, iran)**"
    assert msg["allowed_mentions"] == {"parse": []}
    assert len(msg["embeds"]) == 3
    assert msg["embeds"][0] == {
        "author": {"name": "russia (2)"},
        "title": "Treasury designates Rosneft network 1",
        "url": "https://example.org/news/1",
        "color": 0x0969DA,
        "description": "OFAC Recent Actions · also in: eu-council · 29 Nov 2026 07:15 GMT",
        "fields": [
            {
                "name": "Rosneft (title)",
                "value": "Treasury sanctions **Rosneft** subsidiaries in Dubai",
                "inline": False,
            }
        ],
    }
    assert msg["embeds"][2]["author"] == {"name": "iran (1)"}
    assert_within_discord_limits(msg)


def test_sources_and_update_lines() -> None:
    [msg] = discord_messages(story_digest(14))
    _, big, edited, grown, irgc = msg["embeds"]
    lines = big["description"].split("\n")
    assert lines[0] == "Global Wire · 29 Nov 2026 05:15 GMT"
    assert lines[1] == "**Sources (15)**"
    assert lines[2] == (
        "- **official** OFAC Recent Actions: "
        "[Russia-related Designations](https://ofac.example/news/10) · 29 Nov 2026 04:15 GMT"
    )
    assert lines[-1] == "and 5 more" and len(lines) == 2 + 10 + 1
    assert (edited["title"], edited["description"], edited["color"]) == (
        "Update: Rosneft traders named (corrected)",
        "_updated_",
        0x8C959F,
    )
    assert "fields" not in edited
    assert grown["title"] == "Update: EU follows US on Sovcomflot tankers"
    assert grown["description"] == "also reported by Council of the EU\n**New: Sovcomflot**"
    assert grown["fields"] == [
        {
            "name": "Sovcomflot (summary)",
            "value": "The Council adds **Sovcomflot** and 12 tankers",
            "inline": False,
        }
    ]
    assert irgc["author"] == {"name": "iran (1)"}


def test_feed_text_cannot_ping_link_or_format() -> None:
    d = evil_digest()
    first = d.sections[0].entries[0]
    pings = "@everyone @here <@123456789012345678> <@&42> <#7> <t:1700000000:R>"
    d = replace(
        d,
        subscription="@everyone desk",
        sections=(
            replace(
                d.sections[0],
                watchlist="@here <@1> list",
                entries=(replace(first, title=f"{pings} {first.title}"),),
            ),
        ),
    )
    messages = discord_messages(d) + discord_messages(replace(d, sections=()))
    for msg in messages:
        assert msg["allowed_mentions"] == {"parse": []}
        assert_within_discord_limits(msg)
        for text in strings(msg):
            assert not re.search(r"@(everyone|here)", text), text
        # Author names are plain text to Discord (no Markdown, no mentions): not escaped.
        authors = [e["author"]["name"] for e in msg["embeds"] if "author" in e]
        assert all(a == "@\u200bhere <@1> list (1)" for a in authors)
        for text in strings({**msg, "embeds": [{**e, "author": {}} for e in msg["embeds"]]}):
            assert not re.search(r"(?<!\\)<[@#t:]", text), text
            assert set(masked_links(text)) <= {"https://example.org/a%20b%29%28c"}, text
            assert not re.search(r"(?<!\\)(\*\*bold|`code|~~gone|\|\|)", text), text
    embed = messages[0]["embeds"][0]
    assert embed["title"].startswith("@\u200beveryone @\u200bhere \\<@123456789012345678> \\<@&42>")
    assert embed["url"] == "https://example.org/a%20b%29%28c"
    assert "javascript" not in json.dumps(messages)


def test_labels_are_the_embed_footer() -> None:
    [msg] = discord_messages(facet_digest())
    news, listing, plain = msg["embeds"]
    assert news["footer"] == {
        "text": "EU · Sanctions package · Russia · Belarus · Asset freeze · Travel ban"
    }
    assert listing["footer"] == {
        "text": "US · Added to us-ofac-sdn · Russia · Asset freeze · RUSSIA-EO14024"
    }
    assert "footer" not in plain
    # A facet match shows its reason unmarked; a designation match marks the listed name.
    assert news["fields"][1] == {
        "name": "issuer:EU (facet)",
        "value": "issuer:eu from Council of the EU (official source)",
        "inline": False,
    }
    assert listing["fields"] == [
        {
            "name": "Arkady Rotenberg (designation)",
            "value": "us-ofac-sdn: added **ROTENBERG, Arkadii** (RUSSIA-EO14024)",
            "inline": False,
        }
    ]
    assert "****" not in json.dumps(msg)
    assert_within_discord_limits(msg)


def test_facet_values_cannot_ping_and_footers_count_towards_limits() -> None:
    [msg] = discord_messages(facet_digest(HOSTILE_FACETS))
    assert msg["allowed_mentions"] == {"parse": []}
    footer = msg["embeds"][0]["footer"]["text"]
    # Footers show neither Markdown nor mentions: only the mass-mention guard is needed.
    assert footer.startswith("<!channel> · <script>alert(1)</script> · @\u200beveryone · ")
    assert not re.search(r"@(everyone|here)", json.dumps(msg, ensure_ascii=False))
    assert_within_discord_limits(msg)
    d = story_digest(14)
    d = with_facets(d, *[HOSTILE_FACETS] * d.entry_count)
    messages = discord_messages(d)
    for m in messages:
        assert_within_discord_limits(m)
        assert all(embed_chars(e) <= MAX_EMBED_CHARS for e in m["embeds"])
    updates = [e for m in messages for e in m["embeds"] if e["title"].startswith("Update: ")]
    assert len(updates) == 2 and not any("footer" in e for e in updates)


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("@everyone and @Here", "@\u200beveryone and @\u200bHere"),
        ("<@123> <@&4> <#5> <t:1:R> <:e:1>", r"\<@123> \<@&4> \<#5> \<t:1:R> \<:e:1>"),
        (
            "||spoiler|| ~~s~~ **b** __u__ `c`",
            r"\|\|spoiler\|\| \~\~s\~\~ \*\*b\*\* \_\_u\_\_ \`c\`",
        ),
        ("[a](http://x)", r"\[a\](http://x)"),
        ("# head", r"\# head"),
        ("-# subtext", r"\-# subtext"),
        ("> quote", r"\> quote"),
        ("1. one", r"1\. one"),
        ("a\nb\r\n- c", "a b - c"),
        ("a\\b", "a\\\\b"),
    ],
)
def test_discord_escape(text: str, escaped: str) -> None:
    assert discord_escape(text) == escaped


def test_heartbeat_is_one_short_message() -> None:
    [msg] = discord_messages(Digest("compliance-team", "hb", NOW, ()))
    assert msg == {
        "content": "**Sanctions alerts: no new stories**\nNo new alerts for compliance-team.",
        "embeds": [],
        "allowed_mentions": {"parse": []},
    }


def test_urgent_digest_and_story_importance() -> None:
    d = replace(with_importance(sample_digest(2, 1), *Importance), urgent=True)
    [msg] = discord_messages(d)
    assert msg["content"] == r"**\[Urgent\] Sanctions alerts: 3 new stories (russia, iran)**"
    normal, high, urgent = msg["embeds"]
    assert [e["color"] for e in (normal, high, urgent)] == [0x0969DA, 0xBF8700, 0xD1242F]
    assert high["description"].startswith("**High**\n")
    assert urgent["description"].startswith("**Urgent**\n")
    assert not normal["description"].startswith("**")


def test_max_stories_and_more_url() -> None:
    [msg] = discord_messages(many(10, max_stories=4, more_url="https://alerts.example.org/d/k"))
    assert len(msg["embeds"]) == 5
    assert msg["embeds"][-1] == {
        "title": "and 6 more",
        "color": 0x8C959F,
        "url": "https://alerts.example.org/d/k",
        "description": "[See the full digest](https://alerts.example.org/d/k)",
    }
    assert msg["embeds"][0]["author"] == {"name": "russia (7)"}  # the whole section
    [plain] = discord_messages(many(10, max_stories=4, more_url="javascript:x"))
    assert plain["embeds"][-1] == {
        "title": "and 6 more",
        "color": 0x8C959F,
        "description": "Not shown here.",
    }


def test_ten_embeds_a_message() -> None:
    messages = discord_messages(many(125, max_stories=0))
    assert [len(m["embeds"]) for m in messages] == [10] * 12 + [5]
    for i, msg in enumerate(messages, 1):
        assert msg["content"].endswith(f"({i}/13)**")
        assert_within_discord_limits(msg)
    titles = [e["title"] for m in messages for e in m["embeds"]]
    assert len(set(titles)) == 125


def test_6000_characters_a_message() -> None:
    d = many(7, max_stories=0)
    big = oversized("ü" * 3000, 30).sections[0].entries[0]
    # Five russia stories of 1,435 to 2,635 characters (300 more for each extra match).
    d = replace(
        d,
        sections=(
            replace(
                d.sections[0],
                entries=tuple(
                    replace(e, sources=big.sources, matches=big.matches[:k])
                    for k, e in enumerate(d.sections[0].entries)
                ),
            ),
        ),
    )
    messages = discord_messages(d)
    sizes = [[embed_chars(e) for e in m["embeds"]] for m in messages]
    assert all(size <= MAX_EMBED_CHARS for row in sizes for size in row)
    assert sizes == [[1435, 1735, 2035], [2335, 2635]]
    for msg in messages:
        assert_within_discord_limits(msg)
    for prev, nxt in itertools.pairwise(sizes):
        assert sum(prev) + nxt[0] > 6000  # greedy: the next embed would not have fitted


def test_our_caps_are_within_discords_limits() -> None:
    assert MAX_EMBED_CHARS <= discord.MAX_TOTAL == 6000
    assert discord.DESCRIPTION_CHARS <= discord.MAX_DESCRIPTION == 4096
    assert discord.MATCH_FIELDS <= discord.MAX_FIELDS == 25
    assert discord.FIELD_NAME_CHARS <= discord.MAX_FIELD_NAME == 256
    assert discord.FIELD_VALUE_CHARS <= discord.MAX_FIELD_VALUE == 1024
    assert (discord.MAX_TITLE, discord.MAX_AUTHOR, discord.MAX_CONTENT) == (256, 256, 2000)
    assert (discord.MAX_EMBEDS, discord.MAX_FOOTER) == (10, 2048)


def test_hostile_sizes_stay_within_every_limit() -> None:
    for d in (oversized("😀" * 3000, 30), oversized("<@1>" * 900, 40), evil_digest()):
        for msg in discord_messages(d):
            assert_within_discord_limits(msg)
    long_link = replace(sample_digest(1, 0), urgent=False)
    entry = replace(long_link.sections[0].entries[0], link="https://e.org/" + "x" * 2100)
    d = replace(long_link, sections=(replace(long_link.sections[0], entries=(entry,)),))
    [msg] = discord_messages(d)
    assert "url" not in msg["embeds"][0]  # too long for Discord: shown without a link
    with pytest.raises(ValueError, match="max_embeds"):
        discord_messages(d, max_embeds=11)
    with pytest.raises(ValueError, match="max_total"):
        discord_messages(d, max_total=6001)


# -- channel ---------------------------------------------------------------------------


async def test_posts_every_message_and_returns_a_receipt(
    webhook_receiver: WebhookReceiver,
) -> None:
    webhook_receiver.respond(HOOK, [204] * 13, body=b"")
    ch = DiscordChannel("discord", webhook_receiver.url(HOOK))
    d = many(125, max_stories=0)
    assert await ch.send(d) == Receipt(204, "", 13)
    await ch.aclose()
    reqs = webhook_receiver.wait_for(13)
    assert [r.json for r in reqs] == discord_messages(d)
    assert all(r.headers["content-type"] == "application/json" for r in reqs)


@pytest.mark.parametrize(
    ("header", "body", "expected"),
    [
        (
            None,
            b'{"message": "You are being rate limited.", "retry_after": 1.5, "global": false}',
            1.5,
        ),
        ("3", b'{"message": "You are being rate limited.", "retry_after": 2.25}', 3.0),
        ("0.75", b"", 0.75),
        (None, b"<html>busy</html>", None),
    ],
)
async def test_429_honours_retry_after(
    webhook_receiver: WebhookReceiver, header: str | None, body: bytes, expected: float | None
) -> None:
    webhook_receiver.fail(HOOK, 429, retry_after=header, body=body, content_type="application/json")
    ch = DiscordChannel("discord", webhook_receiver.url(HOOK))
    with pytest.raises(DeliveryError) as info:
        await ch.send(sample_digest())
    await ch.aclose()
    assert type(info.value) is DeliveryError
    assert (info.value.status, info.value.retry_after) == (429, expected)
    assert info.value.response == body.decode()


async def test_failures_carry_status_and_answer_and_the_retry_resumes(
    webhook_receiver: WebhookReceiver,
) -> None:
    unknown = b'{"message": "Unknown Webhook", "code": 10015}'
    webhook_receiver.fail(HOOK, 204)
    webhook_receiver.fail(HOOK, 500, body=b"internal")
    webhook_receiver.hang(HOOK)
    webhook_receiver.reset(HOOK)
    webhook_receiver.fail(HOOK, 404, body=unknown, content_type="application/json")
    ch = DiscordChannel("discord", webhook_receiver.url(HOOK), timeout=0.5)
    d = many(25, max_stories=0)
    with pytest.raises(DeliveryError, match="message 2/3: HTTP 500: internal") as info:
        await ch.send(d)
    assert (type(info.value), info.value.status, info.value.response) == (
        DeliveryError,
        500,
        "internal",
    )
    with pytest.raises(DeliveryError, match="message 2/3: timed out") as info:
        await ch.send(d)
    assert type(info.value) is DeliveryError
    with pytest.raises(DeliveryError, match="message 2/3") as info:
        await ch.send(d)
    assert type(info.value) is DeliveryError and info.value.status is None
    with pytest.raises(PermanentDeliveryError, match="Unknown Webhook") as perm:
        await ch.send(d)
    assert (perm.value.status, perm.value.response) == (404, unknown.decode())
    for error in (info.value, perm.value):
        assert "T0k3n" not in str(error) and "112233" not in str(error)
    assert await ch.send(d) == Receipt(200, "ok", 3)
    await ch.aclose()
    reqs = webhook_receiver.wait_for(7)
    assert [r.json["content"][-7:] for r in reqs] == [
        "(1/3)**",
        *["(2/3)**"] * 5,
        "(3/3)**",
    ]
