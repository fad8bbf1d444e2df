"""Text and HTML rendering: grouping, time zones, links, highlighting, escaping."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from jinja2 import Environment, FileSystemLoader, StrictUndefined, UndefinedError

from alerts.delivery.digest import build_digest
from alerts.delivery.labels import labels
from alerts.delivery.render import (
    MAX_SOURCES,
    counts_phrase,
    format_time,
    highlight_html,
    highlight_segments,
    highlight_text,
    match_html,
    match_segments,
    render_confirmation,
    render_email,
    render_html,
    render_text,
    safe_link,
)
from alerts.domain import (
    AlertKind,
    Digest,
    DigestSection,
    Importance,
    Match,
    StorySource,
    Subscription,
)
from alerts.web.digests import digest_page_view
from alerts.web.pages import web_templates_dir
from tests.test_digest import (
    DESIGNATION_MATCH,
    FACET_MATCH,
    HOSTILE_FACETS,
    NOW,
    as_entry,
    entry,
    facet_digest,
    match,
    outlets,
    sample_digest,
    source,
    story_digest,
    with_facets,
)


def bare(html: str) -> str:
    """`html` without the `style`/`class` attributes css_inline and the templates add."""
    return re.sub(r' (?:style|class)="[^"]*"', "", html)


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
    assert "Treasury sanctions <mark>Rosneft</mark> subsidiaries" in bare(html)
    assert "max-width: 600px" in html
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
    # css_inline reserialises the document: quotes need no escaping in text.
    assert "&lt;script&gt;alert('x')&lt;/script&gt; <mark>Rosneft</mark> &lt;b&gt;deal" in bare(
        html
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


# -- stories ---------------------------------------------------------------------------


def russia_block(text: str) -> str:
    return text.split("## russia", 1)[1].split("## iran", 1)[0]


def test_text_lists_a_story_s_sources_official_first_capped() -> None:
    text = render_text(story_digest(14))
    assert '3 new stories and 2 updates for "compliance-team"' in text
    assert "## russia (2 new, 2 updates)" in text and "## iran (1)" in text
    story = text.split("* Treasury designates Rosneft network\n", 1)[1].split("\n* ", 1)[0]
    assert story.startswith("  Global Wire | 29 Nov 2026 05:15 GMT\n")  # no "also in": listed
    assert story.count("Rosneft (title)") == 1
    lines = story.split("  Sources (15):\n", 1)[1].splitlines()
    assert lines[0] == (
        "  - [official] OFAC Recent Actions | 29 Nov 2026 04:15 GMT: Russia-related Designations"
    )
    assert lines[1] == "    https://ofac.example/news/10"
    # The headline's own copy: no link again; copies under the same headline: no title.
    assert lines[2:4] == [
        "  - Global Wire | 29 Nov 2026 05:15 GMT",
        "  - Outlet 1 | 29 Nov 2026 05:20 GMT: Treasury designates Rosneft network, outlet 1 says",
    ]
    assert lines[5:7] == [
        "  - Outlet 2 | 29 Nov 2026 05:25 GMT",
        "    https://outlet2.example/news/13",
    ]
    assert sum(1 for line in lines if line.startswith("  - ")) == MAX_SOURCES
    assert lines[-1] == "  ... and 5 more"
    assert text.count("[official]") == 1


def test_source_times_are_in_the_subscriber_zone() -> None:
    text = render_text(replace(story_digest(3), timezone="Asia/Tokyo"))
    assert "[official] OFAC Recent Actions | 29 Nov 2026 13:15 JST" in text
    assert "Sources (4):" in text and "more" not in text.split("Sources (4):")[1].split("*")[0]


def test_a_story_of_one_item_shows_no_source_list() -> None:
    text = render_text(story_digest())
    single = text.split("* Rosneft shares fall\n", 1)[1].split("\n* ", 1)[0]
    assert "Sources" not in single
    assert "Sources" not in render_text(sample_digest())
    html = render_html(sample_digest())
    assert "Sources (" not in html and "also in: eu-council" in html


def test_text_update_lines_follow_the_new_stories_with_their_flags() -> None:
    russia = russia_block(render_text(story_digest()))
    stories = [line for line in russia.splitlines() if line.startswith("* ")]
    assert stories == [
        "* Rosneft shares fall",
        "* Treasury designates Rosneft network",
        "* Update: Rosneft traders named (corrected) [updated]",
        "* Update: EU follows US on Sovcomflot tankers - also reported by Council of the EU",
    ]
    grown = russia.split("* Update: EU follows", 1)[1]
    assert "\n  >> New: Sovcomflot\n" in grown
    # Only the snippet of the new entry: the story was sent for Rosneft already.
    assert "Sovcomflot (summary): The Council adds **Sovcomflot** and 12 tankers" in grown
    assert "Rosneft (" not in grown
    edited = russia.split("* Update: Rosneft traders", 1)[1].split("* Update: EU", 1)[0]
    assert "New:" not in edited and "Rosneft (" not in edited


def test_html_lists_sources_with_official_badge_and_more() -> None:
    html = bare(render_html(story_digest(14)))
    assert "3 new stories and 2 updates for \u201ccompliance-team\u201d" in html
    assert "(2 new, 2 updates)" in html
    sources = html.split("Sources (15)</div>", 1)[1].split("</ul>", 1)[0]
    assert sources.count("<li") == MAX_SOURCES
    badge = sources.index(">official</span>")
    assert badge < sources.index("OFAC Recent Actions") < sources.index("Outlet 1")
    assert html.count(">official</span>") == 1
    assert '<a href="https://ofac.example/news/10">Russia-related' in html
    assert '<a href="https://outlet2.example/news/13">Outlet 2</a>' in html
    assert "29 Nov 2026 04:15 GMT" in sources
    assert ">and 5 more</div>" in html
    assert "also in:" not in html


def test_html_update_lines_are_lighter_and_flagged() -> None:
    html = render_html(story_digest())
    russia = html.split(">russia <", 1)[1].split(">iran <", 1)[0]
    assert russia.index("Rosneft network</a>") < russia.index("Update:")
    edited, grown = russia.split("Update:</span>")[1:]
    # An outlet's edit of its own item names no new source.
    assert "Rosneft traders named (corrected)</a>" in edited and "also reported" not in edited
    assert ">updated</span>" in edited and "New:" not in edited
    assert ">New: Sovcomflot</span>" in grown and "background: #ffe066" in grown
    assert "The Council adds <mark>Sovcomflot</mark> and 12 tankers" in bare(grown)
    assert ">updated</span>" not in grown and "Rosneft" not in grown
    # Lighter than a story: smaller type, a side rule, no headline size.
    line_style = russia.split("Update:</span>")[0].rsplit("<div", 1)[1]
    assert "font-size: 13px" in line_style and "border-left" in line_style


def test_hostile_source_text_is_escaped_in_html() -> None:
    d = story_digest(
        4,
        feed_title="<script>alert('feed')</script> Wire",
        source_title="<img src=x onerror=alert(1)> & co",
    )
    evil = StorySource(99, "evil", "<b onmouseover=x>Evil</b>", "Other", "javascript:alert(1)", NOW)
    first = d.sections[0].entries[1]
    assert first.story_key == "story-1"
    d = replace(
        d,
        sections=(
            DigestSection(
                "russia",
                (replace(first, sources=(*first.sources, evil)), *d.sections[0].entries[2:]),
            ),
        ),
    )
    html = render_html(d)
    assert "<script" not in html and "<img" not in html and "<b " not in html
    assert "javascript:" not in html
    assert "&lt;script&gt;alert('feed')&lt;/script&gt; Wire" in html
    assert "&lt;img src=x onerror=alert(1)&gt; &amp; co" in html
    assert "&lt;b onmouseover=x&gt;Evil&lt;/b&gt;: Other" in html  # listed, not linked
    text = render_text(d)
    assert "<script>alert('feed')</script> Wire" in text  # plain text is not HTML


def test_sources_are_listed_official_first_whatever_the_digest_order() -> None:
    # The store lists official sources first; the renderer does not rely on it.
    [wire] = outlets(1, first_id=1, hours_ago=1, title="T")
    notice = source(2, "eu", "EU", official=True)
    d = build_digest(
        Subscription("s", ("russia",), "c"),
        [entry(1, match("russia", "x"), story_key="k", sources=(wire, notice))],
        idempotency_key="k",
        now=NOW,
    )
    assert [s.feed for s in d.sections[0].entries[0].sources] == ["outlet0", "eu"]
    text = render_text(d)
    assert text.index("[official] EU") < text.index("- Outlet 0")


def test_copies_matching_the_same_entry_show_one_snippet() -> None:
    copies = outlets(3, first_id=1, hours_ago=2, title="Rosneft deal")
    base = entry(0, story_key="k", sources=tuple(copies), kind=AlertKind.MEMBER)
    entries = [
        as_entry(
            replace(base, matches=(match("russia", "Rosneft", f"Rosneft copy {s.item_id}"),)), s
        )
        for s in copies
    ]
    entries[0] = replace(entries[0], kind=AlertKind.NEW)
    d = build_digest(Subscription("s", ("russia",), "c"), entries, idempotency_key="k", now=NOW)
    [story] = d.sections[0].entries
    assert len(story.matches) == 3  # the payload keeps them all
    assert render_text(d).count("- Rosneft (title):") == 1


def test_update_line_names_at_most_ten_new_sources() -> None:
    feeds = tuple(f"Outlet {i}" for i in range(13))
    line = replace(story_digest().sections[0].entries[2], also_in=(*feeds, ""))
    assert line.update
    d = replace(story_digest(), sections=(DigestSection("russia", (line,)),))
    text = render_text(d)
    assert "also reported by Outlet 0, Outlet 1, " in text
    assert "Outlet 9 and 3 more [updated]" in text
    assert "1 update for" in text


def test_counts_phrase() -> None:
    assert counts_phrase(1, 0) == "1 new story"
    assert counts_phrase(0, 0) == "0 new stories"
    assert counts_phrase(3, 1) == "3 new stories and 1 update"
    assert counts_phrase(0, 2) == "2 updates"


def test_only_updates_digest_renders() -> None:
    full = story_digest()
    d: Digest = replace(full, sections=(DigestSection("russia", full.sections[0].entries[2:]),))
    text = render_text(d)
    assert "## russia (2 updates)" in text
    assert "2 updates for" in text
    assert "(2 updates)" in render_html(d)


# -- email bodies ----------------------------------------------------------------------


def test_render_email_fills_each_recipient_s_link_into_a_body_rendered_once() -> None:
    rendered = render_email(sample_digest(), unsubscribe=True)
    a_text, a_html = rendered.personalise("https://alerts.example.org/unsubscribe/A?x=1&y=2")
    b_text, _ = rendered.personalise("https://alerts.example.org/unsubscribe/B")
    assert "Unsubscribe: https://alerts.example.org/unsubscribe/A?x=1&y=2\n" in a_text
    assert '<a href="https://alerts.example.org/unsubscribe/A?x=1&amp;y=2"' in a_html
    assert "unsubscribe/B" in b_text and "unsubscribe/A" not in b_text
    assert "slot" not in a_text + a_html
    with pytest.raises(ValueError, match="unsubscribe link"):
        rendered.personalise("")
    # Without links: no footer link, and the body is the plain render.
    plain = render_email(sample_digest())
    assert plain.personalise() == (render_text(sample_digest()), render_html(sample_digest()))
    assert "Unsubscribe" not in plain.text + plain.html


def test_html_inlines_css_and_keeps_dark_and_narrow_media_queries() -> None:
    html = render_html(sample_digest())
    head, page = html.split("</head>", 1)
    assert '<meta name="color-scheme" content="light dark">' in head
    style = head.split("<style>", 1)[1].split("</style>", 1)[0]
    # Only @media rules are left in the block; everything else is in style attributes.
    assert style.lstrip().startswith("@media (prefers-color-scheme: dark)")
    assert "@media (max-width: 620px)" in style
    dark = style.split("@media (max-width", 1)[0]
    assert re.search(r"mark[^{]*\{[^}]*background: #f2c744 !important", dark)
    assert '<mark style="background: #ffe066;color: #222222;' in page
    assert 'class="wrap" style="' in page and "max-width: 600px" in page


def test_urgent_digest_is_flagged_at_the_top() -> None:
    d = replace(sample_digest(), urgent=True)
    text, html = render_text(d), render_html(d)
    assert text.startswith("!! URGENT: sent at once for urgent matches")
    assert html.index('class="urgent"') < html.index("<h1")
    assert "URGENT" not in render_text(sample_digest())


def test_urgent_and_high_stories_carry_a_badge() -> None:
    d = sample_digest()
    first = replace(d.sections[0].entries[0], importance=Importance.URGENT)
    d = replace(d, sections=(replace(d.sections[0], entries=(first,)),))
    assert "* [URGENT] Treasury designates Rosneft network 1" in render_text(d)
    assert ">urgent</span>" in render_html(d)


def test_heartbeat_is_short() -> None:
    d = replace(sample_digest(), sections=())
    text, html = render_text(d), render_html(d)
    assert 'No new alerts since the last digest for "compliance-team"' in text
    assert "(checked 29 Nov 2026 08:15 GMT)" in text
    assert "##" not in text and "new stories for" not in text
    assert "No new alerts since the last digest" in html and "<h2" not in html


def test_stories_beyond_the_limit_are_counted_and_linked() -> None:
    more = "https://alerts.example.org/digests/t0k"
    d = replace(sample_digest(3, 2), max_stories=4, more_url=more)
    text = render_text(d)
    assert "## russia (3)" in text and "## iran (2)" in text  # counts of the whole digest
    assert text.count("\n* ") == 4
    assert f"... and 1 more story: {more}\n" in text
    html = bare(render_html(d))
    assert f'<a href="{more}">and 1 more story →</a>' in html
    # Without a public URL the count stays; a feed-made link never becomes an href.
    assert "and 1 more story not shown here" in render_text(replace(d, more_url=""))
    hostile = render_html(replace(d, more_url="javascript:alert(1)"))
    assert "javascript:" not in hostile and "and 1 more story not shown here" in hostile
    assert "more stor" not in render_text(replace(d, max_stories=0))


def test_confirmation_email_escapes_the_subscription_name() -> None:
    text, html = render_confirmation(
        "<b>team</b>", "https://alerts.example.org/confirm/T", watchlists=("russia", "iran")
    )
    assert '"<b>team</b>"' in text and "(watchlists: russia, iran)" in text
    assert "https://alerts.example.org/confirm/T" in text
    assert "&lt;b&gt;team&lt;/b&gt;" in html and "<b>" not in html
    assert 'href="https://alerts.example.org/confirm/T"' in html
    assert "@media (prefers-color-scheme: dark)" in html
    with pytest.raises(ValueError, match="http"):
        render_confirmation("s", "data:text/html,hi")


# -- labels and facet matches (issue 6) ------------------------------------------------


def test_text_shows_labels_under_the_headline() -> None:
    text = render_text(facet_digest())
    news = text.split("* Treasury designates Rosneft network 1\n", 1)[1]
    assert news.startswith(
        "  [EU] [Sanctions package] [Russia] [Belarus] [Asset freeze] [Travel ban]\n"
        "  OFAC Recent Actions"
    )
    assert "  [US] [Added to us-ofac-sdn] [Russia] [Asset freeze] [RUSSIA-EO14024]\n" in text
    # A story without facets has no label line.
    plain = text.split("* Treasury designates Rosneft network 3\n", 1)[1]
    assert plain.startswith("  OFAC Recent Actions")


def test_html_shows_labels_as_pills_readable_in_dark_mode() -> None:
    html = render_html(facet_digest())
    pills = re.findall(r'<span class="label label-(\w+)"[^>]*>([^<]*)</span>', html)
    assert pills[:3] == [("issuer", "EU"), ("action", "Sanctions package"), ("target", "Russia")]
    assert ("designation", "Added to us-ofac-sdn") in pills
    assert ("programme", "RUSSIA-EO14024") in pills
    # Inlined for clients that drop <style>; dark colours kept in the @media block.
    assert re.search(r'class="label label-target" style="[^"]*border-radius: 9px', html)
    dark = html.split("@media (prefers-color-scheme: dark)", 1)[1].split("@media", 1)[0]
    assert re.search(r"\.label \{[^}]*background: #2c3136 !important", dark)
    assert html.count('class="labels"') == 2  # the third story has no facets


def test_update_lines_carry_no_labels() -> None:
    d = story_digest(3)
    d = with_facets(d, *[HOSTILE_FACETS] * d.entry_count)
    text = render_text(d)
    updates = text.split("* Update: ", 1)[1].split("## iran", 1)[0]
    assert "[<!channel>]" not in updates
    assert "[<!channel>]" in text.split("* Update: ", 1)[0]  # new stories have them


def test_hostile_facet_values_are_escaped() -> None:
    d = facet_digest(HOSTILE_FACETS)
    html = render_html(d)
    assert "<script" not in html and "<!channel>" not in html
    assert ">&lt;script&gt;alert(1)&lt;/script&gt;</span>" in bare(html)
    assert ">&lt;!CHANNEL&gt;</span>" not in html  # a long issuer is not upper-cased
    assert ">&lt;!channel&gt;</span>" in bare(html)
    # The text part is plain text: shown as written.
    assert "[<!channel>] [<script>alert(1)</script>] [@everyone]" in render_text(d)


def test_facet_and_designation_matches_render_without_empty_marks() -> None:
    # A facet match's snippet is a reason: never highlighted, even where the query's
    # words happen to occur in it.
    assert [seg.hit for seg in match_segments(FACET_MATCH)] == [False]
    assert str(match_html(FACET_MATCH)) == "issuer:eu from Council of the EU (official source)"
    empty = replace(FACET_MATCH, snippet="")
    assert match_segments(empty) == [] and str(match_html(empty)) == ""
    # A designation match marks the name as listed, not the watchlist's spelling.
    assert str(match_html(DESIGNATION_MATCH)) == (
        "us-ofac-sdn: added <mark>ROTENBERG, Arkadii</mark> (RUSSIA-EO14024)"
    )
    d = facet_digest()
    text, html = render_text(d), render_html(d)
    assert (
        '- issuer:EU (facet, as "issuer:EU"): issuer:eu from Council of the EU (official source)'
        in text
    )
    assert (
        '- Arkady Rotenberg (designation, as "ROTENBERG, Arkadii"): '
        "us-ofac-sdn: added **ROTENBERG, Arkadii** (RUSSIA-EO14024)"
    ) in text
    assert "<mark></mark>" not in html and "****" not in text
    assert "added <mark>ROTENBERG, Arkadii</mark>" in bare(html)


def test_web_digest_page_shows_labels_escaped() -> None:
    # The full digest page renders the labels its view gives each story (as {kind, text},
    # like the email's), escaped; a story without labels renders without the list.
    d = facet_digest(HOSTILE_FACETS)
    view = digest_page_view(d)
    assert any(story["labels"] for story in view["sections"][0]["stories"])
    for story in view["sections"][0]["stories"]:
        story["labels"] = []
    # As alerts.web.pages.Pages sets it up: autoescaped, strict.
    env = Environment(
        loader=FileSystemLoader(web_templates_dir()),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    before = env.get_template("digest.html.j2").render(root="", stylesheet="s.css", **view)
    assert 'class="labels"' not in before
    entries = d.sections[0].entries
    for story, e in zip(view["sections"][0]["stories"], entries, strict=True):
        story["labels"] = [{"kind": x.kind, "text": x.text} for x in labels(e.facets)]
    html = env.get_template("digest.html.j2").render(root="", stylesheet="s.css", **view)
    assert html.count('<ul class="labels" aria-label="Labels">') == 2
    assert '<li class="label label-issuer">&lt;!channel&gt;</li>' in html
    assert '<li class="label label-designation">Added to us-ofac-sdn</li>' in html
    assert "<script" not in html
