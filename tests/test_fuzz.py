"""Property-based tests (Hypothesis) of the CSV reader/cleaner and the formula escaper.

The reader: any table of short texts and numbers written by Python's csv module (quotes, commas, CR/LF inside
cells, Japanese, surrounding spaces) is read back with the same number of rows and columns, every text cell
equal to the written text stripped, every number column equal to the written numbers, whether it is read
whole or sampled. The escaper: no cell of any exported CSV, split at any CR or LF, has a line a spreadsheet
would run as a formula, and every value survives the round trip apart from the added quote.
"""

from __future__ import annotations

import csv
import io

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.export import escape_formula, to_csv_bytes
from core.io import DEFAULT_NA_VALUES, load_table

FORMULA_START = ("=", "+", "-", "@")
# Text cells: letters, Japanese, punctuation, quotes, separators and line breaks; never a value the reader
# would take for a number or a missing marker (those are generated on purpose below).
_alphabet = st.characters(codec="utf-8", categories=("L", "P", "S", "Zs"), include_characters="\r\n\t\"',;|",
                          exclude_characters="\x00")
text_cell = st.text(_alphabet, min_size=1, max_size=12).filter(
    lambda s: s.strip() and s.strip() not in DEFAULT_NA_VALUES and not _numberish(s.strip())
    and any(ch.isalpha() for ch in s))


def _numberish(s: str) -> bool:
    try:
        float(s.replace(",", ""))
        return True
    except ValueError:
        return False


@st.composite
def tables(draw):
    n_rows = draw(st.integers(1, 12))
    n_text = draw(st.integers(1, 3))
    n_num = draw(st.integers(0, 3))
    cols = {}
    for j in range(n_text):
        cols[f"t{j}"] = draw(st.lists(text_cell, min_size=n_rows, max_size=n_rows))
    for j in range(n_num):
        floats = draw(st.booleans())
        values = draw(st.lists(st.floats(-1e6, 1e6, allow_nan=False).map(lambda v: round(v, 3)) if floats
                               else st.integers(-10**6, 10**6), min_size=n_rows, max_size=n_rows))
        cols[f"n{j}"] = values
    return pd.DataFrame(cols)


def _write(df: pd.DataFrame, delimiter: str) -> bytes:
    buf = io.StringIO(newline="")
    w = csv.writer(buf, delimiter=delimiter, lineterminator="\r\n")
    w.writerow(df.columns)
    for row in df.itertuples(index=False):
        w.writerow(row)
    return buf.getvalue().encode("utf-8")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(df=tables(), sample=st.booleans())
def test_csv_round_trip(df, sample):
    """Tab-separated (.tsv: the dialect is given, so this tests reading and cleaning, not CleverCSV's guess)."""
    raw = _write(df, "\t")
    max_rows = max(1, len(df) // 2) if sample else None
    t = load_table(raw, name="fuzz.tsv", max_rows=max_rows, seed=3)
    assert list(t.frame.columns) == list(df.columns)
    expected = df if max_rows is None else df.iloc[:0]
    if max_rows is not None:
        assert len(t.frame) == min(max_rows, len(df))
        # a sample keeps file order and whole rows: match each kept row to one written row
        written = [_key(r, df.columns) for r in df.itertuples(index=False)]
        for r in t.frame.itertuples(index=False):
            assert _key(r, df.columns) in written
        return
    assert len(t.frame) == len(expected)
    for c in df.columns:
        got = t.frame[c]
        if c.startswith("t"):
            assert got.tolist() == [v.strip() for v in df[c]]
        else:
            assert pd.api.types.is_numeric_dtype(got)
            assert np.allclose(got.astype(float), df[c].astype(float))


def _key(row, columns) -> tuple:
    return tuple(str(v).strip() if c.startswith("t") else round(float(v), 6) for v, c in zip(row, columns))


any_cell = st.one_of(st.text(max_size=20), st.integers(), st.floats(allow_nan=True), st.none(), st.booleans(),
                     st.text(max_size=20).map(lambda s: type("Obj", (), {"__str__": lambda self, s=s: s})()))


@settings(max_examples=200, deadline=None)
@given(cells=st.lists(any_cell, min_size=1, max_size=8))
def test_no_exported_cell_line_starts_like_a_formula(cells):
    df = pd.DataFrame({"c": pd.Series(cells, dtype=object)})
    text = to_csv_bytes(df).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert len(rows) == len(cells) + 1  # CR/LF inside cells never split a row
    for (got,), original in zip(rows[1:], cells):
        if isinstance(original, (bool, int, float)) or original is None:
            continue
        for line in got.replace("\r", "\n").split("\n"):
            assert not line.startswith(FORMULA_START)
        assert got.replace("'", "") == str(original).replace("'", "")  # only quotes were added
    for physical in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):  # a reader splitting at any CR/LF
        assert not physical.startswith(FORMULA_START) or _numberish(physical)  # -1 is a number, not a formula


@given(st.text())
def test_escape_formula_is_idempotent_enough(s):
    once = escape_formula(s)
    assert not once.startswith(FORMULA_START) and escape_formula(once) == once or once.startswith("'")
