"""A binary min-heap on parallel key / value arrays, for the Dijkstra searches
of the assignment and transportation kernels (inlined into each caller by
numba; no allocation).

Examples
--------
>>> import numpy as np
>>> from otgan.kernels.heap import heap_pop, heap_push
>>> keys, vals = np.empty(4), np.empty(4, np.int64)
>>> n = 0
>>> for k, v in ((3.0, 30), (1.0, 10), (2.0, 20)):
...     n = heap_push.py_func(keys, vals, n, k, v)
>>> first = (float(keys[0]), int(vals[0])); n = heap_pop.py_func(keys, vals, n)
>>> first, n, (float(keys[0]), int(vals[0]))
((1.0, 10), 2, (2.0, 20))
"""
import numba as nb

__all__ = ["heap_push", "heap_pop"]


@nb.njit(inline="always")
def heap_push(hk, hv, size, key, val):
    """Insert ``(key, val)`` into the heap of ``size`` entries; returns the new size."""
    pos = size
    while pos > 0:
        parent = (pos - 1) >> 1
        if hk[parent] <= key:
            break
        hk[pos] = hk[parent]
        hv[pos] = hv[parent]
        pos = parent
    hk[pos] = key
    hv[pos] = val
    return size + 1


@nb.njit(inline="always")
def heap_pop(hk, hv, size):
    """Remove the root (the smallest key; the caller reads ``hk[0], hv[0]``
    first); returns the new size."""
    size -= 1
    key = hk[size]
    val = hv[size]
    pos = 0
    while True:
        child = 2 * pos + 1
        if child >= size:
            break
        if child + 1 < size and hk[child + 1] < hk[child]:
            child += 1
        if hk[child] >= key:
            break
        hk[pos] = hk[child]
        hv[pos] = hv[child]
        pos = child
    if size > 0:
        hk[pos] = key
        hv[pos] = val
    return size
