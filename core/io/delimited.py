"""Delimited text (CSV/TSV/TXT), streamed: pyarrow's CSV reader block by block, pandas for short rows.

Every cell is read as text and each block is converted at once
(:mod:`core.io.sampling`); mixed-encoding files are decoded line by line; the
column count is checked on the header line before any parsing.
"""

from __future__ import annotations

import codecs
import io
import re
from typing import Iterator

import numpy as np
import pandas as pd
import pyarrow as pa

from core.errors import DataError
from core.io.columns import (
    _finish_column,
    _finish_numbers,
    _Notes,
    _trim_mark,
    _unique_names,
)
from core.io.sampling import _BLOCK_BYTES, _Collector
from core.io.sniff import _chunks_of, _is_utf8, _legacy_codec, detect_delimiter
from core.io.sources import (
    _DELIMITER_NAMES,
    _DELIMITERS,
    _ENCODING_NAMES,
    LoadedTable,
    _Source,
)
from core.settings import settings


def _arrow_blocks(open_input, *, delimiter: str, quote: str, header: bool, n_columns: int, file_name: str,
                  newlines_in_values: bool, include: list[int] | None = None) -> Iterator[list]:
    """Blocks of the file from pyarrow's streaming CSV reader, every column as text.

    Raises:
        _ShortRows: a row has fewer fields than the header (pandas pads those; see the caller).
        DataError: a row has more fields than the header.
    """
    import pyarrow.csv as pcsv

    names = [f"c{i}" for i in range(n_columns)]
    short: list[int] = []

    def invalid(row) -> str:
        if row.actual_columns < row.expected_columns:
            short.append(row.actual_columns)
            return "skip"
        return "error"

    block = _BLOCK_BYTES
    read_options = pcsv.ReadOptions(column_names=names, skip_rows_after_names=1 if header else 0,
                                    block_size=block, use_threads=True)
    parse_options = pcsv.ParseOptions(delimiter=delimiter, quote_char=quote or False, double_quote=True,
                                      newlines_in_values=newlines_in_values, ignore_empty_lines=True,
                                      invalid_row_handler=invalid)
    wanted = [names[i] for i in include] if include is not None else names
    convert_options = pcsv.ConvertOptions(column_types={n: pa.string() for n in wanted}, strings_can_be_null=False,
                                          quoted_strings_can_be_null=False, null_values=[],
                                          include_columns=wanted)
    try:
        reader = pcsv.open_csv(open_input(), read_options=read_options, parse_options=parse_options,
                               convert_options=convert_options)
        for batch in reader:
            if short:
                raise _ShortRows()
            yield [batch.column(i) for i in range(batch.num_columns)]
        if short:
            raise _ShortRows()
    except pa.ArrowInvalid as exc:
        msg = str(exc)
        m = re.search(r"Expected (\d+) columns, got (\d+): ?(.*)", msg, re.S)
        if m:
            raise DataError(f"'{file_name}': a row has {m.group(2)} fields where the header has {m.group(1)}: "
                            f"{m.group(3).strip()[:80]!r}. Check the quoting on that line, or save the file "
                            "again as CSV.") from None
        raise _ArrowCannot(msg) from None


class _ShortRows(Exception):
    """A row with fewer fields than the header: re-read with pandas, which pads it."""


class _ArrowCannot(Exception):
    """pyarrow could not parse the file (e.g. a row larger than a block): re-read with pandas."""


def _pandas_blocks(open_input, *, delimiter: str, quote: str, header: bool, n_columns: int, file_name: str,
                   include: list[int] | None = None, **_ignored) -> Iterator[list]:
    """Blocks from pandas' C parser (short rows padded with missing values), every column as text."""
    try:
        reader = pd.read_csv(
            open_input(python=True), sep=delimiter, quotechar=quote or '"', header=0 if header else None, dtype=str,
            keep_default_na=False, na_filter=False, skipinitialspace=True, skip_blank_lines=True,
            chunksize=200_000, encoding="utf-8", encoding_errors="replace", usecols=include,
        )
        for chunk in reader:
            yield [pa.array(chunk.iloc[:, i].astype(object).where(chunk.iloc[:, i].notna(), None), type=pa.string())
                   for i in range(chunk.shape[1])]
    except pd.errors.EmptyDataError as exc:
        raise DataError(f"'{file_name}' has no rows or columns to read. Check that it is a delimited table.") \
            from exc
    except pd.errors.ParserError as exc:
        msg = str(exc).split("\n")[0]
        raise DataError(f"'{file_name}' could not be parsed as a {_DELIMITER_NAMES.get(delimiter, delimiter)}-"
                        f"delimited table: {msg}. Check quoting on that line, or save the file again as CSV.") from exc


