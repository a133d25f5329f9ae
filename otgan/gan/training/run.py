"""Run directories: the training loop with progress bar, logs, checkpoints,
plots and report (used by ``otgan train``, ``otgan compare`` and ``otgan demo``).

Layout of ``out/``::

    config.json           the full TrainConfig (of the latest start or resume), in
                          sections (TrainConfig.to_json)
    config_history.jsonl  one JSON line per start / resume: the configuration, and
                          what a resume changed (e.g. {"iters": [400, 450]})
    metrics.jsonl         one JSON line per log step (every log_every iterations, and
                          every eval_every with the log condition number and a
                          1 000-sample exact W1 / floor); a final
                          {"event": "eval", ...} line; first, for a method that
                          pretrains (rfgan), an {"event": "pretrain", ...} line
    autoencoder.pt        rfgan: its pretraining cache (Method.pretrain), reused
                          on resume
    ckpt.pt               latest checkpoint with its SHA-256 digest inside, at the
                          start, every ckpt_every iterations and at the end
    eval.json             final metrics
    samples.png           generated samples over held-out data (2-D), or grids of
                          generated and held-out real images side by side (digits)
    w_curve.png           exact batch W and critic estimate over iterations
    report.md             summary with the plots
    .otgan.lock           held (flock) by the run using the directory

Rules: every argument and the directory's state are validated before anything
is created; a run holds an exclusive lock on its directory for its lifetime;
every file except the append-only ``metrics.jsonl`` is written atomically.

Examples
--------
>>> import os, tempfile
>>> from otgan.gan.training.config import TrainConfig
>>> out = os.path.join(tempfile.mkdtemp(), "run")
>>> metrics = train_run(TrainConfig(method="gan", data="ring", iters=3, batch=16), out,
...                     progress=False, evaluate=False)
>>> sorted(f for f in os.listdir(out) if f.endswith(".json"))[:1]
['config.json']
"""
from __future__ import annotations

import json
import os
import statistics
import time
from typing import Any, Sequence

from ...errors import CheckpointError, RunError
from ..addons import ADDONS, method_spec, parse_method_spec
from .config import METHODS, RUNTIME_FIELDS, TrainConfig
from .distributed import SINGLE_PROCESS, ShardGroup
from .rundir import (RunLock, check_out_dir, make_out_dir, replace_atomic, temp_path,
                     write_text_atomic)
from .trainer import Trainer, resolve_device

__all__ = ["train_run", "compare", "format_compare_table", "format_tune_table",
           "read_run_config", "check_run_state", "LIBRARY_NAMES"]

CONFIG_FILE = "config.json"
CHECKPOINT_FILE = "ckpt.pt"
LOG_FILE = "metrics.jsonl"
HISTORY_FILE = "config_history.jsonl"

#: How :func:`train_run`, :func:`check_run_state` and :func:`compare` name
#: their arguments in the remedies their messages suggest. Their ``names``
#: argument overrides them: the command line passes its flags
#: (``{"resume": "--resume", "overwrite": "--overwrite", "out": "--out",
#: "iters": "--iters"}``), so that a message says what to type.
LIBRARY_NAMES = {"resume": "resume=True", "overwrite": "overwrite=True", "out": "out",
                 "iters": "iters", "methods": "methods", "seeds": "seeds"}


def _names(names) -> dict:
    return {**LIBRARY_NAMES, **(names or {})}


def _write_jsonl(path: str, rows) -> None:
    write_text_atomic(path, "".join(json.dumps(r) + "\n" for r in rows))


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def read_run_config(out: str) -> TrainConfig:
    """The configuration saved in run directory ``out`` (``out/config.json``).

    Raises
    ------
    RunError
        The file is missing or does not hold a valid configuration.
    """
    if not os.path.isdir(out):
        raise RunError(f"cannot resume: run directory {out!r} does not exist")
    cfg_path = os.path.join(out, CONFIG_FILE)
    if not os.path.isfile(cfg_path):
        raise RunError(f"cannot resume: {cfg_path} does not exist")
    try:
        with open(cfg_path) as fh:
            return TrainConfig.from_dict(json.load(fh))
    except (OSError, ValueError, TypeError) as exc:
        raise RunError(f"cannot resume: {cfg_path} is invalid: {exc}") from None


