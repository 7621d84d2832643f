"""The classifier's learning curve: test accuracy when trained on 10%, 25%, 50% and 100% of the training rows.

PMs ask how much labelled data they need. Each point trains a fresh
:class:`~core.arena.classifier.IntentClassifier` (same settings) on a
stratified subset of the training split (:func:`core.arena.classifier.stratified_subsample`:
each category keeps its share, and at least 2 rows) and scores it on the same
test rows as every arm, with a bootstrap 95% CI. The 100% point is the
bake-off's own classifier. Subsets are seeded, so a rerun gives the same curve.
"""

from __future__ import annotations

import time
from typing import Callable

from .stats import bootstrap_accuracy, macro_f1


def learning_curve(plan, *, stop=None, progress: Callable[[str], None] | None = None) -> list[dict]:
    """Accuracy of the classifier at each training fraction of ``plan.config.learning_curve``.

    Args:
        plan: a :class:`core.decide.plan.BakeoffPlan` (its fitted classifier is the 100% point).
        stop: checked between fits (``threading.Event`` or callable); points not fitted are left out.
        progress: called with one line of text before each fit.

    Returns:
        ``[{"fraction", "n_train", "accuracy": Estimate dict, "macro_f1", "fit_seconds"}]``
        by increasing fraction.
    """
    from core.arena.classifier import IntentClassifier, stratified_subsample

    from .run import _stopped

    data, cfg = plan.data, plan.config
    y = data.test_labels
    points = []
    for frac in cfg.learning_curve:
        if frac >= 1.0:
            pred = [plan.classes[i] for i in plan.proba.argmax(axis=1)]
            n_train, secs = data.n_train, plan.fit_seconds
        else:
            if _stopped(stop):
                continue
            limit = max(1, round(frac * data.n_train))
            texts, labels = stratified_subsample(data.train_texts, data.train_labels, limit,
                                                 random_state=cfg.seed)
            if progress:
                progress(f"Learning curve: training on {len(texts)} rows ({frac:.0%})...")
            clf = IntentClassifier(random_state=cfg.seed)
            t0 = time.perf_counter()
            clf.fit(texts, labels)
            secs = time.perf_counter() - t0
            pred = clf.predict(data.test_texts)
            n_train = len(texts)
        acc = bootstrap_accuracy(y, pred, B=cfg.bootstrap, seed=cfg.seed)
        points.append({"fraction": float(frac), "n_train": int(n_train), "accuracy": acc.to_dict(),
                       "macro_f1": macro_f1(y, pred), "fit_seconds": float(secs)})
    return points
