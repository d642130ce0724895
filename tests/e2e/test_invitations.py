"""Invitations (src/openapi.json) end to end, with real mail (issue 5, "Tests").

The invitation token exists in clear only in the email: every test that
needs one reads it from the mail the SMTP sink of the stack wrote into the
Maildir $FINICOM_MAILDIR (the link `{public_url}/invite/{token}` on a line
of its own).  So these tests need the mailer (finicom-mailer) running.

The public token endpoints share nginx's "auth" rate-limit zone with
/api/v1/auth/*, so every request to them waits for client.PACER first.

Tests marked destructive stop the SMTP sink or SIGKILL the mailer and
restart them with the very command line (and environment) they had.
"""
import concurrent.futures
import datetime
import base64
import email
import email.policy
import email.utils
import mailbox
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import uuid

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import client as fc  # noqa: E402
from client import Client, add_member, assert_error, create_org, psql, signup  # noqa: E402
from conftest import wait_until  # noqa: E402

MAILDIR = os.environ.get("FINICOM_MAILDIR", "")
RUN_DIR = os.path.dirname(os.environ.get("FINICOM_PIDFILE", "/nonexistent/finicomd.pid"))
INV_KEYS = {"id", "email", "role", "status", "invited_by", "created_at", "expires_at", "accepted_at",
            "canceled_at", "email_status", "membership_expires_at"}
PREVIEW_KEYS = {"org", "email", "role", "invited_by", "expires_at", "status"}
MAIL_TIMEOUT = 30

# Every invitation token seen in this module: the log test greps for them.
TOKENS = []


def _public_url():
    conf = os.environ.get("FINICOM_CONF")
    if conf and os.path.exists(conf):
        for line in open(conf, encoding="utf-8"):
            k, eq, v = line.partition("=")
            if eq and k.strip() == "public_url":
                return v.strip().rstrip("/")
    return fc.BASE_URL


PUBLIC_URL = _public_url()
LINK_RE = re.compile(r"^\s*" + re.escape(PUBLIC_URL) + r"/invite/([A-Za-z0-9_-]+)\s*$", re.M)


# --------------------------------------------------------------------------
# helpers


def inv_path(org, suffix=""):
    return "/api/v1/orgs/%s/invitations%s" % (org["id"], suffix)


def org_path(org, suffix=""):
    return "/api/v1/orgs/%s%s" % (org["id"], suffix)


def preview(token, client=None):
    fc.PACER.wait()
    return (client or Client()).get("/api/v1/invitations/%s" % token)


def accept(token, client=None, body=None, **kw):
    fc.PACER.wait()
    return (client or Client()).post("/api/v1/invitations/%s/accept" % token, body, **kw)


def invite(admin, org, addr, role="read", expect=201):
    r = admin.post(inv_path(org), {"email": addr, "role": role})
    assert r.status_code == expect, (r.status_code, r.text)
    return r.json()


_PARSED = {}


def _messages():
    """Every message of the sink's Maildir, parsed once: [(key, EmailMessage)]."""
    assert MAILDIR and os.path.isdir(os.path.join(MAILDIR, "new")), \
        "FINICOM_MAILDIR=%r is not a Maildir" % MAILDIR
    md = mailbox.Maildir(MAILDIR, factory=None, create=False)
    out = []
    for key in md.keys():
        if key not in _PARSED:
            try:
                raw = md.get_bytes(key)
            except (KeyError, OSError):
                continue
            _PARSED[key] = email.message_from_bytes(raw, policy=email.policy.default)
        out.append((key, _PARSED[key]))
    return out


def _recipients(msg):
    rcpt = " ".join(str(msg.get_all(h, [])) for h in ("To", "X-RcptTo"))
    return rcpt.lower()


def mails_to(addr, subject="invited you to"):
    """The mails to addr whose subject contains subject: by default the
    invitation mails (not the verification mail of a signup)."""
    return [m for _k, m in _messages()
            if addr.lower() in _recipients(m) and subject in str(m.get("Subject", ""))]


def wait_mails(addr, n=1, timeout=MAIL_TIMEOUT, subject="invited you to"):
    """Wait until at least n mails to addr (with subject in their subject: by
    default invitations) are in the Maildir; returns them (oldest first)."""
    got = wait_until(lambda: len(mails_to(addr, subject)) >= n and mails_to(addr, subject), timeout,
                     interval=0.2)
    assert got and len(got) >= n, (
        "no%s mail to %s in %s within %d s (is finicom-mailer running? outbox: %s)"
        % ("" if n == 1 else " %d" % n, addr, MAILDIR, timeout,
           psql("SELECT string_agg(status || '/' || attempts || '/' || coalesce(last_error, '-'), '; ' "
                "ORDER BY created_at) FROM finicom.mail_outbox WHERE lower(recipient) = lower($1)", addr)))
    return sorted(got, key=lambda m: email.utils.parsedate_to_datetime(m["Date"]).timestamp()
                  if m["Date"] else 0)


def body_text(msg):
    assert not msg.is_multipart(), "the invitation mail must be a single text/plain part"
    assert msg.get_content_type() == "text/plain", msg.get_content_type()
    return msg.get_content().replace("\r\n", "\n")


def token_of(msg):
    links = LINK_RE.findall(body_text(msg))
    assert len(links) == 1, "exactly one accept link on its own line expected:\n%s" % body_text(msg)
    tok = links[0]
    assert fc.TOKEN_RE.match(tok), tok
    if tok not in TOKENS:
        TOKENS.append(tok)
        fc.register_secret(tok)
    return tok


