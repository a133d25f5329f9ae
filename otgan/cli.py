"""Command-line interface: ``otgan distance``, ``otgan train``, ``otgan compare``
and ``otgan demo`` (the main job: WGAN-TS on the embedded ``ring`` data).

Examples
--------
>>> args = build_parser().parse_args(["distance", "y.npy", "x.csv", "--metric", "l2"])
>>> args.A, args.B, args.metric
('y.npy', 'x.csv', 'l2')
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time
import warnings
from typing import TYPE_CHECKING, TextIO

import numpy as np

from .costs import METRICS
from .errors import CLIError, DistributedError, OTSolverError, RunError

if TYPE_CHECKING:  # pragma: no cover
    from .result import OTResult


#: ``otgan --help``'s description (the module docstring holds a doctest).
_DESCRIPTION = ("Exact, certified optimal transport on mini-batches and the GANs built on "
                "it. Commands: distance (the exact Wasserstein distance between two point "
                "files), train (train a GAN), compare (several methods x seeds -> a "
                "table), demo (WGAN-TS on 'ring' in a few minutes). 'otgan COMMAND "
                "--help' lists a command's options.")


_READERS = {
    ".npy": lambda path: np.load(path, allow_pickle=False),
    ".csv": lambda path: np.loadtxt(path, delimiter=",", ndmin=2),
    ".txt": lambda path: np.loadtxt(path, ndmin=2),
}


def load_points(path: str) -> np.ndarray:
    """Load a batch of points from ``.npy`` (no pickles), ``.csv`` or ``.txt``.

    Errors name the file: ``A.npy: is a directory``, ``A.npy: cannot read
    points: ...``."""
    if os.path.isdir(path):
        raise CLIError(f"{path}: is a directory, not a file of points")
    if not os.path.isfile(path):
        raise CLIError(f"{path}: no such file")
    ext = os.path.splitext(path)[1].lower()
    if ext not in _READERS:
        raise CLIError(f"{path}: unsupported file type {ext!r} (use .npy, .csv or .txt)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # empty files are reported below
            arr = _READERS[ext](path)
    except Exception as exc:  # numpy raises many types for malformed files
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise CLIError(f"{path}: cannot read points: {msg}") from None
    if arr.ndim == 0 or arr.size == 0:
        raise CLIError(f"{path}: holds no points (shape {arr.shape})")
    if arr.dtype.kind not in "iuf":
        raise CLIError(f"{path}: points must be real numbers, got dtype {arr.dtype}")
    return arr


def _certificate_dict(cert) -> dict:
    return {"is_optimal": cert.is_optimal, "primal_value": cert.primal_value,
            "dual_value": cert.dual_value, "gap_abs": cert.gap_abs,
            "gap_rel": cert.gap_rel, "primal_residual": cert.primal_residual,
            "dual_violation": cert.dual_violation,
            "slackness_violation": cert.slackness_violation, "tol": cert.tol,
            "cost_scale": cert.cost_scale, "mass": cert.mass}


def report(res: OTResult, call_seconds: float, metric: str, as_json: bool,
           startup_seconds: float = float("nan")) -> str:
    """The result of ``otgan distance``: the solver's own time is shown apart
    from the call's first-use costs (POT import, numba cache load) and from the
    interpreter's start-up."""
    m, n = res.shape
    if as_json:
        return json.dumps({"wasserstein": res.value, "m": m, "n": n, "metric": metric,
                           "method": res.method, "solve_seconds": res.seconds,
                           "call_seconds": call_seconds, "startup_seconds": startup_seconds,
                           "certificate": _certificate_dict(res.certificate)}, indent=2)
    return (f"exact W ({metric}) = {res.value:.12g}\n"
            f"sizes: m = {m} real, n = {n} generated\n"
            f"method: {res.method}, solve {res.seconds:.4f} s (call incl. certificate and "
            f"first-use loading {call_seconds:.3f} s; start-up {startup_seconds:.2f} s)\n"
            f"certificate: {res.certificate.summary()}")


#: POT's optional backends: `otgan distance` never passes tensors to POT, and
#: registering the torch backend alone doubles the time of `import ot`. Set
#: only in the CLI's own process, never by the library.
_POT_BACKENDS_OFF = ("POT_BACKEND_DISABLE_PYTORCH", "POT_BACKEND_DISABLE_JAX",
                     "POT_BACKEND_DISABLE_CUPY", "POT_BACKEND_DISABLE_TENSORFLOW")


def cmd_distance(args: argparse.Namespace) -> int:
    startup = _startup_seconds()  # interpreter + imports, before any work
    if "ot" not in sys.modules:
        for key in _POT_BACKENDS_OFF:
            os.environ.setdefault(key, "1")
    from .api import solve_samples

    metric = _distance_metric(args)
    y = load_points(args.A)
    x = load_points(args.B)
    y, x = _distance_points(y, x, args.A, args.B, metric)
    method = args.method
    if method == "auto" and "ot" not in sys.modules and len(y) != len(x):
        # One-shot process: importing POT for the network simplex costs ~1 s,
        # far more than solving a small uniform m != n problem with the
        # certified transportation solver; both are exact.
        method = "sparse-transport"
    m, n = len(y), len(x)
    progress = _show_progress(args.progress, m * n)
    if progress:
        print(f"otgan distance: solving {m} x {n} with method {method} (metric "
              f"{metric}) ...", file=sys.stderr, flush=True)
    t0 = time.perf_counter()
    try:
        res = solve_samples(y, x, metric=metric, method=method)
    except (ValueError, TypeError, MemoryError) as exc:
        raise CLIError(str(exc)) from None
    call = time.perf_counter() - t0
    if progress:
        print(f"otgan distance: solved in {call:.1f} s", file=sys.stderr, flush=True)
    print(report(res, call, args.metric, args.json, startup))
    return 0


