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

ROOT = Path(__file__).resolve().parents[1]
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
    assert all(f"Category: {analysis['category']} (" not in m["content"] for m in ctx_messages[:-1])  # other categories
    assert f"Category: {analysis['category']}" in ctx_messages[-1]["content"]
    assert data["contextualised"]["sent"].rstrip().endswith("Answer:")

    second = _run(base, env)  # same prompts and params: served from the disk cache
    assert second.returncode == 0, second.stderr
    out = second.stdout
    assert f"category: {analysis['category']}" in out
    assert "sentiment: " in out and "=== raw ===" in out and "=== contextualised ===" in out
    assert out.count("(cached answer)") == 2
    assert out.count("cost usd: $0.000000") == 2
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

