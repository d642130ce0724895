"""Two-factor authentication (TOTP, RFC 6238), through nginx, with codes
from oathtool (totp_util.py): enrolment, confirmation, the two-step login,
replay, clock skew, the login token's life, recovery codes, disabling, the
rate limits, the audit events, and no code, secret or token in the logs.
"""
import time
import urllib.parse

import pytest

import client as fc
import totp_util as tu
from client import assert_error, signup
from totp_util import oathtool

ME_TOTP = "/api/v1/me/totp"


def test_enrol_returns_a_160_bit_base32_secret_and_its_uri():
    c = signup()
    body = tu.enrol(c)
    assert set(body) == {"secret", "otpauth_uri"}
    s = body["secret"]
    assert len(s) == 32 and set(s) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"), s  # 160 bits
    uri = body["otpauth_uri"]
    assert uri.startswith("otpauth://totp/"), uri
    for part in ("secret=" + s, "algorithm=SHA1", "digits=6", "period=30", "issuer=Finicom"):
        assert part in uri, (part, uri)
    # not active yet: me says off, login needs no second step
    assert c.me().json()["user"]["totp_enabled"] is False
    _, r = tu.login_step1(c.email, c.password)
    assert r.status_code == 200 and "totp_required" not in r.json(), r.text
    # a new enrolment replaces the pending one: the old secret's code no longer confirms
    s2 = tu.enrol(c)["secret"]
    assert s2 != s
    r = tu.confirm(c, s)
    assert_error(r, 400, "validation_failed", "code")
    assert tu.confirm(c, s2).status_code == 200


def test_confirm_wrong_code_400_then_right_code_enables():
    c = signup()
    s = tu.enrol(c)["secret"]
    tu.steady()
    good = oathtool(s)
    wrong = "%06d" % ((int(good) + 1) % 1000000)
    r = c.post(ME_TOTP + "/confirm", {"code": wrong})
    tu.sent(c, wrong)
    assert_error(r, 400, "validation_failed", "code")
    assert c.me().json()["user"]["totp_enabled"] is False
    for bad in ({"code": "12345"}, {"code": 123456}, {}, {"code": "abcdefg"}, {"code": "1" * 65}):
        assert_error(c.post(ME_TOTP + "/confirm", bad), 400, "validation_failed")
    r = c.post(ME_TOTP + "/confirm", {"code": good})
    tu.sent(c, good)
    assert r.status_code == 200, r.text
    codes = r.json()["recovery_codes"]
    assert len(codes) == 10 and len(set(codes)) == 10, codes
    for k in codes:
        tu.keep(k)
    assert c.me().json()["user"]["totp_enabled"] is True
    # on: enrolling again and confirming again are 409
    assert_error(c.post(ME_TOTP), 409, "conflict")
    assert_error(c.post(ME_TOTP + "/confirm", {"code": oathtool(s, 1)}), 409, "conflict")
    # the recovery codes are stored hashed, never in clear
    stored = fc.psql("SELECT string_agg(encode(code_hash, 'hex'), ',') FROM finicom.totp_recovery_codes"
                     " WHERE user_id = $1", c.id)
    assert len(stored.split(",")) == 10
    norm = codes[0].replace("-", "")
    assert fc.sha256_hex(norm) in stored.split(",")
    assert codes[0] not in stored and norm not in stored


def test_an_unverified_address_cannot_enrol():
    c = signup(verify=False)
    assert_error(c.post(ME_TOTP), 403, "email_unverified")
    assert fc.psql("SELECT count(*) FROM finicom.totp_credentials WHERE user_id = $1", c.id) == "0"
    fc.verify_email(c)
    assert tu.enrol(c)["secret"]


def test_confirm_needs_an_enrolment_and_a_session():
    c = signup()
    assert_error(c.post(ME_TOTP + "/confirm", {"code": "123456"}), 409, "conflict")
    assert_error(c.delete(ME_TOTP, json={"code": "123456"}), 409, "conflict")
    anon = fc.Client()
    assert_error(anon.post(ME_TOTP), 401, "unauthenticated")
    assert_error(c.post(ME_TOTP, csrf=False), 403, "csrf_failed")


