"""Per-account login throttling (sql/0015_login_throttle.sql), through nginx,
and passwords equal to the email or the name refused at signup.

nginx limits /api/v1/auth/* per client address (10 r/s, burst 20).  These
tests send every guess from its own loopback address (127.77.x.y), one
request each, so nginx's limit never applies: what answers 429 here is the
per-account throttle of finicomd, which many addresses cannot get around.
"""
import concurrent.futures
import http.client
import json
import socket
import time
import urllib.parse

import pytest

import client as fc
from client import assert_error, signup, unique_email

LOGIN = "/api/v1/auth/login"
_URL = urllib.parse.urlsplit(fc.BASE_URL)
HOST, PORT = _URL.hostname, _URL.port or 80
_next = [0]


def need_loopback_sources():
    try:
        ip = socket.gethostbyname(HOST)
    except OSError:
        ip = HOST
    if ip != "127.0.0.1":
        pytest.skip("needs the stack on 127.0.0.1 (clients bind other 127.x addresses), not %s" % ip)


def fresh_sources(n):
    """n loopback addresses no other test (and no earlier call) has used."""
    out = []
    for _ in range(n):
        k = _next[0]
        _next[0] += 1
        out.append("127.77.%d.%d" % (k // 250, k % 250 + 1))
    return out


def login_from(source, email, password):
    """POST /auth/login on a new connection from source: (status, headers, body)."""
    fc.register_secret(password)
    conn = http.client.HTTPConnection(HOST, PORT, timeout=20, source_address=(source, 0))
    try:
        conn.request("POST", LOGIN, body=json.dumps({"email": email, "password": password}),
                     headers={"Content-Type": "application/json", "Connection": "close"})
        r = conn.getresponse()
        body = r.read()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, json.loads(body) if body else None
    finally:
        conn.close()


def guesses(email, n, password="wrong-password-1"):
    """n wrong guesses at once, each from its own address; the replies."""
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        return list(pool.map(lambda s: login_from(s, email, password), fresh_sources(n)))


def assert_throttled(reply):
    status, headers, body = reply
    assert status == 429, reply
    assert body["error"]["code"] == "rate_limited", body
    # finicomd's 429 (nginx's own carries no Retry-After): seconds, at most 5 minutes.
    assert headers.get("retry-after", "").isdigit(), headers
    assert 1 <= int(headers["retry-after"]) <= 300, headers
    return int(headers["retry-after"])


def summary(replies):
    return sorted(r[0] for r in replies)


def test_many_addresses_cannot_bypass_the_per_account_limit():
    need_loopback_sources()
    user = signup()
    t0 = time.monotonic()
    replies = guesses(user.email, 80)
    elapsed = time.monotonic() - t0
    statuses = summary(replies)
    assert set(statuses) == {401, 429}, statuses
    checked = statuses.count(401)
    # 5 guesses, then the throttle (1 s, 2 s, 4 s ...): one more guess per
    # throttle that ended while the 80 requests were sent.
    assert 5 <= checked <= 5 + max(1, int(elapsed).bit_length()), (checked, elapsed, statuses)
    for r in replies:
        if r[0] == 401:
            assert r[2]["error"]["code"] == "invalid_credentials", r
        else:
            assert_throttled(r)

    # While throttled, the right password does not get in either (it is not checked).
    wait = assert_throttled(login_from(fresh_sources(1)[0], user.email, user.password))
    # Nor does another spelling of the email.
    assert_throttled(login_from(fresh_sources(1)[0], user.email.upper(), user.password))

    # Once the throttle is over, the right password works and resets the count.
    time.sleep(wait + 0.2)
    status, _, body = login_from(fresh_sources(1)[0], user.email, user.password)
    assert status == 200, body
    assert body["user"]["email"] == user.email
    assert summary(guesses(user.email, 4)) == [401] * 4, "a successful login resets the count"


def test_unknown_emails_are_throttled_the_same_way():
    """No enumeration: an email without an account answers like one with."""
    need_loopback_sources()
    nobody = unique_email("nobody")
    first = [login_from(s, nobody, "wrong-password-1") for s in fresh_sources(5)]
    assert summary(first) == [401] * 5, first
    assert all(r[2]["error"]["code"] == "invalid_credentials" for r in first)
    assert assert_throttled(login_from(fresh_sources(1)[0], nobody, "wrong-password-1")) == 1
    rest = guesses(nobody, 20)
    assert set(summary(rest)) <= {401, 429}
    assert summary(rest).count(401) <= 2, summary(rest)


def test_throttle_is_per_email():
    need_loopback_sources()
    victim, other = signup(), signup()
    assert 429 in summary(guesses(victim.email, 10))
    status, _, body = login_from(fresh_sources(1)[0], other.email, other.password)
    assert status == 200, body


@pytest.mark.parametrize("same_as", ["email", "EMAIL", "name", "Name"])
def test_signup_refuses_a_password_equal_to_the_email_or_name(same_as):
    email = unique_email("pwsame")
    name = "Pat Longname Example"
    password = {"email": email, "EMAIL": email.upper(), "name": name, "Name": name.lower()}[same_as]
    c = fc.Client()
    r = c.post("/api/v1/auth/signup", {"email": email, "password": password, "name": name})
    assert_error(r, 400, "validation_failed", field="password")
    # Nothing was created: the same email signs up with a proper password.
    signup(email=email, name=name)
