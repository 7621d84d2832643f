"""core.settings: one module for every CROSSROADS_* variable, validated with messages that name the variable."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from core.errors import ConfigError, LimitError
from core.settings import SPECS, markdown_table, settings

ROOT = Path(__file__).resolve().parents[1]


def run_cli(*args, env_extra=None, timeout=120):
    import os

    env = dict(os.environ, **(env_extra or {}))
    return subprocess.run([sys.executable, "-m", "core", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout, env=env)


def test_defaults_and_types(monkeypatch):
    for spec in SPECS:
        monkeypatch.delenv(spec.env, raising=False)
    assert settings.max_upload_mb == 200 and settings.max_upload_bytes == 200 * 2**20
    assert settings.max_columns == 16_384 and settings.max_folds == 20
    assert settings.max_text_chars == 32_767 and settings.max_cells == 50_000_000
    assert settings.openai_base_url is None and settings.openai_api_key is None
    assert settings.shared_data == ROOT.parent / "shared" / "data"


def test_env_values_are_read_when_used(monkeypatch):
    monkeypatch.setenv("CROSSROADS_MAX_FOLDS", "7")
    monkeypatch.setenv("CROSSROADS_MAX_UPLOAD_MB", "0.5")
    monkeypatch.setenv("CROSSROADS_CACHE_DIR", "~/somewhere")
    assert settings.max_folds == 7
    assert settings.max_upload_bytes == 2**19
    assert settings.cache_dir == Path.home() / "somewhere"


@pytest.mark.parametrize("env,value,expected", [
    ("CROSSROADS_MAX_UPLOAD_MB", "abc", "not a number"),
    ("CROSSROADS_MAX_UPLOAD_MB", "-1", "greater than 0"),
    ("CROSSROADS_MAX_UPLOAD_MB", "nan", "finite"),
    ("CROSSROADS_MAX_FOLDS", "1", "at least 2"),
    ("CROSSROADS_MAX_FOLDS", "2.5", "whole number"),
    ("CROSSROADS_MAX_COLUMNS", "0", "at least 1"),
    ("CROSSROADS_EXCEL_TIMEOUT_S", "inf", "finite"),
])
def test_invalid_values_name_the_variable(monkeypatch, env, value, expected):
    monkeypatch.setenv(env, value)
    name = next(s.name for s in SPECS if s.env == env)
    with pytest.raises(ConfigError) as err:
        getattr(settings, name)
    msg = str(err.value)
    assert msg.startswith(f"{env}={value!r} is not valid") and expected in msg and "Unset it" in msg
    assert any(env in p for p in settings.check())


def test_url_setting_never_echoes_its_password(monkeypatch):
    monkeypatch.setenv("CROSSROADS_OPENAI_BASE_URL", "ftp://user:probepass@127.0.0.1:9/v1")
    with pytest.raises(ConfigError) as err:
        settings.openai_base_url
    assert "probepass" not in str(err.value) and "user" not in str(err.value)
    assert "ftp://127.0.0.1:9/v1" in str(err.value)


def test_override_for_tests_and_limit_error():
    with settings.override(max_folds=3):
        assert settings.max_folds == 3
        err = settings.limit_error("max_folds", "--folds 100000 was asked")
        assert isinstance(err, LimitError) and err.setting == "CROSSROADS_MAX_FOLDS" and err.limit == 3
        assert str(err) == ("--folds 100000 was asked; the limit is 3 folds. Use a smaller input, or set the "
                            "environment variable CROSSROADS_MAX_FOLDS to change the limit.")
    assert settings.max_folds == 20
    with pytest.raises(AttributeError):
        with settings.override(no_such_setting=1):
            pass


def test_no_other_module_reads_crossroads_variables():
    """Every CROSSROADS_* variable is read in core/settings.py only (documentation may mention them)."""
    offenders = []
    for path in [*ROOT.glob("core/**/*.py"), *ROOT.glob("pages/*.py"), ROOT / "streamlit_app.py",
                 *ROOT.glob("benchmarks/*.py")]:
        if path.name == "settings.py":
            continue
        text = path.read_text(encoding="utf-8")
        if re.search(r"(environ(\.get)?\(?\[?|getenv\()\s*[\"']CROSSROADS_", text):
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_readme_table_is_the_generated_one():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert markdown_table() in readme
    assert all(f"`{s.env}`" in readme for s in SPECS)


def test_bad_setting_stops_only_the_commands_that_use_it():
    env = {"CROSSROADS_MAX_UPLOAD_MB": "abc"}
    ok = run_cli("sentiment", "--text", "hello, this is great", env_extra=env)
    assert ok.returncode == 0, ok.stderr
    bad = run_cli("sentiment", "--data", str(ROOT / "data" / "sentiment_examples.csv"), "--text-column", "text",
                  env_extra=env)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    lines = bad.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: CROSSROADS_MAX_UPLOAD_MB='abc' is not valid")
    neg = run_cli("compare", "--data", str(ROOT / "data" / "sentiment_examples.csv"), "--target", "label",
                  env_extra={"CROSSROADS_MAX_UPLOAD_MB": "-1"})
    assert neg.returncode == 2 and neg.stderr.strip().splitlines() == [
        neg.stderr.strip()] and "CROSSROADS_MAX_UPLOAD_MB='-1' is not valid: must be a finite number greater than 0" \
        in neg.stderr
