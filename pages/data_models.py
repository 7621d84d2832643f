"""Data & Models page: bring a table, pick the column to predict, compare classic ML models, see why they predict.

Thin page: the work is in :mod:`core.tabular` (schema, comparison, charts, SHAP);
this file only renders. A comparison's result is kept in ``st.session_state`` under
a fingerprint of its inputs (data, target, task, models, hyperparameters, folds), so
changing a chart option never re-trains; SHAP results are kept the same way.
"""

from __future__ import annotations

import hashlib
import io
import json

import pandas as pd
import streamlit as st

from core.errors import CrossroadsError
from core.io import LoadedTable, load_table
from core.tabular import charts
from core.tabular.explain import format_number, plot_bar, plot_beeswarm, plot_waterfall
from core.tabular.compare import METRICS, compare_models, explain_model, result_to_json
from core.tabular.models import MODELS, available_models
from core.tabular.schema import infer_schema, suggest_target
from pages import _model_use
from pages._aws import render_data_models_aws
from pages._shared import download_buttons, ensure_navigation, show_error, table_input
from pages._state import keep

ensure_navigation()

KEY = "dm"
#: Wall-time budget of one SHAP explanation in the page, in seconds: the random forest explains
#: ~90-280 ms per row on 2 cores, so 10 s still gives ~35-100 rows and the tab stays quick.
SHAP_BUDGET_S = 10.0
charts.configure_matplotlib_cjk()  # Japanese column names in SHAP's matplotlib charts


# ------------------------------------------------------------------ samples (bundled with scikit-learn: no download)

def _sample(loader, target_names: bool) -> LoadedTable:
    bunch = loader(as_frame=True)
    df = bunch.frame.copy()
    if target_names:
        df["target"] = [str(bunch.target_names[i]) for i in df["target"]]
    name = loader.__name__.removeprefix("load_")
    return load_table(df.to_csv(index=False).encode("utf-8"), name=f"{name}.csv")


@st.cache_data(show_spinner=False)
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

def _fingerprint(df: pd.DataFrame) -> str:
    h = hashlib.sha1()
    h.update(json.dumps([str(c) for c in df.columns], ensure_ascii=False).encode())
    try:
        h.update(pd.util.hash_pandas_object(df.astype(str), index=False).values.tobytes())
    except Exception:  # noqa: BLE001 - hashing is best effort; fall back to the CSV text
        h.update(df.to_csv(index=False).encode("utf-8", "replace"))
    return h.hexdigest()[:16]


@st.cache_data(show_spinner=False, max_entries=16)
def _schema(fp: str, _df: pd.DataFrame, target: str, task: str, exclude: tuple[str, ...] = ()):
    return infer_schema(_df, target, task=task, exclude=exclude)


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
    """A user's cell for the row-detail table: 3.0 -> '3', NaN -> 'missing'."""
    if v is None or (isinstance(v, float) and pd.isna(v)):
        return "missing"
    if isinstance(v, float) and v.is_integer():
        return f"{int(v)}"
    return str(v)


def _leaderboard_display(result) -> pd.DataFrame:
    rows = []
    for r in result.results:
        row = {"Model": r.label}
        for m, (name, higher) in METRICS[result.task].items():
            mean, std = r.metrics[m]["mean"], r.metrics[m]["std"]
            fmt = "{:,.0f}" if abs(mean) >= 1e4 else "{:.3f}"
            row[f"{name} {'↑' if higher else '↓'}"] = f"{fmt.format(mean)} ± {fmt.format(std)}"
        row["Fit (s/fold)"] = round(r.fit_seconds, 3)
        row["Predict (s/fold)"] = round(r.predict_seconds, 3)
        rows.append(row)
    return pd.DataFrame(rows)


def _run_comparison(df, target, task, chosen, folds, max_rows, exclude=()):
    with st.status("Comparing models...", expanded=True) as status:
        bar = st.progress(0.0, text="Starting...")

        def on_progress(fraction: float, message: str) -> None:
            bar.progress(min(max(fraction, 0.0), 1.0), text=message)

        try:
            result = compare_models(df, target, task=task, models=chosen, folds=folds, on_progress=on_progress,
                                    max_rows=max_rows if max_rows < len(df) else None, exclude=exclude)
        except Exception as exc:  # noqa: BLE001 - shown to the user
            status.update(label="The comparison failed", state="error")
            show_error(exc, what="The comparison")
            return None
        status.update(label=f"Compared {len(result.results)} models in {result.seconds:.1f} s "
                            f"({result.n_splits}-fold cross-validation)", state="complete", expanded=False)
    return result


def _shap_for(run_id: str, result, key: str, group: bool, rows: int):
    cache = st.session_state.setdefault(f"{KEY}_shap", {})
    ck = (run_id, key, group, rows)
    if ck not in cache:
        with st.spinner(f"Explaining {MODELS[key].label} with SHAP..."):
            cache[ck] = explain_model(result, key, max_explain_rows=rows, group_onehot=group,
                                      time_budget_s=SHAP_BUDGET_S)
    return cache[ck]


