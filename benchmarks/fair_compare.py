"""The fair comparison of issue #25: every method at its reference settings,
the same tuning budget for each (``otgan compare --tune K``), packing rows,
3 fresh seeds — on ``ring`` and ``grid``. Prepared here, run by whoever has
the machine time (it is hours of CPU).

    .venv/bin/python benchmarks/fair_compare.py commands [--tune 8]
        print the exact commands, one `otgan compare` per (data, spec), each
        into its own --out under runs/fair/ (so they can run in parallel and
        be collected table by table), then the collect lines
    OMP_NUM_THREADS=1 NUMBA_NUM_THREADS=1 .venv/bin/python benchmarks/fair_compare.py \\
        estimate [--tune 8] [--steps 20]
        time a few iterations of every spec at its reference setting (one
        thread) and estimate the comparison's total CPU time; writes
        docs/_bench_fair_estimate.md

``benchmarks/fair_compare.sh`` holds the commands as printed for ``--tune 8``.

The estimate is rough on purpose: each spec's median seconds per iteration
at its reference batch, times (K tuning trials + 3 seeds) x the iterations;
the tuning trials at batch x2 or x1/2, more critic steps or another plan cost
more or less than the reference, and the final evaluation (2 500 samples,
exact W1) adds seconds per run. The machine is shared while it runs: the
numbers are noisy.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

#: The specs compared: every registered method, and packing (PacGAN) on the
#: methods whose critic takes it (the PacGAN paper's rows are GAN + packing).
SPECS = ("wgan-ts", "ot", "wgan-gp", "wgan", "gan", "nsgan", "rfgan", "xicfg",
         "gan+pack2", "gan+pack4", "nsgan+pack4", "wgan-gp+pack4", "wgan+pack4")
DATA = ("ring", "grid")
SEEDS = "0,1,2"
#: Generator iterations: the budget of the tables of docs/results.md (xicfg:
#: the same discriminator updates, 3 000 / T with T = 25).
ITERS = 3000
XICFG_ITERS = 120
TUNE_SEED = 1000
DEFAULT_TUNE = 8


def _iters(spec: str) -> int:
    return XICFG_ITERS if spec.split("+")[0] == "xicfg" else ITERS


def commands(tune: int) -> list[str]:
    """One ``otgan compare`` per (data, spec), then the collect lines."""
    lines = []
    for data in DATA:
        for spec in SPECS:
            lines.append(f"python -m otgan compare --methods {spec} --data {data} "
                         f"--iters {_iters(spec)} --seeds {SEEDS} --tune {tune} "
                         f"--tune-seed {TUNE_SEED} --jobs 1 --quiet "
                         f"--out runs/fair/{data}/{spec}")
    code = '--code "commit $(git rev-parse --short HEAD)"'
    for data in DATA:
        for spec in SPECS:
            lines.append(f"python benchmarks/results_tables.py collect --table fair-{data} "
                         f"{code} --command \"python -m otgan compare --methods {spec} "
                         f"--data {data} --iters {_iters(spec)} --seeds {SEEDS} "
                         f"--tune {tune} --tune-seed {TUNE_SEED} --jobs 1 --quiet "
                         f"--out runs/fair/{data}/{spec}\" runs/fair/{data}/{spec}")
    lines.append("python benchmarks/results_tables.py write")
    return lines


def seconds_per_iter(spec: str, data: str, steps: int) -> float:
    """Median seconds of one generator iteration of ``spec`` at its reference
    setting (after 3 warm-up iterations: numba and torch allocate)."""
    from otgan.gan import TrainConfig
    from otgan.gan.addons import parse_method_spec
    from otgan.gan.training.trainer import Trainer

    method, addons = parse_method_spec(spec)
    cfg = TrainConfig(method=method, data=data, iters=steps + 3, device="cpu",
                      log_every=10 ** 6, eval_every=10 ** 6, **{a: True for a in addons})
    tr = Trainer(cfg)
    tr.pretrain()  # rfgan's autoencoder: once per run, outside the step (not timed)
    for _ in range(3):
        tr.step()
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        tr.step()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def estimate(tune: int, steps: int) -> str:
    import torch

    from _common import write_table

    torch.set_num_threads(1)
    rows, total = [], 0.0
    for data in DATA:
        for spec in SPECS:
            s = seconds_per_iter(spec, data, steps)
            runs = tune + len(SEEDS.split(","))
            cpu = s * _iters(spec) * runs
            total += cpu
            rows.append(f"| {data} | {spec} | {1000 * s:.1f} | {_iters(spec)} | {runs} | "
                        f"{cpu / 60:.0f} |")
    table = "\n".join(["| data | spec | ms / it. (reference setting) | iters | runs "
                       "(K + 3 seeds) | CPU min |", "|---|---|---|---|---|---|"] + rows)
    table += f"\n\nTotal: about {total / 3600:.1f} CPU hours for --tune {tune}."
    notes = ("Median of the timed iterations after 3 warm-up ones, one torch thread, each "
             "spec at its reference setting and batch 64; the tuning trials' batches, "
             "critic steps and plans vary around it, and every run adds its final "
             "evaluation. The machine was shared with other work: noisy.")
    path = write_table("fair_estimate", f"Estimated CPU time of benchmarks/fair_compare.sh "
                       f"(--tune {tune})", table, notes)
    return f"{table}\n\nwrote {path}"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("commands", help="print the comparison's commands")
    c.add_argument("--tune", type=int, default=DEFAULT_TUNE)
    e = sub.add_parser("estimate", help="time each spec's iteration; estimate the CPU time")
    e.add_argument("--tune", type=int, default=DEFAULT_TUNE)
    e.add_argument("--steps", type=int, default=20, help="timed iterations per spec")
    args = ap.parse_args(argv)
    if args.cmd == "commands":
        print("\n".join(commands(args.tune)))
    else:
        print(estimate(args.tune, args.steps))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
