"""The file being read and what is known of it: formats, the :class:`LoadedTable` result, digests, bytes.

:class:`LoadedTable` is what :func:`core.io.load_table` returns. The file's
SHA-256 (:func:`file_digest`) and the reading options make its
:func:`table_digest`, the key of caches and workspaces. A path is streamed,
never held whole, and the size limit (``settings.max_upload_bytes``) is checked
before anything is read. The user's file is only ever read.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Sequence

import pandas as pd

from core.errors import DataError
from core.settings import settings

#: Cell values read as missing, compared after stripping surrounding whitespace.
DEFAULT_NA_VALUES: tuple[str, ...] = (
    "", "NA", "N/A", "n/a", "NaN", "nan", "NULL", "null", "#N/A", "?", "-", "--",
)

#: File extensions understood, by format.
EXTENSIONS = {
    "csv": (".csv", ".tsv", ".tab", ".txt", ".dat"),
    "excel": (".xlsx", ".xlsm", ".xls", ".ods"),
    "parquet": (".parquet", ".pq"),
    "jsonl": (".jsonl", ".ndjson", ".json"),
}
SUPPORTED_EXTENSIONS = tuple(ext for exts in EXTENSIONS.values() for ext in exts)


_DELIMITERS = [",", ";", "\t", "|"]
_DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
_ENCODING_NAMES = {
    "utf-8": "UTF-8", "utf-8-sig": "UTF-8 with BOM", "cp932": "Shift-JIS (cp932)", "latin-1": "Latin-1",
    "cp1252": "Windows-1252", "euc-jp": "EUC-JP", "utf-16": "UTF-16",
}


#: Bytes read per step when scanning a file (UTF-8 check, NUL count).
_SCAN_CHUNK = 16 * 2**20


@dataclass
class LoadedTable:
    """A table read from a user's file, with what was detected along the way.

    Attributes:
        frame: the data, one row per record. Numeric text has been converted to
            numbers; text cells are stripped; missing markers are ``NaN``.
        name: file name shown to the user.
        file_format: ``"csv"`` (any delimited text), ``"excel"``, ``"parquet"`` or ``"jsonl"``.
        encoding: Python codec name of a text file (``"utf-8"``, ``"utf-8-sig"``,
            ``"cp932"``, ``"latin-1"``...), ``None`` for binary formats.
        delimiter: the field delimiter of delimited text, else ``None``.
        decimal: the decimal mark found in numbers (``"."`` or ``","``).
        sheet: the Excel sheet read, else ``None``.
        sheet_names: every sheet of an Excel workbook, else ``[]``.
        notes: plain-language notes on what was detected or converted.
        n_bytes: size of the file in bytes.
        digest: identifies the table for caches and workspaces: the SHA-256 (hex) of the
            file's bytes and the reading options (:func:`table_digest`); ``""`` when unknown.
    """

    frame: pd.DataFrame
    name: str
    file_format: str
    encoding: str | None = None
    delimiter: str | None = None
    decimal: str = "."
    sheet: str | None = None
    sheet_names: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    n_bytes: int = 0
    digest: str = ""

    def summary(self) -> str:
        """One line describing the file, e.g. ``"train.csv: 891 rows x 12 columns, CSV, UTF-8, comma-delimited"``."""
        parts = [f"{self.name}: {len(self.frame):,} rows x {self.frame.shape[1]:,} columns", self.file_format.upper()]
        if self.encoding:
            parts.append(_ENCODING_NAMES.get(self.encoding, self.encoding))
        if self.delimiter:
            parts.append(f"{_DELIMITER_NAMES.get(self.delimiter, repr(self.delimiter))}-delimited")
        if self.sheet:
            parts.append(f"sheet '{self.sheet}'")
        return ", ".join(parts)


# --------------------------------------------------------------------------- digests

def file_digest(data: bytes) -> str:
    """SHA-256 of a file's bytes, as 64 hex characters (computed once per upload, then used as a cache key)."""
    return hashlib.sha256(data).hexdigest()


