"""Record trajectories of the trainer *before* the method-registry refactor.

Run once, on commit 95534a0 (the last trainer without otgan.gan.methods):

    .venv/bin/python benchmarks/record_gan_legacy.py tests/gan/data

It wrote legacy_trajectories.json and legacy_ckpt_wgan-ts.pt, which
tests/gan/training/test_legacy.py compares the current code with. Do not re-run it on
later code: the WGAN-TS cases would then record the new default
gen_noise="same" instead of the old behaviour (fresh noise).
"""
import hashlib, json, platform, sys, os
import numpy as np, torch
torch.set_num_threads(1)
from otgan.gan import TrainConfig, Trainer

TINY = dict(hidden=16, depth=1, batch=16, eval_n=200, log_every=1)
CASES = {
    "wgan-ts": dict(method="wgan-ts"),
    "wgan-ts-noreg-nc2": dict(method="wgan-ts", ot_reg=0.0, n_critic=2),
    "wgan-ts-power-l2": dict(method="wgan-ts", scaling="power", metric="l2", lr_decay="none"),
    "wgan-gp": dict(method="wgan-gp"),
    "wgan": dict(method="wgan"),
    "gan": dict(method="gan"),
    "nsgan": dict(method="nsgan", n_critic=2),
    "wgan-ts-digits": dict(method="wgan-ts", data="digits", batch=8),
    "wgan-gp-digits": dict(method="wgan-gp", data="digits", batch=8, n_critic=2),
}
ITERS = 4

def hexf(v): return float(v).hex()

def digest(mod):
    h = hashlib.sha256()
    for k, t in mod.state_dict().items():
        h.update(k.encode()); h.update(t.detach().contiguous().view(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()

# the CPU's vector ISA is part of the fingerprint: the same "model name" (e.g.
# "AMD EPYC") covers CPUs with and without AVX-512, whose kernels round
# differently in the last bits
out = {"fingerprint": {"torch": torch.__version__, "numpy": np.__version__,
                       "machine": platform.machine(), "python": platform.python_version(),
                       "cpu_capability": torch.backends.cpu.get_cpu_capability()},
       "iters": ITERS, "tiny": TINY, "cases": {}}
try:
    out["fingerprint"]["cpu"] = [l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")][0]
except Exception:
    pass
for name, kw in CASES.items():
    cfg = TrainConfig(device="cpu", iters=ITERS, **{**TINY, **kw})
    tr = Trainer(cfg)
    entries = []
    for _ in range(ITERS):
        entries.append({k: hexf(v) for k, v in tr.log_entry(tr.step()).items() if k != "seconds"})
    out["cases"][name] = {"config": kw, "resolved": cfg.to_dict(), "entries": entries,
                          "sample": [hexf(v) for v in tr.sample(4).reshape(-1)],
                          "G": digest(tr.G), "D": digest(tr.D)}
    print(name, entries[-1])

# old defaults table: resolved defaults of every method on ring and on digits
defaults = {}
for m in ("wgan-ts", "wgan-gp", "wgan", "gan", "nsgan"):
    for data in ("ring", "digits"):
        c = TrainConfig(method=m, data=data)
        defaults[f"{m}/{data}"] = dict(c.to_dict(), optimizer=c.optimizer)
out["defaults"] = defaults

# a checkpoint written by the old code, and the old continuation after it
cfg = TrainConfig(method="wgan-ts", device="cpu", iters=6, **TINY)
tr = Trainer(cfg)
for _ in range(3):
    tr.history.append(tr.log_entry(tr.step()))
path = os.path.join(sys.argv[1], "legacy_ckpt_wgan-ts.pt")
tr.save_checkpoint(path)
cont = [{k: hexf(v) for k, v in tr.log_entry(tr.step()).items() if k != "seconds"} for _ in range(3)]
out["checkpoint"] = {"file": "legacy_ckpt_wgan-ts.pt", "config": cfg.to_dict(),
                     "sha256": torch.load(path, weights_only=True)["sha256"],
                     "continuation": cont, "G": digest(tr.G), "D": digest(tr.D)}
with open(os.path.join(sys.argv[1], "legacy_trajectories.json"), "w") as fh:
    json.dump(out, fh, indent=1, sort_keys=True)
    fh.write("\n")