def wait_token(addr, n=1, timeout=MAIL_TIMEOUT):
    """The token of the n-th mail to addr (waiting for it)."""
    return token_of(wait_mails(addr, n, timeout)[n - 1])


def invite_and_token(admin, org, addr=None, role="read"):
    addr = addr or fc.unique_email("inv")
    inv = invite(admin, org, addr, role)
    return inv, wait_token(addr), addr


def db_status(inv_id):
    return psql("SELECT status FROM finicom.invitations WHERE id = $1", inv_id)


def members_of(org):
    return psql("SELECT count(*) FROM finicom.memberships WHERE org_id = $1", org["id"])


def assert_gone(resp, status):
    assert resp.status_code == 410, (resp.status_code, resp.text)
    body = resp.json()
    assert body.get("status") == status, body
    assert body["error"]["code"] == "gone", body
    assert isinstance(body["error"].get("message"), str) and body["error"]["message"], body


def assert_invitation(inv, addr=None, role=None, status=None, inviter=None):
    assert set(inv) >= INV_KEYS - {"email_status"} and set(inv) <= INV_KEYS, inv
    for key, when in (("accepted_at", "accepted"), ("canceled_at", "canceled")):
        if inv["status"] == when:
            assert fc.parse_ts(inv[key]) >= fc.parse_ts(inv["created_at"]), inv
        else:
            assert inv[key] is None, inv
    assert fc.UUID_RE.match(inv["id"]), inv
    assert inv["status"] in ("pending", "accepted", "canceled", "expired"), inv
    fc.parse_ts(inv["created_at"])
    fc.parse_ts(inv["expires_at"])
    if inv.get("email_status") is not None:
        assert inv["email_status"] in ("queued", "sent", "failed", "canceled"), inv
    if addr is not None:
        assert inv["email"].lower() == addr.lower(), inv
    if role is not None:
        assert inv["role"] == role, inv
    if status is not None:
        assert inv["status"] == status, inv
    if inviter is not None:
        assert inv["invited_by"] == {"id": inviter.id, "email": inviter.email,
                                     "name": inviter.user["name"]}, inv


@pytest.fixture
def team():
    """A fresh org (unique name) with an admin (unique name), a write and a read member."""
    admin = signup(name="Inviter " + uuid.uuid4().hex[:8])
    write, read = signup(name="Writer"), signup(name="Reader")
    org = create_org(admin, "Invite Org " + uuid.uuid4().hex[:8])
    add_member(org, write, "write")
    add_member(org, read, "read")
    return org, admin, write, read


# --------------------------------------------------------------------------
# create, the mail, preview


def test_invite_201_shape_without_token(team):
    org, admin, _w, _r = team
    addr = fc.unique_email("shape")
    r = admin.post(inv_path(org), {"email": addr, "role": "write"})
    assert r.status_code == 201, r.text
    inv = r.json()
    assert set(inv) == INV_KEYS, inv
    assert_invitation(inv, addr, "write", "pending", admin)
    assert inv["email_status"] in ("queued", "sent"), inv
    created, expires = fc.parse_ts(inv["created_at"]), fc.parse_ts(inv["expires_at"])
    assert abs((expires - created).total_seconds() - 168 * 3600) < 5, inv
    assert abs((created - datetime.datetime.now(datetime.timezone.utc)).total_seconds()) < 120, inv
    tok = wait_token(addr)
    assert tok not in r.text and "token" not in inv
    # not in the list either, nor in any header
    lst = admin.get(inv_path(org), params={"status": "all"})
    assert lst.status_code == 200 and tok not in lst.text, lst.text
    assert tok not in str(r.headers) and tok not in str(lst.headers)
    # the table keeps only the SHA-256 of the token
    assert psql("SELECT encode(token_hash, 'hex') FROM finicom.invitations WHERE id = $1",
                inv["id"]) == fc.sha256_hex(tok)
    assert psql("SELECT count(*) FROM finicom.invitations i WHERE id = $1 AND row_to_json(i)::text LIKE "
                "'%' || $2 || '%'", inv["id"], tok) == "0"


def test_invitation_mail_content(team):
    org, admin, _w, _r = team
    addr = fc.unique_email("mail")
    inv = invite(admin, org, addr, "write")
    msgs = wait_mails(addr)
    assert len(msgs) == 1, "one mail per invitation"
    msg = msgs[0]
    text = body_text(msg)
    tok = token_of(msg)
    lines = text.split("\n")
    assert (PUBLIC_URL + "/invite/" + tok) in [ln.strip() for ln in lines], text
    assert org["name"] in text, text
    assert "write" in text, text
    assert admin.user["name"] in text, text
    exp = fc.parse_ts(inv["expires_at"])
    assert exp.strftime("%Y-%m-%d %H:%M") in text or exp.strftime("%Y-%m-%dT%H:%M") in text, (exp, text)
    assert "UTC" in text or exp.strftime("%Y-%m-%dT%H:%M") + ":" in text, text
    assert msg["Message-ID"], "a Message-ID header"
    assert addr.lower() in str(msg["To"]).lower(), msg["To"]
    assert msg["Subject"], "a subject"


def test_preview_200_shape(team):
    org, admin, _w, _r = team
    inv, tok, addr = invite_and_token(admin, org, role="read")
    r = preview(tok)
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == PREVIEW_KEYS, body
    assert body["org"] == {"name": org["name"]}, body
    assert body["email"].lower() == addr.lower()
    assert body["role"] == "read"
    assert body["invited_by"] == {"name": admin.user["name"]}, body
    assert body["expires_at"] == inv["expires_at"]
    assert body["status"] == "pending"
    # a preview changes nothing
    assert db_status(inv["id"]) == "pending"


