"""Watchlist preview and changes through the JSON API, on real databases: the backtest over
seeded items, validation naming the field, roles, file-managed watchlists, the audit trail,
and the running matcher's version."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from alerts.api import create_api
from alerts.api.openapi import DOCUMENT
from alerts.delivery.links import Links
from alerts.domain import Identity, Item, NewItem, Watchlist
from alerts.store import Store
from alerts.store.accounts import Accounts
from alerts.web import create_app
from tests.test_api import (
    BASE,
    CHANNELS,
    FAST,
    FEEDS,
    PASSWORD,
    SUBSCRIPTIONS,
    T0,
    WATCHLISTS,
    Clock,
    TestClient,
    assert_error,
    poll,
    validator,
)

NOW = T0 + timedelta(hours=1)
FILE_MANAGED = {w.name for w in WATCHLISTS}


def story_item(key: str, title: str, story: str) -> NewItem:
    item = Item(
        feed="ofac",
        guid=key,
        link=f"https://ofac.example/{key}",
        title=title,
        summary="Nothing else.",
        published=T0,
    )
    return NewItem(item=item, identity=Identity(key=key, story_key=story), matches=())


@pytest.fixture
def seeded(store: Store) -> Store:
    store.sync_config(FEEDS, WATCHLISTS, [*CHANNELS], [*SUBSCRIPTIONS], T0)
    day = timedelta(days=1)
    poll(store, "ofac", [story_item("old", "Gazprom listed", "s-old")], T0 - 10 * day)
    poll(store, "ofac", [story_item("a", "Gazprom fined", "s-a")], T0 - 2 * day)
    poll(
        store,
        "ofac",
        [
            # Two items of one story: one alert.
            story_item("b", "Gazprom designated", "s-b"),
            story_item("c", "Gazprom designated again", "s-b"),
            story_item("d", "Weather report", "s-d"),
        ],
        T0,
    )
    return store


@pytest.fixture
def accounts(seeded: Store) -> Accounts:
    accounts = Accounts(seeded, hasher=FAST)
    accounts.create_user("ed", PASSWORD, "editor", actor="test", now=T0)
    accounts.create_user("viewer", PASSWORD, "viewer", actor="test", now=T0)
    return accounts


@pytest.fixture
def editor(accounts: Accounts) -> str:
    scopes = ["read", "edit:watchlists"]
    return accounts.create_token("ed", "bot", scopes, None, actor="test", now=T0)[0]


@pytest.fixture
def viewer(accounts: Accounts) -> str:
    return accounts.create_token("viewer", "script", [], None, actor="test", now=T0)[0]


@pytest.fixture
def client(seeded: Store) -> Iterator[TestClient]:
    clock = Clock()
    clock.now = NOW
    app = create_app(
        store=seeded,
        links=Links(BASE, key=b"test-key-of-at-least-32-bytes!!!"),
        watchlists=["russia"],
        default_timezone="UTC",
        clock=clock,
        api=create_api(seeded, clock=clock, file_managed=FILE_MANAGED),
    )
    with TestClient(app, base_url=BASE) as client:
        yield client


def send(client: TestClient, method: str, path: str, token: str | None, body: Any = None) -> Any:
    headers = {"authorization": f"Bearer {token}"} if token is not None else {}
    if isinstance(body, bytes):
        headers["content-type"] = "application/json"
        return client.request(method, f"/api/v1{path}", content=body, headers=headers)
    if body is None:
        return client.request(method, f"/api/v1{path}", headers=headers)
    return client.request(method, f"/api/v1{path}", json=body, headers=headers)


def listed(client: TestClient, token: str) -> dict[str, Any]:
    response = send(client, "GET", "/watchlists", token)
    assert response.status_code == 200
    return {w["name"]: w for w in response.json()["data"]}


# -- preview -----------------------------------------------------------------------------


def test_preview_matches_and_alerts_per_day(client: TestClient, viewer: str) -> None:
    response = send(client, "POST", "/watchlists/preview", viewer, {"terms": ["Gazprom"]})
    assert response.status_code == 200, response.text
    body = response.json()
    validator("Preview").validate(body)
    assert body["watchlist"] == "preview"
    assert body["days"] == 7
    assert body["scanned"] == 4  # the 10-day-old item is outside the window
    assert body["matched"] == 3
    assert body["alerts"] == 2
    assert [i["title"] for i in body["items"]] == [
        "Gazprom designated again",
        "Gazprom designated",
        "Gazprom fined",
    ]
    first = body["items"][0]
    assert first["link"] == "https://ofac.example/c"
    assert first["fetched_at"] == T0.isoformat()
    [match] = first["matches"]
    assert match["field"] == "title"
    assert match["term"] == "Gazprom"
    start, end = match["highlight"]
    assert match["snippet"][start:end] == "Gazprom"
    per_day = {d["date"]: d["alerts"] for d in body["per_day"]}
    assert len(per_day) == 8  # every UTC day of the window, partial first day included
    assert per_day["2026-03-01"] == 1  # two items of one story
    assert per_day["2026-02-27"] == 1
    assert sum(per_day.values()) == 2
    assert body["saved_exists"] is False
    assert body["added"] == [] and body["removed"] == []


def test_preview_days_and_queries(client: TestClient, viewer: str) -> None:
    body = {"queries": ["gazprom AND NOT again"], "days": 1}
    answer = send(client, "POST", "/watchlists/preview", viewer, body).json()
    assert [i["title"] for i in answer["items"]] == ["Gazprom designated"]
    assert [d["alerts"] for d in answer["per_day"]] == [0, 1]
    body = {"terms": ["Gazprom"], "days": 30}
    assert send(client, "POST", "/watchlists/preview", viewer, body).json()["matched"] == 4


def test_preview_compares_with_the_saved_watchlist(client: TestClient, viewer: str) -> None:
    body = {"name": "russia", "terms": ["Gazprom"]}
    answer = send(client, "POST", "/watchlists/preview", viewer, body).json()
    assert answer["saved_exists"] is True
    assert len(answer["added"]) == 3
    assert answer["removed"] == []


# -- validation ----------------------------------------------------------------------------

BAD_WATCHLISTS = [
    ({"terms": ["x"], "queries": ["oil", "(oil AND"]}, "queries[1]", "col "),
    ({"queries": ["oil AND"]}, "queries[0]", "col "),
    ({"terms": ["x"], "exclude": ['"sport']}, "exclude[0]", "col "),
    ({"regexes": ["(unclosed"]}, "regexes[0]", "regex"),
    ({"terms": ["ok", "   "]}, "terms[1]", "empty"),
    ({"terms": ["x"], "colour": "red"}, "colour", "unknown key"),
    ({"terms": 5}, "terms", "list of strings"),
    ({"terms": []}, "terms", "list of strings"),
    ({"terms": [1, 2]}, "terms", "list of strings"),
    ({"terms": ["x"], "importance": "huge"}, "importance", "must be one of"),
    ({"terms": ["x"], "description": 5}, "description", "string"),
    ({"terms": ["x"], "description": "a\x00b"}, "description", "NUL"),
    ({"terms": ["x"], "urgent": ["nope"]}, "urgent", "not one of"),
    ({"entities": "Ivan"}, "entities", "list"),
    ({"entities": [{"nam": "Ivan"}]}, "entities[0]", "unknown key"),
    ({"entities": [{"name": "Ivan", "kind": "robot"}]}, "entities[0]", "kind"),
    ({"entities": [{"name": "!!!"}]}, "entities[0]", "letters"),
    ({"exclude": ["sport*"]}, "exclude", "only exclusions"),
    ({"name": "bad name!", "terms": ["x"]}, "name", "name"),
    ({"name": 7, "terms": ["x"]}, "name", "name"),
]


@pytest.mark.sqlite_only
@pytest.mark.parametrize(("body", "field", "words"), BAD_WATCHLISTS)
def test_bad_watchlists_are_400_naming_the_field(
    client: TestClient, editor: str, body: dict[str, Any], field: str, words: str
) -> None:
    for method, path, extra in (
        ("POST", "/watchlists/preview", {}),
        ("POST", "/watchlists", {"name": "new"}),
        ("PUT", "/watchlists/new", {}),
    ):
        response = send(client, method, path, editor, {**extra, **body})
        assert_error(response, 400, "bad_field", field)
        assert words in response.json()["error"]["message"]
    assert "new" not in listed(client, editor)


def test_a_query_error_gives_its_column(client: TestClient, viewer: str) -> None:
    body = {"queries": ["oil AND (gas"]}
    message = send(client, "POST", "/watchlists/preview", viewer, body).json()["error"]["message"]
    assert message.startswith("queries[0]: query col ")


@pytest.mark.sqlite_only
@pytest.mark.parametrize("days", [0, 91, -1, "7", True, 1.5, None, [7]])
def test_days_out_of_range_or_type(client: TestClient, viewer: str, days: Any) -> None:
    response = send(client, "POST", "/watchlists/preview", viewer, {"terms": ["x"], "days": days})
    assert_error(response, 400, "bad_field", "days")


def test_days_is_only_for_the_preview(client: TestClient, editor: str) -> None:
    response = send(client, "POST", "/watchlists", editor, {"name": "n", "terms": ["x"], "days": 7})
    assert_error(response, 400, "bad_field", "days")


@pytest.mark.sqlite_only
@pytest.mark.parametrize(
    "raw", [b"", b"{", b"[]", b'"x"', b"7", b'{"terms": NaN}', b"\xff\xfe{", b"[" * 5000]
)
def test_a_body_that_is_not_a_json_object_is_400(
    client: TestClient, editor: str, raw: bytes
) -> None:
    for method, path in (("POST", "/watchlists/preview"), ("POST", "/watchlists")):
        assert_error(send(client, method, path, editor, raw), 400, "bad_json")
    assert_error(send(client, "PUT", "/watchlists/new", editor, raw), 400, "bad_json")


def test_a_body_too_large_is_413(client: TestClient, editor: str, seeded: Store) -> None:
    api = TestClient(create_api(seeded), base_url=BASE)  # the API's own limit, unmounted
    headers = {"authorization": f"Bearer {editor}", "content-type": "application/json"}
    body = json.dumps({"terms": ["x" * 100] * 1000}).encode()
    for method, path in (
        ("POST", "/v1/watchlists/preview"),
        ("POST", "/v1/watchlists"),
        ("PUT", "/v1/watchlists/x"),
    ):
        assert_error(api.request(method, path, content=body, headers=headers), 413, "too_large")

        def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it comes
            yield from (body[i : i + 4096] for i in range(0, len(body), 4096))

        response = api.request(method, path, content=chunks(), headers=headers)
        assert_error(response, 413, "too_large")
        # Mounted in the site, the API's own JSON answer still comes back (the site's
        # plain-text limit stays out of /api).
        mounted = client.request(method, f"/api{path}", content=body, headers=headers)
        assert_error(mounted, 413, "too_large")


def test_unknown_query_parameters_are_refused(client: TestClient, editor: str) -> None:
    response = send(client, "POST", "/watchlists?dry=1", editor, {"name": "n", "terms": ["x"]})
    assert_error(response, 400, "unknown_parameter", "dry")


# -- roles -----------------------------------------------------------------------------------


def test_a_viewer_may_preview_but_not_change(client: TestClient, viewer: str) -> None:
    body = {"name": "new", "terms": ["x"]}
    assert send(client, "POST", "/watchlists/preview", viewer, body).status_code == 200
    for method, path in (
        ("POST", "/watchlists"),
        ("PUT", "/watchlists/new"),
        ("DELETE", "/watchlists/new"),
        ("PUT", "/watchlists/russia"),
    ):
        response = send(client, method, path, viewer, body)
        assert_error(response, 403, "insufficient_scope")
        assert "edit:watchlists" in response.headers["www-authenticate"]
    assert "new" not in listed(client, viewer)


def test_no_token_is_401_before_the_body_is_read(client: TestClient) -> None:
    for method, path in (("POST", "/watchlists/preview"), ("POST", "/watchlists")):
        assert_error(send(client, method, path, None, b"{"), 401, "unauthorized")


# -- changes ---------------------------------------------------------------------------------


def test_create_replace_delete_round_trip(
    client: TestClient, editor: str, seeded: Store, accounts: Accounts
) -> None:
    version = seeded.watchlists_version()
    body = {
        "name": "energy",
        "terms": ["Gazprom"],
        "queries": ["oil AND export"],
        "entities": [{"name": "Ivan Petrov", "aliases": ["I. Petrov"]}],
        "importance": "high",
        "urgent": ["Gazprom"],
        "description": "Energy desk",
    }
    response = send(client, "POST", "/watchlists", editor, body)
    assert response.status_code == 201, response.text
    validator("Watchlist").validate(response.json())
    assert response.json()["terms"] == ["Gazprom"]
    assert response.json()["entities_count"] == 1
    assert listed(client, editor)["energy"]["importance"] == "high"
    [saved] = [w for w in seeded.load_watchlists() if w.name == "energy"]
    assert saved.queries == ("oil AND export",)
    assert saved.entities[0].aliases == ("I. Petrov",)
    assert seeded.watchlists_version() != version

    version = seeded.watchlists_version()
    response = send(client, "PUT", "/watchlists/energy", editor, {"terms": ["Rosneft"]})
    assert response.status_code == 200, response.text
    assert response.json()["terms"] == ["Rosneft"]
    assert response.json()["queries"] == []
    assert response.json()["importance"] == "normal"
    [saved] = [w for w in seeded.load_watchlists() if w.name == "energy"]
    assert saved.terms == ("Rosneft",) and saved.entities == ()
    assert seeded.watchlists_version() != version

    version = seeded.watchlists_version()
    response = send(client, "DELETE", "/watchlists/energy", editor)
    assert response.status_code == 204
    assert response.content == b""
    assert "energy" not in listed(client, editor)
    assert "energy" not in {w.name for w in seeded.load_watchlists()}
    assert seeded.watchlists_version() != version
    assert_error(send(client, "DELETE", "/watchlists/energy", editor), 404, "not_found")

    # The name can be used again.
    again = send(client, "POST", "/watchlists", editor, {"name": "energy", "terms": ["LNG"]})
    assert again.status_code == 201
    assert again.json()["terms"] == ["LNG"]

    entries = accounts.audit(object_type="watchlist")
    assert [(e.action, e.object_name, e.actor) for e in reversed(entries)] == [
        # The user, and which of their tokens made the change.
        ("create", "energy", "ed (token 1)"),
        ("update", "energy", "ed (token 1)"),
        ("delete", "energy", "ed (token 1)"),
        ("create", "energy", "ed (token 1)"),
    ]
    create, update, delete, _ = reversed(entries)
    assert create.before is None
    assert create.after is not None and create.after["terms"] == ["Gazprom"]
    assert create.after["entities"] == [
        {"name": "Ivan Petrov", "kind": "person", "aliases": ["I. Petrov"]}
    ]
    assert update.before == create.after
    assert update.after is not None and update.after["terms"] == ["Rosneft"]
    assert delete.before == update.after and delete.after is None


def test_replacing_with_the_same_watchlist_writes_no_audit_entry(
    client: TestClient, editor: str, accounts: Accounts
) -> None:
    body = {"name": "same", "terms": ["x"]}
    assert send(client, "POST", "/watchlists", editor, body).status_code == 201
    assert send(client, "PUT", "/watchlists/same", editor, body).status_code == 200
    assert [e.action for e in accounts.audit(object_type="watchlist")] == ["create"]


def test_a_saved_watchlist_is_matched_by_a_new_matcher(client: TestClient, editor: str) -> None:
    body = {"name": "gaz", "terms": ["Gazprom"]}
    assert send(client, "POST", "/watchlists", editor, body).status_code == 201
    preview = send(client, "POST", "/watchlists/preview", editor, {"name": "gaz", "terms": ["x"]})
    assert preview.json()["saved_exists"] is True
    assert len(preview.json()["removed"]) == 3  # the saved version matches them


def test_creating_an_existing_name_is_409(client: TestClient, editor: str) -> None:
    body = {"name": "dup", "terms": ["x"]}
    assert send(client, "POST", "/watchlists", editor, body).status_code == 201
    response = send(client, "POST", "/watchlists", editor, {**body, "terms": ["y"]})
    assert_error(response, 409, "already_exists", "name")
    assert listed(client, editor)["dup"]["terms"] == ["x"]


def test_unknown_names_are_404(client: TestClient, editor: str) -> None:
    assert_error(
        send(client, "PUT", "/watchlists/nope", editor, {"terms": ["x"]}), 404, "not_found"
    )
    assert_error(send(client, "DELETE", "/watchlists/nope", editor), 404, "not_found")


def test_renaming_is_refused(client: TestClient, editor: str) -> None:
    assert send(client, "POST", "/watchlists", editor, {"name": "a", "terms": ["x"]}).status_code
    response = send(client, "PUT", "/watchlists/a", editor, {"name": "b", "terms": ["x"]})
    assert_error(response, 400, "bad_field", "name")


def test_file_managed_watchlists_are_409(
    client: TestClient, editor: str, seeded: Store, accounts: Accounts
) -> None:
    before = listed(client, editor)["russia"]
    for method, path, body in (
        ("PUT", "/watchlists/russia", {"terms": ["x"]}),
        ("DELETE", "/watchlists/russia", None),
        ("POST", "/watchlists", {"name": "iran", "terms": ["x"]}),
    ):
        response = send(client, method, path, editor, body)
        assert_error(response, 409, "file_managed", "name")
        assert "alerts sync" in response.json()["error"]["message"]
    assert listed(client, editor)["russia"] == before
    assert accounts.audit(object_type="watchlist") == []


def test_edits_through_an_api_without_file_managed_names(
    seeded: Store, editor: str, accounts: Accounts
) -> None:
    """Without names given, an imported-only watchlist may be edited (it gains config entries
    and keeps its imported entities); one the store says the file declares still may not:
    a sync by another process may have declared it after this API started."""
    from alerts.domain import Entity

    seeded.import_entities("imp", [Entity(name="Ivan Petrov")], source="t", replace=False, now=T0)
    api = TestClient(create_api(seeded), base_url=BASE)
    headers = {"authorization": f"Bearer {editor}"}
    response = api.put("/v1/watchlists/imp", json={"terms": ["Gazprom"]}, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["entities_count"] == 1
    [entry] = accounts.audit(object_type="watchlist")
    assert entry.before is not None and entry.before["imported_entities"] == 1
    assert entry.before["terms"] == []
    refused = api.delete("/v1/watchlists/russia", headers=headers)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "file_managed"


# -- never a 500 -----------------------------------------------------------------------------

JUNK: list[Any] = [
    None,
    b"",
    b"{",
    [],
    {},
    {"name": ""},
    {"name": "junk", "terms": ["x"]},
    {"name": "junk", "terms": [{"a": 1}], "entities": [[1]], "importance": [1]},
    {"name": "junk", "entities": [{"name": ["x"], "kind": {"a": 1}, "aliases": "x"}]},
    {"name": "junk", "terms": ["\x00"], "description": "a\x00"},
    b'{"name": "junk", "terms": ["x"], "description": "\\ud800"}',
    b'{"name": "junk", "terms": ["\\ud800"]}',
    {"name": "junk", "entities": [{"name": "Ivan", "id": "a\x00", "identifiers": ["\x00"]}]},
    {"days": 10**100, "terms": ["x"]},
]


def test_walk_every_change_route_with_junk(client: TestClient, editor: str, viewer: str) -> None:
    """Every non-GET route, with junk bodies and each token: never a 500, and every answer
    is documented and matches its schema."""
    for template, operations in DOCUMENT["paths"].items():
        for method, operation in operations.items():
            if method == "get":
                continue
            path = "/api" + template.replace("{name}", "junk")
            for token in (editor, viewer, None):
                for body in JUNK:
                    response = send(
                        client, method.upper(), path.removeprefix("/api/v1"), token, body
                    )
                    status = str(response.status_code)
                    assert response.status_code < 500, (method, path, body, response.text)
                    assert status in operation["responses"], (method, path, body, status)
                    documented = operation["responses"][status]
                    if "$ref" in documented:
                        name = documented["$ref"].rsplit("/", 1)[1]
                        documented = DOCUMENT["components"]["responses"][name]
                    content = documented.get("content", {}).get("application/json", {})
                    if "schema" in content:
                        validator(content["schema"]["$ref"].rsplit("/", 1)[1]).validate(
                            response.json()
                        )
                    else:
                        assert response.content == b""


def test_a_watchlist_made_through_the_api_survives_a_config_sync(
    client: TestClient, editor: str, seeded: Store
) -> None:
    response = send(client, "POST", "/watchlists", editor, {"name": "energy", "terms": ["Gazprom"]})
    assert response.status_code == 201, response.text
    seeded.sync_config(FEEDS, WATCHLISTS, [*CHANNELS], [*SUBSCRIPTIONS], T0)  # a restart
    assert "energy" in {w.name for w in seeded.load_watchlists()}
    # Once the file declares the name, the file owns it: dropping it there disables it.
    declared = [*WATCHLISTS, Watchlist(name="energy", terms=("Gazprom",))]
    seeded.sync_config(FEEDS, declared, [*CHANNELS], [*SUBSCRIPTIONS], T0)
    seeded.sync_config(FEEDS, WATCHLISTS, [*CHANNELS], [*SUBSCRIPTIONS], T0)
    assert "energy" not in {w.name for w in seeded.load_watchlists()}


def test_a_name_no_watchlist_can_have_is_a_404_before_the_database(
    client: TestClient, editor: str
) -> None:
    for name in ("%00", "a%0Ab", "x" * 201):
        for method in ("PUT", "DELETE"):
            response = send(client, method, f"/watchlists/{name}", editor, {"terms": ["x"]})
            assert response.status_code == 404, (name, method, response.text)
            if "%0A" not in name:  # a newline never reaches the /api mount: the site's 404
                assert response.json()["error"]["code"] == "not_found"


@pytest.mark.sqlite_only
def test_previews_beyond_the_limit_are_told_to_wait(
    seeded: Store, viewer: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import alerts.api.watchlists as api_watchlists

    monkeypatch.setattr(api_watchlists, "MAX_PREVIEWS", 0)  # every slot taken
    api = TestClient(create_api(seeded), base_url=BASE)
    response = api.post(
        "/v1/watchlists/preview",
        json={"terms": ["Gazprom"]},
        headers={"authorization": f"Bearer {viewer}"},
    )
    assert response.status_code == 429, response.text
    assert response.json()["error"]["code"] == "busy"
    assert response.headers["retry-after"] == "5"
