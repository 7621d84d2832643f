"""Nothing lost, nothing leaked (issue 14): faults keep finished work, outputs never overwrite inputs, one-line
errors instead of tracebacks, no password echoed. AWS faults run on the real botocore stack (its real retries
and time-outs) against small servers on 127.0.0.1."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import boto3
import pandas as pd
import pytest
from botocore.config import Config

from core.errors import ConfigError, ProviderError
from tests.local_servers import bedrock_server, comprehend_server, openai_server

ROOT = Path(__file__).resolve().parents[1]
TEXTS = [f"Review number {i}: the parcel arrived broken and late." for i in range(30)]


@pytest.fixture
def fake_aws(monkeypatch, tmp_path):
    """Credentials and region for botocore, nothing else from this machine's AWS setup."""
    for var in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret-example")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


def cli(*args, env=None, timeout=180):
    return subprocess.run([sys.executable, "-m", "core", *args], cwd=ROOT, capture_output=True, timeout=timeout,
                          env={**os.environ, **(env or {})})


def error_lines(r) -> list[str]:
    err = r.stderr.decode("utf-8", errors="replace") if isinstance(r.stderr, bytes) else r.stderr
    assert "Traceback" not in err, err[-3000:]
    return [ln for ln in err.splitlines() if ln.startswith("error: ")]


def digest(path: Path) -> tuple[str, int]:
    return hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns


# --------------------------------------------------------------------------- Comprehend, connection faults

@pytest.mark.parametrize("then,code", [("drop", "ConnectionClosedError"), ("stall", "ReadTimeoutError")])
def test_comprehend_connection_fault_mid_batch_keeps_finished_rows(fake_aws, monkeypatch, then, code):
    from core.sentiment import ComprehendBackend, analyze_batch

    with comprehend_server(ok_calls=1, then=then, stall_s=5) as (url, server):
        monkeypatch.setenv("AWS_ENDPOINT_URL_COMPREHEND", url)
        backend = ComprehendBackend(region="us-east-1", max_attempts=2, read_timeout=0.5)
        start = time.perf_counter()
        batch = analyze_batch(TEXTS, language="en", backend=backend)
        seconds = time.perf_counter() - start
    assert batch.n_done == 25 and all(r.sentiment == "NEGATIVE" for r in batch.results[:25])
    assert batch.results[25:] == [None] * 5
    assert batch.error.startswith("stopped after 25 of 30 documents") and code in batch.error
    assert seconds < 20  # the read timeout is ours, not botocore's 60 s x 5 attempts
    rows = batch.to_rows()
    assert rows[24]["Sentiment"] == "NEGATIVE" and rows[25]["Error"].startswith("not run: stopped after 25")


def test_comprehend_botocore_errors_are_retryable_provider_errors():
    from botocore.exceptions import ConnectionClosedError, ReadTimeoutError

    from core.sentiment.comprehend import _translate

    for exc in (ConnectionClosedError(endpoint_url="https://comprehend.us-east-1.amazonaws.com"),
                ReadTimeoutError(endpoint_url="https://comprehend.us-east-1.amazonaws.com")):
        err = _translate(exc, "us-east-1")
        assert isinstance(err, ProviderError) and err.retryable and err.code == type(exc).__name__


def test_comprehend_client_has_a_short_read_timeout(fake_aws):
    from core.sentiment import ComprehendBackend

    config = ComprehendBackend(region="us-east-1").client.meta.config
    assert config.read_timeout == 10 and config.connect_timeout == 5
    assert config.retries == {"mode": "standard", "total_max_attempts": 5}


