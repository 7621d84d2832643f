"""The bake-off report: one self-contained HTML file (opens offline) and the same in Markdown.

Both are built from one list of sections (:func:`sections`), so they say the
same thing: the recommendation and its reasons, the data (rows, classes,
languages, split), the constraints, the arms table, the curves (HTML charts;
Markdown tables), paired comparisons, latency, the cost projection, per
language and per class results, invalid outputs, the optional "Does context
help on your data?" section, the assumptions (prices with source and date,
provider and model IDs) and what is needed to reproduce the run (seed,
split, settings, versions, command).

The HTML embeds plotly.js inline (``plotly.offline.get_plotlyjs()``), never
from a CDN, and every user string is escaped (Jinja2 autoescape). The
Markdown escapes ``|``, ``<``, ``>`` and line breaks in table cells.

**Context section input.** ``context`` is the summary dict of the Prompt
Arena's batch evaluation (``core.arena.evaluation.summarise``: ``kind`` =
``"crossroads.arena.context_evaluation"``, ``version`` 1). Fields read:
``provider``, ``model_id``, ``n_queries``, ``source``, ``verdict``,
``arms.{raw,contextualised}.{topic_adherence{rate,ci_low,ci_high,n_queries},
consistency{mean_cosine,ci_low,ci_high}|None, copy_rate{...}, tokens{input_mean,output_mean},
latency_ms{p50,p95}, cost_usd{per_query}}`` and
``difference.{topic_adherence,consistency,copy_rate}{estimate,ci_low,ci_high,n_queries,verdict}``.
Missing fields are shown as "–".
"""

from __future__ import annotations

import html as _html
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.errors import ConfigError

from .cost import BATCH_DISCOUNT
from .plan import ARM_NAMES

CONTEXT_KIND = "crossroads.arena.context_evaluation"
_TEMPLATE = Path(__file__).with_name("report_template.html")
LANGUAGE_NAMES = {"en": "English", "ja": "Japanese", "fr": "French", "de": "German", "es": "Spanish",
                  "it": "Italian", "pt": "Portuguese", "zh": "Chinese", "ko": "Korean", "und": "undetermined"}


@dataclass
class Table:
    """A table for both renderers: header cells and rows of cells (strings)."""

    header: list[str]
    rows: list[list[str]]
    caption: str = ""


@dataclass
class Section:
    """One report section: title, paragraphs, bullet lists, tables and figure names."""

    title: str
    anchor: str
    paragraphs: list[str] = field(default_factory=list)
    bullets: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    figures: list[str] = field(default_factory=list)


def _pct(est: dict | None, digits: int = 1) -> str:
    if not est or est.get("value") is None or est["value"] != est["value"]:
        return "–"
    return (f"{est['value'] * 100:.{digits}f}% [{est['low'] * 100:.{digits}f}, {est['high'] * 100:.{digits}f}]")


def _pts(est: dict | None) -> str:
    if not est or est.get("value") is None:
        return "–"
    return f"{est['value'] * 100:+.1f} [{est['low'] * 100:+.1f}, {est['high'] * 100:+.1f}]"


def _usd(x: float | None) -> str:
    if x is None:
        return "–"
    if x == 0:
        return "$0"
    return f"${x:,.2f}" if x >= 0.1 else f"${x:,.4f}"


def _ms(x: float | None) -> str:
    if x is None:
        return "–"
    return f"{x:,.1f}" if x < 100 else f"{x:,.0f}"


def _num(x: float | None, digits: int = 0) -> str:
    return "–" if x is None else f"{x:,.{digits}f}"


def _lang(code: str) -> str:
    return f"{LANGUAGE_NAMES.get(code, code)} ({code})"


def check_context(context: dict | None) -> dict | None:
    """Validate the optional context-evaluation summary (see the module docstring).

    Raises:
        ConfigError: not a dict of the expected ``kind`` and ``version``.
    """
    if context is None:
        return None
    if not isinstance(context, dict) or context.get("kind") != CONTEXT_KIND:
        raise ConfigError(f"the context section needs the Prompt Arena's evaluation summary (kind {CONTEXT_KIND!r}); "
                          "export it from the Prompt Arena's batch evaluation.")
    if int(context.get("version", 0)) != 1:
        raise ConfigError(f"the context summary has version {context.get('version')!r}; this report reads version 1.")
    return context


def _rate(d: dict | None) -> str:
    if not d or d.get("rate") is None:
        return "–"
    return f"{d['rate'] * 100:.1f}% [{d['ci_low'] * 100:.1f}, {d['ci_high'] * 100:.1f}]"


