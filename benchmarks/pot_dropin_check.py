"""Run POT's own ``ot.emd`` / ``ot.emd2`` tests with ``otgan.compat`` patched in.

POT's wheel ships no tests, and otgan does not vendor them. Given a checkout
of POT's ``test/test_ot.py`` (and ``test/conftest.py``, which defines the
``nx`` backend fixture), this script copies them to a temporary directory,
adds a conftest that replaces ``ot.emd``, ``ot.emd2``, ``ot.lp.emd`` and
``ot.lp.emd2`` by :func:`otgan.compat.emd` / :func:`otgan.compat.emd2` for
every test (the natural migration ``ot.emd = compat.emd``), runs pytest on
the selected tests and prints, per test, whether it passed, and the totals.
It also counts the calls that reached ``compat``, so a run in which the patch
did not take effect cannot pass unnoticed.

Usage::

    python benchmarks/pot_dropin_check.py PATH/TO/POT/test/test_ot.py \\
        [--conftest PATH/TO/POT/test/conftest.py] [-k EXPR]

With a bare git snapshot of POT (``git --git-dir=... show HEAD:test/test_ot.py
> /tmp/test_ot.py``) the two files can be extracted first. Exit status: 0 if
every selected test passed, 1 otherwise, 2 on a usage error.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: POT's tests of ``ot.emd`` / ``ot.emd2`` in ``test/test_ot.py`` (pytest ``-k``
#: matches substrings: ``test_emd_emd2`` also selects ``..._types_devices``)
DEFAULT_K = " or ".join([
    "test_emd_dimension_and_mass_mismatch", "test_emd_backends", "test_emd2_backends",
    "test_emd_emd2", "test_emd2_gradients", "test_omp_emd2", "test_emd_empty",
    "test_emd2_multi", "test_warnings", "test_dual_variables", "sparse_vs_dense",
    "test_emd2_sparse_gradients", "test_emd__dual_warmstart", "test_emd_sparse_warmstart",
    "test_batch_center_ot_dual",
])

# Appended to POT's conftest (or used alone): the patch, a call counter and a
# per-test outcome log. Written here as text because it runs in the child.
PATCH = '''

# ---- added by otgan's benchmarks/pot_dropin_check.py --------------------------
import json as _json
import os as _os

import ot as _ot
import ot.lp as _ot_lp
import pytest as _pytest

from otgan import compat as _compat

_CALLS = {"emd": 0, "emd2": 0}
_OUTCOMES = {}


def _counting(name, fn):
    def wrapper(*args, **kwargs):
        _CALLS[name] += 1
        return fn(*args, **kwargs)
    wrapper.__name__ = wrapper.__qualname__ = name
    return wrapper


@_pytest.fixture(autouse=True)
def _otgan_compat_patch(monkeypatch):
    """The migration under test: POT's names now answer with otgan.compat."""
    emd, emd2 = _counting("emd", _compat.emd), _counting("emd2", _compat.emd2)
    for module in (_ot, _ot_lp):
        monkeypatch.setattr(module, "emd", emd)
        monkeypatch.setattr(module, "emd2", emd2)
    yield


def pytest_runtest_logreport(report):
    # a failure in any phase (setup, call, teardown) is the test's outcome
    if _OUTCOMES.get(report.nodeid) == "failed":
        return
    if report.failed:
        _OUTCOMES[report.nodeid] = "failed"
    elif report.skipped:
        _OUTCOMES[report.nodeid] = "skipped"
    elif report.when == "call":
        _OUTCOMES[report.nodeid] = "passed"


def pytest_sessionfinish(session, exitstatus):
    with open(_os.environ["OTGAN_DROPIN_REPORT"], "w") as fh:
        _json.dump({"outcomes": _OUTCOMES, "calls": _CALLS}, fh)
'''


def run(test_file: Path, conftest: Path | None, k: str, extra: list[str]) -> int:
    with tempfile.TemporaryDirectory(prefix="pot_dropin_") as tmp:
        tmp = Path(tmp)
        shutil.copy(test_file, tmp / test_file.name)
        base = conftest.read_text() if conftest is not None else ""
        (tmp / "conftest.py").write_text(base + PATCH)
        (tmp / "pytest.ini").write_text("[pytest]\n")  # not otgan's pytest options
        report = tmp / "report.json"
        env = dict(os.environ, OTGAN_DROPIN_REPORT=str(report),
                   PYTHONPATH=os.pathsep.join(
                       [str(ROOT)] + [p for p in [os.environ.get("PYTHONPATH")] if p]))
        cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly",
               "-p", "no:cacheprovider", "-c", str(tmp / "pytest.ini"),
               "--rootdir", str(tmp), "-k", k, *extra, str(tmp / test_file.name)]
        proc = subprocess.run(cmd, cwd=tmp, env=env, capture_output=True, text=True)
        if not report.exists():
            sys.stdout.write(proc.stdout[-8000:] + proc.stderr[-4000:])
            print("pytest produced no report (collection error?)")
            return 1
        data = json.loads(report.read_text())
    outcomes, calls = data["outcomes"], data["calls"]
    counts: dict[str, int] = {}
    for nodeid, outcome in sorted(outcomes.items()):
        counts[outcome] = counts.get(outcome, 0) + 1
        print(f"{outcome:8s} {nodeid.split('::', 1)[-1]}")
    if counts.get("failed"):
        sys.stdout.write("\n" + proc.stdout[-12000:])
    print(f"\npassed {counts.get('passed', 0)}, failed {counts.get('failed', 0)}, "
          f"skipped {counts.get('skipped', 0)}; calls that reached otgan.compat: "
          f"emd {calls['emd']}, emd2 {calls['emd2']}")
    if not outcomes:
        print(f"no test selected by -k {k!r}")
        return 1
    if calls["emd"] + calls["emd2"] == 0:
        print("the patch never took effect: no call reached otgan.compat")
        return 1
    return 0 if not counts.get("failed") else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("test_file", type=Path, help="POT's test/test_ot.py")
    parser.add_argument("--conftest", type=Path, default=None,
                        help="POT's test/conftest.py (defines the nx fixture); "
                             "default: conftest.py next to test_file, if any")
    parser.add_argument("-k", default=DEFAULT_K, help="pytest -k expression")
    parser.add_argument("pytest_args", nargs="*", help="passed on to pytest (after --)")
    args = parser.parse_args(argv)
    if not args.test_file.is_file():
        parser.error(f"test_file {str(args.test_file)!r} is not a file")
    conftest = args.conftest
    if conftest is None and (args.test_file.parent / "conftest.py").is_file():
        conftest = args.test_file.parent / "conftest.py"
    if conftest is not None and not conftest.is_file():
        parser.error(f"--conftest {str(conftest)!r} is not a file")
    return run(args.test_file, conftest, args.k, args.pytest_args)


if __name__ == "__main__":
    sys.exit(main())
