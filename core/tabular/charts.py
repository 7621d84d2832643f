"""Plotly figures of a comparison: metric bars, confusion matrix, ROC/PR curves, predicted vs actual, residuals.

Every function takes plain arrays or a :class:`~core.tabular.compare.ComparisonResult`
and returns a ``plotly.graph_objects.Figure``; nothing is rendered here.
Curves use scikit-learn's ``roc_curve``, ``precision_recall_curve`` and
``confusion_matrix`` on the held-out rows. Numbers in labels, hovers and titles follow
:mod:`core.numbers` (the page and the CLI use the same rules); value axes use
thousands separators.
"""

from __future__ import annotations

import functools
import re
from typing import Sequence

import numpy as np
import plotly.graph_objects as go
from sklearn.metrics import auc, average_precision_score, confusion_matrix, precision_recall_curve, roc_curve

from core.numbers import decimals_for, format_count, format_seconds, format_value
from core.tabular.compare import METRICS, ComparisonResult, Holdout


def metric_bars(result: ComparisonResult, metric: str | None = None) -> go.Figure:
    """Horizontal bars of one metric's cross-validated mean per model, with ±1 std error bars.

    Args:
        result: from :func:`core.tabular.compare.compare_models`.
        metric: a key of ``METRICS[result.task]``; default the primary metric.

    Returns:
        Figure with one bar per model (best on top); the baseline is drawn grey.

    Raises:
        KeyError: unknown metric for the task.
    """
    metric = metric or result.primary_metric
    name, higher = METRICS[result.task][metric]
    rows = sorted(result.results, key=lambda r: np.nan_to_num(r.metrics[metric]["mean"]), reverse=higher)  # best first
    rows = rows[::-1]  # plotly draws the first bar at the bottom
    labels = [format_value(r.metrics[metric]["mean"]) for r in rows]
    spreads = [format_value(r.metrics[metric]["std"], decimals_for(r.metrics[metric]["mean"])) for r in rows]
    fig = go.Figure(go.Bar(
        x=[r.metrics[metric]["mean"] for r in rows], y=[r.label for r in rows], orientation="h",
        error_x=dict(type="data", array=[r.metrics[metric]["std"] for r in rows], visible=True),
        marker_color=["#9e9e9e" if r.baseline else "#1f77b4" for r in rows],
        text=labels, textposition="inside", insidetextanchor="start",
        textfont=dict(color="white"), customdata=[f"{m} ± {d}" for m, d in zip(labels, spreads)],
        hovertemplate="%{y}: %{customdata}<extra></extra>",
    ))
    fig.update_layout(title=f"{name} ({'higher' if higher else 'lower'} is better), mean ± std over "
                            f"{result.n_splits} folds", xaxis_title=name, height=120 + 45 * len(rows),
                      margin=dict(l=10, r=10, t=50, b=40), xaxis_tickformat=",")
    return fig


def nice_ticks(lo: float, hi: float) -> list[float]:
    """Tick values at 1-2-5 steps (0.01, 0.02, 0.05, 0.1, ...) covering ``[lo, hi]`` (both > 0), for a log axis.

    Returns:
        The ticks from the largest 1-2-5 value <= ``lo`` to the smallest >= ``hi``.
    """
    if not (lo > 0 and hi > 0):
        raise ValueError("nice_ticks needs positive bounds")
    lo, hi = min(lo, hi), max(lo, hi)
    ticks: list[float] = []
    e = int(np.floor(np.log10(lo)))
    while True:
        for m in (1, 2, 5):
            v = float(f"{m}e{e}")
            if v <= lo:
                ticks = [v]  # the last 1-2-5 value at or below lo starts the list
            elif not ticks or ticks[-1] < hi:
                ticks.append(v)
        if ticks[-1] >= hi:
            return ticks
        e += 1


#: Above this max/min ratio the timing chart uses a log axis (with 1-2-5 ticks), else a linear one.
LOG_AXIS_RATIO = 20.0


