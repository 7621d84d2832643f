"""SHAP cost per explained row, per explainer, on telco_churn, against the time budget.

For each model of the app's registry (fitted on telco_churn with the app's own
loading, schema and preprocessing), this measures on this machine:

* the explainer chosen by :func:`core.tabular.explain.explain` and its units;
* seconds per explained row (ms/row), measured on a fixed number of rows with no budget;
* how many rows fit in the default time budget (20 s) and the ratio
  "explaining all 7,043 rows / budget" (> 1 means the budget forces sampling);
* one default call (``max_explain_rows=300``, ``time_budget_s=20``): rows explained,
  wall seconds and the ratio seconds / budget (<= 1 means the budget was kept);
* for reference, SHAP's PermutationExplainer on the same gradient boosting model
  (the fallback for models that neither LinearExplainer nor TreeExplainer supports),
  including its one-off numba compile time.

Run:  python benchmarks/shap_budget.py [--data ../shared/data] [--budget 20]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from core.io import load_table  # noqa: E402
from core.settings import settings  # noqa: E402
from core.tabular.explain import explain  # noqa: E402
from core.tabular.models import MODELS, make_estimator  # noqa: E402
from core.tabular.preprocess import build_preprocessor  # noqa: E402
from core.tabular.schema import infer_schema, prepare_xy  # noqa: E402

#: rows timed without a budget, per model key (the random forest is ~100x slower per row).
TIMED_ROWS = {"linear": 300, "tree": 300, "forest": 40, "hgb": 300, "dummy": 300}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(settings.shared_data))
    ap.add_argument("--budget", type=float, default=20.0, help="time budget in seconds (default 20)")
    ap.add_argument("--no-permutation", action="store_true", help="skip the PermutationExplainer reference")
    args = ap.parse_args()
    path = Path(args.data) / "telco_churn" / "Telco-Customer-Churn.csv"
    if not path.exists():
        print(f"error: {path} not found (give --data or set CROSSROADS_SHARED_DATA)", file=sys.stderr)
        return 2
    warnings.simplefilter("ignore")
    from sklearn.pipeline import Pipeline

    table = load_table(str(path))
    schema = infer_schema(table.frame, "Churn")
    X, y = prepare_xy(table.frame, schema)
    print(f"telco_churn: {len(X):,} rows, {X.shape[1]} feature columns, task {schema.task}; "
          f"{os.cpu_count()} CPUs; budget {args.budget:g} s")
    t = time.perf_counter()
    import shap  # noqa: F401 - import time is paid once per process, shown separately
    print(f"import shap: {time.perf_counter() - t:.2f} s (once per process)\n")

    head = (f"{'model':<26}{'explainer':<22}{'units':<13}{'fit s':>7}{'ms/row':>9}{'rows in budget':>16}"
            f"{'all rows / budget':>19}{'default call':>22}{'s / budget':>12}")
    print(head)
    print("-" * len(head))
    hgb_pipe = None
    for key, spec in MODELS.items():
        if not spec.supports(schema.task):
            continue
        pipe = Pipeline([("preprocess", build_preprocessor(schema, X, scale=spec.needs_scaling)),
                         ("model", make_estimator(key, schema.task))])
        t = time.perf_counter()
        pipe.fit(X, y)
        fit_s = time.perf_counter() - t
        if key == "hgb":
            hgb_pipe = pipe
        timed = explain(pipe, X, task=schema.task, max_explain_rows=TIMED_ROWS.get(key, 100),
                        time_budget_s=1e9, group_onehot=True)
        spr = timed.seconds_per_row
        fit_rows = args.budget / spr if spr > 0 else float("inf")
        all_ratio = len(X) * spr / args.budget
        default = explain(pipe, X, task=schema.task, time_budget_s=args.budget, group_onehot=True)
        rows_txt = f"{min(fit_rows, len(X)):,.0f}" if np.isfinite(fit_rows) else "all"
        call = f"{default.n_explained} rows {default.seconds:.2f} s"
        name = timed.explainer_name if timed.explainer_name.endswith("Explainer") else "none (constant)"
        print(f"{spec.label[:25]:<26}{name:<22}{timed.output_units:<13}{fit_s:>7.2f}{spr * 1000:>9.3f}"
              f"{rows_txt:>16}{all_ratio:>19.3f}{call:>22}{default.seconds / args.budget:>12.3f}")
        if default.budget_limited:
            print(f"{'':<26}caption: {default.caption()}")

    if hgb_pipe is not None and not args.no_permutation:
        import shap

        Xt = hgb_pipe[:-1].transform(X)
        model = hgb_pipe[-1]
        rng = np.random.default_rng(0)
        bg = Xt[rng.choice(len(Xt), 100, replace=False)]
        rows = Xt[rng.choice(len(Xt), 4, replace=False)]
        pe = shap.PermutationExplainer(model.predict_proba, shap.maskers.Independent(bg, max_samples=100), seed=0)
        max_evals = max(500, 2 * Xt.shape[1] + 1)
        t = time.perf_counter()
        pe(rows[:1], max_evals=max_evals, silent=True)
        first = time.perf_counter() - t
        t = time.perf_counter()
        pe(rows[1:], max_evals=max_evals, silent=True)
        spr = (time.perf_counter() - t) / 3
        print(f"\nreference: PermutationExplainer on the gradient boosting model ({Xt.shape[1]} features, "
              f"100 background rows, max_evals={max_evals}):")
        print(f"  first row {first:.2f} s (includes SHAP's one-off numba compile), then {spr * 1000:.0f} ms/row; "
              f"{args.budget / spr:,.0f} rows fit in the budget; all rows / budget = {len(X) * spr / args.budget:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
