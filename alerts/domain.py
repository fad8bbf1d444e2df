"""Plain typed records shared by every layer of the pipeline.

No I/O and no third-party imports here: sources produce `Item`s, dedup gives them an
`Identity`, matching produces `Match`es, delivery builds a `Digest`, and the store keeps
all of them. Every datetime is timezone-aware UTC; local zones appear only when rendering.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any


class ChannelKind(StrEnum):
    """Where a digest goes."""

    EMAIL = "email"
    SLACK = "slack"
    TEAMS = "teams"  # Microsoft Teams Workflows webhook, Adaptive Card
    DISCORD = "discord"
    WEBHOOK = "webhook"


class Importance(StrEnum):
    """How urgent a watchlist's (or one entry's) matches are. Ordered: normal < high < urgent.

    Urgent matches go out at once, even in quiet hours; a subscription's
    `immediate_importance` sends matches at or above it at once instead of waiting for
    its scheduled digest.
    """

    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"

    @property
    def rank(self) -> int:
        return _IMPORTANCE_RANK[self]


_IMPORTANCE_RANK = {Importance.NORMAL: 0, Importance.HIGH: 1, Importance.URGENT: 2}


class SourceKind(StrEnum):
    """How a source's body becomes items (`kind` in feeds.toml)."""

    FEED = "feed"  # RSS, Atom or JSON Feed
    HTML = "html"  # a listing page read with CSS selectors
    JSON = "json"  # a JSON API read with field paths, possibly paginated
    LIST = "list"  # an official sanctions list file, diffed into designation changes


# Facet names a query can filter on (`issuer:EU AND target:RU`); values are plain strings
# compared case-insensitively. `sanctions_action` is "true" or "false".
FACET_NAMES = (
    "sanctions_action",
    "action",  # designation, package, extension, delisting, general_licence, ...
    "issuer",  # US, EU, UK, UN, CA, AU, CH, JP, NZ, ...
    "target",  # ISO 3166 alpha-2 codes of targeted countries or regimes
    "measure",  # asset_freeze, travel_ban, export_control, arms_embargo, sectoral, ...
    "list",  # designation items: the list's name in feeds.toml, e.g. us-ofac-sdn
    "programme",  # designation items: the publisher's programme or regime code
    "designation",  # designation items: added, amended or removed
)


@dataclass(frozen=True, slots=True)
class ItemFacets:
    """What an item is about: facet name -> values, and why each facet was set.

    Filled by `alerts.classify` for text items and from the record for designation items;
    matched by facet queries, shown as digest labels, stored with the item.
    """

    values: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    reasons: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # facet -> why

    def get(self, name: str) -> tuple[str, ...]:
        """The values of one facet (empty when unset)."""
        return self.values.get(name, ())

    def has(self, name: str, value: str) -> bool:
        """Whether facet `name` has `value`, ignoring case."""
        wanted = value.casefold()
        return any(v.casefold() == wanted for v in self.values.get(name, ()))


def facets_to_dict(facets: ItemFacets) -> dict[str, Any]:
    """Facets as JSON-safe data (stored with the item)."""
    return {
        "values": {k: list(v) for k, v in facets.values.items() if v},
        "reasons": {k: list(v) for k, v in facets.reasons.items() if v},
    }


def facets_from_dict(data: Mapping[str, Any] | None) -> ItemFacets:
    """Inverse of `facets_to_dict`; anything unreadable gives empty facets."""
    if not isinstance(data, Mapping):
        return ItemFacets()

    def table(key: str) -> dict[str, tuple[str, ...]]:
        raw = data.get(key)
        if not isinstance(raw, Mapping):
            return {}
        return {
            str(k): tuple(str(x) for x in v) for k, v in raw.items() if isinstance(v, list | tuple)
        }

    return ItemFacets(table("values"), table("reasons"))


@dataclass(frozen=True, slots=True)
class DesignationRecord:
    """A change to an entry of an official sanctions list, carried by a designation item.

    Entity watchlists match its names directly (no text search): `name` and `aliases` are
    strong, `weak_aliases` (low-quality a.k.a.s) only count with a strong name.
    """

    list: str  # the list's name in feeds.toml, e.g. "us-ofac-sdn"
    id: str  # the publisher's stable id for the entry
    action: str  # "added", "amended" or "removed"
    kind: str  # person, organization, vessel, aircraft, unknown
    name: str
    aliases: tuple[str, ...] = ()
    weak_aliases: tuple[str, ...] = ()
    programmes: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()  # for amendments: which parts changed ("aliases", ...)
    listed: str = ""  # ISO date the entry was listed, when the list gives it

    @property
    def names(self) -> tuple[str, ...]:
        """The primary name and the strong aliases."""
        return (self.name, *self.aliases)


