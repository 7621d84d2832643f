"""Bedrock model IDs: defaults, inference-profile prefixes, and what each model accepts.

The one place that knows Bedrock's model naming: :data:`PROFILE_PREFIXES` (used by the
price tables of :mod:`core.arena.pricing` and :mod:`core.aws.pricing` through
:func:`base_model_id`), which models take ``temperature`` and a forced tool, and how
listed models are ordered for a region.

Temperature: sent only to models that accept it (:func:`accepts_temperature`).
Claude Opus 4.7 and later reject sampling parameters (``temperature``,
``top_p``, ``top_k``) with a 400 error, as stated in Anthropic's migration
guide (https://platform.claude.com/docs/en/about-claude/models/migration-guide#migrating-to-claude-opus-4-7)
and the Bedrock model card
(https://docs.aws.amazon.com/bedrock/latest/userguide/model-card-anthropic-claude-opus-4-7.html).
Claude 3.x and Claude 4 models up to 4.6 (Haiku 4.5, Sonnet 4/4.5/4.6, Opus
4/4.1/4.5/4.6) accept ``temperature``; for a Claude model not in that list we
omit it (the request then uses the model's default instead of failing).
Non-Claude models get it.
"""
from __future__ import annotations

import re
from typing import Any

__all__ = ["DEFAULT_MODEL_ID", "BUILTIN_MODEL_IDS", "PROFILE_PREFIXES", "base_model_id", "accepts_temperature",
           "CHOICE_TOOL", "choice_tool_mode", "rank_model_ids"]

#: Default model: Claude Haiku 4.5 through the global cross-region inference profile.
DEFAULT_MODEL_ID = "global.anthropic.claude-haiku-4-5-20251001-v1:0"

#: Fallback list when ``list_foundation_models`` / ``list_inference_profiles``
#: are not permitted: current Claude models as cross-region inference profile
#: IDs (``global.`` routes worldwide; ``us.``/``eu.``/``apac.`` stay in a
#: geography). Which ones exist depends on the region: see
#: https://docs.aws.amazon.com/bedrock/latest/userguide/inference-profiles-support.html
BUILTIN_MODEL_IDS: tuple[str, ...] = (
    "global.anthropic.claude-haiku-4-5-20251001-v1:0",
    "global.anthropic.claude-sonnet-4-6",
    "global.anthropic.claude-opus-4-7",
    "us.anthropic.claude-haiku-4-5-20251001-v1:0",
    "us.anthropic.claude-sonnet-4-6",
    "us.anthropic.claude-opus-4-7",
    "eu.anthropic.claude-haiku-4-5-20251001-v1:0",
    "eu.anthropic.claude-sonnet-4-6",
    "eu.anthropic.claude-opus-4-7",
    "apac.anthropic.claude-haiku-4-5-20251001-v1:0",
    "apac.anthropic.claude-sonnet-4-6",
)

#: Inference-profile prefixes (geography or global) that may start a Bedrock model ID.
PROFILE_PREFIXES = ("global.", "us.", "eu.", "apac.", "jp.", "au.", "ca.", "us-gov.")

# Claude naming: "claude-<family>-<major>[-<minor>][-<date>]" from Claude 4 on,
# "claude-<major>[-<minor>]-<family>" before, plus "claude-v2"/"claude-instant".
_NEW_NAMING = re.compile(r"claude-(?:opus|sonnet|haiku)-(\d+)(?:-(\d+))?")
_OLD_NAMING = re.compile(r"claude-(?:v\d|instant|[123](?:-\d)?-(?:opus|sonnet|haiku))")
#: Last Claude version that still accepts sampling parameters (Opus 4.7 is the first that doesn't).
LAST_TEMPERATURE_VERSION = (4, 6)

def base_model_id(model_id: str) -> str:
    """Strip an inference-profile prefix: ``"us.anthropic.x"`` -> ``"anthropic.x"``.

    Also accepts an inference-profile or foundation-model ARN and keeps the
    part after the last ``/``.
    """
    mid = model_id.rsplit("/", 1)[-1] if model_id.startswith("arn:") else model_id
    for prefix in PROFILE_PREFIXES:
        if mid.startswith(prefix):
            return mid[len(prefix):]
    return mid


