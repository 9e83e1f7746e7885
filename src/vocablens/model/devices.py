"""Device and dtype names, checked once: ``cpu``, ``cuda``, ``cuda:N``, ``mps``, ``xpu``; dtypes.

A device that torch does not know, or one this machine lacks (``cuda`` without a CUDA GPU,
``cuda:7`` on a one-GPU machine, ``mps`` off Apple silicon), is an
:class:`~vocablens.errors.InputError` with a one-line message, never a traceback from deep inside
torch.
"""

from __future__ import annotations

import torch

from vocablens.errors import InputError

#: Device types vocablens computes on (others, like ``meta``, hold no numbers).
DEVICE_TYPES = ("cpu", "cuda", "mps", "xpu")

_HINT = "use cpu, cuda, cuda:N or mps"


def _count(kind: str) -> int:
    """How many devices of ``kind`` (cuda, mps, xpu) this machine offers to torch."""
    if kind == "mps":
        backend = getattr(torch.backends, "mps", None)
        return int(backend is not None and backend.is_available())
    module = getattr(torch, kind, None)
    if module is None or not module.is_available():
        return 0
    return int(module.device_count())


def resolve_device(spec: str | torch.device) -> torch.device:
    """The :class:`torch.device` named by ``spec``, checked against this machine.

    Raises:
        InputError: an unknown device string, or a device this machine does not have.
    """
    if isinstance(spec, torch.device):
        device = spec
    else:
        text = str(spec).strip()
        try:
            device = torch.device(text)
        except (RuntimeError, ValueError):
            raise InputError(f"unknown device {text!r}: {_HINT}") from None
    if device.type not in DEVICE_TYPES:
        raise InputError(f"device {str(device)!r} cannot compute: {_HINT}")
    if device.type == "cpu":
        return device
    count = _count(device.type)
    if count == 0:
        raise InputError(f"device {str(device)!r} is not available: this machine has no "
                         f"{device.type.upper()} device that torch can use")  # fmt: skip
    if device.index is not None and device.index >= count:
        raise InputError(f"device {str(device)!r} is not available: this machine has {count} "
                         f"{device.type.upper()} device{'s' if count > 1 else ''} "
                         f"({device.type}:0..{count - 1})")  # fmt: skip
    return device


#: The weights dtypes vocablens loads models in, by name.
DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


def resolve_dtype(name: str | torch.dtype | None) -> torch.dtype | None:
    """The :class:`torch.dtype` named ``name`` (one of :data:`DTYPES`; a dtype or None passes).

    Raises:
        InputError: an unknown name.
    """
    if name is None or isinstance(name, torch.dtype):
        return name
    if name not in DTYPES:
        raise InputError(f"unknown dtype {name!r}; choose from {', '.join(DTYPES)}")
    return DTYPES[name]
