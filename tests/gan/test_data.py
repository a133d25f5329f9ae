import numpy as np
import pytest
import torch

from otgan.gan import load_dataset
from otgan.gan.evaluation.metrics import evaluate, mode_metrics


def _sample(name, n=4000):
    return load_dataset(name).sample(n, torch.Generator().manual_seed(0)).numpy()


def test_ring_and_grid_definitions():
    ring = load_dataset("ring")
    np.testing.assert_allclose(np.linalg.norm(ring.modes, axis=1), 1.0)
    assert len(ring.modes) == 8 and ring.mode_std == 0.01
    grid = load_dataset("grid")
    assert len(grid.modes) == 25 and grid.mode_std == 0.05
    assert set(np.unique(grid.modes)) == {-4.0, -2.0, 0.0, 2.0, 4.0}
    for name, ds in (("ring", ring), ("grid", grid)):
        x = _sample(name)
        m = mode_metrics(x, ds.modes, ds.mode_std)
        assert m["modes"] == len(ds.modes)
        assert m["pct_hq"] > 98.0  # 3-sigma ball in 2-D holds ~98.9 %


@pytest.mark.parametrize("name, radius, std", [("8gaussians", 2 / 1.414, 0.02 / 1.414),
                                               ("25gaussians", None, 0.05 / 2.828)])
def test_wgan_gp_toy_sets(name, radius, std):
    ds = load_dataset(name)
    if radius is not None:
        np.testing.assert_allclose(np.linalg.norm(ds.modes, axis=1), radius)
    else:
        assert np.abs(ds.modes).max() == pytest.approx(4 / 2.828)
    x = _sample(name)
    d = np.sqrt(((x[:, None] - ds.modes[None]) ** 2).sum(-1)).min(1)
    assert np.std(d) < 3 * std and mode_metrics(x, ds.modes, ds.mode_std)["pct_hq"] > 95


def test_swissroll_and_lines():
    x = _sample("swissroll")
    r = np.linalg.norm(x, axis=1) * 7.5
    assert 4.0 < r.min() and r.max() < 15.5  # t in [1.5 pi, 4.5 pi] plus noise
    lines = _sample("lines")
    assert np.all(lines[:, 0] == 0) and 0 <= lines[:, 1].min() and lines[:, 1].max() <= 1


def test_digits_split_and_scale():
    ds = load_dataset("digits")
    assert ds.shape == (1, 8, 8)
    assert ds.train.min() == -1.0 and ds.train.max() == 1.0
    assert len(ds.train) + len(ds.test) == 1797 and abs(len(ds.test) - 359) <= 1
    b = ds.sample(10, torch.Generator().manual_seed(0))
    assert b.shape == (10, 1, 8, 8)
    # real digits score as real: all classes, near-maximal classifier score, the
    # Fréchet floor (the other real set is the floor's); tests/gan/evaluation/test_digits_metrics.py
    m = evaluate(ds, ds.heldout(300, 1), n=300)
    assert m["classes_covered"] == 10 and m["confidence"] > 0.9 and m["clf_accuracy"] >= 0.97
    assert m["classifier_score"] > 9 and m["frechet_distance"] == pytest.approx(m["frechet_floor"])


def test_user_npy(tmp_path):
    p = tmp_path / "pts.npy"
    np.save(p, np.arange(20, dtype=np.float64).reshape(10, 2))
    ds = load_dataset(str(p))
    assert ds.shape == (2,) and len(ds.train) == 8 and len(ds.test) == 2
    bad = tmp_path / "bad.npy"
    np.save(bad, np.array(["a", "b"]))
    with pytest.raises(ValueError, match="numeric array"):
        load_dataset(str(bad))
    with pytest.raises(ValueError, match="does not exist"):
        load_dataset(str(tmp_path / "missing.npy"))