def _context_section(ctx: dict) -> Section:
    s = Section("Does context help on your data?", "context")
    s.paragraphs.append(
        f"The Prompt Arena's batch evaluation asked {ctx.get('model_id') or '–'} ({ctx.get('provider') or '–'}) to "
        f"answer {ctx.get('n_queries', '–')} held-out queries with the raw prompt and with the classifier-"
        f"contextualised prompt ({ctx.get('source') or 'rows the classifier never trained on'}).")
    if ctx.get("verdict"):
        v = str(ctx["verdict"])
        s.paragraphs.append(v[:1].upper() + v[1:])
    arms = ctx.get("arms") or {}
    rows = []
    for key, label in (("raw", "Raw prompt"), ("contextualised", "Contextualised prompt")):
        a = arms.get(key) or {}
        cons = a.get("consistency")
        rows.append([label, _rate(a.get("topic_adherence")),
                     "–" if not cons else f"{cons['mean_cosine']:.3f} [{cons['ci_low']:.3f}, {cons['ci_high']:.3f}]",
                     _rate(a.get("copy_rate")),
                     f"{_num((a.get('tokens') or {}).get('input_mean'))} / {_num((a.get('tokens') or {}).get('output_mean'))}",
                     f"{_ms((a.get('latency_ms') or {}).get('p50'))} / {_ms((a.get('latency_ms') or {}).get('p95'))}",
                     _usd((a.get("cost_usd") or {}).get("per_query"))])
    s.tables.append(Table(["Prompt", "Topic adherence [95% CI]", "Consistency (cosine)", "Copy rate",
                           "Tokens in / out", "p50 / p95 ms", "USD per query"], rows))
    diff = ctx.get("difference") or {}
    drows = []
    for key, label in (("topic_adherence", "Topic adherence"), ("consistency", "Consistency"),
                       ("copy_rate", "Copy rate")):
        d = diff.get(key)
        if not d:
            continue
        if key == "consistency":  # a difference of mean cosines
            text = f"{d.get('estimate', 0):+.3f} [{d.get('ci_low', 0):+.3f}, {d.get('ci_high', 0):+.3f}]"
        else:  # a difference of rates, in percentage points
            text = (f"{d.get('estimate', 0) * 100:+.1f} points [{d.get('ci_low', 0) * 100:+.1f}, "
                    f"{d.get('ci_high', 0) * 100:+.1f}]")
        verdict = str(d.get("verdict", ""))
        drows.append([label, text, str(d.get("n_queries", "–")), verdict[:1].upper() + verdict[1:]])
    if drows:
        s.tables.append(Table(["Contextualised minus raw", "Difference [95% CI]", "n queries", "Reading"], drows))
    return s


