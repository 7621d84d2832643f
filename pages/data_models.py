"""Data & Models page: bring a table, pick the column to predict, compare classic ML models, see why they predict.

Thin page: the work is in :mod:`core.tabular` (schema, comparison, charts, SHAP) and numbers
are written by :mod:`core.numbers`; this file only renders.

Rerun speed (changing a chart option must not redo work):

* the table's digest is computed once per loaded table (not on every rerun), and every cache
  and the comparison's run id are keyed on it;
* a comparison's result (with its fitted pipelines) is kept in ``st.session_state`` under a
  fingerprint of its inputs (data digest, target, task, models, hyperparameters, folds, rows);
* plotly figures and SHAP's PNG charts are built once per result and option, then reused;
* downloads are written when clicked, not on every rerun;
* only the open results tab runs (``st.tabs(..., on_change="rerun")``);
* SHAP runs in an ``st.fragment``: a quick first view (the rows that fit in about
  :data:`SHAP_FIRST_VIEW_S` seconds), then more rows in the background while the SHAP tab is
  open (the fragment reruns every :data:`SHAP_REFRESH_S` seconds) until the row cap or
  :data:`SHAP_BUDGET_S`.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Callable

import pandas as pd
import streamlit as st

from core.errors import CrossroadsError
from core.io import LoadedTable, load_table
from core.numbers import format_count, format_mean_std, format_seconds, format_value
from core.tabular import charts
from core.tabular.compare import METRICS, compare_models, result_to_json, shap_summary
from core.tabular.explain import (
    FIRST_VIEW_S,
    REFINE_STEP_S,
    ProgressiveExplainer,
    plot_bar,
    plot_beeswarm,
    plot_waterfall,
    preload_shap,
    to_png,
)
from core.tabular.models import MODELS, available_models
from core.tabular.schema import infer_schema, suggest_target
from pages import _model_use
from pages._aws import render_data_models_aws
from pages._shared import download_buttons, ensure_navigation, show_error, table_input
from pages._state import keep

ensure_navigation()

KEY = "dm"
#: Seconds of SHAP explaining before the first view of a model, and per background refinement step
#: (core.tabular.explain; benchmarks/tabular_compare.py measures the first view with the same values).
SHAP_FIRST_VIEW_S = FIRST_VIEW_S
SHAP_STEP_S = REFINE_STEP_S
#: Seconds between the fragment's refinement reruns (a step plus drawing fits in it).
SHAP_REFRESH_S = 2.0
#: Seconds of explaining per model and row cap in total (first view + refinement).
SHAP_BUDGET_S = 30.0
#: Rows offered for SHAP (the row cap).
SHAP_ROW_CHOICES = [50, 100, 200, 300, 500]
charts.configure_matplotlib_cjk()  # Japanese column names in SHAP's matplotlib charts
preload_shap()  # import shap in the background while the user sets the comparison up


# ------------------------------------------------------------------ samples (bundled with scikit-learn: no download)

def _sample(loader, target_names: bool) -> LoadedTable:
    bunch = loader(as_frame=True)
    df = bunch.frame.copy()
    if target_names:
        df["target"] = [str(bunch.target_names[i]) for i in df["target"]]
    name = loader.__name__.removeprefix("load_")
    return load_table(df.to_csv(index=False).encode("utf-8"), name=f"{name}.csv")


@st.cache_resource(show_spinner=False)
def _sample_cached(which: str) -> LoadedTable:
    from sklearn.datasets import load_breast_cancer, load_diabetes, load_wine

    loaders = {"breast_cancer": (load_breast_cancer, True), "wine": (load_wine, True),
               "diabetes": (load_diabetes, False)}
    loader, named = loaders[which]
    return _sample(loader, named)


SAMPLES = {
    "Breast cancer (classification, 569 rows, scikit-learn)": lambda: _sample_cached("breast_cancer"),
    "Diabetes progression (regression, 442 rows, scikit-learn)": lambda: _sample_cached("diabetes"),
    "Wine cultivars (3 classes, 178 rows, scikit-learn)": lambda: _sample_cached("wine"),
}


# ------------------------------------------------------------------ helpers

def _digest(table: LoadedTable) -> str:
    """A digest of the table's content, computed once per loaded table.

    ``load_table`` gives it (``LoadedTable.digest``: the file's SHA-256, hashed once when it was
    read); a table without one is hashed once and the digest kept on it (tables come from
    ``st.cache_resource``: the same object on every rerun).
    """
    if getattr(table, "digest", ""):
        return table.digest[:16]
    cached = getattr(table, "_crossroads_digest", None)
    if cached is None:
        df = table.frame
        h = hashlib.sha1()
        h.update(json.dumps([str(c) for c in df.columns], ensure_ascii=False).encode())
        try:
            h.update(pd.util.hash_pandas_object(df, index=False).values.tobytes())
        except Exception:  # noqa: BLE001 - unhashable cells (lists from JSON): hash their text
            h.update(pd.util.hash_pandas_object(df.astype(str), index=False).values.tobytes())
        cached = h.hexdigest()[:16]
        table._crossroads_digest = cached
    return cached


def _slug(name: str) -> str:
    """A file-name-safe short form of the dataset's name for downloads: ``Telco-Customer-Churn.csv`` -> ``telco_customer_churn``."""
    stem = re.sub(r"\.[A-Za-z0-9]{1,8}$", "", str(name))
    slug = re.sub(r"[^\w]+", "_", stem.lower()).strip("_")
    return slug[:40].rstrip("_") or "data"


