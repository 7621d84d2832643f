"""boto3 clients for the AWS jobs, from the default credential chain only.

Credentials are found by boto3 (environment variables, shared config/credentials
files, SSO, container or instance role), optionally for a named profile. Crossroads
never reads, logs, shows or writes them: only the *source* of the credentials
(e.g. ``"shared-credentials-file"``) and the region are ever reported.
"""

from __future__ import annotations

from typing import Any

from core.errors import ConfigError

#: botocore retry settings for every client (standard mode: exponential backoff with jitter).
MAX_ATTEMPTS = 5


class AwsSession:
    """One profile and region, and its boto3 clients (created on first use, then reused).

    Args:
        profile: a profile name from ``~/.aws/config``; ``None`` uses the default chain.
        region: an AWS region such as ``"us-east-1"``; ``None`` takes the profile's or ``AWS_REGION``.
        clients: ready clients by service name (``{"bedrock": client}``); tests pass
            ``Stubber``-wrapped or moto-backed clients here.
        max_attempts: total attempts per call in botocore's standard retry mode.

    Raises:
        ConfigError: (on first client) unknown profile, or no region anywhere.
    """

    def __init__(self, profile: str | None = None, region: str | None = None, *,
                 clients: dict[str, Any] | None = None, max_attempts: int = MAX_ATTEMPTS):
        self.profile = profile or None
        self._region = region or None
        self._clients: dict[str, Any] = dict(clients or {})
        self._session = None
        self.max_attempts = max_attempts

    def _boto(self):
        if self._session is None:
            import boto3
            from botocore.exceptions import ProfileNotFound

            try:
                self._session = boto3.Session(profile_name=self.profile, region_name=self._region)
            except ProfileNotFound:
                raise ConfigError(f"AWS profile not found: {self.profile!r}. Pick a profile listed in "
                                  "~/.aws/config, or leave it empty for the default chain.") from None
        return self._session

    @property
    def region(self) -> str:
        """The region in use (``ConfigError`` when none is set anywhere)."""
        if self._region:
            return self._region
        for c in self._clients.values():
            name = getattr(getattr(c, "meta", None), "region_name", None)
            if name:
                return name
        name = self._boto().region_name
        if not name:
            raise ConfigError("no AWS region set: choose one (e.g. us-east-1 or ap-northeast-1) with --region, "
                              "in the page, or with AWS_REGION.")
        self._region = name
        return name

    def client(self, service: str):
        """The boto3 client for ``service`` (``"s3"``, ``"sagemaker"``, ``"bedrock"``, ``"comprehend"``)."""
        if service not in self._clients:
            from botocore.config import Config

            cfg = Config(retries={"mode": "standard", "total_max_attempts": self.max_attempts})
            self._clients[service] = self._boto().client(service, region_name=self.region, config=cfg)
        return self._clients[service]

    def credential_status(self) -> tuple[bool, str]:
        """Whether credentials and a region are available, without any AWS call.

        Returns:
            ``(ok, reason)``; the reason names the credential *source*, never a key.
        """
        if self._clients:
            return True, f"clients provided, region {self.region}."
        try:
            creds = self._boto().get_credentials()
        except ConfigError as exc:
            return False, str(exc)
        except Exception as exc:  # noqa: BLE001 - any setup problem is reported, not raised
            return False, f"AWS setup problem ({type(exc).__name__})."
        if creds is None:
            return False, ("no AWS credentials found by boto3's default chain: run `aws configure` or "
                           "`aws sso login`, set AWS_PROFILE, or choose a profile. A dry run works without them.")
        try:
            region = self.region
        except ConfigError as exc:
            return False, str(exc)
        return True, f"credentials from {getattr(creds, 'method', 'the default chain')}, region {region}."

    def __repr__(self) -> str:  # never shows credentials
        return f"AwsSession(profile={self.profile!r}, region={self._region!r})"
