"""Benchmark: Data & Models against the tools people would use instead.

Prints, for telco_churn and california_housing (from ../shared/data):

1. **cv**: wall seconds of whole processes, run in alternating pairs (``--pairs``, default 3):
   ``python -m core compare --data ... --target ... --no-shap`` against a raw scikit-learn
   script (this file with ``--raw``): the same five models from the registry, the same
   preprocessing, the same folds (``StratifiedKFold``/``KFold``, 5, shuffled, seed 0) and the
   same metrics, through one ``cross_validate(n_jobs=-1)`` per model. The raw script reads the
   file with ``pandas.read_csv`` (and converts numeric text columns), not with core.io.
   Medians of each side and the median of the pair ratios Crossroads / raw.
2. **pycaret**: PyCaret 3.3 ``compare_models`` on the same five models (its ``lr``/``ridge``,
   ``dt``, ``rf``, ``dummy`` and scikit-learn's ``HistGradientBoosting*``; 5 shuffled folds on every
   row, PyCaret's own preprocessing and metrics) as a whole process, in alternating pairs with the
   raw loop, when its separate venv exists (``$PYCARET_PYTHON``, default
   ``/tmp/pycaret-venv/bin/python``; never a dependency of this project); else the reason it was
   skipped.
3. **shap**: per model (the fold-1 pipelines of one comparison), the first view as the page
   makes it (``ProgressiveExplainer`` + ``FIRST_VIEW_S`` of explaining + the bar, beeswarm
   and waterfall charts drawn to PNG; ``import shap`` is timed separately, the page imports it
   in the background), and how that view agrees with a reference run of the same explainer on
   ``--reference-rows`` rows: top-10 overlap and Spearman's rho of mean |SHAP| over every
   feature (grouped by source column, as the page shows it). For the random forest it also
   prints the options measured before settling (Saabas approximation, interventional
   TreeExplainer with 25 background rows) with their agreement.
4. **classifier**: ``IntentClassifier.predict_top_k`` one query at a time on the 400 sample
   queries (median ms, English and Japanese), against ``Pipeline.predict_proba([q])``.
5. **rerun**: the Data & Models page in ``streamlit.testing.v1.AppTest`` on telco: after the
   comparison, the seconds of a rerun caused by changing the metric of the bar chart (median).

Every run states the cores and the load average (other jobs share the machine). Results are
written to ``benchmarks/results/tabular.json``; ``--update-readme`` rewrites the README's
"Measured here" rows for tabular between the ``<!-- tabular:begin -->`` / ``<!-- tabular:end -->``
markers from that file (``tests/test_readme_measured.py`` checks they match).

Run: ``python benchmarks/tabular_compare.py [--pairs 3] [--only cv shap ...] [--update-readme]``
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.settings import settings  # noqa: E402

DATA = settings.shared_data
SETS = {
    "telco": ("telco_churn/Telco-Customer-Churn.csv", "Churn"),
    "housing": ("california_housing/housing.csv", "median_house_value"),
}
QUALITY_SETS = {"titanic": ("titanic/train.csv", "Survived"), **SETS}
RESULTS = ROOT / "benchmarks" / "results" / "tabular.json"
README = ROOT / "README.md"
BEGIN, END = "<!-- tabular:begin -->", "<!-- tabular:end -->"
PYCARET_PYTHON = os.environ.get("PYCARET_PYTHON", "/tmp/pycaret-venv/bin/python")


def load() -> str:
    a, b, c = os.getloadavg()
    return f"{a:.1f} / {b:.1f} / {c:.1f}"


# ------------------------------------------------------------------ 1. raw scikit-learn (run as a subprocess)

def read_like_a_user(path: Path):
    """``pandas.read_csv`` plus the one fix a user makes: numeric text columns (telco's TotalCharges) to numbers."""
    import numpy as np
    import pandas as pd

    df = pd.read_csv(path)
    for c in df.columns:
        if not pd.api.types.is_numeric_dtype(df[c]):
            num = pd.to_numeric(df[c].astype(str).str.strip().replace("", np.nan), errors="coerce")
            if num.notna().sum() >= 0.95 * df[c].notna().sum():
                df[c] = num
    return df


def raw_main(path: str, target: str) -> int:
    """The raw loop: one ``cross_validate(n_jobs=-1)`` per registry model, same folds and metrics."""
    import numpy as np
    from sklearn.model_selection import KFold, StratifiedKFold, cross_validate
    from sklearn.pipeline import Pipeline

    from core.tabular.models import available_models
    from core.tabular.preprocess import build_preprocessor
    from core.tabular.schema import infer_schema, prepare_xy

    df = read_like_a_user(Path(path))
    schema = infer_schema(df, target)
    X, y = prepare_xy(df, schema)
    if schema.task == "classification":
        y = np.asarray([schema.classes.index(v) for v in y.tolist()])
        cv = StratifiedKFold(5, shuffle=True, random_state=0)
        scoring = ["accuracy", "balanced_accuracy", "f1_macro",
                   "roc_auc" if len(schema.classes) == 2 else "roc_auc_ovr", "neg_log_loss"]
    else:
        cv = KFold(5, shuffle=True, random_state=0)
        scoring = ["r2", "neg_root_mean_squared_error", "neg_mean_absolute_error"]
    warnings.simplefilter("ignore")
    out = {}
    for spec in available_models(schema.task):
        pipe = Pipeline([("preprocess", build_preprocessor(schema, X, scale=spec.needs_scaling)),
                         ("model", spec.build(schema.task))])
        r = cross_validate(pipe, X, y, cv=cv, scoring=scoring, n_jobs=-1)
        out[spec.key] = float(np.mean(r[f"test_{scoring[1]}"]))
    print(json.dumps({"columns": {c.name: c.inferred_type for c in schema.columns}, "primary": out}))
    return 0


PYCARET_SCRIPT = r'''
import sys, json, time, warnings
warnings.simplefilter("ignore")
import numpy as np, pandas as pd
path, target, task, drop = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
df = pd.read_csv(path)
for c in df.columns:
    if df[c].dtype == object and c != target:
        num = pd.to_numeric(df[c].astype(str).str.strip().replace("", np.nan), errors="coerce")
        if num.notna().sum() >= 0.95 * df[c].notna().sum():
            df[c] = num
df = df.drop(columns=drop)
if task == "classification":
    from pycaret.classification import setup, compare_models, pull
    from sklearn.ensemble import HistGradientBoostingClassifier as HGB
    include = ["lr", "dt", "rf", HGB(random_state=0), "dummy"]
else:
    from pycaret.regression import setup, compare_models, pull
    from sklearn.ensemble import HistGradientBoostingRegressor as HGB
    include = ["ridge", "dt", "rf", HGB(random_state=0), "dummy"]
# cross-validation on every row (5 shuffled folds, seed 0); a small separate test set as PyCaret requires one
setup(data=df, test_data=df.sample(200, random_state=0), target=target, fold=5, fold_shuffle=True,
      session_id=0, n_jobs=-1, verbose=False, html=False, index=False)
compare_models(include=include, sort="R2" if task == "regression" else "Accuracy", verbose=False)
print(json.dumps({"rows": len(pull())}))
'''


def timed_run(cmd: list[str], cwd: Path = ROOT) -> tuple[float, str]:
    t0 = time.perf_counter()
    p = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:4])}... failed ({p.returncode}): {p.stderr[-600:]}")
    return wall, p.stdout


