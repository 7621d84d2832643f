"""The CLI's contract: bad input ends with exit status 2 and one line `error: ...`, never a traceback."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(*args):
    return subprocess.run([sys.executable, "-m", "core", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)


def test_help_lists_commands():
    r = run("--help")
    assert r.returncode == 0 and "python -m core" in r.stdout


def test_unknown_command_is_one_error_line():
    r = run("no-such-command")
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in r.stderr


def test_no_command_prints_help_and_exits_2():
    r = run()
    assert r.returncode == 2 and "COMMAND" in r.stdout
