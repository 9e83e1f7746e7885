"""Capture FFN neuron coefficients: the input of each block's down projection.

A neuron's coefficient is the number that multiplies its value vector (a row of ``W_out``): for a
plain MLP ``act(W_in x + b_in)``, for a gated one ``act(gate) * up``. Both are exactly what the
down projection (``down_proj``, ``c_proj``, ``fc2``, ...) receives, so one forward pre-hook on that
module per layer reads them for every family. Mixture-of-experts layers fuse their experts into
3-D parameters with no per-expert module to hook; they are refused with
:class:`~vocablens.errors.UnsupportedModelError`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

import torch

from vocablens.errors import UnsupportedModelError
from vocablens.model.sublayers import mlp_down_proj
from vocablens.model.view import ModelView

#: Called once per hooked layer and forward: ``(layer, coefficients)``, the coefficients
#: ``(batch, pos, d_mlp)`` (OPT flattens them to ``(batch * pos, d_mlp)``: reshape to the input).
CoefficientSink = Callable[[int, torch.Tensor], None]


def down_projection(view: ModelView, layer: int) -> torch.nn.Module:
    """The module of block ``layer`` whose input is the neuron coefficients.

    Raises:
        UnsupportedModelError: a mixture-of-experts layer (its experts are fused parameters).
    """
    layer = view.check_layer(layer)
    down = mlp_down_proj(view, layer)
    if down is None:
        raise UnsupportedModelError(
            f"neuron activations of mixture of experts layers ({view.family.name}, layer "
            f"{layer}) are not supported yet: their experts are fused parameters"
        )
    return down


def check_coefficients(view: ModelView) -> None:
    """Raise :class:`UnsupportedModelError` when this model's coefficients cannot be captured."""
    for layer in range(view.n_layers):
        down_projection(view, layer)


@contextmanager
def capture_coefficients(
    view: ModelView, layers: Sequence[int], sink: CoefficientSink
) -> Iterator[None]:
    """Hand every forward's neuron coefficients of ``layers`` to ``sink``, layer by layer.

    The sink runs inside the forward pass, so only one layer's coefficients exist at a time.
    The hooks are removed when the block ends, whatever happens inside it.

    Args:
        view: the model's architecture view.
        layers: block numbers to capture.
        sink: ``sink(layer, coefficients)`` with ``coefficients`` ``(batch, pos, d_mlp)`` (or
            ``(batch * pos, d_mlp)``: see :data:`CoefficientSink`).
    """
    modules = [(layer, down_projection(view, layer)) for layer in layers]
    handles = []

    def hook_for(layer: int):
        def hook(module, args):
            sink(layer, args[0])

        return hook

    try:
        for layer, module in modules:
            handles.append(module.register_forward_pre_hook(hook_for(layer)))
        yield
    finally:
        for handle in handles:
            handle.remove()
