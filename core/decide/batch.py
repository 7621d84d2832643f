"""The bake-off's LLM arms as one Amazon Bedrock batch job (Converse records joined back by ``recordId``).

A planned bake-off (:class:`core.decide.plan.BakeoffPlan`) holds every LLM call it would make on
demand: arm, test row, system prompt, messages and the allowed labels. :func:`batch_records` turns
those same calls into batch records (:func:`core.aws.bedrock_batch.build_record`), each constrained to
its call's labels with the ``choose_label`` tool, so a batch job asks exactly what the on-demand run
asks, at the batch price (50% of on-demand). The rows table says which arm and test row each record
is, with the true label, so the fetched answers are scored per arm (:func:`accuracy_by_arm`).

The hybrid arm's records cover every test row (the LLM choosing among the classifier's top
candidates); where the cascade's threshold sends rows to the LLM is decided afterwards from these
answers, as the on-demand analysis does.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import pandas as pd

from core.errors import DataError

#: Output tokens allowed per record: a forced tool call with one label is about 20-40 tokens.
MAX_TOKENS = 64


def batch_records(plan, model_id: str, *, temperature: float | None = 0.0,
                  max_tokens: int = MAX_TOKENS) -> tuple[list[dict], pd.DataFrame]:
    """Batch records and their rows for every LLM call of ``plan``.

    Args:
        plan: a :class:`core.decide.plan.BakeoffPlan` (its ``calls`` and ``data``).
        model_id: the Bedrock model ID or inference profile the job will run (it decides whether the
            tool choice can be forced, and whether ``temperature`` is sent).
        temperature: as the on-demand run (0.0); ``None`` leaves the model's default.
        max_tokens: ``inferenceConfig.maxTokens`` per record.

    Returns:
        ``(records, rows)``: ``records`` is a list of ``{"recordId", "modelInput"}`` dicts, one per
        planned call, arms in the plan's order; ``rows`` is a DataFrame with one line per record and the
        columns ``row`` (0..n-1, the record's position), ``recordId``, ``arm``, ``test_row`` (index
        into ``plan.data.test_texts``), ``text`` and ``label`` (the true label).

    Raises:
        DataError: the plan has no LLM call (the classifier arm alone needs no batch job), or the
            model has no tool use on Converse (its answer could not be constrained to a label).
    """
    from core.aws.bedrock_batch import build_record, label_choice_tool, record_id_for

    calls = [c for arm_calls in plan.calls.values() for c in arm_calls]
    if not calls:
        raise DataError("this bake-off has no LLM arm: choose zero-shot, few-shot or hybrid to run a batch job.")
    tools: dict[tuple[str, ...], dict] = {}  # one toolConfig per label set (hybrid candidates repeat)
    records, rows = [], []
    for n, c in enumerate(calls):
        labels = tuple(c.labels)
        if labels not in tools:
            tools[labels] = label_choice_tool(labels, model_id)
        rid = record_id_for(n)
        records.append(build_record(rid, c.messages, system=c.system, max_tokens=max_tokens,
                                    temperature=temperature, model_id=model_id, tool_config=tools[labels]))
        rows.append({"row": n, "recordId": rid, "arm": c.arm, "test_row": int(c.row),
                     "text": plan.data.test_texts[c.row], "label": plan.data.test_labels[c.row]})
    return records, pd.DataFrame(rows, columns=["row", "recordId", "arm", "test_row", "text", "label"])


def accuracy_by_arm(table: pd.DataFrame, truth_column: str = "label") -> dict[str, dict]:
    """Accuracy of each arm's batch answers with a 95% Wilson interval and its n.

    Args:
        table: a fetched Bedrock batch result joined to the rows of :func:`batch_records` (columns
            ``arm``, ``chosen``, ``error`` and ``truth_column``).

    Returns:
        ``{arm: {"accuracy", "ci95", "n", "correct", "n_invalid", "n_missing"}}``
        (:func:`core.aws.bedrock_batch.accuracy_summary` on each arm's rows); ``{}`` without an ``arm`` column.
    """
    from core.aws.bedrock_batch import accuracy_summary

    if "arm" not in table:
        return {}
    out: dict[str, dict] = {}
    for arm, part in table.groupby("arm", sort=False):
        acc = accuracy_summary(part, truth_column)
        if acc is not None:
            out[str(arm)] = acc
    return out


def arm_table(by_arm: Mapping[str, Mapping], names: Mapping[str, str] | None = None) -> pd.DataFrame:
    """``accuracy_by_arm``'s result as a display table: arm, accuracy, 95% CI, n, invalid, missing."""
    names = names or {}
    rows: Sequence[dict] = [{"arm": names.get(a, a), "accuracy": m["accuracy"],
                             "95% CI": f"{m['ci95'][0]:.3f}-{m['ci95'][1]:.3f}", "n": m["n"],
                             "invalid output": m["n_invalid"], "no result": m["n_missing"]}
                            for a, m in by_arm.items()]
    return pd.DataFrame(rows, columns=["arm", "accuracy", "95% CI", "n", "invalid output", "no result"])
