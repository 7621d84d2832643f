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
