"""Verified email addresses (sql/0018_email_verification.sql).

Signup mails {public_url}/verify/{token}; POST /api/v1/auth/verify/{token}
verifies the address (200 {user}); the token is 32 random bytes, stored as
its SHA-256, lives 24 hours and works once; POST /api/v1/auth/verify (the
resend) replaces it.  Until verified an account cannot create API keys or
send invitations (403 email_unverified).  Accepting an invitation verifies
the address, and an invitation accepted without a session for the address
of an unverified account takes that account over.

Time travel: the token's created_at and expires_at are moved back through
SQL (as the superuser), the same hook the invitation tests use; the server
compares expires_at with now() at every use, so nothing else is needed.
"""
import secrets

import client as fc
from client import Client, add_member, assert_error, create_org, psql, signup
from conftest import wait_until
from test_invitations import PUBLIC_URL, accept, invite, wait_token

VERIFY = "/api/v1/auth/verify/"
RESEND = "/api/v1/auth/verify"


def unverified(name="Not Yet"):
    """A new account left unverified, and the token of its verification mail."""
    c = signup(name=name, verify=False)
    return c, fc.wait_verification_token(c.email)


def verify(token, client=None):
    return (client or Client()).post(VERIFY + token)


def me_verified(c):
    r = c.me()
    assert r.status_code == 200, r.text
    return r.json()["user"]["email_verified"]


def assert_gone(resp, status):
    assert resp.status_code == 410, resp.text
    body = resp.json()
    assert set(body) == {"error", "status"}, body
    assert body["error"]["code"] == "gone" and body["error"]["message"], body
    assert body["status"] == status, body


def token_row(user_id, what):
    return psql("SELECT %s FROM finicom.email_verifications WHERE user_id = $1 "
                "ORDER BY created_at DESC LIMIT 1" % what, user_id)


# --------------------------------------------------------------------------
# the link


def test_signup_is_unverified_and_mails_the_link():
    c, token = unverified()
    assert c.user["email_verified"] is False
    assert me_verified(c) is False
    assert fc.TOKEN_RE.match(token), token
    subject, body = fc.verification_mails(c.email)[0]
    assert "verify" in subject.lower(), subject
    assert "%s/verify/%s" % (PUBLIC_URL, token) in body.splitlines(), body
    # The token is 32 random bytes; only its SHA-256 is stored, for 24 hours.
    assert token_row(c.id, "encode(token_hash, 'hex')") == fc.sha256_hex(token)
    assert token_row(c.id, "extract(epoch FROM expires_at - created_at)::int") == "86400"
    assert psql("SELECT count(*) FROM finicom.email_verifications v WHERE v::text LIKE '%' || $1 || '%'",
                token) == "0"
    # Once sent, the link is scrubbed from the stored mail.
    sent = wait_until(lambda: psql(
        "SELECT m.status = 'sent' AND m.link IS NULL AND position($2 IN m.body) = 0 "
        "FROM finicom.mail_outbox m JOIN finicom.email_verifications v ON v.mail_id = m.id "
        "WHERE v.user_id = $1", c.id, token) == "t", 15, 0.1)
    assert sent, psql("SELECT status FROM finicom.mail_outbox WHERE lower(recipient) = lower($1)", c.email)


def test_verify_200_then_the_token_is_spent():
    c, token = unverified()
    r = verify(token)
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"user"}, body
    assert body["user"]["id"] == c.id and body["user"]["email"] == c.email
    assert body["user"]["email_verified"] is True
    assert fc.session_set_cookie(r) is None, "verifying signs nobody in"
    assert me_verified(c) is True
    assert psql("SELECT count(*) FROM audit.auth_events WHERE user_id = $1 AND event = 'email.verified'",
                c.id) == "1"
    # Single use: the second time it is gone, and the login reply says verified too.
    assert_gone(verify(token), "used")
    r = Client().login(c.email, c.password)
    assert r.status_code == 200 and r.json()["user"]["email_verified"] is True, r.text


def test_verify_with_another_session_verifies_the_token_account():
    c, token = unverified()
    other = signup()
    r = verify(token, client=other)
    assert r.status_code == 200, r.text
    assert r.json()["user"]["id"] == c.id
    assert me_verified(c) is True and me_verified(other) is True


def test_unknown_and_malformed_tokens_404():
    for tok in (secrets.token_urlsafe(32), "short", "x" * 44, secrets.token_urlsafe(32)[:42] + "*"):
        assert_error(verify(tok), 404, "not_found")