def sections(result, analysis, *, context: dict | None = None, command: str | None = None) -> list[Section]:
    """The report's content, renderer-neutral (see the module docstring)."""
    ctx = check_context(context)
    rec = analysis.recommendation
    data = result.data
    out: list[Section] = []

    s = Section(f"Recommendation: {rec.headline}", "recommendation")
    s.bullets = list(rec.reasons)
    if rec.resolve:
        s.paragraphs.append("What would settle it:" if rec.verdict == "not_enough_evidence" else "Next steps:")
        s.tables.append(Table(["#", "Step"], [[str(i + 1), r] for i, r in enumerate(rec.resolve)]))
    out.append(s)

    s = Section("The data", "data")
    langs = ", ".join(f"{_lang(k)}: {v}" for k, v in (data.get("test_languages") or {}).items())
    s.bullets = [
        f"Table: {data['name']} (text column '{data['text_column']}', label column '{data['label_column']}'), "
        f"{data['n_rows_read']:,} rows read.",
        f"{data['n_train']:,} training rows and {data['n_test']:,} test rows; {data['n_classes']} categories "
        f"({data['rows_per_class_min']}–{data['rows_per_class_max']} rows each).",
        f"Languages of the test rows: {langs or '–'}.",
        data["split_description"],
    ] + list(result.notes)
    out.append(s)

    cons = analysis.constraints
    s = Section("Your constraints", "constraints")
    s.tables.append(Table(["Constraint", "Value"], [
        ["Monthly query volume", _num(cons.volume_per_month)],
        ["p95 latency budget", "–" if cons.p95_latency_ms is None else f"{cons.p95_latency_ms:,.0f} ms"],
        ["Minimum accuracy", "–" if cons.min_accuracy is None else f"{cons.min_accuracy:.0%}"],
        ["Monthly budget", _usd(cons.budget_usd_per_month)],
        ["Explainable / auditable decisions", "required" if cons.explainable else "not required"],
        ["Languages served", ", ".join(_lang(x) for x in cons.languages) or "those of the data"],
    ]))
    out.append(s)

    s = Section("Arms", "arms")
    s.paragraphs.append("Every arm is scored on the same test rows; [..] are 95% bootstrap confidence intervals; "
                        "n is the number of test rows scored. Cost per 1,000 queries is on demand, and with "
                        f"Bedrock batch inference ({BATCH_DISCOUNT:.0%} off) where the provider offers it.")
    rows = []
    for a in analysis.arms.values():
        name = a["name"] + (f" (τ = {a['tau']:.2f}, {a['llm_share']:.0%} to LLM)" if a.get("tau") is not None else "")
        rows.append([name, _pct(a["accuracy"]), _pct(a["macro_f1"]), str(a["n"]), _ms(a["latency_ms"]["p50"]),
                     _ms(a["latency_ms"]["p95"]),
                     f"{_num(a['input_tokens_mean'])} / {_num(a['output_tokens_mean'], 1)}",
                     _usd(a["cost_per_1k"]), _usd(a.get("batch_per_1k")),
                     "–" if a.get("training_seconds") is None else f"{a['training_seconds']:.1f} s",
                     f"{a['invalid']} ({(a['invalid_rate'] or 0):.1%})" if a["arm"] != "classifier" else "–",
                     str(a.get("failed", 0))])
    s.tables.append(Table(["Arm", "Accuracy", "Macro F1", "n", "p50 ms", "p95 ms", "Tokens in / out",
                           "USD / 1k", "Batch USD / 1k", "Training", "Invalid output", "Failed calls"], rows))
    s.figures = ["arms", "latency"]
    out.append(s)

    casc = analysis.cascade
    if casc.get("points"):
        s = Section("Hybrid cascade", "cascade")
        ch = casc.get("chosen")
        s.paragraphs.append(
            f"The classifier answers when its top-1 probability is at least τ; below τ the LLM chooses among the "
            f"classifier's top {result.config.get('top_k', 3)} categories. Every τ was tried on the test rows.")
        if ch is not None:
            tgt = casc.get("target")
            how = ("the lowest cost that meets the minimum accuracy" if tgt is not None and casc.get("meets_target")
                   else "the highest accuracy (no threshold meets the minimum accuracy)" if tgt is not None
                   else "the highest accuracy (no minimum accuracy given)")
            s.paragraphs.append(f"Marked: τ = {ch['tau']:.2f}, {how}: accuracy {ch['accuracy']:.1%}, "
                                f"{ch['share_llm']:.0%} of queries to the LLM, {_usd(ch['cost_per_1k'])} per "
                                f"1,000 queries, p95 {_ms(ch['p95_ms'])} ms.")
        pts = casc["points"]
        idx = sorted({0, len(pts) - 1, *[min(range(len(pts)), key=lambda i: abs(pts[i]["share_llm"] - q))
                                         for q in (0.1, 0.25, 0.5, 0.75)]})
        s.tables.append(Table(["τ", "Share to LLM", "Accuracy", "USD / 1k", "p95 ms"],
                              [[f"{pts[i]['tau']:.3f}", f"{pts[i]['share_llm']:.0%}", f"{pts[i]['accuracy']:.1%}",
                                _usd(pts[i]["cost_per_1k"]), _ms(pts[i]["p95_ms"])] for i in idx],
                              caption="Points of the curve (the chart below draws all of them)."))
        s.figures = ["cascade_share", "cascade_cost"]
        out.append(s)

    if result.learning_curve:
        s = Section("How much labelled data? The classifier's learning curve", "learning")
        s.tables.append(Table(["Training share", "Training rows", "Accuracy [95% CI]", "Macro F1", "Fit time"],
                              [[f"{p['fraction']:.0%}", f"{p['n_train']:,}", _pct(p["accuracy"]),
                                f"{p['macro_f1']:.3f}", f"{p['fit_seconds']:.1f} s"] for p in result.learning_curve]))
        s.figures = ["learning"]
        out.append(s)

    if analysis.comparisons:
        s = Section("Paired comparisons", "comparisons")
        s.paragraphs.append("Differences are A minus B in percentage points on the rows both arms answered, with "
                            "paired bootstrap 95% CIs. McNemar's exact test: b = rows only A got right, c = rows only B "
                            "got right.")
        s.tables.append(Table(["A", "B", "n", "Accuracy diff [95% CI]", "Macro F1 diff [95% CI]", "McNemar b / c",
                               "p-value"],
                              [[ARM_NAMES[c["a"]], ARM_NAMES[c["b"]], str(c["n"]), _pts(c["accuracy_diff"]),
                                _pts(c["macro_f1_diff"]),
                                f"{c['mcnemar']['b']} / {c['mcnemar']['c']}" if c["mcnemar"] else "–",
                                f"{c['mcnemar']['p_value']:.3g}" if c["mcnemar"] else "–"]
                               for c in analysis.comparisons]))
        out.append(s)

    proj = [(a, m["projection"]) for a, m in analysis.arms.items() if m.get("projection")]
    if proj:
        s = Section("What the LLM arms would cost on Claude", "projection")
        s.paragraphs.append("The local model's measured tokens per query, priced on each Claude model of the price "
                            "file. Claude's tokenizer counts differently and Bedrock's constrained choice adds a tool "
                            "definition to each request, so read these as orders of magnitude.")
        models = [p["model"] for p in proj[0][1]]
        rows = []
        for mi, model in enumerate(models):
            row = [model, proj[0][1][mi]["tier"]]
            for _, p in proj:
                row.append(f"{_usd(p[mi]['per_1k'])} ({_usd(p[mi]['batch_per_1k'])})")
            rows.append(row)
        s.tables.append(Table(["Model", "Price tier"] + [f"{ARM_NAMES[a]}: USD / 1k (batch)" for a, _ in proj], rows))
        out.append(s)

    if analysis.per_language and any(len(v) > 1 for v in analysis.per_language.values()):
        s = Section("By language", "languages")
        langs = sorted({k for v in analysis.per_language.values() for k in v})
        s.tables.append(Table(["Arm"] + [_lang(x) for x in langs],
                              [[ARM_NAMES[a]] + [_pct(v.get(x)) + (f" n={v[x]['n']}" if x in v else "") for x in langs]
                               for a, v in analysis.per_language.items()]))
        out.append(s)

    s = Section("Where each arm goes wrong", "errors")
    for a in analysis.arms.values():
        worst = a["per_class"][:5]
        if worst:
            s.tables.append(Table(["Category", "F1", "Precision", "Recall", "Support"],
                                  [[w["label"], f"{w['f1']:.2f}", f"{w['precision']:.2f}", f"{w['recall']:.2f}",
                                    str(w["support"])] for w in worst],
                                  caption=f"{a['name']}: the five categories with the lowest F1"))
        if a["confused"]:
            s.tables.append(Table(["True category", "Predicted", "Rows"],
                                  [[c["true"], c["predicted"], str(c["count"])] for c in a["confused"]],
                                  caption=f"{a['name']}: most frequent confusions"))
        if a.get("invalid_examples"):
            s.tables.append(Table(["Query", "Model output"],
                                  [[e["text"][:200], (e["answer"] or "(empty)")[:200]] for e in a["invalid_examples"]],
                                  caption=f"{a['name']}: invalid outputs ({a['invalid']}, counted as wrong)"))
    out.append(s)

    if ctx is not None:
        out.append(_context_section(ctx))

    if rec.caveats:
        out.append(Section("What these numbers do not cover", "caveats", bullets=list(rec.caveats)))

    prov, prices = result.provider, result.prices
    s = Section("Assumptions", "assumptions")
    s.bullets = [
        (f"LLM provider: {prov.get('label') or prov.get('name')} ({prov.get('name')}), model ID {prov.get('model_id')}"
         + ("; runs on this machine (cost 0)." if prov.get("local") else ".")) if prov.get("name")
        else "No LLM provider (classifier only).",
        f"Prices: {prices.get('source')} retrieved {prices.get('retrieved')} (file {Path(prices.get('path') or '').name}); "
        f"{prices.get('note', '')}",
        f"Bedrock batch inference is priced at {1 - BATCH_DISCOUNT:.0%} of on demand and answers asynchronously.",
        "Classifier: TF-IDF word and character n-grams with logistic regression (core.arena.classifier); its "
        "latency is one query at a time on this machine, and its compute cost is not counted.",
        "LLM answers are constrained to the label set where the provider allows (token mask or GBNF grammar for the "
        "embedded model, JSON schema for OpenAI-compatible servers, a forced tool with an enum on Bedrock); an answer "
        "outside the set counts as wrong and as an invalid output.",
    ]
    out.append(s)

    cfg = result.config
    s = Section("Reproduce this run", "reproduce")
    split = data.get("split") or {}
    s.tables.append(Table(["Setting", "Value"], [
        ["Seed", str(cfg.get("seed"))], ["Split", data["split_description"]],
        ["Test size / n test", f"{split.get('test_size')} / {split.get('n_test_requested')}"],
        ["Arms", ", ".join(ARM_NAMES[a] for a in cfg.get("arms", []))],
        ["Few-shot examples per query", str(cfg.get("k_examples"))], ["Hybrid candidates (top-k)", str(cfg.get("top_k"))],
        ["Hybrid shows an example per candidate", str(cfg.get("hybrid_examples"))],
        ["Temperature / max tokens", f"{cfg.get('temperature')} / {cfg.get('max_tokens')}"],
        ["Bootstrap resamples", str(cfg.get("bootstrap"))],
        ["Run", f"{result.created}, {result.wall_seconds:,.0f} s" + (" (stopped early)" if result.stopped else "")],
    ] + [[k, v] for k, v in result.versions.items()] + ([["Command", command]] if command else [])))
    out.append(s)
    return out


