"""Refuse a solve that cannot fit in memory, before anything is allocated.

A network simplex on an ``m x n`` problem allocates far more than the cost
matrix: measured with POT 0.9.7, ``ot.emd`` grows the peak resident memory by
about 33 bytes per entry (the dense plan and the bipartite network's arcs;
``benchmarks/bench_memory.py``),
and the normalised copy of ``M`` adds 8 more. Running out of memory inside
POT's C++ code aborts the interpreter (``std::bad_alloc``) and loses every
result of the session, so the bytes a path needs are compared with the memory
this process can still get (``MemAvailable`` and the address-space limit)
first.

Examples
--------
>>> required_memory("network-simplex", 1000, 1000, densify=True) // 10**6  # MB: 41 + 8 a pair
49
>>> required_memory("emd", 1000, 1000, densify=True) // 10**6  # the same method's older name
49
>>> available_memory() is None or available_memory() > 0
True
"""
from __future__ import annotations

import os
import resource

from ..errors import InsufficientMemoryError
from .names import canonical_method

#: bytes per cost-matrix entry that each method allocates beyond its input
#: (canonical method names, :data:`otgan.lp.registry.METHOD_TABLE`; the
#: candidate-graph solvers allocate ``O((m + n) k)``, nothing per entry)
BYTES_PER_ENTRY = {"network-simplex": 8 + 33, "dual-lp": 0, "candidate-graph": 0,
                   "sparse-assignment": 0, "sparse-transport": 0, "one-dimensional": 0,
                   "multiscale": 0}
#: bytes per entry of a cost matrix built from points
DENSE_BYTES = 8
#: needs below this are not checked: reading the system's memory state costs
#: more than a small solve, and no machine that runs Python lacks 64 MiB
CHECK_ABOVE_BYTES = 64 * 2**20


def available_memory() -> int | None:
    """Bytes this process can still allocate: the smaller of the system's
    available memory and what is left under the address-space limit
    (``None`` when neither can be read)."""
    limits = []
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    limits.append(int(line.split()[1]) * 1024)
                    break
    except OSError:
        pass
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft != resource.RLIM_INFINITY:
        try:
            with open("/proc/self/statm") as fh:
                used = int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, ValueError):
            used = 0
        limits.append(max(0, soft - used))
    return min(limits) if limits else None


def required_memory(method: str, m: int, n: int, *, densify: bool) -> int:
    """Bytes that ``method`` (a name or an alias) allocates for an ``m x n``
    problem (estimate)."""
    # imported here: the registry imports this module
    name = canonical_method(method)
    if name not in BYTES_PER_ENTRY:
        raise ValueError(f"method must name a solver, got {method!r} (which picks one per "
                         f"problem)")
    per_entry = BYTES_PER_ENTRY[name] + (DENSE_BYTES if densify else 0)
    return per_entry * m * n


def check_memory(method: str, m: int, n: int, *, densify: bool,
                 uniform_square: bool = False) -> None:
    """Raise :class:`InsufficientMemoryError` if the solve would not fit."""
    need = required_memory(method, m, n, densify=densify)
    if need <= CHECK_ABOVE_BYTES:
        return
    have = available_memory()
    if have is None or need <= have:
        return
    hint = ("use method='sparse-assignment' with points_in=True (solve_samples): it "
            "never forms the m x n matrix" if uniform_square else
            "solve smaller batches, or free memory")
    raise InsufficientMemoryError(
        f"method={method!r} on a ({m}, {n}) problem needs about {need / 2**30:.1f} GiB "
        f"({need // (m * n)} bytes per entry), but only {have / 2**30:.1f} GiB is "
        f"available to this process; {hint}")