def check_run_state(config: TrainConfig, out: str, *, resume: bool = False,
                    overwrite: bool = False, names=None) -> None:
    """Refuse what :func:`train_run` would refuse about ``out`` and its state,
    creating nothing: an unusable path (:func:`~otgan.gan.training.rundir.check_out_dir`),
    a resume without a run there or with a configuration that differs outside
    :data:`~otgan.gan.training.config.RUNTIME_FIELDS` and ``iters``, a fresh start into
    a run without ``overwrite``. ``names``: see :data:`LIBRARY_NAMES`.

    Raises
    ------
    RunError
    """
    check_out_dir(out, _names(names)["out"])
    _check_run_state(config, out, resume, overwrite, names)


def _check_run_state(config: TrainConfig, out: str, resume: bool, overwrite: bool,
                     names=None, can_resume: bool = True) -> None:
    # Checked once before anything is created (a refused command leaves
    # nothing behind) and again under the lock (the authoritative check).
    n = _names(names)
    if resume:
        saved = read_run_config(out)
        # iters may change on resume (the checkpoint decides whether the new
        # budget is still ahead of the iterations done)
        diff = saved.differences(config, ignore=RUNTIME_FIELDS + ("iters",))
        if diff:
            raise RunError("cannot resume, configuration differs: " + "; ".join(diff))
    elif not overwrite and any(os.path.exists(os.path.join(out, f))
                               for f in (CHECKPOINT_FILE, CONFIG_FILE)):
        how = (f"pass {n['resume']} to continue it, {n['overwrite']} to replace it"
               if can_resume else f"pass {n['overwrite']} to replace it")
        raise RunError(f"{out} already holds a run; {how}, or choose another {n['out']}")


def _append_history(path: str, event: dict) -> None:
    old = ""
    if os.path.isfile(path):
        with open(path) as fh:
            old = fh.read()
        if old and not old.endswith("\n"):
            old += "\n"
    write_text_atomic(path, old + json.dumps(event) + "\n")


def _inside(path, directory: str) -> bool:
    if not isinstance(path, (str, bytes, os.PathLike)):
        return False
    try:
        return os.path.commonpath([os.path.abspath(os.fsdecode(path)),
                                   os.path.abspath(directory)]) == os.path.abspath(directory)
    except ValueError:  # different drives
        return False


