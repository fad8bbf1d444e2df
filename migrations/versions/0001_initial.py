"""Initial schema.

Revision ID: 0001
Revises:
Create Date: 2026-11-29

Hand-written to match alerts/store/models.py (tests/test_migrations.py compares them).
Datetimes are `timestamptz` on PostgreSQL and naive-UTC text on SQLite (see UTCDateTime).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "feeds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("config_url", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("interval_seconds", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("etag", sa.Text(), nullable=True),
        sa.Column("last_modified", sa.Text(), nullable=True),
        sa.Column("last_success_at", TZ, nullable=True),
        sa.Column("last_error_at", TZ, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("error_count", sa.Integer(), nullable=False),
        sa.Column("next_poll_at", TZ, nullable=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_feeds"),
        sa.UniqueConstraint("name", name="uq_feeds_name"),
    )
    op.create_index("ix_feeds_enabled_next_poll_at", "feeds", ["enabled", "next_poll_at"])

    op.create_table(
        "watchlists",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("terms", sa.JSON(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_watchlists"),
        sa.UniqueConstraint("name", name="uq_watchlists_name"),
    )

    op.create_table(
        "channels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_channels"),
        sa.UniqueConstraint("name", name="uq_channels_name"),
    )

    op.create_table(
        "subscriptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("channel", sa.String(200), nullable=False),
        sa.Column("watchlists", sa.JSON(), nullable=False),
        sa.Column("schedule", sa.String(200), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("next_digest_at", TZ, nullable=True),
        sa.Column("last_digest_at", TZ, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_subscriptions"),
        sa.UniqueConstraint("name", name="uq_subscriptions_name"),
    )

    op.create_table(
        "items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("feed_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("story_key", sa.Text(), nullable=False),
        sa.Column("guid", sa.Text(), nullable=True),
        sa.Column("link", sa.Text(), nullable=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("summary_html", sa.Text(), nullable=False),
        sa.Column("published_at", TZ, nullable=True),
        sa.Column("fetched_at", TZ, nullable=False),
        sa.Column("authors", sa.JSON(), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_items"),
        sa.ForeignKeyConstraint(["feed_id"], ["feeds.id"], name="fk_items_feed_id_feeds"),
        # A feed never stores the same entry twice.
        sa.UniqueConstraint("feed_id", "key", name="uq_items_feed_id_key"),
    )
    op.create_index("ix_items_story_key", "items", ["story_key"])

    op.create_table(
        "matches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("watchlist_id", sa.Integer(), nullable=False),
        sa.Column("term", sa.Text(), nullable=False),
        sa.Column("field", sa.String(20), nullable=False),
        sa.Column("start_offset", sa.Integer(), nullable=False),
        sa.Column("end_offset", sa.Integer(), nullable=False),
        sa.Column("snippet", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_matches"),
        sa.ForeignKeyConstraint(["item_id"], ["items.id"], name="fk_matches_item_id_items"),
        sa.ForeignKeyConstraint(
            ["watchlist_id"], ["watchlists.id"], name="fk_matches_watchlist_id_watchlists"
        ),
    )
    op.create_index("ix_matches_item_id", "matches", ["item_id"])
    op.create_index("ix_matches_watchlist_id", "matches", ["watchlist_id"])

    op.create_table(
        "digests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("entry_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_digests"),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["subscriptions.id"],
            name="fk_digests_subscription_id_subscriptions",
        ),
    )
    op.create_index("ix_digests_subscription_id", "digests", ["subscription_id"])

    op.create_table(
        "alert_queue",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("story_key", sa.Text(), nullable=False),
        sa.Column("queued_at", TZ, nullable=False),
        sa.Column("digest_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_alert_queue"),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["subscriptions.id"],
            name="fk_alert_queue_subscription_id_subscriptions",
        ),
        sa.ForeignKeyConstraint(["item_id"], ["items.id"], name="fk_alert_queue_item_id_items"),
        sa.ForeignKeyConstraint(
            ["digest_id"], ["digests.id"], name="fk_alert_queue_digest_id_digests"
        ),
        # A subscription never gets the same story twice, across feeds and restarts.
        sa.UniqueConstraint(
            "subscription_id", "story_key", name="uq_alert_queue_subscription_id_story_key"
        ),
    )
    op.create_index(
        "ix_alert_queue_subscription_id_digest_id",
        "alert_queue",
        ["subscription_id", "digest_id"],
    )
    op.create_index("ix_alert_queue_item_id", "alert_queue", ["item_id"])
    op.create_index("ix_alert_queue_digest_id", "alert_queue", ["digest_id"])

    op.create_table(
        "deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("digest_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(200), nullable=False),
        sa.Column("idempotency_key", sa.String(200), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", TZ, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("sent_at", TZ, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_deliveries"),
        sa.ForeignKeyConstraint(
            ["digest_id"], ["digests.id"], name="fk_deliveries_digest_id_digests"
        ),
        sa.UniqueConstraint("digest_id", name="uq_deliveries_digest_id"),
        sa.UniqueConstraint("idempotency_key", name="uq_deliveries_idempotency_key"),
        sa.CheckConstraint("status IN ('pending', 'sent', 'dead')", name="ck_deliveries_status"),
    )
    op.create_index(
        "ix_deliveries_status_next_attempt_at", "deliveries", ["status", "next_attempt_at"]
    )


def downgrade() -> None:
    op.drop_table("deliveries")
    op.drop_table("alert_queue")
    op.drop_table("digests")
    op.drop_table("matches")
    op.drop_table("items")
    op.drop_table("subscriptions")
    op.drop_table("channels")
    op.drop_table("watchlists")
    op.drop_table("feeds")
