"""The initial state store: connectors, links, source view, bookmarks, runs, journal, token cache, locks.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: Union[str, Sequence[str], None] = None
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

NAME = 200
KEY = 512


def _ts(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "connectors",
        sa.Column("name", sa.String(NAME), nullable=False),
        sa.Column("profile_text", sa.Text(), nullable=False),
        _ts("created_at"),
        _ts("updated_at"),
        sa.PrimaryKeyConstraint("name", name="pk_connectors"),
    )
    op.create_table(
        "links",
        sa.Column("connector", sa.String(NAME), nullable=False),
        sa.Column("source_id", sa.String(KEY), nullable=False),
        sa.Column("target_id", sa.String(KEY), nullable=False),
        sa.Column("login", sa.String(KEY), nullable=False),
        sa.Column("origin", sa.String(16), nullable=False),
        _ts("created_at"),
        _ts("updated_at"),
        sa.PrimaryKeyConstraint("connector", "source_id", name="pk_links"),
    )
    op.create_index("ix_links_connector_target_id", "links", ["connector", "target_id"])
    op.create_table(
        "source_view",
        sa.Column("connector", sa.String(NAME), nullable=False),
        sa.Column("source_id", sa.String(KEY), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("connector", "source_id", name="pk_source_view"),
    )
    op.create_table(
        "bookmarks",
        sa.Column("connector", sa.String(NAME), nullable=False),
        sa.Column("value", sa.Text(), nullable=True),
        _ts("updated_at"),
        sa.PrimaryKeyConstraint("connector", name="pk_bookmarks"),
    )
    op.create_table(
        "runs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("connector", sa.String(NAME), nullable=False),
        sa.Column("mode", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        _ts("started_at"),
        _ts("finished_at", nullable=True),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("summary", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_runs"),
    )
    op.create_index("ix_runs_connector_id", "runs", ["connector", "id"])
    op.create_table(
        "journal",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("connector", sa.String(NAME), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("source_id", sa.String(KEY), nullable=True),
        sa.Column("login", sa.String(KEY), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("item", sa.JSON(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        _ts("created_at"),
        _ts("finished_at", nullable=True),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name="fk_journal_run_id_runs"),
        sa.PrimaryKeyConstraint("id", name="pk_journal"),
        sa.UniqueConstraint("run_id", "seq", name="uq_journal_run_id_seq"),
    )
    op.create_index("ix_journal_connector_state", "journal", ["connector", "state"])
    op.create_table(
        "token_cache",
        sa.Column("key", sa.String(NAME), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        _ts("updated_at"),
        sa.PrimaryKeyConstraint("key", name="pk_token_cache"),
    )
    op.create_table(
        "locks",
        sa.Column("connector", sa.String(NAME), nullable=False),
        sa.Column("token", sa.String(64), nullable=False),
        sa.Column("holder", sa.String(NAME), nullable=False),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        _ts("acquired_at"),
        _ts("expires_at"),
        sa.PrimaryKeyConstraint("connector", name="pk_locks"),
    )


def downgrade() -> None:
    op.drop_table("locks")
    op.drop_table("token_cache")
    op.drop_index("ix_journal_connector_state", table_name="journal")
    op.drop_table("journal")
    op.drop_index("ix_runs_connector_id", table_name="runs")
    op.drop_table("runs")
    op.drop_table("bookmarks")
    op.drop_table("source_view")
    op.drop_index("ix_links_connector_target_id", table_name="links")
    op.drop_table("links")
    op.drop_table("connectors")
