"""Running per-neuron state of a corpus run: top-n per sign and statistics, in bounded memory.

Per layer the state holds, whatever the corpus length:

* ``keys`` ``(2, d_mlp, n)`` int64: the top-n tokens per neuron for sign +1 (largest
  coefficients) and sign -1 (most negative), each packed into one sortable integer: the
  coefficient's float32 bits made order-preserving in the high 32 bits and ``2**32 - 1 - g`` in
  the low 32 bits, ``g`` the token's global position in the corpus stream. Keys are unique, so
  top-k is exact and ties go to the earlier token, whatever the chunking or the number of
  processes; the value and position are read back from the key.
* ``hi`` / ``lo`` ``(2, d_mlp)`` int64: the sums of the coefficients and of their squares as
  fixed-point numbers, ``hi`` in units of ``2**-20`` and ``lo`` in units of ``2**-60``
  (``0 <= lo < 2**40``): each chunk's float64 partial sum is split exactly into the two and
  rounded once at ``2**-60``, so adding chunks or processes is integer addition: exact and
  order-free.
* ``active`` ``(d_mlp,)``: tokens with a coefficient > 0; ``hist`` ``(d_mlp, n_bins)``: counts in
  fixed log-spaced bins (:data:`EDGES`) of every :data:`HIST_EVERY`-th token (by global
  position), from which quantiles are estimated.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

Tensor = torch.Tensor

EMPTY = torch.iinfo(torch.int64).min  # a key slot that holds no token yet
_LOW = (1 << 32) - 1
_HI_BITS, _LO_BITS = 20, 40  # hi counts 2**-20, lo counts 2**-60
MAX_POSITIONS = 1 << 32  # global positions must fit the key's low 32 bits

#: Bin edges of the histograms: ±10**(e/10) for e = -40..40 (10 bins per decade from 1e-4 to
#: 1e4 in magnitude), ascending; bin ``b`` holds values in ``[EDGES[b-1], EDGES[b])``, bin 0
#: everything below ``-1e4``, the last bin everything from ``1e4`` up, and the middle bin
#: ``(-1e-4, 1e-4)``.
_MAGNITUDES = 10.0 ** (np.arange(-40, 41) / 10.0)
EDGES = np.concatenate([-_MAGNITUDES[::-1], _MAGNITUDES])
N_BINS = len(EDGES) + 1
#: The histograms (hence the quantiles) sample the tokens whose global position is a multiple
#: of this: a fixed, exactly mergeable subsample that quarters their cost.
HIST_EVERY = 4


def ordered_bits(values: Tensor) -> Tensor:
    """Float32 values as int32 whose integer order is the float order (``-0.0`` taken as 0)."""
    bits = (values.float() + 0.0).view(torch.int32)
    return torch.where(bits < 0, bits ^ 0x7FFFFFFF, bits)


def pack(values: Tensor, positions: Tensor) -> Tensor:
    """Keys of ``values`` at global ``positions`` (broadcast to ``values``' shape), int64."""
    low = _LOW - positions.to(torch.int64)
    return (ordered_bits(values).to(torch.int64) << 32) | low


def unpack(keys: Tensor) -> tuple[Tensor, Tensor]:
    """The float32 values and global positions of ``keys`` (any shape)."""
    high = (keys >> 32).to(torch.int32)
    bits = torch.where(high < 0, high ^ 0x7FFFFFFF, high)
    return bits.view(torch.float32), _LOW - (keys & _LOW)


def top_keys(keys: Tensor, n: int) -> Tensor:
    """The ``n`` largest keys of each row, descending: ``(rows, min(n, columns))``."""
    return torch.topk(keys, min(n, keys.shape[-1]), dim=-1, sorted=True).values


def side_keys(xt: Tensor, positions: Tensor, n: int, sign: int) -> Tensor:
    """The top-``n`` keys of each neuron on one side: ``(d, min(n, T))`` from ``xt`` ``(d, T)``.

    A float top-(n+1) finds the candidates; where the n-th and (n+1)-th values tie (ReLU
    zeros, repeated tokens) that neuron's keys are built from all its tokens, so ties go to the
    earlier position exactly as a full sort would.
    """
    t = xt.shape[1]
    if t <= n:
        return pack(sign * xt, positions)  # (d, T): every token is a candidate
    vals, idx = torch.topk(xt, n + 1, dim=1, largest=sign > 0)  # (d, n + 1)
    keys = pack(sign * vals[:, :n], positions[idx[:, :n]])  # (d, n)
    tied = (vals[:, n - 1] == vals[:, n]).nonzero().flatten()
    if len(tied):
        keys[tied] = top_keys(pack(sign * xt[tied], positions), n)
    return keys


@dataclass
class LayerState:
    """One layer's running state (see the module docstring for the fields)."""

    keys: Tensor  # (2, d_mlp, n) int64: sign +1, sign -1
    hi: Tensor  # (2, d_mlp) int64: sum(x), sum(x**2) in units of 2**-20
    lo: Tensor  # (2, d_mlp) int64: the rest, in units of 2**-60
    active: Tensor  # (d_mlp,) int64
    hist: Tensor  # (d_mlp, N_BINS) int64
    count: int = 0

    @classmethod
    def empty(cls, d_mlp: int, n: int) -> LayerState:
        """A state before any token."""
        zeros = torch.zeros
        return cls(keys=torch.full((2, d_mlp, n), EMPTY, dtype=torch.int64),
                   hi=zeros(2, d_mlp, dtype=torch.int64), lo=zeros(2, d_mlp, dtype=torch.int64),
                   active=zeros(d_mlp, dtype=torch.int64),
                   hist=zeros(d_mlp, N_BINS, dtype=torch.int64))  # fmt: skip

    @property
    def n(self) -> int:
        """Contexts kept per neuron and sign."""
        return self.keys.shape[2]

    def add_sums(self, partial: Tensor) -> None:
        """Add float64 partial sums ``(2, d_mlp)`` as fixed-point integers."""
        scaled = partial.double() * float(1 << _HI_BITS)  # (2, d_mlp), exact
        whole = torch.floor(scaled)
        self.hi += whole.to(torch.int64)
        self.lo += torch.round((scaled - whole) * float(1 << _LO_BITS)).to(torch.int64)
        self.carry()

    def carry(self) -> None:
        """Move whole units of ``hi`` out of ``lo`` (``lo`` back in ``[0, 2**40)``)."""
        self.hi += self.lo >> _LO_BITS
        self.lo &= (1 << _LO_BITS) - 1

    def merge_keys(self, keys: Tensor) -> None:
        """Merge candidate keys ``(2, d_mlp, m)`` into the running top-n."""
        both = torch.cat([self.keys, keys.to(self.keys.device)], dim=2)  # (2, d_mlp, n + m)
        self.keys = top_keys(both, self.n)

    def update(self, x: Tensor, positions: Tensor, edges: Tensor) -> None:
        """Take one chunk's coefficients ``x`` ``(T, d_mlp)`` at global ``positions`` ``(T,)``."""
        xt = x.float().T.contiguous()  # (d_mlp, T): every reduction runs along contiguous rows
        positions = positions.to(xt.device)
        pos_keys = side_keys(xt, positions, self.n, 1)
        neg_keys = side_keys(xt, positions, self.n, -1)
        self.merge_keys(torch.stack([pos_keys, neg_keys]).cpu())  # (2, d_mlp, k)
        xd = xt.double()
        ones = torch.ones(xt.shape[1], dtype=torch.float64, device=xt.device)
        self.add_sums(torch.stack([xd @ ones, xd.mul_(xd) @ ones]).cpu())  # (2, d_mlp)
        self.active += ((xt > 0).float() @ ones.float()).round().to(torch.int64).cpu()
        sample = (positions % HIST_EVERY == 0).nonzero().flatten()
        d = xt.shape[0]
        bins = torch.bucketize(xt[:, sample].contiguous(), edges, right=True)  # (d, T'): bins
        bins += torch.arange(d, device=xt.device).unsqueeze(1) * N_BINS  # into (d * N_BINS)
        self.hist += torch.bincount(bins.reshape(-1), minlength=d * N_BINS).view(d, -1).cpu()
        self.count += xt.shape[1]

    def sums(self) -> np.ndarray:
        """``(2, d_mlp)`` float64: sum(x) and sum(x**2)."""
        hi, lo = self.hi.double().numpy(), self.lo.double().numpy()
        return hi / float(1 << _HI_BITS) + lo / float(1 << (_HI_BITS + _LO_BITS))

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