def designation_to_dict(record: DesignationRecord) -> dict[str, Any]:
    """A designation record as JSON-safe data."""
    data: dict[str, Any] = {
        "list": record.list,
        "id": record.id,
        "action": record.action,
        "kind": record.kind,
        "name": record.name,
    }
    for key in ("aliases", "weak_aliases", "programmes", "changed"):
        if values := getattr(record, key):
            data[key] = list(values)
    if record.listed:
        data["listed"] = record.listed
    return data


def designation_from_dict(data: Mapping[str, Any] | None) -> DesignationRecord | None:
    """Inverse of `designation_to_dict`; None for missing or unreadable data."""
    if not isinstance(data, Mapping):
        return None
    try:
        return DesignationRecord(
            list=str(data["list"]),
            id=str(data["id"]),
            action=str(data["action"]),
            kind=str(data.get("kind", "unknown")),
            name=str(data["name"]),
            aliases=tuple(str(x) for x in data.get("aliases", ())),
            weak_aliases=tuple(str(x) for x in data.get("weak_aliases", ())),
            programmes=tuple(str(x) for x in data.get("programmes", ())),
            changed=tuple(str(x) for x in data.get("changed", ())),
            listed=str(data.get("listed", "")),
        )
    except (KeyError, TypeError):
        return None


class EntityKind(StrEnum):
    """What a watched entity is; decides which name variants are generated for it."""

    PERSON = "person"
    ORGANIZATION = "organization"
    VESSEL = "vessel"
    COUNTRY = "country"


class MatchKind(StrEnum):
    """Which kind of watchlist entry produced a match."""

    TERM = "term"  # keyword or phrase, optionally with a `*` prefix wildcard
    QUERY = "query"  # boolean query
    REGEX = "regex"  # RE2 regular expression
    ENTITY = "entity"  # a person, organisation, vessel or country with its aliases


class DeliveryStatus(StrEnum):
    """Life of one delivery row: written `pending` before sending, marked after."""

    PENDING = "pending"
    SENT = "sent"
    DEAD = "dead"  # gave up after the maximum number of attempts


@dataclass(frozen=True, slots=True)
class Feed:
    """A feed as declared in `feeds.toml`."""

    name: str
    url: str
    interval: timedelta
    title: str = ""
    enabled: bool = True
    # Fetch each new item's article page and match its main text (issue 4).
    fetch_article: bool = False
    # The issuing authority's own channel (OFAC, EU Council, ...): listed first in a
    # story and linked with press coverage of the same action.
    official: bool = False
    kind: SourceKind = SourceKind.FEED
    issuer: str = ""  # who publishes it (US, EU, UK, UN, ...): the issuer facet's fallback
    # How the body is read for html/json/list sources: a ListingSpec, JsonApiSpec or
    # ListSpec from `alerts.sources` (typed loosely here: the domain imports nothing).
    spec: Any = None


@dataclass(frozen=True, slots=True)
class FeedState:
    """What the store knows about a feed between polls."""

    name: str
    url: str  # current URL: a permanent redirect replaces the configured one
    title: str = ""
    etag: str | None = None
    last_modified: str | None = None
    last_success_at: datetime | None = None
    last_error_at: datetime | None = None
    last_error: str | None = None
    error_count: int = 0
    next_poll_at: datetime | None = None
    item_count: int = 0
    interval: timedelta = timedelta(minutes=30)
    fetch_article: bool = False
    official: bool = False
    guids_unreliable: bool = False  # see alerts.dedup.identity.FeedHabits
    links_unreliable: bool = False
    boilerplate: frozenset[str] = frozenset()  # paragraph keys found to be page furniture
    anomalies: tuple[str, ...] = ()  # what was odd about the feed's identifiers, newest last
    enabled: bool = True


