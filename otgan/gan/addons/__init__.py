r"""Add-ons: training options that work with every method (docs/gan.md, "Add-ons").

An add-on is a subclass of :class:`AddOn` switched on by a boolean
:class:`~otgan.gan.training.config.TrainConfig` field of its name (``jc``, ``lens``)
and built by the trainer (``addon = cls(trainer)``). The generic trainer
(:class:`otgan.gan.training.trainer.Trainer`) calls its hooks at fixed points of one
generator iteration; the method never sees an add-on:

* :meth:`AddOn.on_real_batch` — every real batch a critic step gets
  (``ctx.y = addon.on_real_batch(y)``), before the method's critic step;
* :meth:`AddOn.generator_penalty` — after the method's generator loss: a term
  added to it (and its log values);
* :meth:`AddOn.after_step` — once per iteration, after the generator step
  (still inside the timed step);
* :meth:`AddOn.state_dict` / :meth:`AddOn.load_state_dict` — the add-on's
  own state in the checkpoint (``state["addons"][name]``; only add-ons with
  state write an entry, so a run without them writes the checkpoint it wrote
  before add-ons existed).

* :meth:`AddOn.build_critic` — once, when the trainer builds the networks:
  the critic to train instead of the method's (packing);
* :meth:`AddOn.check_method` — at configuration time: refuse a method the
  add-on cannot serve (with its reason).

Registered add-ons (:data:`ADDONS`):

* ``jc`` — Jacobian Clamping (Odena et al. 2018), :mod:`otgan.gan.addons.jacobian`;
* ``lens`` — the tempered lens (Sajjadi et al. 2018), :mod:`otgan.gan.addons.lens`;
  needs a critic (not for ``--method ot``);
* ``pack2``, ``pack4`` — packing (PacGAN, Lin et al. 2018),
  :mod:`otgan.gan.addons.packing`: the critic sees packs of 2 or 4 samples;
  needs a critic that judges samples independently of the method's own
  per-point structure (refused for ``wgan-ts`` and ``rfgan``, see
  :attr:`Method.pack_refusal <otgan.gan.methods.Method.pack_refusal>`; xICFG
  runs its own iteration). At most one of them.

A *method spec* ``method+addon+...`` (``gan+jc``, ``wgan-ts+jc+lens``) names a
method with add-ons for ``otgan compare`` (:func:`parse_method_spec`,
:func:`method_spec`). Importing this module does not import torch.

Examples
--------
>>> list(ADDONS)
['jc', 'lens', 'pack2', 'pack4']
>>> parse_method_spec("wgan-gp+lens+jc")
('wgan-gp', ('jc', 'lens'))
>>> method_spec("gan", ("lens", "jc"))
'gan+jc+lens'
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from ..methods import METHODS

# ``Trainer`` and ``TrainConfig`` in annotations are otgan.gan.training.trainer.Trainer and
# otgan.gan.training.config.TrainConfig; not imported even for type checking, since both
# import this module (no import cycle, not even a typing-only one).
if TYPE_CHECKING:  # pragma: no cover
    import torch
    from torch import nn

    from ..methods import StepContext

__all__ = ["AddOn", "ADDONS", "JacobianClamping", "TemperedLens", "Packing", "PackTwo",
           "PackFour", "parse_method_spec",
           "method_spec", "describe_addons", "enabled_addons", "LENS_LR", "LENS_BETAS"]


class AddOn:
    """One add-on: a name, its configuration fields and the trainer's hooks.

    Attributes
    ----------
    name : str
        The boolean :class:`~otgan.gan.training.config.TrainConfig` field that switches
        it on, and its name in method specs and checkpoints.
    summary : str
        One line for ``--help``.
    options : tuple of str
        Its own configuration fields (``jc_eps`` ...): refused while it is off.
    needs_critic : bool
        Refused (at configuration time) for a method without a critic.
    """

    name: ClassVar[str]
    summary: ClassVar[str] = ""
    options: ClassVar[tuple[str, ...]] = ()
    needs_critic: ClassVar[bool] = False

    def __init__(self, trainer: Trainer):
        self.cfg = trainer.cfg

    @classmethod
    def check_method(cls, method: str) -> None:
        """Raise ``ValueError`` if this add-on cannot apply to ``method`` (a
        registered name); called when a configuration or a method spec is built.
        Default: only :attr:`needs_critic` is checked."""
        if cls.needs_critic and not METHODS[method].has_critic:
            raise ValueError(f"the {cls.name!r} add-on needs a critic; method {method!r} "
                             f"has none")

    @classmethod
    def build_critic(cls, critic: nn.Module, shape: tuple[int, ...],
                     cfg: TrainConfig) -> nn.Module:
        """The critic to train, given the method's (built by the trainer under
        its seeded random state, after the default networks and the method's
        :meth:`~otgan.gan.methods.Method.build_critic`). Default: ``critic``."""
        return critic

    def on_real_batch(self, y: torch.Tensor) -> torch.Tensor:
        """The real batch the critic step sees (default: ``y`` itself)."""
        return y

    def generator_penalty(self, ctx: StepContext) -> tuple[torch.Tensor | None, dict]:
        """A term added to the generator's loss (``None``: nothing) and log values."""
        return None, {}

    def after_step(self, trainer: Trainer, t: int) -> dict[str, Any]:
        """Called once per generator iteration ``t`` (0-based) after the
        generator step; returns log values."""
        return {}

    def state_dict(self) -> dict | None:
        """The add-on's state for the checkpoint (``None``: it has none)."""
        return None

    def load_state_dict(self, state: dict) -> None:
        """Restore :meth:`state_dict`."""


