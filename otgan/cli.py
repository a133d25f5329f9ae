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
import subprocess
import sys
import time
import warnings
from typing import TYPE_CHECKING, TextIO

import numpy as np

from .costs import METRICS
from .errors import OTGANError, OTSolverError

if TYPE_CHECKING:  # pragma: no cover
    from .result import OTResult


class CLIError(OTGANError):
    """A user error: printed on one line, exit code 2."""


_READERS = {
    ".npy": lambda path: np.load(path, allow_pickle=False),
    ".csv": lambda path: np.loadtxt(path, delimiter=",", ndmin=2),
    ".txt": lambda path: np.loadtxt(path, ndmin=2),
}


def load_points(path: str) -> np.ndarray:
    """Load a batch of points from ``.npy`` (no pickles), ``.csv`` or ``.txt``."""
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

    y = load_points(args.A)
    x = load_points(args.B)
    method = args.method
    if method == "auto" and "ot" not in sys.modules and len(y) != len(x):
        # One-shot process: importing POT for the network simplex costs ~1 s,
        # far more than solving a small uniform m != n problem with the
        # certified transportation solver (method="fast"); both are exact.
        method = "fast"
    t0 = time.perf_counter()
    try:
        res = solve_samples(y, x, metric=args.metric, p=args.p, method=method)
    except (ValueError, TypeError, MemoryError) as exc:
        raise CLIError(str(exc)) from None
    call = time.perf_counter() - t0
    print(report(res, call, args.metric, args.json, startup))
    return 0


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
    from .gan.run import use_threads

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
                "ae_steps", "ae_code")
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


#: Options that, omitted with ``--resume``, take the resumed run's value
#: instead of the default of a fresh run: ``iters`` (a resume accepts a changed
#: budget), ``gen_noise`` (its default changed; a run saved before it
#: existed drew fresh noise), the add-on switches and ``lens_k`` (its default
#: follows ``iters``), and a method's own options (RFGAN's ``ae_steps``, ``ae_code``).
_RESUME_OWN = ("iters", "gen_noise", "jc", "lens", "lens_k", "ae_steps", "ae_code")
_RESUME_OWN += ("xicfg_t", "xicfg_u", "xicfg_eta", "xicfg_pool", "xicfg_epochs")


def _resumed_values(args) -> dict:
    """The :data:`_RESUME_OWN` options omitted on the command line: the
    resumed run's values with ``--resume``, else ``iters`` = :data:`TRAIN_ITERS`."""
    from .gan.run import RunError, read_run_config

    omitted = [k for k in _RESUME_OWN if getattr(args, k, None) is None]
    out = {"iters": TRAIN_ITERS} if "iters" in omitted else {}
    if args.resume and omitted:
        try:
            saved = read_run_config(args.out)
        except RunError:
            return out  # train_run reports the missing/invalid run with its own message
        out.update({k: getattr(saved, k) for k in omitted})
    return out


def _launch_processes(args: argparse.Namespace) -> int:
    """``otgan train --nproc N ...``: the same command on N processes of this
    machine, started by torch's own launcher (``torchrun --standalone
    --nproc-per-node N``, which picks a free port and fails the job when a
    process dies)."""
    from .gan.distributed import world_size_from_env

    n = args.nproc
    if n < 1:
        raise CLIError(f"--nproc must be >= 1, got {n}")
    if world_size_from_env() > 1:
        raise CLIError("--nproc given to a process already started by torchrun "
                       f"(WORLD_SIZE={os.environ.get('WORLD_SIZE')})")
    rest, skip = [], False
    for tok in args.argv:
        if skip:
            skip = False
        elif tok == "--nproc":
            skip = True
        elif not tok.startswith("--nproc="):
            rest.append(tok)
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone",
           f"--nproc-per-node={n}", "-m", "otgan", *rest]
    return subprocess.run(cmd).returncode