def test_secret_is_encrypted_at_rest_and_hidden_from_the_workers_role():
    c = signup()
    s = tu.enrol(c)["secret"]
    stored = fc.psql("SELECT secret_enc FROM finicom.totp_credentials WHERE user_id = $1", c.id)
    assert stored.startswith("enc:v1:"), stored
    assert s not in stored and s.lower() not in stored
    # finicom_app (the workers) may not read the column at all
    p = fc.psql_run("SELECT secret_enc FROM finicom.totp_credentials", user="finicom_app")
    assert p.returncode != 0 and "permission denied" in p.stderr, (p.returncode, p.stderr)
    # the ciphertext is bound to its user: copied to another account it does not decrypt
    d = signup()
    sd = tu.enrol(d)["secret"]
    fc.psql("UPDATE finicom.totp_credentials SET secret_enc = "
            "(SELECT secret_enc FROM finicom.totp_credentials WHERE user_id = $1) WHERE user_id = $2",
            c.id, d.id)
    r = tu.confirm(d, s)
    assert r.status_code == 500 and tu.confirm(d, sd).status_code == 500, r.text
    # a secret no key decrypts would stop a later finicomctl rotate-key on this stack
    fc.psql("DELETE FROM finicom.totp_credentials WHERE user_id = $1", d.id)


def test_two_step_login_replay_and_skew():
    c = signup()
    s, _ = tu.enable(c)
    c2, r = tu.login_step1(c.email, c.password)
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"totp_required", "login_token"} and body["totp_required"] is True
    assert fc.TOKEN_RE.match(body["login_token"]), body
    assert fc.session_set_cookie(r) is None, "no session before the second step"
    tok = body["login_token"]
    tu.steady()
    # ±2 steps: refused
    for off in (2, -2):
        assert_error(tu.login_totp(c2, tok, oathtool(s, off)), 401, "invalid_credentials")
    # +1 step (clock skew): accepted
    code = oathtool(s, 1)
    r = tu.login_totp(c2, tok, code)
    assert r.status_code == 200, r.text
    assert c2.token and c2.me().json()["user"]["id"] == c.id
    assert r.json()["user"]["id"] == c.id and fc.TOKEN_RE.match(r.json()["csrf_token"])
    # the login token is spent
    assert_error(tu.login_totp(fc.Client(), tok, oathtool(s, 1)), 401, "invalid_credentials")
    # the same code again, on a new login: refused (accepted once)
    c3, r = tu.login_step1(c.email, c.password)
    tok3 = r.json()["login_token"]
    assert_error(tu.login_totp(c3, tok3, code), 401, "invalid_credentials")
    assert c3.token is None


def test_minus_one_step_accepted():
    # confirm at -1 step (the same check the login makes) sets the last step to now-1
    c = signup()
    s = tu.enrol(c)["secret"]
    r = tu.confirm(c, s, offset_steps=-1)
    assert r.status_code == 200, r.text
    # then now (newer than now-1) signs in
    c2, r = tu.login_step1(c.email, c.password)
    tu.steady()
    assert tu.login_totp(c2, r.json()["login_token"], oathtool(s, 0)).status_code == 200


def test_login_token_expires_after_5_minutes():
    c = signup()
    s, _ = tu.enable(c)
    c2, r = tu.login_step1(c.email, c.password)
    tok = r.json()["login_token"]
    h = fc.sha256_hex(tok)
    left = float(fc.psql("SELECT extract(epoch FROM expires_at - now()) FROM finicom.totp_login_tokens"
                         " WHERE token_hash = decode($1, 'hex')", h))
    assert 290 < left <= 300, left
    assert tok not in fc.psql("SELECT string_agg(encode(token_hash, 'escape'), ',') FROM finicom.totp_login_tokens")
    fc.psql("UPDATE finicom.totp_login_tokens SET expires_at = now() - interval '1 second'"
            " WHERE token_hash = decode($1, 'hex')", h)
    tu.steady()
    assert_error(tu.login_totp(c2, tok, oathtool(s, 1)), 401, "invalid_credentials")
    # the code was not spent by the expired token: a fresh login takes it
    c3 = tu.two_step_login(c.email, c.password, s, 1)
    assert c3.me().status_code == 200


