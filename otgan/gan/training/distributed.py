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
* **Leaving the group.** A rank sometimes died with ``terminate called
  without an active exception`` (SIGABRT) after training had finished: gloo's
  worker threads were still running when the interpreter exited, and one
  that dropped the last reference to a tensor created in Python needed the
  GIL, which a thread cannot take once the interpreter is finalising (a core
  dump showed it, in ``~AsyncBarrierWork``). The threads end only when the
  group is freed, which needs two things: ``destroy_process_group`` (which
  nothing called), and no other reference to the group — but
  ``torch.distributed.nn.functional``, imported through ``torch._dynamo`` when
  the first optimiser is built, binds ``group.WORLD`` as a default argument,
  and so held the group for the life of the process. :func:`init_from_env`
  imports that module before the group exists, and :func:`process_group`
  ends the group on every path: on success after a barrier
  (:meth:`ShardGroup.finish`, which every rank reaches once its last
  collective is done), on an error or an interrupt at once (the other ranks
  then fail their next collective, within the timeout, or are stopped by the
  launcher). ``destroy_process_group`` then joins gloo's threads before the
  process goes on to exit.
* **Devices.** NCCL needs one GPU per process: :func:`plan_device` decides,
  before anything starts, whether ``device="auto"`` can give each process of
  a node its own GPU, and otherwise trains on the CPU with gloo; an explicit
  ``"cuda"`` with too few GPUs is refused.

In one process (:data:`SINGLE_PROCESS`) every operation is the identity and
the trainer runs exactly the code path it ran before this module existed.

