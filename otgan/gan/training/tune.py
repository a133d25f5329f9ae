r"""An equal tuning budget for every method (``otgan compare --tune K``).

Lucic et al. ("Are GANs Created Equal?", NeurIPS 2018) compare GANs by giving
each the same number of hyperparameter configurations drawn from a search
space around its published settings. Here every method of a comparison gets
the same ``K`` configurations from a small space around its reference
settings for the data's kind (:meth:`Method.defaults_for
<otgan.gan.methods.Method.defaults_for>`), each trained on a held-out tuning
seed; the one with the smallest exact W1 / noise floor wins, and the
comparison's seeds are then trained at the winning setting.

The search space (:func:`search_space`): the product of these axes, each a
few values around the reference (the first value of every axis *is* the
reference):

======================  ============================================  ===================
axis                    values                                        methods
======================  ============================================  ===================
``lr``                  both learning rates x 1, 1/3, 3, 10           all
``lr_decay``            the reference plan, the other one             all
``batch``               x 1, 1/2, 2                                   all
``steps``               ``n_critic`` x 1, 2, 1/5 (at least 1)         critics but wgan-ts
                        ``n_r`` x 1, 2, 1/2 (at least 1)              wgan-ts
                        ``xicfg_u`` 1, 2                              xicfg
``strength``            ``gp_lambda`` x 1, 10, 1/10                   wgan-gp
                        ``clip`` x 1, 2, 1/2                          wgan
                        ``ot_reg`` x 1, 1/10, 0                       wgan-ts
                        ``xicfg_eta`` x 1, 4, 1/4                     xicfg
======================  ============================================  ===================

An axis whose field the comparison fixes explicitly (``--batch 64``,
``--lr-g``, ...) is left out: the user's value holds for every trial.
Duplicate values (``n_critic`` 1 x 1/5) are dropped. Trial 0 is always the
reference setting; trials 1 .. K-1 are distinct points of the rest of the
space, drawn without replacement by ``random.Random`` seeded with the tuning
seed and the method spec (:func:`draw_settings`): deterministic, and the
same for every comparison with the same seed.

Examples
--------
>>> from otgan.gan.training.config import TrainConfig
>>> base = TrainConfig(method="wgan-gp", data="ring")
>>> space = search_space(base)
>>> [name for name, _ in space]
['lr', 'lr_decay', 'batch', 'steps', 'strength']
>>> draw_settings(base, 3, seed=7)[0]
{}
>>> len(draw_settings(base, 3, seed=7)), draw_settings(base, 3, seed=7) == draw_settings(
...     base, 3, seed=7)
(3, True)
>>> apply_setting(base, {"lr": 3.0, "strength": 10.0}).gp_lambda
1.0
>>> search_space(base)[2], search_space(base)[3]
(('batch', [64, 32, 128]), ('steps', [5, 10, 1]))
"""
from __future__ import annotations

import itertools
import random
from typing import Any

from ..addons import ADDONS
from .config import METHODS, TrainConfig

__all__ = ["search_space", "draw_settings", "apply_setting", "describe_setting",
           "space_size", "TUNE_AXES", "DEFAULT_TUNE_SEED"]

#: The tuning runs' seed when none is given: far from the seeds reported
#: (0, 1, 2, ...), so that the trials are held out from them.
DEFAULT_TUNE_SEED = 1000

#: The axes of the search space, in order (see the module docstring).
TUNE_AXES = ("lr", "lr_decay", "batch", "steps", "strength")

#: The TrainConfig fields each axis moves (an axis with one of them fixed by
#: the user is left out of that method's space).
_AXIS_FIELDS = {"lr": ("lr_g", "lr_d"), "lr_decay": ("lr_decay",), "batch": ("batch",)}


def _steps_axis(method: str) -> tuple[str, tuple] | None:
    if method == "wgan-ts":
        return "n_r", (1.0, 2.0, 0.5)
    if method == "xicfg":
        return "xicfg_u", ("abs", 1, 2)
    if METHODS[method].has_critic:
        return "n_critic", (1.0, 2.0, 0.2)
    return None


def _strength_axis(method: str) -> tuple[str, tuple] | None:
    return {"wgan-gp": ("gp_lambda", (1.0, 10.0, 0.1)), "wgan": ("clip", (1.0, 2.0, 0.5)),
            "wgan-ts": ("ot_reg", (1.0, 0.1, 0.0)),
            "xicfg": ("xicfg_eta", (1.0, 4.0, 0.25))}.get(method)


def _pack(cfg: TrainConfig) -> int:
    return max((getattr(ADDONS[a], "m", 1) for a in cfg.addons), default=1)


