"""UI helpers shared by the pages: table input, error display and downloads.

Only rendering lives here; reading, checking and exporting are done by ``core``.
"""

from __future__ import annotations

import logging
from typing import Any, Callable

import pandas as pd
import streamlit as st

from core.errors import CrossroadsError
from core.export import to_csv_bytes, to_json_bytes
from core.io import SUPPORTED_EXTENSIONS, LoadedTable, list_sheets, load_table

log = logging.getLogger("crossroads.ui")


def ensure_navigation() -> None:
    """Make a deep link that is a fresh server's first request go through ``st.navigation``.

    Streamlit treats a folder named ``pages/`` beside the main script as an
    old-style multipage app until ``st.navigation`` has run once in the
    process (``PagesManager.uses_pages_directory``). Until then a first request
    to ``/sentiment`` would render ``pages/sentiment.py`` on its own, with an
    automatic sidebar listing every file. Call this first thing in every page:
    it switches the server to ``st.navigation`` mode once and reruns, so the
    same URL is served by ``streamlit_app.py`` with its layout and menu.
    """
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()


def show_error(exc: BaseException, *, what: str = "That") -> None:
    """Show an exception as a friendly message, never a traceback.

    Args:
        exc: the exception caught by the page.
        what: what was being done, for the fallback message (e.g. ``"Training"``).
    """
    if isinstance(exc, CrossroadsError):
        st.error(str(exc), icon=":material/error:")
        return
    log.exception("unexpected error")  # full detail goes to the server log only
    st.error(
        f"{what} failed unexpectedly ({type(exc).__name__}: {str(exc)[:300]}). "
        "Check the input and options and try again; if it keeps happening, please report it with the file you used.",
        icon=":material/error:",
    )


# Keyed on the upload's file_id (new for every upload), not on its bytes: hashing a large upload
# on every rerun cost as much as the rest of the page. cache_resource returns the same table object
# on every rerun (no copy), so pages can memoise work on it; nothing in core modifies a table.
@st.cache_resource(show_spinner="Reading the file...", max_entries=8)
def _load_cached(file_id: str, _upload, name: str, sheet: str | None, header: bool,
                 column_names: tuple[str, ...], na_values: tuple[str, ...]) -> LoadedTable:
    return load_table(_upload.getvalue(), name=name, sheet=sheet, header=header,
                      column_names=list(column_names) or None, na_values=list(na_values))


@st.cache_resource(show_spinner=False, max_entries=8)
def _sheets_cached(file_id: str, _upload, name: str) -> list[str]:
    return list_sheets(_upload.getvalue(), name)


def _split(text: str) -> tuple[str, ...]:
    return tuple(p.strip() for p in text.split(",") if p.strip())


def table_input(key: str, *, samples: dict[str, Callable[[], LoadedTable]] | None = None,
                upload_help: str | None = None) -> LoadedTable | None:
    """Let the user pick a sample or upload a table, and return it read.

    Renders a source choice (when ``samples`` are given), a file uploader and a
    "Reading options" expander (sheet, no header, column names, extra missing
    markers). Read errors are shown with ``st.error``.

    Args:
        key: unique widget-key prefix for this page.
        samples: display name -> zero-argument function returning a
            :class:`core.io.LoadedTable`; the first is the default.
        upload_help: help text for the uploader.

    Returns:
        The :class:`core.io.LoadedTable`, or ``None`` while nothing usable is chosen.
    """
    source = "Upload a file"
    if samples:
        source = st.radio("Data", ["Use a sample", "Upload a file"], horizontal=True, key=f"{key}_source")
    if source == "Use a sample":
        name = st.selectbox("Sample dataset", list(samples), key=f"{key}_sample")
        try:
            table = samples[name]()
        except Exception as exc:  # noqa: BLE001 - shown to the user
            show_error(exc, what="Loading the sample")
            return None
        st.caption(table.summary())
        return table

    up = st.file_uploader(
        "Upload a table", type=[e.lstrip(".") for e in SUPPORTED_EXTENSIONS], key=f"{key}_upload",
        help=upload_help or "CSV, TSV/TXT, Excel (.xlsx/.xls/.ods), Parquet or JSON Lines; any common encoding "
                            "(UTF-8, Shift-JIS, Latin-1) and delimiter. Up to 200 MB. Your file is never changed.",
    )
    with st.expander("Reading options", icon=":material/tune:"):
        c1, c2 = st.columns(2)
        no_header = c1.checkbox("The first row is data (no header row)", key=f"{key}_noheader")
        names = c1.text_input("Column names (comma-separated, optional)", key=f"{key}_names",
                              help="One name per column, for files without a header row.")
        na = c2.text_input("Extra missing-value markers (comma-separated)", key=f"{key}_na",
                           placeholder="-200, unknown",
                           help="Already read as missing: empty cells, NA, N/A, NaN, NULL, ?, -")
        sheet = None
        if up is not None and up.name.lower().endswith((".xlsx", ".xlsm", ".xls", ".ods")):
            try:
                sheets = _sheets_cached(up.file_id, up, up.name)
            except Exception as exc:  # noqa: BLE001
                show_error(exc, what="Reading the workbook")
                return None
            if sheets:
                sheet = c2.selectbox("Sheet", sheets, key=f"{key}_sheet")
    if up is None:
        st.info("Upload a file to begin" + (", or use a sample." if samples else "."), icon=":material/upload_file:")
        return None
    try:
        table = _load_cached(up.file_id, up, up.name, sheet, not no_header, _split(names), _split(na))
    except Exception as exc:  # noqa: BLE001 - shown to the user
        show_error(exc, what="Reading the file")
        return None
    st.caption(table.summary())
    if table.notes:
        with st.expander("What was detected while reading", icon=":material/info:"):
            for n in table.notes:
                st.markdown(f"- {n}")
    return table


def download_buttons(df: pd.DataFrame | Callable[[], pd.DataFrame], basename: str, key: str,
                     json_obj: Any = None) -> None:
    """Render CSV and JSON download buttons for a result table.

    CSV cells are escaped against formula injection (:func:`core.export.to_csv_bytes`).
    The files are written when the user clicks (Streamlit's deferred download data), not on
    every rerun, and a click does not rerun the page.

    Args:
        df: the table to download, or a function returning it (called on click).
        basename: file name without extension; say what the file is and from which data
            (``"telco_churn_leaderboard"``) so one download does not overwrite another.
        key: unique widget-key prefix.
        json_obj: what the JSON file holds, or a function returning it (called on click);
            defaults to ``df``'s rows.
    """
    def table() -> pd.DataFrame:
        return df() if callable(df) else df

    def json_bytes() -> bytes:
        obj = json_obj() if callable(json_obj) else json_obj
        return to_json_bytes(table() if obj is None else obj)

    c1, c2 = st.columns(2, width=420)
    c1.download_button("Download CSV", lambda: to_csv_bytes(table()), f"{basename}.csv", "text/csv",
                       key=f"{key}_csv", icon=":material/download:", on_click="ignore")
    c2.download_button("Download JSON", json_bytes, f"{basename}.json", "application/json",
                       key=f"{key}_json", icon=":material/download:", on_click="ignore")