def train_run(config: TrainConfig, out: str, *, resume: bool = False, progress: bool = True,
              stop_after: int | None = None, evaluate: bool = True,
              overwrite: bool = False, group: ShardGroup | None = None,
              names=None) -> dict:
    """Train ``config`` into directory ``out`` and return the final metrics.

    Everything is validated before ``out`` is created: the path (a writable
    directory or creatable as one), the directory's state (see ``resume`` and
    ``overwrite``), the device and the data. The run then holds an exclusive
    lock on ``out`` (:class:`otgan.gan.training.rundir.RunLock`) until it returns, so a
    second run into the same directory is refused instead of mixing with it.

    Parameters
    ----------
    config : TrainConfig
    out : str
        Run directory (created).
    resume : bool
        Continue from ``out/ckpt.pt``; refused (``RunError`` listing the fields)
        if ``out/config.json`` differs from ``config`` outside the run-length
        fields (:data:`~otgan.gan.training.config.RUNTIME_FIELDS`). ``config.iters`` may
        differ: a new budget at least the iterations done extends (or ends) the
        run, re-planning the linear learning-rate decay from its current value
        (:func:`~otgan.gan.training.schedule.replan`); the change goes to ``config_history.jsonl``.
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
    group : ShardGroup, optional
        The training processes under ``torch.distributed``
        (:func:`otgan.gan.training.distributed.init_from_env`; default one process).
        Every rank trains its shard (:class:`~otgan.gan.training.trainer.Trainer`);
        only rank 0 validates and locks ``out``, writes logs, checkpoints,
        plots and the report, and evaluates. On resume rank 0 reads the
        checkpoint and broadcasts it, so the other ranks need no access to
        ``out``. The other ranks return ``{"iter", "s_per_iter", "rank"}``.
        Once the training loop is done every rank leaves the process group
        (:meth:`ShardGroup.finish <otgan.gan.training.distributed.ShardGroup.finish>`:
        a barrier, then ``destroy_process_group``), so the group can take no
        further collective; rank 0 then checkpoints and evaluates alone, and
        the other ranks return without waiting for it.
    names : dict, optional
        How the caller's user knows ``resume``, ``overwrite``, ``out`` and
        ``iters`` in the remedies that messages suggest (:data:`LIBRARY_NAMES`).

    A fresh start writes a checkpoint of iteration 0 at once (replacing any
    left by a run it overwrites), so an interrupted run can always be resumed
    from the checkpoint on disk, which is written atomically and is therefore
    whole whenever the run is interrupted (``KeyboardInterrupt`` propagates).

    Raises
    ------
    RunError
        Unusable ``out``, a directory in use by another run, a refused resume
        or fresh start, a checkpoint that fails to load or verify, or a write
        into ``out`` that failed.
    ValueError
        Unknown data or an unavailable device.
    """
    group = SINGLE_PROCESS if group is None else group
    if not group.is_main:
        trainer = Trainer(config, group=group)
        return _train_replica(trainer, resume=resume, stop_after=stop_after)
    check_run_state(config, out, resume=resume, overwrite=overwrite, names=names)
    trainer = Trainer(config, group=group)  # device, data, networks: may fail, nothing created
    make_out_dir(out)
    with RunLock(out):
        try:
            return _train_locked(trainer, out, resume=resume, overwrite=overwrite,
                                 progress=progress, stop_after=stop_after, evaluate=evaluate,
                                 names=names)
        except OSError as exc:
            if not _inside(exc.filename, out):
                raise
            raise RunError(f"out {out!r}: cannot write {os.fsdecode(exc.filename)!r}: "
                           f"{exc.strerror or exc}") from None


def _train_locked(trainer: Trainer, out: str, *, resume: bool, overwrite: bool,
                  progress: bool, stop_after, evaluate: bool, names=None) -> dict:
    config = trainer.cfg
    cfg_path, ckpt = os.path.join(out, CONFIG_FILE), os.path.join(out, CHECKPOINT_FILE)
    log_path, hist_path = os.path.join(out, LOG_FILE), os.path.join(out, HISTORY_FILE)
    _check_run_state(config, out, resume, overwrite, names)
    # before the checkpoint, which holds the networks it trains: reuses its cache in out
    trainer.pretrain(out)
    if resume:
        try:
            trainer.load_checkpoint(ckpt, iters_name=_names(names)["iters"])
        except CheckpointError as exc:
            _share_checkpoint(trainer.group, None)  # the other ranks stop too
            raise RunError(f"cannot resume: {exc}") from None
        _share_checkpoint(trainer.group, trainer.state_dict())
        before = trainer.checkpoint_config.to_dict(full=True)
        after = config.to_dict(full=True)
        event = {"event": "resume", "time": _now(), "iteration": trainer.iteration,
                 "changed": {k: [before[k], after[k]] for k in after if before[k] != after[k]}}
        if "iters" in event["changed"] and config.lr_decay == "linear":
            event["lr_plan"] = trainer.lr_plan
        _append_history(hist_path, event)
        # drop lines logged after the checkpoint
        _write_jsonl(log_path, _pretrain_lines(trainer) + trainer.history)
    else:
        write_text_atomic(hist_path, json.dumps({"event": "start", "time": _now(),
                                                 "iteration": 0,
                                                 "config": config.to_dict()}) + "\n")
        _write_jsonl(log_path, _pretrain_lines(trainer))
    write_text_atomic(cfg_path, config.to_json() + "\n")
    if not resume:
        # iteration 0 at once: the checkpoint of a run this one overwrites must
        # not outlive it, and an interrupted start can be resumed
        trainer.save_checkpoint(ckpt)

    end = config.iters if stop_after is None else min(config.iters, stop_after)
    start = trainer.iteration
    bar = None
    if progress:
        from tqdm import tqdm
        bar = tqdm(total=config.iters, initial=trainer.iteration,
                   desc=method_spec(config.method, config.addons),
                   dynamic_ncols=True, leave=True)
    try:
        _loop(trainer, config, end, ckpt, log_path, bar)
    finally:
        if bar is not None:  # also on Ctrl-C: the interrupt's message starts a new line
            bar.close()
    trainer.group.finish()  # the last collective is done: leave the group together
    if resume and trainer.iteration == start:
        # a resume that took no step: still write the checkpoint, so that it
        # records a changed budget (and gives an old checkpoint its digest)
        trainer.save_checkpoint(ckpt)
    if not evaluate or trainer.iteration < config.iters:
        return {"iter": trainer.iteration, "s_per_iter":
                trainer.train_seconds / max(1, trainer.iteration)}
    metrics = trainer.evaluate()
    with open(log_path, "a") as log:
        log.write(json.dumps(dict(metrics, event="eval")) + "\n")
    write_text_atomic(os.path.join(out, "eval.json"), json.dumps(metrics, indent=2) + "\n")
    _write_plots(trainer, out)
    _write_report(trainer, metrics, out)
    return metrics


