"""Issue 5 delivery end to end: the composed service against real local receivers.

Each test builds the service the way `alerts.app.open_pipeline` does (channels, mailer and
signed links from `alerts.app`, a synced store, a compiled matcher) over a real feed server,
a real SMTP server and a real webhook receiver, on SQLite and PostgreSQL. The subscriber
pages are the real Starlette app over the same store. Only the clock is ours: tests move it
instead of sleeping.
"""

from __future__ import annotations

import random
import re
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from starlette.exceptions import StarletteDeprecationWarning

from alerts.app import build_channels, build_links, build_mailer, web_app
from alerts.config import Config, Settings, load_config
from alerts.delivery.links import Links
from alerts.delivery.tokens import make_token
from alerts.dispatch import SendResult
from alerts.domain import DeliveryStatus
from alerts.pipeline import Pipeline
from alerts.sources.fetch import Fetcher, FetchLimits
from alerts.store.outbox import Outbox
from alerts.store.repository import DeliveryRecord, Store
from alerts.store.subscribers import Subscribers, SubscriptionStatus
from alerts.web import create_app
from tests.support.feed_server import FeedServer
from tests.support.smtp_server import ReceivedMessage, SmtpTestServer
from tests.support.webhook_receiver import RecordedRequest, WebhookReceiver
from tests.test_pipeline import closed_port, rss

with warnings.catch_warnings():
    # Starlette would rather drive its test client with `httpx2`; httpx still works.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

# A Friday; London is on GMT in November, so local times read as UTC here.
START = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
BASE_URL = "https://alerts.example"
SECRET_KEY = "a-signing-key-for-tests-of-40-characters"

WATCHLISTS = """
[[watchlists]]
name = "russia"
terms = ["Navalny", "Rosneft", "Sovcomflot"]
urgent = ["Rosneft"]

[[watchlists]]
name = "shipping"
importance = "high"
terms = ["tanker"]
"""


@dataclass(frozen=True)
class Story:
    guid: str
    title: str
    summary: str

    @property
    def link(self) -> str:
        return f"https://wire.example/{self.guid}"


URGENT = Story("rosneft", "Rosneft trading arm hit by asset freeze", "Rosneft accounts frozen.")
NORMAL = Story("navalny", "Navalny allies call for wider measures", "Allies of Navalny spoke.")
NORMAL_2 = Story("sovcomflot", "Sovcomflot vessels named in new listing", "Sovcomflot listed.")
NORMAL_3 = Story("navalny-2", "Court hears appeal over Navalny archive", "The Navalny archive.")
HIGH = Story("tanker-1", "Shadow fleet tanker seized off Gibraltar", "A tanker was seized.")
HIGH_2 = Story("tanker-2", "Second tanker detained in Baltic port", "Another tanker held.")


