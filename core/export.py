"""Safe exports of result tables (CSV and JSON) for download buttons and the CLI, and safe output files.

CSV cells that a spreadsheet would run as a formula are escaped, following
OWASP's "CSV Injection" guidance (https://owasp.org/www-community/attacks/CSV_Injection):
a text cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return gets a leading single quote, and so does every line inside a cell that
starts like that after a CR or LF (some spreadsheet imports split a cell at a
bare CR). Cells that are not text but print as text (any object other than a
number, a boolean, a date or a missing value) are written as their text and
escaped the same way. Numbers are left alone, so ``-3.2`` stays a number.
Lines end with CRLF (RFC 4180), so every cell holding a CR or an LF is quoted.

JSON never contains ``NaN`` or ``Infinity`` (invalid JSON): they become ``null``,
in dicts, lists, numpy arrays and DataFrames alike.

:func:`check_outputs` refuses an output path that is one of the input files,
and :func:`write_atomic` writes an output through a temporary file in the same
folder, so a failure never leaves a half-written file.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


#: A line inside a cell (after a CR or LF) that starts like a formula.
_INNER_FORMULA = re.compile(r"(?<=[\r\n])(?=[=+\-@\t])")


def _is_plain_value(value: Any) -> bool:
    """Numbers, booleans, dates and missing values are written as they are (never as formulas)."""
    if value is None or isinstance(value, (bool, int, float, np.number, np.bool_, dt.date, dt.time, dt.timedelta,
                                           pd.Timestamp, pd.Timedelta)):
        return True
    try:
        return bool(pd.isna(value)) if not isinstance(value, (list, tuple, dict, set, np.ndarray)) else False
    except (TypeError, ValueError):
        return False


def escape_formula(value: Any) -> Any:
    """Return ``value`` so that no spreadsheet reads it as a formula.

    Args:
        value: any cell value.

    Returns:
        Numbers, booleans, dates and missing values unchanged; anything else
        as text, with ``'`` put before the text when it starts with one of
        ``= + - @ \\t \\r`` and before every line inside it (after a CR or LF)
        that starts with ``= + - @ \\t``.
    """
    if _is_plain_value(value):
        return value
    text = value if isinstance(value, str) else str(value)
    if "\r" in text or "\n" in text:
        text = _INNER_FORMULA.sub("'", text)
    if text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


def escape_frame(df: pd.DataFrame) -> pd.DataFrame:
    """Return a copy of ``df`` whose text cells and column names are formula-escaped.

    Args:
        df: any DataFrame; it is not modified.

    Returns:
        A new DataFrame of the same shape.
    """
    out = df.copy()
    out.columns = [escape_formula(str(c)) for c in out.columns]
    for i in range(out.shape[1]):
        s = out.iloc[:, i]
        t = s.dtype
        if not (pd.api.types.is_numeric_dtype(t) or pd.api.types.is_bool_dtype(t)
                or pd.api.types.is_datetime64_any_dtype(t) or pd.api.types.is_timedelta64_dtype(t)):
            out.isetitem(i, s.astype(object).map(escape_formula))  # text, categories, mixed objects
    return out


def to_csv_bytes(df: pd.DataFrame) -> bytes:
    """Serialise ``df`` to UTF-8 CSV bytes (with BOM, so Excel reads Japanese, and CRLF line ends) after escaping.

    Args:
        df: the table to export; it is not modified.

    Returns:
        ``bytes`` of a UTF-8-with-BOM CSV without the index.
    """
    # CRLF line ends: the csv module then quotes every cell holding a CR or an LF (a bare CR is not
    # quoted with "\n" endings, and a reader starts a new row there).
    return escape_frame(df).to_csv(index=False, lineterminator="\r\n").encode("utf-8-sig")


def _json_default(obj: Any) -> Any:
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating,)):
        return float(obj) if np.isfinite(obj) else None
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, np.ndarray):
        return _sanitize(obj.tolist())
    if isinstance(obj, pd.DataFrame):
        return json.loads(obj.to_json(orient="records", force_ascii=False))
    if isinstance(obj, pd.Series):
        return _sanitize(obj.tolist())
    if isinstance(obj, (pd.Timestamp, dt.date, dt.time)):
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
    try:
        text = json.dumps(_sanitize(obj), ensure_ascii=False, indent=2, default=_json_default, allow_nan=False)
    except ValueError:  # a NaN/inf the walk above did not reach (e.g. inside an object's own JSON): make it null
        loose = json.dumps(_sanitize(obj), ensure_ascii=False, default=_json_default)
        text = json.dumps(json.loads(loose, parse_constant=lambda _: None), ensure_ascii=False, indent=2)
    return text.encode("utf-8")


def _same_file(a: Path, b: Path) -> bool:
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
    except OSError:
        pass
    return a.resolve() == b.resolve()


def check_outputs(outputs: Mapping[str, Any], inputs: Mapping[str, Any]) -> None:
    """Refuse output paths that are an input file (same path, a symlink or a hard link to it) or each other.

    Args:
        outputs: option name -> output path (``None`` or ``"-"`` = not used), e.g. ``{"--json": "a.json"}``.
        inputs: option name -> input path, e.g. ``{"--data": "a.csv"}``.

    Raises:
        ConfigError: naming both options; nothing has been written.
    """
    from core.errors import ConfigError

    outs = [(opt, Path(p)) for opt, p in outputs.items() if p not in (None, "", "-")]
    for opt, out in outs:
        for in_opt, src in inputs.items():
            if src not in (None, "") and _same_file(out, Path(src)):
                raise ConfigError(f"{opt} {out} is the input file given with {in_opt}: it would be overwritten. "
                                  f"Choose another file name for {opt}; Crossroads never changes your input files.")
    for i, (opt, out) in enumerate(outs):
        for opt2, out2 in outs[i + 1:]:
            if _same_file(out, out2):
                raise ConfigError(f"{opt} and {opt2} are the same file ({out}): give each output its own name.")


def write_atomic(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder, then rename it into place.

    A crash or a full disk leaves the old file (or no file), never a half-written one.

    Raises:
        OSError: the folder does not exist or is not writable (reported by the CLI as one line).
    """
    target = Path(path)
    fd, tmp = tempfile.mkstemp(dir=target.parent if str(target.parent) else ".", prefix=f".{target.name}.",
                               suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
