"""Layer selections, as users write them: ``"0-5"``, ``"3"``, ``"0,2,4-6"``, ints or lists."""

from __future__ import annotations

import re
from collections.abc import Iterable

from vocablens.errors import InputError

LayerSpec = str | int | Iterable[int] | None

_ITEM = re.compile(r"^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$")


def parse_layers(spec: LayerSpec, n_layers: int | None = None) -> list[int] | None:
    """Parse a layer selection into sorted layer numbers (None: every layer).

    Args:
        spec: None or ``"all"`` (every layer), an int, a list of ints, or a string of
            comma-separated items ``N`` or inclusive ranges ``A-B`` (``"0-5,10,20-29"``).
        n_layers: how many layers there are; when given, layers must lie in ``0..n_layers-1``
            and negative ints count from the end (``-1`` is the last layer).

    Raises:
        InputError: bad syntax, an empty range (``5-2``), or a layer out of range.
    """
    if spec is None or (isinstance(spec, str) and spec.strip().lower() in ("", "all")):
        return None
    layers: set[int] = set()
    if isinstance(spec, str):
        for part in spec.split(","):
            match = _ITEM.match(part)
            if match is None:
                raise InputError(f"bad layer list {spec!r}: use items like 3 or 0-5, e.g. 0-5,10")
            lo = int(match.group(1))
            hi = int(match.group(2)) if match.group(2) is not None else lo
            if hi < lo:
                raise InputError(f"bad layer range {part.strip()!r}: {hi} comes before {lo}")
            layers.update(range(lo, hi + 1))
    else:
        items = [spec] if isinstance(spec, int) else list(spec)
        for item in items:
            negative_ok = n_layers is not None
            if (
                isinstance(item, bool)
                or not isinstance(item, int)
                or (item < 0 and not negative_ok)
            ):
                raise InputError(f"bad layer {item!r}: layers are numbers 0, 1, 2, ...")
            layers.add(int(item))
        if not layers:
            raise InputError("empty layer list")
    if n_layers is not None:
        wrong = sorted(layer for layer in layers if not -n_layers <= layer < n_layers)
        if wrong:
            raise InputError(
                f"layer {wrong[0]} out of range: the model has layers 0..{n_layers - 1}"
            )
        layers = {layer % n_layers for layer in layers}
    return sorted(layers)


def layer_list(spec: LayerSpec, n_layers: int) -> list[int]:
    """Like :func:`parse_layers` with a range check, and every layer for None."""
    return parse_layers(spec, n_layers) or list(range(n_layers))