def timing_bars(result: ComparisonResult) -> go.Figure:
    """Grouped bars of mean fit and predict seconds per fold for each model.

    The axis is linear when the largest time is less than :data:`LOG_AXIS_RATIO` times the
    smallest, else logarithmic with ticks at 1-2-5 steps labelled in seconds (0.01, 0.02, 0.05,
    0.1, ...), so 0.04 s and 0.4 s never look alike. Each bar is labelled with its seconds.
    """
    models = result.results[::-1]  # plotly draws the first bar at the bottom
    labels = [r.label for r in models]
    fits = [r.fit_seconds for r in models]
    preds = [r.predict_seconds for r in models]
    fig = go.Figure([
        go.Bar(name="fit", y=labels, x=fits, orientation="h", text=[format_seconds(v) for v in fits],
               textposition="outside", customdata=[format_seconds(v) for v in fits],
               hovertemplate="%{y}: fit %{customdata} s per fold<extra></extra>"),
        go.Bar(name="predict", y=labels, x=preds, orientation="h", text=[format_seconds(v) for v in preds],
               textposition="outside", customdata=[format_seconds(v) for v in preds],
               hovertemplate="%{y}: predict %{customdata} s per fold<extra></extra>"),
    ])
    positive = [v for v in fits + preds if v > 0]
    lo, hi = (min(positive), max(positive)) if positive else (1e-3, 1.0)
    if hi / lo > LOG_AXIS_RATIO:
        ticks = nice_ticks(lo / 2.5, hi)  # one tick below the shortest bar, so it stays visible
        fig.update_xaxes(type="log", tickvals=ticks, ticktext=[format_seconds(t) for t in ticks],
                         range=[np.log10(ticks[0]), np.log10(ticks[-1] * 1.6)],  # room for the labels
                         title="seconds per fold (log scale)")
    else:
        fig.update_xaxes(type="linear", rangemode="tozero", range=[0, hi * 1.2], tickformat=",",
                         title="seconds per fold")
    fig.update_layout(barmode="group", title="Seconds per fold (wall clock)", height=150 + 50 * len(labels),
                      margin=dict(l=10, r=10, t=50, b=40), legend=dict(traceorder="normal"))
    return fig


def confusion_matrix_figure(holdout: Holdout, classes: Sequence, *, normalize: bool = False,
                            title: str = "") -> go.Figure:
    """Heatmap of the confusion matrix on held-out rows (rows = true class, columns = predicted).

    Args:
        holdout: a model's :class:`~core.tabular.compare.Holdout` (class indices).
        classes: the class labels, index ``i`` = encoded class ``i``.
        normalize: show each true class's row as shares (recall per class) instead of counts.
    """
    labels = [str(c) for c in classes]
    cm = confusion_matrix(holdout.y_true, holdout.y_pred, labels=np.arange(len(labels)))
    z = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1) if normalize else cm
    text = [[f"{v:.2f}" if normalize else f"{int(v)}" for v in row] for row in z]
    fig = go.Figure(go.Heatmap(z=z, x=labels, y=labels, text=text, texttemplate="%{text}", colorscale="Blues",
                               hovertemplate="true %{y}, predicted %{x}: %{text}<extra></extra>"))
    fig.update_layout(title=title or f"Confusion matrix, {format_count(len(holdout.y_true))} held-out rows"
                      + ("<br><sup>share of each true class</sup>" if normalize else "<br><sup>counts</sup>"),
                      xaxis_title="predicted", yaxis_title="true", yaxis_autorange="reversed",
                      xaxis_type="category", yaxis_type="category", height=420)
    return fig


def _is_constant(proba: np.ndarray, c: int) -> bool:
    """True when a model gave every row the same probability for class ``c`` (e.g. the dummy baseline)."""
    col = proba[:, c]
    return bool(np.ptp(col) <= 1e-12)


