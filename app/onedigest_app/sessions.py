"""Flask's cookie sessions, with the signing serializer built once instead of on every request."""

from __future__ import annotations

from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer


class CachedSerializerSessionInterface(SecureCookieSessionInterface):
    """Same cookies as Flask's default; the serializer depends only on SECRET_KEY, so keep it."""

    def __init__(self) -> None:
        self._serializer: URLSafeTimedSerializer | None = None
        self._key: object = None

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        key = app.secret_key
        if key != self._key or self._serializer is None:
            self._serializer = super().get_signing_serializer(app)
            self._key = key
        return self._serializer