@st.cache_data(show_spinner=False, max_entries=16)
def _schema(digest: str, _df: pd.DataFrame, target: str, task: str, exclude: tuple[str, ...] = ()):
    return infer_schema(_df, target, task=task, exclude=exclude)


@st.cache_data(show_spinner=False, max_entries=16)
def _suggested_target(digest: str, _df: pd.DataFrame) -> str:
    try:
        return suggest_target(_df)
    except CrossroadsError:
        return str(_df.columns[-1])


def _hyperparameter_widgets(task: str, keys: list[str]) -> dict[str, dict]:
    chosen: dict[str, dict] = {}
    for key in keys:
        spec = MODELS[key]
        params = {}
        hps = spec.params_for(task)
        with st.expander(f"{spec.label}", icon=":material/tune:"):
            st.caption(spec.description)
            if not hps:
                st.caption("No hyperparameters to set.")
            for h in hps:
                wkey = f"{KEY}_hp_{task}_{key}_{h.name}"
                helptext = h.help + (f" 0 = {h.none_label}." if h.none_label else "")
                if h.kind == "choice":
                    params[h.name] = st.selectbox(h.label, list(h.choices), key=keep(wkey, default=h.default,
                                                                                     options=list(h.choices)),
                                                  help=helptext, format_func=str)
                elif h.kind == "int":
                    params[h.name] = int(st.number_input(
                        h.label, min_value=0 if h.none_label else int(h.min), max_value=int(h.max),
                        step=int(h.step or 1), key=keep(wkey, default=int(h.default)), help=helptext))
                else:
                    params[h.name] = float(st.number_input(
                        h.label, min_value=float(h.min), max_value=float(h.max),
                        format="%.4g", key=keep(wkey, default=float(h.default)), help=helptext))
        chosen[key] = {k: v for k, v in params.items()
                       if v != next(h.default for h in hps if h.name == k)}
    return chosen


def _table_height(n_rows: int, max_rows: int = 25) -> int:
    """Pixel height showing ``n_rows`` rows (up to ``max_rows``) plus the header, without an inner scrollbar."""
    return 35 * (min(n_rows, max_rows) + 1) + 3


def _cell_text(v) -> str:
    """A user's cell for the row-detail table: 3.0 -> '3', 1234.5 -> '1,234.5', NaN -> 'missing'."""
    if v is None or (isinstance(v, float) and pd.isna(v)):
        return "missing"
    if isinstance(v, float) and v.is_integer():
        return f"{int(v):,}"
    if isinstance(v, int) and not isinstance(v, bool):
        return f"{v:,}"
    return str(v)


def _ranked(results: list) -> list:
    """Model results best first by their task's primary metric (the baseline last among ties)."""
    return sorted(results, key=lambda r: (-(r.primary["mean"] if r.primary["mean"] == r.primary["mean"]
                                            else float("-inf")), r.baseline))


