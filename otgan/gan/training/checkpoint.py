r"""The checkpoint of a training run: its format, its integrity check and its file.

A checkpoint is one ``torch.save``-d dict (``ckpt.pt`` in a run directory,
:mod:`otgan.gan.training.run`), everything a :class:`~otgan.gan.Trainer`
needs to continue bit-identically::

    format, version      "otgan-gan-checkpoint", CHECKPOINT_VERSION
    config               TrainConfig.to_dict() of the run
    iteration, train_seconds, history
    lr_plan              None, or the re-planned decay (otgan.gan.training.schedule)
    G, D, opt_g, opt_d   networks and optimisers (D, opt_d None without a critic)
    gen_data, gen_noise  the random streams
    addons, method, pretrain   only when an add-on, the method or its pretraining
                               has state (so older runs' checkpoints stay as they were)
    sha256               state_digest of everything else (otgan.gan.training.digest)

* :func:`trainer_state` takes the snapshot and seals it with its digest;
* :func:`restore_state` checks a state (format, version, digest, the
  configuration, the budget) and restores a trainer from it — this is where a
  training run is resumed (:func:`otgan.gan.training.run.train_run` with
  ``resume=True`` calls it through :meth:`Trainer.load_checkpoint
  <otgan.gan.Trainer.load_checkpoint>`);
* :func:`write_checkpoint` writes the file atomically
  (:func:`~otgan.gan.training.rundir.write_bytes_atomic`), :func:`read_checkpoint`
  reads it back with ``torch.load(weights_only=True)``.

Version 1 (no digest) is still loaded, with a
:class:`~otgan.errors.CheckpointWarning`.

Examples
--------
>>> import os, tempfile
>>> from otgan.gan import TrainConfig, Trainer
>>> trainer = Trainer(TrainConfig(method="gan", data="ring", iters=2, batch=16))
>>> _ = trainer.step()
>>> path = os.path.join(tempfile.mkdtemp(), "ckpt.pt")
>>> write_checkpoint(path, trainer_state(trainer))
>>> state = read_checkpoint(path)
>>> state["format"], state["iteration"]
('otgan-gan-checkpoint', 1)
>>> resumed = Trainer(trainer.cfg)
>>> restore_state(resumed, state)
>>> resumed.iteration
1
"""
from __future__ import annotations

import copy
import io
import os
import warnings

import torch

from ...errors import CheckpointError, CheckpointWarning
from .config import RUNTIME_FIELDS, TrainConfig
from .digest import DIGEST_KEY, state_digest
from .rundir import write_bytes_atomic
from .schedule import replan

# ``Trainer`` in annotations is otgan.gan.training.trainer.Trainer; not imported
# even for type checking, since the trainer imports this module (no import
# cycle between the modules, not even a typing-only one).

__all__ = ["CHECKPOINT_FORMAT", "CHECKPOINT_VERSION", "trainer_state", "check_state",
           "restore_state", "write_checkpoint", "read_checkpoint"]

CHECKPOINT_FORMAT = "otgan-gan-checkpoint"
#: 2: the state carries ``sha256`` (see :func:`state_digest`) and ``lr_plan``.
#: 1: no digest; still loaded, with a :class:`CheckpointWarning`.
CHECKPOINT_VERSION = 2


def trainer_state(trainer: Trainer) -> dict:
    """Everything needed to continue ``trainer`` bit-identically, with its
    SHA-256 digest (:func:`state_digest`) under ``"sha256"``.

    A snapshot: the tensors are copies, so further training does not change
    the returned state (nor invalidate its digest).
    """
    t = trainer
    state = {"format": CHECKPOINT_FORMAT, "version": CHECKPOINT_VERSION,
             "config": t.cfg.to_dict(), "iteration": t.iteration,
             "train_seconds": t.train_seconds, "history": list(t.history),
             "lr_plan": None if t.lr_plan is None else dict(t.lr_plan),
             "G": t.G.state_dict(),
             "D": None if t.D is None else t.D.state_dict(),
             "opt_g": t.opt_g.state_dict(),
             "opt_d": None if t.opt_d is None else t.opt_d.state_dict(),
             "gen_data": t.gen_data.get_state(),
             "gen_noise": t.gen_noise.get_state()}
    addons = {name: a.state_dict() for name, a in t.addons.items()}
    addons = {name: st for name, st in addons.items() if st is not None}
    if addons:  # a run without stateful add-ons writes the checkpoint it wrote before
        state["addons"] = addons
    method_state = t.method.state_dict()
    if method_state is not None:  # only a method with state of its own writes one
        state["method"] = method_state
    if t.pretrain_logs:  # likewise: only a method that pretrains writes it
        state["pretrain"] = dict(t.pretrain_logs)
    state = copy.deepcopy(state)
    state[DIGEST_KEY] = state_digest(state)
    return state