def _decode_lines(data: bytes, result: LoadedTable) -> bytes:
    """UTF-8 bytes of a file that is not valid UTF-8: one legacy encoding, or UTF-8 and another mixed by line."""
    lines = data.split(b"\n")
    bad = [i for i, ln in enumerate(lines) if not ln.isascii() and not _is_utf8([ln])]
    utf8_lines = sum(1 for ln in lines if not ln.isascii()) - len(bad)
    enc, note = _legacy_codec(b"\n".join(lines[i] for i in bad[:20000]))
    n_replaced = 0
    if utf8_lines and bad:
        bad_set = set(bad)
        out = []
        for i, ln in enumerate(lines):
            if i in bad_set:
                text = ln.decode(enc, errors="replace")
                n_replaced += text.count("\ufffd")
                out.append(text.encode("utf-8"))
            else:
                out.append(ln)
        result.encoding = "utf-8"
        result.notes.append(
            f"Mixed encodings: {utf8_lines:,} lines with non-ASCII text are UTF-8 and {len(bad):,} lines are "
            f"{_ENCODING_NAMES.get(enc, enc)}; each line was decoded with its own encoding (a file saved "
            "from several sources). Check those rows.")
        utf8 = b"\n".join(out)
    else:
        text = data.decode(enc, errors="replace")
        n_replaced = text.count("\ufffd")
        result.encoding = enc
        result.notes.append(note)
        utf8 = text.encode("utf-8")
    if n_replaced:
        result.notes.append(f"{n_replaced:,} bytes could not be decoded and show as '\ufffd'.")
    return utf8


def _count_columns(first_line: bytes) -> tuple[int, str]:
    """Largest field count the first line could have, and the delimiter giving it (an upper bound)."""
    best = max(_DELIMITERS, key=lambda d: first_line.count(d.encode()))
    return first_line.count(best.encode()) + 1, best


