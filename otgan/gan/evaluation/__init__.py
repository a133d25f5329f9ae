"""Evaluation of a trained generator.

* :mod:`~otgan.gan.evaluation.metrics` — exact certified W1 against held-out
  data and its noise floor, mode coverage, the digit metrics;
* :mod:`~otgan.gan.evaluation.digits_classifier` — the cached CNN whose
  features and classes the digit metrics use;
* :mod:`~otgan.gan.evaluation.plots` — the samples and W-curve figures of a run.

Importing this package imports none of them.
"""