def check_state(state: dict, source: str = "checkpoint") -> None:
    """Check the format tag, the version and the SHA-256 digest of ``state``.

    Raises
    ------
    CheckpointError
        Not an otgan GAN checkpoint, an unsupported version, or contents that
        do not match the stored digest (``source`` names the checkpoint).

    Warns
    -----
    CheckpointWarning
        For a version-1 state (no digest), which is accepted unverified.

    Examples
    --------
    >>> check_state({"format": "something else"}, "x.pt")
    Traceback (most recent call last):
    ...
    otgan.errors.CheckpointError: x.pt: not an otgan GAN checkpoint (missing format tag)
    """
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(f"{source}: not an otgan GAN checkpoint (missing format tag)")
    version = state.get("version")
    if version == 1:
        # stacklevel: the caller of Trainer.load_checkpoint, as before this
        # module existed (warn <- here <- restore_state <- load_state_dict <- load_checkpoint)
        warnings.warn(f"{source}: version-1 checkpoint without an integrity digest, "
                      f"loaded unverified (the next checkpoint written carries one)",
                      CheckpointWarning, stacklevel=5)
    elif version == CHECKPOINT_VERSION:
        stored = state.get(DIGEST_KEY)
        try:
            actual = state_digest(state)
        except TypeError as exc:
            raise CheckpointError(f"{source}: integrity check failed: {exc}") from None
        if stored != actual:
            what = ("has no digest" if stored is None else
                    "contents do not match the SHA-256 digest stored in it")
            raise CheckpointError(f"{source}: integrity check failed: the checkpoint "
                                  f"{what} (modified or corrupted); refusing to load it")
    else:
        raise CheckpointError(f"{source}: unsupported checkpoint version {version!r}")


def restore_state(trainer: Trainer, state: dict, source: str = "checkpoint", *,
                  iters_name: str = "iters") -> None:
    """Restore ``trainer`` from a :func:`trainer_state`: where a run resumes.

    The state must pass :func:`check_state`. The configurations must agree
    except for :data:`otgan.gan.training.config.RUNTIME_FIELDS` and
    ``iters``: a different budget, at least the iterations already done,
    re-plans the linear learning-rate decay from its current value
    (:func:`otgan.gan.training.schedule.replan`). ``source`` names the
    checkpoint in messages, ``iters_name`` the budget (the command line:
    ``"--iters"``). The trainer is changed only once everything was read.

    Raises
    ------
    CheckpointError
        See :func:`check_state`; also a different or invalid configuration,
        an ``iters`` below the iterations already done, or an incomplete state.
    """
    check_state(state, source)
    t = trainer
    try:
        saved = TrainConfig.from_dict(state["config"])
    except (KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(f"{source}: checkpoint holds an invalid config: {exc}") \
            from None
    diff = saved.differences(t.cfg, ignore=RUNTIME_FIELDS + ("iters",))
    if diff:
        raise CheckpointError(f"{source}: checkpoint configuration differs: "
                              + "; ".join(diff))
    try:
        iteration = int(state["iteration"])
        plan = state.get("lr_plan")
        if plan is not None:
            plan = {"anchor_iter": int(plan["anchor_iter"]),
                    "anchor_factor": float(plan["anchor_factor"]), "end": int(plan["end"])}
    except (KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(f"{source}: checkpoint is incomplete or inconsistent: "
                              f"{exc}") from None
    if iteration > t.cfg.iters:
        raise CheckpointError(f"{iters_name}={t.cfg.iters} is smaller than the "
                              f"{iteration} generator iterations already done in "
                              f"{source}; pass {iters_name} >= {iteration}")
    try:
        t.G.load_state_dict(state["G"])
        # copies: optimisers keep the given tensors, and stepping would then
        # change the caller's state behind its digest
        t.opt_g.load_state_dict(copy.deepcopy(state["opt_g"]))
        if t.D is not None:
            t.D.load_state_dict(state["D"])
            t.opt_d.load_state_dict(copy.deepcopy(state["opt_d"]))
        t.gen_data.set_state(state["gen_data"])
        t.gen_noise.set_state(state["gen_noise"].to(t.gen_noise.get_state().device))
        for name, addon in t.addons.items():
            if addon.state_dict() is not None:
                addon.load_state_dict(state["addons"][name])
        if t.method.state_dict() is not None:
            t.method.load_state_dict(state["method"])
        if "pretrain" in state:  # its networks came with the checkpoint
            t.pretrain_logs = dict(state["pretrain"])
        t.iteration = iteration
        t.train_seconds = float(state["train_seconds"])
        t.history = list(state["history"])
    except (KeyError, RuntimeError, TypeError, ValueError) as exc:
        raise CheckpointError(f"{source}: checkpoint is incomplete or inconsistent: "
                              f"{exc}") from None
    t.lr_plan = plan
    if saved.iters != t.cfg.iters:
        t.lr_plan = replan(plan, saved.iters, t.cfg.iters, t.iteration)
    t.checkpoint_config = saved


def write_checkpoint(path: str, state: dict) -> None:
    """``torch.save`` ``state`` to ``path`` atomically (readers see the old or
    the new file: :func:`~otgan.gan.training.rundir.write_bytes_atomic`)."""
    buf = io.BytesIO()
    torch.save(state, buf)
    write_bytes_atomic(path, buf.getvalue())


def read_checkpoint(path: str) -> dict:
    """The state in checkpoint file ``path``, read with
    ``torch.load(weights_only=True)`` (not yet checked: see :func:`check_state`).

    Raises
    ------
    CheckpointError
        Missing, truncated or not a torch file; the message names ``path``.
    """
    if not os.path.isfile(path):
        raise CheckpointError(f"{path}: no checkpoint found")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for corrupt files
        first = (str(exc).splitlines() or [type(exc).__name__])[0][:200]
        raise CheckpointError(f"{path}: truncated or not a torch checkpoint "
                              f"({type(exc).__name__}: {first})") from None
