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

An update never sorts a chunk: a token can enter a neuron's top-n only at or beyond its
threshold (the current n-th value, or the n-th largest of the chunk's block maxima), so only the
few blocks of :data:`BLOCK` tokens that reach it are read token by token and packed; the bins
come from a table indexed by the top 16 bits of the float. Results are the same as a full sort.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from vocablens.buffers import Scratch

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
    return _ordered(bits)


def _ordered(bits: Tensor) -> Tensor:
    """Float32 bits (int32) made order-preserving: negatives get their 31 low bits flipped."""
    return ((bits >> 31) & 0x7FFFFFFF) ^ bits


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


def thresholds(keys: Tensor) -> Tensor:
    """The value of each row's n-th key, ``-inf`` where the row holds fewer than n tokens."""
    values, _ = unpack(keys[..., -1])
    return torch.where(keys[..., -1] == EMPTY, float("-inf"), values)


#: A side whose candidates exceed this fraction of the chunk's tokens × neurons takes the
#: dense top-(n+1) instead (the first chunks, when the running top-n is not yet selective).
DENSE_FRACTION = 0.5


#: Tokens per block whose maximum :meth:`LayerState.update_top` reads first.
BLOCK = 8


def block_extremes(x: Tensor) -> Tensor:
    """``(2, ceil(T / BLOCK), d)``: per block of :data:`BLOCK` tokens the max of ``x`` and of -x."""
    t, d = x.shape
    whole = t // BLOCK * BLOCK
    rows = x[:whole].view(-1, BLOCK, d)  # (blocks, BLOCK, d)
    high, low = rows.amax(1), rows.amin(1)  # (blocks, d)
    if whole < t:
        high = torch.cat([high, x[whole:].amax(0, keepdim=True)])
        low = torch.cat([low, x[whole:].amin(0, keepdim=True)])
    return torch.stack([high, -low])


def group_keys(neurons: Tensor, keys: Tensor, d: int) -> tuple[Tensor, Tensor]:
    """Keys ``(K,)`` of ``neurons`` ``(K,)`` as rows: ``(neurons hit, (hit, most per neuron))``.

    Slots a neuron does not fill hold :data:`EMPTY`.
    """
    counts = torch.bincount(neurons, minlength=d)  # (d,)
    order = torch.argsort(neurons, stable=True)
    neurons, keys = neurons[order], keys[order]  # neuron-major
    starts = torch.cumsum(counts, 0) - counts  # (d,): each neuron's first slot in ``order``
    rank = torch.arange(len(keys), device=keys.device) - starts[neurons]
    dense = torch.full((d, int(counts.max())), EMPTY, dtype=torch.int64, device=keys.device)
    dense[neurons, rank] = keys  # (d, most)
    hit = counts.nonzero().flatten()
    return hit, dense[hit]


def _bin_tables(edges: Tensor) -> tuple[Tensor, Tensor] | None:
    """Look-up tables that bin a float by the top 16 bits of its :func:`ordered_bits`.

    Cell ``c`` holds the ordered integers ``[(c - 2**15) << 16, (c - 2**15 + 1) << 16)``; at
    most one edge falls in a cell (10 bins per decade are far wider than a cell's 2**-7
    relative width), so ``bin = base[c] + (o >= split[c])``: ``split`` the cell's edge, or the
    cell's first integer (with ``base`` one less) where it holds none. None if some cell holds
    two edges (other edges than :data:`EDGES`: :func:`torch.bucketize` is used).
    """
    ordered = ordered_bits(edges).to(torch.int64).cpu()  # (E,) ascending
    low = (torch.arange(1 << 16, dtype=torch.int64) - (1 << 15)) << 16  # (cells,) first ints
    base = torch.searchsorted(ordered, low)  # edges below each cell
    inside = torch.searchsorted(ordered, low + (1 << 16)) - base  # edges in each cell
    if int(inside.max()) > 1:
        return None
    edge = ordered[torch.clamp(base, max=len(ordered) - 1)]
    split = torch.where(inside == 1, edge, low)
    base = torch.where(inside == 1, base, base - 1)
    return base.to(torch.int32).to(edges.device), split.to(torch.int32).to(edges.device)


_SCRATCH = Scratch()  # work tensors of one layer's update, reused by every layer and chunk
_TABLES: dict[int, tuple[Tensor, tuple[Tensor, Tensor] | None]] = {}


def bin_indices(x: Tensor, edges: Tensor) -> Tensor:
    """``torch.bucketize(x, edges, right=True)`` (float32 ``edges``), by table look-up."""
    cached = _TABLES.get(id(edges))
    if cached is None or cached[0] is not edges:
        cached = _TABLES[id(edges)] = (edges, _bin_tables(edges))
    tables = cached[1]
    if tables is None:
        return torch.bucketize(x, edges, right=True).to(torch.int32)
    base, split = tables
    ordered = _ordered(x.view(torch.int32))  # -0.0 and 0.0 share a bin: no edge between them
    cell = ((ordered >> 16) + (1 << 15)).view(-1)  # (x.numel(),) table rows
    bins = base.index_select(0, cell)
    bins += ordered.view(-1) >= split.index_select(0, cell)
    return bins.view(x.shape)


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
        """Take one chunk's coefficients ``x`` ``(T, d_mlp)`` at global ``positions`` ``(T,)``.

        ``x`` may be any subset of a chunk's tokens (positions need not be contiguous);
        ``edges`` are the float32 histogram edges (:data:`EDGES`) on ``x``'s device.
        """
        # On torch's threads, as the forward pass: on a quiet 2-core machine two threads beat one
        # (1.26x against 1.39x the bare forward, benchmarks/README.md); on a crowded one a second
        # thread mostly waits, and torch.set_num_threads(1) is the caller's choice.
        self._update(x.float().contiguous(), positions.to(x.device), edges)

    def _update(self, x: Tensor, positions: Tensor, edges: Tensor) -> None:
        t, d = x.shape
        self.update_top(x, positions)
        xd = _SCRATCH.get((t, d), torch.float64, x.device, "x64").copy_(x)  # (T, d_mlp)
        ones = torch.ones(1, t, dtype=torch.float64, device=x.device)
        first = ones @ xd  # (1, d_mlp)
        sums = torch.cat([first, ones @ xd.mul_(xd)])  # (2, d_mlp); float32 squares are exact
        self.add_sums(sums.cpu())
        positive = torch.gt(x, 0, out=_SCRATCH.get((t, d), torch.bool, x.device, "mask"))
        self.active += positive.sum(0, dtype=torch.int32).cpu()
        sample = (positions % HIST_EVERY == 0).nonzero().flatten()
        bins = bin_indices(x.index_select(0, sample), edges)  # (T', d)
        bins += torch.arange(0, d * N_BINS, N_BINS, dtype=torch.int32, device=x.device)
        self.hist += torch.bincount(bins.reshape(-1), minlength=d * N_BINS).view(d, -1).cpu()
        self.count += x.shape[0]

    def update_top(self, x: Tensor, positions: Tensor) -> None:
        """Merge the tokens of ``x`` ``(T, d)`` into the running top-n of both signs.

        Only tokens at or beyond a neuron's threshold (ties included) can enter its top-n: the
        larger of its current n-th value and the n-th largest maximum of the chunk's blocks of
        :data:`BLOCK` tokens (n blocks each hold a token at least that large). Only blocks whose
        maximum reaches the threshold are read again, token by token; the others are never
        packed. A side with too many candidates (ReLU zeros) takes the dense top-(n+1) of
        :func:`side_keys`.
        """
        t, d = x.shape
        limit = thresholds(self.keys).to(x.device)  # (2, d): n-th value of sign * x
        blocks = block_extremes(x)  # (2, blocks, d): max of x, max of -x
        young = self.count < 2 * t  # the running top-n is not selective yet
        xt = None  # (d, T), made for the dense top-(n+1) only
        for side, sign in ((0, 1), (1, -1)):
            peaks = blocks[side]  # (blocks, d)
            floor = limit[side]
            if young and len(peaks) >= self.n:
                floor = torch.maximum(floor, torch.topk(peaks, self.n, dim=0).values[-1])
            hit_blocks, neurons = (peaks >= floor).nonzero(as_tuple=True)  # (Kb,), (Kb,)
            if len(hit_blocks) * BLOCK > DENSE_FRACTION * t * d:
                if xt is None:
                    xt = x.T.contiguous()  # (d, T): the top-(n+1) runs along contiguous rows
                found = side_keys(xt, positions, self.n, sign).cpu()  # (d, k)
                both = torch.cat([self.keys[side], found], dim=1)  # (d, n + k)
                self.keys[side] = top_keys(both, self.n)
                continue
            tokens = hit_blocks.unsqueeze(1) * BLOCK + torch.arange(BLOCK, device=x.device)
            inside = tokens < t  # (Kb, BLOCK): the last block may be short
            flat = tokens.clamp_(max=t - 1) * d + neurons.unsqueeze(1)  # (Kb, BLOCK)
            values = sign * x.view(-1).index_select(0, flat.view(-1)).view(flat.shape)
            keep = (inside & (values >= floor[neurons].unsqueeze(1))).view(-1)
            if not bool(keep.any()):
                continue
            tokens, values = tokens.view(-1)[keep], values.view(-1)[keep]  # (K,)
            neurons = neurons.unsqueeze(1).expand(-1, BLOCK).reshape(-1)[keep]  # (K,)
            keys = pack(values, positions[tokens])  # (K,)
            hit, rows = group_keys(neurons.cpu(), keys.cpu(), d)  # (h,), (h, most)
            both = torch.cat([self.keys[side, hit], rows], dim=1)  # (h, n + most)
            self.keys[side, hit] = top_keys(both, self.n)

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