def _loop(trainer: Trainer, config: TrainConfig, end: int, ckpt: str, log_path: str,
          bar) -> None:
    """Rank 0's training loop: steps, log lines, checkpoints."""
    with open(log_path, "a") as log:
        while trainer.iteration < end:
            stats = trainer.step()
            it = trainer.iteration
            if _logs_now(config, it, end):
                entry = trainer.log_entry(stats)
                if it % config.eval_every == 0:  # outside the timed step, like the batch W
                    entry.update(trainer.progress_metrics())
                trainer.history.append(entry)
                log.write(json.dumps(entry) + "\n")
                log.flush()
                if bar is not None:
                    post = {"W": f"{entry.get('batch_w', float('nan')):.4f}"}
                    if "critic" in entry:  # a method without a critic has no estimate
                        post["critic"] = f"{entry['critic']:.4f}"
                    bar.set_postfix(post, refresh=False)
            if bar is not None:
                bar.update(1)
            if it % config.ckpt_every == 0 or it == end:
                trainer.save_checkpoint(ckpt)


def _logs_now(config: TrainConfig, it: int, end: int) -> bool:
    """Whether iteration ``it`` writes a log line (every rank asks: the line's
    exact batch W of the global batch is a collective)."""
    return it % config.log_every == 0 or it == end or it % config.eval_every == 0


def _share_checkpoint(group: ShardGroup, state: dict | None) -> dict | None:
    """Rank 0's loaded checkpoint state (or ``None``: it failed) to every rank."""
    return group.broadcast_object(state)


def _train_replica(trainer: Trainer, *, resume: bool, stop_after) -> dict:
    """The loop of a rank other than 0: the same steps and collectives as rank
    0's :func:`_train_locked`, no files, no evaluation."""
    config = trainer.cfg
    trainer.pretrain(None)
    if resume:
        state = _share_checkpoint(trainer.group, None)
        if state is None:
            raise RunError(f"rank {trainer.group.rank}: rank 0 could not load the checkpoint")
        trainer.load_state_dict(state, source="rank 0's checkpoint")
    end = config.iters if stop_after is None else min(config.iters, stop_after)
    while trainer.iteration < end:
        stats = trainer.step()
        if _logs_now(config, trainer.iteration, end):
            trainer.history.append(trainer.log_entry(stats))
    trainer.group.finish()  # with rank 0, after the last collective
    return {"iter": trainer.iteration, "rank": trainer.group.rank,
            "s_per_iter": trainer.train_seconds / max(1, trainer.iteration)}


def _pretrain_lines(trainer) -> list[dict]:
    # the first line of metrics.jsonl for a method that pretrains
    return [dict(trainer.pretrain_logs, event="pretrain")] if trainer.pretrain_logs else []


