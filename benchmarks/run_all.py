"""Run every benchmark script and assemble docs/benchmarks.md.

Run:  make bench   (or .venv/bin/python benchmarks/run_all.py [--quick] [--only NAME ...])
Each script writes its own section to docs/_bench_<name>.md; this file joins
them. Run it on an otherwise idle machine: the targets are relative speeds
measured side by side in one run.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
DOCS = HERE.parent / "docs"
SCRIPTS = ["lp", "kernels", "fast", "transport", "onedim", "gan"]
#: sections written by scripts that need arguments or a second checkout; they
#: are run on their own (commands in each section) and only assembled here
EXTRA_SECTIONS = [
    ("_bench_compat.md", "bench_compat.py", "POT drop-in: otgan.compat vs POT"),
    ("_bench_startup.md", "bench_startup.py", "Start-up of the command line"),
    ("_scale_sweep.md", "scale_sweep.py", "Scale sweep: certified wrong answers"),
    ("_bench_ab.md", "bench_ab.py", "This checkout against an earlier commit (regression check)"),
    ("_bench_distributed.md", "bench_distributed.py",
     "Distributed training: the global LP and scaling"),
    ("_bench_multiscale.md", "bench_multiscale.py", None),
    ("_bench_auto_grid.md", "bench_auto_grid.py", None),
    ("_bench_gan_step_cpu.md", "bench_gan_step.py", None),
]
#: (a title of None: the section's file carries its own, as
#: ``_common.write_table`` writes it)


def assemble() -> Path:
    parts = ["# Benchmarks\n",
             "Speed targets live here, not in timed tests. Each section was produced by "
             "the named script (`benchmarks/bench_<name>.py`, one command each, or all "
             "of them with `make bench`) on the machine it names.\n"]
    for name in SCRIPTS:
        section = DOCS / f"_bench_{name}.md"
        if section.exists():
            parts.append(f"\n<!-- from benchmarks/bench_{name}.py -->\n")
            parts.append(section.read_text())
    for file, script, title in EXTRA_SECTIONS:
        section = DOCS / file
        if section.exists():
            parts.append(f"\n<!-- from benchmarks/{script} -->\n"
                         + (f"\n## {title}\n" if title else ""))
            parts.append(section.read_text())
    out = DOCS / "benchmarks.md"
    tmp = out.with_suffix(".md.tmp")
    tmp.write_text("\n".join(parts))
    tmp.replace(out)
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", nargs="*", choices=SCRIPTS)
    parser.add_argument("--assemble-only", action="store_true")
    args = parser.parse_args(argv)
    if not args.assemble_only:
        for name in args.only or SCRIPTS:
            script = HERE / f"bench_{name}.py"
            if not script.exists():
                print(f"skipping {name}: {script.name} not found")
                continue
            cmd = [sys.executable, str(script)] + (["--quick"] if args.quick else [])
            print("$", " ".join(cmd), flush=True)
            subprocess.run(cmd, check=True, cwd=HERE)
    print("wrote", assemble())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