def _same_columns(path: Path, target: str) -> bool:
    from core.io import load_table
    from core.tabular.schema import infer_schema

    return ({c.name: c.inferred_type for c in infer_schema(load_table(path).frame, target).columns}
            == {c.name: c.inferred_type for c in infer_schema(read_like_a_user(path), target).columns})


def _ours(path: Path, target: str) -> float:
    return timed_run([sys.executable, "-m", "core", "compare", "--data", str(path), "--target", target, "--no-shap"])[0]


def _raw(path: Path, target: str) -> float:
    return timed_run([sys.executable, str(Path(__file__).resolve()), "--raw", str(path), target])[0]


def _pycaret(path: Path, target: str) -> float:
    from core.tabular.schema import infer_schema

    schema = infer_schema(read_like_a_user(path), target)
    drop = [c.name for c in schema.columns if c.action == "dropped"]
    return timed_run([PYCARET_PYTHON, "-c", PYCARET_SCRIPT, str(path), target, schema.task, json.dumps(drop)],
                     cwd=Path(tempfile.gettempdir()))[0]


def _pairs(label: str, pairs: int, runners: dict) -> dict:
    """Alternate the runners ``pairs`` times per dataset; medians and the median of the pair ratios to raw."""
    out = {}
    names = list(runners)
    for name, (rel, target) in SETS.items():
        path = DATA / rel
        if not path.exists():
            print(f"  {name}: skipped ({path} not found)")
            continue
        print(f"  {name}: raw script sees the same columns and types as Crossroads: "
              f"{'yes' if _same_columns(path, target) else 'NO'}")
        times: dict[str, list[float]] = {n: [] for n in names}
        for i in range(pairs):
            order = names if i % 2 == 0 else names[::-1]
            for who in order:
                times[who].append(runners[who](path, target))
            print(f"  {name} pair {i + 1}: " + ", ".join(f"{w} {times[w][-1]:.1f} s" for w in names)
                  + f"  (load {load()})", flush=True)
        other = next(n for n in names if n != "raw")
        ratios = [o / r for o, r in zip(times[other], times["raw"])]
        res = {f"{other}_s": statistics.median(times[other]), "raw_s": statistics.median(times["raw"]),
               "ratio": statistics.median(ratios), "ratios": ratios, "pairs": pairs}
        print(f"  {name}: median {other} {res[f'{other}_s']:.1f} s, raw cross_validate(n_jobs=-1) {res['raw_s']:.1f} s; "
              f"ratio {other} / raw = {res['ratio']:.2f} (pair ratios {', '.join(f'{r:.2f}' for r in ratios)})")
        out[name] = res
    return out


