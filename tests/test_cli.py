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
