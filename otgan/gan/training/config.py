"""Validated, frozen training configuration (saved as JSON with every run).

The fields come in named sections (:data:`SECTIONS`): ``run`` (what is
trained, on what, for how long), ``cost``, ``networks``, ``optimiser``,
``steps`` (the knobs the methods share), ``method_options`` (the fields of one
method only, which each method declares in :attr:`Method.options
<otgan.gan.methods.Method.options>`), ``addons`` (each add-on's switch and the
fields it declares in :attr:`AddOn.options <otgan.gan.addons.AddOn.options>`)
and ``runtime`` (what does not change the trajectory). The constructor and
the attributes stay flat (``TrainConfig(method=..., lr_g=...)``,
``cfg.lr_g``); :meth:`TrainConfig.section` gives one section, and
``config.json`` is written in sections (:meth:`TrainConfig.to_dict` with
``sectioned=True``). :meth:`TrainConfig.from_dict` reads both layouts, so
the flat ``config.json`` of older runs still loads.

Examples
--------
>>> cfg = TrainConfig(method="wgan-ts", data="ring", iters=10)
>>> cfg.method, cfg.batch > 0, cfg.n_critic >= 1
('wgan-ts', True, True)
>>> cfg.section("optimiser")
{'lr_g': 0.0001, 'lr_d': 0.0001, 'beta1': 0.5, 'beta2': 0.999, 'lr_decay': 'none'}
>>> TrainConfig(method="wgan-gp", data="ring").gp_lambda, TrainConfig(
...     method="wgan-gp", data="digits").gp_lambda
(0.1, 10.0)
>>> list(cfg.to_dict(sectioned=True))
['run', 'cost', 'networks', 'optimiser', 'steps', 'addons', 'runtime']
>>> TrainConfig.from_dict(cfg.to_dict(sectioned=True)) == cfg
True
"""
from __future__ import annotations

import json
import math
import numbers
from dataclasses import asdict, dataclass, field, fields
from types import MappingProxyType
from typing import TYPE_CHECKING

from ...costs import METRICS
from ..addons import ADDONS
from ..methods import DATA_KINDS, GEN_NOISE, METHODS

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Collection

#: How the critic is rescaled after its regressions (:func:`otgan.torch.scale_critic`);
#: defined here so that the command line can list it without importing torch.
SCALING_MODES = ("final", "power", "none")

__all__ = ["TrainConfig", "METHODS", "RUNTIME_FIELDS", "LEGACY_GEN_NOISE", "SECTIONS",
           "LEGACY_FIXED_DEFAULTS", "omitted_at_default", "kind_network_defaults"]

#: ``METHODS`` is the registry of :mod:`otgan.gan.methods` (name -> Method;
#: iterating gives the names): every registered method is a valid ``method``.
DEVICES = ("auto", "cpu", "cuda")
LR_DECAYS = ("linear", "none")

#: The sections of a configuration, in the order of ``config.json``: name -> what
#: it holds (read-only). Every field belongs to one (:meth:`TrainConfig.section_of`).
SECTIONS = MappingProxyType({
    "run": "what is trained, on what, for how long",
    "cost": "the ground cost of the LP and of the exact-W metrics",
    "networks": "the sizes of the generator and the critic",
    "optimiser": "the optimisers' settings and the learning-rate plan",
    "steps": "the knobs that the methods share: critic steps, regressions, penalties",
    "method_options": "the fields of the chosen method only (Method.options)",
    "addons": "the add-ons' switches and their own fields (AddOn.options)",
    "runtime": "what does not change the trajectory",
})


def _field(default, section: str, *, added_later: bool = False):
    """A :class:`TrainConfig` field of ``section``.

    ``added_later``: the field was added after the configuration format was
    recorded, so :meth:`TrainConfig.to_dict` leaves it out while it holds its
    default (the saved configuration of a run that does not use it is the
    one saved before it existed, and a missing one reads as its default).
    """
    return field(default=default, metadata={"section": section, "added_later": added_later})


