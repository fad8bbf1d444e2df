"""The subscriber web pages through Starlette's test client, on real databases, and once
through a real uvicorn server on a local port."""

from __future__ import annotations

import asyncio
import re
import signal
import socket
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from starlette.exceptions import StarletteDeprecationWarning

from alerts.delivery.digest import digest_to_payload
from alerts.delivery.links import Links
from alerts.delivery.tokens import make_token
from alerts.domain import (
    ChannelConfig,
    ChannelKind,
    Digest,
    DigestEntry,
    DigestSection,
    Feed,
    Importance,
    Match,
    StorySource,
    Subscription,
    Watchlist,
)
from alerts.store import Store, make_engine
from alerts.store.models import DeliveryRow, SubscriptionRow
from alerts.store.subscribers import Subscribers, SubscriptionStatus
from alerts.web import WebServerError, create_app, parse_bind, serve_web
from alerts.web.app import MAX_BODY_BYTES
from alerts.web.forms import SCHEDULE_CHOICES
from alerts.web.headers import SECURITY_HEADERS
from alerts.web.server import Bind

with warnings.catch_warnings():
    # Starlette 1.x would rather drive its test client with `httpx2`; the project uses
    # httpx, which still works. Only this import warns.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
BASE = "https://alerts.example"
KEY = b"test-key-of-at-least-32-bytes!!!"
LINKS = Links(BASE, key=KEY)
ANN = "ann@example.org"
ANN_SUB = f"self:{ANN}"

FEEDS = [Feed(name="ofac", url="https://ofac.example/rss", interval=timedelta(minutes=30))]
WATCHLISTS = [Watchlist(name="russia", terms=("Rosneft",)), Watchlist(name="iran", terms=("Iran",))]
CHANNELS = [
    ChannelConfig(
        name="ops-mail", kind=ChannelKind.EMAIL, to=("ops@example.org", "bo@example.org")
    ),
]
SUBSCRIPTIONS = [Subscription(name="ops", watchlists=("russia",), channel="ops-mail")]