# ------------------------------------------------------------------ page

st.title(":material/table_chart: Data & Models")
st.markdown("Bring a table, pick the column to predict, and see which classic algorithm works, "
            "how fast it is, and **why** it predicts what it does.")

table = table_input(KEY, samples=SAMPLES)
if table is None:
    st.stop()
df = table.frame
with st.expander(f"Preview ({len(df):,} rows × {df.shape[1]} columns)", icon=":material/visibility:"):
    st.dataframe(df.head(200), hide_index=True)

columns = [str(c) for c in df.columns]
c1, c2 = st.columns([3, 2])
try:
    suggested = suggest_target(df)
except CrossroadsError:
    suggested = columns[-1]
target = c1.selectbox("Column to predict (target)", columns,
                      key=keep(f"{KEY}_target", default=suggested, options=columns),
                      help="Suggested: a column named like target/label/class/outcome/churn/price/quality/value, "
                           "else the last column that is not an ID, free text or constant.")
task_choice = c2.segmented_control("Task", ["auto", "classification", "regression"], required=True,
                                   key=keep(f"{KEY}_task", default="auto",
                                            options=["auto", "classification", "regression"]),
                                   help="auto: text labels or a few whole numbers = classification, else regression.")
fp = _fingerprint(df)
exclude = _model_use.excluded_columns(df, target)
try:
    schema = _schema(fp, df, target, task_choice or "auto", tuple(exclude))
except Exception as exc:  # noqa: BLE001 - show_error words CrossroadsError and unexpected errors alike
    show_error(exc, what="Reading the columns")
    st.stop()

