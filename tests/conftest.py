"""Shared fixtures: the real datasets in ../shared/data, a live Streamlit server and Chromium."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from core.settings import settings

# As the app does before llama.cpp loads (core.arena.providers.embedded.import_llama_cpp): tests that
# import llama_cpp themselves (pytest.importorskip) must not load it with spinning OpenMP threads.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

ROOT = Path(__file__).resolve().parents[1]
# tests/ mirrors core/ (tests/arena, tests/aws, ...); the shared helpers (aws_helpers, local_servers, conftest's
# running_app) live here, so test modules in the subfolders import them by name as before
if str(ROOT / "tests") not in sys.path:
    sys.path.append(str(ROOT / "tests"))
SHARED_DATA = settings.shared_data  # CROSSROADS_SHARED_DATA, default ../shared/data
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic",
]
ARTIFACTS = ROOT / "tests" / "artifacts"


@pytest.fixture(scope="session", autouse=True)
def _private_response_cache(tmp_path_factory):
    """Keep the LLM response cache of the tests (and of the app servers they start) out of the user's ~/.cache."""
    old = os.environ.get("CROSSROADS_CACHE_DIR")
    os.environ["CROSSROADS_CACHE_DIR"] = str(tmp_path_factory.mktemp("llm-cache"))
    yield
    if old is None:
        os.environ.pop("CROSSROADS_CACHE_DIR", None)
    else:
        os.environ["CROSSROADS_CACHE_DIR"] = old


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Path of ``../shared/data``; skips the test with a visible reason when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real datasets not found at {SHARED_DATA} (set CROSSROADS_SHARED_DATA)")
    return SHARED_DATA


def free_port() -> int:
    """Return a free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, timeout: float = 60.0, proc: subprocess.Popen | None = None) -> None:
    """Poll ``url`` until it answers 200, or fail after ``timeout`` seconds."""
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with status {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except Exception as exc:  # noqa: BLE001 - still starting
            last = exc
        time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer within {timeout}s: {last}")


@contextlib.contextmanager
def running_app(log_dir: Path):
    """Start ``streamlit run streamlit_app.py`` on a free 127.0.0.1 port; yield its base URL, then stop it."""
    port = free_port()
    env = dict(os.environ, STREAMLIT_BROWSER_GATHER_USAGE_STATS="false")
    with open(log_dir / f"streamlit-{port}.log", "w") as fh:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(ROOT / "streamlit_app.py"),
             "--server.headless", "true", "--server.address", "127.0.0.1",
             "--server.port", str(port), "--server.fileWatcherType", "none",
             "--browser.gatherUsageStats", "false"],
            cwd=ROOT, stdout=fh, stderr=subprocess.STDOUT, env=env,
        )
    try:
        wait_http(f"http://127.0.0.1:{port}/_stcore/health", proc=proc)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="session")
def app_url(tmp_path_factory):
    """A live app server shared by the browser tests; yields its base URL."""
    with running_app(tmp_path_factory.mktemp("streamlit")) as url:
        yield url


@pytest.fixture(scope="session")
def browser():
    """A headless Debian Chromium driven by Playwright (never a downloaded browser)."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} not installed (make test installs it with apt-get)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    """A fresh browser page (1400x1000) that saves nothing between tests."""
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = ctx.new_page()
    pg.set_default_timeout(60_000)
    yield pg
    ctx.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Folder for screenshots taken by browser tests (git-ignored)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