class Clock:
    """The service's clock, moved by the tests."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)

    def at(self, day: int, hour: int, minute: int = 0) -> None:
        """Set the clock to November `day`, 2026, `hour`:`minute` UTC (never backwards)."""
        when = datetime(2026, 11, day, hour, minute, tzinfo=UTC)
        assert when >= self.now, "the clock only moves forward"
        self.now = when


@dataclass
class Service:
    """A pipeline wired like `open_pipeline`, with its clock and feed."""

    pipeline: Pipeline
    config: Config
    store: Store
    clock: Clock
    links: Links | None
    feed_server: FeedServer

    @property
    def outbox(self) -> Outbox:
        return self.pipeline.dispatcher.outbox

    async def poll(self, *stories: Story) -> None:
        """The feed now carries `stories`; poll it and check that they were stored."""
        when = format_datetime(self.clock.now - timedelta(minutes=5))
        self.feed_server.route(
            "/wire.xml",
            body=rss(
                *(
                    f'<item><guid isPermaLink="false">{s.guid}</guid><title>{s.title}</title>'
                    f"<link>{s.link}</link><description>{s.summary}</description>"
                    f"<pubDate>{when}</pubDate></item>"
                    for s in stories
                )
            ),
        )
        [result] = await self.pipeline.poll_due(force=True)
        assert result.status == "fetched", result.error

    async def tick(self) -> list[SendResult]:
        """What the scheduler does on each tick: plan due digests, send what is due."""
        return await self.pipeline.deliver_due()

    def delivery(self, delivery_id: int) -> DeliveryRecord:
        return next(d for d in self.store.deliveries() if d.id == delivery_id)

    def web(self) -> TestClient:
        """The subscriber pages as `alerts run` serves them (`alerts.app.web_app`)."""
        assert self.links is not None
        return TestClient(web_app(self.config, self.store, self.links), base_url=BASE_URL)


Make = Callable[..., Awaitable[Service]]


@pytest.fixture
async def make_service(
    tmp_path: Path, store: Store, feed_server: FeedServer
) -> AsyncIterator[Make]:
    made: list[tuple[Pipeline, Fetcher]] = []

    async def make(
        body: str, *, settings: str = "", start: bool = True, **overrides: Any
    ) -> Service:
        """A service for the config `body` (channels and subscriptions) under the shared
        feed and watchlists; `settings` adds lines to its [settings] table, `overrides`
        set `Settings` fields. With `start`, a first tick starts the digest schedules."""
        path = tmp_path / "feeds.toml"
        path.write_text(
            f'[settings]\ntimezone = "Europe/London"\n{settings}\n'
            f'[[feeds]]\nname = "wire"\ntitle = "Wire"\nurl = "{feed_server.url("/wire.xml")}"\n'
            f'interval = "30m"\n{WATCHLISTS}\n{body}',
            encoding="utf-8",
        )
        config = load_config(path, environ={})
        values: dict[str, Any] = {
            "base_url": BASE_URL,
            "secret_key": SECRET_KEY,
            "email_from": "Sanctions Alerts <alerts@example.org>",
            "outbox_dir": str(tmp_path / "outbox"),
        }
        settings_ = Settings(**(values | overrides))
        clock = Clock()
        links = build_links(settings_, store)
        fetcher = Fetcher(
            limits=FetchLimits(
                connect_timeout=2, read_timeout=2, total_timeout=4, max_bytes=256 * 1024
            )
        )
        pipeline = Pipeline(
            config=config,
            settings=settings_,
            store=store,
            fetcher=fetcher,
            channels=build_channels(config, settings_, links),
            mailer=build_mailer(settings_, links),
            links=links,
            clock=clock,
            rng=random.Random(5),
        )
        made.append((pipeline, fetcher))
        await pipeline.sync()
        await pipeline.refresh_matcher(force=True)
        service = Service(pipeline, config, store, clock, links, feed_server)
        if start:
            assert await service.tick() == []
        return service

    yield make
    for pipeline, fetcher in made:
        await pipeline.aclose()
        await fetcher.aclose()


def webhook(name: str, url: str, extra: str = "") -> str:
    return f'[[channels]]\nname = "{name}"\ntype = "webhook"\nurl = "{url}"\n{extra}\n'


def subscription(name: str, destination: str, **options: Any) -> str:
    """A [[subscriptions]] table; `destination` is a channel name or `email:<address>`."""
    lines = [f'[[subscriptions]]\nname = "{name}"']
    if destination.startswith("email:"):
        lines.append(f'email = "{destination.removeprefix("email:")}"')
    else:
        lines.append(f'channel = "{destination}"')
    options.setdefault("watchlists", ["russia"])
    for key, value in options.items():
        if isinstance(value, bool):
            lines.append(f"{key} = {str(value).lower()}")
        elif isinstance(value, list):
            lines.append(f"{key} = [{', '.join(f'{v!r}' for v in value)}]".replace("'", '"'))
        elif isinstance(value, int):
            lines.append(f"{key} = {value}")
        else:
            lines.append(f'{key} = "{value}"')
    return "\n".join(lines) + "\n"


def titles(request: RecordedRequest) -> list[str]:
    return [s["title"] for s in request.json["stories"]]


def text_of(message: EmailMessage, subtype: str = "plain") -> str:
    part = message.get_body(preferencelist=(subtype,))
    assert part is not None
    return str(part.get_content())


def path_of(url: str) -> str:
    assert url.startswith(BASE_URL + "/"), url
    return urlsplit(url).path


def to(message: ReceivedMessage) -> str:
    """The one envelope recipient of a received message."""
    [address] = message.rcpt_tos
    return address


# -- 1. quiet hours and urgency --------------------------------------------------------


async def test_urgent_story_breaks_quiet_hours_and_the_rest_waits_for_the_digest(
    make_service: Make, webhook_receiver: WebhookReceiver
) -> None:
    service = await make_service(
        webhook("hook", webhook_receiver.url("/hook"))
        + subscription("night-desk", "hook", schedule="daily 08:00", quiet_hours="22:00-07:00")
    )
    clock = service.clock

    clock.at(27, 23)
    await service.poll(URGENT, NORMAL)
    [sent] = await service.tick()
    assert sent.status == "sent" and sent.stories == 1
    [urgent] = webhook_receiver.wait_for(1)
    assert urgent.json["urgent"] is True
    assert titles(urgent) == [URGENT.title]
    assert urgent.json["stories"][0]["importance"] == "urgent"

    clock.at(28, 7, 30)  # quiet hours are over, but the digest is not due yet
    assert await service.tick() == []
    assert len(webhook_receiver.requests) == 1

    clock.at(28, 8)
    [digest] = await service.tick()
    assert digest.status == "sent"
    [_, scheduled] = webhook_receiver.wait_for(2)
    assert scheduled.json["urgent"] is False
    assert titles(scheduled) == [NORMAL.title]
    [state] = service.store.subscription_states()
    assert state.next_digest_at == datetime(2026, 11, 29, 8, 0, tzinfo=UTC)


# -- 2. immediate_importance -----------------------------------------------------------


async def test_high_importance_goes_at_once_outside_quiet_hours_and_waits_inside(
    make_service: Make, webhook_receiver: WebhookReceiver
) -> None:
    service = await make_service(
        webhook("hook", webhook_receiver.url("/desk"))
        + subscription(
            "desk",
            "hook",
            watchlists=["russia", "shipping"],
            schedule="daily 08:00",
            quiet_hours="22:00-07:00",
            immediate_importance="high",
        )
    )
    clock = service.clock

    clock.at(27, 13)  # outside quiet hours: the high match goes at once, the normal waits
    await service.poll(HIGH, NORMAL)
    [sent] = await service.tick()
    assert sent.status == "sent"
    [first] = webhook_receiver.wait_for(1)
    assert titles(first) == [HIGH.title]
    assert first.json["urgent"] is True and first.json["stories"][0]["importance"] == "high"

    clock.at(27, 23)  # inside quiet hours: high is not urgent, so it waits
    await service.poll(HIGH_2)
    assert await service.tick() == []
    clock.at(28, 6, 59)
    assert await service.tick() == []
    assert len(webhook_receiver.requests) == 1

    clock.at(28, 7)  # quiet hours end: the held match goes on the first tick
    [held] = await service.tick()
    assert held.status == "sent"
    [_, second] = webhook_receiver.wait_for(2)
    assert titles(second) == [HIGH_2.title]

    clock.at(28, 8)  # the scheduled digest carries what was left
    [digest] = await service.tick()
    assert digest.status == "sent"
    [*_, third] = webhook_receiver.wait_for(3)
    assert titles(third) == [NORMAL.title] and third.json["urgent"] is False


# -- 3. send_empty heartbeats ----------------------------------------------------------


async def test_send_empty_sends_a_heartbeat_and_without_it_the_schedule_still_moves(
    make_service: Make, webhook_receiver: WebhookReceiver, smtp_server: SmtpTestServer
) -> None:
    service = await make_service(
        webhook("beat", webhook_receiver.url("/beat"))
        + webhook("silent", webhook_receiver.url("/silent"))
        + subscription("beat-sub", "beat", schedule="daily 08:00", send_empty=True)
        + subscription(
            "mail-beat", "email:watch@example.org", schedule="daily 08:00", send_empty=True
        )
        + subscription("silent-sub", "silent", schedule="daily 08:00"),
        smtp_url=smtp_server.url,
    )
    states = {s.subscription.name: s for s in service.store.subscription_states()}
    assert {s.next_digest_at for s in states.values()} == {datetime(2026, 11, 28, 8, tzinfo=UTC)}

    service.clock.at(28, 8)
    sent = await service.tick()
    assert sorted((r.subscription, r.status, r.stories) for r in sent) == [
        ("beat-sub", "sent", 0),
        ("mail-beat", "sent", 0),
    ]
    [beat] = webhook_receiver.wait_for(1)
    assert beat.path == "/beat"
    assert beat.json["stories"] == [] and beat.json["heartbeat"] is True
    [mail] = smtp_server.wait_for(1)
    assert to(mail) == "watch@example.org"
    assert "no new stories" in str(mail.message["Subject"])
    assert not any(r.path == "/silent" for r in webhook_receiver.requests)

    states = {s.subscription.name: s for s in service.store.subscription_states()}
    for name in ("beat-sub", "mail-beat", "silent-sub"):
        assert states[name].next_digest_at == datetime(2026, 11, 29, 8, tzinfo=UTC), name
    # Nothing more is due until then.
    service.clock.at(28, 20)
    assert await service.tick() == []


# -- 4. max_stories and the full digest ------------------------------------------------


async def test_max_stories_links_to_the_full_digest_on_the_web_side(
    make_service: Make, smtp_server: SmtpTestServer
) -> None:
    service = await make_service(
        '[[channels]]\nname = "mail"\ntype = "email"\nto = ["reader@example.org"]\n'
        + subscription("short", "mail", max_stories=2),
        smtp_url=smtp_server.url,
    )
    await service.poll(NORMAL, NORMAL_2, NORMAL_3)
    [sent] = await service.tick()
    assert sent.status == "sent" and sent.stories == 3

    [mail] = smtp_server.wait_for(1)
    text = text_of(mail.message)
    assert sum(s.title in text for s in (NORMAL, NORMAL_2, NORMAL_3)) == 2
    found = re.search(r"and 1 more story: (\S+)", text)
    assert found is not None, text
    more_url = found.group(1)
    assert more_url in text_of(mail.message, "html")

    with service.web() as client:
        page = client.get(path_of(more_url))
    assert page.status_code == 200
    for story in (NORMAL, NORMAL_2, NORMAL_3):
        assert story.title in page.text


# -- 5. one-click unsubscribe ----------------------------------------------------------

ONE_CLICK = {
    "content": b"List-Unsubscribe=One-Click",
    "headers": {"content-type": "application/x-www-form-urlencoded"},
}


def one_click_url(message: EmailMessage) -> str:
    """The RFC 8058 link of a received message (checking its two headers)."""
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    header = str(message["List-Unsubscribe"])
    assert header.startswith("<") and header.endswith(">"), header
    return header[1:-1]


@pytest.mark.parametrize(
    "address",
    [
        "ann@example.org",
        pytest.param("Ann Example <Ann@Example.org>", id="display-name"),
    ],
)
async def test_a_subscriber_unsubscribes_with_one_click_and_gets_nothing_more(
    make_service: Make,
    smtp_server: SmtpTestServer,
    webhook_receiver: WebhookReceiver,
    address: str,
) -> None:
    service = await make_service(
        subscription("ann", f"email:{address}")
        + webhook("hook", webhook_receiver.url("/hook"))
        + subscription("control", "hook"),
        smtp_url=smtp_server.url,
    )
    await service.poll(NORMAL)
    assert {r.status for r in await service.tick()} == {"sent"}
    [mail] = smtp_server.wait_for(1)
    assert mail.rcpt_tos == ("ann@example.org",)
    url = one_click_url(mail.message)

    with service.web() as client:
        client.cookies.clear()
        response = client.post(path_of(url), follow_redirects=False, **ONE_CLICK)
    assert response.status_code == 200 and "You are unsubscribed" in response.text
    view = Subscribers(service.store).subscription_status("ann")
    assert view is not None and view.status is SubscriptionStatus.UNSUBSCRIBED

    service.clock.advance(hours=1)
    await service.poll(NORMAL_2)
    sent = await service.tick()
    assert [r.subscription for r in sent] == ["control"]  # the story did go out elsewhere
    assert len(smtp_server.messages) == 1
    # A restart syncs the configuration again: the subscriber's choice stands.
    await service.pipeline.sync()
    await service.poll(NORMAL_3)
    assert [r.subscription for r in await service.tick()] == ["control"]
    assert len(smtp_server.messages) == 1


# Bo's entry has a display name: the opt-out must still match the address.
TEAM = (
    '[[channels]]\nname = "team"\ntype = "email"\n'
    'to = ["Bo Smith <Bo@Example.org>", "cy@example.org"]\n'
)


async def first_team_digest(service: Service, smtp_server: SmtpTestServer) -> dict[str, str]:
    """Send one story to the team; each recipient's one-click URL by address."""
    await service.poll(NORMAL)
    [sent] = await service.tick()
    assert sent.status == "sent"
    mails = smtp_server.wait_for(2)
    assert sorted(to(m) for m in mails) == ["bo@example.org", "cy@example.org"]
    return {to(m): one_click_url(m.message) for m in mails}


