import numpy as np

import otgan


def test_solve_samples_certified(rng):
    y, x = rng.random((30, 3)), rng.random((20, 3))
    res = otgan.solve_samples(y, x)
    assert res.certificate.is_optimal
    assert abs(res.value - res.dual_value) < 1e-12


def test_import_loads_neither_numba_nor_pot_nor_torch():
    # start-up cost of every command-line call: numba (~0.2 s), POT (1-3 s) and
    # torch (~1 s) load on first use only
    import subprocess
    import sys
    code = ("import sys, otgan\n"
            "print(sorted(m for m in ('numba', 'ot', 'torch', 'scipy.sparse') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, check=True).stdout.strip()
    assert out == "[]"
