"""``python -m core sentiment``: real subprocess runs and in-process calls of core.cli.main."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from core.cli import main

ROOT = Path(__file__).resolve().parents[2]


def run_cli(*args: str, timeout: int = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "core", "sentiment", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout, env={"PATH": "/usr/bin:/bin", "AWS_EC2_METADATA_DISABLED": "true",
                                                          "AWS_CONFIG_FILE": "/nonexistent",
                                                          "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent"})


def test_text_json_subprocess_japanese():
    p = run_cli("--text", "この製品は最高です。とても満足しています。", "--json")
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert out["Sentiment"] == "POSITIVE" and out["LanguageCode"] == "ja" and out["Backend"] == "local"
    assert sum(out["SentimentScore"].values()) == pytest.approx(1.0)


def test_text_plain_english(capsys):
    assert main(["sentiment", "--text", "The delivery was late and the box was damaged.", "--lang", "en"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("NEGATIVE") and "Negative" in out and "backend local" in out


def test_data_with_labels_writes_csv_and_json(tmp_path, capsys):
    src = tmp_path / "reviews.csv"
    pd.DataFrame({
        "review": ["I love it, fantastic quality!", "Terrible, awful, broken on arrival.",
                   "=HYPERLINK(\"http://x\") great stuff, love it", "この製品は最高です。とても満足しています。",
                   "Can you tell me my account balance?"],
        "gold": ["positive", "negative", "positive", "positive", "neutral"],
    }).to_csv(src, index=False)
    before = src.read_bytes()
    out_json, out_csv = tmp_path / "r.json", tmp_path / "r.csv"
    code = main(["sentiment", "--data", str(src), "--text-column", "review", "--label-column", "gold",
                 "--json", str(out_json), "--csv", str(out_csv)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "analysed 5 of 5 texts" in printed and "accuracy 1.000, macro F1 1.000" in printed
    data = json.loads(out_json.read_text(encoding="utf-8"))
    assert data["metrics"]["accuracy"] == 1.0 and data["n_done"] == 5
    assert [r["Sentiment"] for r in data["rows"]] == ["POSITIVE", "NEGATIVE", "POSITIVE", "POSITIVE", "NEUTRAL"]
    csv_text = out_csv.read_text(encoding="utf-8-sig")
    assert "'=HYPERLINK" in csv_text  # formula escaped by core.export
    assert src.read_bytes() == before  # the user's file is untouched


@pytest.mark.shared
def test_data_limit_on_chabsa_subprocess(shared_data, tmp_path):
    path = shared_data / "ja_chabsa_sentiment" / "chabsa_sentences.csv"
    p = run_cli("--data", str(path), "--text-column", "sentence", "--label-column", "label", "--limit", "200",
                "--json", str(tmp_path / "out.json"))
    assert p.returncode == 0, p.stderr
    assert "of 200 texts" in p.stdout and "macro F1" in p.stdout
    metrics = json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))["metrics"]
    assert metrics["n"] >= 195 and 0.3 < metrics["accuracy"] < 0.9  # lexicon on finance text: far from perfect
    assert p.stderr == ""  # no progress noise when stderr is not a terminal


BAD_INPUT = [
    (["--text", "hola amigos", "--lang", "es"], "English and Japanese only"),
    (["--text", "   "], "empty"),
    (["--data", "/nonexistent/file.csv", "--text-column", "t"], "No file at"),
    (["--data", "data/support_queries.csv"], "--text-column"),
    (["--data", "data/support_queries.csv", "--text-column", "nope"], "'nope' is not a column"),
    (["--data", "data/support_queries.csv", "--text-column", "text", "--label-column", "label", "--limit", "5"],
     "not sentiments"),
    (["--data", "data/support_queries.csv", "--text-column", "text", "--limit", "0"], "--limit"),
    (["--text", "hi", "--limit", "3"], "go with --data"),
    (["--text", "hi", "--json", "out.json"], "takes no file name"),
    (["--data", "data/sentiment_examples.csv", "--text-column", "text", "--lang", "fr"], "not French (fr)"),
]


@pytest.mark.parametrize("args,needle", BAD_INPUT)
def test_bad_input_one_error_line_exit_2(args, needle, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    assert main(["sentiment", *args]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and needle in err[0], err


@pytest.mark.parametrize("args,needle", [
    (["--text", "hi", "--backend", "watson"], "invalid choice"),
    (["--text", "Where is my order?", "--backend", "comprehend", "--region", "us-east-1"], "no AWS credentials"),
])
def test_bad_input_subprocess_one_error_line(args, needle):
    p = run_cli(*args)
    assert p.returncode == 2, (p.stdout, p.stderr)
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and needle in lines[0], p.stderr
    assert "Traceback" not in p.stderr and p.stdout == ""
