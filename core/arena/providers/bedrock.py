"""Amazon Bedrock provider: Claude through the Converse and ConverseStream APIs.

Uses boto3 ``bedrock-runtime`` (``converse`` / ``converse_stream``) for
generation and the ``bedrock`` control-plane client
(``list_foundation_models``, ``list_inference_profiles``) to list models.
Credentials come only from boto3's default chain (environment, shared config
or profile, SSO, instance/container role), optionally with a named profile;
Crossroads never reads, logs, shows or stores them.

Retries: botocore's ``standard`` retry mode (``max_attempts`` in total,
exponential backoff with jitter). It retries ``ThrottlingException`` (a
throttling code), ``ModelNotReadyException`` (marked ``retryable`` in the
bedrock-runtime API model), ``ServiceUnavailableException``,
``InternalServerException`` and connection errors. When one of those still
fails, :class:`~core.errors.ProviderError` has ``retryable=True`` and its
message says how many retries were made. Setup errors
(``AccessDeniedException``, ``ValidationException``,
``ResourceNotFoundException``) are not retried and say what to fix;
``ModelTimeoutException`` has its own message.

Temperature: sent only to models that accept it (:func:`accepts_temperature`).
Claude Opus 4.7 and later reject sampling parameters (``temperature``,
``top_p``, ``top_k``) with a 400 error, as stated in Anthropic's migration
guide (https://platform.claude.com/docs/en/about-claude/models/migration-guide#migrating-to-claude-opus-4-7)
and the Bedrock model card
(https://docs.aws.amazon.com/bedrock/latest/userguide/model-card-anthropic-claude-opus-4-7.html).
Claude 3.x and Claude 4 models up to 4.6 (Haiku 4.5, Sonnet 4/4.5/4.6, Opus
4/4.1/4.5/4.6) accept ``temperature``; for a Claude model not in that list we
omit it (the request then uses the model's default instead of failing).
Non-Claude models get it.
"""

from __future__ import annotations

import logging
import re
from typing import Any, Generator

from core.errors import BAD_CREDENTIAL_CODES, ProviderError, aws_credentials_error

from .base import LLMProvider, LLMResponse, label_json_schema, now_ms

log = logging.getLogger(__name__)

#: Default model: Claude Haiku 4.5 through the global cross-region inference profile.
DEFAULT_MODEL_ID = "global.anthropic.claude-haiku-4-5-20251001-v1:0"

#: Fallback list when ``list_foundation_models`` / ``list_inference_profiles``
#: are not permitted: current Claude models as cross-region inference profile
#: IDs (``global.`` routes worldwide; ``us.``/``eu.``/``apac.`` stay in a
#: geography). Which ones exist depends on the region: see
#: https://docs.aws.amazon.com/bedrock/latest/userguide/inference-profiles-support.html
BUILTIN_MODEL_IDS: tuple[str, ...] = (
    "global.anthropic.claude-haiku-4-5-20251001-v1:0",
    "global.anthropic.claude-sonnet-4-6",
    "global.anthropic.claude-opus-4-7",
    "us.anthropic.claude-haiku-4-5-20251001-v1:0",
    "us.anthropic.claude-sonnet-4-6",
    "us.anthropic.claude-opus-4-7",
    "eu.anthropic.claude-haiku-4-5-20251001-v1:0",
    "eu.anthropic.claude-sonnet-4-6",
    "eu.anthropic.claude-opus-4-7",
    "apac.anthropic.claude-haiku-4-5-20251001-v1:0",
    "apac.anthropic.claude-sonnet-4-6",
)

#: Inference-profile prefixes (geography or global) that may start a Bedrock model ID.
PROFILE_PREFIXES = ("global.", "us.", "eu.", "apac.", "jp.", "au.", "ca.", "us-gov.")

# Claude naming: "claude-<family>-<major>[-<minor>][-<date>]" from Claude 4 on,
# "claude-<major>[-<minor>]-<family>" before, plus "claude-v2"/"claude-instant".
_NEW_NAMING = re.compile(r"claude-(?:opus|sonnet|haiku)-(\d+)(?:-(\d+))?")
_OLD_NAMING = re.compile(r"claude-(?:v\d|instant|[123](?:-\d)?-(?:opus|sonnet|haiku))")
#: Last Claude version that still accepts sampling parameters (Opus 4.7 is the first that doesn't).
LAST_TEMPERATURE_VERSION = (4, 6)

