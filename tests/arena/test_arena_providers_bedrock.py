"""Bedrock provider against botocore's Stubber on a real bedrock-runtime client.

Stubber validates every request against the real Converse API model, so a
wrong parameter name or type fails here exactly as it would against AWS.
"""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber

from core.arena.providers import BedrockProvider, available_providers
from core.arena.providers.bedrock import (BUILTIN_MODEL_IDS, accepts_temperature, base_model_id)
from core.errors import ConfigError, ProviderError

SONNET = "us.anthropic.claude-sonnet-4-6"
OPUS47 = "global.anthropic.claude-opus-4-7"


def _client(service="bedrock-runtime"):
    return boto3.client(service, region_name="us-west-2", aws_access_key_id="AKIDEXAMPLE",
                        aws_secret_access_key="secret-example")


def _converse_response(text="Hello there", stop="end_turn", inp=42, out=7):
    return {"output": {"message": {"role": "assistant", "content": [{"text": text}]}},
            "stopReason": stop, "usage": {"inputTokens": inp, "outputTokens": out, "totalTokens": inp + out},
            "metrics": {"latencyMs": 321}}


def test_converse_request_and_response_are_mapped():
    client = _client()
    prov = BedrockProvider(SONNET, client=client)
    expected = {
        "modelId": SONNET,
        "system": [{"text": "be brief"}],
        "messages": [{"role": "user", "content": [{"text": "<query>hi</query>"}]}],
        "inferenceConfig": {"maxTokens": 32, "temperature": 0.2},
    }
    with Stubber(client) as stub:
        stub.add_response("converse", _converse_response(), expected)
        r = prov.generate("be brief", [{"role": "user", "content": "<query>hi</query>"}], 32, 0.2)
        stub.assert_no_pending_responses()
    assert r.text == "Hello there"
    assert (r.input_tokens, r.output_tokens) == (42, 7)
    assert r.stop_reason == "end_turn"
    assert r.model_id == SONNET and r.provider == "bedrock"
    assert r.latency_ms >= 0
    assert prov.region == "us-west-2"


def test_temperature_not_sent_to_opus_4_7():
    client = _client()
    prov = BedrockProvider(OPUS47, client=client)
    expected = {"modelId": OPUS47, "messages": [{"role": "user", "content": [{"text": "q"}]}],
                "inferenceConfig": {"maxTokens": 16}}
    with Stubber(client) as stub:
        stub.add_response("converse", _converse_response(stop="max_tokens"), expected)
        r = prov.generate("", [{"role": "user", "content": "q"}], 16, 0.7)
    assert r.stop_reason == "max_tokens"


@pytest.mark.parametrize("model_id,accepts", [
    ("global.anthropic.claude-opus-4-7", False),
    ("anthropic.claude-opus-4-8", False),
    ("arn:aws:bedrock:us-east-1:111122223333:inference-profile/us.anthropic.claude-opus-4-7", False),
    ("us.anthropic.claude-sonnet-4-6", True),
    ("eu.anthropic.claude-haiku-4-5-20251001-v1:0", True),
    ("anthropic.claude-opus-4-20250514-v1:0", True),
    ("anthropic.claude-opus-4-1-20250805-v1:0", True),
    ("anthropic.claude-3-5-sonnet-20240620-v1:0", True),
    ("amazon.nova-pro-v1:0", True),
])
def test_accepts_temperature(model_id, accepts):
    assert accepts_temperature(model_id) is accepts


def test_base_model_id_strips_profile_prefix():
    assert base_model_id("apac.anthropic.claude-sonnet-4-6") == "anthropic.claude-sonnet-4-6"
    assert base_model_id("anthropic.claude-sonnet-4-6") == "anthropic.claude-sonnet-4-6"


@pytest.mark.parametrize("code,status,retryable,words", [
    ("ThrottlingException", 429, True, ["retried 3 times", "ThrottlingException"]),
    ("ModelNotReadyException", 429, True, ["retried 3 times", "not ready"]),
    ("AccessDeniedException", 403, False, ["Setup error", "Enable access", "bedrock:InvokeModel"]),
    ("ValidationException", 400, False, ["Setup error", "inference profile", "malformed input"]),
    ("ResourceNotFoundException", 404, False, ["Setup error", "not found"]),
    ("ModelTimeoutException", 408, False, ["took too long", "max tokens"]),
])
def test_errors_are_classified(code, status, retryable, words):
    client = _client()
    prov = BedrockProvider(SONNET, client=client, max_attempts=4)
    with Stubber(client) as stub:
        stub.add_client_error("converse", service_error_code=code, service_message="malformed input",
                              http_status_code=status, response_meta={"RetryAttempts": 3})
        with pytest.raises(ProviderError) as info:
            prov.generate("s", [{"role": "user", "content": "q"}], 16)
    err = info.value
    assert err.code == code
    assert err.retryable is retryable
    for w in words:
        assert w in str(err)
    assert "Traceback" not in str(err)


