"""Result schema and backend interface shared by every sentiment backend.

The schema is Amazon Comprehend's ``DetectSentiment`` response
(https://docs.aws.amazon.com/comprehend/latest/APIReference/API_DetectSentiment.html):
``Sentiment`` is one of ``POSITIVE``, ``NEGATIVE``, ``NEUTRAL``, ``MIXED`` and
``SentimentScore`` has ``Positive``, ``Negative``, ``Neutral`` and ``Mixed``
(floats in [0, 1] summing to about 1).
"""

from __future__ import annotations

import abc
import time
from dataclasses import asdict, dataclass, field
from typing import Callable, Sequence

from core.errors import DataError

#: The four labels, in Comprehend's spelling.
LABELS: tuple[str, ...] = ("POSITIVE", "NEGATIVE", "NEUTRAL", "MIXED")
#: The four keys of ``SentimentScore``.
SCORE_KEYS: tuple[str, ...] = ("Positive", "Negative", "Neutral", "Mixed")

#: Languages accepted by Comprehend ``DetectSentiment``
#: (https://docs.aws.amazon.com/comprehend/latest/dg/supported-languages.html).
SUPPORTED_LANGUAGES: dict[str, str] = {
    "en": "English", "es": "Spanish", "fr": "French", "de": "German", "it": "Italian",
    "pt": "Portuguese", "ar": "Arabic", "hi": "Hindi", "ja": "Japanese", "ko": "Korean",
    "zh": "Chinese (simplified)", "zh-TW": "Chinese (traditional)",
}

#: Comprehend's size limit for one document of DetectSentiment/BatchDetectSentiment, in UTF-8 bytes.
MAX_DOCUMENT_BYTES = 5000

#: A progress callback: ``(done, total)`` counted in documents.
ProgressCallback = Callable[[int, int], None]


@dataclass
class SentimentResult:
    """The sentiment of one text, in Comprehend's schema.

    Attributes:
        sentiment: ``"POSITIVE"``, ``"NEGATIVE"``, ``"NEUTRAL"`` or ``"MIXED"``.
        sentiment_score: ``{"Positive", "Negative", "Neutral", "Mixed"}`` -> float in
            [0, 1], summing to about 1 (for the local backend these are heuristic
            confidences, not calibrated probabilities; the label is their argmax).
        language_code: the language analysed (``"en"``, ``"ja"``...).
        backend: the backend's name (``"local"`` or ``"comprehend"``).
        notices: things the user should know (truncation, language guessed...).
        seconds: wall-clock time of the analysis, in seconds.
    """

    sentiment: str
    sentiment_score: dict[str, float]
    language_code: str
    backend: str
    notices: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def to_dict(self) -> dict:
        """Return ``{"Sentiment", "SentimentScore", "LanguageCode", "Backend"}`` (Comprehend's keys)."""
        return {
            "Sentiment": self.sentiment,
            "SentimentScore": {k: float(self.sentiment_score.get(k, 0.0)) for k in SCORE_KEYS},
            "LanguageCode": self.language_code,
            "Backend": self.backend,
        }

    def as_row(self) -> dict:
        """Flat dict for a table row: Sentiment, the four scores, LanguageCode, Backend, Notices, Seconds."""
        row = {"Sentiment": self.sentiment}
        row.update({k: round(float(self.sentiment_score.get(k, 0.0)), 4) for k in SCORE_KEYS})
        row.update({"LanguageCode": self.language_code, "Backend": self.backend,
                    "Notices": " ".join(self.notices), "Seconds": self.seconds})
        return row

    def asdict(self) -> dict:
        """All fields as a plain dict (for JSON)."""
        return asdict(self)


