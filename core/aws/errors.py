"""Clear, fixable messages for what goes wrong when staging and running AWS jobs.

:func:`translate` turns a botocore exception into a :class:`core.errors.CrossroadsError`
whose message says what went wrong and how to fix it:

* a missing bucket, or one in another region than the job;
* a missing role, or a role the service cannot assume (its trust policy must name the service);
* a region (or model) where the service does not run;
* a quota exceeded;
* missing permissions and missing credentials.

:class:`JobFailedError` carries a failed job's ``FailureReason`` (SageMaker),
``message`` (Bedrock) or ``Message`` (Comprehend), with a hint when the reason is a known one.
Messages never contain credentials (AWS error texts do not include them; ARNs are not secret).
"""

from __future__ import annotations

import re

from core.errors import ConfigError, CrossroadsError, DataError, ProviderError

#: Service principals that must be trusted by the role each service assumes.
SERVICE_PRINCIPALS = {
    "sagemaker": "sagemaker.amazonaws.com",
    "bedrock": "bedrock.amazonaws.com",
    "comprehend": "comprehend.amazonaws.com",
}
SERVICE_LABELS = {"sagemaker": "Amazon SageMaker", "bedrock": "Amazon Bedrock", "comprehend": "Amazon Comprehend",
                  "s3": "Amazon S3"}
_QUOTA_CODES = {"ResourceLimitExceeded", "ServiceQuotaExceededException", "LimitExceededException",
                "TooManyRequestsException", "ThrottlingException", "JobsLimitExceeded"}
_BAD_CREDENTIALS = {"UnrecognizedClientException", "InvalidClientTokenId", "ExpiredToken", "ExpiredTokenException",
                    "InvalidSignatureException", "SignatureDoesNotMatch", "InvalidAccessKeyId"}
README_IAM = "the README section 'Running at scale on AWS'"


class JobFailedError(ProviderError):
    """An AWS job ended in failure; ``reason`` is the service's own text."""

    def __init__(self, message: str, *, reason: str = "", code: str | None = None):
        super().__init__(message, code=code or "JobFailed")
        self.reason = reason


def _parts(exc) -> tuple[str, str, int]:
    resp = getattr(exc, "response", None) or {}
    err = resp.get("Error", {}) or {}
    status = int((resp.get("ResponseMetadata") or {}).get("HTTPStatusCode") or 0)
    return str(err.get("Code") or type(exc).__name__), " ".join(str(err.get("Message") or "").split()), status


def role_trust_hint(service: str, role_arn: str | None) -> str:
    """One sentence: what the role's trust policy and the user's permissions must say for ``service``."""
    principal = SERVICE_PRINCIPALS.get(service, f"{service}.amazonaws.com")
    who = f"the role {role_arn}" if role_arn else "the role"
    return (f"{SERVICE_LABELS.get(service, service)} cannot assume {who}: its trust policy must allow "
            f'{{"Service": "{principal}"}} to sts:AssumeRole, and your identity needs iam:PassRole on it '
            f"(see {README_IAM}).")


def _hint_for_reason(reason: str, service: str, role_arn: str | None, bucket: str | None) -> str:
    """A fix for a known failure text, or ``""``."""
    low = reason.lower()
    if "assume" in low and "role" in low:
        return role_trust_hint(service, role_arn)
    if ("access denied" in low or "accessdenied" in low or "not authorized" in low) and ("s3" in low or bucket):
        where = f"s3://{bucket}" if bucket else "the staging bucket"
        return (f"The role cannot read or write {where}: give it s3:GetObject, s3:PutObject and s3:ListBucket "
                f"on the bucket and prefix (see {README_IAM}).")
    if "quota" in low or "limit" in low:
        return "Request a higher quota in Service Quotas, or wait for your running jobs to finish."
    if "minimum" in low and "record" in low:
        return "Add records until the job has at least the model's minimum (see `aws bedrock-batch --help`)."
    if "validation" in low and ("format" in low or "parse" in low or "json" in low):
        return "The staged input was rejected: run the same command with --dry-run and check the files it writes."
    return ""


