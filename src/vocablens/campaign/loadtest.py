"""Drive a served campaign the way many people would: the load test and the benchmark use this.

:func:`run_load` runs one thread per annotator; each asks ``/api/next``, submits a label with a
fresh idempotency key, and now and then sends the same request again (a retry) to check that it
returns the same label. A request that fails (the server was killed) is retried with the *same*
key until it is acknowledged, so after a restart every label is stored exactly once.

:func:`start_server` runs ``vocablens campaign serve`` in a child process;
:func:`throwaway_postgres` starts a temporary PostgreSQL server (Debian's ``postgresql``; as the
``postgres`` user when run as root, which PostgreSQL refuses).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

PG_BIN = Path("/usr/lib/postgresql/15/bin")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(db: str, port: int, timeout: float = 60, warm: bool = False) -> subprocess.Popen:
    """Start ``vocablens campaign serve DB --port PORT`` and wait until it answers.

    ``warm``: let the server open WordNet at start (off: the load never asks for suggestions,
    and opening it takes CPU from the first requests).
    """
    import httpx

    code = "import sys; from vocablens.cli import main; sys.argv[0] = 'vocablens'; main()"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    args = ["campaign", "serve", db, "--port", str(port), *([] if warm else ["--no-warm-up"])]
    proc = subprocess.Popen([sys.executable, "-c", code, *args], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            err = proc.stderr.read().decode() if proc.stderr else ""
            raise RuntimeError(f"server exited: {err[-2000:]}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"http://127.0.0.1:{port}/api/me", timeout=2).status_code == 401:
                return proc
        time.sleep(0.1)
    proc.kill()
    raise RuntimeError("server did not start")


@dataclass
class LoadResult:
    """What a load run saw.

    Attributes:
        acked: per annotator, ``{idempotency key: label id}`` of acknowledged labels.
        latencies: seconds per acknowledged label submission (the last, successful try).
        retries_checked: duplicate submissions that returned the original label.
        failures: requests that failed and were retried (server down).
        seconds: wall time of the run.
    """

    acked: dict[str, dict[str, int]] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    retries_checked: int = 0
    failures: int = 0
    seconds: float = 0.0

    @property
    def labels(self) -> int:
        """Acknowledged labels."""
        return sum(len(v) for v in self.acked.values())

    def summary(self) -> dict[str, float]:
        """labels, labels/s, p50 and p99 latency (ms)."""
        lat = np.asarray(self.latencies) * 1000
        return {"labels": self.labels, "labels_per_s": self.labels / self.seconds,
                "p50_ms": float(np.percentile(lat, 50)), "p99_ms": float(np.percentile(lat, 99)),
                "failures": self.failures, "retries_checked": self.retries_checked}  # fmt: skip


def _annotator(base: str, name: str, token: str, n: int, retry_every: int, result: LoadResult,
               lock: threading.Lock, deadline: float) -> None:  # fmt: skip
    import httpx

    headers = {"Authorization": f"Bearer {token}"}
    acked: dict[str, int] = {}

    def call(method: str, path: str, **kw) -> httpx.Response:
        sent = {**headers, **kw.pop("h", {})}
        while True:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{name}: no answer before the deadline")
            try:
                response = client.request(method, path, headers=sent, **kw)
                if response.status_code < 500:
                    return response
            except httpx.HTTPError:
                pass
            with lock:
                result.failures += 1
            time.sleep(0.05)

    with httpx.Client(base_url=base, timeout=10) as client:
        for i in range(n):
            item = call("GET", "/api/next").json()["item"]
            if item is None:
                break
            key = f"{name}-{i}-{uuid.uuid4().hex[:8]}"
            body = {"item_id": item["id"], "concept": ["animal", "city", "colour"][i % 3],
                    "confidence": 0.67, "note": f"from {name}"}  # fmt: skip
            start = time.perf_counter()
            response = call("POST", "/api/labels", json=body, h={"Idempotency-Key": key})
            took = time.perf_counter() - start
            if response.status_code not in (200, 201):
                raise RuntimeError(f"{name}: {response.status_code} {response.text}")
            acked[key] = response.json()["label"]["id"]
            with lock:
                result.latencies.append(took)
            if retry_every and i % retry_every == 0:
                again = call("POST", "/api/labels", json=body, h={"Idempotency-Key": key})
                if again.status_code != 200 or again.json()["label"]["id"] != acked[key]:
                    raise RuntimeError(f"{name}: a retry created a second label")
                with lock:
                    result.retries_checked += 1
    with lock:
        result.acked[name] = acked


def run_load(base: str, tokens: dict[str, str], per_annotator: int, *, retry_every: int = 10,
             timeout: float = 600, during: Callable[[LoadResult], None] | None = None) -> LoadResult:  # fmt: skip
    """Run one thread per annotator against a served campaign (see the module docstring).

    Args:
        base: the server's URL.
        tokens: annotator name -> token.
        per_annotator: labels each annotator submits (fewer when their items run out).
        retry_every: resend every n-th submission with the same key (0: never).
        timeout: give up after this many seconds.
        during: called in the calling thread while the load runs (e.g. to kill the server).
    """
    result, lock = LoadResult(), threading.Lock()
    deadline = time.monotonic() + timeout
    errors: list[BaseException] = []

    def target(name: str, token: str) -> None:
        try:
            _annotator(base, name, token, per_annotator, retry_every, result, lock, deadline)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=target, args=item) for item in tokens.items()]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    if during is not None:
        during(result)
    for thread in threads:
        thread.join()
    result.seconds = time.perf_counter() - start
    if errors:
        raise errors[0]
    return result


def _as_postgres(args: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


@contextlib.contextmanager
def throwaway_postgres(fsync: bool = False) -> Iterator[Callable[[], str]]:
    """A temporary PostgreSQL server on a Unix socket; yields a maker of fresh empty DB URLs.

    Each URL names a new schema (as the connection's search path) in one database.
    """
    import sqlalchemy as sa

    root = Path(tempfile.mkdtemp(prefix="vl-pg-"))
    data, sock = root / "data", root / "sock"
    sock.mkdir()
    if os.geteuid() == 0:
        for path in (root, sock):
            shutil.chown(path, "postgres")
        os.chmod(root, 0o755)

    def run(args: list[str]) -> None:
        subprocess.run(_as_postgres(args), check=True, capture_output=True)

    run([str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "--no-sync",
         "-E", "UTF8", "--locale=C"])  # fmt: skip
    sync = "on" if fsync else "off"
    opts = f"-k {sock} -c listen_addresses='' -c fsync={sync} -c max_connections=200"
    run(
        [
            str(PG_BIN / "pg_ctl"),
            "-D",
            str(data),
            "-o",
            opts,
            "-w",
            "-l",
            str(root / "log"),
            "start",
        ]
    )
    admin = sa.create_engine(f"postgresql+psycopg://postgres@/postgres?host={sock}",
                             isolation_level="AUTOCOMMIT")  # fmt: skip

    def new_database() -> str:
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