def _leaderboard_display(results: list, task: str) -> pd.DataFrame:
    """The leaderboard as shown: one row per model, ``mean ± std`` per metric, seconds per fold (core.numbers)."""
    rows = []
    for r in results:
        row = {"Model": r.label}
        for m, (name, higher) in METRICS[task].items():
            row[f"{name} {'↑' if higher else '↓'}"] = format_mean_std(r.metrics[m]["mean"], r.metrics[m]["std"])
        row["Fit (s/fold)"] = format_seconds(r.fit_seconds)
        row["Predict (s/fold)"] = format_seconds(r.predict_seconds)
        rows.append(row)
    return pd.DataFrame(rows)


def _run_comparison(df, target, task, chosen, folds, max_rows, exclude=()):
    """Run the comparison with a live leaderboard: each model's row appears as soon as its folds are done."""
    with st.status("Comparing models...", expanded=True) as status:
        bar = st.progress(0.0, text="Starting...")
        board = st.empty()
        finished: list = []

        def on_progress(fraction: float, message: str) -> None:
            bar.progress(min(max(fraction, 0.0), 1.0), text=message)

        def on_result(r, done: int, total: int) -> None:
            finished.append(r)
            board.dataframe(_leaderboard_display(_ranked(finished), r.task), hide_index=True)
            status.update(label=f"Comparing models... {done} of {total} done", expanded=True)

        try:
            result = compare_models(df, target, task=task, models=chosen, folds=folds, on_progress=on_progress,
                                    on_result=on_result, max_rows=max_rows if max_rows < len(df) else None,
                                    exclude=exclude)
        except Exception as exc:  # noqa: BLE001 - shown to the user
            status.update(label="The comparison failed", state="error")
            show_error(exc, what="The comparison")
            return None
        status.update(label=f"Compared {len(result.results)} models in {format_seconds(result.seconds, unit=True)} "
                            f"({result.n_splits}-fold cross-validation)", state="complete", expanded=False)
    return result


def _store(name: str) -> dict:
    """A per-session dict for one kind of cached output (figures, PNGs, explainers) of the current result."""
    return st.session_state.setdefault(f"{KEY}_{name}", {})


def _figure(run_id: str, name: str, build: Callable, *options):
    """A plotly figure built once per (result, chart, options) and reused on later reruns."""
    figs = _store("figs")
    k = (run_id, name, *options)
    if k not in figs:
        figs[k] = build()
    return figs[k]


def _png(view: tuple, n_explained: int, build: Callable) -> bytes:
    """A SHAP matplotlib chart rendered to PNG once per view and number of explained rows."""
    pngs = _store("png")
    hit = pngs.get(view)
    if hit is None or hit[0] != n_explained:
        hit = pngs[view] = (n_explained, to_png(build()))
    return hit[1]


# ------------------------------------------------------------------ results sections

def _render_leaderboard(result, run_id: str, slug: str) -> None:
    primary_name = METRICS[result.task][result.primary_metric][0]
    best = result.best
    st.success(f"Best model: **{best.label}**: {primary_name} "
               f"{format_mean_std(best.primary['mean'], best.primary['std'])} over {result.n_splits} folds.",
               icon=":material/emoji_events:")
    st.subheader("Leaderboard")
    st.caption(f"Sorted by {primary_name}; mean ± std over {result.n_splits} folds; seconds are wall clock per "
               "fold, measured while the folds of all models ran in parallel.")
    st.dataframe(_figure(run_id, "leaderboard", lambda: _leaderboard_display(result.results, result.task)),
                 hide_index=True)
    st.caption("Download the leaderboard: CSV (this table) or JSON (the whole comparison: columns, warnings, "
               "every metric, and the SHAP top features of the model shown in the SHAP tab).")
    # the JSON is written on click, outside the script run (no st.session_state there): the function
    # holds the session's own dicts, which the SHAP fragment keeps up to date
    shown, explainers = _store("shap_shown"), _store("shap")
    download_buttons(result.leaderboard, f"{slug}_leaderboard", key=f"{KEY}_dl",
                     json_obj=lambda: _comparison_json(result, run_id, shown, explainers))


def _render_scores(result, run_id: str) -> None:
    metric_keys = list(METRICS[result.task])
    metric = st.selectbox("Metric", metric_keys, format_func=lambda m: METRICS[result.task][m][0],
                          key=keep(f"{KEY}_metric", default=result.primary_metric, options=metric_keys))
    st.plotly_chart(_figure(run_id, "bars", lambda: charts.metric_bars(result, metric), metric), key=f"{KEY}_bars")
    st.plotly_chart(_figure(run_id, "times", lambda: charts.timing_bars(result)), key=f"{KEY}_times")


