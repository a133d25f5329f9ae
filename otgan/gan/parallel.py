r"""The training processes as a group: sharding, collectives, gradient averaging.

:class:`ShardGroup` is this process's place among the training processes and
the collectives a step needs (:meth:`ShardGroup.shard`, :meth:`ShardGroup.gather`,
:meth:`ShardGroup.all_reduce_mean`, ...); :class:`AveragingOptimizer` averages
the gradients over the ranks before each step. The methods' steps
(:mod:`otgan.gan.methods`), the add-ons (:mod:`otgan.gan.addons`) and the
trainer use them; joining and planning a run of several processes
(``torchrun``'s environment, devices) is :mod:`otgan.gan.training.distributed`,
which also explains the design (global-batch sampling, the LP over the global
batch, leaving the group).

In one process (:data:`SINGLE_PROCESS`) every operation is the identity.
Importing this module does not import torch (the method registry imports it,
and the command line reads that registry without loading torch).

Examples
--------
>>> import torch
>>> SINGLE_PROCESS.world_size, SINGLE_PROCESS.is_main
(1, True)
>>> t = torch.arange(6.0)
>>> SINGLE_PROCESS.shard(t) is t, SINGLE_PROCESS.gather(t) is t
(True, True)
>>> ShardGroup(rank=1, world_size=2).local_size(64)
32
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..errors import DistributedError

if TYPE_CHECKING:  # pragma: no cover
    import torch

__all__ = ["ShardGroup", "SINGLE_PROCESS", "AveragingOptimizer", "close_process_group"]


@dataclass(frozen=True)
class ShardGroup:
    """This process's place among the training processes.

    Attributes
    ----------
    rank : int
        ``0 .. world_size - 1``; rank 0 writes every file of the run.
    world_size : int
        Number of training processes.
    device : str
        Where the collectives' buffers live: ``"cpu"`` for gloo, ``"cuda"``
        for NCCL (which takes device tensors only).
    """

    rank: int = 0
    world_size: int = 1
    device: str = "cpu"

    def __post_init__(self):
        if isinstance(self.world_size, bool) or not isinstance(self.world_size, int) \
                or self.world_size < 1:
            raise DistributedError(f"world_size must be an integer >= 1, got "
                                   f"{self.world_size!r}")
        if isinstance(self.rank, bool) or not isinstance(self.rank, int) \
                or not 0 <= self.rank < self.world_size:
            raise DistributedError(f"rank must be an integer in [0, {self.world_size}), "
                                   f"got {self.rank!r}")
        if self.device not in ("cpu", "cuda"):
            raise DistributedError(f"device must be 'cpu' or 'cuda', got {self.device!r}")

    @property
    def is_main(self) -> bool:
        """Whether this is rank 0 (the one that logs, plots and checkpoints)."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    def local_size(self, n: int, name: str = "batch") -> int:
        """``n / world_size``; ``n`` (named ``name`` in the error) must divide evenly."""
        if n % self.world_size:
            raise DistributedError(f"{name}={n} is not divisible by the world size "
                                   f"{self.world_size}: every process must get an equal "
                                   f"shard of the global batch")
        return n // self.world_size

    def shard(self, t: torch.Tensor) -> torch.Tensor:
        """This rank's rows of a global tensor (the tensor itself in one process)."""
        if not self.distributed:
            return t
        b = self.local_size(t.shape[0], "global batch")
        return t[self.rank * b:(self.rank + 1) * b]

    def gather(self, t: torch.Tensor) -> torch.Tensor:
        """The global tensor from every rank's shard, in rank order.

        Without a graph (``t.requires_grad`` false) this is a plain
        ``all_gather``. With one, the other ranks' shards enter as constants
        and the local shard with its graph, its gradient multiplied by
        ``world_size``: for a loss that every rank computes identically from
        the gathered tensor, the gradients averaged by
        :class:`AveragingOptimizer` are then exactly those of the loss (each
        rank contributes ``world_size`` times its own shard's part, averaged
        over ``world_size`` ranks), without a collective in the backward pass.
        """
        if not self.distributed:
            return t
        import torch
        import torch.distributed as dist

        local = t.detach().contiguous().to(self.device)
        parts = [torch.empty_like(local) for _ in range(self.world_size)]
        dist.all_gather(parts, local)
        parts = [p.to(t.device) for p in parts]
        if t.requires_grad:
            w = self.world_size
            # value t, gradient w * (upstream gradient)
            parts[self.rank] = t + (w - 1) * (t - t.detach())
        return torch.cat(parts)

    def all_reduce_mean(self, tensors: list[torch.Tensor]) -> None:
        """Average ``tensors`` in place over the ranks (one flattened all_reduce)."""
        if not self.distributed or not tensors:
            return
        import torch
        import torch.distributed as dist

        flat = torch.cat([t.reshape(-1).to(self.device) for t in tensors])
        dist.all_reduce(flat)
        flat /= self.world_size
        k = 0
        for t in tensors:
            t.copy_(flat[k:k + t.numel()].view_as(t))
            k += t.numel()

    def broadcast_object(self, obj):
        """Rank 0's ``obj`` (picklable) on every rank."""
        if not self.distributed:
            return obj
        import torch.distributed as dist

        box = [obj]
        dist.broadcast_object_list(box, src=0)
        return box[0]

    def broadcast_modules(self, modules) -> None:
        """Copy rank 0's parameters and buffers of ``modules`` into every rank's."""
        if not self.distributed:
            return
        import torch
        import torch.distributed as dist

        with torch.no_grad():
            for module in modules:
                for t in module.state_dict().values():
                    if t.is_floating_point() or t.dtype in (torch.int64, torch.int32):
                        dist.broadcast(t, src=0)

    def barrier(self) -> None:
        if self.distributed:
            import torch.distributed as dist

            if self.device == "cuda":  # NCCL: the barrier's device is this rank's GPU
                import torch

                dist.barrier(device_ids=[torch.cuda.current_device()])
            else:
                dist.barrier()

    def finish(self) -> None:
        """Leave the process group once this rank's last collective is done:
        a barrier that every rank reaches, then ``destroy_process_group``
        (:func:`close_process_group`). No collective may follow; a no-op in
        one process and for a group already left."""
        close_process_group(self, barrier=True)