def search_space(base: TrainConfig, fixed=()) -> list[tuple[str, list]]:
    """The axes of ``base``'s method, each ``(axis, values)`` with the
    reference value first; ``fixed`` names the TrainConfig fields the user set
    (their axes are left out). A value is a multiplier of the reference
    (``lr``, ``strength``), the plan (``lr_decay``) or the value itself
    (``batch``, ``steps``)."""
    fixed = set(fixed)
    m = base.method
    axes: list[tuple[str, list]] = []
    if not fixed & {"lr_g", "lr_d"}:
        axes.append(("lr", [1.0, 1 / 3, 3.0, 10.0]))
    if "lr_decay" not in fixed:
        other = "none" if base.lr_decay == "linear" else "linear"
        axes.append(("lr_decay", [base.lr_decay, other]))
    if "batch" not in fixed:
        pack = _pack(base)
        sizes = []
        for f in (1.0, 0.5, 2.0):
            b = max(2, int(round(base.batch * f)))
            b -= b % pack
            if b >= max(2, pack) and b not in sizes:
                sizes.append(b)
        axes.append(("batch", sizes))
    steps = _steps_axis(m)
    if steps is not None and steps[0] not in fixed:
        field, factors = steps
        ref = getattr(base, field)
        if factors[0] == "abs":
            vals = [ref] + [v for v in factors[1:] if v != ref]
        else:
            vals = []
            for f in factors:
                v = max(1, int(round(ref * f)))
                if v not in vals:
                    vals.append(v)
        axes.append(("steps", vals))
    strength = _strength_axis(m)
    if strength is not None and strength[0] not in fixed:
        field, factors = strength
        ref = getattr(base, field)
        kept, seen = [], set()
        for f in factors:
            if ref * f not in seen:
                seen.add(ref * f)
                kept.append(f)
        axes.append(("strength", kept))
    return axes


def space_size(base: TrainConfig, fixed=()) -> int:
    """The number of distinct settings of :func:`search_space`."""
    n = 1
    for _, values in search_space(base, fixed):
        n *= len(values)
    return n


def draw_settings(base: TrainConfig, k: int, seed: int, fixed=(), spec: str | None = None
                  ) -> list[dict[str, Any]]:
    """``k`` distinct settings ``{axis: value}`` of ``base``'s space: the
    reference (``{}``) first, then ``k - 1`` points drawn without replacement
    (``random.Random(f"{seed}:{spec}")``; ``spec`` defaults to the method).
    A setting lists only the axes that differ from the reference.

    Raises ``ValueError`` when ``k`` exceeds the space's size.
    """
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"tune must be an integer >= 1, got {k!r}")
    axes = search_space(base, fixed)
    points = list(itertools.product(*[range(len(v)) for _, v in axes]))
    if k > len(points):
        raise ValueError(f"tune={k} exceeds the {len(points)} settings of the search space "
                         f"of {spec or base.method!r}")
    rng = random.Random(f"{seed}:{spec or base.method}")
    chosen = [points[0]] + rng.sample(points[1:], k - 1)
    return [{name: values[i] for (name, values), i in zip(axes, p) if i} for p in chosen]


def apply_setting(base: TrainConfig, setting: dict[str, Any]) -> TrainConfig:
    """``base`` with the axes of ``setting`` applied (a new, validated config)."""
    kw = base.to_dict(full=True)
    for axis, v in setting.items():
        if axis == "lr":
            kw["lr_g"], kw["lr_d"] = base.lr_g * v, base.lr_d * v
        elif axis == "lr_decay":
            kw["lr_decay"] = v
        elif axis == "batch":
            kw["batch"] = int(v)
        elif axis == "steps":
            field, _ = _steps_axis(base.method)
            kw[field] = int(v)
        elif axis == "strength":
            field, _ = _strength_axis(base.method)
            kw[field] = getattr(base, field) * v
        else:
            raise ValueError(f"unknown tuning axis {axis!r}; axes: {', '.join(TUNE_AXES)}")
    return TrainConfig(**kw)


def describe_setting(base: TrainConfig, setting: dict[str, Any]) -> str:
    """The fields a setting changes, ``"lr_g 0.0003, gp_lambda 1"``
    (``"reference"`` for ``{}``)."""
    if not setting:
        return "reference"
    cfg = apply_setting(base, setting)
    parts = [f"{k} {getattr(cfg, k):g}" if isinstance(getattr(cfg, k), (int, float))
             else f"{k} {getattr(cfg, k)}"
             for k in base.to_dict(full=True)
             if getattr(cfg, k) != getattr(base, k) and k != "lr_d"]
    return ", ".join(parts)
