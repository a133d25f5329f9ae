"""POT, imported on first use only.

``import ot`` takes 1.5–3 s (it registers a torch backend and imports
scikit-learn), so nothing imports it until a solve actually needs the network
simplex: the fast solver and the kernels never do.
"""
from __future__ import annotations

import importlib
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from types import ModuleType


def import_pot() -> ModuleType:
    """The ``ot`` module (imported now if it is not loaded yet)."""
    module = sys.modules.get("ot")
    if module is None:
        module = importlib.import_module("ot")
    return module
