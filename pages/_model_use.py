"""Data & Models: act on a comparison. Leave columns out, take back a reopened comparison, download a model,
score a new file.

Called from ``pages/data_models.py`` at a few points (kept in this module so the
page's own rendering can change without conflicts):

* :func:`excluded_columns`: the columns the user unticked, passed to the schema and the comparison;
* :func:`column_table`: the column table with a "use" checkbox per column;
* :func:`adopt_restored`: a comparison rebuilt from an opened workspace becomes the page's result
  when the page's settings are the saved ones;
* :func:`use_model_section`: "Download model" (skops) and "Score a new file".

The work is in :mod:`core.tabular.scoring`; this module only renders.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.tabular.compare import METRICS
from core.tabular.schema import EXCLUDED_REASON
from core.tabular.scoring import model_from_comparison, model_to_bytes, score_table
from pages._shared import download_buttons, show_error, table_input
from pages._state import keep, persist

#: Plain session key: the columns the user left out (a list of names), saved in workspaces.
EXCLUDE = "dm_exclude"
#: Plain session key: version of the column-table editor (a new editor after each applied edit).
EDITOR_VERSION = "dm_use_version"
NOTE = "dm_use_note"
RESTORED = "dm_restored"
SCORED = "dm_scored"
persist(EXCLUDE)


def excluded_columns(df: pd.DataFrame, target: str) -> list[str]:
    """The columns of ``df`` the user left out (never the target), in table order."""
    chosen = set(st.session_state.get(EXCLUDE) or [])
    return [str(c) for c in df.columns if str(c) in chosen and str(c) != target]


def column_table(schema, height: int) -> None:
    """The column table with a "use" checkbox per feature column; unticking one leaves it out.

    Columns Crossroads drops by itself (identifiers, constants, empty columns) cannot be
    ticked back; the target has no box.
    """
    ct = schema.columns_frame()
    use = [None if c.action == "target" else c.action in ("used", "encoded") for c in schema.columns]
    base = pd.DataFrame({"use": pd.Series(use, dtype=object), "name": ct["name"], "inferred_type": ct["inferred_type"],
                         "action": ct["action"], "reason": ct["reason"], "n_missing": ct["n_missing"],
                         "n_unique": ct["n_unique"]})
    version = st.session_state.get(EDITOR_VERSION, 0)
    edited = st.data_editor(
        base, hide_index=True, height=height, key=f"dm_use_{version}", disabled=[c for c in base.columns if c != "use"],
        column_config={"use": st.column_config.CheckboxColumn("Use", help="Untick to leave the column out of the "
                                                              "features, e.g. when it would not be known at "
                                                              "prediction time (leakage)."),
                       "name": "Column", "inferred_type": "Type", "action": "Action", "reason": "Why",
                       "n_missing": "Missing", "n_unique": "Distinct"})
    note = st.session_state.pop(NOTE, None)
    if note:
        st.caption(note)
    excluded = set(st.session_state.get(EXCLUDE) or [])
    before = set(excluded)
    refused = []
    for c, old, new in zip(schema.columns, base["use"], edited["use"]):
        if c.action == "target" or bool(new) == bool(old):
            continue
        if not new and c.action in ("used", "encoded"):
            excluded.add(c.name)
        elif new and c.reason == EXCLUDED_REASON:
            excluded.discard(c.name)
        elif new:
            refused.append(f"'{c.name}' ({c.reason})")
    if excluded != before or refused:
        st.session_state[EXCLUDE] = [c.name for c in schema.columns if c.name in excluded]
        st.session_state[EDITOR_VERSION] = version + 1
        if refused:
            st.session_state[NOTE] = ("Crossroads cannot use " + ", ".join(refused) +
                                      ": such columns cannot help predict new rows.")
        st.rerun()


def adopt_restored(results: dict, run_id: str, table, target: str, task: str, chosen: dict, folds: int,
                   max_rows: int | None, exclude: list[str]):
    """Make the comparison rebuilt from an opened workspace the page's result, if the page's settings are its own.

    Args:
        results: the page's ``{run id: ComparisonResult}``; replaced by the restored one.
        run_id: the page's id for its current settings.
        table: the :class:`~core.io.LoadedTable` on the page.
        target, task, chosen, folds, max_rows, exclude: the page's current settings
            (``task`` resolved, ``max_rows`` ``None`` when every row is used).

    Returns:
        The restored :class:`~core.tabular.compare.ComparisonResult`, or ``None``.
    """
    pending = st.session_state.get(RESTORED)
    if not pending:
        return None
    result = pending["result"]
    s = result.settings
    saved = (pending["digest"], s.target, result.task, {k: dict(v) for k, v in s.models.items()}, int(s.folds),
             s.max_rows, sorted(s.exclude))
    page = (table.digest, target, task, {k: dict(v) for k, v in chosen.items()}, int(folds), max_rows,
            sorted(exclude))
    if saved != page:
        return None
    results.clear()
    results[run_id] = result
    st.session_state.pop("dm_shap", None)
    check = st.session_state.pop(RESTORED)["check"]
    if not check.matches:
        st.warning("The models rebuilt from the workspace differ from the saved ones (another scikit-learn "
                   "version?): " + "; ".join(check.differences[:5]) + " The cross-validation figures shown are "
                   "the saved ones.", icon=":material/warning:")
    return result


def use_model_section(result, run_id: str) -> None:
    """ "Use a model": pick a compared model, download it (skops), score a new file and download the predictions."""
    with st.expander("Use a model: download it, or score a new file", icon=":material/rocket_launch:",
                     key=keep("dm_use_open", default=False)):
        labels = {r.key: r.label for r in result.results}
        mkey = st.selectbox("Model", list(labels), format_func=labels.get,
                            key=keep("dm_use_model", default=result.best.key, options=list(labels)))
        model = model_from_comparison(result, mkey)
        r = result.result(mkey)
        primary = result.primary_metric
        name = METRICS[result.task][primary][0]
        st.caption(f"{r.label} as fitted on the {len(result.y_train):,} training rows of the hold-out split: "
                   f"{name} {r.holdout.metrics[primary]:.3f} on {len(result.y_test):,} rows it never saw "
                   f"({name} {r.metrics[primary]['mean']:.3f} ± {r.metrics[primary]['std']:.3f} in "
                   f"{result.n_splits}-fold cross-validation).")
        st.download_button("Download model (.skops)", data=lambda: model_to_bytes(model),
                           file_name=f"crossroads_{mkey}_{result.schema.target}.skops",
                           mime="application/octet-stream", on_click="ignore", key="dm_model_dl",
                           icon=":material/download:")
        st.caption("skops is scikit-learn's safe format: it loads without pickle and refuses unknown types. "
                   "Score files with it outside the app: `python -m core predict --model FILE.skops --data "
                   "NEW.csv --out predictions.csv`.")
        st.markdown("**Score a new file**")
        needed = model.feature_columns
        st.caption(f"Upload rows with the {len(needed)} column(s) the model uses ("
                   + ", ".join(needed[:12]) + (" ..." if len(needed) > 12 else "") + "); the target is not needed. "
                   "Other columns are ignored and kept in the output. A category the model never saw counts as "
                   "the column's rare group (or none of its categories); a cell that is not a number where a "
                   "number is expected counts as missing. Each is reported below.")
        new = table_input("dm_score", upload_help="The rows to predict: a table with the same columns as the "
                                                  "training table (the target column is not needed).")
        if new is None:
            return
        cache = st.session_state.setdefault(SCORED, {})
        ck = (run_id, mkey, new.digest)
        if ck not in cache:
            try:
                scored = score_table(model, new.frame)
            except Exception as exc:  # noqa: BLE001 - shown to the user
                show_error(exc, what="Scoring the file")
                return
            cache.clear()
            cache[ck] = scored
        scored = cache[ck]
        for note in scored.notes:
            st.info(note, icon=":material/info:")
        pred = scored.frame[scored.prediction_column]
        if result.task == "classification":
            counts = pred.value_counts()
            st.success(f"{len(pred):,} rows scored with {r.label}: " + ", ".join(f"{k} {v:,}" for k, v in
                                                                               counts.items()) + ".",
                       icon=":material/check_circle:")
        else:
            st.success(f"{len(pred):,} rows scored with {r.label}: predictions from {pred.min():,.4g} to "
                       f"{pred.max():,.4g} (mean {pred.mean():,.4g}).", icon=":material/check_circle:")
        shown = [scored.prediction_column, *scored.probability_columns.values()]
        st.dataframe(scored.frame[shown + [c for c in scored.frame.columns if c not in shown]].head(200),
                     hide_index=True, key="dm_scored_table")
        st.caption("Download the predictions: CSV (cells that a spreadsheet would run as a formula are escaped) or "
                   "JSON" + (", with one probability column per class (0-1)." if scored.probability_columns else "."))
        download_buttons(scored.frame, f"predictions_{mkey}", key="dm_pred_dl")
