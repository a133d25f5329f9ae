"""Generate the results tables of docs/results.md from committed run summaries.

Every block of docs/results.md between ``<!-- table:NAME -->`` and
``<!-- /table -->`` is written by this script, never by hand:

* GAN results (blocks ``ring``, ``grid``, ``b256``, ``wallclock``, ``targets``
  and the ``*-seeds`` per-seed tables) come from the run summaries
  ``docs/results/<table>/<method>_seed<k>.json``: one small JSON per training
  run with the command that produced it, the run's ``config.json`` and
  ``eval.json`` and its wall time. ``collect`` writes them from finished run
  directories;
* the tuning-sweep tables (``sweeps-*``) come from the raw sweep log
  ``docs/_gan_sweeps.log``;
* ``bench-gan`` copies the table of the generated ``docs/_bench_gan.md``.

Usage::

    python benchmarks/results_tables.py collect --table ring \\
        --command "otgan compare --data ring ... --out runs/results/ring" runs/results/ring
    python benchmarks/results_tables.py write    # rewrite the blocks of docs/results.md
    python benchmarks/results_tables.py check    # exit 1 if docs/results.md is stale

``tests/test_results_tables.py`` runs ``check``'s comparison.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import shlex
import shutil
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
DOC = DOCS / "results.md"
RESULTS = DOCS / "results"
SWEEPS_LOG = DOCS / "_gan_sweeps.log"
BENCH_GAN = DOCS / "_bench_gan.md"
FIGURES = DOCS / "figures" / "gan"

METHOD_ORDER = ("wgan-ts", "wgan-gp", "wgan", "gan", "nsgan")

#: table name -> what it is (data set and budget are read from the summaries)
TABLES = {
    "ring": "ring, every method, batch 64, 3 000 iterations",
    "grid": "grid, every method, batch 64, 3 000 iterations",
    "b256-ring": "ring, WGAN-TS, batch 256, 4 000 iterations",
    "b256-grid": "grid, WGAN-TS, batch 256, 4 000 iterations",
    "ring-gan-14000": "ring, GAN, batch 64, 14 000 iterations (equal wall-clock)",
}

#: figure file (docs/figures/gan/) -> (table, method, seed, file in the run directory)
FIGURE_SOURCES = {
    "ring_wgan-ts_seed0.png": ("ring", "wgan-ts", 0, "samples.png"),
    "ring_wgan-ts_seed0_w.png": ("ring", "wgan-ts", 0, "w_curve.png"),
    "ring_gan_seed0.png": ("ring", "gan", 0, "samples.png"),
    "ring_wgan-gp_seed0.png": ("ring", "wgan-gp", 0, "samples.png"),
    "grid_wgan-ts_seed0.png": ("grid", "wgan-ts", 0, "samples.png"),
    "ring_wgan-ts_b256_seed0.png": ("b256-ring", "wgan-ts", 0, "samples.png"),
    "grid_wgan-ts_b256_seed0.png": ("b256-grid", "wgan-ts", 0, "samples.png"),
}

#: Targets of issue 4 (WGAN-TS, mean over seeds).
TARGET_HQ = 90.0
TARGET_W1_RATIO = 1.5
TARGET_RUN_S = 600.0

#: docs/_gan_sweeps.log: lines up to this number were run before the linear
#: learning-rate decay (and the OT regulariser) became defaults; later lines
#: with them (as the earlier docs/results.md describes the two blocks).
SWEEP_DECAY_FROM_LINE = 91

BLOCK_RE = re.compile(r"(<!-- table:([a-z0-9-]+) -->\n)(.*?)(<!-- /table -->)", re.S)


# ----------------------------------------------------------------- summaries
def _machine() -> dict:
    cpu = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    info = {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version()}
    try:
        import torch
        info["torch"] = torch.__version__
    except ImportError:  # pragma: no cover - torch is a dependency
        pass
    return info


def _expected_configs(command: str) -> tuple[dict, str]:
    """``(method, seed) -> TrainConfig dict`` that ``command`` (an ``otgan
    compare`` line) trains, built with the CLI's own parser."""
    from otgan.cli import _config_kwargs, _parse_seeds, build_parser
    from otgan.gan.config import TrainConfig

    argv = shlex.split(command)
    while argv and argv[0] != "compare":
        argv = argv[1:]  # drop "otgan" / ".venv/bin/otgan" / "python -m otgan"
    if not argv:
        raise SystemExit(f"not an `otgan compare` command: {command!r}")
    args = build_parser().parse_args(argv)
    out = {}
    for method in [m.strip() for m in args.methods.split(",") if m.strip()]:
        for seed in _parse_seeds(args.seeds):
            cfg = TrainConfig(**{**_config_kwargs(args), "method": method, "seed": seed})
            out[(method, seed)] = cfg
    return out, args.out


