"""Find personal data (PII) in a customer message and mask it before the message leaves the machine.

Two detectors, whose findings are merged:

* **Local patterns** (offline, English and Japanese), :func:`find_pii`:

  ==================================== ============================================================
  type (``PiiEntity.type``)             how it is found
  ==================================== ============================================================
  ``CREDIT_DEBIT_NUMBER``               13-19 digits, spaces or hyphens allowed between groups, that
                                        pass the Luhn check (``stdnum.luhn``)
  ``INTERNATIONAL_BANK_ACCOUNT_NUMBER`` country code + 2 check digits + up to 30 letters/digits that
                                        pass the IBAN check (``stdnum.iban``: length per country,
                                        mod-97)
  ``JP_MY_NUMBER``                      12 digits (``1234 5678 9012`` or run together) with a valid
                                        My Number check digit (``stdnum.jp.in_``), or any 12 digits
                                        within 15 characters after マイナンバー / 個人番号 / "my number"
  ``EMAIL``                             ``local@domain.tld`` (ASCII; Japanese text around it is fine)
  ``PHONE``                             Google's libphonenumber (``phonenumbers``) in the regions of the
                                        text's language (ja: JP; en: US, GB; unknown: all three): any
                                        possible ``+`` number; else 10-11 digits (with the trunk ``0``
                                        in JP and GB) that are valid there or written with separators
  ``JP_POSTAL_CODE``                    ``〒123-4567``, ``郵便番号 1234567``, and in Japanese text a
                                        bare ``123-4567``
  ==================================== ============================================================

  Full-width digits and symbols (``０９０－１２３４``, ``＠``) are read through NFKC, and
  Japanese dashes (``ー``, ``－``, ``‐``) count as hyphens; offsets always refer to the
  original text.

* **Amazon Comprehend** ``DetectPiiEntities`` (:class:`ComprehendPiiDetector`), English and
  Spanish only (https://docs.aws.amazon.com/comprehend/latest/APIReference/API_DetectPiiEntities.html),
  when the user has AWS credentials. Its types are AWS's (``NAME``, ``ADDRESS``...); ``DATE_TIME``
  is not masked by default (a support answer needs "last Monday").

Masks are ``[EMAIL]``, ``[PHONE]``, ``[CARD_NUMBER]``, ``[IBAN]``, ``[MY_NUMBER]``,
``[POSTAL_CODE]`` (:data:`MASKS`), and ``[TYPE]`` for Comprehend's other types. The masked
values are never stored: a :class:`PiiEntity` keeps its type, offsets and a partly hidden
``preview`` (``…1111``) for display.

False positives are preferred to misses: a 12-digit order number whose last digit happens to
be a valid My Number check digit (1 in 10) is masked too.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass, field
from typing import Any, Iterable, Sequence

from core.errors import DataError, ProviderError
from core.text.script import has_japanese_script

__all__ = ["LOCAL_TYPES", "MASKS", "COMPREHEND_PII_LANGUAGES", "PiiEntity", "MaskResult", "find_pii",
           "merge_entities", "mask_entities", "mask_pii", "ComprehendPiiDetector"]

#: Types found by the local patterns, in priority order (an overlap keeps the earlier type).
LOCAL_TYPES = ("CREDIT_DEBIT_NUMBER", "INTERNATIONAL_BANK_ACCOUNT_NUMBER", "JP_MY_NUMBER", "EMAIL", "PHONE",
               "JP_POSTAL_CODE")
#: Mask written in place of each type; other (Comprehend) types become ``[TYPE]``.
MASKS = {"EMAIL": "[EMAIL]", "PHONE": "[PHONE]", "CREDIT_DEBIT_NUMBER": "[CARD_NUMBER]",
         "INTERNATIONAL_BANK_ACCOUNT_NUMBER": "[IBAN]", "JP_MY_NUMBER": "[MY_NUMBER]",
         "JP_POSTAL_CODE": "[POSTAL_CODE]"}
#: Readable names for counts ("1 card number").
READABLE = {"EMAIL": "email address", "PHONE": "phone number", "CREDIT_DEBIT_NUMBER": "card number",
            "INTERNATIONAL_BANK_ACCOUNT_NUMBER": "IBAN", "JP_MY_NUMBER": "My Number",
            "JP_POSTAL_CODE": "postal code"}
#: Languages Amazon Comprehend ``DetectPiiEntities`` accepts.
COMPREHEND_PII_LANGUAGES = ("en", "es")
#: Comprehend types not masked unless asked for.
COMPREHEND_SKIPPED_TYPES = ("DATE_TIME",)
#: ``DetectPiiEntities`` text limit in UTF-8 bytes.
COMPREHEND_MAX_BYTES = 100_000

_DASHES = {c: "-" for c in "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u30fc\uff70"}
_DIGIT_RUN = re.compile(r"(?<![A-Za-z0-9-])\+?\d+(?:[ -]\d+)*(?![A-Za-z0-9])")
_EMAIL = re.compile(r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
                    r"(?![A-Za-z0-9-])")
_IBAN_START = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}(?=[ A-Za-z0-9])")
_IBAN_BODY = re.compile(r"(?: ?[A-Za-z0-9]{1,4})+")
_MY_NUMBER_CUE = re.compile(r"(マイナンバー|個人番号|my\s*number|individual\s*number)", re.IGNORECASE)
_POSTAL_MARKED = re.compile(r"(?:〒|郵便番号)\s*[:：]?\s*(\d{3}-?\d{4})(?![\d-])")
_POSTAL_BARE = re.compile(r"(?<![\d-])(\d{3}-\d{4})(?![\d-])")
_PHONE_SEPARATORS = re.compile(r"[ ()\-.]")


@dataclass(frozen=True)
class PiiEntity:
    """One piece of personal data found in a text.

    Attributes:
        type: ``EMAIL``, ``PHONE``, ``CREDIT_DEBIT_NUMBER``, ``INTERNATIONAL_BANK_ACCOUNT_NUMBER``,
            ``JP_MY_NUMBER``, ``JP_POSTAL_CODE`` or another Comprehend ``Type``.
        begin / end: character offsets in the original text (``end`` exclusive), as
            Comprehend's ``BeginOffset`` / ``EndOffset``.
        score: detector confidence in [0, 1] (1.0 for a checksum-validated local match).
        source: ``"local"`` or ``"comprehend"``.
        preview: the value with all but its last characters hidden (``…1111``), for display.
    """

    type: str
    begin: int
    end: int
    score: float = 1.0
    source: str = "local"
    preview: str = ""

    @property
    def mask(self) -> str:
        """The text written in place of the value, e.g. ``[EMAIL]``."""
        return MASKS.get(self.type, f"[{self.type}]")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (no raw value: only the preview)."""
        return {**asdict(self), "mask": self.mask}