#: Error codes that botocore's standard mode retries before giving up.
RETRIED_CODES = {
    "ThrottlingException": "Bedrock throttled the request",
    "ModelNotReadyException": "the model is not ready yet (it is being loaded)",
    "ServiceUnavailableException": "Bedrock is temporarily unavailable",
    "InternalServerException": "Bedrock had an internal error",
}
#: Setup errors: retrying cannot fix them.
SETUP_CODES = ("AccessDeniedException", "ValidationException", "ResourceNotFoundException")


def base_model_id(model_id: str) -> str:
    """Strip an inference-profile prefix: ``"us.anthropic.x"`` -> ``"anthropic.x"``.

    Also accepts an inference-profile or foundation-model ARN and keeps the
    part after the last ``/``.
    """
    mid = model_id.rsplit("/", 1)[-1] if model_id.startswith("arn:") else model_id
    for prefix in PROFILE_PREFIXES:
        if mid.startswith(prefix):
            return mid[len(prefix):]
    return mid


def accepts_temperature(model_id: str) -> bool:
    """Whether ``temperature`` may be sent to this Bedrock model.

    Args:
        model_id: a model ID, inference-profile ID or ARN.

    Returns:
        ``False`` for Claude models from Opus 4.7 on (and Claude models not
        recognised), ``True`` for older Claude models and non-Claude models.
        See the module docstring for the sources.
    """
    mid = base_model_id(model_id).lower()
    if "claude" not in mid:
        return True
    if _OLD_NAMING.search(mid):
        return True
    m = _NEW_NAMING.search(mid)
    if not m:
        return False
    major = int(m.group(1))
    minor = int(m.group(2)) if m.group(2) and len(m.group(2)) <= 2 else 0  # 8 digits = a date
    return (major, minor) <= LAST_TEMPERATURE_VERSION


#: Name of the tool :meth:`BedrockProvider.choose` offers; its input is ``{"label": <enum>}``.
CHOICE_TOOL = "choose_label"
_ANY_CLAUDE = re.compile(r"claude-[a-z]+-(\d+)")


def choice_tool_mode(model_id: str) -> str | None:
    """How :meth:`BedrockProvider.choose` sets Converse's ``toolChoice`` for this model.

    The one place that knows which models accept a forced tool:

    * ``"tool"`` (``{"tool": {"name": "choose_label"}}``, the model must call
      that tool): Claude 3, 3.5 and 3.7 and Claude 4.x (Haiku 4.5, Sonnet
      4-4.6, Opus 4-4.8), and Amazon Nova. The Bedrock API reference of
      ``ToolChoice`` says the ``tool`` member is "only supported by Anthropic
      Claude 3 and Amazon Nova models"
      (https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ToolChoice.html),
      written when Claude 3 was the current generation; Anthropic's tool-choice
      guide forces a named tool on ``claude-sonnet-4-6``
      (https://platform.claude.com/cookbook/tool-use-tool-choice).
    * ``"any"`` (``{"any": {}}``, some tool must be called): Mistral Large,
      which takes ``toolChoice`` but not a named tool (same API reference).
    * ``"auto"`` (the model may answer in text; the ``enum`` still constrains
      the tool input): Claude 5 and later. Claude Opus 5.5 and Claude Fable
      5.1 answer a forced tool (``any`` or a named tool) with HTTP 400
      ("Forced tool use returns an error",
      https://platform.claude.com/docs/en/models/opus-5-5/whats-new-opus-5-5),
      and Claude Opus 5 has thinking on by default, which Anthropic does not
      allow together with forced tool use. Also any model not listed here.
    * ``None``: no tool at all (Claude 2.x and Claude Instant have no tool use
      on Converse); the label is read from the text.

    A model that still rejects the forced choice (a ``ValidationException``
    about the tool choice) is retried once with ``"auto"`` and remembered.

    Args:
        model_id: a model ID, inference-profile ID or ARN.

    Returns:
        ``"tool"``, ``"any"``, ``"auto"`` or ``None``.
    """
    mid = base_model_id(model_id).lower()
    if "claude" in mid:
        if re.search(r"claude-(?:v\d|instant)", mid):
            return None
        if _OLD_NAMING.search(mid):
            return "tool"
        m = _ANY_CLAUDE.search(mid)
        return "tool" if m and int(m.group(1)) <= 4 else "auto"
    if mid.startswith("amazon.nova"):
        return "tool"
    if mid.startswith("mistral.mistral-large"):
        return "any"
    return "auto"


