"""The Arena evaluation's summary: the documented dict, cost projection and display table.

:func:`summarise` turns an :class:`~core.arena.evaluation.run.EvaluationRun` (or its
long table) into the summary dict (:data:`SUMMARY_KIND`) the Decide report renders;
:func:`project_costs` prices measured tokens on each model of the price file;
:func:`wide_table` gives one line per query for display.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

import numpy as np
import pandas as pd

from ..hybrid import ARMS
from ..pricing import PriceTable, load_prices
from .run import EvaluationRun
from .stats import _bootstrap_mean, _consistency, _paired_difference, rate_ci

#: ``summary["kind"]`` of :func:`summarise`'s dict (its ``version`` is 1).
SUMMARY_KIND = "crossroads.arena.context_evaluation"
#: Shown next to judge scores.
JUDGE_LABEL = "LLM judge (the same provider and model rate helpfulness 1-5; a model judging itself is biased)"


def project_costs(input_tokens: float, output_tokens: float, prices: PriceTable, *,
                  per_queries: int = 1) -> list[dict[str, Any]]:
    """What ``input_tokens``/``output_tokens`` would cost on each model of the price file.

    Uses each model's ``global`` price when it has one, else ``regional``.

    Args:
        input_tokens / output_tokens: token counts (e.g. measured on a local model; another
            model's tokenizer counts differently, so this is an estimate).
        prices: the price table (its ``source`` and ``retrieved`` date go with the figures).
        per_queries: the number of queries these tokens are for (to give per-1,000-query costs).

    Returns:
        ``[{"model", "tier", "input_usd_per_mtok", "output_usd_per_mtok", "cost_usd",
        "usd_per_1000_queries"}, ...]`` sorted by cost.
    """
    out = []
    for model, tiers in prices.models.items():
        tier = "global" if "global" in tiers else "regional"
        p = tiers[tier]
        cost = (input_tokens * p.input + output_tokens * p.output) / prices.unit_tokens
        out.append({"model": model, "tier": tier, "input_usd_per_mtok": p.input, "output_usd_per_mtok": p.output,
                    "cost_usd": cost, "usd_per_1000_queries": cost / max(per_queries, 1) * 1000})
    return sorted(out, key=lambda r: r["cost_usd"])


def _num(series: pd.Series) -> pd.Series:
    return pd.to_numeric(series, errors="coerce")


def summarise(run: EvaluationRun | pd.DataFrame, *, prices: PriceTable | None = None,
              provider: str = "", model_id: str = "", repeats: int | None = None,
              temperature: float | None = None, source: str = "") -> dict[str, Any]:
    """The evaluation's figures as a documented, JSON-ready dict (for the page, the CLI and Decide).

    Shape (``version`` 1)::

        {
          "kind": "crossroads.arena.context_evaluation", "version": 1, "created": ISO-8601 UTC,
          "provider": str, "model_id": str, "temperature": float | None, "repeats": int,
          "source": str,                     # where the held-out rows come from
          "n_queries": int, "n_answers": int, "n_errors": int, "stopped_early": str,
          "classifier_accuracy": {"rate", "ci_low", "ci_high", "n_queries", "n_answers", "ci_method"},
          "arms": {"raw": ARM, "contextualised": ARM},
          "difference": {                    # contextualised minus raw, paired on the same queries
            "topic_adherence": {"estimate", "ci_low", "ci_high", "n_queries", "verdict"},
            "consistency": {...same...},     # None when repeats < 2
            "copy_rate": {...same...},
          },
          "verdict": str,                    # one sentence on topic adherence
          "cost_projection": None | {"source", "retrieved", "note",
                                     "arms": {"raw": [PROJ...], "contextualised": [PROJ...]}},
          "judge": None | {"label": str},
        }
        ARM = {
          "topic_adherence": {"rate", "ci_low", "ci_high", "n_queries", "n_answers", "ci_method"},
          "consistency": {"mean_cosine", "ci_low", "ci_high", "length_sd_chars", "n_queries"} | None,
          "copy_rate": {"rate", "ci_low", "ci_high", "n_queries", "n_answers", "ci_method"},
          "tokens": {"input_mean", "output_mean", "input_total", "output_total"},
          "latency_ms": {"p50", "p95", "n_measured"},          # calls made; cached answers excluded
          "cost_usd": {"total", "per_query", "charged"},       # total None if a price is unknown
          "judge": {"mean", "n", "label"} | None,
        }
        PROJ = {"model", "tier", "input_usd_per_mtok", "output_usd_per_mtok", "cost_usd",
                "usd_per_1000_queries"}   # see project_costs

    Rates are fractions in [0, 1]; ``difference`` estimates are in the same units (the
    verdict prints rate differences in percentage points). ``cost_projection`` is given
    when the answers came from a local model (cost 0): the measured tokens priced on each
    model of the price file, with the file's retrieval date.

    Args:
        run: an :class:`EvaluationRun`, or its ``rows`` table (then pass ``provider``,
            ``model_id``, ``repeats``, ``temperature``, ``source``).
        prices: price table for the projection (default :func:`load_prices`).

    Returns:
        The dict above.
    """
    if isinstance(run, EvaluationRun):
        df, provider, model_id = run.rows, run.provider, run.model_id
        repeats, temperature, source, stopped, judge = run.repeats, run.temperature, run.source, run.stopped_early, \
            run.judge
    else:
        df, stopped, judge = run, "", bool(run["judge_score"].notna().any()) if "judge_score" in run else False
        repeats = int(repeats or (df["repeat"].max() if len(df) else 1))
    prices = prices or load_prices()
    errors = df["error"].fillna("") != ""
    ok = df[~errors].copy()
    first = ok.drop_duplicates("row")
    clf_acc = rate_ci({r: [bool(v)] for r, v in zip(first["row"], first["classifier_correct"])})
    cos, spread = _consistency(ok)
    arms: dict[str, Any] = {}
    adherence_by_q: dict[str, dict[Any, float]] = {}
    copy_by_q: dict[str, dict[Any, float]] = {}
    for arm in ARMS:
        g = ok[ok["arm"] == arm]
        by_q = {r: [bool(v) for v in gg["adheres"]] for r, gg in g.groupby("row")}
        cp_q = {r: [bool(v) for v in gg["copied"]] for r, gg in g.groupby("row")}
        adherence_by_q[arm] = {r: float(np.mean(v)) for r, v in by_q.items()}
        copy_by_q[arm] = {r: float(np.mean(v)) for r, v in cp_q.items()}
        lat = _num(g["latency_ms"]).dropna()
        costs = _num(g["cost_usd"])
        n_q = int(g["row"].nunique())
        cons = None
        if cos[arm]:
            vals = np.array(list(cos[arm].values()))
            lo, hi = _bootstrap_mean(vals)
            cons = {"mean_cosine": float(vals.mean()), "ci_low": lo, "ci_high": hi,
                    "length_sd_chars": float(np.mean(list(spread[arm].values()))), "n_queries": len(vals)}
        judge_scores = _num(g["judge_score"]).dropna()
        arms[arm] = {
            "topic_adherence": rate_ci(by_q),
            "consistency": cons,
            "copy_rate": rate_ci(cp_q),
            "tokens": {"input_mean": float(_num(g["input_tokens"]).mean()) if len(g) else None,
                       "output_mean": float(_num(g["output_tokens"]).mean()) if len(g) else None,
                       "input_total": int(_num(g["input_tokens"]).fillna(0).sum()),
                       "output_total": int(_num(g["output_tokens"]).fillna(0).sum())},
            "latency_ms": {"p50": float(np.percentile(lat, 50)) if len(lat) else None,
                           "p95": float(np.percentile(lat, 95)) if len(lat) else None, "n_measured": int(len(lat))},
            "cost_usd": {"total": None if costs.isna().any() or not len(g) else float(costs.sum()),
                         "per_query": (None if costs.isna().any() or not n_q else float(costs.sum()) / n_q),
                         "charged": float(_num(g["charged_usd"]).fillna(0).sum())},
            "judge": ({"mean": float(judge_scores.mean()), "n": int(len(judge_scores)), "label": JUDGE_LABEL}
                      if len(judge_scores) else None),
        }
    diff = {
        "topic_adherence": _paired_difference(adherence_by_q["raw"], adherence_by_q["contextualised"],
                                              "topic adherence"),
        "consistency": (_paired_difference(cos["raw"], cos["contextualised"], "consistency",
                                           unit="in mean TF-IDF cosine", scale=1.0, digits=3)
                        if cos["raw"] and cos["contextualised"] else None),
        "copy_rate": _paired_difference(copy_by_q["raw"], copy_by_q["contextualised"],
                                        "the copy rate",
                                        lower_is_better=True),
    }
    projection = None
    local = all((arms[a]["cost_usd"]["total"] == 0.0) for a in ARMS) and len(ok)
    if local:
        n_q = max(int(ok["row"].nunique()), 1)
        projection = {
            "source": prices.source, "retrieved": prices.retrieved,
            "note": ("Tokens counted by the local model's tokenizer and, for a base model, including its worked "
                     "examples; a Claude model counts differently and needs no examples, so this is an estimate."),
            "arms": {a: project_costs(arms[a]["tokens"]["input_total"], arms[a]["tokens"]["output_total"], prices,
                                      per_queries=n_q * max(int(repeats or 1), 1)) for a in ARMS},
        }
    return {
        "kind": SUMMARY_KIND, "version": 1,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "provider": provider, "model_id": model_id, "temperature": temperature, "repeats": int(repeats or 1),
        "source": source, "n_queries": int(df["row"].nunique()) if len(df) else 0, "n_answers": int(len(ok)),
        "n_errors": int(errors.sum()), "stopped_early": stopped,
        "classifier_accuracy": clf_acc, "arms": arms, "difference": diff,
        "verdict": diff["topic_adherence"]["verdict"], "cost_projection": projection,
        "judge": {"label": JUDGE_LABEL} if judge else None,
    }


def wide_table(rows: pd.DataFrame) -> pd.DataFrame:
    """One line per query for display: row, query, true label, prediction, and per arm the first
    answer, ``adheres`` as "k/m" and copies as "k/m".

    Args:
        rows: :attr:`EvaluationRun.rows`.

    Returns:
        ``DataFrame`` with columns ``row, query, true label, predicted, correct,
        raw answer, raw on topic, raw copied, contextualised answer, contextualised on topic,
        contextualised copied, error``.
    """
    out = []
    for r, g in rows.groupby("row", sort=True):
        first = g.iloc[0]
        line = {"row": int(r), "query": first["query"], "true label": first["true_label"],
                "predicted": first["predicted"], "correct": first["classifier_correct"]}
        for arm in ARMS:
            a = g[(g["arm"] == arm) & (g["error"].fillna("") == "")]
            line[f"{arm} answer"] = a["answer"].iloc[0] if len(a) else ""
            line[f"{arm} on topic"] = f"{int(a['adheres'].fillna(False).astype(bool).sum())}/{len(a)}" if len(a) else ""
            line[f"{arm} copied"] = f"{int(a['copied'].fillna(False).astype(bool).sum())}/{len(a)}" if len(a) else ""
        line["error"] = "; ".join(sorted({e for e in g["error"].fillna("") if e}))
        out.append(line)
    return pd.DataFrame(out)
