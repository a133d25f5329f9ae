"""Numba kernels: ground-cost matrices and fused OT reductions.

Nothing is compiled at import; every kernel compiles on first use and is cached
on disk (``cache=True``).
"""
from .candidates import (batch_cost_matrix, col_min, col_min_points, topk_candidates,
                         topk_candidates_points)
from .cost import cost_matrix
from .fused import (c_transform_cols, c_transform_cols_points, c_transform_rows,
                    c_transform_rows_points, dual_check, dual_check_points,
                    dual_violation, dual_violation_points, pair_costs, weight_scaling_ratio)
from ._metric import cost_upper_bound, metric_code, raise_cost_overflow, threads_for

__all__ = [
    "cost_matrix", "dual_violation", "dual_violation_points", "c_transform_rows",
    "c_transform_cols", "c_transform_rows_points", "c_transform_cols_points",
    "pair_costs", "weight_scaling_ratio", "metric_code", "topk_candidates", "topk_candidates_points",
    "col_min", "col_min_points", "batch_cost_matrix", "threads_for", "dual_check",
    "dual_check_points", "cost_upper_bound", "raise_cost_overflow",
]
