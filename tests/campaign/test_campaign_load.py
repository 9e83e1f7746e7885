"""20 annotators at once through the real uvicorn server, on SQLite and PostgreSQL; SIGKILL.

Every acknowledged label must be stored exactly once: none lost, none duplicated (retries with
the same idempotency key return the first label). Then the server is killed with SIGKILL in the
middle of the load and restarted: every acknowledged label is there and the campaign goes on.
"""

from __future__ import annotations

import signal
import time

import pytest
from campaign_data import write_projections

from vocablens.campaign.loadtest import free_port, run_load, start_server
from vocablens.campaign.store import CampaignStore
from vocablens.campaign.tables import labels_frame

ANNOTATORS = 8  # 2 shared cores; the benchmark runs 20 x 200 (benchmarks/bench_campaign.py)
PER_ANNOTATOR = 10


def make_campaign(db, projections):
    store = CampaignStore.create(db, projections, overlap=ANNOTATORS)
    tokens = {f"a{i:02d}": store.add_person(f"a{i:02d}")[1] for i in range(ANNOTATORS)}
    store.close()
    return tokens


def check_stored_once(db, acked):
    """Every acknowledged label is stored once; returns the stored labels."""
    store = CampaignStore.open(db)
    labels = labels_frame(store)
    store.close()
    keys = labels.groupby(["annotator", "idempotency_key"]).size()
    assert (keys == 1).all(), "a label was stored twice"
    stored = {(a, k): i for a, k, i in zip(labels["annotator"], labels["idempotency_key"],
                                            labels["label_id"], strict=True)}  # fmt: skip
    for (name, key), label_id in acked.items():
        assert stored.get((name, key)) == label_id, "an acknowledged label is missing"
    return labels


def acked_of(result):
    return {(name, key): i for name, keys in result.acked.items() for key, i in keys.items()}


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def served(request, tmp_path_factory):
    """One campaign and one server per backend for the module: the tests run one after another.

    Yields ``(db, url, tokens, servers, acked)``; ``servers`` holds the live server last, and
    ``acked`` every label acknowledged so far (the second test goes on where the first stopped).
    """
    if request.param == "sqlite":
        db = str(tmp_path_factory.mktemp("load") / "load.db")
    else:
        db = request.getfixturevalue("postgres")()
    projections = write_projections(tmp_path_factory.mktemp("big") / "p", layers=range(2), n=10,
                                    k=3)  # fmt: skip
    tokens = make_campaign(db, projections)
    port = free_port()
    servers = [start_server(db, port)]
    try:
        yield db, f"http://127.0.0.1:{port}", tokens, servers, {}
    finally:
        for server in servers:
            server.kill()
            server.wait()


def test_concurrent_annotators(served):
    db, url, tokens, _, acked = served
    result = run_load(url, tokens, PER_ANNOTATOR, timeout=120)
    assert result.labels == ANNOTATORS * PER_ANNOTATOR and result.retries_checked > 0
    acked.update(acked_of(result))
    labels = check_stored_once(db, acked)
    assert len(labels) == len(acked)  # nothing that was not acknowledged
    assert labels.groupby("annotator")["item_id"].nunique().eq(PER_ANNOTATOR).all()
    print(db.split("?")[0].split("/")[-1], result.summary())


def test_sigkill_mid_load_loses_nothing(served):
    db, url, tokens, servers, acked = served
    port = int(url.rsplit(":", 1)[1])

    def kill_and_restart(result):
        while len(result.latencies) < ANNOTATORS // 2:  # acknowledged so far
            time.sleep(0.01)
        servers[-1].send_signal(signal.SIGKILL)
        servers[-1].wait()
        servers.append(start_server(db, port))

    before = len(servers)
    result = run_load(url, tokens, PER_ANNOTATOR // 2, timeout=120, during=kill_and_restart)
    assert len(servers) == before + 1 and result.failures > 0  # the kill happened mid-load
    assert result.labels == ANNOTATORS * PER_ANNOTATOR // 2  # everyone carried on to the end
    acked.update(acked_of(result))
    labels = check_stored_once(db, acked)
    assert len(labels) == len(acked)
