"""Training: the configuration, the loop, and the run around it.

* :mod:`~otgan.gan.training.config` — :class:`TrainConfig`, the validated,
  frozen configuration saved with every run;
* :mod:`~otgan.gan.training.trainer` — :class:`Trainer`, the loop: the
  generic generator iteration around a registered method;
* :mod:`~otgan.gan.training.schedule` — the learning-rate plan (linear decay,
  re-planned when a resume changes the budget);
* :mod:`~otgan.gan.training.checkpoint` — the checkpoint's format, checks and
  file (where a trainer is restored to resume a run);
* :mod:`~otgan.gan.training.run` — run directories: training with logs,
  checkpoints, plots and report, **resuming** a run, ``compare``;
* :mod:`~otgan.gan.training.rundir` — path checks, the run lock, atomic writes;
* :mod:`~otgan.gan.training.digest` — SHA-256 digests of checkpoints and caches;
* :mod:`~otgan.gan.training.distributed` — data-parallel training on
  ``torch.distributed`` with the LP over the global batch.

Importing this package imports none of them (the method registry reads
:mod:`~otgan.gan.training.distributed` without loading torch).
"""
