"""The bake-off's data: one labelled table, checked, and split once into train and test rows.

Three ways to get the test rows (every arm is scored on the same ones, and the
classifier never trains on them):

* **one table, stratified split** (``test_size`` as a fraction, or ``n_test``
  rows): scikit-learn's ``train_test_split(..., stratify=labels)``, seeded;
* **a separate test table** (``test_source``): all its rows, or ``n_test`` of
  them drawn stratified by label (:func:`stratified_sample`, seeded);
* **a split column** (``split_column``): rows whose value is ``train_value``
  train, rows whose value is ``test_value`` test (clinc150's ``split``), again
  optionally thinned to ``n_test`` stratified rows.

Checks, each a :class:`~core.errors.DataError` that says how to fix it: a
missing column, no usable row (empty texts are dropped and counted), a single
category, more than ``max_classes`` categories (usually the wrong column), a
category with fewer than :data:`MIN_ROWS_PER_CLASS` rows (unless
``drop_rare=True`` leaves those categories out, said in the notes), and a split
that would leave a category with fewer than 2 training rows.
"""

from __future__ import annotations

import math
import os
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any, Sequence

import numpy as np
import pandas as pd

from core.errors import DataError

#: Fewest rows a category needs: 2 to train the classifier on and 1 to test on.
MIN_ROWS_PER_CLASS = 3
#: Most categories accepted: every LLM prompt lists them all (clinc150 has 150; more is usually an ID column).
MAX_CLASSES = 200
#: Default share of rows held out for testing when neither ``test_size`` nor ``n_test`` is given.
DEFAULT_TEST_SIZE = 0.2
#: Rows of the training split whose language is detected for the data summary (the test rows are all detected).
LANGUAGE_SAMPLE = 500


@dataclass
class SplitInfo:
    """How the test rows were chosen (enough to reproduce the split).

    Attributes:
        method: ``"stratified split"``, ``"separate test table"`` or ``"split column"``.
        seed: random seed of the split / draw.
        test_size: requested test fraction (``None`` when ``n_test`` or a test table was used).
        n_test_requested: requested number of test rows (``None`` if not given).
        n_train / n_test: rows used to train and to test.
        split_column / train_value / test_value: for ``"split column"``.
        test_name: name of the separate test table.
    """

    method: str
    seed: int
    test_size: float | None = None
    n_test_requested: int | None = None
    n_train: int = 0
    n_test: int = 0
    split_column: str | None = None
    train_value: str | None = None
    test_value: str | None = None
    test_name: str | None = None

    def describe(self) -> str:
        """One sentence for the report, e.g. ``"Stratified split, 20% test, seed 0: 320 train / 80 test rows."``."""
        if self.method == "split column":
            how = f"Split column {self.split_column!r} ({self.train_value!r} trains, {self.test_value!r} tests)"
        elif self.method == "separate test table":
            how = f"Separate test table {self.test_name!r}"
        else:
            how = "Stratified split"
            if self.test_size is not None:
                how += f", {self.test_size:.0%} test"
        if self.n_test_requested is not None:
            how += f", {self.n_test_requested} test rows drawn stratified by category"
        return f"{how}, seed {self.seed}: {self.n_train} train / {self.n_test} test rows."


