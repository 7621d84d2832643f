"""The verdict: trained classifier, LLM, hybrid at τ, or not enough evidence, from the measured numbers.

Plain rules, no LLM. Every reason is a sentence that cites the number it rests
on with its 95% CI and n. The rules, in order:

1. **Enough rows.** Fewer than :data:`MIN_TEST_ROWS` test rows: not enough
   evidence (test on more rows).
2. **Languages.** Each language served (ISO 639-1 code) needs at least
   :data:`MIN_LANGUAGE_ROWS` test rows, else not enough evidence (add
   labelled rows in that language). No languages given = the data's.
3. **Candidates.** The trained classifier; the LLM (the more accurate of the
   zero-shot and few-shot arms); the hybrid at its chosen τ (left out when τ
   sends no query to the LLM: it is then the classifier). An arm scored on
   fewer than :data:`MIN_TEST_ROWS` rows (stopped early) is not a candidate.
4. **Hard constraints** rule a candidate out: p95 latency above the budget;
   monthly cost (cost per 1,000 queries × volume) above the budget; an
   explainable/auditable decision required rules out the LLM alone (its
   choice cannot be traced to the input the way a linear classifier's can;
   the hybrid stays, with the share of decisions its LLM makes stated).
5. **Order of preference** among the rest: lower cost per 1,000 queries,
   then lower p95 latency, then simpler (classifier, hybrid, LLM).
6. **With a minimum accuracy.** A candidate *meets* it when its CI's lower
   bound is at or above it, *fails* when the upper bound is below, and is
   *uncertain* otherwise. The verdict is the first candidate in the order
   that meets it, unless a cheaper candidate is uncertain and the verdict is
   not measurably more accurate than it (paired bootstrap CI of the
   difference includes 0): then not enough evidence (more test rows would
   tell). None meets: not enough evidence, with what would resolve it (more
   test rows when some are uncertain; otherwise a stronger provider, more
   training data, or a lower target).
7. **Without a minimum accuracy.** The verdict is the most accurate candidate,
   provided its lead over every cheaper candidate is measurable (paired CI of
   the difference above 0); otherwise the leading arms are not separated:
   not enough evidence.

Paired comparisons (the same rows) decide "measurably more accurate"; the
marginal CIs of two arms can overlap while the paired difference is clear,
because both arms err on many of the same rows.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Iterable, Mapping

from core.errors import ConfigError

from .stats import Estimate, rows_for_half_width

#: Fewest test rows a verdict may rest on.
MIN_TEST_ROWS = 30
#: Fewest test rows per language served.
MIN_LANGUAGE_ROWS = 20
SIMPLICITY = {"classifier": 0, "hybrid": 1, "zero_shot": 2, "few_shot": 2}
VERDICTS = ("classifier", "llm", "hybrid", "not_enough_evidence")


@dataclass
class Constraints:
    """What the user needs.

    Attributes:
        volume_per_month: queries a month (for monthly cost), or ``None``.
        p95_latency_ms: p95 latency budget per query in ms, or ``None``.
        min_accuracy: minimum acceptable accuracy as a fraction (0.85), or ``None``.
        budget_usd_per_month: monthly budget in USD, or ``None``.
        explainable: each decision must be explainable/auditable.
        languages: ISO 639-1 codes served (``()`` = the languages of the data).
    """

    volume_per_month: float | None = None
    p95_latency_ms: float | None = None
    min_accuracy: float | None = None
    budget_usd_per_month: float | None = None
    explainable: bool = False
    languages: tuple[str, ...] = ()

    def validate(self) -> "Constraints":
        """Check the values; returns ``self``. Raises :class:`ConfigError` saying how to fix one."""
        if self.min_accuracy is not None:
            a = float(self.min_accuracy)
            if a > 1.0:
                raise ConfigError(f"give the minimum accuracy as a fraction, e.g. 0.85 for 85% (got {a:g}).")
            if a <= 0.0:
                raise ConfigError(f"the minimum accuracy must be above 0 (got {a:g}).")
            self.min_accuracy = a
        for name in ("volume_per_month", "p95_latency_ms", "budget_usd_per_month"):
            v = getattr(self, name)
            if v is not None and float(v) < 0:
                raise ConfigError(f"{name.replace('_', ' ')} cannot be negative (got {v}).")
        self.languages = tuple(dict.fromkeys(str(x).strip().lower() for x in self.languages if str(x).strip()))
        return self

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Candidate:
    """One arm as the rules see it.

    Attributes:
        arm: ``"classifier"``, ``"zero_shot"``, ``"few_shot"`` or ``"hybrid"``; name: display name.
        accuracy: :class:`~core.decide.stats.Estimate`.
        p95_ms: p95 latency per query (ms); cost_per_1k / batch_per_1k: USD per 1,000 queries.
        llm_share: share of queries the hybrid sends to the LLM; tau: its threshold.
    """

    arm: str
    name: str
    accuracy: Estimate
    p95_ms: float | None
    cost_per_1k: float | None
    batch_per_1k: float | None = None
    llm_share: float | None = None
    tau: float | None = None


@dataclass
class Recommendation:
    """The verdict and why.

    Attributes:
        verdict: one of :data:`VERDICTS`; arm: the arm recommended (``None`` for not enough evidence).
        headline: e.g. ``"Trained classifier"``, ``"Hybrid at τ = 0.62"``, ``"Not enough evidence"``.
        reasons: sentences citing measured numbers (CI, n).
        resolve: what would settle it (for not enough evidence) or next steps.
        caveats: what the numbers do not cover.
        excluded: ``{arm: reason}`` for candidates ruled out.
    """

    verdict: str
    headline: str
    arm: str | None = None
    reasons: list[str] = field(default_factory=list)
    resolve: list[str] = field(default_factory=list)
    caveats: list[str] = field(default_factory=list)
    excluded: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


def _low(name: str) -> str:
    """``"Few-shot LLM"`` -> ``"few-shot LLM"`` (only the first letter lowered)."""
    return name[:1].lower() + name[1:]


def _pct(x: float) -> str:
    return f"{x * 100:.1f}%"


def _usd(x: float | None) -> str:
    if x is None:
        return "unknown"
    if x == 0:
        return "$0"
    return f"${x:,.2f}" if x >= 0.1 else f"${x:,.4f}"


def _diff(d: Estimate) -> str:
    return (f"{d.value * 100:+.1f} points (paired 95% CI {d.low * 100:+.1f} to {d.high * 100:+.1f}, "
            f"n={d.n})")


def _cost_key(c: Candidate) -> float:
    return float("inf") if c.cost_per_1k is None else float(c.cost_per_1k)


def _order(cands: Iterable[Candidate]) -> list[Candidate]:
    return sorted(cands, key=lambda c: (_cost_key(c), c.p95_ms if c.p95_ms is not None else float("inf"),
                                        SIMPLICITY.get(c.arm, 9)))


def _status(c: Candidate, target: float) -> str:
    if c.accuracy.low >= target:
        return "meets"
    if c.accuracy.high < target:
        return "fails"
    return "uncertain"


def _verdict_of(c: Candidate) -> tuple[str, str]:
    if c.arm == "classifier":
        return "classifier", "Trained classifier"
    if c.arm == "hybrid":
        return "hybrid", f"Hybrid at τ = {c.tau:.2f}"
    kind = "few-shot" if c.arm == "few_shot" else "zero-shot"
    return "llm", f"LLM ({kind})"


def _rows_to_settle(c: Candidate, target: float) -> int:
    """Test rows for a CI that no longer holds ``target``: half-width half the gap, at least twice today's n."""
    gap = abs(c.accuracy.value - target)
    return max(rows_for_half_width(c.accuracy.value, max(gap / 2, 0.005)), 2 * c.accuracy.n)


