"""The bake-off report: self-contained, escaped, with the optional context section; opened offline in Chromium."""

from __future__ import annotations

import pandas as pd
import pytest

from core.decide import BakeoffConfig, Constraints, analyse, load_bakeoff_data, plan_bakeoff, run_plan
from core.decide.report import CONTEXT_KIND, report_html, report_markdown, sections
from core.errors import ConfigError
from tests.decide_fakes import ScriptedChooser

EVIL = "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def run():
    rows = []
    cats = {"billing": "my invoice charge was wrong", "shipping": "where is my parcel delivery",
            EVIL: "the weird | pipe category"}
    for lab, base in cats.items():
        for i in range(20):
            rows.append({"text": f"{base} case {i}" + (" ?" if i % 2 else ""), "label": lab})
    data = load_bakeoff_data(pd.DataFrame(rows), "text", "label", n_test=30, seed=0, detect_languages=False)
    truth = dict(zip(data.test_texts, data.test_labels))
    prov = ScriptedChooser(lambda q, labels, *a: truth[q] if truth[q] in labels and len(q) % 2 else labels[-1],
                           originals=data.test_texts)
    res = run_plan(plan_bakeoff(data, prov, BakeoffConfig(bootstrap=200, learning_curve=(0.5, 1.0))))
    return res, analyse(res, Constraints(min_accuracy=0.6, volume_per_month=50_000, p95_latency_ms=500))


def context_summary():
    arm = lambda rate: {"topic_adherence": {"rate": rate, "ci_low": rate - 0.1, "ci_high": rate + 0.1, "n_queries": 40},
                        "consistency": {"mean_cosine": 0.61, "ci_low": 0.55, "ci_high": 0.67},
                        "copy_rate": {"rate": 0.05, "ci_low": 0.01, "ci_high": 0.12},
                        "tokens": {"input_mean": 180.0, "output_mean": 42.0},
                        "latency_ms": {"p50": 900.0, "p95": 1500.0}, "cost_usd": {"per_query": 0.0}}
    return {"kind": CONTEXT_KIND, "version": 1, "provider": "local", "model_id": "gemma", "n_queries": 40,
            "source": "40 held-out rows", "verdict": "Context raises topic adherence by 20 points.",
            "arms": {"raw": arm(0.5), "contextualised": arm(0.7)},
            "difference": {"topic_adherence": {"estimate": 0.2, "ci_low": 0.05, "ci_high": 0.35, "n_queries": 40,
                                               "verdict": "context helps"}}}


def _external_refs(html: str) -> list[str]:
    """``src``/``href`` of tags that would load something (scripts, styles, images, frames)."""
    from html.parser import HTMLParser

    found = []

    class P(HTMLParser):
        def handle_starttag(self, tag, attrs):
            for k, v in attrs:
                if k in ("src", "href") and v and not v.startswith("#"):
                    found.append(f"{tag} {k}={v}")

    P().feed(html)
    return found


def test_html_is_self_contained_and_escaped(run):
    res, an = run
    html = report_html(res, an)
    assert _external_refs(html) == []
    assert "plotly.js v" in html  # the library itself is inline
    assert html.count("Plotly.newPlot") == 5
    assert EVIL not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    for part in ("Recommendation: ", "The data", "Arms", "Hybrid cascade", "learning curve", "Paired comparisons",
                 "Assumptions", "Reproduce this run", "retrieved 2026-11-30", "Seed"):
        assert part in html, part