def test_api_key_cannot_verify_403():
    c, token = unverified()
    admin = signup()
    org = create_org(admin)
    r = admin.post("/api/v1/orgs/%s/api-keys" % org["id"], {"name": "k", "role": "admin"})
    assert r.status_code == 201, r.text
    r = Client().post(VERIFY + token, headers={"Authorization": "Bearer " + r.json()["token"]})
    assert_error(r, 403, "forbidden")
    assert me_verified(c) is False


def test_expired_after_24_hours_410():
    c, token = unverified()
    # 23 h 59 min old: still good.
    psql("UPDATE finicom.email_verifications SET created_at = created_at - interval '23 hours 59 minutes', "
         "expires_at = expires_at - interval '23 hours 59 minutes' WHERE user_id = $1", c.id)
    c2, token2 = unverified()
    psql("UPDATE finicom.email_verifications SET created_at = created_at - interval '24 hours 1 second', "
         "expires_at = expires_at - interval '24 hours 1 second' WHERE user_id = $1", c2.id)
    assert_gone(verify(token2), "expired")
    assert me_verified(c2) is False
    r = verify(token)
    assert r.status_code == 200, r.text
    # An expired link is answered the same way every time; a new one works.
    assert_gone(verify(token2), "expired")
    r = c2.post(RESEND)
    assert r.status_code == 202 and r.json() == {}, r.text
    assert verify(fc.wait_verification_token(c2.email, 2)).status_code == 200
    assert me_verified(c2) is True


# --------------------------------------------------------------------------
# the resend


def test_resend_replaces_the_older_link():
    c, old = unverified()
    r = c.post(RESEND)
    assert r.status_code == 202, r.text
    new = fc.wait_verification_token(c.email, 2)
    assert new != old
    assert psql("SELECT count(*) FROM finicom.email_verifications "
                "WHERE user_id = $1 AND used_at IS NULL AND replaced_at IS NULL", c.id) == "1"
    assert_gone(verify(old), "replaced")
    assert me_verified(c) is False
    assert verify(new).status_code == 200
    assert_gone(verify(old), "replaced")


def test_resend_refusals():
    c, _token = unverified()
    assert_error(c.post(RESEND, csrf=False), 403, "csrf_failed")
    assert_error(Client().post(RESEND), 401, "unauthenticated")
    v = signup()
    assert_error(v.post(RESEND), 409, "already_verified")
    assert len(fc.verification_mails(v.email)) == 1
    assert len(fc.verification_mails(c.email)) == 1


def test_resend_is_limited_to_5_a_day():
    c, _token = unverified()
    for _ in range(5):
        assert c.post(RESEND).status_code == 202
    before = psql("SELECT count(*) FROM finicom.email_verifications WHERE user_id = $1", c.id)
    assert before == "6"
    r = c.post(RESEND)
    assert_error(r, 429, "rate_limited")
    assert 0 < int(r.headers["Retry-After"]) <= 86400, r.headers
    assert psql("SELECT count(*) FROM finicom.email_verifications WHERE user_id = $1", c.id) == before
    # The window slides: a day later resending works again.
    psql("UPDATE finicom.email_verifications SET created_at = created_at - interval '1 day', "
         "expires_at = expires_at - interval '1 day' WHERE user_id = $1", c.id)
    assert c.post(RESEND).status_code == 202


# --------------------------------------------------------------------------
# what an unverified account cannot do


def test_unverified_cannot_create_api_keys_or_invite_403():
    c, token = unverified("Unverified Admin")
    org = create_org(c)   # an org of one's own is fine
    keys = "/api/v1/orgs/%s/api-keys" % org["id"]
    invs = "/api/v1/orgs/%s/invitations" % org["id"]
    addr = fc.unique_email("notsent")
    assert_error(c.post(keys, {"name": "k", "role": "read"}), 403, "email_unverified")
    assert_error(c.post(invs, {"email": addr, "role": "read"}), 403, "email_unverified")
    assert psql("SELECT count(*) FROM finicom.api_keys WHERE org_id = $1", org["id"]) == "0"
    assert psql("SELECT count(*) FROM finicom.invitations WHERE org_id = $1", org["id"]) == "0"
    assert psql("SELECT count(*) FROM finicom.mail_outbox WHERE lower(recipient) = lower($1)", addr) == "0"
    # Validation still comes first; listing keys is not sending anything.
    assert_error(c.post(keys, {"name": "", "role": "read"}), 400, "validation_failed", field="name")
    assert c.get(keys).status_code == 200
    # A pending invitation (made by a verified admin) cannot be resent by it either.
    boss = signup()
    add_member(org, boss, "admin")
    inv = invite(boss, org, addr)
    assert_error(c.post("%s/%s/resend" % (invs, inv["id"])), 403, "email_unverified")
    assert verify(token).status_code == 200
    assert c.post(keys, {"name": "k", "role": "read"}).status_code == 201
    assert c.post("%s/%s/resend" % (invs, inv["id"])).status_code == 200
    assert c.post(invs, {"email": fc.unique_email("sent"), "role": "read"}).status_code == 201


