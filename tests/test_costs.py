"""A metric is parsed once per call, at the entry point, however many layers
(torch -> api -> geometry -> kernels) the call crosses."""
import numpy as np
import pytest
import torch

import otgan
from otgan import costs
from otgan import torch as ott
from otgan.costs import Metric, as_metric


@pytest.fixture
def parses(monkeypatch):
    """Every call of Metric.parse, counted (whatever it is given)."""
    calls = []
    real = Metric.parse.__func__

    def counting(cls, metric="l1", p=None):
        calls.append((metric, p))
        return real(cls, metric, p)

    monkeypatch.setattr(Metric, "parse", classmethod(counting))
    return calls


def _points(rng, m, n, d=3):
    return rng.random((m, d)), rng.random((n, d))


@pytest.mark.parametrize("shape, weighted, options", [
    ((30, 20), False, {}),                       # auto: the network simplex
    ((40, 40), False, {}),                       # the assignment solver, densified
    ((300, 300), False, {"points_in": True}),    # assignment from points: many kernel calls
    ((300, 260), True, {"points_in": True}),     # the transportation solver from points
])
def test_solve_samples_parses_once(parses, rng, shape, weighted, options):
    y, x = _points(rng, *shape)
    a = rng.dirichlet(np.ones(shape[0])) if weighted else None
    res = otgan.solve_samples(y, x, a, metric="l2", **options)
    assert res.is_optimal
    assert parses == [("l2", None)]
    parses.clear()
    metric = Metric.parse("lp", 3)
    parses.clear()
    otgan.solve_samples(y, x, a, metric=metric, **options)
    assert parses == []  # an already parsed Metric is never parsed again


def test_the_torch_layer_parses_once(parses, rng):
    y = torch.rand(50, 4, dtype=torch.float64)
    x = torch.rand(40, 4, dtype=torch.float64, requires_grad=True)
    for call in (lambda m, p: ott.wasserstein(y, x, metric=m, p=p),
                 lambda m, p: ott.ot_targets(y, x, m, p),
                 lambda m, p: ott.cost_matrix(y, x, m, p),
                 lambda m, p: ott.scale_critic(torch.nn.Linear(4, 1).double(), y, x, m, p)):
        parses.clear()
        call("lp", 1.5)
        assert parses == [("lp", 1.5)]
        metric = as_metric("sqeuclidean")
        parses.clear()
        call(metric, None)
        assert parses == []


def test_the_batch_api_parses_once(parses, rng):
    Y, X = rng.random((3, 6, 2)), rng.random((3, 5, 2))
    otgan.solve_samples_batch(Y, X, metric="l1")
    assert parses == [("l1", None)]
    parses.clear()
    otgan.solve_samples_batch(list(Y), list(X), metric="l1")  # one geometry per problem
    assert parses == [("l1", None)]


def test_as_metric_passes_a_metric_through_and_validates_the_rest():
    m = Metric.parse("lp", 2.5)
    assert as_metric(m) is m and as_metric(m, 2.5) is m
    with pytest.raises(ValueError, match=r"p=3 given with metric=Metric\('lp', p=2.5\)"):
        as_metric(m, 3)
    with pytest.raises(ValueError, match="unknown metric 'cosine'"):
        as_metric("cosine")
    assert "as_metric" in costs.__all__
