"""core.io: formats, encodings, delimiters, number formats, missing markers and clear errors."""

from __future__ import annotations

import hashlib
import io

import numpy as np
import pandas as pd
import pytest

from core.errors import DataError
from core.io import detect_encoding, list_sheets, load_table

JA = "都道府県,人口\n東京都,14047594\n大阪府,8837685\n北海道,5224614\n"


@pytest.mark.parametrize("codec,expected", [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("cp932", "cp932")])
def test_japanese_encodings_round_trip(codec, expected):
    t = load_table(JA.encode(codec), name="pref.csv")
    assert t.encoding == expected
    assert list(t.frame.columns) == ["都道府県", "人口"]
    assert t.frame["都道府県"].tolist() == ["東京都", "大阪府", "北海道"]
    assert t.frame["人口"].tolist() == [14047594, 8837685, 5224614]


def test_latin1_text_is_detected_and_decoded():
    raw = ("city;temp\n" + "Zürich;12,5\nMálaga;21,0\nKöln;9,75\n" * 20).encode("latin-1")
    enc, _ = detect_encoding(raw)
    assert enc in ("latin-1", "cp1252")
    t = load_table(raw, name="w.csv")
    assert t.frame["city"].iloc[0] == "Zürich"
    assert t.delimiter == ";" and t.decimal == ","
    assert t.frame["temp"].tolist()[:3] == [12.5, 21.0, 9.75]


@pytest.mark.parametrize("delim", [",", ";", "\t", "|"])
def test_delimiters(delim):
    rows = [["id", "name", "score"], ["1", "a b", "3.5"], ["2", "c", "4.0"], ["3", "d", "1.25"]]
    raw = "\n".join(delim.join(r) for r in rows).encode()
    t = load_table(raw, name="x.txt")
    assert t.delimiter == delim
    assert t.frame.shape == (3, 3)
    assert t.frame["score"].sum() == pytest.approx(8.75)


def test_quoted_thousands_whitespace_and_missing_markers():
    raw = (b'name , amount , grade\n'
           b'  alice ,"1,234.5", A \n'
           b'bob,"12,000",NA\n'
           b'carol,?,N/A\n'
           b'dan, 7 , - \n')
    t = load_table(raw, name="m.csv")
    f = t.frame
    assert list(f.columns) == ["name", "amount", "grade"]
    assert f["name"].tolist() == ["alice", "bob", "carol", "dan"]
    assert f["amount"].tolist()[:2] == [1234.5, 12000.0]
    assert np.isnan(f["amount"].iloc[2]) and f["amount"].iloc[3] == 7
    assert f["grade"].isna().sum() == 3
    assert any("thousands" in n for n in t.notes)


def test_user_sentinel_values_become_missing():
    raw = b"co,temp\n1.2,-200\n-200,13.5\n2.0,11\n"
    t = load_table(raw, name="air.csv", na_values=["-200"])
    assert t.frame["co"].isna().tolist() == [False, True, False]
    assert t.frame["temp"].isna().tolist() == [True, False, False]
    assert t.frame["temp"].iloc[1] == 13.5


def test_leading_zero_codes_stay_text():
    t = load_table(b"code,n\n01,5\n02,6\n0A,7\n", name="c.csv")
    assert t.frame["code"].tolist() == ["01", "02", "0A"]
    t2 = load_table(b"zip,n\n01234,5\n00501,6\n", name="z.csv")
    assert t2.frame["zip"].tolist() == ["01234", "00501"]


def test_headerless_with_names_and_default_names():
    raw = b"5.1,3.5,setosa\n6.2,2.9,versicolor\n"
    t = load_table(raw, name="iris.csv", header=False)
    assert list(t.frame.columns) == ["column_1", "column_2", "column_3"] and len(t.frame) == 2
    t = load_table(raw, name="iris.csv", header=False, column_names=["sl", "sw", "species"])
    assert t.frame["species"].tolist() == ["setosa", "versicolor"]
    with pytest.raises(DataError, match="2 column names were given"):
        load_table(raw, name="iris.csv", header=False, column_names=["a", "b"])


