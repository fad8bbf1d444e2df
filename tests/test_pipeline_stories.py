"""One alert per story, end to end: outlets' feeds and article pages served over real HTTP,
the official notices beside them, mail read back from a real SMTP server, on SQLite and
PostgreSQL.

The Navalny case from the project brief: three outlets syndicate the story with their own
headlines and page furniture, each feed's teaser ending in its promo footer; OFAC and the
EU Council publish their notices. The subscriber gets one alert listing every source,
official ones first; nothing in a footer matches; an edit that adds nothing is not news,
an edit that adds a watched name is an update; and a restart does not re-alert.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from alerts.config import Config, load_config
from alerts.domain import AlertKind
from alerts.pipeline import Pipeline
from alerts.store.repository import Store
from tests.support.feed_server import FeedServer
from tests.support.smtp_server import SmtpTestServer
from tests.test_pipeline import item, make_pipeline, rss

__all__ = ["make_pipeline"]  # the fixture, re-used from test_pipeline

PAGES = Path(__file__).parent / "data" / "pages"
HTML = {"Content-Type": "text/html; charset=utf-8"}
FOOTER = (
    "Read more: sanctions against Russia explained. Support independent free thinkers: "
    "become a member today. Privacy Policy"
)
OUTLETS = {
    # feed name: (page fixture, headline, teaser)
    "courier": (
        "courier-navalny.html",
        "U.S. hits Russia with sanctions over Navalny",
        "Washington punished seven senior officials on Tuesday.",
    ),
    "ledger": (
        "ledger-navalny.html",
        "Biden administration sanctions Russia over Navalny poisoning",
        "The measures target officials tied to the poisoning.",
    ),
    "meridian": (
        "meridian-navalny.html",
        "US sanctions Russian officials over Navalny poisoning",
        "Seven officials and export restrictions.",
    ),
}
OFFICIAL = {
    "ofac": (
        "ofac-recent-action.html",
        "Russia-related Designations",
        "OFAC added seven individuals to the SDN List.",
    ),
    "eu-council": (
        "eu-council-navalny.html",
        "Navalny case: EU sanctions four people",
        "The Council imposed restrictive measures on four individuals.",
    ),
}


def teaser(text: str, footer: str = FOOTER) -> str:
    return f"<![CDATA[<p>{text}</p><p>{footer}</p>]]>"


def serve(feed_server: FeedServer, name: str, page: str, headline: str, text: str) -> None:
    body = (PAGES / page).read_bytes()
    feed_server.route(f"/{name}/story.html", body=body, headers=HTML)
    entry = item(f"{name}-1", headline, feed_server.url(f"/{name}/story.html"), teaser(text))
    feed_server.route(f"/{name}.xml", body=rss(entry, title=name))


def write_config(tmp_path: Path, feed_server: FeedServer, names: list[str]) -> Config:
    lines = ['[settings]\ntimezone = "Europe/London"\n']
    for name in names:
        lines.append(
            f'[[feeds]]\nname = "{name}"\ntitle = "{name.title()}"\n'
            f'url = "{feed_server.url(f"/{name}.xml")}"\ninterval = "30m"\n'
            f"fetch_article = true\nofficial = {'true' if name in OFFICIAL else 'false'}\n"
        )
    lines.append(
        '[[watchlists]]\nname = "russia"\n'
        'terms = ["Navalny", "sanctions against Russia", "Sovcomflot"]\n'
    )
    lines.append('[[channels]]\nname = "mail"\ntype = "email"\nto = ["a@example.org"]\n')
    lines.append(
        '[[subscriptions]]\nname = "mail-sub"\nwatchlists = ["russia"]\nchannel = "mail"\n'
        'schedule = "immediate"\n'
    )
    path = tmp_path / "feeds.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return load_config(path, environ={})


def text_of(message: Any) -> str:
    return str(message.get_body(preferencelist=("plain",)).get_content())


async def test_one_alert_per_story_with_every_source(
    tmp_path: Path,
    feed_server: FeedServer,
    smtp_server: SmtpTestServer,
    store: Store,
    make_pipeline: Callable[..., Any],
) -> None:
    for name, (page, headline, text) in {**OUTLETS, **OFFICIAL}.items():
        serve(feed_server, name, page, headline, text)
    # An unrelated story whose page and feed footer both name watched words.
    unrelated = (
        b"<html><head><title>Water main break floods downtown</title></head><body><nav>"
        b'<a href="/">Home</a> <a href="/world">World</a></nav><article><h1>Water main break '
        b"floods downtown</h1><p>A water main broke under Harbour Street early on Tuesday, "
        b"flooding basements and closing the tram line for most of the morning.</p><p>Crews "
        b"from the city utility said the pipe, laid in 1911, had cracked after a week of "
        b"frost, and that repairs would take until Thursday.</p><p>Shops along the street "
        b"stayed closed while pumps cleared the water, and the council offered sandbags to "
        b"residents of the lower town.</p></article><aside><h2>Related</h2><ul><li><a "
        b'href="/n">Navalny: a timeline</a></li><li><a href="/s">Why sanctions against Russia '
        b"matter</a></li></ul></aside><footer><p>Support independent free thinkers: become a "
        b"member. Privacy Policy</p></footer></body></html>"
    )
    feed_server.route("/gazette/water.html", body=unrelated, headers=HTML)
    water = item(
        "gazette-1",
        "Water main break floods downtown",
        feed_server.url("/gazette/water.html"),
        teaser("Harbour Street was closed for most of the morning."),
    )
    feed_server.route("/gazette.xml", body=rss(water, title="gazette"))
    names = [*OUTLETS, *OFFICIAL, "gazette"]
    config = write_config(tmp_path, feed_server, names)
    pipeline: Pipeline = await make_pipeline(config, smtp_url=smtp_server.url)

    results = {r.feed: r for r in await pipeline.poll_due()}
    assert {r.status for r in results.values()} == {"fetched"}, results
    stored = {i.feed: i for i in store.items()}
    assert all(i.extract_error is None and i.content for i in stored.values()), [
        (i.feed, i.extract_error) for i in stored.values()
    ]
    # Nothing in a footer, a related-links box or a feed's promo paragraph matched.
    assert stored["gazette"].matches == ()
    for i in stored.values():
        for m in i.matches:
            assert not re.search(r"(?i)privacy|support independent|read more", m.snippet), m
    # The press copies and the official notices are one story.
    story = stored["courier"].story_key
    assert {i.feed for i in stored.values() if i.story_key == story} == {*OUTLETS, *OFFICIAL}

    sent = await pipeline.deliver_due()
    assert [r.status for r in sent] == ["sent"]
    [message] = smtp_server.wait_for(1)
    text = text_of(message.message)
    assert "Sanctions alerts: 1 new story" in message.message["Subject"]
    sources = text.split("Sources (", 1)[1]
    assert sources.startswith(f"{len(OUTLETS) + len(OFFICIAL)})")
    official_at = max(sources.index("Ofac"), sources.index("Eu-Council"))
    assert all(official_at < sources.index(name.title()) for name in OUTLETS)
    assert "Water main" not in text

    # The courier edits its headline without changing what matches: a revision, no alert.
    clock = pipeline.clock
    clock.advance(hours=1)  # type: ignore[attr-defined]
    page, _, text_ = OUTLETS["courier"]
    serve(feed_server, "courier", page, "U.S. sanctions Russian officials over Navalny", text_)
    again = {r.feed: r for r in await pipeline.poll_due()}
    assert again["courier"].updated == 1 and again["courier"].queued == 0
    assert await pipeline.deliver_due() == []
    [courier] = store.items("courier")
    assert courier.revision == 2 and len(store.revisions(courier.id)) == 1
    # The edit is matched with the stored article text: its matches there are kept.
    assert "content" in {m.field for m in courier.matches}

    # An edit that adds a watched name is an update line flagged with it, not a new alert.
    clock.advance(hours=1)  # type: ignore[attr-defined]
    grown = "U.S. sanctions Russian officials over Navalny; Sovcomflot named"
    serve(feed_server, "courier", page, grown, text_)
    again = {r.feed: r for r in await pipeline.poll_due()}
    assert again["courier"].updated == 1 and again["courier"].queued == 1
    assert [r.status for r in await pipeline.deliver_due()] == ["sent"]
    update = smtp_server.wait_for(2)[1].message
    assert "1 update" in update["Subject"] and "new stor" not in update["Subject"]
    assert "Update:" in text_of(update) and "Sovcomflot" in text_of(update)


async def test_a_restart_keeps_stories_and_does_not_re_alert(
    tmp_path: Path,
    feed_server: FeedServer,
    smtp_server: SmtpTestServer,
    store: Store,
    make_pipeline: Callable[..., Any],
) -> None:
    page, headline, text = OUTLETS["ledger"]
    serve(feed_server, "ledger", page, headline, text)
    config = write_config(tmp_path, feed_server, ["ledger", "mirror"])
    first: Pipeline = await make_pipeline(config, smtp_url=smtp_server.url)
    # "mirror" is not served yet: its poll fails and is retried later.
    await first.poll_due()
    assert [r.status for r in await first.deliver_due()] == ["sent"]
    await first.aclose()

    # After a restart, a copy of the page under another URL, without its canonical link,
    # can only be recognised by its text: the index is rebuilt from stored fingerprints.
    body = (PAGES / page).read_text(encoding="utf-8")
    body = re.sub(r"<link[^>]*canonical[^>]*>", "", body)
    body = body.replace("Daily Ledger", "The Mirror")
    feed_server.route("/mirror/story.html", body=body.encode(), headers=HTML)
    entry = item(
        "mirror-1",
        "Russia faces new US sanctions",
        feed_server.url("/mirror/story.html"),
        teaser("Copy."),
    )
    feed_server.route("/mirror.xml", body=rss(entry, title="mirror"))
    second: Pipeline = await make_pipeline(config, smtp_url=smtp_server.url)
    second.clock.advance(hours=1)  # type: ignore[attr-defined]
    results = {r.feed: r for r in await second.poll_due(force=True)}
    assert results["mirror"].new_items == 1
    ledger, mirror = store.items("ledger")[0], store.items("mirror")[0]
    assert mirror.story_key == ledger.story_key, mirror.story_reason
    assert "near-duplicate" in mirror.story_reason
    # Queued as a member of a story already sent: no digest goes out for it alone.
    assert [q.kind for q in store.queue("mail-sub")] == [AlertKind.NEW, AlertKind.MEMBER]
    assert await second.deliver_due() == []
    assert len(smtp_server.messages) == 1


async def test_article_pages_that_cannot_be_read_leave_the_item_with_its_feed_text(
    tmp_path: Path,
    feed_server: FeedServer,
    smtp_server: SmtpTestServer,
    store: Store,
    make_pipeline: Callable[..., Any],
) -> None:
    """A huge page, a PDF, a paywall stub, a redirect loop: the item is kept with its feed
    text and still matched, the error is recorded on it, the poll goes on. A page in a
    broken encoding (cp1251 declared utf-8) is repaired and read."""
    cyrillic = "Санкции против Роснефти объявлены сегодня министерством финансов США. "
    pages = {
        "huge": b"<html><body><article><p>" + b"Rosneft " * 400_000 + b"</p></article></html>",
        "pdf": b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj",
        "stub": (
            b"<html><body><article><h1>Treasury designates Rosneft unit</h1><p>Subscribe to "
            b"continue reading this article.</p></article><div class='paywall'>Subscribe now"
            b"</div></body></html>"
        ),
        "encoding": (
            b"<html><head><meta charset='utf-8'><title>t</title></head><body><article><p>"
            + (cyrillic * 6).encode("cp1251")
            + b"</p></article></body></html>"
        ),
    }
    for name, body in pages.items():
        kind = "application/pdf" if name == "pdf" else "text/html; charset=utf-8"
        feed_server.route(f"/{name}/a.html", body=body, headers={"Content-Type": kind})
    feed_server.redirect("/loop/a.html", "/loop/b.html", status=302)
    feed_server.redirect("/loop/b.html", "/loop/a.html", status=302)
    names = [*pages, "loop"]
    for name in names:
        entry = item(
            f"{name}-1",
            f"{name}: Treasury designates Rosneft unit",
            feed_server.url(f"/{name}/a.html"),
            f"The Treasury designated a trading unit of Rosneft ({name}).",
        )
        feed_server.route(f"/{name}.xml", body=rss(entry, title=name))
    lines = [
        f'[[feeds]]\nname = "{n}"\nurl = "{feed_server.url(f"/{n}.xml")}"\nfetch_article = true\n'
        for n in names
    ]
    lines.append('[[watchlists]]\nname = "w"\nterms = ["Rosneft", "Роснефть"]\n')
    lines.append('[[channels]]\nname = "mail"\ntype = "email"\nto = ["a@example.org"]\n')
    lines.append('[[subscriptions]]\nname = "mail-sub"\nwatchlists = ["w"]\nchannel = "mail"\n')
    path = tmp_path / "feeds.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    pipeline: Pipeline = await make_pipeline(
        load_config(path, environ={}), smtp_url=smtp_server.url
    )

    results = {r.feed: r for r in await pipeline.poll_due()}
    assert {r.status for r in results.values()} == {"fetched"}
    stored = {i.feed: i for i in store.items()}
    assert set(stored) == set(names)
    expected = {
        "huge": "cap",
        "pdf": "not an html page",
        "stub": "paywall",
        "loop": "redirect",
    }
    for name, words in expected.items():
        got = stored[name]
        assert got.extract_error and words in got.extract_error.lower(), (name, got.extract_error)
        assert got.content == "" and got.summary.startswith("The Treasury designated")
        assert any(m.term == "Rosneft" for m in got.matches), name
    assert stored["encoding"].extract_error is None
    assert "Роснефти" in stored["encoding"].content
