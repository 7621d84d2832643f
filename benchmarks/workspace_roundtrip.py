"""Benchmark: size and seconds of saving and reopening a workspace, against re-running the work.

For telco_churn (5 models, 5 folds) and banking77 (77-class free text; linear + dummy, 3 folds, a
3,000-row sample) from ../shared/data, prints:

* the user's file size, the workspace ``.zip`` size and their ratio;
* seconds to save (:func:`core.workspace.workspace_to_bytes`), to open and check it
  (:func:`core.workspace.open_workspace`) and to rebuild the fitted models
  (:func:`core.tabular.compare.restore_comparison`: one fit per model, checked against the saved
  hold-out results), and whether the rebuild matched;
* the seconds of what a user would do without a workspace: read the file and run the comparison
  again (:func:`core.tabular.compare.compare_models`), and the ratio open+rebuild / re-run;
* the skops model file of the best model: size, save and load seconds.

Run: ``python benchmarks/workspace_roundtrip.py`` (skips a dataset that is absent). Timings are
wall clock on whatever machine runs it; dated results are in the README.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.io import load_table  # noqa: E402
from core.settings import settings  # noqa: E402
from core.tabular.compare import compare_models  # noqa: E402
from core.tabular.scoring import load_model, model_from_comparison, model_to_bytes  # noqa: E402
from core.workspace import Workspace, open_workspace, workspace_to_bytes  # noqa: E402
from core.workspace.sections import add_comparison, restore_comparison_section  # noqa: E402

DATA = settings.shared_data  # CROSSROADS_SHARED_DATA
SETS = [
    ("telco_churn/Telco-Customer-Churn.csv", "Churn", {"folds": 5}),
    ("banking77/train.csv", "category", {"folds": 3, "models": ["linear", "dummy"], "max_rows": 3000}),
]


def _mb(n: int) -> str:
    return f"{n / 2**20:.2f} MB"


def run(rel: str, target: str, options: dict) -> None:
    path = DATA / rel
    if not path.exists():
        print(f"{rel}: absent, skipped")
        return
    t0 = time.perf_counter()
    table = load_table(path)
    result = compare_models(table.frame, target, **options)
    rerun_s = time.perf_counter() - t0

    ws = Workspace()
    add_comparison(ws, table, result)
    t0 = time.perf_counter()
    data = workspace_to_bytes(ws)
    save_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    opened = open_workspace(data)
    open_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    _, _, check = restore_comparison_section(opened)
    rebuild_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    model_bytes = model_to_bytes(model_from_comparison(result))
    model_save_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    load_model(model_bytes)
    model_load_s = time.perf_counter() - t0

    size = path.stat().st_size
    print(f"{rel} ({len(table.frame):,} rows, {len(result.results)} models, {result.n_splits} folds)")
    print(f"  file {_mb(size)}; workspace {_mb(len(data))} ({len(data) / size:.2f}x the file)")
    print(f"  save {save_s:.2f} s; open and check {open_s:.2f} s; rebuild models {rebuild_s:.2f} s "
          f"(matches the saved results: {check.matches})")
    print(f"  without a workspace: read + compare again {rerun_s:.2f} s; "
          f"open + rebuild is {(open_s + rebuild_s) / rerun_s:.2f}x of that")
    print(f"  best model {result.best.label}: skops file {_mb(len(model_bytes))}, save {model_save_s:.2f} s, "
          f"load (trusted types checked) {model_load_s:.2f} s")


if __name__ == "__main__":
    for rel, target, options in SETS:
        run(rel, target, options)