def _tool_choice(mode: str) -> dict[str, Any]:
    return {"tool": {"tool": {"name": CHOICE_TOOL}}, "any": {"any": {}}}.get(mode, {"auto": {}})


def _geo_prefix(region: str | None) -> str | None:
    if not region:
        return None
    if region.startswith("us-gov"):
        return "us-gov."
    if region.startswith(("us-", "ca-")):
        return "us."
    if region.startswith("eu-"):
        return "eu."
    if region.startswith("ap-"):
        return "apac."
    return None


def _client_error_parts(exc: Exception) -> tuple[str, str, int | None]:
    """``(code, message, retries)``; ``retries`` is botocore's ``RetryAttempts`` (``None`` when not reported)."""
    resp = getattr(exc, "response", None) or {}
    err = resp.get("Error", {}) or {}
    code = str(err.get("Code") or type(exc).__name__)
    message = str(err.get("Message") or "").strip()
    retries = (resp.get("ResponseMetadata") or {}).get("RetryAttempts")
    if retries is None:
        retries = getattr(exc, "retry_attempts", None)
    return code, message, int(retries) if retries is not None else None


def _stamp_retry_attempts(exception=None, context=None, **_kwargs) -> None:
    """botocore ``after-call-error`` hook: note on a failed call's exception how many retries botocore made.

    A ``ClientError`` carries ``ResponseMetadata.RetryAttempts``; a connection
    error (``ConnectionClosedError``, ``ReadTimeoutError``...) carries nothing,
    so the count is read from the call's retry context (attempts - 1).
    """
    attempts = ((context or {}).get("retries") or {}).get("attempt")
    if exception is not None and attempts:
        try:
            exception.retry_attempts = int(attempts) - 1
        except AttributeError:
            pass


def count_retries(client: Any) -> Any:
    """Register :func:`_stamp_retry_attempts` on a ``bedrock-runtime`` client (once); returns the client."""
    events = getattr(getattr(client, "meta", None), "events", None)
    if events is not None:
        events.register("after-call-error.bedrock-runtime", _stamp_retry_attempts,
                        unique_id="crossroads-retry-attempts")
    return client


def _retried(retries: int | None, max_attempts: int) -> str:
    if retries is None:
        return f"retried by botocore (up to {max_attempts - 1} times)"
    if retries == 0:
        return ("not retried (botocore's retry budget is spent after many failures in a row, or the "
                "error is not retried)")
    return f"retried {retries} time{'s' if retries != 1 else ''} with backoff"


