"""Plotly figures of a comparison: metric bars, confusion matrix, ROC/PR curves, predicted vs actual, residuals.

Every function takes plain arrays or a :class:`~core.tabular.compare.ComparisonResult`
and returns a ``plotly.graph_objects.Figure``; nothing is rendered here.
Curves use scikit-learn's ``roc_curve``, ``precision_recall_curve`` and
``confusion_matrix`` on the held-out rows.
"""

from __future__ import annotations

import functools
import re
from typing import Sequence

import numpy as np
import plotly.graph_objects as go
from sklearn.metrics import auc, average_precision_score, confusion_matrix, precision_recall_curve, roc_curve

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
    fig = go.Figure(go.Bar(
        x=[r.metrics[metric]["mean"] for r in rows], y=[r.label for r in rows], orientation="h",
        error_x=dict(type="data", array=[r.metrics[metric]["std"] for r in rows], visible=True),
        marker_color=["#9e9e9e" if r.baseline else "#1f77b4" for r in rows],
        text=[f"{r.metrics[metric]['mean']:.3f}" for r in rows], textposition="inside", insidetextanchor="start",
        textfont=dict(color="white"),
        hovertemplate="%{y}: %{x:.4f}<extra></extra>",
    ))
    fig.update_layout(title=f"{name} ({'higher' if higher else 'lower'} is better), mean ± std over "
                            f"{result.n_splits} folds", xaxis_title=name, height=120 + 45 * len(rows),
                      margin=dict(l=10, r=10, t=50, b=40))
    return fig


def timing_bars(result: ComparisonResult) -> go.Figure:
    """Grouped bars of mean fit and predict seconds per fold for each model (log x axis)."""
    labels = [r.label for r in result.results][::-1]
    fig = go.Figure([
        go.Bar(name="fit (s)", y=labels, x=[r.fit_seconds for r in result.results][::-1], orientation="h"),
        go.Bar(name="predict (s)", y=labels, x=[r.predict_seconds for r in result.results][::-1], orientation="h"),
    ])
    fig.update_layout(barmode="group", title="Seconds per fold (wall clock)", xaxis_type="log",
                      xaxis_title="seconds (log scale)", height=150 + 50 * len(labels),
                      margin=dict(l=10, r=10, t=50, b=40))
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
    fig.update_layout(title=title or f"Confusion matrix, {len(holdout.y_true)} held-out rows"
                      + ("<br><sup>share of each true class</sup>" if normalize else "<br><sup>counts</sup>"),
                      xaxis_title="predicted", yaxis_title="true", yaxis_autorange="reversed",
                      xaxis_type="category", yaxis_type="category", height=420)
    return fig


def _curves(holdouts: dict[str, Holdout], classes: Sequence, kind: str) -> go.Figure:
    fig = go.Figure()
    n_classes = len(classes)
    for label, h in holdouts.items():
        if h.proba is None:
            continue
        targets = [1] if n_classes == 2 else range(n_classes)
        for c in targets:
            y = (h.y_true == c).astype(int)
            if y.min() == y.max():
                continue
            name = label if n_classes == 2 else (f"{label}: {classes[c]}" if len(holdouts) > 1 else str(classes[c]))
            if kind == "roc":
                fpr, tpr, _ = roc_curve(y, h.proba[:, c])
                fig.add_scatter(x=fpr, y=tpr, mode="lines", name=f"{name} (AUC {auc(fpr, tpr):.3f})")
            else:
                prec, rec, _ = precision_recall_curve(y, h.proba[:, c])
                ap = average_precision_score(y, h.proba[:, c])
                fig.add_scatter(x=rec, y=prec, mode="lines", name=f"{name} (AP {ap:.3f})")
    n = len(next(iter(holdouts.values())).y_true) if holdouts else 0
    what = f"positive class '{classes[1]}'" if n_classes == 2 else "one-vs-rest per class"
    if kind == "roc":
        fig.add_scatter(x=[0, 1], y=[0, 1], mode="lines", line=dict(dash="dash", color="grey"), name="chance")
        fig.update_layout(title=f"ROC curve, {n} held-out rows<br><sup>{what}</sup>",
                          xaxis_title="false positive rate", yaxis_title="true positive rate")
    else:
        fig.update_layout(title=f"Precision-recall curve, {n} held-out rows<br><sup>{what}</sup>",
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
    """Precision-recall curves on held-out rows, laid out like :func:`roc_curve_figure` (legend gives average precision)."""
    return _curves(holdouts, classes, "pr")


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
        go.Scatter(x=y[idx], y=p[idx], mode="markers", marker=dict(size=5, opacity=0.5), name="rows"),
        go.Scatter(x=[lo, hi], y=[lo, hi], mode="lines", line=dict(dash="dash", color="grey"), name="perfect"),
    ])
    shown = f"{len(idx)} of {len(y)}" if len(idx) < len(y) else f"{len(y)}"
    fig.update_layout(title=title or f"Predicted vs actual on {shown} held-out rows",
                      xaxis_title="actual", yaxis_title="predicted", height=450, showlegend=False)
    return fig


def residuals_figure(holdout: Holdout, *, title: str = "", max_points: int = 3000,
                     random_state: int = 0) -> go.Figure:
    """Residuals (actual - predicted, in target units) against the prediction on held-out rows, with y = 0."""
    y, p = np.asarray(holdout.y_true, float), np.asarray(holdout.y_pred, float)
    idx = np.arange(len(y))
    if len(y) > max_points:
        idx = np.random.default_rng(random_state).choice(len(y), max_points, replace=False)
    fig = go.Figure(go.Scatter(x=p[idx], y=(y - p)[idx], mode="markers", marker=dict(size=5, opacity=0.5),
                               name="rows"))
    fig.add_hline(y=0, line_dash="dash", line_color="grey")
    shown = f"{len(idx)} of {len(y)}" if len(idx) < len(y) else f"{len(y)}"
    fig.update_layout(title=title or f"Residuals on {shown} held-out rows (actual - predicted)",
                      xaxis_title="predicted", yaxis_title="residual (target units)", height=450,
                      showlegend=False)
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