@dataclass
class MaskResult:
    """A text with its personal data masked.

    Attributes:
        text: the masked text (what may be sent).
        entities: what was masked, in text order (offsets refer to the *original* text).
        notes: what the user should know (e.g. Comprehend skipped for this language).
    """

    text: str
    entities: list[PiiEntity] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def n_masked(self) -> int:
        """Number of masked items."""
        return len(self.entities)

    @property
    def counts(self) -> dict[str, int]:
        """``{type: number masked}`` in first-seen order."""
        out: dict[str, int] = {}
        for e in self.entities:
            out[e.type] = out.get(e.type, 0) + 1
        return out

    def summary(self) -> str:
        """One line, e.g. ``"2 items masked: 1 email address, 1 card number"`` or ``"nothing to mask"``."""
        if not self.entities:
            return "nothing to mask"
        parts = [f"{n} {READABLE.get(t, t.replace('_', ' ').lower())}" for t, n in self.counts.items()]
        return f"{self.n_masked} item{'s' if self.n_masked != 1 else ''} masked: " + ", ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict ``{"text", "n_masked", "counts", "entities", "notes"}``."""
        return {"text": self.text, "n_masked": self.n_masked, "counts": self.counts,
                "entities": [e.to_dict() for e in self.entities], "notes": list(self.notes)}


# ----------------------------------------------------------------------------- helpers
def _normalise(text: str) -> tuple[str, list[int]]:
    """NFKC per character (full-width digits, ＠), dashes as ``-``; with a map to original offsets.

    Returns:
        ``(normalised, index)`` where ``index[j]`` is the original offset of normalised
        character ``j`` and ``index[len(normalised)] == len(text)``.
    """
    out: list[str] = []
    index: list[int] = []
    for i, ch in enumerate(text):
        for c in unicodedata.normalize("NFKC", ch):
            out.append(c)
            index.append(i)
    for j in range(1, len(out) - 1):  # a dash between digits is a hyphen (ー stays ー in マイナンバー)
        if out[j] in _DASHES and out[j - 1].isdigit() and out[j + 1].isdigit():
            out[j] = "-"
    index.append(len(text))
    return "".join(out), index


