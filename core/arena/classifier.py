"""Intent classifier for customer-support queries, in English and Japanese.

This is the "classic ML" half of the DPR201 design (the workshop used SageMaker
Linear Learner, multiclass): a linear model that finds a query's category so the
category, its probability and the alternatives can go into the LLM prompt.

A scikit-learn :class:`~sklearn.pipeline.Pipeline`::

    FeatureUnion(
        word = TfidfVectorizer(analyzer=MixedScriptTokenizer("janome", (1, 1)), sublinear_tf=True),
        char = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), sublinear_tf=True),
    ) -> LogisticRegression(C=10, class_weight="balanced", max_iter=2000)

Text is NFKC-normalised and lower-cased first (full-width ``？`` and ``１２``
become ``?`` and ``12``, half-width katakana become full-width). The word tokens
come from :mod:`core.arena.tokenizers` (the feature set was chosen with
``benchmarks/ja_tokenizer.py``; its figures are in ``benchmarks/NOTES.md`` and the
README); reading labelled tables is :mod:`core.arena.queries`.

An :class:`IntentClassifier` is a plain object that can be pickled by *our own*
code (for example ``st.cache_resource`` or the Decide page). Never unpickle a
file a user uploaded: pickle runs code.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_validate as sk_cross_validate
from sklearn.pipeline import FeatureUnion, Pipeline
from threadpoolctl import threadpool_limits

from core.errors import DataError

# Tokenizers and table reading live in their own modules; imported here so that
# ``from core.arena.classifier import ...`` keeps working for every caller.
from .queries import LabelledQueries, load_labelled_queries, sample_queries_path
from .tokenizers import (DEFAULT_JAPANESE_TOKENIZER, JAPANESE_TOKENIZERS, MixedScriptTokenizer, contains_japanese,
                         normalize_text)

__all__ = ["IntentClassifier", "stratified_subsample", "LabelledQueries", "load_labelled_queries",
           "sample_queries_path", "JAPANESE_TOKENIZERS", "DEFAULT_JAPANESE_TOKENIZER", "MixedScriptTokenizer",
           "normalize_text", "contains_japanese"]


def _check_texts(texts: Any, what: str = "texts") -> list[str]:
    if isinstance(texts, str):
        raise DataError(f"{what} must be a list of strings, not a single string; wrap it in a list.")
    try:
        items = list(texts)
    except TypeError:
        raise DataError(f"{what} must be a list of strings, got {type(texts).__name__}.") from None
    out = []
    for i, t in enumerate(items):
        if t is None or (isinstance(t, float) and math.isnan(t)):
            raise DataError(f"{what}[{i}] is missing (empty cell); remove that row or fill it in.")
        if not isinstance(t, str):
            t = str(t)
        if not t.strip():
            raise DataError(f"{what}[{i}] is blank; every query needs some text.")
        out.append(t)
    return out


class _SingleQueryScorer:
    """The fitted pipeline's ``predict_proba`` for one text, without the per-call machinery.

    ``Pipeline.predict_proba([text])`` spends about 6 ms on a single query in threadpool set-up,
    ``FeatureUnion``'s joblib dispatch and input validation, for 0.08 ms of arithmetic. This does
    the same arithmetic directly from the fitted parts: each ``TfidfVectorizer``'s own analyzer,
    vocabulary and ``idf_`` (sublinear tf ``1 + ln(count)``, then l2 norm per vectorizer, as
    ``TfidfTransformer`` does), then the ``LogisticRegression``'s ``coef_``/``intercept_`` and its
    softmax (or logistic for two classes). ``tests/arena/test_arena_classifier.py`` checks it against
    ``Pipeline.predict_proba`` on every sample query.
    """

    def __init__(self, pipeline: Pipeline):
        union = pipeline.named_steps["features"]
        model = pipeline.named_steps["model"]
        self.parts = []
        offset = 0
        for _, vec in union.transformer_list:
            if not (vec.use_idf and vec.sublinear_tf and vec.norm == "l2" and not vec.binary):
                raise ValueError("the single-query path supports sublinear, l2-normed TF-IDF only")
            n = len(vec.vocabulary_)
            self.parts.append((vec.build_analyzer(), vec.vocabulary_, np.asarray(vec.idf_, dtype=float), offset))
            offset += n
        self.coef = np.asarray(model.coef_, dtype=float)
        self.intercept = np.asarray(model.intercept_, dtype=float)

    def proba(self, text: str) -> np.ndarray:
        """Class probabilities ``(n_classes,)`` of one text, in ``classes_`` order."""
        cols: list[int] = []
        vals: list[float] = []
        for analyze, vocab, idf, offset in self.parts:
            counts: dict[int, int] = {}
            for tok in analyze(text):
                j = vocab.get(tok)
                if j is not None:
                    counts[j] = counts.get(j, 0) + 1
            if not counts:
                continue
            idx = np.fromiter(counts.keys(), dtype=np.intp, count=len(counts))
            w = (1.0 + np.log(np.fromiter(counts.values(), dtype=float, count=len(counts)))) * idf[idx]
            w /= np.sqrt(np.dot(w, w))
            cols.extend((idx + offset).tolist())
            vals.extend(w.tolist())
        d = self.intercept + (self.coef[:, cols] @ np.asarray(vals) if cols else 0.0)
        if d.shape[0] == 1:  # binary: logistic of the single decision value
            p1 = 1.0 / (1.0 + np.exp(-d[0]))
            return np.array([1.0 - p1, p1])
        d = d - d.max()
        e = np.exp(d)
        return e / e.sum()


class IntentClassifier:
    """TF-IDF (word + character n-grams) -> logistic regression intent classifier.

    Args:
        japanese_tokenizer: ``"janome"`` (default, measured best), ``"fugashi"``,
            ``"sudachi"`` (their words are added to the word features) or ``None``
            (Japanese handled by character n-grams only).
        char_ngram_range: character n-gram sizes, ``(1, 3)`` by default.
        word_ngram_range: word n-gram sizes, ``(1, 1)`` by default.
        C: inverse regularisation strength of the logistic regression.
        class_weight: ``"balanced"`` (default: rare intents are not drowned) or ``None``.
        max_iter: solver iterations.
        random_state: seed for the cross-validation shuffles.
        n_threads: OpenMP/BLAS threads used while fitting and predicting; ``"setting"``
            (default) = ``CROSSROADS_CLASSIFIER_THREADS`` (1 unless set: on these small sparse
            problems extra threads only add contention); ``None`` leaves the libraries' default.

    Attributes:
        pipeline: the scikit-learn ``Pipeline`` (``features`` -> ``model``), fitted by :meth:`fit`.
        classes_: the labels, sorted, as a list of ``str`` (after :meth:`fit`).
        n_train_: number of training examples.
    """

    def __init__(
        self,
        *,
        japanese_tokenizer: str | None = DEFAULT_JAPANESE_TOKENIZER,
        char_ngram_range: tuple[int, int] = (1, 3),
        word_ngram_range: tuple[int, int] = (1, 1),
        C: float = 10.0,
        class_weight: str | None = "balanced",
        max_iter: int = 2000,
        random_state: int = 0,
        n_threads: int | None | str = "setting",
    ):
        if japanese_tokenizer is not None and japanese_tokenizer not in JAPANESE_TOKENIZERS:
            raise DataError(
                f"unknown Japanese tokenizer {japanese_tokenizer!r}; choose one of "
                f"{sorted(JAPANESE_TOKENIZERS)} or None."
            )
        self.japanese_tokenizer = japanese_tokenizer
        self.char_ngram_range = tuple(char_ngram_range)
        self.word_ngram_range = tuple(word_ngram_range)
        self.C = float(C)
        self.class_weight = class_weight
        self.max_iter = int(max_iter)
        self.random_state = int(random_state)
        self.n_threads = n_threads
        self.pipeline: Pipeline | None = None
        self.n_train_ = 0
        self._single: _SingleQueryScorer | bool | None = None  # False: this pipeline needs the general path
        self._classes: list[str] | None = None

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["_single"] = None  # rebuilt on the next single query
        return state

    def __setstate__(self, state: dict) -> None:
        state.setdefault("_single", None)
        state.setdefault("_classes", None)
        self.__dict__.update(state)

    def _thread_limit(self) -> int | None:
        """Threads for ``threadpool_limits``: :attr:`n_threads`, or the setting (0 there = no limit)."""
        if self.n_threads != "setting":
            return self.n_threads
        from core.settings import settings

        return settings.classifier_threads or None

    # ------------------------------------------------------------------ build
    def build_pipeline(self) -> Pipeline:
        """Return a new, unfitted scikit-learn ``Pipeline`` with this object's settings."""
        word = TfidfVectorizer(
            analyzer=MixedScriptTokenizer(self.japanese_tokenizer, self.word_ngram_range),
            sublinear_tf=True, min_df=1,
        )
        char = TfidfVectorizer(
            analyzer="char_wb", ngram_range=self.char_ngram_range, preprocessor=normalize_text,
            sublinear_tf=True, min_df=1,
        )
        model = LogisticRegression(C=self.C, class_weight=self.class_weight, max_iter=self.max_iter)
        return Pipeline([("features", FeatureUnion([("word", word), ("char", char)])), ("model", model)])

    @staticmethod
    def _check_labelled(texts: Any, labels: Any) -> tuple[list[str], list[str]]:
        x = _check_texts(texts)
        y = _check_texts(labels, "labels")
        if len(x) != len(y):
            raise DataError(f"got {len(x)} texts but {len(y)} labels; they must pair up one to one.")
        if not x:
            raise DataError("no training examples; give at least two labelled queries per category.")
        counts = pd.Series(y).value_counts()
        if len(counts) < 2:
            raise DataError(
                f"every example has the same label ({counts.index[0]!r}); a classifier needs at least two "
                "categories. Check the label column."
            )
        single = sorted(counts[counts < 2].index)
        if single:
            shown = ", ".join(repr(c) for c in single[:10]) + (" ..." if len(single) > 10 else "")
            raise DataError(
                f"{len(single)} categor{'y has' if len(single) == 1 else 'ies have'} only one example "
                f"({shown}); add examples or remove those rows (at least 2 per category)."
            )
        return x, y

    # ---------------------------------------------------------------- fitting
    def fit(self, texts: Sequence[str], labels: Sequence[str]) -> "IntentClassifier":
        """Train on labelled queries.

        Args:
            texts: ``n`` query strings (any language mix of English and Japanese).
            labels: ``n`` category labels (converted to ``str``).

        Returns:
            ``self``, fitted.

        Raises:
            DataError: lengths differ, a text or label is missing/blank, fewer
                than two categories, or a category with a single example.
        """
        x, y = self._check_labelled(texts, labels)
        pipe = self.build_pipeline()
        with threadpool_limits(self._thread_limit()):
            pipe.fit(x, y)
        self.pipeline = pipe
        self.n_train_ = len(x)
        self._single, self._classes = None, None
        return self

    @property
    def classes_(self) -> list[str]:
        """Sorted category labels (``list[str]``); raises :class:`DataError` before :meth:`fit`."""
        pipe = self._fitted()
        if self._classes is None:
            self._classes = [str(c) for c in pipe.classes_]
        return list(self._classes)

    def _fitted(self) -> Pipeline:
        if self.pipeline is None:
            raise DataError("the classifier is not trained yet; call fit(texts, labels) first.")
        return self.pipeline

    # ------------------------------------------------------------- prediction
    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Class probabilities.

        Args:
            texts: ``n`` query strings.

        Returns:
            ``float`` array of shape ``(n, len(classes_))``; each row sums to 1
            (probabilities, not log-odds); columns follow :attr:`classes_`.

        Raises:
            DataError: not fitted, or a text is missing/blank.
        """
        pipe = self._fitted()
        x = _check_texts(texts)
        with threadpool_limits(self._thread_limit()):
            return pipe.predict_proba(x)

    def predict(self, texts: Sequence[str]) -> list[str]:
        """Most probable category of each text: a ``list[str]`` of length ``n``."""
        proba = self.predict_proba(texts)
        classes = self.classes_
        return [classes[i] for i in proba.argmax(axis=1)]

    def predict_top_k(self, text: str, k: int = 3) -> list[tuple[str, float]]:
        """The ``k`` most probable categories of one query.

        Args:
            text: one query string.
            k: how many to return (capped at the number of classes; ``k >= 1``).

        Returns:
            ``[(label, probability), ...]`` sorted by decreasing probability;
            probabilities are in [0, 1] and sum to at most 1 (the same values as
            :meth:`predict_proba`, computed by a single-query path that skips the
            pipeline's per-call overhead; see ``benchmarks/tabular_compare.py`` for its latency).

        Raises:
            DataError: not fitted, blank text, or ``k < 1``.
        """
        if not isinstance(text, str):
            raise DataError(f"the query must be a string, got {type(text).__name__}.")
        if int(k) < 1:
            raise DataError(f"k must be at least 1, got {k}.")
        pipe = self._fitted()
        (text,) = _check_texts([text])
        if self._single is None:
            try:
                self._single = _SingleQueryScorer(pipe)
            except (ValueError, KeyError, AttributeError):  # a pipeline of another shape: the general path
                self._single = False
        proba = self._single.proba(text) if self._single else self.predict_proba([text])[0]
        classes = self.classes_
        order = np.argsort(-proba, kind="stable")[: int(k)]
        return [(classes[i], float(proba[i])) for i in order]

    # -------------------------------------------------------- cross-validation
    def cross_validate(self, texts: Sequence[str], labels: Sequence[str], folds: int = 5) -> dict:
        """Stratified k-fold cross-validation of a fresh pipeline with these settings.

        The number of folds is lowered to the size of the smallest category
        when that is smaller than ``folds`` (stratification needs one example
        of every category per fold); ``folds_used`` says what was done.
        ``self`` is not fitted or changed.

        Args:
            texts: ``n`` query strings.
            labels: ``n`` labels.
            folds: requested number of folds (``>= 2``).

        Returns:
            ``dict`` with ``accuracy_mean``, ``accuracy_std``, ``macro_f1_mean``,
            ``macro_f1_std`` (fractions in [0, 1]), ``accuracy_folds`` and
            ``macro_f1_folds`` (lists of floats), ``folds_requested``,
            ``folds_used``, ``n_samples``, ``n_classes``, ``fit_seconds``
            (mean seconds per fold fit) and ``note`` (``str``, empty unless
            the folds were reduced).

        Raises:
            DataError: bad input as in :meth:`fit`, or ``folds < 2``.
            LimitError: ``folds`` above ``settings.max_folds`` (``CROSSROADS_MAX_FOLDS``).
        """
        if int(folds) < 2:
            raise DataError(f"cross-validation needs at least 2 folds, got {folds}.")
        from core.settings import settings

        if int(folds) > settings.max_folds:
            raise settings.limit_error("max_folds", f"{folds:,} cross-validation folds were asked")
        x, y = self._check_labelled(texts, labels)
        smallest = int(pd.Series(y).value_counts().min())
        used = min(int(folds), smallest)
        note = ""
        if used < int(folds):
            note = (f"{folds} folds requested but the smallest category has {smallest} examples, "
                    f"so {used} folds were used.")
        cv = StratifiedKFold(n_splits=used, shuffle=True, random_state=self.random_state)
        with threadpool_limits(self._thread_limit()):
            res = sk_cross_validate(self.build_pipeline(), x, y, cv=cv, scoring=("accuracy", "f1_macro"), n_jobs=1)
        acc = [float(v) for v in res["test_accuracy"]]
        f1 = [float(v) for v in res["test_f1_macro"]]
        return {
            "accuracy_mean": float(np.mean(acc)), "accuracy_std": float(np.std(acc)),
            "macro_f1_mean": float(np.mean(f1)), "macro_f1_std": float(np.std(f1)),
            "accuracy_folds": acc, "macro_f1_folds": f1,
            "folds_requested": int(folds), "folds_used": used,
            "n_samples": len(x), "n_classes": int(pd.Series(y).nunique()),
            "fit_seconds": float(np.mean(res["fit_time"])), "note": note,
        }

    def __repr__(self) -> str:
        state = f"fitted on {self.n_train_} examples, {len(self.classes_)} classes" if self.pipeline else "not fitted"
        return f"IntentClassifier(japanese_tokenizer={self.japanese_tokenizer!r}, C={self.C}; {state})"


def stratified_subsample(texts: Sequence[str], labels: Sequence[str], limit: int = 2000, *,
                         random_state: int = 0) -> tuple[list[str], list[str]]:
    """A stratified random sample of at most about ``limit`` labelled queries.

    Used to keep cross-validation affordable on big uploads. Each category keeps
    its share of rows (rounded), but never fewer than ``min(2, its size)`` rows,
    so categories with 1-2 examples are kept whole and can still be stratified.
    Sampling is pandas' ``DataFrame.sample`` within each category (seeded).

    Args:
        texts: ``n`` query strings.
        labels: ``n`` labels (same length).
        limit: target number of rows (``>= 1``); inputs of ``n <= limit`` rows
            are returned unchanged.
        random_state: seed of the sampler.

    Returns:
        ``(texts, labels)`` lists, pairs kept together, in the original row
        order. The length can exceed ``limit`` by up to one row per category
        (the per-category minimum of 2).

    Raises:
        DataError: ``texts`` and ``labels`` differ in length, or ``limit < 1``.
    """
    texts, labels = list(texts), list(labels)
    if len(texts) != len(labels):
        raise DataError(f"{len(texts)} texts but {len(labels)} labels; they must pair up one to one.")
    if int(limit) < 1:
        raise DataError(f"the sample size must be at least 1, got {limit}.")
    if len(texts) <= int(limit):
        return texts, labels
    df = pd.DataFrame({"text": texts, "label": labels})
    frac = int(limit) / len(df)
    sizes = df["label"].value_counts()
    n_per = {lab: min(cnt, max(2, round(cnt * frac))) for lab, cnt in sizes.items()}
    # iterate the groups ourselves: groupby(...).apply drops the grouping column in pandas >= 3
    parts = [g.sample(n=n_per[lab], random_state=random_state) for lab, g in df.groupby("label", sort=False)]
    sub = pd.concat(parts).sort_index()
    return sub["text"].tolist(), sub["label"].tolist()
