"""Sidebar "Save workspace" / "Open workspace": every page's work in one file, and back.

Saving collects, without touching any page:

* every kept widget value (:mod:`pages._state`): the choices made on every page;
* the plain session-state keys declared with :func:`pages._state.persist` (and
  :data:`DEFAULT_PERSISTED`): sentiment results, LLM answers, batch tables...,
  encoded by :mod:`core.workspace.codec` (DataFrames become Parquet tables);
* the uploaded tables in use on each page, as read (Parquet);
* the Data & Models comparison as a record (:func:`core.workspace.sections.add_comparison`):
  its fitted models are rebuilt when the workspace is opened.

Opening checks the whole file first (:func:`core.workspace.open_workspace`); a bad
file shows a message and changes nothing. A good one replaces the session's work
before the page runs, so every page shows it.
"""

from __future__ import annotations

import datetime as _dt
import logging
import time
from typing import Any, Mapping

import streamlit as st

from core.errors import CrossroadsError
from core.workspace import Workspace, open_workspace, workspace_to_bytes
from core.workspace.codec import UnsupportedValue, decode, encode
from core.workspace.sections import add_comparison, add_loaded_table, loaded_table
from pages._shared import add_uploaded_file
from pages._state import KEPT, PERSISTED, SCOPE, restore_values

log = logging.getLogger("crossroads.ui")

#: Plain (non-widget) session keys saved by default: results the pages keep today.
DEFAULT_PERSISTED = ("dm_exclude", "sent_single", "sent_batch", "sent_table_id", "arena_result", "arena_batch",
                     "arena_latencies", "arena_last_example")
#: Where an opened workspace's rebuilt comparison waits for the Data & Models page (pages/_model_use.py).
RESTORED = "dm_restored"
#: Where an opened workspace's bake-off waits for the Decide page: ``{"result": BakeoffResult, "record": {analysis,
#: constraints, config, source}, "check": RestoreCheck, "train": DataFrame, "test": DataFrame}``.
DECIDE_RESTORED = "decide_restored"
MESSAGE = "_ws_message"
#: Result document holding the persisted plain session keys (codec-encoded).
SESSION = "pages.session"
PENDING = "_ws_pending"
UPLOAD_VERSION = "_ws_upload_version"


# ------------------------------------------------------------------ saving

def snapshot(state: Mapping[str, Any]) -> dict[str, Any]:
    """The references a workspace is built from, taken in the script run (cheap: no copies of tables)."""
    persisted = set(DEFAULT_PERSISTED) | PERSISTED
    return {
        "kept": dict(state.get(KEPT, {})),
        "plain": {k: state[k] for k in persisted if k in state},
        "tables": dict(state.get("_crossroads_tables", {})),
        "files": dict(state.get("_crossroads_files", {})),
        "dm_results": dict(state.get("dm_results", {})),
    }


def build_workspace(snap: Mapping[str, Any]) -> tuple[Workspace, list[str]]:
    """Build the :class:`~core.workspace.Workspace` of a :func:`snapshot`.

    Returns:
        ``(workspace, skipped)``: ``skipped`` names values that could not be saved (and why).
    """
    ws = Workspace()
    skipped: list[str] = []
    counter = [0]

    def add_frame(df) -> str:
        counter[0] += 1
        return ws.add_table(f"state.{counter[0]}", df)

    ui: dict[str, Any] = {}
    for k, v in snap["kept"].items():
        try:
            ui[k] = encode(v, add_frame)
        except UnsupportedValue as exc:
            skipped.append(f"{k}: {exc}")
    plain: dict[str, Any] = {}
    for k, v in snap["plain"].items():
        try:
            plain[k] = encode(v, add_frame)
        except UnsupportedValue as exc:
            skipped.append(f"{k}: {exc}")
    files: dict[str, str] = {}
    for key, rec in snap["tables"].items():
        if rec.get("source") != "upload" or not rec.get("file"):
            continue
        fid = rec["file"]
        if fid not in files:
            name = f"file.{len(files) + 1}"
            entry = snap["files"].get(fid, {})
            add_loaded_table(ws, name, rec["table"])
            ws.table_info[name].update({"file_id": fid, "page": entry.get("page", key)})
            files[fid] = name
    comparison = None
    for result in snap["dm_results"].values():
        comparison = result
    dm = snap["tables"].get("dm")
    if comparison is not None and dm is not None:
        table = dm["table"]
        same = (len(table.frame) == comparison.schema.n_rows_total
                and [str(c) for c in table.frame.columns] == [c.name for c in comparison.schema.columns])
        if same and comparison.settings is not None:
            add_comparison(ws, table, comparison)
        else:
            skipped.append("the Data & Models comparison: its table is no longer the one on the page; "
                           "run it again to save it")
    ws.state = {"ui": ui, "files": files}
    ws.results[SESSION] = plain  # results can be large: a JSON member, not the manifest
    return ws, skipped


