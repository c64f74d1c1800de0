"""HTTPS enforcement and security headers for an app that sits behind a TLS-terminating proxy."""

from __future__ import annotations

from flask import Flask, Response, abort, redirect, request

from .settings import Settings
from .views import HEALTH_PATH

# An API and a plain-text page: nothing may be loaded, framed or submitted.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)

STATIC_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Cross-Origin-Opener-Policy": "same-origin",
}


def init_app(app: Flask, settings: Settings) -> None:
    hsts = f"max-age={settings.hsts_max_age}; includeSubDomains"

    @app.before_request
    def limit_body() -> None:
        # Refuse an oversized body from its declared length, before any route reads it.
        length = request.content_length
        if length is not None and length > settings.max_content_length:
            abort(413)

    if settings.force_https:

        @app.before_request
        def require_https() -> Response | None:
            # Load balancers probe over plain HTTP; redirecting them would fail every check.
            if request.scheme == "https" or request.path == HEALTH_PATH:
                return None
            target = request.url.replace("http://", "https://", 1)
            # 308 keeps the method and body, unlike 301/302.
            return redirect(target, code=308)  # type: ignore[return-value]

    @app.after_request
    def add_headers(response: Response) -> Response:
        for key, value in STATIC_HEADERS.items():
            response.headers.setdefault(key, value)
        if request.scheme == "https" and settings.hsts_max_age > 0:
            response.headers.setdefault("Strict-Transport-Security", hsts)
        return response
