"""Reading a Bedrock batch job's output: parsing ``.jsonl.out`` lines, joining them to the rows sent by
``recordId``, accuracy against the reference labels, and the actual cost from the manifest
(see :mod:`core.aws.bedrock_batch`)."""

from __future__ import annotations

import json
import math
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from core.aws.jobs import JobRecord, join_rows
from core.aws.staging import list_objects, read_object
from core.errors import DataError


def answer_of(model_output: Mapping[str, Any]) -> tuple[str, str | None]:
    """``(text, tool label)`` of a Converse response: the text blocks joined, and ``toolUse.input.label``."""
    content = ((model_output.get("output") or {}).get("message") or {}).get("content") or []
    texts, label = [], None
    for block in content:
        if "text" in block:
            texts.append(str(block["text"]))
        elif "toolUse" in block:
            inp = block["toolUse"].get("input") or {}
            if isinstance(inp, Mapping) and "label" in inp:
                label = str(inp["label"])
    return "".join(texts).strip(), label


def _match_label(answer: str | None, labels: Sequence[str]) -> str | None:
    """The allowed label an answer names, or ``None`` (:func:`core.arena.choice.parse_choice`)."""
    from core.arena.choice import parse_choice

    return parse_choice(answer, list(labels))


def parse_output_lines(lines: Iterable[str]) -> pd.DataFrame:
    """Parse ``.jsonl.out`` lines into one row per record.

    Returns:
        Columns ``recordId``, ``answer`` (text), ``tool_label``, ``stop_reason``, ``input_tokens``,
        ``output_tokens``, ``latency_ms``, ``error`` (``""`` when the record succeeded).

    Raises:
        DataError: a line that is not JSON or has no ``recordId``.
    """
    rows = []
    for n, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except ValueError as exc:
            raise DataError(f"output line {n + 1} is not JSON ({exc}).") from None
        rid = obj.get("recordId")
        if not rid:
            raise DataError(f"output line {n + 1} has no recordId.")
        if "error" in obj or "modelOutput" not in obj:
            err = obj.get("error") or {}
            rows.append({"recordId": str(rid), "answer": None, "tool_label": None, "stop_reason": None,
                         "input_tokens": np.nan, "output_tokens": np.nan, "latency_ms": np.nan,
                         "error": f"{err.get('errorCode', '?')}: {err.get('errorMessage', 'no output')}"})
            continue
        out = obj["modelOutput"]
        text, label = answer_of(out)
        usage = out.get("usage") or {}
        rows.append({"recordId": str(rid), "answer": text, "tool_label": label, "stop_reason": out.get("stopReason"),
                     "input_tokens": usage.get("inputTokens", np.nan), "output_tokens": usage.get("outputTokens", np.nan),
                     "latency_ms": (out.get("metrics") or {}).get("latencyMs", np.nan), "error": ""})
    return pd.DataFrame(rows, columns=["recordId", "answer", "tool_label", "stop_reason", "input_tokens",
                                       "output_tokens", "latency_ms", "error"])


def join_output(rows: pd.DataFrame | None, output: pd.DataFrame, labels: Sequence[str] | None = None
                ) -> tuple[pd.DataFrame, list[str]]:
    """Join parsed output to the rows sent **by recordId**; add ``chosen`` when labels were allowed.

    Raises:
        DataError: a recordId in the output that was not sent, or one that appears twice.
    """
    if output["recordId"].duplicated().any():
        raise DataError(f"record {output.loc[output['recordId'].duplicated(), 'recordId'].iloc[0]!r} appears twice "
                        "in the output.")
    if labels:
        output = output.assign(chosen=[_match_label(t if t is not None else a, labels)
                                       for t, a in zip(output["tool_label"], output["answer"])])
    if rows is None:
        return output.reset_index(drop=True), ["The rows sent are not recorded here: results are by recordId only."]
    unknown = set(output["recordId"]) - set(rows["recordId"].astype(str))
    if unknown:
        raise DataError(f"the output has record {sorted(unknown)[0]!r}, which was not in this job's input.")
    mapped = output.merge(rows[["recordId", "row"]].astype({"recordId": str}), on="recordId", how="left")
    return join_rows(rows.astype({"recordId": str}), mapped.drop(columns=["recordId"]))


def accuracy_summary(table: pd.DataFrame, truth_column: str = "label") -> dict | None:
    """Accuracy of ``chosen`` against ``truth_column`` with a 95% Wilson interval; ``None`` if no truth.

    Records without a result count as wrong (reported as ``n_missing``); answers outside the allowed
    labels count as wrong (``n_invalid``).
    """
    if "chosen" not in table or truth_column not in table or table[truth_column].isna().all():
        return None
    from scipy.stats import binomtest

    truth = table[truth_column].astype("string")
    have = truth.notna()
    n = int(have.sum())
    correct = int((table.loc[have, "chosen"].astype("string") == truth[have]).fillna(False).sum())
    lo, hi = binomtest(correct, n).proportion_ci(0.95, method="wilson") if n else (math.nan, math.nan)
    return {"accuracy": correct / n if n else math.nan, "ci95": [float(lo), float(hi)], "n": n, "correct": correct,
            "n_invalid": int((table.loc[have, "chosen"].isna() & (table.loc[have, "error"] == "")).sum()),
            "n_missing": int(table.loc[have, "error"].ne("").sum())}


def _job_prefix(record: JobRecord) -> str:
    job_id = record.job_id.rsplit("/", 1)[-1]
    return record.output_uri.rstrip("/") + f"/{job_id}/"


def read_batch_output(session, record: JobRecord) -> tuple[pd.DataFrame, dict, list[str]]:
    """Read every ``*.out`` file and ``manifest.json.out`` of a job.

    Returns:
        ``(output, manifest, files)``: parsed lines (:func:`parse_output_lines`), the manifest dict
        (``{}`` when absent) and the URIs read.
    """
    prefix = _job_prefix(record)
    bucket = prefix[5:].split("/", 1)[0]
    objs = list_objects(session, prefix)
    outs = [o["Key"] for o in objs if o["Key"].endswith(".out") and not o["Key"].endswith("manifest.json.out")]
    if not outs:
        raise DataError(f"no output files under {prefix}: the job has not written results (yet).")
    lines: list[str] = []
    for key in outs:
        lines.extend(read_object(session, f"s3://{bucket}/{key}").decode("utf-8").splitlines())
    manifest = {}
    mkey = next((o["Key"] for o in objs if o["Key"].endswith("manifest.json.out")), None)
    if mkey:
        manifest = json.loads(read_object(session, f"s3://{bucket}/{mkey}").decode("utf-8"))
    files = [f"s3://{bucket}/{k}" for k in outs] + ([f"s3://{bucket}/{mkey}"] if mkey else [])
    return parse_output_lines(lines), manifest, files


def actual_cost(manifest: Mapping[str, Any], model_id: str, *, prices: dict | None = None, llm_prices=None) -> float | None:
    """USD for the tokens the manifest reports, at the batch rate; ``None`` without counts or price."""
    from core.arena.pricing import load_prices
    from core.aws.pricing import load_aws_prices

    table = llm_prices or load_prices()
    price = table.price_for(model_id)
    if price is None or "inputTokenCount" not in manifest:
        return None
    discount = float((prices or load_aws_prices())["bedrock"].get("batch_discount", 0.5))
    return (float(manifest.get("inputTokenCount", 0)) * price.input +
            float(manifest.get("outputTokenCount", 0)) * price.output) / table.unit_tokens * discount
