"""OpenAI-compatible chat endpoint: Ollama, llama.cpp server, vLLM, LM Studio...

Speaks the ``/v1/chat/completions`` and ``/v1/models`` routes through the
official ``openai`` SDK (``base_url`` set, ``max_retries`` for connection
errors, 408, 409, 429 and 5xx with its exponential back-off; streaming parsed by
the SDK). Requests go only to the configured base URL.

Configuration (arguments win over environment variables):

* base URL: ``base_url`` or ``CROSSROADS_OPENAI_BASE_URL``, default
  :data:`OLLAMA_BASE_URL` (``http://localhost:11434/v1``, Ollama's default);
  on a shared deployment ``CROSSROADS_ALLOWED_BASE_URLS`` limits it to a list
  (:func:`core.arena.providers.deployment.check_base_url`);
* model: ``model`` or ``CROSSROADS_OPENAI_MODEL``, default the first model
  the server lists;
* token counts: taken from the server's ``usage``; a stream asks for it with
  ``stream_options.include_usage`` (Ollama, vLLM and the OpenAI API send it;
  llama-cpp-python's server does not, and then a streamed answer's tokens
  are ``None``, shown as unknown; cost of a local server is 0 anyway);
* API key (only if the server needs one): ``api_key`` or
  ``CROSSROADS_OPENAI_API_KEY``; sent as a Bearer token, never logged, shown
  or put into a cache key. Without one no ``Authorization`` header is sent.

A :class:`~core.errors.ProviderError` with ``retryable=True`` has already been
retried: its message says how many times (the SDK's ``x-stainless-retry-count``).
"""

from __future__ import annotations

import json
from typing import Any, Generator
from urllib.parse import urlsplit, urlunsplit

from core.errors import ConfigError, ProviderError
from core.redact import redact_url  # noqa: F401 - re-exported: every URL quoted here goes through it

from .base import LLMProvider, LLMResponse, label_json_schema, now_ms
from .deployment import check_base_url

#: Ollama's OpenAI-compatible endpoint on this machine.
OLLAMA_BASE_URL = "http://localhost:11434/v1"
#: Seconds to wait when probing whether a local server is up.
PROBE_TIMEOUT_S = 0.5
#: Retries after the first attempt of a chat request (the SDK's own default is 2).
MAX_RETRIES = 2
#: Seconds to wait for a TCP connection.
CONNECT_TIMEOUT_S = 5.0


def normalize_base_url(url: str) -> str:
    """Return ``url`` without a trailing slash, ending in ``/v1`` unless a path is given.

    Raises:
        ConfigError: not an ``http(s)://host[:port][/path]`` URL.
    """
    url = (url or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"base URL {redact_url(url)!r} is not valid: use e.g. http://localhost:11434/v1.")
    path = parts.path.rstrip("/") or "/v1"
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def make_client(base_url: str, *, api_key: str | None = None, timeout: float = 120.0,
                max_retries: int = MAX_RETRIES):
    """An ``openai.OpenAI`` client for ``base_url`` (already normalised).

    Args:
        base_url: the API root.
        api_key: Bearer token; ``None``: no ``Authorization`` header at all.
        timeout: seconds to wait for an answer (or between streamed chunks).
        max_retries: retries after the first attempt.
    """
    import httpx
    import openai

    # the SDK wants a key; without one, request_headers() omits the Authorization header per request
    return openai.OpenAI(base_url=base_url, api_key=api_key or "unused", max_retries=max_retries,
                         timeout=httpx.Timeout(timeout, connect=min(CONNECT_TIMEOUT_S, timeout)))


def request_headers(api_key: str | None) -> dict[str, Any]:
    """Per-request ``extra_headers``: no ``Authorization`` header at all when there is no API key."""
    import openai

    return {} if api_key else {"Authorization": openai.Omit()}


def _retries(exc: Exception) -> int:
    """How many retries the SDK made before ``exc`` (from the last request's ``x-stainless-retry-count``)."""
    try:
        return int(exc.request.headers.get("x-stainless-retry-count", 0))  # type: ignore[attr-defined]
    except (AttributeError, TypeError, ValueError):
        return 0


def _after(n: int) -> str:
    return f" (after {n} retr{'y' if n == 1 else 'ies'})" if n else ""


