"""Circuits by node ablation (ACDC-style, Conmy et al. 2023, at the level of nodes).

Nodes are attention heads and MLPs. Starting from the whole model, nodes are visited from the
last layer to the first (in a layer the MLP before the heads, as it runs after them); a node is
*removed* (mean-ablated from then on) when ablating it, on top of the nodes removed so far,
changes the task metric by less than ``threshold × |metric of the full model|``. What stays is
the circuit.

The coarse-to-fine pass (``coarse=True``) first visits whole attention blocks and MLPs, then the
heads of the attention blocks that stayed (a removed block stays ablated as a whole); for
SmolLM2 that is 60 + (9 × kept blocks) metric evaluations instead of 300.

Ablation values are per-position means over the task's own examples (``mean``) or zero.
The search runs on the examples the model gets right.

* *faithfulness*: the circuit's metric (everything outside it ablated) / the full model's;
* *removal cost*: ``1 − metric(circuit ablated, the rest intact) / metric(full)``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import torch

from vocablens.errors import InputError
from vocablens.intervene.edits import Edit, edited
from vocablens.intervene.forward import as_loaded, pad
from vocablens.intervene.interventions import record
from vocablens.intervene.nodes import Node
from vocablens.intervene.ops import Set, Zero
from vocablens.intervene.tasks import TaskSet

Tensor = torch.Tensor


@dataclass
class HeadReading:
    """A head's OV and QK circuits read over the task's tokens (:mod:`vocablens.project`).

    Attributes:
        ov_pairs: top ``(source token, output token, score)`` of the OV circuit.
        ov_promoted: the output tokens the head promotes most (column max over sources).
        qk_pairs: top ``(query token, key token, score)`` of the QK circuit.
    """

    ov_pairs: list[tuple[str, str, float]]
    ov_promoted: list[str]
    qk_pairs: list[tuple[str, str, float]]


@dataclass
class Circuit:
    """A task's circuit and what it keeps.

    Attributes:
        task: the task name; ``model`` the model's name.
        n_layers, n_heads: the model's shape (for drawing).
        nodes: the circuit's heads and MLPs.
        n_examples: examples searched (the ones the model gets right).
        threshold: the removal threshold, relative to the full metric.
        ablation: ``mean`` or ``zero``.
        metric_full, metric_circuit, metric_without: the mean metric of the full model, of the
            circuit alone, and of the model without the circuit.
        accuracy_full, accuracy_circuit, accuracy_without: the share of examples right.
        faithfulness: ``metric_circuit / metric_full``.
        removal_cost: ``1 - metric_without / metric_full``.
        n_evals: metric evaluations of the search; ``seconds`` its wall time.
        trajectory: ``(node spec, metric after ablating it, removed)`` in visiting order.
        readings: OV / QK readings of each head in the circuit, by node spec.
    """

    task: str
    model: str
    n_layers: int
    n_heads: int
    nodes: list[Node]
    n_examples: int
    threshold: float
    ablation: str
    metric_full: float
    metric_circuit: float
    metric_without: float
    accuracy_full: float
    accuracy_circuit: float
    accuracy_without: float
    n_evals: int
    seconds: float
    trajectory: list[tuple[str, float, bool]] = field(default_factory=list)
    readings: dict[str, HeadReading] = field(default_factory=dict)

    @property
    def heads(self) -> list[Node]:
        """The circuit's heads."""
        return [n for n in self.nodes if n.kind == "head"]

    @property
    def mlps(self) -> list[Node]:
        """The circuit's MLPs."""
        return [n for n in self.nodes if n.kind == "mlp"]

    @property
    def faithfulness(self) -> float:
        """The circuit's metric relative to the full model's."""
        return self.metric_circuit / self.metric_full

    @property
    def removal_cost(self) -> float:
        """The share of the metric lost when only the circuit is ablated."""
        return 1.0 - self.metric_without / self.metric_full

    def summary(self) -> str:
        """A few lines: size, faithfulness, removal cost, the nodes."""
        return "\n".join([
            f"{self.task} circuit of {self.model}: {len(self.heads)} heads + {len(self.mlps)} MLPs "
            f"({self.n_examples} examples, {self.ablation} ablation, threshold {self.threshold:g})",
            f"metric full {self.metric_full:.3f}, circuit alone {self.metric_circuit:.3f} "
            f"(faithfulness {self.faithfulness:.2f}), without it {self.metric_without:.3f} "
            f"(removal cost {self.removal_cost:.2f})",
            f"accuracy full {self.accuracy_full:.2f}, circuit {self.accuracy_circuit:.2f}, "
            f"without {self.accuracy_without:.2f}; {self.n_evals} evaluations in {self.seconds:.0f} s",
            "nodes: " + ",".join(n.spec for n in self.nodes),
        ])  # fmt: skip