def _distance_metric(args: argparse.Namespace):
    """``--metric``/``--p`` as a :class:`~otgan.costs.Metric`, errors in flags."""
    from .costs import Metric

    if args.metric == "lp" and args.p is None:
        raise CLIError("--metric lp needs --p P (p >= 1, or inf)")
    if args.metric != "lp" and args.p is not None:
        raise CLIError(f"--p is only used with --metric lp, got --metric {args.metric} "
                       f"--p {args.p:g}")
    try:
        return Metric.parse(args.metric, args.p)
    except ValueError:
        raise CLIError(f"--p must be a number >= 1 (or inf), got {args.p:g}") from None


def _distance_points(y: np.ndarray, x: np.ndarray, name_y: str, name_x: str, metric):
    """The two batches flattened to ``(m, d)``, ``(n, d)``; errors name the files
    (not the library's ``y`` and ``x``)."""
    from ._validation import check_points
    from .geometry import PointCost

    try:
        y2, x2 = check_points(y, x, name_y, name_x)
        y2 = np.ascontiguousarray(y2, dtype=np.float64)
        x2 = np.ascontiguousarray(x2, dtype=np.float64)
    except (ValueError, TypeError) as exc:
        raise CLIError(str(exc)) from None
    try:
        PointCost(y2, x2, metric)  # refuses costs that overflow from finite points
    except ValueError:
        big = max(float(np.abs(y2).max()), float(np.abs(x2).max()))
        raise CLIError(f"{name_y} and {name_x}: the costs overflow to inf with --metric "
                       f"{metric} (largest |coordinate| {big:.3g}); divide the points of "
                       f"both files by a common factor such as {big:.3g} and scale the "
                       f"distance back (W scales like the metric)") from None
    return y2, x2


#: ``otgan distance --progress auto`` reports on stderr from this many
#: ``m * n`` pairs (about 1000 x 1000; 5000 x 5000 with POT took 11 s).
PROGRESS_MIN_PAIRS = 10 ** 6


def _show_progress(mode: str, pairs: int) -> bool:
    """Whether ``otgan distance`` says on stderr that it is solving: always,
    never, or (``auto``) for large problems when stderr is a terminal, so that
    scripts and pipes see nothing."""
    if mode != "auto":
        return mode == "always"
    try:
        tty = sys.stderr.isatty()
    except (AttributeError, ValueError):  # replaced or closed stderr
        tty = False
    return tty and pairs >= PROGRESS_MIN_PAIRS


