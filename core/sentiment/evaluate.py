"""Compare predicted sentiment labels with a column of reference labels.

Reference labels are mapped to Comprehend's four labels case-insensitively
(:data:`LABEL_ALIASES`): ``positive/pos/p/1/ポジティブ`` -> POSITIVE,
``negative/neg/n/-1/ネガティブ`` -> NEGATIVE, ``neutral/neu/0/none/ニュートラル`` -> NEUTRAL
(``none``, chABSA's "no opinion", counts as NEUTRAL), ``mixed`` -> MIXED.
Metrics are scikit-learn's ``accuracy_score``, ``f1_score(average="macro")`` and
``confusion_matrix``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import pandas as pd

from core.errors import DataError
from core.sentiment.base import LABELS
from core.text.columns import suggest_text_column, text_columns

LABEL_ALIASES: dict[str, str] = {
    **{k: "POSITIVE" for k in ("positive", "pos", "p", "1", "+1", "ポジティブ", "肯定", "positiv")},
    **{k: "NEGATIVE" for k in ("negative", "neg", "n", "-1", "ネガティブ", "否定", "negativ")},
    **{k: "NEUTRAL" for k in ("neutral", "neu", "0", "none", "ニュートラル", "中立")},
    **{k: "MIXED" for k in ("mixed", "mix", "混合")},
}


def normalize_labels(values: Sequence) -> list[str | None]:
    """Map reference labels to POSITIVE/NEGATIVE/NEUTRAL/MIXED (missing stays ``None``).

    Args:
        values: the label column.

    Returns:
        A list of the same length.

    Raises:
        DataError: a value cannot be mapped (the message lists up to 5 of them).
    """
    out, unknown = [], []
    for v in values:
        if v is None or (isinstance(v, float) and v != v):
            out.append(None)
            continue
        key = str(v).strip()
        if isinstance(v, float) and v.is_integer():
            key = str(int(v))
        label = LABEL_ALIASES.get(key.lower())
        if label is None:
            unknown.append(key)
        out.append(label)
    if unknown:
        sample = ", ".join(repr(u) for u in list(dict.fromkeys(unknown))[:5])
        raise DataError(f"the label column has values that are not sentiments: {sample}. Use positive, negative, "
                        "neutral (or none) and mixed, or pick another column.")
    return out


@dataclass
class Evaluation:
    """Agreement of predictions with reference labels.

    Attributes:
        n: rows compared (both a prediction and a reference label).
        accuracy: share of exact matches, in [0, 1].
        macro_f1: unweighted mean of the per-label F1 over the labels present in either.
        confusion: DataFrame, rows = reference label, columns = predicted label (counts).
        per_label: DataFrame with precision, recall, F1 and support per label.
    """

    n: int
    accuracy: float
    macro_f1: float
    confusion: pd.DataFrame
    per_label: pd.DataFrame

    @property
    def accuracy_ci(self) -> tuple[float, float]:
        """95% Wilson interval of :attr:`accuracy` over :attr:`n` rows (``scipy.stats.binomtest``)."""
        return wilson_interval(int(round(self.accuracy * self.n)), self.n)

    def to_dict(self) -> dict:
        """JSON-ready dict."""
        return {"n": self.n, "accuracy": self.accuracy, "accuracy_ci95": list(self.accuracy_ci),
                "macro_f1": self.macro_f1,
                "confusion": {"labels": list(self.confusion.index), "matrix": self.confusion.values.tolist()},
                "per_label": self.per_label.reset_index().to_dict(orient="records")}


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a proportion ``successes / n`` (``(nan, nan)`` when ``n`` is 0)."""
    if n <= 0:
        return float("nan"), float("nan")
    from scipy.stats import binomtest

    ci = binomtest(int(successes), int(n)).proportion_ci(confidence, method="wilson")
    return float(ci.low), float(ci.high)


