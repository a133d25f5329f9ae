"""The examples in the docstrings of every public module run as written.

Modules are discovered, not listed: a new public module is tested as soon as
it exists, and one that defines public functions or classes must show at
least one example. ``otgan.theory`` and ``otgan.compat`` run theirs in
``tests/theory/test_docstrings.py`` and ``tests/test_compat.py``.
"""
import doctest
import importlib
import inspect
import pkgutil

import pytest

import otgan

ELSEWHERE = ("otgan.theory", "otgan.compat")


def _public_modules():
    names = ["otgan"]
    for info in pkgutil.walk_packages(otgan.__path__, prefix="otgan."):
        parts = info.name.split(".")
        if any(p.startswith("_") for p in parts[1:]):
            continue  # private modules and __main__
        if info.name.startswith(ELSEWHERE):
            continue
        names.append(info.name)
    return sorted(names)


MODULES = _public_modules()


def _defines_public_api(module) -> bool:
    return any(not name.startswith("_") and getattr(obj, "__module__", None) == module.__name__
               and (inspect.isfunction(obj) or inspect.isclass(obj))
               for name, obj in vars(module).items())


def test_discovery_finds_the_layers():
    for name in ("otgan.costs", "otgan.geometry", "otgan.lp.registry", "otgan.torch",
                 "otgan.kernels.fused", "otgan.gan.training.trainer"):
        assert name in MODULES


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
    if _defines_public_api(module):
        assert result.attempted > 0, f"{name} defines public functions but shows no example"
