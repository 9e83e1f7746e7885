"""The campaign library API: create, people and tokens, assignment, labels, adjudication, status.

Every write is one transaction (one label, one adjudication). Labels are append-only; a retried
submission with the same idempotency key returns the label it created the first time.
Assignment is claimed lazily, one numbered seat per annotator and item
(:mod:`vocablens.campaign.seats`); labels and adjudication are in
:mod:`vocablens.campaign.labelling`, the per-label statements in
:mod:`vocablens.campaign.statements`.

The per-label paths (:meth:`CampaignStore.next_item`, :meth:`CampaignStore.submit`) use
SQLAlchemy Core on one connection (no ORM objects): they run once per label, many times a second.
"""

from __future__ import annotations

import hashlib
import secrets
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from vocablens.campaign import db as dbm
from vocablens.campaign.errors import Conflict, Unauthorized
from vocablens.campaign.labelling import MAX_KEY, LabellingMixin
from vocablens.campaign.models import ROLES, Adjudication, Annotator, Campaign, Item, Label
from vocablens.campaign.seats import SeatsMixin
from vocablens.campaign.statements import Person, item_dict, label_dict, statements

__all__ = ["MAX_KEY", "CampaignStore", "Person", "item_dict", "label_dict", "token_hash"]


def token_hash(token: str) -> str:
    """SHA-256 (hex) of a personal token: what the database keeps."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


class CampaignStore(SeatsMixin, LabellingMixin):
    """A campaign in a database (see the module docstring). Open with :meth:`open` or :meth:`create`.

    Args:
        engine: an engine on a migrated campaign database.
        where: how to name the database in messages.
    """

    def __init__(self, engine: Engine, where: str):
        self.engine = engine
        self.where = where
        self.session = sessionmaker(engine, expire_on_commit=False)
        self._people: dict[str, Person] = {}
        self._sql = statements()
        with self.session() as s:
            campaign = s.scalars(sa.select(Campaign)).one()
        self.overlap = campaign.overlap
        self.show_machine = campaign.show_machine
        self.manifest_hash = campaign.manifest_hash
        self.model = campaign.model

    # ----- create / open -------------------------------------------------------------------
    @classmethod
    def create(
        cls,
        db: str | Path,
        projections: str | Path,
        *,
        annotations: str | Path | None = None,
        overlap: int = 3,
        sample: int | None = None,
        gold: str | Path | None = None,
        show_machine: bool = False,
        seed: int = 0,
        activations: str | Path | None = None,
    ) -> CampaignStore:
        """Create a campaign from a projection folder; nothing is left behind when it fails.

        Raises:
            CampaignError: a bad folder or file, a DB that already holds tables, a bad option.
        """
        if isinstance(overlap, bool) or not isinstance(overlap, int) or overlap < 1:
            raise dbm.CampaignError(f"--overlap must be a positive number, got {overlap!r}")
        url = dbm.resolve_url(db)
        path = dbm.sqlite_path(url)
        if path is not None and path.exists():
            raise dbm.CampaignError(f"{db} exists already; campaigns are created in a new file")
        if path is not None and not path.parent.is_dir():
            raise dbm.CampaignError(f"folder does not exist: {path.parent}")
        from vocablens.campaign.items import load_source  # pandas: only to create

        source = load_source(
            projections, annotations, gold, sample, seed, activations
        )  # checks first
        engine = dbm.make_engine(url)
        if path is None and dbm.table_names(engine, str(db)):
            raise dbm.CampaignError(
                f"{db} is not empty; campaigns are created in an empty database"
            )
        try:
            dbm.migrate(engine)
            with Session(engine) as s, s.begin():
                s.add(Campaign(model=source.model, source=source.source, overlap=overlap,
                               manifest_hash=source.manifest_hash, show_machine=show_machine))  # fmt: skip
                s.execute(sa.insert(Item), source.items)
        except BaseException as exc:
            if path is not None:
                engine.dispose()
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{path}{suffix}").unlink(missing_ok=True)
            else:
                dbm.drop_schema(engine)
            if isinstance(exc, sa.exc.SQLAlchemyError):
                raise dbm.CampaignError(
                    f"cannot create the campaign: {dbm.first_line(exc)}"
                ) from exc
            raise
        return cls(engine, str(db))

    @classmethod
    def open(cls, db: str | Path) -> CampaignStore:
        """Open an existing campaign (and upgrade its schema).

        Raises:
            CampaignError: there is no such file, or the database is not a campaign.
        """
        url = dbm.resolve_url(db)
        path = dbm.sqlite_path(url)
        if path is not None:
            if not path.is_file():
                raise dbm.CampaignError(f"campaign not found: {db}")
            with open(path, "rb") as handle:
                if handle.read(16) != b"SQLite format 3\x00":
                    raise dbm.CampaignError(f"{db} is not a campaign database (not SQLite)")
        engine = dbm.make_engine(url)
        dbm.check_campaign(engine, str(db))
        dbm.migrate(engine)
        return cls(engine, str(db))

    def close(self) -> None:
        """Release the database connections."""
        self.engine.dispose()

    # ----- people ---------------------------------------------------------------------------
    def add_person(self, name: str, role: str = "annotator") -> tuple[Person, str]:
        """Add a person; returns them and their personal token (shown once, stored hashed).

        Raises:
            CampaignError: an empty name or an unknown role; Conflict: the name is taken.
        """
        name = name.strip()
        if not name or len(name) > 200:
            raise dbm.CampaignError("a name must have 1 to 200 characters")
        if role not in ROLES:
            raise dbm.CampaignError(f"unknown role {role!r} (choose from {', '.join(ROLES)})")
        token = secrets.token_urlsafe(24)
        with self.session() as s, s.begin():
            if s.scalar(sa.select(Annotator.id).where(Annotator.name == name)) is not None:
                raise Conflict(f"there is already a person called {name!r}")
            person = Annotator(name=name, role=role, token_hash=token_hash(token))
            s.add(person)
            s.flush()
            return Person(person.id, person.name, person.role), token

    def authenticate(self, token: str | None) -> Person:
        """The person a token belongs to.

        Raises:
            Unauthorized: no token, or nobody's.
        """
        if not token:
            raise Unauthorized("missing token: send 'Authorization: Bearer TOKEN'")
        digest = token_hash(token)
        found = self._people.get(digest)
        if found is None:
            with self.session() as s:
                row = s.scalars(sa.select(Annotator).where(Annotator.token_hash == digest)).first()
            if row is None:
                raise Unauthorized("unknown token")
            found = self._people[digest] = Person(row.id, row.name, row.role)
        return found

    def people(self) -> list[Person]:
        """Everyone, in the order they were added."""
        with self.session() as s:
            rows = s.scalars(sa.select(Annotator).order_by(Annotator.id)).all()
        return [Person(r.id, r.name, r.role) for r in rows]

    # ----- status ---------------------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        """Counts: items, gold items, people, labels, labelled and adjudicated items."""
        count = sa.func.count
        with self.session() as s:
            return {
                "model": self.model, "manifest_hash": self.manifest_hash,
                "overlap": self.overlap, "show_machine": self.show_machine,
                "items": s.scalar(sa.select(count()).select_from(Item)),
                "gold_items": s.scalar(sa.select(count()).select_from(Item)
                                       .where(Item.gold.is_not(None))),
                "people": s.scalar(sa.select(count()).select_from(Annotator)),
                "labels": s.scalar(sa.select(count()).select_from(Label)),
                "labelled_items": s.scalar(sa.select(count(sa.distinct(Label.item_id)))),
                "adjudicated_items": s.scalar(sa.select(count(sa.distinct(Adjudication.item_id)))),
            }  # fmt: skip
