"""From a :class:`~core.decide.result.BakeoffResult` and the user's constraints to the full picture.

:func:`analyse` adds what depends on the constraints, and is cheap (no model is called):

* the **cascade sweep**: for each threshold τ the classifier answers the
  queries whose top-1 probability is ≥ τ and the LLM's choice among the
  classifier's top-k answers the rest. For each τ: accuracy, share of queries
  sent to the LLM, cost per 1,000 queries (LLM calls only) and p95 latency
  (classifier time, plus the LLM's for deferred queries). A deferred query
  whose LLM call failed or was invalid falls back to the classifier's answer,
  as a production cascade would; their number is reported.
* the **chosen τ**: among the thresholds whose accuracy meets the minimum
  accuracy, the lowest cost, then the lowest LLM share; without a target (or
  when none meets it) the most accurate, then the cheapest. τ is chosen on
  the test rows, so its accuracy is slightly optimistic (said in the caveats).
* the **hybrid arm** at that τ, with the same metrics as the other arms;
* **paired comparisons** of every pair of arms (accuracy and macro F1 paired
  bootstrap CIs; McNemar's exact test for the classifier against each arm),
  on the rows both were scored on;
* **per-language accuracy** of each arm, and the **recommendation**.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from core.arena.providers.bedrock import DEFAULT_MODEL_ID

from .recommend import Candidate, Constraints, Recommendation, recommend
from .result import BakeoffResult, _arm_metrics
from .stats import Estimate, bootstrap_accuracy, mcnemar_exact, paired_difference

#: Most thresholds evaluated in the sweep (quantiles of the confidences beyond that).
MAX_SWEEP_POINTS = 400
#: Model on which a local run's cascade cost is projected (Bedrock's default, Claude Haiku 4.5 global).
PROJECTION_MODEL = DEFAULT_MODEL_ID


@dataclass
class Analysis:
    """A result seen through the constraints.

    Attributes:
        constraints: the :class:`Constraints` used.
        arms: ``{arm: metrics}`` including ``hybrid`` at the chosen τ.
        cascade: ``{"points": [...], "chosen": point or None, "target", "meets_target",
            "valid_up_to", "fallbacks"}``; each point ``{"tau", "share_llm", "accuracy",
            "cost_per_1k", "p95_ms"}``.
        comparisons: ``[{"a", "b", "n", "accuracy_diff", "macro_f1_diff", "mcnemar"}]``.
        per_language: ``{arm: {language: Estimate dict}}``.
        recommendation: :class:`Recommendation`.
        caveats: general caveats of the run (stopped, τ chosen on test rows...).
    """

    constraints: Constraints
    arms: dict[str, dict]
    cascade: dict[str, Any]
    comparisons: list[dict]
    per_language: dict[str, dict[str, dict]]
    recommendation: Recommendation
    caveats: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"constraints": self.constraints.to_dict(), "arms": self.arms, "cascade": self.cascade,
                "comparisons": self.comparisons, "per_language": self.per_language,
                "recommendation": self.recommendation.to_dict(), "caveats": list(self.caveats)}


def _hybrid_inputs(result: BakeoffResult):
    rows = result.rows
    conf = np.array([r["classifier_confidence"] for r in rows], dtype=float)
    clf = [r["classifier_pred"] for r in rows]
    llm = [r.get("hybrid_llm_pred") for r in rows]
    answered = np.array([r.get("hybrid_llm_latency_ms") is not None for r in rows])
    usable = np.array([r.get("hybrid_llm_valid") is True for r in rows])
    lat_clf = np.array([r["classifier_latency_ms"] for r in rows], dtype=float)
    lat_llm = np.array([r.get("hybrid_llm_latency_ms") or 0.0 for r in rows], dtype=float)
    cost = [r.get("hybrid_llm_cost_usd") if r.get("hybrid_llm_latency_ms") is not None else 0.0 for r in rows]
    return conf, clf, llm, answered, usable, lat_clf, lat_llm, cost


def hybrid_predictions(result: BakeoffResult, tau: float) -> tuple[list[str], np.ndarray]:
    """Predictions of the cascade at ``tau`` and the mask of rows sent to the LLM.

    A deferred row uses the LLM's valid choice; a failed or invalid call falls back to the classifier.
    """
    conf, clf, llm, answered, usable, *_ = _hybrid_inputs(result)
    deferred = conf < tau
    preds = [llm[i] if deferred[i] and usable[i] else clf[i] for i in range(len(clf))]
    return preds, deferred


def sweep(result: BakeoffResult, prices=None) -> list[dict]:
    """Accuracy, LLM share, cost per 1k and p95 latency of the cascade at each τ (see the module docstring).

    With a local provider (cost 0) and ``prices``, each point also has
    ``projected_cost_per_1k``: the deferred queries' measured tokens priced on
    :data:`PROJECTION_MODEL` (Bedrock's default model), for the cost curve.

    Thresholds: 0, the classifiers' distinct top-1 probabilities (or
    :data:`MAX_SWEEP_POINTS` quantiles of them) and 1, limited to
    ``result.hybrid_valid_up_to`` (a stopped run).
    """
    if not result.hybrid_run or not result.rows:
        return []
    conf, clf, llm, answered, usable, lat_clf, lat_llm, cost = _hybrid_inputs(result)
    y = [r["label"] for r in result.rows]
    clf_ok = np.array([a == b for a, b in zip(y, clf)])
    llm_ok = np.array([usable[i] and llm[i] == y[i] for i in range(len(y))]) | (~usable & clf_ok)
    taus = np.unique(conf)
    if len(taus) > MAX_SWEEP_POINTS:
        taus = np.unique(np.quantile(conf, np.linspace(0, 1, MAX_SWEEP_POINTS)))
    taus = np.unique(np.concatenate([[0.0], taus, [1.0]]))
    taus = taus[taus <= result.hybrid_valid_up_to + 1e-12]
    known_cost = all(c is not None for c in cost)
    cost_arr = np.array([c or 0.0 for c in cost], dtype=float)
    proj_arr = None
    if result.provider.get("local") and prices is not None:
        price = prices.price_for(PROJECTION_MODEL)
        if price is not None:
            tin = np.array([r.get("hybrid_llm_input_tokens") or 0 for r in result.rows], dtype=float)
            tout = np.array([r.get("hybrid_llm_output_tokens") or 0 for r in result.rows], dtype=float)
            proj_arr = (tin * price.input + tout * price.output) / prices.unit_tokens
    n = len(y)
    points = []
    for tau in taus:
        d = conf < tau
        ok = np.where(d, llm_ok, clf_ok)
        lat = lat_clf + np.where(d, lat_llm, 0.0)
        pt = {"tau": float(tau), "share_llm": float(d.mean()), "accuracy": float(ok.mean()),
              "cost_per_1k": float(1000.0 * cost_arr[d].sum() / n) if known_cost else None,
              "p95_ms": float(np.percentile(lat, 95))}
        if proj_arr is not None:
            pt["projected_cost_per_1k"] = float(1000.0 * proj_arr[d].sum() / n)
        points.append(pt)
    return points


def choose_tau(points: list[dict], target: float | None) -> tuple[dict | None, bool]:
    """The threshold to mark: ``(point, meets_target)`` (rule in the module docstring)."""
    if not points:
        return None, False

    def cost(p):
        return float("inf") if p["cost_per_1k"] is None else p["cost_per_1k"]

    if target is not None:
        ok = [p for p in points if p["accuracy"] >= target]
        if ok:
            return min(ok, key=lambda p: (cost(p), p["share_llm"], -p["accuracy"])), True
    best = min(points, key=lambda p: (-p["accuracy"], cost(p), p["share_llm"]))
    return best, target is None


def _hybrid_metrics(result: BakeoffResult, tau: float, point: dict, boot: int, seed: int, prices) -> dict:
    preds, deferred = hybrid_predictions(result, tau)
    y = [r["label"] for r in result.rows]
    recs = []
    for r, d in zip(result.rows, deferred):
        lat = r["classifier_latency_ms"] + ((r.get("hybrid_llm_latency_ms") or 0.0) if d else 0.0)
        recs.append({"latency_ms": lat,
                     "input_tokens": (r.get("hybrid_llm_input_tokens") or 0) if d else 0,
                     "output_tokens": (r.get("hybrid_llm_output_tokens") or 0) if d else 0,
                     "cost_usd": (r.get("hybrid_llm_cost_usd") if r.get("hybrid_llm_latency_ms") is not None
                                  else 0.0) if d else 0.0,
                     "cached": bool(r.get("hybrid_llm_cached")) and d,
                     "valid": (r.get("hybrid_llm_valid") is not False) if d else True,
                     "answer": r.get("hybrid_llm_answer")})
    m = _arm_metrics("hybrid", y, preds, recs, n_planned=len(y), texts=[r["text"] for r in result.rows],
                     provider=result.provider, boot=boot, seed=seed, prices=prices)
    m["tau"] = float(tau)
    m["llm_share"] = float(np.mean(deferred)) if len(deferred) else 0.0
    m["fallbacks"] = int(sum(1 for r, d in zip(result.rows, deferred)
                             if d and r.get("hybrid_llm_valid") is not True))
    m["failed"] = int(sum(1 for r, d in zip(result.rows, deferred) if d and r.get("hybrid_llm_error")))
    m["complete"] = True
    return m


def _arm_preds(result: BakeoffResult, arm: str, hybrid_preds: list[str] | None) -> dict[int, str | None]:
    """``{row: prediction}`` of the rows an arm was scored on."""
    if arm == "classifier":
        return {r["row"]: r["classifier_pred"] for r in result.rows}
    if arm == "hybrid":
        return dict(enumerate(hybrid_preds or []))
    out = {}
    for r in result.rows:
        if r.get(f"{arm}_latency_ms") is not None and not r.get(f"{arm}_error"):
            out[r["row"]] = r.get(f"{arm}_pred")
    return out


def analyse(result: BakeoffResult, constraints: Constraints | None = None, *, prices=None) -> Analysis:
    """The constraints-dependent part of a bake-off (see the module docstring).

    Args:
        result: a :class:`BakeoffResult`.
        constraints: :class:`Constraints` (defaults: none).
        prices: price table for the hybrid's projection (default: the price file).

    Returns:
        :class:`Analysis`.
    """
    from core.arena.pricing import load_prices

    cons = (constraints or Constraints()).validate()
    prices = prices or load_prices()
    boot, seed = int(result.config.get("bootstrap", 2000)), int(result.config.get("seed", 0))
    arms = {k: dict(v) for k, v in result.arms.items() if k in result.config.get("arms", result.arms.keys())}
    points = sweep(result, prices)
    chosen, meets = choose_tau(points, cons.min_accuracy)
    caveats: list[str] = []
    hybrid_preds = None
    if chosen is not None:
        arms["hybrid"] = _hybrid_metrics(result, chosen["tau"], chosen, boot, seed, prices)
        hybrid_preds, _ = hybrid_predictions(result, chosen["tau"])
        caveats.append("The hybrid's threshold τ is chosen on the same test rows it is scored on, so its accuracy "
                       "is slightly optimistic; confirm it on fresh rows before relying on the last point.")
        if result.hybrid_valid_up_to < 1.0:
            caveats.append(f"The hybrid run was stopped: the curve is exact up to τ = "
                           f"{result.hybrid_valid_up_to:.2f} (the confidence of the first query not sent).")
    cascade = {"points": points, "chosen": chosen, "target": cons.min_accuracy, "meets_target": meets,
               "valid_up_to": result.hybrid_valid_up_to,
               "fallbacks": arms.get("hybrid", {}).get("fallbacks", 0)}

    y_by_row = {r["row"]: r["label"] for r in result.rows}
    preds = {a: _arm_preds(result, a, hybrid_preds) for a in arms}
    comparisons, diffs = [], {}
    names = list(arms)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            common = sorted(set(preds[a]) & set(preds[b]))
            if not common:
                continue
            y = [y_by_row[k] for k in common]
            pa, pb = [preds[a][k] for k in common], [preds[b][k] for k in common]
            acc_d = paired_difference(y, pa, pb, metric="accuracy", B=boot, seed=seed)
            f1_d = paired_difference(y, pa, pb, metric="macro_f1", B=boot, seed=seed)
            comp = {"a": a, "b": b, "n": len(common), "accuracy_diff": acc_d.to_dict(),
                    "macro_f1_diff": f1_d.to_dict(), "mcnemar": None}
            if a == "classifier":
                comp["mcnemar"] = mcnemar_exact(y, pa, pb).to_dict()
            comparisons.append(comp)
            diffs[(a, b)] = acc_d

    per_language: dict[str, dict[str, dict]] = {}
    lang_of = {r["row"]: r.get("language", "und") for r in result.rows}
    for a in arms:
        by: dict[str, tuple[list, list]] = {}
        for k, p in preds[a].items():
            ys, ps = by.setdefault(lang_of[k], ([], []))
            ys.append(y_by_row[k])
            ps.append(p)
        per_language[a] = {lang: bootstrap_accuracy(ys, ps, B=boot, seed=seed).to_dict()
                           for lang, (ys, ps) in sorted(by.items(), key=lambda kv: -len(kv[1][0]))}

    cands = {}
    for a, m in arms.items():
        cands[a] = Candidate(arm=a, name=m["name"], accuracy=Estimate(**m["accuracy"]),
                             p95_ms=m["latency_ms"]["p95"], cost_per_1k=m["cost_per_1k"],
                             batch_per_1k=m.get("batch_per_1k"), llm_share=m.get("llm_share"), tau=m.get("tau"))
    curve = result.learning_curve
    gain = None
    if len(curve) >= 2:
        gain = curve[-1]["accuracy"]["value"] - curve[-2]["accuracy"]["value"]
    prov = result.provider
    label = f"{prov.get('model_id')} ({prov.get('name')})" if prov.get("name") else ""
    lang_rows: dict[str, int] = {}
    for lang in lang_of.values():
        lang_rows[lang] = lang_rows.get(lang, 0) + 1
    rec = recommend(cands, cons, n_test=len(result.rows), differences=diffs, language_rows=lang_rows,
                    provider_label=label, learning_gain=gain)
    if rec.arm:
        for lang, est in per_language.get(rec.arm, {}).items():
            e = Estimate(**est)
            if len(per_language[rec.arm]) > 1:
                rec.reasons.append(f"On '{lang}' queries it scores {e.pct()}.")
            if cons.min_accuracy is not None and e.value < cons.min_accuracy:
                rec.caveats.append(f"On '{lang}' queries its accuracy is below the target: {e.pct()}.")
    if result.stopped:
        caveats.append("The run was stopped before the end: arms are scored on the rows they answered (n is given "
                       "for each).")
    if result.aborted:
        caveats.append(f"The provider was given up: {result.aborted}")
    if prov.get("local") and prov.get("name"):
        caveats.append("The LLM ran on this machine, so its cost is 0; the projection table shows what the same "
                       "token counts would cost on Claude in Amazon Bedrock.")
    rec.caveats += caveats
    return Analysis(constraints=cons, arms=arms, cascade=cascade, comparisons=comparisons,
                    per_language=per_language, recommendation=rec, caveats=caveats)
