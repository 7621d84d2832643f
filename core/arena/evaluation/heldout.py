"""Held-out rows for the Arena's evaluation: rows the classifier never trained on.

:func:`holdout_split` keeps a stratified share of the training table aside;
:func:`drop_training_overlap` checks a second file against the training texts;
:func:`sample_rows` draws ``n`` of them; :func:`held_out_rows` does all of it and
says where the rows come from (:class:`HeldOut`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from core.errors import ConfigError


def holdout_split(texts: Sequence[str], labels: Sequence[str], *, test_size: float = 0.2,
                  random_state: int = 0) -> tuple[list[str], list[str], list[str], list[str]]:
    """Stratified train/test split (scikit-learn's ``train_test_split``).

    Categories with a single row stay in the training part (they cannot be split).

    Args:
        texts / labels: the labelled table (same length).
        test_size: share of rows held out, in (0, 1).
        random_state: seed.

    Returns:
        ``(train_texts, train_labels, test_texts, test_labels)``.

    Raises:
        ConfigError: bad ``test_size``, lengths differ, or fewer than 2 categories can be split.
    """
    from sklearn.model_selection import train_test_split

    texts, labels = [str(t) for t in texts], [str(lab) for lab in labels]
    if len(texts) != len(labels):
        raise ConfigError(f"{len(texts)} texts but {len(labels)} labels: they must pair up.")
    if not 0.0 < float(test_size) < 1.0:
        raise ConfigError(f"the held-out share must be between 0 and 1, got {test_size}.")
    counts = pd.Series(labels).value_counts()
    single = set(counts[counts < 2].index)
    idx = [i for i, lab in enumerate(labels) if lab not in single]
    if len({labels[i] for i in idx}) < 2:
        raise ConfigError("a held-out split needs at least two categories with two or more rows each.")
    tr, te = train_test_split(idx, test_size=float(test_size), random_state=random_state,
                              stratify=[labels[i] for i in idx])
    tr = sorted(tr + [i for i, lab in enumerate(labels) if lab in single])
    te = sorted(te)
    return ([texts[i] for i in tr], [labels[i] for i in tr], [texts[i] for i in te], [labels[i] for i in te])


def _key(text: str) -> str:
    import unicodedata

    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", str(text)).lower()).strip()


def drop_training_overlap(texts: Sequence[str], labels: Sequence[str],
                          train_texts: Iterable[str]) -> tuple[list[str], list[str], int]:
    """Remove test rows whose text is also a training text (NFKC, case and spacing ignored).

    Returns:
        ``(texts, labels, n_removed)``.
    """
    seen = {_key(t) for t in train_texts}
    keep = [(t, lab) for t, lab in zip(texts, labels) if _key(t) not in seen]
    return [t for t, _ in keep], [lab for _, lab in keep], len(texts) - len(keep)


def sample_rows(texts: Sequence[str], labels: Sequence[str], n: int, *,
                random_state: int = 0) -> tuple[list[str], list[str]]:
    """A seeded random sample of ``n`` labelled rows (all of them when ``n >= len``), order kept."""
    n = int(n)
    if n >= len(texts):
        return list(texts), list(labels)
    rng = np.random.default_rng(random_state)
    idx = sorted(rng.choice(len(texts), size=n, replace=False).tolist())
    return [texts[i] for i in idx], [labels[i] for i in idx]


@dataclass
class HeldOut:
    """Training rows for the classifier and held-out rows to evaluate on (never the same rows).

    Attributes:
        train_texts / train_labels: what the classifier is trained on.
        texts / labels: the evaluation rows (a sample of the held-out part).
        source: where the evaluation rows come from, in words.
        notes: what was done (rows removed because they are also training rows...).
    """

    train_texts: list[str]
    train_labels: list[str]
    texts: list[str]
    labels: list[str]
    source: str
    notes: list[str] = field(default_factory=list)


def held_out_rows(texts: Sequence[str], labels: Sequence[str], *, n: int = 30,
                  test: tuple[Sequence[str], Sequence[str]] | None = None, test_name: str = "the second file",
                  holdout: float = 0.2, random_state: int = 0) -> HeldOut:
    """Choose the rows of a batch evaluation.

    With ``test`` (a second labelled file), the classifier trains on all of ``texts`` and the
    evaluation rows are a sample of ``test`` without any text that is also a training text.
    Without it, a stratified ``holdout`` share of ``texts`` is held out
    (:func:`holdout_split`), the classifier trains on the rest, and the evaluation rows are a
    sample of the held-out part. Samples are seeded (:func:`sample_rows`).

    Args:
        texts / labels: the labelled table.
        n: evaluation rows wanted (``>= 1``).
        test: ``(texts, labels)`` of a second labelled file, or ``None``.
        test_name: its name, for ``source``.
        holdout: share held out when there is no ``test``.
        random_state: seed of the split and the sample.

    Returns:
        :class:`HeldOut`.

    Raises:
        ConfigError: ``n < 1``, or no held-out row is left.
    """
    if int(n) < 1:
        raise ConfigError(f"the number of queries must be at least 1, got {n}.")
    notes: list[str] = []
    if test is not None:
        tr_t, tr_l = [str(t) for t in texts], [str(lab) for lab in labels]
        te_t, te_l, removed = drop_training_overlap(list(test[0]), list(test[1]), tr_t)
        if removed:
            notes.append(f"{removed} row(s) of {test_name} are also training texts and were left out.")
        unknown = sorted(set(te_l) - set(tr_l))
        if unknown:
            notes.append(f"{len(unknown)} label(s) of {test_name} are not in the training data, so the classifier "
                         f"can never predict them: {', '.join(unknown[:5])}{' ...' if len(unknown) > 5 else ''}.")
        source = f"{test_name} (classifier trained on all {len(tr_t):,} training rows)"
    else:
        tr_t, tr_l, te_t, te_l = holdout_split(texts, labels, test_size=holdout, random_state=random_state)
        source = (f"a stratified {holdout:.0%} hold-out of the training table ({len(te_t):,} rows; the classifier "
                  f"is trained on the other {len(tr_t):,})")
    if not te_t:
        raise ConfigError("no held-out row is left to evaluate: use a larger file or a larger held-out share.")
    q, lab = sample_rows(te_t, te_l, int(n), random_state=random_state)
    if len(q) < int(n):
        notes.append(f"{int(n)} queries asked for, {len(q)} held-out rows available.")
    return HeldOut(tr_t, tr_l, q, lab, source, notes)
