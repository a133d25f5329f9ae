import json
import pickle

import numpy as np
import pytest

import otgan
from otgan.cli import main


@pytest.fixture
def point_files(tmp_path, rng):
    y, x = rng.random((20, 3)), rng.random((15, 3))
    np.save(tmp_path / "y.npy", y)
    np.savetxt(tmp_path / "x.csv", x, delimiter=",")
    np.savetxt(tmp_path / "x.txt", x)
    return tmp_path, y, x


def test_distance_text_and_json(point_files, capsys):
    tmp, y, x = point_files
    expected = otgan.wasserstein(y, x, metric="l2")
    assert main(["distance", str(tmp / "y.npy"), str(tmp / "x.csv"), "--metric", "l2"]) == 0
    out = capsys.readouterr().out
    assert "OPTIMAL" in out and f"{expected:.12g}" in out
    assert main(["distance", str(tmp / "y.npy"), str(tmp / "x.txt"), "--json",
                 "--metric", "lp", "--p", "3"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["wasserstein"] == pytest.approx(otgan.wasserstein(y, x, metric="lp", p=3))
    assert data["certificate"]["is_optimal"] is True and (data["m"], data["n"]) == (20, 15)


@pytest.mark.parametrize("content,message", [
    (b"1,2,3\n4,five,6\n", "cannot read points"),
    (b"", "holds no points"),
])
def test_distance_bad_csv(point_files, capsys, content, message):
    tmp, _, _ = point_files
    (tmp / "bad.csv").write_bytes(content)
    assert main(["distance", str(tmp / "y.npy"), str(tmp / "bad.csv")]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_distance_refuses_pickles_missing_files_and_mismatch(point_files, capsys):
    tmp, _, _ = point_files
    np.save(tmp / "obj.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    assert main(["distance", str(tmp / "y.npy"), str(tmp / "obj.npy")]) == 2
    assert "cannot read points" in capsys.readouterr().err
    assert main(["distance", str(tmp / "nope.npy"), str(tmp / "y.npy")]) == 2
    assert "no such file" in capsys.readouterr().err
    np.save(tmp / "z.npy", np.ones((4, 2)))
    assert main(["distance", str(tmp / "y.npy"), str(tmp / "z.npy")]) == 2
    assert "different" in capsys.readouterr().err
    (tmp / "pts.dat").write_text("1 2 3\n")
    assert main(["distance", str(tmp / "y.npy"), str(tmp / "pts.dat")]) == 2
    assert "unsupported file type" in capsys.readouterr().err


def test_distance_reports_solve_time_apart_from_start_up(point_files):
    # a fresh process, as a command-line user runs it: 20 vs 15 uniform points
    # are solved by the transportation solver, without importing POT
    import subprocess
    import sys
    tmp, y, x = point_files
    code = ("import sys; from otgan.cli import main; rc = main(['distance', sys.argv[1], "
            "sys.argv[2], '--json']); print('POT', 'ot' in sys.modules, file=sys.stderr); "
            "sys.exit(rc)")
    proc = subprocess.run([sys.executable, "-c", code, str(tmp / "y.npy"), str(tmp / "x.csv")],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["method"] == "fast-transport"
    assert "POT False" in proc.stderr
    assert data["wasserstein"] == pytest.approx(otgan.wasserstein(y, x, method="emd"),
                                                rel=1e-12)
    assert 0 <= data["solve_seconds"] <= data["call_seconds"]
    assert data["startup_seconds"] > 0


# ------------------------------------------------------------ help, version, errors (issue 22)
def test_help_has_no_doctest_and_every_option_has_help(capsys):
    from otgan.cli import build_parser

    with pytest.raises(SystemExit) as exit_:
        main(["--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert ">>>" not in out and "build_parser" not in out and "distance" in out
    parser = build_parser()
    sub = next(a for a in parser._actions if a.choices and "distance" in a.choices)
    for name in ("distance", "demo"):
        for action in sub.choices[name]._actions:
            assert action.help, f"otgan {name} {action.option_strings or action.dest} has no help"


def test_version_is_the_package_version(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.strip() == f"otgan {otgan.__version__}"


def _one_line(capsys):
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    return lines[0]


def test_distance_errors_name_the_files_and_the_flags(point_files, capsys):
    tmp, y, x = point_files
    A, B = str(tmp / "y.npy"), str(tmp / "x.csv")
    assert main(["distance", A, B, "--metric", "lp"]) == 2
    assert _one_line(capsys).endswith("--metric lp needs --p P (p >= 1, or inf)")
    assert main(["distance", A, B, "--metric", "lp", "--p", "0.5"]) == 2
    assert "--p must be a number >= 1" in _one_line(capsys)
    assert main(["distance", A, B, "--p", "2"]) == 2
    assert "--p is only used with --metric lp" in _one_line(capsys)
    np.save(tmp / "z.npy", np.ones((4, 2)))
    assert main(["distance", A, str(tmp / "z.npy")]) == 2
    line = _one_line(capsys)
    assert f"{A} and {tmp / 'z.npy'} have points of different shapes" in line
    bad = x.copy()
    bad[3, 1] = np.nan
    np.save(tmp / "nan.npy", bad)
    assert main(["distance", A, str(tmp / "nan.npy")]) == 2
    assert f"{tmp / 'nan.npy'} contains NaN or inf (first at index (3, 1)" in _one_line(capsys)
    np.save(tmp / "big.npy", x * 1e200)  # finite points, squared distances of 1e400
    assert main(["distance", A, str(tmp / "big.npy"), "--metric", "sqeuclidean"]) == 2
    line = _one_line(capsys)
    assert f"{A} and {tmp / 'big.npy'}: the costs overflow" in line
    assert " y " not in line and " x " not in line
    (tmp / "dir.npy").mkdir()
    assert main(["distance", str(tmp / "dir.npy"), B]) == 2
    assert _one_line(capsys).endswith(f"{tmp / 'dir.npy'}: is a directory, not a file of points")


def test_distance_json_errors_are_json_on_stdout(point_files, capsys):
    tmp, _, _ = point_files
    A = str(tmp / "y.npy")
    assert main(["distance", A, str(tmp / "nope.npy"), "--json"]) == 2
    captured = capsys.readouterr()
    assert captured.err == ""
    data = json.loads(captured.out)
    assert data == {"error": f"{tmp / 'nope.npy'}: no such file", "kind": "input",
                    "command": "distance", "exit_code": 2}
    # argparse's own usage errors too
    assert main(["distance", A, A, "--json", "--metric", "cosine"]) == 2
    captured = capsys.readouterr()
    data = json.loads(captured.out)
    assert captured.err == "" and data["kind"] == "usage" and "cosine" in data["error"]


def test_distance_solver_errors_are_json_with_status_1(point_files, capsys, monkeypatch):
    import otgan.api

    tmp, _, _ = point_files

    def fail(*args, **kwargs):
        raise otgan.OTSolverError("no certified optimum")

    monkeypatch.setattr(otgan.api, "solve_samples", fail)
    assert main(["distance", str(tmp / "y.npy"), str(tmp / "x.csv"), "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["kind"] == "solver" and data["exit_code"] == 1
    assert main(["distance", str(tmp / "y.npy"), str(tmp / "x.csv")]) == 1
    assert "solver error: no certified optimum" in _one_line(capsys)


def test_distance_progress_on_stderr_only_when_asked_or_large_on_a_terminal(point_files,
                                                                          capsys,
                                                                          monkeypatch):
    import otgan.cli as cli

    tmp, y, x = point_files
    args = ["distance", str(tmp / "y.npy"), str(tmp / "x.csv")]
    assert main(args + ["--progress", "always"]) == 0
    captured = capsys.readouterr()
    assert "exact W" in captured.out and "solving" not in captured.out
    err = captured.err.splitlines()
    assert err[0].startswith("otgan distance: solving 20 x 15 with method")
    assert err[1].startswith("otgan distance: solved in") and len(err) == 2
    assert main(args) == 0  # auto: small, and stderr is not a terminal here
    assert capsys.readouterr().err == ""
    monkeypatch.setattr(cli, "PROGRESS_MIN_PAIRS", 300)  # 20 x 15 is "large" now
    assert main(args) == 0  # ... but stderr is still not a terminal
    assert capsys.readouterr().err == ""
    monkeypatch.setattr(cli.sys.stderr, "isatty", lambda: True, raising=False)
    assert main(args) == 0
    assert "solving 20 x 15" in capsys.readouterr().err
    assert main(args + ["--progress", "never"]) == 0
    assert capsys.readouterr().err == ""


def test_distance_into_a_closed_pipe_exits_quietly(point_files):
    # `otgan distance A B | head -1`: the reader is gone before the output is
    # written. No BrokenPipeError traceback, a non-zero status.
    import subprocess
    import sys
    tmp, _, _ = point_files
    proc = subprocess.Popen([sys.executable, "-m", "otgan", "distance", str(tmp / "y.npy"),
                             str(tmp / "x.csv")], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    proc.stdout.close()  # before the command can write anything
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=300) == 1
    assert err == ""
