"""Synthetic projection folders and annotation files for the campaign tests (no model)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from vocablens.project import files as projfile

WORDS = ["dog", "cat", "horse", "Paris", "Rome", "Berlin", "red", "blue", "green", "run", "walk",
         "jump", "<script>alert(1)</script>", 'say "hi"', "Monday", "Tuesday"]  # fmt: skip


def write_projections(folder: Path, layers=(0, 1), n: int = 6, k: int = 5, heads: int = 0,
                      readouts: tuple[str, ...] | None = None) -> Path:  # fmt: skip
    """A projection folder: ``n`` value vectors per layer, both signs, ``k`` tokens each."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    finished = {}
    for layer in layers:
        rows = []
        for kind, count in (("values", n), ("ov", heads)):
            for index in range(count):
                for readout in readouts or (None,):
                    for sign in (1, -1):
                        for rank in range(k):
                            tid = int(rng.integers(len(WORDS)))
                            src = int(rng.integers(len(WORDS))) if kind == "ov" else -1
                            row = {"kind": kind, "layer": layer, "expert": -1, "index": index,
                                   "sign": sign, "rank": rank, "token_id": tid,
                                   "token": WORDS[tid], "score": float(k - rank),
                                   "src_token_id": src, "src_token": WORDS[src] if src >= 0 else ""}  # fmt: skip
                            if readout is not None:
                                row["readout"] = readout
                            rows.append(row)
        frame = pd.DataFrame(rows)
        name = projfile.layer_file(layer)
        if readouts:
            projfile.write_table(frame, folder / name)
        else:  # a folder from before readouts (format 2): no readout column, read as raw
            import pyarrow as pa
            import pyarrow.parquet as pq

            schema = projfile.SCHEMA.remove(projfile.SCHEMA.get_field_index("readout"))
            pq.write_table(pa.Table.from_pandas(frame, schema=schema, preserve_index=False),
                           folder / name)  # fmt: skip
        finished[str(layer)] = name
    projfile.write_manifest(folder, {"format": projfile.FORMAT, "format_version": 2,
                                     "model": "synthetic", "options": {}, "layers": list(layers),
                                     "finished": finished, "complete": True})  # fmt: skip
    return folder


def write_annotations(path: Path, layers=(0, 1), n: int = 6) -> Path:
    """A minimal annotation table (the columns the campaign reads) with a label per +1 row."""
    rows = []
    for layer in layers:
        for index in range(n):
            for sign in (1, -1):
                rows.append({"kind": "values", "layer": layer, "expert": -1, "index": index,
                             "sign": sign, "label": ["animal", "city", "colour"][index % 3],
                             "label_kind": "wordnet", "confident": index % 2 == 0,
                             "polysemantic": False, "label_score": 0.1 * (index + 1)})  # fmt: skip
    pd.DataFrame(rows).to_parquet(path)
    return path
