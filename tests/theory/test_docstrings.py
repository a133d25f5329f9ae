"""The examples in the docstrings of :mod:`otgan.theory` run as written."""
import doctest
import importlib

import pytest

MODULES = ["otgan.theory", "otgan.theory.divergences", "otgan.theory.gradients",
           "otgan.theory.brenier", "otgan.theory.critic", "otgan.theory.figures"]


@pytest.fixture
def one_thread():
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name, one_thread):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0, f"{name} has no examples"
    assert result.failed == 0