def test_unknown_and_malformed_token_404():
    for tok in ("A" * 43, base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")):
        assert_error(preview(tok), 404, "not_found")
        assert_error(accept(tok, body={"name": "N", "password": fc.new_password()}), 404, "not_found")
    for tok in ("abc", "A" * 42, "A" * 44, "A" * 42 + "!", "A" * 42 + "=", "A" * 200):
        assert_error(preview(urllib.parse.quote(tok)), 404, "not_found")
        assert_error(accept(urllib.parse.quote(tok),
                            body={"name": "N", "password": fc.new_password()}), 404, "not_found")


# --------------------------------------------------------------------------
# accept


def test_accept_new_account_201_and_role(team):
    org, admin, _w, _r = team
    inv, tok, addr = invite_and_token(admin, org, role="write")
    anon = Client()
    pw = fc.new_password()
    fc.register_secret(pw)
    # validation first: nothing is created
    assert_error(accept(tok, anon, {"name": "New"}), 400, "validation_failed", field="password")
    assert_error(accept(tok, anon, {"password": pw}), 400, "validation_failed", field="name")
    assert_error(accept(tok, anon, {"name": "New", "password": "short"}), 400, "validation_failed",
                 field="password")
    assert psql("SELECT count(*) FROM finicom.users WHERE lower(email) = lower($1)", addr) == "0"
    r = accept(tok, anon, {"name": "New Member", "password": pw})
    assert r.status_code == 201, r.text
    body = r.json()
    assert set(body) == {"org", "role", "user", "csrf_token"}, body
    assert body["org"] == {"id": org["id"], "name": org["name"]}, body
    assert body["role"] == "write"
    assert set(body["user"]) == {"id", "email", "name", "created_at", "email_verified"}, body
    assert body["user"]["email_verified"] is True, body
    assert body["user"]["email"].lower() == addr.lower() and body["user"]["name"] == "New Member"
    assert fc.TOKEN_RE.match(body["csrf_token"]), body
    sc = fc.session_set_cookie(r)
    assert sc is not None and fc.TOKEN_RE.match(sc[0]), r.headers
    assert sc[1].get("httponly") is True, sc
    assert tok not in r.text
    # signed in: the new member sees the org with the invited role
    r = anon.get(org_path(org))
    assert r.status_code == 200, r.text
    assert r.json()["role"] == "write"
    me = anon.me().json()
    assert [(m["org"]["id"], m["role"]) for m in me["memberships"]] == [(org["id"], "write")], me
    # and can act with it (CSRF token of the accept reply)
    assert anon.get(org_path(org, "/members")).status_code == 200
    # the admin sees the new member and the invitation accepted
    items = admin.get(org_path(org, "/members")).json()["items"]
    assert {i["user"]["id"]: i["role"] for i in items}[body["user"]["id"]] == "write"
    lst = admin.get(inv_path(org), params={"status": "accepted"}).json()["items"]
    assert [i["id"] for i in lst] == [inv["id"]]
    # the account can sign in with the password it chose
    again = Client()
    assert again.login(addr, pw).status_code == 200
    # the token is spent
    assert_gone(preview(tok), "accepted")
    assert_gone(accept(tok, Client(), {"name": "Again", "password": fc.new_password()}), "accepted")
    assert_gone(accept(tok, anon), "accepted")


def test_accept_with_session_200(team):
    org, admin, _w, _r = team
    invitee = signup(name="Existing")
    # invited with the email in another case: emails compare case-insensitively
    inv, tok, _ = invite_and_token(admin, org, addr=invitee.email.upper(), role="read")
    r = accept(tok, invitee)
    assert r.status_code == 200, r.text
    assert r.json() == {"org": {"id": org["id"], "name": org["name"]}, "role": "read"}, r.text
    assert fc.session_set_cookie(r) is None, "accepting with a session does not start a new one"
    r = invitee.get(org_path(org))
    assert r.status_code == 200 and r.json()["role"] == "read", r.text
    assert db_status(inv["id"]) == "accepted"
    assert psql("SELECT count(*) FROM finicom.memberships WHERE org_id = $1 AND user_id = $2",
                org["id"], invitee.id) == "1"


def test_accept_csrf_required_with_session(team):
    org, admin, _w, _r = team
    invitee = signup()
    inv, tok, _ = invite_and_token(admin, org, addr=invitee.email)
    assert_error(accept(tok, invitee, csrf=False), 403, "csrf_failed")
    assert db_status(inv["id"]) == "pending"


def test_accept_email_mismatch_403(team):
    org, admin, _w, _r = team
    inv, tok, _ = invite_and_token(admin, org)
    other = signup()
    assert_error(accept(tok, other), 403, "email_mismatch")
    assert db_status(inv["id"]) == "pending"
    assert_error(other.get(org_path(org)), 404, "not_found")
    assert preview(tok).status_code == 200


def test_accept_anonymous_email_taken_409(team):
    org, admin, _w, _r = team
    existing = signup()
    inv, tok, _ = invite_and_token(admin, org, addr=existing.email)
    before = members_of(org)
    assert_error(accept(tok, Client(), {"name": "Impostor", "password": fc.new_password()}),
                 409, "email_taken")
    assert db_status(inv["id"]) == "pending" and members_of(org) == before
    # the owner of the email can still accept after signing in
    assert accept(tok, existing).status_code == 200


def test_accept_already_member_409(team):
    org, admin, _w, _r = team
    invitee = signup()
    inv, tok, _ = invite_and_token(admin, org, addr=invitee.email)
    add_member(org, invitee, "read")  # joined meanwhile (another way)
    assert_error(accept(tok, invitee), 409, "already_member")
    assert psql("SELECT count(*) FROM finicom.memberships WHERE org_id = $1 AND user_id = $2",
                org["id"], invitee.id) == "1"


def test_create_conflicts_409(team):
    org, admin, write, _r = team
    for addr in (write.email, write.email.upper()):
        assert_error(admin.post(inv_path(org), {"email": addr, "role": "read"}), 409, "already_member")
    assert_error(admin.post(inv_path(org), {"email": admin.email, "role": "admin"}), 409, "already_member")
    addr = fc.unique_email("dup")
    invite(admin, org, addr)
    for again in (addr, addr.upper(), addr.capitalize()):
        assert_error(admin.post(inv_path(org), {"email": again, "role": "write"}), 409, "invitation_pending")
    assert psql("SELECT count(*) FROM finicom.invitations WHERE org_id = $1 AND lower(email) = lower($2)",
                org["id"], addr) == "1"
    # another org may invite the same email
    other = create_org(admin)
    invite(admin, other, addr)


def test_create_validation_400(team):
    org, admin, _w, _r = team
    for body, field in (({"role": "read"}, "email"), ({"email": "x@y.test"}, "role"),
                        ({"email": "no-at-sign", "role": "read"}, "email"),
                        ({"email": "a@b@c.test", "role": "read"}, "email"),
                        ({"email": "x@y.test", "role": "owner"}, "role"),
                        ({"email": "x" * 250 + "@y.test", "role": "read"}, "email"),
                        ({"email": "x@y.test", "role": "read", "token": "x"}, "token")):
        assert_error(admin.post(inv_path(org), body), 400, "validation_failed", field=field)
    assert_error(admin.post(inv_path(org), {"email": "x@y.test", "role": "read"}, csrf=False),
                 403, "csrf_failed")


# --------------------------------------------------------------------------
# cancel, resend, expiry


def test_cancel_then_gone(team):
    org, admin, _w, _r = team
    inv, tok, _ = invite_and_token(admin, org)
    r = admin.delete(inv_path(org, "/" + inv["id"]))
    assert r.status_code == 204, r.text
    assert r.content == b""
    assert_gone(preview(tok), "canceled")
    assert_gone(accept(tok, Client(), {"name": "Late", "password": fc.new_password()}), "canceled")
    assert_error(admin.delete(inv_path(org, "/" + inv["id"])), 409, "not_pending")
    assert_error(admin.post(inv_path(org, "/%s/resend" % inv["id"])), 409, "not_pending")
    items = admin.get(inv_path(org), params={"status": "canceled"}).json()["items"]
    assert [(i["id"], i["status"]) for i in items] == [(inv["id"], "canceled")]
    assert_error(admin.delete(inv_path(org, "/" + str(uuid.uuid4()))), 404, "not_found")
    assert_error(admin.delete(inv_path(org, "/not-a-uuid")), 404, "not_found")
    # after the cancel a new invitation for that email is possible
    invite(admin, org, inv["email"])


def test_resend_new_token_old_dead(team):
    org, admin, _w, _r = team
    inv, old, addr = invite_and_token(admin, org, role="write")
    # an expiry well before the TTL, so the new one is visibly new
    psql("UPDATE finicom.invitations SET expires_at = now() + interval '1 hour' WHERE id = $1", inv["id"])
    r = admin.post(inv_path(org, "/%s/resend" % inv["id"]))
    assert r.status_code == 200, r.text
    again = r.json()
    assert set(again) == INV_KEYS, again
    assert_invitation(again, addr, "write", "pending", admin)
    assert again["id"] == inv["id"] and again["created_at"] == inv["created_at"]
    new_exp = fc.parse_ts(again["expires_at"])
    assert new_exp > datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=167), again
    assert old not in r.text
    toks = {token_of(m) for m in wait_mails(addr, 2)}
    assert old in toks and len(toks) == 2, "a second mail with a new token"
    new = (toks - {old}).pop()
    assert new not in r.text
    # the old link no longer exists at all
    assert_error(preview(old), 404, "not_found")
    assert_error(accept(old, Client(), {"name": "Old", "password": fc.new_password()}), 404, "not_found")
    p = preview(new)
    assert p.status_code == 200 and p.json()["expires_at"] == again["expires_at"], p.text
    anon = Client()
    r = accept(new, anon, {"name": "Resent", "password": fc.new_password()})
    assert r.status_code == 201, r.text
    assert anon.get(org_path(org)).json()["role"] == "write"
    assert_error(admin.post(inv_path(org, "/%s/resend" % uuid.uuid4())), 404, "not_found")


