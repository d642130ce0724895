"""The request layer through nginx: health, errors in the API's shape,
request ids, body limits and JSON parsing (the API's conventions, src/openapi.json)."""
import os
import re
import time

import pytest

import client
from conftest import error_code

REQUEST_ID = re.compile(r"^[0-9a-f]{32}$")
SECURITY_HEADERS = {
    "Content-Security-Policy": "frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
LOGIN = "/api/v1/auth/login"
JSON = {"Content-Type": "application/json"}


def test_healthz_ok(http, base_url):
    r = http.get(base_url + "/healthz", timeout=5)
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("application/json")
    assert r.json() == {"status": "ok"}
    assert REQUEST_ID.match(r.headers.get("X-Request-Id", "")), r.headers


def test_request_id_differs_per_request(http, base_url):
    ids = {http.get(base_url + "/healthz", timeout=5).headers["X-Request-Id"] for _ in range(5)}
    assert len(ids) == 5


def test_client_request_id_is_ignored(http, base_url):
    sent = "client-chosen-id-0123456789"
    r = http.get(base_url + "/healthz", headers={"X-Request-Id": sent}, timeout=5)
    assert r.status_code == 200
    got = r.headers.get("X-Request-Id", "")
    assert got != sent and sent not in got
    assert REQUEST_ID.match(got), got


def test_unknown_api_path_is_404(http, base_url):
    r = http.get(base_url + "/api/v1/nope", timeout=5)
    assert r.status_code == 404
    assert r.headers["Content-Type"].startswith("application/json")
    assert error_code(r) == "not_found"
    assert REQUEST_ID.match(r.headers.get("X-Request-Id", ""))


def test_wrong_method_is_405_with_allow(http, base_url):
    r = http.post(base_url + "/healthz", timeout=5)
    assert r.status_code == 405
    allowed = [m.strip() for m in r.headers.get("Allow", "").split(",")]
    assert "GET" in allowed, r.headers
    assert "POST" not in allowed
    assert error_code(r) == "method_not_allowed"


def test_healthz_success_has_no_worker_log_line_but_others_do(http, base_url):
    """Load balancers poll /healthz all the time: a 200 gets no line in
    finicomd's log (nginx's access log has it); a 404 next to it does."""
    log = os.path.join(client.LOGDIR, "finicomd.log")
    start = os.path.getsize(log)
    quiet = [http.get(base_url + "/healthz", timeout=5) for _ in range(3)]
    assert all(r.status_code == 200 for r in quiet)
    loud = http.get(base_url + "/api/v1/nope", timeout=5)
    assert loud.status_code == 404
    wanted = "request_id=" + loud.headers["X-Request-Id"]

    def tail():
        with open(log, "rb") as f:
            f.seek(start)
            return f.read().decode("utf-8", "replace")
    deadline = time.monotonic() + 5
    while wanted not in tail() and time.monotonic() < deadline:
        time.sleep(0.05)
    text = tail()
    assert wanted in text, "the 404 was not logged: %r" % text[-500:]
    for r in quiet:
        assert r.headers["X-Request-Id"] not in text, text[-500:]


def test_unread_body_still_gets_its_reply(http, base_url):
    """A request whose body the worker never reads (405 is decided on the
    route) ends with libfcgi's lingering close, not the plain one: the reply
    arrives whole every time, never a 502."""
    body = b"x" * 60000
    for _ in range(20):
        r = http.post(base_url + "/healthz", data=body, headers={"Content-Type": "text/plain"}, timeout=5)
        assert r.status_code == 405, r.text
        assert error_code(r) == "method_not_allowed"


def test_openapi_document(http, base_url):
    r = http.get(base_url + "/api/v1/openapi.json", timeout=5)
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("application/json")
    doc = r.json()
    assert doc["openapi"].startswith("3.1")
    assert "/healthz" in doc["paths"] or "/api/v1/auth/login" in doc["paths"]


def test_body_over_64k_is_413(http, base_url):
    r = http.post(base_url + LOGIN, data=b"{" + b" " * 69998 + b"}", headers=JSON, timeout=10)
    assert r.status_code == 413
    assert r.headers["Content-Type"].startswith("application/json")
    assert error_code(r) == "payload_too_large"
    assert REQUEST_ID.match(r.headers.get("X-Request-Id", ""))


def test_body_just_under_64k_is_not_413(http, base_url):
    body = b'{"email": "a@example.com", "password": "' + b"x" * 65000 + b'"}'
    assert len(body) < 65536
    r = http.post(base_url + LOGIN, data=body, headers=JSON, timeout=10)
    assert r.status_code != 413
    assert r.status_code < 500


def test_non_json_content_type_is_415(http, base_url):
    r = http.post(base_url + LOGIN, data="email=a@example.com", headers={"Content-Type": "text/plain"},
                  timeout=5)
    assert r.status_code == 415
    assert error_code(r) == "unsupported_media_type"


@pytest.mark.parametrize("name, body", [
    ("truncated", b'{"a":'),
    ("nested-41-deep", b'{"a":' * 40 + b"1" + b"}" * 40),
    ("array-40-deep", b"[" * 40 + b"]" * 40),
    ("array", b'["email", "password"]'),
    ("scalar", b"42"),
    ("invalid-utf8", b'{"email": "a\xff\xfeb@example.com", "password": "secret-password"}'),
    ("trailing-garbage", b'{"email": "a@example.com"} x'),
    ("empty", b""),
])
def test_bad_json_is_400(http, base_url, name, body):
    r = http.post(base_url + LOGIN, data=body, headers=JSON, timeout=5)
    assert r.status_code == 400, (name, r.status_code, r.text)
    assert error_code(r) == "invalid_json"


@pytest.mark.parametrize("path", ["/", "/healthz", "/api/v1/nope", "/invite/sometoken"])
def test_security_headers(http, base_url, path):
    r = http.get(base_url + path, timeout=5)
    for name, part in SECURITY_HEADERS.items():
        assert part in r.headers.get(name, ""), (path, name, r.headers)
    assert "default-src 'self'" in r.headers["Content-Security-Policy"]


def test_dashboard_and_spa_routes(http, base_url):
    index = http.get(base_url + "/", timeout=5)
    assert index.status_code == 200
    assert index.headers["Content-Type"].startswith("text/html")
    invite = http.get(base_url + "/invite/abc123", timeout=5)
    assert invite.status_code == 200
    assert invite.text == index.text


def test_nginx_bench_location(http, base_url):
    r = http.get(base_url + "/bench/nginx-200", timeout=5)
    assert r.status_code == 200
    assert r.text.strip() == "ok"


def test_login_rate_limited_with_json_429(base_url):
    """nginx's own 429 on the auth endpoints carries the API's error shape."""
    import requests

    statuses = []
    try:
        with requests.Session() as s:
            for _ in range(60):
                r = s.post(base_url + LOGIN, data=b"[]", headers=JSON, timeout=5)
                statuses.append(r.status_code)
                if r.status_code == 429:
                    break
    finally:
        time.sleep(2.5)  # let the limiter drain (burst 20 at 10/s) for later tests
    assert statuses[-1] == 429, statuses
    assert r.headers["Content-Type"].startswith("application/json")
    assert error_code(r) == "rate_limited"
    assert REQUEST_ID.match(r.headers.get("X-Request-Id", ""))