@dataclass
class BakeoffData:
    """Train and test rows of a bake-off.

    Attributes:
        train_texts / train_labels: the classifier's training rows (``list[str]``).
        test_texts / test_labels: the rows every arm is scored on.
        labels: the label set, sorted (``list[str]``); every test label is in it.
        name: the data's name (file name).
        text_column / label_column: the columns used.
        split: :class:`SplitInfo`.
        test_languages: detected ISO 639-1 code of each test row (``"und"`` when unknown).
        train_languages: language counts over up to :data:`LANGUAGE_SAMPLE` training rows.
        n_rows_read: rows read before anything was dropped (train + test sources).
        notes: what was dropped or detected, in plain words.
    """

    train_texts: list[str]
    train_labels: list[str]
    test_texts: list[str]
    test_labels: list[str]
    labels: list[str]
    name: str = "table"
    text_column: str = "text"
    label_column: str = "label"
    split: SplitInfo = field(default_factory=lambda: SplitInfo("stratified split", 0))
    test_languages: list[str] = field(default_factory=list)
    train_languages: dict[str, int] = field(default_factory=dict)
    n_rows_read: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def n_train(self) -> int:
        return len(self.train_texts)

    @property
    def n_test(self) -> int:
        return len(self.test_texts)

    def languages(self) -> dict[str, int]:
        """Test rows per detected language, most frequent first."""
        return dict(Counter(self.test_languages).most_common())

    def summary(self) -> dict[str, Any]:
        """JSON-ready description: rows, classes, languages, split, notes (no texts)."""
        counts = Counter(self.train_labels) + Counter(self.test_labels)
        return {
            "name": self.name, "text_column": self.text_column, "label_column": self.label_column,
            "n_rows_read": self.n_rows_read, "n_train": self.n_train, "n_test": self.n_test,
            "n_classes": len(self.labels), "labels": list(self.labels),
            "rows_per_class_min": int(min(counts.values())), "rows_per_class_max": int(max(counts.values())),
            "test_languages": self.languages(), "train_languages": dict(self.train_languages),
            "split": asdict(self.split), "split_description": self.split.describe(), "notes": list(self.notes),
        }


def stratified_sample(labels: Sequence[str], n: int, *, seed: int = 0) -> list[int]:
    """Indices of ``n`` rows drawn without replacement, each label keeping its share.

    Each label gets ``n * count / total`` rows rounded by largest remainder
    (so the total is exactly ``n``), then that many of its rows are drawn at
    random (NumPy ``default_rng(seed)``). Unlike scikit-learn's stratified
    splitters it accepts labels with a single row.

    Args:
        labels: the label of every row.
        n: rows wanted, ``1 <= n <= len(labels)``.
        seed: random seed.

    Returns:
        Sorted row indices (``list[int]`` of length ``n``).

    Raises:
        DataError: ``n`` out of range.
    """
    total = len(labels)
    if not 1 <= int(n) <= total:
        raise DataError(f"cannot draw {n} rows from {total}; choose between 1 and {total}.")
    rng = np.random.default_rng(seed)
    groups: dict[str, list[int]] = {}
    for i, lab in enumerate(labels):
        groups.setdefault(lab, []).append(i)
    names = sorted(groups)
    exact = np.array([n * len(groups[k]) / total for k in names])
    alloc = np.floor(exact).astype(int)
    short = int(n) - int(alloc.sum())
    if short:
        # largest remainders first; ties broken at random (seeded) rather than by label order
        order = np.lexsort((rng.random(len(names)), -(exact - alloc)))
        alloc[order[:short]] += 1
    picked: list[int] = []
    for k, m in zip(names, alloc):
        if m:
            picked.extend(rng.choice(groups[k], size=int(m), replace=False).tolist())
    return sorted(int(i) for i in picked)


def _check_labels(labels: Sequence[str], where: str, *, max_classes: int, drop_rare: bool,
                  min_rows: int = MIN_ROWS_PER_CLASS) -> set[str]:
    """Validate the label column; return the categories to drop (rare ones, when allowed)."""
    counts = Counter(labels)
    if len(counts) < 2:
        only = next(iter(counts), "")
        raise DataError(f"{where}: every row has the same category ({only!r}); a bake-off needs at least two "
                        "categories. Check that the label column is the category column.")
    if len(counts) > max_classes:
        raise DataError(
            f"{where}: the label column has {len(counts)} different values; the bake-off handles at most "
            f"{max_classes} categories (every LLM prompt lists them all). Check that it is the category column, "
            "not an ID or a free-text column, or merge rare categories.")
    rare = {lab for lab, c in counts.items() if c < min_rows}
    if rare and not drop_rare:
        shown = ", ".join(f"{lab!r} ({counts[lab]})" for lab in sorted(rare)[:8]) + (" ..." if len(rare) > 8 else "")
        raise DataError(
            f"{where}: {len(rare)} categor{'y has' if len(rare) == 1 else 'ies have'} fewer than {min_rows} rows "
            f"({shown}); each needs {min_rows - 1} to train and 1 to test. Add examples, or leave those "
            "categories out (--drop-rare on the command line, 'Leave out rare categories' on the page).")
    if len(counts) - len(rare) < 2:
        raise DataError(f"{where}: leaving out the categories with fewer than {min_rows} rows leaves fewer than "
                        "two categories; add examples.")
    return rare


