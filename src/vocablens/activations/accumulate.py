"""Running per-neuron state of a corpus run: top-n per sign and statistics, in bounded memory.

Per layer the state holds, whatever the corpus length:

* ``keys`` ``(2, n, d_mlp)`` int64: the top-n tokens per neuron for sign +1 (largest
  coefficients) and sign -1 (most negative), each packed into one sortable integer: the
  coefficient's float32 bits made order-preserving in the high 32 bits and ``2**32 - 1 - g`` in
  the low 32 bits, ``g`` the token's global position in the corpus stream. Keys are unique, so
  top-k is exact and ties go to the earlier token, whatever the chunking or the number of
  processes; the value and position are read back from the key.
* ``hi`` / ``lo`` ``(2, d_mlp)`` int64: the sums of the coefficients and of their squares as
  fixed-point numbers (units of ``2**-20``; each chunk's float64 partial sums rounded once), so
  adding chunks or processes is integer addition: exact and order-free.
* ``active`` ``(d_mlp,)``: tokens with a coefficient > 0; ``hist`` ``(d_mlp, n_bins)``: counts in
  fixed log-spaced bins (:data:`EDGES`), from which quantiles are estimated.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

Tensor = torch.Tensor

EMPTY = torch.iinfo(torch.int64).min  # a key slot that holds no token yet
_LOW = (1 << 32) - 1
_SCALE_BITS = 20
_SCALE = float(1 << _SCALE_BITS)
MAX_POSITIONS = 1 << 32  # global positions must fit the key's low 32 bits

#: Bin edges of the histograms: ±10**(e/10) for e = -40..40 (10 bins per decade from 1e-4 to
#: 1e4 in magnitude), ascending; bin ``b`` holds values in ``[EDGES[b-1], EDGES[b])``, bin 0
#: everything below ``-1e4``, the last bin everything from ``1e4`` up, and the middle bin
#: ``(-1e-4, 1e-4)``.
_MAGNITUDES = 10.0 ** (np.arange(-40, 41) / 10.0)
EDGES = np.concatenate([-_MAGNITUDES[::-1], _MAGNITUDES])
N_BINS = len(EDGES) + 1


def ordered_bits(values: Tensor) -> Tensor:
    """Float32 values as int32 whose integer order is the float order (``-0.0`` taken as 0)."""
    bits = (values.float() + 0.0).view(torch.int32)
    return torch.where(bits < 0, bits ^ 0x7FFFFFFF, bits)


def pack(values: Tensor, positions: Tensor) -> Tensor:
    """Keys of ``values`` ``(T, d)`` at global ``positions`` ``(T,)``: ``(T, d)`` int64."""
    low = (_LOW - positions).to(torch.int64).unsqueeze(1)  # (T, 1)
    return (ordered_bits(values).to(torch.int64) << 32) | low  # (T, d)


def unpack(keys: Tensor) -> tuple[Tensor, Tensor]:
    """The float32 values and global positions of ``keys`` (any shape)."""
    high = (keys >> 32).to(torch.int32)
    bits = torch.where(high < 0, high ^ 0x7FFFFFFF, high)
    return bits.view(torch.float32), _LOW - (keys & _LOW)


def top_keys(keys: Tensor, n: int) -> Tensor:
    """The ``n`` largest keys per column, descending: ``(min(n, rows), d)``."""
    return torch.topk(keys, min(n, keys.shape[0]), dim=0, sorted=True).values


@dataclass
class LayerState:
    """One layer's running state (see the module docstring for the fields)."""

    keys: Tensor  # (2, n, d_mlp) int64: sign +1, sign -1
    hi: Tensor  # (2, d_mlp) int64: integer parts of sum(x), sum(x**2)
    lo: Tensor  # (2, d_mlp) int64: fractional parts, units of 2**-20
    active: Tensor  # (d_mlp,) int64
    hist: Tensor  # (d_mlp, N_BINS) int64
    count: int = 0

    @classmethod
    def empty(cls, d_mlp: int, n: int) -> LayerState:
        """A state before any token."""
        zeros = torch.zeros
        return cls(keys=torch.full((2, n, d_mlp), EMPTY, dtype=torch.int64),
                   hi=zeros(2, d_mlp, dtype=torch.int64), lo=zeros(2, d_mlp, dtype=torch.int64),
                   active=zeros(d_mlp, dtype=torch.int64),
                   hist=zeros(d_mlp, N_BINS, dtype=torch.int64))  # fmt: skip

    @property
    def n(self) -> int:
        """Contexts kept per neuron and sign."""
        return self.keys.shape[1]

    def add_sums(self, partial: Tensor) -> None:
        """Add float64 partial sums ``(2, d_mlp)`` as fixed-point integers."""
        fixed = torch.round(partial.double() * _SCALE).to(torch.int64)  # (2, d_mlp)
        self.hi += fixed >> _SCALE_BITS
        self.lo += fixed & ((1 << _SCALE_BITS) - 1)
        self.carry()

    def carry(self) -> None:
        """Move whole units from ``lo`` into ``hi`` (``lo`` back in ``[0, 2**20)``)."""
        self.hi += self.lo >> _SCALE_BITS
        self.lo &= (1 << _SCALE_BITS) - 1

    def merge_keys(self, keys: Tensor) -> None:
        """Merge candidate keys ``(2, m, d_mlp)`` into the running top-n."""
        both = torch.cat([self.keys, keys.to(self.keys.device)], dim=1)  # (2, n + m, d_mlp)
        self.keys = torch.stack([top_keys(both[0], self.n), top_keys(both[1], self.n)])

    def update(self, x: Tensor, positions: Tensor, edges: Tensor) -> None:
        """Take one chunk's coefficients ``x`` ``(T, d_mlp)`` at global ``positions`` ``(T,)``."""
        x = x.float()
        positions = positions.to(x.device)
        chunk = torch.stack([top_keys(pack(x, positions), self.n),
                             top_keys(pack(-x, positions), self.n)])  # fmt: skip  (2, k, d)
        self.merge_keys(chunk.cpu())
        xd = x.double()
        self.add_sums(torch.stack([xd.sum(0), (xd * xd).sum(0)]).cpu())  # (2, d_mlp)
        self.active += (x > 0).sum(0).cpu()
        d = x.shape[1]
        bins = torch.bucketize(x, edges, right=True)  # (T, d): 0..N_BINS-1
        flat = bins + torch.arange(d, device=x.device) * N_BINS  # (T, d) into (d * N_BINS)
        self.hist += torch.bincount(flat.reshape(-1), minlength=d * N_BINS).view(d, -1).cpu()
        self.count += x.shape[0]

    def sums(self) -> np.ndarray:
        """``(2, d_mlp)`` float64: sum(x) and sum(x**2)."""
        return self.hi.double().numpy() + self.lo.double().numpy() / _SCALE

    def to_arrays(self, prefix: str) -> dict[str, np.ndarray]:
        """The state as named numpy arrays (for a checkpoint)."""
        return {f"{prefix}keys": self.keys.numpy(), f"{prefix}hi": self.hi.numpy(),
                f"{prefix}lo": self.lo.numpy(), f"{prefix}active": self.active.numpy(),
                f"{prefix}hist": self.hist.numpy(),
                f"{prefix}count": np.array(self.count, dtype=np.int64)}  # fmt: skip

    @classmethod
    def from_arrays(cls, arrays, prefix: str) -> LayerState:
        """The state saved by :meth:`to_arrays`."""
        get = lambda name: torch.from_numpy(np.array(arrays[prefix + name]))  # noqa: E731
        return cls(keys=get("keys"), hi=get("hi"), lo=get("lo"), active=get("active"),
                   hist=get("hist"), count=int(arrays[prefix + "count"]))  # fmt: skip

    def absorb(self, other: LayerState) -> None:
        """Add another shard's state (exact: integer sums and a key merge)."""
        self.merge_keys(other.keys)
        self.hi += other.hi
        self.lo += other.lo
        self.carry()
        self.active += other.active
        self.hist += other.hist
        self.count += other.count