async def test_a_channel_recipient_unsubscribes_and_the_others_still_get_it(
    make_service: Make, smtp_server: SmtpTestServer
) -> None:
    service = await make_service(TEAM + subscription("team-sub", "team"), smtp_url=smtp_server.url)
    urls = await first_team_digest(service, smtp_server)
    assert urls["bo@example.org"] != urls["cy@example.org"]

    with service.web() as client:
        response = client.post(path_of(urls["bo@example.org"]), **ONE_CLICK)
    assert response.status_code == 200 and "You are unsubscribed" in response.text
    assert Subscribers(service.store).opted_out("team-sub") == {"bo@example.org"}

    service.clock.advance(minutes=10)
    await service.poll(NORMAL_2)
    [sent] = await service.tick()
    assert sent.status == "sent"
    [*_, last] = smtp_server.wait_for(3)
    assert len(smtp_server.messages) == 3
    assert to(last) == "cy@example.org" and last.message["To"] == "cy@example.org"
    assert NORMAL_2.title in text_of(last.message)


async def test_one_recipients_link_cannot_unsubscribe_another(
    make_service: Make, smtp_server: SmtpTestServer
) -> None:
    service = await make_service(TEAM + subscription("team-sub", "team"), smtp_url=smtp_server.url)
    urls = await first_team_digest(service, smtp_server)
    bo_token = path_of(urls["bo@example.org"]).rsplit("/", 1)[1]
    # Cy's subscription and address, carried with the signature of Bo's link.
    cy_payload = make_token(
        b"not-the-service-key-but-long-enough",
        "unsubscribe",
        "team-sub",
        "cy@example.org",
        issued=START,
    ).split(".")[0]
    forged = f"{cy_payload}.{bo_token.split('.')[1]}"

    with service.web() as client:
        assert client.post(f"/unsubscribe/{forged}", **ONE_CLICK).status_code == 400
        assert client.post(f"/unsubscribe/{bo_token}", **ONE_CLICK).status_code == 200
        again = client.post(f"/unsubscribe/{bo_token}", **ONE_CLICK)
    assert "Already unsubscribed" in again.text
    assert Subscribers(service.store).opted_out("team-sub") == {"bo@example.org"}

    service.clock.advance(minutes=10)
    await service.poll(NORMAL_2)
    await service.tick()
    [*_, last] = smtp_server.wait_for(3)
    assert to(last) == "cy@example.org"


