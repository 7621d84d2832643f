"""Reading the tables people really upload: CSV, TSV/TXT, Excel, Parquet and JSON Lines.

The entry point is :func:`load_table`. It takes a path or the raw bytes of an
upload, works out the format, the text encoding, the delimiter, the decimal
mark and the missing-value markers, and returns a :class:`LoadedTable` whose
``notes`` say, in plain words, what was detected and converted.

Libraries do the detecting:

- the text encoding: a strict UTF-8 decode of the *whole* file first, then
  `charset-normalizer <https://github.com/jawah/charset_normalizer>`_, which
  scores candidate code pages over chunks spread across the whole file;
- the CSV dialect (delimiter, quote character): `CleverCSV
  <https://github.com/alan-turing-institute/CleverCSV>`_ (van den Burg et al.,
  "Wrangling messy CSV files by detecting row and type patterns", Data Mining
  and Knowledge Discovery, 2019);
- Excel: ``pandas.read_excel`` with the Rust ``calamine`` engine (``.xlsx``,
  ``.xlsm``, ``.xls``, ``.ods``); Parquet: ``pyarrow``.

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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from core.errors import DataError

#: Largest upload accepted, in bytes (200 MB, Streamlit's own default upload limit).
#: Override with the environment variable ``CROSSROADS_MAX_UPLOAD_MB``.
MAX_UPLOAD_BYTES = int(float(os.environ.get("CROSSROADS_MAX_UPLOAD_MB", "200")) * 1024 * 1024)

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

_RE_INT_LEADING_ZERO = re.compile(r"^0\d+$")
_RE_THOUSANDS_COMMA = re.compile(r"^[-+]?\d{1,3}(,\d{3})+(\.\d+)?$")
_RE_DECIMAL_COMMA = re.compile(r"^[-+]?\d*,\d+$")
_RE_DOT_THOUSANDS_DECIMAL_COMMA = re.compile(r"^[-+]?\d{1,3}(\.\d{3})+(,\d+)?$")
_RE_PLAIN_NUMBER = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")


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
                 column_names: Sequence[str] | None = None, na_values: Sequence[str | float] = ()) -> str:
    """Identify a table read from a file: the file's SHA-256 plus the reading options.

    Two reads of the same bytes with the same options give the same digest; any
    change of sheet, header, names or missing-value markers gives another.

    Args:
        file_sha256: :func:`file_digest` of the file's bytes.
        sheet, header, column_names, na_values: as given to :func:`load_table`.

    Returns:
        64 hex characters.
    """
    options = json.dumps([file_sha256, sheet, bool(header), [str(c) for c in column_names or ()],
                          [str(v) for v in na_values]], ensure_ascii=False)
    return hashlib.sha256(options.encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------- reading bytes

def read_source(source: str | os.PathLike | bytes, name: str | None = None,
                max_bytes: int = MAX_UPLOAD_BYTES) -> tuple[bytes, str]:
    """Read a path or take raw bytes, enforcing the size limit.

    Args:
        source: a filesystem path, or the bytes of an upload.
        name: display name; defaults to the path's file name or ``"upload"``.
        max_bytes: size limit in bytes.

    Returns:
        ``(data, name)``.

    Raises:
        DataError: the path does not exist, is a folder, or the file is larger than ``max_bytes``.
    """
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        name = name or "upload"
    else:
        path = Path(source)
        name = name or path.name
        if not path.exists():
            raise DataError(f"No file at '{path}'. Check the path and try again.")
        if path.is_dir():
            raise DataError(f"'{path}' is a folder, not a file. Give the path of a table file.")
        size = path.stat().st_size
        if size > max_bytes:
            raise DataError(_too_big(name, size, max_bytes))
        data = path.read_bytes()  # read-only: the user's file is never changed
    if len(data) > max_bytes:
        raise DataError(_too_big(name, len(data), max_bytes))
    return data, name


def _too_big(name: str, size: int, limit: int) -> str:
    return (f"'{name}' is {size / 2**20:,.1f} MB; the limit is {limit / 2**20:,.0f} MB. "
            "Upload a sample of the rows, or raise the limit with CROSSROADS_MAX_UPLOAD_MB.")


# --------------------------------------------------------------------------- detection

def sniff_format(data: bytes, name: str) -> str:
    """Decide the file format from magic bytes first, then the file extension.

    Args:
        data: the file's bytes.
        name: the file name (its extension is a hint).

    Returns:
        One of ``"csv"``, ``"excel"``, ``"parquet"``, ``"jsonl"``.

    Raises:
        DataError: a recognised non-table binary (zip archive without a
            workbook, gzip, PDF, image...) or undecodable binary bytes.
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
    if not data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) and b"\x00" in data[:8192]:
        raise DataError(f"'{name}' contains binary bytes and is not a text table. "
                        "Upload a CSV, TSV, Excel, Parquet or JSON Lines file.")
    if ext in EXTENSIONS["jsonl"]:
        return "jsonl"
    stripped = data.lstrip(codecs.BOM_UTF8).lstrip()
    if stripped[:1] in (b"{", b"[") and ext not in EXTENSIONS["csv"]:
        return "jsonl"
    return "csv"