def workspace_bytes(snap: Mapping[str, Any]) -> bytes:
    """The ``.zip`` bytes of a :func:`snapshot` (called when the user clicks "Save workspace")."""
    ws, skipped = build_workspace(snap)
    if skipped:
        ws.state["skipped"] = skipped
        log.info("workspace saved without: %s", "; ".join(skipped))
    return workspace_to_bytes(ws)


# ------------------------------------------------------------------ opening

def _on_open(key: str) -> None:
    up = st.session_state.get(key)
    if up is None:
        return
    try:
        st.session_state[PENDING] = (up.name, open_workspace(up.getvalue(), name=up.name))
    except CrossroadsError as exc:
        st.session_state[MESSAGE] = ("error", f"{exc} Your current work is kept.")
    except Exception as exc:  # noqa: BLE001 - never a traceback in the UI
        log.exception("opening a workspace failed")
        st.session_state[MESSAGE] = ("error", f"'{up.name}' could not be opened ({type(exc).__name__}). "
                                              "Your current work is kept.")
    st.session_state[UPLOAD_VERSION] = st.session_state.get(UPLOAD_VERSION, 0) + 1  # empty the uploader


def _dm_widgets_from_settings(result, table_fid: str, n_rows: int, digest: str) -> dict[str, Any]:
    """Widget values of Data & Models that reproduce a comparison's settings (for a workspace made by the CLI)."""
    from core.tabular.models import MODELS

    s = result.settings
    values: dict[str, Any] = {"dm_source": "Upload a file", "dm_file": table_fid, "dm_target": s.target,
                              "dm_task": s.task if s.task in ("classification", "regression") else "auto",
                              f"dm_models_{result.task}": list(s.models), "dm_folds": int(s.folds),
                              "dm_max_rows": int(s.max_rows) if s.max_rows else int(n_rows),
                              "dm_max_rows" + SCOPE: digest}
    for key, params in s.models.items():
        for h in MODELS[key].params_for(result.task):
            values[f"dm_hp_{result.task}_{key}_{h.name}"] = params.get(h.name, h.default)
    return values


