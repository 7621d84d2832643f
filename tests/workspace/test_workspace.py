"""core.workspace: save and open round trips (telco, banking77), the codec, and files that must be refused."""

from __future__ import annotations

import io
import json
import math
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import core.workspace as cw
from core.errors import CrossroadsError, DataError
from core.io import load_table
from core.sentiment.base import BatchResult, SentimentResult
from core.tabular.compare import compare_models
from core.workspace import Workspace, WorkspaceError, open_workspace, workspace_to_bytes
from core.workspace.codec import decode, encode, UnsupportedValue
from core.workspace.sections import add_comparison, loaded_table, restore_comparison_section

ROOT = Path(__file__).resolve().parents[2]


def _small_table():
    rng = np.random.default_rng(0)
    x = rng.normal(size=200)
    df = pd.DataFrame({"x": x, "colour": rng.choice(["red", "blue", "green"], 200),
                       "when": pd.date_range("2024-01-01", periods=200, freq="D").astype(str),
                       "note": [None if i % 7 == 0 else f"n{i % 5}" for i in range(200)],
                       "label": np.where(x + rng.normal(scale=0.5, size=200) > 0, "up", "down")})
    return load_table(df.to_csv(index=False).encode(), name="small.csv")


@pytest.fixture(scope="module")
def small_ws_bytes():
    table = _small_table()
    result = compare_models(table.frame, "label", folds=3, models=["linear", "tree", "dummy"])
    ws = Workspace(state={"ui": {"dm_target": "label", "dm_folds": 3}})
    add_comparison(ws, table, result)
    return table, result, workspace_to_bytes(ws)


# ------------------------------------------------------------------ round trips

def test_small_round_trip_restores_table_results_and_state(small_ws_bytes):
    table, result, data = small_ws_bytes
    ws = open_workspace(data, name="small.zip")
    pd.testing.assert_frame_equal(ws.tables["data_models.table"], table.frame)  # dtypes too (object text, NaN)
    back = loaded_table(ws, "data_models.table")
    assert back.name == "small.csv" and back.digest == table.digest and back.notes == table.notes
    assert ws.state == {"ui": {"dm_target": "label", "dm_folds": 3}}
    assert ws.sections == {"data_models": {"table": "data_models.table", "comparison": "data_models.comparison"}}
    _, rebuilt, check = restore_comparison_section(ws)
    assert check.matches, check.differences
    pd.testing.assert_frame_equal(rebuilt.leaderboard(), result.leaderboard())
    for a, b in zip(result.results, rebuilt.results):
        assert a.key == b.key
        np.testing.assert_array_equal(a.pipeline.predict(result.X_test), b.pipeline.predict(rebuilt.X_test))
    manifest = json.loads(zipfile.ZipFile(io.BytesIO(data)).read("manifest.json"))
    assert manifest["format"] == "crossroads-workspace" and manifest["format_version"] == cw.FORMAT_VERSION
    assert set(manifest["software"]) >= {"crossroads", "python", "scikit-learn", "pandas", "numpy", "pyarrow"}
    assert manifest["tables"]["data_models.table"]["rows"] == 200


def test_a_changed_table_is_reported_as_not_matching(small_ws_bytes):
    table, _, data = small_ws_bytes
    ws = open_workspace(data)
    ws.tables["data_models.table"] = ws.tables["data_models.table"].assign(x=lambda d: d["x"].to_numpy()[::-1])
    _, _, check = restore_comparison_section(ws)
    assert not check.matches and any("hold-out" in d for d in check.differences)


_FRESH = """
import json, sys
from core.workspace import open_workspace
from core.workspace.sections import restore_comparison_section
ws = open_workspace(sys.argv[1])
table, result, check = restore_comparison_section(ws)
print(json.dumps({"matches": check.matches, "differences": check.differences,
                  "leaderboard": result.leaderboard().drop(columns=["fit_seconds", "predict_seconds"]).to_dict("list"),
                  "holdout": {r.key: r.holdout.metrics for r in result.results},
                  "rows": len(table.frame), "seconds": check.seconds}))
"""


