"""Peak memory of POT's network simplex per cost-matrix entry.

The number behind ``otgan.lp.memory.BYTES_PER_ENTRY["network-simplex"]``: each size runs in
a fresh process, which records its peak resident memory (``ru_maxrss``) before
and after ``ot.emd`` on an ``n x n`` problem whose matrix already exists.
``python benchmarks/bench_memory.py`` writes ``benchmarks/results/memory.json``.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys

from _common import write_atomic

CHILD = r"""
import resource, sys, warnings
import numpy as np, ot
n = int(sys.argv[1])
M = np.random.default_rng(0).random((n, n)); a = np.full(n, 1.0 / n)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    ot.emd(a, a, M, numItermax=1)  # allocation happens up front; no need to finish
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print((after - before) * 1024 / (n * n))
"""


def main() -> None:
    rows = {}
    for n in (1000, 2000, 3000):
        out = subprocess.run([sys.executable, "-c", CHILD, str(n)], check=True,
                             capture_output=True, text=True).stdout
        rows[str(n)] = round(float(out), 1)
        print(f"n = {n}: {rows[str(n)]} bytes per entry beyond M")
    import ot
    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")
    os.makedirs(here, exist_ok=True)
    write_atomic(os.path.join(here, "memory.json"),
                 json.dumps({"emd_bytes_per_entry_beyond_M": rows, "pot": ot.__version__,
                             "command": "python benchmarks/bench_memory.py"}, indent=1))


if __name__ == "__main__":
    main()