def collect(table: str, command: str, run_root: str, code: str, results: Path = RESULTS,
            figures: Path = FIGURES) -> list[Path]:
    """Write one summary per run of ``command`` (finished in ``run_root``)."""
    from otgan.gan.config import TrainConfig

    if table not in TABLES:
        raise SystemExit(f"unknown table {table!r}; known: {', '.join(TABLES)}")
    expected, out_dir = _expected_configs(command)
    if os.path.normpath(out_dir) != os.path.normpath(run_root):
        raise SystemExit(f"{run_root} is not the --out of the command ({out_dir})")
    cmp_path = os.path.join(run_root, "compare.json")
    if not os.path.isfile(cmp_path):
        raise SystemExit(f"{cmp_path} missing: the compare command has not finished")
    with open(cmp_path) as fh:
        compare = json.load(fh)
    machine = _machine()
    written = []
    dest = results / table
    dest.mkdir(parents=True, exist_ok=True)
    for (method, seed), cfg in expected.items():
        run_dir = os.path.join(run_root, method, f"seed{seed}")
        with open(os.path.join(run_dir, "config.json")) as fh:
            config = json.load(fh)
        with open(os.path.join(run_dir, "eval.json")) as fh:
            ev = json.load(fh)
        diff = TrainConfig.from_dict(config).differences(cfg)
        if diff:
            raise SystemExit(f"{run_dir}: config differs from the command: {'; '.join(diff)}")
        walls = [r["wall_s"] for r in compare.get(method, []) if r.get("w1") == ev["w1"]
                 and r.get("iter") == ev["iter"]]
        if len(walls) != 1:
            raise SystemExit(f"{run_dir}: no unique entry in {cmp_path} matches eval.json")
        summary = {"table": table, "method": method, "seed": seed, "command": command,
                   "run_dir": run_dir, "wall_s": round(walls[0], 3), "config": config,
                   "eval": ev, "machine": machine, "code": code,
                   "collected_utc": datetime.datetime.now(datetime.timezone.utc)
                   .strftime("%Y-%m-%d %H:%M")}
        path = dest / f"{method}_seed{seed}.json"
        path.write_text(json.dumps(summary, indent=1, sort_keys=True) + "\n")
        written.append(path)
    for name, (ftable, method, seed, fname) in FIGURE_SOURCES.items():
        if ftable == table:
            src = os.path.join(run_root, method, f"seed{seed}", fname)
            if os.path.isfile(src):
                figures.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(src, figures / name)
                written.append(figures / name)
    return written


def load_summaries(results: Path = RESULTS) -> dict:
    """``table -> [summary, ...]`` (sorted by method order, then seed)."""
    out = {}
    for table in TABLES:
        rows = [json.loads(p.read_text()) for p in sorted((results / table).glob("*.json"))]
        rows.sort(key=lambda s: (METHOD_ORDER.index(s["method"]), s["seed"]))
        if rows:
            out[table] = rows
    return out


# ------------------------------------------------------------------ formatting
def _mean(vals):
    return statistics.mean(vals)


def _msd(vals, fmt):
    if len(vals) == 1:
        return fmt.format(vals[0])
    return f"{fmt.format(statistics.mean(vals))} ± {fmt.format(statistics.stdev(vals))}"


def _train_s(s):
    return s["eval"]["s_per_iter"] * s["eval"]["iter"]


