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
