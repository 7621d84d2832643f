"""The sentiment backend registry: one spec adds a backend to get_backend, the CLI and the Sentiment page."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

import core.sentiment as cs
from core.cli import build_parser, main
from core.errors import ConfigError, DataError
from core.sentiment.base import SentimentBackend, SentimentResult, scores_from_evidence
from core.sentiment.evaluate import agreement, guess_columns
from core.sentiment.registry import BACKENDS, BackendSpec, backend_spec, register_backend, unregister_backend

ROOT = Path(__file__).resolve().parents[2]


class ShoutBackend(SentimentBackend):
    """A fake backend: POSITIVE when the text has '!', else NEGATIVE."""

    name = "shout"

    def __init__(self, volume: int = 1):
        self.volume = volume

    def detect(self, text: str, language: str = "auto") -> SentimentResult:
        pos = 2.0 if "!" in text else 0.0
        scores = scores_from_evidence(pos, 2.0 - pos, 1.0)
        return SentimentResult("POSITIVE" if pos else "NEGATIVE", scores, "en", self.name)


@pytest.fixture
def shout():
    spec = register_backend(BackendSpec(
        name="shout", label="Shout detector", factory=ShoutBackend, probe=lambda volume=None: (True, "always here"),
        local=True, languages=("en",), settings=("volume",), description="Counts exclamation marks."))
    st.cache_data.clear()
    yield spec
    unregister_backend("shout")
    st.cache_data.clear()


def test_spec_validation():
    with pytest.raises(ConfigError, match="not valid"):
        BackendSpec(name="Bad Name", label="x", factory=ShoutBackend, probe=lambda: (True, ""), local=True)
    with pytest.raises(ConfigError, match="unknown capabilities"):
        BackendSpec(name="x", label="x", factory=ShoutBackend, probe=lambda: (True, ""), local=True,
                    capabilities={"telepathy"})
    with pytest.raises(ConfigError, match="estimate callable"):
        BackendSpec(name="x", label="x", factory=ShoutBackend, probe=lambda: (True, ""), local=False,
                    capabilities={"cost_estimate"})
    with pytest.raises(DataError, match="use one of local, comprehend"):
        backend_spec("nope")
    assert list(BACKENDS)[:2] == ["local", "comprehend"]
    assert BACKENDS["local"].local and not BACKENDS["comprehend"].local
    assert BACKENDS["comprehend"].supports("cost_estimate") and not BACKENDS["local"].supports("cost_estimate")


def test_registered_backend_in_core_and_cli(shout, capsys):
    assert cs.BACKENDS[-1] == "shout"
    assert cs.available_backends()["shout"] == (True, "always here")
    be = cs.get_backend("shout", volume=3)
    assert isinstance(be, ShoutBackend) and be.volume == 3
    assert cs.analyze("great!", backend="shout").sentiment == "POSITIVE"
    sub = next(a for a in build_parser()._actions if a.dest == "command").choices["sentiment"]
    backend_arg = next(a for a in sub._actions if a.dest == "backend")
    assert backend_arg.choices == ["local", "comprehend", "shout"]
    assert main(["sentiment", "--text", "bad service", "--backend", "shout"]) == 0
    assert capsys.readouterr().out.startswith("NEGATIVE  (language en, backend shout")


def test_unavailable_backend_is_a_clear_cli_error(shout, capsys):
    register_backend(BackendSpec(name="shout", label="Shout detector", factory=ShoutBackend,
                                 probe=lambda volume=None: (False, "the microphone is off"), local=True))
    assert main(["sentiment", "--text", "hi", "--backend", "shout"]) == 2
    assert "error: Shout detector cannot be used: the microphone is off" in capsys.readouterr().err


def test_registered_backend_on_the_sentiment_page(shout, monkeypatch):
    monkeypatch.setattr(cs, "available_backends", lambda **kw: {"local": (True, "offline"),
                                                                "comprehend": (False, "no credentials"),
                                                                "shout": (True, "always here")})
    at = AppTest.from_file(str(ROOT / "pages" / "sentiment.py"), default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    ms = at.multiselect(key="sent_backends")
    assert ms.options == ["Local (offline)", "Shout detector"] and ms.value == ["local", "shout"]
    assert any("**Shout detector**: Counts exclamation marks." in m.value for m in at.markdown)
    at.text_area(key="sent_text").set_value("Thank you, wonderful service!").run()
    at.selectbox(key="sent_lang").set_value("en").run()
    at.button(key="sent_go").click().run()
    assert not at.exception, at.exception
    assert [m.value for m in at.metric] == ["POSITIVE", "POSITIVE"]
    assert any("agree: POSITIVE" in s.value for s in at.success)
    assert any("Backend **Shout detector**" in c.value for c in at.caption)


def test_guess_columns_and_agreement():
    df = pd.DataFrame({"id": [1, 2, 3], "review": ["the food was great", "slow and rude staff", "ok"],
                       "tag": ["a", "b", "c"], "gold": ["positive", "negative", "neutral"]})
    g = guess_columns(df)
    assert g.text_columns == ["review", "tag", "gold"] and g.text == "review" and g.label == "gold"
    assert guess_columns(pd.DataFrame({"x": [1, 2]})).text is None
    a = agreement(["POSITIVE", "NEGATIVE", None, "MIXED", "NEUTRAL"],
                  ["POSITIVE", "POSITIVE", "NEUTRAL", "MIXED", float("nan")])
    assert (a.n, a.n_agree, a.disagree) == (3, 2, [1]) and a.rate == pytest.approx(2 / 3)
    lo, hi = a.ci
    assert 0 < lo < 2 / 3 < hi < 1
    with pytest.raises(DataError, match="same rows"):
        agreement(["POSITIVE"], [])