def _span(index: list[int], start: int, end: int) -> tuple[int, int]:
    """Original ``[begin, end)`` of the normalised span ``[start, end)``."""
    return index[start], index[end - 1] + 1


def _preview(kind: str, value: str) -> str:
    if kind == "EMAIL":
        local, _, domain = value.partition("@")
        return f"{local[:1]}…@{domain}"
    alnum = re.sub(r"[^0-9A-Za-z]", "", value)
    if kind == "INTERNATIONAL_BANK_ACCOUNT_NUMBER":
        return f"{alnum[:2].upper()}…{alnum[-4:]}"
    keep = 4 if kind == "CREDIT_DEBIT_NUMBER" else 2
    return "…" + alnum[-keep:]


def _luhn_ok(digits: str) -> bool:
    from stdnum import luhn

    return luhn.is_valid(digits)


def _my_number_ok(digits: str) -> bool:
    from stdnum.jp import in_ as my_number

    return my_number.is_valid(digits)


def _iban_ok(compact: str) -> bool:
    from stdnum import iban

    return iban.is_valid(compact)


# ----------------------------------------------------------------------------- local detectors
def _digit_entities(norm: str) -> list[tuple[str, int, int, float]]:
    """Cards (Luhn, any window of digit groups) and My Numbers (a whole 12-digit run)."""
    found: list[tuple[str, int, int, float]] = []
    for m in _DIGIT_RUN.finditer(norm):
        run = m.group()
        if run.startswith("+"):
            continue  # an international phone number
        groups = [(g.start() + m.start(), g.end() + m.start()) for g in re.finditer(r"\d+", run)]
        digits_all = re.sub(r"\D", "", run)
        if len(digits_all) == 12:
            cue = _MY_NUMBER_CUE.search(norm[max(0, m.start() - 15):m.start()])
            if _my_number_ok(digits_all) or cue:
                found.append(("JP_MY_NUMBER", m.start(), m.end(), 1.0 if _my_number_ok(digits_all) else 0.8))
                continue
        # a card number: the longest window of whole groups with 13-19 digits passing Luhn
        best = None
        for i in range(len(groups)):
            for j in range(len(groups), i, -1):
                digits = re.sub(r"\D", "", norm[groups[i][0]:groups[j - 1][1]])
                if 13 <= len(digits) <= 19 and _luhn_ok(digits):
                    if best is None or (groups[j - 1][1] - groups[i][0]) > (best[1] - best[0]):
                        best = (groups[i][0], groups[j - 1][1])
                    break
        if best:
            found.append(("CREDIT_DEBIT_NUMBER", best[0], best[1], 1.0))
    return found


def _iban_entities(norm: str) -> list[tuple[str, int, int, float]]:
    found = []
    for m in _IBAN_START.finditer(norm):
        body = _IBAN_BODY.match(norm, m.end())
        if not body:
            continue
        # try every end at a group boundary, longest first (text after the IBAN may be words)
        ends = [body.end()] + [k for k in range(body.end() - 1, m.end(), -1) if norm[k] == " "]
        for end in ends:
            compact = re.sub(r"\s", "", norm[m.start():end]).upper()
            if 15 <= len(compact) <= 34 and _iban_ok(compact):
                found.append(("INTERNATIONAL_BANK_ACCOUNT_NUMBER", m.start(), end, 1.0))
                break
    return found


def _phone_regions(language: str, norm: str) -> tuple[str, ...]:
    lang = (language or "auto").lower()
    if lang == "ja" or (lang == "auto" and has_japanese_script(norm)):
        return ("JP",)
    if lang == "en":
        return ("US", "GB")
    return ("JP", "US", "GB")


def _phone_entities(norm: str, language: str) -> list[tuple[str, int, int, float]]:
    import phonenumbers

    found = []
    seen: set[tuple[int, int]] = set()
    for region in _phone_regions(language, norm):
        for m in phonenumbers.PhoneNumberMatcher(norm, region, leniency=phonenumbers.Leniency.POSSIBLE):
            if (m.start, m.end) in seen:
                continue
            raw = m.raw_string
            digits = re.sub(r"\D", "", raw)
            valid = phonenumbers.is_valid_number(m.number)
            if raw.startswith("+"):
                ok = True  # an international number: the matcher checked its length for the country
            else:  # a national number as people write it: 10-11 digits, with the trunk 0 in JP and GB
                national = len(digits) in (10, 11) and (region == "US" or digits.startswith("0"))
                ok = national and (valid or bool(_PHONE_SEPARATORS.search(raw)))
            if ok:
                seen.add((m.start, m.end))
                found.append(("PHONE", m.start, m.end, 1.0 if valid else 0.7))
    return found