def _fresh_process_restore(path: Path) -> dict:
    out = subprocess.run([sys.executable, "-c", _FRESH, str(path)], cwd=ROOT, capture_output=True, text=True,
                         timeout=600)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


@pytest.mark.shared
@pytest.mark.slow
def test_telco_cli_workspace_reopens_equal_in_a_fresh_process(shared_data, tmp_path, capsys):
    from core.cli import main

    path = tmp_path / "telco.zip"
    code = main(["compare", "--data", str(shared_data / "telco_churn" / "Telco-Customer-Churn.csv"), "--target",
                 "Churn", "--folds", "3", "--models", "linear", "tree", "hgb", "dummy", "--no-shap",
                 "--json", str(tmp_path / "telco.json"), "--workspace", str(path)])
    assert code == 0, capsys.readouterr().err
    saved = json.loads((tmp_path / "telco.json").read_text())
    got = _fresh_process_restore(path)
    assert got["matches"], got["differences"]
    assert got["rows"] == 7043
    for i, row in enumerate(saved["leaderboard"]):
        assert got["leaderboard"]["model"][i] == row["model"]
        assert got["leaderboard"]["balanced_accuracy_mean"][i] == row["metrics"]["balanced_accuracy"]["mean"]
        assert got["holdout"][row["key"]] == row["holdout_metrics"]
    assert got["holdout"]["linear"]["accuracy"] > 0.78


@pytest.mark.shared
@pytest.mark.slow
def test_banking77_workspace_reopens_equal_in_a_fresh_process(shared_data, tmp_path):
    table = load_table(shared_data / "banking77" / "train.csv")
    result = compare_models(table.frame, "category", folds=3, models=["linear", "dummy"], max_rows=3000)
    ws = Workspace()
    add_comparison(ws, table, result)
    path = tmp_path / "banking77.zip"
    cw.save_workspace(ws, path)
    got = _fresh_process_restore(path)
    assert got["matches"], got["differences"]
    assert got["rows"] == 10003  # the whole table is saved; the 3,000-row sample is drawn again from the seed
    assert got["leaderboard"]["model"] == [r.label for r in result.results]
    assert got["leaderboard"]["accuracy_mean"] == [r.metrics["accuracy"]["mean"] for r in result.results]
    assert got["holdout"]["linear"] == result.result("linear").holdout.metrics
    assert result.result("linear").holdout.metrics["accuracy"] > 0.3  # 77 classes: chance is ~0.013


def test_bakeoff_cli_writes_a_workspace_whose_classifier_rebuilds_equal(tmp_path, capsys):
    from core.cli import main
    from core.workspace.sections import restore_bakeoff_section

    path = tmp_path / "bakeoff.zip"
    code = main(["bakeoff", "--data", str(ROOT / "data" / "support_queries.csv"), "--text-column", "text",
                 "--label-column", "label", "--arms", "classifier", "--json", str(tmp_path / "b.json"),
                 "--workspace", str(path)])
    err = capsys.readouterr().err
    assert code == 0, err
    assert f"wrote {path}" in err
    ws = open_workspace(path)
    result, record, check = restore_bakeoff_section(ws)
    assert check.matches, check.differences
    saved = json.loads((tmp_path / "b.json").read_text())
    assert result.n_test == len(saved["result"]["rows"]) == len(ws.tables["decide.test"]) == 80
    assert result.arms["classifier"]["accuracy"] == saved["result"]["arms"]["classifier"]["accuracy"]
    assert record["analysis"]["recommendation"] == saved["analysis"]["recommendation"]
    assert len(ws.tables["decide.train"]) + len(ws.tables["decide.test"]) == 400


# ------------------------------------------------------------------ tables and the codec

