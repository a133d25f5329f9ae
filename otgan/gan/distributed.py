r"""Data-parallel training on ``torch.distributed``, with the exact LP over the
*global* batch.

Design (docs/distributed.md):

* **Global-batch sampling.** ``TrainConfig.batch`` is the *global* batch
  ``B``; with ``W`` processes each rank trains on ``B / W`` of it. Every rank
  draws the same global batch (real points and noise) from the shared-seed
  generators of the trainer and keeps its slice (:meth:`ShardGroup.shard`).
  The random streams therefore stay those of one process, which is what makes
  ``1 x 64`` and ``2 x 32`` the same training run up to float rounding; the
  cost is drawing ``B`` instead of ``B / W`` samples per batch (a few
  microseconds per batch on the data sets here), while the networks run on
  the shard only.
* **Gradients are averaged by the optimisers** (:class:`AveragingOptimizer`:
  one ``all_reduce`` of the flattened gradients before each ``step``), not by
  ``DistributedDataParallel``: a GAN iteration passes ``G``'s output through
  ``D`` in the generator step, runs several critic steps per generator step
  and double-backward penalties, which break DDP's one-forward-one-backward
  assumption (its hooks would also average ``D``'s gradients in the generator
  step, where ``D`` is not stepped). A per-sample mean loss on each shard,
  averaged over the ranks, is the loss of the global batch, since the shards
  have equal sizes.
* **The exact LP is solved over the global batch.** :meth:`ShardGroup.gather`
  collects the shards (``all_gather``); every rank then solves the same
  ``B x B`` LP deterministically — no broadcast, and the certificate is
  checked on every rank — and keeps the potentials of its own points. For a
  loss that every rank computes identically from gathered tensors (the exact
  mini-batch OT generator's ``W``), :meth:`ShardGroup.gather` routes the
  gradient of the whole loss to the local shard multiplied by ``W``, so that
  the averaged gradient is exactly the gradient of the global loss.

In one process (:data:`SINGLE_PROCESS`) every operation is the identity and
the trainer runs exactly the code path it ran before this module existed.

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

import datetime
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

# torch is imported where it is used: the method registry (which the command
# line reads without loading torch) imports this module.
if TYPE_CHECKING:  # pragma: no cover
    import torch

__all__ = ["ShardGroup", "SINGLE_PROCESS", "AveragingOptimizer", "init_from_env",
           "DistributedError", "DEFAULT_TIMEOUT_S", "world_size_from_env"]

#: Seconds a collective waits for the other ranks before it raises: a rank that
#: died makes the others fail within this bound instead of hanging. Long
#: enough for rank 0's evaluation and checkpoint, during which the others wait.
DEFAULT_TIMEOUT_S = 300.0


class DistributedError(RuntimeError):
    """The distributed set-up is invalid (world size, batch, backend)."""


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

            dist.barrier()


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


def world_size_from_env(environ=None) -> int:
    """``WORLD_SIZE`` as set by ``torchrun`` (1 when unset)."""
    env = os.environ if environ is None else environ
    raw = env.get("WORLD_SIZE", "1")
    try:
        n = int(raw)
    except ValueError:
        raise DistributedError(f"WORLD_SIZE={raw!r} is not an integer") from None
    if n < 1:
        raise DistributedError(f"WORLD_SIZE={raw!r} must be >= 1")
    return n


def init_from_env(device: str = "cpu", timeout_s: float = DEFAULT_TIMEOUT_S) -> ShardGroup:
    """Join the process group that ``torchrun`` describes in the environment.

    ``RANK``, ``WORLD_SIZE``, ``MASTER_ADDR`` and ``MASTER_PORT`` come from
    the launcher (``torchrun --nproc-per-node N``, or ``--nnodes`` with
    ``--rdzv-endpoint`` on several machines). The backend is gloo on CPU and
    NCCL on CUDA (each rank then uses ``cuda:LOCAL_RANK``). Collectives time
    out after ``timeout_s`` seconds, so a dead rank fails the others instead
    of hanging them. Without ``WORLD_SIZE`` > 1 nothing is initialised and
    :data:`SINGLE_PROCESS` is returned.
    """
    n = world_size_from_env()
    if n == 1:
        return SINGLE_PROCESS
    import torch
    import torch.distributed as dist

    if not (isinstance(timeout_s, (int, float)) and timeout_s > 0):
        raise DistributedError(f"timeout_s must be a positive number, got {timeout_s!r}")
    try:
        rank = int(os.environ["RANK"])
    except (KeyError, ValueError):
        raise DistributedError(f"WORLD_SIZE={n} but RANK={os.environ.get('RANK')!r}: "
                               f"launch with torchrun") from None
    backend = "nccl" if device.startswith("cuda") else "gloo"
    if backend == "nccl":
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
    if not dist.is_initialized():
        dist.init_process_group(backend, timeout=datetime.timedelta(seconds=timeout_s))
    if dist.get_world_size() != n or dist.get_rank() != rank:
        raise DistributedError(f"process group ({dist.get_rank()}/{dist.get_world_size()}) "
                               f"does not match RANK={rank}, WORLD_SIZE={n}")
    return ShardGroup(rank, n, "cuda" if backend == "nccl" else "cpu")
