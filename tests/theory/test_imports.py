"""Layout of :mod:`otgan.theory`: the numpy parts stay torch-free, every public
name of the former ``otgan/theory.py`` is still exported."""
from __future__ import annotations

import subprocess
import sys

import pytest

import otgan.theory

PUBLIC = {
    "divergences": ["kl_divergence", "js_divergence", "total_variation", "parallel_lines",
                    "parallel_lines_histograms", "optimal_discriminator", "gan_objective",
                    "gan_optimal_value"],
    "gradients": ["cost_gradient", "w_gradient", "lipschitz_violation"],
    "brenier": ["cyclical_monotonicity_violation", "is_cyclically_monotone",
                "brenier_potential", "supporting_hyperplane_violation"],
    "critic": ["regress_critic", "theorem3_cosine"],
}

NO_TORCH = """
import sys
import numpy as np
import otgan.theory
import otgan.theory.divergences, otgan.theory.brenier, otgan.theory.gradients
from otgan.theory import (kl_divergence, parallel_lines, parallel_lines_histograms,
                          js_divergence, supporting_hyperplane_violation,
                          brenier_potential, is_cyclically_monotone, lipschitz_violation,
                          cyclical_monotonicity_violation, gan_optimal_value)
assert "torch" not in sys.modules, "importing otgan.theory imported torch"
# and using the numpy checks does not import it either
rng = np.random.default_rng(0)
y, x = rng.normal(size=(6, 2)), rng.normal(size=(6, 2)) + 1
assert supporting_hyperplane_violation(y, x) < 1e-9
brenier_potential(y, x)
js_divergence(*parallel_lines_histograms(0.5))
gan_optimal_value([1, 2], [2, 1])
lipschitz_violation(parallel_lines(0.0, 4, 0), [0, 0, 0, 0])
cyclical_monotonicity_violation(np.eye(2), [0, 1], [1, 0])
assert "torch" not in sys.modules, "a numpy check of otgan.theory imported torch"
print("ok")
"""


def test_numpy_parts_do_not_import_torch():
    out = subprocess.run([sys.executable, "-c", NO_TORCH], capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_the_check_would_see_torch():
    """The subprocess check has teeth: importing the critic module does load torch."""
    code = "import sys, otgan.theory.critic; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "True"


def test_every_public_name_is_exported_from_its_module():
    import importlib

    names = [name for names in PUBLIC.values() for name in names]
    assert sorted(otgan.theory.__all__) == sorted(names)
    for module, members in PUBLIC.items():
        mod = importlib.import_module(f"otgan.theory.{module}")
        assert sorted(mod.__all__) == sorted(members)
        for name in members:
            assert getattr(otgan.theory, name) is getattr(mod, name)
            assert callable(getattr(mod, name))
            assert getattr(mod, name).__doc__ and "Examples" in getattr(mod, name).__doc__
    assert set(otgan.theory.__all__) <= set(dir(otgan.theory))


def test_lazy_names_and_unknown_attribute():
    pytest.importorskip("torch")
    from otgan.theory import regress_critic, theorem3_cosine  # noqa: F401  (PEP 562)
    from otgan.theory.critic import regress_critic as direct

    assert regress_critic is direct
    with pytest.raises(AttributeError, match="no attribute 'not_a_name'"):
        otgan.theory.not_a_name  # noqa: B018
    from otgan.theory import figures

    assert figures.__name__ == "otgan.theory.figures"