def detect_encoding(data: bytes) -> tuple[str, str]:
    """Detect the text encoding of a whole file.

    A byte-order mark decides first; then a strict UTF-8 decode of every byte;
    then charset-normalizer chooses among Japanese and Western code pages over
    chunks taken across the whole file (not only its first kilobytes).

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
    try:
        data.decode("utf-8")
        return "utf-8", "Encoding: UTF-8."
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data, cp_isolation=["cp932", "shift_jis", "euc_jp", "cp1252", "latin_1"]).best()
    if best is None:
        return "latin-1", "Encoding: not recognised; read as Latin-1, so some characters may look wrong."
    enc = best.encoding.replace("_", "-").lower()
    enc = {"shift-jis": "cp932", "sjis": "cp932", "iso-8859-1": "latin-1", "latin-1": "latin-1",
           "windows-1252": "cp1252"}.get(enc, enc)
    return enc, f"Encoding: {_ENCODING_NAMES.get(enc, enc)} (detected by charset-normalizer)."


def detect_delimiter(text: str, name: str = "") -> tuple[str, str, str]:
    """Detect the delimiter and quote character of delimited text with CleverCSV.

    Args:
        text: the decoded file (a sample of its first ~200 lines is examined).
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


# --------------------------------------------------------------------------- cleaning

def _coerce_numeric(values: pd.Series, delimiter: str | None) -> tuple[pd.Series | None, str | None, str]:
    """Try to turn a column of strings (no NaN) into numbers.

    Returns ``(numbers or None, note or None, decimal_mark)``.
    """
    s = values.astype(str)
    if s.empty:
        return None, None, "."
    if s.map(lambda v: bool(_RE_PLAIN_NUMBER.match(v))).all():
        if s.map(lambda v: bool(_RE_INT_LEADING_ZERO.match(v))).any():
            return None, "kept as text: values with leading zeros look like codes", "."
        return pd.to_numeric(s), None, "."
    thousands = s.map(lambda v: bool(_RE_THOUSANDS_COMMA.match(v) or _RE_PLAIN_NUMBER.match(v)))
    decimal_comma = s.map(lambda v: bool(_RE_DECIMAL_COMMA.match(v) or re.match(r"^[-+]?\d+$", v)))
    if thousands.all() and not (decimal_comma.all() and delimiter in (";", "\t", "|")
                                and not s.str.contains(r",\d{3}(?:,|$)").all()):
        return pd.to_numeric(s.str.replace(",", "", regex=False)), "thousands separators removed", "."
    if decimal_comma.all():
        return pd.to_numeric(s.str.replace(",", ".", regex=False)), "decimal commas read as decimal points", ","
    eu = s.map(lambda v: bool(_RE_DOT_THOUSANDS_DECIMAL_COMMA.match(v) or re.match(r"^[-+]?\d+(,\d+)?$", v)))
    if eu.all() and s.str.contains(",").any():
        conv = s.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
        return pd.to_numeric(conv), "European number format (1.234,5) converted", ","
    return None, None, "."


