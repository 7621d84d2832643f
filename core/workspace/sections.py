"""What each page puts in a workspace, shared by the pages and the CLI.

The Data & Models section (written by the page's "Save workspace" and by
``python -m core compare --workspace``)::

    sections["data_models"] = {"table": "data_models.table", "comparison": "data_models.comparison"}

``tables["data_models.table"]`` is the user's table as read (with what was
detected while reading it in ``table_info``), ``results["data_models.comparison"]``
is :func:`core.tabular.compare.comparison_to_record`. Opening rebuilds the
fitted models from them (:func:`restore_comparison_section`).
"""

from __future__ import annotations

from typing import Any

from core.io import LoadedTable
from core.workspace import Workspace, WorkspaceError

DATA_MODELS = "data_models"

_INFO_FIELDS = ("name", "file_format", "encoding", "delimiter", "decimal", "sheet", "sheet_names", "notes",
                "n_bytes", "digest")


def table_info(table: LoadedTable) -> dict[str, Any]:
    """What was detected reading ``table`` (name, format, encoding, delimiter, sheet, notes, digest) as JSON."""
    return {f: getattr(table, f) for f in _INFO_FIELDS}


def add_loaded_table(ws: Workspace, name: str, table: LoadedTable) -> str:
    """Add a table read from a user's file, with its reading facts; returns ``name``."""
    return ws.add_table(name, table.frame, table_info(table))


def loaded_table(ws: Workspace, name: str) -> LoadedTable:
    """The workspace table ``name`` as a :class:`~core.io.LoadedTable` (facts from when it was first read).

    Raises:
        WorkspaceError: no such table.
    """
    if name not in ws.tables:
        raise WorkspaceError(f"the workspace has no table '{name}'; it is damaged or incomplete.")
    info = ws.table_info.get(name, {})
    notes = info.get("notes") if isinstance(info.get("notes"), list) else []
    sheets = info.get("sheet_names") if isinstance(info.get("sheet_names"), list) else []
    return LoadedTable(frame=ws.tables[name], name=str(info.get("name") or name),
                       file_format=str(info.get("file_format") or "parquet"),
                       encoding=info.get("encoding") if isinstance(info.get("encoding"), str) else None,
                       delimiter=info.get("delimiter") if isinstance(info.get("delimiter"), str) else None,
                       decimal=str(info.get("decimal") or "."),
                       sheet=info.get("sheet") if isinstance(info.get("sheet"), str) else None,
                       sheet_names=[str(s) for s in sheets], notes=[str(n) for n in notes],
                       n_bytes=int(info.get("n_bytes") or 0), digest=str(info.get("digest") or ""))


def add_comparison(ws: Workspace, table: LoadedTable, result, *, section: str = DATA_MODELS) -> None:
    """Put a Data & Models comparison and its table in ``ws`` (layout in the module docstring).

    Args:
        ws: the workspace to fill.
        table: the table the comparison ran on.
        result: a :class:`core.tabular.compare.ComparisonResult` from ``compare_models``.
        section: the page's section name.
    """
    from core.tabular.compare import comparison_to_record

    tname, rname = f"{section}.table", f"{section}.comparison"
    add_loaded_table(ws, tname, table)
    ws.results[rname] = comparison_to_record(result)
    ws.sections[section] = {"table": tname, "comparison": rname}


def restore_comparison_section(ws: Workspace, *, section: str = DATA_MODELS, on_progress=None):
    """Rebuild the comparison saved in ``ws``.

    Returns:
        ``(table, result, check)``: the :class:`~core.io.LoadedTable`, the rebuilt
        :class:`~core.tabular.compare.ComparisonResult` and its
        :class:`~core.tabular.compare.RestoreCheck`; ``None`` when the workspace has no comparison.

    Raises:
        WorkspaceError: the section names a missing table or result.
        ConfigError / DataError: the saved comparison cannot be rebuilt.
    """
    from core.tabular.compare import restore_comparison

    sec = ws.sections.get(section)
    if not isinstance(sec, dict) or not sec.get("comparison"):
        return None
    rname = str(sec["comparison"])
    if rname not in ws.results:
        raise WorkspaceError(f"the workspace has no result '{rname}'; it is damaged or incomplete.")
    table = loaded_table(ws, str(sec.get("table", "")))
    result, check = restore_comparison(table.frame, ws.results[rname], on_progress=on_progress)
    return table, result, check
