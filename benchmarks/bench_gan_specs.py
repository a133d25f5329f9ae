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
import shlex
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
    ap.add_argument("--iters-for", default="",
                    help="SPEC=N[,...]: time these specs over N iterations per block (and "
                         "at most N warm-up iterations), for methods whose one iteration "
                         "takes seconds (xicfg)")
    ap.add_argument("--out", default=None, help="JSON file to write (atomically)")
    ap.add_argument("--code", default="",
                    help="which code was measured (e.g. 'commit abc1234, a clean worktree')")
    ap.add_argument("--merge", action="store_true",
                    help="keep the entries of an existing --out that this run does not "
                         "measure (each entry records the command that measured it)")
    args = ap.parse_args(argv)
    iters_for = {}
    for item in filter(None, args.iters_for.split(",")):
        spec, sep, n = item.partition("=")
        if not sep or not n.isdigit() or int(n) < 1:
            ap.error(f"--iters-for: expected SPEC=N with N >= 1, got {item!r}")
        iters_for[spec] = int(n)
    import torch

    from _common import cpu_name

    torch.set_num_threads(1)
    command = shlex.join(["python", "benchmarks/bench_gan_specs.py",
                          *(argv if argv is not None else sys.argv[1:])])
    measured = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M")
    table: dict = {}
    for data in args.data.split(","):
        for spec in args.specs.split(","):
            iters = iters_for.get(spec, args.iters)
            warmup = min(args.warmup, iters)
            sec = time_spec(spec, data, iters, warmup, args.repeats)
            table.setdefault(data, {})[spec] = {"s_per_iter": sec, "iters": iters,
                                                "warmup": warmup, "repeats": args.repeats,
                                                "command": command, "code": args.code,
                                                "measured_utc": measured}
            print(f"{data:6s} {spec:12s} {sec * 1e3:8.2f} ms / generator iteration",
                  flush=True)
    out = {"command": command,
           "machine": f"{cpu_name()}, {os.cpu_count()} cores, torch {torch.__version__}, "
                      f"1 thread",
           "measured_utc": measured,
           "iters": args.iters, "warmup": args.warmup, "repeats": args.repeats,
           "code": args.code, "s_per_iter": table}
    if args.merge and args.out and os.path.isfile(args.out):
        with open(args.out) as fh:
            old = json.load(fh)
        if old.get("machine") != out["machine"]:
            raise SystemExit(f"--merge: {args.out} was measured on {old.get('machine')!r}, "
                             f"not on this machine ({out['machine']!r})")
        for data, specs in old["s_per_iter"].items():
            for spec, entry in specs.items():
                for key in ("command", "measured_utc", "code", "iters", "warmup", "repeats"):
                    entry.setdefault(key, old.get(key))
                table.setdefault(data, {}).setdefault(spec, entry)
        out["command"], out["measured_utc"] = old["command"], old["measured_utc"]
        out["iters"], out["warmup"], out["repeats"] = old["iters"], old["warmup"], old["repeats"]
        out["code"] = old.get("code")
    if args.out:
        from _common import write_atomic

        write_atomic(args.out, json.dumps(out, indent=1, sort_keys=True) + "\n")
        print("wrote", args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