def clean_frame(df: pd.DataFrame, *, na_values: Sequence[str | float] = (), delimiter: str | None = None,
                ) -> tuple[pd.DataFrame, list[str], str]:
    """Strip text, mark missing values and convert numeric text, returning a new frame.

    Args:
        df: a freshly read frame (text columns as ``object``); not modified.
        na_values: extra sentinels that mean "missing" (e.g. ``-200``), compared
            as text and, for numeric columns, as numbers.
        delimiter: the file's delimiter, used to tell ``1,5`` (decimal comma) from
            ``1,500`` (thousands separator).

    Returns:
        ``(frame, notes, decimal_mark)``.
    """
    out = df.copy()
    notes: list[str] = []
    decimal = "."
    na_text = set(DEFAULT_NA_VALUES) | {str(v).strip() for v in na_values}
    na_numbers = []
    for v in na_values:
        try:
            na_numbers.append(float(v))
        except (TypeError, ValueError):
            pass
    # Column names: strip, fill blanks, keep them unique.
    names, seen = [], {}
    for i, c in enumerate(out.columns):
        n = str(c).strip() if c is not None else ""
        if n == "" or n.lower().startswith("unnamed:"):
            n = f"column_{i + 1}"
        if n in seen:
            seen[n] += 1
            n = f"{n}.{seen[n]}"
        else:
            seen[n] = 0
        names.append(n)
    out.columns = names
    converted: dict[str, list[str]] = {}
    n_missing_marked = 0
    for col in out.columns:
        s = out[col]
        if s.dtype == object or pd.api.types.is_string_dtype(s):
            s = s.map(lambda v: v.strip() if isinstance(v, str) else v)
            is_na = s.map(lambda v: isinstance(v, str) and v in na_text)
            n_missing_marked += int(is_na.sum())
            s = s.mask(is_na, np.nan).astype(object)
            non_null = s.dropna()
            if len(non_null) and non_null.map(lambda v: isinstance(v, str)).all():
                nums, note, dec = _coerce_numeric(non_null, delimiter)
                if nums is not None:
                    full = pd.Series(np.nan, index=s.index, dtype=float)
                    full.loc[nums.index] = nums.astype(float).to_numpy()
                    if full.notna().all() and (full == full.round()).all():
                        full = full.astype("int64")
                    s = full
                    if dec == ",":
                        decimal = ","
                    if note:
                        converted.setdefault(note, []).append(col)
                elif note:
                    converted.setdefault(note, []).append(col)
            elif len(non_null) == 0:
                s = pd.Series(np.nan, index=s.index, dtype=float) if len(s) else s
        if na_numbers and pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
            hit = s.isin(na_numbers)
            if hit.any():
                n_missing_marked += int(hit.sum())
                s = s.astype(float).mask(hit, np.nan)
        out[col] = s
    for note, cols in converted.items():
        shown = ", ".join(f"'{c}'" for c in cols[:6]) + (f" and {len(cols) - 6} more" if len(cols) > 6 else "")
        notes.append(f"{shown}: {note}.")
    if n_missing_marked:
        notes.append(f"{n_missing_marked:,} cells read as missing (empty, NA, N/A, ?, - and the like"
                     + (f", plus {', '.join(map(str, na_values))}" if na_values else "") + ").")
    return out, notes, decimal


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
    """
    data, name = read_source(source, name)
    if sniff_format(data, name) != "excel":
        return []
    try:
        return list(pd.ExcelFile(io.BytesIO(data), engine="calamine").sheet_names)
    except Exception as exc:  # noqa: BLE001 - any reader failure is a bad workbook
        raise DataError(f"'{name}' could not be opened as a workbook ({exc}). Re-save it as .xlsx and retry.") from exc


def load_table(
    source: str | os.PathLike | bytes,
    *,
    name: str | None = None,
    sheet: str | int | None = None,
    header: bool = True,
    column_names: Sequence[str] | None = None,
    na_values: Sequence[str | float] = (),
    max_bytes: int = MAX_UPLOAD_BYTES,
    sha256: str | None = None,
) -> LoadedTable:
    """Read a table from a path or from uploaded bytes.

    Args:
        source: a filesystem path, or the bytes of an upload.
        name: file name for messages and the format hint (needed for bytes).
        sheet: Excel sheet name or 0-based position; default the first sheet.
        header: ``False`` when the first row is data, not column names.
        column_names: names for the columns (for headerless files, or to rename);
            must match the number of columns.
        na_values: extra values meaning "missing", e.g. ``["-200"]`` or ``[-200]``.
        max_bytes: size limit in bytes.
        sha256: the file's :func:`file_digest` when the caller already has it
            (an upload hashed once); computed here otherwise.

    Returns:
        A :class:`LoadedTable` (``frame`` has at least one row and one column)
        whose ``digest`` is :func:`table_digest` of the file and these options.

    Raises:
        DataError: empty file, header only, binary/non-table content, unknown
            sheet, malformed rows, too large, wrong number of column names.
    """
    data, name = read_source(source, name, max_bytes)
    if not data.strip(b" \t\r\n\x00" + codecs.BOM_UTF8):
        raise DataError(f"'{name}' is empty. Upload a file with a header row and at least one data row.")
    fmt = sniff_format(data, name)
    result = LoadedTable(frame=pd.DataFrame(), name=name, file_format=fmt, n_bytes=len(data),
                         digest=table_digest(sha256 or file_digest(data), sheet=sheet, header=header,
                                             column_names=column_names, na_values=na_values))
    if fmt == "csv":
        raw = _read_delimited(data, name, header, result)
    elif fmt == "excel":
        raw = _read_excel(data, name, sheet, header, result)
    elif fmt == "parquet":
        raw = _read_parquet(data, name)
    else:
        raw = _read_jsonl(data, name, result)
    if raw.shape[1] == 0:
        raise DataError(f"'{name}' has no columns. Check that it is a table with a header row.")
    if len(raw) == 0:
        raise DataError(f"'{name}' has a header row but no data rows. Add data rows; if that single row is data, "
                        "not column names, read the file without a header row ('The first row is data' option, "
                        "or --no-header).")
    if column_names:
        names = [str(c).strip() for c in column_names]
        if len(names) != raw.shape[1]:
            raise DataError(f"{len(names)} column names were given but '{name}' has {raw.shape[1]} columns. "
                            "Give one name per column, separated by commas.")
        if len(set(names)) != len(names):
            raise DataError("The column names given contain duplicates. Give each column a different name.")
        raw.columns = names
    frame, notes, decimal = clean_frame(raw, na_values=na_values, delimiter=result.delimiter)
    frame = frame.dropna(how="all").reset_index(drop=True)
    if len(frame) == 0:
        raise DataError(f"'{name}' has no data: every row is empty or missing.")
    result.frame = frame
    result.decimal = decimal
    result.notes.extend(notes)
    return result


def _read_delimited(data: bytes, name: str, header: bool, result: LoadedTable) -> pd.DataFrame:
    enc, note = detect_encoding(data)
    text = data.decode(enc, errors="replace")
    if "\ufffd" in text and enc in ("utf-8", "utf-8-sig"):
        note += " Some bytes could not be decoded and show as '?'."
    result.encoding = enc
    result.notes.append(note)
    if text.startswith("\ufeff"):
        text = text[1:]
    delim, quote, dnote = detect_delimiter(text, name)
    result.delimiter = delim
    result.notes.append(dnote)
    try:
        df = pd.read_csv(
            io.StringIO(text), sep=delim, quotechar=quote, header=0 if header else None, dtype=str,
            keep_default_na=False, na_filter=False, skipinitialspace=True, skip_blank_lines=True,
            engine="python" if len(delim) > 1 else "c",
        )
    except pd.errors.EmptyDataError as exc:
        raise DataError(f"'{name}' has no rows or columns to read. Check that it is a delimited table.") from exc
    except pd.errors.ParserError as exc:
        msg = str(exc).split("\n")[0]
        raise DataError(f"'{name}' could not be parsed as a {_DELIMITER_NAMES.get(delim, delim)}-delimited "
                        f"table: {msg}. Check quoting on that line, or save the file again as CSV.") from exc
    if not header:
        df.columns = [f"column_{i + 1}" for i in range(df.shape[1])]
    return df


def _read_excel(data: bytes, name: str, sheet: str | int | None, header: bool, result: LoadedTable) -> pd.DataFrame:
    try:
        book = pd.ExcelFile(io.BytesIO(data), engine="calamine")
    except Exception as exc:  # noqa: BLE001
        raise DataError(f"'{name}' could not be opened as a workbook ({exc}). Re-save it as .xlsx and retry.") from exc
    result.sheet_names = list(book.sheet_names)
    if not result.sheet_names:
        raise DataError(f"'{name}' has no sheets.")
    if sheet is None or sheet == "":
        chosen = result.sheet_names[0]
    elif isinstance(sheet, int):
        if not 0 <= sheet < len(result.sheet_names):
            raise DataError(f"'{name}' has {len(result.sheet_names)} sheets; sheet number {sheet} does not exist.")
        chosen = result.sheet_names[sheet]
    elif sheet in result.sheet_names:
        chosen = sheet
    else:
        raise DataError(f"Sheet '{sheet}' is not in '{name}'. Its sheets are: {', '.join(result.sheet_names)}.")
    result.sheet = chosen
    df = book.parse(chosen, header=0 if header else None, dtype=object)
    if len(result.sheet_names) > 1:
        result.notes.append(f"Workbook with {len(result.sheet_names)} sheets; read '{chosen}'.")
    if not header:
        df.columns = [f"column_{i + 1}" for i in range(df.shape[1])]
    # calamine returns numbers as numbers; only text cells need cleaning, keep mixed columns as objects.
    return df


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