# -- 6. double opt-in ------------------------------------------------------------------


async def test_double_opt_in_through_the_pages_and_the_mail_server(
    make_service: Make, smtp_server: SmtpTestServer
) -> None:
    service = await make_service("", settings='self_service = ["russia"]', smtp_url=smtp_server.url)
    assert service.links is not None
    # `web_app` with the service's clock: confirmation links expire after 7 days of it.
    app = create_app(
        store=service.store,
        links=service.links,
        watchlists=service.config.self_service,
        default_timezone=service.config.timezone,
        clock=service.clock,
        self_service=True,
    )
    name = "self:dee@example.org"
    with TestClient(app, base_url=BASE_URL) as client:
        form = {
            "email": "Dee@Example.org",
            "watchlist": ["russia"],
            "schedule": "immediate",
            "timezone": "Europe/London",
        }
        response = client.post("/subscribe", data=form)
        assert response.status_code == 200 and "Check your inbox" in response.text

        [confirmation] = await service.pipeline.dispatcher.send_pending()
        assert (confirmation.status, confirmation.channel) == ("sent", "email:dee@example.org")
        [mail] = smtp_server.wait_for(1)
        assert to(mail) == "dee@example.org"
        found = re.search(rf"{re.escape(BASE_URL)}/confirm/\S+", text_of(mail.message))
        assert found is not None
        confirm_path = path_of(found.group(0))

        # Not confirmed: a matching story sends nothing to the address.
        service.clock.advance(minutes=5)
        await service.poll(NORMAL)
        assert await service.tick() == []
        assert len(smtp_server.messages) == 1

        service.clock.advance(minutes=5)
        page = client.get(confirm_path)
        assert page.status_code == 200 and ">Confirm</button>" in page.text
        view = Subscribers(service.store).subscription_status(name)
        assert view is not None and view.status is SubscriptionStatus.PENDING

        confirmed = client.post(confirm_path)
        assert confirmed.status_code == 200 and "Subscription confirmed" in confirmed.text
        view = Subscribers(service.store).subscription_status(name)
        assert view is not None and view.status is SubscriptionStatus.ACTIVE

    service.clock.advance(minutes=5)
    await service.poll(NORMAL_2)
    [digest] = await service.tick()
    assert (digest.subscription, digest.status, digest.stories) == (name, "sent", 1)
    [_, delivered] = smtp_server.wait_for(2)
    assert to(delivered) == "dee@example.org"
    body = text_of(delivered.message)
    assert NORMAL_2.title in body and NORMAL.title not in body

    with service.web() as client:
        response = client.post(path_of(one_click_url(delivered.message)), **ONE_CLICK)
    assert response.status_code == 200 and "You are unsubscribed" in response.text
    view = Subscribers(service.store).subscription_status(name)
    assert view is not None and view.status is SubscriptionStatus.UNSUBSCRIBED