def figures(result, analysis) -> dict[str, Any]:
    """``{name: plotly Figure}`` referenced by the sections."""
    from . import charts

    return {"arms": charts.arms_chart(analysis), "latency": charts.latency_chart(analysis),
            "cascade_share": charts.cascade_chart(analysis, x="share_llm"),
            "cascade_cost": charts.cascade_chart(analysis, x="cost_per_1k"),
            "learning": charts.learning_chart(result)}


def report_html(result, analysis, *, context: dict | None = None, command: str | None = None) -> str:
    """The report as one self-contained HTML document (plotly.js inline; no network needed).

    Args:
        result: :class:`~core.decide.result.BakeoffResult`; analysis: its :class:`~core.decide.analysis.Analysis`.
        context: optional context-evaluation summary (module docstring).
        command: the command line that produced the run, for "Reproduce".

    Returns:
        HTML text (about 5 MB, most of it plotly.js).

    Raises:
        ConfigError: a malformed ``context``.
    """
    import jinja2
    from plotly.offline import get_plotlyjs

    secs = sections(result, analysis, context=context, command=command)
    figs = figures(result, analysis)
    html_figs = {k: f.to_html(full_html=False, include_plotlyjs=False, div_id=f"fig-{k}",
                              config={"displaylogo": False, "responsive": True}) for k, f in figs.items()}
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    tpl = env.from_string(_TEMPLATE.read_text(encoding="utf-8"))
    return tpl.render(title=f"Crossroads bake-off: {result.data['name']}", rec=analysis.recommendation,
                      sections=secs, figures={k: jinja2.utils.markupsafe.Markup(v) for k, v in html_figs.items()},
                      plotlyjs=jinja2.utils.markupsafe.Markup(get_plotlyjs()), created=result.created,
                      stopped=result.stopped)