def test_sentiment_cli_writes_the_finished_rows_when_the_connection_breaks(fake_aws, tmp_path):
    data = tmp_path / "reviews.csv"
    pd.DataFrame({"text": TEXTS}).to_csv(data, index=False)
    out_csv, out_json = tmp_path / "out.csv", tmp_path / "out.json"
    with comprehend_server(ok_calls=1, then="drop") as (url, server):
        r = cli("sentiment", "--backend", "comprehend", "--data", str(data), "--text-column", "text", "--lang", "en",
                "--csv", str(out_csv), "--json", str(out_json),
                env={k: os.environ[k] for k in os.environ} | {"AWS_ENDPOINT_URL_COMPREHEND": url})
    assert r.returncode == 2
    (line,) = error_lines(r)
    assert "stopped after 25 of 30 documents" in line and "ConnectionClosedError" in line
    rows = pd.read_csv(out_csv, encoding="utf-8-sig")
    assert len(rows) == 30 and rows["Sentiment"].iloc[:25].eq("NEGATIVE").all() and rows["Sentiment"].iloc[25:].isna().all()
    assert json.loads(out_json.read_text(encoding="utf-8"))["n_done"] == 25


# --------------------------------------------------------------------------- Bedrock

def _bedrock(url: str, attempts: int = 3):
    from core.arena.providers.bedrock import BedrockProvider

    client = boto3.client("bedrock-runtime", region_name="us-east-1", endpoint_url=url,
                          aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret-example",
                          config=Config(retries={"mode": "standard", "total_max_attempts": attempts},
                                        read_timeout=5, connect_timeout=2))
    return BedrockProvider("us.anthropic.claude-haiku-4-5-20251001-v1:0", client=client, max_attempts=attempts)


def test_bedrock_connection_closed_is_retryable_and_says_how_often_it_was_retried():
    with bedrock_server(drop_if=lambda body: True) as (url, server):
        prov = _bedrock(url, attempts=3)
        with pytest.raises(ProviderError) as err:
            prov.generate("s", [{"role": "user", "content": "q"}], 8)
    assert err.value.retryable and err.value.code == "ConnectionClosedError"
    assert "retried 2 times" in str(err.value) and len(server.requests) == 3


def test_bedrock_batch_moves_on_after_a_connection_closed(tmp_path):
    from core.arena.classifier import IntentClassifier
    from core.arena.hybrid import run_batch

    clf = IntentClassifier().fit(["refund please", "where is my parcel", "refund now", "parcel late"],
                                 ["refund", "shipping", "refund", "shipping"])
    drop = lambda body: "FAILME" in json.dumps(body)  # noqa: E731
    with bedrock_server(drop_if=drop) as (url, server):
        df = run_batch(["FAILME refund please", "where is my parcel", "refund now"], clf, _bedrock(url, 2),
                       max_tokens=8)
    assert "stopped_early" not in df.attrs
    assert df["error"].iloc[0].startswith("The connection to Amazon Bedrock broke")
    assert df["error"].iloc[1:].tolist() == ["", ""] and df["raw_response"].iloc[1:].tolist() == ["ok", "ok"]


def test_expired_token_gets_the_same_fixable_message_as_comprehend():
    from botocore.exceptions import ClientError

    from core.arena.providers.bedrock import provider_error_from_boto
    from core.errors import FIX_AWS_CREDENTIALS
    from core.sentiment.comprehend import _translate

    exc = ClientError({"Error": {"Code": "ExpiredTokenException", "Message": "The security token included in the "
                                 "request is expired"}}, "Converse")
    bedrock = provider_error_from_boto(exc, model_id="m", region="us-east-1", max_attempts=4)
    comprehend = _translate(ClientError({"Error": {"Code": "ExpiredTokenException"}}, "DetectSentiment"), "us-east-1")
    for err in (bedrock, comprehend):
        assert FIX_AWS_CREDENTIALS in str(err) and "aws sso login" in str(err) and not err.retryable
        assert "expired" in str(err) and err.code == "ExpiredTokenException"
    assert "AWS said" not in str(bedrock)


# --------------------------------------------------------------------------- response cache

