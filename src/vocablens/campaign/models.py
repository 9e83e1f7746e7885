"""The campaign's tables (SQLAlchemy 2 ORM). The schema itself is created by the alembic migrations.

Labels and adjudications are append-only: a correction is a new row, never an update. The latest
row per (annotator, item) is the annotator's current answer; the latest adjudication of an item
is its final label.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

#: The roles a person can have.
ANNOTATOR, ADJUDICATOR = "annotator", "adjudicator"
ROLES = (ANNOTATOR, ADJUDICATOR)


def now() -> dt.datetime:
    """The current time, UTC (what every ``created`` column holds)."""
    return dt.datetime.now(dt.timezone.utc)


class Base(DeclarativeBase):
    """The declarative base of the campaign tables."""


class Campaign(Base):
    """The campaign's settings (one row).

    ``manifest_hash`` is the SHA-256 of the projection folder's ``manifest.json``: what was shown.
    """

    __tablename__ = "campaign"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model: Mapped[str] = mapped_column(String(500))
    source: Mapped[str] = mapped_column(Text)
    manifest_hash: Mapped[str] = mapped_column(String(64))
    overlap: Mapped[int] = mapped_column(Integer)
    show_machine: Mapped[bool] = mapped_column(Boolean, default=False)
    created: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=now)


class Item(Base):
    """One vector side to label: (model, kind, layer, expert, index, sign) and its evidence.

    ``evidence`` is JSON: ``{"readouts": {name: {"promoted": [...], "suppressed": [...]}},
    "pairs": [[src, dst], ...]}``; ``machine`` is ``{readout: {"label", "label_kind",
    "confident", "score"}}`` (empty without an annotation file).
    """

    __tablename__ = "items"
    __table_args__ = (UniqueConstraint("kind", "layer", "expert", "index", "sign"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model: Mapped[str] = mapped_column(String(500))
    kind: Mapped[str] = mapped_column(String(40))
    layer: Mapped[int] = mapped_column(Integer, index=True)
    expert: Mapped[int] = mapped_column(Integer)
    index: Mapped[int] = mapped_column(Integer)
    sign: Mapped[int] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer, index=True)
    manifest_hash: Mapped[str] = mapped_column(String(64))
    evidence: Mapped[dict] = mapped_column(JSON)
    machine: Mapped[dict] = mapped_column(JSON)
    gold: Mapped[str | None] = mapped_column(Text, nullable=True)


class Annotator(Base):
    """A person: a name, a role, and the SHA-256 of their personal token (the token is not kept)."""

    __tablename__ = "annotators"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=now)


class Assignment(Base):
    """An item given to an annotator (at most once per pair).

    ``slot`` numbers the item's seats ``0 .. overlap-1`` (unique per item, so an item never gets
    more than ``overlap`` annotators, even when two people claim its last seat at once); gold
    items, which everyone gets, have no slot (null).
    """

    __tablename__ = "assignments"
    __table_args__ = (
        UniqueConstraint("item_id", "annotator_id"),
        Index("ix_assignments_item_slot", "item_id", "slot", unique=True),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    annotator_id: Mapped[int] = mapped_column(ForeignKey("annotators.id"), index=True)
    slot: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=now)


class Label(Base):
    """One answer of one annotator for one item (append-only, with what they saw).

    ``concept`` is "" for "no concept" (``no_concept`` true); ``groups`` lists one label per
    group of a polysemantic vector; ``shown`` records the manifest hash and the machine label
    shown (null when hidden).
    """

    __tablename__ = "labels"
    __table_args__ = (UniqueConstraint("annotator_id", "idempotency_key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    annotator_id: Mapped[int] = mapped_column(ForeignKey("annotators.id"), index=True)
    idempotency_key: Mapped[str] = mapped_column(String(200))
    concept: Mapped[str] = mapped_column(Text)
    no_concept: Mapped[bool] = mapped_column(Boolean)
    polysemantic: Mapped[bool] = mapped_column(Boolean)
    groups: Mapped[list] = mapped_column(JSON)
    confidence: Mapped[float] = mapped_column(Float)
    note: Mapped[str] = mapped_column(Text)
    shown: Mapped[dict] = mapped_column(JSON)
    created: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=now)


class Adjudication(Base):
    """An adjudicator's final label for an item (append-only; the latest one counts)."""

    __tablename__ = "adjudications"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    adjudicator_id: Mapped[int] = mapped_column(ForeignKey("annotators.id"))
    concept: Mapped[str] = mapped_column(Text)
    no_concept: Mapped[bool] = mapped_column(Boolean)
    polysemantic: Mapped[bool] = mapped_column(Boolean)
    groups: Mapped[list] = mapped_column(JSON)
    note: Mapped[str] = mapped_column(Text)
    created: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=now)
