"""Converting columns of text cells, vectorised: numbers (decimal comma, thousands separators), missing markers.

Whole-value regular expressions (RE2 in pyarrow, the same meaning in Python's
``re``) decide whether a column is numeric; leading-zero codes stay text.
:func:`clean_frame` applies the same rules to a frame read by another reader
(Excel, Parquet, JSON Lines) and says in plain words what it converted.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from core.io.sources import DEFAULT_NA_VALUES
from core.settings import settings

# Number formats, as whole-value patterns. [0-9] not \d: the same meaning in Python's re and in RE2 (pyarrow).
_NUM = r"[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?"
_RE_PLAIN_NUMBER = "^" + _NUM + "$"
_RE_INT = r"^[-+]?[0-9]+$"
_RE_INT_LEADING_ZERO = r"^0[0-9]+$"
_RE_THOUSANDS_COMMA = r"^[-+]?[0-9]{1,3}(,[0-9]{3})+(\.[0-9]+)?$"
_RE_DECIMAL_COMMA = r"^[-+]?[0-9]*,[0-9]+$"
_RE_DOT_THOUSANDS_DECIMAL_COMMA = r"^[-+]?[0-9]{1,3}(\.[0-9]{3})+(,[0-9]+)?$"
_RE_INT_OR_DECIMAL_COMMA = r"^[-+]?[0-9]+(,[0-9]+)?$"


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
