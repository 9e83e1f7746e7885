"""Sharding a corpus run over processes started by ``torchrun`` (torch.distributed).

Chunk ``c`` of the stream belongs to rank ``c % world``. At the end every rank's state is
gathered on rank 0 and merged exactly (:meth:`LayerState.absorb`: integer sums, a key merge),
so the result does not depend on the number of processes. Gloo on the CPU, NCCL on CUDA.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import torch

from vocablens.activations.accumulate import LayerState


@dataclass(frozen=True)
class Shard:
    """This process's place: ``rank`` of ``world``; ``owns_group``: we started the group."""

    rank: int = 0
    world: int = 1
    local_rank: int = 0
    owns_group: bool = False

    def owns(self, chunk: int) -> bool:
        """Whether chunk number ``chunk`` is this process's work."""
        return chunk % self.world == self.rank


def join(device: torch.device | None) -> Shard:
    """This process's shard: a group of ``torchrun``'s environment (joined here), or alone."""
    import torch.distributed as dist

    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1 and not (dist.is_available() and dist.is_initialized()):
        return Shard()
    local = int(os.environ.get("LOCAL_RANK", "0"))
    owns = False
    if not dist.is_initialized():
        backend = "nccl" if device is not None and device.type == "cuda" else "gloo"
        dist.init_process_group(backend)
        owns = True
    return Shard(dist.get_rank(), dist.get_world_size(), local, owns)


def barrier(shard: Shard) -> None:
    """Wait for every rank (a no-op alone)."""
    if shard.world > 1:
        import torch.distributed as dist

        dist.barrier()


def broadcast_flag(shard: Shard, ok: bool) -> bool:
    """Rank 0's ``ok`` on every rank (so that all ranks fail together)."""
    if shard.world == 1:
        return ok
    import torch.distributed as dist

    flag = torch.tensor([1 if ok else 0], device=_comm_device())
    dist.broadcast(flag, 0)
    return bool(flag.item())


def _comm_device() -> torch.device:
    import torch.distributed as dist

    if dist.get_backend() == "nccl":
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


def sum_over_ranks(shard: Shard, n: int) -> int:
    """The sum of every rank's ``n`` (``n`` alone)."""
    if shard.world == 1:
        return n
    import torch.distributed as dist

    summed = torch.tensor([n], dtype=torch.int64, device=_comm_device())
    dist.all_reduce(summed)
    return int(summed.item())


def gather_states(shard: Shard, states: dict[Any, LayerState]) -> dict[Any, LayerState]:
    """Rank 0: every rank's states merged; other ranks: their own states (unused).

    ``states`` are keyed alike on every rank (the run's ``(layer, expert)``), in the same order.
    """
    if shard.world == 1:
        return states
    import torch.distributed as dist

    where = _comm_device()
    for key, state in list(states.items()):
        keys = state.keys.to(where)
        parts = [torch.empty_like(keys) for _ in range(shard.world)]
        dist.all_gather(parts, keys)
        sums = torch.cat([state.hi, state.lo, state.active.unsqueeze(0),
                          torch.tensor([[state.count] * state.hi.shape[1]])]).to(where)  # fmt: skip
        dist.all_reduce(sums)  # (6, d): integer sums, exact in any order
        hist = state.hist.to(where)
        dist.all_reduce(hist)
        if shard.rank == 0:
            sums = sums.cpu()
            merged = LayerState.empty(state.hi.shape[1], state.n)
            merged.hi, merged.lo = sums[0:2].clone(), sums[2:4].clone()
            merged.carry()
            merged.active, merged.hist, merged.count = sums[4].clone(), hist.cpu(), int(sums[5, 0])
            for part in parts:
                merged.merge_keys(part.cpu())
            states[key] = merged
    return states


def leave(shard: Shard) -> None:
    """Leave the process group if this run started it."""
    if shard.owns_group:
        import torch.distributed as dist

        dist.destroy_process_group()
