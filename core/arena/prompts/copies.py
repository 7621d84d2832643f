"""Copy detection: whether an answer copies a worked example near-verbatim (:func:`find_copy`)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.arena.prompts.escaping import _QUERY_BODY_RE
from core.arena.prompts.templates import RenderedPrompt

# -- copied answers ----------------------------------------------------------------------

#: An answer is a copy when this share of a worked text appears in it as one run of characters...
COPY_CONTAINMENT = 0.6
#: ...(and that run is at least this many characters), or when the two texts are this similar overall.
COPY_MIN_CHARS = 16
COPY_RATIO = 0.75


@dataclass(frozen=True)
class CopyMatch:
    """An answer that copies a worked example (near-verbatim).

    Attributes:
        kind: ``"answer"`` (an example's answer) or ``"query"`` (an example's request).
        example: 1-based number of the worked example copied.
        similarity: the larger of the containment share and difflib's ratio, in [0, 1].
        text: the example text that was copied.
    """

    kind: str
    example: int
    similarity: float
    text: str

    def describe(self) -> str:
        """One line for the UI, e.g. ``Copies worked example 2's answer (91% overlap).``"""
        return f"Copies worked example {self.example}'s {self.kind} ({self.similarity:.0%} overlap)."


def _norm_copy(text: str) -> str:
    import unicodedata

    t = unicodedata.normalize("NFKC", str(text)).lower()
    return re.sub(r"\s+", " ", t).strip()


def worked_examples(prompt: "RenderedPrompt") -> list[tuple[str, str]]:
    """``(request, answer)`` of each worked example in a few-shot prompt (earlier turns)."""
    out = []
    msgs = prompt.messages[:-1]
    for i in range(0, len(msgs) - 1, 2):
        if msgs[i]["role"] == "user" and msgs[i + 1]["role"] == "assistant":
            m = _QUERY_BODY_RE.match(msgs[i]["content"])
            out.append((m.group(1) if m else msgs[i]["content"], msgs[i + 1]["content"]))
    return out


def find_copy(answer: str, prompt: "RenderedPrompt") -> CopyMatch | None:
    """Does ``answer`` copy one of the prompt's worked examples?

    Rule (character level, so it works for Japanese too; texts NFKC-normalised,
    lower-cased, whitespace collapsed): a copy when the longest run of characters shared
    with an example text covers at least :data:`COPY_CONTAINMENT` (60 %) of that text and
    is at least :data:`COPY_MIN_CHARS` long, or when ``difflib.SequenceMatcher.ratio``
    is at least :data:`COPY_RATIO` (0.75). Both the examples' answers and their requests
    are checked; the real query is not.

    Args:
        answer: the model's answer.
        prompt: the prompt it answered (examples are its earlier user/assistant turns).

    Returns:
        The best :class:`CopyMatch`, or ``None`` (also when the prompt has no examples).
    """
    from difflib import SequenceMatcher

    a = _norm_copy(answer)
    if not a:
        return None
    best: CopyMatch | None = None
    for k, (req, ans) in enumerate(worked_examples(prompt), start=1):
        for kind, ex in (("answer", ans), ("query", req)):
            e = _norm_copy(ex)
            if len(e) < 4:
                continue
            sm = SequenceMatcher(None, a, e, autojunk=False)
            run = sm.find_longest_match(0, len(a), 0, len(e)).size
            contain = run / len(e)
            ratio = sm.ratio()
            if (contain >= COPY_CONTAINMENT and run >= min(COPY_MIN_CHARS, len(e))) or ratio >= COPY_RATIO:
                sim = max(contain, ratio)
                if best is None or sim > best.similarity:
                    best = CopyMatch(kind, k, round(sim, 3), ex)
    return best
