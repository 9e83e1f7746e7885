"""The first campaign schema: campaign, items, annotators, assignments, labels, adjudications.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _created() -> sa.Column:
    return sa.Column("created", sa.DateTime(timezone=True), nullable=False)


def upgrade() -> None:
    """Create the tables."""
    op.create_table(
        "campaign",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("model", sa.String(500), nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("manifest_hash", sa.String(64), nullable=False),
        sa.Column("overlap", sa.Integer, nullable=False),
        sa.Column("show_machine", sa.Boolean, nullable=False),
        _created(),
    )
    op.create_table(
        "items",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("model", sa.String(500), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("layer", sa.Integer, nullable=False, index=True),
        sa.Column("expert", sa.Integer, nullable=False),
        sa.Column("index", sa.Integer, nullable=False),
        sa.Column("sign", sa.Integer, nullable=False),
        sa.Column("position", sa.Integer, nullable=False, index=True),
        sa.Column("manifest_hash", sa.String(64), nullable=False),
        sa.Column("evidence", sa.JSON, nullable=False),
        sa.Column("machine", sa.JSON, nullable=False),
        sa.Column("gold", sa.Text, nullable=True),
        sa.UniqueConstraint("kind", "layer", "expert", "index", "sign"),
    )
    op.create_table(
        "annotators",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        _created(),
    )
    op.create_table(
        "assignments",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("item_id", sa.Integer, sa.ForeignKey("items.id"), nullable=False, index=True),
        sa.Column(
            "annotator_id", sa.Integer, sa.ForeignKey("annotators.id"), nullable=False, index=True
        ),
        _created(),
        sa.UniqueConstraint("item_id", "annotator_id"),
    )
    op.create_table(
        "labels",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("item_id", sa.Integer, sa.ForeignKey("items.id"), nullable=False, index=True),
        sa.Column(
            "annotator_id", sa.Integer, sa.ForeignKey("annotators.id"), nullable=False, index=True
        ),
        sa.Column("idempotency_key", sa.String(200), nullable=False),
        sa.Column("concept", sa.Text, nullable=False),
        sa.Column("no_concept", sa.Boolean, nullable=False),
        sa.Column("polysemantic", sa.Boolean, nullable=False),
        sa.Column("groups", sa.JSON, nullable=False),
        sa.Column("confidence", sa.Float, nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("shown", sa.JSON, nullable=False),
        _created(),
        sa.UniqueConstraint("annotator_id", "idempotency_key"),
    )
    op.create_table(
        "adjudications",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("item_id", sa.Integer, sa.ForeignKey("items.id"), nullable=False, index=True),
        sa.Column("adjudicator_id", sa.Integer, sa.ForeignKey("annotators.id"), nullable=False),
        sa.Column("concept", sa.Text, nullable=False),
        sa.Column("no_concept", sa.Boolean, nullable=False),
        sa.Column("polysemantic", sa.Boolean, nullable=False),
        sa.Column("groups", sa.JSON, nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        _created(),
    )


def downgrade() -> None:
    """Drop the tables."""
    for name in ("adjudications", "labels", "assignments", "annotators", "items", "campaign"):
        op.drop_table(name)