def _drop(texts: list[str], labels: list[str], drop: set[str]) -> tuple[list[str], list[str]]:
    keep = [i for i, lab in enumerate(labels) if lab not in drop]
    return [texts[i] for i in keep], [labels[i] for i in keep]


def _detect_languages(texts: Sequence[str]) -> list[str]:
    from core.sentiment.language import detect_language

    out = []
    for t in texts:
        try:
            out.append(detect_language(t).code)
        except Exception:  # noqa: BLE001 - a language is a summary, never a reason to fail
            out.append("und")
    return out


def _read(source: Any, text_column: str, label_column: str):
    from core.arena.classifier import load_labelled_queries

    return load_labelled_queries(source, text_column, label_column)


def _name(source: Any, fallback: str) -> str:
    if isinstance(source, (str, os.PathLike)):
        return os.path.basename(os.fspath(source))
    return str(getattr(source, "name", "") or fallback)


def _frame(source: Any) -> tuple[pd.DataFrame, str, list[str]]:
    if isinstance(source, pd.DataFrame):
        return source, "table", []
    if hasattr(source, "frame") and isinstance(source.frame, pd.DataFrame):
        return source.frame, getattr(source, "name", "") or "table", list(getattr(source, "notes", []) or [])
    from core.io import load_table

    loaded = load_table(source)
    return loaded.frame, loaded.name, list(loaded.notes)


def _check_size(test_size: float | None, n_test: int | None) -> None:
    if test_size is not None and n_test is not None:
        raise DataError("give either a test size (fraction) or a number of test rows, not both.")
    if test_size is not None and not (0.0 < float(test_size) < 1.0):
        raise DataError(f"the test size must be a fraction between 0 and 1 (e.g. 0.2), got {test_size}.")
    if n_test is not None and (not isinstance(n_test, (int, np.integer)) or isinstance(n_test, bool) or n_test < 1):
        raise DataError(f"the number of test rows must be a whole number >= 1, got {n_test!r}.")


