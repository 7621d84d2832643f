"""Which column of a table holds free text: one rule for the Sentiment page, the Prompt Arena and the CLI."""

from __future__ import annotations

from typing import Sequence

import pandas as pd

__all__ = ["TEXT_COLUMN_NAMES", "text_columns", "suggest_text_column", "column_named"]

#: Column names that say "this is the text", in order of preference (compared case-insensitively).
TEXT_COLUMN_NAMES = ("text", "query", "utterance", "message", "text_ja", "sentence")


def text_columns(frame: pd.DataFrame) -> list:
    """Columns of ``frame`` holding text (object or string dtype), in table order."""
    return [c for c in frame.columns if frame[c].dtype == object or pd.api.types.is_string_dtype(frame[c])]


def column_named(columns: Sequence, names: Sequence[str], *, exclude: Sequence = ()) -> object | None:
    """The first of ``columns`` whose name (case-insensitive, blanks stripped) is in ``names``,
    trying ``names`` in order; ``None`` when none is."""
    lower = {str(c).strip().lower(): c for c in reversed(list(columns)) if c not in exclude}
    return next((lower[n] for n in names if n in lower), None)


def suggest_text_column(frame: pd.DataFrame, names: Sequence[str] = TEXT_COLUMN_NAMES, *,
                        exclude: Sequence = ()) -> object | None:
    """The column most likely to hold the texts to analyse.

    Rule: a text column named like :data:`TEXT_COLUMN_NAMES` (first name in that order);
    else the text column with the longest mean length (a review beats a product code).

    Args:
        frame: the table (not modified).
        names: names to look for, in order of preference.
        exclude: columns not to suggest.

    Returns:
        The column label, or ``None`` when the table has no text column.
    """
    texts = [c for c in text_columns(frame) if c not in exclude]
    if not texts:
        return None
    named = column_named(texts, names)
    if named is not None:
        return named
    return max(texts, key=lambda c: frame[c].astype(str).str.len().mean())