def recommend(candidates: Mapping[str, Candidate] | Iterable[Candidate], constraints: Constraints, *,
              n_test: int, differences: Mapping[tuple[str, str], Estimate] | None = None,
              language_rows: Mapping[str, int] | None = None, provider_label: str = "",
              learning_gain: float | None = None) -> Recommendation:
    """Apply the rules of the module docstring.

    Args:
        candidates: :class:`Candidate` per arm (classifier, zero_shot, few_shot, hybrid; any subset).
        constraints: :class:`Constraints`.
        n_test: test rows of the bake-off.
        differences: ``{(a, b): Estimate}`` paired accuracy difference ``a - b`` (either order is looked up).
        language_rows: test rows per detected language.
        provider_label: e.g. ``"gemma-3-270m-q4_k_m.gguf (local)"``, used in "a stronger provider".
        learning_gain: accuracy gained from the second-largest to the full training set (the learning
            curve's last step), to tell whether more labelled data may help.

    Returns:
        :class:`Recommendation`.
    """
    cons = constraints.validate()
    cands = list(candidates.values()) if isinstance(candidates, Mapping) else list(candidates)
    diffs = dict(differences or {})
    langs = dict(language_rows or {})
    rec = Recommendation("not_enough_evidence", "Not enough evidence")

    def diff(a: str, b: str) -> Estimate | None:
        if (a, b) in diffs:
            return diffs[(a, b)]
        if (b, a) in diffs:
            d = diffs[(b, a)]
            return Estimate(-d.value, -d.high, -d.low, d.n)
        return None

    # 1. enough rows
    if n_test < MIN_TEST_ROWS:
        rec.reasons.append(f"The bake-off has only {n_test} test rows; at least {MIN_TEST_ROWS} are needed before "
                           "any accuracy can be compared (a 95% CI on so few rows spans more than ±15 points).")
        rec.resolve.append(f"Test on at least {MIN_TEST_ROWS} rows, ideally 300 or more (a larger test size or "
                           "a separate test file).")
        return rec
    # 2. languages
    for lang in cons.languages:
        have = int(langs.get(lang, 0))
        if have < MIN_LANGUAGE_ROWS:
            rec.reasons.append(f"You serve '{lang}' but the test rows hold only {have} in that language; at least "
                               f"{MIN_LANGUAGE_ROWS} are needed to say how any arm does on it.")
            rec.resolve.append(f"Add labelled '{lang}' queries so the test split has at least {MIN_LANGUAGE_ROWS} "
                               "of them, and run again.")
    if rec.reasons:
        return rec

    # 3. candidates
    pool: list[Candidate] = []
    llm = [c for c in cands if c.arm in ("zero_shot", "few_shot") and c.accuracy.n >= MIN_TEST_ROWS]
    if len(llm) == 2:
        best, other = sorted(llm, key=lambda c: -c.accuracy.value)
        rec.caveats.append(f"The LLM is represented by its {_low(best.name)} arm, the more accurate of the two "
                           f"({best.accuracy.pct()} vs {other.accuracy.pct()} for {_low(other.name)}).")
        llm = [best]
    for c in cands:
        if c.accuracy.n < MIN_TEST_ROWS:
            rec.caveats.append(f"{c.name} was scored on only {c.accuracy.n} rows (the run was stopped or the "
                               "provider failed), too few to be a candidate.")
        elif c.arm == "hybrid" and (c.llm_share or 0.0) <= 0.0:
            rec.caveats.append("The hybrid's best threshold sends no query to the LLM, so it is the classifier "
                               "alone.")
        elif c.arm in ("classifier", "hybrid") or c in llm:
            pool.append(c)
    if not pool:
        rec.reasons.append("No arm was scored on enough rows to be compared.")
        rec.resolve.append("Run the bake-off to the end (or with fewer test rows), with at least the classifier arm.")
        return rec

    # 4. hard constraints
    vol = cons.volume_per_month
    for c in pool:
        why = None
        if cons.p95_latency_ms is not None and c.p95_ms is not None and c.p95_ms > cons.p95_latency_ms:
            why = (f"{c.name}: its p95 latency of {c.p95_ms:,.0f} ms (n={c.accuracy.n}) is above the "
                   f"{cons.p95_latency_ms:,.0f} ms budget.")
        elif (cons.budget_usd_per_month is not None and vol is not None and c.cost_per_1k is not None
              and c.cost_per_1k * vol / 1000.0 > cons.budget_usd_per_month):
            why = (f"{c.name}: {_usd(c.cost_per_1k)} per 1,000 queries (measured on {c.accuracy.n} queries) makes "
                   f"{_usd(c.cost_per_1k * vol / 1000.0)} a month at {vol:,.0f} queries, above the "
                   f"{_usd(cons.budget_usd_per_month)} budget.")
        elif cons.explainable and c.arm in ("zero_shot", "few_shot"):
            why = (f"{c.name}: each decision must be explainable, and an LLM's choice cannot be traced to the "
                   "words of the query the way the classifier's per-feature weights can.")
        if why:
            rec.excluded[c.arm] = why
        if c.cost_per_1k is None and cons.budget_usd_per_month is not None:
            rec.caveats.append(f"{c.name}'s cost is unknown (its model is not in the price file), so the budget "
                               "could not be checked for it.")
    live = _order(c for c in pool if c.arm not in rec.excluded)
    if not live:
        rec.reasons += list(rec.excluded.values())
        rec.resolve.append("Every arm is ruled out by the constraints: relax the latency or budget limit, or try "
                           "a faster or cheaper provider.")
        return rec

    target = cons.min_accuracy
    chosen: Candidate | None = None
    if target is not None:
        status = {c.arm: _status(c, target) for c in live}
        first = next((c for c in live if status[c.arm] == "meets"), None)
        if first is None:
            for c in live:
                rec.reasons.append(f"{c.name} {'may or may not reach' if status[c.arm] == 'uncertain' else 'does not reach'} "
                                   f"the {_pct(target)} target: {c.accuracy.pct()}.")
            unsure = [c for c in live if status[c.arm] == "uncertain"]
            if unsure:
                need = max(_rows_to_settle(c, target) for c in unsure)
                rec.resolve.append(f"Test on about {need:,} rows (now {n_test:,}) to tell whether "
                                   f"{' or '.join(_low(c.name) for c in unsure)} reaches {_pct(target)}.")
                if learning_gain is not None and learning_gain > 0.01 and any(c.arm == "classifier" for c in unsure):
                    rec.resolve.append(f"Add labelled training data: the classifier gained {learning_gain * 100:.1f} "
                                       "points on the last step of its learning curve, so it is still improving.")
            else:
                _weak_resolve(rec, live, target, provider_label, learning_gain)
            rec.reasons += [f"Ruled out: {why}" for why in rec.excluded.values()]
            return rec
        for c in live:
            if c is first:
                break
            if status[c.arm] != "uncertain":
                continue
            d = diff(first.arm, c.arm)
            if d is None or d.low <= 0:
                rec.reasons.append(f"{first.name} reaches the {_pct(target)} target ({first.accuracy.pct()}) but "
                                   f"the cheaper {_low(c.name)} may too ({c.accuracy.pct()}), and "
                                   f"{_low(first.name)} is not measurably more accurate"
                                   + (f": {_diff(d)}." if d is not None else "."))
                rec.resolve.append(f"Test on about {_rows_to_settle(c, target):,} rows (now {n_test:,}) to tell "
                                   f"whether {_low(c.name)} reaches {_pct(target)}; if it does, it is the cheaper "
                                   "choice.")
                rec.reasons += [f"Ruled out: {why}" for why in rec.excluded.values()]
                return rec
        chosen = first
        rec.reasons.append(f"{chosen.name} reaches the {_pct(target)} minimum accuracy: {chosen.accuracy.pct()}; "
                           "the whole interval is above the target.")
        for c in live:
            if c is chosen:
                continue
            d = diff(chosen.arm, c.arm)
            ranked_before = live.index(c) < live.index(chosen)
            if ranked_before:
                rec.reasons.append(f"{c.name} is {_edge(c, chosen)} but "
                                   f"{'does not reach' if status[c.arm] == 'fails' else 'is not shown to reach'} "
                                   f"the target: {c.accuracy.pct()}"
                                   + (f"; {_low(chosen.name)} vs {_low(c.name)}: {_diff(d)}." if d else "."))
            else:
                rec.reasons.append(_not_needed(chosen, c, d))
    else:
        best = max(live, key=lambda c: (c.accuracy.value, -_cost_key(c)))
        for c in live[: live.index(best)]:
            d = diff(best.arm, c.arm)
            if d is None or d.low <= 0:
                rec.reasons.append(f"The leading arms are not separated: {best.name} {best.accuracy.pct()} and "
                                   f"{_low(c.name)} {c.accuracy.pct()}"
                                   + (f"; difference {_diff(d)}." if d is not None else "."))
                rec.resolve.append(f"Set a minimum accuracy: if {_pct(c.accuracy.value)} is enough, "
                                   f"{_low(c.name)} is the choice: it is {_edge(c, best)}.")
                half = max(abs(d.value) / 2 if d is not None else 0.01, 0.01)
                need = max(rows_for_half_width(best.accuracy.value, half), 2 * n_test)
                rec.resolve.append(f"Or test on about {need:,} rows (now {n_test:,}) to measure the difference "
                                   "between them.")
                rec.reasons += [f"Ruled out: {why}" for why in rec.excluded.values()]
                return rec
        chosen = best
        rec.reasons.append(f"{chosen.name} is the most accurate arm within the constraints: {chosen.accuracy.pct()}.")
        for c in live:
            if c is chosen:
                continue
            d = diff(chosen.arm, c.arm)
            if live.index(c) < live.index(chosen):
                rec.reasons.append(f"It is measurably more accurate than the cheaper {_low(c.name)} "
                                   f"({c.accuracy.pct()}): {_diff(d)}.")
            else:
                rec.reasons.append(_not_needed(chosen, c, d))

    rec.verdict, rec.headline = _verdict_of(chosen)
    rec.arm = chosen.arm
    rec.reasons += _constraint_sentences(chosen, cons)
    if chosen.arm == "hybrid":
        rec.reasons.append(f"At τ = {chosen.tau:.2f} the classifier answers when its top probability is at least "
                           f"{chosen.tau:.2f}; the LLM decides the other {_pct(chosen.llm_share or 0)} of queries.")
        if cons.explainable:
            rec.caveats.append(f"Decisions must be auditable: the {_pct(chosen.llm_share or 0)} made by the LLM are "
                               "limited to the classifier's candidates; log their prompts and answers.")
    rec.reasons += [f"Ruled out: {why}" for why in rec.excluded.values()]
    return rec


