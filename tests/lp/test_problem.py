"""LinearProblem: the frozen (geom, a, b) that owns the weights' tests."""
import dataclasses

import numpy as np
import pytest
import torch

import otgan
from otgan.geometry import DenseCost, PointCost
from otgan.lp import LinearProblem
from otgan.lp.problem import UNIFORM_RTOL, uniform_weights


def _geom(m, n, seed=0):
    return DenseCost(np.random.default_rng(seed).random((m, n)))


def test_defaults_are_uniform_and_the_object_is_frozen():
    p = LinearProblem(_geom(3, 4))
    np.testing.assert_array_equal(p.a, np.full(3, 1 / 3))
    np.testing.assert_array_equal(p.b, np.full(4, 1 / 4))
    assert p.shape == (3, 4) and p.has_full_support and p.is_uniform
    assert not p.is_equal_size and not p.is_assignment
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.a = np.ones(3)


def test_support_and_predicates_read_positive_weights_only():
    a = np.array([0.5, 0.0, 0.5])
    b = np.array([0.25, 0.25, 0.0, 0.5])
    p = LinearProblem(_geom(3, 4), a, b)
    rows, cols = p.support
    assert rows.tolist() == [0, 2] and cols.tolist() == [0, 1, 3]
    assert p.support_shape == (2, 3) and not p.has_full_support
    assert not p.is_uniform  # b's positive weights differ
    q = LinearProblem(_geom(3, 3), a, np.array([0.0, 0.5, 0.5]))
    assert q.is_uniform and q.is_equal_size and q.is_assignment  # zeros aside
    sub = q.on_support()
    assert sub.shape == (2, 2) and sub.has_full_support
    np.testing.assert_array_equal(sub.geom.dense(), q.geom.dense()[np.ix_([0, 2], [1, 2])])


def test_uniform_test_is_relative_to_the_weights():
    w = np.full(5, 1e-30)
    assert uniform_weights(w)
    w[0] *= 1 + 10 * UNIFORM_RTOL
    assert not uniform_weights(w)
    w[0] = 1e-30 * (1 + UNIFORM_RTOL / 10)
    assert uniform_weights(w)
    stack = np.array([[0.5, 0.5], [0.4, 0.6]])
    assert uniform_weights(stack).tolist() == [True, False]


def test_weights_only_problem():
    p = LinearProblem(None, np.full(4, 0.25), np.full(4, 0.25))
    assert p.geom is None and p.shape == (4, 4) and p.is_assignment
    with pytest.raises(TypeError, match="without a geometry needs both weight vectors"):
        LinearProblem(None, np.full(4, 0.25))


@pytest.mark.parametrize("a, match", [
    (np.array([0.5, -0.5, 1.0]), r"a has a negative weight: a\[1\] = -0.5"),
    (np.array([0.5, np.nan, 0.5]), r"a contains NaN or inf \(first at index \(1,\): nan\)"),
    (np.zeros(3), "a sums to 0"),
    (np.full(2, 0.5), r"a has length 2 but the row side has 3 points"),
    (np.ones((3, 1)), r"a must be 1-D, got shape \(3, 1\)"),
])
def test_bad_weights_name_the_argument_and_the_value(a, match):
    with pytest.raises(ValueError, match=match):
        LinearProblem(_geom(3, 2), a)


def test_bad_b_is_named_b():
    with pytest.raises(ValueError, match=r"b has a negative weight: b\[0\] = -1.0"):
        LinearProblem(_geom(3, 2), None, np.array([-1.0, 2.0]))
    with pytest.raises(TypeError, match="b must be numeric, got boolean dtype"):
        LinearProblem(_geom(3, 2), None, np.array([True, False]))


def test_bad_geometry_is_named():
    with pytest.raises(TypeError, match="geom must be a cost geometry .* got 'M'"):
        LinearProblem("M")


def test_weights_are_converted_once_and_kept():
    a = np.full(3, 1 / 3)
    p = LinearProblem(_geom(3, 3), a)
    assert p.a is a  # a float64 vector is not copied
    q = LinearProblem(_geom(3, 3), [1, 1, 1], torch.tensor([1.0, 1.0, 1.0]))
    assert q.a.dtype == np.float64 and q.b.tolist() == [1.0, 1.0, 1.0] and q.is_assignment


def test_from_inputs_checks_masses_and_rescales_low_precision_b():
    g = _geom(2, 3)
    with pytest.raises(ValueError, match=r"a and b must have the same total mass .*"
                                         r"sum\(b\) = 1.5"):
        LinearProblem.from_inputs(g, [0.5, 0.5], [0.5, 0.5, 0.5])
    b32 = np.array([0.3, 0.3, 0.4], dtype=np.float32)
    p = LinearProblem.from_inputs(g, None, b32)
    assert abs(p.b.sum() - 1.0) <= 1e-15 and p.b.dtype == np.float64
    with pytest.raises(ValueError, match=r"y has length 3 but the real batch has 2 points"):
        LinearProblem.from_inputs(g, [0.2, 0.3, 0.5], names=("y", "x"),
                                  sides=("the real batch", "the generated batch"))


def test_balanced_and_with_geometry():
    p = LinearProblem(_geom(2, 2), np.array([0.5, 0.5]), np.array([0.5, 0.5 + 1e-12]))
    q = p.balanced()
    assert q is not p and abs(q.b.sum() - q.a.sum()) <= 1e-15 and q.a is p.a
    uniform = LinearProblem(_geom(2, 2))
    assert uniform.balanced() is uniform  # equal masses: nothing to rescale
    pts = PointCost(np.zeros((2, 1)), np.ones((2, 1)))
    r = LinearProblem(pts).with_geometry(pts.as_dense())
    assert isinstance(r.geom, DenseCost) and r.is_assignment
    with pytest.raises(ValueError, match=r"geom has shape \(3, 2\), the problem's weights "
                                         r"have \(2, 2\)"):
        LinearProblem(pts).with_geometry(_geom(3, 2))


def test_every_former_copy_of_the_weight_test_agrees_with_the_problem(rng):
    # the registry's choice, the assignment solver's support test, the POT
    # drop-in and the batch API all read LinearProblem now; their answers on
    # assignment-or-not problems must match the problem's predicate
    from otgan.lp import assignment, choose_method
    cases = [(np.full(6, 1 / 6), np.full(6, 1 / 6)),
             (np.r_[np.full(5, 0.2), 0.0], np.r_[0.0, np.full(5, 0.2)]),   # zeros aside
             (rng.dirichlet(np.ones(6)), np.full(6, 1 / 6)),
             (np.full(6, 1 / 6), np.full(4, 1 / 4))]
    for a, b in cases:
        p = LinearProblem(_geom(len(a), len(b)), a, b)
        assert (choose_method(p) == "sparse-assignment") == p.is_assignment
        assert (choose_method(a, b) == "sparse-assignment") == p.is_assignment
        if p.has_full_support:
            assert assignment.supports(a, b) == (p.is_uniform and (
                p.is_equal_size or assignment.replication_size(*p.shape) is not None))
        res = otgan.solve_ot_batch([p.geom.dense()], [a], [b])[0]
        assert (res.method == "fast") == p.is_assignment  # the batched assignment kernel