def _render_test_split(result, run_id: str) -> None:
    n_test, n_train = len(result.y_test), len(result.y_train)
    st.caption(f"Fold 1 of the cross-validation, held out: each model was fitted on the other folds' "
               f"{format_count(n_train)} rows and is evaluated here on fold 1's {format_count(n_test)} rows, "
               "which it never saw.")
    by_label = {r.label: r for r in result.results}
    labels = list(by_label)
    pick = st.selectbox("Model", labels, key=keep(f"{KEY}_test_model", default=labels[0], options=labels))
    r = by_label[pick]
    if result.task == "classification":
        normalize = st.toggle("Show shares of each true class", key=keep(f"{KEY}_cm_norm", default=False))
        binary = len(result.classes) == 2
        curves = {x.label: x.holdout for x in result.results} if binary else {r.label: r.holdout}
        which = "all" if binary else r.key
        c0, c1 = st.columns(2)
        c0.plotly_chart(_figure(run_id, "cm", lambda: charts.confusion_matrix_figure(
            r.holdout, result.classes, normalize=normalize), r.key, normalize), key=f"{KEY}_cm")
        c1.plotly_chart(_figure(run_id, "roc", lambda: charts.roc_curve_figure(curves, result.classes), which),
                        key=f"{KEY}_roc")
        c2, c3 = st.columns(2)
        c2.plotly_chart(_figure(run_id, "pr", lambda: charts.pr_curve_figure(curves, result.classes), which),
                        key=f"{KEY}_pr")
        c3.caption("ROC and precision-recall curves are drawn for every model on the same held-out rows"
                   + (" (one line per class for the model picked above)." if not binary else ".")
                   + " A model that guesses, or always gives the same probability, has a precision equal to "
                   "the class's share of the rows (its base rate) at every recall: the flat dashed line. "
                   "A curve high above it finds the class with few false alarms.")
    else:
        c1, c2 = st.columns(2)
        c1.plotly_chart(_figure(run_id, "pva", lambda: charts.predicted_vs_actual_figure(r.holdout), r.key),
                        key=f"{KEY}_pva")
        c2.plotly_chart(_figure(run_id, "resid", lambda: charts.residuals_figure(r.holdout), r.key),
                        key=f"{KEY}_resid")


# ------------------------------------------------------------------ SHAP (a fragment that refines)

def _shap_models(result) -> dict[str, str]:
    explainable = [x for x in result.results if not x.baseline] or result.results
    return {x.key: x.label for x in explainable}


def _explainer(result, run_id: str, key: str, rows: int) -> tuple[ProgressiveExplainer, bool]:
    """The session's :class:`ProgressiveExplainer` of one model and row cap: ``(explainer, created now)``.

    A new one explains its first view here (about :data:`SHAP_FIRST_VIEW_S` seconds).
    """
    store = _store("shap")
    ck = (run_id, key, rows)
    if ck in store:
        return store[ck], False
    model = result.result(key)
    with st.spinner(f"Explaining {model.label} with SHAP (first view)..."):
        pe = ProgressiveExplainer(model.pipeline, result.X_test, task=result.task, max_explain_rows=rows,
                                  time_budget_s=SHAP_BUDGET_S, background=result.X_train,
                                  class_labels=result.classes if result.task == "classification" else None)
        pe.first_view(SHAP_FIRST_VIEW_S)
    store[ck] = pe
    return pe, True


def _comparison_json(result, run_id: str, shown: dict, explainers: dict) -> dict:
    """The comparison as JSON (written on click), with the SHAP top features of the model the SHAP tab shows.

    Args:
        shown: the SHAP tab's current choice (``run_id``, ``key``, ``rows``, ``group``, ``class_index``).
        explainers: the session's :class:`ProgressiveExplainer` objects by ``(run_id, key, rows)``.
    """
    top, info = None, {}
    if shown and shown.get("run_id") == run_id:
        pe = explainers.get((run_id, shown["key"], shown["rows"]))
        if pe is not None and pe.n_explained:
            top, info = shap_summary(pe.result(shown["group"]), result.result(shown["key"]), shown["class_index"])
    return result_to_json(result, top, info)