@dataclass
class BatchResult:
    """Outcome of :func:`core.sentiment.analyze_batch`.

    Attributes:
        results: one entry per input text, in input order; ``None`` for texts not
            analysed (an error on that document, or a later chunk not run).
        errors: ``{index: message}`` for documents that failed individually
            (Comprehend ``ErrorList`` entries, empty text...).
        error: the message of the error that stopped the batch, or ``None`` when
            every chunk ran. Work done before it is kept in ``results``.
        seconds: wall-clock time of the whole batch, in seconds.
    """

    results: list[SentimentResult | None]
    errors: dict[int, str] = field(default_factory=dict)
    error: str | None = None
    seconds: float = 0.0

    @property
    def n_done(self) -> int:
        """Number of texts that have a result."""
        return sum(r is not None for r in self.results)

    def to_rows(self) -> list[dict]:
        """One flat dict per input (see :meth:`SentimentResult.as_row`); failed rows carry ``Error``."""
        rows = []
        for i, r in enumerate(self.results):
            if r is None:
                rows.append({"Sentiment": None, **{k: None for k in SCORE_KEYS}, "LanguageCode": None,
                             "Backend": None, "Notices": "", "Seconds": None,
                             "Error": self.errors.get(i) or ("not run: " + self.error if self.error else "")})
            else:
                rows.append({**r.as_row(), "Error": self.errors.get(i, "")})
        return rows


class SentimentBackend(abc.ABC):
    """One way of computing sentiment. Subclasses implement :meth:`detect` and may override :meth:`detect_batch`."""

    #: Short name shown in results and the UI.
    name: str = "base"

    @abc.abstractmethod
    def detect(self, text: str, language: str = "auto") -> SentimentResult:
        """Analyse one text.

        Args:
            text: the text (non-empty after stripping whitespace).
            language: an ISO code (``"en"``, ``"ja"``, see :data:`SUPPORTED_LANGUAGES`) or ``"auto"``.

        Returns:
            A :class:`SentimentResult`.

        Raises:
            DataError: empty text or unsupported language.
            ProviderError: the service failed.
        """

    def detect_batch(self, texts: Sequence[str], language: str = "auto", *,
                     progress: ProgressCallback | None = None) -> BatchResult:
        """Analyse many texts; keeps the results done so far if a later text stops the batch.

        Args:
            texts: the texts, in order.
            language: as in :meth:`detect`.
            progress: called with ``(done, total)`` after each text.

        With ``language="auto"``, the batch's language (:func:`core.sentiment.language.language_prior`)
        settles rows that script alone cannot: a kanji-only row of a Japanese batch is Japanese.

        Returns:
            A :class:`BatchResult` with one entry per text. A :class:`DataError` on one
            text is recorded in ``errors`` and the batch goes on; any other
            :class:`core.errors.CrossroadsError` stops it and is reported in ``error``.
        """
        from core.errors import CrossroadsError
        from core.sentiment.language import detect_language, language_prior

        start = time.perf_counter()
        out = BatchResult(results=[None] * len(texts))
        prior = language_prior(texts) if (language or "auto").strip() == "auto" else None
        for i, text in enumerate(texts):
            try:
                guess = detect_language(text, prior) if prior and isinstance(text, str) else None
                if guess is not None and guess.method == "prior":  # kanji-only row of a Japanese batch
                    out.results[i] = self.detect(text, guess.code)
                    out.results[i].notices[:0] = guess.notices
                else:
                    out.results[i] = self.detect(text, language)
            except DataError as exc:
                out.errors[i] = str(exc)
            except CrossroadsError as exc:
                out.error = str(exc)
                break
            if progress:
                progress(i + 1, len(texts))
        out.seconds = time.perf_counter() - start
        return out


def check_text(text) -> str:
    """Return ``text`` as ``str`` if it has non-blank content; else raise :class:`DataError`."""
    if text is None or (isinstance(text, float) and text != text):
        raise DataError("the text is empty: type or paste some text to analyse.")
    text = str(text)
    if not text.strip():
        raise DataError("the text is empty: type or paste some text to analyse.")
    return text


def limit_text(text: str) -> tuple[str, str | None]:
    """Cut ``text`` to ``settings.max_text_chars`` characters (``CROSSROADS_MAX_TEXT_CHARS``, default 32,767).

    Bounds the time any backend spends on one text (a 10 MB cell took minutes).

    Returns:
        ``(text, None)`` when it fits, else ``(cut_text, notice)``.
    """
    from core.settings import settings

    limit = settings.max_text_chars
    if len(text) <= limit:
        return text, None
    return text[:limit], (f"Text cut to its first {limit:,} of {len(text):,} characters before analysis "
                          "(CROSSROADS_MAX_TEXT_CHARS).")


