"""Prompt templates of the Prompt Arena: *raw* (the query alone) and
*contextualised* (the query plus what the classifier and sentiment found).

Templates are plain text with named variables in braces, e.g. ``{category}``;
write ``{{`` and ``}}`` for literal braces. Only simple names are allowed (no
attribute access or format specs). Both the system and the user part of a
template may use variables.

Safety rules, applied whatever the template says:

* ``{query}`` always renders as ``<query>…</query>`` around the user's text,
  so the user's text is delimited even in an edited template, and every user
  template must contain ``{query}``.
* Inside any value, ``<query>`` / ``</query>`` tags are escaped to
  ``&lt;query&gt;`` / ``&lt;/query&gt;`` so user text cannot close the
  delimiter early and pose as instructions. The text is NFKC-normalised first
  (full-width ``＜／query＞`` becomes ``</query>``), and a tag is found in any
  case and spacing, with attributes (``</query foo="1">``) and with invisible
  characters inside it (zero-width space, joiners, soft hyphen, bidi controls).
* The markers of the base-model completion format (:func:`completion_prompt`)
  are neutralised in every value: ``###`` runs become full-width ``＃＃＃`` and a
  line starting ``Answer:`` or ``Request:`` gets a full-width colon, so user
  text cannot add a fake worked example or answer.
* The default system prompt says the text inside the tags is data to answer,
  never instructions.

A template line whose variables all rendered empty is dropped (so turning
off the alternatives or guidance removes their line).

For a tiny *base* model (the embedded Gemma 3 270M) the rendered chat is
turned into a few-shot completion prompt by :func:`completion_prompt`.

Modules, one concern each:

- :mod:`core.arena.prompts.escaping`: :func:`escape_tags`, :func:`delimit_query`;
- :mod:`core.arena.prompts.templates`: :class:`PromptTemplate`, the two templates, :func:`context_values`;
- :mod:`core.arena.prompts.few_shot`: worked cases and :func:`completion_prompt`;
- :mod:`core.arena.prompts.examples`: :class:`ExamplePool`, examples from the user's table;
- :mod:`core.arena.prompts.copies`: :func:`find_copy`.

The public names are re-exported here: import them from ``core.arena.prompts``.
"""

from core.arena.prompts.copies import (
    COPY_CONTAINMENT,
    COPY_MIN_CHARS,
    COPY_RATIO,
    CopyMatch,
    find_copy,
    worked_examples,
)
from core.arena.prompts.escaping import QUERY_TAG, delimit_query, escape_tags
from core.arena.prompts.examples import ExamplePool
from core.arena.prompts.few_shot import (
    COMPLETION_RULES,
    COMPLETION_STOP,
    FEW_SHOT_CASES,
    FEW_SHOT_EXAMPLES,
    N_FEW_SHOT,
    NEUTRAL_ANSWERS,
    NEUTRAL_QUERIES,
    completion_prompt,
    few_shot_messages,
    format_only_cases,
    neutral_answer,
    select_few_shot_cases,
)
from core.arena.prompts.templates import (
    CONTEXTUALISED_TEMPLATE,
    DEFAULT_GUIDANCE,
    DEFAULT_SYSTEM,
    GENERIC_GUIDANCE,
    RAW_TEMPLATE,
    PromptTemplate,
    RenderedPrompt,
    context_values,
    guidance_for,
    humanise_label,
    indefinite_article,
    is_japanese,
    reply_language,
)

__all__ = [
    "DEFAULT_SYSTEM",
    "RAW_TEMPLATE",
    "CONTEXTUALISED_TEMPLATE",
    "DEFAULT_GUIDANCE",
    "FEW_SHOT_EXAMPLES",
    "FEW_SHOT_CASES",
    "few_shot_messages",
    "select_few_shot_cases",
    "COMPLETION_STOP",
    "reply_language",
    "indefinite_article",
    "is_japanese",
    "PromptTemplate",
    "RenderedPrompt",
    "escape_tags",
    "delimit_query",
    "context_values",
    "completion_prompt",
    "humanise_label",
    "ExamplePool",
    "format_only_cases",
    "neutral_answer",
    "CopyMatch",
    "find_copy",
    "worked_examples",
    # also public, not in the original list
    "QUERY_TAG", "GENERIC_GUIDANCE", "guidance_for", "N_FEW_SHOT", "COMPLETION_RULES", "NEUTRAL_ANSWERS",
    "NEUTRAL_QUERIES", "COPY_CONTAINMENT", "COPY_MIN_CHARS", "COPY_RATIO",
]
