"""The example pool: worked examples taken from the user's own labelled table (:class:`ExamplePool`)."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from core.arena.prompts.few_shot import N_FEW_SHOT, _stable, neutral_answer
from core.arena.prompts.templates import _norm_label, is_japanese
from core.errors import ConfigError


class ExamplePool:
    """Worked-example rows taken from the user's own labelled table.

    A tiny base model needs worked examples to learn the answer format, and copies them.
    So the examples are the user's own queries and categories (never another
    dataset's), of categories other than the query's, in the query's language
    (kana/kanji or not). Each example's answer is the table's answer column when one
    is given, else :func:`neutral_answer`.

    Args:
        texts / labels: the user's labelled queries (same length).
        answers: optional answer texts (same length; blank = none).
        per_label: rows kept per (category, language) as candidates (seeded sample of rows
            between ``min_chars`` and ``max_chars`` characters, shorter ones if none).
        context: optional ``(query, category) -> {"confidence", "top_k", "sentiment",
            "urgency"}`` giving each example real context (see
            :func:`core.arena.hybrid.example_pool`); default: confidence 0.9, no
            alternatives, NEUTRAL, low.
        random_state: seed of the candidate sample.

    Raises:
        ConfigError: texts and labels differ in length.
    """

    def __init__(self, texts: Sequence[str], labels: Sequence[str], answers: Sequence[str] | None = None, *,
                 per_label: int = 4, min_chars: int = 12, max_chars: int = 140,
                 context: Any = None, random_state: int = 0):
        texts, labels = [str(t) for t in texts], [str(lab) for lab in labels]
        if len(texts) != len(labels) or (answers is not None and len(answers) != len(texts)):
            raise ConfigError("worked examples: texts, labels and answers must have the same length.")
        import random

        rng = random.Random(random_state)
        groups: dict[tuple[str, str], list[int]] = {}
        for i, (t, lab) in enumerate(zip(texts, labels)):
            if t.strip() and lab.strip():
                groups.setdefault((lab, "ja" if is_japanese(t) else "en"), []).append(i)
        self.rows: list[dict[str, Any]] = []
        for (lab, lang), idx in sorted(groups.items()):
            good = [i for i in idx if min_chars <= len(texts[i].strip()) <= max_chars and "\n" not in texts[i].strip()]
            pick = good or sorted(idx, key=lambda i: len(texts[i]))[:per_label]
            pick = rng.sample(pick, min(per_label, len(pick)))
            for i in pick:
                ans = str(answers[i]).strip() if answers is not None and answers[i] is not None else ""
                self.rows.append({"query": texts[i].strip(), "category": lab, "language": lang,
                                  "answer": ans if ans and ans.lower() != "nan" else ""})
        self.context = context
        self.has_answers = any(r["answer"] for r in self.rows)
        self._ctx: dict[tuple[str, str], Mapping[str, Any]] = {}

    @property
    def labels(self) -> list[str]:
        """The categories the pool can show, sorted."""
        return sorted({r["category"] for r in self.rows})

    def _case(self, row: Mapping[str, Any]) -> dict[str, Any]:
        key = (row["query"], row["category"])
        if key not in self._ctx:
            ctx: Mapping[str, Any] = {}
            if self.context is not None:
                ctx = dict(self.context(row["query"], row["category"]) or {})
            self._ctx[key] = {"confidence": float(ctx.get("confidence", 0.9)),
                              "top_k": list(ctx.get("top_k", [(row["category"], 0.9)])),
                              "sentiment": str(ctx.get("sentiment", "NEUTRAL")),
                              "urgency": str(ctx.get("urgency", "low"))}
        return {**row, **self._ctx[key],
                "answer": row["answer"] or neutral_answer(row["category"], row["language"])}

    def select(self, query: str, category: str = "", top_k_labels: Sequence[str] = (), *,
               n: int = N_FEW_SHOT) -> list[dict[str, Any]]:
        """Pick ``n`` worked cases for a query.

        Order of preference: the query's language, then categories that are neither the
        predicted one nor among ``top_k_labels`` (so a copied example is visibly off-topic),
        then other candidates, the predicted category last; one row per category. The
        choice is a pseudo-random function of the query (SHA-1), so the same query always
        gets the same examples (and a cached answer stays valid).

        Args:
            query: the customer's text.
            category: the predicted label (raw key).
            top_k_labels: the classifier's other candidate labels.
            n: number of cases (``>= 0``).

        Returns:
            Case dicts (see :func:`few_shot_messages`).
        """
        want = "ja" if is_japanese(query) else "en"
        cat = _norm_label(category) if category else None
        near = {_norm_label(lab) for lab in top_k_labels}

        def rank(row: Mapping[str, Any]) -> tuple:
            c = _norm_label(row["category"])
            return (row["language"] != want, c == cat, c in near, _stable(query, row["category"], row["query"]))

        chosen, seen = [], set()
        for row in sorted(self.rows, key=rank):
            if row["category"] in seen:
                continue
            seen.add(row["category"])
            chosen.append(self._case(row))
            if len(chosen) >= max(0, int(n)):
                break
        return chosen
