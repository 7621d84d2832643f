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


class LimitError(DataError):
    """An input is larger than one of the limits of :mod:`core.settings`.

    The message says what was found, what the limit is and which environment
    variable changes it.

    Attributes:
        setting: the environment variable holding the limit, e.g. ``"CROSSROADS_MAX_COLUMNS"``.
        limit: the limit's value in its own unit (columns, cells, MB...).
    """

    def __init__(self, message: str, *, setting: str, limit: float):
        super().__init__(message)
        self.setting = setting
        self.limit = limit


#: AWS error codes meaning the credentials were refused (invalid, expired or of another account's session).
BAD_CREDENTIAL_CODES = frozenset({
    "UnrecognizedClientException", "InvalidClientTokenId", "ExpiredToken", "ExpiredTokenException",
    "InvalidSignatureException", "SignatureDoesNotMatch", "TokenRefreshRequired",
})

#: How to fix refused AWS credentials, the same words for every AWS service Crossroads calls.
FIX_AWS_CREDENTIALS = ("Run `aws sso login` if you use AWS SSO (IAM Identity Center), or `aws configure`, "
                       "set AWS_PROFILE, or choose another profile.")


def aws_credentials_error(code: str, service: str, extra: str = "") -> ProviderError:
    """The one message for AWS credentials that were refused (expired session, bad key...).

    Args:
        code: the AWS error code (one of :data:`BAD_CREDENTIAL_CODES`).
        service: the service's name for the message, e.g. ``"Amazon Bedrock"``.
        extra: a sentence appended to the fix (e.g. an offline alternative).

    Returns:
        A non-retryable :class:`ProviderError` with ``code`` set.
    """
    return ProviderError(f"{service} rejected the AWS credentials ({code}): they are invalid or have expired. "
                         + FIX_AWS_CREDENTIALS + (f" {extra}" if extra else ""), code=code)
