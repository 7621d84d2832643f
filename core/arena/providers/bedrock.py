"""Amazon Bedrock provider: Claude through the Converse and ConverseStream APIs.

Uses boto3 ``bedrock-runtime`` (``converse`` / ``converse_stream``) for
generation and the ``bedrock`` control-plane client
(``list_foundation_models``, ``list_inference_profiles``) to list models.
Credentials come only from boto3's default chain (environment, shared config
or profile, SSO, instance/container role), optionally with a named profile;
Crossroads never reads, logs, shows or stores them.

Model IDs and what each model accepts are :mod:`.bedrock_models`; error messages
(retries that actually happened, setup errors) are :mod:`.bedrock_errors`.
"""

from __future__ import annotations

import logging
import re
from typing import Any, Generator

from core.errors import ProviderError

from .base import LLMProvider, LLMResponse, label_json_schema, now_ms
from .bedrock_errors import (RETRIED_CODES, SETUP_CODES, _client_error_parts, count_retries,  # noqa: F401
                             provider_error_from_boto)
from .bedrock_models import (BUILTIN_MODEL_IDS, CHOICE_TOOL, DEFAULT_MODEL_ID, PROFILE_PREFIXES,  # noqa: F401
                             _tool_choice, accepts_temperature, base_model_id, choice_tool_mode, rank_model_ids)

__all__ = ["BedrockProvider", "DEFAULT_MODEL_ID", "BUILTIN_MODEL_IDS", "PROFILE_PREFIXES", "CHOICE_TOOL",
           "base_model_id", "accepts_temperature", "choice_tool_mode", "provider_error_from_boto", "count_retries",
           "RETRIED_CODES", "SETUP_CODES"]

log = logging.getLogger(__name__)


