"""The checkpoint's file (otgan.gan.training.checkpoint): one atomic writer for
the whole package, and clear errors for a file that is not a checkpoint."""
import ast
import os
from pathlib import Path

import pytest
import torch

import otgan.gan
from otgan.errors import CheckpointError
from otgan.gan import TrainConfig, Trainer
from otgan.gan.training.checkpoint import (CHECKPOINT_FORMAT, read_checkpoint, restore_state,
                                           trainer_state, write_checkpoint)

from ..conftest import TINY

GAN = Path(otgan.gan.__file__).parent


def test_an_interrupted_checkpoint_write_keeps_the_old_file(tmp_path, monkeypatch):
    tr = Trainer(TrainConfig(method="gan", device="cpu", iters=3, **TINY))
    path = tmp_path / "ckpt.pt"
    tr.save_checkpoint(str(path))
    before = path.read_bytes()
    tr.step()

    def crash(src, dst):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="No space left"):
        tr.save_checkpoint(str(path))
    monkeypatch.undo()
    assert path.read_bytes() == before  # readers see the old file, whole
    assert sorted(os.listdir(tmp_path)) == ["ckpt.pt"]  # and no temporary left behind
    assert read_checkpoint(str(path))["iteration"] == 0


def test_only_the_files_module_writes_files_atomically():
    # checkpoints, caches and run files all go through otgan.gan.files's
    # writer: no other module of otgan.gan calls os.replace / os.fsync itself
    offenders = []
    for path in sorted(GAN.rglob("*.py")):
        if path.relative_to(GAN).as_posix() == "files.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and node.attr in ("replace", "fsync") \
                    and isinstance(node.value, ast.Name) and node.value.id == "os":
                offenders.append(f"{path.relative_to(GAN)}:{node.lineno}")
    assert offenders == []


def test_module_functions_round_trip_a_trainer(tmp_path):
    cfg = TrainConfig(method="gan", device="cpu", iters=4, **TINY)
    tr = Trainer(cfg)
    tr.step()
    path = str(tmp_path / "ckpt.pt")
    write_checkpoint(path, trainer_state(tr))
    state = read_checkpoint(path)
    assert state["format"] == CHECKPOINT_FORMAT
    resumed = Trainer(cfg)
    restore_state(resumed, state, source=path)
    assert resumed.iteration == 1
    assert resumed.log_entry(resumed.step()) == tr.log_entry(tr.step()) | {
        "seconds": resumed.train_seconds}


def test_read_checkpoint_names_the_file(tmp_path):
    missing = str(tmp_path / "none.pt")
    with pytest.raises(CheckpointError, match=f"{missing}: no checkpoint found"):
        read_checkpoint(missing)
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"not a torch file")
    with pytest.raises(CheckpointError, match="garbage.pt: truncated or not a torch checkpoint"):
        read_checkpoint(str(garbage))
    foreign = tmp_path / "foreign.pt"
    torch.save({"weights": torch.zeros(2)}, foreign)
    with pytest.raises(CheckpointError, match="not an otgan GAN checkpoint"):
        Trainer(TrainConfig(method="gan", device="cpu", iters=2, **TINY)).load_checkpoint(
            str(foreign))
