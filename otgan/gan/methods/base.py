r"""The interface between the generic trainer and one training method.

A *method* (WGAN-TS, WGAN-GP, ..., the exact mini-batch OT generator) is a
subclass of :class:`Method` that declares

* ``name`` — what ``TrainConfig(method=...)`` and ``otgan train --method`` take;
* ``summary`` — one line for ``otgan train --help``;
* ``defaults`` — a :class:`MethodDefaults`: the optimiser and the values that
  ``None`` fields of :class:`~otgan.gan.training.config.TrainConfig` resolve to;
* ``has_critic`` — whether the trainer runs ``n_critic`` critic steps per
  generator step (``False``: the networks are the generator alone);
* ``family`` — ``"critic"`` (a real-valued critic), ``"logistic"`` (a
  discriminator returning logits) or ``None`` (no critic);

and implements :meth:`Method.critic_step` (when it has a critic) and
:meth:`Method.generator_loss`, optionally :meth:`Method.prepare` and
:meth:`Method.generator_logs`. Optional hooks for a method whose loop is not
"critic steps, then one generator step" (xICFG; docs/gan.md, "Adding a
method"): ``owns_iteration`` with :meth:`Method.run_iteration` (it runs the
whole generator iteration), :meth:`Method.sampling_generator` (the module
that samples, if not ``G``) and :meth:`Method.state_dict` /
:meth:`Method.load_state_dict` (its own checkpointed state). Optional hooks
for a method that needs more than the default networks (RFGAN): ``options``
and :meth:`Method.option_defaults` (configuration fields only this method
uses), :meth:`Method.build_critic` (its own critic, built from the default
one) and :meth:`Method.pretrain` (work done once before training, outside the
timed step, cached in the run directory). The trainer
(:class:`otgan.gan.training.trainer.Trainer`)
draws the batches, owns the optimisers, the schedule, the logs, the
checkpoints and the evaluation, and knows no method by name; the losses are the
pure functions of :mod:`otgan.gan.losses`.

One generator iteration, as the trainer runs it (docs/gan.md, "Methods")::

    repeat n_critic times (has_critic only):
        ctx.y = real batch, ctx.z = noise batch, ctx.x = G(ctx.z) (no graph)
        logs = method.critic_step(ctx)
    ctx.z_gen = ctx.z            if gen_noise == "same"   (the last critic batch's z)
                a fresh z batch  if gen_noise == "fresh"
    ctx.x_gen = G(ctx.z_gen)     (with graph)
    loss = method.generator_loss(ctx); one optimiser step of G on it

or, for a method with ``owns_iteration``, ``stats = method.run_iteration(ctx)``
(``ctx.opt_g`` set; the trainer still sets the learning rates, times the
step and logs the exact batch W of the ``ctx.y, ctx.x`` the method leaves).

This module imports no torch at run time: the registry (names and defaults)
is read by the command line without loading torch; the methods import torch
inside their steps.

Examples
--------
>>> d = MethodDefaults(optimizer="adam", lr_g=1e-3, lr_d=1e-3, beta1=0.5, beta2=0.999,
...                    n_critic=1)
>>> d.gen_noise, d.ot_reg
('fresh', 0.0)
>>> d.describe()
'adam lr_g 0.001 lr_d 0.001 betas (0.5, 0.999) n_critic 1 gen_noise fresh lr_decay linear'
"""
from __future__ import annotations

import abc
import math
import numbers
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from ..parallel import SINGLE_PROCESS, ShardGroup

# ``Trainer`` and ``TrainConfig`` in annotations are otgan.gan.training.trainer.Trainer and
# otgan.gan.training.config.TrainConfig; not imported even for type checking, since both
# import this module (no import cycle, not even a typing-only one).
if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Callable

    import torch
    from torch import nn


__all__ = ["Method", "MethodDefaults", "StepContext", "OPTIMIZERS", "GEN_NOISE",
           "FAMILIES", "LR_DECAYS", "DATA_KINDS", "descend"]