class JacobianClamping(AddOn):
    r"""Jacobian Clamping: ``loss_g += mean[(max(Q, λmax) − λmax)² + (min(Q, λmin) − λmin)²]``
    with ``Q = ‖G(z) − G(z + δ)‖ / ‖δ‖``, ``‖δ‖ = jc_eps``
    (:func:`otgan.gan.addons.jacobian.jacobian_clamping_penalty`), on the generator
    step's own ``z`` and ``G(z)``; ``δ`` is drawn from the trainer's noise
    generator. Logs ``jc_penalty``, ``jc_q_mean``, ``jc_q_min``, ``jc_q_max``.
    """

    name = "jc"
    summary = ("Jacobian Clamping (Odena et al. 2018): generator penalty keeping "
               "Q = |G(z+d)-G(z)|/|d| in [jc_min, jc_max], |d| = jc_eps")
    options = ("jc_eps", "jc_min", "jc_max")

    def generator_penalty(self, ctx: StepContext) -> tuple[torch.Tensor, dict]:
        from .jacobian import jacobian_clamping_penalty

        import torch

        c, z, group = self.cfg, ctx.z_gen, ctx.group
        # the global batch's perturbations from the noise stream, this
        # process's shard (in one process: exactly the draws of the penalty)
        delta = group.shard(torch.randn((z.shape[0] * group.world_size,) + tuple(z.shape[1:]),
                                        generator=ctx.gen_noise, device=ctx.gen_noise.device,
                                        dtype=z.dtype)).to(z.device)
        pen, q = jacobian_clamping_penalty(ctx.G, z, c.jc_eps, c.jc_min, c.jc_max,
                                           x=ctx.x_gen, delta=delta)
        q = group.gather(q)  # the logged quotients are the global batch's
        return pen, {"jc_penalty": pen.detach(), "jc_q_mean": q.mean(), "jc_q_min": q.min(),
                     "jc_q_max": q.max()}


#: The lens's optimiser: Adam with a fixed learning rate (no decay, so that it
#: returns to the identity at any point of the run) — the setting of
#: ``tests/gan/addons/test_lens.py``.
LENS_LR = 1e-3
LENS_BETAS = (0.5, 0.9)


