"""Campaign fixtures: a synthetic projection folder, and a throw-away PostgreSQL server.

The server is Debian's PostgreSQL 15 (``scripts/install-system-deps.sh``), started once per
session in a temporary folder on a Unix socket. PostgreSQL refuses to run as root (CI runs as
root), so there it runs as the ``postgres`` system user through ``runuser``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest
from campaign_data import write_annotations, write_projections

PG_BIN = Path("/usr/lib/postgresql/15/bin")


@pytest.fixture(scope="session")
def projections(tmp_path_factory) -> Path:
    return write_projections(tmp_path_factory.mktemp("proj") / "p", heads=1)


@pytest.fixture(scope="session")
def annotations(tmp_path_factory) -> Path:
    return write_annotations(tmp_path_factory.mktemp("ann") / "a.parquet")


def _as_postgres(args: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return args
    return ["runuser", "-u", "postgres", "--", *args]


@pytest.fixture(scope="session")
def postgres():
    """A running PostgreSQL server: yields a function making a fresh empty database URL.

    fsync is off: the tests kill the campaign server, never the machine.
    """
    if not (PG_BIN / "initdb").is_file():
        pytest.skip("PostgreSQL 15 not installed (scripts/install-system-deps.sh)")
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        pytest.skip("running as root without runuser")
    root = Path(tempfile.mkdtemp(prefix="vl-pg-"))
    data, sock = root / "data", root / "sock"
    sock.mkdir()
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        shutil.chown(sock, "postgres")
        os.chmod(root, 0o755)
    run = lambda args: subprocess.run(_as_postgres(args), check=True, capture_output=True)  # noqa: E731
    run([str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "--no-sync",
         "-E", "UTF8", "--locale=C"])  # fmt: skip
    opts = f"-k {sock} -c listen_addresses='' -c fsync=off -c full_page_writes=off -c max_connections=200"
    run([str(PG_BIN / "pg_ctl"), "-D", str(data), "-o", opts, "-w", "-l", str(root / "log"), "start"])
    import sqlalchemy as sa

    admin = sa.create_engine(f"postgresql+psycopg://postgres@/postgres?host={sock}",
                             isolation_level="AUTOCOMMIT")  # fmt: skip

    def new_database() -> str:
        """A fresh empty schema (cheaper than a database) as the connection's search path."""
        name = f"c_{uuid.uuid4().hex[:10]}"
        with admin.connect() as conn:
            conn.execute(sa.text(f"CREATE SCHEMA {name}"))
        return f"postgresql+psycopg://postgres@/postgres?host={sock}&options=-csearch_path%3D{name}"

    try:
        yield new_database
    finally:
        admin.dispose()
        subprocess.run(_as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate",
                                     "stop"]), capture_output=True)  # fmt: skip
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """A fresh campaign database location on each backend."""
    if request.param == "sqlite":
        return str(tmp_path / "campaign.db")
    return request.getfixturevalue("postgres")()
