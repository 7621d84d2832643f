"""Excel and ODS workbooks, read in a child process with a memory and a time limit.

The workbook's zip is checked first (uncompressed size, each member's size and
compression ratio, the sheet's declared dimension); then the Rust ``calamine``
reader runs in :mod:`core.io._excel_child`, a separate interpreter whose
address space is capped, so a crash or a time-out becomes a clear error.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pandas as pd
import pyarrow as pa

from core.errors import DataError, LimitError
from core.io.sniff import sniff_format
from core.io.sources import LoadedTable, read_source
from core.settings import settings


def _check_workbook_zip(data: bytes, name: str) -> None:
    """Refuse a zip-based workbook (.xlsx/.xlsm/.ods) that would expand too much, before any parsing.

    Checks the members' declared uncompressed sizes (total and each), their
    compression ratio, and each worksheet's declared ``<dimension ref="A1:XFD1048576"/>``
    against the column and cell limits.

    Raises:
        LimitError: a limit is passed (the message names it).
        DataError: the zip is damaged.
    """
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError) as exc:
        raise DataError(f"'{name}' could not be opened as a workbook (damaged zip: {exc}). "
                        "Re-save it as .xlsx and retry.") from None
    total = sum(i.file_size for i in infos)
    max_total = settings.max_excel_uncompressed_mb
    if total > max_total * 2**20:
        raise settings.limit_error("max_excel_uncompressed_mb", f"'{name}' expands to {total / 2**20:,.0f} MB "
                                   "when unzipped (a zip bomb, or a very large workbook)", value=max_total)
    max_member, max_ratio = settings.max_zip_member_mb, settings.max_zip_ratio
    for info in infos:
        if info.file_size > max_member * 2**20:
            raise settings.limit_error("max_zip_member_mb", f"the part '{info.filename}' of '{name}' expands to "
                                       f"{info.file_size / 2**20:,.0f} MB", value=max_member)
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > 2**20 and ratio > max_ratio:
            raise settings.limit_error("max_zip_ratio", f"the part '{info.filename}' of '{name}' is compressed "
                                       f"{ratio:,.0f} to 1 (real sheets are 5-50 to 1; this looks like a zip "
                                       "bomb)", value=max_ratio)
    max_columns, max_cells = settings.max_columns, settings.max_cells
    for info in infos:
        if not re.match(r"xl/worksheets/[^/]+\.xml$", info.filename):
            continue
        try:
            with zf.open(info) as fh:
                start = fh.read(65536).decode("utf-8", errors="replace")
        except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, ValueError) as exc:
            raise DataError(f"'{name}' could not be opened as a workbook (damaged part {info.filename}: {exc}). "
                            "Re-save it as .xlsx and retry.") from None
        m = re.search(r"<(?:\w+:)?dimension\s+ref=\"\$?([A-Z]{1,3})\$?(\d+)(?::\$?([A-Z]{1,3})\$?(\d+))?\"", start)
        if not m:
            continue
        c1, r1 = _col_number(m.group(1)), int(m.group(2))
        c2, r2 = (_col_number(m.group(3)), int(m.group(4))) if m.group(3) else (c1, r1)
        cols, rows = abs(c2 - c1) + 1, abs(r2 - r1) + 1
        ref = m.group(0).split('"')[1]
        if cols > max_columns:
            raise settings.limit_error("max_columns", f"a sheet of '{name}' declares the range {ref}: "
                                       f"{cols:,} columns", value=max_columns)
        if rows * cols > max_cells:
            raise settings.limit_error("max_cells", f"a sheet of '{name}' declares the range {ref}: "
                                       f"{rows:,} rows x {cols:,} columns = {rows * cols:,} cells", value=max_cells)


def _col_number(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + (ord(ch) - 64)
    return n


def _run_excel_child(data: bytes, name: str, request: dict) -> subprocess.CompletedProcess:
    """Run :mod:`core._excel_child` on ``data`` with the memory and time limits of the settings."""
    memory_mb, timeout = settings.excel_memory_mb, settings.excel_timeout_s
    env = dict(os.environ, ARROW_DEFAULT_MEMORY_POOL="system", OMP_NUM_THREADS="1")
    child = Path(__file__).with_name("_excel_child.py")
    try:
        proc = subprocess.run([sys.executable, "-I", str(child), str(memory_mb * 2**20), json.dumps(request)],
                              input=data, capture_output=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        raise settings.limit_error("excel_timeout_s", f"reading '{name}' took longer than {timeout:g} s, so it "
                                   "was stopped", value=timeout) from None
    if proc.returncode == 3:
        try:
            info = json.loads(proc.stdout.decode("utf-8").splitlines()[-1])
        except (ValueError, IndexError):
            info = {"error": "bad", "message": "no answer"}
        kind = info.get("error")
        if kind == "memory":
            raise _memory_error(name, memory_mb)
        if kind == "no_sheet":
            sheets = info.get("sheets") or []
            if not sheets:
                raise DataError(f"'{name}' has no sheets.")
            want = request.get("sheet")
            if isinstance(want, int):
                raise DataError(f"'{name}' has {len(sheets)} sheets; sheet number {want} does not exist.")
            raise DataError(f"Sheet '{want}' is not in '{name}'. Its sheets are: {', '.join(sheets)}.")
        raise DataError(f"'{name}' could not be opened as a workbook ({info.get('message', '')[:200]}). "
                        "Re-save it as .xlsx and retry.")
    if proc.returncode != 0:
        err = proc.stderr.decode("utf-8", errors="replace")
        if proc.returncode < 0 or "memory allocation" in err or "MemoryError" in err:
            # SIGABRT from the Rust reader when an allocation fails, SIGKILL from the kernel...
            raise _memory_error(name, memory_mb)
        last = (err.strip().splitlines() or ["no message"])[-1][:200]
        raise DataError(f"'{name}' could not be read by the Excel reader ({last}). Re-save it as .xlsx and retry.")
    return proc


def _memory_error(name: str, memory_mb: int) -> LimitError:
    return settings.limit_error(
        "excel_memory_mb", f"'{name}' could not be read within the Excel reader's memory limit: the workbook "
        "declares or expands to a sheet far larger than its data (a cell at the last row or column, or a zip "
        "bomb). Delete the empty rows and columns, or save the sheet as CSV", value=memory_mb)


def _read_workbook(data: bytes, name: str, sheet: str | int | None, header: bool,
                   result: LoadedTable) -> pd.DataFrame:
    if data.startswith(b"PK\x03\x04"):
        _check_workbook_zip(data, name)
    proc = _run_excel_child(data, name, {"sheet": sheet, "header": header, "list_only": False})
    try:
        table = pa.ipc.open_stream(proc.stdout).read_all()
    except pa.ArrowInvalid as exc:
        raise DataError(f"'{name}' could not be opened as a workbook ({exc}). Re-save it as .xlsx and retry.") \
            from None
    meta = {k.decode(): json.loads(v) for k, v in (table.schema.metadata or {}).items()}
    result.sheet_names = list(meta.get("sheets", []))
    result.sheet = meta.get("sheet")
    if len(result.sheet_names) > 1:
        result.notes.append(f"Workbook with {len(result.sheet_names)} sheets; read '{result.sheet}'.")
    names = meta.get("names", [])
    n_cells = table.num_rows * table.num_columns
    if table.num_columns > settings.max_columns:
        raise settings.limit_error("max_columns", f"the sheet '{result.sheet}' of '{name}' has "
                                   f"{table.num_columns:,} columns")
    if n_cells > settings.max_cells:
        raise settings.limit_error("max_cells", f"the sheet '{result.sheet}' of '{name}' has {n_cells:,} cells")
    df = table.to_pandas()
    df.columns = names if len(names) == df.shape[1] else [f"column_{i + 1}" for i in range(df.shape[1])]
    return df


def list_sheets(source: str | os.PathLike | bytes, name: str | None = None) -> list[str]:
    """List the sheets of an Excel/ODS workbook (``[]`` for any other format).

    Args:
        source: path or bytes of the file.
        name: display name / extension hint for bytes.

    Returns:
        Sheet names in workbook order.

    Raises:
        DataError: the file cannot be read.
        LimitError: the workbook is a zip bomb or the reader passed its memory or time limit.
    """
    data, name = read_source(source, name)
    if sniff_format(data, name) != "excel":
        return []
    if data.startswith(b"PK\x03\x04"):
        _check_workbook_zip(data, name)
    proc = _run_excel_child(data, name, {"list_only": True})
    try:
        return list(json.loads(proc.stdout.decode("utf-8").splitlines()[-1])["sheets"])
    except (ValueError, IndexError, KeyError):
        raise DataError(f"'{name}' could not be opened as a workbook. Re-save it as .xlsx and retry.") from None