def _write_plots(trainer, out: str) -> None:
    from ..evaluation.plots import plot_samples, plot_w_curve

    for name, plot in (("samples.png", plot_samples), ("w_curve.png", plot_w_curve)):
        path = os.path.join(out, name)
        tmp = temp_path(path, ".png")  # savefig reads the format from the extension
        try:
            plot(trainer, tmp)
            replace_atomic(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.remove(tmp)
            raise


def _write_report(trainer, metrics: dict, out: str) -> None:
    c = trainer.cfg
    lines = [f"# {method_spec(c.method, c.addons)} on {c.data}", "",
             f"{trainer.iteration} generator iterations, batch {c.batch}, seed {c.seed}, "
             f"{trainer.train_seconds:.1f} s of training "
             f"({metrics['s_per_iter'] * 1e3:.2f} ms per generator iteration).", "",
             "| metric | value |", "|---|---|"]
    for k, v in metrics.items():
        lines.append(f"| {k} | {v:.6g} |" if isinstance(v, float) else f"| {k} | {v} |")
    lines += ["", "![samples](samples.png)", "", "![W curve](w_curve.png)", "",
              "Configuration: [config.json](config.json)", ""]
    write_text_atomic(os.path.join(out, "report.md"), "\n".join(lines))


def _mean_sd(values, fmt):
    vals = [v for v in values if v is not None]
    if not vals:
        return "–"
    if len(vals) == 1:
        return fmt.format(vals[0])
    return f"{fmt.format(statistics.mean(vals))} ± {fmt.format(statistics.stdev(vals))}"


def format_compare_table(results: dict, data: str) -> str:
    """Markdown table from ``{method spec: [metrics per seed]}`` (mean ± sd over seeds).

    Columns: the mode metrics where the data have modes (``ring``, ``grid``,
    ...), the classifier metrics for ``digits``
    (:func:`otgan.gan.evaluation.metrics.digit_metrics`: classifier score, with the
    held-out digits' own score as its reference; Fréchet distance and its
    real-vs-real floor; classes covered), then the exact W1 with its noise
    floor, the log condition number and the timings.

    Examples
    --------
    >>> r = {"gan": [{"classifier_score": 8.0, "classifier_score_real": 9.5,
    ...               "frechet_distance": 40.0, "frechet_floor": 20.0, "classes_covered": 10,
    ...               "w1": 15.0, "noise_floor": 12.5, "w1_over_floor": 1.2,
    ...               "s_per_iter": 0.01, "iter": 100}]}
    >>> print(format_compare_table(r, "digits").splitlines()[2])
    | gan | 1 | 8.00 | 9.50 | 40.0 | 20.0 | 10.0 / 10 | 15.0000 | 12.5000 | 1.20 | 0.0100 | 1 |
    """
    any_modes = any("modes" in r for rs in results.values() for r in rs)
    any_digits = any("classifier_score" in r for rs in results.values() for r in rs)
    head = ["method", "seeds"]
    if any_modes:
        head += ["modes", "% high quality"]
    if any_digits:
        head += ["classifier score", "real digits' score", "Fréchet dist.", "Fréchet floor",
                 "classes covered"]
    any_cond = any("log_condition_number_mean" in r for rs in results.values() for r in rs)
    head += ["exact W1", "noise floor", "W1 / floor"]
    head += ["log cond. G"] if any_cond else []
    head += ["s / gen. iter", "train s"]
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for method, rs in results.items():
        cells = [method, str(len(rs))]
        if any_modes:
            n_modes = rs[0].get("n_modes", "?")
            cells += [_mean_sd([r.get("modes") for r in rs], "{:.1f}") + f" / {n_modes}",
                      _mean_sd([r.get("pct_hq") for r in rs], "{:.1f}")]
        if any_digits:
            real = rs[0].get("classifier_score_real")
            floor = rs[0].get("frechet_floor")
            cells += [_mean_sd([r.get("classifier_score") for r in rs], "{:.2f}"),
                      "–" if real is None else f"{real:.2f}",
                      _mean_sd([r.get("frechet_distance") for r in rs], "{:.1f}"),
                      "–" if floor is None else f"{floor:.1f}",
                      _mean_sd([r.get("classes_covered") for r in rs], "{:.1f}") + " / 10"]
        cells += [_mean_sd([r["w1"] for r in rs], "{:.4f}"),
                  f"{rs[0]['noise_floor']:.4f}",
                  _mean_sd([r["w1_over_floor"] for r in rs], "{:.2f}")]
        if any_cond:
            cells.append(_mean_sd([r.get("log_condition_number_mean") for r in rs], "{:.2f}"))
        cells += [_mean_sd([r["s_per_iter"] for r in rs], "{:.4f}"),
                  _mean_sd([r["s_per_iter"] * r["iter"] for r in rs], "{:.0f}")]
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows) + "\n"