def test_expired_by_sql_is_gone_at_once(team):
    org, admin, _w, _r = team
    inv, tok, _ = invite_and_token(admin, org)
    psql("UPDATE finicom.invitations SET expires_at = now() - interval '1 second' WHERE id = $1", inv["id"])
    assert_gone(preview(tok), "expired")
    assert_gone(accept(tok, Client(), {"name": "Late", "password": fc.new_password()}), "expired")
    items = admin.get(inv_path(org), params={"status": "expired"}).json()["items"]
    assert [(i["id"], i["status"]) for i in items] == [(inv["id"], "expired")], items
    assert inv["id"] not in [i["id"] for i in admin.get(inv_path(org)).json()["items"]]
    # an expired invitation does not block a new one for the same email
    invite(admin, org, inv["email"])
    # ...and then cannot be revived: the new one is the pending one
    assert_error(admin.post(inv_path(org, "/%s/resend" % inv["id"])), 409, "invitation_pending")
    assert_error(admin.delete(inv_path(org, "/" + inv["id"])), 409, "not_pending")


def test_past_due_invitation_is_expired_for_cancel_and_revived_by_resend(team):
    """Past expires_at, the API already shows the invitation as expired (list,
    preview, accept), and cancel treats it so too, whether or not the expiry
    job has run yet (the answer must not depend on the job).  Resend revives
    an expired invitation, job or no job: a new token and a new expiry."""
    org, admin, _w, _r = team
    for expire_by_job in (False, True):
        inv = invite(admin, org, fc.unique_email("pastdue"))
        psql("UPDATE finicom.invitations SET expires_at = now() - interval '1 second' WHERE id = $1",
             inv["id"])
        if expire_by_job:
            psql("SELECT finicom.expire_invitations()")
        listed = {i["id"]: i["status"] for i in admin.get(inv_path(org), params={"status": "all"}).json()["items"]}
        assert listed[inv["id"]] == "expired"
        assert_error(admin.delete(inv_path(org, "/" + inv["id"])), 409, "not_pending")
        r = admin.post(inv_path(org, "/%s/resend" % inv["id"]))
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "pending", r.text
        assert fc.parse_ts(r.json()["expires_at"]) > datetime.datetime.now(datetime.timezone.utc), r.text


