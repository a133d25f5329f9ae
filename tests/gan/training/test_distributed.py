"""Data-parallel training on torch.distributed (gloo, world size 2, CPU).

Each test launches ``torchrun`` in a subprocess with a timeout, on a free
port chosen at run time, running ``dist_worker.py``; the results are compared
with the same computation in this (single) process.
"""
import os
import signal
import socket
import subprocess
import sys
import time

import pytest
import torch

from otgan.cli import main
from otgan.gan import TrainConfig, Trainer
from otgan.gan.training import distributed
from otgan.errors import DistributedError
from otgan.gan.training.distributed import (SINGLE_PROCESS, AveragingOptimizer, ShardGroup,
                                            close_process_group, init_from_env, plan_device,
                                            process_group, world_size_from_env)
from otgan.torch import ot_targets

from .. import dist_worker

WORKER = os.path.join(os.path.dirname(os.path.dirname(__file__)), "dist_worker.py")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _torchrun_cmd(task: str, out, nproc: int = 2) -> list[str]:
    return [sys.executable, "-m", "torch.distributed.run", f"--nproc-per-node={nproc}",
            "--master-addr=127.0.0.1", f"--master-port={_free_port()}",
            "--monitor-interval=0.5", WORKER, task, str(out)]


def _env():
    env = dict(os.environ, OMP_NUM_THREADS="1", NUMBA_NUM_THREADS="1",
               PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.pop("WORLD_SIZE", None)
    return env


#: what a process that died says on stderr, whatever the exit status
DEATH_MARKS = ("terminate called", "Traceback", "SIGABRT", "ChildFailedError")


def _torchrun(task: str, out, timeout: float = 240, **env):
    proc = subprocess.run(_torchrun_cmd(task, out), env={**_env(), **env},
                          capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert not [m for m in DEATH_MARKS if m in proc.stderr], proc.stderr[-3000:]


# ------------------------------------------------------------ in one process
def test_single_process_group_is_the_identity():
    t = torch.arange(4.0, requires_grad=True)
    assert SINGLE_PROCESS.shard(t) is t and SINGLE_PROCESS.gather(t) is t
    assert Trainer(TrainConfig(method="gan", data="ring", iters=1, batch=8)).group \
        is SINGLE_PROCESS


def test_shard_and_local_size_errors_name_the_values():
    g = ShardGroup(rank=1, world_size=2)
    assert g.shard(torch.arange(6)).tolist() == [3, 4, 5]
    with pytest.raises(DistributedError, match="batch=63 is not divisible by the world size 2"):
        g.local_size(63)
    with pytest.raises(DistributedError, match="rank must be an integer in \\[0, 2\\), got 2"):
        ShardGroup(rank=2, world_size=2)
    with pytest.raises(DistributedError, match="world_size must be an integer >= 1, got 0"):
        ShardGroup(rank=0, world_size=0)


def test_world_size_from_env_rejects_garbage():
    assert world_size_from_env({}) == 1
    assert world_size_from_env({"WORLD_SIZE": "4"}) == 4
    with pytest.raises(DistributedError, match="WORLD_SIZE='two'"):
        world_size_from_env({"WORLD_SIZE": "two"})


def test_trainer_refuses_what_does_not_shard():
    two = ShardGroup(rank=0, world_size=2)
    with pytest.raises(DistributedError, match="batch=63 is not divisible"):
        Trainer(TrainConfig(method="gan", data="ring", iters=1, batch=63), group=two)


def test_gather_scales_the_local_gradient_by_the_world_size():
    # the rule that makes an identical global loss on every rank average to
    # its gradient: checked on the autograd construction gather uses
    t = torch.tensor([1.0, 2.0], requires_grad=True)
    w = 2
    routed = t + (w - 1) * (t - t.detach())
    (routed ** 2).sum().backward()
    assert routed.tolist() == [1.0, 2.0]
    assert t.grad.tolist() == [4.0, 8.0]  # w * d(sum t^2)/dt


def test_averaging_optimizer_delegates_state():
    p = torch.nn.Parameter(torch.ones(2))
    opt = AveragingOptimizer(torch.optim.SGD([p], lr=0.5), SINGLE_PROCESS)
    p.grad = torch.ones(2)
    opt.step()
    assert p.tolist() == [0.5, 0.5]
    opt.param_groups[0]["lr"] = 0.1
    assert opt.state_dict()["param_groups"][0]["lr"] == 0.1
    with pytest.raises(DistributedError, match="closure"):
        opt.step(lambda: 0.0)


# ------------------------------------------- leaving the group, devices (in one process)
class _FakeDist:
    """Records the calls close_process_group makes to torch.distributed."""

    def __init__(self, barrier_error=None):
        self.calls, self.initialized, self.barrier_error = [], True, barrier_error

    def install(self, monkeypatch):
        import torch.distributed as dist

        monkeypatch.setattr(dist, "is_initialized", lambda: self.initialized)
        monkeypatch.setattr(dist, "barrier", self._barrier)
        monkeypatch.setattr(dist, "destroy_process_group", self._destroy)
        return self

    def _barrier(self, *a, **k):
        self.calls.append("barrier")
        if self.barrier_error is not None:
            raise self.barrier_error

    def _destroy(self, *a, **k):
        self.calls.append("destroy")
        self.initialized = False


def test_the_group_is_left_on_every_path(monkeypatch):
    """Success: barrier, then destroy; an error or Ctrl-C: destroy at once (no
    barrier the other ranks may never reach); a failed barrier still destroys;
    a group already left is not touched again."""
    two = ShardGroup(rank=0, world_size=2)
    monkeypatch.setattr(distributed, "init_from_env", lambda device, timeout_s: two)
    fake = _FakeDist().install(monkeypatch)
    with process_group("cpu") as group:
        assert group is two and fake.calls == []
    assert fake.calls == ["barrier", "destroy"]
    for exc in (KeyboardInterrupt(), ValueError("boom"), SystemExit(2)):
        fake = _FakeDist().install(monkeypatch)
        with pytest.raises(type(exc)):
            with process_group("cpu"):
                raise exc
        assert fake.calls == ["destroy"], exc
    fake = _FakeDist(barrier_error=RuntimeError("peer gone")).install(monkeypatch)
    with pytest.raises(RuntimeError, match="peer gone"):
        two.finish()
    assert fake.calls == ["barrier", "destroy"]
    fake = _FakeDist().install(monkeypatch)
    two.finish()  # train_run's finish, then process_group's exit: one barrier, one destroy
    close_process_group(two, barrier=True)
    assert fake.calls == ["barrier", "destroy"]
    SINGLE_PROCESS.finish()
    assert fake.calls == ["barrier", "destroy"]


def _gpus(monkeypatch, n):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: n > 0)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: n)


