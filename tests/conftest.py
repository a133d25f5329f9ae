import numpy as np
import pytest


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


@pytest.fixture(scope="session", autouse=True)
def _otgan_cache(tmp_path_factory):
    """Tests never read or write the user's cache: the digits classifier
    (otgan.gan.evaluation.digits_classifier) is trained once per session into a
    temporary cache directory."""
    mp = pytest.MonkeyPatch()
    mp.setenv("OTGAN_CACHE_DIR", str(tmp_path_factory.mktemp("otgan-cache")))
    yield
    mp.undo()
