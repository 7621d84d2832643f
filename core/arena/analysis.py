"""Query analysis and prompt building for the hybrid pipeline (DPR201): what goes in front of the LLM.

:func:`analyze_query` runs the classic-ML side on one customer query (intent
classifier top-k, sentiment, urgency with reasons, optional PII masking) into a
:class:`QueryAnalysis`; :func:`example_pool` builds worked examples from the user's own
table (for base models); :func:`build_prompts` renders the *raw* and *contextualised*
prompts. Sending them to a provider is :mod:`core.arena.hybrid`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Iterable, Mapping, Sequence

from core.errors import ConfigError, CrossroadsError, DataError

from .prompts import (
    CONTEXTUALISED_TEMPLATE,
    RAW_TEMPLATE,
    ExamplePool,
    PromptTemplate,
    RenderedPrompt,
    context_values,
    few_shot_messages,
)
from .urgency import assess_urgency


@dataclass
class QueryAnalysis:
    """What the classic-ML side found for one query.

    Attributes:
        query: the text.
        category: top-1 label; confidence: its probability in [0, 1].
        top_k: ``[(label, probability), ...]`` best first.
        sentiment: ``"POSITIVE"|"NEGATIVE"|"NEUTRAL"|"MIXED"``.
        sentiment_score: ``{"Positive", "Negative", "Neutral", "Mixed"}`` -> [0, 1].
        language_code: e.g. ``"en"``, ``"ja"``.
        urgency: ``"high"|"medium"|"low"`` (:func:`core.arena.urgency.assess_urgency`),
            or ``"unknown"`` when neither sentiment nor any cue could be found.
        notes: what the user should know (e.g. sentiment unavailable for this language).
        urgency_reason: why, in words (``Urgency.reason_text()``).
        pii: what was masked (:class:`core.privacy.MaskResult`) when masking was on, else
            ``None``; ``query`` is then the masked text.
    """

    query: str
    category: str
    confidence: float
    top_k: list[tuple[str, float]]
    sentiment: str
    sentiment_score: dict[str, float]
    language_code: str
    urgency: str
    notes: list[str] = field(default_factory=list)
    urgency_reason: str = ""
    pii: Any = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (``top_k`` as ``[{"label", "probability"}]``; ``pii`` as
        ``MaskResult.to_dict()`` or ``None``; the masked values themselves are never kept)."""
        pii, self.pii = self.pii, None
        try:
            d = asdict(self)
        finally:
            self.pii = pii
        d["top_k"] = [{"label": lab, "probability": float(p)} for lab, p in self.top_k]
        d["pii"] = pii.to_dict() if pii is not None else None
        return d


def analyze_query(query: str, classifier: Any, *, k: int = 3, sentiment_backend: str = "local",
                  language: str = "auto",
                  sentiment_fn: Callable[[str], Any] | None = None, mask_pii: bool = False,
                  pii_detector: Any = None, urgent_categories: Iterable[str] | None = None) -> QueryAnalysis:
    """Classify a query, measure its sentiment and urgency, and optionally mask its personal data.

    Args:
        query: customer text (non-blank).
        classifier: fitted object with ``predict_top_k(text, k) -> [(label, p)]``
            (:class:`core.arena.classifier.IntentClassifier`).
        k: number of labels to keep (>= 1).
        sentiment_backend / language: passed to :func:`core.sentiment.analyze`.
        sentiment_fn: alternative ``text -> result`` with ``.sentiment``,
            ``.sentiment_score``, ``.language_code``.
        mask_pii: mask emails, phones, cards, IBANs, My Numbers and JP postal codes
            (:func:`core.privacy.mask_pii`) before anything else; everything after
            (classifier, sentiment, prompts) sees the masked text.
        pii_detector: a :class:`core.privacy.ComprehendPiiDetector` to add Comprehend's
            findings (English/Spanish) when ``mask_pii``.
        urgent_categories: labels to treat as urgent (see :func:`core.arena.urgency.assess_urgency`).

    Returns:
        :class:`QueryAnalysis`.

    Raises:
        ConfigError: blank query or bad ``k``.
        DataError / ProviderError: from the classifier, the sentiment backend or Comprehend.
    """
    if not isinstance(query, str) or not query.strip():
        raise ConfigError("the query is empty: type a customer message.")
    if not isinstance(k, int) or k < 1:
        raise ConfigError(f"k must be a whole number >= 1, got {k!r}.")
    from core.sentiment.base import limit_text

    query, cut = limit_text(query)  # the prompt, the classifier and sentiment all see at most this much
    cut_notes = [cut.replace("before analysis", "before classification, sentiment and the prompt")] if cut else []
    masked = None
    if mask_pii:
        from core.privacy import mask_pii as _mask

        masked = _mask(query, language=language if language != "auto" else "auto", comprehend=pii_detector)
        query = masked.text
    top = [(str(lab), float(p)) for lab, p in classifier.predict_top_k(query, k=k)]
    if sentiment_fn is None:
        from core.sentiment import analyze

        def sentiment_fn(text):
            return analyze(text, language=language, backend=sentiment_backend)
    notes = cut_notes + (list(masked.notes) if masked is not None else [])
    try:
        sres = sentiment_fn(query)
    except DataError as exc:  # e.g. a language the sentiment backend does not support
        urg = assess_urgency(query, "UNKNOWN", {}, category=top[0][0], urgent_categories=urgent_categories)
        return QueryAnalysis(query=query, category=top[0][0], confidence=top[0][1], top_k=top,
                             sentiment="UNKNOWN", sentiment_score={}, language_code="unknown",
                             urgency=urg.level, notes=notes + [f"Sentiment not available: {exc}"],
                             urgency_reason=urg.reason_text(), pii=masked)
    scores = {str(kk): float(v) for kk, v in dict(sres.sentiment_score).items()}
    urg = assess_urgency(query, str(sres.sentiment), scores, category=top[0][0],
                         urgent_categories=urgent_categories)
    return QueryAnalysis(query=query, category=top[0][0], confidence=top[0][1], top_k=top,
                         sentiment=str(sres.sentiment), sentiment_score=scores,
                         language_code=str(sres.language_code), urgency=urg.level,
                         notes=notes + list(getattr(sres, "notices", []) or []),
                         urgency_reason=urg.reason_text(), pii=masked)


