"""The provider registry: one spec per provider, read by make/auto/available, pricing, the CLI and the page.

A fake provider registered here must show up in ``python -m core respond --help``
choices and in the Prompt Arena's provider picker, answer there, and be priced
from its spec, without any other file knowing about it.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.arena.pricing import load_prices
from core.arena.providers import (LABELS, PROVIDERS, BedrockProvider, EmbeddedProvider, LLMProvider,
                                  LLMResponse, OpenAICompatProvider, ProviderSpec, ProviderStatus,
                                  auto_provider, available_providers, make_provider, provider_spec,
                                  register_provider, unregister_provider)
from core.arena.providers.base import now_ms
from core.cli import build_parser
from core.errors import ConfigError, ProviderError

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "prompt_arena.py")


class FakeProvider(LLMProvider):
    """Answers every prompt with a fixed sentence; chooses the first label."""

    name = "fake"
    description = "Fake provider registered by the registry tests."

    def __init__(self, model: str | None = None, *, endpoint: str = "mem://default"):
        super().__init__(model or "fake-1")
        self.endpoint = endpoint
        self.calls = 0

    def list_models(self):
        return ["fake-1", "fake-2"]

    def _generate(self, system, messages, max_tokens, temperature):
        self.calls += 1
        return LLMResponse("The fake provider says hello.", 11, 6, 1.5, "stop", self.model_id, self.name)

    def _stream(self, system, messages, max_tokens, temperature):
        start = now_ms()
        for piece in ("The fake ", "provider says hello."):
            yield piece
        return LLMResponse("The fake provider says hello.", 11, 6, round(now_ms() - start, 3) + 0.1,
                           "stop", self.model_id, self.name)


def _fake_probe(*, endpoint: str | None = None) -> ProviderStatus:
    return ProviderStatus("fake", True, f"Fake endpoint {endpoint or 'mem://default'} answered.",
                          ["fake-1", "fake-2"], "Fake LLM (test)")


FAKE = ProviderSpec(name="fake", label="Fake LLM (test)", factory=FakeProvider, probe=_fake_probe,
                    local=True, capabilities=frozenset({"stream"}), settings=("endpoint",))


@pytest.fixture
def fake_registered():
    register_provider(FAKE)
    try:
        yield FAKE
    finally:
        if "fake" in PROVIDERS:
            unregister_provider("fake")


def test_builtin_specs_declare_everything_once():
    assert list(PROVIDERS) == ["bedrock", "openai", "local"]
    bedrock, openai, local = (PROVIDERS[n] for n in ("bedrock", "openai", "local"))
    assert (bedrock.label, openai.label, local.label) == (
        "Amazon Bedrock", "OpenAI-compatible server", "Embedded model (offline)")
    assert (bedrock.local, openai.local, local.local) == (False, False, True)
    assert bedrock.settings == ("region", "profile") and openai.settings == ("base_url", "api_key")
    assert local.settings == ("model_path", "n_ctx")
    assert all(s.supports("constrained_choice") for s in (bedrock, openai, local))
    assert bedrock.supports("batch_inference") and not local.supports("batch_inference")
    # the compatibility views are derived from the registry
    assert dict(LABELS) == {n: s.label for n, s in PROVIDERS.items()}
    from core.arena import providers
    assert providers.PROVIDER_NAMES == ("bedrock", "openai", "local")


def test_register_and_unregister_update_every_view(fake_registered):
    from core.arena import providers
    assert provider_spec("fake") is FAKE
    assert providers.PROVIDER_NAMES[-1] == "fake" and LABELS["fake"] == "Fake LLM (test)"
    # registering an existing name replaces it in place
    original = PROVIDERS["bedrock"]
    register_provider(ProviderSpec(name="bedrock", label="Bedrock (replaced)", factory=FakeProvider,
                                   probe=_fake_probe, local=False, capabilities=frozenset()))
    try:
        assert list(PROVIDERS)[0] == "bedrock" and LABELS["bedrock"] == "Bedrock (replaced)"
    finally:
        register_provider(original)
    assert PROVIDERS["bedrock"] is original and list(PROVIDERS)[:3] == ["bedrock", "openai", "local"]
    removed = unregister_provider("fake")
    assert removed is FAKE and "fake" not in providers.PROVIDER_NAMES
    with pytest.raises(ConfigError, match="unknown provider 'fake'"):
        provider_spec("fake")


@pytest.mark.parametrize("kwargs,match", [
    (dict(name="auto"), "not valid"),
    (dict(name="Bad Name"), "not valid"),
    (dict(label=""), "needs a label"),
    (dict(capabilities=frozenset({"telepathy"})), "unknown capabilities"),
    (dict(factory="not callable"), "callables"),
])
def test_bad_specs_are_config_errors(kwargs, match):
    base = dict(name="ok", label="OK", factory=FakeProvider, probe=_fake_probe, local=False,
                capabilities=frozenset())
    with pytest.raises(ConfigError, match=match):
        ProviderSpec(**{**base, **kwargs})
    with pytest.raises(ConfigError, match="ProviderSpec"):
        register_provider({"name": "x"})


def test_make_provider_reads_the_registry(fake_registered):
    prov = make_provider("fake", "fake-2", endpoint="mem://x", region="ignored-for-fake")
    assert isinstance(prov, FakeProvider) and prov.model_id == "fake-2" and prov.endpoint == "mem://x"
    with pytest.raises(ConfigError, match="does not take"):
        make_provider("fake", None, n_ctx=4096)
    with pytest.raises(ConfigError, match="unknown provider 'nope'.*auto, bedrock, openai, local, fake"):
        make_provider("nope")
    # the built-in ones keep their settings
    local = make_provider("local", None, n_ctx=4096, model_path=None)
    assert isinstance(local, EmbeddedProvider) and local.n_ctx == 4096 and local.model_path is None
    assert make_provider("local", "gemma-3-270m-q4_k_m.gguf").model_path is None  # the probe's file name = default
    assert str(make_provider("local", "/tmp/x.gguf").model_path) == "/tmp/x.gguf"
    srv = make_provider("openai", "m", base_url="http://127.0.0.1:9/v1")
    assert isinstance(srv, OpenAICompatProvider) and srv.base_url == "http://127.0.0.1:9/v1"
    with pytest.raises(ConfigError, match="n_ctx"):
        make_provider("local", n_ctx=0)


def test_available_and_auto_follow_registry_order(fake_registered, monkeypatch):
    statuses = [ProviderStatus("bedrock", False, "no credentials"), ProviderStatus("openai", False, "no server"),
                ProviderStatus("local", False, "no llama"), _fake_probe(endpoint="mem://e")]
    picked = auto_provider(statuses=statuses, endpoint="mem://e")
    assert isinstance(picked, FakeProvider) and picked.model_id == "fake-1" and picked.endpoint == "mem://e"
    with pytest.raises(ProviderError, match="fake: Fake endpoint") as info:
        auto_provider(statuses=statuses[:3] + [ProviderStatus("fake", False, "fake: Fake endpoint down")])
    assert info.value.code == "NoProvider"

    # a probe that raises is reported, not fatal; each probe gets only its own settings
    seen = {}

    def broken_probe(**settings):
        seen.update(settings)
        raise RuntimeError("boom")

    register_provider(ProviderSpec(name="fake", label="Fake LLM (test)", factory=FakeProvider, probe=broken_probe,
                                   local=True, capabilities=frozenset(), settings=("endpoint",)))
    monkeypatch.setenv("CROSSROADS_OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    got = {s.name: s for s in available_providers(region="eu-west-1", endpoint="mem://z",
                                                  model_path="/nonexistent/x.gguf")}
    assert list(got) == ["bedrock", "openai", "local", "fake"]
    assert seen == {"endpoint": "mem://z"}
    assert not got["fake"].available and "boom" in got["fake"].reason
    assert not got["local"].available and "/nonexistent/x.gguf" in got["local"].reason


def test_bedrock_status_puts_the_default_model_first():
    import boto3
    from botocore.stub import Stubber

    from core.arena.providers import DEFAULT_MODEL_ID, bedrock_status
    client = boto3.client("bedrock-runtime", region_name="us-west-2", aws_access_key_id="AKIDEXAMPLE",
                          aws_secret_access_key="secret-example")
    ctl = boto3.client("bedrock", region_name="us-west-2", aws_access_key_id="AKIDEXAMPLE",
                       aws_secret_access_key="secret-example")
    prov = BedrockProvider("us.anthropic.claude-sonnet-4-6", client=client, control_client=ctl)
    profiles = [{"inferenceProfileName": n, "inferenceProfileArn": f"arn:aws:bedrock:us-west-2:1:inference-profile/{n}",
                 "inferenceProfileId": n, "status": "ACTIVE", "type": "SYSTEM_DEFINED",
                 "models": [{"modelArn": "arn:aws:bedrock:us-west-2::foundation-model/x"}]}
                for n in ("global.anthropic.claude-3-haiku", DEFAULT_MODEL_ID, "us.anthropic.claude-sonnet-4-6")]
    with Stubber(ctl) as stub:
        stub.add_response("list_inference_profiles", {"inferenceProfileSummaries": profiles},
                          {"typeEquals": "SYSTEM_DEFINED", "maxResults": 1000})
        stub.add_response("list_foundation_models", {"modelSummaries": []},
                          {"byProvider": "Anthropic", "byOutputModality": "TEXT"})
        st = bedrock_status(provider=prov)
    assert st.models[0] == DEFAULT_MODEL_ID and len(st.models) == 3
    picked = auto_provider(statuses=[st])
    assert isinstance(picked, BedrockProvider) and picked.model_id == DEFAULT_MODEL_ID


def test_pricing_reads_local_from_the_spec(fake_registered):
    prices = load_prices()
    assert prices.cost_usd("fake", "fake-1", 10_000, 10_000) == 0.0  # spec says local
    assert prices.cost_usd("local", "gemma-3-270m-q4_k_m.gguf", 10_000, 10_000) == 0.0
    # an OpenAI-compatible server is local only when the provider says so (localhost)
    assert prices.cost_usd("openai", "llama3.2", 10, 10) is None
    assert prices.cost_usd("openai", "llama3.2", 10, 10, local=True) == 0.0
    assert OpenAICompatProvider("http://127.0.0.1:11434/v1", "m").is_local()
    assert not OpenAICompatProvider("https://llm.example.com/v1", "m").is_local()
    assert FakeProvider().is_local() and EmbeddedProvider().is_local()
    assert not BedrockProvider("us.anthropic.claude-sonnet-4-6", client=_runtime()).is_local()
    assert prices.cost_usd("bedrock", "us.anthropic.claude-sonnet-4-6", 1000, 500) == pytest.approx(0.01155)


def _runtime():
    import boto3
    return boto3.client("bedrock-runtime", region_name="us-west-2", aws_access_key_id="AKIDEXAMPLE",
                        aws_secret_access_key="secret-example")


def test_effective_temperature_is_a_provider_method():
    assert BedrockProvider("global.anthropic.claude-opus-4-7", client=_runtime()).effective_temperature(0.3) is None
    assert BedrockProvider("us.anthropic.claude-sonnet-4-6", client=_runtime()).effective_temperature(0.3) == 0.3
    assert FakeProvider().effective_temperature(0.3) == 0.3 and FakeProvider().effective_temperature(None) is None


def test_cli_provider_choices_come_from_the_registry(fake_registered, capsys):
    parser = build_parser()
    with pytest.raises(SystemExit) as info:
        parser.parse_args(["respond", "--help"])
    assert info.value.code == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "{auto,bedrock,openai,local,fake}" in out
    assert "Fake LLM (test)" in out  # the auto help lists the labels in order
    args = parser.parse_args(["respond", "--train", "t.csv", "--text-column", "text", "--label-column", "label",
                              "--query", "q", "--provider", "fake"])
    assert args.provider == "fake"
    unregister_provider("fake")
    with pytest.raises(SystemExit) as info:
        build_parser().parse_args(["respond", "--train", "t.csv", "--text-column", "text", "--label-column",
                                   "label", "--query", "q", "--provider", "fake"])
    assert info.value.code == 2
    assert "invalid choice: 'fake'" in capsys.readouterr().err


def test_cli_runs_with_the_fake_provider(fake_registered, capsys):
    from core.arena.classifier import sample_queries_path
    from core.cli import main
    status = main(["respond", "--train", str(sample_queries_path()), "--text-column", "text",
                   "--label-column", "label", "--query", f"Where is my parcel {uuid.uuid4().hex[:6]}?",
                   "--provider", "fake", "--model", "fake-2", "--no-cache"])
    out = capsys.readouterr().out
    assert status == 0
    assert "provider: fake" in out and "model: fake-2" in out
    assert out.count("The fake provider says hello.") == 2
    assert out.count("cost usd: $0.000000") == 2  # local per its spec


def test_prompt_arena_offers_and_uses_a_registered_provider(fake_registered):
    at = AppTest.from_file(PAGE, default_timeout=300).run()
    assert not at.exception, [e.value for e in at.exception]
    picker = at.selectbox(key="arena_provider")
    assert "Fake LLM (test)" in picker.options  # labels from the spec
    assert any("Fake endpoint mem://default answered." in s.value for s in at.success)
    picker.set_value("fake").run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.selectbox(key="arena_model_fake").options == ["fake-1", "fake-2"]
    assert any(c.value == FakeProvider.description for c in at.caption)
    at.text_area(key="arena_query").input(f"I was charged twice {uuid.uuid4().hex[:6]}").run()
    at.button(key="arena_go").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    costs = [m.value for m in at.metric if m.label == "Cost"]
    outs = [m.value for m in at.metric if m.label == "Output tokens"]
    assert costs == ["$0 (local)", "$0 (local)"] and outs == ["6", "6"]
    assert any("Model fake-1" in c.value for c in at.caption)