class TemperedLens(AddOn):
    r"""The tempered lens: every critic step sees ``L(y)`` (detached) instead
    of the real batch ``y``; once per iteration ``t`` the lens takes one Adam
    step (:data:`LENS_LR`, :data:`LENS_BETAS`) on ``λ(t)·L^A + L^R`` for the
    last real batch (:func:`otgan.gan.addons.lens.lens_step`), ``λ(t) = 1 − sin(tπ/2K)``
    up to ``K = lens_k``, 0 after. Logs ``lens_dist`` (mean ``‖L(y) − y‖``),
    ``lens_lambda``, ``lens_rec``, ``lens_adv``. The lens network and its
    optimiser are checkpointed.
    """

    name = "lens"
    summary = ("tempered lens (Sajjadi et al. 2018): the critic sees L(y); L minimises "
               "lambda(t) L^A + L^R, lambda -> 0 at t = lens_k (default iters // 2)")
    options = ("lens_k",)
    needs_critic = True

    def __init__(self, trainer: Trainer):
        import torch

        from .lens import build_lens, lens_discriminator_loss

        super().__init__(trainer)
        # seeded apart from the networks, without touching the global RNG
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.cfg.seed + 3)
            self.lens = build_lens(trainer.data.shape).to(trainer.device)
        self.opt = torch.optim.Adam(self.lens.parameters(), lr=LENS_LR, betas=LENS_BETAS)
        if trainer.group.distributed:  # the lens is replicated like the networks
            from ..parallel import AveragingOptimizer

            self.opt = AveragingOptimizer(self.opt, trainer.group)
        self.loss_fn = lens_discriminator_loss(trainer.D, trainer.method.family)
        self.last_real: torch.Tensor | None = None

    def on_real_batch(self, y: torch.Tensor) -> torch.Tensor:
        import torch

        self.last_real = y
        with torch.no_grad():
            return self.lens(y)

    def after_step(self, trainer: Trainer, t: int) -> dict[str, Any]:
        from .lens import lens_lambda, lens_step

        if self.last_real is None:  # pragma: no cover (a method with a critic always sets it)
            return {}
        stats = lens_step(self.lens, self.opt, self.last_real, self.loss_fn,
                          lens_lambda(t, self.cfg.lens_k))
        self.last_real = None
        return stats

    def state_dict(self) -> dict:
        return {"lens": self.lens.state_dict(), "opt": self.opt.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        import copy

        self.lens.load_state_dict(state["lens"])
        self.opt.load_state_dict(copy.deepcopy(state["opt"]))


class Packing(AddOn):
    r"""Packing (PacGAN): the critic judges packs of :attr:`m` samples of the
    same source, concatenated (:class:`otgan.gan.addons.packing.PackedCritic`);
    the generator's loss, the critic's losses and the penalties are averaged
    over packs. The batch must be a multiple of :attr:`m`. Subclasses fix
    :attr:`m` (``pack2``, ``pack4``); no state, no log values of its own.
    """

    options = ()
    needs_critic = True
    #: Samples per pack.
    m: ClassVar[int] = 2

    @classmethod
    def check_method(cls, method: str) -> None:
        super().check_method(method)
        spec = METHODS[method]
        if spec.pack_refusal:
            raise ValueError(f"the {cls.name!r} add-on (packing) does not apply to method "
                             f"{method!r}: {spec.pack_refusal}")

    @classmethod
    def build_critic(cls, critic: nn.Module, shape: tuple[int, ...],
                     cfg: TrainConfig) -> nn.Module:
        from ..nets import build_nets
        from .packing import PackedCritic, packed_shape

        # a fresh critic of the packed input (the method's default critic,
        # built first, fixed the random state this one starts from)
        _, inner = build_nets(packed_shape(shape, cls.m), cfg.z_dim, cfg.hidden, cfg.depth)
        return PackedCritic(inner, cls.m, shape)


class PackTwo(Packing):
    """Packing with ``m = 2`` (PacGAN2)."""

    name = "pack2"
    summary = "packing (PacGAN, Lin et al. 2018): the critic sees packs of 2 samples"
    m = 2


class PackFour(Packing):
    """Packing with ``m = 4`` (PacGAN4)."""

    name = "pack4"
    summary = "packing (PacGAN, Lin et al. 2018): the critic sees packs of 4 samples"
    m = 4


#: name -> AddOn subclass (the order of method specs and ``--help``).
ADDONS: dict[str, type[AddOn]] = {"jc": JacobianClamping, "lens": TemperedLens,
                                  "pack2": PackTwo, "pack4": PackFour}


def enabled_addons(cfg: TrainConfig) -> tuple[str, ...]:
    """The add-ons switched on in ``cfg``, in :data:`ADDONS` order."""
    return tuple(n for n in ADDONS if getattr(cfg, n, False))


def parse_method_spec(spec: str) -> tuple[str, tuple[str, ...]]:
    """``"method+addon+..."`` -> ``(method, addons in ADDONS order)``.

    Raises ``ValueError`` for an unknown method or add-on, a repeated add-on,
    or an add-on that needs a critic on a method without one (``ot+lens``).
    """
    if not isinstance(spec, str):
        raise TypeError(f"a method spec must be a string, got {type(spec).__name__}")
    method, *addons = [p.strip() for p in spec.strip().split("+")]
    if method not in METHODS:
        raise ValueError(f"{spec!r}: unknown method {method!r}; registered methods: "
                         f"{', '.join(METHODS)}")
    bad = [a for a in addons if a not in ADDONS]
    if bad:
        raise ValueError(f"{spec!r}: unknown add-on(s) {', '.join(map(repr, bad))}; "
                         f"add-ons: {', '.join(ADDONS)}")
    if len(set(addons)) != len(addons):
        raise ValueError(f"{spec!r}: an add-on is repeated")
    for a in addons:
        if ADDONS[a].needs_critic and not METHODS[method].has_critic:
            raise ValueError(f"{spec!r}: add-on {a!r} needs a critic, and method {method!r} "
                             f"has none")
        try:
            ADDONS[a].check_method(method)
        except ValueError as exc:
            raise ValueError(f"{spec!r}: {exc}") from None
    packs = [a for a in addons if issubclass(ADDONS[a], Packing)]
    if len(packs) > 1:
        raise ValueError(f"{spec!r}: one packing add-on at most, got {', '.join(packs)}")
    return method, tuple(a for a in ADDONS if a in addons)


def method_spec(method: str, addons=()) -> str:
    """The canonical spec ``method+addon+...`` (add-ons in :data:`ADDONS` order)."""
    return "+".join([method] + [a for a in ADDONS if a in set(addons)])


def describe_addons() -> str:
    """One line per add-on for ``--help``."""
    width = max(len(n) for n in ADDONS)
    return "\n".join(f"{n:{width}s}  {cls.summary}" for n, cls in ADDONS.items())