def _shap_section(result, run_id: str, slug: str) -> None:
    """The SHAP tab: a fragment with a refresh timer while the shown explanation is still refining."""
    options = list(_shap_models(result))
    # the fragment's choices (restored by keep() after a page change), read before it is drawn
    skey = st.session_state[keep(f"{KEY}_shap_model", default=options[0], options=options)]
    rows = st.session_state[keep(f"{KEY}_shap_rows", default=200, options=SHAP_ROW_CHOICES)]
    try:
        pe, _ = _explainer(result, run_id, skey, int(rows))
    except Exception as exc:  # noqa: BLE001 - shown to the user
        show_error(exc, what="The SHAP explanation")
        return
    st.session_state[f"{KEY}_shap_full_run"] = True  # the fragment below runs as part of a full run
    timed = not pe.done
    st.fragment(run_every=SHAP_REFRESH_S if timed else None)(_shap_view)(result, run_id, slug, timed)


def _shap_view(result, run_id: str, slug: str, timed: bool) -> None:
    """Body of the SHAP fragment: choices, charts of the rows explained so far, one refinement step per rerun."""
    full_run = st.session_state.pop(f"{KEY}_shap_full_run", False)
    st.caption("SHAP splits each prediction into one contribution per feature, starting from the base value "
               "(the average prediction). Explained on the held-out rows (fold 1), with the same fitted "
               "model as in the leaderboard.")
    labels = _shap_models(result)
    options = list(labels)
    c1, c2, c3 = st.columns([2, 1, 1])
    skey = c1.selectbox("Model to explain", options, format_func=labels.get,
                        key=keep(f"{KEY}_shap_model", default=options[0], options=options))
    group = c2.toggle("Group by source column", key=keep(f"{KEY}_shap_group", default=True),
                      help="Sum the SHAP values of one-hot levels, TF-IDF terms and date parts into their source column.")
    rows = int(c3.select_slider("Rows to explain (at most)", SHAP_ROW_CHOICES,
                                key=keep(f"{KEY}_shap_rows", default=200, options=SHAP_ROW_CHOICES)))
    try:
        pe, created = _explainer(result, run_id, skey, rows)
        sr = pe.result(group)
    except Exception as exc:  # noqa: BLE001 - shown to the user
        show_error(exc, what="The SHAP explanation")
        return
    class_index = None
    if sr.classes is not None and len(sr.classes) > 2:
        copts = [None, *range(len(sr.classes))]
        class_index = st.selectbox("Class", copts, key=keep(f"{KEY}_shap_class", default=None, options=copts),
                                   format_func=lambda i: "all classes (mean |SHAP|)" if i is None else str(sr.classes[i]))
    shown = _store("shap_shown")  # updated in place: the leaderboard's JSON download holds this dict
    shown.clear()
    shown.update(run_id=run_id, key=skey, rows=rows, group=group, class_index=class_index)
    st.info(sr.caption(class_index), icon=":material/straighten:")
    if not pe.done:
        st.caption(f":material/autorenew: First view: {format_count(sr.n_explained)} rows so far. More rows are "
                   f"being explained in the background (up to {format_count(pe.n_candidates)} rows or "
                   f"{format_seconds(SHAP_BUDGET_S)} s of explaining); the charts update as they come.")
    for note in sr.notes:
        st.caption(note)
    view = (run_id, skey, rows, group, class_index)
    c1, c2 = st.columns(2)
    with c1:
        st.markdown("**Global: mean |SHAP value|**")
        st.image(_png((*view, "bar"), sr.n_explained, lambda: plot_bar(sr, class_index)), width="stretch")
    with c2:
        if sr.classes is not None and len(sr.classes) > 2 and class_index is None:
            first_class = sr.classes[sr.default_class_index()]
            st.markdown(f"**Global: beeswarm of class '{first_class}'**")
            st.caption(f"A beeswarm shows one class at a time: this is class '{first_class}' (the first), not all "
                       "classes. Pick a class above to see another.")
        else:
            st.markdown("**Global: beeswarm**")
        st.image(_png((*view, "beeswarm"), sr.n_explained, lambda: plot_beeswarm(sr, class_index)), width="stretch")
    _shap_row(result, sr, skey, class_index, view)
    top = pd.DataFrame(sr.top_features(15, class_index))
    if sr.classes is None:
        which = f"mean |SHAP| in {sr.output_units}"
    elif class_index is None and len(sr.classes) > 2:
        which = f"all classes, mean |SHAP| in {sr.output_units}"
    else:
        which = f"mean |SHAP| in {sr.output_label(class_index)}"
    st.caption(f"Download the SHAP top features of {labels[skey]} ({which}; "
               f"{format_count(sr.n_explained)} rows explained): CSV or JSON.")
    suffix = "" if sr.classes is None or len(sr.classes) <= 2 else (
        "_all_classes" if class_index is None else f"_class_{class_index}")
    download_buttons(top, f"{slug}_shap_top_features_{skey}{suffix}", key=f"{KEY}_shap_dl")
    if not created and not full_run and not pe.done:
        # background refinement (this rerun came from the fragment's timer), after drawing, so the
        # charts on screen stay live; the next rerun draws the new rows
        pe.step(SHAP_STEP_S)
    if timed and pe.done:
        st.rerun()  # refinement finished: a full rerun drops the fragment's refresh timer
    if not timed and not pe.done:
        st.rerun()  # a new explanation started inside the fragment: a full rerun starts the timer