def test_invite_ttl_follows_org_setting(team):
    org, admin, _w, _r = team
    r = admin.patch(org_path(org), {"invite_ttl_hours": 5})
    assert r.status_code == 200 and r.json()["invite_ttl_hours"] == 5, r.text
    inv = invite(admin, org, fc.unique_email("ttl"))
    d = fc.parse_ts(inv["expires_at"]) - fc.parse_ts(inv["created_at"])
    assert abs(d.total_seconds() - 5 * 3600) < 5, inv
    r = admin.patch(org_path(org), {"invite_ttl_hours": 720})
    assert r.status_code == 200, r.text
    r = admin.post(inv_path(org, "/%s/resend" % inv["id"]))
    assert r.status_code == 200, r.text
    d = fc.parse_ts(r.json()["expires_at"]) - datetime.datetime.now(datetime.timezone.utc)
    assert abs(d.total_seconds() - 720 * 3600) < 120, r.text


# --------------------------------------------------------------------------
# list


def test_list_by_status(team):
    org, admin, _w, _r = team
    p = invite(admin, org, fc.unique_email("p"))
    a, a_tok, _ = invite_and_token(admin, org)
    assert accept(a_tok, Client(), {"name": "A", "password": fc.new_password()}).status_code == 201
    c = invite(admin, org, fc.unique_email("c"))
    assert admin.delete(inv_path(org, "/" + c["id"])).status_code == 204
    e = invite(admin, org, fc.unique_email("e"))
    psql("UPDATE finicom.invitations SET expires_at = now() - interval '1 second' WHERE id = $1", e["id"])
    expected = {"pending": [p], "accepted": [a], "canceled": [c], "expired": [e]}
    for status, invs in expected.items():
        r = admin.get(inv_path(org), params={"status": status})
        assert r.status_code == 200, r.text
        body = r.json()
        assert set(body) == {"items", "next_cursor"} and body["next_cursor"] is None, body
        assert [i["id"] for i in body["items"]] == [i["id"] for i in invs], (status, body)
        for it in body["items"]:
            assert set(it) == INV_KEYS, it
            assert_invitation(it, status=status, inviter=admin)
    r = admin.get(inv_path(org))
    assert [i["id"] for i in r.json()["items"]] == [p["id"]], "default is pending"
    r = admin.get(inv_path(org), params={"status": "all"})
    assert sorted(i["id"] for i in r.json()["items"]) == sorted(x["id"] for x in (p, a, c, e))
    for bad in ("Pending", "bogus", "", "pending,accepted"):
        assert_error(admin.get(inv_path(org), params={"status": bad}), 400, "validation_failed",
                     field="status")


