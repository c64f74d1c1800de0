from __future__ import annotations


def test_404_is_json(client):
    response = client.get("/nope")
    assert response.status_code == 404
    assert response.get_json() == {
        "error": {
            "code": 404,
            "name": "Not Found",
            "description": response.get_json()["error"]["description"],
        }
    }
    assert response.get_json()["error"]["description"]


def test_405_is_json_and_keeps_allow(client):
    response = client.post("/")
    assert response.status_code == 405
    error = response.get_json()["error"]
    assert (error["code"], error["name"]) == (405, "Method Not Allowed")
    assert set(response.headers["Allow"].split(", ")) >= {"GET", "HEAD"}


def test_413_is_json_before_routing(make_app):
    client = make_app(MAX_CONTENT_LENGTH="10").test_client()
    response = client.post("/", data=b"x" * 11)
    assert response.status_code == 413
    error = response.get_json()["error"]
    assert (error["code"], error["name"]) == (413, "Request Entity Too Large")
    # The limit is the limit: exactly 10 bytes still reach routing (405 here: / takes only GET).
    assert client.post("/", data=b"x" * 10).status_code == 405


def test_max_content_length_defaults_to_one_mebibyte(app):
    assert app.config["MAX_CONTENT_LENGTH"] == 1024 * 1024


def test_500_is_json_without_traceback(make_app, log_lines):
    app = make_app()

    @app.get("/boom")
    def boom():
        raise ValueError("secret internals")

    response = app.test_client().get("/boom")
    assert response.status_code == 500
    assert response.get_json()["error"]["code"] == 500
    assert response.get_json()["error"]["name"] == "Internal Server Error"
    text = response.get_data(as_text=True)
    assert "Traceback" not in text and "secret internals" not in text
    # The traceback goes to the log instead, as one JSON line.
    errors = [line for line in log_lines() if line["level"] == "ERROR"]
    assert errors and "secret internals" in errors[0]["exception"]
