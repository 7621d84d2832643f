"""Statistics of the bake-off: accuracy and macro F1 with bootstrap CIs, paired tests, latency percentiles.

Definitions (all on the same test rows):

* **accuracy** = share of rows whose prediction equals the true label. An
  invalid LLM output (``None``) is a wrong prediction.
* **macro F1** = unweighted mean over the categories present among the true
  labels of the rows scored of each category's F1 (scikit-learn's
  ``f1_score(y, p, labels=sorted(set(y)), average="macro", zero_division=0)``).
  Predictions outside that set (another category, an invalid output) count as
  false negatives of the true category.
* **bootstrap 95% CI**: ``B`` resamples of the rows with replacement (NumPy
  ``default_rng(seed)``), the metric on each, the 2.5th and 97.5th
  percentiles (percentile bootstrap; Efron & Tibshirani 1993, ch. 13). Macro
  F1 on a resample averages over the categories present in that resample.
* **paired difference**: the same resamples applied to both arms (rows
  paired), CI of ``metric(a) - metric(b)``.
* **McNemar's exact test**: with ``b`` = rows arm A got right and arm B wrong,
  ``c`` = the reverse, the two-sided p-value of ``b`` successes in ``b + c``
  Bernoulli(0.5) trials (``scipy.stats.binomtest``); 1.0 when ``b + c = 0``.
* **latency percentiles**: NumPy's default (linear) interpolation, in ms.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Sequence

import numpy as np

#: Bootstrap resamples used by default.
DEFAULT_BOOTSTRAP = 2000
#: Confidence level of every interval.
CONFIDENCE = 0.95
INVALID = "<invalid>"


@dataclass(frozen=True)
class Estimate:
    """A metric with its bootstrap CI.

    Attributes:
        value: the metric on all ``n`` rows (a fraction in [0, 1] for accuracy and F1).
        low / high: bounds of the 95% percentile-bootstrap interval.
        n: rows it rests on.
    """

    value: float
    low: float
    high: float
    n: int

    def to_dict(self) -> dict:
        return asdict(self)

    def overlaps(self, other: "Estimate") -> bool:
        """``True`` when the two intervals share at least one point."""
        return self.low <= other.high and other.low <= self.high

    def pct(self, digits: int = 1) -> str:
        """``"87.3% (95% CI 83.0–91.0%, n=300)"``."""
        return (f"{self.value * 100:.{digits}f}% (95% CI {self.low * 100:.{digits}f}–{self.high * 100:.{digits}f}%, "
                f"n={self.n})")


def _encode(y_true: Sequence, y_pred: Sequence) -> tuple[np.ndarray, np.ndarray, int]:
    """Integer codes: true labels 0..C-1 (sorted), any other prediction (incl. None) -> C."""
    classes = sorted(set(y_true))
    index = {c: i for i, c in enumerate(classes)}
    t = np.fromiter((index[v] for v in y_true), dtype=np.int64, count=len(y_true))
    p = np.fromiter((index.get(v, len(classes)) if v is not None else len(classes) for v in y_pred),
                    dtype=np.int64, count=len(y_pred))
    return t, p, len(classes)


def _macro_f1_rows(t: np.ndarray, p: np.ndarray, n_classes: int, idx: np.ndarray) -> np.ndarray:
    """Macro F1 of each resample (rows of ``idx``), averaged over the classes present in its true labels."""
    B = idx.shape[0]
    tt, pp = t[idx], p[idx]  # (B, n)
    offs = (np.arange(B) * (n_classes + 1))[:, None]
    size = B * (n_classes + 1)
    support = np.bincount((tt + offs).ravel(), minlength=size).reshape(B, -1)[:, :n_classes]
    predicted = np.bincount((pp + offs).ravel(), minlength=size).reshape(B, -1)[:, :n_classes]
    hit = tt == pp
    tp = np.bincount((tt + offs)[hit], minlength=size).reshape(B, -1)[:, :n_classes]
    denom = support + predicted
    f1 = np.divide(2 * tp, denom, out=np.zeros(tp.shape, dtype=float), where=denom > 0)
    present = support > 0
    return (f1 * present).sum(axis=1) / present.sum(axis=1)


def accuracy(y_true: Sequence, y_pred: Sequence) -> float:
    """Share of equal pairs (``None`` predictions are wrong); ``nan`` for no rows."""
    if not len(y_true):
        return float("nan")
    return float(np.mean([a == b for a, b in zip(y_true, y_pred)]))


def macro_f1(y_true: Sequence, y_pred: Sequence) -> float:
    """Macro F1 over the categories present in ``y_true`` (see the module docstring)."""
    if not len(y_true):
        return float("nan")
    t, p, c = _encode(y_true, y_pred)
    return float(_macro_f1_rows(t, p, c, np.arange(len(t))[None, :])[0])


def resample_indices(n: int, *, B: int = DEFAULT_BOOTSTRAP, seed: int = 0) -> np.ndarray:
    """``(B, n)`` row indices drawn with replacement (NumPy ``default_rng(seed)``).

    The same rows as :func:`_bootstrap` uses, in one array (for tests and small ``n``).
    """
    return np.concatenate(list(_chunks(n, B, seed)))


def _chunks(n: int, B: int, seed: int):
    """The ``(B, n)`` resample indices in blocks of at most ~2 million cells (memory stays small)."""
    rng = np.random.default_rng(seed)
    step = max(1, 2_000_000 // max(n, 1))
    for start in range(0, B, step):
        yield rng.integers(0, n, size=(min(step, B - start), n))


def _bootstrap(n: int, fn, B: int, seed: int) -> np.ndarray:
    """``fn(idx)`` (one statistic per resample row) over all ``B`` resamples, concatenated."""
    return np.concatenate([fn(idx) for idx in _chunks(n, B, seed)])


def _interval(values: np.ndarray) -> tuple[float, float]:
    lo, hi = np.percentile(values, [(1 - CONFIDENCE) / 2 * 100, (1 + CONFIDENCE) / 2 * 100])
    return float(lo), float(hi)


def bootstrap_accuracy(y_true: Sequence, y_pred: Sequence, *, B: int = DEFAULT_BOOTSTRAP,
                       seed: int = 0) -> Estimate:
    """Accuracy with its 95% percentile-bootstrap CI.

    Args:
        y_true: true labels (``n``); y_pred: predictions (``None`` = invalid, wrong).
        B: resamples; seed: random seed.

    Returns:
        :class:`Estimate` (``nan`` values for ``n = 0``).
    """
    n = len(y_true)
    if n == 0:
        return Estimate(float("nan"), float("nan"), float("nan"), 0)
    ok = np.array([a == b for a, b in zip(y_true, y_pred)], dtype=float)
    stats = _bootstrap(n, lambda idx: ok[idx].mean(axis=1), B, seed)
    return Estimate(float(ok.mean()), *_interval(stats), n)


def bootstrap_macro_f1(y_true: Sequence, y_pred: Sequence, *, B: int = DEFAULT_BOOTSTRAP,
                       seed: int = 0) -> Estimate:
    """Macro F1 with its 95% percentile-bootstrap CI (see the module docstring)."""
    n = len(y_true)
    if n == 0:
        return Estimate(float("nan"), float("nan"), float("nan"), 0)
    t, p, c = _encode(y_true, y_pred)
    value = float(_macro_f1_rows(t, p, c, np.arange(n)[None, :])[0])
    stats = _bootstrap(n, lambda idx: _macro_f1_rows(t, p, c, idx), B, seed)
    return Estimate(value, *_interval(stats), n)


def paired_difference(y_true: Sequence, pred_a: Sequence, pred_b: Sequence, *, metric: str = "accuracy",
                      B: int = DEFAULT_BOOTSTRAP, seed: int = 0) -> Estimate:
    """``metric(a) - metric(b)`` on the same rows, with a paired-bootstrap 95% CI.

    Args:
        y_true: true labels; pred_a / pred_b: the two arms' predictions on those rows.
        metric: ``"accuracy"`` or ``"macro_f1"``.

    Returns:
        :class:`Estimate` of the difference (in [-1, 1]).
    """
    n = len(y_true)
    if n == 0:
        return Estimate(float("nan"), float("nan"), float("nan"), 0)
    if metric == "accuracy":
        a = np.array([x == y for x, y in zip(y_true, pred_a)], dtype=float)
        b = np.array([x == y for x, y in zip(y_true, pred_b)], dtype=float)
        diffs = _bootstrap(n, lambda idx: a[idx].mean(axis=1) - b[idx].mean(axis=1), B, seed)
        return Estimate(float(a.mean() - b.mean()), *_interval(diffs), n)
    if metric == "macro_f1":
        t, pa, c = _encode(y_true, pred_a)
        _, pb, _ = _encode(y_true, pred_b)
        full = np.arange(n)[None, :]
        value = float(_macro_f1_rows(t, pa, c, full)[0] - _macro_f1_rows(t, pb, c, full)[0])
        diffs = _bootstrap(n, lambda idx: _macro_f1_rows(t, pa, c, idx) - _macro_f1_rows(t, pb, c, idx), B, seed)
        return Estimate(value, *_interval(diffs), n)
    raise ValueError(f"unknown metric {metric!r}")


@dataclass(frozen=True)
class McNemar:
    """McNemar's exact test between two arms on the same rows.

    Attributes:
        b: rows arm A got right and arm B wrong; c: the reverse.
        p_value: two-sided exact binomial p-value (1.0 when ``b + c = 0``).
        n: rows compared.
    """

    b: int
    c: int
    p_value: float
    n: int

    def to_dict(self) -> dict:
        return asdict(self)


def mcnemar_exact(y_true: Sequence, pred_a: Sequence, pred_b: Sequence) -> McNemar:
    """McNemar's exact test of arms A and B (see the module docstring)."""
    from scipy.stats import binomtest

    a = np.array([x == y for x, y in zip(y_true, pred_a)], dtype=bool)
    b = np.array([x == y for x, y in zip(y_true, pred_b)], dtype=bool)
    n01, n10 = int((a & ~b).sum()), int((~a & b).sum())
    p = 1.0 if n01 + n10 == 0 else float(binomtest(n01, n01 + n10, 0.5).pvalue)
    return McNemar(n01, n10, min(1.0, p), len(a))


