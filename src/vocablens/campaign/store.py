"""The campaign library API: create, people and tokens, assignment, labels, adjudication, status.

Every write is one transaction (one label, one adjudication). Labels are append-only; a retried
submission with the same idempotency key returns the label it created the first time.

Assignment is claimed lazily: an annotator's next item is one already given to them and not yet
labelled, else the first item (campaign order) that has fewer than ``overlap`` annotators, is not
adjudicated and was never given to them. Gold items go to everyone. A claim takes a numbered
seat (``Assignment.slot``, ``0 .. overlap-1``, unique per item), so two people taking an item's
last seat at once cannot both get it: the later insert fails and that claimant looks again.

The per-label paths (:meth:`CampaignStore.next_item`, :meth:`CampaignStore.submit`) use
SQLAlchemy Core on one connection (no ORM objects): they run once per label, many times a second.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from vocablens.campaign import db as dbm
from vocablens.campaign.answers import Answer
from vocablens.campaign.errors import Conflict, Forbidden, NotFound, Unauthorized
from vocablens.campaign.models import (
    ADJUDICATOR,
    ROLES,
    Adjudication,
    Annotator,
    Assignment,
    Campaign,
    Item,
    Label,
    now,
)

MAX_KEY = 200


def token_hash(token: str) -> str:
    """SHA-256 (hex) of a personal token: what the database keeps."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class Person:
    """An authenticated caller: ``id``, ``name``, ``role``."""

    id: int
    name: str
    role: str


#: The item columns the API returns (and ``gold``, kept server-side).
_ITEM = (Item.id, Item.model, Item.kind, Item.layer, Item.expert, Item.index, Item.sign,
         Item.manifest_hash, Item.evidence, Item.machine, Item.gold)  # fmt: skip
_LABEL = tuple(Label.__table__.c)


def _statements() -> dict[str, Any]:
    """The per-label statements, built once (``:person``, ``:item``, ``:key`` bound per call)."""
    person: Any = sa.bindparam("person")
    item_id: Any = sa.bindparam("item")
    adjudicated = sa.select(Adjudication.item_id)
    labelled = sa.select(Label.item_id).where(Label.annotator_id == person)
    given = sa.select(Assignment.item_id).where(Assignment.annotator_id == person)
    seats = (sa.select(sa.func.count()).select_from(Assignment)
             .where(Assignment.item_id == Item.id, Assignment.slot.is_not(None))
             .scalar_subquery())  # fmt: skip
    return {
        "mine": sa.select(*_ITEM).join(Assignment, Assignment.item_id == Item.id)
        .where(Assignment.annotator_id == person, Item.id.not_in(labelled),
               Item.id.not_in(adjudicated)).order_by(Item.position).limit(1),
        "open": sa.select(Item.id, Item.gold.is_not(None))
        .where(Item.id.not_in(given), Item.id.not_in(adjudicated),
               sa.or_(Item.gold.is_not(None), seats < sa.bindparam("overlap")))
        .order_by(Item.position).limit(1),
        "slots": sa.select(Assignment.slot).where(Assignment.item_id == item_id,
                                                  Assignment.slot.is_not(None)),
        "claim": sa.insert(Assignment),
        "item": sa.select(*_ITEM).where(Item.id == item_id),
        "given": sa.select(Assignment.id).where(Assignment.item_id == item_id,
                                                Assignment.annotator_id == person),
        "adjudicated": sa.select(Adjudication.id).where(Adjudication.item_id == item_id).limit(1),
        "by_key": sa.select(*_LABEL).where(Label.annotator_id == person,
                                           Label.idempotency_key == sa.bindparam("key")),
        "label": sa.insert(Label),
    }  # fmt: skip


def item_dict(item: Any, show_machine: bool) -> dict[str, Any]:
    """An item (a row mapping of :data:`_ITEM`) as the API returns it.

    The machine label only when the campaign shows it.
    """
    return {
        "id": item["id"], "model": item["model"], "kind": item["kind"], "layer": item["layer"],
        "expert": item["expert"], "index": item["index"], "sign": item["sign"],
        "manifest_hash": item["manifest_hash"], "evidence": item["evidence"],
        "machine": item["machine"] if show_machine else None,
    }  # fmt: skip


