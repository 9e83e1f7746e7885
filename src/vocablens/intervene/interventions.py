"""Interventions as re-usable context managers: ablate, scale, replace nodes; steer the residual.

>>> with ablate(lm, "3.17,5.h2", kind="mean", reference=prompts):     # doctest: +SKIP
...     result = Lens(lm)(["The capital of France is"])

Ablation kinds:

* ``zero``: the activation becomes 0.
* ``mean``: its mean over the ``reference`` prompts, over all their tokens (``(width,)``), or
  per position with ``per_position=True`` (every reference prompt and input the same length).
* ``resample``: row ``b`` of each forward takes the activation of reference prompt
  ``order[b % R]`` at the same position (``order`` a seeded permutation of the ``R`` reference
  prompts, the same for every node: one other prompt per row); reference prompts and inputs must
  have the same length.

An :class:`Intervention` can be entered many times, nested in another, or added to one
(``a + b``: both edits, in order). Its hooks are removed on leaving, error or not.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import ExitStack
from typing import Any

import torch

from vocablens.errors import InputError
from vocablens.intervene.edits import Edit, edited
from vocablens.intervene.forward import Prompt, as_loaded, pad, token_ids
from vocablens.intervene.nodes import Node, parse_boosts, parse_nodes
from vocablens.intervene.ops import Add, Record, Scale, Set, Zero
from vocablens.model.view import ModelView

Tensor = torch.Tensor
ABLATIONS = ("zero", "mean", "resample")
NodeSpec = str | Node | Sequence[str | Node]


class Intervention:
    """A list of edits on one model, used as a context manager (re-entrant, composable).

    Args:
        view: the model's view.
        edits: the edits, applied in order.
    """

    def __init__(self, view: ModelView, edits: Sequence[Edit]):
        self.view = view
        self.edits = list(edits)
        self._stacks: list[ExitStack] = []

    @property
    def labels(self) -> list[str]:
        """One line per edit: ``"zero 3.17"``."""
        return [edit.label for edit in self.edits]

    def __add__(self, other: Intervention) -> Intervention:
        if other.view.model is not self.view.model:
            raise InputError("cannot combine interventions on two different models")
        return Intervention(self.view, [*self.edits, *other.edits])

    def __enter__(self) -> Intervention:
        stack = ExitStack()
        stack.enter_context(edited(self.view, self.edits))
        self._stacks.append(stack)
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stacks.pop().close()

    def __repr__(self) -> str:
        return f"Intervention({'; '.join(self.labels)})"


def _nodes(view: ModelView, nodes: NodeSpec) -> list[Node]:
    return parse_nodes(nodes, view)


def record(
    model: Any, nodes: NodeSpec, prompts: Sequence[Prompt], *, bos: bool = False
) -> tuple[dict[Node, Tensor], Tensor]:
    """Each node's activation on ``prompts`` (right-padded, one forward pass).

    Returns:
        ``({node: (n_prompts, pos, width)}, mask)`` with ``mask`` ``(n_prompts, pos)`` bool,
        true on real tokens.
    """
    lm = as_loaded(model)
    view = lm.view
    checked = _nodes(view, nodes)
    ids = token_ids(lm, prompts, bos=bos)
    recorders = {node: Record() for node in checked}
    edits = [Edit(rec, node, label=f"record {node}") for node, rec in recorders.items()]
    input_ids, mask = pad(ids)
    device = view.W_U.device
    with torch.inference_mode(), edited(view, edits):
        view.model(input_ids=input_ids.to(device), attention_mask=mask.to(device),
                   use_cache=False)  # fmt: skip
    return {node: rec.seen[0] for node, rec in recorders.items()}, mask.bool()


class _Resample:
    """Row ``b`` takes reference row ``order[b % R]`` (``values``: ``(R, pos, width)``)."""

    name = "resample"

    def __init__(self, values: Tensor, order: Tensor):
        self.values, self.order = values, order

    def __call__(self, x: Tensor) -> Tensor:
        rows = self.order[torch.arange(x.shape[0]) % len(self.order)]
        return Set(self.values[rows])(x)  # (batch, pos, width)


def ablation_ops(
    model: Any,
    nodes: NodeSpec,
    kind: str = "zero",
    reference: Sequence[Prompt] | None = None,
    *,
    per_position: bool = False,
    seed: int = 0,
) -> dict[Node, Any]:
    """The op that ablates each node (see the module docstring for the kinds).

    Raises:
        InputError: an unknown kind, a missing or ragged reference set, a bad node.
    """
    lm = as_loaded(model)
    checked = _nodes(lm.view, nodes)
    if kind not in ABLATIONS:
        raise InputError(f"unknown ablation {kind!r}; use one of {', '.join(ABLATIONS)}")
    if kind == "zero":
        return {node: Zero() for node in checked}
    if not reference:
        raise InputError(f"{kind} ablation needs a reference set of prompts")
    acts, mask = record(lm, checked, reference)
    same_length = bool(mask.all())
    if (kind == "resample" or per_position) and not same_length:
        raise InputError(
            f"{kind} ablation{' per position' if per_position else ''} needs reference prompts "
            "of one token length"
        )
    if kind == "resample":
        order = torch.randperm(len(mask), generator=torch.Generator().manual_seed(seed))
        return {node: _Resample(a, order) for node, a in acts.items()}
    ops: dict[Node, Any] = {}
    weights = mask[..., None].to(torch.float64)  # (R, pos, 1)
    for node, a in acts.items():
        if per_position:
            value = a.double().mean(dim=0)  # (pos, width)
        else:
            value = (a.double() * weights).sum(dim=(0, 1)) / weights.sum()  # (width,)
        ops[node] = Set(value.to(a.dtype), name="mean")
    return ops


def ablate(
    model: Any,
    nodes: NodeSpec,
    kind: str = "zero",
    reference: Sequence[Prompt] | None = None,
    *,
    per_position: bool = False,
    seed: int = 0,
    positions: Sequence[int] | None = None,
) -> Intervention:
    """Ablate ``nodes`` (zero, mean over ``reference``, or resample from ``reference``).

    Args:
        model: a LoadedModel (or anything :func:`~vocablens.load_model` accepts).
        nodes: node specs (``"3.17,5.h2,7.mlp"``) or :class:`Node` objects.
        kind: ``zero``, ``mean`` or ``resample``.
        reference: the reference prompts for ``mean`` and ``resample``.
        per_position: ``mean`` per position instead of over all tokens.
        seed: the resampling order.
        positions: only at these positions (None: all).

    Raises:
        InputError: a node the model does not have, a bad kind or reference set.
    """
    view = as_loaded(model).view
    ops = ablation_ops(model, nodes, kind, reference, per_position=per_position, seed=seed)
    at = None if positions is None else tuple(positions)
    return Intervention(
        view,
        [Edit(op, node, positions=at, label=f"{kind}-ablate {node}") for node, op in ops.items()],
    )


def scale(
    model: Any, nodes: NodeSpec, factor: float = 0.0, *, positions: Sequence[int] | None = None
) -> Intervention:
    """Multiply each node's activation by ``factor`` (0 zeroes it, 3 boosts it)."""
    view = as_loaded(model).view
    at = None if positions is None else tuple(positions)
    return Intervention(view, [Edit(Scale(factor), node, positions=at,
                                    label=f"scale {node} x{factor:g}")
                               for node in _nodes(view, nodes)])  # fmt: skip


