"""Nodes of the model that interventions act on, and the one parser for their specs.

A node spec, as users write it (CLI and library alike):

* ``L.N``: FFN neuron ``N`` of layer ``L`` (its value-vector coefficient).
* ``L.hH``: attention head ``H`` of layer ``L`` (its slice of the output projection's input).
* ``L.mlp`` / ``L.attn``: the whole MLP / attention block of layer ``L`` (what it adds to the
  residual stream).

Several specs are comma-separated (``"3.17,5.h2,7.mlp"``); a boost spec adds a factor
(``"3.17=3"``). Every node is checked against the model: a layer, neuron or head that does not
exist is an :class:`~vocablens.errors.InputError` with a one-line message.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from vocablens.errors import InputError

if TYPE_CHECKING:
    from vocablens.model.view import ModelView

KINDS = ("neuron", "head", "mlp", "attn")

_NODE = re.compile(r"^(-?\d+)\.(?:(\d+)|h(\d+)|(mlp|attn))$")


@dataclass(frozen=True, order=True)
class Node:
    """One node: a neuron, a head, or a whole MLP / attention block.

    Attributes:
        layer: the block number.
        kind: ``neuron``, ``head``, ``mlp`` or ``attn``.
        index: the neuron or head number; -1 for a whole block.
    """

    layer: int
    kind: str
    index: int = -1

    @property
    def spec(self) -> str:
        """The node as written in a spec: ``3.17``, ``5.h2``, ``7.mlp``."""
        if self.kind == "neuron":
            return f"{self.layer}.{self.index}"
        if self.kind == "head":
            return f"{self.layer}.h{self.index}"
        return f"{self.layer}.{self.kind}"

    def __str__(self) -> str:
        return self.spec


def parse_node(text: str, view: ModelView | None = None) -> Node:
    """Parse one node spec (``3.17``, ``5.h2``, ``7.mlp``, ``2.attn``); check it when ``view`` is given.

    Raises:
        InputError: bad syntax, or a layer / neuron / head the model does not have.
    """
    match = _NODE.match(text.strip())
    if match is None:
        raise InputError(
            f"bad node {text.strip()!r}: use L.N (neuron), L.hH (head), L.mlp or L.attn, e.g. 3.17"
        )
    layer, neuron, head, block = match.groups()
    if neuron is not None:
        node = Node(int(layer), "neuron", int(neuron))
    elif head is not None:
        node = Node(int(layer), "head", int(head))
    else:
        node = Node(int(layer), block)
    return check_node(node, view) if view is not None else node


def check_node(node: Node, view: ModelView) -> Node:
    """``node`` with its layer resolved (negative counts from the end), checked against ``view``.

    Raises:
        InputError: the layer, neuron or head does not exist.
    """
    if node.kind not in KINDS:
        raise InputError(f"unknown node kind {node.kind!r}; use one of {', '.join(KINDS)}")
    if not -view.n_layers <= node.layer < view.n_layers:
        raise InputError(
            f"node {node.spec}: layer {node.layer} out of range, the model has layers "
            f"0..{view.n_layers - 1}"
        )
    layer = node.layer % view.n_layers
    if node.kind == "head" and not 0 <= node.index < view.n_heads:
        raise InputError(
            f"node {node.spec}: head {node.index} out of range, layer {layer} has heads "
            f"0..{view.n_heads - 1}"
        )
    if node.kind == "neuron":
        n = view.mlp(layer).d_mlp
        if not 0 <= node.index < n:
            raise InputError(
                f"node {node.spec}: neuron {node.index} out of range, layer {layer} has "
                f"neurons 0..{n - 1}"
            )
    return Node(layer, node.kind, node.index)


def parse_nodes(
    spec: str | Node | Sequence[str | Node], view: ModelView | None = None
) -> list[Node]:
    """Parse a comma-separated list of node specs (or a list of specs / nodes), in order.

    Raises:
        InputError: an empty list, bad syntax, or a node the model does not have.
    """
    items = (
        spec.split(",")
        if isinstance(spec, str)
        else [spec]
        if isinstance(spec, Node)
        else list(spec)
    )
    nodes: list[Node] = []
    for item in items:
        if isinstance(item, Node):
            nodes.append(check_node(item, view) if view is not None else item)
        elif item.strip():
            nodes.append(parse_node(item, view))
    if not nodes:
        raise InputError("empty node list: give nodes like 3.17,5.h2,7.mlp")
    return list(dict.fromkeys(nodes))


def parse_boosts(spec: str | list[str], view: ModelView | None = None) -> list[tuple[Node, float]]:
    """Parse ``L.N=F`` items (comma-separated or a list): each node with its scale factor.

    Raises:
        InputError: an item without ``=F``, a factor that is not a number, or a bad node.
    """
    items = spec.split(",") if isinstance(spec, str) else list(spec)
    out: list[tuple[Node, float]] = []
    for item in (i.strip() for i in items):
        if not item:
            continue
        node_text, eq, factor_text = item.partition("=")
        if not eq:
            raise InputError(f"bad boost {item!r}: use L.N=F, e.g. 3.17=3")
        try:
            factor = float(factor_text)
        except ValueError:
            raise InputError(
                f"bad boost {item!r}: the factor {factor_text!r} is not a number"
            ) from None
        out.append((parse_node(node_text, view), factor))
    if not out:
        raise InputError("empty boost list: give items like 3.17=3")
    return out
