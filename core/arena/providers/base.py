"""Provider interface shared by every LLM back end of the Prompt Arena.

A provider turns a system prompt and a chat transcript into text. All of them
return the same :class:`LLMResponse` and raise :class:`core.errors.ProviderError`
(never a library's own exception) with a message that says how to fix the
problem.

Message format (the same for every provider)::

    [{"role": "user", "content": "..."}, {"role": "assistant", "content": "..."}, ...]

Roles are ``"user"`` and ``"assistant"``; the system prompt is passed
separately. Content is plain text.

Streaming design: :meth:`LLMProvider.stream` returns a :class:`ResponseStream`,
an iterator of text chunks (``str``), so it can be handed as is to
``st.write_stream``; once it is exhausted its ``.response`` attribute holds the
final :class:`LLMResponse` (tokens, latency, stop reason).
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass, field
from typing import Any, Generator, Iterator, Sequence

from core.errors import ConfigError, ProviderError

Message = dict  # {"role": "user"|"assistant", "content": str}

__all__ = [
    "LLMResponse",
    "LLMProvider",
    "ProviderStatus",
    "ResponseStream",
    "validate_messages",
    "validate_labels",
    "label_json_schema",
]


@dataclass(frozen=True)
class LLMResponse:
    """One model answer.

    Attributes:
        text: the generated text.
        input_tokens: prompt tokens counted by the provider (``None`` if the
            server did not report them).
        output_tokens: generated tokens counted by the provider (or ``None``).
        latency_ms: wall-clock time of the call in milliseconds, measured on
            this machine from sending the request to the last byte received.
        stop_reason: why generation stopped, in the provider's words
            (Bedrock ``stopReason`` such as ``"end_turn"``/``"max_tokens"``,
            OpenAI ``finish_reason`` such as ``"stop"``/``"length"``).
        model_id: the model that answered (Bedrock ``modelId``, the server's
            model name, or the GGUF file name).
        provider: ``"bedrock"``, ``"openai"`` or ``"local"``.
        cached: ``True`` when the answer came from the response cache (no
            call was made, ``latency_ms`` is the original call's).
    """

    text: str
    input_tokens: int | None
    output_tokens: int | None
    latency_ms: float
    stop_reason: str | None
    model_id: str
    provider: str = ""
    cached: bool = False

    def to_dict(self) -> dict[str, Any]:
        """Return the fields as a JSON-ready ``dict``."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "LLMResponse":
        """Build a response from :meth:`to_dict` output (unknown keys ignored)."""
        names = cls.__dataclass_fields__.keys()
        return cls(**{k: v for k, v in data.items() if k in names})


@dataclass(frozen=True)
class ProviderStatus:
    """Whether a provider can be used right now, and why not.

    Attributes:
        name: ``"bedrock"``, ``"openai"`` or ``"local"``.
        available: ``True`` if a call is expected to work.
        reason: one sentence for the user: what was found, or what is
            missing and how to fix it.
        models: model IDs offered for this provider (may be empty).
        label: human name, e.g. ``"Amazon Bedrock (us-east-1)"``.
        detail: extra facts for display (base URL, region, GGUF path...).
    """

    name: str
    available: bool
    reason: str
    models: list[str] = field(default_factory=list)
    label: str = ""
    detail: dict[str, Any] = field(default_factory=dict)


class ResponseStream:
    """Iterator of text chunks from a streaming call, then the final response.

    Iterate it (or pass it to ``st.write_stream``) to get ``str`` chunks as
    they arrive. After the iteration ends, :attr:`response` is the complete
    :class:`LLMResponse` (its ``text`` is the concatenation of the chunks).

    Errors during streaming are raised from the iteration as
    :class:`~core.errors.ProviderError`.
    """

    def __init__(self, generator: Generator[str, None, LLMResponse]):
        self._gen = generator
        self.response: LLMResponse | None = None

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        if self.response is not None:
            raise StopIteration
        try:
            return next(self._gen)
        except StopIteration as stop:
            self.response = stop.value
            raise StopIteration from None

    def consume(self) -> LLMResponse:
        """Read the stream to its end and return the final :class:`LLMResponse`."""
        for _ in self:
            pass
        assert self.response is not None
        return self.response

    @classmethod
    def from_response(cls, response: LLMResponse) -> "ResponseStream":
        """A stream that yields ``response.text`` in one chunk (used for cache hits)."""

        def gen():
            if response.text:
                yield response.text
            return response

        return cls(gen())


def validate_messages(messages: Sequence[Message]) -> list[dict[str, str]]:
    """Check a chat transcript and return it as a list of plain dicts.

    Args:
        messages: sequence of ``{"role": "user"|"assistant", "content": str}``;
            must be non-empty and end with a ``"user"`` message.

    Returns:
        A new list of ``{"role", "content"}`` dicts.

    Raises:
        ConfigError: empty transcript, unknown role, non-text content, or a
            last message that is not from the user.
    """
    out: list[dict[str, str]] = []
    for i, msg in enumerate(messages or []):
        role = msg.get("role") if isinstance(msg, dict) else None
        content = msg.get("content") if isinstance(msg, dict) else None
        if role not in ("user", "assistant"):
            raise ConfigError(f"message {i} has role {role!r}; use 'user' or 'assistant'.")
        if not isinstance(content, str):
            raise ConfigError(f"message {i} content must be text, got {type(content).__name__}.")
        out.append({"role": role, "content": content})
    if not out:
        raise ConfigError("no message to send: give at least one user message.")
    if out[-1]["role"] != "user":
        raise ConfigError("the last message must come from the user.")
    return out


def validate_labels(labels: Sequence[str]) -> list[str]:
    """Check the label set of :meth:`LLMProvider.choose` and return it without duplicates.

    Args:
        labels: the allowed raw label keys, e.g. ``["card_arrival", "返金"]``.

    Returns:
        The labels in their first-seen order, each once.

    Raises:
        ConfigError: not a sequence of strings, an empty or blank label, or
            fewer than two distinct labels.
    """
    if isinstance(labels, (str, bytes)) or not isinstance(labels, Sequence):
        raise ConfigError("labels must be a list of label strings, e.g. ['billing', 'delivery'].")
    out: list[str] = []
    for i, lab in enumerate(labels):
        if not isinstance(lab, str):
            raise ConfigError(f"label {i} must be text, got {type(lab).__name__}.")
        if not lab.strip():
            raise ConfigError(f"label {i} is empty: every label needs a name.")
        if lab not in out:
            out.append(lab)
    if len(out) < 2:
        raise ConfigError(f"give at least two different labels to choose from, got {out!r}.")
    return out


def label_json_schema(labels: Sequence[str]) -> dict[str, Any]:
    """JSON Schema of the answer ``{"label": <one of labels>}`` (OpenAI ``response_format``, Bedrock tool input)."""
    return {"type": "object",
            "properties": {"label": {"type": "string", "enum": list(labels),
                                     "description": "The one label key that fits the request."}},
            "required": ["label"], "additionalProperties": False}


def check_generation_params(max_tokens: int, temperature: float | None) -> None:
    """Validate ``max_tokens`` (positive int) and ``temperature`` (``None`` or 0-2).

    Raises:
        ConfigError: with the bad value and the accepted range.
    """
    if not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or max_tokens < 1:
        raise ConfigError(f"max_tokens must be a positive whole number, got {max_tokens!r}.")
    if temperature is not None and not (0.0 <= float(temperature) <= 2.0):
        raise ConfigError(f"temperature must be between 0 and 2, got {temperature!r}.")


class LLMProvider(ABC):
    """Base class of the Arena's LLM back ends.

    Subclasses set :attr:`name` (``"bedrock"``, ``"openai"``, ``"local"``),
    :attr:`description` (one paragraph for the UI) and :attr:`model_id`, and
    implement :meth:`_generate`, :meth:`_stream` and :meth:`list_models`;
    those that can constrain their output to a label set also implement
    :meth:`_choose` (and declare ``constrained_choice`` in their registry entry).
    """

    name: str = ""
    description: str = ""
    #: True when the model is a base (non-chat) model fed a few-shot completion prompt.
    is_base_model: bool = False

    def __init__(self, model_id: str):
        self.model_id = model_id

    # -- public API --------------------------------------------------------
    def generate(self, system: str, messages: Sequence[Message], max_tokens: int = 256,
                 temperature: float | None = None) -> LLMResponse:
        """Generate one answer.

        Args:
            system: system prompt (instructions; the user's text is not here).
            messages: chat transcript, see :func:`validate_messages`.
            max_tokens: maximum number of output tokens (>= 1).
            temperature: sampling temperature in [0, 2], or ``None`` to use the
                model's default (some models accept none: see the provider).

        Returns:
            :class:`LLMResponse` with text, token counts, latency (ms), stop
            reason and model ID.

        Raises:
            ProviderError: the service failed (``retryable`` tells if it was a
                transient failure that was already retried).
            ConfigError: bad arguments.
        """
        msgs = validate_messages(messages)
        check_generation_params(max_tokens, temperature)
        return self._generate(system, msgs, max_tokens, temperature)

    def stream(self, system: str, messages: Sequence[Message], max_tokens: int = 256,
               temperature: float | None = None) -> ResponseStream:
        """Like :meth:`generate` but returns a :class:`ResponseStream` of text chunks.

        The request is sent when iteration starts. Errors are raised from the
        iteration as :class:`ProviderError`.
        """
        msgs = validate_messages(messages)
        check_generation_params(max_tokens, temperature)
        return ResponseStream(self._stream(system, msgs, max_tokens, temperature))

    @abstractmethod
    def list_models(self) -> list[str]:
        """Model IDs this provider can use (may call the configured endpoint)."""

    def choose(self, system: str, messages: Sequence[Message], labels: Sequence[str], *,
               max_tokens: int = 48, temperature: float | None = 0.0) -> LLMResponse:
        """Answer with one label of ``labels``, constrained to that set where the provider can.

        How each provider constrains the answer: the embedded model masks its
        tokens to the labels' (or uses a GBNF grammar), an OpenAI-compatible
        server gets a JSON-schema ``response_format`` whose ``label`` is an
        ``enum``, Bedrock gets a ``choose_label`` tool whose ``label`` is an
        ``enum`` and a ``toolChoice`` that forces it where the model allows.
        A provider without the ``constrained_choice`` capability generates
        freely. Either way the answer is not checked here: validate it with
        :func:`core.arena.choice.parse_choice` (an off-list answer is an
        invalid output, never an exception).

        Args:
            system: instructions, normally with the label list (humanised names
                and keys); put it first and keep it identical across queries so
                prompt caches are reused.
            messages: as for :meth:`generate`; earlier user/assistant pairs may be
                worked examples (user = a query, assistant = its raw label key);
                the last message is the query.
            labels: the allowed raw label keys (>= 2 distinct non-empty strings).
            max_tokens: output token limit (>= 1); leave room for the label (and,
                for JSON or tool answers, about 15 tokens of structure).
            temperature: 0 (default) for greedy decoding; ``None`` = the model's
                default; not sent to Bedrock models that reject it.

        Returns:
            :class:`LLMResponse` whose ``text`` is the chosen label as the model
            gave it (or its raw text when it did not use the structure), with
            tokens, latency (ms) and stop reason as for :meth:`generate`.

        Raises:
            ConfigError: bad arguments (fewer than two labels, empty transcript...),
                or a prompt that does not fit a local model's context.
            ProviderError: the service failed, as for :meth:`generate`.
        """
        msgs = validate_messages(messages)
        check_generation_params(max_tokens, temperature)
        labs = validate_labels(labels)
        return self._choose(system, msgs, labs, max_tokens, temperature)

    def effective_temperature(self, temperature: float | None) -> float | None:
        """The temperature actually sent for a requested one (``None`` when the model takes none)."""
        return temperature

    def is_local(self) -> bool:
        """``True`` when nothing leaves this machine (then a call costs 0).

        Default: the ``local`` flag of this provider's registry entry
        (:class:`~core.arena.providers.registry.ProviderSpec`).
        """
        from .registry import PROVIDERS

        spec = PROVIDERS.get(self.name)
        return bool(spec and spec.local)

    def choice_cache_identity(self) -> dict[str, Any]:
        """What identifies this provider in a :meth:`choose` cache key (default: :meth:`cache_identity`)."""
        return self.cache_identity()

    def prompt_as_sent(self, system: str, messages: Sequence[Message]) -> str:
        """The prompt exactly as this provider sends it, as text for display.

        Chat providers send the system prompt and the messages as they are;
        a base model gets a few-shot completion prompt (overridden there).
        """
        body = "\n\n".join(f"[{m['role']}]\n{m['content']}" for m in messages)
        return f"[system]\n{system}\n\n{body}" if system else body

    def cache_identity(self) -> dict[str, Any]:
        """What identifies this provider in a cache key: never credentials."""
        return {"provider": self.name, "model": self.model_id}

    # -- to implement -------------------------------------------------------
    @abstractmethod
    def _generate(self, system: str, messages: list[dict[str, str]], max_tokens: int,
                  temperature: float | None) -> LLMResponse: ...

    @abstractmethod
    def _stream(self, system: str, messages: list[dict[str, str]], max_tokens: int,
                temperature: float | None) -> Generator[str, None, LLMResponse]: ...

    def _choose(self, system: str, messages: list[dict[str, str]], labels: list[str], max_tokens: int,
                temperature: float | None) -> LLMResponse:
        """Providers without constrained output generate freely; the caller parses the text."""
        return self._generate(system, messages, max_tokens, temperature)


def now_ms() -> float:
    """Monotonic clock in milliseconds (for latency measurements)."""
    return time.perf_counter() * 1000.0


__all__ += ["check_generation_params", "now_ms", "ProviderError"]
