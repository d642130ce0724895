"""One email rule for the API, finicomctl and the mailer (docs/emails.md).

What the API accepts is what finicom-mailer can send: an ASCII dot-atom
local part, an ASCII or internationalized domain stored and mailed as its
A-labels.  Everything else is 400 validation_failed naming the field, at
signup, login, invitations and billing_email, and nothing is stored.
Emails compare with ASCII letters lowercased only, so a look-alike such as
U+212A KELVIN SIGN for "k" (PostgreSQL's lower() maps it to "k") can
neither sign up nor sign in as the ASCII address.

The expected A-label "xn--bcher-kva" of "bücher" was computed with Python's
idna package (IDNA2008, UTS 46 non-transitional) and Debian's idn2 tool.
Mail is read from the SMTP sink's Maildir ($FINICOM_MAILDIR), whose
X-RcptTo header is the envelope recipient.
"""
import os
import subprocess
import sys
import uuid

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import client as fc  # noqa: E402
from client import Client, assert_error, create_org, psql, signup  # noqa: E402
from conftest import REPO, superuser_psql, wait_until  # noqa: E402
from test_ctl import ctl  # noqa: E402
from test_invitations import inv_path, wait_mails  # noqa: E402

SIGNUP = "/api/v1/auth/signup"
LOGIN = "/api/v1/auth/login"
KELVIN = "\u212a"
BUCHER = "B\u00fccher.example"          # "Bücher.example"
BUCHER_ACE = "xn--bcher-kva.example"


def tag():
    return uuid.uuid4().hex[:12]


def refused_forms(t):
    """Addresses the rule refuses, each holding the marker t (to find any row stored)."""
    return [
        ("non-ASCII local part", "jos\u00e9-%s@e2e.finicom.test" % t),
        ("U+212A in the local part", "ad%smin-%s@e2e.finicom.test" % (KELVIN, t)),
        ("U+0130 in the local part", "\u0130nfo-%s@e2e.finicom.test" % t),
        ("colon in the local part", "a:b-%s@e2e.finicom.test" % t),
        ("brackets in the local part", "a[b]-%s@e2e.finicom.test" % t),
        ("colon in the domain", "a-%s@e2e:finicom.test" % t),
        ("bracket in the domain", "a-%s@e2e.finicom.test]" % t),
        ("address literal", "a-%s@[127.0.0.1]" % t),
        ("quoted local part", '"a %s"@e2e.finicom.test' % t),
        ("two dots", "a..b-%s@e2e.finicom.test" % t),
        ("undotted domain", "a-%s@localhost" % t),
    ]


def stored_anywhere(t):
    """Rows holding marker t: users, invitations, billing emails, the outbox."""
    return psql(
        "SELECT (SELECT count(*) FROM finicom.users WHERE strpos(email, $1) > 0)"
        " + (SELECT count(*) FROM finicom.invitations WHERE strpos(email, $1) > 0)"
        " + (SELECT count(*) FROM finicom.orgs WHERE strpos(billing_email, $1) > 0)"
        " + (SELECT count(*) FROM finicom.mail_outbox WHERE strpos(recipient, $1) > 0)", t)


@pytest.fixture
def admin_org():
    admin = signup(name="Rule Admin")
    return admin, create_org(admin, "Email Rule " + tag())


@pytest.mark.parametrize("what,addr", refused_forms("signup"))
def test_signup_refuses_what_the_mailer_cannot_send(what, addr):
    t = tag()
    addr = addr.replace("signup", t)
    r = Client().post(SIGNUP, {"email": addr, "password": fc.new_password(), "name": "Bad Address"})
    assert_error(r, 400, "validation_failed", "email")
    assert stored_anywhere(t) == "0", what


@pytest.mark.parametrize("what,addr", refused_forms("invite"))
def test_invitation_refuses_what_the_mailer_cannot_send(admin_org, what, addr):
    admin, org = admin_org
    t = tag()
    addr = addr.replace("invite", t)
    r = admin.post(inv_path(org), {"email": addr, "role": "read"})
    assert_error(r, 400, "validation_failed", "email")
    assert stored_anywhere(t) == "0", what


@pytest.mark.parametrize("what,addr", refused_forms("billing"))
def test_billing_email_refuses_what_the_mailer_cannot_send(admin_org, what, addr):
    admin, org = admin_org
    t = tag()
    addr = addr.replace("billing", t)
    path = "/api/v1/orgs/%s/billing" % org["id"]
    assert admin.patch(path, {"billing_email": "billing-%s@e2e.finicom.test" % t}).status_code == 200
    assert_error(admin.patch(path, {"billing_email": addr}), 400, "validation_failed", "billing_email")
    assert admin.get(path).json()["billing_email"] == "billing-%s@e2e.finicom.test" % t, what
    assert psql("SELECT count(*) FROM finicom.orgs WHERE billing_email = $1", addr) == "0"