def _read_delimited(src: _Source, header: bool, result: LoadedTable, na_text: list[str],
                    max_rows: int | None, seed: int) -> tuple[dict[str, pd.Series], int, _Notes]:
    """Read delimited text into ``{name: column}``; returns also the number of data rows in the file."""
    name = src.name
    head = src.head(4 * 2**20)
    utf16 = head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    # 1. Columns, before anything slow: a 100,000-column header fails here, in milliseconds.
    first_line = (head.decode("utf-16", errors="replace").encode("utf-8") if utf16 else head).split(b"\n", 1)[0]
    n_cols, delim_guess = _count_columns(first_line)
    max_columns = settings.max_columns
    if n_cols > max_columns:
        raise settings.limit_error("max_columns", f"'{name}' has {n_cols:,} columns (counting "
                                   f"{_DELIMITER_NAMES[delim_guess]}s on its first line)", value=max_columns)
    # 2. One pass over the bytes: UTF-8 validity and NUL bytes; text that is not UTF-8 is decoded here.
    n_nul, has_dq, has_sq, ascii_or_utf8 = 0, False, False, not utf16
    dec = codecs.getincrementaldecoder("utf-8")("strict")
    for chunk in src.chunks():
        n_nul += chunk.count(b"\x00")
        has_dq = has_dq or b'"' in chunk
        has_sq = has_sq or b"'" in chunk
        if ascii_or_utf8 and not (chunk.isascii() and not dec.getstate()[0]):
            try:
                dec.decode(chunk)
            except UnicodeDecodeError:
                ascii_or_utf8 = False
    if ascii_or_utf8:
        try:
            dec.decode(b"", final=True)
        except UnicodeDecodeError:
            ascii_or_utf8 = False
    utf8: bytes | None = None  # UTF-8 bytes to parse when the file itself cannot be parsed as is
    if n_nul:
        if n_nul > max(2, src.size // 100):
            raise DataError(f"'{name}' contains binary bytes ({n_nul:,} NUL bytes) and is not a text table. "
                            "Use a CSV, TSV, Excel, Parquet or JSON Lines file.")
        data = src.read()
        lines = [i + 1 for i, ln in enumerate(data.split(b"\n")) if b"\x00" in ln]
        utf8 = data.replace(b"\x00", b"")
        shown = ", ".join(f"{n:,}" for n in lines[:5]) + (" ..." if len(lines) > 5 else "")
        result.notes.append(f"{n_nul:,} NUL bytes (\\x00, usually left by a damaged export) were removed, on "
                            f"line{'s' if len(lines) > 1 else ''} {shown}.")
        ascii_or_utf8 = _is_utf8(_chunks_of(utf8))
    if utf16:
        text = (utf8 or src.read()).decode("utf-16", errors="replace")
        result.encoding = "utf-16"
        result.notes.append("Encoding: UTF-16 (byte-order mark).")
        utf8 = text.lstrip("\ufeff").encode("utf-8")
    elif ascii_or_utf8:
        bom = (utf8 or head).startswith(codecs.BOM_UTF8)
        result.encoding = "utf-8-sig" if bom else "utf-8"
        result.notes.append("Encoding: UTF-8 with BOM." if bom else "Encoding: UTF-8.")
        if utf8 is not None and bom:
            utf8 = utf8[len(codecs.BOM_UTF8):]
    else:
        utf8 = _decode_lines(utf8 if utf8 is not None else src.read(), result)
    # 3. Dialect, from the beginning of the text.
    sample_bytes = (utf8 if utf8 is not None else head)[:1_000_000]
    sample = sample_bytes.decode("utf-8", errors="replace").lstrip("\ufeff")
    if len(sample_bytes) == 1_000_000:
        sample = sample.rsplit("\n", 1)[0]
    delim, quote, dnote = detect_delimiter(sample, name)
    result.delimiter = delim
    result.notes.append(dnote)
    import csv

    try:
        first = next(csv.reader(io.StringIO(sample), delimiter=delim, quotechar=quote or '"'), [])
    except csv.Error:
        first = sample.split("\n", 1)[0].split(delim)
    n_columns = max(len(first), 1)
    if n_columns > max_columns:
        raise settings.limit_error("max_columns", f"'{name}' has {n_columns:,} columns", value=max_columns)
    if max_rows and max_rows * n_columns > settings.max_cells:
        raise settings.limit_error("max_cells", f"{max_rows:,} rows x {n_columns:,} columns of '{name}' is "
                                   f"{max_rows * n_columns:,} cells")

    def open_input(python: bool = False):
        if utf8 is not None:
            return io.BytesIO(utf8) if python else pa.BufferReader(utf8)
        if src.data is not None:
            return io.BytesIO(src.data) if python else pa.BufferReader(src.data)
        return open(src.path, "rb") if python else pa.OSFile(str(src.path), "r")

    # Quoted fields may hold line breaks; without any quote character in the file, parsing runs in parallel.
    options = dict(delimiter=delim, quote=quote, header=header, n_columns=n_columns, file_name=name,
                   newlines_in_values=has_dq if quote == '"' else has_sq if quote == "'" else False)
    raw_names = first if header else [f"column_{i + 1}" for i in range(n_columns)]
    raw_names = list(raw_names) + [""] * (n_columns - len(raw_names))
    names = _unique_names(raw_names)
    engines = (_arrow_blocks, _pandas_blocks)
    for k, engine in enumerate(engines):
        collector = _Collector(names, na_text, max_rows, seed, name, src.size if utf8 is None else len(utf8))
        try:
            for cols in engine(open_input, **options):
                collector.add(cols)
            break
        except (_ShortRows, _ArrowCannot):
            if k == len(engines) - 1:
                raise
    ids = collector.finish()
    pa.default_memory_pool().release_unused()  # the reader's read-ahead buffers, before columns are built
    notes = _Notes()
    out: dict[str, pd.Series] = {}
    reread = [j for j, st in enumerate(collector.state) if st == "reread"]
    again: dict[int, list] = {j: [] for j in reread}
    if reread:  # numbers in the first blocks, then text: read those columns again, as text
        wanted = np.asarray(ids)
        start = 0
        for cols in engine(open_input, include=reread, **options):
            m = len(cols[0])
            sel = wanted[(wanted >= start) & (wanted < start + m)] - start
            start += m
            for j, col in zip(reread, cols):
                again[j].append(_trim_mark(col.take(pa.array(sel)) if len(sel) < m else col, na_text))
    for j, col_name in enumerate(names):
        st = collector.state[j]
        if st in ("num", "?"):
            values = collector.column(j)
            s = _finish_numbers(values) if st == "num" else pd.Series(values)
        else:
            arr = collector.column(j) if st == "text" else pa.chunked_array(
                [c.cast(pa.large_string()) for c in again.pop(j)], type=pa.large_string())
            s = _finish_column(col_name, arr, delim, notes)
        collector.release(j)
        if st != "num":
            pa.default_memory_pool().release_unused()
        notes.n_missing += int(s.isna().sum())
        out[col_name] = s
    return out, collector.rows_seen, notes