def omitted_at_default() -> frozenset[str]:
    """The fields that :meth:`TrainConfig.to_dict` leaves out while they hold
    their default (a missing one reads as its default).

    Derived, not kept by hand: the fields declared ``added_later``
    (``eval_every``), every method's own fields (:attr:`Method.options
    <otgan.gan.methods.Method.options>`: RFGAN's ``ae_steps``, ...), every
    add-on's switch and its fields (:data:`otgan.gan.addons.ADDONS`:
    ``jc``, ``jc_eps``, ...). So a method or an add-on added later is left out
    of the configurations of the runs that do not use it.

    Examples
    --------
    >>> sorted(omitted_at_default())[:4]
    ['ae_code', 'ae_steps', 'eval_every', 'jc']
    """
    names = {f.name for f in fields(TrainConfig) if f.metadata["added_later"]}
    names.update(o for cls in METHODS.values() for o in cls.options)
    for name, addon in ADDONS.items():
        names.add(name)
        names.update(addon.options)
    return frozenset(names)


#: The value of ``gen_noise`` in a configuration saved before the field existed:
#: every method then drew fresh noise for the generator step.
LEGACY_GEN_NOISE = "fresh"

#: What a *flat* saved configuration (every checkpoint, the ``config.json`` of
#: runs older than the sections) that lacks one of these fields held for it
#: when it was saved: the fixed defaults before they depended on the method
#: and the kind of data (issue #25). A missing ``hidden`` takes
#: :func:`kind_network_defaults`, the rule of that time.
LEGACY_FIXED_DEFAULTS = MappingProxyType({"gen_noise": LEGACY_GEN_NOISE, "lr_decay": "linear",
                                          "gp_lambda": 10.0, "clip": 0.01})


def kind_network_defaults(kind: str) -> dict[str, int]:
    """The network sizes a configuration takes for data of ``kind`` when
    neither it nor the method sets them: ``z_dim`` 2 and ``hidden`` 256 for
    flat data, 32 and 128 for images.

    Examples
    --------
    >>> kind_network_defaults("flat"), kind_network_defaults("image")
    ({'z_dim': 2, 'hidden': 256}, {'z_dim': 32, 'hidden': 128})
    """
    if kind not in DATA_KINDS:
        raise ValueError(f"kind must be one of {DATA_KINDS}, got {kind!r}")
    return {"z_dim": 32, "hidden": 128} if kind == "image" else {"z_dim": 2, "hidden": 256}