def _by_method(rows):
    groups: dict = {}
    for s in rows:
        groups.setdefault(s["method"], []).append(s)
    return groups


def _commands(rows) -> list[str]:
    seen = []
    for s in rows:
        if s["command"] not in seen:
            seen.append(s["command"])
    return seen


SUMMARY_HEAD = ["modes", "% high quality", "exact W1", "noise floor", "W1 / floor",
                "s / gen. iter", "train s", "run wall s"]


def _summary_cells(group) -> list[str]:
    ev = [s["eval"] for s in group]
    return [_msd([e["modes"] for e in ev], "{:.1f}") + f" / {ev[0]['n_modes']}",
            _msd([e["pct_hq"] for e in ev], "{:.1f}"),
            _msd([e["w1"] for e in ev], "{:.4f}"),
            f"{ev[0]['noise_floor']:.4f}",
            _msd([e["w1_over_floor"] for e in ev], "{:.2f}"),
            _msd([e["s_per_iter"] for e in ev], "{:.4f}"),
            _msd([_train_s(s) for s in group], "{:.0f}"),
            _msd([s["wall_s"] for s in group], "{:.0f}")]


def _label(s) -> str:
    c = s["config"]
    return f"{s['method']} (batch {c['batch']}, {c['iters']} it.)"


def _row(cells) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def _table(head, rows) -> str:
    return "\n".join([_row(head), "|" + "---|" * len(head)] + [_row(r) for r in rows])


def _code(commands) -> str:
    return "```bash\n" + "\n".join(commands) + "\n```"


def _missing(table) -> str:
    return (f"_Not re-measured: no run summaries under `docs/results/{table}/` "
            f"({TABLES[table]})._")


def block_summary(summ, tables, with_data=False) -> str:
    parts, rows = [], []
    for table in tables:
        if table not in summ:
            parts.append(_missing(table))
            continue
        parts.append(_code(_commands(summ[table])))
        note = _reproduce_note(summ[table])
        if note:
            parts.append(note)
        for method, group in _by_method(summ[table]).items():
            lead = [group[0]["config"]["data"]] if with_data else []
            rows.append(lead + [_label(group[0]), len(group)] + _summary_cells(group))
    if rows:
        head = (["data"] if with_data else []) + ["method", "seeds"] + SUMMARY_HEAD
        parts.append(_table(head, rows))
    return "\n\n".join(parts)


def _config_gaps(command: str, rows) -> dict:
    """``field -> value in the runs`` where ``command``, run with today's code,
    would train a different configuration than the recorded runs."""
    from otgan.gan.config import RUNTIME_FIELDS, TrainConfig

    expected, _ = _expected_configs(command)
    gaps: dict = {}
    for s in rows:
        cfg = expected.get((s["method"], s["seed"]))
        if cfg is None:
            gaps["(method, seed)"] = (s["method"], s["seed"])
            continue
        ran = TrainConfig.from_dict(s["config"]).to_dict(full=True)
        now = cfg.to_dict(full=True)
        for k, v in ran.items():
            if k not in RUNTIME_FIELDS and now.get(k) != v:
                gaps.setdefault(k, set()).add(v)
    return gaps


def _reproduce_note(rows) -> str:
    """How to re-run these rows with today's code, when its defaults moved on
    since they were measured (checked: the amended command must train exactly
    the recorded configurations)."""
    notes = []
    for command in _commands(rows):
        mine = [s for s in rows if s["command"] == command]
        gaps = _config_gaps(command, mine)
        if not gaps:
            continue
        fields = ", ".join(f"`{k}`" for k in gaps)
        single = all(isinstance(v, set) and len(v) == 1 for v in gaps.values())
        amended = command
        if single:
            amended += "".join(f" --{k.replace('_', '-')} {next(iter(v))}"
                               for k, v in gaps.items())
        if single and not _config_gaps(amended, mine):
            notes.append(f"Today's defaults differ from these runs in {fields}; with "
                         f"today's code this command trains exactly these runs' "
                         f"configurations (into a fresh `--out`):\n\n" + _code([amended]))
        else:
            notes.append(f"**Today's defaults differ from these runs in {fields}**, and "
                         f"no amended command was verified to reproduce them.")
    return "\n\n".join(notes)