@dataclass(frozen=True, slots=True)
class Item:
    """One entry of a feed, parsed and cleaned, not yet stored."""

    feed: str
    guid: str | None
    link: str | None
    title: str
    summary: str  # plain text, used for matching and snippets
    summary_html: str = ""  # sanitised HTML, used for display only
    content: str = ""  # full article text when extracted, plain text; matched as `content`
    published: datetime | None = None
    authors: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    canonical_url: str | None = None  # the article page's own canonical URL, when fetched
    facets: ItemFacets = field(default_factory=ItemFacets)
    designation: DesignationRecord | None = None  # set on items made from list changes


@dataclass(frozen=True, slots=True)
class Identity:
    """How an item is recognised again.

    `key` is unique within its feed: the guid when the feed's guids are unique, else the
    canonical link, else a content hash (see `alerts.dedup.identity`). The other forms are
    kept so that an item is still recognised when its feed changes habits. `story_key` is
    shared by every item of one story in any feed: the same canonical URL, a near-duplicate
    text, or an official notice of the same action (see `alerts.dedup.stories`).
    """

    key: str
    story_key: str
    guid_key: str | None = None
    link_key: str | None = None
    content_hash: str = ""
    url_key: str | None = None  # the link without scheme: the same page in any feed


@dataclass(frozen=True, slots=True)
class Entity:
    """A watched person, organisation, vessel or country.

    Strong names (`name`, `aliases`) match on their own; `weak_aliases` (short forms,
    nicknames, surnames) only count in an item that also names the entity strongly.
    `identifiers` (an IMO number, a registration number) match as exact tokens.
    """

    name: str
    kind: EntityKind = EntityKind.PERSON
    aliases: tuple[str, ...] = ()
    weak_aliases: tuple[str, ...] = ()
    identifiers: tuple[str, ...] = ()
    id: str = ""  # an external id, e.g. the OpenSanctions entity id, shown in explanations


def entity_to_dict(entity: Entity) -> dict[str, Any]:
    """An entity as JSON-safe data (stored in the database, shown by the API)."""
    data: dict[str, Any] = {"name": entity.name, "kind": entity.kind.value}
    for key in ("aliases", "weak_aliases", "identifiers"):
        if values := getattr(entity, key):
            data[key] = list(values)
    if entity.id:
        data["id"] = entity.id
    return data


def entity_from_dict(data: dict[str, Any]) -> Entity:
    """Inverse of `entity_to_dict`; ValueError names the first bad key."""
    try:
        kind = EntityKind(data.get("kind", EntityKind.PERSON.value))
    except ValueError:
        kinds = ", ".join(k.value for k in EntityKind)
        raise ValueError(f"kind {data.get('kind')!r} is not one of {kinds}") from None
    name = data.get("name")
    if not isinstance(name, str):
        raise ValueError("name must be a string")
    lists: dict[str, tuple[str, ...]] = {}
    for key in ("aliases", "weak_aliases", "identifiers"):
        values = data.get(key, [])
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise ValueError(f"{key} must be a list of strings")
        lists[key] = tuple(values)
    ident = data.get("id", "")
    if not isinstance(ident, str):
        raise ValueError("id must be a string")
    return Entity(name=name, kind=kind, id=ident, **lists)


def merge_entities(configured: Sequence[Entity], imported: Sequence[Entity]) -> tuple[Entity, ...]:
    """Config entities, then imported ones not named like one of them (case and spacing
    ignored): the config's definition of an entity wins."""
    names = {" ".join(e.name.split()).casefold() for e in configured}
    extra = [e for e in imported if " ".join(e.name.split()).casefold() not in names]
    return (*configured, *extra)


@dataclass(frozen=True, slots=True)
class Watchlist:
    """What a team watches: terms, queries, regexes and entities, minus exclusions.

    An item matches the watchlist when any positive entry matches it and no `exclude`
    query does (exclusions such as `sport*` drop football "sanctions").
    """

    name: str
    terms: tuple[str, ...] = ()  # keywords and phrases; `sanction*` is a prefix
    queries: tuple[str, ...] = ()  # boolean queries, see `alerts.matching.query`
    regexes: tuple[str, ...] = ()  # RE2 syntax, matched case-insensitively
    entities: tuple[Entity, ...] = ()
    exclude: tuple[str, ...] = ()  # queries; any match vetoes the watchlist for the item
    description: str = ""
    importance: Importance = Importance.NORMAL
    # Entries (terms, queries, regexes or entity primary names, as written) whose matches
    # are urgent whatever the watchlist's importance.
    urgent: tuple[str, ...] = ()

    def importance_of(self, term: str) -> Importance:
        """The importance of a match on entry `term` of this watchlist."""
        return Importance.URGENT if term in self.urgent else self.importance


