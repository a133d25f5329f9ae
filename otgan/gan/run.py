"""Run directories: the training loop with progress bar, logs, checkpoints,
plots and report (used by ``otgan train``, ``otgan compare`` and ``otgan demo``).

Layout of ``out/``::

    config.json     the full TrainConfig
    metrics.jsonl   one JSON line per log step; a final {"event": "eval", ...} line
    ckpt.pt         latest checkpoint (atomic), every ckpt_every iterations and at the end
    eval.json       final metrics
    samples.png     generated samples over held-out data (2-D) or an image grid (digits)
    w_curve.png     exact batch W and critic estimate over iterations
    report.md       summary with the plots
"""
from __future__ import annotations

import json
import os
import statistics
import time

from .config import TrainConfig
from .trainer import CheckpointError, Trainer

__all__ = ["train_run", "compare", "format_compare_table", "RunError"]


class RunError(RuntimeError):
    """A user-facing problem with a run directory (e.g. a refused resume)."""


def _write_atomic(path: str, text: str) -> None:
    tmp = f"{path}.tmp.{os.getpid()}"
    with open(tmp, "w") as fh:
        fh.write(text)
    os.replace(tmp, path)


def _write_jsonl(path: str, rows) -> None:
    _write_atomic(path, "".join(json.dumps(r) + "\n" for r in rows))


def train_run(config: TrainConfig, out: str, *, resume: bool = False, progress: bool = True,
              stop_after: int | None = None, evaluate: bool = True,
              overwrite: bool = False) -> dict:
    """Train ``config`` into directory ``out`` and return the final metrics.

    Parameters
    ----------
    config : TrainConfig
    out : str
        Run directory (created).
    resume : bool
        Continue from ``out/ckpt.pt``; refused (``RunError`` listing the fields)
        if ``out/config.json`` differs from ``config`` outside the run-length fields.
    overwrite : bool
        Start afresh in an ``out`` that already holds a run. Without it (and
        without ``resume``) such an ``out`` is refused, so no run is lost.
    progress : bool
        Show a tqdm bar with the iteration, exact batch W and critic estimate.
    stop_after : int, optional
        Stop (after checkpointing) once this many iterations are done — to
        simulate an interruption in tests.
    evaluate : bool
        Compute the final metrics, plots and report.
    """
    os.makedirs(out, exist_ok=True)
    cfg_path, ckpt = os.path.join(out, "config.json"), os.path.join(out, "ckpt.pt")
    log_path = os.path.join(out, "metrics.jsonl")
    trainer = Trainer(config)
    if resume:
        if not os.path.isfile(cfg_path):
            raise RunError(f"cannot resume: {cfg_path} does not exist")
        try:
            with open(cfg_path) as fh:
                saved = TrainConfig.from_dict(json.load(fh))
        except (ValueError, TypeError) as exc:
            raise RunError(f"cannot resume: {cfg_path} is invalid: {exc}") from None
        diff = saved.differences(config)
        if diff:
            raise RunError("cannot resume, configuration differs: " + "; ".join(diff))
        try:
            trainer.load_checkpoint(ckpt)
        except CheckpointError as exc:
            raise RunError(f"cannot resume: {exc}") from None
        _write_jsonl(log_path, trainer.history)  # drop lines logged after the checkpoint
    else:
        if not overwrite and (os.path.exists(ckpt) or os.path.exists(cfg_path)):
            raise RunError(f"{out} already holds a run; pass resume to continue it, "
                           f"overwrite to replace it, or choose another directory")
        _write_jsonl(log_path, [])
    _write_atomic(cfg_path, config.to_json() + "\n")

    end = config.iters if stop_after is None else min(config.iters, stop_after)
    bar = None
    if progress:
        from tqdm import tqdm
        bar = tqdm(total=config.iters, initial=trainer.iteration, desc=config.method,
                   dynamic_ncols=True, leave=True)
    with open(log_path, "a") as log:
        while trainer.iteration < end:
            stats = trainer.step()
            it = trainer.iteration
            if it % config.log_every == 0 or it == end:
                entry = trainer.log_entry(stats)
                trainer.history.append(entry)
                log.write(json.dumps(entry) + "\n")
                log.flush()
                if bar is not None:
                    bar.set_postfix(W=f"{entry.get('batch_w', float('nan')):.4f}",
                                    critic=f"{entry['critic']:.4f}", refresh=False)
            if bar is not None:
                bar.update(1)
            if it % config.ckpt_every == 0 or it == end:
                trainer.save_checkpoint(ckpt)
    if bar is not None:
        bar.close()
    if trainer.iteration == 0 or not os.path.isfile(ckpt):
        trainer.save_checkpoint(ckpt)
    if not evaluate or trainer.iteration < config.iters:
        return {"iter": trainer.iteration, "s_per_iter":
                trainer.train_seconds / max(1, trainer.iteration)}
    metrics = trainer.evaluate()
    with open(log_path, "a") as log:
        log.write(json.dumps(dict(metrics, event="eval")) + "\n")
    _write_atomic(os.path.join(out, "eval.json"), json.dumps(metrics, indent=2) + "\n")
    from .plots import plot_run
    plot_run(trainer, out)
    _write_report(trainer, metrics, out)
    return metrics


