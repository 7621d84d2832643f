"""The prompt data file, ``prompt_data.json`` beside this module: worked cases for base models, the
neutral examples, and the default guidance per category. Data, not code: edit the file to change them."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

PROMPT_DATA = Path(__file__).with_name("prompt_data.json")


@functools.lru_cache(maxsize=1)
def prompt_data() -> dict[str, Any]:
    """The parsed file: ``worked_cases`` (list of dicts with ``query``, ``category``, ``language``,
    ``confidence``, ``top_k`` as ``[[label, probability], ...]``, ``sentiment``, ``urgency``, ``answer``),
    ``neutral_answers`` / ``neutral_queries`` (``{language: text}``), ``guidance`` (``{category: line}``)
    and ``generic_guidance`` (str)."""
    return json.loads(PROMPT_DATA.read_text(encoding="utf-8"))
