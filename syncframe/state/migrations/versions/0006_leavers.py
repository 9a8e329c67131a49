"""Leavers: a linked user whose account was disabled rather than deleted keeps its
link, with when it was disabled, when it is due for deletion, and whether a person
keeps it indefinitely.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29
"""

from __future__ import annotations

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: Union[str, Sequence[str], None] = "0005"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table("links") as batch:
        batch.add_column(sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("delete_due", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("kept", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("links") as batch:
        batch.drop_column("kept")
        batch.drop_column("delete_due")
        batch.drop_column("disabled_at")