def _curves(holdouts: dict[str, Holdout], classes: Sequence, kind: str) -> go.Figure:
    fig = go.Figure()
    n_classes = len(classes)
    targets = [1] if n_classes == 2 else list(range(n_classes))
    constant: list[str] = []
    for label, h in holdouts.items():
        if h.proba is None:
            continue
        for c in targets:
            y = (h.y_true == c).astype(int)
            if y.min() == y.max():
                continue
            name = label if n_classes == 2 else (f"{label}: {classes[c]}" if len(holdouts) > 1 else str(classes[c]))
            if kind == "roc":
                fpr, tpr, _ = roc_curve(y, h.proba[:, c])
                fig.add_scatter(x=fpr, y=tpr, mode="lines", name=f"{name} (AUC {format_value(auc(fpr, tpr))})")
            elif _is_constant(h.proba, c):
                # one threshold only: its precision is the base rate at every recall, i.e. the chance line
                # (scikit-learn's extra end point (recall 0, precision 1) would draw a false diagonal)
                constant.append(label)
            else:
                prec, rec, _ = precision_recall_curve(y, h.proba[:, c], drop_intermediate=True)
                ap = average_precision_score(y, h.proba[:, c])
                fig.add_scatter(x=rec, y=prec, mode="lines", name=f"{name} (AP {format_value(ap)})")
    first = next(iter(holdouts.values()), None)
    n = len(first.y_true) if first is not None else 0
    what = f"positive class '{classes[1]}'" if n_classes == 2 else "one-vs-rest per class"
    if kind == "roc":
        fig.add_scatter(x=[0, 1], y=[0, 1], mode="lines", line=dict(dash="dash", color="grey"), name="chance")
        fig.update_layout(title=f"ROC curve, {format_count(n)} held-out rows<br><sup>{what}</sup>",
                          xaxis_title="false positive rate", yaxis_title="true positive rate")
    else:
        # a constant predictor (or random guessing) has precision = the positive class's share at every recall
        if first is not None:
            for c in targets:
                base = float(np.mean(first.y_true == c))
                if not 0 < base < 1:
                    continue
                label = (f"chance (base rate {format_value(base)})" if n_classes == 2
                         else f"chance for {classes[c]} (base rate {format_value(base)})")
                fig.add_scatter(x=[0, 1], y=[base, base], mode="lines", name=label,
                                line=dict(dash="dash", color="grey", width=1.5))
        sub = what
        if constant:
            sub += f"<br>{', '.join(dict.fromkeys(constant))}: one constant probability, on the chance line"
        fig.update_layout(title=f"Precision-recall curve, {format_count(n)} held-out rows<br><sup>{sub}</sup>",
                          xaxis_title="recall", yaxis_title="precision")
    fig.update_layout(height=450, xaxis_range=[0, 1], yaxis_range=[0, 1.02],
                      legend=dict(font=dict(size=10), orientation="h", yanchor="top", y=-0.2))
    return fig


def roc_curve_figure(holdouts: dict[str, Holdout], classes: Sequence) -> go.Figure:
    """ROC curves on held-out rows: one line per model (binary, positive class ``classes[1]``),
    or one line per class (one-vs-rest) per model for multiclass.

    Args:
        holdouts: ``{model label: Holdout}`` (classification, with ``proba``).
        classes: class labels (index = encoded class).
    """
    return _curves(holdouts, classes, "roc")


def pr_curve_figure(holdouts: dict[str, Holdout], classes: Sequence) -> go.Figure:
    """Precision-recall curves on held-out rows, laid out like :func:`roc_curve_figure` (legend gives average precision).

    Chance is a flat line at the positive class's base rate (its share of the held-out rows),
    labelled ``"chance (base rate 0.265)"`` (one line per class for multiclass). A model whose
    probabilities are constant (the dummy baseline) has no curve of its own: its precision is
    the base rate at every recall, so it is that line, as the subtitle says.
    """
    return _curves(holdouts, classes, "pr")


def _texts(values: np.ndarray) -> list[str]:
    return [format_value(v) for v in values]