# -- 7. the delivery log ---------------------------------------------------------------


async def test_every_attempt_is_logged_and_retry_after_is_honoured(
    make_service: Make, webhook_receiver: WebhookReceiver
) -> None:
    service = await make_service(
        webhook("hook", webhook_receiver.url("/hook")) + subscription("hook-sub", "hook")
    )
    webhook_receiver.fail("/hook", 500, body=b"upstream down")
    webhook_receiver.fail("/hook", 429, retry_after="120", body=b"slow down")
    webhook_receiver.respond("/hook", body=b"accepted")
    clock = service.clock

    await service.poll(NORMAL)
    [first] = await service.tick()
    assert (first.status, first.http_status, first.response) == ("retry", 500, "upstream down")
    record = service.delivery(first.delivery_id)
    assert (record.status, record.attempts, record.last_status) == (DeliveryStatus.PENDING, 1, 500)
    assert record.next_attempt_at is not None and record.next_attempt_at > clock.now
    assert await service.tick() == []  # not due yet

    clock.now = record.next_attempt_at
    [second] = await service.tick()
    assert (second.status, second.http_status, second.response) == ("retry", 429, "slow down")
    limited_at = clock.now
    record = service.delivery(first.delivery_id)
    assert record.last_status == 429
    assert record.next_attempt_at is not None
    assert record.next_attempt_at >= limited_at + timedelta(seconds=120)

    clock.now = limited_at + timedelta(seconds=119)
    assert await service.tick() == []
    assert len(webhook_receiver.requests) == 2
    clock.now = limited_at + timedelta(seconds=120)
    [third] = await service.tick()
    assert (third.status, third.http_status, third.response) == ("sent", 200, "accepted")

    attempts = service.outbox.attempts(first.delivery_id)
    assert [(a.attempt, a.outcome, a.status, a.response) for a in attempts] == [
        (1, "retry", 500, "upstream down"),
        (2, "retry", 429, "slow down"),
        (3, "sent", 200, "accepted"),
    ]
    assert [a.started_at for a in attempts] == sorted(a.started_at for a in attempts)
    assert attempts[1].started_at - attempts[0].started_at >= timedelta(seconds=24)
    assert attempts[2].started_at - attempts[1].started_at >= timedelta(seconds=120)
    assert "429" in (attempts[1].error or "") and attempts[2].error is None
    # What `alerts deliveries` lists.
    [listed] = service.store.deliveries("hook-sub")
    assert (listed.status, listed.attempts, listed.last_status) == (DeliveryStatus.SENT, 3, 200)
    assert listed.last_error is None and listed.sent_at == clock.now
    keys = {r.headers["idempotency-key"] for r in webhook_receiver.requests}
    assert len(keys) == 1