def _shap_row(result, sr, skey: str, class_index, view: tuple) -> None:
    """Local view: the waterfall of one explained row, its prediction and its values."""
    st.markdown("**Local: why this row got its prediction**")
    row_labels = list(sr.row_index)
    row_label = st.selectbox("Row (original row number)", row_labels, format_func=lambda v: f"row {v}",
                             key=keep(f"{KEY}_shap_row", default=row_labels[0], options=row_labels))
    pos = sr.position_of(row_label)
    c1, c2 = st.columns([3, 2])
    c1.image(_png((*view, "waterfall", row_label), sr.n_explained, lambda: plot_waterfall(sr, pos, class_index)),
             width="stretch")
    with c2:
        holdout = result.result(skey).holdout  # the pipeline's own predictions on the held-out rows
        i_test = result.X_test.index.get_loc(row_label)
        if result.task == "classification":
            proba = holdout.proba[i_test]
            st.markdown(f"Predicted **{result.classes[int(holdout.y_pred[i_test])]}** (probability "
                        f"{format_value(proba.max())}); actual **{result.classes[int(holdout.y_true[i_test])]}**.")
        else:
            st.markdown(f"Predicted **{format_value(holdout.y_pred[i_test])}**; "
                        f"actual **{format_value(holdout.y_true[i_test])}**.")
        detail = pd.DataFrame({"column": [str(c) for c in result.X_test.columns],
                               "value": [_cell_text(v) for v in result.X_test.loc[row_label].tolist()]})
        st.dataframe(detail, hide_index=True, height=_table_height(len(detail), max_rows=30))


def _render_results(result, run_id: str, slug: str) -> None:
    """Everything shown after a comparison: notices, leaderboard, and the three tabs."""
    st.header("Results")
    for w in result.warnings:
        st.warning(w, icon=":material/warning:")
    _render_leaderboard(result, run_id, slug)
    _model_use.use_model_section(result, run_id)
    # only the open tab runs (a chart option in one tab does not redraw the others); the open tab is
    # kept across reruns and page changes
    tab_labels = list(TABS)
    tabs = st.tabs(tab_labels, key=keep(f"{KEY}_tab", default=tab_labels[0], options=tab_labels), on_change="rerun")
    for tab, render in zip(tabs, TABS.values()):
        if tab.open:
            with tab:
                render(result, run_id, slug)


TABS = {
    "Scores and times": lambda result, run_id, slug: _render_scores(result, run_id),
    "Test-split charts": lambda result, run_id, slug: _render_test_split(result, run_id),
    "SHAP: why": _shap_section,
}

# ------------------------------------------------------------------ page

st.title(":material/table_chart: Data & Models")
st.markdown("Bring a table, pick the column to predict, and see which classic algorithm works, "
            "how fast it is, and **why** it predicts what it does.")

table = table_input(KEY, samples=SAMPLES)
if table is None:
    st.stop()
df = table.frame
digest = _digest(table)
with st.expander(f"Preview ({format_count(len(df))} rows × {df.shape[1]} columns)", icon=":material/visibility:"):
    st.dataframe(df.head(200), hide_index=True)

