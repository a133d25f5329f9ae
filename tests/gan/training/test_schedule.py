"""The learning-rate plan (otgan.gan.training.schedule): linear decay and its
re-plan when a resumed run's budget changes."""
import pytest

from otgan.gan.training.schedule import lr_factor, replan


def test_plain_linear_decay():
    assert [lr_factor(None, 4, i) for i in range(5)] == [1.0, 0.75, 0.5, 0.25, 0.0]
    assert lr_factor(None, 0, 0) == 1.0  # an empty budget does not divide by zero


@pytest.mark.parametrize("old,new,done", [(10, 20, 6), (10, 10, 10), (10, 7, 6), (100, 101, 100)])
def test_replan_continues_from_the_last_rate_and_ends_at_zero(old, new, done):
    plan = replan(None, old, new, done)
    last = lr_factor(None, old, done - 1)
    assert lr_factor(plan, new, done - 1) == pytest.approx(last)  # no jump
    assert lr_factor(plan, new, new) == 0.0
    rates = [lr_factor(plan, new, i) for i in range(done - 1, new + 1)]
    assert all(a > b for a, b in zip(rates, rates[1:]))


def test_replan_of_a_replan_and_of_an_untrained_run():
    assert replan(None, 10, 30, 0) is None  # nothing trained: the plain schedule
    first = replan(None, 10, 20, 6)
    second = replan(first, 20, 40, 15)
    assert second["anchor_iter"] == 14
    assert second["anchor_factor"] == pytest.approx(lr_factor(first, 20, 14))
    assert lr_factor(second, 40, 40) == 0.0
