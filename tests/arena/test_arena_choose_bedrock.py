"""Bedrock constrained choice: Converse tool use with an enum, on botocore's Stubber.

Stubber validates each request against the real bedrock-runtime Converse model
(toolConfig, toolChoice union, document-typed inputSchema), and each canned
response against the output shape, so a malformed request fails here as at AWS.
"""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber

from core.arena.choice import parse_choice
from core.arena.providers import BedrockProvider
from core.arena.providers.base import label_json_schema
from core.arena.providers.bedrock import CHOICE_TOOL, choice_tool_mode
from core.errors import ConfigError, ProviderError

HAIKU = "global.anthropic.claude-haiku-4-5-20251001-v1:0"
OPUS47 = "us.anthropic.claude-opus-4-7"
OPUS55 = "global.anthropic.claude-opus-5-5"
LABELS = ["card_arrival", "weather/find", "返金"]
SYSTEM = "Choose the label of the request."
MSGS = [{"role": "user", "content": "<query>お金を返して</query>"}]


def _client():
    return boto3.client("bedrock-runtime", region_name="us-east-1", aws_access_key_id="AKIDEXAMPLE",
                        aws_secret_access_key="secret-example")


def _expected(model, choice, *, temperature=0.0, max_tokens=48):
    inference = {"maxTokens": max_tokens}
    if temperature is not None:
        inference["temperature"] = temperature
    return {"modelId": model, "system": [{"text": SYSTEM}],
            "messages": [{"role": "user", "content": [{"text": "<query>お金を返して</query>"}]}],
            "inferenceConfig": inference,
            "toolConfig": {"tools": [{"toolSpec": {
                "name": CHOICE_TOOL, "description": "Record the one label that fits the user's request.",
                "inputSchema": {"json": label_json_schema(LABELS)}}}], "toolChoice": choice}}


def _reply(content, stop="tool_use", inp=412, out=38):
    return {"output": {"message": {"role": "assistant", "content": content}}, "stopReason": stop,
            "usage": {"inputTokens": inp, "outputTokens": out, "totalTokens": inp + out},
            "metrics": {"latencyMs": 250}}


def _tool(value):
    return {"toolUse": {"toolUseId": "tooluse_1", "name": CHOICE_TOOL, "input": value}}


FORCED = {"tool": {"name": CHOICE_TOOL}}


def test_tool_use_answer_is_the_label():
    client = _client()
    prov = BedrockProvider(HAIKU, client=client)
    with Stubber(client) as stub:
        stub.add_response("converse", _reply([_tool({"label": "返金"})]), _expected(HAIKU, FORCED))
        r = prov.choose(SYSTEM, MSGS, LABELS)
        stub.assert_no_pending_responses()
    assert r.text == "返金" and parse_choice(r.text, LABELS) == "返金"
    assert (r.input_tokens, r.output_tokens, r.stop_reason) == (412, 38, "tool_use")
    assert r.provider == "bedrock" and r.model_id == HAIKU and r.latency_ms >= 0


def test_text_only_answer_is_returned_for_parsing():
    client = _client()
    prov = BedrockProvider(HAIKU, client=client)
    with Stubber(client) as stub:
        stub.add_response("converse", _reply([{"text": "Weather / find"}], stop="end_turn", out=6),
                          _expected(HAIKU, FORCED))
        r = prov.choose(SYSTEM, MSGS, LABELS)
    assert r.text == "Weather / find" and r.stop_reason == "end_turn" and r.output_tokens == 6
    assert parse_choice(r.text, LABELS) == "weather/find"


@pytest.mark.parametrize("value", [{"category": "返金"}, {"label": 3}, {"label": "refund"}, {}])
def test_malformed_tool_input_is_an_invalid_choice_not_an_error(value):
    client = _client()
    prov = BedrockProvider(HAIKU, client=client)
    with Stubber(client) as stub:
        stub.add_response("converse", _reply([{"text": "Here is my pick."}, _tool(value)]), _expected(HAIKU, FORCED))
        r = prov.choose(SYSTEM, MSGS, LABELS)
    assert parse_choice(r.text, LABELS) is None
    if isinstance(value.get("label"), str):
        assert r.text == value["label"]
    else:
        assert r.text.startswith("{")  # the tool input as JSON, never the preamble text


def test_reasoning_block_before_the_tool_call_is_skipped():
    client = _client()
    prov = BedrockProvider(OPUS55, client=client)
    content = [{"reasoningContent": {"reasoningText": {"text": "", "signature": "sig"}}},
               _tool({"label": "card_arrival"})]
    with Stubber(client) as stub:
        stub.add_response("converse", _reply(content), _expected(OPUS55, {"auto": {}}, temperature=None))
        r = prov.choose(SYSTEM, MSGS, LABELS)
    assert r.text == "card_arrival"