def load_bakeoff_data(source: Any, text_column: str, label_column: str, *, test_source: Any = None,
                      test_size: float | None = None, n_test: int | None = None, seed: int = 0,
                      split_column: str | None = None, train_value: str = "train", test_value: str = "test",
                      drop_rare: bool = False, max_classes: int = MAX_CLASSES,
                      detect_languages: bool = True) -> BakeoffData:
    """Read, check and split labelled queries for a bake-off.

    Args:
        source: the labelled table: a path, raw ``bytes``, a ``core.io.LoadedTable`` or a ``DataFrame``.
        text_column / label_column: its query-text and category columns.
        test_source: an optional separate test table (same columns); ``source`` then only trains.
        test_size: fraction of ``source`` held out for testing (default 0.2 when
            nothing else is given). Not with ``test_source``/``split_column``.
        n_test: number of test rows instead: held out from ``source``, or drawn
            stratified from the test table / test split.
        seed: random seed of the split and of any draw.
        split_column: a column whose values say which rows train and which test.
        train_value / test_value: the values of ``split_column`` for train and test rows.
        drop_rare: leave out categories with fewer than :data:`MIN_ROWS_PER_CLASS`
            rows (said in ``notes``) instead of raising.
        max_classes: most categories accepted.
        detect_languages: detect the language of every test row (offline, see
            :func:`core.sentiment.language.detect_language`).

    Returns:
        :class:`BakeoffData`.

    Raises:
        DataError: unreadable file, missing column, no usable row, one
            category, too many categories, too few rows in a category, or a
            bad test size (each message says how to fix it).
    """
    from sklearn.model_selection import train_test_split

    _check_size(test_size, n_test)
    if test_source is not None and split_column is not None:
        raise DataError("give either a separate test table or a split column, not both.")
    if (test_source is not None or split_column is not None) and test_size is not None:
        raise DataError("a test size applies to a single table; with a separate test table or a split column, "
                        "give the number of test rows instead (or nothing, to use them all).")
    notes: list[str] = []
    name = _name(source, "table")

    if split_column is not None:
        frame, name, read_notes = _frame(source)
        notes += read_notes
        if split_column not in frame.columns:
            raise DataError(f"{name}: no split column {split_column!r}; the columns are "
                            f"{[str(c) for c in frame.columns]}.")
        values = frame[split_column].astype(str).str.strip()
        seen = sorted(values.unique().tolist())
        for what, val in (("train", train_value), ("test", test_value)):
            if not (values == str(val)).any():
                raise DataError(f"{name}: no row has {split_column} = {val!r} for the {what} rows; "
                                f"its values are {seen[:12]}.")
        other = int((~values.isin([str(train_value), str(test_value)])).sum())
        if other:
            notes.append(f"{other} row(s) whose {split_column} is neither {train_value!r} nor {test_value!r} "
                         "were not used.")
        tr = _read(frame[values == str(train_value)], text_column, label_column)
        te = _read(frame[values == str(test_value)], text_column, label_column)
        n_read = len(frame)
        method = "split column"
    elif test_source is not None:
        tr = _read(source, text_column, label_column)
        te = _read(test_source, text_column, label_column)
        notes += tr.notes
        notes += [f"test table: {n}" for n in te.notes]
        n_read = len(tr) + tr.n_dropped + len(te) + te.n_dropped
        method = "separate test table"
    else:
        tr = _read(source, text_column, label_column)
        notes += tr.notes
        n_read = len(tr) + tr.n_dropped
        te = None
        method = "stratified split"

    if te is None:
        texts, labels = tr.texts, tr.labels
        rare = _check_labels(labels, name, max_classes=max_classes, drop_rare=drop_rare)
        if rare:
            texts, labels = _drop(texts, labels, rare)
            notes.append(_rare_note(rare, tr.labels))
        n_classes = len(set(labels))
        size: float | int = float(test_size) if test_size is not None else (
            int(n_test) if n_test is not None else DEFAULT_TEST_SIZE)
        n_held = size if isinstance(size, int) else math.ceil(size * len(texts))
        if n_held < n_classes:
            raise DataError(f"{n_held} test rows cannot cover the {n_classes} categories (a stratified split "
                            f"needs at least one test row per category): ask for at least {n_classes} test rows "
                            f"or a larger test size.")
        if len(texts) - n_held < 2 * n_classes:
            raise DataError(f"holding out {n_held} of {len(texts)} rows leaves too few to train on ({n_classes} "
                            "categories need at least 2 rows each): lower the test size.")
        idx = np.arange(len(texts))
        tr_idx, te_idx = train_test_split(idx, test_size=size, stratify=labels, random_state=seed, shuffle=True)
        tr_idx, te_idx = sorted(tr_idx.tolist()), sorted(te_idx.tolist())
        train_texts, train_labels = [texts[i] for i in tr_idx], [labels[i] for i in tr_idx]
        test_texts, test_labels = [texts[i] for i in te_idx], [labels[i] for i in te_idx]
        _check_train_counts(train_labels, name)
        split = SplitInfo(method, int(seed), test_size=None if n_test is not None else float(size),
                          n_test_requested=int(n_test) if n_test is not None else None)
    else:
        train_texts, train_labels = tr.texts, tr.labels
        rare = _check_labels(train_labels, f"{name} (training rows)", max_classes=max_classes,
                             drop_rare=drop_rare, min_rows=2)
        if rare:
            train_texts, train_labels = _drop(train_texts, train_labels, rare)
            notes.append(_rare_note(rare, tr.labels, min_rows=2))
        known = set(train_labels)
        test_texts, test_labels = te.texts, te.labels
        unknown = sorted({lab for lab in test_labels if lab not in known})
        if unknown:
            test_texts, test_labels = _drop(test_texts, test_labels, set(unknown))
            shown = ", ".join(repr(u) for u in unknown[:8]) + (" ..." if len(unknown) > 8 else "")
            notes.append(f"{len(te.labels) - len(test_labels)} test row(s) in {len(unknown)} categor"
                         f"{'y' if len(unknown) == 1 else 'ies'} with no training example ({shown}) were left out: "
                         "no arm can be scored fairly on them.")
        if not test_texts:
            raise DataError("no test row has a category that appears in the training rows; check the test data.")
        if n_test is not None:
            if int(n_test) >= len(test_texts):
                if int(n_test) > len(test_texts):
                    notes.append(f"{n_test} test rows were asked for but only {len(test_texts)} are available; "
                                 "all of them are used.")
            else:
                pick = stratified_sample(test_labels, int(n_test), seed=seed)
                test_texts, test_labels = [test_texts[i] for i in pick], [test_labels[i] for i in pick]
        split = SplitInfo(method, int(seed), n_test_requested=int(n_test) if n_test is not None else None,
                          split_column=split_column, train_value=str(train_value) if split_column else None,
                          test_value=str(test_value) if split_column else None,
                          test_name=_name(test_source, "test table") if test_source is not None else None)

    split.n_train, split.n_test = len(train_texts), len(test_texts)
    overlap = _overlap(train_texts, test_texts)
    if overlap:
        notes.append(f"{overlap} test text(s) also appear word for word among the training rows (different rows "
                     "with the same text); they were kept, as they would be in real traffic.")
    test_langs = _detect_languages(test_texts) if detect_languages else ["und"] * len(test_texts)
    train_langs: dict[str, int] = {}
    if detect_languages:
        rng = np.random.default_rng(seed)
        sample = (train_texts if len(train_texts) <= LANGUAGE_SAMPLE else
                  [train_texts[i] for i in rng.choice(len(train_texts), LANGUAGE_SAMPLE, replace=False)])
        train_langs = dict(Counter(_detect_languages(sample)).most_common())
    return BakeoffData(train_texts=train_texts, train_labels=train_labels, test_texts=test_texts,
                       test_labels=test_labels, labels=sorted(set(train_labels)), name=name,
                       text_column=text_column, label_column=label_column, split=split,
                       test_languages=test_langs, train_languages=train_langs, n_rows_read=int(n_read),
                       notes=notes)


def _rare_note(rare: set[str], labels: Sequence[str], min_rows: int = MIN_ROWS_PER_CLASS) -> str:
    counts = Counter(labels)
    shown = ", ".join(f"{lab!r} ({counts[lab]} row{'s' if counts[lab] != 1 else ''})" for lab in sorted(rare)[:8])
    return (f"{len(rare)} categor{'y' if len(rare) == 1 else 'ies'} with fewer than {min_rows} rows "
            f"{'was' if len(rare) == 1 else 'were'} left out as asked: {shown}"
            f"{' ...' if len(rare) > 8 else ''}.")


def _check_train_counts(train_labels: Sequence[str], name: str) -> None:
    thin = sorted(lab for lab, c in Counter(train_labels).items() if c < 2)
    if thin:
        raise DataError(f"{name}: after the split, {len(thin)} categor{'y' if len(thin) == 1 else 'ies'} "
                        f"({', '.join(repr(t) for t in thin[:5])}) would have fewer than 2 training rows: "
                        "lower the test size or add examples.")


def _overlap(train: Sequence[str], test: Sequence[str]) -> int:
    seen = {" ".join(t.lower().split()) for t in train}
    return sum(1 for t in test if " ".join(t.lower().split()) in seen)
