"""Amazon Comprehend backend: ``DetectSentiment``, ``BatchDetectSentiment`` and language detection.

Credentials come only from boto3's default chain (environment variables, shared
config/credentials files, SSO, container or instance roles), optionally with a
named profile and a region chosen by the user. They are never logged, shown or
written. Retries use botocore's ``Config(retries={"mode": "standard"})``.

API references:
https://docs.aws.amazon.com/comprehend/latest/APIReference/API_DetectSentiment.html,
https://docs.aws.amazon.com/comprehend/latest/APIReference/API_BatchDetectSentiment.html
(at most 25 documents per call, each at most 5,000 UTF-8 bytes; failed documents
come back in ``ErrorList``),
https://docs.aws.amazon.com/comprehend/latest/APIReference/API_DetectDominantLanguage.html
(needs at least 20 characters). Prices: :data:`PRICING_FILE` (from
https://aws.amazon.com/comprehend/pricing/).
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from core.errors import (BAD_CREDENTIAL_CODES, ConfigError, DataError, ProviderError, aws_credentials_error)
from core.sentiment.base import (MAX_DOCUMENT_BYTES, SCORE_KEYS, SUPPORTED_LANGUAGES, BatchResult,
                                 ProgressCallback, SentimentBackend, SentimentResult, check_text,
                                 truncate_utf8)
from core.sentiment.language import MIN_DETECT_CHARS, detect_language, language_prior

#: Editable price configuration (JSON).
PRICING_FILE = Path(__file__).with_name("comprehend_pricing.json")
#: BatchDetectSentiment / BatchDetectDominantLanguage accept at most this many documents per call.
BATCH_SIZE = 25

_THROTTLE_CODES = {"ThrottlingException", "TooManyRequestsException", "Throttling",
                   "RequestLimitExceeded", "ProvisionedThroughputExceededException"}
_BAD_CREDENTIAL_CODES = BAD_CREDENTIAL_CODES
#: Seconds to wait for an answer before botocore retries (its default, 60 s x 5 attempts, looks like a hang).
READ_TIMEOUT_S = 10.0
CONNECT_TIMEOUT_S = 5.0
_FIX_CREDENTIALS = ("Configure credentials with `aws configure` (or `aws sso login`), set AWS_PROFILE, "
                    "or choose a profile; the local backend works without AWS.")


def _translate(exc: Exception, region: str | None) -> Exception:
    """Turn a botocore exception into a user-facing CrossroadsError (never echoing secrets)."""
    from botocore.exceptions import (BotoCoreError, ClientError, EndpointConnectionError, NoCredentialsError,
                                     NoRegionError, PartialCredentialsError, ProfileNotFound,
                                     TokenRetrievalError)

    if isinstance(exc, (NoCredentialsError, PartialCredentialsError)):
        return ProviderError("no AWS credentials found for Amazon Comprehend. " + _FIX_CREDENTIALS,
                             code="NoCredentials")
    if isinstance(exc, TokenRetrievalError):
        return ProviderError("your AWS SSO session has expired: run `aws sso login` and try again.",
                             code="TokenRetrievalError")
    if isinstance(exc, ProfileNotFound):
        return ConfigError(f"AWS profile not found: {exc.kwargs.get('profile')!r}. "
                           "Pick a profile listed in ~/.aws/config, or leave it empty for the default chain.")
    if isinstance(exc, NoRegionError):
        return ConfigError("no AWS region set: choose a region where Comprehend runs (e.g. us-east-1, "
                           "ap-northeast-1) or set AWS_REGION.")
    if isinstance(exc, EndpointConnectionError):
        return ProviderError(f"cannot reach Amazon Comprehend in region {region or '?'}: check the network "
                             "and that Comprehend is offered in this region.", retryable=True,
                             code="EndpointConnectionError")
    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code", "")
        if code in _THROTTLE_CODES:
            return ProviderError(f"Amazon Comprehend is throttling requests ({code}) even after retries: "
                                 "wait a minute and run again, use a smaller batch, or request a higher "
                                 "quota in Service Quotas.", retryable=True, code=code)
        if code in ("AccessDeniedException", "AccessDenied"):
            return ProviderError("access denied by Amazon Comprehend (AccessDeniedException): your AWS identity "
                                 "needs comprehend:DetectSentiment, comprehend:BatchDetectSentiment and "
                                 "comprehend:DetectDominantLanguage (e.g. the ComprehendReadOnly managed policy).",
                                 code=code)
        if code in _BAD_CREDENTIAL_CODES:
            return aws_credentials_error(code, "Amazon Comprehend", "The local backend works without AWS.")
        if code == "UnsupportedLanguageException":
            return DataError("Amazon Comprehend does not support this language for sentiment: use one of "
                             + ", ".join(SUPPORTED_LANGUAGES) + ".")
        if code == "TextSizeLimitExceededException":
            return DataError(f"a text is over Comprehend's {MAX_DOCUMENT_BYTES:,}-byte limit.")
        if code == "BatchSizeLimitExceededException":
            return DataError(f"more than {BATCH_SIZE} documents in one batch call.")
        if code == "InternalServerException":
            return ProviderError("Amazon Comprehend had an internal error even after retries: try again later.",
                                 retryable=True, code=code)
        return ProviderError(f"Amazon Comprehend refused the request ({code or 'unknown error'}).", code=code)
    if isinstance(exc, BotoCoreError):  # connection closed, read timeout, proxy...: botocore retried already
        return ProviderError(f"the connection to Amazon Comprehend in region {region or '?'} failed "
                             f"({type(exc).__name__}) even after retries: check the network and run again.",
                             retryable=True, code=type(exc).__name__)
    return exc


@dataclass
class CostEstimate:
    """Estimated Amazon Comprehend charge for a set of texts.

    Attributes:
        n_documents: documents that would be sent.
        units: billed units (``ceil(characters / 100)``, at least 3 per document and per API).
        usd: estimated charge in US dollars.
        price_per_unit: USD per unit for DetectSentiment (from the pricing file).
        includes_language_detection: whether DetectDominantLanguage units are included (language "auto").
        source_url: AWS price page.
        recorded: date the price was written into the pricing file.
    """

    n_documents: int
    units: int
    usd: float
    price_per_unit: float
    includes_language_detection: bool
    source_url: str
    recorded: str

    def describe(self) -> str:
        """One sentence for the UI/CLI."""
        extra = " including language detection" if self.includes_language_detection else ""
        return (f"Estimated Amazon Comprehend cost: {self.n_documents:,} documents, {self.units:,} units "
                f"of 100 characters (min. 3 per document){extra}, about USD {self.usd:,.4f} at "
                f"USD {self.price_per_unit:g}/unit (price from {self.source_url}, recorded {self.recorded}).")


def load_pricing(path: str | Path | None = None) -> dict:
    """Read the Comprehend price configuration.

    Args:
        path: a JSON file like :data:`PRICING_FILE` (default that file).

    Returns:
        The parsed dict (keys ``source_url``, ``recorded``, ``unit_characters``,
        ``minimum_units_per_request``, ``price_per_unit`` -> {API name: USD}).

    Raises:
        ConfigError: unreadable file or missing/invalid fields.
    """
    path = Path(path) if path else PRICING_FILE
    try:
        cfg = json.loads(path.read_text(encoding="utf-8"))
        unit, minimum = int(cfg["unit_characters"]), int(cfg["minimum_units_per_request"])
        prices = {k: float(v) for k, v in cfg["price_per_unit"].items()}
        prices["DetectSentiment"]  # noqa: B018 - must exist
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ConfigError(f"cannot use the Comprehend price file {path}: {exc}. Fix it or restore it from git.") \
            from None
    if unit <= 0 or minimum < 0 or any(v < 0 for v in prices.values()):
        raise ConfigError(f"the Comprehend price file {path} has negative or zero values.")
    cfg.update(unit_characters=unit, minimum_units_per_request=minimum, price_per_unit=prices)
    return cfg


def estimate_cost(texts: Sequence[str], *, language: str = "auto", pricing: dict | None = None) -> CostEstimate:
    """Estimate what sending ``texts`` to Comprehend would cost, before running it.

    Per AWS's price page, requests are metered in units of 100 characters with a
    minimum of 3 units per request; each document of a batch call counts as one
    request. Texts are counted after the 5,000-byte truncation; empty texts are not sent.

    Args:
        texts: the texts.
        language: ``"auto"`` adds DetectDominantLanguage units for texts of 20+ characters.
        pricing: a dict from :func:`load_pricing` (default: the bundled file).

    Returns:
        A :class:`CostEstimate` (``usd`` in US dollars).
    """
    cfg = pricing or load_pricing()
    unit, minimum = cfg["unit_characters"], cfg["minimum_units_per_request"]
    p_sent = cfg["price_per_unit"]["DetectSentiment"]
    p_lang = cfg["price_per_unit"].get("DetectDominantLanguage", p_sent)
    n = units = 0
    usd = 0.0
    for t in texts:
        if t is None or (isinstance(t, float) and t != t) or not str(t).strip():
            continue
        cut, _ = truncate_utf8(str(t))
        u = max(minimum, math.ceil(len(cut) / unit))
        n += 1
        units += u
        usd += u * p_sent
        if language == "auto" and len(cut.strip()) >= MIN_DETECT_CHARS:
            units += u
            usd += u * p_lang
    return CostEstimate(n, units, usd, p_sent, language == "auto", str(cfg.get("source_url", "")),
                        str(cfg.get("recorded", "")))


def comprehend_status(profile: str | None = None, region: str | None = None) -> tuple[bool, str]:
    """Say whether Comprehend can be called, without calling it (no network, no charge).

    Args:
        profile: AWS profile name, or ``None`` for the default chain.
        region: AWS region, or ``None`` for the profile's/environment's.

    Returns:
        ``(available, reason)``; the reason names the credential *source* (e.g.
        ``"env"``, ``"shared-credentials-file"``), never a key.
    """
    try:
        import boto3
    except ImportError:
        return False, "boto3 is not installed (pip install boto3)."
    try:
        session = boto3.Session(profile_name=profile or None, region_name=region or None)
        creds = session.get_credentials()
    except Exception as exc:  # noqa: BLE001 - any setup problem is reported, not raised
        err = _translate(exc, region)
        return False, str(err) if err is not exc else f"AWS setup problem ({type(exc).__name__})."
    if creds is None:
        return False, "no AWS credentials found by boto3's default chain. " + _FIX_CREDENTIALS
    if not session.region_name:
        return False, "AWS credentials found but no region: choose a region (e.g. us-east-1) or set AWS_REGION."
    return True, f"credentials from {getattr(creds, 'method', 'the default chain')}, region {session.region_name}."


class ComprehendBackend(SentimentBackend):
    """Amazon Comprehend sentiment in its own schema.

    Args:
        profile: AWS profile name (``None``: default chain).
        region: AWS region (``None``: from the profile or environment).
        client: an existing ``boto3`` Comprehend client (tests pass a stubbed one).
        max_attempts: total attempts per call in botocore's standard retry mode.
        read_timeout: seconds to wait for each answer before botocore retries (default :data:`READ_TIMEOUT_S`).
    """

    name = "comprehend"

    def __init__(self, profile: str | None = None, region: str | None = None, *, client=None,
                 max_attempts: int = 5, read_timeout: float = READ_TIMEOUT_S):
        self.profile, self.region = profile or None, region or None
        self._client = client
        self.max_attempts = max_attempts
        self.read_timeout = read_timeout

    @property
    def client(self):
        """The boto3 Comprehend client, created on first use with standard-mode retries."""
        if self._client is None:
            import boto3
            from botocore.config import Config

            try:
                session = boto3.Session(profile_name=self.profile, region_name=self.region)
                retries = {"mode": "standard", "total_max_attempts": self.max_attempts}
                self._client = session.client("comprehend", config=Config(
                    retries=retries, read_timeout=self.read_timeout, connect_timeout=CONNECT_TIMEOUT_S))
            except Exception as exc:  # noqa: BLE001
                raise _translate(exc, self.region) from None
            self.region = self._client.meta.region_name
        return self._client

    def _call(self, operation: str, **kwargs):
        try:
            return getattr(self.client, operation)(**kwargs)
        except Exception as exc:  # noqa: BLE001
            err = _translate(exc, self.region)
            if err is exc:
                raise
            raise err from None

    @staticmethod
    def _check_language(code: str) -> str:
        if code not in SUPPORTED_LANGUAGES:
            raise DataError(f"Amazon Comprehend sentiment does not support language {code!r}: "
                            f"use one of {', '.join(SUPPORTED_LANGUAGES)}, or 'auto'.")
        return code

    def _dominant_language(self, text: str) -> tuple[str, list[str]]:
        """Language of one text: Comprehend for 20+ characters, local script rules below that."""
        if len(text.strip()) < MIN_DETECT_CHARS:
            guess = detect_language(text)
            return guess.code, [f"Comprehend needs at least {MIN_DETECT_CHARS} characters to detect a language; "
                                f"this text has {len(text.strip())}, so the local detector chose "
                                f"{guess.code!r}. Choose the language to be sure."]
        resp = self._call("detect_dominant_language", Text=text)
        langs = sorted(resp.get("Languages", []), key=lambda d: -d.get("Score", 0))
        if not langs:
            raise DataError("Amazon Comprehend could not detect the language: choose it explicitly.")
        return langs[0]["LanguageCode"], []

    def _result(self, resp: dict, lang: str, notices: list[str], seconds: float) -> SentimentResult:
        score = resp.get("SentimentScore", {})
        return SentimentResult(sentiment=resp["Sentiment"],
                               sentiment_score={k: float(score.get(k, 0.0)) for k in SCORE_KEYS},
                               language_code=lang, backend=self.name, notices=notices, seconds=seconds)

    def detect(self, text: str, language: str = "auto") -> SentimentResult:
        """Call ``DetectSentiment`` on one text (after ``DetectDominantLanguage`` when ``language="auto"``).

        Args:
            text: the text; cut to 5,000 UTF-8 bytes on a character boundary, with a notice.
            language: a code of :data:`SUPPORTED_LANGUAGES` or ``"auto"``.

        Returns:
            A :class:`SentimentResult` with ``backend="comprehend"``.

        Raises:
            DataError: empty text or unsupported language.
            ProviderError: no credentials, access denied, throttling after retries, network.
            ConfigError: unknown profile or no region.
        """
        start = time.perf_counter()
        text, note = truncate_utf8(check_text(text))
        notices = [note] if note else []
        lang = (language or "auto").strip()
        if lang == "auto":
            lang, extra = self._dominant_language(text)
            notices.extend(extra)
        self._check_language(lang)
        resp = self._call("detect_sentiment", Text=text, LanguageCode=lang)
        return self._result(resp, lang, notices, time.perf_counter() - start)

    def detect_batch(self, texts: Sequence[str], language: str = "auto", *,
                     progress: ProgressCallback | None = None) -> BatchResult:
        """Run ``BatchDetectSentiment`` in chunks of 25, keeping finished chunks if a later one fails.

        Each ``ErrorList`` entry is recorded in ``errors`` under the document's index in
        ``texts``. Empty texts and texts in unsupported languages are recorded there
        too and never sent. With ``language="auto"``, languages come from
        ``BatchDetectDominantLanguage`` (texts under 20 characters: local detector), and
        each chunk is sent once per language found; a kanji-only text that Comprehend calls
        Chinese is analysed as Japanese when the batch is mostly Japanese
        (:func:`core.sentiment.language.language_prior`).

        Args:
            texts: the texts, in order.
            language: a code of :data:`SUPPORTED_LANGUAGES` or ``"auto"``.
            progress: called with ``(done, total)`` documents after each chunk.

        Returns:
            A :class:`BatchResult`; ``error`` holds the message that stopped the batch
            (no credentials, access denied, throttling after retries...), if any.

        Raises:
            DataError: ``language`` is not supported (nothing is sent).
        """
        from core.errors import CrossroadsError

        start = time.perf_counter()
        lang_fixed = (language or "auto").strip()
        if lang_fixed != "auto":
            self._check_language(lang_fixed)
        total = len(texts)
        out = BatchResult(results=[None] * total)
        prior = language_prior(texts) if lang_fixed == "auto" else None
        for lo in range(0, total, BATCH_SIZE):
            idx = list(range(lo, min(lo + BATCH_SIZE, total)))
            try:
                self._run_chunk(texts, idx, lang_fixed, out, prior)
            except CrossroadsError as exc:
                out.error = (f"stopped after {out.n_done:,} of {total:,} documents: {exc}")
                break
            except Exception as exc:  # noqa: BLE001 - whatever happens, the finished rows are kept and reported
                out.error = (f"stopped after {out.n_done:,} of {total:,} documents by an unexpected "
                             f"{type(exc).__name__}: {exc}")
                break
            if progress:
                progress(idx[-1] + 1, total)
        out.seconds = time.perf_counter() - start
        return out

    def _run_chunk(self, texts: Sequence[str], idx: list[int], language: str, out: BatchResult,
                   prior: str | None = None) -> None:
        t0 = time.perf_counter()
        prepared: dict[int, tuple[str, list[str]]] = {}
        for i in idx:
            try:
                cut, note = truncate_utf8(check_text(texts[i]))
            except DataError as exc:
                out.errors[i] = str(exc)
                continue
            prepared[i] = (cut, [note] if note else [])
        langs: dict[int, str] = {}
        if language == "auto":
            long_ids = [i for i in prepared if len(prepared[i][0].strip()) >= MIN_DETECT_CHARS]
            if long_ids:
                resp = self._call("batch_detect_dominant_language", TextList=[prepared[i][0] for i in long_ids])
                for item in resp.get("ResultList", []):
                    best = max(item.get("Languages", []), key=lambda d: d.get("Score", 0), default=None)
                    if best:
                        langs[long_ids[item["Index"]]] = best["LanguageCode"]
                for err in resp.get("ErrorList", []):
                    i = long_ids[err["Index"]]
                    out.errors[i] = f"language detection failed: {err.get('ErrorCode')}: {err.get('ErrorMessage', '')}"
                    prepared.pop(i, None)
            for i in list(prepared):
                if i not in langs and i not in out.errors:
                    langs[i], extra = self._dominant_language(prepared[i][0])  # short text: local, no call
                    prepared[i][1].extend(extra)
            if prior == "ja":  # a kanji-only row of a Japanese batch: Japanese, not Chinese
                for i in list(langs):
                    if langs[i] in ("zh", "zh-TW") and detect_language(prepared[i][0], prior).method == "prior":
                        langs[i] = "ja"
                        prepared[i][1].append("Han characters without kana, in a batch that is mostly Japanese: "
                                              "analysed as Japanese.")
        else:
            langs = {i: language for i in prepared}
        groups: dict[str, list[int]] = {}
        for i in prepared:
            code = langs.get(i)
            if code not in SUPPORTED_LANGUAGES:
                out.errors[i] = (f"language {code!r} is not supported by Comprehend sentiment "
                                 f"(supported: {', '.join(SUPPORTED_LANGUAGES)}).")
                continue
            groups.setdefault(code, []).append(i)
        for code, ids in groups.items():
            resp = self._call("batch_detect_sentiment", TextList=[prepared[i][0] for i in ids], LanguageCode=code)
            per_doc = (time.perf_counter() - t0) / max(len(idx), 1)
            for item in resp.get("ResultList", []):
                i = ids[item["Index"]]
                out.results[i] = self._result(item, code, prepared[i][1], per_doc)
            for err in resp.get("ErrorList", []):
                i = ids[err["Index"]]
                out.errors[i] = f"{err.get('ErrorCode', 'Error')}: {err.get('ErrorMessage', '')}".strip()