def _edge(c: Candidate, chosen: Candidate) -> str:
    """Why ``c`` ranks before ``chosen``: ``"cheaper"``, ``"faster"`` or ``"simpler"``, with the numbers."""
    if _cost_key(c) < _cost_key(chosen):
        return f"cheaper ({_usd(c.cost_per_1k)} against {_usd(chosen.cost_per_1k)} per 1,000 queries)"
    if c.p95_ms is not None and chosen.p95_ms is not None and c.p95_ms < chosen.p95_ms:
        return f"faster (p95 {c.p95_ms:,.0f} ms against {chosen.p95_ms:,.0f} ms)"
    return "simpler to run"


def _not_needed(chosen: Candidate, c: Candidate, d: Estimate | None) -> str:
    more = []
    if (c.cost_per_1k or 0) > (chosen.cost_per_1k or 0):
        more.append(f"costs {_usd(c.cost_per_1k)} per 1,000 queries against {_usd(chosen.cost_per_1k)}")
    if c.p95_ms is not None and chosen.p95_ms is not None and c.p95_ms > chosen.p95_ms:
        more.append(f"has a p95 latency of {c.p95_ms:,.0f} ms against {chosen.p95_ms:,.0f} ms")
    what = " and ".join(more) or "is more complex to run"
    acc = f"{c.accuracy.pct()}" + (f"; {_low(c.name)} vs {_low(chosen.name)}: "
                                   f"{_diff(Estimate(-d.value, -d.high, -d.low, d.n))}" if d is not None else "")
    return f"{c.name} {what} ({acc})."