def predicted_vs_actual_figure(holdout: Holdout, *, title: str = "", max_points: int = 3000,
                               random_state: int = 0) -> go.Figure:
    """Scatter of predicted vs actual target on held-out rows, with the y = x line (regression).

    At most ``max_points`` points are drawn (a random sample, said in the title).
    """
    y, p = np.asarray(holdout.y_true, float), np.asarray(holdout.y_pred, float)
    idx = np.arange(len(y))
    if len(y) > max_points:
        idx = np.random.default_rng(random_state).choice(len(y), max_points, replace=False)
    lo, hi = float(min(y.min(), p.min())), float(max(y.max(), p.max()))
    fig = go.Figure([
        go.Scatter(x=y[idx], y=p[idx], mode="markers", marker=dict(size=5, opacity=0.5), name="rows",
                   customdata=np.column_stack([_texts(y[idx]), _texts(p[idx])]),
                   hovertemplate="actual %{customdata[0]}<br>predicted %{customdata[1]}<extra></extra>"),
        go.Scatter(x=[lo, hi], y=[lo, hi], mode="lines", line=dict(dash="dash", color="grey"), name="perfect"),
    ])
    shown = f"{format_count(len(idx))} of {format_count(len(y))}" if len(idx) < len(y) else format_count(len(y))
    fig.update_layout(title=title or f"Predicted vs actual on {shown} held-out rows",
                      xaxis_title="actual", yaxis_title="predicted", height=450, showlegend=False,
                      xaxis_tickformat=",", yaxis_tickformat=",")
    return fig


def residuals_figure(holdout: Holdout, *, title: str = "", max_points: int = 3000,
                     random_state: int = 0) -> go.Figure:
    """Residuals (actual - predicted, in target units) against the prediction on held-out rows, with y = 0."""
    y, p = np.asarray(holdout.y_true, float), np.asarray(holdout.y_pred, float)
    idx = np.arange(len(y))
    if len(y) > max_points:
        idx = np.random.default_rng(random_state).choice(len(y), max_points, replace=False)
    fig = go.Figure(go.Scatter(x=p[idx], y=(y - p)[idx], mode="markers", marker=dict(size=5, opacity=0.5),
                               name="rows", customdata=np.column_stack([_texts(p[idx]), _texts((y - p)[idx])]),
                               hovertemplate="predicted %{customdata[0]}<br>residual %{customdata[1]}<extra></extra>"))
    fig.add_hline(y=0, line_dash="dash", line_color="grey")
    shown = f"{format_count(len(idx))} of {format_count(len(y))}" if len(idx) < len(y) else format_count(len(y))
    fig.update_layout(title=title or f"Residuals on {shown} held-out rows (actual - predicted)",
                      xaxis_title="predicted", yaxis_title="residual (target units)", height=450,
                      showlegend=False, xaxis_tickformat=",", yaxis_tickformat=",")
    return fig


_CJK_FONTS = ("Noto Sans CJK JP", "IPAexGothic", "IPAGothic", "TakaoGothic", "Source Han Sans JP",
              "Hiragino Sans", "Yu Gothic", "MS Gothic", "Noto Sans CJK SC")


@functools.lru_cache(maxsize=1)
def configure_matplotlib_cjk() -> str | None:
    """Let matplotlib figures (SHAP's plots) draw Japanese/Chinese/Korean feature names.

    Adds the first installed CJK font (e.g. Debian's ``fonts-noto-cjk``) as a fallback
    after DejaVu Sans (matplotlib >= 3.6 falls back glyph by glyph). The font is
    registered even when matplotlib's font cache predates its installation. Runs once per
    process (cached): the page calls it on every Streamlit rerun, and without a CJK font the
    search walks the system font folders.

    Returns:
        The font family used, or ``None`` when no CJK font is installed (names then show as boxes).
    """
    import matplotlib
    from matplotlib import font_manager as fm

    def present():
        names = {f.name for f in fm.fontManager.ttflist}
        return next((n for n in _CJK_FONTS if n in names), None)

    found = present()
    if found is None:
        for path in fm.findSystemFonts():
            if re.search(r"(NotoSansCJK|NotoSansJP|ipaexg|ipag|Takao|SourceHanSans)", path, re.IGNORECASE):
                try:
                    fm.fontManager.addfont(path)
                except Exception:  # noqa: BLE001 - an unreadable font file is skipped
                    continue
        found = present()
    if found:
        fallback = [f for f in matplotlib.rcParams["font.sans-serif"] if f not in ("DejaVu Sans", found)]
        matplotlib.rcParams["font.sans-serif"] = ["DejaVu Sans", found, *fallback]
        matplotlib.rcParams["font.family"] = ["DejaVu Sans", found, "sans-serif"]
    return found