def test_wrong_login_token_and_bad_bodies():
    c = signup()
    s, _ = tu.enable(c)
    anon = fc.Client()
    tu.steady()
    for tok in ("x", "A" * 43, ""):
        assert_error(tu.login_totp(anon, tok, oathtool(s, 1)), 401, "invalid_credentials")
    for bad in ({}, {"login_token": "A" * 43}, {"code": "123456"}, {"login_token": 5, "code": "123456"},
                {"login_token": "A" * 43, "code": "12"}, {"login_token": "A" * 43, "code": "123456", "x": 1}):
        assert_error(anon.post("/api/v1/auth/login/totp", bad), 400, "validation_failed")


def test_recovery_code_signs_in_once():
    c = signup()
    s, codes = tu.enable(c)
    c2, r = tu.login_step1(c.email, c.password)
    r = tu.login_totp(c2, r.json()["login_token"], codes[3].upper())  # any case, dashes or not
    assert r.status_code == 200, r.text
    c3, r = tu.login_step1(c.email, c.password)
    assert_error(tu.login_totp(c3, r.json()["login_token"], codes[3]), 401, "invalid_credentials")
    r = tu.login_totp(c3, r.json()["login_token"], codes[4].replace("-", ""))
    assert r.status_code == 200, r.text
    used = fc.psql("SELECT count(*) FROM finicom.totp_recovery_codes WHERE user_id = $1 AND used_at IS NOT NULL",
                   c.id)
    assert used == "2"


def test_login_ends_the_session_the_client_came_with():
    c = signup()
    s, _ = tu.enable(c)
    old = c.token
    r = c.login()
    tok = r.json()["login_token"]
    tu.keep(tok)
    # step one keeps the old session; the second step ends it
    assert c.me().status_code == 200
    tu.steady()
    r = tu.login_totp(c, tok, oathtool(s, 1))
    assert r.status_code == 200
    assert c.token != old
    assert fc.Client().me(cookie=old).status_code == 401


def test_disable_with_totp_code_or_recovery_code():
    c = signup()
    s, codes = tu.enable(c)
    tu.steady()
    wrong = "%06d" % ((int(oathtool(s, 1)) + 7) % 1000000)
    r = c.delete(ME_TOTP, json={"code": wrong})
    tu.sent(c, wrong)
    assert_error(r, 400, "validation_failed", "code")
    assert c.me().json()["user"]["totp_enabled"] is True
    code = oathtool(s, 1)
    r = c.delete(ME_TOTP, json={"code": code})
    tu.sent(c, code)
    assert r.status_code == 204, r.text
    assert c.me().json()["user"]["totp_enabled"] is False
    _, r = tu.login_step1(c.email, c.password)
    assert "totp_required" not in r.json()
    assert fc.psql("SELECT count(*) FROM finicom.totp_recovery_codes WHERE user_id = $1", c.id) == "0"
    # with a recovery code
    s, codes = tu.enable(c)
    r = c.delete(ME_TOTP, json={"code": codes[0]})
    assert r.status_code == 204, r.text
    assert c.me().json()["user"]["totp_enabled"] is False


