from __future__ import annotations

import re


class FakeSocket:
    """The connection's socket as gunicorn puts it in the environ; only its local port matters."""

    def __init__(self, port: int) -> None:
        self.port = port

    def getsockname(self) -> tuple[str, int]:
        return ("0.0.0.0", self.port)


def scrape(client, port: int = 9100):
    """GET /metrics as a scraper on the metrics port (9100 by default)."""
    return client.get("/metrics", environ_overrides={"gunicorn.socket": FakeSocket(port)})


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus text format, 0 if absent."""
    for line in text.splitlines():
        if not line.startswith(name + "{"):
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', line.split("}")[0]))
        if all(found.get(k) == v for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_metrics_is_prometheus_text(client):
    response = scrape(client)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    assert "# TYPE http_requests_total counter" in response.get_data(as_text=True)


def test_request_counter_and_histogram_move_by_route_and_status(client):
    before = scrape(client).get_data(as_text=True)
    for _ in range(3):
        client.get("/healthcheck")
    client.get("/missing")
    after = scrape(client).get_data(as_text=True)
    labels = {"method": "GET", "route": "/healthcheck", "status": "200"}
    assert (
        sample(after, "http_requests_total", **labels)
        - sample(before, "http_requests_total", **labels)
        == 3
    )
    assert sample(after, "http_request_duration_seconds_count", **labels) == 3
    assert sample(after, "http_requests_total", route="<unmatched>", status="404") == 1


def test_build_info_gauge_carries_the_build(client):
    text = scrape(client).get_data(as_text=True)
    assert (
        sample(
            text,
            "app_build_info",
            version="1.2.3",
            revision="0123456789abcdef0123456789abcdef01234567",
            description="test build",
        )
        == 1.0
    )


def test_two_apps_do_not_share_counters(make_app):
    first, second = make_app().test_client(), make_app().test_client()
    first.get("/")
    text = scrape(second).get_data(as_text=True)
    assert sample(text, "http_requests_total", route="/") == 0


def test_metrics_are_not_served_on_the_public_port(client):
    # The app's port, and a server that cannot say which port (the dev server): the plain JSON 404.
    for response in (scrape(client, port=8080), client.get("/metrics")):
        assert response.status_code == 404
        assert response.get_json()["error"]["code"] == 404
        assert "http_requests_total" not in response.get_data(as_text=True)


def test_the_metrics_port_is_configurable(make_app):
    client = make_app(METRICS_PORT="9300").test_client()
    assert scrape(client, port=9300).status_code == 200
    assert scrape(client, port=9100).status_code == 404
