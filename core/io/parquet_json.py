"""Parquet (pyarrow) and JSON Lines / JSON arrays of records (pandas); nested values kept as JSON text."""

from __future__ import annotations

import io
import json

import pandas as pd

from core.errors import DataError
from core.io.sniff import detect_encoding
from core.io.sources import LoadedTable


def _read_parquet(data: bytes, name: str) -> pd.DataFrame:
    try:
        return pd.read_parquet(io.BytesIO(data))
    except Exception as exc:  # noqa: BLE001
        raise DataError(f"'{name}' could not be read as Parquet ({exc}). Re-export it and retry.") from exc


def _read_jsonl(data: bytes, name: str, result: LoadedTable) -> pd.DataFrame:
    enc, note = detect_encoding(data)
    result.encoding = enc
    result.notes.append(note)
    text = data.decode(enc, errors="replace").lstrip("\ufeff").strip()
    try:
        if text.startswith("["):
            df = pd.read_json(io.StringIO(text), orient="records", dtype=False)
            result.notes.append("JSON array of records.")
        else:
            df = pd.read_json(io.StringIO(text), lines=True, dtype=False)
            result.notes.append("JSON Lines: one record per line.")
    except ValueError as exc:
        raise DataError(f"'{name}' is not valid JSON Lines ({str(exc).splitlines()[0]}). Each line must be one "
                        "JSON object such as {\"text\": \"...\", \"label\": \"...\"}.") from exc
    # Nested objects/lists cannot be model features: keep them as their JSON text.
    for col in df.columns:
        if df[col].map(lambda v: isinstance(v, (dict, list))).any():
            df[col] = df[col].map(lambda v: json.dumps(v, ensure_ascii=False) if isinstance(v, (dict, list)) else v)
    return df
