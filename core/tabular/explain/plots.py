"""SHAP's own charts (bar, beeswarm, waterfall) as matplotlib figures, with readable numbers; PNG export.

SHAP's plots use pyplot's global state, so drawing is serialised by one lock.
The numbers SHAP writes on the bar and waterfall charts are reformatted to
3 significant digits after drawing, through matplotlib's public API (text
objects and tick formatters); no SHAP internal is replaced.
``tests/tabular/test_tabular_explain.py`` checks the labels.
"""

from __future__ import annotations

import math
import re
import threading
import warnings
from typing import Any

import numpy as np

from core.errors import ConfigError
from core.numbers import format_significant
from core.tabular.explain.result import ShapResult

# pyplot keeps global state (the "current figure"); SHAP's plots use it, so plotting is serialised.
_PLOT_LOCK = threading.Lock()


# --------------------------------------------------------------------------------------------
# Charts (SHAP's own plots, returned as matplotlib figures)
# --------------------------------------------------------------------------------------------

#: 3 significant digits for SHAP chart labels; the one set of number rules lives in :mod:`core.numbers`.
format_number = format_significant


def _format_feature_value(v: Any) -> Any:
    """A user's numeric cell for a waterfall label: whole numbers exact with separators, else 4 significant digits."""
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, float, np.number)):
        return v
    v = float(v)
    if not math.isfinite(v):
        return "missing" if math.isnan(v) else str(v)
    if v == int(v) and abs(v) < 1e15:
        return f"{int(v):,}"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    return format_number(v, digits=4).replace("\u2212", "-")


#: A label SHAP drew with its own number format: "+48542.56", "\u22120.12" (bars) or "$ = 277858.932$"
#: (the waterfall's E[f(X)] and f(x) ticks). Signed labels came from "%+" formats.
_SHAP_NUMBER = re.compile(r"^(\n?\$ = )?([+\-\u2212]?)(\d+(?:\.\d+)?)(\$?)$")


def _readable_number(text: str) -> str:
    """``text`` with SHAP's number in :func:`format_number`'s 3 significant digits; other text unchanged."""
    m = _SHAP_NUMBER.match(text)
    if not m:
        return text
    prefix, sign, digits, suffix = m.groups()
    value = float(digits) * (-1.0 if sign in ("-", "\u2212") else 1.0)
    return f"{prefix or ''}{format_number(value, signed=bool(sign))}{suffix}"


def _readable_shap_labels(fig) -> None:
    """Reformat the numbers SHAP wrote on ``fig`` (bar value labels, the waterfall's E[f(X)] and f(x)
    ticks), after drawing, through matplotlib's public API: no SHAP internals are replaced."""
    from matplotlib.ticker import FixedLocator

    for ax in fig.axes:
        for t in ax.texts:
            new = _readable_number(t.get_text())
            if new != t.get_text():
                t.set_text(new)
        if isinstance(ax.xaxis.get_major_locator(), FixedLocator):  # ticks SHAP labelled itself (waterfall)
            labels = [t.get_text() for t in ax.get_xticklabels()]
            new_labels = [_readable_number(x) for x in labels]
            if new_labels != labels:
                ax.xaxis.set_ticklabels(new_labels)  # the tick texts keep their font size and alignment


def _finish(fig, title: str, subtitle: str):
    import textwrap

    import matplotlib.pyplot as plt

    fig.suptitle(title + "\n" + textwrap.fill(subtitle, 95), fontsize=10, x=0.02, ha="left")
    try:
        fig.tight_layout()
    except Exception:  # noqa: BLE001 - layout is cosmetic
        pass
    plt.close(fig)  # detach from pyplot's global state; the Figure object stays usable
    return fig


def _thousands_axis(ax) -> None:
    """Value axis of large units (190000 -> 190,000, at most ~6 ticks so labels do not collide)."""
    lo, hi = ax.get_xlim()
    if max(abs(lo), abs(hi)) >= 1000:
        from matplotlib.ticker import FuncFormatter, MaxNLocator

        ax.xaxis.set_major_locator(MaxNLocator(5))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:,.0f}"))


def _widen_waterfall(fig) -> None:
    """Room for the value labels SHAP draws past the arrows (they were cut at the plot's edges)."""
    axes = fig.axes
    if not axes:
        return
    lo, hi = axes[0].get_xlim()
    pad = 0.12 * (hi - lo)
    for ax in axes:
        ax.set_xlim(lo - pad, hi + pad)
    fig.set_size_inches(max(fig.get_size_inches()[0], 10), fig.get_size_inches()[1])
    _thousands_axis(axes[0])


