"""Settings read from the environment (12-factor), validated once at start-up."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

ENVIRONMENTS = ("production", "development", "test")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
DEFAULT_MAX_CONTENT_LENGTH = 1024 * 1024


class ConfigError(RuntimeError):
    """A setting is missing or malformed; the message names the variable and the fix."""


def _flag(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off", ""):
        return False
    raise ConfigError(f"{name}={raw!r} is not a boolean: set {name} to 1 or 0")


_HOST = re.compile(
    r"(?=.{1,253}(:|$))([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(:[0-9]{1,5})?"
)


def _host(name: str, raw: str) -> str | None:
    value = raw.strip().lower()
    if not value:
        return None
    if not _HOST.fullmatch(value):
        raise ConfigError(
            f"{name}={raw!r} is not a host name: set {name} to one, e.g. app.example.com"
        )
    return value


def _int(name: str, raw: str, minimum: int, maximum: int) -> int:
    try:
        value = int(raw)
    except ValueError:
        value = None
    if value is None or not minimum <= value <= maximum:
        raise ConfigError(
            f"{name}={raw!r} is not an integer in [{minimum}, {maximum}]: set {name} to one"
        )
    return value


@dataclass(frozen=True)
class Settings:
    env: str
    secret_key: str | None
    version: str
    description: str
    last_commit_sha: str
    image_id: str
    proxy_count: int
    proxy_proto_count: int
    force_https: bool
    canonical_host: str | None
    metrics_port: int
    hsts_max_age: int
    max_content_length: int
    log_level: str
    testing: bool

    @classmethod
    def from_env(
        cls, overrides: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None
    ) -> Settings:
        """Read every setting; ``overrides`` (same names as the variables) win over ``environ``."""
        source: dict[str, Any] = dict(os.environ if environ is None else environ)
        source.update({k: str(v) for k, v in (overrides or {}).items() if v is not None})
        env = source.get("APP_ENV", "production").strip().lower()
        if env not in ENVIRONMENTS:
            raise ConfigError(
                f"APP_ENV={env!r} is not one of {', '.join(ENVIRONMENTS)}: set APP_ENV to one"
            )
        log_level = source.get("LOG_LEVEL", "INFO").strip().upper()
        if log_level not in LOG_LEVELS:
            raise ConfigError(
                f"LOG_LEVEL={log_level!r} is not one of {', '.join(LOG_LEVELS)}: set LOG_LEVEL"
            )
        proxy_count = _int("PROXY_FIX_COUNT", source.get("PROXY_FIX_COUNT", "1"), 0, 10)
        return cls(
            env=env,
            secret_key=source.get("SECRET_KEY") or None,
            version=source.get("APP_VERSION", "0.0.0-dev"),
            description=source.get("APP_DESCRIPTION", "onedigest app"),
            last_commit_sha=source.get("LAST_COMMIT_SHA", "unknown"),
            image_id=source.get("IMAGE_ID", "unknown"),
            proxy_count=proxy_count,
            # Some proxies append to X-Forwarded-For but pass X-Forwarded-Proto on untouched (the
            # nginx in front of a Beanstalk container): then fewer hops set the scheme.
            proxy_proto_count=_int(
                "PROXY_FIX_PROTO_COUNT",
                source.get("PROXY_FIX_PROTO_COUNT", str(proxy_count)),
                0,
                proxy_count,
            ),
            force_https=_flag("FORCE_HTTPS", source.get("FORCE_HTTPS", "0")),
            # Where the HTTPS redirect points: required with FORCE_HTTPS (validate), never the
            # request's own Host header, which any client can make up.
            canonical_host=_host("CANONICAL_HOST", source.get("CANONICAL_HOST", "")),
            # /metrics answers only on this port, which no target publishes (README: The app).
            metrics_port=_int("METRICS_PORT", source.get("METRICS_PORT", "9100"), 1024, 65535),
            hsts_max_age=_int(
                "HSTS_MAX_AGE", source.get("HSTS_MAX_AGE", "31536000"), 0, 2 * 31536000
            ),
            max_content_length=_int(
                "MAX_CONTENT_LENGTH",
                source.get("MAX_CONTENT_LENGTH", str(DEFAULT_MAX_CONTENT_LENGTH)),
                1,
                1024 * 1024 * 1024,
            ),
            log_level=log_level,
            testing=env == "test",
        )

    def validate(self) -> None:
        """Fail fast where running on would be unsafe."""
        if self.env == "production" and not self.secret_key:
            raise ConfigError(
                "SECRET_KEY is not set: set the SECRET_KEY environment variable "
                "(required when APP_ENV=production)"
            )
        if self.force_https and not self.canonical_host:
            raise ConfigError(
                "FORCE_HTTPS=1 needs CANONICAL_HOST: set CANONICAL_HOST to the host the app is "
                "served at, e.g. app.example.com (the redirect to HTTPS goes there, never to the "
                "Host header a client sent), or set FORCE_HTTPS=0"
            )
