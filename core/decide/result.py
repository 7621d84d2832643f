"""The measured outcome of a bake-off: per-row answers and per-arm metrics, JSON-ready.

:class:`BakeoffResult` holds what was measured and does not depend on the
user's constraints: the classifier, zero-shot and few-shot arms' metrics, the
hybrid's LLM answers for every row it reached, the classifier's learning
curve, and how the run went (stopped, aborted, wall time, versions). The
threshold of the hybrid and the recommendation depend on the constraints; they
are computed by :func:`core.decide.analysis.analyse`, which is cheap, so the
page can change a constraint without calling any model again.

Per-row columns (:meth:`BakeoffResult.rows_frame`): ``row``, ``text``,
``label``, ``language``, ``classifier_pred``, ``classifier_confidence``,
``classifier_top_k`` (``|``-separated), ``classifier_latency_ms``, then for
each LLM arm prefix (``zero_shot``, ``few_shot``, ``hybrid_llm``) ``_pred``
(parsed label, empty when invalid), ``_answer`` (the model's text),
``_valid``, ``_latency_ms``, ``_input_tokens``, ``_output_tokens``,
``_cost_usd``, ``_cached``, ``_error``.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .cost import batch_per_1k, per_1k, project
from .stats import (bootstrap_accuracy, bootstrap_macro_f1, confused_pairs, per_class_f1, percentiles_ms)

#: Invalid answers kept as examples per arm.
N_INVALID_EXAMPLES = 5
CALL_FIELDS = ("pred", "answer", "valid", "latency_ms", "input_tokens", "output_tokens", "cost_usd", "cached",
               "error")


@dataclass
class BakeoffResult:
    """Everything a bake-off measured (see the module docstring).

    Attributes:
        data: :meth:`core.decide.data.BakeoffData.summary`.
        config: :class:`core.decide.plan.BakeoffConfig` as a dict.
        provider: ``{"name", "model_id", "local", "label"}`` (empty name: no LLM).
        prices: ``{"source", "retrieved", "path", "note"}`` of the price file.
        versions: Python, library and Crossroads versions.
        classes: the classifier's labels (sorted).
        rows: one dict per test row (see the module docstring).
        arms: ``{arm: metrics dict}`` for ``classifier``, ``zero_shot``, ``few_shot`` (those run).
        learning_curve: points of :func:`core.decide.learning.learning_curve`.
        hybrid_run: ``True`` when the hybrid arm was planned.
        hybrid_valid_up_to: largest τ for which every deferred row was answered (1.0 when all were).
        stopped: the user stopped the run; aborted: why the provider was given up (or ``None``).
        wall_seconds: duration of the run (s); created: ISO timestamp (UTC).
    """

    data: dict
    config: dict
    provider: dict
    prices: dict
    versions: dict
    classes: list[str]
    rows: list[dict]
    arms: dict[str, dict]
    learning_curve: list[dict]
    hybrid_run: bool = False
    hybrid_valid_up_to: float = 1.0
    stopped: bool = False
    aborted: str | None = None
    wall_seconds: float = 0.0
    created: str = ""
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (:meth:`from_dict` reads it back)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "BakeoffResult":
        names = cls.__dataclass_fields__.keys()
        return cls(**{k: v for k, v in d.items() if k in names})

    def rows_frame(self) -> pd.DataFrame:
        """The per-row table (one row per test query)."""
        return pd.DataFrame(self.rows)

    @property
    def n_test(self) -> int:
        return len(self.rows)


def _arm_metrics(arm: str, y: list[str], preds: list[str | None], recs: list[dict], *, n_planned: int,
                 texts: list[str], provider: dict, boot: int, seed: int, prices) -> dict:
    """Metrics of one arm from its scored rows (``recs`` aligned with ``y``/``preds``)."""
    from .plan import ARM_NAMES

    acc = bootstrap_accuracy(y, preds, B=boot, seed=seed)
    f1 = bootstrap_macro_f1(y, preds, B=boot, seed=seed)
    lat = percentiles_ms([r.get("latency_ms") for r in recs])
    tin = [r.get("input_tokens") for r in recs]
    tout = [r.get("output_tokens") for r in recs]
    n = len(y)
    costs = [r.get("cost_usd") for r in recs]
    c1k = per_1k(costs, n) if arm != "classifier" else 0.0
    local = bool(provider.get("local", True)) if arm != "classifier" else True
    invalid = [(t, r.get("answer", "")) for t, r in zip(texts, recs) if r.get("valid") is False]
    out = {
        "arm": arm, "name": ARM_NAMES[arm], "n": n, "n_planned": n_planned, "complete": n >= n_planned,
        "accuracy": acc.to_dict(), "macro_f1": f1.to_dict(), "latency_ms": lat,
        "input_tokens_mean": _mean(tin), "output_tokens_mean": _mean(tout),
        "input_tokens_total": _total(tin), "output_tokens_total": _total(tout),
        "cost_per_1k": c1k,
        "batch_per_1k": batch_per_1k(c1k, provider=provider.get("name", ""), local=local) if arm != "classifier"
        else None,
        "invalid": len(invalid), "invalid_rate": (len(invalid) / n) if n else None,
        "invalid_examples": [{"text": t, "answer": a} for t, a in invalid[:N_INVALID_EXAMPLES]],
        "cached": int(sum(1 for r in recs if r.get("cached"))),
        "per_class": per_class_f1(y, preds) if n else [], "confused": confused_pairs(y, preds) if n else [],
        "training_seconds": None, "projection": None, "failed": 0, "failure_examples": [],
    }
    if arm != "classifier" and local and n and out["input_tokens_mean"] is not None:
        out["projection"] = project(prices, out["input_tokens_mean"], out["output_tokens_mean"] or 0.0)
    return out


def _mean(vals) -> float | None:
    v = [x for x in vals if x is not None]
    return float(np.mean(v)) if v else None


def _total(vals) -> int | None:
    v = [x for x in vals if x is not None]
    return int(sum(v)) if v else None


def build_result(plan, answers: dict[str, dict[int, dict]], curve: list[dict], *, stopped: bool,
                 aborted: str | None, wall_seconds: float, versions: dict) -> BakeoffResult:
    """Assemble a :class:`BakeoffResult` from a plan and the answers received.

    Args:
        plan: the :class:`core.decide.plan.BakeoffPlan` that was run.
        answers: ``{arm: {test row: record}}``; a record has the fields of
            :data:`CALL_FIELDS` (or only ``error`` for a failed call).
        curve: learning-curve points.
        stopped / aborted / wall_seconds / versions: how the run went.
    """
    from .plan import CALL_PREFIX, LLM_ARMS, _is_local

    data, cfg = plan.data, plan.config
    prov = plan.provider
    provider = {"name": getattr(prov, "name", "") if prov else "",
                "model_id": getattr(prov, "model_id", "") if prov else "",
                "local": bool(plan.local), "label": _provider_label(prov)}
    top = np.argsort(-plan.proba, axis=1, kind="stable")[:, : max(3, int(cfg.top_k))]
    rows = []
    for i, (text, label) in enumerate(zip(data.test_texts, data.test_labels)):
        j = int(top[i, 0])
        row = {"row": i, "text": text, "label": label,
               "language": data.test_languages[i] if i < len(data.test_languages) else "und",
               "classifier_pred": plan.classes[j], "classifier_confidence": float(plan.proba[i, j]),
               "classifier_top_k": "|".join(plan.classes[int(c)] for c in top[i, : int(cfg.top_k)]),
               "classifier_latency_ms": float(plan.clf_latency_ms[i])}
        for arm in LLM_ARMS:
            if arm not in plan.calls:
                continue
            rec = answers.get(arm, {}).get(i)
            for f in CALL_FIELDS:
                row[f"{CALL_PREFIX[arm]}_{f}"] = None if rec is None else rec.get(f)
        rows.append(row)

    y_all = list(data.test_labels)
    arms: dict[str, dict] = {}
    boot, seed = int(cfg.bootstrap), int(cfg.seed)
    clf_pred = [r["classifier_pred"] for r in rows]
    clf_recs = [{"latency_ms": r["classifier_latency_ms"], "input_tokens": None, "output_tokens": None,
                 "cost_usd": 0.0, "valid": True} for r in rows]
    arms["classifier"] = _arm_metrics("classifier", y_all, clf_pred, clf_recs, n_planned=len(rows),
                                      texts=list(data.test_texts), provider=provider, boot=boot, seed=seed,
                                      prices=plan.prices)
    arms["classifier"]["training_seconds"] = float(plan.fit_seconds)
    arms["classifier"]["n_train"] = data.n_train
    for arm in ("zero_shot", "few_shot"):
        if arm not in plan.calls:
            continue
        got = answers.get(arm, {})
        scored = [i for i in range(len(rows)) if i in got and "error" not in got[i]]
        recs = [got[i] for i in scored]
        m = _arm_metrics(arm, [y_all[i] for i in scored], [got[i]["pred"] for i in scored], recs,
                         n_planned=len(rows), texts=[rows[i]["text"] for i in scored], provider=provider,
                         boot=boot, seed=seed, prices=plan.prices)
        m["failed"] = sum(1 for r in got.values() if "error" in r)
        m["failure_examples"] = sorted({r["error"] for r in got.values() if "error" in r})[:3]
        arms[arm] = m

    valid_up_to = 1.0
    if "hybrid" in plan.calls:
        got = answers.get("hybrid", {})
        missing = [c.row for c in plan.calls["hybrid"] if c.row not in got]
        if missing:
            valid_up_to = float(min(rows[i]["classifier_confidence"] for i in missing))
    notes = list(data.notes) + list(plan.notes)
    if plan.provider is not None and not _is_local(plan.provider):
        notes.append("Costs are computed from the token counts the provider returned and the price file "
                     f"({plan.prices.source}, retrieved {plan.prices.retrieved}).")
    return BakeoffResult(
        data=data.summary(), config=cfg.to_dict(), provider=provider,
        prices={"source": plan.prices.source, "retrieved": plan.prices.retrieved, "path": plan.prices.path,
                "note": plan.prices.note},
        versions=versions, classes=list(plan.classes), rows=rows, arms=arms, learning_curve=curve,
        hybrid_run="hybrid" in plan.calls, hybrid_valid_up_to=valid_up_to, stopped=bool(stopped),
        aborted=aborted, wall_seconds=float(wall_seconds),
        created=_dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat(), notes=notes)


def _provider_label(prov) -> str:
    if prov is None:
        return ""
    try:
        from core.arena.providers.registry import provider_spec

        return provider_spec(prov.name).label
    except Exception:  # noqa: BLE001 - registry not available, or a provider outside it
        from core.arena.providers import LABELS

        return LABELS.get(getattr(prov, "name", ""), getattr(prov, "name", ""))
