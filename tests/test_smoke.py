import numpy as np

import otgan


def test_solve_samples_certified(rng):
    y, x = rng.random((30, 3)), rng.random((20, 3))
    res = otgan.solve_samples(y, x)
    assert res.certificate.is_optimal
    assert abs(res.value - res.dual_value) < 1e-12