def evaluate(reference: Sequence, predicted: Sequence[str | None]) -> Evaluation:
    """Accuracy, macro F1 and confusion matrix of ``predicted`` against ``reference``.

    Args:
        reference: raw reference labels (mapped with :func:`normalize_labels`).
        predicted: predicted labels (``None`` for rows that failed; they are skipped).

    Returns:
        An :class:`Evaluation`.

    Raises:
        DataError: lengths differ, unmappable labels, or no row to compare.
    """
    from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support

    if len(reference) != len(predicted):
        raise DataError(f"{len(reference)} reference labels for {len(predicted)} predictions.")
    ref = normalize_labels(list(reference))
    pairs = [(r, p) for r, p in zip(ref, predicted) if r is not None and p is not None]
    if not pairs:
        raise DataError("no row has both a reference label and a prediction: check the label column.")
    y_true, y_pred = zip(*pairs)
    labels = [lab for lab in LABELS if lab in set(y_true) | set(y_pred)]
    cm = confusion_matrix(y_true, y_pred, labels=labels)
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    return Evaluation(
        n=len(pairs), accuracy=float(accuracy_score(y_true, y_pred)),
        macro_f1=float(f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0)),
        confusion=pd.DataFrame(cm, index=pd.Index(labels, name="reference"), columns=pd.Index(labels, name="predicted")),
        per_label=pd.DataFrame({"precision": p, "recall": r, "f1": f, "support": s}, index=pd.Index(labels, name="label")),
    )


# ----------------------------------------------------------------------------- columns of a table
def label_columns(frame: pd.DataFrame, *, exclude: Sequence = (), sample_rows: int = 500) -> list:
    """Columns whose first ``sample_rows`` non-missing values are all sentiment labels (:func:`normalize_labels`)."""
    out = []
    for c in frame.columns:
        if c in exclude:
            continue
        try:
            normalize_labels(frame[c].dropna().head(sample_rows).tolist())
        except DataError:
            continue
        out.append(c)
    return out


@dataclass
class ColumnGuess:
    """The columns a sentiment batch would use by default.

    Attributes:
        text_columns: every text column (the choices for the text).
        text: :func:`core.text.columns.suggest_text_column` (a column named like ``text``, else the
            longest texts), or ``None`` when there is no text column.
        label: the first other column whose values are all sentiment labels, or ``None``.
    """

    text_columns: list
    text: object | None
    label: object | None


def guess_columns(frame: pd.DataFrame) -> ColumnGuess:
    """Which column holds the texts and which the reference labels, for the page's defaults.

    Args:
        frame: the loaded table.

    Returns:
        :class:`ColumnGuess`; ``text`` is ``None`` when no column holds text.
    """
    texts = text_columns(frame)
    if not texts:
        return ColumnGuess([], None, None)
    text = suggest_text_column(frame)
    labels = label_columns(frame, exclude=(text,))
    return ColumnGuess(texts, text, labels[0] if labels else None)


@dataclass
class Agreement:
    """How often two backends gave the same label on the same rows.

    Attributes:
        n: rows both analysed (both labels present).
        n_agree: rows among them with the same label.
        disagree: positions (0-based) of the rows both analysed with different labels.
    """

    n: int
    n_agree: int
    disagree: list[int]

    @property
    def rate(self) -> float:
        """``n_agree / n`` in [0, 1] (0 when ``n`` is 0)."""
        return self.n_agree / self.n if self.n else 0.0

    @property
    def ci(self) -> tuple[float, float]:
        """95% Wilson interval of :attr:`rate`."""
        return wilson_interval(self.n_agree, self.n)


def agreement(first: Sequence[str | None], second: Sequence[str | None]) -> Agreement:
    """Agreement of two label sequences of the same rows (``None``/NaN: a row that failed, skipped).

    Raises:
        DataError: the lengths differ.
    """
    if len(first) != len(second):
        raise DataError(f"{len(first)} labels against {len(second)}: the two runs must cover the same rows.")

    def present(v) -> bool:
        return v is not None and not (isinstance(v, float) and v != v)

    both = [i for i, (a, b) in enumerate(zip(first, second)) if present(a) and present(b)]
    disagree = [i for i in both if first[i] != second[i]]
    return Agreement(len(both), len(both) - len(disagree), disagree)