columns = [str(c) for c in df.columns]
c1, c2 = st.columns([3, 2])
suggested = _suggested_target(digest, df)
target = c1.selectbox("Column to predict (target)", columns,
                      key=keep(f"{KEY}_target", default=suggested, options=columns),
                      help="Suggested: a column named like target/label/class/outcome/churn/price/quality/value, "
                           "else the last column that is not an ID, free text or constant.")
task_choice = c2.segmented_control("Task", ["auto", "classification", "regression"], required=True,
                                   key=keep(f"{KEY}_task", default="auto",
                                            options=["auto", "classification", "regression"]),
                                   help="auto: text labels or a few whole numbers = classification, else regression.")
exclude = _model_use.excluded_columns(df, target)
try:
    schema = _schema(digest, df, target, task_choice or "auto", tuple(exclude))
except Exception as exc:  # noqa: BLE001 - show_error words CrossroadsError and unexpected errors alike
    show_error(exc, what="Reading the columns")
    st.stop()

st.info(f"**Task: {schema.task}** ({schema.task_reason}). {format_count(schema.n_rows)} of "
        f"{format_count(schema.n_rows_total)} rows used"
        + (f"; {format_count(schema.n_dropped_missing_target)} dropped because the target is missing"
           if schema.n_dropped_missing_target else "")
        + (f"; {format_count(schema.n_dropped_rare_class)} dropped (single-row classes)"
           if schema.n_dropped_rare_class else "")
        + (f". Classes: {', '.join(map(str, schema.classes[:12]))}" + (" ..." if len(schema.classes) > 12 else "")
           if schema.classes else "") + ".", icon=":material/target:")

with st.expander(f"Column types: {len(schema.feature_columns)} of {len(columns) - 1} columns used",
                 expanded=True, icon=":material/view_column:"):
    _model_use.column_table(schema, height=_table_height(len(schema.columns), max_rows=25))

st.subheader("Models")
specs = available_models(schema.task)
labels = {m.key: m.label for m in specs}
keys = st.multiselect("Models to compare", list(labels), format_func=labels.get,
                      key=keep(f"{KEY}_models_{schema.task}", default=list(labels), options=list(labels)))
chosen = _hyperparameter_widgets(schema.task, keys)
c1, c2, c3 = st.columns([1, 1, 2])
folds = int(c1.number_input("Folds (K)", min_value=2, max_value=10, key=keep(f"{KEY}_folds", default=5),
                            help="Cross-validation folds; fewer when a class is rarer than K."))
max_rows = int(c2.number_input("Rows to use at most", min_value=100, max_value=max(100, len(df)), step=1000,
                               key=keep(f"{KEY}_max_rows", default=min(len(df), 50_000),
                                        options=range(100, max(100, len(df)) + 1), scope=table.digest),
                               help="Large tables are sampled at random to keep the comparison to about a minute."))
c3.caption("Stratified K-fold for classification (K-fold for regression); the folds of all models run in "
           "parallel. Fold 1 is also the held-out view for the test-split charts and SHAP. The data and "
           "options you set are the whole input: the same inputs give the same results.")

run_key = json.dumps([digest, target, schema.task, chosen, folds, max_rows, exclude], sort_keys=True, default=str)
run_id = hashlib.sha1(run_key.encode()).hexdigest()[:12]
results = st.session_state.setdefault(f"{KEY}_results", {})
if st.button("Run comparison", type="primary", icon=":material/play_arrow:", disabled=not keys,
             key=f"{KEY}_run"):
    res = _run_comparison(df, target, schema.task, chosen, folds, max_rows, exclude)
    if res is not None:
        results.clear()  # keep one comparison per session: results hold fitted models
        for name in ("shap", "figs", "png", "shap_shown"):
            st.session_state.pop(f"{KEY}_{name}", None)
        results[run_id] = res
if not keys:
    st.warning("Pick at least one model.")
result = results.get(run_id) or _model_use.adopt_restored(
    results, run_id, table, target, schema.task, chosen, folds, max_rows if max_rows < len(df) else None, exclude)
if result is None:
    if results:
        st.info("The settings changed since the last run: press **Run comparison** to update the results.",
                icon=":material/refresh:")
    else:
        st.info("Press **Run comparison** to cross-validate the models.", icon=":material/play_arrow:")
    st.stop()

_render_results(result, run_id, _slug(table.name))

# ------------------------------------------------------------------ past one machine (pages/_aws.py)
render_data_models_aws(df, target, schema.task)
