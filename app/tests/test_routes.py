from __future__ import annotations

import pytest

from onedigest_app import create_app


def test_index_says_hello(client):
    response = client.get("/")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    assert response.get_data(as_text=True) == "Hello, World!"


def test_healthcheck_has_the_exact_shape_and_build_values(client):
    response = client.get("/healthcheck")
    assert response.status_code == 200
    assert response.is_json
    assert response.get_json() == {
        "myapplication": [
            {
                "version": "1.2.3",
                "description": "test build",
                "lastcommitsha": "0123456789abcdef0123456789abcdef01234567",
                "imageid": "sha256:" + "c0" * 32,
            }
        ]
    }


def test_healthcheck_reads_the_build_values_from_the_environment(monkeypatch):
    monkeypatch.setenv("APP_ENV", "test")
    monkeypatch.setenv("APP_VERSION", "9.9.9")
    monkeypatch.setenv("APP_DESCRIPTION", "from env")
    monkeypatch.setenv("LAST_COMMIT_SHA", "deadbeef")
    monkeypatch.setenv("IMAGE_ID", "sha256:" + "ab" * 32)
    body = create_app().test_client().get("/healthcheck").get_json()
    expected = {
        "version": "9.9.9",
        "description": "from env",
        "lastcommitsha": "deadbeef",
        "imageid": "sha256:" + "ab" * 32,
    }
    assert body == {"myapplication": [expected]}


def test_healthcheck_says_unknown_without_an_image_id(monkeypatch):
    monkeypatch.setenv("APP_ENV", "test")
    monkeypatch.delenv("IMAGE_ID", raising=False)
    body = create_app().test_client().get("/healthcheck").get_json()
    assert body["myapplication"][0]["imageid"] == "unknown"


def test_debug_is_off_even_outside_production(app):
    assert app.debug is False


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_healthcheck_rejects_other_methods_as_json(client, method):
    response = getattr(client, method)("/healthcheck")
    assert response.status_code == 405
    assert response.get_json()["error"]["code"] == 405
    assert "GET" in response.headers["Allow"]


def test_cookie_sessions_still_sign_and_verify(make_app):
    app = make_app()

    @app.get("/count")
    def count():
        from flask import session

        session["n"] = session.get("n", 0) + 1
        return str(session["n"])

    client = app.test_client()
    assert client.get("/count").get_data(as_text=True) == "1"
    assert client.get("/count").get_data(as_text=True) == "2"
    client.set_cookie("session", "forged")
    assert client.get("/count").get_data(as_text=True) == "1"