@dataclass(frozen=True, slots=True)
class Match:
    """Why an item matched: which entry, which spelling, in which field, with context.

    `term` is the watchlist entry as written (a term, a query, a regex or an entity's
    primary name); `matched` says through what it was found (the entity alias, as written,
    when it is not the primary name; the query's word or phrase); `start`/`end` are
    character offsets of the spelling found in the original field text; `highlight` is the
    hit's [start, end) within `snippet`.
    """

    watchlist: str
    term: str
    field: str  # "title" | "summary" | "content" | "source" | "tag"
    start: int
    end: int
    snippet: str
    kind: MatchKind = MatchKind.TERM
    matched: str = ""  # "" when the entry itself (the primary name) matched
    score: float = 1.0  # 1.0 exact; below 1 for fuzzy entity hits
    highlight: tuple[int, int] | None = None


def term_key(watchlist: str, term: str) -> str:
    """One matched watchlist entry, as alert queue rows record what they were sent for."""
    return f"{watchlist}\x1f{term}"


@dataclass(frozen=True, slots=True)
class NewItem:
    """An item ready to be stored: its identity, matches and place in a story."""

    item: Item
    identity: Identity
    matches: tuple[Match, ...] = ()
    story_reason: str = ""  # why it joined its story ("" when it started one)
    fingerprint: dict[str, Any] | None = None  # alerts.dedup.fingerprint record
    extract_error: str | None = None  # the article page could not be read


@dataclass(frozen=True, slots=True)
class ItemUpdate:
    """A stored item whose publisher changed its title or summary: a new revision."""

    item_id: int
    item: Item
    identity: Identity
    matches: tuple[Match, ...] = ()


@dataclass(frozen=True, slots=True)
class ChannelConfig:
    """A destination. Secrets are resolved from the environment when config is loaded."""

    name: str
    kind: ChannelKind
    to: tuple[str, ...] = ()  # email recipients
    sender: str = ""  # email From; defaults to settings when empty
    url: str = ""  # slack / teams / discord / webhook URL (from `url_env`)
    secret: str = ""  # webhook signing secret (from `secret_env`), optional
    # The secret being rotated out: while set, every message carries both signatures so
    # receivers can switch secrets without losing a message (Standard Webhooks rotation).
    previous_secret: str = ""


class SubscriptionOrigin(StrEnum):
    """Who declared a subscription: the config file (synced) or a subscriber (web form)."""

    CONFIG = "config"
    SELF = "self"


@dataclass(frozen=True, slots=True)
class Subscription:
    """Ties watchlists to a destination and a schedule (see `alerts.delivery.schedule`).

    The destination is a configured channel (`channel`), or one subscriber's address
    (`email`) sent through the service's own mail transport. Exactly one of the two is set.
    """

    name: str
    watchlists: tuple[str, ...]
    channel: str = ""
    schedule: str = "immediate"
    email: str = ""
    timezone: str = ""  # IANA zone of the schedule, quiet hours and shown times ("": config's)
    quiet_hours: str = ""  # "22:00-07:00" in `timezone`; non-urgent sends wait until it ends
    # Matches at or above this go out at once, not at the next scheduled digest (None: never).
    immediate_importance: Importance | None = None
    send_empty: bool = False  # send a "nothing new" digest when due and nothing is pending
    max_stories: int = 50  # stories shown in one message; the rest behind a link
    origin: SubscriptionOrigin = SubscriptionOrigin.CONFIG
    # A facet-only query items must satisfy to be queued ("" for all), e.g. "issuer:EU".
    filter: str = ""

    @property
    def destination(self) -> str:
        """The channel name, or `email:<address>` for a subscriber's own subscription."""
        return self.channel or f"email:{self.email}"


class AlertKind(StrEnum):
    """Why an alert was queued for a subscription."""

    NEW = "new"  # the story's first alert for the subscription
    MEMBER = "member"  # another source of a story the subscription already has
    UPDATE = "update"  # the publisher edited an item and its matches changed


@dataclass(frozen=True, slots=True)
class StorySource:
    """One item of a story, as listed under it ("also reported by")."""

    item_id: int
    feed: str
    feed_title: str
    title: str
    link: str | None
    published: datetime | None
    official: bool = False