def boost(model: Any, spec: str | list[str]) -> Intervention:
    """Scale nodes by their own factors, from ``L.N=F`` items (``"3.17=3,5.h2=0.5"``)."""
    view = as_loaded(model).view
    edits = [
        Edit(Scale(f), node, label=f"scale {node} x{f:g}") for node, f in parse_boosts(spec, view)
    ]
    return Intervention(view, edits)


def replace(
    model: Any, node: str | Node, value: Tensor, *, positions: Sequence[int] | None = None
) -> Intervention:
    """Set one node's activation to ``value`` (``(width,)``, ``(pos, width)``, ``(batch, pos, width)``)."""
    view = as_loaded(model).view
    (checked,) = _nodes(view, [node])
    at = None if positions is None else tuple(positions)
    return Intervention(view, [Edit(Set(value), checked, positions=at, label=f"replace {checked}")])


def steer(
    model: Any,
    vector: Tensor,
    layer: int,
    site: str = "resid",
    *,
    coef: float = 1.0,
    positions: Sequence[int] | None = None,
) -> Intervention:
    """Add ``coef * vector`` (``(d_model,)``, or per position / row) to the residual at a site.

    Args:
        model: the model.
        vector: what to add.
        layer: the site's layer (``resid``: 0..n_layers, ``resid_mid``: 0..n_layers-1).
        site: ``resid`` or ``resid_mid``.
        coef: a multiplier.
        positions: only at these positions (None: all).
    """
    view = as_loaded(model).view
    if vector.shape[-1] != view.d_model:
        raise InputError(
            f"a steering vector needs {view.d_model} dimensions, got {vector.shape[-1]}"
        )
    at = None if positions is None else tuple(positions)
    return Intervention(view, [Edit(Add(vector * coef), None, site, layer, at,
                                    label=f"add vector to {site}@{layer}")])  # fmt: skip
