"""UI helpers shared by the pages: table input (with the files uploaded on any page), error display and downloads.

Only rendering lives here; reading, checking and exporting are done by ``core``.
"""

from __future__ import annotations

import logging
from typing import Any, Callable

import pandas as pd
import streamlit as st

from core.errors import CrossroadsError
from core.export import to_csv_bytes, to_json_bytes
from core.io import LoadedTable, file_digest, list_sheets, load_table
from core.redact import redact_urls
from pages._state import keep, put

log = logging.getLogger("crossroads.ui")


_NAVIGATION_SWITCHED = False


def ensure_navigation() -> None:
    """Make a deep link that is a fresh server's first request go through ``st.navigation``.

    Streamlit treats a folder named ``pages/`` beside the main script as an
    old-style multipage app until ``st.navigation`` has run once in the
    process (``PagesManager.uses_pages_directory``). Until then a first request
    to ``/sentiment`` would render ``pages/sentiment.py`` on its own, with an
    automatic sidebar listing every file. Call this first thing in every page:
    it switches the server to ``st.navigation`` mode once and reruns, so the
    same URL is served by ``streamlit_app.py`` with its layout and menu.

    Streamlit has no public switch for this while the folder is named ``pages/`` (the layout is fixed):
    ``PagesManager`` sets the flag from the folder's existence and only ``st.navigation`` clears it, after
    the first request has already run the page file through ``_mpa_v1``. So the private flag is used, and
    ``requirements.txt`` pins Streamlit below the next minor release; ``tests/ui/test_browser_navigation.py``
    is the guard to run before raising the bound.
    """
    from streamlit.runtime.pages_manager import PagesManager

    global _NAVIGATION_SWITCHED
    # Once per process: a server never turns the flag back on after st.navigation has run, but AppTest resets
    # it before every run and then runs the page without the main script, so a rerun each time would drop
    # every button click of an AppTest on the whole app.
    if PagesManager.uses_pages_directory and not _NAVIGATION_SWITCHED:
        _NAVIGATION_SWITCHED = True
        PagesManager.uses_pages_directory = False
        st.rerun()


def show_error(exc: BaseException, *, what: str = "That") -> None:
    """Show an exception as a friendly message, never a traceback.

    Args:
        exc: the exception caught by the page.
        what: what was being done, for the fallback message (e.g. ``"Training"``).
    """
    if isinstance(exc, CrossroadsError):
        st.error(redact_urls(str(exc)), icon=":material/error:")
        return
    log.exception("unexpected error")  # full detail goes to the server log only
    st.error(
        f"{what} failed unexpectedly ({type(exc).__name__}: {redact_urls(str(exc))[:300]}). "
        "Check the input and options and try again; if it keeps happening, please report it with the file you used.",
        icon=":material/error:",
    )


#: Session-state key of the uploaded files offered on every page: ``{file id: entry}`` (see :func:`table_input`).
FILES = "_crossroads_files"
#: Uploaded files held at most (the oldest one no page uses is forgotten first).
MAX_FILES = 8
#: Which page a table_input key belongs to, for "uploaded on ..." labels.
PAGE_OF_KEY = {"dm": "Data & Models", "dm_score": "Data & Models (scoring)", "sentiment": "Sentiment",
               "arena_train": "Prompt Arena", "arena_batch": "Prompt Arena (batch)", "decide": "Decide"}


@st.cache_resource(show_spinner="Reading the file...", max_entries=8)
def _load_cached(file_id: str, name: str, sheet: str | None, header: bool, column_names: tuple[str, ...],
                 na_values: tuple[str, ...], _data: bytes) -> LoadedTable:
    """Read an upload once per (file, options). Keyed on the file's SHA-256 (computed once, at upload), so a
    rerun neither re-hashes nor copies the bytes; the returned table is shared: callers must not modify it."""
    return load_table(_data, name=name, sheet=sheet, header=header, column_names=list(column_names) or None,
                      na_values=list(na_values), sha256=file_id)


@st.cache_resource(show_spinner=False, max_entries=8)
def _sheets_cached(file_id: str, name: str, _data: bytes) -> list[str]:
    return list_sheets(_data, name)


def _split(text: str) -> tuple[str, ...]:
    return tuple(p.strip() for p in (text or "").split(",") if p.strip())


def uploaded_files() -> dict[str, dict]:
    """The files uploaded on any page of this session, oldest first: ``{file id: entry}``.

    An entry whose last read failed carries ``"failed": True`` and is not offered on other pages.

    An entry is ``{"name", "page", "size", "data"}`` (``data``: the file's bytes) for an
    upload, or ``{"name", "page", "size", "table"}`` (a :class:`~core.io.LoadedTable`
    already read) for a table restored from a workspace. The file id is the SHA-256
    of the bytes, or the table's digest.
    """
    return st.session_state.setdefault(FILES, {})