def test_plan_device_gives_each_process_a_gpu_or_the_cpu(monkeypatch):
    _gpus(monkeypatch, 1)
    assert plan_device("auto", 1) == ("auto", None)  # one process: the trainer decides
    assert plan_device("cuda", 1) == ("cuda", None)
    assert plan_device("cpu", 2) == ("cpu", None)
    device, notice = plan_device("auto", 2, device_name="--device", nproc_name="--nproc")
    assert device == "cpu"
    assert "--nproc 2 needs 2 CUDA devices" in notice and "torch sees 1" in notice
    assert "pass --nproc 1" in notice and "\n" not in notice
    with pytest.raises(DistributedError, match="--device cuda with --nproc 2 needs 2 CUDA "
                                               "devices .*torch sees 1; pass --device cpu"):
        plan_device("cuda", 2, device_name="--device", nproc_name="--nproc")
    _gpus(monkeypatch, 2)
    assert plan_device("auto", 2) == ("auto", None)
    assert plan_device("cuda", 2) == ("cuda", None)
    _gpus(monkeypatch, 0)
    assert plan_device("auto", 2) == ("auto", None)  # resolves to the CPU: nothing to say
    with pytest.raises(DistributedError, match="torch reports no CUDA device; pass device cpu"):
        plan_device("cuda", 2)
    with pytest.raises(DistributedError, match="nproc_per_node must be an integer >= 1, got 0"):
        plan_device("cpu", 0)