def accepts_temperature(model_id: str) -> bool:
    """Whether ``temperature`` may be sent to this Bedrock model.

    Args:
        model_id: a model ID, inference-profile ID or ARN.

    Returns:
        ``False`` for Claude models from Opus 4.7 on (and Claude models not
        recognised), ``True`` for older Claude models and non-Claude models.
        See the module docstring for the sources.
    """
    mid = base_model_id(model_id).lower()
    if "claude" not in mid:
        return True
    if _OLD_NAMING.search(mid):
        return True
    m = _NEW_NAMING.search(mid)
    if not m:
        return False
    major = int(m.group(1))
    minor = int(m.group(2)) if m.group(2) and len(m.group(2)) <= 2 else 0  # 8 digits = a date
    return (major, minor) <= LAST_TEMPERATURE_VERSION


#: Name of the tool :meth:`BedrockProvider.choose` offers; its input is ``{"label": <enum>}``.
CHOICE_TOOL = "choose_label"
_ANY_CLAUDE = re.compile(r"claude-[a-z]+-(\d+)")


def choice_tool_mode(model_id: str) -> str | None:
    """How :meth:`BedrockProvider.choose` sets Converse's ``toolChoice`` for this model.

    The one place that knows which models accept a forced tool:

    * ``"tool"`` (``{"tool": {"name": "choose_label"}}``, the model must call
      that tool): Claude 3, 3.5 and 3.7 and Claude 4.x (Haiku 4.5, Sonnet
      4-4.6, Opus 4-4.8), and Amazon Nova. The Bedrock API reference of
      ``ToolChoice`` says the ``tool`` member is "only supported by Anthropic
      Claude 3 and Amazon Nova models"
      (https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ToolChoice.html),
      written when Claude 3 was the current generation; Anthropic's tool-choice
      guide forces a named tool on ``claude-sonnet-4-6``
      (https://platform.claude.com/cookbook/tool-use-tool-choice).
    * ``"any"`` (``{"any": {}}``, some tool must be called): Mistral Large,
      which takes ``toolChoice`` but not a named tool (same API reference).
    * ``"auto"`` (the model may answer in text; the ``enum`` still constrains
      the tool input): Claude 5 and later. Claude Opus 5.5 and Claude Fable
      5.1 answer a forced tool (``any`` or a named tool) with HTTP 400
      ("Forced tool use returns an error",
      https://platform.claude.com/docs/en/models/opus-5-5/whats-new-opus-5-5),
      and Claude Opus 5 has thinking on by default, which Anthropic does not
      allow together with forced tool use. Also any model not listed here.
    * ``None``: no tool at all (Claude 2.x and Claude Instant have no tool use
      on Converse); the label is read from the text.

    A model that still rejects the forced choice (a ``ValidationException``
    about the tool choice) is retried once with ``"auto"`` and remembered.

    Args:
        model_id: a model ID, inference-profile ID or ARN.

    Returns:
        ``"tool"``, ``"any"``, ``"auto"`` or ``None``.
    """
    mid = base_model_id(model_id).lower()
    if "claude" in mid:
        if re.search(r"claude-(?:v\d|instant)", mid):
            return None
        if _OLD_NAMING.search(mid):
            return "tool"
        m = _ANY_CLAUDE.search(mid)
        return "tool" if m and int(m.group(1)) <= 4 else "auto"
    if mid.startswith("amazon.nova"):
        return "tool"
    if mid.startswith("mistral.mistral-large"):
        return "any"
    return "auto"


def _tool_choice(mode: str) -> dict[str, Any]:
    return {"tool": {"tool": {"name": CHOICE_TOOL}}, "any": {"any": {}}}.get(mode, {"auto": {}})


def _geo_prefix(region: str | None) -> str | None:
    if not region:
        return None
    if region.startswith("us-gov"):
        return "us-gov."
    if region.startswith(("us-", "ca-")):
        return "us."
    if region.startswith("eu-"):
        return "eu."
    if region.startswith("ap-"):
        return "apac."
    return None


def rank_model_ids(model_ids: list[str], region: str | None) -> list[str]:
    """Order model IDs for ``region``: ``global.`` profiles, the region's geography, plain IDs, other profiles
    (duplicates removed)."""
    geo = _geo_prefix(region)

    def rank(mid: str) -> tuple[int, str]:
        if mid.startswith("global."):
            return (0, mid)
        if geo and mid.startswith(geo):
            return (1, mid)
        if any(mid.startswith(p) for p in PROFILE_PREFIXES):
            return (3, mid)
        return (2, mid)

    return sorted(dict.fromkeys(model_ids), key=rank)