class BedrockProvider(LLMProvider):
    """Claude (or any Converse-capable model) on Amazon Bedrock.

    Args:
        model_id: Bedrock ``modelId``: a model ID or an inference profile ID/ARN
            (default :data:`DEFAULT_MODEL_ID`).
        region: AWS region; ``None`` uses the profile/environment's region,
            else ``us-east-1``.
        profile: named AWS profile; ``None`` uses the default chain.
        max_attempts: total attempts (first try + retries) in botocore's standard
            retry mode (``total_max_attempts``), >= 1.
        read_timeout: seconds to wait for an answer.
        client: an existing ``bedrock-runtime`` client (tests pass one wrapped in
            ``botocore.stub.Stubber``); skips the credential check.
        control_client: an existing ``bedrock`` client for model listing.

    Raises:
        ProviderError: at call time, see :func:`provider_error_from_boto`.
    """

    name = "bedrock"
    description = ("Amazon Bedrock: Claude through the Converse API, billed to your AWS account "
                   "at the per-token prices in llm_prices.json. Credentials come from boto3's "
                   "default chain (or the profile you name).")

    def __init__(self, model_id: str = DEFAULT_MODEL_ID, *, region: str | None = None,
                 profile: str | None = None, max_attempts: int = 4, read_timeout: float = 120.0,
                 client: Any = None, control_client: Any = None):
        super().__init__(model_id or DEFAULT_MODEL_ID)
        self.profile = profile
        self.max_attempts = max(1, int(max_attempts))
        self.read_timeout = read_timeout
        self._client = client
        self._control = control_client
        self._session = None
        if client is not None:
            self.region = region or client.meta.region_name
        else:
            self.region = region or self._boto_session().region_name or "us-east-1"

    # -- clients -------------------------------------------------------------
    def _boto_session(self):
        if self._session is None:
            import boto3
            from botocore import exceptions as bex
            try:
                self._session = boto3.Session(profile_name=self.profile)
            except bex.ProfileNotFound as exc:
                raise provider_error_from_boto(exc, model_id=self.model_id, region=None,
                                               max_attempts=self.max_attempts) from None
        return self._session

    def _config(self, *, attempts: int | None = None, connect_timeout: float = 5.0,
                read_timeout: float | None = None):
        from botocore.config import Config
        return Config(retries={"mode": "standard", "total_max_attempts": attempts or self.max_attempts},
                      connect_timeout=connect_timeout,
                      read_timeout=read_timeout or self.read_timeout,
                      user_agent_extra="crossroads-arena")

    def has_credentials(self) -> bool:
        """``True`` if boto3's default chain (or the profile) yields credentials. No network call."""
        if self._client is not None:
            return True
        return self._boto_session().get_credentials() is not None

    def runtime_client(self):
        """The ``bedrock-runtime`` client (created once).

        Raises:
            ProviderError: no credentials (code ``"NoCredentials"``).
        """
        if self._client is None:
            if not self.has_credentials():
                from botocore.exceptions import NoCredentialsError
                raise provider_error_from_boto(NoCredentialsError(), model_id=self.model_id,
                                               region=self.region, max_attempts=self.max_attempts)
            self._client = self._boto_session().client("bedrock-runtime", region_name=self.region,
                                                       config=self._config())
        return count_retries(self._client)

    def control_client(self):
        """The ``bedrock`` control-plane client used for model listing (1 attempt, short timeouts)."""
        if self._control is None:
            self._control = self._boto_session().client(
                "bedrock", region_name=self.region,
                config=self._config(attempts=1, connect_timeout=2.0, read_timeout=10.0))
        return self._control

    def _error(self, exc: Exception) -> ProviderError:
        return provider_error_from_boto(exc, model_id=self.model_id, region=self.region,
                                        max_attempts=self.max_attempts)

    # -- request -------------------------------------------------------------
    def build_request(self, system: str, messages: list[dict[str, str]], max_tokens: int,
                      temperature: float | None) -> dict[str, Any]:
        """The Converse request parameters (also used by ConverseStream).

        Returns:
            ``{"modelId", "messages", "system"?, "inferenceConfig"}``;
            ``inferenceConfig.temperature`` only when given and accepted by the model.
        """
        inference: dict[str, Any] = {"maxTokens": int(max_tokens)}
        if temperature is not None and accepts_temperature(self.model_id):
            inference["temperature"] = float(temperature)
        request: dict[str, Any] = {
            "modelId": self.model_id,
            "messages": [{"role": m["role"], "content": [{"text": m["content"]}]} for m in messages],
            "inferenceConfig": inference,
        }
        if system:
            request["system"] = [{"text": system}]
        return request

    def _generate(self, system, messages, max_tokens, temperature) -> LLMResponse:
        from botocore.exceptions import BotoCoreError, ClientError
        client = self.runtime_client()
        request = self.build_request(system, messages, max_tokens, temperature)
        start = now_ms()
        try:
            out = client.converse(**request)
        except (ClientError, BotoCoreError) as exc:
            raise self._error(exc) from None
        latency = now_ms() - start
        blocks = ((out.get("output") or {}).get("message") or {}).get("content") or []
        text = "".join(b.get("text", "") for b in blocks if isinstance(b, dict))
        usage = out.get("usage") or {}
        return LLMResponse(text=text, input_tokens=usage.get("inputTokens"),
                           output_tokens=usage.get("outputTokens"), latency_ms=round(latency, 1),
                           stop_reason=out.get("stopReason"), model_id=self.model_id,
                           provider=self.name)

    def _stream(self, system, messages, max_tokens, temperature) -> Generator[str, None, LLMResponse]:
        from botocore.exceptions import BotoCoreError, ClientError
        client = self.runtime_client()
        request = self.build_request(system, messages, max_tokens, temperature)
        start = now_ms()
        parts: list[str] = []
        stop_reason = None
        usage: dict[str, Any] = {}
        try:
            out = client.converse_stream(**request)
            for event in out["stream"]:
                if "contentBlockDelta" in event:
                    chunk = (event["contentBlockDelta"].get("delta") or {}).get("text")
                    if chunk:
                        parts.append(chunk)
                        yield chunk
                elif "messageStop" in event:
                    stop_reason = event["messageStop"].get("stopReason")
                elif "metadata" in event:
                    usage = event["metadata"].get("usage") or {}
                else:
                    for key, value in event.items():  # modelled error events
                        if key.endswith("Exception"):
                            code = key[0].upper() + key[1:]
                            err = ClientError({"Error": {"Code": code, "Message": str(
                                (value or {}).get("message", ""))}}, "ConverseStream")
                            raise self._error(err)
        except (ClientError, BotoCoreError) as exc:
            raise self._error(exc) from None
        latency = now_ms() - start
        return LLMResponse(text="".join(parts), input_tokens=usage.get("inputTokens"),
                           output_tokens=usage.get("outputTokens"), latency_ms=round(latency, 1),
                           stop_reason=stop_reason, model_id=self.model_id, provider=self.name)

    # -- constrained choice ----------------------------------------------------
    def effective_temperature(self, temperature: float | None) -> float | None:
        """``temperature``, or ``None`` for a model that rejects it (:func:`accepts_temperature`)."""
        if temperature is not None and not accepts_temperature(self.model_id):
            return None
        return temperature

    def choice_mode(self) -> str | None:
        """The ``toolChoice`` mode :meth:`choose` uses now (:func:`choice_tool_mode`, or ``"auto"``
        after the model refused a forced tool)."""
        return getattr(self, "_choice_mode", None) or choice_tool_mode(self.model_id)

    def build_choice_request(self, system: str, messages: list[dict[str, str]], labels: list[str],
                             max_tokens: int, temperature: float | None,
                             mode: str | None = None) -> dict[str, Any]:
        """The Converse request of :meth:`choose`: :meth:`build_request` plus ``toolConfig``.

        ``toolConfig`` has one tool, :data:`CHOICE_TOOL`, whose input schema
        is ``{"label": {"type": "string", "enum": labels}}``, and a
        ``toolChoice`` per ``mode`` (default :meth:`choice_mode`); mode
        ``None`` sends no tool.
        """
        request = self.build_request(system, messages, max_tokens, temperature)
        mode = self.choice_mode() if mode is None else mode
        if mode is None:
            return request
        request["toolConfig"] = {
            "tools": [{"toolSpec": {
                "name": CHOICE_TOOL,
                "description": "Record the one label that fits the user's request.",
                "inputSchema": {"json": label_json_schema(labels)}}}],
            "toolChoice": _tool_choice(mode)}
        return request

    @staticmethod
    def _refused_forced_tool(exc: Exception) -> bool:
        from botocore.exceptions import ClientError
        if not isinstance(exc, ClientError):
            return False
        code, message, _ = _client_error_parts(exc)
        return code == "ValidationException" and bool(re.search(r"tool.?choice|forc", message, re.I))

    def _choose(self, system, messages, labels, max_tokens, temperature) -> LLMResponse:
        """Converse with the :data:`CHOICE_TOOL` tool; ``.text`` = its ``label`` input.

        Without a ``toolUse`` block (a model that answered in text), ``.text``
        is the text; a tool input without a string ``label`` is returned as
        its JSON, so :func:`core.arena.choice.parse_choice` reports it invalid.
        """
        import json

        from botocore.exceptions import BotoCoreError, ClientError
        client = self.runtime_client()
        mode = self.choice_mode()
        request = self.build_choice_request(system, messages, labels, max_tokens, temperature, mode)
        start = now_ms()
        try:
            try:
                out = client.converse(**request)
            except ClientError as exc:
                if mode not in ("tool", "any") or not self._refused_forced_tool(exc):
                    raise
                log.info("%s refused a forced tool choice; using toolChoice auto", self.model_id)
                self._choice_mode = "auto"
                request = self.build_choice_request(system, messages, labels, max_tokens, temperature, "auto")
                start = now_ms()
                out = client.converse(**request)
        except (ClientError, BotoCoreError) as exc:
            raise self._error(exc) from None
        latency = now_ms() - start
        blocks = [b for b in (((out.get("output") or {}).get("message") or {}).get("content") or [])
                  if isinstance(b, dict)]
        tool = next((b["toolUse"] for b in blocks
                     if isinstance(b.get("toolUse"), dict) and b["toolUse"].get("name") == CHOICE_TOOL), None)
        if tool is not None:
            value = tool.get("input")
            label = value.get("label") if isinstance(value, dict) else None
            text = label if isinstance(label, str) else json.dumps(value, ensure_ascii=False, default=str)
        else:
            text = "".join(b.get("text", "") for b in blocks)
        usage = out.get("usage") or {}
        return LLMResponse(text=text, input_tokens=usage.get("inputTokens"),
                           output_tokens=usage.get("outputTokens"), latency_ms=round(latency, 1),
                           stop_reason=out.get("stopReason"), model_id=self.model_id,
                           provider=self.name)

    # -- models --------------------------------------------------------------
    def list_models(self) -> list[str]:
        """Claude model IDs usable in this region.

        Calls ``list_inference_profiles`` (system-defined profiles) and
        ``list_foundation_models`` (provider Anthropic, on-demand text models)
        when permitted. Profiles for this region's geography and ``global.``
        come first. Falls back to :data:`BUILTIN_MODEL_IDS` when listing is
        denied or fails (no error is raised).

        Returns:
            List of ``modelId`` strings, without duplicates.
        """
        try:
            found = self._list_remote()
        except Exception as exc:  # listing is optional: fall back quietly
            log.info("Bedrock model listing unavailable (%s); using the built-in list",
                     type(exc).__name__)
            found = []
        return self.rank_models(found) if found else list(BUILTIN_MODEL_IDS)

    def rank_models(self, model_ids: list[str]) -> list[str]:
        """Order model IDs: ``global.`` profiles, this region's geography, plain IDs, other profiles."""
        return rank_model_ids(model_ids, self.region)

    def _list_remote(self) -> list[str]:
        from botocore.exceptions import ClientError
        ctl = self.control_client()
        ids: list[str] = []
        try:
            pages = ctl.get_paginator("list_inference_profiles").paginate(
                typeEquals="SYSTEM_DEFINED", PaginationConfig={"PageSize": 1000})
            for page in pages:
                for p in page.get("inferenceProfileSummaries", []):
                    pid = p.get("inferenceProfileId", "")
                    if "anthropic.claude" in pid and p.get("status", "ACTIVE") == "ACTIVE":
                        ids.append(pid)
        except ClientError as exc:
            log.info("list_inference_profiles not permitted: %s", _client_error_parts(exc)[0])
        try:
            page = ctl.list_foundation_models(byProvider="Anthropic", byOutputModality="TEXT")
            for m in page.get("modelSummaries", []):
                status = (m.get("modelLifecycle") or {}).get("status", "ACTIVE")
                if status == "ACTIVE" and "ON_DEMAND" in (m.get("inferenceTypesSupported") or []):
                    ids.append(m["modelId"])
        except ClientError as exc:
            log.info("list_foundation_models not permitted: %s", _client_error_parts(exc)[0])
        return ids

    def cache_identity(self) -> dict[str, Any]:
        return {"provider": self.name, "model": self.model_id, "region": self.region}
