"""``python -m core compare``: the Data & Models comparison without the UI.

Examples::

    python -m core compare --data ../shared/data/titanic/train.csv --target Survived --json out.json
    python -m core compare --data telco.csv --target Churn --exclude customerID \
        --save-model churn.skops --workspace churn.zip
    python -m core predict --model churn.skops --data new_customers.csv --out predictions.csv

``compare`` prints the column table summary, notices and the leaderboard; ``--json``
writes the schema described in :func:`core.tabular.compare.result_to_json`, including
``shap.top_features`` of the best model; ``--save-model`` writes the best (or
``--model-key``) model as a skops file (:mod:`core.tabular.scoring`); ``--workspace``
writes a workspace the app opens (:mod:`core.workspace`). ``predict`` scores a table
with a saved model and writes the predictions (and class probabilities) as a
formula-safe CSV. Bad input: exit status 2 and one ``error: ...`` line (handled by
:mod:`core.cli`).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from core.errors import ConfigError
from core.export import check_outputs, to_json_bytes, write_atomic
from core.io import load_table
from core.numbers import format_count, format_mean_std, format_seconds, format_value
from core.settings import settings
from core.tabular.compare import (
    DEFAULT_FOLDS,
    METRICS,
    PRIMARY_METRIC,
    compare_models,
    explain_model,
    result_to_json,
    shap_summary,
)
from core.tabular.models import MODELS


def register(subparsers) -> None:
    """Add the ``compare`` sub-command to ``subparsers`` (an argparse sub-parsers action)."""
    p = subparsers.add_parser(
        "compare", help="compare classic ML models on a table (cross-validation + SHAP)",
        description="Compare linear, tree, random forest, gradient boosting and a dummy baseline on a table "
                    "with cross-validation; print the leaderboard; explain the best model with SHAP.",
    )
    p.add_argument("--data", required=True, metavar="PATH", help="CSV/TSV/TXT, Excel, Parquet or JSON Lines file")
    p.add_argument("--target", required=True, metavar="COL", help="the column to predict")
    p.add_argument("--sheet", metavar="NAME", help="Excel sheet (default: the first)")
    p.add_argument("--no-header", action="store_true", help="the first row is data; columns are named 1, 2, ...")
    p.add_argument("--column-names", nargs="+", metavar="NAME", help="names for the columns (headerless files)")
    p.add_argument("--na-values", nargs="+", default=[], metavar="V", help="extra missing-value markers, e.g. -200")
    p.add_argument("--task", choices=["auto", "classification", "regression"], default="auto")
    p.add_argument("--folds", type=int, default=DEFAULT_FOLDS, metavar="K", help=f"folds (default {DEFAULT_FOLDS})")
    p.add_argument("--models", nargs="+", metavar="KEY", choices=list(MODELS),
                   help=f"models to compare (default all): {', '.join(MODELS)}")
    p.add_argument("--max-rows", type=int, metavar="N", help="use a random sample of N rows (large tables)")
    p.add_argument("--no-shap", action="store_true", help="skip the SHAP explanation of the best model")
    p.add_argument("--shap-rows", type=int, default=200, metavar="N", help="rows explained by SHAP at most")
    p.add_argument("--json", metavar="OUT", help="write the full result as JSON to this file")
    p.add_argument("--seed", type=_seed, default=0, help="random seed for splits and models (0 to 2**32-1)")
    p.add_argument("--exclude", nargs="+", default=[], metavar="COL",
                   help="columns to leave out of the features (e.g. one that leaks the target)")
    p.add_argument("--save-model", metavar="OUT.skops",
                   help="save the best model (or --model-key) as a skops file for `predict`")
    p.add_argument("--model-key", metavar="KEY", choices=list(MODELS),
                   help=f"the model --save-model saves (default: the best): {', '.join(MODELS)}")
    p.add_argument("--workspace", metavar="OUT.zip", help="save the table and comparison as a workspace the app "
                                                           "opens ('Open workspace')")
    p.set_defaults(func=run)

    q = subparsers.add_parser(
        "predict", help="score a table with a model saved by compare --save-model (or the page's Download model)",
        description="Predict every row of a table with a saved model; write the predictions (and the class "
                    "probabilities for classification) as CSV. Columns the model does not use are ignored; a "
                    "missing column is an error that names it.",
    )
    q.add_argument("--model", required=True, metavar="PATH", help="a .skops model saved by Crossroads")
    q.add_argument("--data", required=True, metavar="PATH", help="CSV/TSV/TXT, Excel, Parquet or JSON Lines file")
    q.add_argument("--out", required=True, metavar="OUT.csv", help="where to write the predictions (CSV)")
    q.add_argument("--sheet", metavar="NAME", help="Excel sheet (default: the first)")
    q.add_argument("--na-values", nargs="+", default=[], metavar="V", help="extra missing-value markers")
    q.set_defaults(func=run_predict)


def _seed(text: str) -> int:
    """argparse type of ``--seed``: a whole number NumPy and scikit-learn accept (0 to 2**32 - 1)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--seed must be a whole number, not {text!r}") from None
    if not 0 <= value < 2**32:
        raise argparse.ArgumentTypeError(f"--seed must be between 0 and {2**32 - 1:,} (2**32 - 1), not {value:,}")
    return value