def test_parquet_keeps_dtypes_missing_values_japanese_names_and_mixed_columns():
    df = pd.DataFrame({"都道府県": ["北海道", None, "沖縄"], "n": [1, 2, 3], "f": [0.5, np.nan, 2.0],
                       "flag": [True, False, True], "when": pd.to_datetime(["2024-01-01", "2024-02-01", None]),
                       "mixed": pd.Series([1, "a", None], dtype=object)})
    df["都道府県"] = df["都道府県"].astype(object)
    ws = Workspace()
    ws.add_table("t", df, {"name": "x.xlsx"})
    back = open_workspace(workspace_to_bytes(ws))
    got = back.tables["t"]
    pd.testing.assert_frame_equal(got.drop(columns=["mixed"]), df.drop(columns=["mixed"]))
    assert isinstance(got["都道府県"].iloc[1], float) and math.isnan(got["都道府県"].iloc[1])  # NaN, not None
    assert got["mixed"].tolist()[:2] == ["1", "a"]  # a mixed numbers/text column is stored as text...
    assert back.table_info["t"]["stored_as_text"] == ["mixed"]  # ...and the manifest says so


def test_codec_round_trips_page_results_and_tables():
    tables: dict[str, pd.DataFrame] = {}

    def add(df):
        tables[f"t{len(tables)}"] = df
        return f"t{len(tables) - 1}"

    s = SentimentResult("NEGATIVE", {"Positive": 0.1, "Negative": 0.8, "Neutral": 0.1, "Mixed": 0.0}, "en",
                        "local", ["a notice"], 0.01)
    value = {"runs": {"local": BatchResult([s, None], {1: "empty text"}, None, 1.5)}, "sig": "abc",
             "shape": (3, 4), "nan": float("nan"), "frame": pd.DataFrame({"a": [1, 2]}),
             "err": CrossroadsError("boom"), "arr": np.array([[1, 2], [3, 4]])}
    data = json.loads(json.dumps(encode(value, add)))  # through real JSON text
    back = decode(data, tables.__getitem__)
    assert back["runs"]["local"].results[0] == s and back["runs"]["local"].errors == {1: "empty text"}
    assert back["shape"] == (3, 4) and math.isnan(back["nan"]) and back["sig"] == "abc"
    pd.testing.assert_frame_equal(back["frame"], value["frame"])
    assert isinstance(back["err"], CrossroadsError) and str(back["err"]) == "boom"
    np.testing.assert_array_equal(back["arr"], value["arr"])
    with pytest.raises(UnsupportedValue, match="cannot be saved"):
        encode({"model": object()}, add)


def test_codec_refuses_unknown_types_and_deep_nesting():
    with pytest.raises(DataError, match="unknown type 'os.system'"):
        decode({"$type": "os.system", "fields": {}}, {}.__getitem__)
    with pytest.raises(DataError, match="damaged"):
        decode({"$type": "SentimentResult", "fields": {"__class__": 1}}, {}.__getitem__)
    deep: object = 1
    for _ in range(200):
        deep = [deep]
    with pytest.raises(DataError, match="nested too deeply"):
        decode(deep, {}.__getitem__)


# ------------------------------------------------------------------ files that must be refused

def _zip(members: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=compression) as zf:
        for n, data in members.items():
            zf.writestr(zipfile.ZipInfo(n), data, compress_type=compression)
    return buf.getvalue()


def _members(data: bytes) -> dict[str, bytes]:
    zf = zipfile.ZipFile(io.BytesIO(data))
    return {i.filename: zf.read(i) for i in zf.infolist()}


def _refused(data: bytes, match: str) -> str:
    with pytest.raises(WorkspaceError, match=match) as info:
        open_workspace(data, name="bad.zip")
    assert "'bad.zip'" in str(info.value)
    return str(info.value)


