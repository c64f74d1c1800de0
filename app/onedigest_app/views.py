"""The routes the platforms and users see."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify

bp = Blueprint("views", __name__)

HEALTH_PATH = "/healthcheck"


@bp.get("/")
def index() -> Response:
    return Response("Hello, World!", mimetype="text/plain")


@bp.get(HEALTH_PATH)
def healthcheck() -> Response:
    # No I/O: every platform's probe hits this path every few seconds.
    settings = current_app.extensions["onedigest.settings"]
    return jsonify(
        {
            "myapplication": [
                {
                    "version": settings.version,
                    "description": settings.description,
                    "lastcommitsha": settings.last_commit_sha,
                    # The config digest the deployment says it runs (IMAGE_ID, set per target).
                    "imageid": settings.image_id,
                }
            ]
        }
    )
