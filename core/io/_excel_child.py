"""Child process that reads one workbook for :mod:`core.io`, under a memory limit.

The Rust reader (calamine) aborts the whole process when it cannot allocate
memory: a 5 KB ``.xlsx`` with a cell at ``XFD1048576`` makes it ask for
512 GiB and the interpreter dies with SIGABRT. So untrusted workbooks are read
here, in a separate interpreter whose address space is capped with
``RLIMIT_AS``; the parent turns any crash or time-out into a clear error.

Protocol (used only by :func:`core.io.excel._read_workbook`)::

    python -I _excel_child.py <memory_limit_bytes> '<json request>'  < workbook bytes

Request: ``{"sheet": name | index | null, "header": bool, "list_only": bool}``.
Output on stdout: an Arrow IPC stream with one table (columns ``c0..cN``, one
Arrow type per column; mixed columns as text) and schema metadata ``names``,
``sheets``, ``sheet`` (JSON); or, with ``list_only``, one JSON line
``{"sheets": [...]}``. Failures: one JSON line ``{"error": kind, "message": ...}``
and exit status 3 (kinds: ``memory``, ``bad``, ``no_sheet``).

Only the standard library, pyarrow and python-calamine are imported: no
pandas (faster start) and nothing from ``core`` (run in isolated mode).
Values become data only: nothing is evaluated, no macro runs.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import math
import sys


def _fail(kind: str, message: str, **extra) -> None:
    sys.stdout.write(json.dumps({"error": kind, "message": message, **extra}) + "\n")
    sys.stdout.flush()
    sys.exit(3)


def _cell(value):
    """calamine value -> Python value as pandas' calamine reader gives it ("" is missing)."""
    if value is None or (isinstance(value, str) and value == ""):
        return None
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer() and abs(value) < 2**63:
            return int(value)
        return value
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return dt.datetime(value.year, value.month, value.day)
    return value


def _column(values: list, pa):
    """One Arrow array for a column; a mix of kinds (numbers and text...) becomes text."""
    kinds = {type(v) for v in values if v is not None}
    if kinds <= {int, float} or kinds in ({bool}, {dt.datetime}, {str}):
        try:
            return pa.array(values)
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
            pass
    return pa.array([None if v is None else str(v) for v in values], type=pa.string())


class _NoPandas:
    """Import hook that makes pandas unavailable, so pyarrow does not load it."""

    def find_spec(self, name, path=None, target=None):
        if name == "pandas" or name.startswith("pandas."):
            raise ModuleNotFoundError(f"No module named {name!r} (not needed here)", name=name)
        return None


def main(argv: list[str]) -> None:
    limit = int(argv[1])
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ImportError, ValueError, OSError):  # not Linux/macOS: the time-out still applies
        pass
    sys.meta_path.insert(0, _NoPandas())  # pyarrow would import pandas (1 s) for nothing
    request = json.loads(argv[2])
    data = sys.stdin.buffer.read()
    try:
        import pyarrow as pa
        from python_calamine import CalamineWorkbook

        try:
            book = CalamineWorkbook.from_filelike(io.BytesIO(data))
        except Exception as exc:  # noqa: BLE001 - any reader failure is a bad workbook
            _fail("bad", f"{type(exc).__name__}: {exc}")
        sheets = list(book.sheet_names)
        if request.get("list_only"):
            sys.stdout.write(json.dumps({"sheets": sheets}) + "\n")
            return
        if not sheets:
            _fail("no_sheet", "the workbook has no sheets", sheets=sheets)
        want = request.get("sheet")
        if want is None or want == "":
            chosen = sheets[0]
        elif isinstance(want, int):
            if not 0 <= want < len(sheets):
                _fail("no_sheet", f"sheet number {want} does not exist", sheets=sheets)
            chosen = sheets[want]
        elif want in sheets:
            chosen = want
        else:
            _fail("no_sheet", f"sheet {want!r} does not exist", sheets=sheets)
        try:
            rows = book.get_sheet_by_name(chosen).to_python(skip_empty_area=False)
        except Exception as exc:  # noqa: BLE001
            if isinstance(exc, MemoryError):
                raise
            _fail("bad", f"{type(exc).__name__}: {exc}")
        width = max((len(r) for r in rows), default=0)
        if request.get("header", True) and rows:
            names = ["" if v is None or v == "" else (str(_cell(v)) if not isinstance(v, str) else v)
                     for v in rows[0]] + [""] * (width - len(rows[0]))
            body = rows[1:]
        else:
            names = [f"column_{i + 1}" for i in range(width)]
            body = rows
        columns = [[] for _ in range(width)]
        for r in body:
            for i in range(width):
                columns[i].append(_cell(r[i]) if i < len(r) else None)
        del rows, body
        arrays = [_column(c, pa) for c in columns]
        meta = {"names": json.dumps(names), "sheets": json.dumps(sheets), "sheet": json.dumps(chosen)}
        table = pa.table(arrays, names=[f"c{i}" for i in range(width)]).replace_schema_metadata(meta) \
            if width else pa.table({}).replace_schema_metadata(meta)
        with pa.ipc.new_stream(sys.stdout.buffer, table.schema) as writer:
            writer.write_table(table)
    except MemoryError:
        _fail("memory", "the reader ran out of its memory limit")


if __name__ == "__main__":
    main(sys.argv)
