import pytest
import torch


@pytest.fixture(autouse=True)
def _one_thread():
    # The test machine is shared; tiny nets do not profit from more threads.
    prev = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(prev)


TINY = dict(hidden=16, depth=1, batch=16, eval_n=200, log_every=1)
