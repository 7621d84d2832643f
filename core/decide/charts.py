"""Plotly figures of a bake-off, shared by the Decide page and the HTML report.

Each function takes an :class:`~core.decide.analysis.Analysis` (and the
:class:`~core.decide.result.BakeoffResult` where needed) and returns a
``plotly.graph_objects.Figure``; nothing is drawn here.
"""

from __future__ import annotations

import plotly.graph_objects as go

#: One colour per arm (colour-blind-safe Okabe–Ito palette).
COLORS = {"classifier": "#0072B2", "zero_shot": "#E69F00", "few_shot": "#D55E00", "hybrid": "#009E73"}
_LAYOUT = dict(template="plotly_white", margin=dict(l=10, r=10, t=50, b=10), height=400,
               font=dict(size=13), legend=dict(orientation="h", yanchor="top", y=-0.18, x=0))


def arms_chart(analysis) -> go.Figure:
    """Accuracy and macro F1 of every arm with their 95% CIs (horizontal bars)."""
    arms = list(analysis.arms.values())
    names = [a["name"] + (f" (τ = {a['tau']:.2f})" if a.get("tau") is not None else "") for a in arms]
    fig = go.Figure()
    for metric, label, opacity in (("accuracy", "Accuracy", 1.0), ("macro_f1", "Macro F1", 0.55)):
        vals = [a[metric]["value"] for a in arms]
        fig.add_bar(
            y=names, x=vals, orientation="h", name=label, opacity=opacity,
            marker_color=[COLORS.get(a["arm"], "#777") for a in arms],
            error_x=dict(type="data", symmetric=False, array=[a[metric]["high"] - a[metric]["value"] for a in arms],
                         arrayminus=[a[metric]["value"] - a[metric]["low"] for a in arms], color="#333"),
            text=[f"{v:.1%}" for v in vals], textposition="inside", insidetextanchor="start",
            hovertemplate="%{y}: %{x:.1%}<extra>" + label + "</extra>")
    target = analysis.constraints.min_accuracy
    if target is not None:
        fig.add_vline(x=target, line_dash="dash", line_color="#444",
                      annotation_text=f"target {target:.0%}", annotation_position="top")
    fig.update_layout(**{**_LAYOUT, "height": 140 + 60 * len(arms)}, barmode="group",
                      title=f"Accuracy and macro F1 with 95% CIs (n = {analysis.arms['classifier']['n'] if 'classifier' in analysis.arms else ''} test rows)",
                      xaxis=dict(range=[0, 1], tickformat=".0%", title=None), yaxis=dict(autorange="reversed"))
    return fig


def cascade_chart(analysis, *, x: str = "share_llm") -> go.Figure:
    """The hybrid's accuracy against the share of queries sent to the LLM (or the cost per 1,000 queries).

    Args:
        analysis: the :class:`~core.decide.analysis.Analysis`.
        x: ``"share_llm"`` or ``"cost_per_1k"``.

    The chosen τ is marked; the classifier alone (τ = 0) and the LLM-decides-all
    end (τ = 1) are the curve's ends.
    """
    pts = analysis.cascade.get("points") or []
    fig = go.Figure()
    if not pts:
        fig.update_layout(**_LAYOUT, title="Hybrid cascade: not run")
        return fig
    projected = x == "cost_per_1k" and all("projected_cost_per_1k" in p for p in pts)
    if projected:  # a local run costs 0: show what its measured tokens would cost on Bedrock's default model
        x = "projected_cost_per_1k"
    xs = [p[x] if p[x] is not None else float("nan") for p in pts]
    fig.add_scatter(x=xs, y=[p["accuracy"] for p in pts], mode="lines+markers", name="cascade",
                    line=dict(color=COLORS["hybrid"], shape="hv"), marker=dict(size=4),
                    customdata=[[p["tau"], p["share_llm"], p["p95_ms"]] for p in pts],
                    hovertemplate=("τ = %{customdata[0]:.3f}<br>to LLM %{customdata[1]:.0%}<br>"
                                   "accuracy %{y:.1%}<br>p95 %{customdata[2]:,.0f} ms<extra></extra>"))
    ch = analysis.cascade.get("chosen")
    if ch is not None:
        fig.add_scatter(x=[ch[x]], y=[ch["accuracy"]], mode="markers+text", name=f"chosen τ = {ch['tau']:.2f}",
                        marker=dict(size=14, color="#CC79A7", symbol="star", line=dict(color="#333", width=1)),
                        text=[f"τ = {ch['tau']:.2f}"], textposition="top center")
    target = analysis.constraints.min_accuracy
    if target is not None:
        fig.add_hline(y=target, line_dash="dash", line_color="#444", annotation_text=f"target {target:.0%}")
    if x == "share_llm":
        title, xaxis = "Hybrid: accuracy vs share of queries sent to the LLM", dict(tickformat=".0%",
                                                                                   title="sent to the LLM")
    elif projected:
        title, xaxis = ("Hybrid: accuracy vs cost (Haiku 4.5 projection)",
                        dict(title="USD per 1,000 queries on Haiku 4.5 (this run's tokens)",
                             tickprefix="$"))
    else:
        title, xaxis = "Hybrid: accuracy vs cost per 1,000 queries", dict(title="USD per 1,000 queries",
                                                                            tickprefix="$")
    fig.update_layout(**{**_LAYOUT, "margin": dict(l=10, r=10, t=50, b=90)}, title=title, xaxis=xaxis,
                      yaxis=dict(tickformat=".0%", title="accuracy"))
    return fig


def learning_chart(result) -> go.Figure:
    """The classifier's test accuracy (95% CI) against the number of training rows."""
    pts = result.learning_curve
    fig = go.Figure()
    if pts:
        fig.add_scatter(
            x=[p["n_train"] for p in pts], y=[p["accuracy"]["value"] for p in pts], mode="lines+markers",
            name="classifier", line=dict(color=COLORS["classifier"]),
            error_y=dict(type="data", symmetric=False,
                         array=[p["accuracy"]["high"] - p["accuracy"]["value"] for p in pts],
                         arrayminus=[p["accuracy"]["value"] - p["accuracy"]["low"] for p in pts]),
            customdata=[[p["fraction"]] for p in pts],
            hovertemplate="%{x:,} rows (%{customdata[0]:.0%})<br>accuracy %{y:.1%}<extra></extra>")
    fig.update_layout(**_LAYOUT, title="Classifier learning curve (test accuracy, 95% CI)",
                      xaxis=dict(title="training rows"), yaxis=dict(tickformat=".0%", title="accuracy"),
                      showlegend=False)
    return fig


def latency_chart(analysis) -> go.Figure:
    """p50 and p95 latency per query of every arm (ms, log scale)."""
    arms = list(analysis.arms.values())
    fig = go.Figure()
    for q, opacity in (("p50", 0.55), ("p95", 1.0)):
        fig.add_bar(x=[a["name"] for a in arms], y=[a["latency_ms"][q] for a in arms], name=q, opacity=opacity,
                    marker_color=[COLORS.get(a["arm"], "#777") for a in arms],
                    text=[_ms(a["latency_ms"][q]) for a in arms], textposition="outside",
                    hovertemplate="%{x}: %{y:,.1f} ms<extra>" + q + "</extra>")
    fig.update_layout(**_LAYOUT, title="Latency per query (ms, log scale)", barmode="group",
                      yaxis=dict(type="log", title="ms", dtick=1))  # ticks at 1, 10, 100... only
    return fig


def _ms(v) -> str:
    if v is None:
        return ""
    return f"{v:,.1f} ms" if v < 100 else f"{v:,.0f} ms"
