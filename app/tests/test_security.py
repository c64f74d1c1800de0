from __future__ import annotations

import pytest

from onedigest_app.security import CONTENT_SECURITY_POLICY


def test_security_headers_on_every_response(client):
    for path in ("/", "/healthcheck", "/nope"):
        headers = client.get(path).headers
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
        assert headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
        assert "default-src 'none'" in headers["Content-Security-Policy"]
        assert headers["Cross-Origin-Opener-Policy"] == "same-origin"


def test_no_hsts_over_plain_http(client):
    assert "Strict-Transport-Security" not in client.get("/").headers


def test_hsts_when_the_proxy_says_https(client):
    response = client.get("/", headers={"X-Forwarded-Proto": "https"})
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


def test_hsts_max_age_zero_turns_hsts_off(make_app):
    client = make_app(HSTS_MAX_AGE="0").test_client()
    response = client.get("/", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" not in response.headers


def test_hsts_max_age_is_configurable(make_app):
    client = make_app(HSTS_MAX_AGE="600").test_client()
    response = client.get("/", headers={"X-Forwarded-Proto": "https"})
    assert response.headers["Strict-Transport-Security"] == "max-age=600; includeSubDomains"


def test_session_cookie_is_secure_httponly_and_samesite(make_app):
    app = make_app(APP_ENV="production")

    @app.get("/remember")
    def remember():
        from flask import session

        session["seen"] = True
        return "ok"

    cookie = app.test_client().get("/remember").headers["Set-Cookie"]
    assert "Secure" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_force_https_redirects_plain_http_keeping_path_and_query(make_app):
    client = make_app(FORCE_HTTPS="1", CANONICAL_HOST="example.com").test_client()
    response = client.get("/some/path?a=1", headers={"Host": "example.com"})
    assert response.status_code == 308
    assert response.headers["Location"] == "https://example.com/some/path?a=1"


def test_force_https_without_a_canonical_host_is_refused_at_start(make_app):
    # Else the redirect would go to whatever Host a client sends (https://evil.example/).
    from onedigest_app import ConfigError

    with pytest.raises(ConfigError) as excinfo:
        make_app(FORCE_HTTPS="1")
    assert str(excinfo.value) == (
        "FORCE_HTTPS=1 needs CANONICAL_HOST: set CANONICAL_HOST to the host the app is served "
        "at, e.g. app.example.com (the redirect to HTTPS goes there, never to the Host header a "
        "client sent), or set FORCE_HTTPS=0"
    )


def test_force_https_redirects_to_the_canonical_host_not_the_clients(make_app):
    client = make_app(FORCE_HTTPS="1", CANONICAL_HOST="app.example.com").test_client()
    response = client.get("/a/b?x=1", headers={"Host": "evil.example"})
    assert response.status_code == 308
    assert response.headers["Location"] == "https://app.example.com/a/b?x=1"


def test_a_malformed_canonical_host_is_refused_at_start(make_app):
    from onedigest_app import ConfigError

    with pytest.raises(ConfigError) as excinfo:
        make_app(CANONICAL_HOST="https://app.example.com/")
    assert str(excinfo.value) == (
        "CANONICAL_HOST='https://app.example.com/' is not a host name: "
        "set CANONICAL_HOST to one, e.g. app.example.com"
    )


def test_force_https_leaves_the_healthcheck_alone(make_app):
    client = make_app(FORCE_HTTPS="1", CANONICAL_HOST="app.example.com").test_client()
    response = client.get("/healthcheck")
    assert response.status_code == 200
    assert "myapplication" in response.get_json()


def test_force_https_serves_requests_forwarded_as_https(make_app):
    client = make_app(FORCE_HTTPS="1", CANONICAL_HOST="app.example.com").test_client()
    response = client.get("/", headers={"X-Forwarded-Proto": "https"})
    assert response.status_code == 200
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_without_force_https_plain_http_is_served(client):
    assert client.get("/").status_code == 200


def test_proxyfix_takes_the_client_address_from_one_hop(client, log_lines):
    log_lines()
    client.get("/", headers={"X-Forwarded-For": "203.0.113.7"})
    access = [line for line in log_lines() if line["logger"] == "onedigest.access"]
    assert access[-1]["remote_addr"] == "203.0.113.7"


def test_proxyfix_ignores_spoofed_hops_beyond_the_count(client, log_lines):
    log_lines()
    client.get("/", headers={"X-Forwarded-For": "6.6.6.6, 203.0.113.7"})
    access = [line for line in log_lines() if line["logger"] == "onedigest.access"]
    assert access[-1]["remote_addr"] == "203.0.113.7"


def test_proxyfix_count_is_configurable(make_app, log_lines):
    client = make_app(PROXY_FIX_COUNT="2").test_client()
    log_lines()
    client.get("/", headers={"X-Forwarded-For": "198.51.100.1, 203.0.113.7"})
    access = [line for line in log_lines() if line["logger"] == "onedigest.access"]
    assert access[-1]["remote_addr"] == "198.51.100.1"


def test_proxyfix_proto_count_can_be_smaller_than_the_for_count(make_app, log_lines):
    # Beanstalk: the ALB sets both headers; the instance's nginx appends to X-Forwarded-For only.
    client = make_app(
        PROXY_FIX_COUNT="2",
        PROXY_FIX_PROTO_COUNT="1",
        FORCE_HTTPS="1",
        CANONICAL_HOST="app.example.com",
    ).test_client()
    log_lines()
    response = client.get(
        "/", headers={"X-Forwarded-For": "198.51.100.1, 10.0.0.5", "X-Forwarded-Proto": "https"}
    )
    assert response.status_code == 200
    access = [line for line in log_lines() if line["logger"] == "onedigest.access"]
    assert access[-1]["remote_addr"] == "198.51.100.1"


def test_proxyfix_proto_count_defaults_to_the_for_count(make_app):
    # Two trusted hops but one X-Forwarded-Proto value: the scheme is not trusted, so no HTTPS.
    client = make_app(
        PROXY_FIX_COUNT="2", FORCE_HTTPS="1", CANONICAL_HOST="app.example.com"
    ).test_client()
    response = client.get(
        "/", headers={"X-Forwarded-For": "198.51.100.1, 10.0.0.5", "X-Forwarded-Proto": "https"}
    )
    assert response.status_code == 308


def test_proxyfix_off_ignores_forwarded_headers(make_app):
    client = make_app(
        PROXY_FIX_COUNT="0", FORCE_HTTPS="1", CANONICAL_HOST="app.example.com"
    ).test_client()
    response = client.get("/", headers={"X-Forwarded-Proto": "https"})
    assert response.status_code == 308


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("FORCE_HTTPS", "maybe", "FORCE_HTTPS='maybe' is not a boolean: set FORCE_HTTPS to 1 or 0"),
        (
            "PROXY_FIX_COUNT",
            "-1",
            "PROXY_FIX_COUNT='-1' is not an integer in [0, 10]: set PROXY_FIX_COUNT to one",
        ),
        (
            "PROXY_FIX_PROTO_COUNT",
            "2",
            "PROXY_FIX_PROTO_COUNT='2' is not an integer in [0, 1]: "
            "set PROXY_FIX_PROTO_COUNT to one",
        ),
    ],
)
def test_bad_settings_name_the_variable(make_app, key, value, message):
    from onedigest_app import ConfigError

    with pytest.raises(ConfigError) as excinfo:
        make_app(**{key: value})
    assert str(excinfo.value) == message
