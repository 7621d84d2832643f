"""Constrained label choice for a llama.cpp model: the prompt, a GBNF grammar, a token trie.

:class:`~core.arena.providers.embedded.EmbeddedProvider` uses these to make a
base model answer with exactly one label of a set. Two decoders give the same
guarantee (the answer is always one of the labels):

* ``"trie"`` (default): each label is tokenised once (with the leading space
  it has after ``Answer:``), and at every step only the tokens that continue
  some label are allowed (a logits mask); decoding stops as soon as one label
  remains, so a long label costs as many model steps as it has branching points.
* ``"gbnf"``: a GBNF grammar whose root is the alternation of the quoted
  labels, applied by llama.cpp's grammar sampler (``llama_cpp.LlamaGrammar``).
  The grammar sampler checks every vocabulary entry at every step, which is
  slow with a large vocabulary (Gemma 3 has 262,144 tokens): see
  ``benchmarks/choice_latency.py`` for the measured difference.

The prompt keeps the few-shot completion format of the base model
(``### Request:`` / ``Answer:``), with the system text first: it carries the
label list, which is the same for every query, so llama.cpp's prefix cache
reuses its evaluation from one query to the next.
"""

from __future__ import annotations

from typing import Sequence

#: Root rule of :func:`labels_gbnf`; an optional single space may precede the label.
GBNF_ROOT = "root"


def gbnf_literal(text: str) -> str:
    """``text`` as a double-quoted GBNF string literal that matches it exactly.

    ``"`` and ``\\`` are backslash-escaped; control characters and every
    non-ASCII character are written as ``\\uXXXX`` (or ``\\UXXXXXXXX`` beyond
    the Basic Multilingual Plane), which llama.cpp's grammar parser decodes to
    the UTF-8 character, so Japanese labels and emoji match byte for byte.

    Examples:
        ``gbnf_literal('a"b')`` -> ``'"a\\\\"b"'``; ``gbnf_literal("返金")`` -> ``'"\\\\u8FD4\\\\u91D1"'``.
    """
    out = []
    for ch in text:
        code = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif 0x20 <= code < 0x7F:
            out.append(ch)
        elif code <= 0xFFFF:
            out.append(f"\\u{code:04X}")
        else:
            out.append(f"\\U{code:08X}")
    return '"' + "".join(out) + '"'


def labels_gbnf(labels: Sequence[str]) -> str:
    """A GBNF grammar that accepts exactly one of ``labels``, optionally after one space.

    Args:
        labels: the allowed strings (non-empty; any characters).

    Returns:
        Grammar text, e.g. ``root ::= " "? ("card_arrival" | "weather/find")``.
    """
    return f'{GBNF_ROOT} ::= " "? (' + " | ".join(gbnf_literal(lab) for lab in labels) + ")\n"


def choice_completion_prompt(system: str, messages: Sequence[dict]) -> str:
    """The few-shot completion prompt a base model continues with one label.

    Layout: the system text, a blank line, then for each earlier
    user/assistant pair a ``### Request:`` block followed by
    ``Answer: <label>`` and a blank line, and finally the query's
    ``### Request:`` block and ``Answer:`` for the model to continue.

    Args:
        system: instructions and the label list (first, so it is a shared prefix).
        messages: validated chat turns; the last one is the user's query.

    Returns:
        The prompt text (it ends with ``"Answer:"``).
    """
    parts = [system.strip(), ""] if system.strip() else []
    for m in messages:
        if m["role"] == "user":
            parts += ["### Request:", m["content"]]
        else:
            parts += [f"Answer: {m['content'].strip()}", ""]
    return "\n".join(parts) + "\nAnswer:"


class LabelTrie:
    """Token sequences of the labels, to walk one token at a time.

    Args:
        sequences: ``{label: token ids}``; every sequence non-empty and distinct.

    Use :meth:`allowed` for the token IDs that may come next after a prefix,
    :meth:`advance` to filter the candidates, :meth:`settled` to know whether
    the label is decided.
    """

    def __init__(self, sequences: dict[str, Sequence[int]]):
        self.sequences = {lab: tuple(seq) for lab, seq in sequences.items()}
        if any(not seq for seq in self.sequences.values()):
            raise ValueError("every label needs at least one token")

    def start(self) -> list[str]:
        """All labels (the candidates before the first token)."""
        return list(self.sequences)

    def allowed(self, candidates: Sequence[str], depth: int) -> tuple[list[int], str | None]:
        """Token IDs that continue a candidate at position ``depth``, and the candidate ending there.

        Returns:
            ``(sorted token IDs, label or None)``: the label is the candidate
            whose sequence has exactly ``depth`` tokens (it may end here).
        """
        nxt = sorted({self.sequences[c][depth] for c in candidates if len(self.sequences[c]) > depth})
        ending = next((c for c in candidates if len(self.sequences[c]) == depth), None)
        return nxt, ending

    def advance(self, candidates: Sequence[str], depth: int, token: int) -> list[str]:
        """Candidates whose token at ``depth`` is ``token``."""
        return [c for c in candidates
                if len(self.sequences[c]) > depth and self.sequences[c][depth] == token]

    def settled(self, candidates: Sequence[str], depth: int) -> str | None:
        """The label when ``candidates`` (after ``depth`` tokens) leave no choice, else ``None``."""
        if len(candidates) == 1:
            return candidates[0]
        return None

    def longest(self) -> int:
        """Number of tokens of the longest label."""
        return max(len(s) for s in self.sequences.values())
