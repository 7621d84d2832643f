"""The Prompt Arena's batch evaluation as one Amazon Bedrock batch job (Converse records joined back by ``recordId``).

:func:`core.arena.evaluation.evaluate_prompts` asks both prompts (raw, contextualised) ``repeats``
times for every held-out query, one call at a time. :func:`evaluation_records` turns the same calls
into batch records (:func:`core.aws.bedrock_batch.build_record`): the prompts come from the same
function the on-demand run uses (:func:`core.arena.evaluation.prepare_query`), so the system prompt,
the messages and the masking of personal data are exactly what the on-demand run would send to a
Bedrock chat model, at the batch price (50% of on-demand).

After the job, :func:`batch_run` scores the fetched answers as the on-demand run does (topic adherence:
the evaluation classifier on each answer, :func:`core.arena.evaluation.answer_topic`; consistency over
repeats; tokens; cost at the batch rate) and gives an :class:`core.arena.evaluation.EvaluationRun`, so
:func:`core.arena.evaluation.summarise` yields the same summary dict (``SUMMARY_KIND``) with a 95% interval
and n per arm. :func:`adherence_by_arm` is the short per-arm view.

Differences from the on-demand run, by design: no worked examples (a Bedrock chat model is not a base
model, so the on-demand run would not send any either), no LLM judge (it would be a second job), and
latency is the service's per-record ``latencyMs``, not a wall-clock time on this machine.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from core.errors import DataError

from .evaluation import (CONTEXT_COLUMNS, EVAL_COLUMNS, EvaluationRun, answer_topic, check_run_settings,
                         prepare_query, query_context, summarise)
from .hybrid import ARMS

#: ``meta["scorer"]`` of a job built here: tells the page which scorer reads its results.
SCORER = "arena_context_evaluation"
#: Columns of :func:`evaluation_records`' rows table.
ROW_COLUMNS = ["row", "recordId", "arm", "repeat", "query_row", "text", "label", *CONTEXT_COLUMNS]
#: Shown for a record that has no line in the job's output.
NO_RESULT = "no result: the record is not in the job's output"


def evaluation_records(texts: Sequence[str], labels: Sequence[str], classifier: Any, *, model_id: str,
                       repeats: int = 3, temperature: float | None = 0.7, max_tokens: int = 128, k: int = 3,
                       examples: Any = None, few_shot: bool = False,
                       **options: Any) -> tuple[list[dict], pd.DataFrame]:
    """Batch records and their rows for every call of an evaluation (query x arm x repeat).

    Args:
        texts / labels: the held-out queries and their true categories (never training rows).
        classifier: the evaluation classifier (trained on the training part only), as given to
            :func:`core.arena.evaluation.evaluate_prompts`.
        model_id: the Bedrock model ID or inference profile the job will run (it decides whether
            ``temperature`` is sent, as :meth:`core.arena.providers.bedrock.BedrockProvider.build_request`).
        repeats: records per query and arm (``>= 1``); at ``>= 2`` the temperature must be above 0.
        temperature: sampling temperature; ``None`` leaves the model's default.
        max_tokens: ``inferenceConfig.maxTokens`` per record (output tokens).
        k: top-k categories in the contextualised prompt.
        examples / few_shot: worked examples, only for a base model (``few_shot=False`` for Bedrock chat
            models, as the on-demand run decides from the provider).
        options: the analysis options (``mask_pii``, ``pii_detector``, ``urgent_categories``,
            ``sentiment_backend``, ``sentiment_fn``) and prompt options (templates, ``guidance``,
            ``include_alternatives``, ``include_guidance``) of :func:`core.arena.evaluation.prepare_query`.

    Returns:
        ``(records, rows)``: ``records`` is a list of ``{"recordId", "modelInput"}`` dicts in the
        on-demand run's order (query, then arm raw/contextualised, then repeat); ``rows`` is a DataFrame
        with one line per record and the columns :data:`ROW_COLUMNS`: ``row`` (0..n-1, the record's
        position), ``recordId``, ``arm``, ``repeat`` (1..repeats), ``query_row`` (0-based index into
        ``texts``), ``text`` (the query as sent: masked when ``mask_pii``), ``label`` (true category) and
        the classifier's view of the query (``predicted``, ``confidence``, ``classifier_correct``,
        ``sentiment``, ``urgency``, ``urgency_reason``, ``pii_masked``).

    Raises:
        ConfigError: no rows, lengths differ, ``repeats < 1``, ``repeats >= 2`` at temperature 0, or a
            broken template.
        DataError: a query that cannot be analysed (its row number is in the message); bad records.
        ProviderError: Comprehend (PII detection) failed.
    """
    from core.aws.bedrock_batch import build_record, record_id_for

    texts, labels = check_run_settings(texts, labels, repeats, temperature)
    records: list[dict] = []
    rows: list[dict] = []
    for qi, (q, truth) in enumerate(zip(texts, labels)):
        try:
            a, prompts = prepare_query(q, classifier, k=k, few_shot=few_shot, examples=examples, **options)
        except DataError as exc:
            raise DataError(f"held-out query {qi + 1} cannot be prepared: {exc}") from None
        context = query_context(a, truth)
        for arm in ARMS:
            p = prompts[arm]
            for r in range(int(repeats)):
                n = len(records)
                rid = record_id_for(n)
                records.append(build_record(rid, p.messages, system=p.system, max_tokens=max_tokens,
                                            temperature=temperature, model_id=model_id))
                rows.append({"row": n, "recordId": rid, "arm": arm, "repeat": r + 1, "query_row": qi,
                             "text": a.query, "label": truth, **context})
    return records, pd.DataFrame(rows, columns=ROW_COLUMNS)


def evaluation_meta(*, temperature: float | None, repeats: int, max_tokens: int, source: str = "",
                    classifier_id: str = "") -> dict[str, Any]:
    """What scoring a fetched job needs besides its rows, kept with the job record (JSON-ready).

    Args:
        temperature / repeats / max_tokens: the evaluation's settings (for the summary).
        source: where the held-out rows come from, in words.
        classifier_id: identifies the evaluation classifier's training rows (e.g. a hash of them), so
            the page can tell whether the classifier it has is the one the records were built with.

    Returns:
        ``{"scorer": SCORER, "temperature", "repeats", "max_tokens", "source", "classifier_id"}``.
    """
    return {"scorer": SCORER, "temperature": temperature, "repeats": int(repeats), "max_tokens": int(max_tokens),
            "source": source, "classifier_id": classifier_id}


def batch_run(table: pd.DataFrame, classifier: Any, *, model_id: str = "", temperature: float | None = None,
              repeats: int | None = None, max_tokens: int = 0, source: str = "",
              llm_prices: Any = None, aws_prices: dict | None = None) -> EvaluationRun:
    """A fetched batch job's answers as an evaluation run, scored like the on-demand run.

    Args:
        table: the job's results joined to :func:`evaluation_records`' rows by recordId
            (:func:`core.aws.bedrock_batch.join_output` without labels): the rows' columns plus
            ``answer``, ``input_tokens``, ``output_tokens``, ``latency_ms``, ``stop_reason`` and ``error``
            (``""`` when the record succeeded; missing when the record has no output line).
        classifier: the evaluation classifier the records were built with (it judges each answer's topic).
        model_id: the job's model (for the cost and the summary).
        temperature / repeats / max_tokens / source: the evaluation's settings (:func:`evaluation_meta`);
            ``repeats`` defaults to the largest ``repeat`` in the table.
        llm_prices / aws_prices: override the price files (per-token prices; the batch discount).

    Returns:
        :class:`core.arena.evaluation.EvaluationRun` whose ``rows`` have the on-demand columns
        (:data:`core.arena.evaluation.EVAL_COLUMNS`), ``row`` = ``query_row + 1`` as the on-demand run
        numbers queries. A failed record keeps its error; a record missing from the output gets
        :data:`NO_RESULT`. ``cost_usd`` is each record's tokens at the batch rate (USD; missing when the
        model has no price). ``notes`` counts failed and missing records.

    Raises:
        DataError: the table lacks a column the scoring needs.
    """
    from core.aws.bedrock_batch import actual_cost

    need = {"arm", "repeat", "query_row", "text", "label", "answer", "error"}
    missing_cols = sorted(need - set(table.columns))
    if missing_cols:
        raise DataError(f"the batch results lack the column(s) {', '.join(missing_cols)}: they are not the results "
                        "of an Arena evaluation job.")
    out: list[dict[str, Any]] = []
    n_failed = n_missing = 0
    for rec in table.to_dict("records"):
        err = rec.get("error")
        answer = rec.get("answer")
        absent = err is None or (isinstance(err, float) and np.isnan(err))
        if absent:
            err, n_missing = NO_RESULT, n_missing + 1
        elif err:
            n_failed += 1
        row = {"row": int(rec["query_row"]) + 1, "query": rec["text"], "true_label": str(rec["label"]),
               **{c: rec.get(c) for c in CONTEXT_COLUMNS}, "arm": rec["arm"], "repeat": int(rec["repeat"]),
               "error": str(err), "cached": False, "copied": False, "copy_of": "", "copy_similarity": None,
               "judge_score": None, "prompt": ""}
        if not err:
            topic, adheres = answer_topic(classifier, answer, rec["label"])
            tin, tout = _int_or_none(rec.get("input_tokens")), _int_or_none(rec.get("output_tokens"))
            cost = (actual_cost({"inputTokenCount": tin or 0, "outputTokenCount": tout or 0}, model_id,
                                prices=aws_prices, llm_prices=llm_prices) if model_id else None)
            row.update(answer=str(answer or ""), answer_topic=topic, adheres=adheres, input_tokens=tin,
                       output_tokens=tout, latency_ms=rec.get("latency_ms"), stop_reason=rec.get("stop_reason"),
                       cost_usd=cost, charged_usd=cost)
        out.append(row)
    df = pd.DataFrame(out, columns=EVAL_COLUMNS)
    df = df.sort_values(["row", "arm", "repeat"], key=_arm_order, kind="stable").reset_index(drop=True)
    notes = []
    if n_failed:
        notes.append(f"{n_failed:,} record(s) failed in the job; they are counted as errors, not as answers.")
    if n_missing:
        notes.append(f"{n_missing:,} record(s) have no result in the job's output.")
    reps = int(repeats or (table["repeat"].max() if len(table) else 1))
    return EvaluationRun(df, "bedrock (batch)", model_id, temperature, reps, int(max_tokens), source=source,
                         notes=notes)


def _arm_order(col: pd.Series) -> pd.Series:
    return col.map({a: i for i, a in enumerate(ARMS)}) if col.name == "arm" else col


def _int_or_none(v: Any) -> int | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if np.isnan(f) else int(f)


def score_batch(table: pd.DataFrame, classifier: Any, meta: Mapping[str, Any] | None = None, *,
                model_id: str = "", llm_prices: Any = None) -> tuple[EvaluationRun, dict[str, Any]]:
    """:func:`batch_run` then :func:`core.arena.evaluation.summarise`, settings from the job's ``meta``.

    Args:
        table: as for :func:`batch_run`.
        classifier: the evaluation classifier the records were built with.
        meta: the job record's meta (:func:`evaluation_meta` plus ``model_id``).
        model_id: overrides ``meta["model_id"]``.
        llm_prices: override the LLM price file (a :class:`core.arena.pricing.PriceTable`).

    Returns:
        ``(run, summary)``: the summary is the documented ``crossroads.arena.context_evaluation`` dict,
        its ``provider`` ``"bedrock (batch)"``.

    Raises:
        DataError: as :func:`batch_run`.
    """
    meta = dict(meta or {})
    run = batch_run(table, classifier, model_id=model_id or str(meta.get("model_id") or ""),
                    temperature=meta.get("temperature"), repeats=meta.get("repeats"),
                    max_tokens=int(meta.get("max_tokens") or 0), source=str(meta.get("source") or ""),
                    llm_prices=llm_prices)
    return run, summarise(run, prices=llm_prices)


def adherence_by_arm(summary: Mapping[str, Any]) -> pd.DataFrame:
    """Per arm: topic adherence, its 95% interval, the interval's method and n (from a summary dict).

    Returns:
        DataFrame with columns ``arm``, ``topic adherence``, ``ci_low``, ``ci_high``, ``ci_method``,
        ``n_queries``, ``n_answers`` (rates are fractions in [0, 1]; ``None`` without answers).
    """
    rows = []
    for arm in ARMS:
        ta = summary["arms"][arm]["topic_adherence"]
        rows.append({"arm": arm, "topic adherence": ta["rate"], "ci_low": ta["ci_low"], "ci_high": ta["ci_high"],
                     "ci_method": ta["ci_method"], "n_queries": ta["n_queries"], "n_answers": ta["n_answers"]})
    return pd.DataFrame(rows)
