"""The few-shot completion format for base models: worked cases, their choice, and the completion prompt.

:func:`select_few_shot_cases` picks worked cases in the query's language and of
another category; :func:`few_shot_messages` renders them with the same template
as the real query; :func:`format_only_cases` gives neutral cases when no
labelled table is available; :func:`completion_prompt` turns a chat into a
``### Request:`` / ``Answer:`` completion with its stop sequences.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping, Sequence

from core.arena.prompts.data import prompt_data
from core.arena.prompts.escaping import _QUERY_BODY_RE, delimit_query
from core.arena.prompts.templates import (
    PromptTemplate,
    RenderedPrompt,
    _norm_label,
    context_values,
    humanise_label,
    is_japanese,
)

if TYPE_CHECKING:  # annotation only: examples.py imports this module
    from core.arena.prompts.examples import ExamplePool

# -- few-shot completion format for base models ---------------------------------

#: Worked cases for base models, several categories in each language (``prompt_data.json``). :func:`few_shot_messages`
#: renders the chosen ones with the SAME template as the real query (so a contextualised
#: prompt's examples carry context too) and adds the answer as an assistant turn. Answers are
#: short and specific to their own request, and :func:`select_few_shot_cases` picks cases of
#: another category than the query's, so a base model has nothing it could paste verbatim.
FEW_SHOT_CASES: tuple[dict[str, Any], ...] = tuple(
    {**c, "top_k": [tuple(t) for t in c["top_k"]]} for c in prompt_data()["worked_cases"])

#: Number of worked examples put in front of a base model's query.
N_FEW_SHOT = 3  # measured on 6 EN/JA queries: 3 examples made Gemma 270M copy less than 2


def select_few_shot_cases(query: str, category: str = "", *, n: int = N_FEW_SHOT,
                          cases: Sequence[Mapping[str, Any]] = FEW_SHOT_CASES) -> list[Mapping[str, Any]]:
    """Pick ``n`` worked cases for a query: same language, other category.

    Preference order: same language (Japanese script or not, see
    :func:`is_japanese`) and a category different from ``category``; then same
    language, same category; then the other language, other category; then the
    rest. Within a group the order of ``cases`` is kept, so the choice is
    deterministic.

    Args:
        query: the customer's text.
        category: the predicted category (compared case-insensitively,
            ignoring spaces, ``-`` and ``_``); empty = any category.
        n: number of cases (``>= 0``).
        cases: the pool (default :data:`FEW_SHOT_CASES`); each has ``query``,
            ``category`` and optionally ``language`` (``"ja"``/``"en"``;
            detected from the case's query if absent).

    Returns:
        Up to ``n`` cases from ``cases``.
    """
    want_ja = is_japanese(query)
    cat = _norm_label(category) if category else None

    def rank(case: Mapping[str, Any]) -> int:
        lang = case.get("language")
        same_lang = (lang == "ja") == want_ja if lang else is_japanese(case["query"]) == want_ja
        other_cat = cat is None or _norm_label(case["category"]) != cat
        return {(True, True): 0, (True, False): 1, (False, True): 2, (False, False): 3}[(same_lang, other_cat)]

    return sorted(cases, key=rank)[: max(0, int(n))]


#: ``(request, answer)`` pairs of every case (:func:`completion_prompt` picks from
#: :data:`FEW_SHOT_CASES` by language when a single message comes without examples).
FEW_SHOT_EXAMPLES: tuple[tuple[str, str], ...] = tuple(
    (delimit_query(c["query"]), c["answer"]) for c in FEW_SHOT_CASES)

#: Stop sequences that end a base model's answer: the end of its paragraph, or the
#: start of anything that belongs to the prompt format (a next ``### Request:``
#: block, an ``Answer:`` label, a repeated ``<query>`` or "Reply in" line).
COMPLETION_STOP = ["\n\n", "###", "Answer:", "<query>", "</query>", "\nRequest:", "\nReply in "]

#: Line added to a base model's preamble to keep its answers short and its own.
COMPLETION_RULES = ("Each answer below is one or two short sentences written for its own request only; "
                    "it never repeats the request.")


def few_shot_messages(template: "PromptTemplate", values: Mapping[str, Any], *,
                      cases: Sequence[Mapping[str, Any]] | None = None,
                      pool: "ExamplePool | None" = None,
                      top_k_labels: Sequence[str] = (),
                      guidance: Mapping[str, str] | None = None,
                      include_alternatives: bool = True,
                      include_guidance: bool = True) -> "RenderedPrompt":
    """Render ``values`` with ``template``, preceded by worked examples as earlier turns.

    Each case is rendered through the same template (with its own query,
    category, sentiment...) and followed by its answer as an ``assistant``
    message, so a base model sees the exact format it must continue.

    Args:
        template: the prompt template (raw or contextualised, possibly edited).
        values: the real query's variable values (see :func:`context_values`);
            ``category_key`` (or ``category``) steers the choice of examples.
        cases: worked cases: dicts with ``query``, ``category``,
            ``confidence``, ``top_k``, ``sentiment``, ``urgency``, ``answer``.
            ``None`` (default): ``pool.select(...)`` (rows of the user's own
            table, same language, other categories) when ``pool`` is given,
            else :func:`format_only_cases` (neutral, carrying only the query's
            own candidate labels). The bundled :data:`FEW_SHOT_CASES` are used
            only when passed here explicitly.
        pool: the user's labelled rows (:class:`ExamplePool`).
        top_k_labels: the classifier's candidate labels for the query (raw keys).
        guidance / include_alternatives / include_guidance: as for :func:`context_values`.

    Returns:
        :class:`RenderedPrompt` whose messages are ``[example user, example
        assistant, ..., real user]``.

    Raises:
        ConfigError: as for :meth:`PromptTemplate.render`.
    """
    real = template.render(values)
    if cases is None:
        query = str(values.get("query", ""))
        category = str(values.get("category_key", values.get("category", "")))
        cases = (pool.select(query, category, top_k_labels) if pool is not None
                 else format_only_cases(query, category, top_k_labels))
    messages: list[dict[str, str]] = []
    for case in cases:
        ex_values = {**values, **context_values(
            query=case["query"], category=case["category"], confidence=case["confidence"],
            top_k=case["top_k"], sentiment=case["sentiment"], urgency=case["urgency"],
            guidance=guidance, include_alternatives=include_alternatives,
            include_guidance=include_guidance)}
        ex_values["language"] = case.get("language", "")
        for key in ("reply_language", "category_article"):
            ex_values.pop(key, None)
        messages += [template.render(ex_values).messages[0],
                     {"role": "assistant", "content": case["answer"]}]
    return RenderedPrompt(real.name, real.system, messages + real.messages)


# -- worked examples from the user's own table ----------------------------------------

#: Neutral answers of worked examples when the user's table has no answer column: they show
#: length, tone and language only, and name nothing but the example's own category.
NEUTRAL_ANSWERS: dict[str, str] = dict(prompt_data()["neutral_answers"])
#: Queries of :func:`format_only_cases` (no topic at all).
NEUTRAL_QUERIES: dict[str, str] = dict(prompt_data()["neutral_queries"])


def neutral_answer(category: str, language: str) -> str:
    """A format-only worked answer naming ``category`` in readable words (see :data:`NEUTRAL_ANSWERS`)."""
    return NEUTRAL_ANSWERS["ja" if language == "ja" else "en"].format(category=humanise_label(category))


def _stable(*parts: str) -> str:
    import hashlib

    return hashlib.sha1("\x1f".join(parts).encode("utf-8", "surrogatepass")).hexdigest()


def format_only_cases(query: str, category: str = "", labels: Sequence[str] = (), *,
                      n: int = N_FEW_SHOT) -> list[dict[str, Any]]:
    """Neutral worked cases for when no labelled table is available.

    The query is a greeting in the query's language (:data:`NEUTRAL_QUERIES`), the answer
    is :func:`neutral_answer`, and the category is one of ``labels`` other than
    ``category`` (the classifier's other candidates, i.e. the user's own labels). With no
    such label the cases carry no category at all.

    Returns:
        Up to ``n`` case dicts (see :func:`few_shot_messages`).
    """
    lang = "ja" if is_japanese(query) else "en"
    others = [lab for lab in labels if _norm_label(lab) != _norm_label(category)] or [""]
    out = []
    for i in range(max(0, int(n))):
        lab = others[i % len(others)]
        out.append({"query": NEUTRAL_QUERIES[lang], "category": lab, "language": lang, "confidence": 0.9,
                    "top_k": [(lab, 0.9)] if lab else [], "sentiment": "NEUTRAL", "urgency": "low",
                    "answer": (neutral_answer(lab, lang) if lab else
                               ("How can we help? Please tell us what happened." if lang == "en"
                                else "どのようなご用件でしょうか。状況をお知らせください。"))})
    return out if others != [""] else out[:1]


def completion_prompt(system: str, messages: Sequence[Mapping[str, str]],
                      examples: Sequence[tuple[str, str]] | None = None) -> tuple[str, list[str]]:
    """Turn a chat prompt into a few-shot completion prompt for a base model.

    A base model does not follow chat roles; it continues text. So the system
    prompt becomes a preamble, each turn becomes a ``### Request:`` block or an
    ``Answer:`` line, and the prompt ends with ``Answer:`` for the model to
    continue. Earlier user/assistant turns in ``messages`` serve as the
    examples (see :func:`few_shot_messages`); a single message gets
    three cases from :data:`FEW_SHOT_CASES` in its language in front unless
    ``examples`` is given. The stop sequences (:data:`COMPLETION_STOP`) end the
    answer where the model would start a new example or repeat the request.

    Args:
        system: system prompt.
        messages: chat transcript (``user``/``assistant``), last one ``user``.
        examples: ``(request, answer)`` pairs shown first; ``None`` = the
            default examples when ``messages`` has a single message, none otherwise.

    Returns:
        ``(prompt, stop)``: the completion prompt and stop sequences.
    """
    if examples is None:
        if len(messages) == 1:
            chosen = select_few_shot_cases(_QUERY_BODY_RE.sub(r"\1", messages[-1]["content"]))
            examples = [(delimit_query(c["query"]), c["answer"]) for c in chosen]
        else:
            examples = ()
    parts = [system.strip(), COMPLETION_RULES, ""]
    for req, ans in examples:
        parts += ["### Request:", req, f"Answer: {ans}", ""]
    for m in messages:
        if m["role"] == "user":
            parts += ["### Request:", m["content"]]
        else:
            parts += [f"Answer: {m['content']}", ""]
    return "\n".join(parts) + "\nAnswer:", list(COMPLETION_STOP)
