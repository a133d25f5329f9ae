"""Helpers shared by the benchmark scripts (timing, machine description, output)."""
from __future__ import annotations

import os
import platform
import time
from pathlib import Path

DOCS = Path(__file__).resolve().parent.parent / "docs"


def best_of(fn, repeat: int = 3) -> float:
    """Best wall-clock seconds of ``repeat`` calls (after the caller's warm-up)."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def cpu_name() -> str:
    """The CPU's model name (``/proc/cpuinfo``), or what ``platform`` knows."""
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def machine() -> str:
    import numba
    import numpy
    import ot
    import scipy
    import torch
    return (f"{cpu_name()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"numpy {numpy.__version__}, scipy {scipy.__version__}, POT {ot.__version__}, "
            f"numba {numba.__version__}, torch {torch.__version__}")


def write_atomic(path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and ``os.replace``."""
    tmp = f"{path}.tmp"
    with open(tmp, "w") as fh:
        fh.write(text)
    os.replace(tmp, path)


def write_table(name: str, title: str, table: str, notes: str = "") -> Path:
    """Write one benchmark section to ``docs/_bench_<name>.md`` (atomically)."""
    path = DOCS / f"_bench_{name}.md"
    text = (f"## {title}\n\nMachine: {machine()}  \n"
            f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}\n\n"
            f"{table}\n" + (f"\n{notes}\n" if notes else ""))
    write_atomic(path, text)
    return path
