"""Generator-step time of WGAN-TS and ``ot`` beside WGAN-GP at large batches (issue #24, item 5).

One generator iteration (``Trainer.step()``: the method's critic steps and
LPs, then the generator step) is timed on the 2-D ``ring`` and ``grid`` data
for batch sizes 64 ... 4096, each method at its own defaults
(:class:`otgan.gan.TrainConfig`: WGAN-TS 1 LP of ``n_r`` regressions per
iteration; WGAN-GP 5 critic steps), one torch thread, CPU unless
``--device cuda``. A few warm-up iterations run first (numba compiles, torch
allocates); the table gives the median of the timed ones and the exact-LP
method ``auto`` chose for the last batch.

    OMP_NUM_THREADS=1 NUMBA_NUM_THREADS=1 .venv/bin/python benchmarks/bench_gan_step.py \\
        [--batches 64 256 1024 4096] [--device cpu]

Writes docs/_bench_gan_step.md and docs/results/gan_step_<device>.json
(not with ``--smoke``).
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import DOCS, machine, write_atomic, write_table  # noqa: E402

import otgan  # noqa: E402
from otgan.gan import TrainConfig  # noqa: E402
from otgan.gan.training.trainer import Trainer  # noqa: E402

METHODS = ("wgan-ts", "ot", "wgan-gp")


def time_steps(method: str, data: str, batch: int, device: str, warmup: int, iters: int):
    cfg = TrainConfig(method=method, data=data, batch=batch, iters=warmup + iters, seed=0,
                      device=device, eval_every=10 ** 6, log_every=10 ** 6)
    trainer = Trainer(cfg)
    for _ in range(warmup):
        trainer.step()
    times = []
    for _ in range(iters):
        if device == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        trainer.step()
        if device == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    lp_method = None
    if method in ("wgan-ts", "ot") and trainer.last_batch is not None:
        # the solver auto picks for the step's last batch (solved again, untimed)
        y, x = (t.detach().cpu().double().numpy() for t in trainer.last_batch)
        lp_method = otgan.solve_samples(y, x, metric=cfg.metric, p=cfg.p).method
    return statistics.median(times), lp_method


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batches", type=int, nargs="+", default=[64, 256, 1024, 4096])
    ap.add_argument("--data", nargs="+", default=["ring", "grid"])
    ap.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    ap.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--iters", type=int, default=5)
    ap.add_argument("--smoke", action="store_true", help="batch 64, 1 iteration, writes nothing")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    if args.smoke:
        args.batches, args.data, args.warmup, args.iters = [64], ["ring"], 1, 1
    rows = []
    for data in args.data:
        for batch in args.batches:
            base = None
            for method in args.methods:
                t, lp = time_steps(method, data, batch, args.device, args.warmup, args.iters)
                rows.append({"data": data, "batch": batch, "method": method, "ms": t * 1e3,
                             "lp_method": lp})
                print(f"{data:>5} {batch:>5} {method:>8}: {t * 1e3:9.1f} ms  {lp or ''}",
                      flush=True)
    for r in rows:
        gp = next(q for q in rows if q["data"] == r["data"] and q["batch"] == r["batch"]
                  and q["method"] == "wgan-gp") if "wgan-gp" in args.methods else None
        r["vs_wgan_gp"] = r["ms"] / gp["ms"] if gp else None
    if args.smoke:
        return
    command = ("OMP_NUM_THREADS=1 NUMBA_NUM_THREADS=1 .venv/bin/python "
               "benchmarks/bench_gan_step.py " + " ".join(argv if argv is not None
                                                          else sys.argv[1:]))
    record = {"command": command.strip(), "machine": machine(), "device": args.device,
              "measured": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
              "warmup": args.warmup, "iters": args.iters, "rows": rows}
    (DOCS / "results").mkdir(exist_ok=True)
    write_atomic(DOCS / "results" / f"gan_step_{args.device}.json",
                 json.dumps(record, indent=1) + "\n")
    lines = ["| data | batch | method | ms / generator iteration (median) | / WGAN-GP | LP |",
             "|---|---|---|---|---|---|"]
    for r in rows:
        ratio = f"{r['vs_wgan_gp']:.2f}x" if r["vs_wgan_gp"] is not None else "—"
        lines.append(f"| {r['data']} | {r['batch']} | {r['method']} | {r['ms']:.1f} | {ratio} "
                     f"| {r['lp_method'] or '—'} |")
    write_table(f"gan_step_{args.device}",
                f"GAN generator-step time at large batches ({args.device}, one torch thread)",
                "\n".join(lines),
                f"Command: `{record['command']}`; median of {args.iters} iterations after "
                f"{args.warmup} warm-up ones. Run summary: docs/results/gan_step_{args.device}.json.")


if __name__ == "__main__":
    main()
