"""One-seed xICFG sweeps behind the defaults table of docs/gan.md ("xICFG").

    python benchmarks/xicfg_sweep.py DATA ITERS ETA,LR,T [ETA,LR,T ...]

Trains ``--method xicfg`` on DATA for ITERS iterations per setting (one torch
thread), prints the log every 25 iterations and a final ``RESULT`` line with
the exact W1 / floor on 1 000 samples. The raw output of the runs that the
table quotes is ``docs/_xicfg_sweeps.log``.
"""
import json
import sys
import time

import torch

torch.set_num_threads(1)
from otgan.gan import TrainConfig, Trainer
data, iters = sys.argv[1], int(sys.argv[2])
for spec in sys.argv[3:]:
    eta, lr, T = spec.split(",")
    eta, lr, T = float(eta), float(lr), int(T)
    cfg = TrainConfig(method="xicfg", data=data, iters=iters, device="cpu", xicfg_eta=eta,
                      lr_g=lr, lr_d=lr, eval_every=10**6, xicfg_t=T)
    tr = Trainer(cfg)
    t0 = time.time()
    for i in range(iters):
        s = tr.step()
        if (i + 1) % 25 == 0:
            e = tr.log_entry(s)
            print(spec, i + 1, round(time.time() - t0), {k: round(v, 3) for k, v in e.items() if k in ("batch_w", "critic", "d_rise", "move", "loss_g")}, flush=True)
    ev = tr.evaluate(1000)
    keep = {k: round(v, 3) for k, v in ev.items() if k in ("w1", "w1_over_floor", "modes", "pct_hq", "log_condition_number_mean", "s_per_iter", "classes_covered")}
    print("RESULT", json.dumps(dict(data=data, eta=eta, lr=lr, T=T, wall=round(time.time() - t0), **keep)), flush=True)