def table_digest(file_sha256: str, *, sheet: str | int | None = None, header: bool = True,
                 column_names: Sequence[str] | None = None, na_values: Sequence[str | float] = (),
                 max_rows: int | None = None, seed: int = 0) -> str:
    """Identify a table read from a file: the file's SHA-256 plus the reading options.

    Two reads of the same bytes with the same options give the same digest; any
    change of sheet, header, names or missing-value markers gives another.

    Args:
        file_sha256: :func:`file_digest` of the file's bytes.
        sheet, header, column_names, na_values, max_rows, seed: as given to :func:`load_table`
            (``seed`` only counts when ``max_rows`` samples the rows).

    Returns:
        64 hex characters.
    """
    parts = [file_sha256, sheet, bool(header), [str(c) for c in column_names or ()], [str(v) for v in na_values]]
    if max_rows is not None:  # a sampled read is another table
        parts += [int(max_rows), int(seed)]
    options = json.dumps(parts, ensure_ascii=False)
    return hashlib.sha256(options.encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------- reading bytes

class _Source:
    """A file to read: a path (streamed, never held whole) or bytes already in memory."""

    def __init__(self, source: str | os.PathLike | bytes, name: str | None, max_bytes: int | None):
        limit = settings.max_upload_bytes if max_bytes is None else max_bytes
        if isinstance(source, (bytes, bytearray, memoryview)):
            self.data: bytes | None = bytes(source)
            self.path: Path | None = None
            self.name = name or "upload"
            self.size = len(self.data)
        else:
            path = Path(source)
            self.name = name or path.name
            if not path.exists():
                raise DataError(f"No file at '{path}'. Check the path and try again.")
            if path.is_dir():
                raise DataError(f"'{path}' is a folder, not a file. Give the path of a table file.")
            self.data, self.path, self.size = None, path, path.stat().st_size
        if self.size > limit:
            raise settings.limit_error(
                "max_upload_mb", f"'{self.name}' is {self.size / 2**20:,.1f} MB; upload a sample of its rows",
                value=limit / 2**20)

    def head(self, n: int) -> bytes:
        if self.data is not None:
            return self.data[:n]
        with open(self.path, "rb") as fh:  # read-only: the user's file is never changed
            return fh.read(n)

    def chunks(self, size: int = _SCAN_CHUNK) -> Iterator[bytes]:
        if self.data is not None:
            view = memoryview(self.data)
            for i in range(0, len(view), size):
                yield view[i:i + size].tobytes() if len(view) > size else self.data
            return
        with open(self.path, "rb") as fh:
            while chunk := fh.read(size):
                yield chunk

    def digest(self) -> str:
        """SHA-256 of the whole file (:func:`file_digest`), streamed for a path."""
        if self.data is not None:
            return file_digest(self.data)
        h = hashlib.sha256()
        for chunk in self.chunks():
            h.update(chunk)
        return h.hexdigest()

    def read(self) -> bytes:
        if self.data is None:
            self.data = self.path.read_bytes()
        return self.data


def read_source(source: str | os.PathLike | bytes, name: str | None = None,
                max_bytes: int | None = None) -> tuple[bytes, str]:
    """Read a path or take raw bytes, enforcing the size limit.

    Args:
        source: a filesystem path, or the bytes of an upload.
        name: display name; defaults to the path's file name or ``"upload"``.
        max_bytes: size limit in bytes; ``None`` = ``settings.max_upload_bytes``
            (``CROSSROADS_MAX_UPLOAD_MB``).

    Returns:
        ``(data, name)``.

    Raises:
        DataError: the path does not exist or is a folder.
        LimitError: the file is larger than the limit.
        ConfigError: ``CROSSROADS_MAX_UPLOAD_MB`` is invalid.
    """
    src = _Source(source, name, max_bytes)
    return src.read(), src.name
