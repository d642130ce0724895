"""Password reset by email (API v1.1 "Accounts"; docs/accounts.md):
POST /api/v1/auth/password-reset, GET and POST /api/v1/auth/password-reset/{token}.

Real mail: the reset link is read from the SMTP sink's Maildir.  The
timing test compares the medians of 30 requests for known addresses and
30 for unknown ones (interleaved, after a warm-up); the log scan runs last.
"""
import datetime
import os
import re
import statistics
import time
import uuid

import pytest
import requests

import account_helpers as ah
import client as fc
from client import Client, psql

RESET = "/api/v1/auth/password-reset"


def account(verify=True):
    """A signed-up account (a Client, signed in) with a password the scans know."""
    return fc.signup(password=ah.new_password(), verify=verify)


def auth_events(user_id, event):
    return int(psql("SELECT count(*) FROM audit.auth_events WHERE user_id = $1 AND event = $2", user_id, event))


def test_request_is_202_with_the_same_body_for_known_and_unknown():
    c = account()
    known = ah.request_reset(c.email)
    unknown = ah.request_reset(fc.unique_email("nobody"))
    assert known.status_code == unknown.status_code == 202, (known.text, unknown.text)
    assert known.content == unknown.content == b"{}"
    drop = {"date", "x-request-id"}
    assert {k.lower(): v for k, v in known.headers.items() if k.lower() not in drop} == \
        {k.lower(): v for k, v in unknown.headers.items() if k.lower() not in drop}
    assert fc.session_set_cookie(known) is None and fc.session_set_cookie(unknown) is None
    token = ah.wait_reset_token(c.email)
    assert fc.TOKEN_RE.match(token)
    subject, body = ah.reset_mails(c.email)[0]
    assert "password" in subject.lower()
    (base, tok), = ah.RESET_LINK_RE.findall(body)
    assert tok == token and base == fc.BASE_URL, "the link is {public_url}/reset/{token} on a line of its own"


def test_request_for_an_unknown_address_sends_no_mail_and_stores_no_token_that_works():
    addr = fc.unique_email("ghost")
    assert ah.request_reset(addr).status_code == 202
    assert psql("SELECT string_agg(status || '|' || (link IS NULL) || '|' || attempts, ',') FROM finicom.mail_outbox "
                "WHERE lower(recipient) = lower($1)", addr) == "canceled|true|0", \
        "the same rows as for a known address, but the mail is canceled from the start, without a link"
    assert psql("SELECT count(*) FROM finicom.password_resets WHERE lower(email) = lower($1) AND user_id IS NULL",
                addr) == "1", "the same work: a row, without a user"
    time.sleep(0.5)
    assert not [m for m in fc._mail_index() if addr.lower() in m[0]], "nothing reached the SMTP sink"
    assert psql("SELECT count(*) FROM audit.auth_events WHERE event = 'password.reset_requested' "
                "AND lower(email) = lower($1) AND user_id IS NULL", addr) == "1"


def worker_durations(request_ids, timeout=5):
    """duration_ms of the worker's log line of each request id (waiting for them)."""
    want = set(request_ids)
    pattern = re.compile(r"request_id=(\S+) .*duration_ms=([0-9.]+)")
    deadline = time.monotonic() + timeout
    while True:
        got = {}
        with open(os.path.join(fc.LOGDIR, "finicomd.log"), errors="replace") as f:
            for line in f:
                m = pattern.search(line)
                if m and m.group(1) in want:
                    got[m.group(1)] = float(m.group(2))
        if len(got) == len(want) or time.monotonic() > deadline:
            assert len(got) == len(want), "%d of %d requests logged" % (len(got), len(want))
            return [got[r] for r in request_ids]
        time.sleep(0.2)


