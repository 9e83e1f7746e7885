"""Assignment slots: an item's k seats are numbered 0..k-1, one annotator per seat.

A unique index on (item_id, slot) makes two people taking the last seat at once impossible:
the later insert fails and that claimant picks another item. Gold items (everyone's) have no
slot (NULL, never equal in a unique index). Existing assignments are numbered in the order they
were made.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add ``assignments.slot``, number the existing seats, and make (item_id, slot) unique."""
    op.add_column("assignments", sa.Column("slot", sa.Integer, nullable=True))
    op.execute(
        "UPDATE assignments SET slot = (SELECT COUNT(*) FROM assignments AS earlier"
        " WHERE earlier.item_id = assignments.item_id AND earlier.id < assignments.id)"
        " WHERE item_id IN (SELECT id FROM items WHERE gold IS NULL)"
    )
    op.create_index("ix_assignments_item_slot", "assignments", ["item_id", "slot"], unique=True)


def downgrade() -> None:
    """Drop the slots."""
    op.drop_index("ix_assignments_item_slot", table_name="assignments")
    with op.batch_alter_table("assignments") as batch:
        batch.drop_column("slot")
