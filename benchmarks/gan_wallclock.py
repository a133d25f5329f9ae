"""Equal wall-clock runs: every method gets the training seconds of a reference.

Reads the equal-iteration comparison ``EQUAL/compare.json`` (an ``otgan
compare`` output), takes as the budget the reference spec's mean *training*
seconds (``s_per_iter * iter``, evaluation excluded; default: WGAN-TS), and
for every other spec trains ``round(budget / its mean s_per_iter, -2)``
iterations, one ``python -m otgan compare`` per spec into ``OUT/<spec>`` (run
with this interpreter, in the current directory), ``--jobs`` of them at once
(each trains its seeds one after the other on one thread).
The reference itself is not re-run: its equal-iteration runs *are* its
equal-wall-clock runs. Every other option of the equal-iteration command is
passed through unchanged.

With ``--speed FILE`` (``benchmarks/bench_gan_specs.py``'s JSON) the seconds
per iteration come from that benchmark, measured one configuration at a time,
instead of from the comparison runs (whose timing depends on what else ran).

Usage::

    python benchmarks/gan_wallclock.py --equal runs/c11/ring --out runs/c11/ring-wc \\
        --jobs 2 -- --data ring --seeds 0,1,2 --quiet

and then, per printed command, ``benchmarks/results_tables.py collect``.
"""
from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor


def plan(compare: dict, reference: str, exclude: tuple[str, ...] = (),
         speed: dict | None = None) -> tuple[float, dict]:
    """``(budget seconds, {spec: iterations})`` from an equal-iteration
    ``compare.json`` (``{spec: [metrics per seed]}``).

    Without ``speed`` the seconds per iteration are the runs' own; with
    ``speed`` (``{spec: seconds per iteration}``, from
    ``benchmarks/bench_gan_specs.py``) they are the benchmark's, and the
    budget is the reference's iterations times its benchmark speed."""
    if reference not in compare:
        raise SystemExit(f"reference spec {reference!r} not in the comparison "
                         f"(has {', '.join(compare)})")
    specs = [s for s in compare if s not in exclude]
    if speed is None:  # the runs' own seconds per iteration
        speed = {s: statistics.mean(r["s_per_iter"] for r in runs)
                 for s, runs in compare.items()}
    ref_iters = statistics.mean(r["iter"] for r in compare[reference])
    return plan_from_speed(speed, reference, ref_iters, specs)


def plan_from_speed(speed: dict, reference: str, reference_iters: int,
                    specs: list[str]) -> tuple[float, dict]:
    """``(budget seconds, {spec: iterations})`` from benchmark speeds alone:
    the budget is ``reference_iters`` iterations of ``reference``."""
    missing = [s for s in [reference, *specs] if s not in speed]
    if missing:
        raise SystemExit(f"no speed measured for {', '.join(missing)}")
    budget = reference_iters * speed[reference]
    return budget, {spec: _round_iters(budget / speed[spec])
                    for spec in specs if spec != reference}


def _round_iters(n: float) -> int:
    """Iterations rounded to 100 (to 10 below 1 000, for methods such as xicfg
    whose one iteration takes about a second), at least 10."""
    return max(10, int(round(n, -2 if n >= 1000 else -1)))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--equal", default=None,
                    help="the equal-iteration compare --out (or --speed, --specs and "
                         "--reference-iters)")
    ap.add_argument("--specs", default=None,
                    help="with --speed: comma-separated specs to run (without --equal)")
    ap.add_argument("--reference-iters", type=int, default=None,
                    help="with --speed and --specs: the reference's iterations")
    ap.add_argument("--out", required=True, help="root of the equal-wall-clock runs")
    ap.add_argument("--reference", default="wgan-ts", help="spec whose time is the budget")
    ap.add_argument("--exclude", default="", help="comma-separated specs not to re-run")
    ap.add_argument("--jobs", type=int, default=2, help="compare commands at once")
    ap.add_argument("--speed", default=None,
                    help="bench_gan_specs.py JSON: take seconds per iteration from it "
                         "(for the --data of the options) instead of from the runs")
    ap.add_argument("--dry-run", action="store_true", help="print the commands only")
    ap.add_argument("options", nargs=argparse.REMAINDER,
                    help="after --: options for every otgan compare (--data, --seeds, ...)")
    args = ap.parse_args(argv)
    options = args.options[1:] if args.options[:1] == ["--"] else args.options
    exclude = tuple(s for s in args.exclude.split(",") if s)
    speed = None
    if args.speed:
        data = options[options.index("--data") + 1]
        with open(args.speed) as fh:
            speed = {k: v["s_per_iter"] for k, v in json.load(fh)["s_per_iter"][data].items()}
    if args.equal:
        with open(os.path.join(args.equal, "compare.json")) as fh:
            compare = json.load(fh)
        budget, iters = plan(compare, args.reference, exclude, speed)
    elif speed is not None and args.specs and args.reference_iters:
        specs = [s for s in args.specs.split(",") if s and s not in exclude]
        budget, iters = plan_from_speed(speed, args.reference, args.reference_iters, specs)
    else:
        ap.error("give --equal, or --speed with --specs and --reference-iters")
    print(f"budget: {budget:.1f} s of training ({args.reference}"
          f"{', benchmark speed' if speed else ', mean over seeds'})")
    commands = []
    for spec, n in iters.items():
        out = os.path.join(args.out, spec)
        commands.append([sys.executable, "-m", "otgan", "compare", "--methods", spec, "--iters", str(n),
                         "--jobs", "1", *options, "--out", out])
    for c in commands:
        print(shlex.join(c))
    if args.dry_run:
        return 0

    def run(cmd):
        t0 = time.perf_counter()
        log = os.path.join(cmd[cmd.index("--out") + 1] + ".log")
        os.makedirs(os.path.dirname(log), exist_ok=True)
        with open(log, "w") as fh:
            rc = subprocess.call(cmd, stdout=fh, stderr=subprocess.STDOUT)
        return cmd, rc, time.perf_counter() - t0

    failed = 0
    with ThreadPoolExecutor(max_workers=args.jobs) as ex:
        for cmd, rc, secs in ex.map(run, commands):
            print(f"rc={rc} {secs:.0f}s {shlex.join(cmd)}", flush=True)
            failed += rc != 0
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
