"""limit_threads: numba's pool is created with the requested size when numba
is not loaded yet, and capped afterwards."""
import subprocess
import sys

import pytest

from otgan.kernels import limit_threads


def test_pool_is_created_with_the_limit():
    code = ("import sys; from otgan.kernels import limit_threads; "
            "assert 'numba' not in sys.modules; print(limit_threads(1)); "
            "import numba; print(numba.config.NUMBA_NUM_THREADS, numba.get_num_threads())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["1", "1", "1"]


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "2"])
def test_bad_values_are_refused(bad):
    with pytest.raises(ValueError, match="threads must be an integer >= 1"):
        limit_threads(bad)


def test_threads_for_leaves_torch_threads_alone():
    # numba's OpenMP layer shares the runtime with torch: restoring numba's
    # thread count used to put torch back to 2 threads
    code = ("import torch, numba; torch.set_num_threads(1); a = torch.ones(300, 300); "
            "(a @ a).sum(); from otgan.kernels import threads_for\n"
            "with threads_for(10): pass\n"
            "assert numba.get_num_threads() == numba.config.NUMBA_NUM_THREADS > 1\n"
            "print(torch.get_num_threads())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["1"]
