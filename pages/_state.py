"""Widget state that survives page changes: one helper for every page.

Streamlit deletes a widget's value from ``st.session_state`` at the end of any
run in which the widget was not rendered, so leaving a page forgets every
choice made on it. :func:`keep` mirrors a widget's value under a key no widget
owns and puts it back before the widget is drawn again; :func:`sync_kept`
(called by ``streamlit_app.py`` before the page runs) catches the last change
made just before the user switched pages.

Usage, for every widget whose value the user would expect to find again::

    target = st.selectbox("Target", columns, key=keep("dm_target", default=suggested, options=columns))

Rules:

* Give the default to :func:`keep`, not to the widget (no ``value=``,
  ``index=`` or ``default=`` on the widget), or Streamlit warns that the
  value was set twice.
* Pass ``options`` when the choices depend on the data: a kept value that is
  no longer a choice (another file was loaded) falls back to ``default``.
* File uploaders and buttons cannot be restored by Streamlit: keep what they
  produced (the bytes, the result) under a plain session-state key instead.

Results (fitted models, tables, answers) are not widget values: store them
under plain keys in ``st.session_state``, which Streamlit never clears, and
name the ones a saved workspace should hold with :func:`persist` (plain data,
dataclasses registered in :mod:`core.workspace.codec`, DataFrames).
"""

from __future__ import annotations

from typing import Any, Sequence

import streamlit as st

#: Session-state key of the mirror ``{widget key: value}``; no widget uses it.
KEPT = "_crossroads_kept"
#: Plain session-state keys (results, not widgets) that "Save workspace" stores; see :func:`persist`.
PERSISTED: set[str] = set()

_MISSING = object()
#: Suffix of the mirror entry that records a kept value's scope (see :func:`keep`).
SCOPE = "@scope"


def _valid(value: Any, options: Sequence[Any] | None) -> bool:
    if options is None:
        return True
    opts = options if isinstance(options, (range, set, frozenset, dict)) else list(options)
    if isinstance(value, (list, tuple)):  # multiselect, pills with selection_mode="multi"
        return all(v in opts for v in value)
    return value is None or value in opts


def keep(key: str, default: Any = _MISSING, *, options: Sequence[Any] | None = None, scope: Any = None) -> str:
    """Return ``key`` for a widget, after restoring the value it had before a page change.

    Args:
        key: the widget's key (unique in the app; prefix it with the page's name).
        default: the value to start with when nothing was kept yet, or when the
            kept value is not among ``options``. Omit it to use the widget's own default.
        options: the widget's current choices, when they can change (the kept
            value, or each item of a kept list, must be one of them).
        scope: what the value belongs to, when its default depends on it (e.g. the
            table's digest for "rows to use"): a value kept for another scope is
            dropped and the widget starts from ``default`` again. JSON-like (it is saved
            in workspaces with the value).

    Returns:
        ``key``, to pass as the widget's ``key=``.
    """
    kept: dict[str, Any] = st.session_state.setdefault(KEPT, {})
    if scope is not None and kept.get(key + SCOPE) != scope:
        forget(key)
        kept[key + SCOPE] = scope
    if key in st.session_state:
        value = st.session_state[key]
        if _valid(value, options):
            kept[key] = value
            return key
        del st.session_state[key]  # e.g. a column of the previous file
        kept.pop(key, None)
    if key in kept and _valid(kept[key], options):
        st.session_state[key] = kept[key]
    elif default is not _MISSING:
        st.session_state[key] = default
        kept[key] = default
    else:
        kept.pop(key, None)
    return key


def sync_kept() -> None:
    """Copy the current value of every kept widget into the mirror.

    Call once per run before the page runs (``streamlit_app.py`` does), so a
    change made right before switching pages is not lost.
    """
    kept: dict[str, Any] = st.session_state.setdefault(KEPT, {})
    for key in list(kept):
        if key in st.session_state:
            kept[key] = st.session_state[key]


def forget(*keys: str) -> None:
    """Drop kept values (and the live widget values) so the widgets start from their defaults."""
    kept: dict[str, Any] = st.session_state.setdefault(KEPT, {})
    for key in keys:
        kept.pop(key, None)
        if key in st.session_state:
            del st.session_state[key]


def put(key: str, value: Any) -> None:
    """Set a kept widget's value from code (e.g. after an upload), before the widget is drawn in this run.

    Streamlit refuses a change to a widget's value after the widget was drawn in
    the same run; call this earlier in the run, or from a callback.
    """
    st.session_state.setdefault(KEPT, {})[key] = value
    st.session_state[key] = value


def persist(*keys: str) -> None:
    """Declare plain (non-widget) session-state keys whose values a saved workspace holds.

    Call at import time of the page that owns them, e.g. ``persist("sent_batch")``.
    """
    PERSISTED.update(keys)


def kept_values() -> dict[str, Any]:
    """A copy of every kept widget value ``{key: value}`` (for saving a workspace)."""
    sync_kept()
    return dict(st.session_state.get(KEPT, {}))


def restore_values(values: dict[str, Any]) -> None:
    """Replace the kept values (opening a workspace); widgets take them when next drawn.

    Call before any widget is drawn in this run (``streamlit_app.py`` opens a
    workspace before the page runs). The live value of every kept or restored key
    is dropped, so :func:`keep` puts the restored value back when the widget is drawn.
    """
    kept: dict[str, Any] = st.session_state.setdefault(KEPT, {})
    for key in set(kept) | set(values):
        if key in st.session_state:
            del st.session_state[key]
    kept.clear()
    kept.update(values)
