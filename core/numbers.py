"""How numbers are shown: one set of rules for the pages, the CLI and the charts.

Display only: the numbers computed, stored and exported (CSV/JSON) are never rounded.

Rules:

* **Counts** (rows, features, folds): whole numbers with thousands separators,
  ``1409`` -> ``"1,409"`` (:func:`format_count`).
* **Values** (metrics, targets, predictions): the decimals follow the size of the value
  (:func:`decimals_for`): below 1, 3 decimals (``0.8123`` -> ``"0.812"``); from 1 to
  1,000, 4 significant digits (``52.345`` -> ``"52.35"``); from 1,000 on, whole numbers
  (``7917.7`` -> ``"7,918"``); tiny values keep 3 significant digits
  (``0.000123`` -> ``"0.000123"``). Thousands separators always (:func:`format_value`).
* **mean ± std**: both with the decimals of the mean, so they line up
  (``"7,918 ± 1,794"``, ``"0.812 ± 0.014"``) (:func:`format_mean_std`).
* **Seconds**: 2 significant digits, at most 3 decimals (``0.0423`` -> ``"0.042"``,
  ``4.27`` -> ``"4.3"``, ``1234.6`` -> ``"1,235"``) (:func:`format_seconds`).
* **SHAP values and model outputs in charts**: 3 significant digits
  (``48542.56`` -> ``"48,500"``) (:func:`format_significant`), because chart labels
  are read at a glance; the text beside the chart uses :func:`format_value`.
* Missing values (NaN) read ``"n/a"``.
"""

from __future__ import annotations

import math

__all__ = ["format_count", "decimals_for", "format_value", "format_mean_std", "format_seconds",
           "seconds_decimals", "format_significant"]


def _finite(x) -> float | None:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def format_count(n) -> str:
    """A count with thousands separators: ``20640`` -> ``"20,640"``; NaN/None -> ``"n/a"``."""
    v = _finite(n)
    return "n/a" if v is None else f"{int(round(v)):,}"


def decimals_for(ref: float) -> int:
    """Decimals to show a value of the size of ``ref`` (see the module rules).

    Args:
        ref: the value (or the mean of a ``mean ± std`` pair).

    Returns:
        ``int`` >= 0: 3 for ``0.001 <= |ref| < 1`` (and for 0 or NaN), ``3 - floor(log10 |ref|)``
        for ``1 <= |ref| < 1000`` (4 significant digits), 0 from 1,000 on, and 3 significant
        digits below 0.001 (at most 12 decimals).
    """
    v = _finite(ref)
    if v is None or v == 0:
        return 3
    a = abs(v)
    if a < 1e-3:
        return min(12, 2 - math.floor(math.log10(a)))
    if a < 1:
        return 3
    return max(0, 3 - math.floor(math.log10(a)))


def format_value(x, decimals: int | None = None, *, signed: bool = False) -> str:
    """``x`` with thousands separators and :func:`decimals_for` decimals (or ``decimals``).

    Examples: ``0.81234`` -> ``"0.812"``, ``7917.722`` -> ``"7,918"``, ``278531.2`` ->
    ``"278,531"``, ``52.3456`` -> ``"52.35"``; ``signed`` adds ``+`` to positive values;
    NaN, infinity or ``None`` -> ``"n/a"``.
    """
    v = _finite(x)
    if v is None:
        return "n/a"
    if decimals is None:
        d = decimals_for(v)
        d = decimals_for(round(v, d))  # 999.96 rounds to 1,000: shown as "1,000", not "1,000.0"
    else:
        d = int(decimals)
    text = f"{v:,.{d}f}"
    if text.startswith("-") and float(text.replace(",", "")) == 0:
        text = text[1:]  # "-0.000" -> "0.000"
    return ("+" + text) if signed and not text.startswith("-") and v > 0 else text


def format_mean_std(mean, std) -> str:
    """``"mean ± std"`` with the decimals of the mean for both: ``"7,918 ± 1,794"``, ``"0.812 ± 0.014"``."""
    d = decimals_for(mean)
    return f"{format_value(mean, d)} ± {format_value(std, d)}"


def seconds_decimals(s: float) -> int:
    """Decimals for a duration in seconds: 2 significant digits, at most 3 decimals, at least 0."""
    v = _finite(s)
    if v is None or v == 0:
        return 3
    return min(3, max(0, 1 - math.floor(math.log10(abs(v)))))


def format_seconds(s, *, unit: bool = False) -> str:
    """A duration in seconds: ``0.0423`` -> ``"0.042"``, ``4.27`` -> ``"4.3"``, ``1234.6`` -> ``"1,235"``,
    under half a millisecond ``"<0.001"``.

    Args:
        s: seconds.
        unit: append ``" s"``.
    """
    v = _finite(s)
    if v is not None and 0 < abs(v) < 0.0005:
        text = "<0.001"
    else:
        text = format_value(s, seconds_decimals(s))
    return text + (" s" if unit and text != "n/a" else "")


def format_significant(x: float, *, signed: bool = False, digits: int = 3) -> str:
    """``digits`` significant digits with thousands separators, for chart labels of SHAP values and outputs.

    Examples: ``48542.56`` -> ``"48,500"`` (``"+48,500"`` with ``signed``), ``277858.932`` ->
    ``"278,000"``, ``0.123456`` -> ``"0.123"``, ``-2.5`` -> ``"−2.5"`` (Unicode minus, as SHAP
    prints), ``1.2e-06`` -> ``"1.2e-06"``.

    Args:
        x: the number (NaN/inf are returned as text).
        signed: prefix ``+`` to positive values (SHAP contributions).
        digits: significant digits (>= 1).

    Returns:
        ``str``.
    """
    x = float(x)
    if not math.isfinite(x):
        return str(x)
    if x == 0:
        return "0"
    mag = int(math.floor(math.log10(abs(x))))
    if mag < -4:
        text = f"{abs(x):.{max(digits - 1, 0)}e}"
        mant, exp = text.split("e")
        text = (mant.rstrip("0").rstrip(".") if "." in mant else mant) + "e" + exp
    else:
        decimals = digits - 1 - mag
        r = round(abs(x), decimals)
        text = f"{r:,.{max(decimals, 0)}f}"
        if "." in text:
            text = text.rstrip("0").rstrip(".")
    sign = "\u2212" if x < 0 else ("+" if signed else "")
    return sign + text
