"""The onedigest Flask service: an app factory and the blueprints it wires together."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from . import errors, metrics, observability, security
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
        JSON_SORT_KEYS=False,
    )
    app.extensions["onedigest.settings"] = settings

    observability.configure_logging(settings.log_level)
    if settings.proxy_count > 0:
        # Trust exactly as many hops as there are load balancers in front of us; more would
        # let a client forge its address or scheme.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app,
            x_for=settings.proxy_count,
            x_proto=settings.proxy_count,
            x_host=0,
            x_port=0,
            x_prefix=0,
        )

    observability.init_app(app)  # first: it stamps the start time the others read
    metrics.init_app(app, settings)
    security.init_app(app, settings)
    errors.init_app(app)
    app.register_blueprint(views_bp)
    return app
