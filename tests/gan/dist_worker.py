"""One rank of the distributed tests (tests/gan/training/test_distributed.py), started
by ``torchrun``; not collected by pytest (no ``test_`` prefix).

Usage: ``torchrun --nproc-per-node 2 dist_worker.py TASK OUT``

* ``targets``: the WGAN-TS targets of a fixed global batch of 64 points,
  computed the way the WGAN-TS critic step does (gather the shards, solve the
  global LP, keep this rank's targets); saved per rank.
* ``train``: a few iterations of each data-parallel method on a fixed
  configuration; each rank saves its networks.
* ``hang``: writes its pid, then runs collectives until it is killed or a
  peer dies (the killed-rank test).
"""
import math
import os
import sys
import time

import torch

torch.set_num_threads(1)

from otgan.gan import TrainConfig, Trainer  # noqa: E402
from otgan.gan.addons import parse_method_spec  # noqa: E402
from otgan.gan.training.distributed import process_group  # noqa: E402
from otgan.torch import ot_targets  # noqa: E402

#: the method specs trained by the ``train`` task, and their tiny configuration
TRAIN_METHODS = ("wgan-ts", "ot", "gan", "nsgan", "wgan", "wgan-gp", "gan+jc", "wgan-ts+lens",
                 "rfgan", "xicfg")
#: the methods' own options, small
OWN = {"rfgan": {"ae_steps": 30}, "xicfg": {"xicfg_t": 2, "xicfg_pool": 2, "xicfg_epochs": 2}}
#: ``OTGAN_DIST_DEVICE=cuda``: the NCCL variant (one GPU per rank)
DEVICE = os.environ.get("OTGAN_DIST_DEVICE", "cpu")
TRAIN = dict(data="ring", batch=64, iters=3, hidden=16, depth=1, device=DEVICE, seed=3)


def train_config(spec: str, device: str | None = None) -> TrainConfig:
    method, addons = parse_method_spec(spec)
    kw = dict(TRAIN, device=device or TRAIN["device"])
    return TrainConfig(method=method, **{a: True for a in addons}, **OWN.get(method, {}), **kw)


def fixed_batch():
    g = torch.Generator().manual_seed(7)
    y = torch.randn(64, 2, generator=g, dtype=torch.float64)
    x = torch.randn(64, 2, generator=g, dtype=torch.float64) + 0.5
    return y, x


def main(task: str, out: str) -> None:
    # the group is left on every way out (a barrier first on success), as the CLI does
    with process_group(DEVICE, timeout_s=float(os.environ.get("OTGAN_DIST_TIMEOUT", "60"))) \
            as group:
        run(task, out, group)
    # Left means freed: gloo's threads must be gone before the interpreter
    # exits (one still running there aborted the process now and then).
    left = _gloo_threads()
    if left:
        raise SystemExit(f"rank {group.rank}: gloo threads {left} outlived the process group")


def _gloo_threads() -> list[str]:
    """Names of this process's gloo threads (Linux; [] elsewhere)."""
    try:
        tasks = os.listdir("/proc/self/task")
    except OSError:
        return []
    names = []
    for t in tasks:
        try:
            with open(f"/proc/self/task/{t}/comm") as fh:
                names.append(fh.read().strip())
        except OSError:  # the thread ended meanwhile
            pass
    return [n for n in names if "gloo" in n]


def run(task: str, out: str, group) -> None:
    r = group.rank
    if task == "targets":
        y, x = fixed_batch()
        y_all, x_all = group.gather(group.shard(y)), group.gather(group.shard(x))
        tg = ot_targets(y_all, x_all, "l1")
        # the gathered batch must be the global one, in rank order (else the
        # job exits non-zero, which the test asserts against)
        if not (torch.equal(y_all, y) and torch.equal(x_all, x)):
            raise SystemExit(f"rank {r}: gather did not rebuild the global batch")
        torch.save({"real": group.shard(tg.real), "fake": group.shard(tg.fake),
                    "certified": tg.result.certificate.is_optimal},
                   os.path.join(out, f"targets_rank{r}.pt"))
    elif task == "train":
        for method in TRAIN_METHODS:
            tr = Trainer(train_config(method), group=group)
            logs = [tr.log_entry(tr.step()) for _ in range(TRAIN["iters"])]
            if not all(math.isfinite(e["batch_w"]) for e in logs):
                raise SystemExit(f"rank {r}, {method}: non-finite batch W {logs}")
            lens = tr.addons.get("lens")
            torch.save({"G": {k: v.cpu() for k, v in tr.G.state_dict().items()},
                        "lens": None if lens is None else
                        {k: v.cpu() for k, v in lens.lens.state_dict().items()},
                        "D": None if tr.D is None else
                        {k: v.cpu() for k, v in tr.D.state_dict().items()},
                        "batch_w": [e["batch_w"] for e in logs]},
                       os.path.join(out, f"{method}_rank{r}.pt"))
    elif task == "hang":
        with open(os.path.join(out, f"pid_rank{r}"), "w") as fh:
            fh.write(str(os.getpid()))
        t = torch.zeros(1)
        while True:
            group.all_reduce_mean([t])
            time.sleep(0.01)
    else:
        raise SystemExit(f"unknown task {task!r}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
