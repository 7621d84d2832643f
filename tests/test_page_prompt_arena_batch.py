"""Prompt Arena page (AppTest): the batch evaluation can go as a Bedrock batch job. Records are prepared on a button
press from the page's own held-out rows and prompts (masked when masking is on), kept across reruns, and the dry run
is built with nothing sent to any provider or to AWS."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.arena.providers import LLMProvider, LLMResponse, ProviderSpec, ProviderStatus, register_provider, \
    unregister_provider

PAGE = str(Path(__file__).resolve().parents[1] / "pages" / "prompt_arena.py")
SENT: list = []


class Counting(LLMProvider):
    """A local fake that counts every call (the batch path must make none)."""

    name = "fakearena"
    description = "Counting fake (test)."

    def list_models(self):
        return [self.model_id]

    def _generate(self, system, messages, max_tokens, temperature):
        SENT.append(messages)
        return LLMResponse("ok", 5, 1, 1.0, "stop", self.model_id, self.name)

    def _stream(self, system, messages, max_tokens, temperature):
        r = self._generate(system, messages, max_tokens, temperature)
        yield r.text
        return r


FAKE = ProviderSpec(name="fakearena", label="Counting fake (test)",
                    factory=lambda model=None, **kw: Counting(model or "fake-model"),
                    probe=lambda **kw: ProviderStatus("fakearena", True, "Counting fake ready.", ["fake-model"],
                                                      "Counting fake (test)"),
                    local=True, capabilities=frozenset())


@pytest.fixture(scope="module", autouse=True)
def fake_registered():
    register_provider(FAKE)
    yield
    unregister_provider("fakearena")


@pytest.fixture
def private_jobs(monkeypatch, tmp_path):
    monkeypatch.setenv("CROSSROADS_AWS_JOBS_DIR", str(tmp_path / "jobs"))
    for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    return tmp_path


def _ok(at):
    assert not at.exception, [e.value for e in at.exception]


def test_the_evaluation_goes_as_a_bedrock_batch_job_with_a_dry_run_and_nothing_sent(private_jobs):
    from core.aws.bedrock_batch import DEFAULT_MODEL_ID

    at = AppTest.from_file(PAGE, default_timeout=300).run()
    _ok(at)
    at.selectbox(key="arena_provider").set_value("fakearena").run()
    at.toggle(key="arena_mask_pii_fakearena").set_value(True)
    at.number_input(key="arena_eval_n").set_value(17).run()  # 17 queries x 2 prompts x 3 repeats = 102 records
    _ok(at)
    assert not any("Bedrock batch job (" in e.label for e in at.expander)  # nothing built before the button
    at.button(key="arena_batch_prepare").click().run()
    _ok(at)
    labels = [e.label for e in at.expander]
    assert any(x == "Or run this evaluation as a Bedrock batch job (102 records, half price)" for x in labels), labels
    sig, records, rows, meta, model_id = at.session_state["arena_batch_records"]
    assert model_id == DEFAULT_MODEL_ID  # the Arena's provider is not Bedrock
    assert len(records) == len(rows) == 102 and rows["recordId"].is_unique
    assert rows["query_row"].nunique() == 17 and rows.groupby("arm").size().to_dict() == {"raw": 51,
                                                                                          "contextualised": 51}
    assert meta["scorer"] == "arena_context_evaluation" and meta["repeats"] == 3 and meta["temperature"] == 0.7
    from core.arena.prompts import escape_tags

    for rec, text in zip(records, rows["text"]):  # the prompt carries the text NFKC-normalised, tags escaped
        assert f"<query>{escape_tags(text)}</query>" in rec["modelInput"]["messages"][-1]["content"][0]["text"]
        assert rec["modelInput"]["inferenceConfig"]["temperature"] == 0.7
    assert SENT == []
    # a rerun (or a page change) keeps the prepared records: no second button press needed
    at.run()
    assert at.session_state["arena_batch_records"][0] == sig
    # the dry run: the estimate at the batch price, the file and the request, nothing sent
    at.button(key="arena_batch_build").click().run()
    _ok(at)
    m = {x.label: x.value for x in at.metric}
    assert float(m["Estimated cost (USD)"]) > 0
    assert any("Dry run: the 1 file(s) and 1 request(s)" in e.label for e in at.expander)
    req = next(j.value for j in at.json if "modelInvocationType" in (j.value if isinstance(j.value, dict)
                                                                     else json.loads(j.value)))
    req = req if isinstance(req, dict) else json.loads(req)
    assert req["modelId"] == DEFAULT_MODEL_ID and req["modelInvocationType"] == "Converse"
    assert SENT == []
    # changing an option the prompts depend on asks for new records instead of keeping stale ones
    at.number_input(key="arena_eval_m").set_value(4).run()
    _ok(at)
    assert not any("Bedrock batch job (" in e.label for e in at.expander)
    assert any("prepare them again" in c.value for c in at.caption)
