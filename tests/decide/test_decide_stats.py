"""core.decide.stats checked against independent computations (scikit-learn, NumPy, hand-made McNemar)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support

from core.decide import stats


def _data(n=240, k=6, seed=3, err=0.3):
    rng = np.random.default_rng(seed)
    labels = [f"c{i}" for i in range(k)]
    y = [labels[i] for i in rng.integers(0, k, n)]
    p = [lab if rng.random() > err else labels[rng.integers(0, k)] for lab in y]
    return y, p


def test_point_metrics_match_sklearn():
    y, p = _data()
    p[3] = None  # an invalid output: wrong, and not a category of its own
    p_sk = [x if x is not None else "<invalid>" for x in p]
    assert stats.accuracy(y, p) == pytest.approx(accuracy_score(y, p_sk))
    classes = sorted(set(y))
    assert stats.macro_f1(y, p) == pytest.approx(f1_score(y, p_sk, labels=classes, average="macro", zero_division=0))


def test_macro_f1_on_each_resample_matches_sklearn():
    y, p = _data(n=60, k=8, err=0.4)
    idx = stats.resample_indices(len(y), B=25, seed=7)
    t, pp, c = stats._encode(y, p)
    fast = stats._macro_f1_rows(t, pp, c, idx)
    for b in range(idx.shape[0]):
        yy = [y[i] for i in idx[b]]
        ps = [p[i] for i in idx[b]]
        want = f1_score(yy, ps, labels=sorted(set(yy)), average="macro", zero_division=0)
        assert fast[b] == pytest.approx(want), b


def test_bootstrap_accuracy_is_the_percentile_interval_of_the_resamples():
    y, p = _data(n=150)
    est = stats.bootstrap_accuracy(y, p, B=500, seed=1)
    ok = np.array([a == b for a, b in zip(y, p)], dtype=float)
    idx = stats.resample_indices(len(y), B=500, seed=1)
    means = ok[idx].mean(axis=1)
    assert est.value == pytest.approx(ok.mean())
    assert est.low == pytest.approx(np.percentile(means, 2.5))
    assert est.high == pytest.approx(np.percentile(means, 97.5))
    assert est.low < est.value < est.high and est.n == 150
    # same seed, same interval; another seed, a slightly different one
    assert stats.bootstrap_accuracy(y, p, B=500, seed=1) == est
    assert stats.bootstrap_accuracy(y, p, B=500, seed=2) != est


def test_bootstrap_width_shrinks_with_n():
    y, p = _data(n=100, seed=5)
    y4, p4 = y * 4, p * 4
    w1 = stats.bootstrap_accuracy(y, p, B=800).high - stats.bootstrap_accuracy(y, p, B=800).low
    w4 = stats.bootstrap_accuracy(y4, p4, B=800).high - stats.bootstrap_accuracy(y4, p4, B=800).low
    assert w4 < 0.65 * w1  # about half (1/sqrt(4))


def test_bootstrap_macro_f1_interval_contains_point_and_is_reproducible():
    y, p = _data(n=200, k=5)
    est = stats.bootstrap_macro_f1(y, p, B=400, seed=0)
    assert est.low <= est.value <= est.high
    assert est.value == pytest.approx(f1_score(y, p, labels=sorted(set(y)), average="macro", zero_division=0))
    assert stats.bootstrap_macro_f1(y, p, B=400, seed=0) == est


def test_paired_difference_uses_the_same_resamples_for_both_arms():
    y, pa = _data(n=120, seed=11, err=0.2)
    _, pb = _data(n=120, seed=12, err=0.5)
    d = stats.paired_difference(y, pa, pb, B=300, seed=4)
    a = np.array([u == v for u, v in zip(y, pa)], dtype=float)
    b = np.array([u == v for u, v in zip(y, pb)], dtype=float)
    idx = stats.resample_indices(len(y), B=300, seed=4)
    diffs = a[idx].mean(axis=1) - b[idx].mean(axis=1)
    assert d.value == pytest.approx(a.mean() - b.mean())
    assert (d.low, d.high) == pytest.approx(tuple(np.percentile(diffs, [2.5, 97.5])))
    assert d.low > 0  # arm A (20% noise) is clearly better than B (50% noise)
    same = stats.paired_difference(y, pa, pa, B=300)
    assert (same.value, same.low, same.high) == (0.0, 0.0, 0.0)
    f1d = stats.paired_difference(y, pa, pb, metric="macro_f1", B=300, seed=4)
    assert f1d.value == pytest.approx(stats.macro_f1(y, pa) - stats.macro_f1(y, pb))


def _mcnemar_by_hand(b: int, c: int) -> float:
    n = b + c
    k = min(b, c)
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2 ** n
    return min(1.0, 2 * tail)


@pytest.mark.parametrize("b,c", [(10, 2), (3, 3), (0, 7), (25, 14), (1, 0)])
def test_mcnemar_exact_matches_a_hand_computed_binomial_tail(b, c):
    # build rows: b where A right/B wrong, c the reverse, plus 20 both right and 5 both wrong
    y = ["x"] * (b + c + 25)
    pa = ["x"] * b + ["z"] * c + ["x"] * 20 + ["z"] * 5
    pb = ["z"] * b + ["x"] * c + ["x"] * 20 + ["z"] * 5
    m = stats.mcnemar_exact(y, pa, pb)
    assert (m.b, m.c, m.n) == (b, c, len(y))
    assert m.p_value == pytest.approx(_mcnemar_by_hand(b, c))


def test_mcnemar_without_discordant_pairs_is_one():
    assert stats.mcnemar_exact(["a", "b"], ["a", "c"], ["a", "c"]).p_value == 1.0


def test_latency_percentiles_match_numpy():
    lat = [5.0, 1.0, 3.0, 100.0, 7.5, None, 2.0]
    got = stats.percentiles_ms(lat)
    vals = [5.0, 1.0, 3.0, 100.0, 7.5, 2.0]
    assert got["p50"] == pytest.approx(np.percentile(vals, 50))
    assert got["p95"] == pytest.approx(np.percentile(vals, 95))
    assert stats.percentiles_ms([]) == {"p50": None, "p95": None, "mean": None}


def test_per_class_f1_and_confusions_match_sklearn():
    y, p = _data(n=300, k=4, err=0.35)
    rows = {r["label"]: r for r in stats.per_class_f1(y, p)}
    labels = sorted(set(y))
    pr, rc, f1, sup = precision_recall_fscore_support(y, p, labels=labels, zero_division=0)
    for i, lab in enumerate(labels):
        assert rows[lab]["f1"] == pytest.approx(f1[i]) and rows[lab]["support"] == sup[i]
    cm = confusion_matrix(y, p, labels=labels)
    pairs = stats.confused_pairs(y, p, top=3)
    off = sorted(((cm[i, j], labels[i], labels[j]) for i in range(4) for j in range(4) if i != j), reverse=True)
    assert [pr_["count"] for pr_ in pairs] == [c for c, _, _ in off[:3]]
    assert all(cm[labels.index(q["true"]), labels.index(q["predicted"])] == q["count"] for q in pairs)


def test_rows_for_half_width():
    # 1.96^2 * 0.5 * 0.5 / 0.05^2 = 384.16 -> 385
    assert stats.rows_for_half_width(0.5, 0.05) == 385
    assert stats.rows_for_half_width(0.9, 0.02) > stats.rows_for_half_width(0.9, 0.04)


def test_estimate_sentence_and_overlap():
    a = stats.Estimate(0.873, 0.83, 0.91, 300)
    assert a.pct() == "87.3% (95% CI 83.0–91.0%, n=300)"
    assert a.overlaps(stats.Estimate(0.8, 0.75, 0.84, 300))
    assert not a.overlaps(stats.Estimate(0.6, 0.55, 0.65, 300))