#: The group of a run in one process: every operation is the identity.
SINGLE_PROCESS = ShardGroup(0, 1)


class AveragingOptimizer:
    """An optimiser whose :meth:`step` first averages the gradients over the ranks.

    Wraps a ``torch.optim.Optimizer``; everything else (``param_groups``,
    ``zero_grad``, ``state_dict``, ``load_state_dict``, ``state``) is the
    wrapped optimiser's, so the trainer's learning-rate schedule and
    checkpoints see the usual object. Parameters without a gradient are
    skipped: every rank runs the same code, so the set is the same on all.
    """

    def __init__(self, optimizer: torch.optim.Optimizer, group: ShardGroup):
        self.optimizer = optimizer
        self.group = group

    def step(self, closure=None):
        if closure is not None:
            raise DistributedError("AveragingOptimizer.step does not take a closure")
        grads = [p.grad for g in self.optimizer.param_groups for p in g["params"]
                 if p.grad is not None]
        self.group.all_reduce_mean(grads)
        return self.optimizer.step()

    def zero_grad(self, set_to_none: bool = True) -> None:
        self.optimizer.zero_grad(set_to_none=set_to_none)

    @property
    def param_groups(self):
        return self.optimizer.param_groups

    @property
    def state(self):
        return self.optimizer.state

    def state_dict(self) -> dict:
        return self.optimizer.state_dict()

    def load_state_dict(self, state: dict) -> None:
        self.optimizer.load_state_dict(state)


def close_process_group(group: ShardGroup, *, barrier: bool) -> None:
    """End this process's membership of the default process group.

    ``barrier=True`` (the success path) first waits until every rank gets
    here, so that no rank tears its connections down while another still
    runs a collective; ``barrier=False`` (an error or an interrupt) leaves at
    once: the other ranks then fail their next collective (within the
    group's timeout) or are stopped by the launcher. Either way
    ``destroy_process_group`` shuts gloo's or NCCL's threads down before the
    interpreter exits, instead of leaving them to its teardown. A no-op in
    one process or when no group is initialised (already left).
    """
    if not group.distributed:
        return
    import torch.distributed as dist

    if not dist.is_initialized():
        return
    try:
        if barrier:
            group.barrier()
    finally:
        dist.destroy_process_group()