def test_billing_email_idn_is_stored_as_a_label(admin_org):
    admin, org = admin_org
    t = tag()
    r = admin.patch("/api/v1/orgs/%s/billing" % org["id"], {"billing_email": "Pay-%s@%s" % (t, BUCHER)})
    assert r.status_code == 200, r.text
    assert r.json()["billing_email"] == "Pay-%s@%s" % (t, BUCHER_ACE)


def test_invitation_to_an_idn_domain_is_stored_and_mailed_as_a_label(admin_org):
    admin, org = admin_org
    t = tag()
    typed, canonical = "Inv-%s@%s" % (t, BUCHER), "Inv-%s@%s" % (t, BUCHER_ACE)
    r = admin.post(inv_path(org), {"email": typed, "role": "read"})
    assert r.status_code == 201, r.text
    assert r.json()["email"] == canonical, r.json()
    assert psql("SELECT email FROM finicom.invitations WHERE id = $1", r.json()["id"]) == canonical
    (msg,) = wait_mails(canonical)
    assert msg["X-RcptTo"].strip().lower() == canonical.lower(), msg["X-RcptTo"]
    assert str(msg["To"]).strip() == canonical, msg["To"]
    got = wait_until(lambda: admin.get(inv_path(org)).json()["items"][0]["email_status"] == "sent", 30)
    assert got, admin.get(inv_path(org)).text
    # The same address typed in its other forms is the same invitation.
    for again in (typed.upper(), canonical.lower()):
        assert_error(admin.post(inv_path(org), {"email": again, "role": "read"}),
                     409, "invitation_pending")


def test_signup_and_login_with_an_idn_domain():
    t = tag()
    password = fc.new_password()
    c = Client()
    r = c.post(SIGNUP, {"email": "Lena-%s@%s" % (t, BUCHER), "password": password, "name": "Lena"})
    assert r.status_code == 201, r.text
    user = r.json()["user"]
    assert user["email"] == "Lena-%s@%s" % (t, BUCHER_ACE), user
    # The Unicode form, in other case, and the A-label all sign in to that account.
    for typed in ("lena-%s@b\u00fccher.example" % t, "LENA-%s@B\u00dcCHER.EXAMPLE" % t,
                  "lena-%s@%s" % (t, BUCHER_ACE)):
        r = Client().login(typed, password)
        assert r.status_code == 200, (typed, r.text)
        assert r.json()["user"]["id"] == user["id"]
    # The Unicode form is taken too.
    r = Client().post(SIGNUP, {"email": "lena-%s@b\u00fccher.example" % t,
                               "password": fc.new_password(), "name": "Other"})
    assert_error(r, 409, "email_taken")


def test_kelvin_sign_cannot_sign_up_or_in_as_the_ascii_address():
    t = tag()
    kate = signup(email="kate-%s@e2e.finicom.test" % t, name="Kate")
    lookalike = "%sate-%s@e2e.finicom.test" % (KELVIN, t)
    # Before the rule, lower() folded it onto Kate's: 409 at signup, and a
    # login with Kate's password as the look-alike signed in as Kate.
    r = Client().post(SIGNUP, {"email": lookalike, "password": fc.new_password(), "name": "Mallory"})
    assert_error(r, 400, "validation_failed", "email")
    assert_error(Client().login(lookalike, kate.password), 400, "validation_failed", "email")
    assert Client().login(kate.email.upper(), kate.password).status_code == 200
    assert psql("SELECT count(*) FROM finicom.users WHERE strpos(email, $1) > 0", t) == "1"


def test_mailer_fails_a_stored_address_outside_the_rule_at_once(admin_org):
    """A row written behind the API's back (or before the rule): failed with the
    reason after one attempt, not retried; an old Unicode domain goes to its A-label."""
    _admin, org = admin_org
    t = tag()
    bad = "a..b-%s@e2e.finicom.test" % t          # the old mailer check let it through
    legacy = "legacy-%s@b\u00fccher.example" % t  # the old mailer refused it outright
    ids = {}
    for addr in (bad, legacy):
        ids[addr] = psql(
            "INSERT INTO finicom.mail_outbox (org_id, recipient, subject, body, message_id)"
            " VALUES ($1, $2, 'rule test', 'body', '<' || gen_random_uuid() || '@e2e.finicom.test>')"
            " RETURNING id", org["id"], addr)
    psql("SELECT pg_notify('finicom_mail', '')")

    def state(addr):
        return psql("SELECT status || '|' || attempts || '|' || coalesce(last_error, '')"
                    " FROM finicom.mail_outbox WHERE id = $1", ids[addr])

    assert wait_until(lambda: not state(bad).startswith("queued") and
                      not state(legacy).startswith("queued"), 30), (state(bad), state(legacy))
    status, attempts, error = state(bad).split("|", 2)
    assert (status, attempts) == ("failed", "1"), state(bad)
    assert "cannot send to this address" in error and "local part" in error, error
    assert t not in error, "the reason names the rule, not the address"
    assert state(legacy).split("|")[0] == "sent", state(legacy)
    (msg,) = wait_mails("legacy-%s@%s" % (t, BUCHER_ACE), subject="rule test")
    assert msg["X-RcptTo"].strip() == "legacy-%s@%s" % (t, BUCHER_ACE), msg["X-RcptTo"]


