"""Held removals wait for a release (links.held_since); connectors record the system
their target writes to (connector_targets), so connectors on one system see each
other's links.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""

from __future__ import annotations

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: Union[str, Sequence[str], None] = "0003"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

NAME = 200
KEY = 512


def upgrade() -> None:
    with op.batch_alter_table("links") as batch:
        batch.add_column(sa.Column("held_since", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "connector_targets",
        sa.Column("connector", sa.String(NAME), nullable=False),
        sa.Column("system", sa.String(KEY), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("connector", name="pk_connector_targets"),
    )
    op.create_index("ix_connector_targets_system", "connector_targets", ["system"])


def downgrade() -> None:
    op.drop_index("ix_connector_targets_system", table_name="connector_targets")
    op.drop_table("connector_targets")
    with op.batch_alter_table("links") as batch:
        batch.drop_column("held_since")
