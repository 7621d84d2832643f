"""core.export: formula-injection escaping and JSON of numpy values."""

import csv
import io
import json

import numpy as np
import pandas as pd

from core.export import escape_formula, to_csv_bytes, to_json_bytes


def test_formula_cells_are_escaped_numbers_are_not():
    df = pd.DataFrame({"text": ["=HYPERLINK(\"http://x\")", "+1+2", "@SUM(A1)", "-cmd", "\tTAB", "plain", "日本語"],
                       "value": [-3.5, 1, 2, 3, 4, 5, 6]})
    rows = list(csv.reader(io.StringIO(to_csv_bytes(df).decode("utf-8-sig"))))
    assert rows[0] == ["text", "value"]
    assert [r[0] for r in rows[1:]] == ["'=HYPERLINK(\"http://x\")", "'+1+2", "'@SUM(A1)", "'-cmd", "'\tTAB",
                                        "plain", "日本語"]
    assert rows[1][1] == "-3.5"
    assert df["text"].iloc[0].startswith("=")  # the caller's frame is untouched


def test_escape_leaves_non_strings_alone():
    assert escape_formula(-1) == -1 and escape_formula(None) is None and escape_formula("=1") == "'=1"


def test_json_handles_numpy_and_nan():
    out = json.loads(to_json_bytes({"a": np.int64(3), "b": np.float32(0.5), "c": float("nan"), "d": np.arange(2)}))
    assert out == {"a": 3, "b": 0.5, "c": None, "d": [0, 1]}
    rows = json.loads(to_json_bytes(pd.DataFrame({"q": ["配送"], "n": [1]})))
    assert rows == [{"q": "配送", "n": 1}]


class Printable:
    """A non-str object whose text looks like a formula (e.g. a custom type left in an object column)."""

    def __init__(self, text):
        self.text = text

    def __str__(self):
        return self.text


def _read_back(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def test_non_str_object_cells_are_escaped_like_text():
    df = pd.DataFrame({"v": pd.Series([Printable("=1+1"), Printable("@SUM(A1)"), Printable("fine"), 7, None],
                                      dtype=object)})
    rows = _read_back(to_csv_bytes(df))
    assert [r[0] for r in rows[1:]] == ["'=1+1", "'@SUM(A1)", "fine", "7", ""]
    cat = pd.DataFrame({"c": pd.Categorical(["=cmd", "ok"])})  # categories are text too
    assert [r[0] for r in _read_back(to_csv_bytes(cat))[1:]] == ["'=cmd", "ok"]


def test_formula_after_a_line_break_inside_a_cell_is_neutralised():
    cells = ["hello\r=HYPERLINK(\"http://x\",\"y\")", "a\n+1+2", "b\r\n@SUM(1)", "c\n-x", "no formula\nhere"]
    rows = _read_back(to_csv_bytes(pd.DataFrame({"t": cells})))
    assert [r[0] for r in rows[1:]] == ["hello\r'=HYPERLINK(\"http://x\",\"y\")", "a\n'+1+2", "b\r\n'@SUM(1)",
                                        "c\n'-x", "no formula\nhere"]
    for cell in [r[0] for r in rows[1:]]:  # no line of any cell starts like a formula
        assert not any(line.startswith(("=", "+", "-", "@")) for line in cell.replace("\r", "\n").split("\n"))


def test_every_cell_holding_cr_or_lf_is_quoted_so_readers_keep_one_row():
    df = pd.DataFrame({"t": ["hello\r=cmd|' /C calc'!A0", "two\nlines", "plain"], "n": [1, 2, 3]})
    data = to_csv_bytes(df)
    text = data.decode("utf-8-sig")
    assert '"hello\r\'=cmd|\' /C calc\'!A0"' in text and '"two\nlines"' in text
    rows = _read_back(data)
    assert len(rows) == 4 and [r[1] for r in rows[1:]] == ["1", "2", "3"]
    # a reader that splits lines on a bare CR first (as some spreadsheet imports do) still never sees a row
    # starting with a formula: the CR sits inside quotes, and the text after it is escaped
    for physical in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        assert not physical.startswith(("=", "+", "-", "@"))


def test_json_of_numpy_arrays_and_series_with_nan_and_inf_is_valid():
    obj = {"a": np.array([1.0, np.nan, np.inf, -np.inf]), "b": pd.Series([np.nan, 2.0]),
           "c": [np.float32("nan")], "d": np.array([[np.nan, 1]])}
    text = to_json_bytes(obj).decode("utf-8")
    assert "NaN" not in text and "Infinity" not in text
    assert json.loads(text) == {"a": [1.0, None, None, None], "b": [None, 2.0], "c": [None], "d": [[None, 1.0]]}


def test_check_outputs_refuses_an_input_file_and_write_atomic_keeps_the_old_file(tmp_path, monkeypatch):
    import os

    import pytest

    from core.errors import ConfigError
    from core.export import check_outputs, write_atomic

    data = tmp_path / "a.csv"
    data.write_text("x\n1\n")
    link = tmp_path / "link.csv"
    link.symlink_to(data)
    for out in (data, tmp_path / "." / "a.csv", link):
        with pytest.raises(ConfigError, match="--json .* is the input file given with --data"):
            check_outputs({"--json": out}, {"--data": data})
    with pytest.raises(ConfigError, match="same file"):
        check_outputs({"--csv": tmp_path / "o.csv", "--json": tmp_path / "o.csv"}, {"--data": data})
    check_outputs({"--json": tmp_path / "out.json", "--csv": None}, {"--data": data})  # fine

    target = tmp_path / "out.json"
    target.write_bytes(b"old")
    monkeypatch.setattr(os, "replace", lambda *a: (_ for _ in ()).throw(OSError("disk full")))
    with pytest.raises(OSError):
        write_atomic(target, b"new")
    monkeypatch.undo()
    assert target.read_bytes() == b"old" and sorted(p.name for p in tmp_path.iterdir()) == ["a.csv", "link.csv",
                                                                                              "out.json"]
    write_atomic(target, b"new")
    assert target.read_bytes() == b"new"
