"""Reading the tables people really upload: CSV, TSV/TXT, Excel, Parquet and JSON Lines.

The entry point is :func:`load_table`. It takes a path or the raw bytes of an
upload, works out the format, the text encoding, the delimiter, the decimal
mark and the missing-value markers, and returns a :class:`LoadedTable` whose
``notes`` say, in plain words, what was detected and converted.

Libraries do the detecting and parsing:

- the text encoding: a strict UTF-8 check of the *whole* file first (line by
  line when some lines are UTF-8 and others are not: each line is then decoded
  with its own encoding), then `charset-normalizer
  <https://github.com/jawah/charset_normalizer>`_, which scores candidate code
  pages over chunks spread across the whole file;
- the CSV dialect (delimiter, quote character): `CleverCSV
  <https://github.com/alan-turing-institute/CleverCSV>`_ (van den Burg et al.,
  "Wrangling messy CSV files by detecting row and type patterns", Data Mining
  and Knowledge Discovery, 2019);
- delimited text is parsed by pyarrow's streaming CSV reader, block by block,
  every cell as text; each block's columns are converted to numbers at once
  when every value is a plain number, so a large numeric file never exists
  as millions of Python strings (pandas' C parser takes over for files with
  short rows, which it pads with missing values). With ``max_rows`` a seeded
  uniform sample is drawn while reading, so only the sample is ever held;
- Excel: the Rust ``calamine`` reader, in a child process with a memory limit
  and a time limit (:mod:`core._excel_child`), after the workbook's zip has
  been checked for bombs; Parquet: ``pyarrow``.

Limits (:mod:`core.settings`): file size, columns (checked on the header line
before any parsing), cells, characters per cell, and for workbooks the
uncompressed size, each zip member's size and compression ratio, and the
sheet's declared dimension. Each has its own :class:`core.errors.LimitError`.

The user's file is only ever read. Uploads are never unpickled or executed:
there is no pickle, no ``eval`` and no macro support anywhere on this path.
"""

from __future__ import annotations

import codecs
import hashlib
import io
import json
import os
import re
import subprocess
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from core.errors import DataError, LimitError
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

# Number formats, as whole-value patterns. [0-9] not \d: the same meaning in Python's re and in RE2 (pyarrow).
_NUM = r"[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?"
_RE_PLAIN_NUMBER = "^" + _NUM + "$"
_RE_INT = r"^[-+]?[0-9]+$"
_RE_INT_LEADING_ZERO = r"^0[0-9]+$"
_RE_THOUSANDS_COMMA = r"^[-+]?[0-9]{1,3}(,[0-9]{3})+(\.[0-9]+)?$"
_RE_DECIMAL_COMMA = r"^[-+]?[0-9]*,[0-9]+$"
_RE_DOT_THOUSANDS_DECIMAL_COMMA = r"^[-+]?[0-9]{1,3}(\.[0-9]{3})+(,[0-9]+)?$"
_RE_INT_OR_DECIMAL_COMMA = r"^[-+]?[0-9]+(,[0-9]+)?$"

#: Bytes read per step when scanning a file (UTF-8 check, NUL count).
_SCAN_CHUNK = 16 * 2**20
#: pyarrow CSV block size: rows are parsed and converted this many bytes at a time.
_BLOCK_BYTES = 1 * 2**20
#: Control bytes that do not occur in text (NUL and the C0 controls except tab, LF, VT, FF, CR, ESC).
_CONTROL = bytes([*range(0, 9), *range(14, 27), *range(28, 32)])
_NOT_CONTROL = bytes(b for b in range(256) if b not in _CONTROL)


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


# --------------------------------------------------------------------------- detection

def _control_bytes(data: bytes) -> int:
    """How many bytes of ``data`` are control characters that never occur in text (NUL included)."""
    return len(data.translate(None, _NOT_CONTROL))