def truncate_utf8(text: str, max_bytes: int = MAX_DOCUMENT_BYTES) -> tuple[str, str | None]:
    """Cut ``text`` so that its UTF-8 encoding fits in ``max_bytes``, on a character boundary.

    Args:
        text: any string.
        max_bytes: the limit in bytes (Comprehend: 5,000).

    Returns:
        ``(text, None)`` when it fits, else ``(cut_text, notice)`` where ``notice`` says
        how many bytes/characters were kept and dropped.
    """
    data = text.encode("utf-8")
    if len(data) <= max_bytes:
        return text, None
    cut = data[:max_bytes].decode("utf-8", errors="ignore")  # drops a partial trailing character
    return cut, (f"Text truncated to {len(cut.encode('utf-8')):,} of {len(data):,} UTF-8 bytes "
                 f"({len(cut):,} of {len(text):,} characters): Comprehend accepts at most "
                 f"{max_bytes:,} bytes per document.")


def scores_from_evidence(positive: float, negative: float, neutral_weight: float,
                         balance_power: float = 2.0) -> dict[str, float]:
    """Turn positive/negative evidence into the four Comprehend scores (used by the local backend).

    Let ``P`` and ``N`` be the evidence (e.g. counts of polar words), ``k`` the
    neutral weight, ``m = (P+N)/(P+N+k)`` the polar mass, ``b = min(P,N)/max(P,N)``
    the balance, ``g`` the balance power and ``f = b**g * (2+b)/(1+b)`` the mixed
    weight. Then ``Neutral = 1-m``, ``Mixed = m*f/(1+f)``, ``Positive = m*(P/(P+N))/(1+f)``
    and ``Negative = m*(N/(P+N))/(1+f)``. So:

    - whenever both polarities have evidence, ``Positive``, ``Negative`` and ``Mixed``
      are all > 0 (a MIXED result always shows both polarities; at ``P = N``,
      Mixed is 60% of the polar mass and each polarity 20%);
    - Mixed beats the stronger polarity exactly when ``f > 1/(1+b)``, i.e.
      ``b**g * (2+b) > 1``: ``b > 0.618`` for ``g = 2`` (golden ratio) and
      ``b > 0.414`` for ``g = 1`` (``sqrt(2)-1``) — the weaker polarity must have at
      least 62% (or 41%) of the stronger one's evidence; it must also beat ``Neutral``;
    - with one polarity only (``b = 0``) the scores are ``m`` and ``1-m``.

    The label is the argmax of these scores (:func:`label_of`), so the label's score
    is always the largest one.

    Args:
        positive: evidence for positive (>= 0).
        negative: evidence for negative (>= 0).
        neutral_weight: ``k`` > 0; larger values need more evidence to leave NEUTRAL.
        balance_power: ``g`` > 0; larger values need a closer balance for MIXED.

    Returns:
        ``{"Positive", "Negative", "Neutral", "Mixed"}`` -> floats in [0, 1] summing to 1.
    """
    p, n = max(float(positive), 0.0), max(float(negative), 0.0)
    total = p + n
    if total <= 0:
        return {"Positive": 0.0, "Negative": 0.0, "Neutral": 1.0, "Mixed": 0.0}
    m = total / (total + neutral_weight)
    b = min(p, n) / max(p, n)
    f = b ** balance_power * (2.0 + b) / (1.0 + b)
    return {"Positive": m * (p / total) / (1.0 + f), "Negative": m * (n / total) / (1.0 + f),
            "Neutral": 1.0 - m, "Mixed": m * f / (1.0 + f)}


def label_of(scores: dict[str, float]) -> str:
    """Return the label (``"POSITIVE"``...) whose score is highest (scores compared to 9 decimals).

    Exact ties go to NEUTRAL, then MIXED, then POSITIVE, then NEGATIVE: e.g. one ordinary
    polar word with ``k = 1`` gives Positive 0.5 / Neutral 0.5 -> NEUTRAL. The returned
    label's score is therefore always the largest (or tied for largest) score.
    """
    order = ("Neutral", "Mixed", "Positive", "Negative")
    best = max(order, key=lambda k: (round(scores.get(k, 0.0), 9), -order.index(k)))
    return best.upper()
