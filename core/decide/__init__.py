"""Decide: a measured bake-off of a trained classifier, an LLM and their hybrid on the user's labelled data.

UI-free; ``pages/decide.py`` renders it and ``python -m core bakeoff`` runs it.

Typical use::

    from core.decide import (load_bakeoff_data, plan_bakeoff, run_plan, analyse, Constraints,
                             BakeoffConfig, report_html)

    data = load_bakeoff_data("queries.csv", "text", "label", n_test=300)     # checked, split once
    plan = plan_bakeoff(data, provider, BakeoffConfig(), cache=ResponseCache("default"))
    print(plan.estimate().describe())                                        # before any call
    result = run_plan(plan, progress=print, stop=threading.Event())          # the LLM calls
    analysis = analyse(result, Constraints(min_accuracy=0.85, volume_per_month=100_000))
    analysis.recommendation.headline, analysis.recommendation.reasons
    html = report_html(result, analysis)                                     # self-contained report

Modules, one concern each:

* :mod:`.data`: loading, checks, the seeded stratified split (or a separate test table / split column);
* :mod:`.prompts`: the arms' prompts and the TF-IDF retrieval of few-shot examples;
* :mod:`.plan`: the arms, the settings, the fitted classifier, every planned call and the estimate;
* :mod:`.run`: the calls (cache, progress, stop, per-row failures) and the background run;
* :mod:`.learning`: the classifier's learning curve;
* :mod:`.stats`: accuracy, macro F1, bootstrap CIs, paired differences, McNemar, latency percentiles;
* :mod:`.cost`: cost per 1,000 queries, batch pricing, projection onto Claude models;
* :mod:`.result`: the measured result (per-row answers, per-arm metrics), JSON-ready;
* :mod:`.analysis`: cascade sweep and τ, comparisons, per language, then :mod:`.recommend`;
* :mod:`.recommend`: the documented verdict rules;
* :mod:`.charts` and :mod:`.report`: plotly figures, HTML and Markdown report;
* :mod:`.cli`: ``python -m core bakeoff``.
"""

from __future__ import annotations

from .analysis import Analysis, analyse
from .data import BakeoffData, load_bakeoff_data
from .recommend import Constraints, Recommendation, recommend
from .plan import ARM_NAMES, ARMS, BakeoffConfig, BakeoffPlan, RunEstimate, plan_bakeoff
from .report import report_html, report_markdown, write_reports
from .result import BakeoffResult
from .run import BackgroundRun, Progress, run_plan

__all__ = ["Analysis", "analyse", "BakeoffData", "load_bakeoff_data", "Constraints", "Recommendation", "recommend",
           "report_html", "report_markdown", "write_reports", "BakeoffResult", "ARM_NAMES", "ARMS", "BakeoffConfig",
           "BakeoffPlan", "BackgroundRun", "Progress", "RunEstimate", "plan_bakeoff", "run_plan"]
