"""Bedrock errors in words: botocore exceptions become :class:`~core.errors.ProviderError`.

Retries: botocore's ``standard`` retry mode (``max_attempts`` in total,
exponential backoff with jitter). It retries ``ThrottlingException`` (a
throttling code), ``ModelNotReadyException`` (marked ``retryable`` in the
bedrock-runtime API model), ``ServiceUnavailableException``,
``InternalServerException`` and connection errors. When one of those still
fails, :class:`~core.errors.ProviderError` has ``retryable=True`` and its
message says how many retries were made. Setup errors
(``AccessDeniedException``, ``ValidationException``,
``ResourceNotFoundException``) are not retried and say what to fix;
``ModelTimeoutException`` has its own message.
"""

from __future__ import annotations

from typing import Any

from core.errors import BAD_CREDENTIAL_CODES, ProviderError, aws_credentials_error

__all__ = ["RETRIED_CODES", "SETUP_CODES", "provider_error_from_boto", "count_retries"]

#: Error codes that botocore's standard mode retries before giving up.
RETRIED_CODES = {
    "ThrottlingException": "Bedrock throttled the request",
    "ModelNotReadyException": "the model is not ready yet (it is being loaded)",
    "ServiceUnavailableException": "Bedrock is temporarily unavailable",
    "InternalServerException": "Bedrock had an internal error",
}
#: Setup errors: retrying cannot fix them.
SETUP_CODES = ("AccessDeniedException", "ValidationException", "ResourceNotFoundException")



def _client_error_parts(exc: Exception) -> tuple[str, str, int | None]:
    """``(code, message, retries)``; ``retries`` is botocore's ``RetryAttempts`` (``None`` when not reported)."""
    resp = getattr(exc, "response", None) or {}
    err = resp.get("Error", {}) or {}
    code = str(err.get("Code") or type(exc).__name__)
    message = str(err.get("Message") or "").strip()
    retries = (resp.get("ResponseMetadata") or {}).get("RetryAttempts")
    if retries is None:
        retries = getattr(exc, "retry_attempts", None)
    return code, message, int(retries) if retries is not None else None


def _stamp_retry_attempts(exception=None, context=None, **_kwargs) -> None:
    """botocore ``after-call-error`` hook: note on a failed call's exception how many retries botocore made.

    A ``ClientError`` carries ``ResponseMetadata.RetryAttempts``; a connection
    error (``ConnectionClosedError``, ``ReadTimeoutError``...) carries nothing,
    so the count is read from the call's retry context (attempts - 1).
    """
    attempts = ((context or {}).get("retries") or {}).get("attempt")
    if exception is not None and attempts:
        try:
            exception.retry_attempts = int(attempts) - 1
        except AttributeError:
            pass


def count_retries(client: Any) -> Any:
    """Register :func:`_stamp_retry_attempts` on a ``bedrock-runtime`` client (once); returns the client."""
    events = getattr(getattr(client, "meta", None), "events", None)
    if events is not None:
        events.register("after-call-error.bedrock-runtime", _stamp_retry_attempts,
                        unique_id="crossroads-retry-attempts")
    return client


def _retried(retries: int | None, max_attempts: int) -> str:
    if retries is None:
        return f"retried by botocore (up to {max_attempts - 1} times)"
    if retries == 0:
        return ("not retried (botocore's retry budget is spent after many failures in a row, or the "
                "error is not retried)")
    return f"retried {retries} time{'s' if retries != 1 else ''} with backoff"