def test_known_and_unknown_addresses_take_the_same_time():
    """Medians of 30 requests each, interleaved (known, unknown, unknown,
    known, ...); the difference stays under 20 %.  Measured by the server
    (the worker's duration_ms of each request, which is where the work of
    the two paths differs) and printed as the client saw it too.  The
    machine is shared, so a round spoiled by someone else's burst is
    measured again, up to five rounds with fresh addresses: a real
    difference fails every round."""
    http = requests.Session()
    http.trust_env = False

    def timed(addr, ids):
        fc.PACER.wait()
        t0 = time.perf_counter()
        r = http.post(fc.BASE_URL + RESET, json={"email": addr}, timeout=fc.TIMEOUT)
        dt = time.perf_counter() - t0
        assert r.status_code == 202 and r.content == b"{}", (r.status_code, r.text)
        ids.append(r.headers["X-Request-Id"])
        fc.REQUEST_IDS.append(ids[-1])
        return dt

    for addr in [fc.unique_email("warm") for _ in range(4)]:
        timed(addr, [])
    rounds = []
    for _ in range(5):
        known = [fc.unique_email("timing") for _ in range(30)]
        for addr in known:
            fc.create_user_sql(addr)
        unknown = [fc.unique_email("timing-none") for _ in range(30)]
        ck, cu, ik, iu = [], [], [], []
        for i in range(30):
            for kind in ((0, 1) if i % 2 else (1, 0)):
                if kind == 0:
                    ck.append(timed(known[i], ik))
                else:
                    cu.append(timed(unknown[i], iu))
        sk, su = statistics.median(worker_durations(ik)), statistics.median(worker_durations(iu))
        rounds.append((sk, su, abs(sk - su) / max(sk, su) * 100,
                       statistics.median(ck) * 1e3, statistics.median(cu) * 1e3))
        # the known ones did get their mail queued (the work was real)
        assert psql("SELECT count(*) FROM finicom.mail_outbox WHERE status <> 'canceled' AND recipient = ANY($1::text[])",
                    "{" + ",".join(known) + "}") == "30"
        if rounds[-1][2] < 20:
            break
    print("reset request medians, server (known ms, unknown ms, %% apart; client known, unknown): %s" %
          "; ".join("%.2f, %.2f, %.1f; %.2f, %.2f" % r for r in rounds))
    assert rounds[-1][2] < 20, "known and unknown addresses differ by 20 %% or more in every round: %r" % rounds


def test_preview_then_reset_signs_in_and_ends_every_other_session():
    c = account()
    other = Client()
    assert other.login(c.email, c.password).status_code == 200
    assert ah.request_reset(c.email).status_code == 202
    token = ah.wait_reset_token(c.email)
    before = datetime.datetime.now(datetime.timezone.utc)

    r = Client().get(RESET + "/" + token)
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"email", "expires_at"} and body["email"] == c.email
    left = fc.parse_ts(body["expires_at"]) - before
    assert datetime.timedelta(minutes=59) < left <= datetime.timedelta(hours=1, seconds=5), left

    # the password rules apply, and a refused password changes nothing
    for bad in ["password1", c.email, "short"]:
        _, r = ah.reset_with(token, bad, refused=True)
        assert r.status_code == 400 and r.json()["error"]["field"] == "password", r.text
    assert Client().get(RESET + "/" + token).status_code == 200, "a refused password leaves the token working"
    assert c.me().status_code == 200

    new = ah.new_password()
    n, r = ah.reset_with(token, new, Client())
    assert r.status_code == 200, r.text
    assert set(r.json()) == {"user", "csrf_token"} and r.json()["user"]["email"] == c.email
    assert r.json()["user"]["email_verified"] is True
    sc = fc.session_set_cookie(r)
    assert sc and sc[1].get("httponly") and fc.TOKEN_RE.match(sc[0])
    assert n.me().status_code == 200, "signed in with the new session"
    assert c.me().status_code == 401, "the session from before ends at once"
    assert other.me().status_code == 401, "and every other one"
    assert Client().login(c.email, c.password).status_code == 401, "the old password no longer works"
    assert Client().login(c.email, new).status_code == 200, "the new one does"
    assert auth_events(c.id, "password.reset_requested") == 1
    assert auth_events(c.id, "password.reset") == 1


def test_a_token_works_once():
    c = account()
    ah.request_reset(c.email)
    token = ah.wait_reset_token(c.email)
    _, r = ah.reset_with(token, ah.new_password())
    assert r.status_code == 200
    hash_before = psql("SELECT password_hash FROM finicom.users WHERE id = $1", c.id)
    _, r = ah.reset_with(token, ah.new_password())
    assert r.status_code == 410 and r.json()["error"]["code"] == "gone" and r.json()["status"] == "used", r.text
    g = Client().get(RESET + "/" + token)
    assert g.status_code == 410 and g.json()["status"] == "used"
    assert psql("SELECT password_hash FROM finicom.users WHERE id = $1", c.id) == hash_before


def test_a_newer_request_kills_the_older_token():
    c = account()
    ah.request_reset(c.email)
    first = ah.wait_reset_token(c.email, 1)
    ah.request_reset(c.email)
    second = ah.wait_reset_token(c.email, 2)
    assert first != second
    g = Client().get(RESET + "/" + first)
    assert g.status_code == 410 and g.json()["status"] == "replaced", g.text
    _, r = ah.reset_with(first, ah.new_password())
    assert r.status_code == 410 and r.json()["status"] == "replaced"
    assert c.me().status_code == 200, "the refused token changed nothing"
    _, r = ah.reset_with(second, ah.new_password())
    assert r.status_code == 200, r.text


