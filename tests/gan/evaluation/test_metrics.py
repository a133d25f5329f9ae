"""Exact certified W1, its noise floor and the mode measures on toy data."""
import numpy as np
import pytest

from otgan.gan import load_dataset
from otgan.gan.evaluation.metrics import evaluate, exact_w1, mode_metrics


def test_metrics_exact_w1_and_modes():
    ds = load_dataset("ring")
    real = ds.heldout(300, 0)
    w = exact_w1(real, real + np.array([0.5, 0.0]))
    assert w["certified"] and w["w1"] == pytest.approx(0.5)
    far = mode_metrics(np.full((10, 2), 5.0), ds.modes, ds.mode_std)
    assert far == {"modes": 0, "n_modes": 8, "pct_hq": 0.0}
    one = mode_metrics(np.tile(ds.modes[:1], (10, 1)), ds.modes, ds.mode_std)
    assert one["modes"] == 1 and one["pct_hq"] == 100.0
    m = evaluate(ds, ds.heldout(300, 1), n=300)
    assert m["w1"] == pytest.approx(m["noise_floor"]) and m["modes"] == 8