def bench_cv(pairs: int) -> dict:
    print(f"\n== cross-validation: whole processes, {pairs} alternating pairs (load {load()}) ==")
    return _pairs("cv", pairs, {"crossroads": _ours, "raw": _raw})


def bench_pycaret(pairs: int) -> dict:
    print(f"\n== PyCaret 3.3 compare_models against the raw loop: {pairs} alternating pairs (load {load()}) ==")
    if not Path(PYCARET_PYTHON).exists():
        why = (f"no PyCaret venv at {PYCARET_PYTHON} (python3 -m venv /tmp/pycaret-venv; "
               "/tmp/pycaret-venv/bin/pip install pycaret==3.3.2)")
        print(f"  skipped: {why}")
        return {"skipped": why}
    return _pairs("pycaret", pairs, {"pycaret": _pycaret, "raw": _raw})


# ------------------------------------------------------------------ quality (deterministic: for the README)

def bench_quality() -> dict:
    """Best model and primary metric per dataset (5 folds, seed 0): deterministic, so the README test can recheck."""
    from core.io import load_table
    from core.tabular.compare import METRICS, compare_models

    print("\n== quality: best model per dataset (5-fold CV, seed 0) ==")
    out = {}
    for name, (rel, target) in QUALITY_SETS.items():
        path = DATA / rel
        if not path.exists():
            print(f"  {name}: skipped ({path} not found)")
            continue
        res = compare_models(load_table(path).frame, target, folds=5)
        best = res.best
        base = next((r for r in res.results if r.baseline), None)
        row = {"target": target, "best_key": best.key, "best": best.label, "metric": res.primary_metric,
               "metric_name": METRICS[res.task][res.primary_metric][0],
               "mean": round(best.primary["mean"], 3), "std": round(best.primary["std"], 3),
               "baseline": round(base.primary["mean"], 3) if base else None, "task": res.task}
        if res.task == "classification":
            row["accuracy"] = round(best.metrics["accuracy"]["mean"], 3)
            row["roc_auc"] = round(best.metrics["roc_auc"]["mean"], 3)
        out[name] = row
        print(f"  {name}: best {best.label}, {row['metric_name']} {row['mean']:.3f} ± {row['std']:.3f}"
              + (f" (baseline {row['baseline']:.3f})" if base else ""))
    return out


