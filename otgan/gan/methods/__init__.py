"""The registry of training methods: ``METHODS`` maps a name to its :class:`Method`.

One module per method declares its name, its named defaults
(:class:`MethodDefaults`), its critic step and its generator loss
(:mod:`otgan.gan.methods.base`); the trainer runs whatever is registered here.
Adding a method is one module and one :func:`register` line (docs/gan.md,
"Adding a method"). Importing this package does not import torch.

Examples
--------
>>> list(METHODS)
['wgan-ts', 'wgan-gp', 'wgan', 'gan', 'nsgan', 'ot', 'rfgan', 'xicfg']
>>> METHODS["wgan-gp"].defaults.n_critic, METHODS["ot"].has_critic
(5, False)
"""
from __future__ import annotations

from .base import DATA_KINDS, GEN_NOISE, Method, MethodDefaults, StepContext, descend
from .gan import GAN, NSGAN
from .ot import ExactOT
from .rfgan import RFGAN
from .wgan import WGAN
from .wgan_gp import WGANGP
from .wgan_ts import WGANTS
from .xicfg import XICFG

__all__ = ["METHODS", "register", "describe_methods", "Method", "MethodDefaults",
           "StepContext", "GEN_NOISE", "DATA_KINDS", "descend"]

#: name -> Method subclass, in the order ``--help`` lists them.
METHODS: dict[str, type[Method]] = {}


def register(cls: type[Method], *, replace: bool = False) -> type[Method]:
    """Add ``cls`` to :data:`METHODS` under ``cls.name`` (usable as a decorator).

    Raises ``TypeError`` if the class does not declare a name, a
    :class:`MethodDefaults`, a family and (with a critic) a critic step, and
    ``ValueError`` if the name is taken (unless ``replace``).

    Examples
    --------
    >>> class Mine(WGANGP):
    ...     name = "mine"
    >>> _ = register(Mine)
    >>> "mine" in METHODS
    True
    >>> del METHODS["mine"]
    """
    if not (isinstance(cls, type) and issubclass(cls, Method)):
        raise TypeError(f"register expects a Method subclass, got {cls!r}")
    cls.check()
    if cls.name in METHODS and not replace:
        raise ValueError(f"method {cls.name!r} is already registered "
                         f"({METHODS[cls.name].__module__}.{METHODS[cls.name].__qualname__})")
    METHODS[cls.name] = cls
    return cls


def describe_methods() -> str:
    """One line per registered method: name, summary and defaults (for ``--help``).

    Examples
    --------
    >>> describe_methods().splitlines()[0].split()[0]
    'wgan-ts'
    """
    width = max(len(n) for n in METHODS)
    lines = []
    for n, cls in METHODS.items():
        flat, image = cls.defaults_for("flat"), cls.defaults_for("image")
        lines.append(f"{n:{width}s}  {cls.summary}")
        if flat == image:
            lines.append(f"{'':{width}s}  defaults: {flat.describe(cls.has_critic)}")
        else:
            lines.append(f"{'':{width}s}  defaults, flat data: {flat.describe(cls.has_critic)}")
            lines.append(f"{'':{width}s}  defaults, images: {image.describe(cls.has_critic)}")
    return "\n".join(lines)


register(WGANTS)
register(WGANGP)
register(WGAN)
register(GAN)
register(NSGAN)
register(ExactOT)
register(RFGAN)
register(XICFG)
