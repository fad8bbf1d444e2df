"""The JSON API v1 through Starlette's test client, mounted in the web app as `alerts run`
mounts it, on real databases seeded through the store's own methods."""

from __future__ import annotations

import base64
import json
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate as validate_openapi
from starlette.exceptions import StarletteDeprecationWarning
from starlette.routing import Route

from alerts.api import create_api
from alerts.api.openapi import DOCUMENT
from alerts.api.pagination import MAX_LIMIT, encode_cursor
from alerts.delivery.links import Links
from alerts.domain import (
    ChannelConfig,
    ChannelKind,
    DesignationRecord,
    Entity,
    Feed,
    Identity,
    Importance,
    Item,
    ItemFacets,
    Match,
    MatchKind,
    NewItem,
    Subscription,
    Watchlist,
)
from alerts.store import Store
from alerts.store.accounts import Accounts
from alerts.store.outbox import Outbox
from alerts.web import create_app
from alerts.web.headers import SECURITY_HEADERS

with warnings.catch_warnings():
    # Starlette 1.x would rather drive its test client with `httpx2`; the project uses
    # httpx, which still works. Only this import warns.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
BASE = "https://alerts.example"
FAST = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
PASSWORD = "correct horse battery"
HOSTILE = '</script><script>alert("x")</script> & <b>bold</b>'

FEEDS = [
    Feed(
        name="ofac",
        url="https://ofac.example/rss",
        interval=timedelta(minutes=30),
        title="OFAC",
        official=True,
        issuer="US",
    ),
    Feed(name="press", url="https://press.example/rss", interval=timedelta(hours=1)),
]
WATCHLISTS = [
    Watchlist(
        name="russia",
        terms=("Rosneft", "sanction*"),
        queries=("oil AND export",),
        regexes=(r"\bIMO ?\d{7}\b",),
        entities=(Entity(name="Ivan Petrov", aliases=("I. Petrov",)),),
        exclude=("sport*",),
        importance=Importance.HIGH,
        urgent=("Rosneft",),
        description="Russia desk",
    ),
    Watchlist(name="iran", terms=("Iran",)),
]
CHANNELS = [ChannelConfig(name="hook", kind=ChannelKind.WEBHOOK, url="https://hook.example/x")]
SUBSCRIPTIONS = [Subscription(name="ops", watchlists=("russia",), channel="hook")]