# ------------------------------------------------------------------ 3. SHAP first view and agreement

def _agreement(quick, reference) -> tuple[int, int, float]:
    """(top-10 overlap, features compared, Spearman's rho) of two mean |SHAP| vectors."""
    import numpy as np
    from scipy.stats import spearmanr

    k = min(10, len(quick))
    top_q, top_r = set(np.argsort(-quick)[:k]), set(np.argsort(-reference)[:k])
    rho = float(spearmanr(quick, reference).statistic) if len(quick) > 1 else 1.0
    return len(top_q & top_r), k, rho


def bench_shap(reference_rows: int, row_cap: int) -> dict:
    from core.io import load_table
    from core.tabular.compare import compare_models
    from core.tabular.explain import FIRST_VIEW_S, ProgressiveExplainer, plot_bar, plot_beeswarm, plot_waterfall, to_png

    print(f"\n== SHAP first view (FIRST_VIEW_S = {FIRST_VIEW_S:g} s of set-up and explaining + 3 charts; row cap {row_cap}) "
          f"and agreement with a {reference_rows}-row reference (load {load()}) ==")
    t0 = time.perf_counter()
    import shap  # noqa: F401 - imported here to time SHAP's import on its own

    import_s = time.perf_counter() - t0
    from core.tabular.charts import configure_matplotlib_cjk

    configure_matplotlib_cjk()  # as the page does (a CJK fallback font makes text layout a little dearer)
    print(f"  import shap: {import_s:.2f} s (once per process; the page imports it in the background)")
    out = {"import_s": import_s, "first_view_s": FIRST_VIEW_S, "reference_rows": reference_rows, "sets": {}}
    for name, (rel, target) in SETS.items():
        path = DATA / rel
        if not path.exists():
            continue
        res = compare_models(load_table(path).frame, target)
        labels = res.classes if res.task == "classification" else None
        print(f"  {name}: {len(res.X_test):,} held-out rows (fold 1)")
        rows = {}
        for r in res.results:
            if r.baseline:
                continue
            t = time.perf_counter()
            pe = ProgressiveExplainer(r.pipeline, res.X_test, task=res.task, max_explain_rows=row_cap,
                                      background=res.X_train, class_labels=labels, time_budget_s=30)
            pe.first_view(FIRST_VIEW_S)
            sr = pe.result(True)
            explain_s = time.perf_counter() - t
            for fig in (plot_bar(sr), plot_beeswarm(sr), plot_waterfall(sr, 0)):
                to_png(fig)
            first = time.perf_counter() - t
            ref = ProgressiveExplainer(r.pipeline, res.X_test, task=res.task, max_explain_rows=reference_rows,
                                       background=res.X_train, class_labels=labels, time_budget_s=1e9)
            while not ref.done:
                ref.step(60)
            rr = ref.result(True)
            overlap, k, rho = _agreement(sr.mean_abs(), rr.mean_abs())
            rows[r.key] = {"model": r.label, "first_view_s": first, "explain_s": explain_s, "rows": sr.n_explained,
                           "explainer": sr.explainer_name, "top10_overlap": overlap, "top_k": k, "spearman": rho,
                           "reference_rows": rr.n_explained, "features": len(sr.feature_names)}
            print(f"    {r.label:<28} first view {first:5.2f} s ({explain_s:.2f} s explaining, {sr.n_explained:>3} rows, "
                  f"{sr.explainer_name}); vs {rr.n_explained} rows: top-{k} overlap {overlap}/{k}, "
                  f"Spearman rho {rho:.3f} ({len(sr.feature_names)} features)", flush=True)
            if r.key == "forest":
                rows[r.key]["options"] = _forest_options(r.pipeline, res, rr, sr.n_explained)
        out["sets"][name] = rows
    return out