def test_wrong_shape_cache_entries_are_misses_removed_and_the_batch_goes_on(tmp_path):
    from core.arena.cache import ResponseCache
    from core.arena.classifier import IntentClassifier
    from core.arena.hybrid import run_batch
    from core.arena.providers import OpenAICompatProvider

    clf = IntentClassifier().fit(["refund please", "where is my parcel", "refund now", "parcel late"],
                                 ["refund", "shipping", "refund", "shipping"])
    queries = ["refund please", "my parcel is late"]
    with openai_server("Sure, we can help.") as (url, server):
        prov = OpenAICompatProvider(url + "/v1", "fake-model")
        cache = ResponseCache(tmp_path / "cache")
        first = run_batch(queries, clf, prov, cache=cache, max_tokens=8)
        assert first["error"].tolist() == ["", ""] and len(cache) == 4
        cache.close()
        import diskcache

        with diskcache.Cache(str(tmp_path / "cache"), disk=diskcache.JSONDisk) as store:  # damage every entry
            keys = sorted(store)
            for k, bad in zip(keys, [{}, [], {"text": 5, "latency_ms": "x", "model_id": None}, "just text"]):
                store[k] = bad
        calls = len(server.requests)
        again = run_batch(queries, clf, prov, cache=ResponseCache(tmp_path / "cache"), max_tokens=8)
    assert again["error"].tolist() == ["", ""] and "stopped_early" not in again.attrs
    assert again["raw_response"].tolist() == ["Sure, we can help."] * 2 and not again["raw_cached"].any()
    assert len(server.requests) == calls + 4  # each bad entry was a miss
    with diskcache.Cache(str(tmp_path / "cache"), disk=diskcache.JSONDisk) as store:  # replaced by good entries
        assert sorted(store) == keys and all(store[k]["text"] == "Sure, we can help." for k in keys)


# --------------------------------------------------------------------------- outputs never overwrite inputs

def test_outputs_resolving_to_an_input_are_refused_and_the_input_is_untouched(tmp_path):
    a = tmp_path / "a.csv"
    pd.DataFrame({"text": ["good", "bad", "fine"] * 10, "label": ["pos", "neg", "pos"] * 10}).to_csv(a, index=False)
    before = digest(a)
    link = tmp_path / "same.csv"
    link.symlink_to(a)
    runs = [("compare", "--data", str(a), "--target", "label", "--json", str(a)),
            ("compare", "--data", str(a), "--target", "label", "--json", str(link)),
            ("sentiment", "--data", str(a), "--text-column", "text", "--csv", str(a)),
            ("sentiment", "--data", str(link), "--text-column", "text", "--json", str(a)),
            ("sentiment", "--data", str(a), "--text-column", "text", "--csv", str(tmp_path / "o"),
             "--json", str(tmp_path / "o"))]
    for args in runs:
        r = cli(*args)
        assert r.returncode == 2
        (line,) = error_lines(r)
        assert "never changes your input files" in line or "same file" in line
    assert digest(a) == before and not (tmp_path / "o").exists()


def test_cli_outputs_are_written_atomically(tmp_path):
    a = tmp_path / "a.csv"
    pd.DataFrame({"text": ["good service", "bad service"] * 5}).to_csv(a, index=False)
    out = tmp_path / "out.csv"
    r = cli("sentiment", "--data", str(a), "--text-column", "text", "--csv", str(out))
    assert r.returncode == 0 and len(pd.read_csv(out, encoding="utf-8-sig")) == 10
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.csv", "out.csv"]  # no temporary file left


# --------------------------------------------------------------------------- one-line errors

@pytest.mark.parametrize("seed", ["-1", str(2**40), "abc"])
def test_bad_seed_is_one_error_line(seed, tmp_path):
    a = tmp_path / "a.csv"
    a.write_text("x,y\n1,a\n2,b\n", encoding="utf-8")
    r = cli("compare", "--data", str(a), "--target", "y", "--seed", seed)
    assert r.returncode == 2
    (line,) = error_lines(r)
    assert "--seed must be" in line


def test_invalid_utf8_in_arguments_is_one_error_line(tmp_path):
    train = tmp_path / "t.csv"
    train.write_text("text,label\nrefund please,refund\nwhere is it,shipping\nrefund now,refund\nlate,shipping\n")
    r = subprocess.run([sys.executable.encode(), b"-m", b"core", b"respond", b"--train", str(train).encode(),
                        b"--text-column", b"text", b"--label-column", b"label", b"--query", b"refund \xff\xfe now",
                        b"--provider", b"openai", b"--base-url", b"http://127.0.0.1:9/v1"],
                       cwd=ROOT, capture_output=True, timeout=120)
    assert r.returncode == 2
    (line,) = error_lines(r)
    assert line.startswith("error: --query is not valid UTF-8 text (byte 0xff)")
    r = subprocess.run([sys.executable.encode(), b"-m", b"core", b"sentiment", b"--text", b"caf\xe9"],
                       cwd=ROOT, capture_output=True, timeout=120)
    assert r.returncode == 2 and error_lines(r)[0].startswith("error: --text is not valid UTF-8 text (byte 0xe9)")