def test_list_pagination(team):
    org, admin, _w, _r = team
    ids = [invite(admin, org, fc.unique_email("pg%d" % i))["id"] for i in range(7)]
    seen, sizes, cursor = [], [], None
    for _ in range(6):
        params = {"limit": 3, "status": "all"}
        if cursor:
            params["cursor"] = cursor
        r = admin.get(inv_path(org), params=params)
        assert r.status_code == 200, r.text
        body = r.json()
        sizes.append(len(body["items"]))
        seen += [i["id"] for i in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert sizes == [3, 3, 1], sizes
    assert len(seen) == len(set(seen)) and set(seen) == set(ids), seen
    full = admin.get(inv_path(org), params={"status": "all", "limit": 200}).json()
    assert [i["id"] for i in full["items"]] == seen and full["next_cursor"] is None
    for limit in ("0", "201", "x"):
        assert_error(admin.get(inv_path(org), params={"limit": limit}), 400, "validation_failed",
                     field="limit")
    assert_error(admin.get(inv_path(org), params={"cursor": "garbage"}), 400, "validation_failed",
                 field="cursor")


# --------------------------------------------------------------------------
# who may


def test_non_admin_403_outsider_404(team):
    org, admin, write, read = team
    inv = invite(admin, org, fc.unique_email("perm"))
    outsider = signup()
    create_org(outsider)
    calls = (("post", inv_path(org), {"email": fc.unique_email("x"), "role": "read"}),
             ("get", inv_path(org), None),
             ("delete", inv_path(org, "/" + inv["id"]), None),
             ("post", inv_path(org, "/%s/resend" % inv["id"]), None))
    for who, status, code in ((write, 403, "forbidden"), (read, 403, "forbidden"),
                              (outsider, 404, "not_found")):
        for method, path, body in calls:
            kw = {"json": body} if body is not None else {}
            assert_error(who.request(method.upper(), path, **kw), status, code)
    assert_error(Client().get(inv_path(org)), 401, "unauthenticated")
    assert db_status(inv["id"]) == "pending"
    assert psql("SELECT count(*) FROM finicom.invitations WHERE org_id = $1", org["id"]) == "1"


def test_api_key_cannot_accept_403(team):
    org, admin, _w, _r = team
    inv, tok, _ = invite_and_token(admin, org)
    r = admin.post(org_path(org, "/api-keys"), {"name": "k", "role": "admin"})
    assert r.status_code == 201, r.text
    key = r.json()["token"]
    fc.register_secret(key)
    r = accept(tok, Client(), {"name": "Key", "password": fc.new_password()},
               headers={"Authorization": "Bearer " + key})
    assert_error(r, 403, "forbidden")
    assert db_status(inv["id"]) == "pending"


# --------------------------------------------------------------------------
# the outbox after sending


def test_outbox_scrubbed_and_email_status_sent(team):
    org, admin, _w, _r = team
    inv, tok, addr = invite_and_token(admin, org)
    ok = wait_until(lambda: psql("SELECT status FROM finicom.mail_outbox WHERE invitation_id = $1 "
                                 "ORDER BY created_at DESC LIMIT 1", inv["id"]) == "sent", 10, 0.2)
    assert ok, psql("SELECT status || ' ' || attempts FROM finicom.mail_outbox WHERE invitation_id = $1",
                    inv["id"])
    row = psql("SELECT body FROM finicom.mail_outbox WHERE invitation_id = $1", inv["id"])
    assert tok not in row and "/invite/" not in row, row
    assert psql("SELECT count(*) FROM finicom.mail_outbox WHERE invitation_id = $1 AND (link IS NOT NULL "
                "OR sent_at IS NULL OR attempts < 1)", inv["id"]) == "0"
    assert psql("SELECT count(*) FROM finicom.mail_outbox m WHERE row_to_json(m)::text LIKE '%' || $1 || '%'",
                tok) == "0"
    items = admin.get(inv_path(org)).json()["items"]
    assert {i["id"]: i["email_status"] for i in items}[inv["id"]] == "sent", items
    # the token keeps working: only the outbox forgot it
    assert preview(tok).status_code == 200


# --------------------------------------------------------------------------
# concurrency


def test_two_concurrent_accepts_one_membership(team):
    org, admin, _w, _r = team
    for _round in range(3):
        inv, tok, addr = invite_and_token(admin, org)
        fc.PACER.wait()
        fc.PACER.wait()

        def go(name):
            return Client().post("/api/v1/invitations/%s/accept" % tok,
                                 {"name": name, "password": fc.new_password()})

        with concurrent.futures.ThreadPoolExecutor(max_workers=2) as ex:
            rs = list(ex.map(go, ("First", "Second")))
        codes = sorted(r.status_code for r in rs)
        assert codes[0] == 201 and codes[1] in (409, 410), [(r.status_code, r.text) for r in rs]
        loser = [r for r in rs if r.status_code != 201][0]
        if loser.status_code == 410:
            assert_gone(loser, "accepted")
        else:
            assert_error(loser, 409, "email_taken")
        assert psql("SELECT count(*) FROM finicom.users WHERE lower(email) = lower($1)", addr) == "1"
        assert psql("SELECT count(*) FROM finicom.memberships m JOIN finicom.users u ON u.id = m.user_id "
                    "WHERE m.org_id = $1 AND lower(u.email) = lower($2)", org["id"], addr) == "1"
        assert db_status(inv["id"]) == "accepted"


# --------------------------------------------------------------------------
# the real pg_cron job


def test_pg_cron_job_expires_within_75s(team):
    org, admin, _w, _r = team
    assert psql("SELECT count(*) FROM cron.job WHERE jobname = 'finicom-expire-invitations' AND active") == "1"
    inv = invite(admin, org, fc.unique_email("cron"))
    mark = psql("SELECT now() - interval '1 second'")
    psql("UPDATE finicom.invitations SET expires_at = now() - interval '1 second' WHERE id = $1", inv["id"])
    assert db_status(inv["id"]) == "pending"

    def flipped():
        return psql("SELECT count(*) FROM finicom.invitations i JOIN audit.events e ON e.target_id = i.id "
                    "WHERE i.id = $1 AND i.status = 'expired' AND e.action = 'invitation.expired' "
                    "AND e.actor_type = 'system'", inv["id"]) == "1"

    assert wait_until(flipped, 75, interval=1), \
        "the pg_cron job did not expire the invitation within 75 s (status %s; last runs: %s)" % (
            db_status(inv["id"]),
            psql("SELECT string_agg(d.status || ' ' || d.start_time, '; ') FROM (SELECT * FROM "
                 "cron.job_run_details d JOIN cron.job j USING (jobid) WHERE j.jobname = "
                 "'finicom-expire-invitations' ORDER BY d.start_time DESC LIMIT 3) d"))
    # and it was the job: it ran (successfully) after the invitation went past due
    assert psql("SELECT count(*) FROM cron.job_run_details d JOIN cron.job j USING (jobid) "
                "WHERE j.jobname = 'finicom-expire-invitations' AND d.status = 'succeeded' "
                "AND d.start_time >= $1::timestamptz", mark) != "0"
    items = admin.get(inv_path(org), params={"status": "expired"}).json()["items"]
    assert [i["id"] for i in items] == [inv["id"]]


# --------------------------------------------------------------------------
# logs: after the tests above (file order); the destructive ones run later


def test_malformed_token_in_the_path_is_not_logged():
    """A value on a token route is never logged, even one too short to look
    like a token (a mistyped link still carries most of a real token)."""
    value = "Mistyped" + fc.unique_email("t").split("@")[0].replace("-", "")[:12]
    assert preview(value).status_code == 404
    assert accept(value, Client(), {"name": "X", "password": fc.new_password()}).status_code == 404
    time.sleep(0.3)
    hits = []
    for root, _dirs, names in os.walk(fc.LOGDIR):
        for n in names:
            with open(os.path.join(root, n), "rb") as f:
                if value.encode() in f.read():
                    hits.append(n)
    assert hits == [], "the path value reached the logs: %r" % hits


def test_zz_tokens_never_in_logs():
    tokens = list(TOKENS)
    assert len(tokens) >= 5, "the tests above should have read tokens from mails"
    logdir = fc.LOGDIR
    files = []
    for root, _dirs, names in os.walk(logdir):
        files += [os.path.join(root, n) for n in names if os.path.isfile(os.path.join(root, n))]
    assert any(f.endswith(".log") for f in files), "no *.log in %s" % logdir
    time.sleep(0.5)
    blobs = {}
    for p in files:
        try:
            with open(p, "rb") as f:
                blobs[p] = f.read()
        except OSError:
            pass
    alltext = b"\n".join(blobs.values())
    assert any(rid.encode() in alltext for rid in fc.REQUEST_IDS[-50:]), \
        "no request id of this run in %s: wrong log directory?" % logdir
    found = sorted({(os.path.basename(p), t[:6] + "...") for p, data in blobs.items() for t in tokens
                    if t.encode() in data})
    assert not found, "invitation tokens in the logs (file, token): %r" % found


# --------------------------------------------------------------------------
# faults (destructive: they stop the SMTP sink or kill the mailer)


def _pidfile(name):
    return os.path.join(RUN_DIR, name)


def _proc(pidfile):
    """(pid, argv, cwd, environ) of the live process in pidfile."""
    assert os.path.exists(pidfile), "%s does not exist (is it running?)" % pidfile
    pid = int(open(pidfile).read().strip())
    os.kill(pid, 0)
    argv = [a.decode() for a in open("/proc/%d/cmdline" % pid, "rb").read().split(b"\0") if a]
    cwd = os.readlink("/proc/%d/cwd" % pid)
    environ = dict(kv.decode().split("=", 1) for kv in open("/proc/%d/environ" % pid, "rb").read()
                   .split(b"\0") if b"=" in kv)
    return pid, argv, cwd, environ


def _unsupervise_mailer():
    """deploy/dev supervises the mailer (it restarts it after a crash), and
    the tests below kill and start mailers themselves: stop the supervisor
    (it stops its mailer), then start the same mailer unsupervised, so no
    second mailer appears behind a test's back."""
    pidfile = _pidfile("finicom-mailer.pid")
    try:
        sup = int(open(_pidfile("finicom-mailer-supervisor.pid")).read().strip())
    except (OSError, ValueError):
        return
    if not _alive(sup):
        return
    pid, argv, cwd, environ = _proc(pidfile)
    os.kill(sup, signal.SIGTERM)
    assert wait_until(lambda: not _alive(sup) and not _alive(pid), 15, 0.1), "the mailer's supervisor did not stop"
    _restart(pidfile, argv, cwd, environ, "finicom-mailer.log")


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _restart(pidfile, argv, cwd, environ, logname):
    """Start argv detached (its own session), as deploy/dev does, and record its pid."""
    with open(os.path.join(fc.LOGDIR, logname), "ab") as log, open(os.devnull, "rb") as null:
        p = subprocess.Popen(argv, cwd=cwd, env=environ, stdin=null, stdout=log, stderr=subprocess.STDOUT,
                             start_new_session=True)
    with open(pidfile, "w") as f:
        f.write("%d\n" % p.pid)
    return p


def _port_open(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def _sink_port(argv):
    return int(argv[argv.index("-l") + 1].rsplit(":", 1)[1])


@pytest.mark.destructive
def test_smtp_sink_down_mail_arrives_after_restart():
    admin = signup(name="Sink Admin")
    org = create_org(admin)
    pidfile = _pidfile("smtp-sink.pid")
    pid, argv, cwd, environ = _proc(pidfile)
    port = _sink_port(argv)
    restarted = False
    try:
        os.kill(pid, signal.SIGTERM)
        assert wait_until(lambda: not _alive(pid), 10, 0.1), "the sink did not stop"
        assert wait_until(lambda: not _port_open(port), 5, 0.1)
        addr = fc.unique_email("sinkdown")
        inv = invite(admin, org, addr)
        assert inv["status"] == "pending"

        def failed_once():
            return psql("SELECT count(*) FROM finicom.mail_outbox WHERE invitation_id = $1 AND status = 'queued' "
                        "AND attempts >= 1 AND last_error IS NOT NULL AND link IS NOT NULL", inv["id"]) == "1"

        assert wait_until(failed_once, 30, 0.3), psql(
            "SELECT status || ' ' || attempts || ' ' || coalesce(last_error, '-') FROM finicom.mail_outbox "
            "WHERE invitation_id = $1", inv["id"])
        assert mails_to(addr) == []
        items = admin.get(inv_path(org)).json()["items"]
        assert items[0]["email_status"] == "queued", items
        _restart(pidfile, argv, cwd, environ, "smtp-sink.log")
        restarted = True
        assert wait_until(lambda: _port_open(port), 20, 0.2), "the sink did not come back"
        tok = wait_token(addr, timeout=60)
        assert preview(tok).status_code == 200
        assert wait_until(lambda: psql("SELECT status FROM finicom.mail_outbox WHERE invitation_id = $1",
                                       inv["id"]) == "sent", 10, 0.2)
    finally:
        if not restarted and not _port_open(port):
            _restart(pidfile, argv, cwd, environ, "smtp-sink.log")
            wait_until(lambda: _port_open(port), 20, 0.2)


@pytest.mark.destructive
def test_mailer_sigkilled_mid_batch_every_mail_delivered():
    admin = signup(name="Batch Admin")
    org = create_org(admin)
    pidfile = _pidfile("finicom-mailer.pid")
    _unsupervise_mailer()
    pid, argv, cwd, environ = _proc(pidfile)
    addrs = [fc.unique_email("batch%d" % i) for i in range(12)]
    restarted = False
    try:
        # queue a batch while the mailer is frozen, let it start, kill it mid-way
        os.kill(pid, signal.SIGSTOP)
        try:
            for a in addrs:
                invite(admin, org, a)
        finally:
            os.kill(pid, signal.SIGCONT)
        time.sleep(0.05)
        os.kill(pid, signal.SIGKILL)
        assert wait_until(lambda: not _alive(pid), 10, 0.05), "the mailer did not die"
        pending = psql("SELECT count(*) FROM finicom.mail_outbox WHERE org_id = $1 AND status = 'queued'",
                       org["id"])
        _restart(pidfile, argv, cwd, environ, "finicom-mailer.log")
        restarted = True
        newpid = int(open(pidfile).read())
        assert wait_until(lambda: _alive(newpid), 3, 0.1)
        for a in addrs:
            tok = wait_token(a, timeout=60)
            assert fc.TOKEN_RE.match(tok)
        # A kill after the relay accepted a message and before mail_sent()
        # committed leaves its row queued under the claim's lease (30 s,
        # LEASE_SECONDS in src/mailer/mailer.c): it is sent again once the
        # lease ends (at least once, never lost), so the wait covers the lease.
        assert wait_until(lambda: psql("SELECT count(*) FROM finicom.mail_outbox WHERE org_id = $1 "
                                       "AND status <> 'sent'", org["id"]) == "0", 30 + 25, 0.2), \
            "every outbox row ends sent (%s were queued at the kill): %s" % (pending, psql(
                "SELECT string_agg(status || '/' || attempts || '/' || next_attempt_at::text, '; ') "
                "FROM finicom.mail_outbox WHERE org_id = $1", org["id"]))
        # a message sent twice (the kill's window) carries the same Message-ID both times
        for a in addrs:
            ids = {m["Message-ID"] for m in mails_to(a, "invited you to")}
            assert len(ids) == 1, (a, ids)
        assert _alive(newpid), "the restarted mailer keeps running"
    finally:
        if not restarted:
            try:
                os.kill(pid, signal.SIGCONT)
            except ProcessLookupError:
                pass
            if not _alive(pid):
                _restart(pidfile, argv, cwd, environ, "finicom-mailer.log")


@pytest.mark.destructive
def test_starttls_required_against_plain_sink_is_not_sent_and_retried(tmp_path):
    """smtp_starttls = required and a relay without TLS: nothing is sent, the
    error is recorded, the message stays queued and is retried; once a mailer
    that may send in plain (the stack's own) runs again, it is delivered."""
    admin = signup(name="TLS Admin")
    org = create_org(admin)
    pidfile = _pidfile("finicom-mailer.pid")
    _unsupervise_mailer()
    pid, argv, cwd, environ = _proc(pidfile)
    conf = argv[argv.index("-c") + 1]
    strict_conf = tmp_path / "finicom-starttls.conf"
    text = open(conf).read()
    assert "smtp_starttls = off" in text
    strict_conf.write_text(text.replace("smtp_starttls = off", "smtp_starttls = required"))
    strict = None
    try:
        os.kill(pid, signal.SIGTERM)
        assert wait_until(lambda: not _alive(pid), 15, 0.1), "the stack's mailer did not stop"
        strict = subprocess.Popen([argv[0], "-c", str(strict_conf)], cwd=cwd, env=environ,
                                  stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                  stderr=open(os.path.join(fc.LOGDIR, "finicom-mailer-starttls.log"), "ab"),
                                  start_new_session=True)
        addr = fc.unique_email("tls")
        inv = invite(admin, org, addr)

        def refused_twice():
            return psql("SELECT count(*) FROM finicom.mail_outbox WHERE invitation_id = $1 AND status = 'queued' "
                        "AND attempts >= 2 AND last_error LIKE '%STARTTLS%'", inv["id"]) == "1"

        assert wait_until(refused_twice, 40, 0.3), psql(
            "SELECT status || ' ' || attempts || ' ' || coalesce(last_error, '-') FROM finicom.mail_outbox "
            "WHERE invitation_id = $1", inv["id"])
        assert mails_to(addr) == [], "nothing may be sent without TLS when it is required"
        assert strict.poll() is None, "the mailer keeps running after a refused send"
        strict.terminate()
        assert strict.wait(15) == 0
        strict = None
        _restart(pidfile, argv, cwd, environ, "finicom-mailer.log")
        tok = wait_token(addr, timeout=60)
        assert fc.TOKEN_RE.match(tok)
    finally:
        if strict is not None:
            strict.kill()
            strict.wait(5)
        try:
            alive = _alive(int(open(pidfile).read()))
        except (OSError, ValueError):
            alive = False
        if not alive:
            _restart(pidfile, argv, cwd, environ, "finicom-mailer.log")