def apply_workspace(name: str, ws: Workspace, progress=None) -> str:
    """Replace this session's work with the workspace's; returns a one-line summary for the user.

    Raises:
        CrossroadsError: the saved comparison cannot be rebuilt (nothing is changed then).
    """
    from core.workspace.sections import DECIDE, restore_bakeoff_section, restore_comparison_section

    start = time.perf_counter()
    state = ws.state if isinstance(ws.state, dict) else {}

    def get_table(tname: str):
        if tname not in ws.tables:
            raise CrossroadsError(f"'{name}' is damaged: it refers to a table '{tname}' it does not hold.")
        return ws.tables[tname]

    ui = {k: decode(v, get_table) for k, v in (state.get("ui") or {}).items()}
    saved = ws.results.get(SESSION) if isinstance(ws.results.get(SESSION), dict) else {}
    plain = {k: decode(v, get_table) for k, v in saved.items()}
    rebuilt = restore_comparison_section(ws, on_progress=progress)  # the slow part, before anything changes
    bakeoff = restore_bakeoff_section(ws)
    # ---- from here on the session is replaced
    for fid, tname in (state.get("files") or {}).items():
        table = loaded_table(ws, tname)
        add_uploaded_file({"name": table.name, "page": f"from {name}", "size": table.n_bytes,
                           "table": table}, fid)
    for k, v in plain.items():
        st.session_state[k] = v
    for k in ("dm_results", "dm_shap", RESTORED, DECIDE_RESTORED):
        st.session_state.pop(k, None)
    if bakeoff is not None:
        b_result, record, b_check = bakeoff
        sec = ws.sections[DECIDE]
        st.session_state[DECIDE_RESTORED] = {"result": b_result, "record": record, "check": b_check,
                                             "train": ws.tables[sec["train"]], "test": ws.tables[sec["test"]]}
    parts = []
    if rebuilt is not None:
        table, result, check = rebuilt
        if not any(k.startswith("dm_") for k in ui):  # a workspace written by the CLI: set the page's choices
            dm_fid = table.digest or "workspace-table"
            add_uploaded_file({"name": table.name, "page": f"from {name}", "size": table.n_bytes,
                               "table": table}, dm_fid)
            ui.update(_dm_widgets_from_settings(result, dm_fid, len(table.frame), table.digest))
            st.session_state["dm_exclude"] = list(result.settings.exclude)
        st.session_state[RESTORED] = {"result": result, "check": check, "digest": table.digest}
        parts.append(f"the comparison's {len(result.results)} models rebuilt in {check.seconds:.1f} s"
                     + (" (hold-out results match the saved ones)" if check.matches else
                        " — they differ from the saved ones: " + "; ".join(check.differences[:3])))
    if bakeoff is not None:
        parts.append(f"the bake-off on {bakeoff[0].n_test:,} test rows (classifier rebuilt"
                     + (", same predictions)" if bakeoff[2].matches else ": " + "; ".join(bakeoff[2].differences)
                        + ")"))
    restore_values(ui)
    n_tables = len(state.get("files") or {})
    parts.insert(0, f"{n_tables} uploaded table(s) and {len(ui)} choice(s) on every page"
                 + (f", {len(plain)} kept result(s)" if plain else ""))
    when = ws.created.replace("T", " ").replace("+00:00", " UTC") if ws.created else "at an unknown time"
    return f"Opened **{name}** (saved {when}): " + "; ".join(parts) + f". {time.perf_counter() - start:.1f} s."


def sidebar() -> None:
    """Render "Save workspace" and "Open workspace" in the sidebar, and apply a workspace just opened.

    Call in ``streamlit_app.py`` after ``st.navigation`` and before the page runs.
    """
    pending = st.session_state.pop(PENDING, None)
    with st.sidebar:
        st.markdown("**Workspace**")
        if pending is not None:
            name, ws = pending
            with st.status(f"Opening {name}...", expanded=True) as status:
                bar = st.progress(0.0, text="Rebuilding the models...")
                try:
                    msg = apply_workspace(name, ws, progress=lambda f, m: bar.progress(min(max(f, 0.0), 1.0),
                                                                                        text=m))
                except CrossroadsError as exc:
                    status.update(label="Could not open the workspace", state="error")
                    st.session_state[MESSAGE] = ("error", f"{exc} Your current work is kept.")
                except Exception as exc:  # noqa: BLE001 - never a traceback in the UI
                    log.exception("applying a workspace failed")
                    status.update(label="Could not open the workspace", state="error")
                    st.session_state[MESSAGE] = ("error", f"'{name}' could not be opened ({type(exc).__name__}: "
                                                          f"{str(exc)[:200]}). Your current work is kept.")
                else:
                    status.update(label=f"Opened {name}", state="complete", expanded=False)
                    st.session_state[MESSAGE] = ("success", msg)
        snap = snapshot(st.session_state)
        stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M")
        st.download_button("Save workspace", data=lambda: workspace_bytes(snap),
                           file_name=f"crossroads-workspace-{stamp}.zip", mime="application/zip",
                           icon=":material/save:", on_click="ignore", key="ws_save", width="stretch",
                           help="Downloads one .zip: your tables (Parquet), results (JSON) and every choice on "
                                "every page. Models are rebuilt from them when you open it; nothing is pickled.")
        version = st.session_state.get(UPLOAD_VERSION, 0)
        key = f"ws_open_{version}"
        with st.popover("Open workspace", icon=":material/folder_open:", width="stretch"):
            st.file_uploader("A workspace .zip", type=["zip"], key=key, on_change=_on_open, args=(key,),
                             help="A .zip saved with 'Save workspace' (or `python -m core compare --workspace`).")
            st.caption("It replaces the work in this session on every page. A file that is not a workspace "
                       "changes nothing.")
        message = st.session_state.get(MESSAGE)
        if message:
            kind, text = message
            (st.error if kind == "error" else st.success)(text, icon=":material/error:" if kind == "error"
                                                          else ":material/folder_open:")
