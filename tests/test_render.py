"""Text and HTML rendering: grouping, time zones, links, highlighting, escaping."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from jinja2 import UndefinedError

from alerts.delivery.digest import build_digest
from alerts.delivery.render import (
    format_time,
    highlight_html,
    highlight_segments,
    highlight_text,
    render_html,
    render_text,
    safe_link,
)
from alerts.domain import Match, Subscription
from tests.test_digest import NOW, entry, match, sample_digest


def test_text_groups_by_watchlist_with_story_details() -> None:
    text = render_text(sample_digest(2, 1))
    assert text.startswith("Sanctions alerts: 3 new stories (russia, iran)\n")
    assert text.index("## russia (2)") < text.index("## iran (1)")
    assert "OFAC Recent Actions (also in: eu-council) | 29 Nov 2026 07:15 GMT" in text
    assert "https://example.org/news/1\n" in text
    assert "Rosneft (title): Treasury sanctions **Rosneft** subsidiaries in Dubai" in text
    assert "{{" not in text and "{%" not in text


def test_html_has_links_marks_and_phone_friendly_container() -> None:
    html = render_html(sample_digest(2, 1))
    assert '<a href="https://example.org/news/1"' in html
    assert "Treasury sanctions <mark>Rosneft</mark> subsidiaries" in html
    assert "max-width:640px" in html
    assert 'name="viewport"' in html
    assert "also in: eu-council" in html
    # Self-contained: no external stylesheets, scripts or images.
    assert "<link" not in html and "<script" not in html and "<img" not in html


def test_times_are_shown_in_the_digest_time_zone() -> None:
    summer = datetime(2026, 7, 1, 7, 15, tzinfo=UTC)
    assert format_time(summer, ZoneInfo("Europe/London")) == "1 Jul 2026 08:15 BST"
    assert format_time(NOW, ZoneInfo("Europe/London")) == "29 Nov 2026 08:15 GMT"
    assert format_time(NOW, ZoneInfo("America/New_York")) == "29 Nov 2026 03:15 EST"
    sub = Subscription("s", ("russia",), "c")
    d = build_digest(
        sub,
        [entry(1, match("russia", "x"), published=NOW)],
        idempotency_key="k",
        now=NOW,
        timezone="Asia/Tokyo",
    )
    assert "29 Nov 2026 17:15 JST" in render_text(d)


def test_malicious_feed_text_is_escaped_in_html() -> None:
    evil = "<script>alert('x')</script> Rosneft <b>deal</b> & <img src=x onerror=1>"
    sub = Subscription("s", ("russia",), "c")
    d = build_digest(
        sub,
        [
            entry(
                1,
                match("russia", "Rosneft", evil),
                title="<script>steal()</script>",
                link="javascript:alert(1)",
            )
        ],
        idempotency_key="k",
        now=NOW,
    )
    html = render_html(d)
    assert "<script" not in html
    assert "&lt;script&gt;steal()&lt;/script&gt;" in html
    assert (
        "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; <mark>Rosneft</mark> &lt;b&gt;deal" in html
    )
    assert "<img" not in html and "javascript:" not in html


def test_highlight_escapes_everything_but_mark() -> None:
    assert str(highlight_html("a <i>Rosneft</i> b", "rosneft")) == (
        "a &lt;i&gt;<mark>Rosneft</mark>&lt;/i&gt; b"
    )
    # A term that itself looks like markup is escaped inside the mark.
    assert str(highlight_html("x <b> y", "<b>")) == "x <mark>&lt;b&gt;</mark> y"


def test_highlight_finds_phrases_case_insensitively_whole_words_first() -> None:
    segs = highlight_segments("The Central  Bank of Iran and central bankers", "central bank")
    assert [s.text for s in segs if s.hit] == ["Central  Bank"]
    # Falls back to substring when the term only occurs inside a word.
    assert highlight_text("Rosneftegaz shares", "Rosneft") == "**Rosneft**egaz shares"
    assert highlight_text("nothing here", "Rosneft") == "nothing here"
    assert highlight_text("IRGC, irgc and Irgc", "IRGC") == "**IRGC**, **irgc** and **Irgc**"


def test_safe_link_only_allows_http() -> None:
    assert safe_link("https://x.org/a") == "https://x.org/a"
    assert safe_link("HTTP://x.org") == "HTTP://x.org"
    assert safe_link("javascript:alert(1)") is None
    assert safe_link("data:text/html,hi") is None
    assert safe_link(None) is None


def test_story_without_link_or_time_renders() -> None:
    sub = Subscription("s", ("russia",), "c")
    d = build_digest(
        sub, [entry(1, match("russia", "x"), link=None, title="  ")], idempotency_key="k", now=NOW
    )
    assert "(untitled)" in render_text(d)
    assert "<a href" not in render_html(d).split("</h2>", 1)[1].split("Reference")[0]


def test_override_directory_and_strict_undefined(tmp_path: Path) -> None:
    (tmp_path / "digest.txt.j2").write_text("{{ subject }} / {{ nope }}")
    with pytest.raises(UndefinedError):
        render_text(sample_digest(), templates_dir=tmp_path)
    (tmp_path / "digest.html.j2").write_text("<p>{{ subscription }}</p>")
    d = sample_digest()
    assert render_html(d, templates_dir=tmp_path) == "<p>compliance-team</p>"


def test_engine_highlight_marks_a_hit_spelt_unlike_its_term() -> None:
    # An entity hit in another script: the term's words are not in the snippet, so the
    # engine's highlight offsets decide what is marked.
    snippet = "Минфин США ввёл санкции против Навального"
    at = snippet.index("Навального")
    assert highlight_text(snippet, "Alexei Navalny", (at, len(snippet))) == (
        "Минфин США ввёл санкции против **Навального**"
    )
    assert str(highlight_html("<b>Навального</b>", "Alexei Navalny", (3, 13))) == (
        "&lt;b&gt;<mark>Навального</mark>&lt;/b&gt;"
    )
    # Offsets that do not fit the snippet fall back to finding the term.
    assert highlight_text("Rosneft shares", "Rosneft", (5, 99)) == "**Rosneft** shares"


def test_digest_shows_how_an_entity_matched() -> None:
    from alerts.domain import MatchKind

    hit = Match(
        "russia",
        "Muammar Gaddafi",
        "summary",
        0,
        15,
        "Moammar Qadhafi spoke",
        kind=MatchKind.ENTITY,
        matched="Moammar Qadhafi",
        score=0.92,
        highlight=(0, 15),
    )
    digest = build_digest(
        Subscription("s", ("russia",), "mail"), [entry(1, hit)], now=NOW, idempotency_key="k"
    )
    text = render_text(digest)
    assert (
        'Muammar Gaddafi (summary, as "Moammar Qadhafi", fuzzy 0.92): **Moammar Qadhafi** spoke'
        in text
    )
    assert "fuzzy 0.92" in render_html(digest)
