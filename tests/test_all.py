"""Every module's ``__all__`` is a list of distinct names, each of which the
module provides (issue #23 item 5; POT's ``__all__`` once named a function
defined nowhere, GeomLoss's was one comma-joined string)."""
import importlib
import pkgutil

import pytest

import otgan


def _module_names():
    names = ["otgan"]
    for info in pkgutil.walk_packages(otgan.__path__, prefix="otgan."):
        if info.name.rsplit(".", 1)[-1] != "__main__":  # runs the command line
            names.append(info.name)
    return sorted(names)


MODULES = _module_names()
#: the modules that declare ``__all__`` (several private or script-like ones do not)
EXPORTING = [n for n in MODULES if hasattr(importlib.import_module(n), "__all__")]


def test_the_walk_reaches_the_rooms():
    for name in ("otgan", "otgan.lp", "otgan.gan", "otgan.gan.training.checkpoint",
                 "otgan.gan.addons.jacobian", "otgan.gan.evaluation.metrics",
                 "otgan.gan.methods.wgan_ts", "otgan.errors"):
        assert name in EXPORTING


@pytest.mark.parametrize("name", EXPORTING)
def test_all_names_exist(name):
    exported = importlib.import_module(name).__all__
    module = importlib.import_module(name)
    assert isinstance(exported, (list, tuple)), type(exported)
    assert all(isinstance(n, str) and n.isidentifier() for n in exported), exported
    assert len(set(exported)) == len(exported), sorted(n for n in exported
                                                       if exported.count(n) > 1)
    missing = [n for n in exported if not hasattr(module, n)]  # lazy names resolve here
    assert missing == []
