"""OpenAI-compatible chat endpoint: Ollama, llama.cpp server, vLLM, LM Studio...

Speaks the ``/v1/chat/completions`` and ``/v1/models`` routes of the OpenAI
API with ``requests``; streaming uses Server-Sent Events parsed by
``sseclient-py``. Requests go only to the configured base URL.

Configuration (arguments win over environment variables):

* base URL: ``base_url`` or ``CROSSROADS_OPENAI_BASE_URL``, default
  :data:`OLLAMA_BASE_URL` (``http://localhost:11434/v1``, Ollama's default);
* model: ``model`` or ``CROSSROADS_OPENAI_MODEL``, default the first model
  the server lists;
* token counts: taken from the server's ``usage``; a stream asks for it with
  ``stream_options.include_usage`` (Ollama, vLLM and the OpenAI API send it;
  llama-cpp-python's server does not, and then a streamed answer's tokens
  are ``None``, shown as unknown; cost of a local server is 0 anyway);
* API key (only if the server needs one): ``api_key`` or
  ``CROSSROADS_OPENAI_API_KEY``; sent as a Bearer token, never logged, shown
  or put into a cache key.
"""

from __future__ import annotations

import json
from typing import Any, Generator
from urllib.parse import urlsplit, urlunsplit

import requests

from core.errors import ConfigError, ProviderError
from core.redact import redact_url  # noqa: F401 - re-exported: every URL quoted here goes through it

from .base import LLMProvider, LLMResponse, label_json_schema, now_ms

#: Ollama's OpenAI-compatible endpoint on this machine.
OLLAMA_BASE_URL = "http://localhost:11434/v1"
#: Seconds to wait when probing whether a local server is up.
PROBE_TIMEOUT_S = 0.5


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


def list_server_models(base_url: str, *, api_key: str | None = None,
                       timeout: float = 5.0) -> list[str]:
    """IDs from ``GET {base_url}/models``.

    Args:
        base_url: e.g. ``"http://127.0.0.1:8080/v1"``.
        api_key: optional Bearer token.
        timeout: seconds.

    Returns:
        Model IDs in the server's order.

    Raises:
        ProviderError: server unreachable (``retryable=True``), HTTP error or
            not an OpenAI-style answer.
    """
    base = normalize_base_url(base_url)
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    try:
        resp = requests.get(f"{base}/models", headers=headers, timeout=timeout)
    except requests.RequestException as exc:
        raise ProviderError(f"No OpenAI-compatible server answered at {redact_url(base)} "
                            f"({type(exc).__name__}). Start it (e.g. `ollama serve`) or fix the URL.",
                            retryable=True, code="ConnectionError") from None
    if resp.status_code != 200:
        raise _http_error(resp, base, "listing models")
    try:
        data = resp.json().get("data", [])
        return [str(m["id"]) for m in data if isinstance(m, dict) and "id" in m]
    except (ValueError, AttributeError):
        raise ProviderError(f"{redact_url(base)}/models did not return an OpenAI-style model list.",
                            code="BadResponse") from None


def _http_error(resp: requests.Response, base: str, doing: str) -> ProviderError:
    try:
        body = resp.json()
        err = body.get("error", body) if isinstance(body, dict) else body
        msg = err.get("message") if isinstance(err, dict) else str(err)
    except ValueError:
        msg = resp.text[:300]
    status = resp.status_code
    hint = {401: " Set the API key.", 403: " Check the API key's permissions.",
            404: " Check the base URL and the model name.",
            429: " The server is busy: wait and retry."}.get(status, "")
    return ProviderError(f"The server at {redact_url(base)} refused {doing} (HTTP {status}): "
                         f"{msg}.{hint}", retryable=status in (429, 502, 503, 504),
                         code=f"HTTP{status}")