def _forest_options(pipe, res, reference, first_rows: int) -> dict:
    """The options looked at for the forest's first view, each with its seconds and agreement."""
    import numpy as np
    import shap

    from core.tabular.explain import group_matrix, source_columns

    Xt = pipe[:-1].transform(res.X_test)
    order = np.random.default_rng(0).permutation(len(Xt))
    rows = Xt[order[:200]]
    groups, g = group_matrix(source_columns(pipe[:-1], Xt.shape[1]))
    model = pipe[-1]

    def imp(v):
        v = np.asarray(v)
        v = v[:, :, -1] if v.ndim == 3 else v  # the positive class (binary), or the single output
        return np.abs(v @ g).mean(axis=0)

    ref = reference.mean_abs()
    out = {}
    ex = shap.TreeExplainer(model, feature_perturbation="tree_path_dependent")
    t = time.perf_counter()
    v = ex.shap_values(rows, approximate=True, check_additivity=False)
    out["saabas_200_rows"] = {"s": time.perf_counter() - t, **dict(zip(("overlap", "k", "rho"), _agreement(imp(v), ref)))}
    bg = pipe[:-1].transform(res.X_train.sample(25, random_state=0))
    t = time.perf_counter()
    exi = shap.TreeExplainer(model, data=bg, feature_perturbation="interventional")
    v = exi.shap_values(rows[:first_rows], check_additivity=False)
    out[f"interventional_25bg_{first_rows}_rows"] = {
        "s": time.perf_counter() - t, **dict(zip(("overlap", "k", "rho"), _agreement(imp(v), ref)))}
    for k, o in out.items():
        print(f"      option {k}: {o['s']:.2f} s, top-{o['k']} overlap {o['overlap']}/{o['k']}, rho {o['rho']:.3f}")
    return out


# ------------------------------------------------------------------ 4. intent classifier, one query at a time

def bench_classifier() -> dict:
    import numpy as np
    import pandas as pd

    from core.arena.classifier import IntentClassifier, sample_queries_path

    df = pd.read_csv(sample_queries_path())
    clf = IntentClassifier().fit(df["text"].tolist(), df["label"].tolist())
    print(f"\n== intent classifier: one query at a time, {len(df)} sample queries x 3 passes (load {load()}) ==")
    out = {}
    for what, fn in (("pipeline predict_proba([q])", lambda q: clf.pipeline.predict_proba([q])),
                     ("predict_top_k(q, 3)", lambda q: clf.predict_top_k(q, 3))):
        for q in df["text"].head(20):
            fn(q)  # warm: tokenizer dictionaries, caches
        times: dict[str, list[float]] = {"en": [], "ja": []}
        for _ in range(3):  # three passes over every query, in file order
            for q, lang in zip(df["text"], df["language"]):
                t = time.perf_counter()
                fn(q)
                times[lang].append((time.perf_counter() - t) * 1000)
        allq = times["en"] + times["ja"]
        ms = {lang: statistics.median(v) for lang, v in times.items()}
        ms["all"] = statistics.median(allq)
        ms["p90"] = float(np.percentile(allq, 90))
        out["pipeline" if what.startswith("pipeline") else "top_k"] = ms
        print(f"  {what:<28} median {ms['all']:.3f} ms (English {ms['en']:.3f}, Japanese {ms['ja']:.3f}; "
              f"p90 {ms['p90']:.3f} ms)")
    t = time.perf_counter()
    clf.predict_proba(df["text"].tolist())
    out["batched_ms"] = (time.perf_counter() - t) * 1000 / len(df)
    print(f"  batched predict_proba: {out['batched_ms']:.3f} ms per query; single-query speed-up "
          f"{out['pipeline']['all'] / out['top_k']['all']:.0f}x")
    return out


# ------------------------------------------------------------------ 5. page rerun after a chart option change

APP = r'''
import sys
sys.path.insert(0, {root!r})
import streamlit as st
import pages._shared as shared
from core.io import load_table


@st.cache_resource
def _table():
    return load_table({path!r})


def _table_input(key, *, samples=None, upload_help=None):  # stands for an upload of the file (AppTest cannot upload)
    t = _table()
    st.caption(t.summary())
    return t


@st.cache_resource
def _page_code():  # compiled once, as Streamlit's own script cache does for a page
    return compile(open({page!r}, encoding="utf-8").read(), {page!r}, "exec")


shared.table_input = _table_input
exec(_page_code(), {{"__name__": "__main__", "__file__": {page!r}}})
'''


