import pytest
import torch


@pytest.fixture(autouse=True)
def _one_thread():
    # The test machine is shared; tiny nets do not profit from more threads.
    prev = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(prev)


@pytest.fixture
def interrupt_at(monkeypatch):
    """``interrupt_at(k, run)``: call ``run()`` with ``Trainer.step`` raising
    ``KeyboardInterrupt`` at iteration ``k`` (a crash after the last
    checkpoint), then restore the real step."""
    from otgan.gan.training.trainer import Trainer

    def interrupt(k, run):
        real_step = Trainer.step

        def crashing_step(self):
            if self.iteration == k:
                raise KeyboardInterrupt
            return real_step(self)
        monkeypatch.setattr(Trainer, "step", crashing_step)
        with pytest.raises(KeyboardInterrupt):
            run()
        monkeypatch.setattr(Trainer, "step", real_step)
    return interrupt


TINY = dict(hidden=16, depth=1, batch=16, eval_n=200, log_every=1)


def config_json(path) -> dict:
    """A run's ``config.json`` as a flat ``{field: value}`` dict, after checking
    that the file is written in sections (``TrainConfig.to_json``)."""
    import json
    import pathlib

    from otgan.gan.training.config import SECTIONS

    d = json.loads(pathlib.Path(path).read_text())
    assert d and set(d) <= set(SECTIONS), sorted(d)
    return {k: v for part in d.values() for k, v in part.items()}
