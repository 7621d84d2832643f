"""Peak memory and time of reading a 1,000,000 x 20 CSV: core.io.load_table vs plain pandas.read_csv.

Generates the file in /tmp (about 125 MiB: 12 float columns with 3 decimals, 4 integer columns, 4 short text
columns, seeded), then runs each measurement in a fresh interpreter and prints its peak resident memory
(``ru_maxrss``), the ratio to the file size and the wall-clock seconds:

- ``pandas.read_csv``: what a user would otherwise run (no cleaning, no notes);
- ``load_table``: the whole file, with encoding/delimiter detection and cleaning;
- ``load_table --max-rows 20000``: a seeded sample drawn while reading;
- ``compare --max-rows 20000``: what that CLI run does without SHAP (sampled read, then 5 models x 5 folds);
  its seconds are split into reading and model fitting.

Goal (issue "Nothing lost, nothing leaked"): peak RSS <= 3x the file size, capped run < 20 s.

Usage::

    python benchmarks/load_memory.py [--rows 1000000] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_MEASURE = r"""
import json, resource, sys, time
sys.path.insert(0, {root!r})
mode, path = sys.argv[1], sys.argv[2]
import numpy, pandas as pd
start = time.perf_counter()
if mode == "pandas":
    df = pd.read_csv(path)
elif mode == "load_table":
    from core.io import load_table
    df = load_table(path).frame
elif mode == "load_table_sample":
    from core.io import load_table
    df = load_table(path, max_rows=20000).frame
elif mode == "compare_cli":  # what `compare --data F --target target --max-rows 20000 --no-shap` does
    from core.io import load_table
    from core.tabular.compare import compare_models
    table = load_table(path, max_rows=20000, seed=0)
    loaded = time.perf_counter() - start
    result = compare_models(table.frame, "target", folds=5, random_state=0, max_rows=20000)
    df = table.frame
seconds = time.perf_counter() - start


def peak_bytes():
    # VmHWM: this process's own high-water mark. ru_maxrss is not used: after fork+exec Linux keeps the
    # parent's value, so a child of a big parent would report the parent's peak.
    try:
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


out = {{"seconds": seconds, "peak": peak_bytes(), "shape": list(df.shape)}}
if mode == "compare_cli":
    out["load_seconds"] = loaded
print(json.dumps(out))
"""


def generate(path: Path, rows: int) -> None:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    cols = {"id": np.arange(rows)}
    for i in range(12):
        cols[f"x{i}"] = np.round(rng.normal(500, 200, rows), 3)
    for i in range(3):
        cols[f"k{i}"] = rng.integers(0, 1000, rows)
    cols["color"] = rng.choice(["red", "green", "blue", "yellow"], rows)
    cols["city"] = rng.choice(["Tokyo", "Osaka", "Paris", "Lyon", "Seattle", "Austin"], rows)
    cols["grade"] = rng.choice(list("ABCDE"), rows)
    cols["target"] = rng.choice(["yes", "no"], rows)
    pd.DataFrame(cols).to_csv(path, index=False)


def measure(mode: str, path: Path) -> dict:
    code = _MEASURE.format(root=str(ROOT))
    out = subprocess.run([sys.executable, "-c", code, mode, str(path)], capture_output=True, text=True,
                         cwd=ROOT, timeout=900)
    if out.returncode != 0:
        raise SystemExit(f"error: {mode} failed: {out.stderr.strip().splitlines()[-1:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--keep", action="store_true", help="keep the generated file")
    args = ap.parse_args()
    path = Path(tempfile.gettempdir()) / f"crossroads_bench_{args.rows}x20.csv"
    if not path.exists():
        t = time.perf_counter()
        generate(path, args.rows)
        print(f"generated {path} in {time.perf_counter() - t:.1f} s")
    size = path.stat().st_size
    print(f"file: {args.rows:,} rows x 20 columns, {size / 2**20:,.1f} MiB; {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"{'run':<34} {'peak RSS':>10} {'x file':>7} {'seconds':>8}")
    results = {}
    for mode, label in [("pandas", "pandas.read_csv (baseline)"), ("load_table", "load_table, whole file"),
                        ("load_table_sample", "load_table, max_rows=20,000"),
                        ("compare_cli", "compare --max-rows 20000 --no-shap")]:
        r = measure(mode, path)
        results[mode] = r
        print(f"{label:<34} {r['peak'] / 2**20:>7,.0f} MiB {r['peak'] / size:>6.2f}x {r['seconds']:>8.1f}")
    cmp = results["compare_cli"]
    print(f"  of which reading the sample: {cmp['load_seconds']:.1f} s, fitting 5 models x 5 folds: "
          f"{cmp['seconds'] - cmp['load_seconds']:.1f} s")
    base, ours = results["pandas"], results["load_table"]
    print(f"load_table vs pandas.read_csv: {ours['peak'] / base['peak']:.2f}x the memory, "
          f"{ours['seconds'] / base['seconds']:.1f}x the time (load_table also detects, cleans and converts)")
    ok_mem = ours["peak"] <= 3 * size and results["load_table_sample"]["peak"] <= 3 * size
    ok_time = cmp["seconds"] < 20
    print(f"goal peak RSS <= 3x file: {'met' if ok_mem else 'NOT met'}; capped compare < 20 s: "
          f"{'met' if ok_time else 'NOT met'}")
    if not args.keep:
        path.unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main())