def provider_error_from_boto(exc: Exception, *, model_id: str, region: str | None,
                             max_attempts: int) -> ProviderError:
    """Translate a botocore exception into a :class:`ProviderError` for the user.

    Args:
        exc: ``botocore.exceptions.ClientError`` (incl. ``EventStreamError``),
            ``NoCredentialsError``, ``EndpointConnectionError``, ...
        model_id: the model that was called (for the message).
        region: AWS region used.
        max_attempts: the configured total attempts (to say how often it was retried).

    Returns:
        A ``ProviderError`` whose ``code`` is the AWS error code and whose
        ``retryable`` is ``True`` only for errors botocore already retried.
    """
    from botocore import exceptions as bex

    where = f"model {model_id} in {region or 'the default region'}"
    if isinstance(exc, (bex.NoCredentialsError, bex.PartialCredentialsError)):
        return ProviderError(
            "No AWS credentials found. Configure them the usual way (aws configure, "
            "AWS_PROFILE, aws sso login, or an instance role); Crossroads never asks for keys.",
            code="NoCredentials")
    if isinstance(exc, bex.ProfileNotFound):
        return ProviderError(f"AWS profile not found: {exc}. Check the profile name.", code="ProfileNotFound")
    if isinstance(exc, (bex.TokenRetrievalError, bex.SSOError)):  # the SSO session has expired
        return aws_credentials_error(type(exc).__name__, "Amazon Bedrock")
    retries = getattr(exc, "retry_attempts", None)
    if isinstance(exc, (bex.EndpointConnectionError, bex.ConnectTimeoutError)):
        return ProviderError(
            f"Could not reach Amazon Bedrock in {region or 'the default region'}; "
            f"{_retried(retries, max_attempts)}: check the network and the region.",
            retryable=True, code="EndpointConnectionError")
    if isinstance(exc, bex.ReadTimeoutError):
        return ProviderError(
            f"Bedrock did not answer in time for {where} (read timeout); {_retried(retries, max_attempts)}. "
            "Lower max tokens or try again.", retryable=True, code="ReadTimeout")
    if isinstance(exc, (bex.HTTPClientError, bex.ConnectionError)):  # ConnectionClosedError, a proxy, TLS...
        return ProviderError(
            f"The connection to Amazon Bedrock broke for {where} ({type(exc).__name__}); "
            f"{_retried(retries, max_attempts)}. Try again; a batch moves on to the next query.",
            retryable=True, code=type(exc).__name__)
    if isinstance(exc, bex.ClientError):
        code, message, attempts = _client_error_parts(exc)
        detail = f" AWS said: {message}" if message else ""
        if code in RETRIED_CODES:
            return ProviderError(
                f"{RETRIED_CODES[code]} ({code}) for {where}; {_retried(attempts, max_attempts)} "
                "and it still failed. Wait a minute and try again, or lower the batch size / "
                "ask for a higher quota.", retryable=True, code=code)
        if code in BAD_CREDENTIAL_CODES:
            return aws_credentials_error(code, "Amazon Bedrock")
        if code == "ModelTimeoutException":
            return ProviderError(
                f"The model took too long to answer (ModelTimeoutException) for {where}. "
                "Lower max tokens or shorten the prompt, then try again.", code=code)
        if code == "AccessDeniedException":
            return ProviderError(
                f"Setup error: access denied to {where} (AccessDeniedException). Enable access to "
                "this model in the Bedrock console for this region and allow bedrock:InvokeModel and "
                f"bedrock:InvokeModelWithResponseStream in IAM.{detail}", code=code)
        if code == "ValidationException":
            return ProviderError(
                f"Setup error: Bedrock rejected the request for {where} (ValidationException). "
                "Check the model ID; many models must be called through an inference profile "
                f"ID such as us./eu./apac./global.<model>.{detail}", code=code)
        if code == "ResourceNotFoundException":
            return ProviderError(
                f"Setup error: {where} was not found (ResourceNotFoundException). Pick a model "
                f"listed for this region or change the region.{detail}", code=code)
        return ProviderError(f"Bedrock error {code} for {where}.{detail}", code=code)
    if isinstance(exc, bex.BotoCoreError):
        return ProviderError(f"Bedrock client error for {where}: {exc}", code=type(exc).__name__)
    return ProviderError(f"Unexpected Bedrock failure for {where}: {exc}", code=type(exc).__name__)


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
        geo = _geo_prefix(self.region)

        def rank(mid: str) -> tuple[int, str]:
            if mid.startswith("global."):
                return (0, mid)
            if geo and mid.startswith(geo):
                return (1, mid)
            if any(mid.startswith(p) for p in PROFILE_PREFIXES):
                return (3, mid)
            return (2, mid)

        return sorted(dict.fromkeys(model_ids), key=rank)

    def _list_remote(self) -> list[str]:
        from botocore.exceptions import ClientError
        ctl = self.control_client()
        ids: list[str] = []
        try:
            token = None
            while True:
                kwargs: dict[str, Any] = {"typeEquals": "SYSTEM_DEFINED", "maxResults": 1000}
                if token:
                    kwargs["nextToken"] = token
                page = ctl.list_inference_profiles(**kwargs)
                for p in page.get("inferenceProfileSummaries", []):
                    pid = p.get("inferenceProfileId", "")
                    if "anthropic.claude" in pid and p.get("status", "ACTIVE") == "ACTIVE":
                        ids.append(pid)
                token = page.get("nextToken")
                if not token:
                    break
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
