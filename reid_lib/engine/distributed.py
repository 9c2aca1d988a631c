"""Process-group set-up for ``torchrun``: rank information, backend choice, clean shutdown.

``torchrun --nproc_per_node=N -m reid_lib.train ...`` sets ``RANK``, ``LOCAL_RANK`` and
``WORLD_SIZE``; without them the run is a single process and nothing here touches
``torch.distributed``. The backend is NCCL on GPUs and Gloo on CPUs.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class DistInfo:
    """Rank of this process, its rank on the node, and the number of processes."""

    rank: int = 0
    local_rank: int = 0
    world_size: int = 1

    @property
    def is_main(self) -> bool:
        """Whether this process logs, writes checkpoints and evaluates (rank 0)."""
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        """Whether training runs in more than one process."""
        return self.world_size > 1


#: The single-process case.
SINGLE_PROCESS = DistInfo()


def init_distributed(use_cuda: bool) -> DistInfo:
    """Join the process group that ``torchrun`` describes in the environment, if any."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size <= 1:
        return SINGLE_PROCESS
    info = DistInfo(
        rank=int(os.environ["RANK"]),
        local_rank=int(os.environ.get("LOCAL_RANK", "0")),
        world_size=world_size,
    )
    if not dist.is_initialized():
        if use_cuda:
            torch.cuda.set_device(info.local_rank)
        dist.init_process_group(backend="nccl" if use_cuda else "gloo")
    return info


def barrier(info: DistInfo) -> None:
    """Wait for every process (no-op in a single process)."""
    if info.enabled:
        dist.barrier()


def all_true(flag: bool, info: DistInfo, device: torch.device) -> bool:
    """Whether ``flag`` holds on every process (a MIN all-reduce; local value when single)."""
    if not info.enabled:
        return flag
    value = torch.tensor([1.0 if flag else 0.0], device=device)
    dist.all_reduce(value, op=dist.ReduceOp.MIN)
    return bool(value.item())


def any_true(flag: bool, info: DistInfo, device: torch.device) -> bool:
    """Whether ``flag`` holds on some process (local value when single)."""
    return not all_true(not flag, info, device)


def shutdown(info: DistInfo) -> None:
    """Leave the process group (no-op in a single process)."""
    if info.enabled and dist.is_initialized():
        dist.destroy_process_group()
