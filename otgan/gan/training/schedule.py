r"""The learning-rate plan: linear decay, and its re-plan when a resumed run's
budget changes.

Under ``lr_decay="linear"`` the initial learning rates are multiplied at
iteration ``i`` (0-based) by :func:`lr_factor`: ``1 - i / iters`` on the
original schedule. A resume with a different ``iters`` (at least the
iterations already done) does not jump back to that line; :func:`replan`
draws the straight line from the factor of the last iteration taken to 0 at
the new end, and the plan is stored in the checkpoint
(:mod:`otgan.gan.training.checkpoint`, ``"lr_plan"``).

Examples
--------
>>> lr_factor(None, 100, 0), lr_factor(None, 100, 50)
(1.0, 0.5)
>>> plan = replan(None, old_iters=100, new_iters=200, done=100)  # a finished run goes on
>>> plan["anchor_iter"], round(plan["anchor_factor"], 6), plan["end"]
(99, 0.01, 200)
>>> round(lr_factor(plan, 200, 100), 6), lr_factor(plan, 200, 200)
(0.009901, 0.0)
"""
from __future__ import annotations

__all__ = ["lr_factor", "replan"]


def lr_factor(plan: dict | None, iters: int, i: int) -> float:
    """Learning-rate multiplier of iteration ``i`` (0-based) under linear decay.

    ``plan`` is ``None`` for the original schedule ``1 - i / iters``, or
    ``{"anchor_iter": a, "anchor_factor": f, "end": N}`` after the budget was
    changed on resume: the straight line through ``(a, f)`` that reaches 0 at
    ``N``, i.e. ``f * (N - i) / (N - a)``.

    Examples
    --------
    >>> lr_factor({"anchor_iter": 9, "anchor_factor": 0.5, "end": 19}, 10, 14)
    0.25
    """
    if plan is None:
        return 1.0 - i / max(1, iters)
    a, f, end = plan["anchor_iter"], plan["anchor_factor"], plan["end"]
    return f * (end - i) / (end - a)


def replan(plan: dict | None, old_iters: int, new_iters: int, done: int) -> dict | None:
    """The plan after the budget changed from ``old_iters`` to ``new_iters``
    once ``k = done`` iterations were taken under ``plan``.

    The new schedule is the straight line through the factor of the last
    iteration taken, ``(k - 1, f_old(k - 1))``, that reaches 0 at the new
    end: ``f(i) = f_old(k - 1) * (new_iters - i) / (new_iters - k + 1)`` for
    ``i >= k``. It continues from the current learning rate (a finished run
    goes on at its last, small, rate) instead of jumping back up. With
    ``k = 0`` nothing was trained and the plain schedule over the new budget
    applies (``None``).

    Examples
    --------
    >>> replan(None, 100, 50, 0) is None
    True
    >>> replan(None, 100, 50, 20)
    {'anchor_iter': 19, 'anchor_factor': 0.81, 'end': 50}
    """
    if done == 0:
        return None
    anchor = lr_factor(plan, old_iters, done - 1)
    return {"anchor_iter": done - 1, "anchor_factor": anchor, "end": new_iters}