class Clock:
    """A clock the tests move by hand."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def new_item(
    key: str, title: str, *, fetched: int, facets: ItemFacets | None = None, **extra: Any
) -> NewItem:
    item = Item(
        feed="ofac",
        guid=key,
        link=f"https://ofac.example/{key}",
        title=title,
        summary=f"{title} today.",
        published=T0 + timedelta(minutes=fetched),
        tags=("sanctions",),
        facets=facets or ItemFacets(),
        **extra,
    )
    match = Match(
        watchlist="russia",
        term="Rosneft",
        field="title",
        start=0,
        end=7,
        snippet=title,
        kind=MatchKind.TERM,
        matched="",
        highlight=(0, 7),
    )
    return NewItem(
        item=item, identity=Identity(key=key, story_key=f"story-{key}"), matches=(match,)
    )


def poll(store: Store, feed: str, items: list[NewItem], now: datetime) -> None:
    store.record_poll(
        feed,
        now=now,
        next_poll_at=now + timedelta(hours=1),
        url=f"https://{feed}.example/rss",
        etag=None,
        last_modified=None,
        items=items,
    )


@pytest.fixture
def seeded(store: Store) -> Store:
    store.sync_config(FEEDS, WATCHLISTS, CHANNELS, SUBSCRIPTIONS, T0)
    designation = DesignationRecord(
        list="us-ofac-sdn", id="123", action="added", kind="person", name="Ivan Petrov"
    )
    facets = ItemFacets(values={"issuer": ("US",)}, reasons={"issuer": ("feed issuer",)})
    poll(
        store,
        "ofac",
        [
            new_item("a", "Rosneft one", fetched=1, facets=facets, designation=designation),
            new_item("b", "Rosneft two", fetched=2),
            new_item("c", "Rosneft " + HOSTILE, fetched=3),
        ],
        T0,
    )
    poll(store, "ofac", [new_item("d", "Rosneft four", fetched=4)], T0 + timedelta(hours=2))
    store.record_feed_error(
        "press", error="HTTP 503", now=T0, next_poll_at=T0 + timedelta(minutes=5)
    )
    outbox = Outbox(store)
    first = outbox.enqueue("test", "hook", {"n": 1}, now=T0, subscription="ops")
    outbox.enqueue("test", "hook", {"n": 2}, now=T0)
    outbox.record(
        first,
        outcome="retry",
        started_at=T0,
        latency_ms=12,
        now=T0,
        status=500,
        error="server error",
        next_attempt_at=T0 + timedelta(minutes=1),
    )
    return store


@pytest.fixture
def accounts(seeded: Store) -> Accounts:
    accounts = Accounts(seeded, hasher=FAST)
    accounts.create_user("admin", PASSWORD, "admin", actor="test", now=T0)
    accounts.create_user("viewer", PASSWORD, "viewer", actor="test", now=T0)
    return accounts


@pytest.fixture
def token(accounts: Accounts) -> str:
    plain, _ = accounts.create_token("viewer", "script", [], None, actor="test", now=T0)
    return plain


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def client(seeded: Store, clock: Clock) -> Iterator[TestClient]:
    app = create_app(
        store=seeded,
        links=Links(BASE, key=b"test-key-of-at-least-32-bytes!!!"),
        watchlists=["russia"],
        default_timezone="UTC",
        clock=clock,
        api=create_api(seeded, clock=clock),
    )
    with TestClient(app, base_url=BASE) as client:
        yield client


def get(client: TestClient, path: str, token: str | None, **params: Any) -> Any:
    headers = {"authorization": f"Bearer {token}"} if token is not None else {}
    return client.get(path, params=params, headers=headers)


def validator(schema: str) -> Draft202012Validator:
    """Checks a body against a component schema of the OpenAPI document."""
    root = {"$ref": f"#/components/schemas/{schema}", "components": DOCUMENT["components"]}
    return Draft202012Validator(root)


def assert_error(response: Any, status: int, code: str, field: str | None = None) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body == {"error": {"code": code, "message": body["error"]["message"], "field": field}}
    assert body["error"]["message"]
    validator("Error").validate(body)


# -- the endpoints ---------------------------------------------------------------------


def test_sources(client: TestClient, token: str) -> None:
    response = get(client, "/api/v1/sources", token)
    assert response.status_code == 200
    body = response.json()
    validator("SourceList").validate(body)
    ofac, press = body["data"]
    assert ofac["name"] == "ofac"
    assert ofac["kind"] == "feed"
    assert ofac["issuer"] == "US"
    assert ofac["official"] is True
    assert ofac["interval_seconds"] == 1800
    assert ofac["item_count"] == 4
    assert ofac["last_success_at"] == "2026-03-01T14:00:00+00:00"
    assert ofac["error_streak"] == 0
    assert press["last_error"] == "HTTP 503"
    assert press["error_streak"] == 1
    assert press["next_poll_at"] == "2026-03-01T12:05:00+00:00"
    assert press["item_count"] == 0


def test_watchlists(client: TestClient, token: str) -> None:
    response = get(client, "/api/v1/watchlists", token)
    assert response.status_code == 200
    body = response.json()
    validator("WatchlistList").validate(body)
    assert [w["name"] for w in body["data"]] == ["iran", "russia"]
    assert body["data"][1] == {
        "name": "russia",
        "description": "Russia desk",
        "importance": "high",
        "terms": ["Rosneft", "sanction*"],
        "queries": ["oil AND export"],
        "regexes": [r"\bIMO ?\d{7}\b"],
        "entities_count": 1,
        "exclusions": ["sport*"],
        "urgent": ["Rosneft"],
    }


def test_items_newest_first_with_explanations(client: TestClient, token: str) -> None:
    response = get(client, "/api/v1/items", token)
    assert response.status_code == 200
    body = response.json()
    validator("ItemPage").validate(body)
    assert body["next_cursor"] is None
    assert [i["title"][:12] for i in body["data"]] == [
        "Rosneft four",
        "Rosneft </sc",
        "Rosneft two",
        "Rosneft one",
    ]
    one = body["data"][-1]
    assert one["story_key"] == "story-a"
    assert one["facets"] == {"values": {"issuer": ["US"]}, "reasons": {"issuer": ["feed issuer"]}}
    assert one["designation"]["name"] == "Ivan Petrov"
    assert one["designation"]["aliases"] == []
    assert one["matches"] == [
        {
            "watchlist": "russia",
            "term": "Rosneft",
            "kind": "term",
            "field": "title",
            "matched": "",
            "snippet": "Rosneft one",
            "highlight": [0, 7],
            "score": 1.0,
        }
    ]
    assert body["data"][0]["designation"] is None


def test_items_filters(client: TestClient, token: str) -> None:
    late = get(client, "/api/v1/items", token, since="2026-03-01T13:00:00Z").json()
    assert [i["title"] for i in late["data"]] == ["Rosneft four"]
    offset = get(client, "/api/v1/items", token, since="2026-03-01T15:00:00+02:00").json()
    assert [i["title"] for i in offset["data"]] == ["Rosneft four"]  # 13:00 UTC
    assert get(client, "/api/v1/items", token, feed="press").json()["data"] == []
    assert get(client, "/api/v1/items", token, feed="nope").json()["data"] == []
    assert len(get(client, "/api/v1/items", token, feed="ofac").json()["data"]) == 4


def test_items_pages(client: TestClient, token: str) -> None:
    seen: list[int] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 3}
        if cursor is not None:
            params["cursor"] = cursor
        body = get(client, "/api/v1/items", token, **params).json()
        pages += 1
        seen += [i["id"] for i in body["data"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert pages == 2
    assert seen == sorted(seen, reverse=True)
    assert len(set(seen)) == 4
    # A page that ends exactly at the last row says so: no empty page after it.
    assert get(client, "/api/v1/items", token, limit=4).json()["next_cursor"] is None


def test_deliveries(client: TestClient, token: str) -> None:
    body = get(client, "/api/v1/deliveries", token).json()
    validator("DeliveryPage").validate(body)
    second, first = body["data"]
    assert second["subscription"] is None
    assert second["attempts"] == 0
    assert second["attempt_log"] == []
    assert first["subscription"] == "ops"
    assert first["kind"] == "test"
    assert first["status"] == "pending"
    assert first["attempts"] == 1
    assert first["last_status"] == 500
    assert first["last_error"] == "server error"
    assert first["next_attempt_at"] == "2026-03-01T12:01:00+00:00"
    assert first["attempt_log"] == [
        {
            "attempt": 1,
            "started_at": "2026-03-01T12:00:00+00:00",
            "latency_ms": 12,
            "outcome": "retry",
            "status": 500,
            "error": "server error",
        }
    ]
    only = get(client, "/api/v1/deliveries", token, subscription="ops").json()["data"]
    assert [d["id"] for d in only] == [first["id"]]
    assert get(client, "/api/v1/deliveries", token, status="dead").json()["data"] == []
    assert len(get(client, "/api/v1/deliveries", token, status="pending").json()["data"]) == 2
    page = get(client, "/api/v1/deliveries", token, limit=1).json()
    assert [d["id"] for d in page["data"]] == [second["id"]]
    rest = get(client, "/api/v1/deliveries", token, limit=1, cursor=page["next_cursor"]).json()
    assert [d["id"] for d in rest["data"]] == [first["id"]]
    assert rest["next_cursor"] is None


def test_feed_text_is_returned_as_data(client: TestClient, token: str) -> None:
    response = get(client, "/api/v1/items", token)
    assert response.headers["content-type"] == "application/json"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "<" not in response.text and ">" not in response.text and "&" not in response.text
    titles = [i["title"] for i in response.json()["data"]]
    assert "Rosneft " + HOSTILE in titles  # the same text, once parsed


# -- authentication --------------------------------------------------------------------


@pytest.mark.sqlite_only
@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        "Bearer not-a-token",
        "Bearer alerts_000000000000_" + "A" * 43,  # well formed, unknown
        "Bearer " + "x" * 1000,
    ],
)
def test_bad_credentials_are_401(client: TestClient, token: str, header: str | None) -> None:
    headers = {"authorization": header} if header is not None else {}
    response = client.get("/api/v1/items", headers=headers)
    code = "unauthorized" if header is None else "invalid_token"
    assert_error(response, 401, code)
    assert response.headers["www-authenticate"].startswith('Bearer realm="alerts"')


def test_a_wrong_secret_with_a_real_prefix_is_401(client: TestClient, token: str) -> None:
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    assert_error(get(client, "/api/v1/sources", forged), 401, "invalid_token")


def test_expired_revoked_and_disabled_are_401(
    client: TestClient, accounts: Accounts, clock: Clock
) -> None:
    expiring, _ = accounts.create_token(
        "viewer", "short", [], T0 + timedelta(hours=1), actor="test", now=T0
    )
    revoked, record = accounts.create_token("viewer", "gone", [], None, actor="test", now=T0)
    kept, _ = accounts.create_token("admin", "kept", [], None, actor="test", now=T0)
    for plain in (expiring, revoked, kept):
        assert get(client, "/api/v1/sources", plain).status_code == 200
    accounts.revoke_token(record.id, actor="test", now=T0)
    clock.now = T0 + timedelta(hours=1)
    assert_error(get(client, "/api/v1/sources", expiring), 401, "invalid_token")
    assert_error(get(client, "/api/v1/sources", revoked), 401, "invalid_token")
    assert get(client, "/api/v1/sources", kept).status_code == 200
    accounts.create_user("ed", PASSWORD, "editor", actor="test", now=T0)
    eds, _ = accounts.create_token("ed", "ed", [], None, actor="test", now=T0)
    assert get(client, "/api/v1/sources", eds).status_code == 200
    accounts.disable("ed", actor="test", now=T0)
    assert_error(get(client, "/api/v1/sources", eds), 401, "invalid_token")


def test_a_token_without_read_is_403(client: TestClient, accounts: Accounts) -> None:
    accounts.create_user("ed", PASSWORD, "editor", actor="test", now=T0)
    plain, _ = accounts.create_token(
        "ed", "writer", ["edit:watchlists"], None, actor="test", now=T0
    )
    response = get(client, "/api/v1/items", plain)
    assert_error(response, 403, "insufficient_scope")
    assert 'error="insufficient_scope"' in response.headers["www-authenticate"]


def test_authentication_comes_before_parameters(client: TestClient) -> None:
    assert_error(client.get("/api/v1/items?limit=0"), 401, "unauthorized")


# -- bad input -------------------------------------------------------------------------


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


BAD_PARAMETERS = [
    ("/api/v1/items", "limit=0", "limit", "bad_parameter"),
    ("/api/v1/items", f"limit={MAX_LIMIT + 1}", "limit", "bad_parameter"),
    ("/api/v1/items", "limit=abc", "limit", "bad_parameter"),
    ("/api/v1/items", "limit=-1", "limit", "bad_parameter"),
    ("/api/v1/items", "limit=%2B5", "limit", "bad_parameter"),
    ("/api/v1/items", "limit=1.5", "limit", "bad_parameter"),
    ("/api/v1/items", "limit=%D9%A3", "limit", "bad_parameter"),  # Arabic-Indic 3
    ("/api/v1/items", "limit=", "limit", "bad_parameter"),
    ("/api/v1/items", "limit=99999999999999999999", "limit", "bad_parameter"),
    ("/api/v1/items", "cursor=!!!", "cursor", "bad_parameter"),
    ("/api/v1/items", "cursor=", "cursor", "bad_parameter"),
    ("/api/v1/items", f"cursor={_b64('abc')}", "cursor", "bad_parameter"),
    ("/api/v1/items", f"cursor={_b64('0')}", "cursor", "bad_parameter"),
    ("/api/v1/items", f"cursor={_b64('-1')}", "cursor", "bad_parameter"),
    ("/api/v1/items", f"cursor={_b64('9' * 30)}", "cursor", "bad_parameter"),
    ("/api/v1/items", "cursor=" + "A" * 100, "cursor", "bad_parameter"),
    ("/api/v1/items", "cursor=%FF%FE", "cursor", "bad_parameter"),
    ("/api/v1/items", "since=yesterday", "since", "bad_parameter"),
    ("/api/v1/items", "since=2026-03-01", "since", "bad_parameter"),  # no time, no offset
    ("/api/v1/items", "since=2026-03-01T12:00:00", "since", "bad_parameter"),  # naive
    ("/api/v1/items", "since=2026-03-01T12:00:00+00:00", "since", "bad_parameter"),  # '+'->' '
    ("/api/v1/items", "since=0001-01-01T00:00:00%2B01:00", "since", "bad_parameter"),
    ("/api/v1/items", "since=" + "1" * 100, "since", "bad_parameter"),
    ("/api/v1/items", "feed=", "feed", "bad_parameter"),
    ("/api/v1/items", "feed=a%00b", "feed", "bad_parameter"),
    ("/api/v1/items", "feed=" + "f" * 201, "feed", "bad_parameter"),
    ("/api/v1/items", "limt=5", "limt", "unknown_parameter"),
    ("/api/v1/items", "limit=1&limit=2", "limit", "repeated_parameter"),
    ("/api/v1/deliveries", "status=lost", "status", "bad_parameter"),
    ("/api/v1/deliveries", "status=", "status", "bad_parameter"),
    ("/api/v1/deliveries", "subscription=", "subscription", "bad_parameter"),
    ("/api/v1/deliveries", "subscription=%00", "subscription", "bad_parameter"),
    ("/api/v1/deliveries", "limit=500", "limit", "bad_parameter"),
    ("/api/v1/deliveries", "cursor=%3D%3D", "cursor", "bad_parameter"),
    ("/api/v1/deliveries", "feed=ofac", "feed", "unknown_parameter"),
    ("/api/v1/sources", "limit=5", "limit", "unknown_parameter"),
    ("/api/v1/watchlists", "q=x", "q", "unknown_parameter"),
]


@pytest.mark.sqlite_only
@pytest.mark.parametrize(("path", "query", "field", "code"), BAD_PARAMETERS)
def test_bad_parameters_are_400_naming_the_field(
    client: TestClient, token: str, path: str, query: str, field: str, code: str
) -> None:
    response = client.get(f"{path}?{query}", headers={"authorization": f"Bearer {token}"})
    assert_error(response, 400, code, field)


def test_a_cursor_past_the_end_is_an_empty_page(client: TestClient, token: str) -> None:
    body = get(client, "/api/v1/items", token, cursor=encode_cursor(1)).json()
    assert body == {"data": [], "next_cursor": None}


def test_unknown_path_is_a_json_404(client: TestClient, token: str) -> None:
    for path in ("/api/v2/items", "/api/v1/nope", "/api/v1/items/1", "/api/%00"):
        response = get(client, path, token)
        assert_error(response, 404, "not_found")
        assert (
            response.headers["x-content-type-options"] == SECURITY_HEADERS["x-content-type-options"]
        )


def test_wrong_method_is_a_json_405(client: TestClient, token: str) -> None:
    methods = {"get", "post", "put", "delete", "patch"}
    for path, operations in DOCUMENT["paths"].items():
        allowed = {m.upper() for m in operations if m in methods}
        allowed |= {"HEAD"} if "GET" in allowed else set()
        for method in sorted(m.upper() for m in methods - set(operations)):
            if path == "/v1/watchlists/preview" and method in {"PUT", "DELETE"}:
                continue  # /v1/watchlists/{name} takes those: a watchlist named "preview"
            response = client.request(
                method, f"/api{path}", headers={"authorization": f"Bearer {token}"}
            )
            assert_error(response, 405, "method_not_allowed")
            assert set(response.headers["allow"].replace(" ", "").split(",")) == allowed


def test_the_web_pages_are_unchanged(client: TestClient) -> None:
    assert client.get("/healthz").text == "ok"
    assert client.get("/nope").headers["content-type"].startswith("text/html")


# -- the OpenAPI document --------------------------------------------------------------


def test_openapi_document_is_valid_and_served_twice(client: TestClient) -> None:
    validate_openapi(DOCUMENT)
    for path in ("/api/openapi.json", "/api/v1/openapi.json"):
        response = client.get(path)  # public: tools fetch it without a token
        assert response.status_code == 200
        assert response.json() == json.loads(json.dumps(DOCUMENT))


def test_every_route_is_documented_and_every_documented_route_exists(seeded: Store) -> None:
    api = create_api(seeded)
    routes = {}
    for route in api.routes:
        assert isinstance(route, Route)
        routes[route.path] = (route.methods or set()) - {"HEAD"}
    documented = {path: {m.upper() for m in ops} for path, ops in DOCUMENT["paths"].items()}
    assert routes == documented


def test_walk_every_documented_route(client: TestClient, token: str) -> None:
    """Every route, with and without a token and with junk parameters: never a 500, and
    every answer has the documented top-level keys (and matches its schema)."""
    for path, operations in DOCUMENT["paths"].items():
        if "get" not in operations:
            continue  # the watchlist changes: walked in test_api_watchlists.py
        operation = operations["get"]
        for headers in ({"authorization": f"Bearer {token}"}, {}):
            for query in ("", "?limit=2", "?cursor=x", "?since=%00", "?zzz=1"):
                response = client.get(f"/api{path}{query}", headers=headers)
                assert response.status_code < 500, (path, query)
                status = str(response.status_code)
                assert status in operation["responses"], (path, query, status)
                documented = operation["responses"][status]
                if "$ref" in documented:
                    name = documented["$ref"].rsplit("/", 1)[1]
                    documented = DOCUMENT["components"]["responses"][name]
                schema = documented.get("content", {}).get("application/json", {}).get("schema")
                if schema and "$ref" in schema:
                    body = response.json()
                    name = schema["$ref"].rsplit("/", 1)[1]
                    validator(name).validate(body)
                    assert set(body) == set(DOCUMENT["components"]["schemas"][name]["required"])


def test_every_documented_route_is_in_the_readme() -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    missing = [path for path in DOCUMENT["paths"] if f"/api{path}`" not in readme]
    assert not missing, f"API routes missing from the README: {missing}"


def test_a_cursor_beyond_any_id_is_a_bad_parameter(client: TestClient, token: str) -> None:
    # PostgreSQL ids are 32-bit: a bigger id would reach the database and fail there.
    for big in (2**31, 2**63, 10**18):
        response = get(client, "/api/v1/items", token, cursor=encode_cursor(big))
        assert_error(response, 400, "bad_parameter", "cursor")