@dataclass(frozen=True, slots=True)
class PendingEntry:
    """A queued alert for one subscription, loaded from the store for digest building."""

    queue_id: int
    item_id: int
    feed: str
    feed_title: str
    title: str
    link: str | None
    summary: str
    published: datetime | None
    fetched_at: datetime
    matches: tuple[Match, ...]
    also_in: tuple[str, ...] = ()  # titles of other feeds that carried the same story
    story_key: str = ""
    kind: AlertKind = AlertKind.NEW
    revision: int = 1
    sources: tuple[StorySource, ...] = ()  # every item of the story, official first
    # The story reached this subscription before (an earlier digest took its "new" alert).
    story_sent: bool = False
    # "watchlist\x1fterm" of everything this subscription was already sent for the story.
    sent_terms: frozenset[str] = frozenset()
    facets: ItemFacets = field(default_factory=ItemFacets)


@dataclass(frozen=True, slots=True)
class DigestEntry:
    """One story in a digest: new, or an update line for a story sent before."""

    item_id: int
    title: str
    link: str | None
    feed: str
    feed_title: str
    published: datetime | None
    matches: tuple[Match, ...]
    also_in: tuple[str, ...] = ()
    story_key: str = ""
    sources: tuple[StorySource, ...] = ()  # official first, then by time; the entry's own too
    update: bool = False  # the subscription had this story before: an update line
    edited: bool = False  # a publisher edited an item and its matches changed
    new_terms: tuple[str, ...] = ()  # matched entries not sent for this story before
    importance: Importance = Importance.NORMAL  # the highest of its matches
    facets: ItemFacets = field(default_factory=ItemFacets)  # shown as labels


@dataclass(frozen=True, slots=True)
class DigestSection:
    """The stories of one watchlist, newest first."""

    watchlist: str
    entries: tuple[DigestEntry, ...]


@dataclass(frozen=True, slots=True)
class Digest:
    """What one delivery sends. Serialised into the delivery row so a retry sends the same."""

    subscription: str
    idempotency_key: str
    created_at: datetime
    sections: tuple[DigestSection, ...]
    timezone: str = "UTC"
    # Renderers show at most this many stories (0: all) and then "and K more" with a link
    # to `more_url`, the full digest on the web UI ("" when no public URL is configured).
    max_stories: int = 0
    more_url: str = ""
    urgent: bool = False  # sent at once for urgent matches (quiet hours or not)
    # Email only: the addresses this digest goes to, fixed when it is planned (a channel's
    # `to` minus those who unsubscribed, or the subscriber's own address). Empty: `to`.
    recipients: tuple[str, ...] = ()
    # An operators' notice or a channel test: it belongs to no subscription, so it carries
    # no unsubscribe link (one would lead nowhere).
    notice: bool = False

    @property
    def entry_count(self) -> int:
        return sum(len(s.entries) for s in self.sections)

    @property
    def empty(self) -> bool:
        """A heartbeat digest: due, nothing new (only sent with `send_empty`)."""
        return self.entry_count == 0

    def shown(self) -> tuple[tuple[DigestSection, ...], int]:
        """The sections cut to `max_stories` stories, and how many stories were cut."""
        if self.max_stories <= 0 or self.entry_count <= self.max_stories:
            return self.sections, 0
        left = self.max_stories
        kept: list[DigestSection] = []
        for section in self.sections:
            if left <= 0:
                break
            entries = section.entries[:left]
            left -= len(entries)
            kept.append(DigestSection(section.watchlist, entries))
        return tuple(kept), self.entry_count - self.max_stories


@dataclass(frozen=True, slots=True)
class PendingDelivery:
    """A delivery that has not been confirmed sent yet."""

    id: int
    subscription: str  # "" for messages of no subscription (a channel test, an ops notice)
    channel: str
    payload: dict[str, Any]  # the digest as JSON (alerts.delivery.digest), or the message
    attempts: int
    created_at: datetime
    last_error: str | None = None
    kind: str = "digest"  # digest | confirm | test | ops
    idempotency_key: str = ""
    # Its age counts from here: when it was queued, or re-queued by an operator.
    queued_at: datetime | None = None
    claim: str = ""  # the lease this worker holds on it (alerts.store.outbox)
