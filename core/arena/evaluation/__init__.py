"""Batch evaluation of the Prompt Arena on held-out rows: does the classifier's context help?

DPR201 claims that putting a classifier and sentiment in front of the LLM makes its answers
more controlled, more consistent and more predictable. :func:`evaluate_prompts` measures that
on labelled rows the classifier never trained on (:func:`holdout_split`, or a second file
checked by :func:`drop_training_overlap`), for the raw and the contextualised prompt:

* **classifier correctness**: the predicted category against the row's true label;
* **topic adherence**: the intent classifier is run on each *answer*; an answer adheres when
  its top category is the query's true category (a cheap offline judge, biased towards
  answers that reuse the category's words; an empty answer does not adhere);
* **consistency**: each query is answered ``repeats`` times (3 by default) at a temperature
  above 0; per query and prompt, the mean pairwise cosine similarity of the answers'
  TF-IDF vectors (character 2-4-grams within word boundaries, fitted on all answers of the
  run, so English and Japanese are treated alike) and the standard deviation of their
  lengths in characters;
* **copy rate**: answers that copy a worked example (:func:`core.arena.prompts.find_copy`);
* **tokens, latency (p50/p95 of the calls actually made, cached answers excluded) and cost**;
* optionally an **LLM judge** (the same provider and model) scoring helpfulness 1-5, always
  labelled as such and never the only number.

:func:`summarise` turns the long table into the documented summary dict (:data:`SUMMARY_KIND`)
that the Decide report renders as "Does context help on your data?". Confidence intervals:
Wilson for one answer per query; with repeats, a percentile bootstrap over queries (answers
of one query are not independent). The raw/contextualised difference is paired on the same
queries; a 95 % interval containing 0 reads "not enough evidence".

Modules: :mod:`.heldout` (held-out rows), :mod:`.run` (running the evaluation),
:mod:`.stats` (intervals, paired differences, consistency), :mod:`.summary` (the summary
dict, cost projection, display table). Every name is importable from this package.
"""


from __future__ import annotations

from .heldout import (  # noqa: F401
                  HeldOut,
                  _key,
                  drop_training_overlap,
                  held_out_rows,
                  holdout_split,
                  sample_rows,
)
from .run import (  # noqa: F401
                  CONTEXT_COLUMNS,
                  EVAL_COLUMNS,
                  EvaluationRun,
                  _judge,
                  answer_topic,
                  check_run_settings,
                  evaluate_prompts,
                  prepare_query,
                  query_context,
)
from .stats import (  # noqa: F401
                  N_BOOTSTRAP,
                  _bootstrap_mean,
                  _consistency,
                  _paired_difference,
                  _wilson,
                  rate_ci,
)
from .summary import (  # noqa: F401
                  JUDGE_LABEL,
                  SUMMARY_KIND,
                  _num,
                  project_costs,
                  summarise,
                  wide_table,
)

__all__ = ["SUMMARY_KIND", "EVAL_COLUMNS", "holdout_split", "drop_training_overlap", "sample_rows", "HeldOut",
           "held_out_rows", "wide_table",
           "evaluate_prompts", "EvaluationRun", "check_run_settings", "prepare_query",
           "query_context", "answer_topic", "CONTEXT_COLUMNS", "summarise", "project_costs", "rate_ci", "JUDGE_LABEL"]
