"""Matching engine: richer watchlists, imported entities, match kinds, item content.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29

Hand-written to match alerts/store/models.py (tests/test_migrations.py compares them).
Every new NOT NULL column has a server default, so rows written before this revision (and
rows a process still on the old code writes during a rolling restart) get a sensible value:
watchlists read as config watchlists (the disabled ones as having left the config) at
revision 1 without queries, regexes, entities or imports; matches as exact term matches
without a highlight; items as having no content.

SQLite: defaults are plain literals (not SQL expressions) so that batch mode can use
`ALTER TABLE ... ADD COLUMN` instead of copying tables, and downgrade() drops columns with
`ALTER TABLE ... DROP COLUMN` (SQLite 3.35+) for the same reason: copying `items` or
`watchlists` means dropping a table that other rows reference, which SQLite refuses with
foreign keys on, and the pragma that turns them off cannot be used inside the migration's
transaction.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("watchlists") as batch:
        batch.add_column(sa.Column("queries", sa.JSON(), nullable=False, server_default="[]"))
        batch.add_column(sa.Column("regexes", sa.JSON(), nullable=False, server_default="[]"))
        # Config entities, as alerts.domain.entity_to_dict gives them.
        batch.add_column(sa.Column("entities", sa.JSON(), nullable=False, server_default="[]"))
        batch.add_column(sa.Column("exclude", sa.JSON(), nullable=False, server_default="[]"))
        batch.add_column(sa.Column("description", sa.Text(), nullable=False, server_default=""))
        # Entities from `alerts watchlists import`; never touched by a config sync.
        batch.add_column(sa.Column("imported", sa.JSON(), nullable=False, server_default="[]"))
        batch.add_column(sa.Column("imported_source", sa.Text(), nullable=True))
        # "1" is true for both: PostgreSQL reads the literal '1' as boolean true.
        batch.add_column(sa.Column("in_config", sa.Boolean(), nullable=False, server_default="1"))
        batch.add_column(sa.Column("updated_at", TZ, nullable=True))
        batch.add_column(sa.Column("revision", sa.Integer(), nullable=False, server_default="1"))

    # Under 0001 a watchlist that left the config was disabled: that is what in_config says now.
    op.execute(sa.text("UPDATE watchlists SET in_config = enabled"))

    with op.batch_alter_table("matches") as batch:
        batch.add_column(sa.Column("kind", sa.String(20), nullable=False, server_default="term"))
        batch.add_column(sa.Column("matched", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("score", sa.Float(), nullable=False, server_default="1.0"))
        batch.add_column(sa.Column("highlight_start", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("highlight_end", sa.Integer(), nullable=True))

    with op.batch_alter_table("items") as batch:
        batch.add_column(sa.Column("content", sa.Text(), nullable=False, server_default=""))
    # Backtests read a window of items by fetch time.
    op.create_index("ix_items_fetched_at", "items", ["fetched_at"])


def downgrade() -> None:
    op.drop_index("ix_items_fetched_at", table_name="items")
    # recreate="never": drop in place, never copy (see the module docstring).
    with op.batch_alter_table("items", recreate="never") as batch:
        batch.drop_column("content")

    with op.batch_alter_table("matches", recreate="never") as batch:
        for column in ("highlight_end", "highlight_start", "score", "matched", "kind"):
            batch.drop_column(column)

    with op.batch_alter_table("watchlists", recreate="never") as batch:
        for column in (
            "revision",
            "updated_at",
            "in_config",
            "imported_source",
            "imported",
            "description",
            "exclude",
            "entities",
            "regexes",
            "queries",
        ):
            batch.drop_column(column)