class _Evaluator:
    """Runs the task with some nodes ablated; one forward pass per evaluation."""

    def __init__(self, lm, task: TaskSet, ablation: str, nodes: list[Node]):
        self.view = lm.view
        self.task = task
        self.input_ids, self.mask = pad(task.ids)
        self.keep = max(-r for r in task.read)
        self.values: dict[Node, Any] = {}
        if ablation == "mean":
            acts, _ = record(lm, nodes, task.ids)
            self.values = {node: Set(a.mean(dim=0), name="mean") for node, a in acts.items()}
        else:
            self.values = {node: Zero() for node in nodes}
        self.n_evals = 0

    @torch.inference_mode()
    def logits(self, ablated: list[Node]) -> Tensor:
        """``(n, len(read), vocab)`` float logits with ``ablated`` nodes ablated."""
        edits = [Edit(self.values[node], node, label=f"ablate {node}") for node in ablated]
        device = self.view.W_U.device
        self.n_evals += 1
        with edited(self.view, edits):
            out = self.view.model(input_ids=self.input_ids.to(device),
                                  attention_mask=self.mask.to(device), use_cache=False,
                                  logits_to_keep=self.keep).logits  # fmt: skip
        T = out.shape[1]
        return out[:, [T + r for r in self.task.read]].float().cpu()  # (n, read, vocab)

    def metric(self, ablated: list[Node]) -> float:
        """The mean metric with ``ablated`` ablated."""
        return float(self.task.metric(self.logits(ablated)).mean())

    def accuracy(self, ablated: list[Node]) -> float:
        """The share of examples right with ``ablated`` ablated."""
        return float(self.task.correct(self.logits(ablated)).float().mean())


def _visit(ev: _Evaluator, candidates, removed, current, bar, trajectory):
    """Try removing each candidate in turn; returns the new metric."""
    for node in candidates:
        trial = ev.metric([*removed, node])
        drop = abs(trial - current) < bar
        trajectory.append((node.spec, trial, drop))
        if drop:
            removed.append(node)
            current = trial
    return current