async def test_a_404_is_dead_at_once_and_an_operator_retry_sends_it(
    make_service: Make, webhook_receiver: WebhookReceiver
) -> None:
    service = await make_service(
        webhook("hook", webhook_receiver.url("/hook")) + subscription("hook-sub", "hook")
    )
    webhook_receiver.fail("/hook", 404, body=b"no such hook")
    await service.poll(NORMAL)
    [result] = await service.tick()
    assert (result.status, result.http_status, result.response) == ("dead", 404, "no such hook")
    record = service.delivery(result.delivery_id)
    assert (record.status, record.attempts, record.last_status) == (DeliveryStatus.DEAD, 1, 404)
    [attempt] = service.outbox.attempts(result.delivery_id)
    assert (attempt.outcome, attempt.status) == ("failed", 404)
    service.clock.advance(hours=2)
    assert await service.tick() == []  # a dead letter is not retried by itself

    # The receiver is fixed; the operator retries (`alerts deliveries retry`).
    service.outbox.retry(result.delivery_id, now=service.clock.now)
    [again] = await service.pipeline.send_pending()
    assert (again.delivery_id, again.status, again.http_status) == (result.delivery_id, "sent", 200)
    assert service.delivery(result.delivery_id).status is DeliveryStatus.SENT
    [gone, ok] = webhook_receiver.wait_for(2)
    assert gone.headers["webhook-id"] == ok.headers["webhook-id"]
    assert [a.outcome for a in service.outbox.attempts(result.delivery_id)] == ["failed", "sent"]


async def test_smtp_550_for_every_recipient_is_permanent(
    make_service: Make, smtp_server: SmtpTestServer
) -> None:
    service = await make_service(TEAM + subscription("team-sub", "team"), smtp_url=smtp_server.url)
    smtp_server.rcpt_reply = "550 5.1.1 no such user"
    await service.poll(NORMAL)
    [result] = await service.tick()
    assert (result.status, result.http_status) == ("dead", 550)
    assert "no such user" in result.response
    record = service.delivery(result.delivery_id)
    assert (record.status, record.attempts, record.last_status) == (DeliveryStatus.DEAD, 1, 550)
    [attempt] = service.outbox.attempts(result.delivery_id)
    assert attempt.outcome == "failed" and "550" in (attempt.error or "")
    assert smtp_server.messages == []


async def test_smtp_server_down_is_retried(make_service: Make) -> None:
    down = f"smtp://127.0.0.1:{closed_port()}?security=none"
    service = await make_service(TEAM + subscription("team-sub", "team"), smtp_url=down)
    await service.poll(NORMAL)
    [result] = await service.tick()
    assert result.status == "retry" and result.http_status is None and result.error
    record = service.delivery(result.delivery_id)
    assert (record.status, record.attempts) == (DeliveryStatus.PENDING, 1)
    assert record.next_attempt_at is not None and record.next_attempt_at > service.clock.now

    service.clock.now = record.next_attempt_at
    [again] = await service.tick()
    assert again.status == "retry"
    outcomes = [a.outcome for a in service.outbox.attempts(result.delivery_id)]
    assert outcomes == ["retry", "retry"]


# -- 8. delivery max age ---------------------------------------------------------------


async def test_a_delivery_older_than_the_max_age_is_dead_on_its_next_failure(
    make_service: Make, webhook_receiver: WebhookReceiver
) -> None:
    service = await make_service(
        webhook("hook", webhook_receiver.url("/hook")) + subscription("hook-sub", "hook"),
        delivery_max_age=1.0,
        max_delivery_attempts=10,
    )
    webhook_receiver.fail("/hook", 503, times=5, body=b"maintenance")
    await service.poll(NORMAL)
    [first] = await service.tick()
    assert first.status == "retry"

    service.clock.advance(minutes=30)
    [second] = await service.tick()
    assert second.status == "retry"  # younger than an hour: tried again later

    service.clock.advance(minutes=31)
    [third] = await service.tick()
    assert third.status == "dead" and "max age" in (third.error or "")
    record = service.delivery(first.delivery_id)
    assert (record.status, record.attempts) == (DeliveryStatus.DEAD, 3)  # 7 attempts left
    assert [a.outcome for a in service.outbox.attempts(first.delivery_id)] == [
        "retry",
        "retry",
        "dead",
    ]
    service.clock.advance(hours=1)
    assert await service.tick() == []
    assert len(webhook_receiver.requests) == 3