def test_finicomctl_uses_the_rule():
    t = tag()
    r = ctl("create-user", "--email", "ad%smin-%s@e2e.finicom.test" % (KELVIN, t), "--name", "K",
            stdin="password-%s\n" % t)
    assert r.returncode == 2 and "email" in r.stderr and "ASCII" in r.stderr, (r.returncode, r.stderr)
    r = ctl("create-user", "--email", "Cli-%s@%s" % (t, BUCHER), "--name", "Cli", stdin="password-%s\n" % t)
    assert r.returncode == 0, r.stderr
    assert psql("SELECT email FROM finicom.users WHERE strpos(email, $1) > 0", t) == \
        "Cli-%s@%s" % (t, BUCHER_ACE)
    r = ctl("create-org", "--name", "Cli Rule " + t, "--admin", "cli-%s@B\u00dcCHER.example" % t)
    assert r.returncode == 0, r.stderr
    r = ctl("create-org", "--name", "Cli Rule " + t, "--admin", "a:b-%s@e2e.finicom.test" % t)
    assert r.returncode == 2 and "email" in r.stderr, (r.returncode, r.stderr)
    assert Client().login("cli-%s@b\u00fccher.example" % t, "password-%s" % t).status_code == 200


def _db_psql(env, db, sql):
    out = subprocess.run(
        ["psql", "-X", "-q", "-tA", "-v", "ON_ERROR_STOP=1", "-h", env["PGHOST"], "-p", env["PGPORT"],
         "-U", env["PGUSER"], "-d", db, "-c", sql],
        check=True, capture_output=True, text=True, timeout=60)
    return out.stdout.strip()


def test_upgrade_keeps_old_rows_and_normalize_emails_converts_them(env):
    """0017 on a database with rows from before the rule: the CHECK stays NOT
    VALID with a WARNING; finicomctl normalize-emails converts what it can,
    lists the rest, and validates the constraint once nothing breaks it."""
    db = "finicom_email_upgrade_" + tag()
    conninfo = "host=%s port=%s dbname=%s user=%s" % (env["PGHOST"], env["PGPORT"], db, env["PGUSER"])
    superuser_psql(env, "CREATE DATABASE " + db)
    try:
        def run(*args):
            return ctl(*args[:1], "--database", conninfo, *args[1:])
        r = run("migrate", "--sql-dir", os.path.join(REPO, "sql"), "--without-pg-cron", "--to", "0016")
        assert r.returncode == 0, r.stderr
        _db_psql(env, db, "INSERT INTO finicom.users (email, name, password_hash)"
                          " SELECT e, 'Old', '%s' FROM unnest(ARRAY['old@b\u00fccher.example',"
                          " 'ad%smin@acme.test', 'Caps@Example.COM']) e" % (fc.FAKE_HASH, KELVIN))
        _db_psql(env, db, "UPDATE finicom.users SET name = 'K' WHERE email LIKE 'ad%min@acme.test'")
        r = run("migrate", "--sql-dir", os.path.join(REPO, "sql"), "--without-pg-cron")
        assert r.returncode == 0, r.stderr
        assert "users_email_check stays NOT VALID" in r.stderr, r.stderr
        r = run("normalize-emails")
        assert r.returncode == 1, (r.stdout, r.stderr)
        assert '"old@b\u00fccher.example" becomes "old@%s"' % BUCHER_ACE in r.stdout, r.stdout
        assert '"Caps@Example.COM" becomes "Caps@example.com"' in r.stdout, r.stdout
        assert "ASCII local part" in r.stdout and "1 rows left" in r.stdout, r.stdout
        _db_psql(env, db, "UPDATE finicom.users SET email = 'kadmin@acme.test' WHERE name = 'K'")
        r = run("normalize-emails")
        assert r.returncode == 0 and "users_email_check validated" in r.stdout, (r.stdout, r.stderr)
        assert _db_psql(env, db, "SELECT string_agg(email, ' ' ORDER BY email) FROM finicom.users") == \
            "Caps@example.com kadmin@acme.test old@%s" % BUCHER_ACE
        assert _db_psql(env, db, "SELECT bool_and(convalidated) FROM pg_constraint WHERE conname IN"
                                 " ('users_email_check', 'invitations_email_check', 'orgs_billing_email_check')") == "t"
    finally:
        superuser_psql(env, "DROP DATABASE IF EXISTS %s WITH (FORCE)" % db)