class Clock:
    """A clock the tests move by hand."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def synced(store: Store) -> Store:
    store.sync_config(FEEDS, WATCHLISTS, CHANNELS, SUBSCRIPTIONS, T0)
    return store


def make_client(store: Store, clock: Clock, **options: Any) -> TestClient:
    app = create_app(
        store=store,
        links=LINKS,
        watchlists=options.pop("watchlists", ["russia", "iran"]),
        default_timezone="Europe/London",
        clock=clock,
        **options,
    )
    return TestClient(app, base_url=BASE)


@pytest.fixture
def client(synced: Store, clock: Clock) -> Iterator[TestClient]:
    with make_client(synced, clock) as client:
        yield client


def status_of(store: Store, name: str) -> SubscriptionStatus | None:
    view = Subscribers(store).subscription_status(name)
    return None if view is None else view.status


def confirm_rows(store: Store) -> list[DeliveryRow]:
    with store.transaction("read confirmations", write=False) as session:
        stmt = select(DeliveryRow).where(DeliveryRow.kind == "confirm").order_by(DeliveryRow.id)
        return list(session.scalars(stmt))


def subscription_names(store: Store) -> list[str]:
    with store.transaction("read subscriptions", write=False) as session:
        return sorted(session.scalars(select(SubscriptionRow.name)))


FORM = {
    "email": "Ann@Example.org",
    "watchlist": ["russia"],
    "schedule": "daily 08:00",
    "timezone": "Europe/Berlin",
}


def post_form(client: TestClient, **changes: Any) -> httpx.Response:
    return client.post("/subscribe", data={**FORM, **changes})


def subscribed(client: TestClient, store: Store, *, email: str = ANN) -> str:
    """Subscribe and confirm `email` through the pages; the confirm URL."""
    assert post_form(client, email=email).status_code == 200
    url = str(confirm_rows(store)[-1].message["confirm_url"])  # type: ignore[index]
    assert client.post(url).status_code == 200
    return url


def unsubscribe_url(subscription: str, address: str) -> str:
    return LINKS.unsubscribe(subscription, address, issued=T0)


def token_of(url: str) -> str:
    return url.rsplit("/", 1)[1]


# -- health, headers ------------------------------------------------------------------


def test_healthz(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.text == "ok"


def test_security_headers_on_every_response(client: TestClient) -> None:
    responses = [
        client.get("/healthz"),
        client.get("/subscribe"),
        post_form(client, email="bad"),
        client.get("/assets/site.css"),
        client.get("/no-such-page"),
        client.put("/subscribe"),
        client.get("/unsubscribe/garbage"),
        client.post("/confirm/garbage"),
        client.get(unsubscribe_url("nobody", "nobody@example.org")),
    ]
    assert [r.status_code for r in responses] == [200, 200, 400, 200, 404, 405, 400, 400, 404]
    for response in responses:
        for name, value in SECURITY_HEADERS.items():
            assert response.headers[name] == value, (response.url, name)
        csp = response.headers["content-security-policy"]
        assert "default-src 'none'" in csp and "unsafe-inline" not in csp
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert response.headers["x-content-type-options"] == "nosniff"
    assert responses[1].headers["cache-control"] == "no-store"
    assert responses[3].headers["content-type"].startswith("text/css")
    assert "allow" in responses[5].headers


def test_pages_have_no_scripts_or_inline_styles_and_are_accessible(client: TestClient) -> None:
    html = client.get("/subscribe").text
    assert '<html lang="en">' in html
    assert 'name="viewport"' in html
    assert "<script" not in html and "<style" not in html and "style=" not in html
    assert html.count("<h1>") == 1
    for field in ("email", "schedule", "timezone"):
        assert f'<label for="{field}">' in html and f'id="{field}"' in html
    assert "<legend>Watchlists</legend>" in html
    assert '<label for="watchlist-0">russia</label>' in html
    css = re.search(r'<link rel="stylesheet" href="([^"]+)">', html)
    assert css is not None and client.get(css.group(1)).status_code == 200
    assert ":focus-visible" in client.get("/assets/site.css").text


# -- subscribe form -------------------------------------------------------------------


def test_subscribe_form_offers_watchlists_schedules_and_the_default_zone(
    client: TestClient,
) -> None:
    response = client.get("/subscribe")
    assert response.status_code == 200
    html = response.text
    assert 'value="russia"' in html and 'value="iran"' in html
    for spec, label in SCHEDULE_CHOICES:
        assert f'<option value="{spec}"' in html and label in html
    assert '<option value="daily 08:00" selected>' in html
    assert 'placeholder="Europe/London"' in html
    assert client.get("/", follow_redirects=False).headers["location"] == "/subscribe"


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"email": ""}, "email", "Enter your email address."),
        ({"email": "ann@"}, "email", "Enter an email address like name@example.org."),
        ({"email": "ann example@x.org"}, "email", "like name@example.org"),
        ({"email": "ann@localhost"}, "email", "like name@example.org"),
        ({"email": f"{'a' * 200}@example.org"}, "email", "too long"),
        ({"watchlist": []}, "watchlists", "Choose at least one watchlist."),
        ({"watchlist": ["russia", "nope"]}, "watchlists", "Choose from the watchlists listed."),
        ({"schedule": "every 1m"}, "schedule", "Choose one of the schedules listed."),
        ({"timezone": "Mars/Olympus"}, "timezone", "Enter a time zone such as Europe/London"),
        ({"timezone": "../../etc/passwd"}, "timezone", "Enter a time zone"),
    ],
)
def test_bad_form_input_is_shown_by_its_field(
    client: TestClient, synced: Store, changes: dict[str, Any], field: str, message: str
) -> None:
    response = post_form(client, **changes)

    assert response.status_code == 400
    html = response.text
    assert "<title>Error: " in html
    error = re.search(rf'<p class="error-message" id="{field}-error">(.*?)</p>', html, re.S)
    assert error is not None and message in error.group(1)
    assert 'class="error-summary"' in html and message in html
    if field != "watchlists":
        assert re.search(rf'id="{field}"[^>]*aria-invalid="true"', html)
    # Only the bad field complains; what was typed is kept.
    assert html.count('class="error-message"') == 1
    if field != "email":
        assert 'value="Ann@Example.org"' in html
    assert subscription_names(synced) == ["ops"] and confirm_rows(synced) == []


def test_form_input_is_escaped(client: TestClient) -> None:
    response = post_form(client, email='"><script>alert(1)</script>@x.org')
    assert response.status_code == 400
    assert "<script>" not in response.text
    assert "&#34;&gt;&lt;script&gt;" in response.text or "&quot;&gt;&lt;script&gt;" in (
        response.text
    )


def test_the_form_is_gone_when_self_service_is_off(synced: Store, clock: Clock) -> None:
    for options in ({"self_service": False}, {"watchlists": []}):
        with make_client(synced, clock, **options) as client:
            assert client.get("/subscribe").status_code == 404
            assert post_form(client).status_code == 404
            assert client.get("/").status_code == 404
            # Links in messages already sent keep working.
            url = unsubscribe_url("ops", "ops@example.org")
            assert client.post(url).status_code == 200
    assert subscription_names(synced) == ["ops"]


def test_the_answer_does_not_tell_who_is_subscribed(client: TestClient, synced: Store) -> None:
    first = post_form(client)  # new
    again = post_form(client)  # pending
    client.post(str(confirm_rows(synced)[-1].message["confirm_url"]))  # type: ignore[index]
    active = post_form(client)  # active: a change waiting for confirmation
    limited = post_form(client)  # over the limit: nothing sent
    assert [r.status_code for r in (first, again, active, limited)] == [200] * 4
    assert first.text == again.text == active.text == limited.text
    assert "Check your inbox" in first.text and ANN in first.text
    assert len(confirm_rows(synced)) == 3


# -- double opt-in --------------------------------------------------------------------


def test_double_opt_in(client: TestClient, synced: Store, clock: Clock) -> None:
    response = post_form(client)
    assert response.status_code == 200
    assert status_of(synced, ANN_SUB) is SubscriptionStatus.PENDING

    [row] = confirm_rows(synced)
    assert row.message is not None
    assert row.message["to"] == ANN and row.message["subscription"] == ANN_SUB
    url = str(row.message["confirm_url"])
    assert url.startswith(f"{BASE}/confirm/")
    assert (row.channel, row.status, row.attempts) == (f"email:{ANN}", "pending", 0)

    # Opening the link (or a mail scanner fetching it) changes nothing.
    clock.now += timedelta(minutes=10)
    for _ in range(2):
        page = client.get(url)
        assert page.status_code == 200
        assert '<form method="post">' in page.text and ">Confirm</button>" in page.text
        assert "russia" in page.text and "Every day at 08:00 (Europe/Berlin time)" in page.text
        assert client.head(url).status_code == 200
    assert status_of(synced, ANN_SUB) is SubscriptionStatus.PENDING

    confirmed = client.post(url)
    assert confirmed.status_code == 200 and "Subscription confirmed" in confirmed.text
    view = Subscribers(synced).subscription_status(ANN_SUB)
    assert view is not None and view.status is SubscriptionStatus.ACTIVE
    assert view.confirmed_at == clock.now
    assert view.preferences.timezone == "Europe/Berlin"

    again = client.post(url)
    assert again.status_code == 200 and "Already confirmed" in again.text
    assert "Already confirmed" in client.get(url).text


def test_changes_to_an_active_subscription_wait_for_confirmation(
    client: TestClient, synced: Store, clock: Clock
) -> None:
    subscribed(client, synced)
    clock.now += timedelta(hours=1)
    post_form(client, watchlist=["iran"], schedule="immediate")
    url = str(confirm_rows(synced)[-1].message["confirm_url"])  # type: ignore[index]

    page = client.get(url)
    assert "Confirm your changes" in page.text and "iran" in page.text
    view = Subscribers(synced).subscription_status(ANN_SUB)
    assert view is not None and view.preferences.watchlists == ("russia",)

    assert "Changes saved" in client.post(url).text
    view = Subscribers(synced).subscription_status(ANN_SUB)
    assert view is not None and view.preferences.watchlists == ("iran",)
    assert view.preferences.schedule == "immediate"


def test_confirm_links_expire_after_seven_days(
    client: TestClient, synced: Store, clock: Clock
) -> None:
    post_form(client)
    url = str(confirm_rows(synced)[-1].message["confirm_url"])  # type: ignore[index]
    clock.now += timedelta(days=7, minutes=1)
    for response in (client.get(url), client.post(url)):
        assert response.status_code == 400
        assert "This link has expired" in response.text
    assert status_of(synced, ANN_SUB) is SubscriptionStatus.PENDING


def test_confirm_after_unsubscribing_says_so(client: TestClient, synced: Store) -> None:
    url = subscribed(client, synced)
    client.post(unsubscribe_url(ANN_SUB, ANN))
    for response in (client.get(url), client.post(url)):
        assert response.status_code == 410
        assert "You unsubscribed" in response.text
    assert status_of(synced, ANN_SUB) is SubscriptionStatus.UNSUBSCRIBED


def test_confirm_of_an_unknown_subscription(client: TestClient) -> None:
    url = LINKS.confirm("self:nobody@example.org", "nobody@example.org", issued=T0)
    for response in (client.get(url), client.post(url)):
        assert response.status_code == 404
        assert "Subscription not found" in response.text


# -- unsubscribe ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        {
            "content": b"List-Unsubscribe=One-Click",
            "headers": {"content-type": "application/x-www-form-urlencoded"},
        },
        {"files": {"List-Unsubscribe": (None, "One-Click")}},
    ],
    ids=["urlencoded", "multipart"],
)
def test_rfc8058_one_click_unsubscribe(
    client: TestClient, synced: Store, clock: Clock, body: dict[str, Any]
) -> None:
    subscribed(client, synced)
    url = unsubscribe_url(ANN_SUB, ANN)
    clock.now += timedelta(days=400)  # unsubscribe links never expire
    client.cookies.clear()

    response = client.post(url, follow_redirects=False, **body)

    assert response.status_code == 200  # RFC 8058: no redirect
    assert "You are unsubscribed" in response.text
    view = Subscribers(synced).subscription_status(ANN_SUB)
    assert view is not None and view.status is SubscriptionStatus.UNSUBSCRIBED
    assert view.unsubscribed_at == clock.now

    again = client.post(url, follow_redirects=False, **body)
    assert again.status_code == 200 and "Already unsubscribed" in again.text


def test_unsubscribe_page_then_its_button(client: TestClient, synced: Store) -> None:
    subscribed(client, synced)
    url = unsubscribe_url(ANN_SUB, ANN)

    page = client.get(url)
    assert page.status_code == 200
    assert '<input type="hidden" name="List-Unsubscribe" value="One-Click">' in page.text
    assert ">Unsubscribe</button>" in page.text and ANN in page.text
    assert client.head(url).status_code == 200
    assert status_of(synced, ANN_SUB) is SubscriptionStatus.ACTIVE  # GET changed nothing

    form = re.search(r'<form method="post">(.*?)</form>', page.text, re.S)
    assert form is not None
    fields = dict(re.findall(r'name="([^"]+)" value="([^"]+)"', form.group(1)))
    response = client.post(url, data=fields)
    assert response.status_code == 200 and "You are unsubscribed" in response.text
    assert status_of(synced, ANN_SUB) is SubscriptionStatus.UNSUBSCRIBED
    assert "Already unsubscribed" in client.get(url).text


def test_a_link_for_one_subscription_cannot_unsubscribe_another(
    client: TestClient, synced: Store
) -> None:
    subscribed(client, synced, email=ANN)
    subscribed(client, synced, email="bo@example.org")
    ann_token = token_of(unsubscribe_url(ANN_SUB, ANN))
    # Bo's subscription and address, carried with the signature of Ann's link.
    bo_payload = make_token(
        b"another-key-of-at-least-32-bytes",
        "unsubscribe",
        "self:bo@example.org",
        "bo@example.org",
        issued=T0,
    ).split(".")[0]
    forged = f"{bo_payload}.{ann_token.split('.')[1]}"

    assert client.post(f"/unsubscribe/{forged}").status_code == 400
    assert client.post(f"/unsubscribe/{ann_token}").status_code == 200

    assert status_of(synced, ANN_SUB) is SubscriptionStatus.UNSUBSCRIBED
    assert status_of(synced, "self:bo@example.org") is SubscriptionStatus.ACTIVE


def test_channel_recipients_opt_out(client: TestClient, synced: Store) -> None:
    url = unsubscribe_url("ops", "Ops@Example.org")
    page = client.get(url)
    assert page.status_code == 200 and "“ops” alerts" in page.text

    assert "You are unsubscribed" in client.post(url).text
    assert "Already unsubscribed" in client.post(url).text
    assert "Already unsubscribed" in client.get(url).text
    subscribers = Subscribers(synced)
    assert subscribers.opted_out("ops") == frozenset({"ops@example.org"})
    assert status_of(synced, "ops") is SubscriptionStatus.ACTIVE  # the others still get it


def test_unsubscribe_of_an_unknown_subscription(client: TestClient) -> None:
    url = unsubscribe_url("gone", "ann@example.org")
    for response in (client.get(url), client.post(url)):
        assert response.status_code == 404
        assert "Subscription not found" in response.text


# -- bad tokens -----------------------------------------------------------------------


def _bad_tokens() -> dict[str, str]:
    good = token_of(unsubscribe_url(ANN_SUB, ANN))
    payload, mac = good.split(".")
    other_key = make_token(b"x" * 32, "unsubscribe", ANN_SUB, ANN, issued=T0)
    return {
        "truncated": good[:-6],
        "no-signature": payload,
        "empty-payload": f".{mac}",
        "other-key": other_key,
        "changed-payload": f"{payload[:-2]}AA.{mac}",
        "garbage": "%00%ff<script>",
        "huge": "a" * 5000 + "." + "b" * 10,
        "not-base64": "!!!.???",
    }


@pytest.mark.parametrize("kind", sorted(_bad_tokens()))
@pytest.mark.parametrize("route", ["unsubscribe", "confirm", "digests"])
def test_bad_tokens_get_a_plain_400(
    client: TestClient, synced: Store, route: str, kind: str
) -> None:
    subscribed(client, synced)
    token = _bad_tokens()[kind]
    responses = [client.get(f"/{route}/{token}")]
    if route != "digests":
        responses.append(client.post(f"/{route}/{token}"))
    for response in responses:
        assert response.status_code == 400
        assert "This link is not valid" in response.text
        assert "Traceback" not in response.text and "TokenError" not in response.text
        assert "signature" not in response.text.lower()
    assert status_of(synced, ANN_SUB) is SubscriptionStatus.ACTIVE


def test_tokens_of_another_purpose_are_refused(client: TestClient, synced: Store) -> None:
    subscribed(client, synced)
    unsubscribe = token_of(unsubscribe_url(ANN_SUB, ANN))
    confirm = token_of(LINKS.confirm(ANN_SUB, ANN, issued=T0))
    digest = token_of(LINKS.digest("d-1", issued=T0))
    for path in (
        f"/unsubscribe/{confirm}",
        f"/unsubscribe/{digest}",
        f"/confirm/{unsubscribe}",
        f"/confirm/{digest}",
        f"/digests/{unsubscribe}",
        f"/digests/{confirm}",
    ):
        assert client.get(path).status_code == 400, path
        if not path.startswith("/digests"):
            assert client.post(path).status_code == 400, path
    assert status_of(synced, ANN_SUB) is SubscriptionStatus.ACTIVE


def test_odd_requests_never_get_a_500(client: TestClient) -> None:
    assert client.get("/unsubscribe/").status_code == 404
    assert client.get("/confirm/a/b").status_code == 404
    huge = client.post(
        "/subscribe",
        content=b"email=" + b"a" * MAX_BODY_BYTES,
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert huge.status_code == 413 and huge.headers["x-frame-options"] == "DENY"
    broken = client.post(
        "/subscribe",
        content=b"--x\r\nContent-Disposition: form-data\r\n\r\nnope",
        headers={"content-type": "multipart/form-data; boundary=x"},
    )
    assert broken.status_code == 400
    assert post_form(client, email="x" * 10_000).status_code == 400


def test_unexpected_errors_get_a_plain_500(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(self: Subscribers, name: str) -> None:
        raise RuntimeError("secret detail")

    monkeypatch.setattr(Subscribers, "subscription_status", broken)
    url = unsubscribe_url(ANN_SUB, ANN)
    response = client.get(url)
    assert response.status_code == 500
    assert "Something went wrong" in response.text
    assert "secret detail" not in response.text and "Traceback" not in response.text
    assert response.headers["x-frame-options"] == "DENY"
    [record] = [r for r in caplog.records if r.getMessage() == "web_error"]
    assert record.exc_info is not None
    assert token_of(url) not in caplog.text  # tokens are secrets: never logged


def test_a_database_outage_is_a_503(tmp_path: Path, clock: Clock) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'unmigrated.db'}")
    try:
        with make_client(Store(engine), clock) as client:
            response = client.post(unsubscribe_url(ANN_SUB, ANN))
            assert response.status_code == 503
            assert response.headers["retry-after"] == "60"
            assert response.headers["content-security-policy"]
            assert "Nothing was changed" in response.text
            assert "OperationalError" not in response.text
    finally:
        engine.dispose()


# -- full digests ---------------------------------------------------------------------


def _digest() -> Digest:
    def entry(n: int, **extra: Any) -> DigestEntry:
        title = f"Story {n} about Rosneft"
        return DigestEntry(
            item_id=n,
            title=title,
            link=f"https://news.example/{n}",
            feed="wire",
            feed_title="Wire",
            published=T0 - timedelta(hours=n),
            matches=(
                Match(
                    watchlist="russia",
                    term="Rosneft",
                    field="title",
                    start=14,
                    end=21,
                    snippet=title,
                    highlight=(len(title) - 7, len(title)),
                ),
            ),
            **extra,
        )

    sources = tuple(
        StorySource(
            item_id=100 + n,
            feed=f"feed{n}",
            feed_title=f"Outlet {n}",
            title=f"Headline from outlet {n}",
            link="javascript:alert(1)" if n == 5 else f"https://outlet{n}.example/a",
            published=T0,
            official=n == 11,
        )
        for n in range(12)
    )
    russia = [entry(1, sources=sources, importance=Importance.URGENT)]
    russia += [entry(n) for n in range(2, 12)]
    iran = [
        DigestEntry(
            item_id=50,
            title="<b>Iran</b> & friends",
            link="https://news.example/iran",
            feed="wire",
            feed_title="Wire",
            published=None,
            matches=(),
        ),
        entry(51, update=True, new_terms=("Rosneft",)),
    ]
    return Digest(
        subscription="ops",
        idempotency_key="digest-key-1",
        created_at=T0,
        sections=(DigestSection("russia", tuple(russia)), DigestSection("iran", tuple(iran))),
        timezone="Europe/London",
        max_stories=3,  # the email shows three; the page shows all
    )


def test_the_full_digest_page_lists_every_story(client: TestClient, synced: Store) -> None:
    d = _digest()
    synced.create_delivery(
        "ops",
        channel="ops-mail",
        idempotency_key=d.idempotency_key,
        queue_ids=[],
        payload=digest_to_payload(d),
        now=T0,
        next_digest_at=None,
    )
    response = client.get(LINKS.digest(d.idempotency_key, issued=T0))

    assert response.status_code == 200
    html = response.text
    for section in d.sections:
        for e in section.entries:
            if "<b>" not in e.title:
                assert e.title.replace("Rosneft", "") in html
    assert html.count('<article class="story') == 13
    assert "&lt;b&gt;Iran&lt;/b&gt; &amp; friends" in html and "<b>Iran</b>" not in html
    assert "Story 1 about <mark>Rosneft</mark>" in html
    assert "Sources (12)" in html
    for n in range(12):
        assert f"Outlet {n}" in html
    assert "javascript:" not in html
    assert html.index("Outlet 11") < html.index("Outlet 0")  # official first
    assert '<span class="badge badge-official">official</span>' in html
    assert '<span class="badge badge-urgent">urgent</span>' in html
    assert "New: Rosneft" in html and 'badge-muted">Update</span>' in html
    assert "<script" not in html and "style=" not in html


def test_unknown_digests_are_404(client: TestClient, synced: Store) -> None:
    assert client.get(LINKS.digest("no-such-key", issued=T0)).status_code == 404
    post_form(client)
    confirm_key = confirm_rows(synced)[0].idempotency_key
    response = client.get(LINKS.digest(confirm_key, issued=T0))  # a message, not a digest
    assert response.status_code == 404 and "Digest not found" in response.text


# -- the real server ------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_serve_web_answers_real_http_requests_until_stopped(
    synced: Store, clock: Clock
) -> None:
    app = create_app(
        store=synced, links=LINKS, watchlists=["russia"], default_timezone="UTC", clock=clock
    )
    port = _free_port()
    stop = asyncio.Event()
    handler = signal.getsignal(signal.SIGINT)
    task = asyncio.create_task(serve_web(app, host="127.0.0.1", port=port, stop=stop))
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=5) as http:
            for _ in range(200):
                try:
                    health = await http.get("/healthz")
                    break
                except httpx.ConnectError:
                    await asyncio.sleep(0.02)
            else:
                pytest.fail("the server did not start")
            assert health.status_code == 200 and health.text == "ok"
            assert health.headers["x-frame-options"] == "DENY"
            assert "server" not in health.headers
            page = await http.get("/subscribe")
            assert page.status_code == 200 and "Subscribe to alerts" in page.text
            one_click = await http.post(
                f"/unsubscribe/{token_of(unsubscribe_url('ops', 'ops@example.org'))}",
                data={"List-Unsubscribe": "One-Click"},
            )
            assert one_click.status_code == 200
        assert signal.getsignal(signal.SIGINT) is handler  # uvicorn left the caller's alone
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=10)
    assert task.result() is None
    assert Subscribers(synced).opted_out("ops") == frozenset({"ops@example.org"})
    with socket.create_server(("127.0.0.1", port)):
        pass  # the port is free again


async def test_serve_web_reports_a_port_in_use(synced: Store) -> None:
    app = create_app(store=synced, links=LINKS, watchlists=[], default_timezone="UTC")
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        with pytest.raises(WebServerError, match=f"cannot listen on 127.0.0.1:{port}"):
            await serve_web(app, host="127.0.0.1", port=port, stop=asyncio.Event())


async def test_cancelling_serve_web_closes_the_port(synced: Store) -> None:
    app = create_app(store=synced, links=LINKS, watchlists=[], default_timezone="UTC")
    port = _free_port()
    task = asyncio.create_task(serve_web(app, host="127.0.0.1", port=port, stop=asyncio.Event()))
    await asyncio.sleep(0.2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    with socket.create_server(("127.0.0.1", port)):
        pass


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("127.0.0.1:8080", Bind("127.0.0.1", 8080)),
        (" 0.0.0.0:80 ", Bind("0.0.0.0", 80)),
        ("localhost:8080", Bind("localhost", 8080)),
        ("[::1]:8443", Bind("::1", 8443)),
        ("off", None),
        ("OFF", None),
    ],
)
def test_parse_bind(text: str, expected: Bind | None) -> None:
    assert parse_bind(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("8080", "has no port"),
        ("127.0.0.1", "has no port"),
        (":8080", "has no host"),
        ("::1:8080", "brackets"),
        ("[::1]8080", "HOST:PORT"),
        ("[nope]:8080", "not an IPv6 address"),
        ("127.0.0.1:http", "number from 1 to 65535"),
        ("127.0.0.1:0", "number from 1 to 65535"),
        ("127.0.0.1:70000", "number from 1 to 65535"),
        ("bad host:80", "not a host name"),
    ],
)
def test_parse_bind_errors(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_bind(text)
    assert str(Bind("::1", 80)) == "[::1]:80"
