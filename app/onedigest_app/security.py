"""HTTPS enforcement, request limits and security headers, behind a TLS-terminating proxy."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from flask import Flask, Response, abort, redirect, request

from .observability import ROUTE_ENVIRON
from .settings import Settings
from .views import HEALTH_PATH

# An API and a plain-text page: nothing may be loaded, framed or submitted.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)

STATIC_HEADERS = [
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "strict-origin-when-cross-origin"),
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("Cross-Origin-Opener-Policy", "same-origin"),
]


def https_headers(settings: Settings) -> list[tuple[str, str]]:
    """Headers only HTTPS responses carry (HSTS over plain HTTP is ignored and misleading)."""
    if settings.hsts_max_age <= 0:
        return []
    return [("Strict-Transport-Security", f"max-age={settings.hsts_max_age}; includeSubDomains")]


def init_app(app: Flask, settings: Settings) -> None:
    limit = settings.max_content_length
    force_https = settings.force_https
    canonical_host = settings.canonical_host

    @app.before_request
    def guard() -> Response | None:
        environ = request.environ
        rule = request.url_rule
        if rule is not None:
            environ[ROUTE_ENVIRON] = rule.rule
        # Refuse an oversized body from its declared length, before any route reads it.
        length = request.content_length
        if length is not None and length > limit:
            abort(413)
        # Load balancers probe over plain HTTP; redirecting them would fail every check.
        if force_https and request.scheme != "https" and request.path != HEALTH_PATH:
            # 308 keeps the method and body, unlike 301/302. Never to a host the client made up:
            # settings.validate refuses FORCE_HTTPS without CANONICAL_HOST.
            url = urlsplit(request.url)
            target = urlunsplit(("https", canonical_host, url.path, url.query, ""))
            return redirect(target, code=308)  # type: ignore[return-value]
        return None