def block_seeds(summ, tables) -> str:
    rows = []
    for table in tables:
        for s in summ.get(table, []):
            e = s["eval"]
            rows.append([s["config"]["data"], _label(s), s["seed"], f"{e['modes']} / {e['n_modes']}",
                         f"{e['pct_hq']:.1f}", f"{e['w1']:.4f}", f"{e['w1_over_floor']:.2f}",
                         "yes" if e["w1_certified"] else "**no**", f"{_train_s(s):.0f}",
                         f"{s['wall_s']:.0f}", f"`{s['run_dir']}`"])
    if not rows:
        return "_No run summaries._"
    return _table(["data", "method", "seed", "modes", "% HQ", "exact W1", "W1 / floor",
                   "certified", "train s", "run wall s", "run directory"], rows)


def _ts(summ, table):
    return _by_method(summ.get(table, [])).get("wgan-ts")


def block_wallclock(summ) -> str:
    ring = _by_method(summ.get("ring", []))
    ts, gan = ring.get("wgan-ts"), ring.get("gan")
    parts = []
    if ts and gan:
        r = _mean([s["eval"]["s_per_iter"] for s in ts]) / _mean(
            [s["eval"]["s_per_iter"] for s in gan])
        iters = ts[0]["config"]["iters"]
        parts.append(f"In the ring table one WGAN-TS generator iteration took {r:.1f}× "
                     f"the time of a GAN iteration (mean `s / gen. iter`), so the "
                     f"wall-clock of {iters} WGAN-TS iterations buys about "
                     f"{round(iters * r, -2):.0f} GAN iterations.")
    if "ring-gan-14000" not in summ:
        parts.append(_missing("ring-gan-14000"))
        return "\n\n".join(parts)
    parts.append(_code(_commands(summ["ring-gan-14000"])))
    note = _reproduce_note(summ["ring-gan-14000"])
    if note:
        parts.append(note)
    rows = []
    g14 = summ["ring-gan-14000"]
    rows.append([_label(g14[0]), len(g14)] + _summary_cells(g14))
    if ts:
        rows.append([_label(ts[0]) + ", ring table", len(ts)] + _summary_cells(ts))
    parts.append(_table(["method", "seeds"] + SUMMARY_HEAD, rows))
    return "\n\n".join(parts)


def _fmt_target(value, ok) -> str:
    return f"{value} (**{'met' if ok else 'missed'}**)"


def block_targets(summ) -> str:
    cols = {"ring": ("ring", "b256-ring"), "grid": ("grid", "b256-grid")}
    head = ["target (WGAN-TS, mean over seeds)", "ring", "grid"]

    def per_data(fn):
        cells = []
        for data, tables in cols.items():
            parts = []
            for table in tables:
                g = _ts(summ, table)
                if not g:
                    parts.append(f"`{table}`: not measured")
                    continue
                c = g[0]["config"]
                parts.append(f"batch {c['batch']}, {c['iters']} it.: {fn(g)}")
            cells.append("; ".join(parts))
        return cells

    def modes(g):
        ok = all(s["eval"]["modes"] == s["eval"]["n_modes"] for s in g)
        return _fmt_target(f"{_mean([s['eval']['modes'] for s in g]):.1f} / "
                           f"{g[0]['eval']['n_modes']}", ok)

    def hq(g):
        v = _mean([s["eval"]["pct_hq"] for s in g])
        return _fmt_target(f"{v:.1f} %", v >= TARGET_HQ)

    def w1(g):
        v = _mean([s["eval"]["w1_over_floor"] for s in g])
        return _fmt_target(f"{v:.2f} ×", v <= TARGET_W1_RATIO)

    def run_time(g):
        v = max(s["wall_s"] for s in g)
        return _fmt_target(f"longest run {v:.0f} s", v <= TARGET_RUN_S)

    rows = [["all modes (every seed)"] + per_data(modes),
            [f"≥ {TARGET_HQ:.0f} % high quality"] + per_data(hq),
            [f"W1 ≤ {TARGET_W1_RATIO} × noise floor"] + per_data(w1),
            ["run ≤ 10 min on 2 cores (wall time incl. evaluation)"] + per_data(run_time)]
    rows.append(["no worse than the baselines at equal iterations (HQ and W1 / floor)"]
                + [_vs_baselines(summ.get(d, [])) for d in ("ring", "grid")])
    rows.append(["no worse than the baselines at equal wall-clock"]
                + [_vs_gan_wallclock(summ), "not measured"])
    return _table(head, rows)


