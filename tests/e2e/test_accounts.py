"""API conventions, authentication, accounts and sessions (src/openapi.json; issue 3)."""
import concurrent.futures
import datetime
import os
import sys
import time
import urllib.parse
import uuid

import pytest
import requests

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import client as fc  # noqa: E402
from client import Client, assert_error, psql, psql_run, signup  # noqa: E402

SIGNUP = "/api/v1/auth/signup"
LOGIN = "/api/v1/auth/login"


def anon():
    return Client()


def signup_body(**over):
    body = {"email": fc.unique_email(), "password": fc.new_password(), "name": "Val Idation"}
    body.update(over)
    return body


def assert_user(user, email=None, name=None, verified=None):
    assert set(user) == {"id", "email", "name", "created_at", "email_verified"}, user
    assert fc.UUID_RE.match(user["id"]), user
    assert isinstance(user["email_verified"], bool), user
    if verified is not None:
        assert user["email_verified"] is verified, user
    fc.parse_ts(user["created_at"])
    if email is not None:
        assert user["email"] == email
    if name is not None:
        assert user["name"] == name


# --------------------------------------------------------------------------
# signup


def test_signup_201_body_and_cookie():
    c = Client()
    email, password = fc.unique_email("signup"), fc.new_password()
    fc.register_secret(password)
    before = datetime.datetime.now(datetime.timezone.utc)
    r = c.post(SIGNUP, {"email": email, "password": password, "name": "Ada Lovelace"})
    assert r.status_code == 201, r.text
    assert r.headers["Content-Type"].startswith("application/json")
    assert r.headers.get("X-Request-Id")
    body = r.json()
    assert set(body) == {"user", "csrf_token"}, body
    assert_user(body["user"], email=email, name="Ada Lovelace", verified=False)
    assert body["user"]["created_at"].endswith("Z")
    created = fc.parse_ts(body["user"]["created_at"])
    assert abs((created - before).total_seconds()) < 60
    assert fc.TOKEN_RE.match(body["csrf_token"]), body["csrf_token"]
    # neither the password nor a hash leaks into the reply
    assert password not in r.text and "argon2" not in r.text

    sc = fc.session_set_cookie(r)
    assert sc is not None, fc.set_cookie_headers(r)
    value, attrs, raw = sc
    assert fc.TOKEN_RE.match(value), "session token is not 43 base64url chars: %r" % raw
    assert attrs.get("httponly") is True, raw
    assert str(attrs.get("samesite", "")).lower() == "lax", raw
    assert attrs.get("path") == "/", raw
    # plain-HTTP dev/test stack: cookie_secure = false, so no Secure flag
    assert "secure" not in attrs, raw
    assert value != body["csrf_token"]


def test_signup_duplicate_email_any_case_409():
    c = signup(email=fc.unique_email("Dup"))
    other = Client()
    r = other.post(SIGNUP, signup_body(email=c.email.upper()))
    err = assert_error(r, 409, "email_taken")
    assert fc.session_set_cookie(r) is None
    r2 = other.post(SIGNUP, signup_body(email=c.email))
    assert_error(r2, 409, "email_taken")
    # the original account is untouched
    assert Client().login(c.email, c.password).status_code == 200
    assert "field" not in err, "the API contract: field only for validation errors: %s" % r.text


@pytest.mark.parametrize("body, field", [
    ({"password": "password-ok", "name": "N"}, "email"),
    ({"email": "x@example.com", "name": "N"}, "password"),
    ({"email": "x@example.com", "password": "password-ok"}, "name"),
    ({"email": "x@example.com", "password": "password-ok", "name": "N", "role": "admin"}, "role"),
    ({"email": 123, "password": "password-ok", "name": "N"}, "email"),
    ({"email": "x@example.com", "password": 12345678, "name": "N"}, "password"),
    ({"email": "x@example.com", "password": "password-ok", "name": ["N"]}, "name"),
    ({"email": "no-at.example.com", "password": "password-ok", "name": "N"}, "email"),
    ({"email": "two@@example.com", "password": "password-ok", "name": "N"}, "email"),
    ({"email": "a@localhost", "password": "password-ok", "name": "N"}, "email"),
    ({"email": "a" * 243 + "@example.com", "password": "password-ok", "name": "N"}, "email"),
    ({"email": "x@example.com", "password": "1234567", "name": "N"}, "password"),
    ({"email": "x@example.com", "password": "p" * 1025, "name": "N"}, "password"),
    ({"email": "x@example.com", "password": "password-ok", "name": ""}, "name"),
    ({"email": "x@example.com", "password": "password-ok", "name": "n" * 201}, "name"),
    ({"email": "x@example.com", "password": "password-ok", "name": "   "}, "name"),
])
def test_signup_validation_400(body, field):
    # cheap: validation happens before any hashing; a unique address so a
    # wrongly accepted body cannot collide with another test
    if isinstance(body.get("email"), str) and body["email"] == "x@example.com":
        body = dict(body, email=fc.unique_email("val"))
    r = Client().post(SIGNUP, body)
    assert_error(r, 400, "validation_failed", field=field)
    assert fc.session_set_cookie(r) is None


