"""The hook engine: an :class:`Edit` changes one activation during every forward pass.

An edit names a place (a :class:`~vocablens.intervene.nodes.Node`, or a residual site
``resid`` / ``resid_mid`` at a layer, as in :mod:`vocablens.model.hooks`) and an *op*, a function
from the activation there, ``(batch, pos, width)``, to its replacement of the same shape. Where
the activation lives (see :mod:`vocablens.model.sublayers`):

* neuron ``L.N``: column ``N`` of the down projection's input (``width`` 1);
* head ``L.hH``: head ``H``'s columns of the output projection's input (``width`` d_head);
* ``L.mlp`` / ``L.attn``: the sublayer's output, what it adds to the residual stream;
* ``resid`` at ``L``: the residual stream entering block ``L`` (``L = n_layers``: after the last
  block); ``resid_mid`` at ``L``: after block ``L``'s attention (the edit acts on the attention
  output, so that the changed state flows on through the residual stream).

:func:`edited` registers the hooks of several edits and always removes them (even on error).
Edits stack: hooks on one module run in registration order, each on its predecessor's output,
and nested ``with`` blocks compose the same way. ``positions`` restricts an edit to some
positions of each forward's input (negative ones count from the end; under generation with a
cache, each step's input is only the new token).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import torch

from vocablens.errors import InputError
from vocablens.intervene.nodes import Node, check_node
from vocablens.model.sublayers import as_batch_pos, first_tensor, sublayer, with_first
from vocablens.model.view import ModelView

Tensor = torch.Tensor
Op = Callable[[Tensor], Tensor]  # (batch, pos, width) -> (batch, pos, width)

RESID_SITES = ("resid", "resid_mid")


@dataclass(frozen=True)
class Edit:
    """One change to one activation.

    Attributes:
        op: ``(batch, pos, width) -> (batch, pos, width)``.
        node: the node edited, or None for a residual site.
        site: ``resid`` or ``resid_mid`` when ``node`` is None.
        layer: the site's layer when ``node`` is None.
        positions: only these positions (None: all).
        label: a short description (``"zero 3.17"``).
    """

    op: Op
    node: Node | None = None
    site: str | None = None
    layer: int = 0
    positions: tuple[int, ...] | None = None
    label: str = ""

    @property
    def where(self) -> str:
        """The edited place as text: a node spec or ``resid@L``."""
        return self.node.spec if self.node is not None else f"{self.site}@{self.layer}"


def check_edit(edit: Edit, view: ModelView) -> Edit:
    """``edit`` with its node or site checked against ``view`` (layers resolved).

    Raises:
        InputError: a node or site the model does not have.
    """
    if edit.node is not None:
        node = check_node(edit.node, view)
        if node.kind == "neuron":
            sublayer(view, node.layer, "down")  # raises on mixture-of-experts layers
        return Edit(edit.op, node, None, node.layer, edit.positions, edit.label)
    top = view.n_layers if edit.site == "resid" else view.n_layers - 1
    if edit.site not in RESID_SITES:
        raise InputError(f"unknown residual site {edit.site!r}; use resid or resid_mid")
    if not 0 <= edit.layer <= top:
        raise InputError(f"{edit.site} layer {edit.layer} out of range: use 0..{top}")
    return edit


def _masked(edit: Edit, x: Tensor) -> Tensor:
    """Apply ``edit.op`` to ``x`` ``(batch, pos, width)``, only at ``edit.positions``."""
    new = edit.op(x)
    if edit.positions is None:
        return new
    T = x.shape[1]
    keep = torch.zeros(T, dtype=torch.bool, device=x.device)
    for p in edit.positions:
        if -T <= p < T:
            keep[p] = True
    return torch.where(keep[None, :, None], new, x)  # (batch, pos, width)


def _hidden_arg(args: tuple, kwargs: dict) -> Tensor:
    return args[0] if args else kwargs["hidden_states"]


def _with_hidden(args: tuple, kwargs: dict, x: Tensor) -> tuple[tuple, dict]:
    if args:
        return (x, *args[1:]), kwargs
    return args, {**kwargs, "hidden_states": x}


class _BlockInputs:
    """Records each block's input (shape for OPT's flattening, value for ``resid_mid``)."""

    def __init__(self) -> None:
        self.inputs: dict[int, Tensor] = {}

    def hook(self, layer: int):
        def save(module, args, kwargs):
            self.inputs[layer] = _hidden_arg(args, kwargs)

        return save

    def shape(self, layer: int) -> tuple[int, ...] | None:
        x = self.inputs.get(layer)
        return None if x is None else tuple(x.shape)


def _column_hook(edit: Edit, cols: slice, blocks: _BlockInputs):
    layer = edit.layer

    def hook(module, args, kwargs):
        x = _hidden_arg(args, kwargs)
        x3 = as_batch_pos(x, blocks.shape(layer))  # (batch, pos, width)
        new = x3.clone()
        new[..., cols] = _masked(edit, x3[..., cols])
        return _with_hidden(args, kwargs, new.view(x.shape))

    return hook


def _output_hook(edit: Edit, blocks: _BlockInputs, mid: bool = False):
    layer = edit.layer

    def hook(module, args, output):
        out = first_tensor(output)
        out3 = as_batch_pos(out, blocks.shape(layer))  # (batch, pos, d_model)
        if mid:  # resid_mid = resid + attn_out: edit the sum, hand back the attention's part
            resid = blocks.inputs[layer]
            new = _masked(edit, resid + out3) - resid
        else:
            new = _masked(edit, out3)
        return with_first(output, new.view(out.shape))

    return hook


def _resid_input_hook(edit: Edit):
    def hook(module, args, kwargs):
        return _with_hidden(args, kwargs, _masked(edit, _hidden_arg(args, kwargs)))

    return hook


def _register(view: ModelView, edit: Edit, blocks: _BlockInputs, handles: list) -> None:
    layer, node = edit.layer, edit.node
    if node is not None and node.kind in ("neuron", "head"):
        part = "down" if node.kind == "neuron" else "o_proj"
        width = 1 if node.kind == "neuron" else view.d_head
        cols = slice(node.index * width, (node.index + 1) * width)
        module = sublayer(view, layer, part)
        handles.append(
            module.register_forward_pre_hook(_column_hook(edit, cols, blocks), with_kwargs=True)
        )
    elif node is not None:
        module = sublayer(view, layer, "mlp_out" if node.kind == "mlp" else "attn_out")
        handles.append(module.register_forward_hook(_output_hook(edit, blocks)))
    elif edit.site == "resid_mid":
        module = sublayer(view, layer, "attn_out")
        handles.append(module.register_forward_hook(_output_hook(edit, blocks, mid=True)))
    elif layer == 0:
        hook = _resid_input_hook(edit)
        handles.append(view.blocks[0].register_forward_pre_hook(hook, with_kwargs=True))
    else:  # resid L = the output of block L-1
        prev = layer - 1
        hook = _output_hook(Edit(edit.op, None, "resid", prev, edit.positions), blocks)
        handles.append(view.blocks[prev].register_forward_hook(hook))


@contextmanager
def edited(view: ModelView, edits: Sequence[Edit]) -> Iterator[list[Edit]]:
    """Apply ``edits`` to every forward pass inside the block; the hooks always go away after.

    Args:
        view: the model's view.
        edits: applied in order (several on one place chain: each sees the previous result).

    Yields:
        The edits as checked (layers resolved).

    Raises:
        InputError: an edit on a node or site the model does not have (before any hook).
    """
    checked = [check_edit(edit, view) for edit in edits]
    blocks = _BlockInputs()
    handles: list[Any] = []
    try:
        for edit in checked:
            _register(view, edit, blocks, handles)
        # After the edits' own pre-hooks: a resid edit at L is part of block L's recorded input.
        for layer in sorted({e.layer for e in checked if e.layer < view.n_layers}):
            hook = blocks.hook(layer)
            handles.append(view.blocks[layer].register_forward_pre_hook(hook, with_kwargs=True))
        yield checked
    finally:
        for handle in handles:
            handle.remove()
        blocks.inputs.clear()