async def test_an_operator_retry_of_an_old_dead_letter_survives_a_transient_failure(
    make_service: Make, webhook_receiver: WebhookReceiver
) -> None:
    service = await make_service(
        webhook("hook", webhook_receiver.url("/hook")) + subscription("hook-sub", "hook"),
        delivery_max_age=1.0,
    )
    webhook_receiver.fail("/hook", 410, body=b"gone")
    await service.poll(NORMAL)
    [dead] = await service.tick()
    assert dead.status == "dead"

    # Fixed two hours later; the operator retries, and the receiver blips once.
    service.clock.advance(hours=2)
    webhook_receiver.fail("/hook", 503, body=b"restarting")
    service.outbox.retry(dead.delivery_id, now=service.clock.now)
    [blip] = await service.pipeline.send_pending()
    assert blip.status == "retry", blip.error


# -- 9. channel pause ------------------------------------------------------------------


async def test_a_failing_channel_is_paused_the_operators_are_told_and_resume_sends(
    make_service: Make, webhook_receiver: WebhookReceiver
) -> None:
    service = await make_service(
        webhook("hook", webhook_receiver.url("/hook"))
        + webhook("ops", webhook_receiver.url("/ops"))
        + subscription("hook-sub", "hook"),
        settings='ops_channel = "ops"',
        channel_pause_after=3,
    )
    webhook_receiver.fail("/hook", 500, times=3, body=b"broken")
    clock = service.clock

    def hook_requests() -> int:
        return sum(r.path == "/hook" for r in webhook_receiver.requests)

    await service.poll(NORMAL)
    [first] = await service.tick()
    assert first.status == "retry"
    for _ in range(2):
        clock.advance(minutes=5)
        results = await service.tick()
        assert [r.channel for r in results if r.status == "retry"] == ["hook"]
    assert hook_requests() == 3
    assert service.outbox.paused_channels() == {"hook"}
    [health] = service.outbox.health(["hook"])
    assert health.paused and "3 failed attempts" in (health.paused_reason or "")

    # The notice went out in the same pass, through the ops channel.
    [notice] = [r for r in webhook_receiver.requests if r.path == "/ops"]
    [story] = notice.json["stories"]
    assert "hook" in story["title"] and "paused" in story["title"]
    assert "alerts channels resume hook" in story["matches"][0]["snippet"]

    # Paused: neither the waiting digest nor a new one is attempted, however long it waits.
    clock.advance(minutes=10)
    await service.poll(NORMAL_2)
    assert await service.tick() == []
    clock.advance(hours=3)
    assert await service.tick() == []
    assert hook_requests() == 3
    waiting = service.store.deliveries("hook-sub")
    assert [d.status for d in waiting] == [DeliveryStatus.PENDING, DeliveryStatus.PENDING]
    second = max(d.id for d in waiting)

    assert service.outbox.resume("hook", now=clock.now) is True
    resumed = await service.tick()
    assert [(r.delivery_id, r.status) for r in resumed] == [
        (first.delivery_id, "sent"),
        (second, "sent"),
    ]
    sent = [r for r in webhook_receiver.requests if r.path == "/hook"][3:]
    assert [titles(r) for r in sent] == [[NORMAL.title], [NORMAL_2.title]]
    assert service.outbox.paused_channels() == set()
    assert len([r for r in webhook_receiver.requests if r.path == "/ops"]) == 1


async def test_a_channel_paused_mid_pass_gets_no_more_attempts_in_that_pass(
    make_service: Make, webhook_receiver: WebhookReceiver
) -> None:
    service = await make_service(
        webhook("hook", webhook_receiver.url("/hook"))
        + webhook("ops", webhook_receiver.url("/ops"))
        + subscription("hook-sub", "hook"),
        settings='ops_channel = "ops"',
        channel_pause_after=2,
    )
    webhook_receiver.fail("/hook", 500, times=10)
    await service.poll(NORMAL)
    [first] = await service.tick()
    assert first.status == "retry"

    # The retry of the first digest and a new digest are due in the same pass.
    service.clock.advance(minutes=5)
    await service.poll(NORMAL_2)
    results = await service.tick()
    assert service.outbox.paused_channels() == {"hook"}  # paused by the first of them
    assert [r.path for r in webhook_receiver.requests].count("/ops") == 1
    assert [(r.channel, r.delivery_id) for r in results if r.channel == "hook"] == [
        ("hook", first.delivery_id)
    ]
    assert [r.path for r in webhook_receiver.requests].count("/hook") == 2


# -- 10. send_test ---------------------------------------------------------------------


async def test_send_test_reports_what_the_receiver_answered(
    make_service: Make, webhook_receiver: WebhookReceiver
) -> None:
    service = await make_service(
        webhook("hook", webhook_receiver.url("/hook"))
        + webhook("locked", webhook_receiver.url("/locked"))
    )
    webhook_receiver.respond("/hook", body=b"hello from the receiver")
    webhook_receiver.fail("/locked", 403, body=b"forbidden: bad token")
    dispatcher = service.pipeline.dispatcher

    ok = await dispatcher.send_test("hook")
    assert (ok.status, ok.http_status, ok.response) == ("sent", 200, "hello from the receiver")
    [request] = webhook_receiver.wait_for(1)
    assert titles(request) == ["Test message from Sanctions Alerts"]

    refused = await dispatcher.send_test("locked")
    assert (refused.status, refused.http_status) == ("dead", 403)
    assert refused.response == "forbidden: bad token"
    assert "403" in (refused.error or "")
    assert [a.status for a in service.outbox.attempts(refused.delivery_id)] == [403]

    with pytest.raises(ValueError, match="nope"):
        await dispatcher.send_test("nope")
    assert len(webhook_receiver.requests) == 2