#: The optimisers a method may ask for (``MethodDefaults.optimizer``).
OPTIMIZERS = ("adam", "rmsprop")
#: The noise of the generator step: the last critic batch's ``z`` or a fresh draw.
GEN_NOISE = ("same", "fresh")
#: What the critic returns: a real value, logits, or there is no critic.
FAMILIES = ("critic", "logistic", None)
#: The learning-rate plans (``TrainConfig.lr_decay``).
LR_DECAYS = ("linear", "none")
#: The kinds of data a method's defaults depend on: flat vectors (the 2-D
#: toy sets) and images (:func:`otgan.gan.data.data_is_image`).
DATA_KINDS = ("flat", "image")


@dataclass(frozen=True)
class MethodDefaults:
    """A method's named defaults.

    Every field but ``optimizer`` is a :class:`~otgan.gan.training.config.TrainConfig`
    field of the same name; a ``None`` there takes the value here when the
    configuration is built (so the saved ``config.json`` is explicit).

    Attributes
    ----------
    optimizer : {"adam", "rmsprop"}
        Of both networks; fixed per method (not a configuration field).
        RMSProp ignores the betas.
    lr_g, lr_d : float
        Learning rates of the generator and of the critic.
    beta1, beta2 : float
        Adam's betas.
    n_critic : int
        Critic steps per generator step (WGAN-TS: LPs, :math:`n_c`).
    ot_reg : float
        Weight of the WGAN-TS OT regulariser (0 for the other methods).
    gen_noise : {"same", "fresh"}
        Noise of the generator step (see the module docstring).
    lr_decay : {"linear", "none"}
        The learning-rate plan: ``"linear"`` decays both rates to 0 over the
        run, ``"none"`` keeps them constant.
    gp_lambda : float
        WGAN-GP's penalty weight λ (unused by the other methods;
        10 there, the value every configuration held before it depended on
        the method).
    clip : float
        WGAN's clipping bound (unused by the other methods; 0.01 there).
    hidden : int or None
        Network width; ``None``: the package's rule for the kind of data
        (256 for flat data, 128 for images).
    """

    optimizer: str
    lr_g: float
    lr_d: float
    beta1: float
    beta2: float
    n_critic: int
    ot_reg: float = 0.0
    gen_noise: str = "fresh"
    lr_decay: str = "linear"
    gp_lambda: float = 10.0
    clip: float = 0.01
    hidden: int | None = None

    def __post_init__(self):
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {self.optimizer!r}")
        if self.gen_noise not in GEN_NOISE:
            raise ValueError(f"gen_noise must be one of {GEN_NOISE}, got {self.gen_noise!r}")
        if self.lr_decay not in LR_DECAYS:
            raise ValueError(f"lr_decay must be one of {LR_DECAYS}, got {self.lr_decay!r}")
        if self.hidden is not None and (isinstance(self.hidden, bool) or
                                        not isinstance(self.hidden, int) or self.hidden < 1):
            raise ValueError(f"hidden must be None or an integer >= 1, got {self.hidden!r}")
        for name in ("lr_g", "lr_d", "beta1", "beta2", "ot_reg", "gp_lambda", "clip"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(v):
                raise ValueError(f"{name} must be a finite number, got {v!r}")
        if isinstance(self.n_critic, bool) or not isinstance(self.n_critic, int) \
                or self.n_critic < 1:
            raise ValueError(f"n_critic must be an integer >= 1, got {self.n_critic!r}")

    def config_fields(self) -> dict[str, Any]:
        """The defaults of :class:`~otgan.gan.training.config.TrainConfig` fields (all but
        ``optimizer``; ``hidden`` only when set)."""
        d = asdict(self)
        del d["optimizer"]
        if d["hidden"] is None:
            del d["hidden"]
        return d

    def describe(self, critic: bool = True) -> str:
        """One line for ``--help`` (without a ``critic``, only the generator's
        settings)."""
        betas = "" if self.optimizer == "rmsprop" else f" betas ({self.beta1:g}, {self.beta2:g})"
        width = "" if self.hidden is None else f" hidden {self.hidden}"
        if not critic:
            return f"{self.optimizer} lr_g {self.lr_g:g}{betas} lr_decay {self.lr_decay}{width}"
        s = (f"{self.optimizer} lr_g {self.lr_g:g} lr_d {self.lr_d:g}{betas} "
             f"n_critic {self.n_critic} gen_noise {self.gen_noise}")
        return s + (f" ot_reg {self.ot_reg:g}" if self.ot_reg else "") + \
            f" lr_decay {self.lr_decay}{width}"


class StepContext:
    """What a method sees of one generator iteration (built by the trainer).

    Attributes
    ----------
    cfg : TrainConfig
    G, D : nn.Module
        The generator and the critic (``D`` is ``None`` without a critic).
    opt_d : torch.optim.Optimizer or None
        The critic's optimiser (the generator's belongs to the trainer).
    gen_noise : torch.Generator
        The trainer's noise generator, for a method's own random draws (e.g.
        WGAN-GP's interpolation weights): reproducible and checkpointed.
    y, z, x : torch.Tensor or None
        The current critic batch: real points, noise, and ``G(z)`` computed
        without a graph. Set before each :meth:`Method.critic_step`.
    z_gen, x_gen : torch.Tensor or None
        The generator step's noise and ``G(z_gen)`` with its graph. Set before
        :meth:`Method.generator_loss`.
    opt_g : torch.optim.Optimizer or None
        The generator's optimiser: given only to :meth:`Method.run_iteration`
        (``None`` otherwise: the trainer steps ``G`` itself).
    group : ShardGroup
        The training processes (:mod:`otgan.gan.parallel`): ``y, z, x`` are
        this process's shard of the global batch; a method that needs the
        whole batch (the exact LP) collects it with ``group.gather``. In one
        process every group operation is the identity.
    """

    __slots__ = ("cfg", "G", "D", "opt_d", "gen_noise", "_real", "_noise",
                 "y", "z", "x", "z_gen", "x_gen", "opt_g", "group")

    def __init__(self, cfg: TrainConfig, G: nn.Module, D: nn.Module | None,
                 opt_d: torch.optim.Optimizer | None, gen_noise: torch.Generator,
                 real: Callable[[], torch.Tensor], noise: Callable[[int], torch.Tensor],
                 opt_g: torch.optim.Optimizer | None = None,
                 group: ShardGroup = SINGLE_PROCESS):
        self.cfg, self.G, self.D, self.opt_d, self.gen_noise = cfg, G, D, opt_d, gen_noise
        self._real, self._noise = real, noise
        self.y = self.z = self.x = self.z_gen = self.x_gen = None
        self.opt_g = opt_g
        self.group = group

    def real(self) -> torch.Tensor:
        """A fresh real batch: this process's shard of ``cfg.batch`` points (the
        trainer's data stream; the whole batch in one process)."""
        return self._real()

    def noise(self, n: int | None = None) -> torch.Tensor:
        """This process's shard of a fresh noise batch of ``n`` (default
        ``cfg.batch``) latent points: ``n`` counts the *global* batch."""
        return self._noise(self.cfg.batch if n is None else n)

    def uniform(self, n: int) -> torch.Tensor:
        """``U[0, 1)`` numbers for the ``n`` local samples of a batch, from the
        noise stream: the global batch's numbers are drawn and this process's
        shard returned, so that the stream is the one of a single process."""
        import torch

        g = self.group
        full = torch.rand(n * g.world_size, generator=self.gen_noise,
                          device=self.gen_noise.device)
        return g.shard(full)


def descend(opt: torch.optim.Optimizer, loss: torch.Tensor) -> None:
    """One optimiser step on ``loss``: zero the gradients, backward, step."""
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()


class Method(abc.ABC):
    """One training method: its defaults, its critic step and its generator loss.

    Instances are built by the trainer with the configuration
    (``method = cls(cfg)``) and may keep state in attributes; that state is
    *not* checkpointed unless the method returns it from :meth:`state_dict`,
    so a method without that hook must keep none that changes the
    trajectory (the networks, optimisers and random generators are the
    trainer's and are checkpointed).

    The optional hooks of a method with its own loop (all off by default):

    * ``owns_iteration`` — the trainer calls :meth:`run_iteration` for the
      whole generator iteration instead of its critic/generator loop (the
      add-ons, which hook into that loop, are then refused);
    * :meth:`sampling_generator` — the module that generates samples
      (sampling, evaluation, condition number), if not ``G``;
    * :meth:`state_dict` / :meth:`load_state_dict` — state of the method's
      own, in the checkpoint under ``"method"``.
    """

    name: ClassVar[str]
    summary: ClassVar[str] = ""
    #: The reference settings for flat data (the 2-D toy sets), each cited
    #: in the method's module docstring.
    defaults: ClassVar[MethodDefaults]
    #: The reference settings for images; ``None``: the same as :attr:`defaults`.
    image_defaults: ClassVar[MethodDefaults | None] = None
    #: Why the packing add-ons (``pack2``, ``pack4``) cannot apply to this
    #: method's critic (``None``: they can, if it has a critic and does not
    #: own its iteration).
    pack_refusal: ClassVar[str | None] = None
    has_critic: ClassVar[bool] = True
    family: ClassVar[str | None] = "critic"
    #: Whether the trainer calls :meth:`run_iteration` for a whole iteration.
    owns_iteration: ClassVar[bool] = False
    #: :class:`~otgan.gan.training.config.TrainConfig` fields that only this method uses
    #: (e.g. RFGAN's ``ae_steps``, ``ae_code``): ``None`` (and left out of
    #: ``config.json``) for every other method, which refuses a value; ``None``
    #: here takes :meth:`option_defaults` when the configuration is built.
    options: ClassVar[tuple[str, ...]] = ()
    #: Whether the method trains data-parallel under ``torch.distributed``
    #: (its steps use the shard of ``ctx`` and ``ctx.group`` for whatever
    #: needs the global batch); the trainer refuses the others there.
    distributed: ClassVar[bool] = True

    def __init__(self, cfg: TrainConfig):
        from ...costs import as_metric

        self.cfg = cfg
        #: ``cfg.metric`` (and ``cfg.p``) parsed once, when the trainer builds
        #: the method: every step passes this :class:`~otgan.costs.Metric`
        #: down (LP, penalty, scaling), and no layer below parses it again.
        self.metric = as_metric(cfg.metric, cfg.p)

    def prepare(self, trainer: Trainer) -> None:
        """Called once when the trainer is built (e.g. to load JIT kernels, so
        that their compilation is not timed as training). Default: nothing."""

    @classmethod
    def defaults_for(cls, kind: str) -> MethodDefaults:
        """The reference settings for data of ``kind`` (:data:`DATA_KINDS`:
        ``"flat"`` or ``"image"``), which the ``None`` fields of a
        configuration take when it is built.

        Examples
        --------
        >>> from otgan.gan.methods import METHODS
        >>> gp = METHODS["wgan-gp"]
        >>> gp.defaults_for("flat").gp_lambda, gp.defaults_for("image").gp_lambda
        (0.1, 10.0)
        """
        if kind not in DATA_KINDS:
            raise ValueError(f"kind must be one of {DATA_KINDS}, got {kind!r}")
        if kind == "image" and cls.image_defaults is not None:
            return cls.image_defaults
        return cls.defaults

    @classmethod
    def option_defaults(cls, data: str) -> dict[str, Any]:
        """The values that the :attr:`options` left ``None`` take for data set
        ``data`` (resolved when the configuration is built, so that
        ``config.json`` is explicit). Default: none."""
        return {}

    def build_critic(self, critic: nn.Module, shape: tuple[int, ...]) -> nn.Module:
        """The critic the trainer trains, given the default one
        (:func:`otgan.gan.nets.build_nets`) for data of per-sample ``shape``.

        Called once (methods with a critic) right after the default networks
        are built, under the trainer's seeded random state: layers created
        here are initialised reproducibly, after ``G`` and ``critic``, whose
        initialisation is thus the same as for any other method. Parameters
        with ``requires_grad=False`` are frozen (no gradient; the optimiser
        skips them) but are part of the critic's ``state_dict``, hence of the
        checkpoint. Default: ``critic`` itself.
        """
        return critic

    def pretrain(self, trainer: Trainer, cache_dir: str | None) -> dict[str, Any]:
        """Work done once before the first training step (e.g. fitting an
        autoencoder), called by :meth:`otgan.gan.training.trainer.Trainer.pretrain`,
        outside the timed step.

        ``cache_dir`` is the run directory (``None`` outside a run directory):
        the method may keep its result there (written atomically and validated
        on loading), so that a resumed or restarted run reuses it instead of
        repeating the work. Returns log values (numbers; e.g. the seconds it
        took), which go to ``metrics.jsonl`` (an ``{"event": "pretrain"}``
        line), ``eval.json`` and the checkpoint. What it trains must live in
        the networks (e.g. frozen layers of the critic), which are
        checkpointed. Default: nothing, ``{}``.
        """
        return {}

    def critic_step(self, ctx: StepContext) -> dict[str, Any]:
        """One critic step on the batch ``ctx.y, ctx.z, ctx.x``; returns its log
        values (floats or 0-dim tensors; those of the last step are logged).

        For WGAN-TS one "critic step" is one LP, ``n_r`` regressions and the
        weight scaling (Algorithm 1, lines 5–14)."""
        raise NotImplementedError(f"method {self.name!r} has no critic step")

    @abc.abstractmethod
    def generator_loss(self, ctx: StepContext) -> torch.Tensor:
        """The generator's loss on ``ctx.x_gen = G(ctx.z_gen)`` (a 0-dim tensor
        with its graph); the trainer back-propagates it and steps ``G``."""

    def generator_logs(self, ctx: StepContext, loss_g: float) -> dict[str, Any]:
        """Extra log values of the generator step (default: none)."""
        return {}

    def run_iteration(self, ctx: StepContext) -> dict[str, Any]:
        """One whole generator iteration (``owns_iteration`` only): the
        method draws its batches with ``ctx.real()`` / ``ctx.noise()``, steps
        ``ctx.D`` with ``ctx.opt_d`` and ``ctx.G`` with ``ctx.opt_g`` (whose
        learning rates the trainer has set), and may leave a real batch and a
        generated one in ``ctx.y, ctx.x`` for the logged exact batch W.
        Returns the log values."""
        raise NotImplementedError(f"method {self.name!r} does not run its own iteration")

    def sampling_generator(self, trainer: Trainer) -> nn.Module | None:
        """The module mapping noise to samples for :meth:`Trainer.sample
        <otgan.gan.training.trainer.Trainer.sample>`, the evaluation and the condition
        number; ``None`` (the default): ``trainer.G``."""
        return None

    def state_dict(self) -> dict | None:
        """The method's own state for the checkpoint (``None``, the default:
        it has none, and the checkpoint holds no ``"method"`` entry)."""
        return None

    def load_state_dict(self, state: dict) -> None:
        """Restore :meth:`state_dict` (called after the trainer restored the
        networks and optimisers)."""

    @classmethod
    def check(cls) -> None:
        """Raise ``TypeError`` unless the class declares what the registry needs."""
        name = getattr(cls, "name", None)
        if not isinstance(name, str) or not name or name != name.strip() or "," in name:
            raise TypeError(f"{cls.__name__}.name must be a non-empty string without "
                            f"commas or surrounding spaces, got {name!r}")
        if not isinstance(getattr(cls, "defaults", None), MethodDefaults):
            raise TypeError(f"{cls.__name__}.defaults must be a MethodDefaults")
        if cls.image_defaults is not None:
            if not isinstance(cls.image_defaults, MethodDefaults):
                raise TypeError(f"{cls.__name__}.image_defaults must be None or a "
                                f"MethodDefaults")
            if cls.image_defaults.optimizer != cls.defaults.optimizer:
                raise TypeError(f"{cls.__name__}: the optimiser is the method's, the same "
                                f"for every kind of data")
        if cls.family not in FAMILIES:
            raise TypeError(f"{cls.__name__}.family must be one of {FAMILIES}")
        if cls.has_critic and cls.critic_step is Method.critic_step:
            raise TypeError(f"{cls.__name__} has a critic but does not define critic_step")
        if not cls.has_critic and cls.defaults_for("image").gen_noise != "fresh":
            raise TypeError(f"{cls.__name__} has no critic: its gen_noise default must "
                            f"be 'fresh'")
        if not cls.has_critic and cls.defaults.gen_noise != "fresh":
            raise TypeError(f"{cls.__name__} has no critic: its gen_noise default must "
                            f"be 'fresh'")
        if cls.owns_iteration and cls.run_iteration is Method.run_iteration:
            raise TypeError(f"{cls.__name__} owns its iteration but does not define "
                            f"run_iteration")
        if not (isinstance(cls.options, tuple) and all(isinstance(o, str) for o in cls.options)):
            raise TypeError(f"{cls.__name__}.options must be a tuple of field names")