@pytest.mark.parametrize("raw,pattern", [
    (b"", "is empty"),
    (b"   \r\n\n", "is empty"),
    (b"a,b,c\n", "no data rows"),
    (b"\x00\x01\x02\x03binary\x00junk" * 10, "binary"),
    (b"\x1f\x8b\x08\x00rest", "gzip"),
    (b"%PDF-1.7 stuff", "PDF"),
])
def test_clear_errors(raw, pattern):
    with pytest.raises(DataError, match=pattern):
        load_table(raw, name="bad.csv")


def test_size_limit_message():
    with pytest.raises(DataError, match="the limit is"):
        load_table(b"a,b\n1,2\n" * 100, name="big.csv", max_bytes=100)


def test_excel_sheets(tmp_path):
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as xw:
        pd.DataFrame({"x": [1, 2], "y": ["a", "b"]}).to_excel(xw, sheet_name="first", index=False)
        pd.DataFrame({"z": [3.5, 4.5, 5.5], "名前": ["あ", "い", "う"]}).to_excel(xw, sheet_name="二枚目", index=False)
    data = buf.getvalue()
    assert list_sheets(data, "book.xlsx") == ["first", "二枚目"]
    t = load_table(data, name="book.xlsx")
    assert t.file_format == "excel" and t.sheet == "first" and t.frame["x"].tolist() == [1, 2]
    t = load_table(data, name="book.xlsx", sheet="二枚目")
    assert t.frame["名前"].tolist() == ["あ", "い", "う"] and t.frame["z"].sum() == pytest.approx(13.5)
    with pytest.raises(DataError, match="Its sheets are: first, 二枚目"):
        load_table(data, name="book.xlsx", sheet="missing")


def test_parquet_and_jsonl(tmp_path):
    df = pd.DataFrame({"a": [1, 2, 3], "b": ["x", " y ", "NA"]})
    buf = io.BytesIO()
    df.to_parquet(buf)
    t = load_table(buf.getvalue(), name="t.parquet")
    assert t.file_format == "parquet" and t.frame["b"].tolist()[:2] == ["x", "y"] and pd.isna(t.frame["b"].iloc[2])
    jl = '{"text": "配送が遅い", "label": "shipping"}\n{"text": "refund please", "label": "refund"}\n'.encode()
    t = load_table(jl, name="q.jsonl")
    assert t.file_format == "jsonl" and t.frame["label"].tolist() == ["shipping", "refund"]
    with pytest.raises(DataError, match="not valid JSON Lines"):
        load_table(b'{"a": 1}\n{broken\n', name="bad.jsonl")


def test_user_file_is_never_modified(tmp_path):
    p = tmp_path / "keep.csv"
    p.write_bytes(JA.encode("cp932"))
    before = hashlib.sha256(p.read_bytes()).hexdigest()
    mtime = p.stat().st_mtime_ns
    load_table(p)
    assert hashlib.sha256(p.read_bytes()).hexdigest() == before and p.stat().st_mtime_ns == mtime


def test_missing_path_is_a_clear_error(tmp_path):
    with pytest.raises(DataError, match="No file at"):
        load_table(tmp_path / "nope.csv")


@pytest.mark.shared
def test_real_files(shared_data):
    telco = load_table(shared_data / "telco_churn" / "Telco-Customer-Churn.csv")
    assert telco.frame["TotalCharges"].dtype == float and telco.frame["TotalCharges"].isna().sum() == 11
    ja = load_table(shared_data / "ja_estat_population_sjis" / "c01.csv")
    assert ja.encoding == "cp932" and "人口（総数）" in ja.frame.columns and "都道府県名" in ja.frame.columns
    assert pd.api.types.is_numeric_dtype(ja.frame["人口（総数）"])
    wine = load_table(shared_data / "wine_quality_red_semicolon" / "winequality-red.csv")
    assert wine.delimiter == ";" and wine.frame.shape == (1599, 12) and "fixed acidity" in wine.frame.columns
    titanic = load_table(shared_data / "titanic" / "train.csv")
    assert titanic.frame.shape == (891, 12) and titanic.frame["Age"].isna().sum() == 177
