"""Engines, migrations and the "is this a campaign?" check.

``DB`` is an SQLAlchemy URL (``postgresql+psycopg://user@host/name``) or a file path (an SQLite
file: WAL mode, full fsync on commit, foreign keys on, a 30 s busy timeout so concurrent writers
queue instead of failing). The schema is made and upgraded by alembic, programmatically, each
time a campaign is created or opened.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine

from vocablens.errors import InputError, first_line

MIGRATIONS = Path(__file__).with_name("migrations")
_TABLES = ("campaign", "items", "annotators", "labels")


class CampaignError(InputError):
    """A DB that is not a campaign, a campaign that cannot be created, or a bad campaign request."""


def resolve_url(db: str | Path) -> sa.URL:
    """The SQLAlchemy URL of ``db`` (a URL, or a path to an SQLite file)."""
    text = str(db)
    if "://" in text:
        try:
            return sa.make_url(text)
        except sa.exc.ArgumentError as exc:
            raise CampaignError(f"not a database URL: {text}") from exc
    return sa.URL.create("sqlite", database=str(Path(text).resolve()))


def is_sqlite(url: sa.URL) -> bool:
    """Whether ``url`` names an SQLite database."""
    return url.get_backend_name() == "sqlite"


def sqlite_path(url: sa.URL) -> Path | None:
    """The file of an SQLite URL (None for other backends and in-memory databases)."""
    if not is_sqlite(url) or not url.database or url.database == ":memory:":
        return None
    return Path(url.database)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    for pragma in ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON", "busy_timeout=30000"):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def make_engine(url: sa.URL) -> Engine:
    """An engine for ``url`` (SQLite pragmas set on every connection)."""
    try:
        if is_sqlite(url):
            engine = sa.create_engine(
                url, connect_args={"check_same_thread": False, "timeout": 30}, pool_size=32
            )
            event.listen(engine, "connect", _sqlite_pragmas)
            return engine
        return sa.create_engine(url, pool_size=24, max_overflow=16, pool_pre_ping=True)
    except (sa.exc.ArgumentError, sa.exc.NoSuchModuleError, ImportError) as exc:
        raise CampaignError(
            f"cannot use database {url.render_as_string()}: {first_line(exc)}"
        ) from exc


def _alembic_config():
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision (creates it in an empty database)."""
    from alembic import command

    config = _alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def drop_schema(engine: Engine) -> None:
    """Remove every campaign table (undo a half-made :func:`migrate`)."""
    from alembic import command

    config = _alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "base")
        connection.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))


def table_names(engine: Engine, where: str) -> set[str]:
    """The tables of the database (a one-line error when it cannot be read)."""
    try:
        return set(sa.inspect(engine).get_table_names())
    except sa.exc.SQLAlchemyError as exc:
        raise CampaignError(f"{where} is not a campaign database: {first_line(exc)}") from exc


def check_campaign(engine: Engine, where: str) -> None:
    """Raise unless the database holds a campaign (its tables and an alembic version)."""
    names = table_names(engine, where)
    missing = [t for t in (*_TABLES, "alembic_version") if t not in names]
    if missing:
        raise CampaignError(f"{where} is not a campaign database (no table {missing[0]!r})")
    with engine.connect() as connection:
        if connection.execute(sa.text("SELECT COUNT(*) FROM campaign")).scalar_one() != 1:
            raise CampaignError(f"{where} is not a campaign database (no campaign row)")
