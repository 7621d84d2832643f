"""Running a planned bake-off: the LLM calls, then every metric.

::

    plan = plan_bakeoff(data, provider, config)      # core.decide.plan: fits the classifier; no LLM call
    plan.estimate()                                  # RunEstimate: calls, tokens, USD, seconds
    result = run_plan(plan, progress=cb, stop=flag)  # the calls, then every metric

* Every LLM answer goes through :func:`core.arena.choice.choose_cached` and the
  :class:`~core.arena.cache.ResponseCache` given, so a rerun or a resumed run
  pays nothing twice.
* ``progress`` receives a :class:`Progress` after each call; ``stop`` (a
  ``threading.Event`` or a zero-argument callable) is checked before each
  call: when set, the run ends and keeps every answer received so far.
* A failure on one row (:class:`~core.errors.CrossroadsError` from the
  provider) is recorded on that row and the run goes on; after
  ``max_consecutive_failures`` failures in a row the provider is taken as down,
  the remaining calls are skipped and the reason is kept (nothing is lost).
* :class:`BackgroundRun` runs it in a thread, for the page.
"""

from __future__ import annotations

import platform
import time
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from core.errors import CrossroadsError

from .plan import ARM_NAMES, BakeoffPlan

@dataclass
class Progress:
    """What a run is doing, for a progress bar.

    Attributes:
        phase: ``"classifier"``, ``"learning curve"``, an arm id, or ``"metrics"``.
        done / total: LLM calls finished / planned (all arms).
        message: one line for the user.
        eta_seconds: estimated seconds left (``None`` until a call was timed).
        cached / failed: calls served from the cache / failed so far.
    """

    phase: str
    done: int
    total: int
    message: str
    eta_seconds: float | None = None
    cached: int = 0
    failed: int = 0

    @property
    def fraction(self) -> float:
        return 1.0 if self.total <= 0 else min(1.0, self.done / self.total)


def _stopped(stop) -> bool:
    if stop is None:
        return False
    if hasattr(stop, "is_set"):
        return bool(stop.is_set())
    return bool(stop())


def run_plan(plan: BakeoffPlan, *, progress: Callable[[Progress], None] | None = None, stop=None):
    """Make the planned calls (cache first), then compute every metric.

    Args:
        plan: from :func:`plan_bakeoff`.
        progress: called with a :class:`Progress` after each step and call.
        stop: ``threading.Event`` or zero-argument callable; when it turns true
            the run ends early and keeps what finished.

    Returns:
        :class:`core.decide.result.BakeoffResult`.
    """
    from core.arena.choice import choose_cached, parse_choice

    from .learning import learning_curve
    from .result import build_result

    started = time.perf_counter()
    total = sum(len(v) for v in plan.calls.values())
    state = {"done": 0, "cached": 0, "failed": 0, "timed_ms": [], "stopped": False, "aborted": None}

    def report(phase: str, message: str) -> None:
        if progress is None:
            return
        left = total - state["done"]
        eta = (float(np.mean(state["timed_ms"])) / 1000.0 * left) if state["timed_ms"] else None
        progress(Progress(phase, state["done"], total, message, eta, state["cached"], state["failed"]))

    report("classifier", f"Classifier trained on {plan.data.n_train} rows in {plan.fit_seconds:.1f} s.")
    curve = learning_curve(plan, stop=stop, progress=lambda msg: report("learning curve", msg))
    answers: dict[str, dict[int, dict[str, Any]]] = {arm: {} for arm in plan.calls}
    local = plan.local
    for arm, calls in plan.calls.items():
        consecutive = 0
        for n, call in enumerate(calls):
            if state["aborted"] or _stopped(stop):
                state["stopped"] = state["stopped"] or not state["aborted"]
                break
            rec: dict[str, Any] = {}
            try:
                resp = choose_cached(plan.provider, call.system, call.messages, call.labels, cache=plan.cache,
                                     max_tokens=int(plan.config.max_tokens), temperature=plan.config.temperature)
            except CrossroadsError as exc:
                consecutive += 1
                state["failed"] += 1
                rec = {"error": " ".join(str(exc).split())[:500]}
                if consecutive >= int(plan.config.max_consecutive_failures):
                    state["aborted"] = (f"{ARM_NAMES[arm]}: {consecutive} calls failed in a row, so the remaining "
                                        f"LLM calls were skipped. Last error: {rec['error']}")
            else:
                consecutive = 0
                pred = parse_choice(resp.text, call.labels)
                rec = {"pred": pred, "answer": resp.text, "valid": pred is not None,
                       "latency_ms": float(resp.latency_ms), "input_tokens": resp.input_tokens,
                       "output_tokens": resp.output_tokens, "cached": bool(resp.cached),
                       "cost_usd": _call_cost(plan, resp, local)}
                if resp.cached:
                    state["cached"] += 1
                else:
                    state["timed_ms"].append(float(resp.latency_ms))
            answers[arm][call.row] = rec
            state["done"] += 1
            report(arm, f"{ARM_NAMES[arm]}: {n + 1} of {len(calls)} queries answered.")
        if state["aborted"]:
            break
    report("metrics", "Computing metrics and confidence intervals...")
    return build_result(plan, answers, curve, stopped=state["stopped"], aborted=state["aborted"],
                        wall_seconds=time.perf_counter() - started, versions=versions())


def _call_cost(plan: BakeoffPlan, resp, local: bool) -> float | None:
    from .cost import call_cost

    return call_cost(plan.prices, plan.provider.name, resp.model_id or plan.provider.model_id,
                     resp.input_tokens, resp.output_tokens, local=local)


def versions() -> dict[str, str]:
    """Versions of Python and the libraries whose behaviour the numbers depend on."""
    import importlib.metadata as md

    out = {"python": platform.python_version(), "platform": platform.platform(terse=True)}
    for pkg in ("scikit-learn", "numpy", "scipy", "pandas", "llama_cpp_python", "boto3", "plotly"):
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            continue
    out["crossroads"] = _git_commit()
    return out


def _git_commit() -> str:
    import subprocess
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    try:
        out = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"], capture_output=True,
                             text=True, timeout=5)
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


class BackgroundRun:
    """:func:`run_plan` in a background thread, for a UI that must stay responsive (the Decide page).

    The thread keeps running when the page is left; the page polls
    :attr:`progress` and shows :attr:`result` once :attr:`done`. :meth:`stop`
    ends the run after the current call and keeps what finished.

    Attributes:
        plan: the :class:`BakeoffPlan` being run.
        progress: the latest :class:`Progress` (``None`` before the first).
        result: the :class:`~core.decide.result.BakeoffResult` once finished.
        error: the exception that ended the run, if any (the result is then ``None``).
        started: ``time.time()`` at start.
    """

    def __init__(self, plan: BakeoffPlan):
        import threading

        self.plan = plan
        self.progress: Progress | None = None
        self.result = None
        self.error: BaseException | None = None
        self.started = time.time()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._work, name="crossroads-bakeoff", daemon=True)
        self._thread.start()

    def _work(self) -> None:
        try:
            self.result = run_plan(self.plan, progress=self._on_progress, stop=self._stop)
        except BaseException as exc:  # noqa: BLE001 - reported to the page, never lost
            self.error = exc

    def _on_progress(self, p: Progress) -> None:
        self.progress = p

    def stop(self) -> None:
        """Ask the run to end after the current call (what finished is kept)."""
        self._stop.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    @property
    def done(self) -> bool:
        return not self._thread.is_alive()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the end (``timeout`` seconds at most); ``True`` when finished."""
        self._thread.join(timeout)
        return self.done
