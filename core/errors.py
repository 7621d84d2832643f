"""User-facing error types shared by every part of :mod:`core`.

Every error raised on purpose by ``core`` derives from :class:`CrossroadsError`.
Its message is written for the person using the app or the CLI: it says what
went wrong *and* how to fix it, in one sentence, with no traceback needed.
The CLI prints ``error: <message>`` and exits with status 2; the pages show
the message with ``st.error``.
"""

from __future__ import annotations


class CrossroadsError(Exception):
    """Base class: a problem the user can fix (bad input, missing setup)."""


class DataError(CrossroadsError):
    """The uploaded table cannot be read or used (encoding, format, target...)."""


class ConfigError(CrossroadsError):
    """A setting, option or config file is invalid."""


class ProviderError(CrossroadsError):
    """A remote or local service (AWS, an LLM server, a local model) failed.

    Attributes:
        retryable: ``True`` when the failure was transient (throttling, a model
            still loading) and was already retried; ``False`` for setup errors
            (access denied, invalid request, unknown model) that retrying
            cannot fix.
        code: the service's error code when there is one (for example
            ``"ThrottlingException"``), else ``None``.
    """

    def __init__(self, message: str, *, retryable: bool = False, code: str | None = None):
        super().__init__(message)
        self.retryable = retryable
        self.code = code
