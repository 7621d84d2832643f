"""JSON encoding of the results a page keeps (sentiment batches, LLM answers...), as data only.

:func:`encode` turns a value made of JSON types, tuples, numpy values, DataFrames
and *registered* dataclasses into JSON-ready data; :func:`decode` turns it back.
Nothing is imported or called by name from the data: a ``"$type"`` tag is looked
up in :data:`TYPES`, a fixed table of dataclasses written in this file (or added
by :func:`register_type` in code), and only their fields are passed to the
constructor. DataFrames are not put in the JSON: they go to the workspace's
Parquet tables and the JSON holds ``{"$table": name}``.

Tags: ``$float`` (nan/inf), ``$tuple``, ``$dict`` (non-text keys), ``$array``
(numeric numpy arrays), ``$table``, ``$type`` + ``fields``, ``$error`` (an
exception, restored as :class:`core.errors.CrossroadsError` with its message),
``$datetime``/``$date``/``$timestamp``.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import importlib
import math
from typing import Any, Callable

import numpy as np
import pandas as pd

from core.errors import CrossroadsError, DataError

#: Allowed dataclasses: tag -> (module, class name). Only these are ever constructed by :func:`decode`.
TYPES: dict[str, tuple[str, str]] = {
    "SentimentResult": ("core.sentiment.base", "SentimentResult"),
    "BatchResult": ("core.sentiment.base", "BatchResult"),
    "LLMResponse": ("core.arena.providers.base", "LLMResponse"),
    "RenderedPrompt": ("core.arena.prompts.templates", "RenderedPrompt"),
    "ArmResult": ("core.arena.hybrid", "ArmResult"),
    "QueryAnalysis": ("core.arena.analysis", "QueryAnalysis"),
    "ArenaResult": ("core.arena.hybrid", "ArenaResult"),
    "BakeoffResult": ("core.decide.result", "BakeoffResult"),
}
#: Deepest nesting accepted by :func:`decode` (a hostile file cannot exhaust the stack).
MAX_DEPTH = 64


class UnsupportedValue(TypeError):
    """A value :func:`encode` cannot store (its type is not JSON-like nor registered)."""


def register_type(tag: str, module: str, name: str) -> None:
    """Allow the dataclass ``module.name`` in saved results under ``tag`` (call from code, never from data).

    Raises:
        ValueError: ``tag`` is already registered for another class.
    """
    if TYPES.get(tag, (module, name)) != (module, name):
        raise ValueError(f"codec tag {tag!r} is already used by {TYPES[tag]}")
    TYPES[tag] = (module, name)


def _class(tag: str):
    module, name = TYPES[tag]
    return getattr(importlib.import_module(module), name)


def _tag_of(obj: Any) -> str | None:
    cls = type(obj)
    for tag, (module, name) in TYPES.items():
        if cls.__module__ == module and cls.__qualname__ == name:
            return tag
    return None


def encode(value: Any, add_table: Callable[[pd.DataFrame], str]) -> Any:
    """Encode ``value`` as JSON-ready data.

    Args:
        value: the value to store.
        add_table: called with each DataFrame found; returns the table name to reference.

    Returns:
        Data made of dict/list/str/int/float/bool/None.

    Raises:
        UnsupportedValue: a value of a type that cannot be stored (the message names the type).
    """
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, np.integer)) and not isinstance(value, np.bool_):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, (float, np.floating)):
        v = float(value)
        return v if math.isfinite(v) else {"$float": "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")}
    if isinstance(value, list):
        return [encode(v, add_table) for v in value]
    if isinstance(value, tuple):
        return {"$tuple": [encode(v, add_table) for v in value]}
    if isinstance(value, dict):
        if all(isinstance(k, str) and not k.startswith("$") for k in value):
            return {k: encode(v, add_table) for k, v in value.items()}
        return {"$dict": [[encode(k, add_table), encode(v, add_table)] for k, v in value.items()]}
    if isinstance(value, pd.DataFrame):
        return {"$table": add_table(value)}
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "biuf":
            return {"$array": [encode(v, add_table) for v in value.ravel().tolist()],
                    "dtype": value.dtype.str, "shape": list(value.shape)}
        return [encode(v, add_table) for v in value.tolist()]
    if isinstance(value, pd.Timestamp):
        return {"$timestamp": value.isoformat()}
    if isinstance(value, _dt.datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, _dt.date):
        return {"$date": value.isoformat()}
    if isinstance(value, BaseException):
        return {"$error": str(value), "kind": type(value).__name__}
    tag = _tag_of(value)
    if tag is not None and dataclasses.is_dataclass(value):
        return {"$type": tag, "fields": {f.name: encode(getattr(value, f.name), add_table)
                                         for f in dataclasses.fields(value) if f.init}}
    raise UnsupportedValue(f"values of type {type(value).__module__}.{type(value).__qualname__} cannot be saved")


def decode(data: Any, get_table: Callable[[str], pd.DataFrame], _depth: int = 0) -> Any:
    """Rebuild a value from :func:`encode` output.

    Args:
        data: JSON data.
        get_table: returns the DataFrame saved under a name.

    Returns:
        The value.

    Raises:
        DataError: an unknown tag or type, bad fields, or nesting deeper than :data:`MAX_DEPTH`.
    """
    if _depth > MAX_DEPTH:
        raise DataError("the saved results are nested too deeply; the workspace is damaged.")
    d = _depth + 1
    if data is None or isinstance(data, (bool, int, float, str)):
        return data
    if isinstance(data, list):
        return [decode(v, get_table, d) for v in data]
    if not isinstance(data, dict):
        raise DataError(f"unexpected value of type {type(data).__name__} in the saved results.")
    tags = [k for k in data if k.startswith("$")]
    if not tags:
        return {k: decode(v, get_table, d) for k, v in data.items()}
    tag = tags[0]
    try:
        if tag == "$float":
            return {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}[data["$float"]]
        if tag == "$tuple":
            return tuple(decode(v, get_table, d) for v in data["$tuple"])
        if tag == "$dict":
            return {_hashable(decode(k, get_table, d)): decode(v, get_table, d) for k, v in data["$dict"]}
        if tag == "$table":
            return get_table(str(data["$table"]))
        if tag == "$array":
            dtype = np.dtype(str(data["dtype"]))
            if dtype.kind not in "biuf":
                raise ValueError(f"array dtype {dtype}")
            return np.asarray([decode(v, get_table, d) for v in data["$array"]], dtype=dtype).reshape(
                [int(n) for n in data["shape"]])
        if tag == "$timestamp":
            return pd.Timestamp(str(data["$timestamp"]))
        if tag == "$datetime":
            return _dt.datetime.fromisoformat(str(data["$datetime"]))
        if tag == "$date":
            return _dt.date.fromisoformat(str(data["$date"]))
        if tag == "$error":
            return CrossroadsError(str(data["$error"]))
        if tag == "$type":
            name = str(data["$type"])
            if name not in TYPES:
                raise DataError(f"the saved results hold an unknown type {name!r}; the workspace was made by "
                                "another Crossroads version.")
            cls = _class(name)
            allowed = {f.name for f in dataclasses.fields(cls) if f.init}
            fields = data["fields"]
            if not isinstance(fields, dict) or not set(fields) <= allowed:
                raise ValueError(f"fields of {name}")
            return cls(**{k: decode(v, get_table, d) for k, v in fields.items()})
    except DataError:
        raise
    except (KeyError, TypeError, ValueError, OverflowError) as exc:
        raise DataError(f"the saved results are damaged ({tag}: {exc}).") from None
    raise DataError(f"the saved results hold an unknown tag {tag!r}; the workspace was made by another "
                    "Crossroads version.")


def _hashable(key: Any) -> Any:
    if isinstance(key, list):
        return tuple(_hashable(k) for k in key)
    if isinstance(key, dict):
        raise ValueError("a mapping cannot be a key")
    return key