def _email_entities(norm: str) -> list[tuple[str, int, int, float]]:
    return [("EMAIL", m.start(), m.end(), 1.0) for m in _EMAIL.finditer(norm)]


def _postal_entities(norm: str, language: str) -> list[tuple[str, int, int, float]]:
    found = [("JP_POSTAL_CODE", m.start(1), m.end(1), 1.0) for m in _POSTAL_MARKED.finditer(norm)]
    if (language or "auto").lower() == "ja" or has_japanese_script(norm):
        found += [("JP_POSTAL_CODE", m.start(1), m.end(1), 0.7) for m in _POSTAL_BARE.finditer(norm)]
    return found


def _priority(kind: str) -> int:
    return LOCAL_TYPES.index(kind) if kind in LOCAL_TYPES else len(LOCAL_TYPES)


def merge_entities(entities: Iterable[PiiEntity]) -> list[PiiEntity]:
    """Resolve overlaps: overlapping findings become one span (their union) of the higher-priority type.

    Priority is :data:`LOCAL_TYPES` order, then any other type; on a tie the longer span's type.

    Args:
        entities: findings of any detectors, offsets in the same text.

    Returns:
        Non-overlapping entities sorted by ``begin``.
    """
    out: list[PiiEntity] = []
    for e in sorted(entities, key=lambda e: (e.begin, -(e.end - e.begin))):
        if out and e.begin < out[-1].end:
            prev = out[-1]
            keep = prev if (_priority(prev.type), -(prev.end - prev.begin)) <= (_priority(e.type), -(e.end - e.begin)) \
                else e
            out[-1] = PiiEntity(keep.type, prev.begin, max(prev.end, e.end), max(prev.score, e.score),
                                prev.source if prev.source == e.source else "local+comprehend", keep.preview)
        else:
            out.append(e)
    return out


def find_pii(text: str, *, language: str = "auto") -> list[PiiEntity]:
    """Find emails, phone numbers, card numbers, IBANs, My Numbers and Japanese postal codes, offline.

    Args:
        text: any string.
        language: ``"auto"``, ``"en"`` or ``"ja"`` (chooses the phone regions and whether a bare
            ``123-4567`` is a postal code); other codes are treated as ``"auto"``.

    Returns:
        Non-overlapping :class:`PiiEntity` sorted by ``begin`` (``source="local"``).
    """
    text = "" if text is None else str(text)
    if not text.strip():
        return []
    norm, index = _normalise(text)
    raw = (_digit_entities(norm) + _iban_entities(norm) + _email_entities(norm)
           + _phone_entities(norm, language) + _postal_entities(norm, language))
    ents = []
    for kind, s, e, score in raw:
        b, en = _span(index, s, e)
        ents.append(PiiEntity(kind, b, en, score, "local", _preview(kind, norm[s:e])))
    return merge_entities(ents)


def mask_entities(text: str, entities: Sequence[PiiEntity], notes: Sequence[str] = ()) -> MaskResult:
    """Replace each entity's span in ``text`` by its mask.

    Args:
        text: the original text.
        entities: non-overlapping findings (see :func:`merge_entities`).
        notes: carried into the result.

    Returns:
        :class:`MaskResult`.
    """
    parts, pos = [], 0
    for e in sorted(entities, key=lambda e: e.begin):
        parts += [text[pos:e.begin], e.mask]
        pos = e.end
    parts.append(text[pos:])
    return MaskResult("".join(parts), list(sorted(entities, key=lambda e: e.begin)), list(notes))


