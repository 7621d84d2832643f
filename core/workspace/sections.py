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


# ------------------------------------------------------------------ Decide (bake-off)

DECIDE = "decide"
#: Version of the bake-off record written by :func:`add_bakeoff`.
BAKEOFF_RECORD_VERSION = 1


def add_bakeoff(ws: Workspace, data, result, analysis, *, constraints=None, config=None,
                source: dict | None = None, section: str = DECIDE) -> None:
    """Put a Decide bake-off in ``ws``: its train and test rows, and what it measured.

    Layout::

        sections["decide"] = {"train": "decide.train", "test": "decide.test", "bakeoff": "decide.bakeoff"}
        tables["decide.train"], tables["decide.test"]: columns text, label (the split as run)
        results["decide.bakeoff"] = {record_version, result (BakeoffResult.to_dict), analysis,
                                     constraints, config, source}

    LLM answers are stored as they were (they are measurements, not rebuilt); the classifier
    is rebuilt on open from the train rows and the seed and checked against the saved
    predictions (:func:`restore_bakeoff_section`).

    Args:
        data: the :class:`core.decide.data.BakeoffData` that was run.
        result: the :class:`core.decide.result.BakeoffResult`.
        analysis: the :class:`core.decide.analysis.Analysis` (or its dict).
        constraints, config: the user's constraints and the run's config (objects with
            ``to_dict``, dataclasses or dicts), or ``None``.
        source: where the data came from (file names, columns), JSON.
    """
    import dataclasses

    import pandas as pd

    def as_dict(obj):
        if obj is None or isinstance(obj, dict):
            return obj
        if hasattr(obj, "to_dict"):
            return obj.to_dict()
        return dataclasses.asdict(obj)

    train, test = f"{section}.train", f"{section}.test"
    ws.add_table(train, pd.DataFrame({"text": data.train_texts, "label": data.train_labels}),
                 {"name": getattr(data, "name", "table"), "rows": "training rows of the split"})
    ws.add_table(test, pd.DataFrame({"text": data.test_texts, "label": data.test_labels}),
                 {"name": getattr(getattr(data, "split", None), "test_name", None) or getattr(data, "name", "table"),
                  "rows": "test rows of the split"})
    record = {"record_version": BAKEOFF_RECORD_VERSION, "result": result.to_dict(), "analysis": as_dict(analysis),
              "constraints": as_dict(constraints), "config": as_dict(config), "source": source or {},
              "data": data.summary() if hasattr(data, "summary") else {}}
    ws.results[f"{section}.bakeoff"] = json_safe(record)
    ws.sections[section] = {"train": train, "test": test, "bakeoff": f"{section}.bakeoff"}


def json_safe(obj):
    """``obj`` with tuples as lists, numpy values as Python numbers and NaN/inf as ``None`` (valid JSON)."""
    import math

    import numpy as np

    if isinstance(obj, dict):
        return {str(k): json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if obj is None or isinstance(obj, (str, int, float, bool)):
        return obj
    return str(obj)


def restore_bakeoff_section(ws: Workspace, *, section: str = DECIDE):
    """Read a saved bake-off back and rebuild its classifier to check it.

    Returns:
        ``(result, record, check)``: the :class:`core.decide.result.BakeoffResult`, the saved
        record (``analysis``, ``constraints``, ``config``, ``source``) and a
        :class:`core.tabular.compare.RestoreCheck` comparing the rebuilt classifier's test
        predictions with the saved ones; ``None`` when the workspace has no bake-off.

    Raises:
        WorkspaceError: the section names a missing table or result, or a newer record version.
    """
    import time

    from core.arena.classifier import IntentClassifier
    from core.decide.result import BakeoffResult
    from core.tabular.compare import RestoreCheck

    sec = ws.sections.get(section)
    if not isinstance(sec, dict) or not sec.get("bakeoff"):
        return None
    for key in ("train", "test"):
        if str(sec.get(key)) not in ws.tables:
            raise WorkspaceError(f"the workspace has no table '{sec.get(key)}'; it is damaged or incomplete.")
    record = ws.results.get(str(sec["bakeoff"]))
    if not isinstance(record, dict) or not isinstance(record.get("result"), dict):
        raise WorkspaceError("the workspace's bake-off record is missing or damaged.")
    if int(record.get("record_version", 0)) > BAKEOFF_RECORD_VERSION:
        raise WorkspaceError("the workspace's bake-off was saved by a newer Crossroads; update Crossroads to open it.")
    result = BakeoffResult.from_dict(record["result"])
    train, test = ws.tables[str(sec["train"])], ws.tables[str(sec["test"])]
    start = time.perf_counter()
    seed = int((record.get("config") or {}).get("seed", 0) or 0)
    clf = IntentClassifier(random_state=seed).fit(train["text"].astype(str).tolist(),
                                                  train["label"].astype(str).tolist())
    proba = clf.predict_proba(test["text"].astype(str).tolist())
    now = [clf.classes_[int(i)] for i in proba.argmax(axis=1)]
    saved = [r.get("classifier_pred") for r in result.rows]
    differences = []
    if len(saved) != len(now):
        differences.append(f"{len(now)} test rows now, {len(saved)} when saved.")
    else:
        n_diff = sum(a != b for a, b in zip(saved, now))
        if n_diff:
            differences.append(f"the rebuilt classifier predicts {n_diff} of {len(now)} test rows differently.")
    return result, record, RestoreCheck(not differences, differences, time.perf_counter() - start)