def cmd_train(args: argparse.Namespace) -> int:
    from .gan.config import TrainConfig
    from .gan.distributed import DistributedError, init_from_env
    from .gan.rundir import check_out_dir
    from .gan.run import RunError, train_run
    from .gan.trainer import resolve_device

    if args.nproc is not None:
        return _launch_processes(args)
    _threads(args.threads)  # per process: under torchrun, per rank
    try:
        # validate first (arguments, then the output path), create last (train_run)
        cfg = TrainConfig(method=args.method, seed=args.seed,
                          **{**_config_kwargs(args), **_resumed_values(args)})
        # one process unless started by torchrun (WORLD_SIZE > 1)
        group = init_from_env(str(resolve_device(cfg.device)), args.dist_timeout)
        if group.is_main:  # rank 0 alone touches the run directory
            check_out_dir(args.out, "--out")
        with _one_line_warnings(args.command):
            metrics = train_run(cfg, args.out, resume=args.resume,
                                progress=not args.quiet and group.is_main,
                                overwrite=args.overwrite, group=group)
    except (ValueError, TypeError, RunError, DistributedError) as exc:
        raise CLIError(str(exc)) from None
    if not group.is_main:
        return 0
    from .gan.addons import method_spec

    print(f"{method_spec(cfg.method, cfg.addons)} on {cfg.data}: {metrics.get('iter')} "
          f"iterations")
    _print_metrics(metrics)
    print(f"report: {os.path.join(args.out, 'report.md')}")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from .gan.addons import ADDONS, parse_method_spec
    from .gan.config import METHODS
    from .gan.run import RunError, compare

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
        from .gan.rundir import check_out_dir

        check_out_dir(args.out, "--out")
        table = compare(methods, seeds, args.out, progress=not args.quiet, jobs=args.jobs,
                        overwrite=args.overwrite, **_config_kwargs(args))
    except (ValueError, TypeError, RunError) as exc:
        raise CLIError(str(exc)) from None
    print(table)
    print(f"table: {os.path.join(args.out, 'compare.md')}")
    return 0


#: The main job's budget: WGAN-TS on ``ring``, about 2 minutes on a 2-core CPU
#: (the configuration of the ring table in docs/results.md).
DEMO_ITERS = 3000
DEMO_BATCH = 64


def cmd_demo(args: argparse.Namespace) -> int:
    from .gan.config import TrainConfig
    from .gan.run import RunError, train_run

    _threads(args.threads)
    try:
        cfg = TrainConfig(method="wgan-ts", data="ring", iters=args.iters, batch=args.batch,
                          seed=args.seed, device=args.device)
        from .gan.rundir import check_out_dir

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
    from .gan.config import SCALING_MODES
    from .gan.methods import GEN_NOISE

    p.add_argument("--data", default="ring",
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
                   help="learning-rate schedule (default linear decay to 0)")
    p.add_argument("--gp-lambda", dest="gp_lambda", type=float, default=None)
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
    parser = argparse.ArgumentParser(prog="otgan", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    dist = sub.add_parser("distance", help="exact Wasserstein distance between two point files")
    dist.add_argument("A", help="real points (.npy, .csv or .txt), one point per row")
    dist.add_argument("B", help="generated points, same dimension")
    dist.add_argument("--metric", default="l1", choices=METRICS)
    dist.add_argument("--p", type=float, default=None, help="exponent for --metric lp")
    dist.add_argument("--method", default="auto")
    dist.add_argument("--json", action="store_true", help="machine-readable output")
    dist.set_defaults(func=cmd_distance)

    from .gan.addons import describe_addons
    from .gan.methods import METHODS, describe_methods

    methods_epilog = ("registered methods (otgan.gan.methods.METHODS) and their "
                      "defaults:\n" + "\n".join("  " + line for line in
                                                describe_methods().splitlines())
                      + "\n\nadd-ons (otgan.gan.addons.ADDONS; train: --jc, --lens; "
                        "compare: method+addon, e.g. gan+jc,wgan-ts+jc+lens):\n"
                      + "\n".join("  " + line for line in describe_addons().splitlines()))
    train = sub.add_parser("train", help="train a GAN (wgan-ts or a baseline)",
                           epilog=methods_epilog,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
    train.add_argument("--method", default="wgan-ts", choices=tuple(METHODS),
                       help="training method (default wgan-ts; listed below)")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--out", required=True, help="run directory")
    train.add_argument("--resume", action="store_true",
                       help="continue from OUT/ckpt.pt (refused if the config differs, "
                            "except a larger --iters, which extends the run)")
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
    _add_config_options(comp, iters_default=2000)
    comp.set_defaults(func=cmd_compare)

    demo = sub.add_parser("demo", help="the main job: train WGAN-TS on 'ring' for a few minutes")
    demo.add_argument("--iters", type=int, default=DEMO_ITERS)
    demo.add_argument("--batch", type=int, default=DEMO_BATCH)
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--device", default="auto")
    demo.add_argument("--out", default=os.path.join("runs", "demo"))
    demo.add_argument("--threads", type=int, default=None)
    demo.add_argument("--quiet", action="store_true")
    demo.add_argument("--json", action="store_true", help="print the metrics as JSON")
    demo.set_defaults(func=cmd_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser.parse_args(argv)
    args.argv = argv  # for train --nproc, which re-runs the command under torchrun
    try:
        return args.func(args)
    except CLIError as exc:
        print(f"otgan {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except OTSolverError as exc:
        print(f"otgan {args.command}: solver error: {exc}", file=sys.stderr)
        return 1