def test_signup_boundaries_accepted():
    # email of exactly 254 bytes, password of 8 bytes made of 4 two-byte
    # characters (bytes, not characters, count), name of 200 characters
    # (the domain in labels of at most 63 bytes, as the email rule wants)
    local = "b" + uuid.uuid4().hex
    rest, labels = 254 - len(local) - 1 - len("example"), []  # each label with its dot
    while rest > 0:
        labels.append("d" * min(63, rest - 1))
        rest -= len(labels[-1]) + 1
    email = local + "@" + ".".join(labels) + ".example"
    assert len(email.encode()) == 254
    c = signup(email=email, name="é" * 200, password="éééé")
    assert c.user["email"] == email and c.user["name"] == "é" * 200
    # 1024-byte password
    c2 = signup(password="q" * 1024)
    r = Client().login(c2.email, "q" * 1024)
    assert r.status_code == 200, r.text


def test_conventions_bad_json_and_media_type():
    r = Client().post(SIGNUP, data="{not json", headers={"Content-Type": "application/json"})
    assert_error(r, 400, "invalid_json")
    r = Client().post(SIGNUP, json=["a", "list"])
    assert_error(r, 400, "invalid_json")
    r = Client().post(SIGNUP, data='{"email":"a@b.cd","password":"password1","name":"x"}',
                      headers={"Content-Type": "text/plain"})
    assert_error(r, 415, "unsupported_media_type")


# --------------------------------------------------------------------------
# login


def test_login_200_new_session_each_time_case_insensitive():
    c = signup(email=fc.unique_email("Login"))
    first = c.token
    a, b = Client(), Client()
    ra = a.login(c.email.upper(), c.password)
    assert ra.status_code == 200, ra.text
    body = ra.json()
    assert set(body) == {"user", "csrf_token"}, body
    assert body["user"] == c.user
    rb = b.login(c.email, c.password)
    assert rb.status_code == 200, rb.text
    for r in (ra, rb):
        value, attrs, raw = fc.session_set_cookie(r)
        assert fc.TOKEN_RE.match(value)
        assert attrs.get("httponly") is True and attrs.get("path") == "/", raw
        assert str(attrs.get("samesite")).lower() == "lax" and "secure" not in attrs, raw
    assert len({first, a.token, b.token}) == 3, "a new session id at every login"
    assert len({c.csrf, a.csrf, b.csrf}) == 3, "one CSRF token per session"
    # sessions from logins without a cookie coexist
    for cl in (c, a, b):
        r = cl.me()
        assert r.status_code == 200, r.text
        assert r.json()["csrf_token"] == cl.csrf


def test_login_failures_identical_401():
    c = signup()
    wrong = Client().login(c.email, c.password + "x")
    unknown = Client().login(fc.unique_email("nobody"), c.password + "x")
    for r in (wrong, unknown):
        err = assert_error(r, 401, "invalid_credentials")
        assert "field" not in err
        assert fc.session_set_cookie(r) is None
    assert wrong.content == unknown.content, (wrong.content, unknown.content)
    assert wrong.headers.get("Content-Type") == unknown.headers.get("Content-Type")


def test_login_validation_400():
    assert_error(Client().post(LOGIN, {"email": "a@b.example"}), 400, "validation_failed",
                 field="password")
    assert_error(Client().post(LOGIN, {"password": "password-1"}), 400, "validation_failed",
                 field="email")
    assert_error(Client().post(LOGIN, {"email": "a@b.example", "password": "password-1",
                                       "remember": True}), 400, "validation_failed",
                 field="remember")


def test_login_with_old_cookie_ends_old_session():
    c = signup()
    old_token, old_csrf = c.token, c.csrf
    r = c.login()  # sends the old cookie along
    assert r.status_code == 200, r.text
    assert c.token and c.token != old_token
    r = c.me(cookie=old_token)
    assert_error(r, 401, "unauthenticated")
    r = c.me()
    assert r.status_code == 200, r.text
    assert r.json()["csrf_token"] == c.csrf != old_csrf


# --------------------------------------------------------------------------
# /me


