"""The onedigest Flask service: an app factory and the pieces it wires together."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from . import errors, metrics, observability, security
from .sessions import CachedSerializerSessionInterface
from .settings import ConfigError, Settings
from .views import bp as views_bp

__all__ = ["ConfigError", "create_app"]


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app from the environment, with ``config`` overriding individual keys (tests)."""
    settings = Settings.from_env(overrides=config)
    settings.validate()

    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=settings.max_content_length,
        DEBUG=False,
        TESTING=settings.testing,
        PROPAGATE_EXCEPTIONS=False,
        # If a route ever uses the session: never sent over plain HTTP (in production), never
        # readable by scripts, never sent on cross-site subrequests.
        SESSION_COOKIE_SECURE=settings.env == "production",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
    )
    app.extensions["onedigest.settings"] = settings
    app.session_interface = CachedSerializerSessionInterface()
    observability.configure_logging(settings.log_level)

    app_metrics = metrics.Metrics(settings)
    metrics.init_app(app, app_metrics, settings.metrics_port)
    security.init_app(app, settings)
    errors.init_app(app)
    app.register_blueprint(views_bp)

    wsgi = observability.RequestMiddleware(
        app.wsgi_app,
        static_headers=security.STATIC_HEADERS,
        https_headers=security.https_headers(settings),
        record=app_metrics.record,
    )
    if settings.proxy_count > 0:
        # Trust exactly as many hops as there are load balancers in front of us; more would
        # let a client forge its address or scheme. Outermost, so everything sees the fixed values.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            wsgi, x_for=settings.proxy_count, x_proto=settings.proxy_proto_count
        )
    else:
        app.wsgi_app = wsgi  # type: ignore[method-assign]
    return app
