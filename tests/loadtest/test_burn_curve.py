"""The cost curve of ``bench/distinct_mix.py --burn``: a fit, and a service placed on it."""

from __future__ import annotations

import pytest

from distinct_mix import TARGET_SHARE, cost_line


def test_cost_line_recovers_the_line_it_was_drawn_from() -> None:
    # throughput 1/(1.02 + 0.03 x us) of the ceiling at 0, 10, 30 and 60 microseconds
    points = [(us, 1 / (1.02 + 0.03 * us)) for us in (0.0, 10.0, 30.0, 60.0)]
    a, b = cost_line(points)
    assert a == pytest.approx(1.02, abs=1e-4)
    assert b == pytest.approx(0.03, abs=1e-5)
    # the budget the report prints for the target share
    assert (1 / TARGET_SHARE - a) / b == pytest.approx((1 / 0.6 - 1.02) / 0.03, rel=1e-3)


def test_cost_line_of_noisy_points_is_the_least_squares_fit() -> None:
    a, b = cost_line([(0.0, 1 / 1.0), (10.0, 1 / 1.5), (20.0, 1 / 1.7)])
    # 1/share = 1.0, 1.5, 1.7: slope (0.7 / 2) / 10 = 0.035, intercept 1.4 - 0.35 = 1.05
    assert (a, b) == (pytest.approx(1.05), pytest.approx(0.035))