def use_threads(n: int) -> None:
    """Train on ``n`` threads: torch's and numba's (whose idle OpenMP workers
    would otherwise spin beside a one-thread torch; see
    :func:`otgan.kernels.limit_threads`)."""
    import torch

    from ...kernels import limit_threads

    torch.set_num_threads(n)
    limit_threads(n)


def _compare_worker(cfg_dict: dict, run_dir: str, overwrite: bool) -> dict:
    use_threads(1)  # one thread per worker: the runs share the machine's cores
    t0 = time.perf_counter()
    m = train_run(TrainConfig.from_dict(cfg_dict), run_dir, progress=False, overwrite=overwrite)
    m["wall_s"] = time.perf_counter() - t0
    return m


def compare(methods: Sequence[str], seeds: Sequence[int], out: str, *, progress: bool = True,
            jobs: int = 1, overwrite: bool = False, names=None, tune: int = 0,
            tune_seed: int | None = None, **options: Any) -> str:
    """Train every method for every seed on the same budget; write ``out/compare.md``
    and ``out/compare.json``; return the markdown table.

    ``methods`` are method specs ``method+addon+...`` (``"gan"``, ``"gan+jc"``,
    ``"wgan-ts+jc+lens"``; :func:`otgan.gan.addons.parse_method_spec`); runs go
    to ``out/<spec>/seed<k>`` and the table's rows are the specs.
    ``options`` are :class:`TrainConfig` fields shared by all runs (``data``,
    ``iters``, ``batch``, ...); optimiser settings left unset take each method's
    own defaults. An add-on switched on in ``options`` (``jc=True``) applies to
    every method; an add-on's own options (``jc_eps``, ``lens_k``) go to the
    runs that use it (refused if none does). ``jobs > 1`` runs that many trainings at once in separate
    processes, one torch thread each (the timing columns then reflect a shared
    machine).

    Every run is validated (configuration, device, data, each run directory's
    state, no method spec or seed given twice) before ``out`` is created and
    the first run trains; ``out`` is locked for the whole comparison and each
    run directory by its run. ``names``: how messages name ``methods``,
    ``seeds``, ``overwrite`` and ``out`` (:data:`LIBRARY_NAMES`).

    ``tune = K >= 1`` gives every method the same tuning budget
    (:mod:`otgan.gan.training.tune`): ``K`` settings around its reference,
    each trained on ``tune_seed`` (default
    :data:`~otgan.gan.training.tune.DEFAULT_TUNE_SEED`, which must not be
    one of ``seeds``) in ``out/<spec>/tune/trial<k>``; the one with the
    smallest W1 / floor wins (the earliest trial on a tie), and ``seeds`` are
    trained at it. ``out/tune.json`` records, per spec, every trial's
    setting and score, the winner and how many were tried (rewritten
    atomically after the tuning phase); ``compare.md`` lists "setting won /
    K tried" under the table, and every record of ``compare.json`` holds its
    ``"tune"`` entry.
    """
    n = _names(names)
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs must be an integer >= 1, got {jobs!r}")
    check_out_dir(out, n["out"])
    seeds = list(seeds)
    repeated = sorted({s for s in seeds if seeds.count(s) > 1}, key=seeds.index)
    if repeated:  # the second run of a seed would find the first one's directory
        raise ValueError(f"{n['seeds']} repeats {', '.join(map(str, repeated))}: "
                         f"name each seed once")
    shared = {k: v for k, v in options.items() if k not in ADDONS}
    for name, addon in ADDONS.items():
        for o in addon.options:
            shared.pop(o, None)
    for cls in METHODS.values():  # a method's own options go to its runs only
        for o in cls.options:
            shared.pop(o, None)
    specs = []
    for spec in methods:
        method, addons = parse_method_spec(spec)
        addons = tuple(a for a in ADDONS if a in addons or options.get(a))
        parse_method_spec(method_spec(method, addons))  # e.g. ot with lens=True: refused
        specs.append((method_spec(method, addons), method, addons))
    _refuse_repeated_specs(list(methods), [s for s, _, _ in specs], n["methods"])
    for name, addon in ADDONS.items():
        given = [o for o in addon.options if options.get(o) is not None]
        if given and not any(name in a for _, _, a in specs):
            raise ValueError(f"{', '.join(given)} given but no method uses the {name!r} "
                             f"add-on (write e.g. {specs[0][1] if specs else 'gan'}+{name})")
    for o in sorted({o for cls in METHODS.values() for o in cls.options}):
        if options.get(o) is not None and not any(o in METHODS[m].options for _, m, _ in specs):
            users = ", ".join(n for n, cls in METHODS.items() if o in cls.options)
            raise ValueError(f"{o} given but no method compared uses it (only {users})")
    if isinstance(tune, bool) or not isinstance(tune, int) or tune < 0:
        raise ValueError(f"tune must be an integer >= 0 (0: no tuning), got {tune!r}")
    if tune_seed is None:
        from .tune import DEFAULT_TUNE_SEED

        tune_seed = DEFAULT_TUNE_SEED
    if isinstance(tune_seed, bool) or not isinstance(tune_seed, int) or tune_seed < 0:
        raise ValueError(f"tune_seed must be an integer >= 0, got {tune_seed!r}")
    if tune and tune_seed in seeds:
        raise ValueError(f"the tuning seed {tune_seed} is one of {n['seeds']}: the tuning "
                         f"runs must be held out from the runs reported")
    runs, trials, bases = [], [], {}
    for spec, method, addons in specs:
        own = {o: options[o] for a in addons for o in ADDONS[a].options
               if options.get(o) is not None}
        own.update({o: options[o] for o in METHODS[method].options
                    if options.get(o) is not None})
        for seed in seeds:
            cfg = TrainConfig(**{**shared, **own, **{a: True for a in addons},
                                 "method": method, "seed": seed})
            runs.append((spec, cfg, os.path.join(out, spec, f"seed{seed}")))
        if tune:
            from .tune import apply_setting, draw_settings

            base = TrainConfig(**{**shared, **own, **{a: True for a in addons},
                                  "method": method, "seed": tune_seed})
            fixed = tuple(k for k, v in options.items() if v is not None)
            settings = draw_settings(base, tune, tune_seed, fixed=fixed, spec=spec)
            bases[spec] = (base, settings, fixed)
            for k, setting in enumerate(settings):
                trials.append((f"{spec}/trial{k}", apply_setting(base, setting),
                               os.path.join(out, spec, "tune", f"trial{k}")))
    if not runs:
        raise ValueError("compare needs at least one method and one seed")
    # Validate every run before training the first, and before creating anything:
    # a refusal after an hour of training the first methods helps nobody.
    from ..data import load_dataset

    resolve_device(runs[0][1].device)
    load_dataset(runs[0][1].data)
    for _, cfg, run_dir in trials + runs:
        check_out_dir(run_dir)
        _check_run_state(cfg, run_dir, resume=False, overwrite=overwrite, names=names,
                         can_resume=False)
    make_out_dir(out)
    with RunLock(out):
        tuned = None
        if tune:
            scores = _compare_locked(trials, [t for t, _, _ in trials], progress, jobs,
                                     overwrite)
            tuned = _tune_record(bases, scores, tune, tune_seed)
            write_text_atomic(os.path.join(out, "tune.json"),
                              json.dumps(tuned, indent=2) + "\n")
            # the reported seeds at each spec's winning setting
            from .tune import apply_setting

            runs = [(spec, apply_setting(cfg, bases[spec][1][tuned[spec]["winner"]]), d)
                    for spec, cfg, d in runs]
        results = _compare_locked(runs, [s for s, _, _ in specs], progress, jobs, overwrite)
        if tuned is not None:
            for spec, rs in results.items():
                for r in rs:
                    t = tuned[spec]
                    r["tune"] = {k: t[k] for k in
                                 ("winner", "tried", "setting", "space_size", "tune_seed")}
                    r["tune"]["axes"] = t["trials"][t["winner"]]["setting"]
        cfg = runs[0][1]
        table = format_compare_table(results, cfg.data)
        write_text_atomic(os.path.join(out, "compare.json"),
                          json.dumps(results, indent=2) + "\n")
        header = (f"# compare on {cfg.data}: {cfg.iters} generator iterations, "
                  f"batch {cfg.batch}, seeds {','.join(map(str, seeds))}\n\n")
        footer = "" if tuned is None else "\n" + format_tune_table(tuned)
        write_text_atomic(os.path.join(out, "compare.md"), header + table + footer)
    return table + footer


