"""OpenAI-compatible provider against a REAL llama-cpp-python server on 127.0.0.1,
and the embedded provider end to end, both on the bundled Gemma 3 270M GGUF.

max_tokens stays small (16) so the whole file runs in well under a minute.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import pytest
import requests

from core.arena.providers.embedded import import_llama_cpp, llama_cpp_installed

if not llama_cpp_installed():
    pytest.skip("llama-cpp-python is not installed", allow_module_level=True)
import_llama_cpp()  # sets OMP_WAIT_POLICY before llama_cpp loads

from core.arena.prompts import RAW_TEMPLATE, completion_prompt  # noqa: E402
from core.arena.providers import (EmbeddedProvider, OpenAICompatProvider, ProviderStatus,  # noqa: E402
                                  auto_provider)
from core.arena.providers.embedded import default_gguf_path, load_llama  # noqa: E402
from core.arena.providers import openai_status, local_status  # noqa: E402
from core.errors import ConfigError, ProviderError  # noqa: E402

MAX_TOKENS = 16


@pytest.fixture(scope="session")
def gguf_path():
    return default_gguf_path()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def llama_server(gguf_path, tmp_path_factory):
    """Start `python -m llama_cpp.server` on a free local port; yield its base URL."""
    port = _free_port()
    log = tmp_path_factory.mktemp("llama_server") / "server.log"
    with open(log, "wb") as fh:
        proc = subprocess.Popen(
            [sys.executable, "-m", "llama_cpp.server", "--model", str(gguf_path), "--host", "127.0.0.1",
             "--port", str(port), "--n_ctx", "1024", "--n_threads", "1", "--model_alias", "gemma-test"],
            stdout=fh, stderr=subprocess.STDOUT, env={**os.environ, "OMP_WAIT_POLICY": "PASSIVE"})
    base = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 120
    try:
        while True:
            if proc.poll() is not None:
                pytest.fail(f"llama_cpp.server exited early:\n{log.read_text(errors='replace')[-2000:]}")
            try:
                if requests.get(f"{base}/models", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                pytest.fail("llama_cpp.server did not answer /v1/models within 120 s")
            time.sleep(0.5)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


MESSAGES = [{"role": "user", "content": "<query>Where is my parcel?</query>"}]


def test_server_model_list(llama_server):
    prov = OpenAICompatProvider(llama_server)
    assert prov.list_models() == ["gemma-test"]
    status = openai_status(llama_server)
    assert status.available and status.models == ["gemma-test"]
    assert "127.0.0.1" in status.reason


def test_server_generate(llama_server):
    prov = OpenAICompatProvider(llama_server)  # model taken from /v1/models
    r = prov.generate("You answer customers.", MESSAGES, MAX_TOKENS, 0.0)
    assert r.provider == "openai" and r.model_id == "gemma-test"
    assert r.input_tokens and r.input_tokens > 10
    assert 1 <= r.output_tokens <= MAX_TOKENS
    assert r.stop_reason in ("stop", "length")
    assert r.latency_ms > 0


def test_server_stream(llama_server):
    prov = OpenAICompatProvider(llama_server, "gemma-test")
    stream = prov.stream("You answer customers.", MESSAGES, MAX_TOKENS, 0.0)
    chunks = list(stream)
    r = stream.response
    assert len(chunks) >= 2, "the answer should arrive in several SSE chunks"
    assert "".join(chunks) == r.text
    assert r.stop_reason in ("stop", "length")
    assert r.latency_ms > 0


def test_server_errors_are_provider_errors(llama_server):
    bad_path = OpenAICompatProvider(llama_server.replace("/v1", "/nope"), "gemma-test")
    with pytest.raises(ProviderError) as info:
        bad_path.generate("s", MESSAGES, 4)
    assert info.value.code == "HTTP404" and "Check the base URL" in str(info.value)
    closed = OpenAICompatProvider(f"http://127.0.0.1:{_free_port()}/v1", "m")
    with pytest.raises(ProviderError) as info:
        closed.generate("s", MESSAGES, 4)
    assert info.value.retryable and "is it running" in str(info.value)


def test_bad_base_url_is_config_error():
    with pytest.raises(ConfigError):
        OpenAICompatProvider("localhost:11434")


def test_embedded_generate_and_stream_agree(gguf_path):
    prov = EmbeddedProvider()
    assert "base model" in prov.description and prov.is_base_model
    prompt = RAW_TEMPLATE.render(query="Where is my parcel?")
    r = prov.generate(prompt.system, prompt.messages, MAX_TOKENS, 0.0)
    llm = load_llama(gguf_path)
    assert llm is prov.llama()  # loaded once, then reused
    text, _ = completion_prompt(prompt.system, prompt.messages)
    assert r.input_tokens == len(llm.tokenize(text.encode("utf-8"), add_bos=True))
    assert prov.prompt_as_sent(prompt.system, prompt.messages) == text
    assert 0 <= r.output_tokens <= MAX_TOKENS
    assert r.stop_reason in ("stop", "length")
    assert r.model_id == "gemma-3-270m-q4_k_m.gguf" and r.provider == "local"
    stream = prov.stream(prompt.system, prompt.messages, MAX_TOKENS, 0.0)
    chunks = list(stream)
    assert "".join(chunks).strip() == stream.response.text == r.text  # greedy decoding: same text
    assert stream.response.input_tokens == r.input_tokens


def test_embedded_rejects_bad_files(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        EmbeddedProvider(tmp_path / "missing.gguf").generate("s", MESSAGES, 4)
    fake = tmp_path / "fake.gguf"
    fake.write_bytes(b"NOTAGGUF" * 10)
    with pytest.raises(ConfigError, match="not a GGUF"):
        EmbeddedProvider(fake).generate("s", MESSAGES, 4)


def test_embedded_prompt_too_long_for_context():
    prov = EmbeddedProvider(n_ctx=256)
    with pytest.raises(ConfigError, match="exceeds"):
        prov.generate("s", [{"role": "user", "content": "<query>" + "word " * 400 + "</query>"}], 16)


def test_local_status_and_auto_pick_order(gguf_path, llama_server):
    st = local_status()
    assert st.available and st.models == ["gemma-3-270m-q4_k_m.gguf"]
    assert os.path.samefile(st.detail["path"], gguf_path)
    srv = openai_status(llama_server)
    no_bedrock = ProviderStatus("bedrock", False, "no credentials")
    picked = auto_provider(statuses=[no_bedrock, srv, st], base_url=llama_server)
    assert isinstance(picked, OpenAICompatProvider) and picked.model_id == "gemma-test"
    no_server = ProviderStatus("openai", False, "nothing on 11434")
    assert isinstance(auto_provider(statuses=[no_bedrock, no_server, st]), EmbeddedProvider)
    with pytest.raises(ProviderError, match="nothing on 11434"):
        auto_provider(statuses=[no_bedrock, no_server, ProviderStatus("local", False, "no llama")])


def test_busy_model_times_out_instead_of_hanging():
    prov = EmbeddedProvider()
    prov.busy_timeout_s = 0.2
    first = prov.stream("s", MESSAGES, MAX_TOKENS, 0.0)
    next(iter(first), None)  # generation started: the model's lock is held by this stream
    try:
        with pytest.raises(ProviderError) as info:
            prov.generate("s", MESSAGES, 4)
        assert info.value.code == "Busy" and info.value.retryable
    finally:
        first._gen.close()  # abandoning the stream releases the lock
    assert prov.generate("s", MESSAGES, 2).output_tokens <= 2


def test_embedded_passes_stop_sequences_to_llama(gguf_path, monkeypatch):
    """The base model is stopped at the next example marker, an "Answer:" label or a repeated query."""
    from core.arena.prompts import CONTEXTUALISED_TEMPLATE, context_values, few_shot_messages, select_few_shot_cases
    prov = EmbeddedProvider()
    llm = prov.llama()
    calls = []
    real = llm.create_completion

    def recording(prompt, **kwargs):
        calls.append((prompt, kwargs))
        return real(prompt, **kwargs)

    monkeypatch.setattr(llm, "create_completion", recording)
    q = "二重に請求されています。"
    p = few_shot_messages(CONTEXTUALISED_TEMPLATE, context_values(
        query=q, category="billing", confidence=0.9, top_k=[("billing", .9)], sentiment="NEGATIVE",
        urgency="high"), cases=select_few_shot_cases(q, "billing"))  # the bundled cases, chosen explicitly
    r = prov.generate(p.system, p.messages, 48, 0.0)
    stream = prov.stream(p.system, p.messages, 48, 0.0)
    list(stream)
    assert len(calls) == 2
    for prompt, kwargs in calls:
        assert {"###", "Answer:", "<query>", "\n\n"} <= set(kwargs["stop"])
        assert prompt.endswith("Reply in Japanese.\nAnswer:")
        # worked examples are Japanese and not billing, so nothing is copyable for this query
        assert prompt.count("### Request:") == 4 and "同じ注文で二回請求" not in prompt
    assert calls[1][1]["stream"] is True
    for text in (r.text, stream.response.text):
        assert "###" not in text and "Answer:" not in text and "<query>" not in text


CHOICE_LABELS = ["card_arrival", "weather/find", "配送の遅延", "返金", "lost_or_stolen_card"]
CHOICE_SYSTEM = ("Classify the customer request. Answer with the key of one label:\n"
                 "- Card arrival: card_arrival\n- Weather / find: weather/find\n- 配送の遅延: 配送の遅延\n"
                 "- 返金: 返金\n- Lost or stolen card: lost_or_stolen_card")


def test_server_choose_is_always_in_the_label_set(llama_server):
    """llama-cpp-python's server refuses the OpenAI `json_schema` style (HTTP 500 validation error) and
    takes `json_object` + `schema`: the provider falls back once, remembers it, and every answer is a label."""
    from core.arena.choice import parse_choice
    prov = OpenAICompatProvider(llama_server, "gemma-test")
    queries = ["Where is my new card?", "明日の天気は？", "荷物がまだ届きません", "返金してください",
               "I lost my wallet", "hello"]
    for q in queries:
        r = prov.choose(CHOICE_SYSTEM, [{"role": "user", "content": f"<query>{q}</query>"}], CHOICE_LABELS,
                        max_tokens=40)
        assert r.text in CHOICE_LABELS, (q, r.text)
        assert parse_choice(r.text, CHOICE_LABELS) == r.text
        assert r.input_tokens > 50 and 3 <= r.output_tokens <= 40
        assert r.stop_reason == "stop" and r.latency_ms > 0 and r.model_id == "gemma-test"
    assert prov._choice_format == "json_object"


def test_server_choose_with_a_cut_answer_is_invalid_not_an_error(llama_server):
    from core.arena.choice import parse_choice
    prov = OpenAICompatProvider(llama_server, "gemma-test")
    r = prov.choose(CHOICE_SYSTEM, [{"role": "user", "content": "<query>Where is my card?</query>"}],
                    CHOICE_LABELS, max_tokens=3)
    assert r.stop_reason == "length" and r.output_tokens == 3
    assert parse_choice(r.text, CHOICE_LABELS) is None


def test_omp_wait_policy_is_set_only_when_llama_cpp_loads(tmp_path):
    """Importing Crossroads leaves OMP_WAIT_POLICY alone; loading llama.cpp sets it first, unless the user did."""
    code = ("import os, sys; import core.arena, core.arena.providers; "
            "before = os.environ.get('OMP_WAIT_POLICY'); "
            "from core.arena.providers.embedded import import_llama_cpp; import_llama_cpp(); "
            "print(before, os.environ.get('OMP_WAIT_POLICY'), 'llama_cpp' in sys.modules)")
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert out.stdout.split() == ["None", "PASSIVE", "True"], out.stderr
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         env={**env, "OMP_WAIT_POLICY": "ACTIVE"})
    assert out.stdout.split() == ["ACTIVE", "ACTIVE", "True"], out.stderr


def test_llama_threads_setting(monkeypatch):
    from core.arena.providers.embedded import default_n_threads

    monkeypatch.delenv("CROSSROADS_LLAMA_THREADS", raising=False)
    assert default_n_threads() is None  # llama-cpp-python's own default
    monkeypatch.setenv("CROSSROADS_LLAMA_THREADS", "1")
    llm = load_llama(default_gguf_path(), n_ctx=256)
    assert default_n_threads() == 1 and llm.n_threads == 1
