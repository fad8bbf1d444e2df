"""Sources in their real shapes: source kinds and issuers, item facets, list snapshots,
subscription facet filters.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29

Hand-written to match alerts/store/models.py (tests/test_migrations.py compares them).
Feeds stored before this revision read as `kind = "feed"` with no issuer; items have no
facets or designation (the classifier tags new items only).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("feeds", recreate="never") as batch:
        batch.add_column(sa.Column("kind", sa.String(10), nullable=False, server_default="feed"))
        batch.add_column(sa.Column("issuer", sa.String(8), nullable=False, server_default=""))
    with op.batch_alter_table("subscriptions", recreate="never") as batch:
        batch.add_column(sa.Column("filter", sa.Text(), nullable=False, server_default=""))
    with op.batch_alter_table("items", recreate="never") as batch:
        batch.add_column(sa.Column("facets", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("designation", sa.JSON(), nullable=True))
    op.create_table(
        "list_snapshots",
        sa.Column("feed_id", sa.Integer(), nullable=False),
        sa.Column("format", sa.String(40), nullable=False),
        sa.Column("published_at", TZ, nullable=True),
        sa.Column("fetched_at", TZ, nullable=False),
        sa.Column("record_count", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["feed_id"], ["feeds.id"], name="fk_list_snapshots_feed_id_feeds"),
        sa.PrimaryKeyConstraint("feed_id", name="pk_list_snapshots"),
    )


def downgrade() -> None:
    op.drop_table("list_snapshots")
    with op.batch_alter_table("items", recreate="never") as batch:
        batch.drop_column("designation")
        batch.drop_column("facets")
    with op.batch_alter_table("subscriptions", recreate="never") as batch:
        batch.drop_column("filter")
    with op.batch_alter_table("feeds", recreate="never") as batch:
        batch.drop_column("issuer")
        batch.drop_column("kind")