def _md_cell(text: Any) -> str:
    s = _html.escape(str(text), quote=False).replace("|", "\\|")
    return " ".join(s.split())


def report_markdown(result, analysis, *, context: dict | None = None, command: str | None = None) -> str:
    """The report in Markdown (same content; curves as tables). Arguments as :func:`report_html`."""
    secs = sections(result, analysis, context=context, command=command)
    lines = [f"# Crossroads bake-off: {_md_cell(result.data['name'])}", "",
             f"Generated {result.created} by Crossroads." + (" The run was stopped early." if result.stopped else ""), ""]
    for s in secs:
        lines += [f"## {_md_cell(s.title)}", ""]
        for b in s.bullets:
            lines.append(f"- {_md_cell(b)}")
        if s.bullets:
            lines.append("")
        for p in s.paragraphs:
            lines += [_md_cell(p), ""]
        for t in s.tables:
            if t.caption:
                lines += [f"*{_md_cell(t.caption)}*", ""]
            lines.append("| " + " | ".join(_md_cell(h) for h in t.header) + " |")
            lines.append("|" + "|".join("---" for _ in t.header) + "|")
            lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in t.rows]
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def write_reports(result, analysis, html_path: str | Path | None = None, md_path: str | Path | None = None, *,
                  context: dict | None = None, command: str | None = None) -> list[Path]:
    """Write the HTML and/or Markdown report; returns the paths written.

    Raises:
        ConfigError: a malformed ``context``. OSError: the folder cannot be written.
    """
    written = []
    if html_path is not None:
        p = Path(html_path)
        p.write_text(report_html(result, analysis, context=context, command=command), encoding="utf-8")
        written.append(p)
    if md_path is not None:
        p = Path(md_path)
        p.write_text(report_markdown(result, analysis, context=context, command=command), encoding="utf-8")
        written.append(p)
    return written
