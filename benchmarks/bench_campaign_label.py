"""Server time per label, in-process: ``next_item`` + ``submit`` on an SQLite campaign.

Usage: python benchmarks/bench_campaign_label.py [--annotators 5] [--rounds 40]

Annotators take turns (no concurrency): each asks for the next item and labels it. Prints the
CPU time (``time.process_time``) and the wall time per label; the wall time includes the fsync
of the two commits per label (claim, label) that SQLite's ``synchronous=FULL`` makes.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "campaign"))

from campaign_data import write_projections

from vocablens.campaign.answers import Answer
from vocablens.campaign.store import CampaignStore


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--annotators", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=40)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="vl-bench-label-"))
    projections = write_projections(tmp / "p", layers=range(5), n=20, k=3)
    store = CampaignStore.create(str(tmp / "c.db"), projections, overlap=3)
    people = [store.authenticate(store.add_person(f"a{i}")[1]) for i in range(args.annotators)]
    n = 0
    cpu, wall = time.process_time(), time.perf_counter()
    for turn in range(args.rounds):
        for person in people:
            item = store.next_item(person)
            if item is not None:
                store.submit(person, item["id"], Answer(concept="animal"), f"{person.name}-{turn}")
                n += 1
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    store.close()
    print(f"{n} labels: {1000 * cpu / n:.1f} ms CPU, {1000 * wall / n:.1f} ms wall per label")


if __name__ == "__main__":
    main()
