"""Campaign fixtures: a synthetic projection folder, and a throw-away PostgreSQL server.

The server is Debian's PostgreSQL 15 (``scripts/install-system-deps.sh``), started once per
session in a temporary folder on a Unix socket. PostgreSQL refuses to run as root (CI runs as
root), so there it runs as the ``postgres`` system user through ``runuser``.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from campaign_data import write_annotations, write_projections

from vocablens.campaign.loadtest import PG_BIN, throwaway_postgres


@pytest.fixture(scope="session")
def projections(tmp_path_factory) -> Path:
    return write_projections(tmp_path_factory.mktemp("proj") / "p", heads=1)


@pytest.fixture(scope="session")
def annotations(tmp_path_factory) -> Path:
    return write_annotations(tmp_path_factory.mktemp("ann") / "a.parquet")


@pytest.fixture(scope="session")
def postgres():
    """A running PostgreSQL server: yields a function making a fresh empty database URL.

    fsync is off: the tests kill the campaign server, never the machine.
    """
    if not (PG_BIN / "initdb").is_file():
        pytest.skip("PostgreSQL 15 not installed (scripts/install-system-deps.sh)")
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        pytest.skip("running as root without runuser")
    with throwaway_postgres() as new_database:
        yield new_database


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """A fresh campaign database location on each backend."""
    if request.param == "sqlite":
        return str(tmp_path / "campaign.db")
    return request.getfixturevalue("postgres")()
