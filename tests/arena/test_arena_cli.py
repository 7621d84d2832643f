"""`python -m core respond`: real runs with the embedded model, and bad input."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.cli import main

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "support_queries.csv"
QUERY = "I was charged twice for the same order, please refund the extra payment now!"


def _run(args, env_extra):
    env = {**os.environ, **env_extra}
    return subprocess.run([sys.executable, "-m", "core", "respond", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.mark.skipif(not SAMPLE.exists(), reason="data/support_queries.csv not there yet")
def test_respond_with_local_model_json_then_cached_text(tmp_path):
    pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed")
    env = {"XDG_CACHE_HOME": str(tmp_path / "cache")}
    base = ["--train", str(SAMPLE), "--text-column", "text", "--label-column", "label",
            "--query", QUERY, "--provider", "local", "--max-tokens", "16"]
    first = _run(base + ["--json"], env)
    assert first.returncode == 0, first.stderr
    data = json.loads(first.stdout)
    analysis = data["analysis"]
    assert analysis["category"] in ("billing", "refund")
    assert 0 < analysis["confidence"] <= 1
    assert len(analysis["top_k"]) == 3
    assert analysis["sentiment"] in ("NEGATIVE", "MIXED", "NEUTRAL", "POSITIVE")
    for arm in ("raw", "contextualised"):
        resp = data[arm]["response"]
        assert resp["provider"] == "local" and not resp["cached"]
        assert resp["input_tokens"] > 50 and 0 <= resp["output_tokens"] <= 16
        assert resp["latency_ms"] > 0
        assert data[arm]["cost_usd"] == 0.0
    assert data["contextualised"]["response"]["input_tokens"] > data["raw"]["response"]["input_tokens"]
    ctx_messages = data["contextualised"]["prompt"]["messages"]
    assert len(ctx_messages) == 7  # three worked examples (user + answer) for the base model, then the query
    from core.arena.prompts import humanise_label
    shown = humanise_label(analysis["category"])
    assert all(f"Category: {shown} (" not in m["content"] for m in ctx_messages[:-1])  # other categories
    assert f"Category: {shown}" in ctx_messages[-1]["content"]
    assert data["contextualised"]["sent"].rstrip().endswith("Answer:")

    second = _run(base, env)  # same prompts and params: served from the disk cache
    assert second.returncode == 0, second.stderr
    out = second.stdout
    assert f"category: {analysis['category']}" in out
    assert "sentiment: " in out and "=== raw ===" in out and "=== contextualised ===" in out
    assert out.count("latency ms: none (cached answer; the original call took") == 2  # no stale latency
    assert out.count("cost usd: $0.000000 (cached: nothing charged)") == 2
    assert f"input tokens: {data['raw']['response']['input_tokens']}" in out


@pytest.mark.parametrize("args,needle", [
    (["--text-column", "nope", "--label-column", "label", "--query", "hi", "--provider", "local"], "nope"),
    (["--text-column", "text", "--label-column", "label", "--query", "   ", "--provider", "local"], "query"),
    (["--text-column", "text", "--label-column", "label", "--query", "hi", "--model", "x"], "--provider"),
    (["--text-column", "text", "--label-column", "label", "--query", "hi", "--provider", "cloud"], "invalid choice"),
    (["--text-column", "text", "--label-column", "label", "--query", "hi", "--k", "0"], "--k"),
])
def test_bad_input_exits_2_with_one_line(args, needle, capsys, tmp_path):
    train = tmp_path / "train.csv"
    train.write_text("text,label\nhello,a\nbye,b\nhi there,a\nsee you,b\n", encoding="utf-8")
    with pytest.raises(SystemExit) if needle == "invalid choice" else contextlib.nullcontext() as exc:
        rc = main(["respond", "--train", str(train), *args])
    if needle == "invalid choice":
        rc = exc.value.code
    err = capsys.readouterr().err
    assert rc == 2
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert needle in lines[0]


def test_missing_training_file_exits_2(capsys, tmp_path):
    rc = main(["respond", "--train", str(tmp_path / "absent.csv"), "--text-column", "t",
               "--label-column", "l", "--query", "hi", "--provider", "local"])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and err.startswith("error: ") and "\n" not in err



def _no_aws(monkeypatch, tmp_path):
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.mark.parametrize("command", ["respond", "arena-eval"])
def test_missing_credentials_are_reported_before_training(command, monkeypatch, tmp_path, capsys):
    """Issue 9, defect 6: `--provider bedrock` used to train for 5 s before saying there were no credentials."""
    from core.arena.classifier import IntentClassifier

    _no_aws(monkeypatch, tmp_path)

    def no_training(*a, **k):
        raise AssertionError("the classifier was trained before the provider was checked")

    monkeypatch.setattr(IntentClassifier, "fit", no_training)
    args = [command, "--train", str(SAMPLE), "--text-column", "text", "--label-column", "label",
            "--provider", "bedrock", "--region", "us-east-1"]
    rc = main(args + (["--query", "hello"] if command == "respond" else []))
    err = capsys.readouterr().err.strip()
    assert rc == 2 and err.startswith("error: ") and "No AWS credentials" in err and "\n" not in err


def test_respond_masks_pii_and_explains_urgency(tmp_path):
    pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed")
    env = {"XDG_CACHE_HOME": str(tmp_path / "cache"), "CROSSROADS_CACHE_DIR": str(tmp_path / "cache")}
    res = _run(["--train", str(SAMPLE), "--text-column", "text", "--label-column", "label", "--provider", "local",
                "--max-tokens", "8", "--mask-pii", "--json", "--query",
                "二重に請求されています。至急返金してください。カード4111 1111 1111 1111、連絡先 taro@example.com"], env)
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    a = data["analysis"]
    assert a["urgency"] == "high" and "至急" in a["urgency_reason"] and "二重請求" in a["urgency_reason"]
    assert a["pii"]["counts"] == {"CREDIT_DEBIT_NUMBER": 1, "EMAIL": 1}
    for arm in ("raw", "contextualised"):
        assert "[CARD_NUMBER]" in data[arm]["sent"] and "[EMAIL]" in data[arm]["sent"]
        assert "4111" not in data[arm]["sent"] and "taro@example.com" not in data[arm]["sent"]


def test_arena_eval_on_a_held_out_split_writes_one_row_per_answer(tmp_path):
    pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed")
    env = {"CROSSROADS_CACHE_DIR": str(tmp_path / "cache")}
    res = subprocess.run([sys.executable, "-m", "core", "arena-eval", "--train", str(SAMPLE), "--text-column", "text",
                          "--label-column", "label", "--provider", "local", "--n", "2", "--repeats", "2",
                          "--max-tokens", "8", "--csv", str(tmp_path / "rows.csv"), "--json", str(tmp_path / "s.json")],
                         cwd=ROOT, env={**os.environ, **env}, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr
    out = res.stdout
    assert "held-out rows: 2 from a stratified 20% hold-out of the training table (80 rows" in out
    assert out.count("topic adherence: ") == 2 and out.count("consistency: mean TF-IDF cosine") == 2
    assert "USD per 1,000 answers" in out and "retrieved 2026-11-30" in out
    import pandas as pd

    rows = pd.read_csv(tmp_path / "rows.csv", encoding="utf-8-sig")
    assert len(rows) == 2 * 2 * 2 and set(rows["arm"]) == {"raw", "contextualised"} and set(rows["repeat"]) == {1, 2}
    summary = json.loads((tmp_path / "s.json").read_text(encoding="utf-8"))
    assert summary["kind"] == "crossroads.arena.context_evaluation" and summary["version"] == 1  # Decide reads these
    assert summary["n_queries"] == 2 and len(summary["rows"]) == 8


def test_arena_eval_refuses_repeats_at_temperature_zero(capsys):
    rc = main(["arena-eval", "--train", str(SAMPLE), "--text-column", "text", "--label-column", "label",
               "--repeats", "3", "--temperature", "0"])
    assert rc == 2 and "temperature above 0" in capsys.readouterr().err


def test_pii_masking_default_follows_where_the_query_goes():
    """Masking is on by default exactly when the provider is not local (its spec's flag / is_local()), as on the page."""
    import argparse

    from core.arena.cli import _pii_options
    from core.arena.providers import OpenAICompatProvider

    args = argparse.Namespace(mask_pii=None, comprehend_pii=False, profile=None, region=None)
    assert _pii_options(args, OpenAICompatProvider("http://127.0.0.1:9/v1", "m"))["mask_pii"] is False
    assert _pii_options(args, OpenAICompatProvider("https://llm.example.com/v1", "m"))["mask_pii"] is True
    args.mask_pii = False
    assert _pii_options(args, OpenAICompatProvider("https://llm.example.com/v1", "m"))["mask_pii"] is False