# --------------------------------------------------------------------------
# invitations verify, and take unverified accounts over


def test_accepting_with_a_session_verifies():
    admin = signup()
    org = create_org(admin)
    c, token = unverified("Invited Later")
    invite(admin, org, c.email)
    r = accept(wait_token(c.email), c)
    assert r.status_code == 200, r.text
    assert me_verified(c) is True
    assert_gone(verify(token), "used")


def test_accepting_anonymously_takes_an_unverified_account_over():
    # A squatter signs up with someone else's address (and cannot verify it).
    squatter, token = unverified("Squatter")
    second = Client()
    assert second.login(squatter.email, squatter.password).status_code == 200
    own_org = create_org(squatter)
    admin = signup()
    org = create_org(admin)
    inv = invite(admin, org, squatter.email, role="write")
    owner_password = fc.new_password()
    fc.register_secret(owner_password)
    owner = Client()
    r = accept(wait_token(squatter.email), owner, {"name": "Real Owner", "password": owner_password})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["user"]["id"] == squatter.id, "the account is taken over, not duplicated"
    assert body["user"]["name"] == "Real Owner" and body["user"]["email_verified"] is True
    assert body["org"]["id"] == org["id"] and body["role"] == "write"
    # Every session of the squatter has ended; the old password is gone.
    assert_error(squatter.me(), 401, "unauthenticated")
    assert_error(second.me(), 401, "unauthenticated")
    assert_error(Client().login(squatter.email, squatter.password), 401, "invalid_credentials")
    assert Client().login(squatter.email, owner_password).status_code == 200
    r = owner.me()
    assert r.status_code == 200 and r.json()["user"]["email_verified"] is True, r.text
    assert {m["org"]["id"] for m in r.json()["memberships"]} == {org["id"], own_org["id"]}
    assert psql("SELECT count(*) FROM finicom.users WHERE lower(email) = lower($1)", squatter.email) == "1"
    assert psql("SELECT count(*) FROM audit.auth_events WHERE user_id = $1 AND event = 'account.taken_over'",
                squatter.id) == "1"
    assert psql("SELECT status FROM finicom.invitations WHERE id = $1", inv["id"]) == "accepted"
    # The squatter's verification link is spent with the takeover.
    assert_gone(verify(token), "used")


def test_a_verified_account_is_not_taken_over_409():
    c = signup(name="Verified Owner")
    admin = signup()
    org = create_org(admin)
    inv = invite(admin, org, c.email)
    tok = wait_token(c.email)
    r = accept(tok, Client(), {"name": "Intruder", "password": fc.new_password()})
    assert_error(r, 409, "email_taken")
    assert me_verified(c) is True, "the owner's session is untouched"
    assert Client().login(c.email, c.password).status_code == 200
    assert psql("SELECT name FROM finicom.users WHERE id = $1", c.id) == "Verified Owner"
    assert psql("SELECT status FROM finicom.invitations WHERE id = $1", inv["id"]) == "pending"


def test_accept_refuses_a_password_equal_to_the_invited_email():
    admin = signup()
    org = create_org(admin)
    addr = fc.unique_email("same")
    inv = invite(admin, org, addr)
    r = accept(wait_token(addr), Client(), {"name": "Same As Mail", "password": addr.upper()})
    assert_error(r, 400, "validation_failed", field="password")
    r = accept(wait_token(addr), Client(), {"name": "Qwerty Fan", "password": "Qwerty123"})
    assert_error(r, 400, "validation_failed", field="password")
    assert psql("SELECT status FROM finicom.invitations WHERE id = $1", inv["id"]) == "pending"
    assert psql("SELECT count(*) FROM finicom.users WHERE lower(email) = lower($1)", addr) == "0"
