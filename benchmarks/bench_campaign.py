"""Campaign load: N concurrent annotators x M labels through the real uvicorn server.

Usage: python benchmarks/bench_campaign.py [--annotators 20] [--labels 200] [--backend both]

Prints labels/s, p50 and p99 latency of a label submission (the acknowledged try), per backend
(SQLite file; a throw-away PostgreSQL 15 server with fsync on), and checks that every
acknowledged label is stored exactly once.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "campaign"))

from campaign_data import write_projections

from vocablens.campaign.loadtest import free_port, run_load, start_server, throwaway_postgres
from vocablens.campaign.store import CampaignStore
from vocablens.campaign.tables import labels_frame


def bench(db: str, projections: Path, annotators: int, labels: int) -> dict:
    store = CampaignStore.create(db, projections, overlap=annotators)
    tokens = {f"a{i:02d}": store.add_person(f"a{i:02d}")[1] for i in range(annotators)}
    store.close()
    port = free_port()
    server = start_server(db, port)
    try:
        result = run_load(f"http://127.0.0.1:{port}", tokens, labels, timeout=3600)
    finally:
        server.kill()
        server.wait()
    store = CampaignStore.open(db)
    stored = labels_frame(store)
    store.close()
    acked = {(a, k) for a, keys in result.acked.items() for k in keys}
    pairs = set(zip(stored["annotator"], stored["idempotency_key"], strict=True))
    assert len(stored) == len(pairs) == len(acked) and pairs == acked, "lost or duplicated labels"
    return result.summary()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--annotators", type=int, default=20)
    parser.add_argument("--labels", type=int, default=200)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp())
    n = max(1, -(-args.labels // 10))  # items: 5 layers x n vectors x 2 signs >= labels
    projections = write_projections(tmp / "p", layers=range(5), n=n, k=3)
    if args.backend in ("sqlite", "both"):
        print("sqlite", bench(str(tmp / "bench.db"), projections, args.annotators, args.labels))
    if args.backend in ("postgresql", "both"):
        with throwaway_postgres(fsync=True) as new_database:
            print("postgresql", bench(new_database(), projections, args.annotators, args.labels))


if __name__ == "__main__":
    main()