def mask_pii(text: str, *, language: str = "auto", comprehend: "ComprehendPiiDetector | None" = None) -> MaskResult:
    """Mask the personal data of ``text``: local patterns, plus Comprehend for English/Spanish if given.

    Args:
        text: the customer's message.
        language: ``"auto"`` or an ISO 639-1 code. With ``"auto"``, Comprehend gets the language
            of :func:`core.sentiment.language.detect_language` (offline).
        comprehend: a :class:`ComprehendPiiDetector`, or ``None`` for local patterns only.

    Returns:
        :class:`MaskResult`; ``notes`` says when Comprehend was skipped for the language.

    Raises:
        ProviderError / ConfigError: Comprehend failed (no credentials, access denied...).
        DataError: the text is over Comprehend's 100 KB limit.
    """
    text = "" if text is None else str(text)
    entities = find_pii(text, language=language)
    notes: list[str] = []
    if comprehend is not None and text.strip():
        lang = (language or "auto").lower()
        if lang == "auto":
            from core.sentiment.language import detect_language

            lang = detect_language(text).code
        if lang in COMPREHEND_PII_LANGUAGES:
            entities = merge_entities(entities + comprehend.detect(text, lang))
        else:
            notes.append(f"Amazon Comprehend finds PII in English and Spanish only; this text ({lang}) was "
                         "checked with the local patterns (emails, phones, cards, IBANs, My Numbers, postal codes).")
    return mask_entities(text, entities, notes)


class ComprehendPiiDetector:
    """Amazon Comprehend ``DetectPiiEntities`` (English and Spanish).

    Credentials come only from boto3's default chain (optionally a named profile); they
    are never logged or shown. Pricing: Comprehend bills PII detection per 100 characters
    (https://aws.amazon.com/comprehend/pricing/).

    Args:
        profile / region: AWS profile and region (``None``: the default chain / environment).
        client: an existing boto3 Comprehend client (tests pass a stubbed one).
        min_score: findings below this ``Score`` are ignored.
        skip_types: Comprehend types not masked (default :data:`COMPREHEND_SKIPPED_TYPES`).
    """

    name = "comprehend"

    def __init__(self, profile: str | None = None, region: str | None = None, *, client: Any = None,
                 min_score: float = 0.5, skip_types: Sequence[str] = COMPREHEND_SKIPPED_TYPES):
        self.profile, self.region = profile or None, region or None
        self._client = client
        self.min_score = float(min_score)
        self.skip_types = tuple(skip_types)

    @property
    def client(self):
        """The boto3 ``comprehend`` client, made on first use (standard-mode retries)."""
        if self._client is None:
            import boto3
            from botocore.config import Config

            from core.sentiment.comprehend import _translate

            try:
                session = boto3.Session(profile_name=self.profile, region_name=self.region)
                self._client = session.client("comprehend", config=Config(retries={"mode": "standard"}))
            except Exception as exc:  # noqa: BLE001 - translated into a CrossroadsError
                raise _translate(exc, self.region) from None
        return self._client

    def detect(self, text: str, language: str) -> list[PiiEntity]:
        """Call ``DetectPiiEntities`` once.

        Args:
            text: the text (at most 100 KB of UTF-8).
            language: ``"en"`` or ``"es"``.

        Returns:
            :class:`PiiEntity` list (``source="comprehend"``), offsets as Comprehend gives them
            (Unicode code points, the same as Python string indices).

        Raises:
            DataError: another language, or a text over 100 KB.
            ProviderError / ConfigError: credentials, permissions, region, throttling.
        """
        if language not in COMPREHEND_PII_LANGUAGES:
            raise DataError(f"Amazon Comprehend DetectPiiEntities supports {', '.join(COMPREHEND_PII_LANGUAGES)} "
                            f"only, not {language!r}; the local patterns cover English and Japanese.")
        if len(text.encode("utf-8")) > COMPREHEND_MAX_BYTES:
            raise DataError("the text is over Comprehend's 100 KB limit for DetectPiiEntities: shorten it.")
        from core.sentiment.comprehend import _translate

        try:
            resp = self.client.detect_pii_entities(Text=text, LanguageCode=language)
        except Exception as exc:  # noqa: BLE001 - translated below
            code = getattr(exc, "response", {}).get("Error", {}).get("Code", "") if hasattr(exc, "response") else ""
            if code in ("AccessDeniedException", "AccessDenied"):
                raise ProviderError("access denied by Amazon Comprehend (AccessDeniedException): your AWS identity "
                                    "needs comprehend:DetectPiiEntities; or turn Comprehend PII detection off "
                                    "and keep the local patterns.", code=code) from None
            err = _translate(exc, self.region)
            if err is exc:
                raise
            raise err from None
        out = []
        for item in resp.get("Entities", []):
            kind, score = str(item.get("Type", "")), float(item.get("Score", 0.0))
            if not kind or kind in self.skip_types or score < self.min_score:
                continue
            b, e = int(item["BeginOffset"]), int(item["EndOffset"])
            out.append(PiiEntity(kind, b, e, score, "comprehend", _preview(kind, text[b:e])))
        return out
