"""How often does the two-process command line exit cleanly? (issue 22, item 1)

Runs the bare two-process training command of the issue ``N`` times (default
20), each into a fresh temporary run directory::

    otgan train --nproc 2 --method wgan-ts --data ring --iters 4 --batch 16 --out TMP/runK

and counts the clean exits: return code 0 *and* nothing on stderr that says a
process died (``terminate called``, ``Traceback``, a signal, torchrun's
``ChildFailedError``), so that a launcher which swallowed a rank's death would
not be counted as clean. Every failure is printed with its return code and the
tail of its stderr.

Usage::

    .venv/bin/python benchmarks/dist_exit_count.py [-n 20] [--label TEXT] [--no-write]
        [--json PATH] [-- EXTRA OTGAN TRAIN ARGS]

Writes a small JSON summary (atomically) to ``docs/results/dist_exit_count.json``
unless ``--no-write``; ``docs/distributed.md`` quotes it. Exit status: 0 when
every run was clean, 1 otherwise.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

from _common import DOCS, cpu_name, write_atomic

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
#: The command of the issue, without ``--out`` (added per run).
COMMAND = ["train", "--nproc", "2", "--method", "wgan-ts", "--data", "ring", "--iters", "4",
           "--batch", "16"]
#: stderr text that means a process died even if the exit status says 0.
DEATH_MARKS = ("terminate called", "Traceback", "Signal ", "SIGABRT", "SIGSEGV",
               "ChildFailedError")
DEFAULT_JSON = os.path.join(DOCS, "results", "dist_exit_count.json")


def _env() -> dict:
    env = dict(os.environ, OMP_NUM_THREADS="1", NUMBA_NUM_THREADS="1",
               PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    for key in ("WORLD_SIZE", "RANK", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(key, None)  # started from inside a torchrun job: still a fresh launch
    return env


def run_once(extra: list[str], tmp: str, k: int, timeout: float) -> dict:
    out = os.path.join(tmp, f"run{k}")
    cmd = [sys.executable, "-m", "otgan", *COMMAND, *extra, "--quiet", "--out", out]
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, env=_env(), capture_output=True, text=True,
                              timeout=timeout, cwd=ROOT)
        rc, err = proc.returncode, proc.stderr
    except subprocess.TimeoutExpired as exc:
        rc = "timeout"
        err = exc.stderr.decode(errors="replace") if isinstance(exc.stderr, bytes) \
            else (exc.stderr or "")
    wall = time.perf_counter() - t0
    marks = [m for m in DEATH_MARKS if m in err]
    return {"run": k, "rc": rc, "clean": rc == 0 and not marks, "marks": marks,
            "seconds": round(wall, 2), "stderr_tail": err[-1500:]}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--runs", type=int, default=20, help="runs (default 20)")
    parser.add_argument("--label", default="", help="stored with the summary, e.g. 'after fix'")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per run")
    parser.add_argument("--json", default=DEFAULT_JSON, help="summary file")
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument("extra", nargs="*", help="more `otgan train` arguments (after --)")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error(f"--runs must be >= 1, got {args.runs}")
    results = []
    with tempfile.TemporaryDirectory(prefix="otgan-dist-exit-") as tmp:
        for k in range(1, args.runs + 1):
            r = run_once(args.extra, tmp, k, args.timeout)
            results.append(r)
            state = "clean" if r["clean"] else f"FAILED rc={r['rc']} {r['marks']}"
            print(f"run {k:2d}/{args.runs}: {state} ({r['seconds']:.1f} s)", flush=True)
    failures = [r for r in results if not r["clean"]]
    clean = len(results) - len(failures)
    command = "otgan " + " ".join(COMMAND + args.extra) + " --quiet --out TMP/runK"
    print(f"\n{clean} of {len(results)} runs exited cleanly: {command}")
    for r in failures:
        print(f"\n--- run {r['run']}: rc={r['rc']}, marks {r['marks']}; stderr tail:\n"
              f"{r['stderr_tail']}")
    if not args.no_write:
        summary = {"command": command, "runs": len(results), "clean": clean,
                   "label": args.label,
                   "machine": f"{cpu_name()}, {os.cpu_count()} cores, "
                              f"Python {platform.python_version()}",
                   "torch": _torch_version(),
                   "measured": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                   "failures": [{k: r[k] for k in ("run", "rc", "marks", "stderr_tail")}
                                for r in failures],
                   "seconds_per_run": [r["seconds"] for r in results]}
        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
        write_atomic(args.json, json.dumps(summary, indent=2) + "\n")
        print(f"summary: {args.json}")
    return 0 if not failures else 1


def _torch_version() -> str:
    out = subprocess.run([sys.executable, "-c", "import torch; print(torch.__version__)"],
                         capture_output=True, text=True)
    return out.stdout.strip()


if __name__ == "__main__":
    sys.exit(main())
