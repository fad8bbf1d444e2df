"""Delivery: subscriber subscriptions, opt-outs, the outbox's attempts, channel health.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29

Hand-written to match alerts/store/models.py (tests/test_migrations.py compares them).
Rows written before this revision read as: channel subscriptions from the config, active,
in the config's time zone, with no quiet hours; watchlists of normal importance; digest
deliveries (their subscription filled in from their digest), not claimed by any worker.

`subscriptions` is referenced by the queue and the digests, so it only gains columns in
place (no table copy on SQLite). `deliveries` is referenced by nothing yet, so on SQLite it
is copied (batch mode) to make `digest_id` optional and add its checks.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("watchlists", recreate="never") as batch:
        batch.add_column(
            sa.Column("importance", sa.String(10), nullable=False, server_default="normal")
        )
        batch.add_column(sa.Column("urgent", sa.JSON(), nullable=False, server_default="[]"))

    with op.batch_alter_table("subscriptions", recreate="never") as batch:
        batch.add_column(sa.Column("email", sa.String(320), nullable=True))
        batch.add_column(sa.Column("timezone", sa.String(64), nullable=False, server_default=""))
        batch.add_column(sa.Column("quiet_hours", sa.String(20), nullable=False, server_default=""))
        batch.add_column(sa.Column("immediate_importance", sa.String(10), nullable=True))
        batch.add_column(sa.Column("send_empty", sa.Boolean(), nullable=False, server_default="0"))
        batch.add_column(
            sa.Column("max_stories", sa.Integer(), nullable=False, server_default="50")
        )
        batch.add_column(
            sa.Column("origin", sa.String(10), nullable=False, server_default="config")
        )
        batch.add_column(
            sa.Column("status", sa.String(15), nullable=False, server_default="active")
        )
        batch.add_column(sa.Column("created_at", TZ, nullable=True))
        batch.add_column(sa.Column("confirmed_at", TZ, nullable=True))
        batch.add_column(sa.Column("unsubscribed_at", TZ, nullable=True))
    op.create_index("ix_subscriptions_email", "subscriptions", ["email"])

    op.create_table(
        "optouts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(320), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["subscriptions.id"],
            name="fk_optouts_subscription_id_subscriptions",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_optouts"),
        sa.UniqueConstraint(
            "subscription_id", "address", name="uq_optouts_subscription_id_address"
        ),
    )
    op.create_table(
        "service_keys",
        sa.Column("name", sa.String(50), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_service_keys"),
    )

    with op.batch_alter_table("deliveries") as batch:
        batch.alter_column("digest_id", existing_type=sa.Integer(), nullable=True)
        batch.add_column(sa.Column("kind", sa.String(10), nullable=False, server_default="digest"))
        batch.add_column(sa.Column("subscription_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("message", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("claimed_until", TZ, nullable=True))
        batch.add_column(sa.Column("claim", sa.String(32), nullable=True))
        batch.add_column(sa.Column("last_status", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("dead_at", TZ, nullable=True))
        batch.add_column(sa.Column("requeued_at", TZ, nullable=True))
        batch.create_foreign_key(
            "fk_deliveries_subscription_id_subscriptions",
            "subscriptions",
            ["subscription_id"],
            ["id"],
        )
        batch.create_check_constraint(
            "ck_deliveries_kind", "kind IN ('digest', 'confirm', 'test', 'ops')"
        )
    op.execute(
        sa.text(
            "UPDATE deliveries SET subscription_id = "
            "(SELECT digests.subscription_id FROM digests WHERE digests.id = deliveries.digest_id)"
        )
    )

    op.create_table(
        "delivery_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("delivery_id", sa.Integer(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("started_at", TZ, nullable=False),
        sa.Column("latency_ms", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(10), nullable=False),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("response", sa.Text(), nullable=False, server_default=""),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["delivery_id"], ["deliveries.id"], name="fk_delivery_attempts_delivery_id_deliveries"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_delivery_attempts"),
    )
    op.create_index("ix_delivery_attempts_delivery_id", "delivery_attempts", ["delivery_id"])
    op.create_table(
        "channel_health",
        sa.Column("channel", sa.String(200), nullable=False),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("failing_since", TZ, nullable=True),
        sa.Column("last_success_at", TZ, nullable=True),
        sa.Column("last_failure_at", TZ, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("paused_at", TZ, nullable=True),
        sa.Column("paused_reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("channel", name="pk_channel_health"),
    )


def downgrade() -> None:
    op.drop_table("channel_health")
    op.drop_index("ix_delivery_attempts_delivery_id", table_name="delivery_attempts")
    op.drop_table("delivery_attempts")
    # Only digest deliveries fit the old table (its digest_id is required).
    op.execute(sa.text("DELETE FROM deliveries WHERE digest_id IS NULL"))
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_constraint("ck_deliveries_kind", type_="check")
        batch.drop_constraint("fk_deliveries_subscription_id_subscriptions", type_="foreignkey")
        for column in (
            "requeued_at",
            "dead_at",
            "last_status",
            "claim",
            "claimed_until",
            "message",
            "subscription_id",
            "kind",
        ):
            batch.drop_column(column)
        batch.alter_column("digest_id", existing_type=sa.Integer(), nullable=False)
    op.drop_table("service_keys")
    op.drop_table("optouts")
    op.drop_index("ix_subscriptions_email", table_name="subscriptions")
    with op.batch_alter_table("subscriptions", recreate="never") as batch:
        for column in (
            "unsubscribed_at",
            "confirmed_at",
            "created_at",
            "status",
            "origin",
            "max_stories",
            "send_empty",
            "immediate_importance",
            "quiet_hours",
            "timezone",
            "email",
        ):
            batch.drop_column(column)
    with op.batch_alter_table("watchlists", recreate="never") as batch:
        batch.drop_column("urgent")
        batch.drop_column("importance")
