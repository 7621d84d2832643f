"""Command line of Crossroads: ``python -m core <command> ...``.

Each feature area registers its own sub-command through a ``register(subparsers)``
function in its ``cli`` module (see :data:`COMMAND_MODULES`). A handler returns
the process exit status (``0`` on success).

Errors: any :class:`core.errors.CrossroadsError`, a missing or unreadable file,
and bad arguments all end with exit status 2 and one line ``error: ...`` on
stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from typing import Sequence

from core.errors import CrossroadsError

#: Modules that each define ``register(subparsers)``; order is the order in ``--help``.
COMMAND_MODULES = ("core.tabular.cli", "core.sentiment.cli", "core.arena.cli", "core.decide.cli",
                   "core.aws.cli")


class _OneLineParser(argparse.ArgumentParser):
    """ArgumentParser whose usage errors are one ``error: ...`` line and exit status 2."""

    def error(self, message: str):  # noqa: D401 - argparse API
        where = "python -m core --help" if self.prog == "python -m core" else f"{self.prog} --help"
        self.exit(2, f"error: {message} (see `{where}`)\n")


def build_parser() -> argparse.ArgumentParser:
    """Build the top-level parser with every registered sub-command.

    Returns:
        An ``argparse.ArgumentParser`` whose sub-commands set ``func`` (a
        callable ``(argparse.Namespace) -> int``).
    """
    parser = _OneLineParser(
        prog="python -m core",
        description="Crossroads: decide between classic ML, generative AI and the hybrid, on your own data.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_OneLineParser)
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:  # an area not built yet
            if exc.name == name:
                continue
            raise
        module.register(sub)
    return parser


def _check_text_arguments(args: argparse.Namespace) -> None:
    """Refuse arguments holding bytes that are not valid UTF-8.

    Python hands such bytes over as lone surrogates (``\\udcff``), which nothing
    downstream can encode (the response cache key, a JSON file, a request body).

    Raises:
        ConfigError: naming the option and the first bad byte.
    """
    from core.errors import ConfigError

    for key, value in vars(args).items():
        for text in value if isinstance(value, (list, tuple)) else [value]:
            if not isinstance(text, str):
                continue
            bad = next((ch for ch in text if "\ud800" <= ch <= "\udfff"), None)
            if bad is not None:
                byte = ord(bad) - 0xDC00 if ord(bad) >= 0xDC80 else None
                shown = f" (byte 0x{byte:02x})" if byte is not None and byte < 256 else ""
                raise ConfigError(f"--{key.replace('_', '-')} is not valid UTF-8 text{shown}. Type it again in a "
                                  "UTF-8 terminal (e.g. LANG=en_US.UTF-8), or pass the text through a UTF-8 file.")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI.

    Args:
        argv: arguments without the program name; ``None`` means ``sys.argv[1:]``.

    Returns:
        Exit status: 0 on success, 2 on bad input or a service error.
    """
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        _check_text_arguments(args)
        return int(args.func(args) or 0)
    except CrossroadsError as exc:
        msg = str(exc)
    except FileNotFoundError as exc:
        msg = f"file not found: {exc.filename or exc}. Check the path."
    except PermissionError as exc:
        msg = f"permission denied: {exc.filename or exc}. Check the file's permissions."
    except IsADirectoryError as exc:
        msg = f"{exc.filename or exc} is a folder, not a file. Give the path of a file."
    except KeyboardInterrupt:
        msg = "interrupted."
    except BrokenPipeError:
        # The reader went away (e.g. `| head`): stop quietly, as other Unix tools do.
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    from core.redact import redact_urls

    print("error: " + " ".join(redact_urls(msg).split()), file=sys.stderr)
    return 2
