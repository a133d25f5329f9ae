"""Numba kernels: ground-cost matrices and fused OT reductions.

Nothing is compiled at import; every kernel compiles on first use and is cached
on disk (``cache=True``).
"""
import importlib
import os
import sys

# Submodules load on first attribute access (PEP 562): importing numba takes
# ~0.2 s, which ``import otgan`` and ``otgan distance`` should not pay before a
# kernel is actually needed.
_WHERE = {
    "batch_cost_matrix": "candidates", "col_min": "candidates",
    "col_min_points": "candidates", "topk_candidates": "candidates",
    "topk_candidates_points": "candidates", "cost_matrix": "cost",
    "c_transform_cols": "fused", "c_transform_cols_points": "fused",
    "c_transform_rows": "fused", "c_transform_rows_points": "fused",
    "dual_check": "fused", "dual_check_points": "fused", "certificate_check": "fused",
    "certificate_check_points": "fused", "dual_violation": "fused",
    "dual_violation_points": "fused", "pair_costs": "fused",
    "weight_scaling_ratio": "fused", "cost_upper_bound": "_metric",
    "metric_code": "_metric", "raise_cost_overflow": "_metric", "threads_for": "_metric",
    "dual_check_sparse": "sparse", "certificate_check_sparse": "sparse",
    "c_transform_rows_sparse": "sparse",
    "c_transform_cols_sparse": "sparse", "pair_costs_sparse": "sparse",
    "support_potentials": "sparse", "connected_frame": "certificate",
    "feasible_rows": "certificate", "separable_fit": "certificate",
    "dual_frame_fit": "certificate", "potential_slacks": "certificate",
    "staircase": "onedim", "monge_dual_check": "onedim", "monge_c_transform": "onedim", "sorted_batch_values": "onedim",
    "cost_rounding_1d": "onedim", "exact_partials": "rounding",
    "reduced_cost_array": "rounding",
}


#: the certificate's separable fit leaves out the reduced costs above the
#: first jump of this many times from one value to the next, above what the
#: plan uses (the huge entries no plan uses); shared
#: by :func:`otgan.kernels.certificate.separable_fit`'s callers (the certificate
#: and the batched kernel)
FIT_OUTLIER_RATIO = 2.0 ** 10


def __getattr__(name: str):
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'otgan.kernels' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def limit_threads(n: int) -> int:
    """Cap numba's thread pool at ``n`` threads (at most the machine's cores);
    returns the cap.

    Before numba is imported this sets ``NUMBA_NUM_THREADS``, so the pool is
    *created* with ``n`` threads; afterwards it can only lower the number a
    parallel region uses. The difference matters: with numba's OpenMP layer
    the idle workers of a 2-thread pool spin after every parallel region, and
    a training process with one torch thread ran 3.5x slower per generator
    iteration on a busy 2-core machine (32 ms instead of 9 ms, GAN on ring)
    because its evaluation had once started that pool.

    Examples
    --------
    >>> import numba
    >>> before = numba.get_num_threads()
    >>> limit_threads(1)
    1
    >>> numba.get_num_threads()
    1
    >>> numba.set_num_threads(before)
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"threads must be an integer >= 1, got {n!r}")
    n = min(n, os.cpu_count() or 1)
    if "numba" not in sys.modules:
        os.environ["NUMBA_NUM_THREADS"] = str(n)
        return n
    import numba

    n = min(n, numba.config.NUMBA_NUM_THREADS)
    numba.set_num_threads(n)
    return n


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_WHERE))


__all__ = [
    "cost_matrix", "dual_violation", "dual_violation_points", "c_transform_rows",
    "c_transform_cols", "c_transform_rows_points", "c_transform_cols_points",
    "pair_costs", "weight_scaling_ratio", "metric_code", "topk_candidates", "topk_candidates_points",
    "col_min", "col_min_points", "batch_cost_matrix", "threads_for", "dual_check",
    "dual_check_points", "certificate_check", "certificate_check_points",
    "cost_upper_bound", "raise_cost_overflow", "limit_threads", "FIT_OUTLIER_RATIO",
    "dual_check_sparse", "certificate_check_sparse", "c_transform_rows_sparse", "c_transform_cols_sparse",
    "pair_costs_sparse", "support_potentials", "connected_frame", "feasible_rows", "separable_fit",
    "dual_frame_fit", "potential_slacks",
    "staircase", "monge_dual_check", "monge_c_transform", "sorted_batch_values", "cost_rounding_1d",
    "exact_partials", "reduced_cost_array",
]
