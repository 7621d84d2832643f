"""Safe exports of result tables (CSV and JSON) for download buttons and the CLI.

CSV cells that a spreadsheet would run as a formula are escaped, following
OWASP's "CSV Injection" guidance (https://owasp.org/www-community/attacks/CSV_Injection):
a text cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return gets a leading single quote. Numbers are left alone, so ``-3.2`` stays
a number.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def escape_formula(value: Any) -> Any:
    """Return ``value`` with a leading ``'`` if it is text that starts like a formula.

    Args:
        value: any cell value. Only ``str`` values are changed.

    Returns:
        The same value, or for a string starting with one of
        ``= + - @ \\t \\r`` the string prefixed with ``'``.
    """
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def escape_frame(df: pd.DataFrame) -> pd.DataFrame:
    """Return a copy of ``df`` whose text cells and column names are formula-escaped.

    Args:
        df: any DataFrame; it is not modified.

    Returns:
        A new DataFrame of the same shape.
    """
    out = df.copy()
    out.columns = [escape_formula(str(c)) for c in out.columns]
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(escape_formula)
    return out


def to_csv_bytes(df: pd.DataFrame) -> bytes:
    """Serialise ``df`` to UTF-8 CSV bytes (with BOM, so Excel reads Japanese) after escaping.

    Args:
        df: the table to export; it is not modified.

    Returns:
        ``bytes`` of a UTF-8-with-BOM CSV without the index.
    """
    return escape_frame(df).to_csv(index=False).encode("utf-8-sig")


def _json_default(obj: Any) -> Any:
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating,)):
        return float(obj) if np.isfinite(obj) else None
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, (pd.Timestamp,)):
        return obj.isoformat()
    return str(obj)


def _sanitize(obj: Any) -> Any:
    """Replace float NaN/inf (invalid in JSON) by ``None``, recursively."""
    if isinstance(obj, float) and not np.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _sanitize(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_sanitize(v) for v in obj]
    return obj


def to_json_bytes(obj: Any) -> bytes:
    """Serialise ``obj`` (dicts, lists, numpy scalars, DataFrames) to UTF-8 JSON bytes.

    DataFrames become a list of row records. NaN becomes ``null``.

    Args:
        obj: a JSON-like object, possibly containing numpy/pandas values.

    Returns:
        Pretty-printed UTF-8 JSON ``bytes`` (non-ASCII kept as is).
    """
    if isinstance(obj, pd.DataFrame):
        obj = json.loads(obj.to_json(orient="records", force_ascii=False))
    return json.dumps(_sanitize(obj), ensure_ascii=False, indent=2, default=_json_default).encode("utf-8")