def _tune_record(bases: dict, scores: dict, tune: int, tune_seed: int) -> dict:
    """``tune.json``: per spec, every trial's setting and score and the winner
    (smallest W1 / floor; the earliest trial on a tie)."""
    from .tune import describe_setting, space_size

    record = {}
    for spec, (base, settings, fixed) in bases.items():
        rows = []
        for k, setting in enumerate(settings):
            (m,) = scores[f"{spec}/trial{k}"]
            rows.append({"trial": k, "setting": setting,
                         "changes": describe_setting(base, setting),
                         "w1_over_floor": m.get("w1_over_floor"),
                         "modes": m.get("modes"), "pct_hq": m.get("pct_hq")})
        ok = [r for r in rows if r["w1_over_floor"] is not None]
        if not ok:
            raise RunError(f"tuning {spec!r}: no trial was evaluated (no W1 / floor)")
        best = min(ok, key=lambda r: (r["w1_over_floor"], r["trial"]))
        record[spec] = {"winner": best["trial"], "tried": tune, "tune_seed": tune_seed,
                        "setting": best["changes"], "space_size": space_size(base, fixed),
                        "trials": rows}
    return record


def format_tune_table(tuned: dict) -> str:
    """Markdown: per spec, the setting that won, "trial k / K tried" and its
    W1 / floor on the tuning seed.

    Examples
    --------
    >>> print(format_tune_table({"gan": {"winner": 1, "tried": 3, "tune_seed": 1000,
    ...     "setting": "lr_g 0.0006", "space_size": 24,
    ...     "trials": [{"w1_over_floor": 3.0}, {"w1_over_floor": 2.0}, {}]}}).splitlines()[2])
    | gan | lr_g 0.0006 | trial 1 / 3 tried | 2.00 | 1000 |
    """
    rows = ["| method | setting won | tuning | W1 / floor (tuning seed) | tuning seed |",
            "|---|---|---|---|---|"]
    for spec, t in tuned.items():
        score = t["trials"][t["winner"]].get("w1_over_floor")
        rows.append(f"| {spec} | {t['setting']} | trial {t['winner']} / {t['tried']} tried | "
                    f"{'–' if score is None else f'{score:.2f}'} | {t['tune_seed']} |")
    return "\n".join(rows) + "\n"