def format_leaderboard(result) -> str:
    """The leaderboard as aligned text: one row per model, ``mean ± std`` per metric, seconds per fold.

    Numbers follow :mod:`core.numbers` (the page and the charts use the same rules).
    """
    metrics = METRICS[result.task]
    header = ["model"] + [METRICS[result.task][m][0] for m in metrics] + ["fit s", "predict s"]
    rows = [header]
    for r in result.results:
        rows.append([r.label] + [format_mean_std(r.metrics[m]["mean"], r.metrics[m]["std"]) for m in metrics]
                    + [format_seconds(r.fit_seconds), format_seconds(r.predict_seconds)])
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths)))
             for row in rows]
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)


def _progress_line(r, done: int, total: int, elapsed: float) -> str:
    """One model's row as it finishes: ``[2/5 models, 3.1 s] Decision tree: Balanced accuracy 0.703 ± 0.012``."""
    name = METRICS[r.task][PRIMARY_METRIC[r.task]][0]
    return (f"  [{done}/{total} models, {format_seconds(elapsed, unit=True)}] {r.label}: {name} "
            f"{format_mean_std(r.primary['mean'], r.primary['std'])}")


def run(args: argparse.Namespace) -> int:
    """Run ``compare``; returns 0. Errors propagate as :class:`core.errors.CrossroadsError` (exit 2)."""
    if args.folds < 2:
        raise ConfigError(f"--folds must be at least 2, not {args.folds}.")
    if args.folds > settings.max_folds:
        raise settings.limit_error("max_folds", f"--folds {args.folds:,} was asked")
    if args.max_rows is not None and args.max_rows < 20:
        raise ConfigError(f"--max-rows must be at least 20, not {args.max_rows}.")
    check_outputs({"--json": args.json}, {"--data": args.data})
    # With --max-rows the sample is drawn while reading (same seed): a large file is never held whole.
    table = load_table(Path(args.data), sheet=args.sheet, header=not args.no_header,
                       column_names=args.column_names, na_values=args.na_values, max_rows=args.max_rows,
                       seed=args.seed)
    print(table.summary())
    for note in table.notes:
        print(f"  note: {note}")
    if args.model_key and args.models and args.model_key not in args.models:
        raise ConfigError(f"--model-key {args.model_key} is not among --models ({', '.join(args.models)}).")
    started = time.perf_counter()

    def on_result(r, done: int, total: int) -> None:  # each model's row as soon as its folds are done
        print(_progress_line(r, done, total, time.perf_counter() - started), file=sys.stderr, flush=True)

    def on_progress(fraction: float, message: str) -> None:
        if fraction == 0.0:
            print(message, file=sys.stderr, flush=True)

    result = compare_models(table.frame, args.target, task=args.task, folds=args.folds,
                            models=args.models, random_state=args.seed, max_rows=args.max_rows,
                            exclude=args.exclude, on_result=on_result, on_progress=on_progress)
    schema = result.schema
    used = len(schema.feature_columns)
    print(f"\ntask: {result.task} ({schema.task_reason}); target: {schema.target}; rows used: {format_count(schema.n_rows)}"
          f"; feature columns: {used} of {len(schema.columns) - 1}; folds: {result.n_splits}")
    for c in schema.columns:
        if c.action == "dropped":
            print(f"  dropped {c.name!r}: {c.inferred_type}, {c.reason}")
    for w in result.warnings:
        print(f"  notice: {w}")
    print(f"\nleaderboard (sorted by {METRICS[result.task][result.primary_metric][0]}, "
          f"mean ± std over {result.n_splits} folds; seconds per fold):")
    print(format_leaderboard(result))
    print(f"\nbest model: {result.best.label}  ({format_seconds(result.seconds, unit=True)})")

    shap_top, shap_info = None, {}
    if not args.no_shap:
        try:
            shap_result = explain_model(result, result.best.key, max_explain_rows=args.shap_rows)
        except Exception as exc:  # noqa: BLE001 - the comparison stands; SHAP's failure is reported
            shap_info = {"error": f"{type(exc).__name__}: {exc}"}
            print(f"SHAP could not explain {result.best.label}: {exc}", file=sys.stderr)
        else:
            shap_top, shap_info = shap_summary(shap_result, result.best)
            print(f"\nSHAP top features of {result.best.label} ({shap_result.caption()}):")
            for i, f in enumerate(shap_top, 1):
                print(f"  {i:2d}. {f['feature']}: {format_value(f['mean_abs_shap'])}")
    if args.json:
        out = result_to_json(result, shap_top, shap_info)
        out["source"] = {"file": table.name, "format": table.file_format, "encoding": table.encoding,
                         "delimiter": table.delimiter, "notes": table.notes}
        write_atomic(args.json, to_json_bytes(out))
        print(f"\nJSON written to {args.json}")
    if args.save_model:
        from core.tabular.scoring import model_from_comparison, save_model

        model = model_from_comparison(result, args.model_key)
        size = save_model(model, args.save_model)
        print(f"model {model.label} ({model.key}) written to {args.save_model} ({size / 2**20:,.1f} MB, skops); "
              f"fitted on {len(result.y_train):,} training rows")
    if args.workspace:
        from core.workspace import Workspace, save_workspace
        from core.workspace.sections import add_comparison

        ws = Workspace()
        add_comparison(ws, table, result)
        size = save_workspace(ws, args.workspace)
        print(f"workspace written to {args.workspace} ({size / 2**20:,.2f} MB); open it in the app with "
              "'Open workspace'")
    return 0


def run_predict(args: argparse.Namespace) -> int:
    """Run ``predict``; returns 0. Errors propagate as :class:`core.errors.CrossroadsError` (exit 2)."""
    from core.export import to_csv_bytes
    from core.tabular.scoring import load_model, score_table

    model = load_model(Path(args.model))
    table = load_table(Path(args.data), sheet=args.sheet, na_values=args.na_values)
    print(table.summary())
    scored = score_table(model, table.frame)
    for note in scored.notes:
        print(f"  note: {note}")
    Path(args.out).write_bytes(to_csv_bytes(scored.frame))
    counts = scored.frame[scored.prediction_column].value_counts() if model.task == "classification" else None
    print(f"{len(scored.frame):,} rows scored with {model.label} ({model.task}, target {model.target!r}); "
          f"predictions written to {args.out}")
    if counts is not None:
        print("  predicted: " + ", ".join(f"{k}: {v:,}" for k, v in counts.items()))
    return 0