def provider_error_from_boto(exc: Exception, *, model_id: str, region: str | None,
                             max_attempts: int) -> ProviderError:
    """Translate a botocore exception into a :class:`ProviderError` for the user.

    Args:
        exc: ``botocore.exceptions.ClientError`` (incl. ``EventStreamError``),
            ``NoCredentialsError``, ``EndpointConnectionError``, ...
        model_id: the model that was called (for the message).
        region: AWS region used.
        max_attempts: the configured total attempts (to say how often it was retried).

    Returns:
        A ``ProviderError`` whose ``code`` is the AWS error code and whose
        ``retryable`` is ``True`` only for errors botocore already retried.
    """
    from botocore import exceptions as bex

    where = f"model {model_id} in {region or 'the default region'}"
    if isinstance(exc, (bex.NoCredentialsError, bex.PartialCredentialsError)):
        return ProviderError(
            "No AWS credentials found. Configure them the usual way (aws configure, "
            "AWS_PROFILE, aws sso login, or an instance role); Crossroads never asks for keys.",
            code="NoCredentials")
    if isinstance(exc, bex.ProfileNotFound):
        return ProviderError(f"AWS profile not found: {exc}. Check the profile name.", code="ProfileNotFound")
    if isinstance(exc, (bex.TokenRetrievalError, bex.SSOError)):  # the SSO session has expired
        return aws_credentials_error(type(exc).__name__, "Amazon Bedrock")
    retries = getattr(exc, "retry_attempts", None)
    if isinstance(exc, (bex.EndpointConnectionError, bex.ConnectTimeoutError)):
        return ProviderError(
            f"Could not reach Amazon Bedrock in {region or 'the default region'}; "
            f"{_retried(retries, max_attempts)}: check the network and the region.",
            retryable=True, code="EndpointConnectionError")
    if isinstance(exc, bex.ReadTimeoutError):
        return ProviderError(
            f"Bedrock did not answer in time for {where} (read timeout); {_retried(retries, max_attempts)}. "
            "Lower max tokens or try again.", retryable=True, code="ReadTimeout")
    if isinstance(exc, (bex.HTTPClientError, bex.ConnectionError)):  # ConnectionClosedError, a proxy, TLS...
        return ProviderError(
            f"The connection to Amazon Bedrock broke for {where} ({type(exc).__name__}); "
            f"{_retried(retries, max_attempts)}. Try again; a batch moves on to the next query.",
            retryable=True, code=type(exc).__name__)
    if isinstance(exc, bex.ClientError):
        code, message, attempts = _client_error_parts(exc)
        detail = f" AWS said: {message}" if message else ""
        if code in RETRIED_CODES:
            return ProviderError(
                f"{RETRIED_CODES[code]} ({code}) for {where}; {_retried(attempts, max_attempts)} "
                "and it still failed. Wait a minute and try again, or lower the batch size / "
                "ask for a higher quota.", retryable=True, code=code)
        if code in BAD_CREDENTIAL_CODES:
            return aws_credentials_error(code, "Amazon Bedrock")
        if code == "ModelTimeoutException":
            return ProviderError(
                f"The model took too long to answer (ModelTimeoutException) for {where}. "
                "Lower max tokens or shorten the prompt, then try again.", code=code)
        if code == "AccessDeniedException":
            return ProviderError(
                f"Setup error: access denied to {where} (AccessDeniedException). Enable access to "
                "this model in the Bedrock console for this region and allow bedrock:InvokeModel and "
                f"bedrock:InvokeModelWithResponseStream in IAM.{detail}", code=code)
        if code == "ValidationException":
            return ProviderError(
                f"Setup error: Bedrock rejected the request for {where} (ValidationException). "
                "Check the model ID; many models must be called through an inference profile "
                f"ID such as us./eu./apac./global.<model>.{detail}", code=code)
        if code == "ResourceNotFoundException":
            return ProviderError(
                f"Setup error: {where} was not found (ResourceNotFoundException). Pick a model "
                f"listed for this region or change the region.{detail}", code=code)
        return ProviderError(f"Bedrock error {code} for {where}.{detail}", code=code)
    if isinstance(exc, bex.BotoCoreError):
        return ProviderError(f"Bedrock client error for {where}: {exc}", code=type(exc).__name__)
    return ProviderError(f"Unexpected Bedrock failure for {where}: {exc}", code=type(exc).__name__)