def add_uploaded_file(entry: dict, file_id: str) -> str:
    """Offer a file on every page (newest last), forgetting the oldest unused ones beyond :data:`MAX_FILES`."""
    files = uploaded_files()
    files.pop(file_id, None)
    files[file_id] = entry
    in_use = {st.session_state.get(k) for k in list(st.session_state.keys()) if str(k).endswith("_file")}
    for old in list(files)[:-1]:
        if len(files) <= MAX_FILES:
            break
        if old not in in_use:
            del files[old]
    return file_id


def _register_upload(key: str, up) -> str:
    """Hash an upload once and offer it on every page; returns its file id."""
    data = up.getvalue()
    fid = file_digest(data)
    add_uploaded_file({"name": up.name, "page": PAGE_OF_KEY.get(key, key), "size": len(data), "data": data,
                       "upload_id": up.file_id}, fid)
    return fid


def _on_upload_change(key: str) -> None:
    """The user added or removed a file in the uploader: use it, or stop using the file it held."""
    up = st.session_state.get(f"{key}_upload")
    put(f"{key}_file", _register_upload(key, up) if up is not None else "")


def last_tables() -> dict[str, dict]:
    """``{table_input key: {"source": "sample" | "upload", "file": file id, "table": LoadedTable}}``: what each
    page read last (a workspace saves the uploaded ones)."""
    return st.session_state.setdefault("_crossroads_tables", {})


def _size(n: int) -> str:
    return f"{n / 2**20:,.1f} MB" if n >= 2**20 else f"{max(n, 1) / 1024:,.0f} KB"


def table_input(key: str, *, samples: dict[str, Callable[[], LoadedTable]] | None = None,
                upload_help: str | None = None) -> LoadedTable | None:
    """Let the user pick a sample, upload a table, or reuse a file uploaded on any page, and return it read.

    Renders a source choice (when ``samples`` are given), a file uploader, a choice of
    the files uploaded earlier on any page (shown while the uploader is empty, so a file
    survives a page change: "Using X (uploaded earlier)"), and a "Reading options"
    expander (sheet, no header, column names, extra missing markers). Every choice is
    kept across page changes (:func:`pages._state.keep`). An upload is hashed once
    (SHA-256) when it arrives; reads are cached on that digest. Read errors are shown
    with ``st.error``.

    Widget keys: ``{key}_source``, ``{key}_sample``, ``{key}_upload``, ``{key}_file``
    (the file in use: a file id of :func:`uploaded_files`, or ``""``), ``{key}_noheader``,
    ``{key}_names``, ``{key}_na``, ``{key}_sheet``.

    Args:
        key: unique widget-key prefix for this page.
        samples: display name -> zero-argument function returning a
            :class:`core.io.LoadedTable`; the first is the default.
        upload_help: help text for the uploader.

    Returns:
        The :class:`core.io.LoadedTable` (shared: do not modify it), or ``None`` while
        nothing usable is chosen.
    """
    files = uploaded_files()
    source = "Upload a file"
    if samples:
        source = st.radio("Data", ["Use a sample", "Upload a file"], horizontal=True,
                          key=keep(f"{key}_source", default="Use a sample"))
    if source == "Use a sample":
        names = list(samples)
        name = st.selectbox("Sample dataset", names, key=keep(f"{key}_sample", default=names[0], options=names))
        if files:
            st.caption(f"Files uploaded earlier ({', '.join(e['name'] for e in list(files.values())[-3:])}) are "
                       "offered under **Upload a file**.")
        try:
            table = samples[name]()
        except Exception as exc:  # noqa: BLE001 - shown to the user
            show_error(exc, what="Loading the sample")
            return None
        last_tables()[key] = {"source": "sample", "file": "", "table": table}
        st.caption(table.summary())
        return table

    up = st.file_uploader(
        # no type filter: a wrong file (a PNG, a PDF, a .docx) gets core.io's message saying what it is and what
        # to upload instead; the uploader's own refusal was a red mark on the file name, its reason only on hover
        "Upload a table (CSV, TSV/TXT, Excel, Parquet or JSON Lines)", key=f"{key}_upload",
        on_change=_on_upload_change, args=(key,),
        help=upload_help or "CSV, TSV/TXT, Excel (.xlsx/.xls/.ods), Parquet or JSON Lines; any common encoding "
                            "(UTF-8, Shift-JIS, Latin-1) and delimiter. Up to 200 MB. Your file is never changed.",
    )
    file_key = f"{key}_file"
    if up is not None:
        fid = st.session_state.get(file_key) or ""
        if files.get(fid, {}).get("upload_id") != up.file_id:  # uploaded without a change event (first run)
            fid = _register_upload(key, up)
            st.session_state.setdefault("_crossroads_kept", {})[file_key] = fid
    else:
        kept = st.session_state.get(file_key) or ""
        # a file that could not be read as a table (an image renamed .csv...) is not offered again
        options = ["", *reversed([f for f, e in files.items() if not e.get("failed") or f == kept])]
        fid = st.selectbox(
            "Or use a file uploaded earlier", options, key=keep(file_key, default="", options=options),
            format_func=lambda f: "(none)" if not f else
            f"{files[f]['name']} · {_size(files[f]['size'])} · {files[f]['page']}",
            help="Every file uploaded on any page of this session (or restored from a workspace) is offered here, "
                 "so it is not uploaded twice.") if files else ""
    entry = files.get(fid) if fid else None
    prepared = entry is not None and entry.get("table") is not None
    with st.expander("Reading options", icon=":material/tune:"):
        if prepared:
            st.caption("This table was restored from a workspace as it was read then. Upload the original file "
                       "to read it with other options.")
        c1, c2 = st.columns(2)
        no_header = c1.checkbox("The first row is data (no header row)", key=keep(f"{key}_noheader", default=False),
                                disabled=prepared)
        names = c1.text_input("Column names (comma-separated, optional)", key=keep(f"{key}_names", default=""),
                              help="One name per column, for files without a header row.", disabled=prepared)
        na = c2.text_input("Extra missing-value markers (comma-separated)", key=keep(f"{key}_na", default=""),
                           placeholder="-200, unknown", disabled=prepared,
                           help="Already read as missing: empty cells, NA, N/A, NaN, NULL, ?, -")
        sheet = None
        if entry is not None and not prepared and entry["name"].lower().endswith((".xlsx", ".xlsm", ".xls", ".ods")):
            try:
                sheets = _sheets_cached(fid, entry["name"], entry["data"])
            except Exception as exc:  # noqa: BLE001
                show_error(exc, what="Reading the workbook")
                return None
            if sheets:
                sheet = c2.selectbox("Sheet", sheets, key=keep(f"{key}_sheet", default=sheets[0], options=sheets))
    if entry is None:
        st.info("Upload a file to begin" + (", or use a sample." if samples else "."), icon=":material/upload_file:")
        return None
    if up is None:
        st.caption(f"Using **{entry['name']}** (uploaded earlier · {entry['page']}). Upload another file above "
                   "to replace it.")
    try:
        table = entry["table"] if prepared else _load_cached(fid, entry["name"], sheet, not no_header, _split(names),
                                                               _split(na), entry["data"])
    except Exception as exc:  # noqa: BLE001 - shown to the user
        entry["failed"] = True  # not offered on other pages or listed as the user's work
        show_error(exc, what="Reading the file")
        return None
    entry.pop("failed", None)
    last_tables()[key] = {"source": "upload", "file": fid, "table": table}
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