def _vs_baselines(rows) -> str:
    groups = _by_method(rows)
    if "wgan-ts" not in groups or len(groups) < 2:
        return "not measured"
    mean = {m: (_mean([s["eval"]["pct_hq"] for s in g]),
                _mean([s["eval"]["w1_over_floor"] for s in g])) for m, g in groups.items()}
    ts = mean.pop("wgan-ts")
    worse = [m for m, (h, w) in mean.items() if h > ts[0] or w < ts[1]]
    if not worse:
        return _fmt_target("best HQ and W1 of " + ", ".join(groups), True)
    return _fmt_target("beaten by " + ", ".join(
        f"{m} ({mean[m][0]:.1f} % HQ, {mean[m][1]:.2f} × vs {ts[0]:.1f} %, {ts[1]:.2f} ×)"
        for m in worse), False)


def _vs_gan_wallclock(summ) -> str:
    ts, g = _ts(summ, "ring"), summ.get("ring-gan-14000")
    if not ts or not g:
        return "not measured"
    h_ts, w_ts = (_mean([s["eval"]["pct_hq"] for s in ts]),
                  _mean([s["eval"]["w1_over_floor"] for s in ts]))
    h_g, w_g = (_mean([s["eval"]["pct_hq"] for s in g]),
                _mean([s["eval"]["w1_over_floor"] for s in g]))
    t_ts, t_g = _mean([_train_s(s) for s in ts]), _mean([_train_s(s) for s in g])
    ok = h_ts >= h_g and w_ts <= w_g
    return _fmt_target(
        f"GAN {g[0]['config']['iters']} it. ({t_g:.0f} s of training): {h_g:.1f} % HQ, "
        f"{w_g:.2f} ×; WGAN-TS {ts[0]['config']['iters']} it. ({t_ts:.0f} s): "
        f"{h_ts:.1f} % HQ, {w_ts:.2f} ×", ok)


# --------------------------------------------------------------------- sweeps
SWEEP_RE = re.compile(r"^(\{.*\}) (\d+) modes=(\d+) hq=([\d.]+) w1=([\d.]+) floor=([\d.]+) "
                      r"s/it=([\d.]+) wall=(\d+)$")


def sweep_runs(log: Path = SWEEPS_LOG) -> list[dict]:
    """Final line of every run in the sweep log (its iteration == its ``iters``)."""
    runs = []
    for lineno, line in enumerate(log.read_text().splitlines(), 1):
        m = SWEEP_RE.match(line.strip())
        if not m:
            raise ValueError(f"{log}:{lineno}: unexpected line {line!r}")
        settings = json.loads(m[1])
        if int(m[2]) == settings["iters"]:
            runs.append({"line": lineno, "settings": settings, "modes": int(m[3]),
                         "hq": m[4], "w1": m[5], "floor": m[6]})
    return runs


def _settings(s) -> str:
    rest = {k: v for k, v in s.items() if k not in ("method", "iters", "data")}
    return f"{s['method']}" + ("".join(f", {k} {v:g}" if isinstance(v, float) else
                                       f", {k} {v}" for k, v in rest.items()))