def test_an_expired_token_is_410_and_changes_nothing():
    c = account()
    ah.request_reset(c.email)
    token = ah.wait_reset_token(c.email)
    psql("UPDATE finicom.password_resets SET expires_at = now() - interval '1 second' WHERE token_hash = sha256($1::bytea)",
         token)
    g = Client().get(RESET + "/" + token)
    assert g.status_code == 410 and g.json()["status"] == "expired", g.text
    _, r = ah.reset_with(token, ah.new_password())
    assert r.status_code == 410 and r.json()["status"] == "expired"
    assert c.me().status_code == 200
    assert Client().login(c.email, c.password).status_code == 200, "the password is as it was"


@pytest.mark.parametrize("token", ["A" * 43, "short", "A" * 44, "!" * 43])
def test_unknown_or_malformed_tokens_are_404(token):
    g = Client().get(RESET + "/" + requests.utils.quote(token, safe=""))
    assert g.status_code == 404 and g.json()["error"]["code"] == "not_found", g.text
    _, r = ah.reset_with(requests.utils.quote(token, safe=""), ah.new_password())
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found", r.text


def test_a_reset_takes_an_unverified_account_over():
    squatter = account(verify=False)
    assert squatter.user["email_verified"] is False
    ah.request_reset(squatter.email)
    token = ah.wait_reset_token(squatter.email)
    owner, r = ah.reset_with(token, ah.new_password())
    assert r.status_code == 200, r.text
    assert r.json()["user"]["email_verified"] is True, "completing a reset verifies the address"
    assert squatter.me().status_code == 401, "the squatter's session ended"
    assert owner.me().json()["user"]["email_verified"] is True
    assert auth_events(squatter.id, "account.taken_over") == 1


@pytest.mark.parametrize("body,field", [
    ({}, "email"), ({"email": "not-an-email"}, "email"), ({"email": 5}, "email"),
    ({"email": "a@example.test", "extra": 1}, "extra"),
])
def test_request_validation_400(body, field):
    r = Client().post(RESET, body)
    assert r.status_code == 400 and r.json()["error"]["code"] == "validation_failed", r.text
    assert r.json()["error"]["field"] == field


def test_reset_body_validation_400():
    c = account()
    ah.request_reset(c.email)
    token = ah.wait_reset_token(c.email)
    for body, field in [({}, "password"), ({"password": 12345678}, "password"),
                        ({"password": "x" * 1025}, "password"), ({"password": ah.new_password(), "x": 1}, "x")]:
        r = Client().post(RESET + "/" + token, body)
        assert r.status_code == 400 and r.json()["error"]["field"] == field, (body, r.text)
    assert Client().get(RESET + "/" + token).status_code == 200, "nothing was spent"


def test_api_keys_cannot_use_the_reset_routes():
    h = {"Authorization": "Bearer fcm_" + "A" * 43}
    assert Client().post(RESET, {"email": "a@example.test"}, headers=h).status_code == 403
    assert Client().get(RESET + "/" + "A" * 43, headers=h).status_code == 403


def test_requests_are_rate_limited_per_address_known_or_not():
    c = account()
    for addr in (c.email, fc.unique_email("limit")):
        for _ in range(5):
            assert ah.request_reset(addr).status_code == 202
        r = ah.request_reset(addr)
        assert r.status_code == 429 and r.json()["error"]["code"] == "rate_limited", r.text
        assert 1 <= int(r.headers["Retry-After"]) <= 3600
    assert psql("SELECT count(*) FROM finicom.password_resets WHERE user_id = $1 AND mail_id IS NOT NULL", c.id) == "5", \
        "five mails queued for the known address, no sixth"


def test_the_link_is_scrubbed_from_the_outbox_once_sent():
    c = account()
    ah.request_reset(c.email)
    token = ah.wait_reset_token(c.email)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        row = psql("SELECT status || '|' || (link IS NULL) || '|' || (position($2 IN body) = 0) FROM finicom.mail_outbox "
                   "WHERE recipient = $1 ORDER BY created_at DESC LIMIT 1", c.email, token)
        if row == "sent|true|true":
            break
        time.sleep(0.1)
    assert row == "sent|true|true", row


def test_the_reset_session_records_address_and_user_agent():
    c = account()
    ah.request_reset(c.email)
    token = ah.wait_reset_token(c.email)
    n = Client()
    n.http.headers["User-Agent"] = "ResetAgent/" + uuid.uuid4().hex[:6]
    _, r = ah.reset_with(token, ah.new_password(), n)
    assert r.status_code == 200
    items = n.get("/api/v1/me/sessions").json()["items"]
    assert [(s["current"], s["user_agent"], s["ip"]) for s in items] == \
        [(True, n.http.headers["User-Agent"], "127.0.0.1")], items


def test_zz_no_reset_token_or_password_in_logs():
    ah.assert_not_in_logs(ah.SECRETS, minimum=10)
