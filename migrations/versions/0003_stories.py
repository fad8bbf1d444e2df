"""Stories: item identity forms, revisions, tombstones, story-level alerts, feed habits.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29

Hand-written to match alerts/store/models.py (tests/test_migrations.py compares them).
Rows written before this revision read as: feeds that fetch no article pages, are not
official and have shown no anomaly; items at revision 1 with no other key form than their
key (the identity code then finds them by that key, as before); queued alerts as "new"
alerts of revision 1. The old one-story-per-subscription guarantee becomes a partial unique
index on the "new" rows, so it holds for every row that existed.

On SQLite, `alert_queue` is copied (batch mode) to drop its old unique constraint: no other
table references it, so the copy is allowed with foreign keys on.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)
NEW_ONLY = sa.text("kind = 'new'")


def upgrade() -> None:
    with op.batch_alter_table("feeds") as batch:
        # "0" is false for both: PostgreSQL reads the literal '0' as boolean false.
        for column in ("fetch_article", "official", "guids_unreliable", "links_unreliable"):
            batch.add_column(sa.Column(column, sa.Boolean(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("anomalies", sa.JSON(), nullable=False, server_default="[]"))
        batch.add_column(sa.Column("boilerplate", sa.JSON(), nullable=False, server_default="[]"))

    with op.batch_alter_table("items") as batch:
        batch.add_column(sa.Column("guid_key", sa.Text(), nullable=True))
        batch.add_column(sa.Column("link_key", sa.Text(), nullable=True))
        batch.add_column(sa.Column("url_key", sa.Text(), nullable=True))
        batch.add_column(
            sa.Column("content_hash", sa.String(64), nullable=False, server_default="")
        )
        batch.add_column(sa.Column("revision", sa.Integer(), nullable=False, server_default="1"))
        batch.add_column(sa.Column("updated_at", TZ, nullable=True))
        batch.add_column(sa.Column("canonical_url", sa.Text(), nullable=True))
        batch.add_column(sa.Column("story_reason", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("extract_error", sa.Text(), nullable=True))
        batch.add_column(sa.Column("fingerprint", sa.JSON(), nullable=True))
    # Until now a story was keyed by its page's URL: that is the item's url key.
    op.execute(sa.text("UPDATE items SET url_key = story_key WHERE story_key LIKE 'url:%'"))
    _backfill_identity_forms()
    op.create_index("ix_items_url_key", "items", ["url_key"])
    op.create_index("ix_items_feed_id_guid_key", "items", ["feed_id", "guid_key"])
    op.create_index("ix_items_feed_id_link_key", "items", ["feed_id", "link_key"])
    op.create_index("ix_items_feed_id_content_hash", "items", ["feed_id", "content_hash"])

    op.create_table(
        "item_revisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("fetched_at", TZ, nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name="fk_item_revisions_item_id_items"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_item_revisions"),
        sa.UniqueConstraint("item_id", "revision", name="uq_item_revisions_item_id_revision"),
    )
    op.create_table(
        "tombstones",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("feed_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("deleted_at", TZ, nullable=False),
        sa.ForeignKeyConstraint(["feed_id"], ["feeds.id"], name="fk_tombstones_feed_id_feeds"),
        sa.PrimaryKeyConstraint("id", name="pk_tombstones"),
        sa.UniqueConstraint("feed_id", "key", name="uq_tombstones_feed_id_key"),
    )

    with op.batch_alter_table("alert_queue") as batch:
        batch.add_column(sa.Column("kind", sa.String(10), nullable=False, server_default="new"))
        batch.add_column(sa.Column("revision", sa.Integer(), nullable=False, server_default="1"))
        batch.add_column(sa.Column("terms", sa.JSON(), nullable=False, server_default="[]"))
        batch.drop_constraint("uq_alert_queue_subscription_id_story_key", type_="unique")
        batch.create_unique_constraint(
            "uq_alert_queue_subscription_id_item_id_revision",
            ["subscription_id", "item_id", "revision"],
        )
    _backfill_queue_terms()
    op.create_index(
        "ix_alert_queue_subscription_id_story_key", "alert_queue", ["subscription_id", "story_key"]
    )
    op.create_index(
        "uq_alert_queue_new_story",
        "alert_queue",
        ["subscription_id", "story_key"],
        unique=True,
        sqlite_where=NEW_ONLY,
        postgresql_where=NEW_ONLY,
    )


_BATCH = 1000


def _backfill_identity_forms() -> None:
    """Every stored item's guid and link keys and content hash, as the code now computes
    them: without them, the first poll after the upgrade would take every item still in
    its feed for an edit (no hash to compare), or for a new item once a feed's habits
    flip (no guid or link key to find it by). Uses the application's own identity code,
    so that stored and computed forms agree."""
    from alerts.dedup.identity import identify
    from alerts.domain import Item

    connection = op.get_bind()
    items = sa.table(
        "items",
        sa.column("id", sa.Integer),
        sa.column("guid", sa.Text),
        sa.column("link", sa.Text),
        sa.column("title", sa.Text),
        sa.column("summary", sa.Text),
        sa.column("guid_key", sa.Text),
        sa.column("link_key", sa.Text),
        sa.column("content_hash", sa.String),
    )
    last = 0
    while True:
        rows = connection.execute(
            sa.select(items.c.id, items.c.guid, items.c.link, items.c.title, items.c.summary)
            .where(items.c.id > last)
            .order_by(items.c.id)
            .limit(_BATCH)
        ).all()
        if not rows:
            return
        for row in rows:
            identity = identify(
                Item(feed="", guid=row.guid, link=row.link, title=row.title, summary=row.summary)
            )
            connection.execute(
                sa.update(items)
                .where(items.c.id == row.id)
                .values(
                    guid_key=identity.guid_key,
                    link_key=identity.link_key,
                    content_hash=identity.content_hash,
                )
            )
        last = rows[-1].id


def _backfill_queue_terms() -> None:
    """What each queued alert was for ("watchlist\\x1fterm" of its item's matches in the
    subscription's watchlists): without it, the next copy of a story sent before the
    upgrade would look like it adds every matched entry, and alert again."""
    connection = op.get_bind()
    queue = sa.table(
        "alert_queue",
        sa.column("id", sa.Integer),
        sa.column("subscription_id", sa.Integer),
        sa.column("item_id", sa.Integer),
        sa.column("terms", sa.JSON),
    )
    matches = sa.table(
        "matches", sa.column("item_id", sa.Integer), sa.column("watchlist_id", sa.Integer),
        sa.column("term", sa.Text),
    )  # fmt: skip
    watchlists = sa.table("watchlists", sa.column("id", sa.Integer), sa.column("name", sa.Text))
    subscriptions = sa.table(
        "subscriptions", sa.column("id", sa.Integer), sa.column("watchlists", sa.JSON)
    )
    followed = {
        row.id: set(row.watchlists or ())
        for row in connection.execute(sa.select(subscriptions.c.id, subscriptions.c.watchlists))
    }
    last = 0
    while True:
        rows = connection.execute(
            sa.select(queue.c.id, queue.c.subscription_id, queue.c.item_id)
            .where(queue.c.id > last)
            .order_by(queue.c.id)
            .limit(_BATCH)
        ).all()
        if not rows:
            return
        found: dict[int, set[str]] = {}
        stmt = (
            sa.select(matches.c.item_id, watchlists.c.name, matches.c.term)
            .join(watchlists, watchlists.c.id == matches.c.watchlist_id)
            .where(matches.c.item_id.in_({row.item_id for row in rows}))
        )
        for item_id, name, term in connection.execute(stmt):
            found.setdefault(item_id, set()).add(f"{name}\x1f{term}")
        for row in rows:
            wanted = followed.get(row.subscription_id, set())
            terms = sorted(t for t in found.get(row.item_id, ()) if t.split("\x1f")[0] in wanted)
            connection.execute(sa.update(queue).where(queue.c.id == row.id).values(terms=terms))
        last = rows[-1].id


def downgrade() -> None:
    # Only the "new" rows fit the old one-row-per-story constraint: the rest are updates.
    op.execute(sa.text("DELETE FROM alert_queue WHERE kind <> 'new'"))
    op.drop_index("uq_alert_queue_new_story", table_name="alert_queue")
    op.drop_index("ix_alert_queue_subscription_id_story_key", table_name="alert_queue")
    with op.batch_alter_table("alert_queue") as batch:
        batch.drop_constraint("uq_alert_queue_subscription_id_item_id_revision", type_="unique")
        batch.create_unique_constraint(
            "uq_alert_queue_subscription_id_story_key", ["subscription_id", "story_key"]
        )
        for column in ("terms", "revision", "kind"):
            batch.drop_column(column)

    op.drop_table("tombstones")
    op.drop_table("item_revisions")
    for name in ("content_hash", "link_key", "guid_key"):
        op.drop_index(f"ix_items_feed_id_{name}", table_name="items")
    op.drop_index("ix_items_url_key", table_name="items")
    # recreate="never": drop in place, never copy (`items` is referenced; see 0002).
    with op.batch_alter_table("items", recreate="never") as batch:
        for column in (
            "fingerprint",
            "extract_error",
            "story_reason",
            "canonical_url",
            "updated_at",
            "revision",
            "content_hash",
            "link_key",
            "url_key",
            "guid_key",
        ):
            batch.drop_column(column)
    with op.batch_alter_table("feeds", recreate="never") as batch:
        for column in (
            "boilerplate",
            "anomalies",
            "links_unreliable",
            "guids_unreliable",
            "official",
            "fetch_article",
        ):
            batch.drop_column(column)
