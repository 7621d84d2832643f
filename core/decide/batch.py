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

from core.errors import ConfigError, DataError

def batch_records(plan, model_id: str, *, temperature: float | None = None,
                  max_tokens: int | None = None) -> tuple[list[dict], pd.DataFrame]:
    """Batch records and their rows for every LLM call of ``plan``.

    Args:
        plan: a :class:`core.decide.plan.BakeoffPlan` (its ``calls`` and ``data``).
        model_id: the Bedrock model ID or inference profile the job will run (it decides whether the
            tool choice can be forced, and whether ``temperature`` is sent).
        temperature: default the plan's (``plan.config.temperature``, 0.0), as the on-demand run.
        max_tokens: ``inferenceConfig.maxTokens`` per record; default the plan's (``plan.config.max_tokens``).

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
    temperature = plan.config.temperature if temperature is None else temperature
    max_tokens = int(plan.config.max_tokens if max_tokens is None else max_tokens)
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


def use_batch_answers(plan, table: pd.DataFrame, model_id: str) -> dict[str, int]:
    """Store a fetched batch job's answers as the plan's own calls, so the bake-off runs on them for free.

    Each answered record becomes the response cache entry of the on-demand call it was built from
    (:func:`core.arena.choice.choice_cache_key` with the plan's provider, prompt, labels, ``max_tokens``
    and temperature), with the job's tokens and ``latencyMs``. Running the plan afterwards
    (:func:`core.decide.run.run_plan`) reads every answer from the cache: the same metrics, CIs,
    cascade and report as an on-demand run, with no call sent. Records without an answer stay
    uncached, so the run asks the provider for those rows only.

    Args:
        plan: the :class:`~core.decide.plan.BakeoffPlan` whose :func:`batch_records` went into the job
            (same data, split, arms and settings); its ``cache`` must be set.
        table: the fetched result joined to the rows (columns ``recordId``, ``arm``, ``test_row``,
            ``tool_label``, ``answer``, ``input_tokens``, ``output_tokens``, ``latency_ms``,
            ``stop_reason``, ``error``).
        model_id: the model the job ran.

    Returns:
        ``{"stored": n, "missing": m}``: answers cached, and records with no answer (failed or absent).

    Raises:
        ConfigError: the plan has no cache, or its provider is not Bedrock with ``model_id`` (another
            model's answers must never stand in for this one's).
        DataError: the table's records do not match the plan's calls (another plan's job).
    """
    import math

    from core.arena.choice import choice_cache_key
    from core.arena.providers.base import LLMResponse, validate_labels, validate_messages

    if plan.cache is None:
        raise ConfigError("turn on 'Reuse cached answers' to use a batch job's answers in the bake-off.")
    if getattr(plan.provider, "name", "") != "bedrock" or plan.provider.model_id != model_id:
        raise ConfigError(f"the batch job ran {model_id}: choose Amazon Bedrock and that model for the bake-off "
                          "to use its answers (another model's answers cannot stand in for it).")
    records, rows = batch_records(plan, model_id)
    if "recordId" not in table or not set(table["recordId"].astype(str)) <= set(rows["recordId"]):
        raise DataError("these results are not from this bake-off's batch records (different data, split or arms).")
    calls = [c for arm_calls in plan.calls.values() for c in arm_calls]
    by_id = dict(zip(rows["recordId"], calls))
    stored = missing = 0

    def num(x):
        return None if x is None or (isinstance(x, float) and math.isnan(x)) else x

    for r in table.to_dict("records"):
        call = by_id[str(r["recordId"])]
        if r["arm"] != call.arm or int(r["test_row"]) != call.row:
            raise DataError(f"record {r['recordId']} is {r['arm']} row {r['test_row']} in the results but "
                            f"{call.arm} row {call.row} in this bake-off: not this bake-off's job.")
        text = r.get("tool_label") if isinstance(r.get("tool_label"), str) else r.get("answer")
        if (r.get("error") or "") or not isinstance(text, str):
            missing += 1
            continue
        it, ot, ms = num(r.get("input_tokens")), num(r.get("output_tokens")), num(r.get("latency_ms"))
        resp = LLMResponse(text=text, input_tokens=None if it is None else int(it),
                           output_tokens=None if ot is None else int(ot),
                           latency_ms=float("nan") if ms is None else float(ms),
                           stop_reason=r.get("stop_reason"), model_id=model_id, provider="bedrock")
        key = choice_cache_key(plan.provider, call.system, validate_messages(call.messages), validate_labels(call.labels),
                               int(plan.config.max_tokens), plan.config.temperature)
        plan.cache.put(key, resp)
        stored += 1
    missing += len(calls) - len(table)
    return {"stored": stored, "missing": missing}