# --------------------------------------------------------------------------- reading

def test_nul_byte_after_8_kib_is_removed_with_a_notice_not_a_new_class(tmp_path):
    from core.io import load_table

    rows = [f"text number {i} is {'good' if i % 2 else 'bad'},{'pos' if i % 2 else 'neg'}" for i in range(600)]
    raw = ("text,label\n" + "\n".join(rows) + "\n").encode()
    at = raw.index(b",neg\n", 9000) + 4
    raw = raw[:at] + b"\x00" + raw[at:]
    assert at > 8192
    f = tmp_path / "nul.csv"
    f.write_bytes(raw)
    t = load_table(f)
    assert sorted(t.frame["label"].unique()) == ["neg", "pos"]
    line = raw[:at].count(b"\n") + 1
    assert any(n.startswith("1 NUL bytes") and f"line {line:,}" in n for n in t.notes)
    r = cli("sentiment", "--data", str(f), "--text-column", "text", "--label-column", "label")
    assert r.returncode == 0 and b"neg\\x00" not in r.stdout and b"'neg\x00'" not in r.stdout


def test_mixed_encodings_are_decoded_line_by_line_and_counted(tmp_path):
    from core.io import load_table

    utf8 = ["対応が遅くて本当に最悪だ。,neg", "迅速に対応していただき助かりました。,pos"] * 5
    sjis = ["料理は美味しかったが、店員の態度は悪かった。,neg", "素晴らしいサービスです。,pos"] * 3
    data = "text,label\n".encode() + b"\n".join([s.encode("utf-8") for s in utf8] + [s.encode("cp932") for s in sjis])
    t = load_table(data, name="mixed.csv")
    texts = t.frame["text"].tolist()
    assert texts[:2] == ["対応が遅くて本当に最悪だ。", "迅速に対応していただき助かりました。"]
    assert texts[10:12] == ["料理は美味しかったが、店員の態度は悪かった。", "素晴らしいサービスです。"]
    (note,) = [n for n in t.notes if n.startswith("Mixed encodings")]
    assert "10 lines with non-ASCII text are UTF-8 and 6 lines are Shift-JIS (cp932)" in note
    from core.sentiment import analyze_batch

    assert {r.sentiment for r in analyze_batch(texts).results} != {"NEUTRAL"}  # not mojibake


# --------------------------------------------------------------------------- passwords in URLs

@pytest.mark.parametrize("url", ["ftp://user:probepass@127.0.0.1:9/v1", "user:probepass@127.0.0.1:9/v1",
                                 "http//user:probepass@localhost/v1"])
def test_invalid_base_url_never_echoes_its_password(url, monkeypatch):
    from core.arena.providers import OpenAICompatProvider, openai_status

    with pytest.raises(ConfigError) as err:
        OpenAICompatProvider(url)
    assert "probepass" not in str(err.value) and "is not valid" in str(err.value)
    assert "probepass" not in openai_status(url).reason
    monkeypatch.setenv("CROSSROADS_OPENAI_BASE_URL", url)
    st = openai_status()
    assert not st.available and "probepass" not in st.reason and "CROSSROADS_OPENAI_BASE_URL" in st.reason
    r = cli("respond", "--train", str(ROOT / "data" / "support_queries.csv"), "--text-column", "text",
            "--label-column", "label", "--query", "hi", "--provider", "openai", "--base-url", url)
    assert r.returncode == 2 and b"probepass" not in r.stderr + r.stdout


def test_unreachable_server_with_a_password_in_its_url_is_reported_without_it():
    from core.arena.providers import openai_status

    st = openai_status("http://user:probepass@127.0.0.1:9/v1")
    assert not st.available and "probepass" not in st.reason + st.label + json.dumps(st.detail)
    assert "127.0.0.1:9" in st.reason