class OpenAICompatProvider(LLMProvider):
    """Any server that speaks the OpenAI chat-completions API.

    Args:
        base_url: the API root, e.g. ``"http://localhost:11434/v1"``.
        model: model name as the server lists it; ``None`` = first listed.
        api_key: optional Bearer token (kept in memory only).
        timeout: seconds to wait for a whole non-streamed answer (or between
            streamed chunks).

    Raises:
        ConfigError: invalid base URL.
        ProviderError: at call time (unreachable, HTTP error, bad answer).
    """

    name = "openai"
    description = ("OpenAI-compatible server (Ollama, llama.cpp server, vLLM, LM Studio) at a "
                   "base URL you choose. Runs wherever that server runs; cost counted as 0 "
                   "for local servers.")

    def __init__(self, base_url: str | None = None, model: str | None = None, *,
                 api_key: str | None = None, timeout: float = 120.0):
        from core.settings import settings

        self.base_url = normalize_base_url(base_url or settings.openai_base_url or OLLAMA_BASE_URL)
        self._api_key = api_key or settings.openai_api_key or None
        self.timeout = timeout
        self._http = requests.Session()
        super().__init__(model or settings.openai_model or "")

    def __repr__(self) -> str:  # never show the key
        return f"OpenAICompatProvider(base_url={redact_url(self.base_url)!r}, model={self.model_id!r})"

    def _headers(self) -> dict[str, str]:
        h = {"Content-Type": "application/json"}
        if self._api_key:
            h["Authorization"] = f"Bearer {self._api_key}"
        return h

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

    def _post(self, body: dict[str, Any], *, stream: bool) -> requests.Response:
        url = f"{self.base_url}/chat/completions"
        try:
            resp = self._http.post(url, data=json.dumps(body), headers=self._headers(),
                                   timeout=(5.0, self.timeout), stream=stream)
        except requests.Timeout:
            raise ProviderError(f"The server at {redact_url(self.base_url)} did not answer within "
                                f"{self.timeout:.0f} s: lower max tokens or try again.",
                                retryable=True, code="Timeout") from None
        except requests.RequestException as exc:
            raise ProviderError(f"Could not reach the server at {redact_url(self.base_url)} "
                                f"({type(exc).__name__}): is it running?",
                                retryable=True, code="ConnectionError") from None
        if resp.status_code != 200:
            raise _http_error(resp, self.base_url, "the chat request")
        return resp

    def _generate(self, system, messages, max_tokens, temperature) -> LLMResponse:
        body = self.build_request(system, messages, max_tokens, temperature, stream=False)
        start = now_ms()
        resp = self._post(body, stream=False)
        try:
            data = resp.json()
            choice = data["choices"][0]
            text = (choice.get("message") or {}).get("content") or ""
        except (ValueError, KeyError, IndexError, TypeError):
            raise ProviderError(f"The server at {redact_url(self.base_url)} sent an answer that is "
                                "not an OpenAI chat completion.", code="BadResponse") from None
        latency = now_ms() - start
        usage = data.get("usage") or {}
        return LLMResponse(text=text, input_tokens=usage.get("prompt_tokens"),
                           output_tokens=usage.get("completion_tokens"),
                           latency_ms=round(latency, 1), stop_reason=choice.get("finish_reason"),
                           model_id=str(data.get("model") or self.model_id), provider=self.name)

    def _stream(self, system, messages, max_tokens, temperature) -> Generator[str, None, LLMResponse]:
        import sseclient

        body = self.build_request(system, messages, max_tokens, temperature, stream=True)
        start = now_ms()
        resp = self._post(body, stream=True)
        parts: list[str] = []
        usage: dict[str, Any] = {}
        stop_reason = None
        model = self.model_id
        try:
            for event in sseclient.SSEClient(resp).events():
                data = (event.data or "").strip()
                if not data:
                    continue
                if data == "[DONE]":
                    break
                try:
                    chunk = json.loads(data)
                except ValueError:
                    continue
                if "error" in chunk:
                    err = chunk["error"]
                    msg = err.get("message") if isinstance(err, dict) else err
                    raise ProviderError(f"The server at {redact_url(self.base_url)} failed while "
                                        f"streaming: {msg}", code="StreamError")
                model = chunk.get("model") or model
                if chunk.get("usage"):
                    usage = chunk["usage"]
                for choice in chunk.get("choices") or []:
                    piece = (choice.get("delta") or {}).get("content")
                    if piece:
                        parts.append(piece)
                        yield piece
                    if choice.get("finish_reason"):
                        stop_reason = choice["finish_reason"]
        except requests.RequestException as exc:
            raise ProviderError(f"The stream from {redact_url(self.base_url)} broke "
                                f"({type(exc).__name__}): try again.", retryable=True,
                                code="StreamError") from None
        finally:
            resp.close()
        latency = now_ms() - start
        return LLMResponse(text="".join(parts), input_tokens=usage.get("prompt_tokens"),
                           output_tokens=usage.get("completion_tokens"),
                           latency_ms=round(latency, 1), stop_reason=stop_reason,
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
                resp = self._post(body, stream=False)
            except ProviderError as exc:
                if i + 1 < len(styles) and self._format_rejected(exc):
                    continue
                raise
            self._choice_format = style
            break
        try:
            data = resp.json()
            choice = data["choices"][0]
            content = (choice.get("message") or {}).get("content") or ""
        except (ValueError, KeyError, IndexError, TypeError):
            raise ProviderError(f"The server at {redact_url(self.base_url)} sent an answer that is "
                                "not an OpenAI chat completion.", code="BadResponse") from None
        latency = now_ms() - start
        text = content.strip()
        try:
            parsed = json.loads(text)
            if isinstance(parsed, dict) and isinstance(parsed.get("label"), str):
                text = parsed["label"]
        except ValueError:
            pass
        usage = data.get("usage") or {}
        return LLMResponse(text=text, input_tokens=usage.get("prompt_tokens"),
                           output_tokens=usage.get("completion_tokens"),
                           latency_ms=round(latency, 1), stop_reason=choice.get("finish_reason"),
                           model_id=str(data.get("model") or self.model_id), provider=self.name)

    def is_local(self) -> bool:
        """``True`` when the server is on this machine (its cost is counted as 0)."""
        host = (urlsplit(self.base_url).hostname or "").lower()
        return host in ("localhost", "127.0.0.1", "::1") or host.endswith(".localhost")

    def cache_identity(self) -> dict[str, Any]:
        return {"provider": self.name, "base_url": redact_url(self.base_url), "model": self._model()}
