"""Multi-process training under torchrun (DistributedDataParallel): gloo on CPU, nccl on GPUs.

    torchrun --nproc_per_node 4 --no-python lavimo train --preset humanml3d --out runs/h3d
    torchrun --nnodes 2 --node_rank 0 --master_addr HOST --nproc_per_node 8 --no-python lavimo train ...

Each process trains on its own slice of every step's clips (batch_size clips per process); gradients are
averaged by DDP; rank 0 validates, writes checkpoints and shows the progress bar.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch


@dataclass
class Dist:
    """This process's place in the job (rank 0 of 1 when not under torchrun)."""

    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def main(self) -> bool:
        """Whether this process validates and writes files."""
        return self.rank == 0

    def barrier(self) -> None:
        """Wait for every process (no-op alone)."""
        if self.world > 1:
            torch.distributed.barrier()


def init_distributed(device: torch.device) -> Dist:
    """Join the torchrun job described by RANK/WORLD_SIZE/LOCAL_RANK, if any."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Dist()
    backend = "nccl" if device.type == "cuda" else "gloo"
    torch.distributed.init_process_group(backend)
    return Dist(torch.distributed.get_rank(), world, int(os.environ.get("LOCAL_RANK", "0")))


def close_distributed(dist: Dist) -> None:
    """Leave the job cleanly."""
    if dist.world > 1 and torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()


def resolve_device(name: str, dist: Dist | None = None) -> torch.device:
    """"auto" -> this process's GPU when there is one, else CPU; "cuda" under torchrun -> cuda:LOCAL_RANK."""
    local = int(os.environ.get("LOCAL_RANK", "0"))
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda":
        return torch.device("cuda", local)
    return torch.device(name)


def set_threads(configured: int, world: int) -> int:
    """torch CPU threads: config, else $LAVIMO_THREADS, else this process's share of the usable cores."""
    n = configured or int(os.environ.get("LAVIMO_THREADS", "0") or 0)
    if not n:
        n = max(1, len(os.sched_getaffinity(0)) // max(world, 1))
    torch.set_num_threads(n)
    return n
