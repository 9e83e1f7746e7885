"""Capture FFN neuron coefficients: the input of each block's down projection.

A neuron's coefficient is the number that multiplies its value vector (a row of ``W_out``): for a
plain MLP ``act(W_in x + b_in)``, for a gated one ``act(gate) * up``. Both are exactly what the
down projection (``down_proj``, ``c_proj``, ``fc2``, ...) receives, so one forward pre-hook on that
module per layer reads them for every family.

Mixture-of-experts layers fuse their experts into 3-D parameters with no per-expert module to
hook. For them a pre-hook on the experts module reads what it was called with (the states, the
top-k experts and their routing weights), and a routing sink recomputes the coefficients of the
experts it needs (:func:`vocablens.model.components.routed_coefficients`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

import torch

from vocablens.errors import UnsupportedModelError
from vocablens.model import components
from vocablens.model.sublayers import mlp_down_proj
from vocablens.model.view import ModelView

#: Called once per hooked layer and forward: ``(layer, coefficients)``, the coefficients
#: ``(batch, pos, d_mlp)`` (OPT flattens them to ``(batch * pos, d_mlp)``: reshape to the input).
CoefficientSink = Callable[[int, torch.Tensor], None]

#: Called once per hooked mixture-of-experts layer and forward: ``(layer, hidden, experts,
#: weights)``, what the experts module received: ``hidden`` ``(batch * pos, d_model)``,
#: ``experts`` and ``weights`` ``(batch * pos, top_k)``.
RoutingSink = Callable[[int, torch.Tensor, torch.Tensor, torch.Tensor], None]


def down_projection(view: ModelView, layer: int) -> torch.nn.Module:
    """The module of block ``layer``'s dense MLP whose input is the neuron coefficients.

    Raises:
        UnsupportedModelError: a mixture-of-experts layer (its experts are fused parameters).
    """
    layer = view.check_layer(layer)
    down = mlp_down_proj(view, layer)
    if down is None:
        raise UnsupportedModelError(
            f"neuron activations of mixture of experts layers ({view.family.name}, layer "
            f"{layer}) need a routing sink: their experts are fused parameters"
        )
    return down


@contextmanager
def capture_coefficients(
    view: ModelView,
    layers: Sequence[int],
    sink: CoefficientSink,
    routing: RoutingSink | None = None,
) -> Iterator[None]:
    """Hand every forward's neuron coefficients of ``layers`` to ``sink``, layer by layer.

    The sinks run inside the forward pass, so only one layer's coefficients exist at a time.
    The hooks are removed when the block ends, whatever happens inside it.

    Args:
        view: the model's architecture view.
        layers: block numbers to capture.
        sink: ``sink(layer, coefficients)`` for dense layers, with ``coefficients``
            ``(batch, pos, d_mlp)`` (or ``(batch * pos, d_mlp)``: see :data:`CoefficientSink`).
        routing: ``routing(layer, hidden, experts, weights)`` for mixture-of-experts layers
            (:data:`RoutingSink`).

    Raises:
        UnsupportedModelError: a mixture-of-experts layer among ``layers`` and no ``routing``.
    """
    handles = []

    def dense_hook(layer: int):
        def hook(module, args):
            sink(layer, args[0])

        return hook

    def routing_hook(layer: int):
        def hook(module, args, kwargs):
            assert routing is not None
            routing(layer, *components.routing_inputs(args, kwargs))

        return hook

    hooks = []
    for layer in layers:
        if view.mlp(layer).moe and routing is not None:
            hooks.append((components.experts_module(view, layer), routing_hook(layer), True))
        else:
            hooks.append((down_projection(view, layer), dense_hook(layer), False))
    try:
        for module, hook, kwargs in hooks:
            handles.append(module.register_forward_pre_hook(hook, with_kwargs=kwargs))
        yield
    finally:
        for handle in handles:
            handle.remove()