def block_sweeps(which, log: Path = SWEEPS_LOG) -> str:
    rows = []
    for r in sweep_runs(log):
        decay = r["line"] >= SWEEP_DECAY_FROM_LINE
        data = r["settings"].get("data", "ring")
        if which == "const" and decay:
            continue
        if which == "decay-ring" and (not decay or data != "ring"):
            continue
        if which == "decay-grid" and (not decay or data != "grid"):
            continue
        rows.append([r["line"], _settings(r["settings"]), r["settings"]["iters"], r["modes"],
                     r["hq"], r["w1"], r["floor"]])
    return _table(["log line", "settings as logged", "iters", "modes", "HQ %", "W1 (1 000)",
                   "floor (1 000)"], rows)


def block_bench_gan(path: Path = BENCH_GAN) -> str:
    lines = path.read_text().rstrip("\n").splitlines()
    first = next(i for i, ln in enumerate(lines) if ln.startswith("|"))
    return "\n".join(lines[first:])


def block_machine(summ) -> str:
    rows = []
    for table, runs in summ.items():
        codes = sorted({s["code"] for s in runs})
        machines = sorted({f"{m['cpu']}, {m['cores']} cores, Python {m['python']}, "
                           f"torch {m.get('torch', '?')}" for m in (s["machine"] for s in runs)})
        when = sorted(s["collected_utc"] for s in runs)[-1]
        rows.append([f"`{table}`", len(runs), "; ".join(codes), "; ".join(machines), when])
    if not rows:
        return "_No run summaries._"
    return _table(["table", "runs", "code", "machine", "collected (UTC)"], rows)


# ---------------------------------------------------------------------- render
def render_block(name: str, summ: dict, docs: Path = DOCS) -> str:
    if name in ("ring", "grid"):
        return block_summary(summ, [name])
    if name in ("ring-seeds", "grid-seeds"):
        return block_seeds(summ, [name[:-6]])
    if name == "b256":
        return block_summary(summ, ["b256-ring", "b256-grid"], with_data=True)
    if name == "b256-seeds":
        return block_seeds(summ, ["b256-ring", "b256-grid"])
    if name == "wallclock":
        return block_wallclock(summ)
    if name == "wallclock-seeds":
        return block_seeds(summ, ["ring-gan-14000"])
    if name == "targets":
        return block_targets(summ)
    if name.startswith("sweeps-"):
        return block_sweeps(name[len("sweeps-"):], docs / SWEEPS_LOG.name)
    if name == "machine":
        return block_machine(summ)
    if name == "bench-gan":
        return block_bench_gan(docs / BENCH_GAN.name)
    raise ValueError(f"unknown table block {name!r}")


def render(text: str, docs: Path = DOCS) -> str:
    """``text`` with every ``<!-- table:NAME -->`` block regenerated."""
    summ = load_summaries(docs / RESULTS.name)

    def sub(m):
        return m[1] + render_block(m[2], summ, docs) + "\n" + m[4]

    return BLOCK_RE.sub(sub, text)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("collect", help="write the run summaries of one finished compare run")
    c.add_argument("--table", required=True, choices=list(TABLES))
    c.add_argument("--command", required=True, help="the otgan compare command line")
    c.add_argument("--code", required=True,
                   help="the code the runs used, e.g. 'commit abc1234 (git archive export)'")
    c.add_argument("run_root", help="the command's --out directory")
    for name in ("write", "check"):
        p = sub.add_parser(name)
        p.add_argument("--docs", default=str(DOCS), help="docs directory (default docs/)")
    args = ap.parse_args(argv)
    if args.cmd == "collect":
        for p in collect(args.table, args.command, args.run_root, args.code):
            print("wrote", p.relative_to(ROOT) if p.is_relative_to(ROOT) else p)
        return 0
    docs = Path(args.docs)
    doc = docs / DOC.name
    old = doc.read_text()
    new = render(old, docs)
    if args.cmd == "check":
        if new != old:
            print(f"{doc} is out of date: run python benchmarks/results_tables.py write",
                  file=sys.stderr)
            return 1
        print(f"{doc} is in sync with {docs / RESULTS.name}/")
        return 0
    if new != old:
        tmp = doc.with_suffix(".md.tmp")
        tmp.write_text(new)
        os.replace(tmp, doc)
        print("wrote", doc)
    else:
        print(doc, "unchanged")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main())