def deployment_inputs(url_col, gguf_col, *, key: str) -> tuple[str, str]:
    """The OpenAI-compatible server URL and GGUF path inputs, as free text or, on a shared deployment
    (``CROSSROADS_ALLOWED_BASE_URLS`` / ``CROSSROADS_ALLOWED_GGUF_PATHS``), as a choice among the
    allowed values (:mod:`core.arena.providers.deployment`). Returns ``(base_url, model_path)``; ``""``
    means the default."""
    from core.arena.providers.deployment import allowed_base_urls, allowed_gguf_paths
    from core.redact import redact_url

    urls = allowed_base_urls()
    if urls is None:
        base_url = url_col.text_input("OpenAI-compatible server URL", key=keep(f"{key}_base_url", ""),
                                      placeholder="http://localhost:11434/v1 (Ollama)",
                                      help="Ollama, llama.cpp server, vLLM or LM Studio. Empty = Ollama's default URL.")
    else:
        base_url = url_col.selectbox("OpenAI-compatible server", list(urls),
                                     key=keep(f"{key}_base_url_choice", list(urls)[0], options=list(urls)),
                                     format_func=redact_url,
                                     help="This deployment allows only these servers (CROSSROADS_ALLOWED_BASE_URLS).")
    paths = allowed_gguf_paths()
    if paths is None:
        model_path = gguf_col.text_input("GGUF file for the embedded model", key=keep(f"{key}_gguf", ""),
                                         placeholder="default: Gemma 3 270M Q4_K_M",
                                         help="Path of any GGUF file on this machine.")
    else:
        files = [str(f) for p in paths for f in ([p] if p.suffix.lower() == ".gguf" else sorted(p.glob("*.gguf")))]
        model_path = gguf_col.selectbox("GGUF file for the embedded model", ["", *files],
                                        key=keep(f"{key}_gguf_choice", "", options=["", *files]),
                                        format_func=lambda v: v.rsplit("/", 1)[-1] if v else "default: Gemma 3 270M",
                                        help="This deployment allows only these files (CROSSROADS_ALLOWED_GGUF_PATHS).")
    return base_url or "", model_path or ""