def sniff_format(data: bytes, name: str) -> str:
    """Decide the file format from magic bytes first, then the file extension.

    Args:
        data: the file's first bytes (64 KiB are enough) or all of them.
        name: the file name (its extension is a hint).

    Returns:
        One of ``"csv"``, ``"excel"``, ``"parquet"``, ``"jsonl"``.

    Raises:
        DataError: a recognised non-table binary (zip archive without a
            workbook, gzip, PDF, image...) or binary bytes (more than 1% control
            bytes in the first 64 KiB; a stray NUL in text is removed later, with a notice).
    """
    ext = Path(name).suffix.lower()
    head = data[:8]
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith(b"PK\x03\x04"):
        if b"xl/" in data[:65536] or b"content.xml" in data[:65536] or b"[Content_Types].xml" in data[:65536] \
                or ext in EXTENSIONS["excel"]:
            return "excel"
        raise DataError(f"'{name}' is a zip archive, not a table. Unzip it and upload the CSV or Excel file inside.")
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "excel"  # legacy .xls (OLE2)
    if head.startswith(b"\x1f\x8b"):
        raise DataError(f"'{name}' is gzip-compressed. Decompress it first, then upload the table inside.")
    if head.startswith(b"%PDF"):
        raise DataError(f"'{name}' is a PDF, not a table. Export the table as CSV or Excel and upload that.")
    if head.startswith((b"\x89PNG", b"\xff\xd8\xff", b"GIF8")):
        raise DataError(f"'{name}' is an image, not a table. Upload a CSV, TSV, Excel, Parquet or JSON Lines file.")
    if ext in EXTENSIONS["excel"] or ext in EXTENSIONS["parquet"]:
        raise DataError(f"'{name}' has a {ext} extension but its content is not a valid {ext} file. "
                        "Re-export it from the program that made it.")
    sample = data[:65536]
    if not data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) \
            and _control_bytes(sample) > max(2, len(sample) // 100):
        raise DataError(f"'{name}' contains binary bytes and is not a text table. "
                        "Upload a CSV, TSV, Excel, Parquet or JSON Lines file.")
    if ext in EXTENSIONS["jsonl"]:
        return "jsonl"
    stripped = data.lstrip(codecs.BOM_UTF8).lstrip()
    if stripped[:1] in (b"{", b"[") and ext not in EXTENSIONS["csv"]:
        return "jsonl"
    return "csv"


def _legacy_codec(data: bytes) -> tuple[str, str]:
    """charset-normalizer's choice among Japanese and Western code pages, as ``(codec, note)``."""
    from charset_normalizer import from_bytes

    best = from_bytes(data, cp_isolation=["cp932", "shift_jis", "euc_jp", "cp1252", "latin_1"]).best()
    if best is None:
        return "latin-1", "Encoding: not recognised; read as Latin-1, so some characters may look wrong."
    enc = best.encoding.replace("_", "-").lower()
    enc = {"shift-jis": "cp932", "sjis": "cp932", "iso-8859-1": "latin-1", "latin-1": "latin-1",
           "windows-1252": "cp1252"}.get(enc, enc)
    return enc, f"Encoding: {_ENCODING_NAMES.get(enc, enc)} (detected by charset-normalizer)."


def detect_encoding(data: bytes) -> tuple[str, str]:
    """Detect the text encoding of a whole file.

    A byte-order mark decides first; then a strict UTF-8 decode of every byte;
    then charset-normalizer chooses among Japanese and Western code pages over
    chunks taken across the whole file (not only its first kilobytes). A file
    whose lines mix UTF-8 and another encoding is handled by :func:`load_table`
    line by line.

    Args:
        data: the file's bytes.

    Returns:
        ``(codec, note)``: a Python codec name (``"utf-8"``, ``"utf-8-sig"``,
        ``"utf-16"``, ``"cp932"``, ``"euc-jp"``, ``"cp1252"``, ``"latin-1"``) and a
        human-readable note.
    """
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8-sig", "Encoding: UTF-8 with BOM."
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16", "Encoding: UTF-16 (byte-order mark)."
    if _is_utf8(_chunks_of(data)):
        return "utf-8", "Encoding: UTF-8."
    return _legacy_codec(data)


def _chunks_of(data: bytes, size: int = _SCAN_CHUNK) -> Iterator[bytes]:
    view = memoryview(data)
    for i in range(0, len(view), size):
        yield view[i:i + size]


def _is_utf8(chunks) -> bool:
    """Whether the concatenated chunks are valid UTF-8 (checked incrementally, little memory)."""
    dec = codecs.getincrementaldecoder("utf-8")("strict")
    try:
        for chunk in chunks:
            if bytes(chunk).isascii() if isinstance(chunk, memoryview) else chunk.isascii():
                if dec.getstate()[0]:  # a multi-byte character was cut at the previous chunk's end
                    dec.decode(bytes(chunk))
                continue
            dec.decode(bytes(chunk))
        dec.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def detect_delimiter(text: str, name: str = "") -> tuple[str, str, str]:
    """Detect the delimiter and quote character of delimited text with CleverCSV.

    Args:
        text: the decoded file or its beginning (a sample of its first ~200 lines is examined).
        name: file name; a ``.tsv``/``.tab`` extension forces tab.

    Returns:
        ``(delimiter, quotechar, note)``. A file with a single column gets ``","``.
    """
    if Path(name).suffix.lower() in (".tsv", ".tab"):
        return "\t", '"', "Delimiter: tab (from the .tsv extension)."
    lines = text.splitlines(keepends=True)[:200]
    sample = "".join(lines)[:100_000]
    dialect = None
    try:
        import clevercsv

        dialect = clevercsv.Detector().detect(sample, delimiters=_DELIMITERS)
    except Exception:  # noqa: BLE001 - detector failures fall back to counting below
        dialect = None
    if dialect is not None and dialect.delimiter in _DELIMITERS:
        delim, quote = dialect.delimiter, dialect.quotechar or '"'
        return delim, quote, f"Delimiter: {_DELIMITER_NAMES[delim]} (detected by CleverCSV)."
    # CleverCSV found nothing usable: the delimiter that occurs the same number of times on most lines wins.
    best, best_score = ",", 0
    for d in _DELIMITERS:
        counts = [ln.count(d) for ln in lines[:50] if ln.strip()]
        if counts and counts[0] > 0:
            score = sum(c == counts[0] for c in counts)
            if score > best_score:
                best, best_score = d, score
    if best_score == 0:
        return ",", '"', "Delimiter: none found, so the file is read as a single column."
    return best, '"', f"Delimiter: {_DELIMITER_NAMES[best]} (most consistent across lines)."


# --------------------------------------------------------------------------- column conversion (vectorised)

def _na_markers(na_values: Sequence[str | float]) -> tuple[list[str], list[float]]:
    text = sorted(set(DEFAULT_NA_VALUES) | {str(v).strip() for v in na_values})
    numbers = []
    for v in na_values:
        try:
            numbers.append(float(v))
        except (TypeError, ValueError):
            pass
    return text, numbers


def _trim_mark(arr, na_text: list[str]):
    """Strip whitespace and turn missing markers into nulls, in one string column (pyarrow)."""
    arr = pc.utf8_trim_whitespace(arr)
    hit = pc.is_in(arr, value_set=pa.array(na_text, type=arr.type))
    if pc.any(hit).as_py():
        arr = pc.if_else(hit, pa.scalar(None, type=arr.type), arr)
    return arr


def _all(arr, pattern: str) -> bool:
    """Whether every non-null value of a string column matches ``pattern`` (RE2 syntax)."""
    return bool(pc.all(pc.match_substring_regex(arr, pattern), skip_nulls=True).as_py() is not False)


def _any(arr, pattern: str) -> bool:
    return bool(pc.any(pc.match_substring_regex(arr, pattern), skip_nulls=True).as_py())


def _to_number(arr) -> np.ndarray:
    """Cast a string column whose values are all plain numbers: int64 when all are integers, else float64."""
    if _all(arr, _RE_INT):
        try:
            out = pc.cast(pc.replace_substring_regex(arr, r"^\+", ""), pa.int64())
            return out.to_numpy(zero_copy_only=False) if out.null_count == 0 else \
                pc.cast(out, pa.float64()).to_numpy(zero_copy_only=False)
        except pa.ArrowInvalid:  # beyond int64: floats
            pass
    return pc.cast(arr, pa.float64()).to_numpy(zero_copy_only=False)


def _plain_numbers(arr) -> np.ndarray | None:
    """A block's column as numbers when every non-null value is a plain number without leading zeros.

    pyarrow's number parser goes first (one pass, and it fails fast on text);
    what it accepts beyond plain numbers (``inf``, ``nan``) is re-checked with
    the pattern. Whole numbers come back as int64 (exactly, also beyond 2**53).
    """
    if len(arr) == arr.null_count:
        return None
    try:
        floats = pc.cast(arr, pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    values = floats.to_numpy(zero_copy_only=False)
    finite = np.isfinite(values)
    if not finite.all() and (values[~finite] == values[~finite]).any() or \
            np.isnan(values).sum() != floats.null_count:  # 'inf' or 'nan' written as text
        if not _all(arr, _RE_PLAIN_NUMBER):
            return None
    if pc.any(pc.starts_with(arr, "0")).as_py() and _any(arr, _RE_INT_LEADING_ZERO):
        return None
    if floats.null_count == 0 and finite.all() and (values == np.floor(values)).all():
        if np.abs(values).max() < 2**53:
            return values.astype(np.int64)
        return _to_number(arr)  # large whole numbers: parsed again as int64, exactly
    return values


def _text_column(arr, delimiter: str | None) -> tuple[pd.Series, str | None, str]:
    """Finish a whole text column (stripped, markers as nulls): number formats, or text.

    Returns ``(series, note or None, decimal_mark)``; ``series`` is float/int for
    numbers, pandas ``str`` (Arrow-backed) for text.
    """
    if len(arr) == arr.null_count:
        return pd.Series(np.full(len(arr), np.nan)), None, "."

    def numbers(values) -> pd.Series:
        return _finish_numbers(_to_number(values))

    if _all(arr, _RE_PLAIN_NUMBER):
        if _any(arr, _RE_INT_LEADING_ZERO):
            return _as_text(arr), "kept as text: values with leading zeros look like codes", "."
        return numbers(arr), None, "."
    thousands = _all(arr, f"({_RE_THOUSANDS_COMMA})|({_RE_PLAIN_NUMBER})")
    decimal_comma = _all(arr, f"({_RE_DECIMAL_COMMA})|({_RE_INT})")
    if thousands and not (decimal_comma and delimiter in (";", "\t", "|")
                          and not _all(arr, r",[0-9]{3}(,|$)")):
        return numbers(pc.replace_substring(arr, ",", "")), "thousands separators removed", "."
    if decimal_comma:
        return numbers(pc.replace_substring(arr, ",", ".")), "decimal commas read as decimal points", ","
    if _all(arr, f"({_RE_DOT_THOUSANDS_DECIMAL_COMMA})|({_RE_INT_OR_DECIMAL_COMMA})") and _any(arr, ","):
        conv = pc.replace_substring(pc.replace_substring(arr, ".", ""), ",", ".")
        return numbers(conv), "European number format (1.234,5) converted", ","
    return _as_text(arr), None, "."


def _as_text(arr) -> pd.Series:
    """Arrow strings as a pandas ``str`` Series, without a copy when the column is already ``large_string``."""
    if arr.type != pa.large_string():
        arr = arr.cast(pa.large_string())
    return pd.Series(arr.to_pandas(), copy=False)


def _finish_numbers(values: np.ndarray) -> pd.Series:
    """Floats that are all whole and present become int64 (``1.0, 2.0`` -> ``1, 2``), as a Series."""
    if values.dtype.kind == "f" and len(values) and np.isfinite(values).all() \
            and (values == np.round(values)).all() and np.abs(values).max() < 2**63:
        values = values.astype("int64")
    return pd.Series(values, copy=False)


def _truncate_text(arr, limit: int):
    """Cut cells longer than ``limit`` characters; returns ``(array, n_cut)``."""
    lengths = pc.utf8_length(arr)
    over = pc.greater(lengths, limit)
    n = pc.sum(over).as_py() or 0
    if n:
        arr = pc.if_else(over, pc.utf8_slice_codeunits(arr, 0, limit), arr)
    return arr, int(n)


def _unique_names(raw_names: Sequence) -> list[str]:
    """Column names stripped, blanks filled (``column_3``), duplicates numbered (``x.1``)."""
    names, seen = [], {}
    for i, c in enumerate(raw_names):
        n = str(c).strip() if c is not None else ""
        if n == "" or n.lower().startswith("unnamed:"):
            n = f"column_{i + 1}"
        if n in seen:
            seen[n] += 1
            n = f"{n}.{seen[n]}"
        else:
            seen[n] = 0
        names.append(n)
    return names


class _Notes:
    """Collects per-column conversion notes and counts into the sentences shown to the user."""

    def __init__(self) -> None:
        self.converted: dict[str, list[str]] = {}
        self.truncated: dict[str, int] = {}
        self.n_missing = 0
        self.decimal = "."

    def add(self, col: str, note: str | None, decimal: str) -> None:
        if note:
            self.converted.setdefault(note, []).append(col)
        if decimal == ",":
            self.decimal = ","

    def sentences(self, na_values: Sequence) -> list[str]:
        out = []
        for note, cols in self.converted.items():
            shown = ", ".join(f"'{c}'" for c in cols[:6]) + (f" and {len(cols) - 6} more" if len(cols) > 6 else "")
            out.append(f"{shown}: {note}.")
        if self.truncated:
            limit = settings.max_text_chars
            cols = ", ".join(f"'{c}' ({n:,})" for c, n in list(self.truncated.items())[:6])
            out.append(f"{sum(self.truncated.values()):,} cells longer than {limit:,} characters were cut to "
                       f"{limit:,} characters: {cols}. Set CROSSROADS_MAX_TEXT_CHARS to keep longer texts.")
        if self.n_missing:
            out.append(f"{self.n_missing:,} cells read as missing (empty, NA, N/A, ?, - and the like"
                       + (f", plus {', '.join(map(str, na_values))}" if na_values else "") + ").")
        return out


def _finish_column(name: str, arr, delimiter: str | None, notes: _Notes) -> pd.Series:
    arr, n_cut = _truncate_text(arr, settings.max_text_chars)
    if n_cut:
        notes.truncated[name] = n_cut
    s, note, dec = _text_column(arr, delimiter)
    notes.add(name, note, dec)
    return s


def _mark_numeric_na(s: pd.Series, na_numbers: list[float], notes: _Notes) -> pd.Series:
    if na_numbers and pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
        hit = s.isin(na_numbers)
        if hit.any():
            notes.n_missing += int(hit.sum())
            s = s.astype(float).mask(hit, np.nan)
    return s


def clean_frame(df: pd.DataFrame, *, na_values: Sequence[str | float] = (), delimiter: str | None = None,
                ) -> tuple[pd.DataFrame, list[str], str]:
    """Strip text, mark missing values and convert numeric text, returning a new frame.

    Text columns are converted with vectorised (pyarrow) string functions; a
    column whose values are all numbers in one format (plain, ``1,234.5``,
    ``12,5`` with a ``;``/tab/``|`` delimiter, ``1.234,5``) becomes numeric,
    with a note; values with leading zeros (``01234``) stay text. Text longer
    than ``settings.max_text_chars`` is cut, with a note.

    Args:
        df: a freshly read frame (text columns as ``object`` or ``str``); not modified.
        na_values: extra sentinels that mean "missing" (e.g. ``-200``), compared
            as text and, for numeric columns, as numbers.
        delimiter: the file's delimiter, used to tell ``1,5`` (decimal comma) from
            ``1,500`` (thousands separator).

    Returns:
        ``(frame, notes, decimal_mark)``; text columns of ``frame`` are pandas
        ``str`` (Arrow-backed) or, when they mix text with other values, ``object``.
    """
    na_text, na_numbers = _na_markers(na_values)
    na_set = set(na_text)
    notes = _Notes()
    names = _unique_names(df.columns)
    out: dict[str, pd.Series] = {}
    for i, name in enumerate(names):
        s = df.iloc[:, i].reset_index(drop=True)
        if s.dtype == object or pd.api.types.is_string_dtype(s):
            non_null = s.dropna()
            if len(non_null) == 0 or pd.api.types.is_string_dtype(s) or non_null.map(type).eq(str).all():
                arr = pa.array(s.astype(object).where(s.notna(), None), type=pa.string())
                before = arr.null_count
                arr = _trim_mark(arr, na_text)
                notes.n_missing += arr.null_count - before
                s = _finish_column(name, arr, delimiter, notes)
            else:  # text mixed with numbers, dates...: strip the text and mark its missing markers only
                s = s.map(lambda v: v.strip() if isinstance(v, str) else v)
                is_na = s.map(lambda v: isinstance(v, str) and v in na_set)
                notes.n_missing += int(is_na.sum())
                s = s.mask(is_na, np.nan).astype(object)
        out[name] = _mark_numeric_na(s, na_numbers, notes)
    frame = pd.DataFrame(out, index=pd.RangeIndex(len(df))) if out else pd.DataFrame(index=pd.RangeIndex(len(df)))
    return frame, notes.sentences(na_values), notes.decimal


# --------------------------------------------------------------------------- delimited text, streamed

class _NumBuf:
    """A growing numpy column (int64 until a float or a missing value arrives, then float64).

    One large buffer instead of many block-sized pieces: pieces freed at the end
    stay in the allocator, so the peak would be twice the column. Capacity
    beyond what is written is never touched, so it costs no resident memory.
    """

    def __init__(self, capacity: int):
        self.capacity = max(int(capacity), 1)
        self.a: np.ndarray | None = None
        self.n = 0

    def append(self, x: np.ndarray) -> None:
        if self.a is None:
            self.a = np.empty(max(self.capacity, len(x)), dtype=x.dtype)
        elif x.dtype.kind == "f" and self.a.dtype.kind != "f":
            self.a = self.a.astype(np.float64)
        if self.n + len(x) > len(self.a):
            grown = np.empty(int((self.n + len(x)) * 1.5), dtype=self.a.dtype)
            grown[:self.n] = self.a[:self.n]
            self.a = grown
        self.a[self.n:self.n + len(x)] = x
        self.n += len(x)

    def values(self) -> np.ndarray:
        return self.a[:self.n] if self.a is not None else np.empty(0)


class _Collector:
    """Receives blocks of string columns, converts them, and keeps all rows or a seeded uniform sample.

    Sampling gives every row a uniform random key and keeps the ``max_rows``
    smallest keys (a bottom-k sample, i.e. simple random sampling without
    replacement), compacting whenever twice that many rows are held.
    """

    def __init__(self, names: list[str], na_text: list[str], max_rows: int | None, seed: int, file_name: str,
                 file_size: int):
        self.names, self.na_text, self.max_rows, self.file_name = names, na_text, max_rows, file_name
        self.file_size = max(file_size, 1)
        n = len(names)
        self.state = ["?"] * n          # "?" only missing so far, "num", "text", "reread"
        self.nulls = [0] * n            # rows seen while a column was all missing ("?")
        self.num: list[_NumBuf | None] = [None] * n
        self.text: list[list] = [[] for _ in range(n)]
        self.keys: list[np.ndarray] = []
        self.ids: list[np.ndarray] = []
        self.held = 0
        self.rows_seen = 0
        self.bytes_per_row = None
        self.rng = np.random.default_rng(seed)
        self.threshold = np.inf
        self.max_cells = settings.max_cells

    def _capacity(self, m: int) -> int:
        if self.max_rows:
            return 2 * self.max_rows + 2 * m
        if self.bytes_per_row is None:  # estimated from the first block, generously: unused capacity is free
            self.bytes_per_row = min(_BLOCK_BYTES, self.file_size) / m
        return int(self.file_size / self.bytes_per_row * 1.25) + m

    def add(self, cols: list) -> None:
        m = len(cols[0]) if cols else 0
        if m == 0:
            return
        start = self.rows_seen
        self.rows_seen += m
        keys = ids = None
        if self.max_rows:
            ids = np.arange(start, start + m)
            keys = self.rng.random(m)
            keep = np.flatnonzero(keys < self.threshold)
            if len(keep) == 0:
                return
            if len(keep) < m:
                idx = pa.array(keep)
                cols = [c.take(idx) for c in cols]
                keys, ids = keys[keep], ids[keep]
        elif self.rows_seen * len(self.names) > self.max_cells:
            raise settings.limit_error(
                "max_cells", f"'{self.file_name}' has more than {self.rows_seen - m:,} rows x "
                f"{len(self.names):,} columns. Read a sample of the rows (--max-rows, or the page's row limit), "
                "or raise the limit")
        k = len(cols[0])
        for j, col in enumerate(cols):
            st = self.state[j]
            if st == "reread":
                continue
            if st in ("?", "num"):
                nums = _plain_numbers(col)  # a clean block (no spaces, no blanks): no trimming needed
                if nums is not None:
                    if st == "?":
                        self.state[j], self.num[j] = "num", _NumBuf(self._capacity(m))
                        if self.nulls[j]:
                            self.num[j].append(np.full(self.nulls[j], np.nan))
                    self.num[j].append(nums)
                    continue
            col = _trim_mark(col, self.na_text)
            if st in ("?", "num"):
                if col.null_count == k:
                    if st == "?":
                        self.nulls[j] += k  # all missing so far: the type is not known yet
                    else:
                        self.num[j].append(np.full(k, np.nan))
                    continue
                nums = _plain_numbers(col)
                if nums is not None:
                    if st == "?":
                        self.state[j], self.num[j] = "num", _NumBuf(self._capacity(m))
                        if self.nulls[j]:
                            self.num[j].append(np.full(self.nulls[j], np.nan))
                    self.num[j].append(nums)
                    continue
                if st == "num":  # numbers so far, text now: read this column again as text at the end
                    self.state[j], self.num[j] = "reread", None
                    continue
                self.state[j] = "text"
                if self.nulls[j]:
                    self.text[j].append(pa.nulls(self.nulls[j], type=pa.large_string()))
            self.text[j].append(col.cast(pa.large_string()))
        if ids is not None:
            self.ids.append(ids)
            self.keys.append(keys)
        self.held += k
        if self.max_rows and self.held > 2 * self.max_rows:
            self._compact()

    def column(self, j: int):
        """Column ``j`` so far: a numpy array (numbers or all missing), an Arrow array (text), or None (reread)."""
        st = self.state[j]
        if st == "num":
            return self.num[j].values()
        if st == "?":
            return np.full(self.held, np.nan)
        if st == "text":
            return pa.chunked_array(self.text[j], type=pa.large_string())
        return None

    def release(self, j: int) -> None:
        """Forget column ``j`` once it has been built (keeps the peak memory near one copy)."""
        self.num[j], self.text[j] = None, []

    def _take(self, order: np.ndarray) -> None:
        for j in range(len(self.names)):
            col = self.column(j)
            if col is None:
                continue
            if self.state[j] == "num":
                buf = _NumBuf(self._capacity(len(order)))
                buf.append(col[order])
                self.num[j] = buf
            elif self.state[j] == "text":
                self.text[j] = [col.take(pa.array(order)).combine_chunks()]
            else:
                self.nulls[j] = len(order)
        self.ids = [np.concatenate(self.ids)[order]]
        self.keys = [np.concatenate(self.keys)[order]]
        self.held = len(order)

    def _compact(self) -> None:
        keys = np.concatenate(self.keys)
        k = self.max_rows
        order = np.argpartition(keys, k - 1)[:k] if len(keys) > k else np.arange(len(keys))
        self.threshold = float(keys[order].max()) if len(order) == k else np.inf
        self._take(order)

    def finish(self) -> np.ndarray:
        """Final selection in file order; returns the kept rows' 0-based row numbers."""
        if not self.max_rows:
            return np.arange(self.rows_seen)
        if self.keys and self.held > self.max_rows:
            self._compact()
        ids = np.concatenate(self.ids) if self.ids else np.empty(0, dtype=np.int64)
        order = np.argsort(ids, kind="stable")
        if len(ids) and (order != np.arange(len(order))).any():
            self._take(order)
            ids = self.ids[0]
        return ids


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
                            "Upload a CSV, TSV, Excel, Parquet or JSON Lines file.")
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


# --------------------------------------------------------------------------- Excel, in a child process

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


# --------------------------------------------------------------------------- public API

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
        raise DataError(f"'{name}' is empty. Upload a file with a header row and at least one data row.")
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


def _read_parquet(data: bytes, name: str) -> pd.DataFrame:
    try:
        return pd.read_parquet(io.BytesIO(data))
    except Exception as exc:  # noqa: BLE001
        raise DataError(f"'{name}' could not be read as Parquet ({exc}). Re-export it and retry.") from exc


def _read_jsonl(data: bytes, name: str, result: LoadedTable) -> pd.DataFrame:
    enc, note = detect_encoding(data)
    result.encoding = enc
    result.notes.append(note)
    text = data.decode(enc, errors="replace").lstrip("\ufeff").strip()
    try:
        if text.startswith("["):
            df = pd.read_json(io.StringIO(text), orient="records", dtype=False)
            result.notes.append("JSON array of records.")
        else:
            df = pd.read_json(io.StringIO(text), lines=True, dtype=False)
            result.notes.append("JSON Lines: one record per line.")
    except ValueError as exc:
        raise DataError(f"'{name}' is not valid JSON Lines ({str(exc).splitlines()[0]}). Each line must be one "
                        "JSON object such as {\"text\": \"...\", \"label\": \"...\"}.") from exc
    # Nested objects/lists cannot be model features: keep them as their JSON text.
    for col in df.columns:
        if df[col].map(lambda v: isinstance(v, (dict, list))).any():
            df[col] = df[col].map(lambda v: json.dumps(v, ensure_ascii=False) if isinstance(v, (dict, list)) else v)
    return df
