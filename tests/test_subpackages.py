"""Sub-packages users name are attributes of ``otgan`` (issue #22 item 6)."""
import subprocess
import sys


def test_lp_and_kernels_after_import_otgan_without_torch_or_pot():
    code = ("import sys, otgan; "
            "assert callable(otgan.lp.tighten), 'otgan.lp.tighten'; "
            "assert callable(otgan.lp.check_optimality); "
            "assert callable(otgan.kernels.limit_threads); "
            "assert 'cost_matrix' in dir(otgan.kernels); "
            "print(sorted(m for m in ('torch', 'ot', 'numba') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