def example_pool(texts: Sequence[str], labels: Sequence[str], classifier: Any = None, *,
                 answers: Sequence[str] | None = None, k: int = 3,
                 sentiment_fn: Callable[[str], Any] | None = None, **kwargs: Any) -> ExamplePool:
    """Worked examples for base models from the user's own labelled table.

    Each example gets real context: with ``classifier``, the probability of its own
    label and the other top-k labels; with the local sentiment (or ``sentiment_fn``), its
    sentiment and urgency. Context is computed only for the examples actually shown.

    Args:
        texts / labels: the user's labelled queries (the classifier's training rows).
        classifier: the fitted intent classifier (optional).
        answers: optional answer column (else neutral, format-only answers).
        k: top-k labels of each example's context.
        sentiment_fn: ``text -> result`` as in :func:`analyze_query` (default: local backend).
        kwargs: passed to :class:`core.arena.prompts.ExamplePool`.

    Returns:
        :class:`core.arena.prompts.ExamplePool`.
    """

    def context(query: str, category: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if classifier is not None:
            proba = dict(classifier.predict_top_k(query, k=max(k, 1) + 1))
            others = [(lab, p) for lab, p in proba.items() if lab != category][: max(k, 1) - 1]
            p_own = float(proba.get(category, 0.0)) or 0.5
            out.update(confidence=p_own, top_k=[(category, p_own)] + others)
        try:
            if sentiment_fn is not None:
                sres = sentiment_fn(query)
            else:
                from core.sentiment import analyze

                sres = analyze(query, backend="local")
            scores = dict(sres.sentiment_score)
            out.update(sentiment=str(sres.sentiment),
                       urgency=assess_urgency(query, str(sres.sentiment), scores, category=category).level)
        except CrossroadsError:
            pass
        return out

    return ExamplePool(texts, labels, answers, context=context, **kwargs)


def build_prompts(analysis: QueryAnalysis, *, raw_template: PromptTemplate = RAW_TEMPLATE,
                  contextualised_template: PromptTemplate = CONTEXTUALISED_TEMPLATE,
                  guidance: Mapping[str, str] | None = None, include_alternatives: bool = True,
                  include_guidance: bool = True, few_shot: bool = False,
                  examples: ExamplePool | None = None,
                  extra: Mapping[str, Any] | None = None) -> dict[str, RenderedPrompt]:
    """Render both prompts for one analysed query.

    Args:
        few_shot: put worked examples, rendered with the same template, before
            the query as earlier turns (:func:`core.arena.prompts.few_shot_messages`);
            used for base models (``provider.is_base_model``). Both arms get the same
            examples.
        examples: the user's own rows to draw the examples from (:func:`example_pool`);
            ``None``: neutral format-only examples.

    Returns:
        ``{"raw": RenderedPrompt, "contextualised": RenderedPrompt}``.

    Raises:
        ConfigError: a template uses a variable with no value, or is malformed.
    """
    values = context_values(query=analysis.query, category=analysis.category,
                            confidence=analysis.confidence, top_k=analysis.top_k,
                            sentiment=analysis.sentiment, urgency=analysis.urgency,
                            guidance=guidance, include_alternatives=include_alternatives,
                            include_guidance=include_guidance,
                            extra={"language": analysis.language_code, **(extra or {})})
    if few_shot:
        opts = dict(guidance=guidance, include_alternatives=include_alternatives,
                    include_guidance=include_guidance, pool=examples,
                    top_k_labels=[lab for lab, _ in analysis.top_k])
        return {"raw": few_shot_messages(raw_template, values, **opts),
                "contextualised": few_shot_messages(contextualised_template, values, **opts)}
    return {"raw": raw_template.render(values),
            "contextualised": contextualised_template.render(values)}