def find_circuit(
    model: Any,
    task: TaskSet,
    *,
    threshold: float = 0.05,
    ablation: str = "mean",
    coarse: bool = True,
    max_examples: int = 24,
    readings: bool = True,
) -> Circuit:
    """Find ``task``'s circuit by iterative node ablation (see the module docstring).

    Args:
        model: the model.
        task: from :func:`~vocablens.intervene.tasks.make_task`.
        threshold: remove a node when the metric moves by less than this share of the full one.
        ablation: ``mean`` (per position, over the task's examples) or ``zero``.
        coarse: blocks first, then the heads of the kept attention blocks.
        max_examples: search on at most this many of the examples the model gets right.
        readings: read each circuit head's OV / QK circuits over the task's tokens.

    Raises:
        InputError: the model gets no example right, the full metric is not positive, or a bad
            ablation kind.
    """
    lm = as_loaded(model)
    view = lm.view
    if ablation not in ("mean", "zero"):
        raise InputError(f"unknown ablation {ablation!r} for circuits; use mean or zero")
    L, H = view.n_layers, view.n_heads
    t0 = time.perf_counter()
    probe = _Evaluator(lm, task, "zero", [])
    right = task.correct(probe.logits([])).nonzero()[:, 0].tolist()
    if not right:
        raise InputError(f"the model gets no example of the {task.name} task right: no circuit")
    task = _subset(task, right[:max_examples])
    heads = [Node(layer, "head", h) for layer in range(L) for h in range(H)]
    blocks = [Node(layer, kind) for layer in range(L) for kind in ("mlp", "attn")]
    ev = _Evaluator(lm, task, ablation, heads + blocks)
    full = ev.metric([])
    if full <= 0:
        raise InputError(f"the {task.name} metric of the full model is {full:.3f}: nothing to keep")
    bar = threshold * abs(full)
    removed: list[Node] = []
    trajectory: list[tuple[str, float, bool]] = []
    order = lambda layer: [Node(layer, "mlp"), Node(layer, "attn")]  # noqa: E731
    if coarse:
        current = _visit(ev, [n for layer in reversed(range(L)) for n in order(layer)],
                         removed, full, bar, trajectory)  # fmt: skip
        kept_attn = [n.layer for n in blocks if n.kind == "attn" and n not in removed]
        per_head = [Node(layer, "head", h) for layer in reversed(kept_attn) for h in range(H)]
        current = _visit(ev, per_head, removed, current, bar, trajectory)
    else:
        visit = [n for layer in reversed(range(L))
                 for n in [Node(layer, "mlp"), *(Node(layer, "head", h) for h in range(H))]]  # fmt: skip
        current = _visit(ev, visit, removed, full, bar, trajectory)
    gone_layers = {n.layer for n in removed if n.kind == "attn"}
    nodes = [n for n in blocks if n.kind == "mlp" and n not in removed]
    nodes += [h for h in heads if h.layer not in gone_layers and h not in removed]
    nodes = sorted(nodes)
    outside = [h for h in heads if h not in nodes] + [
        m for m in blocks if m.kind == "mlp" and m not in nodes
    ]
    seconds = time.perf_counter() - t0
    circuit = Circuit(
        task=task.name, model=lm.name, n_layers=L, n_heads=H, nodes=nodes,
        n_examples=len(task.ids), threshold=threshold, ablation=ablation,
        metric_full=full, metric_circuit=ev.metric(outside), metric_without=ev.metric(nodes),
        accuracy_full=ev.accuracy([]), accuracy_circuit=ev.accuracy(outside),
        accuracy_without=ev.accuracy(nodes), n_evals=ev.n_evals, seconds=seconds,
        trajectory=trajectory,
    )  # fmt: skip
    if readings and circuit.heads:
        circuit.readings = head_readings(lm, circuit.heads, task.tokens)
    return circuit


def _subset(task: TaskSet, keep: list[int]) -> TaskSet:
    """``task`` on the examples ``keep``: the metric sees only their rows."""
    index = torch.tensor(keep)
    n = len(task.ids)

    def lift(fn):
        def on_subset(logits: Tensor) -> Tensor:
            full = torch.zeros((n, *logits.shape[1:]), dtype=logits.dtype)
            full[index] = logits
            return fn(full)[index]

        return on_subset

    return TaskSet(task.name, [task.prompts[i] for i in keep], [task.ids[i] for i in keep],
                   task.read, lift(task.metric), lift(task.correct),
                   [task.answers[i] for i in keep], task.tokens)  # fmt: skip


def _pairs(table, i: int, name) -> list[tuple[str, str, float]]:
    """Head ``i``'s top ``(row token, column token, score)`` pairs of a pair table."""
    rows, cols, scores = table.src_token_ids[i, 0], table.token_ids[i, 0], table.scores[i, 0]
    return [
        (name(int(s)), name(int(t)), float(v)) for s, t, v in zip(rows, cols, scores, strict=True)
    ]


def head_readings(
    lm, heads: list[Node], token_ids: list[int], k: int = 3
) -> dict[str, HeadReading]:
    """OV and QK readings of ``heads`` over ``token_ids`` (:class:`~vocablens.project.Projector`)."""
    from vocablens.project.projector import Projector
    from vocablens.tokens import token_strings

    projector = Projector(lm, k=min(k, len(token_ids)), tokens=token_ids, src_tokens=token_ids)

    def name(i: int) -> str:
        return token_strings(lm.tokenizer, [i])[0]

    out: dict[str, HeadReading] = {}
    for layer in sorted({h.layer for h in heads}):
        ov, promoted = projector.ov(layer)
        (qk,) = projector.qk(layer)
        for head in (h for h in heads if h.layer == layer):
            i = head.index
            out[head.spec] = HeadReading(
                ov_pairs=_pairs(ov, i, name),
                ov_promoted=[name(int(t)) for t in promoted.token_ids[i, 0]],
                qk_pairs=_pairs(qk, i, name),
            )
    return out