def test_me_200_shape_and_same_csrf():
    c = signup(name="Me Myself")
    signup_csrf = c.csrf
    r = c.me()
    assert r.status_code == 200, r.text
    assert r.headers.get("X-Request-Id")
    body = r.json()
    assert set(body) == {"user", "csrf_token", "memberships"}, body
    assert body["user"] == c.user
    assert body["user"]["totp_enabled"] is False  # GET /me only (docs/two-factor.md)
    assert_user({k: v for k, v in body["user"].items() if k != "totp_enabled"},
                email=c.email, name="Me Myself", verified=True)
    assert body["csrf_token"] == signup_csrf
    assert body["memberships"] == []


def test_me_memberships_listed():
    c = signup()
    org = fc.create_org(c, "Mine")
    r = c.me()
    assert r.status_code == 200
    ms = r.json()["memberships"]
    assert len(ms) == 1, ms
    assert set(ms[0]) == {"org", "role", "joined_at"}, ms
    assert ms[0]["org"] == {"id": org["id"], "name": "Mine"}
    assert ms[0]["role"] == "admin"
    fc.parse_ts(ms[0]["joined_at"])


def test_me_without_or_with_bad_cookie_401():
    assert_error(Client().me(), 401, "unauthenticated")
    assert_error(Client().me(cookie="garbage!"), 401, "unauthenticated")
    # well formed (43 base64url chars) but unknown
    assert_error(Client().me(cookie="A" * 43), 401, "unauthenticated")


def test_cookie_and_bearer_together_401():
    c = signup()
    r = c.me(headers={"Authorization": "Bearer fcm_" + "A" * 43})
    assert_error(r, 401, "unauthenticated")
    # the session itself is fine
    assert c.me().status_code == 200


# --------------------------------------------------------------------------
# logout and CSRF


def test_logout_csrf_and_cookie_cleared():
    c = signup()
    token = c.token
    r = c.logout(csrf=False)
    assert_error(r, 403, "csrf_failed")
    r = c.logout(csrf="A" * 43)
    assert_error(r, 403, "csrf_failed")
    r = c.logout(csrf="")
    assert_error(r, 403, "csrf_failed")
    assert c.me().status_code == 200, "a refused logout must keep the session"
    r = c.logout()
    assert r.status_code == 204, r.text
    assert r.content == b""
    sc = fc.session_set_cookie(r)
    assert sc is not None, "logout must clear the cookie"
    value, attrs, raw = sc
    assert value == "", raw
    expired = attrs.get("max-age") == "0"
    if not expired and "expires" in attrs:
        import email.utils
        expired = email.utils.parsedate_to_datetime(attrs["expires"]) < \
            datetime.datetime.now(datetime.timezone.utc)
    assert expired, raw
    assert attrs.get("path") == "/", raw
    r = Client().me(cookie=token)
    assert_error(r, 401, "unauthenticated")
    assert psql("SELECT count(*) FROM finicom.sessions WHERE user_id = $1", c.id) == "0"


def test_csrf_of_another_session_refused():
    a, b = signup(), signup()
    r = a.logout(csrf=b.csrf)
    assert_error(r, 403, "csrf_failed")
    r = a.post("/api/v1/orgs", {"name": "x"}, csrf=False)
    assert_error(r, 403, "csrf_failed")


# --------------------------------------------------------------------------
# expiry


def test_idle_expiry_401():
    c = signup()
    assert c.me().status_code == 200
    psql("UPDATE finicom.sessions SET last_seen_at = now() - interval '13 hours' "
         "WHERE user_id = $1", c.id)
    assert_error(c.me(), 401, "unauthenticated")


def test_idle_recent_activity_keeps_session():
    c = signup()
    psql("UPDATE finicom.sessions SET last_seen_at = now() - interval '5 minutes' "
         "WHERE user_id = $1", c.id)
    assert c.me().status_code == 200
    # and the request refreshed last_seen_at (written at most once a minute)
    age = psql("SELECT extract(epoch FROM now() - last_seen_at)::int FROM finicom.sessions "
               "WHERE user_id = $1", c.id)
    assert int(age) < 60, age


def test_absolute_expiry_401():
    c = signup()
    assert c.me().status_code == 200
    psql("UPDATE finicom.sessions SET expires_at = now() - interval '1 second' "
         "WHERE user_id = $1", c.id)
    assert_error(c.me(), 401, "unauthenticated")


def test_session_absolute_lifetime_is_7_days():
    c = signup()
    secs = psql("SELECT extract(epoch FROM expires_at - created_at)::int FROM finicom.sessions "
                "WHERE user_id = $1", c.id)
    assert abs(int(secs) - 7 * 86400) <= 5, secs
    value, attrs, raw = fc.session_set_cookie(c.last)
    # Max-Age, when sent, matches the absolute lifetime
    if attrs.get("max-age"):
        assert abs(int(attrs["max-age"]) - 7 * 86400) <= 5, raw


# --------------------------------------------------------------------------
# secrets at rest


