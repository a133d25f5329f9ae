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
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))


def time_spec(spec: str, data: str, iters: int, warmup: int, repeats: int) -> float:
    """Median seconds per generator iteration of one spec on one data set
    (:func:`bench_gan.time_method`, batch 64, with the spec's add-ons)."""
    from otgan.gan.addons import parse_method_spec

    from bench_gan import time_method

    method, addons = parse_method_spec(spec)
    return time_method(method, 64, iters, warmup, repeats, data=data,
                       **{a: True for a in addons})


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
            sec = time_spec(spec, data, args.iters, args.warmup, args.repeats)
            table.setdefault(data, {})[spec] = {"s_per_iter": sec}
            print(f"{data:5s} {spec:12s} {sec * 1e3:8.2f} ms / generator iteration",
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
