"""Constrained label choice for a llama.cpp model: the prompt, a GBNF grammar, a token mask.

:class:`~core.arena.providers.embedded.EmbeddedProvider` uses these to make a
base model answer with exactly one label of a set. Two decoders accept the
same answers, ``" "? <one of the labels>``, and pick the same label under
greedy decoding:

* ``"gbnf"``: a GBNF grammar whose root is the alternation of the quoted
  labels (:func:`labels_gbnf`), applied by llama.cpp's grammar sampler
  (``llama_cpp.LlamaGrammar``). The sampler checks every vocabulary entry
  against the grammar at every step, which is slow with a large vocabulary
  (Gemma 3 has 262,144 tokens).
* ``"mask"`` (default): the same language checked with a table of the
  vocabulary's byte pieces (:class:`LabelMatcher`): only the tokens whose bytes
  continue a label keep their logits, and decoding stops as soon as a single
  label remains (its other tokens are implied). ``benchmarks/choice_latency.py``
  measures both.

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


class LabelMatcher:
    """Which tokens may come next so that the answer stays a prefix of ``" "? <label>``.

    The same language as :func:`labels_gbnf`, checked with a lookup table of
    the vocabulary's byte pieces instead of a scan of the whole vocabulary:
    at each step the allowed tokens are those whose bytes continue one of the
    target strings (each label with and without its leading space), byte for
    byte, so multi-byte characters split over byte-fallback tokens work too.

    Args:
        labels: the allowed labels.
        index: ``(by_piece, longest)`` from :func:`piece_index`.

    A walk keeps *states*: ``(target, offset)`` pairs, one per target string
    still matching the bytes produced so far.
    """

    def __init__(self, labels: Sequence[str], index: tuple[dict[bytes, list[int]], int]):
        self.by_piece, self.longest_piece = index
        self.targets: list[tuple[str, bytes]] = []
        for lab in labels:
            raw = lab.encode("utf-8")
            self.targets += [(lab, b" " + raw), (lab, raw)]

    def start(self) -> list[tuple[int, int]]:
        """The states before the first token: every target at offset 0."""
        return [(t, 0) for t in range(len(self.targets))]

    def allowed(self, states: Sequence[tuple[int, int]]) -> tuple[list[int], str | None]:
        """Token IDs that continue a state, and the label of a state already complete.

        Returns:
            ``(sorted token IDs, label or None)``; a complete label means the
            end-of-sequence token may come next.
        """
        ids: set[int] = set()
        ending = None
        for t, off in states:
            lab, target = self.targets[t]
            if off == len(target):
                ending = ending or lab
                continue
            for end in range(off + 1, min(len(target), off + self.longest_piece) + 1):
                ids.update(self.by_piece.get(target[off:end], ()))
        return sorted(ids), ending

    def advance(self, states: Sequence[tuple[int, int]], piece: bytes) -> list[tuple[int, int]]:
        """The states after a token whose bytes are ``piece``."""
        n = len(piece)
        return [(t, off + n) for t, off in states if self.targets[t][1][off:off + n] == piece]

    def settled(self, states: Sequence[tuple[int, int]]) -> str | None:
        """The label when every state left belongs to it (the rest of the answer is implied), else ``None``."""
        labels = {self.targets[t][0] for t, _ in states}
        return labels.pop() if len(labels) == 1 else None


def piece_index(pieces: Sequence[bytes]) -> tuple[dict[bytes, list[int]], int]:
    """``({piece bytes: [token IDs]}, longest piece length)`` for :class:`LabelMatcher`.

    Args:
        pieces: the bytes of every token ID in order (empty for control tokens,
            which are never allowed).
    """
    by_piece: dict[bytes, list[int]] = {}
    for tid, piece in enumerate(pieces):
        if piece:
            by_piece.setdefault(piece, []).append(tid)
    return by_piece, max((len(p) for p in by_piece), default=1)
