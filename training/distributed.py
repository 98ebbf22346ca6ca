"""Multi-process training through `torchrun` (DistributedDataParallel); a no-op in one process.

Launched by `torchrun --nproc_per_node N -m training train ...`, the environment holds WORLD_SIZE,
RANK and LOCAL_RANK: the process group is initialised (nccl on CUDA, gloo on CPU), each rank reads
its share of every epoch through a DistributedSampler seeded by the run, the trained generator and
its discriminator are wrapped in DistributedDataParallel, and only rank 0 writes checkpoints, logs
and TensorBoard; all ranks wait at a barrier after every save.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn


@dataclass
class DistContext:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: torch.device = torch.device("cpu")  # noqa: RUF009 (a torch.device is immutable)

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def barrier(self) -> None:
        if self.enabled:
            dist.barrier()

    def wrap(self, module: nn.Module, find_unused: bool = False) -> nn.Module:
        """DistributedDataParallel around `module` when distributed, else `module` itself."""
        if not self.enabled:
            return module
        from torch.nn.parallel import DistributedDataParallel as DDP

        ids = [self.device.index] if self.device.type == "cuda" else None
        return DDP(module, device_ids=ids, find_unused_parameters=find_unused)

    def all_mean(self, value: float) -> float:
        """Mean of a scalar over ranks (for logging)."""
        if not self.enabled:
            return value
        t = torch.tensor([value], dtype=torch.float64, device=self.device)
        dist.all_reduce(t)
        return float(t.item()) / self.world_size

    def close(self) -> None:
        if self.enabled and dist.is_initialized():
            dist.destroy_process_group()


def setup(device: torch.device) -> DistContext:
    """Initialise from torchrun's environment; `device` is the requested device type (cpu or cuda)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return DistContext(device=device)
    rank = int(os.environ["RANK"])
    local = int(os.environ.get("LOCAL_RANK", "0"))
    if device.type == "cuda":
        torch.cuda.set_device(local)
        device = torch.device("cuda", local)
        backend = "nccl"
    else:
        backend = "gloo"
    if not dist.is_initialized():
        dist.init_process_group(backend=backend)
    return DistContext(rank=rank, world_size=world, local_rank=local, device=device)


def sampler_indices(n: int, ctx: DistContext, seed: int, epoch: int, shuffle: bool = True) -> list[int]:
    """This rank's sample order for one epoch (torch's DistributedSampler; one replica when not distributed)."""
    from torch.utils.data.distributed import DistributedSampler

    sampler = DistributedSampler(range(n), num_replicas=ctx.world_size, rank=ctx.rank, shuffle=shuffle, seed=seed)
    sampler.set_epoch(epoch)
    return list(sampler)
