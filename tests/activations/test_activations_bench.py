"""The activations benchmark's own code runs (a smoke test on a tiny model; speed is not checked)."""

from __future__ import annotations

import sys
from pathlib import Path

from act_helpers import model_dir

from vocablens import load_model

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import bench_activations


def test_speed_and_whole_run_on_a_tiny_model(tmp_path):
    lm = load_model(str(model_dir("llama", tmp_path / "model")))
    timing = bench_activations.speed(lm, tokens=300, chunk_tokens=128, top_n=3)
    assert timing["tokens"] > 0 and timing["checkpoints"] >= 1
    assert timing["ratio"] > 0 and timing["bare_s"] > 0
    whole = bench_activations.whole_run(lm, tokens=300, chunk_tokens=128, top_n=3, k=5)
    assert whole["bytes"] > 0 and whole["agreement"]
