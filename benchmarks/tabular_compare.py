"""Benchmark: seconds of the Data & Models comparison vs a bare scikit-learn cross-validation.

For telco_churn and california_housing (from ../shared/data), prints:
* the wall-clock seconds of ``core.tabular.compare.compare_models`` (5 models, 5 folds,
  plus the hold-out fit of each model), and of ``python -m core compare`` end to end
  (loading, comparison, SHAP of the best model) as a subprocess;
* the seconds of a bare baseline: one ``cross_validate`` (5-fold) per default model on the same
  preprocessed matrix, with no per-fold preprocessing, no hold-out and no extra metrics;
* the ratio between them, and the 60 s target for the CLI on telco_churn.

The bare baseline keeps scikit-learn's default OpenMP threads for HistGradientBoosting
(all cores), while the comparison pins it to 1 thread (``compare.OPENMP_THREADS``): on a
shared, loaded 2-core machine spinning OpenMP threads make the bare run *slower*
(measured 2026-11-30 at load average ~8: telco 49.6 s ours vs 101.1 s bare, ratio 0.49;
california 44.1 s vs 55.8 s, ratio 0.79; CLI end to end 30.4 s on telco, 51% of 60 s).

Run: ``python benchmarks/tabular_compare.py`` (skips a dataset that is absent).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sklearn.model_selection import cross_validate  # noqa: E402

from core.io import load_table  # noqa: E402
from core.settings import settings  # noqa: E402
from core.tabular.compare import compare_models  # noqa: E402
from core.tabular.models import available_models  # noqa: E402
from core.tabular.preprocess import build_preprocessor  # noqa: E402
from core.tabular.schema import infer_schema, prepare_xy  # noqa: E402

DATA = settings.shared_data
SETS = [("telco_churn/Telco-Customer-Churn.csv", "Churn"),
        ("california_housing/housing.csv", "median_house_value")]


def bare_seconds(df, target) -> float:
    schema = infer_schema(df, target)
    X, y = prepare_xy(df, schema)
    Z = build_preprocessor(schema, X, scale=True).fit_transform(X)
    t0 = time.perf_counter()
    for spec in available_models(schema.task):
        cross_validate(spec.build(schema.task), Z, y, cv=5)
    return time.perf_counter() - t0


def main() -> int:
    print(f"cores: {os.cpu_count()}, load average: {os.getloadavg()[0]:.1f}")
    for rel, target in SETS:
        path = DATA / rel
        if not path.exists():
            print(f"{rel}: skipped (not found under {DATA})")
            continue
        df = load_table(path).frame
        t0 = time.perf_counter()
        res = compare_models(df, target, folds=5)
        ours = time.perf_counter() - t0
        bare = bare_seconds(df, target)
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "core", "compare", "--data", str(path), "--target", target],
                       cwd=ROOT, check=True, capture_output=True)
        cli = time.perf_counter() - t0
        best = res.best
        print(f"{rel}: {len(df):,} rows; best {best.label} {res.primary_metric}="
              f"{best.metrics[res.primary_metric]['mean']:.3f}")
        print(f"  compare_models (5 models x 5 folds + hold-out): {ours:.1f} s")
        print(f"  bare cross_validate (5 models x 5 folds, pre-transformed): {bare:.1f} s; ratio {ours / bare:.2f}")
        print(f"  CLI end to end (load + compare + SHAP): {cli:.1f} s"
              + (f"; {cli / 60:.0%} of the 60 s target" if "telco" in rel else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