(Examples of the group itself: :mod:`otgan.gan.parallel`, its home.)
"""
from __future__ import annotations

import contextlib
import datetime
import os
from typing import TYPE_CHECKING

from ...errors import DistributedError
# The group and its collectives live one room down (otgan.gan.parallel), where
# the methods' steps and the add-ons use them without importing training (no
# cycle between the rooms); re-exported here, where they were defined before.
from ..parallel import SINGLE_PROCESS, AveragingOptimizer, ShardGroup, close_process_group

# torch is imported where it is used, so that ``--help`` can plan a launch
# without loading it.
if TYPE_CHECKING:  # pragma: no cover
    import torch

__all__ = ["ShardGroup", "SINGLE_PROCESS", "AveragingOptimizer", "init_from_env",
           "DEFAULT_TIMEOUT_S", "world_size_from_env", "local_world_size_from_env",
           "plan_device", "process_group", "close_process_group"]

#: Seconds a collective waits for the other ranks before it raises: a rank that
#: died makes the others fail within this bound instead of hanging. Long
#: enough for rank 0's evaluation and checkpoint, during which the others wait.
DEFAULT_TIMEOUT_S = 300.0


def _positive_int(env, name: str) -> int:
    """The environment variable ``name`` as an integer >= 1, or a named error."""
    raw = env[name]
    try:
        n = int(raw)
    except ValueError:
        raise DistributedError(f"{name}={raw!r} is not an integer") from None
    if n < 1:
        raise DistributedError(f"{name}={raw!r} must be >= 1")
    return n


def world_size_from_env(environ=None) -> int:
    """``WORLD_SIZE`` as set by ``torchrun`` (1 when unset)."""
    env = os.environ if environ is None else environ
    return _positive_int(env, "WORLD_SIZE") if "WORLD_SIZE" in env else 1


def local_world_size_from_env(environ=None) -> int:
    """Processes on this node: ``LOCAL_WORLD_SIZE`` as set by ``torchrun``
    (else ``WORLD_SIZE``, else 1)."""
    env = os.environ if environ is None else environ
    if "LOCAL_WORLD_SIZE" not in env:
        return world_size_from_env(env)
    return _positive_int(env, "LOCAL_WORLD_SIZE")


def plan_device(device: str, nproc_per_node: int, *, device_name: str = "device",
                nproc_name: str = "nproc_per_node") -> tuple[str, str | None]:
    """The device for ``nproc_per_node`` training processes on this machine,
    and a notice when it is not the one asked for.

    NCCL, the backend on CUDA, needs a GPU of its own for each process (two
    ranks on one device fail with "invalid device ordinal" or a duplicate-GPU
    error). So with more than one process per node:

    * ``"cpu"`` stays ``"cpu"`` (gloo);
    * ``"auto"`` stays ``"auto"`` when CUDA is absent (it resolves to the
      CPU) or when there are at least ``nproc_per_node`` GPUs (NCCL, one per
      process); with CUDA but fewer GPUs it becomes ``"cpu"`` (gloo), with a
      one-line notice saying so and what to pass instead;
    * ``"cuda"`` with fewer GPUs than processes is a :class:`DistributedError`
      naming ``device_name`` and ``nproc_name`` (the command line passes
      ``"--device"``, ``"--nproc"``) and what to pass.

    One process gets ``device`` unchanged (the trainer resolves it).

    Examples
    --------
    >>> plan_device("cpu", 4)
    ('cpu', None)
    >>> plan_device("cuda", 1)
    ('cuda', None)
    """
    if device not in ("auto", "cpu", "cuda"):
        raise DistributedError(f"{device_name} must be 'auto', 'cpu' or 'cuda', got {device!r}")
    if isinstance(nproc_per_node, bool) or not isinstance(nproc_per_node, int) \
            or nproc_per_node < 1:
        raise DistributedError(f"{nproc_name} must be an integer >= 1, got {nproc_per_node!r}")
    if nproc_per_node == 1 or device == "cpu":
        return device, None
    import torch

    n_gpu = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if n_gpu >= nproc_per_node:
        return device, None
    if device == "auto":
        if n_gpu == 0:
            return device, None
        return "cpu", (f"{nproc_name} {nproc_per_node} needs {nproc_per_node} CUDA devices "
                       f"(NCCL: one per process), torch sees {n_gpu}: training on the CPU "
                       f"with gloo (pass {nproc_name} {n_gpu} to train on the "
                       f"GPU{'s' if n_gpu > 1 else ''}, or {device_name} cpu to silence "
                       f"this note)")
    have = "torch reports no CUDA device" if n_gpu == 0 else f"torch sees {n_gpu}"
    fix = (f"pass {device_name} cpu to train {nproc_per_node} processes on the CPU (gloo)"
           + (f", or {nproc_name} {n_gpu} (at most one process per GPU)" if n_gpu else ""))
    raise DistributedError(f"{device_name} cuda with {nproc_name} {nproc_per_node} needs "
                           f"{nproc_per_node} CUDA devices (NCCL: one per process), {have}; "
                           f"{fix}")


@contextlib.contextmanager
def process_group(device: str = "cpu", timeout_s: float = DEFAULT_TIMEOUT_S):
    """``with process_group(device) as group:`` — :func:`init_from_env`, and
    :func:`close_process_group` on the way out: after a barrier when the body
    finished, at once when it raised (an exception, ``KeyboardInterrupt``,
    ``SystemExit``). In one process it yields :data:`SINGLE_PROCESS`."""
    group = init_from_env(device, timeout_s)
    ok = False
    try:
        yield group
        ok = True
    finally:
        close_process_group(group, barrier=ok)


def init_from_env(device: str = "cpu", timeout_s: float = DEFAULT_TIMEOUT_S) -> ShardGroup:
    """Join the process group that ``torchrun`` describes in the environment.

    ``RANK``, ``WORLD_SIZE``, ``MASTER_ADDR`` and ``MASTER_PORT`` come from
    the launcher (``torchrun --nproc-per-node N``, or ``--nnodes`` with
    ``--rdzv-endpoint`` on several machines). The backend is gloo on CPU and
    NCCL on CUDA (each rank then uses ``cuda:LOCAL_RANK``, which must exist:
    see :func:`plan_device`). Collectives time out after ``timeout_s``
    seconds, so a dead rank fails the others instead of hanging them. Without
    ``WORLD_SIZE`` > 1 nothing is initialised and :data:`SINGLE_PROCESS` is
    returned. Leave the group with :meth:`ShardGroup.finish` or
    :func:`close_process_group` (or use :func:`process_group`).
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
        local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        n_gpu = torch.cuda.device_count()
        if local_rank >= n_gpu:
            raise DistributedError(f"LOCAL_RANK={local_rank} but torch sees {n_gpu} CUDA "
                                   f"device(s): NCCL needs one GPU per process; train on "
                                   f"the CPU (device 'cpu', gloo) or start at most {n_gpu} "
                                   f"process(es) per node")
        torch.cuda.set_device(local_rank)
    # torch.distributed.nn.functional binds ``group.WORLD`` as a default argument
    # when it is imported; imported after the group exists (torch.optim pulls
    # it in through torch._dynamo when the first optimiser is built), it holds
    # the group for the life of the process, so destroy_process_group cannot
    # free it and gloo's worker threads outlive it into the interpreter's
    # exit, where one that drops a tensor needs the GIL and aborts the process
    # ("terminate called without an active exception"). Imported now, before
    # the group exists, the defaults are None.
    import torch.distributed.nn  # noqa: F401
    if not dist.is_initialized():
        dist.init_process_group(backend, timeout=datetime.timedelta(seconds=timeout_s))
    if dist.get_world_size() != n or dist.get_rank() != rank:
        raise DistributedError(f"process group ({dist.get_rank()}/{dist.get_world_size()}) "
                               f"does not match RANK={rank}, WORLD_SIZE={n}")
    return ShardGroup(rank, n, "cuda" if backend == "nccl" else "cpu")