def job_failed(service: str, job: str, reason: str, *, role_arn: str | None = None,
               bucket: str | None = None) -> JobFailedError:
    """Build the :class:`JobFailedError` for a job that ended in failure.

    Args:
        service: ``"sagemaker"``, ``"bedrock"`` or ``"comprehend"``.
        job: the job's name or ID (for the message).
        reason: the service's ``FailureReason`` / ``message`` / ``Message`` (may be empty).
        role_arn: the role the job ran with, for the hint.
        bucket: the staging bucket, for the hint.
    """
    reason = " ".join((reason or "").split()) or "no reason given by the service"
    hint = _hint_for_reason(reason, service, role_arn, bucket)
    msg = f"{SERVICE_LABELS.get(service, service)} job {job} failed: {reason}." + (f" {hint}" if hint else "")
    return JobFailedError(msg, reason=reason)


def translate(exc: BaseException, *, service: str, action: str, region: str | None = None,
              bucket: str | None = None, role_arn: str | None = None, model_id: str | None = None,
              job: str | None = None) -> BaseException:
    """Turn a botocore exception into a user-facing :class:`CrossroadsError`.

    Args:
        exc: the exception raised by boto3/botocore.
        service: the service called (``"s3"``, ``"sagemaker"``, ``"bedrock"``, ``"comprehend"``).
        action: what was being done, in words (``"uploading the training data"``).
        region: the region used.
        bucket: the staging bucket, when relevant.
        role_arn: the service role, when relevant.
        model_id: the Bedrock model, when relevant.
        job: the job name or ID, when relevant.

    Returns:
        A :class:`ConfigError`, :class:`ProviderError` or :class:`DataError`; a
        :class:`CrossroadsError` is returned unchanged; anything not from AWS is returned unchanged.
    """
    if isinstance(exc, CrossroadsError):
        return exc
    from botocore import exceptions as bex

    label = SERVICE_LABELS.get(service, service)
    where = f"in region {region}" if region else "in the chosen region"
    if isinstance(exc, (bex.NoCredentialsError, bex.PartialCredentialsError)):
        return ProviderError("no AWS credentials found by boto3's default chain: run `aws configure` or "
                             "`aws sso login`, set AWS_PROFILE, or choose a profile. Use --dry-run to see what "
                             "would be sent without an account.", code="NoCredentials")
    if isinstance(exc, bex.TokenRetrievalError):
        return ProviderError("your AWS SSO session has expired: run `aws sso login` and try again.",
                             code="TokenRetrievalError")
    if isinstance(exc, bex.ProfileNotFound):
        return ConfigError(f"AWS profile not found: {exc.kwargs.get('profile')!r}. Pick a profile listed in "
                           "~/.aws/config, or leave it empty for the default chain.")
    if isinstance(exc, bex.NoRegionError):
        return ConfigError("no AWS region set: choose one with --region (e.g. us-east-1) or set AWS_REGION.")
    if isinstance(exc, (bex.EndpointConnectionError, bex.ConnectTimeoutError)):
        return ProviderError(f"cannot reach {label} {where} while {action}: check the network, and that {label} "
                             "is offered in this region.", retryable=True, code="EndpointConnectionError")
    if not isinstance(exc, bex.ClientError):
        return exc
    code, message, status = _parts(exc)
    said = f" AWS said: {message}" if message else ""
    low = message.lower()
    if code in _BAD_CREDENTIALS:
        return ProviderError(f"AWS rejected the credentials ({code}): they are invalid or expired. Run "
                             "`aws sso login` or `aws configure`, or choose another profile.", code=code)
    # --- the staging bucket
    if code in ("NoSuchBucket",) or (service == "s3" and status == 404 and not job and "key" not in low):
        b = bucket or "the staging bucket"
        return ConfigError(f"the S3 bucket {b} does not exist (or belongs to another account): create it with "
                           f"`aws s3 mb s3://{b} --region {region or '<region>'}`, or choose another bucket.")
    if service == "s3" and code in ("AccessDenied", "403", "AllAccessDisabled"):
        b = f"s3://{bucket}" if bucket else "the staging bucket"
        return ProviderError(f"access denied to {b} while {action}: your identity needs s3:PutObject, "
                             f"s3:GetObject and s3:ListBucket there (see {README_IAM}).{said}", code=code)
    if code in ("PermanentRedirect", "AuthorizationHeaderMalformed", "IllegalLocationConstraintException"):
        return ConfigError(f"the bucket {bucket or ''} is in another region than {region}: the job and its bucket "
                           "must be in the same region. Choose that region, or a bucket in this one.")
    # --- the service role
    if "assume" in low and "role" in low:
        return ConfigError(role_trust_hint(service, role_arn) + said)
    if code == "NoSuchEntity" or ("role" in low and ("does not exist" in low or "not found" in low
                                                     or "invalid" in low and "arn" in low)):
        r = role_arn or "the role"
        return ConfigError(f"{r} does not exist or is not a valid IAM role ARN: create the service role "
                           f"for {label} (see {README_IAM}) and pass its ARN with --role.{said}")
    if "iam:passrole" in low or ("passrole" in low):
        return ProviderError(f"your identity may not pass {role_arn or 'the role'} to {label}: allow "
                             f"iam:PassRole on it (see {README_IAM}).{said}", code=code)
    # --- quotas
    if code in _QUOTA_CODES or "quota" in low:
        retry = code in ("ThrottlingException", "TooManyRequestsException")
        return ProviderError(f"{label} refused {action}: a quota or rate limit was reached ({code}). Request a "
                             "higher quota in Service Quotas, or wait for your running jobs to finish and try "
                             f"again.{said}", retryable=retry, code=code)
    # --- region / model
    if service == "bedrock" and (code in ("ResourceNotFoundException",) or
                                 (code == "ValidationException" and ("model" in low or "identifier" in low))):
        m = model_id or "this model"
        return ConfigError(f"{m} is not available for batch inference {where} (or model access is not enabled): "
                           "pick a model and region listed on "
                           "https://docs.aws.amazon.com/bedrock/latest/userguide/batch-inference-supported.html "
                           f"and enable access to it in the Bedrock console.{said}")
    if code in ("UnknownOperationException", "UnrecognizedServiceException") or \
            ("not supported" in low and "region" in low):
        return ConfigError(f"{label} does not offer this {where}: choose another region.{said}")
    if code in ("ResourceNotFound", "ResourceNotFoundException", "JobNotFoundException", "ValidationException") \
            and job and ("not found" in low or "does not exist" in low or "could not find" in low):
        return ConfigError(f"no {label} job {job} {where}: check the job ID and the region.{said}")
    if code in ("AccessDeniedException", "AccessDenied"):
        return ProviderError(f"access denied by {label} while {action}: your identity needs the permissions "
                             f"listed in {README_IAM}.{said}", code=code)
    if code in ("ValidationException", "InvalidRequestException", "ValidationError"):
        return DataError(f"{label} rejected the request while {action} ({code}).{said} Run the same command with "
                         "--dry-run to inspect what is sent.")
    if code in ("InternalServerException", "InternalFailure", "ServiceUnavailable", "ServiceUnavailableException"):
        return ProviderError(f"{label} had an internal error while {action}, even after retries: try again later.",
                             retryable=True, code=code)
    return ProviderError(f"{label} refused {action} ({code}).{said}", code=code)


_ROLE_ARN = re.compile(r"^arn:aws(-[a-z-]+)?:iam::\d{12}:role/[\w+=,.@/-]+$")


def check_role_arn(role_arn: str | None, service: str) -> str:
    """Return ``role_arn`` stripped if it looks like an IAM role ARN, else raise a fixable :class:`ConfigError`."""
    label = SERVICE_LABELS.get(service, service)
    if not role_arn or not str(role_arn).strip():
        raise ConfigError(f"{label} needs a service role: pass its ARN with --role "
                          f"(arn:aws:iam::<account>:role/<name>), trusted by {SERVICE_PRINCIPALS[service]} "
                          f"(see {README_IAM}).")
    role_arn = str(role_arn).strip()
    if not _ROLE_ARN.match(role_arn):
        raise ConfigError(f"{role_arn!r} is not an IAM role ARN: it should look like "
                          "arn:aws:iam::123456789012:role/CrossroadsSageMaker.")
    return role_arn
