"""Fake providers for the Decide tests: they implement ``choose`` from a script, instantly.

``ScriptedChooser`` answers with the label its ``answer`` function returns for
the query (the text inside ``<query>...</query>`` of the last message), so a
test knows exactly which rows each arm gets right. It can fail on chosen
queries (``ProviderError``) and give off-list answers (invalid outputs).
"""

from __future__ import annotations

import re
from typing import Callable

from core.arena.providers import LLMProvider, LLMResponse, ProviderSpec, ProviderStatus
from core.errors import ProviderError

_QUERY = re.compile(r"<query>(.*)</query>", re.DOTALL)


def query_of(messages) -> str:
    """The user's query text of the last message (tags removed)."""
    m = _QUERY.search(messages[-1]["content"])
    return m.group(1) if m else messages[-1]["content"]


class ScriptedChooser(LLMProvider):
    """``choose`` returns ``answer(query, labels, system, messages)``; counts calls; no network.

    Args:
        answer: function giving the text to return (a label, or anything for an invalid output).
        originals: the test texts as in the data; the prompt carries them normalised
            (:func:`core.arena.prompts.escape_tags`: NFKC, tags escaped), and ``answer`` and
            ``fail`` receive the original text again.
        fail: queries for which the call raises ``ProviderError``.
        name: provider name (register a :class:`ProviderSpec` with it to be priced/listed).
        model: model ID reported (a price-file model makes it priced when the spec is not local).
        latency_ms / input_tokens / output_tokens: what each answer reports.
    """

    description = "Scripted fake chooser for tests."

    def __init__(self, answer: Callable[..., str], *, fail: set[str] | Callable[[str], bool] = frozenset(),
                 name: str = "local", model: str = "fake-chooser", latency_ms: float = 100.0,
                 input_tokens: int = 200, output_tokens: int = 3, originals=()):
        from core.arena.prompts import escape_tags

        super().__init__(model)
        self._originals = {escape_tags(t): t for t in originals}
        self.name = name
        self.answer = answer
        self.fail = fail
        self.latency_ms, self.input_tokens, self.output_tokens = latency_ms, input_tokens, output_tokens
        self.calls: list[dict] = []

    def list_models(self):
        return [self.model_id]

    def _generate(self, system, messages, max_tokens, temperature):  # pragma: no cover - not used
        raise AssertionError("the bake-off must call choose(), not generate()")

    def _stream(self, system, messages, max_tokens, temperature):  # pragma: no cover - not used
        raise AssertionError("the bake-off must call choose(), not stream()")

    def _choose(self, system, messages, labels, max_tokens, temperature):
        q = query_of(messages)
        q = self._originals.get(q, q)
        self.calls.append({"system": system, "messages": messages, "labels": list(labels), "query": q})
        failing = self.fail(q) if callable(self.fail) else q in self.fail
        if failing:
            raise ProviderError("the fake service is down (test).", code="FakeDown")
        text = self.answer(q, list(labels), system, messages)
        return LLMResponse(text, self.input_tokens, self.output_tokens, self.latency_ms, "stop", self.model_id,
                           self.name)


def paid_spec(name: str = "fakepaid") -> ProviderSpec:
    """A registry entry for a remote, priced fake (its model ID must be in the price file)."""
    return ProviderSpec(name=name, label="Fake paid LLM (test)",
                        factory=lambda model=None, **kw: ScriptedChooser(lambda q, labels, *a: labels[0], name=name,
                                                                          model=model or "anthropic.claude-haiku-4-5"),
                        probe=lambda **kw: ProviderStatus(name, True, "fake", ["anthropic.claude-haiku-4-5"],
                                                          "Fake paid LLM (test)"),
                        local=False, capabilities=frozenset({"constrained_choice", "batch_inference"}))