@dataclass(frozen=True)
class TrainConfig:
    r"""Everything that defines a training run.

    ``None`` fields take the method's reference settings for the kind of data
    (:meth:`Method.defaults_for <otgan.gan.methods.Method.defaults_for>`: flat
    data or images, :func:`otgan.gan.data.data_is_image`; each value cited in
    the method's module) when the config is built, so the saved JSON is always
    explicit and a change of the defaults only affects new runs. The fields are listed by section
    (:data:`SECTIONS`, :meth:`section`): ``run`` (``method`` ... ``seed``),
    ``cost`` (``metric``, ``p``), ``networks`` (``z_dim``, ``hidden``,
    ``depth``), ``optimiser`` (``lr_g`` ... ``lr_decay``), ``steps``
    (``n_critic`` ... ``gen_noise``), ``method_options`` (``ae_*``,
    ``xicfg_*``), ``addons`` (``jc`` ... ``pack4``) and ``runtime``
    (``device`` ... ``eval_every``).

    Parameters
    ----------
    method : str
        A registered method (:data:`otgan.gan.methods.METHODS`): ``"wgan-ts"``,
        ``"wgan-gp"``, ``"wgan"``, ``"gan"``, ``"nsgan"``, ``"ot"``, ``"rfgan"``.
    data : str
        An embedded data set (:data:`otgan.gan.data.DATASETS`) or a ``.npy`` path.
    iters : int
        Generator iterations.
    batch : int
        Real and generated batch size ``m = n``.
    seed : int
        Seeds network initialisation, data sampling and noise.
    metric, p : ground cost of the LP (WGAN-TS) and of the exact-W metrics.
    z_dim, hidden, depth : network sizes (``z_dim`` defaults to 2 for flat data,
        32 for images; ``hidden`` to the method's reference width where it has
        one — WGAN-GP and WGAN on flat data: 512 — else 256 resp. 128; image
        data is what :attr:`otgan.gan.data.Dataset.is_image` says).
    lr_g, lr_d, beta1, beta2 : optimiser settings (Adam; RMSProp for WGAN).
    n_critic : int
        WGAN-TS: LPs per generator step (:math:`n_c`); others: critic steps.
    n_r : int
        WGAN-TS regression steps per LP.
    ot_reg : float
        Weight :math:`\lambda` of the WGAN-TS OT regulariser (0 = off;
        default 10 for WGAN-TS, the authors' ``--LAMBDA``).
    scaling : {"final", "power", "none"}
        WGAN-TS weight scaling (see :func:`otgan.torch.scale_critic`).
    lr_decay : {"linear", "none"}
        ``"linear"``: both learning rates decay linearly from their initial
        value towards 0 over ``iters`` (as in the WGAN-GP authors' CIFAR-10
        script, ``gan_cifar.py``; their toy and MNIST scripts keep the rate
        constant), so the generator settles on the modes at the end of the
        budget; ``"none"``: constant rates. Default: the method's reference
        (``"none"`` for WGAN-TS, WGAN-GP, WGAN, GAN, NSGAN, RFGAN, xICFG;
        ``"linear"`` for ``ot``). When a resume changes ``iters``, the decay is
        re-planned from its current value to reach 0 at the new end
        (:func:`otgan.gan.training.schedule.replan`).
    gp_lambda : float
        WGAN-GP penalty weight (default 0.1 for flat data, the authors' toy
        script; 10 for images; 10 for the methods that do not use it).
    clip : float
        WGAN weight-clipping bound (default 0.01).
    gen_noise : {"same", "fresh"}
        Noise of the generator step: ``"same"`` reuses the :math:`z_j` of the
        last critic batch, on which WGAN-TS has just enforced the batch
        constraint (Algorithm 1, line 16; the default of ``wgan-ts``);
        ``"fresh"`` draws a new batch (the default of the other methods, as in
        their papers, and of every configuration saved before this field
        existed). Methods without a critic take ``"fresh"`` only.
    jc : bool
        Jacobian Clamping add-on (:class:`otgan.gan.addons.JacobianClamping`),
        for every method.
    jc_eps, jc_min, jc_max : float
        Its perturbation norm and band for :math:`Q`; ``None`` with ``jc`` takes
        :meth:`otgan.gan.addons.jacobian.JCDefaults.for_shape` of the data (2-D: 0.1,
        0.01, 10; images: 0.5, 0.3, 6). Refused without ``jc``.
    lens : bool
        Tempered-lens add-on (:class:`otgan.gan.addons.TemperedLens`), for the
        methods with a critic.
    lens_k : int
        The iteration :math:`K` where the lens's weight :math:`\lambda(t)`
        reaches 0; ``None`` with ``lens`` takes half the run,
        :func:`otgan.gan.addons.lens.default_lens_k` (``iters // 2``). Refused
        without ``lens``.
    pack2, pack4 : bool
        Packing add-ons (:class:`otgan.gan.addons.Packing`, PacGAN): the
        critic sees packs of 2 resp. 4 samples; at most one, ``batch`` a
        multiple of the pack size; refused for the methods without a critic,
        for ``wgan-ts`` and ``rfgan`` (:attr:`Method.pack_refusal
        <otgan.gan.methods.Method.pack_refusal>`) and ``xicfg``.
    ae_steps : int
        RFGAN (``method="rfgan"``): Adam steps of the autoencoder fitted on the
        real training data before the GAN (:mod:`otgan.gan.methods.autoencoder`);
        ``None`` takes 500 (flat data) or 1 000 (images). Refused for the
        other methods.
    ae_code : int
        RFGAN: the width of the encoder's code :math:`h_1 = E(x)`, the
        features the discriminator sees; ``None`` takes 8 (flat data) or 16
        (images). Refused for the other methods.
    xicfg_t, xicfg_u, xicfg_eta, xicfg_pool, xicfg_epochs : int, int, float, int, int
        xICFG (``method="xicfg"``, :mod:`otgan.gan.methods.xicfg`): :math:`T`
        functional steps (discriminator snapshots) per iteration, :math:`U`
        discriminator steps per functional step, the step size :math:`\eta`,
        the input pool in batches and the approximator's epochs over it per
        iteration. ``None`` takes :func:`~otgan.gan.methods.xicfg.xicfg_defaults`
        of the data: ``T`` 25 (flat data, MLP approximator) or 15 (images,
        conv approximator), ``U`` 1, :math:`\eta` 0.05 (flat data; ``grid``
        0.8) or 0.5 (images), 10 batches, 10 epochs. Refused for the other
        methods.
    device : {"auto", "cpu", "cuda"}
        Where to train (``"auto"``: CUDA when available).
    log_every, ckpt_every, eval_n : logging period, checkpoint period and the
        number of samples for the final exact-W1 evaluation.
    eval_every : int
        Every ``eval_every`` iterations the log line (written then whatever
        ``log_every`` says) also holds the generator's log condition number
        (200 fixed latent points; :meth:`otgan.gan.Trainer.condition_number`)
        and the exact W1 of 1 000 generated samples over its noise floor
        (:meth:`otgan.gan.Trainer.progress_metrics`).
        Does not change the trajectory (a runtime field).
    """

    # run: what is trained, on what, for how long
    method: str = _field("wgan-ts", "run")
    data: str = _field("ring", "run")
    iters: int = _field(2000, "run")
    batch: int = _field(64, "run")
    seed: int = _field(0, "run")
    # cost: the ground cost
    metric: str = _field("l1", "cost")
    p: float | None = _field(None, "cost")
    # networks
    z_dim: int | None = _field(None, "networks")
    hidden: int | None = _field(None, "networks")
    depth: int = _field(3, "networks")
    # optimiser
    lr_g: float | None = _field(None, "optimiser")
    lr_d: float | None = _field(None, "optimiser")
    beta1: float | None = _field(None, "optimiser")
    beta2: float | None = _field(None, "optimiser")
    lr_decay: str | None = _field(None, "optimiser")
    # steps: the knobs the methods share (each reads those it uses)
    n_critic: int | None = _field(None, "steps")
    n_r: int = _field(5, "steps")
    ot_reg: float | None = _field(None, "steps")
    scaling: str = _field("final", "steps")
    gp_lambda: float | None = _field(None, "steps")
    clip: float | None = _field(None, "steps")
    gen_noise: str | None = _field(None, "steps")
    # method_options: the fields that one method declares (Method.options)
    ae_steps: int | None = _field(None, "method_options")
    ae_code: int | None = _field(None, "method_options")
    xicfg_t: int | None = _field(None, "method_options")
    xicfg_u: int | None = _field(None, "method_options")
    xicfg_eta: float | None = _field(None, "method_options")
    xicfg_pool: int | None = _field(None, "method_options")
    xicfg_epochs: int | None = _field(None, "method_options")
    # addons: each add-on's switch and the fields it declares (AddOn.options)
    jc: bool = _field(False, "addons")
    jc_eps: float | None = _field(None, "addons")
    jc_min: float | None = _field(None, "addons")
    jc_max: float | None = _field(None, "addons")
    lens: bool = _field(False, "addons")
    lens_k: int | None = _field(None, "addons")
    pack2: bool = _field(False, "addons")
    pack4: bool = _field(False, "addons")
    # runtime: does not change the trajectory (RUNTIME_FIELDS)
    device: str = _field("auto", "runtime")
    log_every: int = _field(10, "runtime")
    ckpt_every: int = _field(500, "runtime")
    eval_n: int = _field(2500, "runtime")
    eval_every: int = _field(100, "runtime", added_later=True)

    def __post_init__(self):
        def choice(name: str, options: tuple[str, ...]) -> None:
            v = getattr(self, name)
            if not isinstance(v, str) or v not in options:
                raise ValueError(f"{name} must be one of {options}, got {v!r}")

        def integer(name: str, lo: int, allow_none: bool = False) -> None:
            v = getattr(self, name)
            if v is None and allow_none:
                return
            if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < lo:
                raise ValueError(f"{name} must be an integer >= {lo}, got {v!r}")

        def real(name: str, lo: float, hi: float = math.inf, lo_open: bool = True,
                 allow_none: bool = False) -> None:
            v = getattr(self, name)
            if v is None and allow_none:
                return
            ok = (not isinstance(v, bool) and isinstance(v, numbers.Real) and math.isfinite(v)
                  and (v > lo if lo_open else v >= lo) and v <= hi)
            if not ok:
                br = "(" if lo_open else "["
                raise ValueError(f"{name} must be a finite number in {br}{lo}, {hi}], got {v!r}")

        choice("method", tuple(METHODS))
        if not isinstance(self.data, str) or not self.data:
            raise ValueError(f"data must be a data-set name or .npy path, got {self.data!r}")
        choice("device", DEVICES)
        choice("metric", METRICS)
        choice("scaling", SCALING_MODES)
        if self.lr_decay is not None:
            choice("lr_decay", LR_DECAYS)
        if self.metric == "lp":
            real("p", 1.0, lo_open=False)
        elif self.p is not None:
            raise ValueError(f"p is only used with metric='lp', got p={self.p!r}")
        integer("iters", 0)
        integer("batch", 2)
        integer("seed", 0)
        integer("z_dim", 1, allow_none=True)
        integer("hidden", 1, allow_none=True)
        integer("depth", 1)
        integer("n_critic", 1, allow_none=True)
        integer("n_r", 1)
        integer("log_every", 1)
        integer("ckpt_every", 1)
        integer("eval_n", 2)
        integer("eval_every", 1)
        integer("ae_steps", 1, allow_none=True)
        integer("ae_code", 1, allow_none=True)
        for name in ("xicfg_t", "xicfg_u", "xicfg_pool", "xicfg_epochs"):
            integer(name, 1, allow_none=True)
        real("xicfg_eta", 0.0, allow_none=True)
        real("lr_g", 0.0, allow_none=True)
        real("lr_d", 0.0, allow_none=True)
        real("beta1", 0.0, 1.0, lo_open=False, allow_none=True)
        real("beta2", 0.0, 1.0, lo_open=False, allow_none=True)
        real("ot_reg", 0.0, lo_open=False, allow_none=True)
        real("gp_lambda", 0.0, lo_open=False, allow_none=True)
        real("clip", 0.0, allow_none=True)
        if self.gen_noise is not None:
            choice("gen_noise", GEN_NOISE)
        spec = METHODS[self.method]
        kind = None
        flat = spec.defaults_for("flat")
        unset = [n for n in (*flat.config_fields(), "hidden") if getattr(self, n) is None]
        # the kind of data matters when the method's settings differ by kind
        # or a network size is unset (asking imports torch: the one image rule)
        if (unset and flat != spec.defaults_for("image")) or self.z_dim is None \
                or self.hidden is None:
            from ..data import data_is_image

            kind = "image" if data_is_image(self.data) else "flat"
        # the method's reference settings for this kind of data
        for name, default in spec.defaults_for(kind or "flat").config_fields().items():
            if getattr(self, name) is None:
                object.__setattr__(self, name, default)
        if not spec.has_critic and self.gen_noise != "fresh":
            raise ValueError(f"gen_noise={self.gen_noise!r} needs a critic batch to reuse; "
                             f"method {self.method!r} has no critic (use 'fresh')")
        self._check_addons(spec, real, integer)
        self._check_method_options(spec)
        if self.z_dim is None or self.hidden is None:
            for name, default in kind_network_defaults(kind).items():
                if getattr(self, name) is None:
                    object.__setattr__(self, name, default)
        if self.p is not None:
            object.__setattr__(self, "p", float(self.p))

    @classmethod
    def _check_declared(cls, declared: set[str], section: str, where: str) -> None:
        # the registries declare the fields; the dataclass must hold each of
        # them, in the section that says who uses it
        wrong = sorted(n for n in declared if n not in cls.__dataclass_fields__
                       or cls.section_of(n) != section)
        if wrong:
            raise TypeError(f"{where} declares {', '.join(wrong)}, which is no TrainConfig "
                            f"field of section {section!r}")

    def _check_addons(self, spec, real, integer) -> None:
        self._check_declared({o for n, a in ADDONS.items() for o in (n, *a.options)},
                             "addons", "ADDONS")
        for name, addon in ADDONS.items():
            on = getattr(self, name)
            if not isinstance(on, bool):
                raise ValueError(f"{name} must be a bool, got {on!r}")
            given = [o for o in addon.options if getattr(self, o) is not None]
            if not on and given:
                raise ValueError(f"{', '.join(given)} set but the {name!r} add-on is off "
                                 f"(pass {name}=True / --{name})")
            if on:
                addon.check_method(self.method)  # needs a critic, packing's refusals
            if on and spec.owns_iteration:
                raise ValueError(f"the {name!r} add-on hooks into the generic iteration; "
                                 f"method {self.method!r} runs its own")
        packs = [n for n in self.addons if getattr(ADDONS[n], "m", None)]
        if len(packs) > 1:
            raise ValueError(f"one packing add-on at most, got {', '.join(packs)} "
                             f"(pack2=True and pack4=True)")
        if packs and self.batch % ADDONS[packs[0]].m:
            raise ValueError(f"batch must be a multiple of the pack size "
                             f"{ADDONS[packs[0]].m} with the {packs[0]!r} add-on, "
                             f"got batch={self.batch}")
        if self.jc:
            if None in (self.jc_eps, self.jc_min, self.jc_max):
                from ..data import data_shape
                from ..addons.jacobian import JCDefaults

                d = JCDefaults.for_shape(data_shape(self.data))
                for name, v in (("jc_eps", d.eps), ("jc_min", d.lam_min),
                                ("jc_max", d.lam_max)):
                    if getattr(self, name) is None:
                        object.__setattr__(self, name, v)
            real("jc_eps", 0.0)
            real("jc_min", 0.0, lo_open=False)
            real("jc_max", 0.0)
            for name in ("jc_eps", "jc_min", "jc_max"):
                object.__setattr__(self, name, float(getattr(self, name)))
            if self.jc_min > self.jc_max:
                raise ValueError(f"jc_min must be <= jc_max, got {self.jc_min} > {self.jc_max}")
        if self.lens:
            if self.lens_k is None:
                object.__setattr__(self, "lens_k", self.iters // 2)  # default_lens_k
            integer("lens_k", 0)

    def _check_method_options(self, spec) -> None:
        # a method's own fields (Method.options): refused for the other methods
        declared = {o for cls in METHODS.values() for o in cls.options}
        self._check_declared(declared, "method_options", "Method.options")
        for name in sorted(declared):
            v = getattr(self, name)
            if v is not None and name not in spec.options:
                users = ", ".join(repr(n) for n, cls in METHODS.items() if name in cls.options)
                raise ValueError(f"{name}={v!r} is only used by method {users}, not by "
                                 f"method {self.method!r}")
        if spec.options:
            for name, v in spec.option_defaults(self.data).items():
                if getattr(self, name) is None:
                    object.__setattr__(self, name, v)

    @property
    def addons(self) -> tuple[str, ...]:
        """The add-ons switched on, in :data:`otgan.gan.addons.ADDONS` order."""
        return tuple(n for n in ADDONS if getattr(self, n))

    @property
    def optimizer(self) -> str:
        """The method's optimiser (:attr:`MethodDefaults.optimizer
        <otgan.gan.methods.MethodDefaults>`), ``"adam"`` or ``"rmsprop"``."""
        return METHODS[self.method].defaults.optimizer

    @classmethod
    def section_of(cls, name: str) -> str:
        """The section (:data:`SECTIONS`) of field ``name``.

        Examples
        --------
        >>> TrainConfig.section_of("lr_decay"), TrainConfig.section_of("jc_eps")
        ('optimiser', 'addons')
        """
        f = cls.__dataclass_fields__.get(name)
        if f is None:
            raise ValueError(f"unknown config field {name!r}")
        return f.metadata["section"]

    @classmethod
    def section_fields(cls, section: str) -> tuple[str, ...]:
        """The fields of ``section``, in declaration order.

        Examples
        --------
        >>> TrainConfig.section_fields("run")
        ('method', 'data', 'iters', 'batch', 'seed')
        """
        if section not in SECTIONS:
            raise ValueError(f"section must be one of {tuple(SECTIONS)}, got {section!r}")
        return tuple(f.name for f in fields(cls) if f.metadata["section"] == section)

    def section(self, name: str) -> dict:
        """One section as a dict, every field of it (``None``: does not apply).

        Examples
        --------
        >>> TrainConfig(method="gan", iters=5).section("run")
        {'method': 'gan', 'data': 'ring', 'iters': 5, 'batch': 64, 'seed': 0}
        """
        return {k: getattr(self, k) for k in self.section_fields(name)}

    def to_dict(self, full: bool = False, sectioned: bool = False) -> dict:
        """The fields as a dict.

        Flat (the default; a checkpoint's ``"config"``, the start event of
        ``config_history.jsonl``, ``compare``'s records): ``{field: value}``.
        The fields of :func:`omitted_at_default` — the add-ons', the fields of
        one method only and those declared ``added_later`` (``eval_every``) —
        are left out while they hold their default (an add-on off, its options
        unset; another method), so the saved configuration of a run without
        them is the one saved before they existed; :meth:`from_dict` fills
        them in.

        ``sectioned=True`` (``config.json``): ``{section: {field: value}}`` in
        the order of :data:`SECTIONS`, leaving out the fields that do not apply
        to this run (``None`` once the configuration is built: ``p`` for
        another metric, another method's options, the options of an add-on
        that is off) and the sections left empty.

        ``full=True``: every field, in either layout.
        """
        d = asdict(self)
        if sectioned:
            out: dict = {}
            for section in SECTIONS:
                part = {k: d[k] for k in self.section_fields(section)
                        if full or d[k] is not None}
                if part or full:
                    out[section] = part
            return out
        if not full:
            defaults = {f.name: f.default for f in fields(self)}
            for k in omitted_at_default():
                if d[k] == defaults[k]:
                    del d[k]
        return d

    def to_json(self) -> str:
        """``config.json``: :meth:`to_dict` in sections, indented."""
        return json.dumps(self.to_dict(sectioned=True), indent=2)

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        """Read a saved configuration (``config.json``, a checkpoint's ``"config"``),
        in either layout of :meth:`to_dict`.

        Flat (``{field: value}``; every ``config.json`` written before the
        sections, and every checkpoint): a missing field takes its default.
        A flat dict without ``gen_noise`` was saved before that field existed,
        when every method drew fresh noise for the generator step: it gets
        ``gen_noise="fresh"`` (:data:`LEGACY_GEN_NOISE`), so an old run
        resumes on its own trajectory. Likewise a missing ``lr_decay``,
        ``gp_lambda``, ``clip`` or ``hidden`` takes the fixed value of the
        time before the defaults depended on the method and the data
        (:data:`LEGACY_FIXED_DEFAULTS`; every flat config this package wrote
        holds them, so this only concerns hand-written ones).

        Sectioned (``{section: {field: value}}``): each field must be in its
        own section (:meth:`section_of`); a missing one takes its default
        (``gen_noise`` the method's: the sectioned layout is newer than it).

        Examples
        --------
        >>> old = {"method": "wgan", "data": "ring", "iters": 10}  # flat, no gen_noise
        >>> TrainConfig.from_dict(old).gen_noise
        'fresh'
        >>> TrainConfig.from_dict({"run": {"method": "wgan", "iters": 10},
        ...                        "steps": {"clip": 0.02}}).clip
        0.02
        """
        if not isinstance(d, dict):
            raise TypeError(f"config must be a dict, got {type(d).__name__}")
        known = {f.name for f in fields(cls)}
        if d and all(k in SECTIONS for k in d):
            flat: dict = {}
            for section, part in d.items():
                if not isinstance(part, dict):
                    raise TypeError(f"config section {section!r} must be a dict, got "
                                    f"{type(part).__name__}")
                unknown = sorted(set(part) - known)
                if unknown:
                    raise ValueError(f"unknown config field(s) in section {section!r}: "
                                     f"{', '.join(unknown)}")
                misplaced = [f"{k} (section {cls.section_of(k)!r})" for k in part
                             if cls.section_of(k) != section]
                if misplaced:
                    raise ValueError(f"config section {section!r} holds field(s) of "
                                     f"another section: {', '.join(misplaced)}")
                flat.update(part)
            return cls(**flat)
        unknown = sorted(set(d) - known)
        if unknown:
            sections = sorted(set(unknown) & set(SECTIONS))
            hint = (f" (section(s) {', '.join(sections)} mixed with flat fields: a saved "
                    f"config is either flat or in sections)" if sections else "")
            raise ValueError(f"unknown config field(s): {', '.join(unknown)}{hint}")
        missing = {k: v for k, v in LEGACY_FIXED_DEFAULTS.items() if k not in d}
        if "hidden" not in d:
            from ..data import data_is_image  # the one image rule (imports torch)

            kind = "image" if data_is_image(d.get("data", cls.data)) else "flat"
            missing["hidden"] = kind_network_defaults(kind)["hidden"]
        return cls(**{**d, **missing})

    def differences(self, other: "TrainConfig",
                    ignore: Collection[str] | None = None) -> list[str]:
        """``"field: self -> other"`` for every field (outside ``ignore``,
        default :data:`RUNTIME_FIELDS`) that differs."""
        ignore = RUNTIME_FIELDS if ignore is None else ignore
        a, b = self.to_dict(full=True), other.to_dict(full=True)
        return [f"{k}: {a[k]!r} -> {b[k]!r}" for k in a if k not in ignore and a[k] != b[k]]


#: Fields that do not change the training trajectory (the ``runtime`` section):
#: a resumed run may differ in them. (``iters`` may change on resume too, under
#: its own rules: see ``Trainer.load_state_dict``.)
RUNTIME_FIELDS = TrainConfig.section_fields("runtime")
