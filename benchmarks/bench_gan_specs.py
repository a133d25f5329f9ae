"""Seconds per generator iteration of every method spec (method+add-ons), by data set.

The equal-wall-clock runs (``benchmarks/gan_wallclock.py --speed``) take their
iteration counts from this table, measured one configuration at a time on one
torch thread, rather than from the timing columns of comparison runs that
shared the machine with other work. Each spec is trained with its own
defaults (batch 64, the default networks) for ``--warmup`` iterations, then
timed over ``--repeats`` blocks of ``--iters`` iterations (median of the
blocks' mean seconds per iteration; the periodic log/condition-number/W1
checks are not part of a step, as in the runs' ``s_per_iter``).

    python benchmarks/bench_gan_specs.py --data ring,grid \\
        --specs wgan-ts,wgan-gp,wgan,gan,nsgan,ot,gan+jc,gan+lens,wgan-ts+jc \\
        --out docs/results/speed_specs.json
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))


def time_spec(spec: str, data: str, iters: int, warmup: int, repeats: int) -> dict:
    """``{"s_per_iter": median, "blocks": [...]}`` for one spec on one data set."""
    from otgan.gan import TrainConfig, Trainer
    from otgan.gan.addons import parse_method_spec

    method, addons = parse_method_spec(spec)
    total = warmup + iters * repeats
    cfg = TrainConfig(method=method, data=data, iters=max(total, 1000), device="cpu", seed=0,
                      **{a: True for a in addons})
    tr = Trainer(cfg)
    for _ in range(warmup):
        tr.step()
    blocks = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(iters):
            tr.step()
        blocks.append((time.perf_counter() - t0) / iters)
    return {"s_per_iter": statistics.median(blocks), "blocks": [round(b, 6) for b in blocks]}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="ring,grid")
    ap.add_argument("--specs", default="wgan-ts,wgan-gp,wgan,gan,nsgan,ot,gan+jc,gan+lens,"
                                       "wgan-ts+jc")
    ap.add_argument("--iters", type=int, default=50)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--out", default=None, help="JSON file to write (atomically)")
    args = ap.parse_args(argv)
    import torch

    from _common import cpu_name

    torch.set_num_threads(1)
    table: dict = {}
    for data in args.data.split(","):
        for spec in args.specs.split(","):
            r = time_spec(spec, data, args.iters, args.warmup, args.repeats)
            table.setdefault(data, {})[spec] = r
            print(f"{data:5s} {spec:12s} {r['s_per_iter'] * 1e3:8.2f} ms / generator iteration",
                  flush=True)
    out = {"command": "python benchmarks/bench_gan_specs.py " + " ".join(
               argv if argv is not None else sys.argv[1:]),
           "machine": f"{cpu_name()}, {os.cpu_count()} cores, torch {torch.__version__}, "
                      f"1 thread",
           "measured_utc": datetime.datetime.now(datetime.timezone.utc).strftime(
               "%Y-%m-%d %H:%M"),
           "iters": args.iters, "warmup": args.warmup, "repeats": args.repeats,
           "s_per_iter": table}
    if args.out:
        from _common import write_atomic

        write_atomic(args.out, json.dumps(out, indent=1, sort_keys=True) + "\n")
        print("wrote", args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