def bench_rerun(repeats: int) -> dict:
    from streamlit.testing.v1 import AppTest

    rel, target = SETS["telco"]
    path = DATA / rel
    if not path.exists():
        print(f"\n== page rerun: skipped ({path} not found; set CROSSROADS_SHARED_DATA) ==")
        return {"skipped": f"{path} not found"}
    print(f"\n== page rerun after a chart option change (AppTest, telco, load {load()}) ==")
    with tempfile.TemporaryDirectory() as tmp:
        app = Path(tmp) / "app.py"
        app.write_text(APP.format(root=str(ROOT), path=str(path), page=str(ROOT / "pages" / "data_models.py")))
        at = AppTest.from_file(str(app), default_timeout=600)
        at.run()
        t = time.perf_counter()
        at.button(key="dm_run").click().run()
        compare_s = time.perf_counter() - t
        assert not at.exception, at.exception
        metric = at.selectbox(key="dm_metric")
        options = list(metric.options)
        times = []
        for i in range(repeats):
            t = time.perf_counter()
            at.selectbox(key="dm_metric").set_value(["log_loss", "roc_auc", "accuracy"][i % 3]).run()
            times.append((time.perf_counter() - t) * 1000)
            assert not at.exception, at.exception
        cold = times[0]
        warm = statistics.median(times[3:]) if len(times) > 3 else statistics.median(times)
        print(f"  comparison + first SHAP view in the page: {compare_s:.1f} s")
        print(f"  rerun after changing the metric: median {warm:.0f} ms over {len(times) - 3} reruns "
              f"(first change of each metric, which builds its figure: {cold:.0f} ms); options {len(options)}")
    return {"rerun_ms": warm, "first_ms": cold, "repeats": repeats, "compare_s": compare_s}


# ------------------------------------------------------------------ README rows

def readme_rows(r: dict) -> list[str]:
    """The README's "Measured here" rows for tabular, from the benchmark's JSON."""
    q, cv, sh, clf, rr = r.get("quality", {}), r.get("cv", {}), r.get("shap", {}), r.get("classifier", {}), r.get("rerun", {})
    pyc = r.get("pycaret", {})
    when = r.get("measured", {})

    def at(section: str) -> str:
        m = when.get(section)
        return f"; {m['date']}, load average {m['load']}" if m else ""

    rows = []
    for name, what in (("titanic", "`compare` on titanic (`Survived`)"), ("telco", "`compare` on telco churn (`Churn`)"),
                       ("housing", "`compare` on California housing")):
        if name not in q:
            continue
        x = q[name]
        metric = x["metric_name"] if x["metric_name"] == "R²" else x["metric_name"].lower()
        text = f"best on {metric}: {x['best'].lower()}, {x['mean']:.3f} ± {x['std']:.3f}"
        if x.get("baseline") is not None:
            text += f" (baseline {x['baseline']:.3f})"
        if "accuracy" in x:
            text += f"; accuracy {x['accuracy']:.3f}, ROC AUC {x['roc_auc']:.3f}"
        if name in cv:
            c = cv[name]
            text += (f"; whole CLI run (`--no-shap`) {c['crossroads_s']:.1f} s = {c['ratio']:.2f}× raw "
                     f"`cross_validate(n_jobs=-1)` (median of {c['pairs']} pairs{at('cv')})")
        if name in pyc:
            text += f"; PyCaret 3.3 `compare_models`: {pyc[name]['ratio']:.2f}× raw ({pyc[name]['pairs']} pairs{at('pycaret')})"
        elif pyc.get("skipped"):
            text += f"; PyCaret not measured: {pyc['skipped']}"
        rows.append(f"| {what} | {text} |")
    if sh.get("sets"):
        worst = max(((n, k, v) for n, s in sh["sets"].items() for k, v in s.items()), key=lambda t: t[2]["first_view_s"])
        rhos = [v["spearman"] for s in sh["sets"].values() for v in s.values()]
        overlaps = [(v["top10_overlap"], v["top_k"]) for s in sh["sets"].values() for v in s.values()]
        low = min(overlaps, key=lambda o: o[0] / o[1])
        rows.append(f"| SHAP first view, every model, telco and housing | at most {worst[2]['first_view_s']:.1f} s "
                    f"({worst[2]['model'].lower()}, {worst[0]}: {worst[2]['rows']} rows, then refined in the "
                    f"background); vs a larger run of the same explainer: top-10 overlap ≥ {low[0]}/{low[1]}, "
                    f"Spearman ρ ≥ {min(rhos):.2f} ({sh['reference_rows']} rows{at('shap')}) |")
    if clf:
        rows.append(f"| intent classifier, one query at a time | {clf['top_k']['all']:.2f} ms median (English "
                    f"{clf['top_k']['en']:.2f} ms, Japanese {clf['top_k']['ja']:.2f} ms with janome); "
                    f"{clf['pipeline']['all']:.1f} ms through the scikit-learn pipeline (400 sample queries × 3"
                    f"{at('classifier')}) |")
    if rr.get("rerun_ms") is not None:
        rows.append(f"| Data & Models rerun after a chart option change (telco, AppTest) | {rr['rerun_ms']:.0f} ms "
                    f"median ({rr['repeats'] - 3} reruns{at('rerun')}) |")
    return rows