def to_png(fig, dpi: int = 120) -> bytes:
    """A matplotlib figure (e.g. from :func:`plot_bar`) as PNG bytes.

    The figures are already laid out (``tight_layout``), so no ``bbox_inches="tight"``: that
    draws every figure twice, which was a third of the time of a SHAP view.
    """
    import io

    buf = io.BytesIO()
    with _PLOT_LOCK:
        fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def plot_bar(result: ShapResult, class_index: int | None = None, max_display: int = 15):
    """Global importance: SHAP's bar plot of mean |SHAP value| per feature.

    Multiclass with ``class_index=None``: mean |SHAP| averaged over classes.

    Returns:
        ``matplotlib.figure.Figure`` (closed from pyplot; use ``st.pyplot(fig)`` or ``fig.savefig``),
        titled with units and sample size.
    """
    import matplotlib.pyplot as plt
    import shap

    multi_avg = class_index is None and result.classes is not None and len(result.classes) > 2
    if multi_avg:
        expl = shap.Explanation(values=np.abs(result.values).mean(axis=2), data=result.data,
                                feature_names=list(result.feature_names))
        units = f"{result.output_units}, mean over {len(result.classes)} classes"
    else:
        expl = result.to_explanation(class_index)
        units = result.output_label(class_index)
    with _PLOT_LOCK:
        fig, ax = plt.subplots(figsize=(8, 0.4 * min(max_display, len(result.feature_names)) + 1.8))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            shap.plots.bar(expl, max_display=max_display, ax=ax, show=False)
        _readable_shap_labels(fig)  # "+50232.18" -> "+50,200" (display only)
        lo, hi = ax.get_xlim()
        ax.set_xlim(lo, hi + 0.12 * (hi - lo))  # room for SHAP's "+0.12" labels past the longest bar
        _thousands_axis(ax)
        ax.set_xlabel(f"mean |SHAP value| ({units})")
        return _finish(fig, "Which features matter most", result.sample_text())


def plot_beeswarm(result: ShapResult, class_index: int | None = None, max_display: int = 15):
    """Global: SHAP's beeswarm (one dot per explained row and feature, colour = feature value).

    Returns:
        ``matplotlib.figure.Figure`` with units (of ``class_index``, default as in
        :meth:`ShapResult.to_explanation`) on the x axis and the sample size in the title.
    """
    import matplotlib.pyplot as plt
    import shap

    expl = result.to_explanation(class_index)
    with _PLOT_LOCK:
        fig, ax = plt.subplots(figsize=(8, 0.4 * min(max_display, len(result.feature_names)) + 1.8))
        label = "Feature value"
        if np.isnan(result.data).all(axis=0).any():
            label += " (grey: categories/text, no order)"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            shap.plots.beeswarm(expl, max_display=max_display, ax=ax, show=False, plot_size=None,
                                color_bar_label=label)
        ax.set_xlabel(f"SHAP value ({result.output_label(class_index)})")
        _thousands_axis(ax)
        return _finish(fig, "How each feature pushes predictions", result.sample_text())


def plot_waterfall(result: ShapResult, row_position: int, class_index: int | None = None,
                   max_display: int = 12):
    """Local: SHAP's waterfall for one explained row, from the base value to the model output.

    Args:
        row_position: 0..n_explained-1 (see :meth:`ShapResult.position_of` for an index label).
        class_index: output to explain; default: class 1 for binary, the row's predicted
            class (largest output) for multiclass, the single output for regression.

    Returns:
        ``matplotlib.figure.Figure`` titled with the row's original index and the units.

    Raises:
        ConfigError: ``row_position`` or ``class_index`` out of range.
    """
    import matplotlib.pyplot as plt
    import shap

    if not 0 <= int(row_position) < result.n_explained:
        raise ConfigError(f"row_position {row_position} is out of range: "
                          f"{result.n_explained} rows were explained (0..{result.n_explained - 1}).")
    r = int(row_position)
    if class_index is None and result.classes is not None and len(result.classes) > 2:
        class_index = int(np.argmax(result.base_values[r] + result.values[r].sum(axis=0)))
    expl = result.to_explanation(class_index)[r]
    # display only: the user's values as readable text, SHAP numbers to 3 significant digits
    shown = expl.display_data if expl.display_data is not None else expl.data
    if shown is not None:
        expl.display_data = np.array([_format_feature_value(v) for v in np.asarray(shown, dtype=object)],
                                     dtype=object)
    with _PLOT_LOCK:
        fig = plt.figure()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            shap.plots.waterfall(expl, max_display=max_display, show=False)
        fig = plt.gcf()
        _readable_shap_labels(fig)
        _widen_waterfall(fig)
        fig = _finish(fig, f"Why row {result.row_index[r]!r} got this prediction",
                      f"{result.output_label(class_index)}; {result.explainer_name}")
        fig.subplots_adjust(right=min(fig.subplotpars.right, 0.88))  # room for "f(x) = 253,000"
        return fig