def test_stream_events_become_chunks_and_final_response():
    class FakeStreamClient:
        """converse_stream's parsed event stream (Stubber cannot build EventStream objects)."""
        meta = _client().meta

        def __init__(self):
            self.calls = []

        def converse_stream(self, **kwargs):
            self.calls.append(kwargs)
            events = [{"messageStart": {"role": "assistant"}},
                      {"contentBlockDelta": {"delta": {"text": "Hel"}, "contentBlockIndex": 0}},
                      {"contentBlockDelta": {"delta": {"text": "lo"}, "contentBlockIndex": 0}},
                      {"contentBlockStop": {"contentBlockIndex": 0}},
                      {"messageStop": {"stopReason": "end_turn"}},
                      {"metadata": {"usage": {"inputTokens": 9, "outputTokens": 2, "totalTokens": 11},
                                    "metrics": {"latencyMs": 50}}}]
            return {"stream": iter(events)}

    fake = FakeStreamClient()
    prov = BedrockProvider(SONNET, client=fake)
    stream = prov.stream("sys", [{"role": "user", "content": "q"}], 16)
    assert list(stream) == ["Hel", "lo"]
    r = stream.response
    assert (r.text, r.input_tokens, r.output_tokens, r.stop_reason) == ("Hello", 9, 2, "end_turn")
    # The request the stream sent is a valid ConverseStream request for the real API model.
    from botocore.validate import validate_parameters
    op = _client().meta.service_model.operation_model("ConverseStream")
    validate_parameters(fake.calls[0], op.input_shape)


def test_stream_error_event_is_a_provider_error():
    class ErrClient:
        meta = _client().meta

        def converse_stream(self, **kwargs):
            return {"stream": iter([{"contentBlockDelta": {"delta": {"text": "a"}}},
                                    {"throttlingException": {"message": "slow down"}}])}

    stream = BedrockProvider(SONNET, client=ErrClient()).stream("s", [{"role": "user", "content": "q"}], 8)
    assert next(stream) == "a"
    with pytest.raises(ProviderError) as info:
        next(stream)
    assert info.value.code == "ThrottlingException" and info.value.retryable


def test_model_list_from_profiles_and_foundation_models():
    ctl = _client("bedrock")
    prov = BedrockProvider(SONNET, client=_client(), control_client=ctl)
    with Stubber(ctl) as stub:
        stub.add_response("list_inference_profiles", {"inferenceProfileSummaries": [
            {"inferenceProfileName": "US Sonnet", "inferenceProfileArn": "arn:aws:bedrock:us-west-2:1:inference-profile/us.anthropic.claude-sonnet-4-6",
             "inferenceProfileId": "us.anthropic.claude-sonnet-4-6", "status": "ACTIVE", "type": "SYSTEM_DEFINED",
             "models": [{"modelArn": "arn:aws:bedrock:us-west-2::foundation-model/anthropic.claude-sonnet-4-6"}]},
            {"inferenceProfileName": "Global Haiku", "inferenceProfileArn": "arn:aws:bedrock:us-west-2:1:inference-profile/global.anthropic.claude-haiku-4-5-20251001-v1:0",
             "inferenceProfileId": "global.anthropic.claude-haiku-4-5-20251001-v1:0", "status": "ACTIVE", "type": "SYSTEM_DEFINED",
             "models": [{"modelArn": "arn:aws:bedrock:us-west-2::foundation-model/anthropic.claude-haiku-4-5-20251001-v1:0"}]},
            {"inferenceProfileName": "Nova", "inferenceProfileArn": "arn:aws:bedrock:us-west-2:1:inference-profile/us.amazon.nova-pro-v1:0",
             "inferenceProfileId": "us.amazon.nova-pro-v1:0", "status": "ACTIVE", "type": "SYSTEM_DEFINED",
             "models": [{"modelArn": "arn:aws:bedrock:us-west-2::foundation-model/amazon.nova-pro-v1:0"}]},
        ]}, {"typeEquals": "SYSTEM_DEFINED", "maxResults": 1000})
        stub.add_response("list_foundation_models", {"modelSummaries": [
            {"modelArn": "arn:aws:bedrock:us-west-2::foundation-model/anthropic.claude-3-haiku-20240307-v1:0",
             "modelId": "anthropic.claude-3-haiku-20240307-v1:0", "inferenceTypesSupported": ["ON_DEMAND"],
             "modelLifecycle": {"status": "ACTIVE"}},
            {"modelArn": "arn:aws:bedrock:us-west-2::foundation-model/anthropic.claude-opus-4-7",
             "modelId": "anthropic.claude-opus-4-7", "inferenceTypesSupported": ["INFERENCE_PROFILE"],
             "modelLifecycle": {"status": "ACTIVE"}},
        ]}, {"byProvider": "Anthropic", "byOutputModality": "TEXT"})
        models = prov.list_models()
    assert models == ["global.anthropic.claude-haiku-4-5-20251001-v1:0",
                      "us.anthropic.claude-sonnet-4-6",
                      "anthropic.claude-3-haiku-20240307-v1:0"]