def _constraint_sentences(c: Candidate, cons: Constraints) -> list[str]:
    out = []
    if cons.p95_latency_ms is not None and c.p95_ms is not None:
        out.append(f"Its p95 latency is {c.p95_ms:,.0f} ms per query (n={c.accuracy.n}), within the "
                   f"{cons.p95_latency_ms:,.0f} ms budget.")
    if cons.volume_per_month is not None and c.cost_per_1k is not None:
        month = c.cost_per_1k * cons.volume_per_month / 1000.0
        text = (f"At {cons.volume_per_month:,.0f} queries a month it costs {_usd(month)} a month "
                f"({_usd(c.cost_per_1k)} per 1,000 queries, measured on {c.accuracy.n} queries)")
        if cons.budget_usd_per_month is not None:
            text += f", within the {_usd(cons.budget_usd_per_month)} budget"
        out.append(text + ".")
        if c.batch_per_1k is not None:
            out.append(f"Traffic that can wait hours could use Bedrock batch inference: "
                       f"{_usd(c.batch_per_1k * cons.volume_per_month / 1000.0)} a month.")
    return out


def _weak_resolve(rec: Recommendation, live: list[Candidate], target: float, provider_label: str,
                  learning_gain: float | None) -> None:
    llm_arms = [c for c in live if c.arm in ("zero_shot", "few_shot", "hybrid")]
    if llm_arms:
        who = f" than {provider_label}" if provider_label else ""
        rec.resolve.append(f"Try a stronger LLM{who} (e.g. Claude on Amazon Bedrock or a larger local model).")
    if learning_gain is not None and learning_gain > 0.01:
        rec.resolve.append(f"Add labelled training data: the classifier gained {learning_gain * 100:.1f} points "
                           "on the last step of its learning curve, so it is still improving.")
    else:
        rec.resolve.append("More training data alone may not be enough: the classifier's learning curve has "
                           "flattened.")
    rec.resolve.append(f"Or reconsider the {_pct(target)} target.")
