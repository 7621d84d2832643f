"""Deployment safety: CROSSROADS_ALLOWED_BASE_URLS and CROSSROADS_ALLOWED_GGUF_PATHS fix what may be contacted or opened."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.arena.providers import EmbeddedProvider, OpenAICompatProvider, local_status, openai_status
from core.arena.providers.deployment import check_base_url, check_gguf_path
from core.errors import ConfigError
from tests.local_servers import openai_server

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def clean_env(monkeypatch):
    for var in ("CROSSROADS_ALLOWED_BASE_URLS", "CROSSROADS_ALLOWED_GGUF_PATHS", "CROSSROADS_OPENAI_BASE_URL"):
        monkeypatch.delenv(var, raising=False)
    return monkeypatch


def test_local_default_allows_anything(clean_env, tmp_path):
    assert check_base_url("http://10.1.2.3:8000/v1") == "http://10.1.2.3:8000/v1"
    assert check_gguf_path(tmp_path / "x.gguf") == tmp_path / "x.gguf"


def test_base_url_allow_list_is_checked_before_any_request(clean_env):
    with openai_server("fine") as (allowed, allowed_srv), openai_server("fine") as (other, other_srv):
        clean_env.setenv("CROSSROADS_ALLOWED_BASE_URLS", f"{allowed}/v1/, http://llm.internal:8000")
        assert OpenAICompatProvider(allowed + "/v1", "m").generate("", [{"role": "user", "content": "hi"}], 8).text
        assert openai_status(allowed + "/v1").available
        with pytest.raises(ConfigError, match="not allowed on this deployment.*CROSSROADS_ALLOWED_BASE_URLS"):
            OpenAICompatProvider(other + "/v1", "m")
        st = openai_status(other + "/v1")
        assert not st.available and "not allowed" in st.reason
        assert other_srv.requests == []  # never contacted
        assert len(allowed_srv.requests) >= 2


def test_gguf_allow_list(clean_env, tmp_path):
    folder = tmp_path / "models"
    folder.mkdir()
    ok = folder / "ok.gguf"
    ok.write_bytes(b"GGUF" + b"\0" * 16)
    secret = tmp_path / "secret.txt"
    secret.write_text("x")
    clean_env.setenv("CROSSROADS_ALLOWED_GGUF_PATHS", str(folder))
    assert check_gguf_path(ok) == ok and EmbeddedProvider(str(ok)).model_path == ok
    for bad in (secret, folder / ".." / "secret.txt", tmp_path / "nope.gguf"):
        with pytest.raises(ConfigError, match="not allowed on this deployment"):
            check_gguf_path(bad)
        st = local_status(str(bad))
        assert not st.available and "not allowed" in st.reason and "not found" not in st.reason
    with pytest.raises(ConfigError, match="not allowed"):
        EmbeddedProvider(str(secret))
    assert check_gguf_path(secret, default=True) == secret  # the default weights are always allowed


def test_bad_allow_list_value_names_the_variable(clean_env):
    clean_env.setenv("CROSSROADS_ALLOWED_BASE_URLS", "ftp://x")
    with pytest.raises(ConfigError, match="CROSSROADS_ALLOWED_BASE_URLS="):
        check_base_url("http://localhost:11434/v1")


def test_arena_page_offers_only_the_allowed_values(clean_env, tmp_path):
    gguf = tmp_path / "tiny.gguf"
    gguf.write_bytes(b"GGUF")
    clean_env.setenv("CROSSROADS_ALLOWED_BASE_URLS", "http://127.0.0.1:9/v1")
    clean_env.setenv("CROSSROADS_ALLOWED_GGUF_PATHS", str(gguf))
    at = AppTest.from_file(str(ROOT / "pages" / "prompt_arena.py"), default_timeout=180)
    at.run()
    assert not at.exception, at.exception
    assert not [t for t in at.text_input if t.key in ("arena_base_url", "arena_gguf")]  # no free inputs
    assert at.selectbox(key="arena_base_url_choice").options == ["http://127.0.0.1:9/v1"]
    assert at.selectbox(key="arena_gguf_choice").options == ["default: Gemma 3 270M", "tiny.gguf"]


def test_openai_retries_are_real_and_reported(clean_env):
    """A 503 is retried by the SDK (max_retries=2: 3 requests) and the error says so; a 400 is not retried."""
    import json as _json
    from http.server import BaseHTTPRequestHandler

    from core.errors import ProviderError
    from tests.local_servers import serve

    class Busy(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):  # noqa: N802
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.server.requests.append(("POST", self.path, dict(self.headers)))
            status = 400 if "bad" in self.path else 503
            body = _json.dumps({"error": {"message": "try later" if status == 503 else "bad request"}}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Retry-After", "0")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    with serve(Busy) as (url, server):
        prov = OpenAICompatProvider(url + "/v1", "m")
        with pytest.raises(ProviderError) as err:
            prov.generate("", [{"role": "user", "content": "hi"}], 8)
        assert err.value.retryable and err.value.code == "HTTP503" and "after 2 retries" in str(err.value)
        assert len(server.requests) == 3
        assert all("authorization" not in {k.lower() for k in h} for _, _, h in server.requests)  # no key, no header
        bad = OpenAICompatProvider(url + "/bad/v1", "m", max_retries=2)
        with pytest.raises(ProviderError) as err:
            bad.generate("", [{"role": "user", "content": "hi"}], 8)
        assert not err.value.retryable and err.value.code == "HTTP400" and "retr" not in str(err.value)
        assert len(server.requests) == 4