st.info(f"**Task: {schema.task}** ({schema.task_reason}). {schema.n_rows:,} of {schema.n_rows_total:,} rows used"
        + (f"; {schema.n_dropped_missing_target:,} dropped because the target is missing"
           if schema.n_dropped_missing_target else "")
        + (f"; {schema.n_dropped_rare_class:,} dropped (single-row classes)" if schema.n_dropped_rare_class else "")
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
c3.caption("Stratified K-fold for classification (K-fold for regression), plus a 20% hold-out split for "
           "the test-split charts and SHAP. The data and options you set are the whole input: the same "
           "inputs give the same results.")

run_key = json.dumps([fp, target, schema.task, chosen, folds, max_rows, exclude], sort_keys=True, default=str)
run_id = hashlib.sha1(run_key.encode()).hexdigest()[:12]
results = st.session_state.setdefault(f"{KEY}_results", {})
if st.button("Run comparison", type="primary", icon=":material/play_arrow:", disabled=not keys,
             key=f"{KEY}_run"):
    res = _run_comparison(df, target, schema.task, chosen, folds, max_rows, exclude)
    if res is not None:
        results.clear()  # keep one comparison per session: results hold fitted models
        st.session_state.pop(f"{KEY}_shap", None)
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

# ------------------------------------------------------------------ results
st.header("Results")
for w in result.warnings:
    st.warning(w, icon=":material/warning:")
primary_name = METRICS[result.task][result.primary_metric][0]
best = result.best
st.success(f"Best model: **{best.label}**: {primary_name} {best.metrics[result.primary_metric]['mean']:.3f} "
           f"± {best.metrics[result.primary_metric]['std']:.3f} over {result.n_splits} folds.",
           icon=":material/emoji_events:")
st.subheader("Leaderboard")
st.caption(f"Sorted by {primary_name}; mean ± std over {result.n_splits} folds; seconds are wall clock per fold.")
st.dataframe(_leaderboard_display(result), hide_index=True)
st.caption("Download the leaderboard: CSV (this table) or JSON (the whole comparison: columns, warnings, "
           "every metric).")
download_buttons(result.leaderboard(), "leaderboard", key=f"{KEY}_dl", json_obj=result_to_json(result))

_model_use.use_model_section(result, run_id)

tab_scores, tab_test, tab_shap = st.tabs(["Scores and times", "Test-split charts", "SHAP: why"])
with tab_scores:
    metric_keys = list(METRICS[result.task])
    metric = st.selectbox("Metric", metric_keys, index=metric_keys.index(result.primary_metric),
                          format_func=lambda m: METRICS[result.task][m][0], key=f"{KEY}_metric")
    st.plotly_chart(charts.metric_bars(result, metric), key=f"{KEY}_bars")
    st.plotly_chart(charts.timing_bars(result), key=f"{KEY}_times")

with tab_test:
    n_test = len(result.y_test)
    st.caption(f"Each model was re-fitted on {len(result.y_train):,} rows and evaluated on {n_test:,} held-out rows.")
    by_label = {r.label: r for r in result.results}
    pick = st.selectbox("Model", list(by_label), key=f"{KEY}_test_model")
    r = by_label[pick]
    if result.task == "classification":
        normalize = st.toggle("Show shares of each true class", key=f"{KEY}_cm_norm")
        curves = ({x.label: x.holdout for x in result.results} if len(result.classes) == 2
                  else {r.label: r.holdout})
        c0, c1, c2 = st.columns(3)
        c0.plotly_chart(charts.confusion_matrix_figure(r.holdout, result.classes, normalize=normalize),
                        key=f"{KEY}_cm")
        c1.plotly_chart(charts.roc_curve_figure(curves, result.classes), key=f"{KEY}_roc")
        c2.plotly_chart(charts.pr_curve_figure(curves, result.classes), key=f"{KEY}_pr")
    else:
        c1, c2 = st.columns(2)
        c1.plotly_chart(charts.predicted_vs_actual_figure(r.holdout), key=f"{KEY}_pva")
        c2.plotly_chart(charts.residuals_figure(r.holdout), key=f"{KEY}_resid")

with tab_shap:
    st.caption("SHAP splits each prediction into one contribution per feature, starting from the base value "
               "(the average prediction). Explained on held-out rows.")
    explainable = [x for x in result.results if not x.baseline] or result.results
    labels_shap = {x.key: x.label for x in explainable}
    c1, c2, c3 = st.columns([2, 1, 1])
    skey = c1.selectbox("Model to explain", list(labels_shap), format_func=labels_shap.get, key=f"{KEY}_shap_model")
    group = c2.toggle("Group by source column", value=True, help="Sum the SHAP values of one-hot levels, TF-IDF terms and date parts into their source column.", key=f"{KEY}_shap_group")
    rows = int(c3.select_slider("Rows to explain (at most)", [50, 100, 200, 300, 500], value=200,
                                key=f"{KEY}_shap_rows"))
    try:
        sr = _shap_for(run_id, result, skey, group, rows)
    except Exception as exc:  # noqa: BLE001 - shown to the user
        show_error(exc, what="The SHAP explanation")
        st.stop()
    class_index = None
    if sr.classes is not None and len(sr.classes) > 2:
        opts = [None, *range(len(sr.classes))]
        class_index = st.selectbox("Class", opts, key=f"{KEY}_shap_class",
                                   format_func=lambda i: "all classes (mean |SHAP|)" if i is None else str(sr.classes[i]))
    st.info(sr.caption(class_index), icon=":material/straighten:")
    for note in sr.notes:
        st.caption(note)
    c1, c2 = st.columns(2)
    with c1:
        st.markdown("**Global: mean |SHAP value|**")
        st.pyplot(plot_bar(sr, class_index))
    with c2:
        if sr.classes is not None and len(sr.classes) > 2 and class_index is None:
            shown = sr.classes[sr.default_class_index()]
            st.markdown(f"**Global: beeswarm of class '{shown}'**")
            st.caption(f"A beeswarm shows one class at a time: this is class '{shown}' (the first), not all "
                       "classes. Pick a class above to see another.")
        else:
            st.markdown("**Global: beeswarm**")
        st.pyplot(plot_beeswarm(sr, class_index))
    st.markdown("**Local: why this row got its prediction**")
    positions = list(range(sr.n_explained))
    pos = st.selectbox("Row (original row number)", positions, key=f"{KEY}_shap_row",
                       format_func=lambda p: f"row {sr.row_index[p]}")
    c1, c2 = st.columns([3, 2])
    c1.pyplot(plot_waterfall(sr, pos, class_index))
    row_label = sr.row_index[pos]
    with c2:
        model_result = result.result(skey)
        proba = None
        pred = model_result.pipeline.predict(result.X_test.loc[[row_label]])[0]
        if result.task == "classification":
            proba = model_result.pipeline.predict_proba(result.X_test.loc[[row_label]])[0]
            actual = result.classes[int(result.y_test[list(result.X_test.index).index(row_label)])]
            st.markdown(f"Predicted **{result.classes[int(pred)]}** "
                        f"(probability {proba.max():.2f}); actual **{actual}**.")
        else:
            actual = result.y_test[list(result.X_test.index).index(row_label)]
            st.markdown(f"Predicted **{format_number(pred)}**; actual **{format_number(actual, digits=6)}** "
                        "(3 significant digits).")
        detail = pd.DataFrame({"column": [str(c) for c in result.X_test.columns],
                               "value": [_cell_text(v) for v in result.X_test.loc[row_label].tolist()]})
        st.dataframe(detail, hide_index=True, height=_table_height(len(detail), max_rows=30))
    top = pd.DataFrame(sr.top_features(15, class_index))
    if sr.classes is None:
        which = f"mean |SHAP| in {sr.output_units}"
    elif class_index is None and len(sr.classes) > 2:
        which = f"all classes, mean |SHAP| in {sr.output_units}"
    else:
        which = f"mean |SHAP| in {sr.output_label(class_index)}"
    st.caption(f"Download the SHAP top features of {labels_shap[skey]} ({which}): CSV or JSON.")
    suffix = "" if sr.classes is None or len(sr.classes) <= 2 else (
        "_all_classes" if class_index is None else f"_class_{class_index}")
    download_buttons(top, f"shap_top_features_{skey}{suffix}", key=f"{KEY}_shap_dl")

# ------------------------------------------------------------------ past one machine (pages/_aws.py)
render_data_models_aws(df, target, schema.task)
