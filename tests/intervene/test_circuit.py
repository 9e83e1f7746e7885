"""Node-level circuit search on a tiny model: limits, a brute-force greedy reference, bad input."""

from __future__ import annotations

import pytest
import torch

from vocablens import InputError, load_model
from vocablens.intervene.circuit import find_circuit
from vocablens.intervene.interventions import ablate
from vocablens.intervene.nodes import Node
from vocablens.intervene.overlap import compare_circuits
from vocablens.intervene.tasks import TaskSet

from tiny_models import tiny_model

IDS = [[3, 14, 15, 9, 26, 5], [8, 9, 7, 9, 3, 2], [5, 5, 6, 7, 1, 2], [9, 8, 7, 6, 5, 4]]


@pytest.fixture(scope="module")
def lm():
    return load_model(tiny_model("llama", seed=2)[0].double())


def _task(lm, good: int = 11, bad: int = 12) -> TaskSet:
    """Logit of token ``good`` minus ``bad`` at the last position; right when positive."""

    def metric(logits):
        return logits[:, -1, good] - logits[:, -1, bad]

    with torch.no_grad():
        base = lm.model(input_ids=torch.tensor(IDS)).logits[:, -1]
    sign = 1.0 if float((base[:, good] - base[:, bad]).mean()) > 0 else -1.0
    return TaskSet("toy", ["" for _ in IDS], IDS, (-1,), lambda x: sign * metric(x),
                   lambda x: sign * metric(x) > -1e9, ["" for _ in IDS], [good, bad])  # fmt: skip


def test_threshold_limits(lm):
    task = _task(lm)
    everything = find_circuit(lm, task, threshold=0.0, readings=False)
    assert len(everything.nodes) == 2 * 4 + 2 and everything.faithfulness == pytest.approx(1.0)
    nothing = find_circuit(lm, task, threshold=1e9, readings=False)
    assert nothing.nodes == [] and nothing.metric_without == pytest.approx(nothing.metric_full)


def test_greedy_search_against_brute_force(lm):
    task = _task(lm)
    got = find_circuit(lm, task, threshold=0.03, coarse=False, readings=False)

    def metric(nodes):
        if not nodes:
            with torch.no_grad():
                return float(task.metric(lm.model(input_ids=torch.tensor(IDS)).logits).mean())
        with ablate(lm, nodes, "mean", IDS, per_position=True), torch.no_grad():
            return float(task.metric(lm.model(input_ids=torch.tensor(IDS)).logits).mean())

    full = metric([])
    removed, current = [], full
    for layer in (1, 0):
        for node in [Node(layer, "mlp"), *(Node(layer, "head", h) for h in range(4))]:
            trial = metric([*removed, node])
            if abs(trial - current) < 0.03 * abs(full):
                removed.append(node)
                current = trial
    every = {Node(i, "mlp") for i in (0, 1)} | {
        Node(i, "head", h) for i in (0, 1) for h in range(4)
    }
    kept = sorted(every - set(removed))
    assert 0 < len(kept) < len(every)  # the threshold keeps some nodes and drops others
    assert got.nodes == kept
    assert got.metric_circuit == pytest.approx(metric(removed), abs=1e-6)
    assert got.metric_full == pytest.approx(full, abs=1e-6)


def test_overlap_and_readings(lm):
    from vocablens.intervene.circuit import head_readings

    a = find_circuit(lm, _task(lm, 11, 12), threshold=0.05, readings=False)
    b = find_circuit(lm, _task(lm, 20, 30), threshold=0.05, readings=False)
    over = compare_circuits(a, b)
    A, B = {h.spec for h in a.heads}, {h.spec for h in b.heads}
    if A | B:
        assert over.jaccard == pytest.approx(len(A & B) / len(A | B))
    assert over.per_layer.sum() == len(A | B)
    reading = head_readings(lm, [Node(1, "head", 2)], [11, 12, 20])["1.h2"]
    assert len(reading.ov_pairs) == 3 and len(reading.qk_pairs) == 3


def test_no_example_right(lm):
    task = _task(lm)
    task.correct = lambda x: torch.zeros(x.shape[0], dtype=torch.bool)
    with pytest.raises(InputError, match="no example of the toy task right"):
        find_circuit(lm, task)
