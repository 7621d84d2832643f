"""``python -m core bakeoff``: clear errors, the estimate before a paid run, and the files it writes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from core.arena.providers import register_provider, unregister_provider
from core.cli import main
from tests.decide_fakes import paid_spec

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = str(ROOT / "data" / "support_queries.csv")
BASE = ["bakeoff", "--data", SAMPLE, "--text-column", "text", "--label-column", "label"]


def _err(capsys) -> str:
    return capsys.readouterr().err.strip().splitlines()[-1]


@pytest.mark.parametrize("extra,message", [
    (["--label-column", "category"], "no label column 'category'"),
    (["--min-accuracy", "85"], "fraction, e.g. 0.85"),
    (["--test-size", "2"], "fraction between 0 and 1"),
    (["--n-test", "3"], "cannot cover the 8 categories"),
    (["--arms", "classifier,magic"], "unknown arm 'magic'"),
    (["--report", "/no/such/folder/r.html"], "does not exist"),
])
def test_bad_input_is_one_error_line_and_status_2(capsys, extra, message):
    args = BASE + ["--arms", "classifier"] + extra
    assert main(args) == 2
    line = _err(capsys)
    assert line.startswith("error: ") and message in line


def test_one_category_and_too_many_categories(tmp_path, capsys):
    one = tmp_path / "one.csv"
    pd.DataFrame({"q": [f"text {i}" for i in range(30)], "c": ["x"] * 30}).to_csv(one, index=False)
    assert main(["bakeoff", "--data", str(one), "--text-column", "q", "--label-column", "c", "--arms",
                 "classifier"]) == 2
    assert "at least two categories" in _err(capsys)
    many = tmp_path / "many.csv"
    pd.DataFrame({"q": [f"text {i}" for i in range(1000)], "c": [f"k{i % 500}" for i in range(1000)]}).to_csv(
        many, index=False)
    assert main(["bakeoff", "--data", str(many), "--text-column", "q", "--label-column", "c"]) == 2
    assert "500 different values" in _err(capsys)


def test_never_overwrites_the_data_file(tmp_path, capsys):
    data = tmp_path / "d.csv"
    data.write_bytes(Path(SAMPLE).read_bytes())
    before = data.read_bytes()
    assert main(["bakeoff", "--data", str(data), "--text-column", "text", "--label-column", "label", "--arms",
                 "classifier", "--json", str(data)]) == 2
    assert "would overwrite your data file" in _err(capsys) and data.read_bytes() == before


def test_classifier_only_run_writes_json_reports_and_rows(tmp_path, capsys):
    out = tmp_path / "r.json"
    html = tmp_path / "r.html"
    rows = tmp_path / "rows.csv"
    code = main(BASE + ["--arms", "classifier", "--n-test", "80", "--min-accuracy", "0.5", "--volume", "10000",
                        "--json", str(out), "--report", str(html), "--rows-csv", str(rows)])
    cap = capsys.readouterr()
    assert code == 0, cap.err
    assert "Trained classifier" in cap.out and "recommendation: " in cap.out
    payload = json.loads(out.read_text(encoding="utf-8"))
    res, an = payload["result"], payload["analysis"]
    hits = sum(r["classifier_pred"] == r["label"] for r in res["rows"])
    assert an["arms"]["classifier"]["accuracy"]["value"] == pytest.approx(hits / 80)
    assert an["recommendation"]["verdict"] in ("classifier", "not_enough_evidence")
    text = html.read_text(encoding="utf-8")
    assert "<script src=" not in text and "Plotly" in text and "Recommendation" in text
    md = html.with_suffix(".md").read_text(encoding="utf-8")
    assert md.startswith("# Crossroads bake-off: support_queries.csv") and "| Trained classifier |" in md
    table = pd.read_csv(rows, encoding="utf-8-sig")
    assert len(table) == 80 and {"text", "label", "classifier_pred", "classifier_confidence"} <= set(table.columns)


def test_paid_provider_needs_yes_and_shows_the_estimate_first(tmp_path, capsys):
    register_provider(paid_spec())
    try:
        args = BASE + ["--provider", "fakepaid", "--arms", "classifier,zero-shot", "--n-test", "40"]
        assert main(args) == 2
        cap = capsys.readouterr()
        assert "estimate: 40 LLM calls to anthropic.claude-haiku-4-5 (fakepaid)" in cap.err
        assert "about $0.0" in cap.err and "add --yes" in cap.err.splitlines()[-1]
        out = tmp_path / "paid.json"
        assert main(args + ["--yes", "--no-cache", "--json", str(out)]) == 0
        capsys.readouterr()
        payload = json.loads(out.read_text(encoding="utf-8"))
        assert payload["estimate"]["paid"] is True
        zs = payload["analysis"]["arms"]["zero_shot"]
        assert zs["n"] == 40 and zs["cost_per_1k"] > 0 and zs["batch_per_1k"] == pytest.approx(zs["cost_per_1k"] / 2)
    finally:
        unregister_provider("fakepaid")


def test_bakeoff_is_listed_and_runs_as_a_module(tmp_path):
    out = subprocess.run([sys.executable, "-m", "core", "--help"], capture_output=True, text=True, cwd=ROOT)
    assert "bakeoff" in out.stdout
    bad = subprocess.run([sys.executable, "-m", "core", "bakeoff", "--data", str(tmp_path / "missing.csv"),
                          "--text-column", "t", "--label-column", "l"], capture_output=True, text=True, cwd=ROOT)
    assert bad.returncode == 2 and bad.stderr.strip().startswith("error: ") and "Traceback" not in bad.stderr