def test_a_rank_without_its_gpu_is_refused_before_nccl(monkeypatch):
    _gpus(monkeypatch, 1)
    for k, v in {"WORLD_SIZE": "2", "RANK": "1", "LOCAL_RANK": "1"}.items():
        monkeypatch.setenv(k, v)
    with pytest.raises(DistributedError, match="LOCAL_RANK=1 but torch sees 1 CUDA device"):
        init_from_env("cuda")


def _launch_spy(monkeypatch):
    from otgan import cli

    calls = []
    monkeypatch.setattr(cli, "_torchrun", lambda n, argv, command: calls.append((n, argv)) or 0)
    return calls


def test_cli_nproc_on_one_gpu_trains_on_the_cpu_or_says_what_to_pass(tmp_path, monkeypatch,
                                                                    capsys):
    """One GPU, two processes: --device auto trains both on the CPU (gloo) with
    one notice line; --device cuda is one error line naming --device and
    --nproc and what to pass; nothing is started or created."""
    _gpus(monkeypatch, 1)
    calls = _launch_spy(monkeypatch)
    out = tmp_path / "r"
    args = ["train", "--nproc", "2", "--iters", "2", "--method", "gan", "--batch", "16",
            "--quiet", "--out", str(out)]
    assert main(args) == 0
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith("otgan train: note: --nproc 2 needs 2 CUDA")
    assert calls == [(2, args[:1] + args[3:] + ["--device", "cpu"])]
    assert main(args + ["--device", "cuda"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "Traceback" not in err
    assert "--device cuda with --nproc 2 needs 2 CUDA devices" in err
    assert "pass --device cpu" in err and "--nproc 1" in err
    assert len(calls) == 1 and not out.exists()
    _gpus(monkeypatch, 2)  # enough GPUs: NCCL, the command unchanged
    assert main(args) == 0 and calls[-1] == (2, args[:1] + args[3:])
    assert capsys.readouterr().err == ""


def test_cli_nproc_refuses_before_starting_anything(tmp_path, monkeypatch, capsys):
    calls = _launch_spy(monkeypatch)
    base = ["train", "--nproc", "2", "--iters", "2", "--device", "cpu"]
    assert main(base + ["--batch", "15", "--out", str(tmp_path / "a")]) == 2
    assert "batch=15 is not divisible by the world size 2" in capsys.readouterr().err
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "config.json").write_text("{}")
    assert main(base + ["--out", str(tmp_path / "b")]) == 2
    assert "pass --resume to continue it, --overwrite to replace it" in capsys.readouterr().err
    assert main(base + ["--dist-timeout", "0", "--out", str(tmp_path / "c")]) == 2
    assert "--dist-timeout must be a positive number" in capsys.readouterr().err
    assert calls == []


def test_launcher_exit_status_is_the_failed_processs(monkeypatch, capsys, tmp_path):
    """The first failure decides: its own status when it exited (it printed
    its reason), 128 + the signal when it was killed (said on one line)."""
    import torch.distributed.run as torchrun
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError, ProcessFailure

    from otgan import cli

    def failing(code):
        def run(args):
            raise ChildFailedError("otgan", {1: ProcessFailure(1, 4242, code, "")})
        return run
    for code, status, said in ((2, 2, ""), (130, 130, ""), (-6, 134, "SIGABRT"),
                               (-9, 137, "SIGKILL")):
        monkeypatch.setattr(torchrun, "run", failing(code))
        assert cli._torchrun(2, ["train"], "train") == status
        err = capsys.readouterr().err.strip()
        if said:
            assert err.count("\n") == 0 and "rank 1 (pid 4242) was killed by " + said in err
        else:
            assert err == ""
    monkeypatch.setattr(torchrun, "run", lambda args: None)
    assert cli._torchrun(2, ["train"], "train") == 0


# ------------------------------------------------------ two processes (gloo)
def test_global_lp_targets_match_one_process(tmp_path):
    """The defining property: 64 points split 32 + 32 over two processes get
    exactly the targets one process computes for the 64 points."""
    _torchrun("targets", tmp_path)
    y, x = dist_worker.fixed_batch()
    tg = ot_targets(y, x, "l1")
    parts = [torch.load(tmp_path / f"targets_rank{r}.pt") for r in range(2)]
    assert all(p["certified"] for p in parts)
    real = torch.cat([p["real"] for p in parts])
    fake = torch.cat([p["fake"] for p in parts])
    assert torch.allclose(real, tg.real, rtol=0, atol=1e-12)
    assert torch.allclose(fake, tg.fake, rtol=0, atol=1e-12)


def test_two_by_32_trains_like_one_by_64(tmp_path):
    """Global-batch sampling: the parameters after a few iterations on 2 x 32
    equal those of 1 x 64 to float tolerance, for every data-parallel method
    and both add-ons (the lens network too), and the replicas stay identical."""
    _torchrun("train", tmp_path)
    _compare_with_one_process(tmp_path, "cpu", rtol=1e-4)


@pytest.mark.skipif(torch.cuda.device_count() < 2, reason="needs two CUDA devices (NCCL)")
def test_two_gpus_train_like_one(tmp_path):
    """The NCCL variant: two ranks on two GPUs against one process on one GPU
    (a looser tolerance: GPU kernels round differently run to run)."""
    _torchrun("train", tmp_path, OTGAN_DIST_DEVICE="cuda")
    _compare_with_one_process(tmp_path, "cuda", rtol=1e-3)


def _compare_with_one_process(tmp_path, device: str, rtol: float):
    for method in dist_worker.TRAIN_METHODS:
        tr = Trainer(dist_worker.train_config(method, device))
        logs = [tr.log_entry(tr.step()) for _ in range(dist_worker.TRAIN["iters"])]
        ranks = [torch.load(tmp_path / f"{method}_rank{r}.pt") for r in range(2)]
        lens = tr.addons["lens"].lens if "lens" in tr.addons else None
        for net, module in (("G", tr.G), ("D", tr.D), ("lens", lens)):
            if module is None:
                assert ranks[0][net] is None
                continue
            for name, want in module.state_dict().items():
                a, b = ranks[0][net][name], ranks[1][net][name]
                assert torch.equal(a, b), (method, net, name, "replicas differ")
                assert torch.allclose(a, want.cpu(), rtol=rtol, atol=1e-6), (method, net, name)
        # the logged exact batch W is that of the global batch
        assert ranks[0]["batch_w"] == pytest.approx([e["batch_w"] for e in logs],
                                                    rel=rtol / 10)


def test_a_killed_rank_fails_the_job_fast(tmp_path):
    proc = subprocess.Popen(_torchrun_cmd("hang", tmp_path), env=_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        pid_file = tmp_path / "pid_rank1"
        deadline = time.monotonic() + 120
        while not (pid_file.exists() and (tmp_path / "pid_rank0").exists()):
            assert proc.poll() is None, proc.stdout.read().decode()[-3000:]
            assert time.monotonic() < deadline, "workers did not start"
            time.sleep(0.2)
        time.sleep(1.0)  # both are inside the collective loop
        os.kill(int(pid_file.read_text()), signal.SIGKILL)
        t0 = time.monotonic()
        rc = proc.wait(timeout=90)
        assert rc != 0
        assert time.monotonic() - t0 < 60
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


# ------------------------------------------------ the command line, 2 ranks
TINY_RUN = ["--method", "wgan-ts", "--data", "ring", "--batch", "16", "--device", "cpu",
            "--hidden", "16", "--depth", "1", "--eval-n", "200", "--eval-every", "3",
            "--log-every", "1", "--ckpt-every", "2", "--quiet"]


def _otgan(*args, timeout=240):
    proc = subprocess.run([sys.executable, "-m", "otgan", *args], env=_env(),
                          capture_output=True, text=True, timeout=timeout)
    if proc.returncode == 0:  # a clean exit of every process, not only of the launcher
        assert not [m for m in DEATH_MARKS if m in proc.stderr], proc.stderr[-3000:]
    return proc.returncode, proc.stdout + proc.stderr


def _log(out):
    import json

    with open(os.path.join(out, "metrics.jsonl")) as fh:
        return [e for e in map(json.loads, fh) if "event" not in e]  # the log steps


def test_cli_two_processes_log_once_checkpoint_and_resume(tmp_path):
    """Two processes log each line once and write one set of files; a run
    resumes under another world size (the checkpoint holds the global
    streams), and 2 x 8 follows 1 x 16 throughout: iterations 1-4 on two
    processes then 5-6 on one, against 1-4 on one then 5-6 on two."""
    two, one = tmp_path / "two", tmp_path / "one"
    rc, text = _otgan("train", "--nproc", "2", "--iters", "4", "--out", str(two), *TINY_RUN)
    assert rc == 0, text[-3000:]
    assert text.count("report:") == 1  # rank 0 alone prints
    assert [e["iter"] for e in _log(two)] == [1, 2, 3, 4]  # every line once
    assert sorted(p.name for p in two.iterdir() if not p.name.startswith(".")) == [
        "ckpt.pt", "config.json", "config_history.jsonl", "eval.json", "metrics.jsonl",
        "report.md", "samples.png", "w_curve.png"]
    rc, text = _otgan("train", "--resume", "--iters", "6", "--out", str(two), *TINY_RUN)
    assert rc == 0, text[-3000:]
    rc, text = _otgan("train", "--iters", "4", "--out", str(one), *TINY_RUN)
    assert rc == 0, text[-3000:]
    rc, text = _otgan("train", "--nproc", "2", "--resume", "--iters", "6", "--out", str(one),
                      *TINY_RUN)
    assert rc == 0, text[-3000:]
    got, want = _log(two), _log(one)
    assert [e["iter"] for e in got] == [e["iter"] for e in want] == [1, 2, 3, 4, 5, 6]
    for a, b in zip(got, want):
        for k in ("batch_w", "critic", "loss_g"):
            assert a[k] == pytest.approx(b[k], rel=1e-4, abs=1e-6), (k, a, b)


def test_cli_nproc_errors_name_the_value(tmp_path):
    rc, text = _otgan("train", "--nproc", "0", "--iters", "2", "--out", str(tmp_path / "r"),
                      *TINY_RUN)
    assert rc == 2 and "--nproc must be >= 1, got 0" in text
    rc, text = _otgan("train", "--nproc", "2", "--iters", "2", "--batch", "15",
                      "--out", str(tmp_path / "r"), *TINY_RUN[:4], "--quiet")
    assert rc != 0 and "batch=15 is not divisible by the world size 2" in text


def test_cli_ctrl_c_stops_every_process_with_one_line_and_status_130(tmp_path):
    """SIGINT to ``otgan train --nproc 2`` (what Ctrl-C sends it): the launcher
    passes it on, every process leaves the group, rank 0 alone prints one line
    with the last checkpoint and the command that continues on two processes,
    and the exit status is 130 — no traceback from any process."""
    out = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-m", "otgan", "train", "--nproc", "2",
                             "--iters", "100000", "--out", str(out), *TINY_RUN],
                            env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        log = out / "metrics.jsonl"
        # training is under way once a few lines are logged (one per iteration)
        while not (log.exists() and len(log.read_text().splitlines()) >= 3):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "training did not start"
            time.sleep(0.2)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=90)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 130, err[-3000:]
    assert not [m for m in DEATH_MARKS if m in err], err[-3000:]
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("otgan train: interrupted; the last "
                                                   "checkpoint"), err[-3000:]
    assert f"continue with: otgan train --nproc 2 --resume --out {out}" in lines[0]
    state = torch.load(out / "ckpt.pt", weights_only=True)
    assert f"holds iteration {state['iteration']} of 100000" in lines[0]
