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
under plain keys in ``st.session_state``, which Streamlit never clears.
"""

from __future__ import annotations

from typing import Any, Sequence

import streamlit as st

#: Session-state key of the mirror ``{widget key: value}``; no widget uses it.
KEPT = "_crossroads_kept"

_MISSING = object()


def _valid(value: Any, options: Sequence[Any] | None) -> bool:
    if options is None:
        return True
    opts = list(options)
    if isinstance(value, (list, tuple)):  # multiselect, pills with selection_mode="multi"
        return all(v in opts for v in value)
    return value is None or value in opts


def keep(key: str, default: Any = _MISSING, *, options: Sequence[Any] | None = None) -> str:
    """Return ``key`` for a widget, after restoring the value it had before a page change.

    Args:
        key: the widget's key (unique in the app; prefix it with the page's name).
        default: the value to start with when nothing was kept yet, or when the
            kept value is not among ``options``. Omit it to use the widget's own default.
        options: the widget's current choices, when they can change (the kept
            value, or each item of a kept list, must be one of them).

    Returns:
        ``key``, to pass as the widget's ``key=``.
    """
    kept: dict[str, Any] = st.session_state.setdefault(KEPT, {})
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


def kept_values() -> dict[str, Any]:
    """A copy of every kept widget value ``{key: value}`` (for saving a workspace)."""
    sync_kept()
    return dict(st.session_state.get(KEPT, {}))


def restore_values(values: dict[str, Any]) -> None:
    """Replace the kept values (opening a workspace); widgets take them when next drawn."""
    kept: dict[str, Any] = st.session_state.setdefault(KEPT, {})
    for key in list(kept):
        if key in st.session_state:
            del st.session_state[key]
    kept.clear()
    kept.update(values)