def _refuse_repeated_specs(given: list[str], specs: list[str], name: str) -> None:
    """``ValueError`` naming a run spec that two entries of ``given`` both
    produce (``gan,gan``; ``gan,gan+jc`` with ``jc`` on for every method)."""
    for spec in dict.fromkeys(specs):
        origins = [g for g, s in zip(given, specs) if s == spec]
        if len(origins) < 2:
            continue
        if len(set(origins)) == 1:
            raise ValueError(f"{name} repeats {origins[0]!r}: name each method once")
        raise ValueError(f"{name}: {' and '.join(map(repr, dict.fromkeys(origins)))} are "
                         f"the same runs, {spec!r} (an add-on switched on for every "
                         f"method applies to each); name each method once")


def _compare_locked(runs, methods, progress: bool, jobs: int, overwrite: bool) -> dict:
    results: dict = {m: [] for m in methods}
    if jobs == 1:
        for spec, cfg, run_dir in runs:
            t0 = time.perf_counter()
            m = train_run(cfg, run_dir, progress=progress, overwrite=overwrite)
            m["wall_s"] = time.perf_counter() - t0
            results[spec].append(m)
    else:
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=jobs, mp_context=mp.get_context("spawn")) as ex:
            futs = [ex.submit(_compare_worker, cfg.to_dict(), d, overwrite)
                    for _, cfg, d in runs]
            for (spec, _, _), fut in zip(runs, futs):
                results[spec].append(fut.result())
    return results
