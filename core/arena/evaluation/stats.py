"""Statistics of the Arena's evaluation: confidence intervals and paired differences.

Wilson intervals for one answer per query; a percentile bootstrap over queries
(:data:`N_BOOTSTRAP` resamples) when queries are answered several times
(:func:`rate_ci`); the paired raw/contextualised difference on the same queries; and the
per-query consistency of repeated answers (TF-IDF cosine, length spread).
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from ..hybrid import ARMS

#: Bootstrap resamples for the confidence intervals.
N_BOOTSTRAP = 2000


def _wilson(k: int, n: int) -> tuple[float | None, float | None]:
    if n == 0:
        return None, None
    from scipy.stats import binomtest

    ci = binomtest(int(k), int(n)).proportion_ci(confidence_level=0.95, method="wilson")
    return float(ci.low), float(ci.high)


def _bootstrap_mean(values: np.ndarray, seed: int = 0) -> tuple[float | None, float | None]:
    values = np.asarray(values, dtype=float)
    values = values[~np.isnan(values)]
    if len(values) == 0:
        return None, None
    if len(values) == 1 or np.all(values == values[0]):
        return float(values[0]), float(values[0])
    rng = np.random.default_rng(seed)
    means = values[rng.integers(0, len(values), size=(N_BOOTSTRAP, len(values)))].mean(axis=1)
    return float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))


def rate_ci(per_query: Mapping[Any, Sequence[bool]]) -> dict[str, Any]:
    """Rate of ``True`` with a 95 % interval, answers grouped by query.

    Args:
        per_query: ``{query id: [bool, ...]}`` (one entry per answer).

    Returns:
        ``{"rate", "ci_low", "ci_high", "n_queries", "n_answers", "ci_method"}``: Wilson when
        every query has one answer, else a percentile bootstrap over queries
        (:data:`N_BOOTSTRAP` resamples, seed 0) of the per-query rates. ``rate`` is ``None``
        with no answer.
    """
    groups = [np.asarray(v, dtype=float) for v in per_query.values() if len(v)]
    n_ans = int(sum(len(g) for g in groups))
    if not groups:
        return {"rate": None, "ci_low": None, "ci_high": None, "n_queries": 0, "n_answers": 0, "ci_method": ""}
    if all(len(g) == 1 for g in groups):
        k = int(sum(g.sum() for g in groups))
        lo, hi = _wilson(k, n_ans)
        return {"rate": k / n_ans, "ci_low": lo, "ci_high": hi, "n_queries": len(groups), "n_answers": n_ans,
                "ci_method": "Wilson 95%"}
    means = np.array([g.mean() for g in groups])
    lo, hi = _bootstrap_mean(means)
    return {"rate": float(np.sum([g.sum() for g in groups]) / n_ans), "ci_low": lo, "ci_high": hi,
            "n_queries": len(groups), "n_answers": n_ans,
            "ci_method": f"bootstrap over queries, 95%, {N_BOOTSTRAP} resamples"}


def _paired_difference(a: Mapping[Any, float], b: Mapping[Any, float], what: str, unit: str = "points",
                       scale: float = 100.0, digits: int = 1, lower_is_better: bool = False) -> dict[str, Any]:
    """``b - a`` over the queries both have, with a bootstrap 95 % interval and a verdict.

    The verdict says "context helped/hurt {what}" (or, when ``lower_is_better``, "raised ...,
    worse" / "lowered ..., better") when the interval excludes 0, else "not enough evidence"."""
    common = [q for q in a if q in b and not (np.isnan(a[q]) or np.isnan(b[q]))]
    if not common:
        return {"estimate": None, "ci_low": None, "ci_high": None, "n_queries": 0,
                "verdict": f"not enough evidence: no query has both answers for {what}."}
    d = np.array([b[q] - a[q] for q in common])
    est = float(d.mean())
    lo, hi = _bootstrap_mean(d)
    f = f"{{:+.{digits}f}}".format
    if lo is None or len(common) < 5:
        verdict = f"not enough evidence about {what} (only {len(common)} queries)."
    elif lo > 0 or hi < 0:
        ci = f"(95% CI {f(lo * scale)} to {f(hi * scale)}, {len(common)} queries)"
        if lower_is_better:
            verdict = (f"context {'raised' if lo > 0 else 'lowered'} {what}: {f(est * scale)} {unit} {ci}, "
                       f"{'worse' if lo > 0 else 'better'}.")
        else:
            verdict = f"context {'helped' if lo > 0 else 'hurt'} {what}: {f(est * scale)} {unit} {ci}."
    else:
        verdict = (f"not enough evidence that context changes {what}: {f(est * scale)} {unit} "
                   f"(95% CI {f(lo * scale)} to {f(hi * scale)}, {len(common)} queries).")
    return {"estimate": est, "ci_low": lo, "ci_high": hi, "n_queries": len(common), "verdict": verdict}


def _consistency(ok: pd.DataFrame) -> tuple[dict[str, dict[Any, float]], dict[str, dict[Any, float]]]:
    """Per arm: ``{row: mean pairwise TF-IDF cosine}`` and ``{row: sd of answer lengths (chars)}``."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.metrics.pairwise import cosine_similarity

    answers = ok["answer"].fillna("").astype(str)
    cos: dict[str, dict[Any, float]] = {arm: {} for arm in ARMS}
    spread: dict[str, dict[Any, float]] = {arm: {} for arm in ARMS}
    if not answers.str.strip().any():
        return cos, spread
    vec = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True).fit(answers)
    for (arm, row), g in ok.groupby(["arm", "row"], sort=False):
        texts = g["answer"].fillna("").astype(str).tolist()
        if len(texts) < 2:
            continue
        sims = cosine_similarity(vec.transform(texts))
        iu = np.triu_indices(len(texts), k=1)
        cos[arm][row] = float(sims[iu].mean())
        spread[arm][row] = float(np.std([len(t) for t in texts]))
    return cos, spread
