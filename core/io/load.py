"""The entry point :func:`load_table`: one table from a path or an upload's bytes, whatever its format."""

from __future__ import annotations

import codecs
import os
from typing import Sequence

import pandas as pd

from core.errors import DataError
from core.io.columns import _mark_numeric_na, _na_markers, clean_frame
from core.io.delimited import _read_delimited
from core.io.excel import _read_workbook
from core.io.parquet_json import _read_jsonl, _read_parquet
from core.io.sniff import sniff_format
from core.io.sources import LoadedTable, _Source, table_digest
from core.settings import settings


def load_table(
    source: str | os.PathLike | bytes,
    *,
    name: str | None = None,
    sheet: str | int | None = None,
    header: bool = True,
    column_names: Sequence[str] | None = None,
    na_values: Sequence[str | float] = (),
    max_bytes: int | None = None,
    max_rows: int | None = None,
    seed: int = 0,
    sha256: str | None = None,
) -> LoadedTable:
    """Read a table from a path or from uploaded bytes.

    Args:
        source: a filesystem path (delimited text is streamed from it, never
            held whole), or the bytes of an upload.
        name: file name for messages and the format hint (needed for bytes).
        sheet: Excel sheet name or 0-based position; default the first sheet.
        header: ``False`` when the first row is data, not column names.
        column_names: names for the columns (for headerless files, or to rename);
            must match the number of columns.
        na_values: extra values meaning "missing", e.g. ``["-200"]`` or ``[-200]``.
        max_bytes: size limit in bytes; ``None`` = ``settings.max_upload_bytes``.
        max_rows: keep a uniform random sample of this many data rows (seeded
            by ``seed``), drawn while reading, in file order, with a note;
            ``None`` = every row.
        seed: seed of that sample.
        sha256: the file's :func:`file_digest` when the caller already has it
            (an upload hashed once); computed here (one streamed pass) otherwise.

    Returns:
        A :class:`LoadedTable` (``frame`` has at least one row and one column)
        whose ``digest`` is :func:`table_digest` of the file and these options.

    Raises:
        DataError: empty file, header only, binary/non-table content, unknown
            sheet, malformed rows, wrong number of column names.
        LimitError: too large (bytes, columns, cells, or for a workbook its
            uncompressed size, a zip member, the compression ratio, the reader's
            memory or time); the message names the setting that changes it.
        ConfigError: a setting read here is invalid.
    """
    if max_rows is not None and max_rows < 1:
        raise DataError(f"max_rows must be a positive number of rows, not {max_rows}.")
    src = _Source(source, name, max_bytes)
    name = src.name
    head = src.head(65536)
    if not head.strip(b" \t\r\n\x00" + codecs.BOM_UTF8) and (src.size <= 65536 or not src.read().strip(
            b" \t\r\n\x00" + codecs.BOM_UTF8)):
        raise DataError(f"'{name}' is empty. Use a file with a header row and at least one data row.")
    fmt = sniff_format(head, name)
    result = LoadedTable(frame=pd.DataFrame(), name=name, file_format=fmt, n_bytes=src.size,
                         digest=table_digest(sha256 or src.digest(), sheet=sheet, header=header,
                                             column_names=column_names, na_values=na_values,
                                             max_rows=max_rows, seed=seed))
    na_text, na_numbers = _na_markers(na_values)
    rows_in_file = None
    if fmt == "csv":
        columns, rows_in_file, notes = _read_delimited(src, header, result, na_text, max_rows, seed)
        if not columns:
            raise DataError(f"'{name}' has no columns. Check that it is a table with a header row.")
        if rows_in_file == 0:
            raise DataError(_header_only(name))
        if column_names:
            columns = dict(zip(_check_names(column_names, len(columns), name), columns.values()))
        columns = {k: _mark_numeric_na(v, na_numbers, notes) for k, v in columns.items()}
        frame = pd.DataFrame(columns, copy=False)  # no second copy of the data
        del columns
        result.notes.extend(notes.sentences(na_values))
        result.decimal = notes.decimal
    else:
        data = src.read()
        if fmt == "excel":
            raw = _read_workbook(data, name, sheet, header, result)
        elif fmt == "parquet":
            raw = _read_parquet(data, name)
        else:
            raw = _read_jsonl(data, name, result)
        if raw.shape[1] == 0:
            raise DataError(f"'{name}' has no columns. Check that it is a table with a header row.")
        if raw.shape[1] > settings.max_columns:
            raise settings.limit_error("max_columns", f"'{name}' has {raw.shape[1]:,} columns")
        if raw.size > settings.max_cells:
            raise settings.limit_error("max_cells", f"'{name}' has {raw.shape[0]:,} rows x {raw.shape[1]:,} "
                                       f"columns = {raw.size:,} cells")
        if len(raw) == 0:
            raise DataError(_header_only(name))
        if max_rows is not None and len(raw) > max_rows:
            rows_in_file = len(raw)
            raw = raw.sample(n=max_rows, random_state=seed).sort_index()
        if column_names:
            raw.columns = _check_names(column_names, raw.shape[1], name)
        frame, notes, decimal = clean_frame(raw, na_values=na_values, delimiter=result.delimiter)
        result.notes.extend(notes)
        result.decimal = decimal
    if max_rows is not None and rows_in_file is not None and rows_in_file > max_rows:
        result.notes.insert(0, f"A random sample of {max_rows:,} of the {rows_in_file:,} data rows was read "
                               f"(seed {seed}), in file order; the other rows were not loaded.")
    empty_rows = frame.isna().all(axis=1)
    if empty_rows.any():
        frame = frame[~empty_rows].reset_index(drop=True)
    if len(frame) == 0:
        raise DataError(f"'{name}' has no data: every row is empty or missing.")
    result.frame = frame
    return result


def _header_only(name: str) -> str:
    return (f"'{name}' has a header row but no data rows. Add data rows; if that single row is data, "
            "not column names, read the file without a header row ('The first row is data' option, "
            "or --no-header).")


def _check_names(column_names: Sequence[str], n: int, name: str) -> list[str]:
    names = [str(c).strip() for c in column_names]
    if len(names) != n:
        raise DataError(f"{len(names)} column names were given but '{name}' has {n} columns. "
                        "Give one name per column, separated by commas.")
    if len(set(names)) != len(names):
        raise DataError("The column names given contain duplicates. Give each column a different name.")
    return names