def test_not_a_zip_and_a_foreign_zip_are_refused():
    _refused(b"PassengerId,Survived\n1,0\n", "is not a workspace file")
    _refused(_zip({"word/document.xml": b"<xml/>"}), "not a Crossroads workspace .it has no manifest.json")
    _refused(_zip({"manifest.json": b'{"format": "something-else"}'}), "not a Crossroads workspace")


def test_damaged_files_are_refused(small_ws_bytes):
    data = small_ws_bytes[2]
    _refused(data[: len(data) // 2], "damaged zip")
    members = _members(data)
    members["tables/0.parquet"] = members["tables/0.parquet"][:-100] + b"\0" * 100
    _refused(_zip(members), "does not match its checksum")
    members = _members(data)
    del members["results/0.json"]
    _refused(_zip(members), "missing or unexpected file")
    members = _members(data)
    members["manifest.json"] = b"{not json"
    _refused(_zip(members), "damaged manifest.json")


def test_a_newer_format_version_is_refused_with_what_to_do(small_ws_bytes):
    members = _members(small_ws_bytes[2])
    manifest = json.loads(members["manifest.json"])
    manifest["format_version"] = cw.FORMAT_VERSION + 1
    members["manifest.json"] = json.dumps(manifest).encode()
    msg = _refused(_zip(members), "newer Crossroads")
    assert "Update Crossroads" in msg


@pytest.mark.parametrize("evil", ["../evil.txt", "/etc/cron.d/evil", "tables/../../evil.parquet",
                                  "C:/Windows/evil.dll", "tables\\..\\evil"])
def test_zip_slip_names_are_refused_and_nothing_is_written(evil, small_ws_bytes, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    members = _members(small_ws_bytes[2])
    members[evil] = b"owned"
    _refused(_zip(members), "unsafe file name")
    assert list(tmp_path.iterdir()) == []


def test_zip_bomb_is_refused_before_decompressing():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("manifest.json", json.dumps({"format": cw.FORMAT, "format_version": 1}))
        with zf.open("results/0.json", "w") as fh:
            chunk = b"0" * (1 << 20)
            for _ in range(64):  # 64 MB of zeros -> ~64 KB compressed
                fh.write(chunk)
    assert len(buf.getvalue()) < 1_000_000
    _refused(buf.getvalue(), "zip bomb")


def test_member_larger_than_the_cap_is_refused(small_ws_bytes):
    from core.settings import settings

    with settings.override(max_zip_member_mb=0.001):  # the one zip-member limit of core.settings
        _refused(small_ws_bytes[2], "CROSSROADS_MAX_ZIP_MEMBER_MB")


def test_a_workspace_past_the_upload_limit_is_refused_naming_the_setting(small_ws_bytes):
    from core.settings import settings

    with settings.override(max_upload_mb=len(small_ws_bytes[2]) / 2**20 / 2):
        _refused(small_ws_bytes[2], "CROSSROADS_MAX_UPLOAD_MB")


def test_streaming_cap_stops_reading_a_member_past_its_limit(monkeypatch, small_ws_bytes):
    monkeypatch.setattr(cw, "MAX_MANIFEST_BYTES", 100)
    _refused(small_ws_bytes[2], "larger than 0 MB once decompressed")


def test_a_bomb_whose_header_lies_about_its_size_is_refused():
    import struct

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("manifest.json", b"0" * (32 << 20))  # 32 MB of zeros
    data = bytearray(buf.getvalue())
    cd = data.index(b"PK\x01\x02")
    struct.pack_into("<I", data, cd + 24, 1000)  # the central directory now claims 1,000 bytes
    _refused(bytes(data), "damaged")  # zipfile stops at the claimed size and the CRC check fails


@pytest.mark.filterwarnings("ignore:Duplicate name")
def test_duplicate_members_are_refused(small_ws_bytes):
    members = list(_members(small_ws_bytes[2]).items())
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for n, d in members + [members[0]]:
            zf.writestr(n, d)
    _refused(buf.getvalue(), "twice")