def test_wrong_codes_are_rate_limited_per_login_token_and_per_account():
    c = signup()
    s, _ = tu.enable(c)
    tu.steady(10)
    good = oathtool(s, 1)
    wrong = lambda i: "%06d" % ((int(good) + 11 + i) % 1000000)  # noqa: E731
    # per login token: the 5th wrong code spends it
    c2, r = tu.login_step1(c.email, c.password)
    tok = r.json()["login_token"]
    for i in range(4):
        assert_error(tu.login_totp(c2, tok, wrong(i)), 401, "invalid_credentials")
    # per account: five wrong codes in a run throttle the account (429 with Retry-After)
    r = tu.login_totp(c2, tok, wrong(4))
    assert_error(r, 401, "invalid_credentials")
    r = tu.login_totp(c2, tok, good)
    assert r.status_code in (401, 429), r.text  # the token is spent, or the account throttled first
    c3, r = tu.login_step1(c.email, c.password)
    r = tu.login_totp(c3, r.json()["login_token"], good)
    assert_error(r, 429, "rate_limited")
    assert 1 <= int(r.headers["Retry-After"]) <= 300
    # the right code is not even checked while throttled; after the lock it signs in
    time.sleep(int(r.headers["Retry-After"]) + 0.5)
    tu.steady()
    c4 = tu.two_step_login(c.email, c.password, s, 1)
    assert c4.me().status_code == 200


def test_audit_events_of_two_factor():
    c = signup()
    s, codes = tu.enable(c)
    c2, r = tu.login_step1(c.email, c.password)
    tok = r.json()["login_token"]
    tu.steady()
    wrong = "%06d" % ((int(oathtool(s, 1)) + 3) % 1000000)
    tu.login_totp(c2, tok, wrong)
    assert tu.login_totp(c2, tok, codes[0]).status_code == 200
    assert c2.delete(ME_TOTP, json={"code": codes[1]}).status_code == 204
    got = fc.psql("SELECT string_agg(event, ',' ORDER BY at, event) FROM audit.auth_events WHERE user_id = $1"
                  " AND event LIKE '%totp%' OR (user_id = $1 AND event LIKE 'totp.%')", c.id).split(",")
    for e in ("totp.enrolled", "totp.enabled", "login.totp_required", "login.totp_failed",
              "totp.recovery_code_used", "login.totp_succeeded", "totp.disabled"):
        assert e in got, (e, got)
    assert got.count("totp.recovery_code_used") == 2


def test_api_keys_cannot_use_the_two_factor_routes():
    c = signup()
    org = fc.create_org(c)
    r = c.post("/api/v1/orgs/%s/api-keys" % org["id"], {"name": "k", "role": "admin"})
    assert r.status_code == 201, r.text
    key = r.json()["token"]
    fc.register_secret(key)
    h = {"Authorization": "Bearer " + key}
    for method, path in (("POST", ME_TOTP), ("POST", ME_TOTP + "/confirm"), ("DELETE", ME_TOTP)):
        r = fc.Client().request(method, path, json={"code": "123456"}, headers=h)
        assert_error(r, 403, "forbidden")


# --------------------------------------------------------------------------
# logs: last in this file


def test_zz_logs_hold_no_codes_secrets_or_login_tokens():
    """test_accounts.py's log grep over this module's values: every TOTP
    secret (also in lower case and in its URI), login token and recovery
    code (also without dashes) in no log file of the stack; and each
    six-digit code sent in no log line of the request that sent it (a
    blind grep for six digits would match times and ids)."""
    import test_accounts
    assert len(tu.VALUES) >= 10, "the tests above registered their values"
    blobs, lines = {}, []
    for p in test_accounts._log_files():
        try:
            with open(p, "rb") as f:
                blobs[p] = f.read()
        except OSError:
            continue
        lines += blobs[p].decode("utf-8", "replace").splitlines()
    found = []
    for p, data in blobs.items():
        for v in tu.VALUES:
            forms = {v, v.lower(), v.replace("-", ""), urllib.parse.quote(v, safe="")}
            if any(f.encode() in data for f in forms if len(f) >= 16):
                found.append((p, v[:4] + "..."))
    assert not found, "two-factor values in logs: %r" % found
    assert tu.CODES_SENT, "the tests above sent codes"
    seen = 0
    for rid, code in tu.CODES_SENT:
        mine = [ln for ln in lines if rid in ln]
        seen += bool(mine)
        found += [(rid, code) for ln in mine if code in ln.replace(rid, "")]
    assert seen, "no log line of any request that sent a code: wrong log directory?"
    assert not found, "codes in logs: %r" % found
