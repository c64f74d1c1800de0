"""JSON error bodies for every HTTP error; never a traceback."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException, InternalServerError

log = logging.getLogger("onedigest.errors")


def _body(exc: HTTPException) -> Response:
    response = jsonify(
        {"error": {"code": exc.code, "name": exc.name, "description": exc.description}}
    )
    response.status_code = exc.code or 500
    # Keep headers such as Allow (405) and Location from the original exception.
    for key, value in exc.get_headers():
        if key.lower() != "content-type":
            response.headers[key] = value
    return response


def init_app(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        return _body(exc)

    @app.errorhandler(Exception)
    def unhandled(exc: Exception) -> Response:
        log.exception("unhandled exception", exc_info=exc)
        return _body(InternalServerError())
