"""Feed HTML to plain text (for matching) and to safe HTML (for display)."""

from __future__ import annotations

import pytest

from alerts.sources.text import (
    collapse_whitespace,
    html_to_paragraphs,
    html_to_text,
    plain_paragraphs,
    sanitize_html,
)

REL = 'rel="noopener noreferrer nofollow"'


def test_script_and_style_are_not_text() -> None:
    markup = (
        "<style>p { color: red }</style><p>Asset freeze</p>"
        '<script>var x = "Navalny";</script><noscript>enable js</noscript>'
    )
    assert html_to_text(markup) == "Asset freeze"


@pytest.mark.parametrize(
    ("markup", "text"),
    [
        ("<p>a</p><p>b</p>", "a b"),
        ("a<br>b<br/>c", "a b c"),
        ("<ul><li>Rotenberg</li><li>Putin</li></ul>", "Rotenberg Putin"),
        ("<div>one</div><div>two</div>", "one two"),
        ("<td>x</td><td>y</td>", "x y"),
        ("<b>Sber</b><i>bank</i>", "Sberbank"),  # inline elements do not split words
    ],
)
def test_block_elements_separate_words(markup: str, text: str) -> None:
    assert html_to_text(markup) == text


def test_entities_are_unescaped() -> None:
    assert html_to_text("Soci&eacute;t&#233; G&#xE9;n&eacute;rale &amp; Co &lt;3") == (
        "Société Générale & Co <3"
    )
    assert html_to_text("&#321;ukaszenka") == "Łukaszenka"


def test_whitespace_collapses_including_nbsp() -> None:
    assert html_to_text("<p>  300&nbsp;individuals\n\tand\u00a0 45  entities </p>") == (
        "300 individuals and 45 entities"
    )
    assert collapse_whitespace(" a \u00a0\n b\r\n\tc ") == "a b c"
    assert collapse_whitespace("") == ""


def test_plain_text_passes_through() -> None:
    assert html_to_text("  Plain   title  ") == "Plain title"
    assert html_to_text("") == ""


def test_decomposed_accents_are_composed() -> None:
    # "é" as e + combining acute must match a watchlist term typed as one character.
    assert html_to_text("<p>Socie\u0301te\u0301</p>") == "Société"


def test_sanitize_removes_scripts_handlers_and_frames() -> None:
    markup = (
        '<p onclick="steal()" onmouseover="x()">Sanctions</p>'
        "<script>alert(1)</script>"
        '<iframe src="https://ads.example/"></iframe>'
        '<img src="https://t.example/pixel.gif" onerror="alert(2)">'
        "<style>body{display:none}</style>"
    )

    clean = sanitize_html(markup)

    assert clean == "<p>Sanctions</p>"


@pytest.mark.parametrize(
    "href",
    ["javascript:alert(1)", "JavaScript:alert(1)", " javascript:alert(1)", "data:text/html,x"],
)
def test_sanitize_drops_dangerous_link_targets(href: str) -> None:
    clean = sanitize_html(f'<a href="{href}">click</a>')

    assert "javascript" not in clean.lower() and "data:" not in clean
    assert "click" in clean


def test_sanitize_keeps_https_links_with_safe_rel() -> None:
    clean = sanitize_html('<a href="https://ledger.example/story" target="_blank">story</a>')

    assert clean == f'<a href="https://ledger.example/story" {REL}>story</a>'


def test_sanitize_replaces_a_feeds_own_rel() -> None:
    clean = sanitize_html('<a href="https://a.example/" rel="opener">a</a>')

    assert clean == f'<a href="https://a.example/" {REL}>a</a>'


def test_sanitize_keeps_basic_formatting() -> None:
    markup = "<p><strong>Listed:</strong> <em>two</em> entities</p><ul><li>one</li></ul>"
    assert sanitize_html(markup) == markup


def test_sanitize_resolves_relative_links_against_a_base() -> None:
    clean = sanitize_html(
        '<a href="/notices/12.pdf">PDF</a> <a href="13.html">next</a>',
        base_url="https://ministry.example/feeds/notices.xml",
    )

    assert 'href="https://ministry.example/notices/12.pdf"' in clean
    assert 'href="https://ministry.example/feeds/13.html"' in clean
    assert sanitize_html('<a href="/x">x</a>') == f'<a href="/x" {REL}>x</a>'


def test_sanitize_empty() -> None:
    assert sanitize_html("") == ""
    assert sanitize_html("   ") == ""


@pytest.mark.parametrize(
    ("markup", "paragraphs"),
    [
        ("<p>a</p><p>b</p>", "a\nb"),
        ("a<br>b<br/>c", "a\nb\nc"),
        ("<ul><li>Rotenberg</li><li>Putin</li></ul>", "Rotenberg\nPutin"),
        ("<div><p>one</p>\n\n<p>two</p></div>", "one\ntwo"),  # no empty paragraphs
        ("<td>x</td><td>y</td>", "x\ny"),
        ("<b>Sber</b><i>bank</i> <em>PJSC</em>", "Sberbank PJSC"),  # inline stays in the line
        ("<p>Asset\nfreeze\r\n and\ttravel ban</p>", "Asset freeze and travel ban"),
        ("<p>Na\u00advalny\u200b</p>", "Navalny"),
        ("<p>Socie\u0301te\u0301</p>", "Société"),
        ("<p>a&#10;b&nbsp;c</p>", "a b c"),  # an encoded newline inside text is a space
        ("<script>var x = 1;</script><p>kept</p><style>p{}</style>", "kept"),
        ("<p>  </p><br><p></p>", ""),
        ("Plain\n\ntext", "Plain text"),  # no markup: HTML rules, newlines are spaces
        ("", ""),
    ],
)
def test_html_to_paragraphs(markup: str, paragraphs: str) -> None:
    assert html_to_paragraphs(markup) == paragraphs


def test_paragraphs_have_no_other_line_breaks() -> None:
    text = html_to_paragraphs("<p>a\u2028b\u2029c\x85d\x0be\x0cf</p><p>g</p>")

    assert text == "a b c d e f\ng"
    assert html_to_text("<p>a</p><p>b</p>") == "a b"  # titles stay one line


@pytest.mark.parametrize(
    ("text", "paragraphs"),
    [
        ("one line\nwrapped\n\nsecond", "one line wrapped\nsecond"),
        ("a\r\n\r\nb\r\n \r\n\r\nc", "a\nb\nc"),
        ("  \n\n  ", ""),
        ("Na\u00advalny", "Navalny"),
    ],
)
def test_plain_paragraphs(text: str, paragraphs: str) -> None:
    assert plain_paragraphs(text) == paragraphs