def _write_report(trainer, metrics: dict, out: str) -> None:
    c = trainer.cfg
    lines = [f"# {c.method} on {c.data}", "",
             f"{trainer.iteration} generator iterations, batch {c.batch}, seed {c.seed}, "
             f"{trainer.train_seconds:.1f} s of training "
             f"({metrics['s_per_iter'] * 1e3:.2f} ms per generator iteration).", "",
             "| metric | value |", "|---|---|"]
    for k, v in metrics.items():
        lines.append(f"| {k} | {v:.6g} |" if isinstance(v, float) else f"| {k} | {v} |")
    lines += ["", "![samples](samples.png)", "", "![W curve](w_curve.png)", "",
              "Configuration: [config.json](config.json)", ""]
    _write_atomic(os.path.join(out, "report.md"), "\n".join(lines))


def _mean_sd(values, fmt):
    vals = [v for v in values if v is not None]
    if not vals:
        return "–"
    if len(vals) == 1:
        return fmt.format(vals[0])
    return f"{fmt.format(statistics.mean(vals))} ± {fmt.format(statistics.stdev(vals))}"


def format_compare_table(results: dict, data: str) -> str:
    """Markdown table from ``{method: [metrics per seed]}`` (mean ± sd over seeds)."""
    any_modes = any("modes" in r for rs in results.values() for r in rs)
    head = ["method", "seeds"]
    if any_modes:
        head += ["modes", "% high quality"]
    head += ["exact W1", "noise floor", "W1 / floor", "s / gen. iter", "train s"]
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for method, rs in results.items():
        cells = [method, str(len(rs))]
        if any_modes:
            n_modes = rs[0].get("n_modes", "?")
            cells += [_mean_sd([r.get("modes") for r in rs], "{:.1f}") + f" / {n_modes}",
                      _mean_sd([r.get("pct_hq") for r in rs], "{:.1f}")]
        cells += [_mean_sd([r["w1"] for r in rs], "{:.4f}"),
                  f"{rs[0]['noise_floor']:.4f}",
                  _mean_sd([r["w1_over_floor"] for r in rs], "{:.2f}"),
                  _mean_sd([r["s_per_iter"] for r in rs], "{:.4f}"),
                  _mean_sd([r["s_per_iter"] * r["iter"] for r in rs], "{:.0f}")]
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows) + "\n"


def _compare_worker(cfg_dict: dict, run_dir: str, overwrite: bool) -> dict:
    # One thread per worker: the runs share the machine's cores.
    import torch

    torch.set_num_threads(1)
    t0 = time.perf_counter()
    m = train_run(TrainConfig.from_dict(cfg_dict), run_dir, progress=False, overwrite=overwrite)
    m["wall_s"] = time.perf_counter() - t0
    return m


def compare(methods, seeds, out: str, *, progress: bool = True, jobs: int = 1,
            overwrite: bool = False, **options) -> str:
    """Train every method for every seed on the same budget; write ``out/compare.md``
    and ``out/compare.json``; return the markdown table.

    ``options`` are :class:`TrainConfig` fields shared by all runs (``data``,
    ``iters``, ``batch``, ...); optimiser settings left unset take each method's
    own defaults. ``jobs > 1`` runs that many trainings at once in separate
    processes, one torch thread each (the timing columns then reflect a shared
    machine).
    """
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs must be an integer >= 1, got {jobs!r}")
    runs = []
    for method in methods:
        for seed in seeds:
            cfg = TrainConfig(**{**options, "method": method, "seed": seed})
            runs.append((cfg, os.path.join(out, method, f"seed{seed}")))
    if not runs:
        raise ValueError("compare needs at least one method and one seed")
    results: dict = {m: [] for m in methods}
    if jobs == 1:
        for cfg, run_dir in runs:
            t0 = time.perf_counter()
            m = train_run(cfg, run_dir, progress=progress, overwrite=overwrite)
            m["wall_s"] = time.perf_counter() - t0
            results[cfg.method].append(m)
    else:
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=jobs, mp_context=mp.get_context("spawn")) as ex:
            futs = [ex.submit(_compare_worker, cfg.to_dict(), d, overwrite) for cfg, d in runs]
            for (cfg, _), fut in zip(runs, futs):
                results[cfg.method].append(fut.result())
    cfg = runs[0][0]
    table = format_compare_table(results, cfg.data)
    _write_atomic(os.path.join(out, "compare.json"), json.dumps(results, indent=2) + "\n")
    header = (f"# compare on {cfg.data}: {cfg.iters} generator iterations, batch {cfg.batch}, "
              f"seeds {','.join(map(str, seeds))}\n\n")
    _write_atomic(os.path.join(out, "compare.md"), header + table)
    return table