def _startup_seconds() -> float:
    """Seconds from the interpreter's start to now (Linux; NaN elsewhere)."""
    try:
        with open("/proc/self/stat") as fh:
            start_ticks = int(fh.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/uptime") as fh:
            uptime = float(fh.read().split()[0])
        return max(0.0, uptime - start_ticks / os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError):
        return float("nan")


def _threads(n) -> None:
    from .gan.training.run import use_threads

    # One thread by default: the networks are small, and a second thread on a
    # busy core makes torch's thread pool wait (measured 40x slower per step).
    n = 1 if n is None else n
    if n < 1:
        raise CLIError(f"--threads must be >= 1, got {n}")
    use_threads(n)


def _parse_seeds(text: str) -> list[int]:
    try:
        seeds = [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        raise CLIError(f"--seeds must be comma-separated integers, got {text!r}") from None
    if not seeds or any(s < 0 for s in seeds):
        raise CLIError(f"--seeds must be non-negative integers, got {text!r}")
    return seeds


#: CLI option -> TrainConfig field, for the options shared by train and compare.
_CONFIG_OPTS = ("data", "iters", "batch", "device", "metric", "p", "z_dim", "hidden", "depth",
                "lr_g", "lr_d", "beta1", "beta2", "n_critic", "n_r", "ot_reg", "scaling",
                "gp_lambda", "clip", "gen_noise", "lr_decay", "log_every", "ckpt_every",
                "eval_n", "eval_every", "jc", "jc_eps", "jc_min", "jc_max", "lens", "lens_k",
                "pack2", "pack4", "ae_steps", "ae_code")
_CONFIG_OPTS += ("xicfg_t", "xicfg_u", "xicfg_eta", "xicfg_pool", "xicfg_epochs")


def _config_kwargs(args) -> dict:
    return {k: getattr(args, k) for k in _CONFIG_OPTS if getattr(args, k, None) is not None}


def _print_metrics(metrics: dict) -> None:
    keys = ("modes", "n_modes", "pct_hq", "w1", "noise_floor", "w1_over_floor", "w1_certified",
            "classifier_score", "classifier_score_real", "frechet_distance", "frechet_floor",
            "classes_covered", "class_kl", "confidence", "clf_accuracy",
            "log_condition_number_mean", "iter", "s_per_iter")
    for k in keys:
        if k in metrics:
            v = metrics[k]
            print(f"  {k:21s} {v:.6g}" if isinstance(v, float) else f"  {k:21s} {v}")


@contextlib.contextmanager
def _one_line_warnings(command: str):
    """Show warnings raised inside as ``otgan <command>: warning: ...`` on one
    stderr line (e.g. an old checkpoint loaded without an integrity check)."""
    def show(message: Warning | str, category: type[Warning], filename: str, lineno: int,
             file: TextIO | None = None, line: str | None = None) -> None:
        print(f"otgan {command}: warning: {message}", file=sys.stderr)

    with warnings.catch_warnings():
        warnings.simplefilter("default")
        warnings.showwarning = show  # restored by catch_warnings
        yield


#: ``otgan train --iters`` without ``--resume`` (with it, the run's own budget).
TRAIN_ITERS = 2000

#: How messages of ``otgan train`` / ``otgan compare`` name the library's
#: arguments: by their flags (:data:`otgan.gan.training.run.LIBRARY_NAMES`).
_TRAIN_NAMES = {"resume": "--resume", "overwrite": "--overwrite", "out": "--out",
                "iters": "--iters"}
_COMPARE_NAMES = {"overwrite": "--overwrite", "out": "--out", "methods": "--methods",
                  "seeds": "--seeds"}

#: Exit status of a command stopped by Ctrl-C (128 + SIGINT, as a shell reports it).
EXIT_INTERRUPTED = 130


def _flag(field: str) -> str:
    """The ``otgan train`` flag of a ``TrainConfig`` field (``lr_g`` -> ``--lr-g``)."""
    return "--" + field.replace("_", "-")


def _given_options(args) -> dict:
    """The ``TrainConfig`` fields given on the command line (omitted: ``None``)."""
    given = _config_kwargs(args)
    for k in ("method", "seed"):
        if getattr(args, k, None) is not None:
            given[k] = getattr(args, k)
    return given


def _resume_may_change() -> tuple[str, ...]:
    from .gan.training.config import RUNTIME_FIELDS

    return ("iters",) + RUNTIME_FIELDS


def _train_config(args, device: str | None = None):
    """The configuration ``otgan train`` trains.

    A fresh run: the flags given, the defaults for the rest. With
    ``--resume``: the run's own configuration (``OUT/config.json``), so that
    ``otgan train --resume --out OUT`` alone continues a run; a flag given
    overrides the fields a resume may change (``--iters`` to extend the run,
    and the fields that do not change the trajectory, ``--device``,
    ``--log-every``, ...), and a flag that would change any other field is
    refused, naming the flag and both values. ``device`` (the launcher's
    decision, :func:`otgan.gan.training.distributed.plan_device`) overrides both.
    """
    from .gan.training.config import TrainConfig
    from .gan.training.run import read_run_config

    given = _given_options(args)
    if device is not None:
        given["device"] = device
    try:
        if not args.resume:
            return TrainConfig(**{"method": "wgan-ts", "seed": 0, "iters": TRAIN_ITERS, **given})
        stored = read_run_config(args.out).to_dict(full=True)
        fixed = [k for k in stored  # in the order of the fields
                 if k in given and k not in _resume_may_change() and given[k] != stored[k]]
        if fixed:
            flags = ", ".join(_flag(k) if isinstance(given[k], bool) else
                              f"{_flag(k)} {given[k]}" for k in fixed)
            was = "; ".join(f"{k}: {stored[k]!r} -> {given[k]!r}" for k in fixed)
            may = ", ".join(_flag(k) for k in _resume_may_change())
            raise CLIError(f"cannot resume {args.out}: {flags} would change the run's "
                           f"configuration ({was}); a resume keeps it (only {may} may "
                           f"change): omit {'them' if len(fixed) > 1 else 'it'}, or start a "
                           f"new run with --overwrite or another --out")
        return TrainConfig(**{**stored, **given})
    except (ValueError, TypeError, RunError) as exc:
        raise CLIError(str(exc)) from None


def _requested_device(args) -> str:
    """``--device``, else (with ``--resume``) the run's own, else ``"auto"``."""
    if args.device is not None:
        return args.device
    if args.resume:
        from .gan.training.run import read_run_config

        try:
            return read_run_config(args.out).device
        except RunError:
            pass  # reported with the configuration
    return "auto"


def _plan_device(args, nproc_per_node: int) -> tuple[str | None, str | None]:
    """(the device to force, or ``None``; a notice, or ``None``) for
    ``nproc_per_node`` processes (:func:`otgan.gan.training.distributed.plan_device`)."""
    from .gan.training.distributed import plan_device

    requested = _requested_device(args)
    try:
        device, notice = plan_device(requested, nproc_per_node, device_name="--device",
                                     nproc_name="--nproc")
    except DistributedError as exc:
        raise CLIError(str(exc)) from None
    return (None if device == requested else device), notice


def _launch_processes(args: argparse.Namespace) -> int:
    """``otgan train --nproc N ...``: the same command on N processes of this
    machine, started by torch's own launcher (``torchrun --standalone
    --nproc-per-node N``, which picks a free port and fails the job when a
    process dies), run in this process so that its exit status is the job's.

    Everything that can be checked before a process starts is checked here,
    with one-line errors: the arguments, the device (one GPU per process, or
    the CPU; :func:`otgan.gan.training.distributed.plan_device`), that ``--batch``
    splits evenly, ``--out`` and its state. The exit status is 0, the first
    failed process's own (2: it printed a one-line error; 130: interrupted),
    or 128 + the signal that killed it (said on one line).
    """
    from .gan.training.distributed import ShardGroup, world_size_from_env
    from .gan.training.run import check_run_state

    n = args.nproc
    if n < 1:
        raise CLIError(f"--nproc must be >= 1, got {n}")
    try:
        world = world_size_from_env()
    except DistributedError as exc:
        raise CLIError(str(exc)) from None
    if world > 1:
        raise CLIError("--nproc given to a process already started by torchrun "
                       f"(WORLD_SIZE={os.environ.get('WORLD_SIZE')})")
    if not args.dist_timeout > 0:
        raise CLIError(f"--dist-timeout must be a positive number of seconds, got "
                       f"{args.dist_timeout}")
    device, notice = _plan_device(args, n)
    cfg = _train_config(args, device)
    try:
        ShardGroup(0, n).local_size(cfg.batch)
        check_run_state(cfg, args.out, resume=args.resume, overwrite=args.overwrite,
                        names=_TRAIN_NAMES)
    except (DistributedError, RunError) as exc:
        raise CLIError(str(exc)) from None
    if notice:
        print(f"otgan {args.command}: note: {notice}", file=sys.stderr)
    rest, skip = [], False
    for tok in args.argv:
        if skip:
            skip = False
        elif tok == "--nproc":
            skip = True
        elif not tok.startswith("--nproc="):
            rest.append(tok)
    if device is not None:
        rest += ["--device", device]
    return _torchrun(n, rest, args.command)


#: Set by ``otgan train --nproc N`` for its processes: the interrupt message's
#: command then continues the run on N processes too.
NPROC_ENV = "OTGAN_NPROC"


def _torchrun(n: int, argv: list[str], command: str) -> int:
    """Run ``torchrun --standalone --nproc-per-node n -m otgan *argv`` in this
    process (torch's own launcher, :mod:`torch.distributed.run`) and return an
    exit status instead of its traceback."""
    import logging
    import signal

    from torch.distributed.elastic.multiprocessing.api import SignalException
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.run import parse_args, run

    # the launcher installs handlers for these (to stop the processes it
    # started); put back what was there when it returns
    signals = [getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT")
               if hasattr(signal, name)]
    handlers = {sig: signal.getsignal(sig) for sig in signals}
    env_before = os.environ.get(NPROC_ENV)
    os.environ[NPROC_ENV] = str(n)
    disabled = logging.root.manager.disable
    if "LOGLEVEL" not in os.environ:  # its own log lines (LOGLEVEL=INFO shows them)
        logging.disable(logging.ERROR)
    try:
        run(parse_args(["--standalone", f"--nproc-per-node={n}", "-m", "otgan", *argv]))
        return 0
    except ChildFailedError as exc:
        rank, failure = exc.get_first_failure()
        if failure.exitcode >= 0:  # the process said why itself (one line, or a traceback)
            return failure.exitcode
        print(f"otgan {command}: error: process of rank {rank} (pid {failure.pid}) was "
              f"killed by {failure.signal_name()}; the job stopped", file=sys.stderr)
        return 128 - failure.exitcode
    except SignalException as exc:  # the processes were stopped, each said its part
        return 128 + int(exc.sigval)
    except KeyboardInterrupt:  # before the processes started
        print(f"otgan {command}: interrupted before the processes started", file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        logging.disable(disabled)
        if env_before is None:
            os.environ.pop(NPROC_ENV, None)
        else:
            os.environ[NPROC_ENV] = env_before
        for sig, handler in handlers.items():
            if handler is not None:
                signal.signal(sig, handler)


class _Interrupts:
    """SIGINT during ``otgan train``: the first raises ``KeyboardInterrupt``
    (as Python's own handler does) and is remembered, later ones are only
    remembered, so that the clean-up (leaving the process group, the one-line
    message) is not itself interrupted, and an error that the interrupt
    caused elsewhere (a collective whose peer stopped) is recognised as the
    interrupt. Installed only in the main thread; restored on exit."""

    def __init__(self):
        self.count = 0
        self._previous = None

    def _handle(self, signum, frame):
        self.count += 1
        if self.count == 1:
            raise KeyboardInterrupt

    def __enter__(self):
        import signal
        import threading

        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc_info):
        if self._previous is not None:
            import signal

            signal.signal(signal.SIGINT, self._previous)


def _checkpoint_state(path: str) -> tuple[int, int] | None:
    """(iterations done, budget) of the checkpoint at ``path``, or ``None``."""
    try:
        import torch

        state = torch.load(path, map_location="cpu", weights_only=True)
        return int(state["iteration"]), int(state["config"]["iters"])
    except Exception:  # missing, partial or foreign: there is nothing to continue from
        return None


def _interrupted_message(args, started: float, world: int) -> str:
    """The line ``otgan train`` prints when Ctrl-C stops it: where the run
    stands on disk and the command that continues it."""
    import shlex

    ckpt = os.path.join(args.out, "ckpt.pt")
    state = _checkpoint_state(ckpt)
    if state is not None and not args.resume and os.path.getmtime(ckpt) < started:
        state = None  # an earlier run's, which this one was replacing
    if state is None:
        return ("interrupted before the run wrote its first checkpoint; nothing to "
                "continue: run the same command again")
    cmd = ["otgan", "train", "--resume", "--out", args.out]
    nproc = os.environ.get(NPROC_ENV)
    if nproc:
        cmd[2:2] = ["--nproc", nproc]
    line = (f"interrupted; the last checkpoint, {ckpt}, holds iteration {state[0]} of "
            f"{state[1]}; continue with: {shlex.join(cmd)}")
    if world > 1 and not nproc:
        line += " (under torchrun, as you started this one)"
    return line


def cmd_train(args: argparse.Namespace) -> int:
    if args.nproc is not None:
        try:
            return _launch_processes(args)
        except KeyboardInterrupt:  # while checking, before anything started
            print(f"otgan {args.command}: interrupted before the processes started",
                  file=sys.stderr)
            return EXIT_INTERRUPTED
    _threads(args.threads)  # per process: under torchrun, per rank
    started = time.time()
    with _Interrupts() as interrupts:
        try:
            try:
                return _train_process(args)
            except KeyboardInterrupt:
                raise
            except BaseException:
                if interrupts.count:  # caused by the interrupt (a peer that stopped)
                    raise KeyboardInterrupt from None
                raise
        except KeyboardInterrupt:
            from .gan.training.distributed import world_size_from_env

            world = world_size_from_env()
            if os.environ.get("RANK", "0") == "0":
                print(f"otgan {args.command}: {_interrupted_message(args, started, world)}",
                      file=sys.stderr)
            return EXIT_INTERRUPTED


class _Exit(Exception):
    """Leave ``otgan train`` with this exit status (the reason was printed, or
    is rank 0's to print)."""

    def __init__(self, code: int):
        super().__init__(code)
        self.code = code


def _dist_errors() -> tuple[type[BaseException], ...]:
    import torch.distributed as dist

    return (getattr(dist, "DistError", RuntimeError),)


def _train_process(args: argparse.Namespace) -> int:
    """``otgan train`` in this process: one process, or one rank under torchrun."""
    from .gan.training.distributed import (local_world_size_from_env, process_group,
                                           world_size_from_env)
    from .gan.training.run import train_run
    from .gan.training.trainer import resolve_device

    try:
        world = world_size_from_env()
        device, notice = _plan_device(args, local_world_size_from_env() if world > 1 else 1)
        backend_device = str(resolve_device(device or _requested_device(args)))
    except (ValueError, DistributedError) as exc:
        if os.environ.get("RANK", "0") != "0":
            return 2  # every rank found the same: rank 0 says it, once
        raise CLIError(str(exc)) from None
    try:
        with contextlib.ExitStack() as stack:
            try:  # leaves the group on every way out (process_group)
                group = stack.enter_context(process_group(backend_device, args.dist_timeout))
            except DistributedError as exc:
                raise CLIError(str(exc)) from None
            cfg = _rank0_config(args, device, notice, group)
            try:
                with _one_line_warnings(args.command):
                    metrics = train_run(cfg, args.out, resume=args.resume,
                                        progress=not args.quiet and group.is_main,
                                        overwrite=args.overwrite, group=group,
                                        names=_TRAIN_NAMES)
            except (ValueError, TypeError, RunError, DistributedError) as exc:
                raise CLIError(str(exc) if group.is_main else
                               f"rank {group.rank}: {exc}") from None
            except (_dist_errors() if group.distributed else ()) as exc:
                first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
                print(f"otgan {args.command}: error: rank {group.rank}: a collective "
                      f"failed (another process stopped, or --dist-timeout "
                      f"{args.dist_timeout:g} s passed): {first}", file=sys.stderr)
                raise _Exit(1) from None
    except _Exit as exc:
        return exc.code
    if not group.is_main:
        return 0
    from .gan.addons import method_spec

    print(f"{method_spec(cfg.method, cfg.addons)} on {cfg.data}: {metrics.get('iter')} "
          f"iterations")
    _print_metrics(metrics)
    print(f"report: {os.path.join(args.out, 'report.md')}")
    return 0


def _rank0_config(args, device: str | None, notice: str | None, group):
    """The configuration to train (:func:`_train_config`), built by rank 0 and
    sent to the others, which need not see ``--out`` (a resume reads it).
    Rank 0 raises the :class:`CLIError` of a refused configuration; the other
    ranks then leave with status 2 without a message of their own."""
    from .gan.training.config import TrainConfig

    cfg = error = None
    if group.is_main:
        if notice:
            print(f"otgan {args.command}: note: {notice}", file=sys.stderr)
        try:
            cfg = _train_config(args, device)
        except CLIError as exc:
            if not group.distributed:
                raise
            error = exc
    if not group.distributed:
        return cfg
    payload = group.broadcast_object(None if cfg is None else cfg.to_dict(full=True))
    if error is not None:
        raise error
    if payload is None:
        raise _Exit(2)
    return cfg if group.is_main else TrainConfig.from_dict(payload)


def cmd_compare(args: argparse.Namespace) -> int:
    from .gan.addons import ADDONS, parse_method_spec
    from .gan.training.config import METHODS
    from .gan.training.run import compare

    _threads(args.threads)
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    if not methods:
        raise CLIError(f"--methods must be a comma-separated list of registered methods "
                       f"{', '.join(METHODS)}, each optionally with add-ons "
                       f"(+{', +'.join(ADDONS)}), got {args.methods!r}")
    for m in methods:
        try:
            parse_method_spec(m)
        except ValueError as exc:
            raise CLIError(f"--methods: {exc}") from None
    seeds = _parse_seeds(args.seeds)
    try:
        from .gan.training.rundir import check_out_dir

        check_out_dir(args.out, "--out")
        table = compare(methods, seeds, args.out, progress=not args.quiet, jobs=args.jobs,
                        overwrite=args.overwrite, names=_COMPARE_NAMES, tune=args.tune,
                        tune_seed=args.tune_seed, **_config_kwargs(args))
    except (ValueError, TypeError, RunError) as exc:
        raise CLIError(str(exc)) from None
    print(table)
    print(f"table: {os.path.join(args.out, 'compare.md')}")
    return 0


#: The main job's budget: WGAN-TS on ``ring``, about 2 minutes on a 2-core CPU
#: (the configuration of the ring table in docs/results.md).
DEMO_ITERS = 3000
DEMO_BATCH = 64
#: The demo's optimiser settings (see :func:`cmd_demo`).
DEMO_SETTINGS = {"lr_g": 1e-3, "lr_d": 1e-3, "lr_decay": "linear"}


def cmd_demo(args: argparse.Namespace) -> int:
    from .gan.training.config import TrainConfig
    from .gan.training.run import train_run

    _threads(args.threads)
    try:
        # the demo's own setting, explicit: Adam 1e-3 with the linear decay,
        # measured best for WGAN-TS on the 2-D sets at a few thousand
        # iterations (docs/results.md), not the authors' 1e-4 constant rate
        # that the method's defaults now follow (issue #25)
        cfg = TrainConfig(method="wgan-ts", data="ring", iters=args.iters, batch=args.batch,
                          seed=args.seed, device=args.device, **DEMO_SETTINGS)
        from .gan.training.rundir import check_out_dir

        check_out_dir(args.out, "--out")
        t0 = time.perf_counter()
        metrics = train_run(cfg, args.out, progress=not args.quiet, overwrite=True)
    except (ValueError, TypeError, RunError) as exc:
        raise CLIError(str(exc)) from None
    if args.json:
        print(json.dumps(metrics, indent=2))
    else:
        print(f"WGAN-TS (exact LP critic targets, L1 cost) on 'ring' (8 Gaussians, std 0.01): "
              f"{metrics['iter']} generator iterations in {time.perf_counter() - t0:.0f} s")
        _print_metrics(metrics)
    print(f"report: {os.path.join(args.out, 'report.md')}")
    return 0


def _add_config_options(p, *, iters_default, iters_help="generator iterations"):
    from .gan.training.config import SCALING_MODES
    from .gan.methods import GEN_NOISE

    p.add_argument("--data", default=None,
                   help="8gaussians, 25gaussians, swissroll, ring, grid, lines, digits "
                        "or a .npy file (default ring)")
    p.add_argument("--iters", type=int, default=iters_default, help=iters_help)
    p.add_argument("--batch", type=int, default=None, help="batch size (default 64)")
    p.add_argument("--device", default=None, help="auto, cpu or cuda (default auto)")
    p.add_argument("--metric", default=None, choices=METRICS, help="LP ground cost (default l1)")
    p.add_argument("--p", type=float, default=None, help="exponent for --metric lp")
    p.add_argument("--z-dim", dest="z_dim", type=int, default=None)
    p.add_argument("--hidden", type=int, default=None, help="network width")
    p.add_argument("--depth", type=int, default=None, help="hidden layers of the MLPs")
    p.add_argument("--lr-g", dest="lr_g", type=float, default=None)
    p.add_argument("--lr-d", dest="lr_d", type=float, default=None)
    p.add_argument("--beta1", type=float, default=None)
    p.add_argument("--beta2", type=float, default=None)
    p.add_argument("--n-critic", dest="n_critic", type=int, default=None,
                   help="LPs (wgan-ts) or critic steps per generator step")
    p.add_argument("--n-r", dest="n_r", type=int, default=None,
                   help="wgan-ts regression steps per LP (default 5)")
    p.add_argument("--ot-reg", dest="ot_reg", type=float, default=None,
                   help="wgan-ts OT-regulariser weight (0 = off)")
    p.add_argument("--scaling", default=None, choices=SCALING_MODES,
                   help="wgan-ts weight scaling (default final)")
    p.add_argument("--lr-decay", dest="lr_decay", default=None, choices=("linear", "none"),
                   help="learning-rate schedule: linear decay to 0, or none (default: the "
                        "method's reference, listed below)")
    p.add_argument("--gp-lambda", dest="gp_lambda", type=float, default=None,
                   help="wgan-gp penalty weight (default 0.1 for flat data, 10 for images)")
    p.add_argument("--clip", type=float, default=None, help="wgan clipping bound")
    p.add_argument("--gen-noise", dest="gen_noise", default=None, choices=GEN_NOISE,
                   help="noise of the generator step: 'same' reuses the last critic "
                        "batch's z (Algorithm 1; wgan-ts default), 'fresh' draws new "
                        "noise (default of the other methods); with --resume, omitted: "
                        "the run's own")
    p.add_argument("--log-every", dest="log_every", type=int, default=None)
    p.add_argument("--ckpt-every", dest="ckpt_every", type=int, default=None)
    p.add_argument("--eval-n", dest="eval_n", type=int, default=None,
                   help="samples for the final exact W1 (default 2500)")
    p.add_argument("--eval-every", dest="eval_every", type=int, default=None,
                   help="log the generator's log condition number to metrics.jsonl every "
                        "this many iterations (default 100; it is in eval.json always)")
    g = p.add_argument_group("add-ons (every method; listed below)")
    # store_true with default None: omitted with --resume, the run's own value
    g.add_argument("--jc", action="store_true", default=None,
                   help="Jacobian Clamping penalty on the generator")
    g.add_argument("--jc-eps", dest="jc_eps", type=float, default=None,
                   help="JC perturbation norm (default 0.1 for 2-D data, 0.5 for images)")
    g.add_argument("--jc-min", dest="jc_min", type=float, default=None,
                   help="JC lower bound on Q (default 0.01 for 2-D data, 0.3 for images)")
    g.add_argument("--jc-max", dest="jc_max", type=float, default=None,
                   help="JC upper bound on Q (default 10 for 2-D data, 6 for images)")
    g.add_argument("--lens", action="store_true", default=None,
                   help="tempered lens in front of the critic (methods with a critic)")
    g.add_argument("--lens-k", dest="lens_k", type=int, default=None,
                   help="iteration where the lens weight lambda(t) reaches 0 "
                        "(default: half the run, iters // 2)")
    g.add_argument("--pack2", action="store_true", default=None,
                   help="packing (PacGAN): the critic sees packs of 2 samples (methods with "
                        "a critic but wgan-ts, rfgan, xicfg; --batch a multiple of 2)")
    g.add_argument("--pack4", action="store_true", default=None,
                   help="packing with packs of 4 samples (--batch a multiple of 4)")
    g = p.add_argument_group("rfgan (its autoencoder, fitted on the real data before training)")
    g.add_argument("--ae-steps", dest="ae_steps", type=int, default=None,
                   help="autoencoder Adam steps (default 500 for 2-D data, 1000 for images)")
    g.add_argument("--ae-code", dest="ae_code", type=int, default=None,
                   help="width of the encoder's code, the features the discriminator "
                        "sees (default 8 for 2-D data, 16 for images)")
    g = p.add_argument_group("xicfg (one iteration: pool, T functional steps, approximator fit)")
    g.add_argument("--xicfg-t", dest="xicfg_t", type=int, default=None,
                   help="T, discriminator snapshots / functional steps x += eta grad D_t(x) "
                        "per iteration (default 25 for flat data, 15 for images)")
    g.add_argument("--xicfg-u", dest="xicfg_u", type=int, default=None,
                   help="U, discriminator updates per functional step (default 1)")
    g.add_argument("--xicfg-eta", dest="xicfg_eta", type=float, default=None,
                   help="eta, the functional step size (default 0.05 for flat data, "
                        "0.8 for grid, 0.5 for images)")
    g.add_argument("--xicfg-pool", dest="xicfg_pool", type=int, default=None,
                   help="input pool size in batches, N = this x --batch latent points "
                        "(default 10)")
    g.add_argument("--xicfg-epochs", dest="xicfg_epochs", type=int, default=None,
                   help="approximator epochs over the pool per iteration (default 10)")
    p.add_argument("--threads", type=int, default=None, help="torch threads (default 1)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def build_parser() -> argparse.ArgumentParser:
    from . import __version__
    from .lp.registry import METHOD_NAMES

    parser = argparse.ArgumentParser(prog="otgan", description=_DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    dist = sub.add_parser("distance", help="exact Wasserstein distance between two point files",
                          description="The exact, certified Wasserstein distance between "
                                      "the points of A and B (uniform weights).")
    dist.add_argument("A", help="real points (.npy, .csv or .txt), one point per row")
    dist.add_argument("B", help="generated points, same dimension")
    dist.add_argument("--metric", default="l1", choices=METRICS,
                      help="ground cost: l1 (default), l2, sqeuclidean (gives W2^2) or lp "
                           "(with --p)")
    dist.add_argument("--p", type=float, default=None,
                      help="exponent P >= 1 (or inf) for --metric lp")
    dist.add_argument("--method", default="auto", choices=METHOD_NAMES,
                      help="exact solver: auto (default: the fastest for the problem), "
                           "candidate-graph (alias fast: otgan's certified candidate-graph "
                           "solvers), sparse-assignment, sparse-transport (one of them), "
                           "network-simplex (alias emd: POT's network simplex), dual-lp "
                           "(alias lp: the WGAN-TS dual LP in cvxpy; small problems only); "
                           "every answer is certified")
    dist.add_argument("--json", action="store_true",
                      help="machine-readable output on stdout; errors too, as a JSON "
                           "object {\"error\": ...} (exit code 2, or 1 for a solver error)")
    dist.add_argument("--progress", default="auto", choices=("auto", "always", "never"),
                      help="say on stderr what is being solved and how long it took: "
                           "auto (default: problems of at least "
                           f"{PROGRESS_MIN_PAIRS:,} pairs, when stderr is a terminal), "
                           "always or never")
    dist.set_defaults(func=cmd_distance)

    from .gan.addons import describe_addons
    from .gan.methods import METHODS, describe_methods

    methods_epilog = ("registered methods (otgan.gan.methods.METHODS) and their "
                      "defaults:\n" + "\n".join("  " + line for line in
                                                describe_methods().splitlines())
                      + "\n\nadd-ons (otgan.gan.addons.ADDONS; train: --jc, --lens, --pack2, "
                        "--pack4; compare: method+addon, e.g. gan+jc,wgan-gp+pack4):\n"
                      + "\n".join("  " + line for line in describe_addons().splitlines()))
    train = sub.add_parser("train", help="train a GAN (wgan-ts or a baseline)",
                           epilog=methods_epilog,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
    train.add_argument("--method", default=None, choices=tuple(METHODS),
                       help="training method (default wgan-ts; listed below)")
    train.add_argument("--seed", type=int, default=None, help="default 0")
    train.add_argument("--out", required=True, help="run directory")
    train.add_argument("--resume", action="store_true",
                       help="continue the run in OUT from its checkpoint, with its own "
                            "configuration: omitted options take the run's values; "
                            "--iters (a larger value extends the run), --device, "
                            "--log-every, --ckpt-every, --eval-n and --eval-every may "
                            "change, other options given must match the run's")
    train.add_argument("--overwrite", action="store_true",
                       help="replace a run already in OUT (refused otherwise)")
    train.add_argument("--nproc", type=int, default=None,
                       help="train data-parallel on N processes of this machine, started "
                            "by torchrun (--batch is the global batch, split evenly; "
                            "docs/distributed.md); several machines: torchrun -m otgan train")
    train.add_argument("--dist-timeout", type=float, default=300.0,
                       help="under torchrun: seconds a collective waits for the other "
                            "processes before the job fails (default 300)")
    _add_config_options(train, iters_default=None,
                        iters_help=f"generator iterations (default {TRAIN_ITERS}; with "
                                   f"--resume, the run's own: pass a larger value to extend)")
    train.set_defaults(func=cmd_train)

    comp = sub.add_parser("compare", help="several methods x seeds on one budget -> markdown table",
                          epilog=methods_epilog,
                          formatter_class=argparse.RawDescriptionHelpFormatter)
    comp.add_argument("--methods", default="wgan-ts,wgan-gp,wgan,gan",
                      help=f"comma-separated registered methods ({', '.join(METHODS)}; "
                           f"default wgan-ts,wgan-gp,wgan,gan), each optionally with "
                           f"add-ons: method+addon+..., e.g. gan+jc,wgan-gp+lens "
                           f"(--jc/--lens add one to every method)")
    comp.add_argument("--overwrite", action="store_true",
                      help="replace runs already in OUT (refused otherwise)")
    comp.add_argument("--seeds", default="0,1,2")
    comp.add_argument("--out", required=True, help="directory for the runs and compare.md")
    comp.add_argument("--jobs", type=int, default=1,
                      help="runs trained at once, one thread each (default 1)")
    comp.add_argument("--tune", type=int, default=0, metavar="K",
                      help="equal tuning budget: every method trains K settings around its "
                           "reference (learning rates, plan, batch, critic steps, penalty; "
                           "docs/gan.md) on --tune-seed, the best W1 / floor wins, then "
                           "--seeds train at it (default 0: the reference settings only)")
    comp.add_argument("--tune-seed", dest="tune_seed", type=int, default=None,
                      help="seed of the tuning runs, not one of --seeds (default 1000)")
    _add_config_options(comp, iters_default=2000)
    comp.set_defaults(func=cmd_compare)

    demo = sub.add_parser("demo", help="the main job: train WGAN-TS on 'ring' for a few minutes")
    demo.add_argument("--iters", type=int, default=DEMO_ITERS,
                      help=f"generator iterations (default {DEMO_ITERS})")
    demo.add_argument("--batch", type=int, default=DEMO_BATCH,
                      help=f"batch size (default {DEMO_BATCH})")
    demo.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    demo.add_argument("--device", default="auto", help="auto, cpu or cuda (default auto)")
    demo.add_argument("--out", default=os.path.join("runs", "demo"),
                      help="run directory, replaced if it holds a run (default "
                           f"{os.path.join('runs', 'demo')})")
    demo.add_argument("--threads", type=int, default=None, help="torch threads (default 1)")
    demo.add_argument("--quiet", action="store_true", help="no progress bar")
    demo.add_argument("--json", action="store_true",
                      help="print the metrics as JSON; errors too, as a JSON object")
    demo.set_defaults(func=cmd_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run ``otgan ARGV``; returns the exit status.

    Output cut short by a closed pipe (``otgan distance A B | head -1``) ends
    the command quietly with status 1, as the Python documentation advises
    (its "Note on SIGPIPE"): no traceback.
    """
    try:
        code = _main(argv)
        sys.stdout.flush()  # a closed pipe is noticed here for buffered output
        return code
    except BrokenPipeError:
        # stdout is now unusable: point it at devnull so that the interpreter's
        # own flush at exit does not fail (and print a traceback) again
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1


def _json_error(command: str | None, kind: str, message: str, code: int) -> int:
    """An error of a ``--json`` command, as the JSON object it prints on stdout
    (where its result would be; nothing on stderr)."""
    print(json.dumps({"error": message, "kind": kind, "command": command,
                      "exit_code": code}, indent=2))
    return code


def _main(argv: list[str] | None) -> int:
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    if "--json" in argv:  # usage errors (argparse's) as JSON too
        import io

        usage = io.StringIO()
        try:
            with contextlib.redirect_stderr(usage):
                args = parser.parse_args(argv)
        except SystemExit as exc:
            if exc.code in (0, None):
                raise
            text = usage.getvalue().strip().splitlines()
            message = text[-1].split(": error: ", 1)[-1] if text else "invalid arguments"
            command = next((a for a in argv if not a.startswith("-")), None)
            return _json_error(command, "usage", message, 2)
    else:
        args = parser.parse_args(argv)
    args.argv = argv  # for train --nproc, which re-runs the command under torchrun
    as_json = bool(getattr(args, "json", False))
    try:
        return args.func(args)
    except CLIError as exc:
        if as_json:
            return _json_error(args.command, "input", str(exc), 2)
        print(f"otgan {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except OTSolverError as exc:
        if as_json:
            return _json_error(args.command, "solver", str(exc), 1)
        print(f"otgan {args.command}: solver error: {exc}", file=sys.stderr)
        return 1
