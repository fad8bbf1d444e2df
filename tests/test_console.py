"""The operators' console through Starlette's test client, on real databases: logins,
sessions in signed cookies, CSRF, the open-redirect guard, and the sources health page."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.cookies import SimpleCookie

import httpx
import pytest
from argon2 import PasswordHasher
from starlette.exceptions import StarletteDeprecationWarning

from alerts.app import web_app
from alerts.config import Config
from alerts.console import SESSION_COOKIE, create_console
from alerts.console.app import safe_next
from alerts.console.views import is_stale
from alerts.delivery.links import Links
from alerts.domain import Feed, FeedState, SourceKind
from alerts.store import Store
from alerts.store.accounts import LOCKOUT_THRESHOLD, Accounts
from alerts.web import create_app
from alerts.web.headers import SECURITY_HEADERS

with warnings.catch_warnings():
    # Starlette 1.x would rather drive its test client with `httpx2`; the project uses
    # httpx, which still works. Only this import warns.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
BASE = "https://alerts.example"
KEY = b"test-key-of-at-least-32-bytes!!!"
LINKS = Links(BASE, key=KEY)
PASSWORD = "correct horse battery staple"
FAST = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
HOSTILE = '<script>alert("x")</script>'

FEEDS = [
    Feed(
        name="ofac",
        url="https://ofac.example/rss",
        interval=timedelta(minutes=30),
        title="OFAC recent actions",
        official=True,
        issuer="US",
    ),
    Feed(
        name="eu-list",
        url="https://eu.example/list.xml",
        interval=timedelta(hours=1),
        kind=SourceKind.FEED,
        issuer="EU",
    ),
]


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
def accounts(store: Store) -> Accounts:
    store.sync_config(FEEDS, [], [], [], T0)
    accounts = Accounts(store, hasher=FAST)
    accounts.create_user("admin", PASSWORD, "admin", actor="test", now=T0)
    accounts.create_user("viewer", PASSWORD, "viewer", actor="test", now=T0)
    return accounts


def make_client(store: Store, accounts: Accounts, clock: Clock, *, base: str = BASE) -> TestClient:
    console = create_console(
        store=store,
        key=KEY,
        secure=base.startswith("https://"),
        feeds=FEEDS,
        clock=clock,
        accounts=accounts,
    )
    app = create_app(
        store=store,
        links=Links(base, key=KEY),
        watchlists=[],
        default_timezone="UTC",
        clock=clock,
        console=console,
    )
    return TestClient(app, base_url=base, follow_redirects=False)


@pytest.fixture
def client(store: Store, accounts: Accounts, clock: Clock) -> Iterator[TestClient]:
    with make_client(store, accounts, clock) as client:
        yield client


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None, html
    return found.group(1)


def login(
    client: TestClient, username: str = "admin", password: str = PASSWORD, next_path: str = ""
) -> httpx.Response:
    page = client.get("/console/login")
    assert page.status_code == 200
    data = {"username": username, "password": password, "csrf_token": csrf_of(page.text)}
    if next_path:
        data["next"] = next_path
    return client.post("/console/login", data=data)


def set_cookie_header(response: httpx.Response) -> str:
    headers = [v for k, v in response.headers.multi_items() if k == "set-cookie"]
    assert len(headers) == 1, headers
    return headers[0]


# -- logins ------------------------------------------------------------------------


def test_login_ok_sets_a_signed_session_cookie_with_safe_flags(client: TestClient) -> None:
    response = login(client)
    assert response.status_code == 303
    assert response.headers["location"] == "/console/"
    header = set_cookie_header(response)
    cookie = SimpleCookie()
    cookie.load(header)
    morsel = cookie[SESSION_COOKIE]
    assert morsel["httponly"] is True
    assert morsel["secure"] is True
    assert morsel["samesite"].lower() == "lax"
    assert morsel["path"] == "/console"
    assert int(morsel["max-age"]) == 12 * 3600
    assert "admin" not in morsel.value  # the payload is base64, not readable at a glance
    page = client.get("/console/")
    assert page.status_code == 200
    assert "admin" in page.text and ">admin<" in page.text.replace(" <span", "<")


def test_session_cookie_is_not_secure_over_plain_http(
    store: Store, accounts: Accounts, clock: Clock
) -> None:
    with make_client(store, accounts, clock, base="http://localhost:8080") as client:
        response = login(client)
        assert response.status_code == 303
        header = set_cookie_header(response).lower()
        assert "httponly" in header and "samesite=lax" in header
        assert "secure" not in header


def test_wrong_password_and_unknown_user_get_the_same_400(client: TestClient) -> None:
    wrong = login(client, password="not the password at all")
    unknown = login(client, username="nobody", password="not the password at all")
    for response in (wrong, unknown):
        assert response.status_code == 400
        assert "Wrong username or password." in response.text
        assert SESSION_COOKIE not in response.cookies
    assert client.get("/console/").status_code == 303
    empty = login(client, password="")
    assert empty.status_code == 400
    assert "Enter your username and password." in empty.text
    too_long = login(client, password="x" * 5000)
    assert too_long.status_code == 400
    assert "Wrong username or password." in too_long.text


def test_disabled_user_cannot_log_in_and_is_logged_out(
    client: TestClient, accounts: Accounts
) -> None:
    assert login(client, username="viewer").status_code == 303
    assert client.get("/console/").status_code == 200
    accounts.disable("viewer", actor="test", now=T0)
    assert client.get("/console/").status_code == 303  # the live session ends at once
    response = login(client, username="viewer")
    assert response.status_code == 400
    assert "Wrong username or password." in response.text


def test_locked_user_gets_429_with_the_unlock_time(client: TestClient, clock: Clock) -> None:
    for _ in range(LOCKOUT_THRESHOLD - 1):
        assert login(client, password="a wrong password!").status_code == 400
    locked = login(client, password="a wrong password!")
    assert locked.status_code == 429
    assert "locked until 2026-03-01 12:15:00 UTC" in locked.text
    assert locked.headers["retry-after"] == "900"
    # The right password is refused while locked, and works after.
    assert login(client).status_code == 429
    clock.now = T0 + timedelta(minutes=16)
    assert login(client).status_code == 303


def test_role_shown_is_the_current_one(client: TestClient, accounts: Accounts) -> None:
    assert login(client, username="viewer").status_code == 303
    assert "viewer</span>" in client.get("/console/").text
    accounts.set_role("viewer", "editor", actor="test", now=T0)
    # A role change ends the user's sessions; the next login carries the new role.
    assert client.get("/console/").status_code == 303
    assert login(client, username="viewer").status_code == 303
    assert "editor</span>" in client.get("/console/").text


def test_a_copied_cookie_stops_working_at_logout(client: TestClient) -> None:
    assert login(client).status_code == 303
    copied = client.cookies[SESSION_COOKIE]
    page = client.get("/console/")
    assert page.status_code == 200
    logout = client.post("/console/logout", data={"csrf_token": csrf_of(page.text)})
    assert logout.status_code == 303
    client.cookies.set(SESSION_COOKIE, copied, domain="alerts.example", path="/console")
    assert client.get("/console/").status_code == 303  # replayed after logout: logged out


# -- sessions ----------------------------------------------------------------------


def test_tampered_or_expired_cookie_is_logged_out(client: TestClient, clock: Clock) -> None:
    assert login(client).status_code == 303
    value = client.cookies[SESSION_COOKIE]
    payload, _, mac = value.partition(".")
    flipped = payload[:-2] + ("A" if payload[-2] != "A" else "B") + payload[-1]
    for bad in (f"{flipped}.{mac}", f"{payload}.{mac[:-3]}xyz", "garbage", ""):
        client.cookies.set(SESSION_COOKIE, bad, domain="alerts.example", path="/console")
        response = client.get("/console/")
        assert response.status_code == 303, bad
        client.cookies.clear()
    client.cookies.set(SESSION_COOKIE, value, domain="alerts.example", path="/console")
    assert client.get("/console/").status_code == 200
    clock.now = T0 + timedelta(hours=12, minutes=1)
    assert client.get("/console/").status_code == 303


def test_a_session_signed_with_another_key_is_refused(
    store: Store, accounts: Accounts, clock: Clock
) -> None:
    with make_client(store, accounts, clock) as client:
        assert login(client).status_code == 303
        value = client.cookies[SESSION_COOKIE]
    other = create_app(
        store=store,
        links=LINKS,
        watchlists=[],
        default_timezone="UTC",
        console=create_console(
            store=store, key=b"another-key-of-32-bytes-or-more!", secure=True, accounts=accounts
        ),
    )
    with TestClient(other, base_url=BASE, follow_redirects=False) as client:
        client.cookies.set(SESSION_COOKIE, value, domain="alerts.example", path="/console")
        assert client.get("/console/").status_code == 303


def test_logout_clears_the_cookie(client: TestClient) -> None:
    assert login(client).status_code == 303
    page = client.get("/console/")
    response = client.post("/console/logout", data={"csrf_token": csrf_of(page.text)})
    assert response.status_code == 303
    assert response.headers["location"] == "/console/login"
    header = set_cookie_header(response).lower()
    assert header.startswith(f"{SESSION_COOKIE}=") and "max-age=0" in header
    assert SESSION_COOKIE not in client.cookies
    assert client.get("/console/").status_code == 303


def test_a_new_login_gets_a_new_csrf_token(client: TestClient) -> None:
    page = client.get("/console/login")
    before = csrf_of(page.text)
    data = {"username": "admin", "password": PASSWORD, "csrf_token": before}
    assert client.post("/console/login", data=data).status_code == 303
    assert csrf_of(client.get("/console/").text) != before


# -- CSRF ----------------------------------------------------------------------------


def test_csrf_missing_or_wrong_is_refused_with_403(client: TestClient) -> None:
    page = client.get("/console/login")
    token = csrf_of(page.text)
    form = {"username": "admin", "password": PASSWORD}
    for data in (form, {**form, "csrf_token": "wrong"}, {**form, "csrf_token": token + "x"}):
        response = client.post("/console/login", data=data)
        assert response.status_code == 403
        assert "This form has expired" in response.text
        assert SESSION_COOKIE not in response.headers.get("set-cookie", "")
    assert client.post("/console/login", data={**form, "csrf_token": token}).status_code == 303
    home = client.get("/console/")
    for data in ({}, {"csrf_token": "wrong"}, {"csrf_token": token}):  # the login's is stale
        assert client.post("/console/logout", data=data).status_code == 403
    assert client.get("/console/").status_code == 200  # still logged in
    assert (
        client.post("/console/logout", data={"csrf_token": csrf_of(home.text)}).status_code == 303
    )


def test_csrf_without_a_cookie_is_refused(client: TestClient) -> None:
    token = csrf_of(client.get("/console/login").text)
    client.cookies.clear()
    data = {"username": "admin", "password": PASSWORD, "csrf_token": token}
    assert client.post("/console/login", data=data).status_code == 403


# -- redirects -------------------------------------------------------------------------


def test_anonymous_is_sent_to_login_and_back(client: TestClient) -> None:
    response = client.get("/console/?sort=name")
    assert response.status_code == 303
    assert response.headers["location"] == "/console/login?next=/console/%3Fsort%3Dname"
    page = client.get(response.headers["location"])
    assert 'name="next" value="/console/?sort=name"' in page.text
    assert login(client, next_path="/console/?sort=name").headers["location"] == (
        "/console/?sort=name"
    )
    # Logged in, the login page goes straight on.
    again = client.get("/console/login?next=/console/")
    assert again.status_code == 303 and again.headers["location"] == "/console/"


@pytest.mark.sqlite_only
@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/console/",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "/console\t//evil.example",
        "/subscribe",
        "http:/console/",
        "",
    ],
)
def test_open_redirect_in_next_is_refused(client: TestClient, target: str) -> None:
    page = client.get("/console/login", params={"next": target})
    assert 'name="next" value="/console/"' in page.text
    response = login(client, next_path=target)
    assert response.status_code == 303
    assert response.headers["location"] == "/console/"


def test_safe_next() -> None:
    assert safe_next("/console/x?y=1", "/console") == "/console/x?y=1"
    assert safe_next("/console", "/console") == "/console/"
    assert safe_next("/consolex/", "/console") == "/console/"
    assert safe_next("/console/\x00", "/console") == "/console/"
    assert safe_next("/a/b", "") == "/a/b"
    assert safe_next("//a/b", "") == "/"


def test_every_console_route_as_anonymous_is_redirected_or_refused(client: TestClient) -> None:
    client.cookies.clear()
    expected = {
        ("GET", "/console"): {307},
        ("GET", "/console/"): {303},
        ("HEAD", "/console/"): {303},
        ("GET", "/console/login"): {200},
        ("POST", "/console/login"): {403},
        ("POST", "/console/logout"): {403},
        ("GET", "/console/logout"): {405},
        ("POST", "/console/"): {405},
        ("GET", "/console/no-such-page"): {404},
        ("PUT", "/console/login"): {405},
    }
    for (method, path), statuses in expected.items():
        response = client.request(method, path)
        assert response.status_code in statuses, (method, path, response.status_code)
        for name, value in SECURITY_HEADERS.items():
            assert response.headers[name] == value, (method, path, name)
    assert client.get("/console/assets/console.css").status_code == 200


# -- the sources page ----------------------------------------------------------------------


def test_sources_page_shows_health_and_escapes_feed_text(
    client: TestClient, store: Store, clock: Clock
) -> None:
    store.record_not_modified("ofac", now=T0 - timedelta(hours=2), next_poll_at=T0)
    store.record_feed_error(
        "ofac", now=T0 - timedelta(minutes=5), error=HOSTILE, next_poll_at=T0 + timedelta(1)
    )
    assert login(client).status_code == 303
    html = client.get("/console/").text
    assert "<script" not in html and "style=" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    row = html[html.index('<tr class="row-stale">') :]
    row = row[: row.index("</tr>")]
    for text in ("ofac", "OFAC recent actions", "US", "feed", "2026-03-01 10:00 UTC", "stale"):
        assert text in row, text
    assert '<td class="num">1</td>' in row  # the error streak
    eu = html[html.index('<span class="source-name">eu-list</span>') :]
    eu = eu[: eu.index("</tr>")]
    assert "EU" in eu and "never" in eu and "badge-ok" in eu  # new, never polled: not stale
    assert "1 stale source." in html
    assert '<html lang="en">' in html and 'name="viewport"' in html
    assert '<th scope="col">Last error</th>' in html and html.count("<h1>") == 1


def test_is_stale() -> None:
    state = FeedState(name="f", url="u", interval=timedelta(minutes=30))
    assert not is_stale(state, T0)
    assert is_stale(FeedState(name="f", url="u", error_count=1), T0)
    ok = FeedState(name="f", url="u", interval=timedelta(minutes=30), last_success_at=T0)
    assert not is_stale(ok, T0 + timedelta(minutes=90))
    assert is_stale(ok, T0 + timedelta(minutes=91))
    disabled = FeedState(name="f", url="u", error_count=3, enabled=False)
    assert not is_stale(disabled, T0)


def test_web_app_mounts_the_console(store: Store, accounts: Accounts) -> None:
    config = Config(
        path="feeds.toml", feeds=tuple(FEEDS), watchlists=(), channels=(), subscriptions=()
    )
    with TestClient(web_app(config, store, LINKS), base_url=BASE, follow_redirects=False) as client:
        response = client.get("/console/")
        assert response.status_code == 303
        assert response.headers["location"] == "/console/login?next=/console/"
        assert 'name="csrf_token"' in client.get("/console/login").text


@pytest.mark.sqlite_only
def test_a_burst_of_logins_is_told_to_wait(
    store: Store, accounts: Accounts, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    import alerts.console.app as console_app

    monkeypatch.setattr(console_app, "MAX_LOGIN_CHECKS", 0)  # every slot taken
    with make_client(store, accounts, clock) as busy:
        response = login(busy)
    assert response.status_code == 429
    assert response.headers["retry-after"] == "5"
    assert "try again in a few seconds" in response.text