def test_markdown_has_the_same_sections_and_escapes_cells(run):
    res, an = run
    md = report_markdown(res, an)
    titles = [s.title for s in sections(res, an)]
    for t in titles:
        assert f"## {t}" in md.replace("&lt;", "<").replace("&gt;", ">") or f"## {t}" in md
    assert EVIL not in md and "&lt;img src=x onerror=alert(1)&gt;" in md
    lines = md.splitlines()
    start = next(i for i, ln in enumerate(lines) if ln.startswith("| Arm |"))
    end = next(i for i in range(start, len(lines)) if not lines[i].strip())
    table = lines[start:end]
    assert len(table) == 2 + len(an.arms)  # header, rule, one row per arm
    assert len({ln.count(" | ") for ln in table if not ln.startswith("|---")}) == 1  # the | in a label is escaped
    acc = an.arms["classifier"]["accuracy"]
    assert f"{acc['value'] * 100:.1f}% [{acc['low'] * 100:.1f}, {acc['high'] * 100:.1f}]" in md


def test_context_section_is_rendered_when_given_and_checked(run):
    res, an = run
    md = report_markdown(res, an, context=context_summary())
    assert "## Does context help on your data?" in md
    assert "| Contextualised prompt | 70.0% [60.0, 80.0]" in md and "+20.0 points [+5.0, +35.0]" in md
    assert "Context raises topic adherence by 20 points." in md
    assert "Does context help" not in report_markdown(res, an)
    with pytest.raises(ConfigError, match="evaluation summary"):
        report_html(res, an, context={"kind": "something else"})
    with pytest.raises(ConfigError, match="version 1"):
        report_html(res, an, context={**context_summary(), "version": 7})


def test_context_section_reads_the_arena_summary_as_produced(run):
    """The real core.arena.evaluation.summarise output (not a hand-made dict) renders."""
    from core.arena.evaluation import EVAL_COLUMNS, summarise

    rows = []
    for q in range(8):
        for arm in ("raw", "contextualised"):
            r = {c: None for c in EVAL_COLUMNS}
            on_topic = arm == "contextualised" or q % 2 == 1
            r.update(row=q, query=f"query {q}", true_label="billing", predicted="billing", confidence=0.9,
                     classifier_correct=True, arm=arm, repeat=0, answer="We will look into the charge.",
                     answer_topic="billing" if on_topic else "shipping", adheres=on_topic, copied=False,
                     input_tokens=100 if arm == "raw" else 240, output_tokens=20, latency_ms=500.0, cached=False,
                     cost_usd=0.0, charged_usd=0.0, error="")
            rows.append(r)
    import pandas as pd

    summary = summarise(pd.DataFrame(rows), provider="local", model_id="gemma", repeats=1, temperature=0.7,
                        source="8 held-out rows")
    res, an = run
    md = report_markdown(res, an, context=summary)
    assert "| Raw prompt | 50.0% [" in md and "| Contextualised prompt | 100.0% [" in md
    assert "| Topic adherence | +50.0 points [" in md and "| 100 / 20 |" in md and "| 240 / 20 |" in md
    assert "Context helped topic adherence" in md


@pytest.mark.browser
def test_report_opens_offline_in_chromium(run, browser, artifacts, tmp_path):
    res, an = run
    path = tmp_path / "report.html"
    path.write_text(report_html(res, an, context=context_summary()), encoding="utf-8")
    ctx = browser.new_context(viewport={"width": 1300, "height": 900}, offline=True)
    page = ctx.new_page()
    requests, errors = [], []
    page.on("request", lambda r: requests.append(r.url))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(path.as_uri())
    page.wait_for_function("document.querySelectorAll('.js-plotly-plot .main-svg').length >= 5", timeout=30_000)
    assert errors == []
    assert [u for u in requests if not u.startswith("file://")] == []
    # every chart drew its data: bars in the arms chart, a line in the cascade curve
    assert page.locator("#fig-arms .bars path").count() >= 4
    assert page.locator("#fig-cascade_share .scatterlayer .trace").count() >= 2
    assert page.locator("#context h2").inner_text() == "Does context help on your data?"
    page.screenshot(path=str(artifacts / "decide_report.png"), full_page=True)
    page.locator("#recommendation").screenshot(path=str(artifacts / "decide_report_top.png"))
    ctx.close()