def test_session_token_stored_only_as_sha256():
    c = signup()
    rows = psql("SELECT encode(token_hash, 'hex') FROM finicom.sessions WHERE user_id = $1",
                c.id).split()
    assert rows == [fc.sha256_hex(c.token)], rows
    # the raw token (or CSRF token) appears in no column of the row
    row = psql("SELECT s::text FROM finicom.sessions s WHERE user_id = $1", c.id)
    assert c.token not in row and c.csrf not in row
    raw_hex = c.token.encode().hex()
    assert raw_hex not in row


def test_password_hash_argon2id_owasp():
    c = signup()
    h = psql("SELECT password_hash FROM finicom.users WHERE id = $1", c.id)
    assert h.startswith("$argon2id$v=19$m=19456,t=2,p=1$"), h
    assert c.password not in h
    assert len(h.split("$")) == 6, h


def test_app_role_cannot_read_sessions_or_hashes():
    c = signup()
    p = psql_run("SELECT * FROM finicom.sessions", user="finicom_app")
    assert p.returncode != 0 and "permission denied" in p.stderr, (p.returncode, p.stderr)
    p = psql_run("SELECT password_hash FROM finicom.users", user="finicom_app")
    assert p.returncode != 0 and "permission denied" in p.stderr, (p.returncode, p.stderr)
    p = psql_run("SELECT * FROM finicom.users WHERE id = $1", c.id, user="finicom_app")
    assert p.returncode != 0 and "permission denied" in p.stderr, (p.returncode, p.stderr)
    # positive control: the role connects and may read what it is granted
    # (no context: row-level security shows no user)
    assert psql("SELECT count(*) FROM finicom.users", user="finicom_app") == "0"


# --------------------------------------------------------------------------
# logs: must run after the tests above (pytest keeps file order)


def _log_files():
    out = []
    for root, _dirs, files in os.walk(fc.LOGDIR):
        for f in files:
            p = os.path.join(root, f)
            if os.path.isfile(p) and not os.path.islink(p):
                out.append(p)
    return out


def test_logs_hold_no_passwords_or_tokens():
    secrets = [s for s in fc.SECRETS if s and len(s) >= 8]
    assert len(secrets) >= 10, "the tests above should have registered secrets"
    logs = [p for p in _log_files() if p.endswith(".log")]
    assert logs, "no *.log file in FINICOM_LOGDIR=%s" % fc.LOGDIR
    # the right logs: the worker logged the requests of this module (allow
    # a moment for the last lines to be written)
    deadline = time.time() + 3
    while True:
        blobs = {}
        for p in _log_files():
            try:
                with open(p, "rb") as f:
                    blobs[p] = f.read()
            except OSError:
                continue
        alltext = b"\n".join(blobs.values())
        if any(rid.encode() in alltext for rid in fc.REQUEST_IDS[-50:]) or time.time() > deadline:
            break
        time.sleep(0.2)
    assert any(rid.encode() in alltext for rid in fc.REQUEST_IDS), \
        "no request id of this run in %s: wrong FINICOM_LOGDIR?" % fc.LOGDIR
    found = []
    for p, data in blobs.items():
        for s in secrets:
            forms = {s.encode(), urllib.parse.quote(s, safe="").encode()}
            if any(f in data for f in forms):
                found.append((p, s[:6] + "..."))
    assert not found, "secrets in logs: %r" % found


# --------------------------------------------------------------------------
# rate limit: keep LAST in this file


def test_zz_auth_rate_limited_429():
    port = urllib.parse.urlsplit(fc.BASE_URL).port
    if port == 28080:
        pytest.skip("scratch stack on :28080 has no rate limits")
    url = fc.BASE_URL + LOGIN
    hdr = {"Content-Type": "application/json"}

    def hit(_):
        r = requests.post(url, data="{bad json", headers=hdr, timeout=15)
        return r.status_code, r.headers.get("Content-Type", ""), r.text, \
            r.headers.get("X-Request-Id")

    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=60) as ex:
            results = list(ex.map(hit, range(60)))
        statuses = [s for s, _, _, _ in results]
        assert set(statuses) <= {400, 429}, statuses
        limited = [(ct, t, rid) for s, ct, t, rid in results if s == 429]
        assert limited, "no 429 among 60 concurrent logins: %r" % statuses
        import json
        for ct, text, rid in limited:
            assert rid, "every response carries X-Request-Id, 429 too"
            body = json.loads(text)
            assert body["error"]["code"] == "rate_limited", text
            assert isinstance(body["error"].get("message"), str)
            assert ct.startswith("application/json"), ct
        # the ones let through were answered by the worker
        for s, _, text, _ in results:
            if s == 400:
                assert json.loads(text)["error"]["code"] == "invalid_json", text
    finally:
        fc.PACER.rest()
        time.sleep(3)