async def test_a_test_email_has_no_unsubscribe_link_that_cannot_work(
    make_service: Make, smtp_server: SmtpTestServer
) -> None:
    service = await make_service(
        '[[channels]]\nname = "ops-mail"\ntype = "email"\nto = ["ops@example.org"]\n',
        smtp_url=smtp_server.url,
    )
    result = await service.pipeline.dispatcher.send_test("ops-mail")
    assert (result.status, result.http_status) == ("sent", 250)
    [mail] = smtp_server.wait_for(1)
    if mail.message["List-Unsubscribe"] is None:
        return  # not a subscription's mail: no unsubscribe header is right too
    with service.web() as client:
        response = client.post(path_of(one_click_url(mail.message)), **ONE_CLICK)
    assert response.status_code == 200, response.text


# -- 11. signatures during a secret rotation -------------------------------------------

NEW_SECRET = "whsec_" + "bmV3LXNpZ25pbmcta2V5LWZvci10aGUtcm90YXRpb24="  # base64 of 30 bytes
OLD_SECRET = "the-old-raw-secret-still-held-by-some"


async def test_signed_webhooks_verify_with_either_secret_during_a_rotation(
    make_service: Make, webhook_receiver: WebhookReceiver
) -> None:
    secrets = f'secret = "{NEW_SECRET}"\nprevious_secret = "{OLD_SECRET}"'
    service = await make_service(
        webhook("updated", webhook_receiver.url("/updated"), secrets)
        + webhook("lagging", webhook_receiver.url("/lagging"), secrets)
        + webhook("stranger", webhook_receiver.url("/stranger"), secrets)
        + subscription("updated-sub", "updated")
        + subscription("lagging-sub", "lagging")
        + subscription("stranger-sub", "stranger")
    )
    webhook_receiver.verify("/updated", NEW_SECRET)  # the receiver took the new secret
    webhook_receiver.verify("/lagging", OLD_SECRET.encode())  # this one has not yet
    webhook_receiver.verify("/stranger", "whsec_" + "c29tZW9uZS1lbHNlcy1rZXktMTIzNDU2")

    await service.poll(NORMAL)
    results = {r.channel: r for r in await service.tick()}
    service.clock.advance(minutes=5)
    await service.poll(URGENT, NORMAL_2)
    for result in await service.tick():
        assert result.status == "sent" or result.channel == "stranger", result
    for channel in ("updated", "lagging"):
        assert (await service.pipeline.dispatcher.send_test(channel)).status == "sent"

    by_path: dict[str, list[RecordedRequest]] = {}
    for request in webhook_receiver.requests:
        by_path.setdefault(request.path, []).append(request)
    for path in ("/updated", "/lagging"):
        assert len(by_path[path]) == 3
        assert all(r.verified is True and r.answer == 200 for r in by_path[path]), path
        for request in by_path[path]:
            # Both signatures, new first: `verify` on the receiver has only one key.
            assert len(request.headers["webhook-signature"].split()) == 2
    # A key the channel does not hold verifies nothing: the check is real.
    assert len(by_path["/stranger"]) == 2
    assert all(r.verified is False and r.answer == 401 for r in by_path["/stranger"])
    assert results["stranger"].status == "dead"


# -- 12. Teams and Discord -------------------------------------------------------------


async def test_teams_and_discord_channels_from_the_config_deliver_a_digest(
    make_service: Make, webhook_receiver: WebhookReceiver
) -> None:
    service = await make_service(
        f'[[channels]]\nname = "teams"\ntype = "teams"\nurl = "{webhook_receiver.url("/teams")}"\n'
        f'[[channels]]\nname = "discord"\ntype = "discord"\n'
        f'url = "{webhook_receiver.url("/discord")}"\n'
        + subscription("teams-sub", "teams")
        + subscription("discord-sub", "discord")
    )
    webhook_receiver.respond("/teams", [202])
    webhook_receiver.respond("/discord", [204])
    await service.poll(NORMAL)
    results = {r.channel: r for r in await service.tick()}
    assert {c: (r.status, r.http_status) for c, r in results.items()} == {
        "teams": ("sent", 202),
        "discord": ("sent", 204),
    }

    by_path = {r.path: r for r in webhook_receiver.wait_for(2)}
    teams = by_path["/teams"].json
    assert teams["type"] == "message"
    [attachment] = teams["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard" and isinstance(card["body"], list)
    assert NORMAL.title in by_path["/teams"].body.decode()

    discord = by_path["/discord"].json
    assert discord["allowed_mentions"] == {"parse": []}
    assert isinstance(discord["embeds"], list) and discord["embeds"]
    assert any(NORMAL.title in str(embed.get("title", "")) for embed in discord["embeds"])