def translate_error(exc: Exception, base: str, doing: str) -> ProviderError:
    """A :class:`ProviderError` for an ``openai`` SDK exception; URLs are quoted without passwords.

    Codes: ``ConnectionError``, ``Timeout`` (both retryable), ``HTTP<status>`` (retryable for
    408, 409, 429 and 5xx), ``BadResponse``.
    """
    import openai

    where = redact_url(base)
    n = _retries(exc)
    if isinstance(exc, openai.APITimeoutError):
        return ProviderError(f"The server at {where} did not answer in time{_after(n)}: lower max tokens or "
                             "try again.", retryable=True, code="Timeout")
    if isinstance(exc, openai.APIConnectionError):
        return ProviderError(f"Could not reach the server at {where}{_after(n)} ({doing}): is it running? "
                             "Start it (e.g. `ollama serve`) or fix the URL.", retryable=True, code="ConnectionError")
    if isinstance(exc, openai.APIStatusError):
        status = exc.status_code
        body = exc.body
        err = body.get("error", body) if isinstance(body, dict) else body
        msg = err.get("message") if isinstance(err, dict) else (err or exc.message)
        hint = {401: " Set the API key.", 403: " Check the API key's permissions.",
                404: " Check the base URL and the model name.",
                429: " The server is busy: wait and retry."}.get(status, "")
        retry = status in (408, 409, 429) or status >= 500
        return ProviderError(f"The server at {where} refused {doing} (HTTP {status}){_after(n)}: {msg}.{hint}",
                             retryable=retry, code=f"HTTP{status}")
    return ProviderError(f"The server at {where} sent an answer that is not an OpenAI chat completion "
                         f"({type(exc).__name__}).", code="BadResponse")


def list_server_models(base_url: str, *, api_key: str | None = None,
                       timeout: float = 5.0) -> list[str]:
    """IDs from ``GET {base_url}/models`` (one attempt: this is a probe).

    Args:
        base_url: e.g. ``"http://127.0.0.1:8080/v1"``.
        api_key: optional Bearer token.
        timeout: seconds.

    Returns:
        Model IDs in the server's order.

    Raises:
        ConfigError: invalid URL, or one outside ``CROSSROADS_ALLOWED_BASE_URLS``.
        ProviderError: server unreachable (``retryable=True``), HTTP error or
            not an OpenAI-style answer.
    """
    import openai

    base = check_base_url(normalize_base_url(base_url))
    client = make_client(base, api_key=api_key, timeout=timeout, max_retries=0)
    try:
        page = client.models.list(extra_headers=request_headers(api_key))
        return [str(m.id) for m in page.data if getattr(m, "id", None) is not None]
    except openai.APIConnectionError as exc:
        raise ProviderError(f"No OpenAI-compatible server answered at {redact_url(base)} "
                            f"({type(exc).__name__}). Start it (e.g. `ollama serve`) or fix the URL.",
                            retryable=True, code="ConnectionError") from None
    except openai.OpenAIError as exc:
        raise translate_error(exc, base, "listing models") from None
    except (AttributeError, TypeError, ValueError):
        raise ProviderError(f"{redact_url(base)}/models did not return an OpenAI-style model list.",
                            code="BadResponse") from None
    finally:
        client.close()