def test_model_list_falls_back_when_listing_is_denied():
    ctl = _client("bedrock")
    prov = BedrockProvider(SONNET, client=_client(), control_client=ctl)
    with Stubber(ctl) as stub:
        stub.add_client_error("list_inference_profiles", "AccessDeniedException", "no", 403)
        stub.add_client_error("list_foundation_models", "AccessDeniedException", "no", 403)
        models = prov.list_models()
    assert models == list(BUILTIN_MODEL_IDS)
    assert any(m.startswith("global.") for m in models) and any(m.startswith("eu.") for m in models)


@pytest.fixture
def no_aws(monkeypatch, tmp_path):
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
                "AWS_DEFAULT_PROFILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_WEB_IDENTITY_TOKEN_FILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none-credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none-config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("CROSSROADS_OPENAI_BASE_URL", "http://127.0.0.1:9/v1")  # nothing listens on port 9


def test_no_credentials_is_a_clear_provider_error(no_aws):
    prov = BedrockProvider(SONNET, region="eu-west-1")
    assert not prov.has_credentials()
    with pytest.raises(ProviderError) as info:
        prov.generate("s", [{"role": "user", "content": "q"}], 16)
    assert info.value.code == "NoCredentials"
    assert "No AWS credentials found" in str(info.value)


def test_availability_explains_missing_bedrock_and_server(no_aws):
    statuses = {s.name: s for s in available_providers()}
    assert list(statuses) == ["bedrock", "openai", "local"]
    assert not statuses["bedrock"].available and "credentials" in statuses["bedrock"].reason
    assert not statuses["openai"].available and "127.0.0.1:9" in statuses["openai"].reason


def test_bad_arguments_are_config_errors():
    prov = BedrockProvider(SONNET, client=_client())
    with pytest.raises(ConfigError):
        prov.generate("s", [], 16)
    with pytest.raises(ConfigError):
        prov.generate("s", [{"role": "user", "content": "q"}], 0)
    with pytest.raises(ConfigError):
        prov.generate("s", [{"role": "robot", "content": "q"}], 5)


def test_runtime_client_uses_standard_retries(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret-example")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    prov = BedrockProvider(SONNET, region="eu-central-1", max_attempts=4)
    client = prov.runtime_client()  # no network call
    assert client.meta.config.retries == {"mode": "standard", "total_max_attempts": 4}
    assert client.meta.region_name == "eu-central-1"
    assert client is prov.runtime_client()


def test_status_with_listing_denied_offers_builtin_list():
    from core.arena.providers import bedrock_status
    ctl = _client("bedrock")
    prov = BedrockProvider(SONNET, client=_client(), control_client=ctl)
    with Stubber(ctl) as stub:
        stub.add_client_error("list_inference_profiles", "AccessDeniedException", "no", 403)
        stub.add_client_error("list_foundation_models", "AccessDeniedException", "no", 403)
        st = bedrock_status(provider=prov)
    assert st.available and st.models == list(BUILTIN_MODEL_IDS)
    assert "not permitted" in st.reason and st.detail["region"] == "us-west-2"


def test_status_unreachable_endpoint_is_unavailable():
    from botocore.exceptions import EndpointConnectionError

    from core.arena.providers import bedrock_status

    class Unreachable:  # a control client whose endpoint does not answer (models are listed with a paginator)
        def get_paginator(self, name):
            return self

        def paginate(self, **kwargs):
            raise EndpointConnectionError(endpoint_url="https://bedrock.us-west-2.amazonaws.com")

    prov = BedrockProvider(SONNET, client=_client(), control_client=Unreachable())
    st = bedrock_status(provider=prov)
    assert not st.available and "unreachable" in st.reason


def test_model_list_follows_every_page_of_inference_profiles():
    """boto3's paginator follows nextToken: profiles on the second page are listed too."""
    ctl = _client("bedrock")
    prov = BedrockProvider(SONNET, client=_client(), control_client=ctl)

    def profile(pid):
        return {"inferenceProfileName": pid, "inferenceProfileArn": f"arn:aws:bedrock:us-west-2:1:inference-profile/{pid}",
                "inferenceProfileId": pid, "status": "ACTIVE", "type": "SYSTEM_DEFINED",
                "models": [{"modelArn": "arn:aws:bedrock:us-west-2::foundation-model/x"}]}

    with Stubber(ctl) as stub:
        stub.add_response("list_inference_profiles", {"inferenceProfileSummaries": [profile("us.anthropic.claude-sonnet-4-6")],
                                                      "nextToken": "page-2"},
                          {"typeEquals": "SYSTEM_DEFINED", "maxResults": 1000})
        stub.add_response("list_inference_profiles",
                          {"inferenceProfileSummaries": [profile("global.anthropic.claude-opus-4-7")]},
                          {"typeEquals": "SYSTEM_DEFINED", "maxResults": 1000, "nextToken": "page-2"})
        stub.add_response("list_foundation_models", {"modelSummaries": []},
                          {"byProvider": "Anthropic", "byOutputModality": "TEXT"})
        models = prov.list_models()
        stub.assert_no_pending_responses()
    assert models == ["global.anthropic.claude-opus-4-7", "us.anthropic.claude-sonnet-4-6"]