def test_temperature_rule_applies_to_choose():
    client = _client()
    prov = BedrockProvider(OPUS47, client=client)
    with Stubber(client) as stub:
        stub.add_response("converse", _reply([_tool({"label": "card_arrival"})]),
                          _expected(OPUS47, FORCED, temperature=None, max_tokens=64))
        r = prov.choose(SYSTEM, MSGS, LABELS, max_tokens=64, temperature=0.0)
    assert r.text == "card_arrival"


def test_throttling_is_a_retryable_provider_error():
    client = _client()
    prov = BedrockProvider(HAIKU, client=client)
    with Stubber(client) as stub:
        stub.add_client_error("converse", "ThrottlingException", "Too many requests", 429,
                              expected_params=_expected(HAIKU, FORCED))
        with pytest.raises(ProviderError) as info:
            prov.choose(SYSTEM, MSGS, LABELS)
    assert info.value.retryable and info.value.code == "ThrottlingException"


def test_access_denied_is_a_setup_error():
    client = _client()
    prov = BedrockProvider(HAIKU, client=client)
    with Stubber(client) as stub:
        stub.add_client_error("converse", "AccessDeniedException", "not authorized to invoke", 403,
                              expected_params=_expected(HAIKU, FORCED))
        with pytest.raises(ProviderError) as info:
            prov.choose(SYSTEM, MSGS, LABELS)
    assert not info.value.retryable and info.value.code == "AccessDeniedException"
    assert HAIKU in str(info.value)


def test_a_model_refusing_forced_tool_use_is_retried_once_with_auto():
    client = _client()
    prov = BedrockProvider("us.anthropic.claude-sonnet-4-6", client=client)
    model = "us.anthropic.claude-sonnet-4-6"
    with Stubber(client) as stub:
        stub.add_client_error("converse", "ValidationException",
                              "tool_choice forces tool use, which is not supported for this model", 400,
                              expected_params=_expected(model, FORCED))
        stub.add_response("converse", _reply([_tool({"label": "weather/find"})]), _expected(model, {"auto": {}}))
        # remembered: the next call goes straight to auto
        stub.add_response("converse", _reply([_tool({"label": "返金"})]), _expected(model, {"auto": {}}))
        first = prov.choose(SYSTEM, MSGS, LABELS)
        second = prov.choose(SYSTEM, MSGS, LABELS)
        stub.assert_no_pending_responses()
    assert (first.text, second.text) == ("weather/find", "返金") and prov.choice_mode() == "auto"


def test_other_validation_errors_are_not_retried():
    client = _client()
    prov = BedrockProvider(HAIKU, client=client)
    with Stubber(client) as stub:
        stub.add_client_error("converse", "ValidationException", "The provided model identifier is invalid.", 400,
                              expected_params=_expected(HAIKU, FORCED))
        with pytest.raises(ProviderError) as info:
            prov.choose(SYSTEM, MSGS, LABELS)
        stub.assert_no_pending_responses()
    assert info.value.code == "ValidationException" and not info.value.retryable


def test_claude_2_gets_no_tool_and_a_text_answer():
    client = _client()
    prov = BedrockProvider("anthropic.claude-v2:1", client=client)
    expected = _expected("anthropic.claude-v2:1", FORCED)
    del expected["toolConfig"]
    with Stubber(client) as stub:
        stub.add_response("converse", _reply([{"text": "card_arrival"}], stop="end_turn"), expected)
        r = prov.choose(SYSTEM, MSGS, LABELS)
    assert r.text == "card_arrival"


@pytest.mark.parametrize("model_id,mode", [
    ("anthropic.claude-3-haiku-20240307-v1:0", "tool"),
    ("us.anthropic.claude-3-5-sonnet-20241022-v2:0", "tool"),
    ("us.anthropic.claude-3-7-sonnet-20250219-v1:0", "tool"),
    ("global.anthropic.claude-haiku-4-5-20251001-v1:0", "tool"),
    ("anthropic.claude-opus-4-20250514-v1:0", "tool"),
    ("eu.anthropic.claude-sonnet-4-6", "tool"),
    ("global.anthropic.claude-opus-4-7", "tool"),
    ("arn:aws:bedrock:us-east-1:111122223333:inference-profile/us.anthropic.claude-opus-4-8", "tool"),
    ("anthropic.claude-opus-5", "auto"),
    ("global.anthropic.claude-opus-5-5", "auto"),
    ("anthropic.claude-fable-5-1", "auto"),
    ("anthropic.claude-v2:1", None),
    ("anthropic.claude-instant-v1", None),
    ("us.amazon.nova-pro-v1:0", "tool"),
    ("mistral.mistral-large-2407-v1:0", "any"),
    ("meta.llama3-70b-instruct-v1:0", "auto"),
])
def test_choice_tool_mode_table(model_id, mode):
    assert choice_tool_mode(model_id) == mode


def test_bad_labels_are_config_errors_before_any_call():
    prov = BedrockProvider(HAIKU, client=_client())
    with pytest.raises(ConfigError):
        prov.choose(SYSTEM, MSGS, ["only_one"])