class OpenAICompatProvider(LLMProvider):
    """Any server that speaks the OpenAI chat-completions API.

    Args:
        base_url: the API root, e.g. ``"http://localhost:11434/v1"``.
        model: model name as the server lists it; ``None`` = first listed.
        api_key: optional Bearer token (kept in memory only).
        timeout: seconds to wait for a whole non-streamed answer (or between
            streamed chunks).
        max_retries: retries after a failed first attempt (connection errors, 408,
            409, 429, 5xx), with the SDK's back-off.

    Raises:
        ConfigError: invalid base URL, or one outside ``CROSSROADS_ALLOWED_BASE_URLS``.
        ProviderError: at call time (unreachable, HTTP error, bad answer).
    """

    name = "openai"
    description = ("OpenAI-compatible server (Ollama, llama.cpp server, vLLM, LM Studio) at a "
                   "base URL you choose. Runs wherever that server runs; cost counted as 0 "
                   "for local servers.")

    def __init__(self, base_url: str | None = None, model: str | None = None, *,
                 api_key: str | None = None, timeout: float = 120.0, max_retries: int = MAX_RETRIES):
        from core.settings import settings

        self.base_url = check_base_url(normalize_base_url(base_url or settings.openai_base_url or OLLAMA_BASE_URL))
        self._api_key = api_key or settings.openai_api_key or None
        self.timeout = timeout
        self.max_retries = int(max_retries)
        self._client = make_client(self.base_url, api_key=self._api_key, timeout=timeout,
                                   max_retries=self.max_retries)
        super().__init__(model or settings.openai_model or "")

    def __repr__(self) -> str:  # never show the key
        return f"OpenAICompatProvider(base_url={redact_url(self.base_url)!r}, model={self.model_id!r})"

    def list_models(self) -> list[str]:
        """Model IDs from ``GET /v1/models`` (raises ``ProviderError`` if unreachable)."""
        return list_server_models(self.base_url, api_key=self._api_key, timeout=5.0)

    def _model(self) -> str:
        if not self.model_id:
            models = self.list_models()
            if not models:
                raise ProviderError(f"The server at {redact_url(self.base_url)} lists no model: "
                                    "pull or load one first (e.g. `ollama pull llama3.2`).",
                                    code="NoModel")
            self.model_id = models[0]
        return self.model_id

    def build_request(self, system: str, messages: list[dict[str, str]], max_tokens: int,
                      temperature: float | None, *, stream: bool) -> dict[str, Any]:
        """The ``/chat/completions`` JSON body (system prompt as the first message)."""
        msgs = ([{"role": "system", "content": system}] if system else []) + messages
        body: dict[str, Any] = {"model": self._model(), "messages": msgs,
                                "max_tokens": int(max_tokens), "stream": stream}
        if temperature is not None:
            body["temperature"] = float(temperature)
        if stream:
            body["stream_options"] = {"include_usage": True}
        return body

    def _create(self, body: dict[str, Any], *, retries: int | None = None):
        """``chat.completions.create(**body)``; SDK errors become :class:`ProviderError`."""
        import openai

        client = self._client if retries is None else self._client.with_options(max_retries=retries)
        try:
            return client.chat.completions.create(**body, extra_headers=request_headers(self._api_key))
        except openai.OpenAIError as exc:
            raise translate_error(exc, self.base_url, "the chat request") from None

    def _response(self, resp, start: float, text: str | None = None) -> LLMResponse:
        try:
            choice = resp.choices[0]
            content = choice.message.content or ""
        except (AttributeError, IndexError, TypeError):
            raise ProviderError(f"The server at {redact_url(self.base_url)} sent an answer that is "
                                "not an OpenAI chat completion.", code="BadResponse") from None
        usage = getattr(resp, "usage", None)
        return LLMResponse(text=content if text is None else text(content),
                           input_tokens=getattr(usage, "prompt_tokens", None),
                           output_tokens=getattr(usage, "completion_tokens", None),
                           latency_ms=round(now_ms() - start, 1), stop_reason=choice.finish_reason,
                           model_id=str(getattr(resp, "model", None) or self.model_id), provider=self.name)

    def _generate(self, system, messages, max_tokens, temperature) -> LLMResponse:
        body = self.build_request(system, messages, max_tokens, temperature, stream=False)
        start = now_ms()
        return self._response(self._create(body), start)

    def _stream(self, system, messages, max_tokens, temperature) -> Generator[str, None, LLMResponse]:
        import openai

        body = self.build_request(system, messages, max_tokens, temperature, stream=True)
        start = now_ms()
        stream = self._create(body)
        parts: list[str] = []
        usage = None
        stop_reason = None
        model = self.model_id
        try:
            for chunk in stream:
                model = getattr(chunk, "model", None) or model
                usage = getattr(chunk, "usage", None) or usage
                for choice in getattr(chunk, "choices", None) or []:
                    piece = getattr(choice.delta, "content", None) if choice.delta else None
                    if piece:
                        parts.append(piece)
                        yield piece
                    if choice.finish_reason:
                        stop_reason = choice.finish_reason
        except openai.APIError as exc:
            if isinstance(exc, (openai.APIConnectionError, openai.APIStatusError)):
                raise ProviderError(f"The stream from {redact_url(self.base_url)} broke "
                                    f"({type(exc).__name__}): try again.", retryable=True,
                                    code="StreamError") from None
            raise ProviderError(f"The server at {redact_url(self.base_url)} failed while "
                                f"streaming: {exc.message}", code="StreamError") from None
        except Exception as exc:  # httpx read errors surface as their own types
            import httpx

            if isinstance(exc, httpx.HTTPError):
                raise ProviderError(f"The stream from {redact_url(self.base_url)} broke "
                                    f"({type(exc).__name__}): try again.", retryable=True,
                                    code="StreamError") from None
            raise
        finally:
            stream.close()
        return LLMResponse(text="".join(parts), input_tokens=getattr(usage, "prompt_tokens", None),
                           output_tokens=getattr(usage, "completion_tokens", None),
                           latency_ms=round(now_ms() - start, 1), stop_reason=stop_reason,
                           model_id=str(model), provider=self.name)

    # -- constrained choice ----------------------------------------------------
    #: ``response_format`` styles tried by :meth:`choose`, in order: the OpenAI API's
    #: ``json_schema`` (OpenAI, vLLM, Ollama, llama.cpp's ``llama-server``), then
    #: ``json_object`` with a ``schema`` (llama-cpp-python's server, which answers
    #: ``json_schema`` with an HTTP 500 validation error). The first one the server
    #: accepts is remembered for this provider object.
    CHOICE_FORMATS = ("json_schema", "json_object")

    @staticmethod
    def choice_response_format(style: str, labels) -> dict[str, Any]:
        """The ``response_format`` of :meth:`choose` in one of :data:`CHOICE_FORMATS` styles."""
        schema = label_json_schema(labels)
        if style == "json_schema":
            return {"type": "json_schema",
                    "json_schema": {"name": "choose_label", "strict": True, "schema": schema}}
        return {"type": "json_object", "schema": schema}

    @staticmethod
    def _format_rejected(exc: ProviderError) -> bool:
        text = str(exc).lower()
        return (exc.code in ("HTTP400", "HTTP422", "HTTP500")
                and ("response_format" in text or "json_schema" in text))

    def _choose(self, system, messages, labels, max_tokens, temperature) -> LLMResponse:
        """``/chat/completions`` with a JSON-schema ``response_format``: ``{"label": <enum of labels>}``.

        ``.text`` is the parsed ``label`` (or the raw content when it is not
        that JSON: some servers ignore ``response_format``). ``latency_ms``
        is the accepted request's; a style the server refused is not retried
        on later calls.
        """
        body = self.build_request(system, messages, max_tokens, temperature, stream=False)
        known = getattr(self, "_choice_format", None)
        styles = (known,) if known else self.CHOICE_FORMATS
        for i, style in enumerate(styles):
            body["response_format"] = self.choice_response_format(style, labels)
            start = now_ms()
            try:
                # while the style is unknown, a refusal is not retried (llama-cpp-python's server
                # answers json_schema with HTTP 500): the next style is tried at once
                resp = self._create(body, retries=None if known else 0)
            except ProviderError as exc:
                if i + 1 < len(styles) and self._format_rejected(exc):
                    continue
                if not known and exc.retryable:  # a real failure: once more, with the retries
                    resp = self._create(body)
                else:
                    raise
            self._choice_format = style
            break
        return self._response(resp, start, text=_label_of)

    def is_local(self) -> bool:
        """``True`` when the server is on this machine (its cost is counted as 0)."""
        host = (urlsplit(self.base_url).hostname or "").lower()
        return host in ("localhost", "127.0.0.1", "::1") or host.endswith(".localhost")

    def cache_identity(self) -> dict[str, Any]:
        return {"provider": self.name, "base_url": redact_url(self.base_url), "model": self._model()}


def _label_of(content: str) -> str:
    """The ``label`` of a ``{"label": ...}`` answer, else the raw content (some servers ignore ``response_format``)."""
    text = content.strip()
    try:
        parsed = json.loads(text)
    except ValueError:
        return text
    return parsed["label"] if isinstance(parsed, dict) and isinstance(parsed.get("label"), str) else text