def readme_block(r: dict) -> str:
    note = (f"| machine | {r.get('cores', '?')} cores shared with other jobs; load averages are 1/5/15 min, "
            "at the end of each measurement |")
    return "\n".join([BEGIN, "| what | result |", "|---|---|", note, *readme_rows(r), END])


def update_readme(r: dict) -> None:
    text = README.read_text(encoding="utf-8")
    if BEGIN not in text or END not in text:
        raise SystemExit(f"README.md has no {BEGIN} ... {END} block")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    README.write_text(head + readme_block(r) + tail, encoding="utf-8")
    print(f"README.md rows updated from {RESULTS.relative_to(ROOT)}")


# ------------------------------------------------------------------ main

def main() -> int:
    if len(sys.argv) == 4 and sys.argv[1] == "--raw":
        return raw_main(sys.argv[2], sys.argv[3])
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pairs", type=int, default=3, help="alternating Crossroads/raw process pairs (default 3)")
    ap.add_argument("--only", nargs="+", choices=["cv", "pycaret", "quality", "shap", "classifier", "rerun"],
                    help="run only these sections (default all)")
    ap.add_argument("--reference-rows", type=int, default=300, help="rows of the SHAP reference run (default 300)")
    ap.add_argument("--rerun-repeats", type=int, default=15, help="metric changes timed in AppTest (default 15)")
    ap.add_argument("--update-readme", action="store_true", help="rewrite the README rows from the results")
    ap.add_argument("--readme-only", action="store_true", help="only rewrite the README rows from the saved results")
    args = ap.parse_args()
    if args.readme_only:
        update_readme(json.loads(RESULTS.read_text()))
        return 0
    warnings.simplefilter("ignore")
    sections = args.only or ["cv", "pycaret", "quality", "shap", "classifier", "rerun"]
    previous = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    r = dict(previous)
    r.update(date=dt.date.today().isoformat(), cores=os.cpu_count(), load=load())
    print(f"cores: {os.cpu_count()}, load average (1/5/15 min): {load()}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    runs = {"cv": lambda: bench_cv(args.pairs), "pycaret": lambda: bench_pycaret(args.pairs), "quality": bench_quality,
            "shap": lambda: bench_shap(args.reference_rows, 200), "classifier": bench_classifier,
            "rerun": lambda: bench_rerun(args.rerun_repeats)}
    for name in ("cv", "pycaret", "quality", "shap", "classifier", "rerun"):
        if name in sections:
            r[name] = runs[name]()
            r.setdefault("measured", {})[name] = {"date": dt.date.today().isoformat(), "load": load()}
            RESULTS.write_text(json.dumps(r, indent=2, ensure_ascii=False) + "\n")  # after each section
    r["load_end"] = load()
    print(f"\nload average at the end: {r['load_end']}")
    RESULTS.write_text(json.dumps(r, indent=2, ensure_ascii=False) + "\n")
    print(f"results written to {RESULTS.relative_to(ROOT)}")
    if args.update_readme:
        update_readme(r)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