def percentiles_ms(latencies: Sequence[float]) -> dict[str, float | None]:
    """``{"p50": ms, "p95": ms, "mean": ms}`` of per-query latencies (``None`` without data)."""
    vals = np.asarray([v for v in latencies if v is not None and np.isfinite(v)], dtype=float)
    if not len(vals):
        return {"p50": None, "p95": None, "mean": None}
    p50, p95 = np.percentile(vals, [50, 95])
    return {"p50": float(p50), "p95": float(p95), "mean": float(vals.mean())}


def per_class_f1(y_true: Sequence, y_pred: Sequence) -> list[dict]:
    """Precision, recall, F1 and support of every category present in ``y_true``.

    Returns:
        ``[{"label", "precision", "recall", "f1", "support"}]`` sorted by F1 then label
        (computed with ``sklearn.metrics.precision_recall_fscore_support``, ``zero_division=0``).
    """
    from sklearn.metrics import precision_recall_fscore_support

    labels = sorted(set(y_true))
    pred = [p if p is not None else INVALID for p in y_pred]
    pr, rc, f1, sup = precision_recall_fscore_support(list(y_true), pred, labels=labels, zero_division=0)
    rows = [{"label": lab, "precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
            for lab, p, r, f, s in zip(labels, pr, rc, f1, sup)]
    return sorted(rows, key=lambda d: (d["f1"], d["label"]))


def confused_pairs(y_true: Sequence, y_pred: Sequence, top: int = 5) -> list[dict]:
    """The most frequent mistakes: ``[{"true", "predicted", "count"}]``, most frequent first.

    An invalid output is reported as predicted ``"<invalid>"``.
    """
    from collections import Counter

    counts = Counter((t, p if p is not None else INVALID) for t, p in zip(y_true, y_pred) if t != p)
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return [{"true": t, "predicted": p, "count": int(c)} for (t, p), c in ranked[:top]]


def rows_for_half_width(p: float, half_width: float) -> int:
    """Test rows needed for a 95% CI of about ``±half_width`` around an accuracy ``p``.

    Normal approximation: ``n = 1.96² · p(1 − p) / half_width²`` (rounded up).
    Used to say how many rows would settle an undecided comparison.
    """
    p = min(max(float(p), 0.01), 0.99)
    hw = max(float(half_width), 1e-3)
    return int(np.ceil(1.96 ** 2 * p * (1 - p) / hw ** 2))