def label_dict(label: Any) -> dict[str, Any]:
    """A label as the API returns it."""
    return {
        "id": label.id, "item_id": label.item_id, "concept": label.concept,
        "no_concept": label.no_concept, "polysemantic": label.polysemantic,
        "groups": list(label.groups), "confidence": label.confidence, "note": label.note,
        "idempotency_key": label.idempotency_key, "created": label.created.isoformat(),
    }  # fmt: skip


class CampaignStore:
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
        self._sql = _statements()
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

    # ----- items ----------------------------------------------------------------------------
    def next_item(self, person: Person) -> dict[str, Any] | None:
        """The caller's next item (claimed for them), or None when they are done."""
        with self.engine.connect() as c:
            mine = c.execute(self._sql["mine"], {"person": person.id}).first()
            if mine is not None:
                return item_dict(mine._mapping, self.show_machine)
            for _ in range(50):
                item = self._claim(c, person)
                if item is not False:
                    return item  # type: ignore[return-value]
        return None

    def _claim(self, c: sa.Connection, person: Person) -> dict[str, Any] | bool | None:
        """Claim a fresh item: the item, None when none is left, False to try again."""
        sql = self._sql
        found = c.execute(sql["open"], {"person": person.id, "overlap": self.overlap}).first()
        if found is None:
            c.rollback()
            return None
        item_id, gold = found
        slot = None
        if not gold:
            taken = set(c.scalars(sql["slots"], {"item": item_id}))
            slot = next(i for i in range(self.overlap + 1) if i not in taken)
            if slot >= self.overlap:  # filled since the first read
                c.rollback()
                return False
        c.rollback()  # end the reads; the claim is a transaction of its own
        try:
            with c.begin():
                c.execute(sql["claim"], {"item_id": item_id, "annotator_id": person.id,
                                         "slot": slot, "created": now()})  # fmt: skip
        except sa.exc.IntegrityError:  # someone took that seat (or this item) first
            return False
        row = c.execute(sql["item"], {"item": item_id}).one()
        c.rollback()
        return item_dict(row._mapping, self.show_machine)

    def _item_for(self, c: sa.Connection, person: Person, item_id: int) -> Any:
        """The item row (mapping) the caller may see; raises NotFound / Forbidden."""
        row = c.execute(self._sql["item"], {"item": item_id}).first()
        if row is None:
            raise NotFound(f"no item {item_id}")
        if person.role != ADJUDICATOR:
            given = c.scalar(self._sql["given"], {"item": item_id, "person": person.id})
            if given is None:
                raise Forbidden(f"item {item_id} is not assigned to you")
        return row._mapping

    def item(self, person: Person, item_id: int) -> dict[str, Any]:
        """One item the caller may see (theirs; an adjudicator sees all), with their labels.

        Raises:
            NotFound: no such item; Forbidden: not assigned to the caller.
        """
        with self.engine.connect() as c:
            item = self._item_for(c, person, item_id)
        with self.session() as s:
            out = item_dict(item, self.show_machine or person.role == ADJUDICATOR)
            out["labels"] = [label_dict(r) for r in s.scalars(
                sa.select(Label).where(Label.item_id == item_id, Label.annotator_id == person.id)
                .order_by(Label.id))]  # fmt: skip
            final = s.scalars(sa.select(Adjudication).where(Adjudication.item_id == item_id)
                              .order_by(Adjudication.id.desc())).first()  # fmt: skip
            out["adjudicated"] = final is not None
            if person.role == ADJUDICATOR:
                out["all_labels"] = [{**label_dict(r), "annotator": name} for r, name in s.execute(
                    sa.select(Label, Annotator.name).join(Annotator, Annotator.id == Label.annotator_id)
                    .where(Label.item_id == item_id).order_by(Label.id))]  # fmt: skip
                out["final"] = None if final is None else {
                    "concept": final.concept, "no_concept": final.no_concept,
                    "groups": list(final.groups), "note": final.note}  # fmt: skip
        return out

    def common_concepts(self, person: Person, n: int = 9) -> list[str]:
        """The caller's own most used concepts (the page's one-key answers), most used first."""
        with self.session() as s:
            rows = s.execute(sa.select(Label.concept, sa.func.count().label("n"))
                             .where(Label.annotator_id == person.id, Label.no_concept.is_(False),
                                    Label.polysemantic.is_(False))
                             .group_by(Label.concept).order_by(sa.desc("n"), Label.concept)
                             .limit(n)).all()  # fmt: skip
        return [r[0] for r in rows]

    def my_items(self, person: Person) -> list[int]:
        """The ids of the caller's items, in the order they were given."""
        with self.session() as s:
            return list(s.scalars(sa.select(Assignment.item_id)
                                  .where(Assignment.annotator_id == person.id)
                                  .order_by(Assignment.id)))  # fmt: skip

    # ----- labels ---------------------------------------------------------------------------
    def submit(
        self, person: Person, item_id: int, answer: Answer, key: str
    ) -> tuple[dict[str, Any], bool]:
        """Store a label (one transaction); returns it and whether it is new.

        A second call with the same ``key`` from the same person returns the first label.

        Raises:
            CampaignError: a bad key; NotFound, Forbidden: see :meth:`item`; Conflict: the item
                is already adjudicated.
        """
        if not isinstance(key, str) or not key or len(key) > MAX_KEY or "\x00" in key:
            raise dbm.CampaignError(f"an idempotency key must have 1 to {MAX_KEY} characters")
        lookup = {"person": person.id, "key": key}
        with self.engine.connect() as c:
            found = c.execute(self._sql["by_key"], lookup).first()
            if found is not None:
                return label_dict(found), False
            item = self._item_for(c, person, item_id)
            if c.scalar(self._sql["adjudicated"], {"item": item_id}):
                raise Conflict(f"item {item_id} is already adjudicated")
            shown = {"manifest_hash": item["manifest_hash"],
                     "machine": item["machine"] if self.show_machine else None}  # fmt: skip
            values = dict(item_id=item_id, annotator_id=person.id, idempotency_key=key,
                          concept=answer.concept, no_concept=answer.no_concept,
                          polysemantic=answer.polysemantic, groups=list(answer.groups),
                          confidence=answer.confidence, note=answer.note, shown=shown,
                          created=now())  # fmt: skip
            c.rollback()  # end the reads; the label is a transaction of its own
            try:
                with c.begin():
                    inserted = c.execute(self._sql["label"], values).inserted_primary_key
                new_id = inserted[0] if inserted else None
            except sa.exc.IntegrityError:  # the same key raced in from a retry
                found = c.execute(self._sql["by_key"], lookup).first()
                if found is None:
                    raise
                return label_dict(found), False
            return label_dict(SimpleNamespace(id=new_id, **values)), True

    def progress(self, person: Person) -> dict[str, Any]:
        """How far the caller is: items given, items labelled, labels written."""
        with self.session() as s:
            given = s.scalar(sa.select(sa.func.count()).select_from(Assignment)
                             .where(Assignment.annotator_id == person.id))  # fmt: skip
            done = s.scalar(sa.select(sa.func.count(sa.distinct(Label.item_id)))
                            .where(Label.annotator_id == person.id))  # fmt: skip
            labels = s.scalar(sa.select(sa.func.count()).select_from(Label)
                              .where(Label.annotator_id == person.id))  # fmt: skip
        return {"name": person.name, "role": person.role, "assigned": given, "labelled": done,
                "labels": labels, "open": (given or 0) - (done or 0)}  # fmt: skip

    # ----- adjudication ---------------------------------------------------------------------
    def adjudicate(self, person: Person, item_id: int, answer: Answer) -> dict[str, Any]:
        """Record the final label of an item (adjudicators only; a later one supersedes).

        Raises:
            Forbidden: the caller is not an adjudicator; NotFound: no such item.
        """
        if person.role != ADJUDICATOR:
            raise Forbidden("only an adjudicator may adjudicate")
        with self.session() as s, s.begin():
            if s.get(Item, item_id) is None:
                raise NotFound(f"no item {item_id}")
            row = Adjudication(item_id=item_id, adjudicator_id=person.id, concept=answer.concept,
                               no_concept=answer.no_concept, polysemantic=answer.polysemantic,
                               groups=list(answer.groups), note=answer.note)  # fmt: skip
            s.add(row)
            s.flush()
            return {"id": row.id, "item_id": item_id, "concept": row.concept,
                    "no_concept": row.no_concept, "groups": list(row.groups)}  # fmt: skip

    def queue(self, person: Person | None = None) -> list[dict[str, Any]]:
        """Items whose current labels disagree and that are not adjudicated yet.

        Raises:
            Forbidden: ``person`` is given and is not an adjudicator.
        """
        from vocablens.campaign.tables import disagreements

        if person is not None and person.role != ADJUDICATOR:
            raise Forbidden("only an adjudicator sees the adjudication queue")
        return disagreements(self)

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
