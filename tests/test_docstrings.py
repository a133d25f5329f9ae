"""The examples in the public docstrings run as written."""
import doctest
import importlib

import pytest

MODULES = ["otgan", "otgan.api", "otgan.result", "otgan.solvers.certify",
           "otgan.solvers.ctransform", "otgan.kernels.fused", "otgan.torch",
           "otgan.gan.adapter"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0, f"{name} has no examples"
    assert result.failed == 0
