"""Labelled queries read from a table for the intent classifier, and the checks before training.

:func:`load_labelled_queries` reads a text and a label column (rows without either
are left out and counted); :func:`suggest_query_columns` guesses those two columns;
:func:`training_set` applies the checks the Prompt Arena and the CLI need before
fitting: a label column that looks like an ID or free text is refused, and classes
with a single example are left out (they cannot be learnt or cross-validated).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator

import pandas as pd

from core.errors import DataError
from core.text.columns import TEXT_COLUMN_NAMES, column_named, suggest_text_column

__all__ = ["LabelledQueries", "load_labelled_queries", "sample_queries_path", "suggest_query_columns",
           "TrainingSet", "training_set", "QUERY_TEXT_NAMES", "QUERY_LABEL_NAMES", "QUERY_ANSWER_NAMES"]

@dataclass
class LabelledQueries:
    """Texts and labels read from a table; unpacks as ``texts, labels = ...``.

    Attributes:
        texts: query strings (``list[str]``), missing/blank rows removed.
        labels: their labels as ``str``.
        n_dropped: rows removed because the text or the label was missing/blank.
        name: the table's name (file name) for display.
        notes: what was detected or changed, in plain words.
    """

    texts: list[str]
    labels: list[str]
    n_dropped: int = 0
    name: str = ""
    notes: list[str] = field(default_factory=list)

    def __iter__(self) -> Iterator[list[str]]:
        return iter((self.texts, self.labels))

    def __len__(self) -> int:
        return len(self.texts)


def load_labelled_queries(source: Any, text_column: str, label_column: str) -> LabelledQueries:
    """Read labelled queries from a file, its bytes, a ``LoadedTable`` or a ``DataFrame``.

    Files go through :func:`core.io.load_table` (CSV/TSV, Excel, Parquet,
    JSON Lines; encoding and delimiter detected). Rows whose text or label is
    missing or blank are dropped and counted. Labels become strings (``1`` ->
    ``"1"``); texts keep their content (embedded newlines are kept).

    Args:
        source: a path (``str``/``PathLike``), raw ``bytes``, a
            ``core.io.LoadedTable`` or a ``pandas.DataFrame``.
        text_column: name of the column holding the query text.
        label_column: name of the column holding the category.

    Returns:
        A :class:`LabelledQueries`.

    Raises:
        DataError: unreadable file, missing column, same column for both, or
            no usable row left.
    """
    notes: list[str] = []
    if isinstance(source, pd.DataFrame):
        frame, name = source, "table"
    elif hasattr(source, "frame") and isinstance(getattr(source, "frame"), pd.DataFrame):
        frame, name = source.frame, getattr(source, "name", "") or "table"
        notes.extend(getattr(source, "notes", []) or [])
    else:
        from core.io import load_table

        loaded = load_table(source)
        frame, name = loaded.frame, loaded.name
        notes.extend(loaded.notes)
    cols = [str(c) for c in frame.columns]
    for what, col in (("text", text_column), ("label", label_column)):
        if col not in frame.columns:
            raise DataError(f"{name}: no {what} column {col!r}; the columns are {cols}.")
    if text_column == label_column:
        raise DataError("the text column and the label column must be different columns.")
    def _label(v: Any) -> str:
        if v is None or (not isinstance(v, str) and pd.isna(v)):
            return ""
        if isinstance(v, float) and v.is_integer():
            return str(int(v))
        return str(v).strip()

    def _text(v: Any) -> str:
        if v is None or (not isinstance(v, str) and pd.isna(v)):
            return ""
        return str(v)

    texts: list[str] = []
    labels: list[str] = []
    n_dropped = 0
    for t, lab in zip(frame[text_column].tolist(), frame[label_column].tolist()):
        t, lab = _text(t), _label(lab)
        if t.strip() and lab:
            texts.append(t)
            labels.append(lab)
        else:
            n_dropped += 1
    if n_dropped:
        notes.append(f"{n_dropped} row(s) without a text or a label were left out.")
    if not texts:
        raise DataError(f"{name}: no row has both a {text_column!r} text and a {label_column!r} label.")
    return LabelledQueries(texts=texts, labels=labels, n_dropped=n_dropped, name=str(name), notes=notes)


def sample_queries_path():
    """Path of the bundled customer-support sample (``data/support_queries.csv``)."""
    from pathlib import Path

    return Path(__file__).resolve().parents[2] / "data" / "support_queries.csv"


#: Label column names, in order of preference (the text column's names: :data:`core.text.columns.TEXT_COLUMN_NAMES`).
QUERY_LABEL_NAMES = ("label", "category", "intent", "topic", "class", "target")
QUERY_TEXT_NAMES = TEXT_COLUMN_NAMES
#: Names of a column holding answers written for the queries (worked examples for base models).
QUERY_ANSWER_NAMES = ("answer", "response", "reply", "agent_response")


def suggest_query_columns(frame: pd.DataFrame) -> tuple[str, str]:
    """Default text and label columns of a table of labelled queries (the user can change both).

    Rule: the text column is :func:`core.text.columns.suggest_text_column` (named like
    ``text``/``query``/``utterance``..., else the longest texts), else the first column;
    the label column is the first other column named like :data:`QUERY_LABEL_NAMES`,
    else :func:`core.tabular.suggest_target` among the other columns (it skips IDs,
    free text and constants), else the first other column.

    Args:
        frame: the table, with at least two columns (not modified).

    Returns:
        ``(text_column, label_column)`` as strings, two different columns.

    Raises:
        DataError: fewer than two columns.
    """
    if frame.shape[1] < 2:
        raise DataError("The table needs at least two columns: a text column and a label column.")
    named = frame.set_axis([str(c) for c in frame.columns], axis=1)
    text = suggest_text_column(named)
    text = str(text) if text is not None else str(named.columns[0])
    others = named.drop(columns=[text])
    label = column_named(others.columns, QUERY_LABEL_NAMES)
    if label is None:
        from core.tabular.schema import suggest_target

        label = suggest_target(others)
    return text, str(label)


@dataclass
class TrainingSet:
    """Labelled queries ready to fit, after :func:`training_set`'s checks.

    Attributes:
        texts / labels: the rows kept (``list[str]``).
        n_classes: distinct labels kept.
        single: labels left out because they had a single example (sorted).
    """

    texts: list[str]
    labels: list[str]
    n_classes: int
    single: list[str] = field(default_factory=list)

    def note(self) -> str:
        """One sentence about the left-out single-example classes ('' when none)."""
        if not self.single:
            return ""
        n = len(self.single)
        return (f"{n} categor{'y has' if n == 1 else 'ies have'} a single example and "
                f"{'was' if n == 1 else 'were'} left out (a classifier cannot learn or be "
                f"cross-validated on one example): {', '.join(self.single[:10])}{' ...' if n > 10 else ''}.")


def training_set(data: LabelledQueries, *, label_column: str = "label") -> TrainingSet:
    """Check labelled queries before training and leave out single-example classes.

    Rules:

    * a label column with more distinct values than ``max(50, rows // 2)`` is text or an
      ID, not a category: refused;
    * labels with one example are left out when at least two labels with two or more
      examples remain (else kept, and fitting says what is wrong).

    Args:
        data: from :func:`load_labelled_queries` (not modified).
        label_column: the column's name, for the message.

    Returns:
        :class:`TrainingSet`.

    Raises:
        DataError: the label column looks like an ID or free text.
    """
    counts = pd.Series(data.labels).value_counts()
    n_classes = len(counts)
    if n_classes > max(50, len(data) // 2):
        raise DataError(f"'{label_column}' has {n_classes:,} different values for {len(data):,} rows: it looks "
                        "like text or an ID, not a category. Pick the label column.")
    single = sorted(str(lab) for lab in counts[counts < 2].index)
    if not single or n_classes - len(single) < 2:
        return TrainingSet(list(data.texts), list(data.labels), n_classes)
    drop = set(single)
    keep = [lab not in drop for lab in data.labels]
    return TrainingSet([t for t, k in zip(data.texts, keep) if k], [lab for lab, k in zip(data.labels, keep) if k],
                       n_classes - len(single), single)
