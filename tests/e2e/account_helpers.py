"""Helpers of the account suites (test_password_reset, test_sessions,
test_profile): the password reset mail in the SMTP sink's Maildir, and the
log scan that each of those suites runs last.

The log scan: every reset token read from a mail and every password a
suite set is registered (client.register_secret, so the scan of
test_accounts.py sees them too when it runs later in the same process) and
also kept in SECRETS here; assert_not_in_logs() greps every file of the
stack's log directory for them, raw and URL-encoded, after checking that
those logs hold a request id of this run (the right logs).
"""
import os
import re
import time
import urllib.parse

import client as fc

RESET_LINK_RE = re.compile(r"^\s*(\S+)/reset/([A-Za-z0-9_-]+)\s*$", re.M)
SECRETS = []


def secret(value):
    """Remember value (a token or a password) for the log scans; returns it."""
    if value and value not in SECRETS:
        SECRETS.append(value)
    fc.register_secret(value)
    return value


def new_password():
    return secret(fc.new_password())


def reset_mails(addr):
    """The password reset mails to addr, oldest first: [(subject, body)]."""
    got = [m for m in fc._mail_index() if addr.lower() in m[0] and RESET_LINK_RE.search(m[2])]
    return [(m[1], m[2]) for m in sorted(got, key=lambda m: m[3])]


def wait_reset_token(addr, n=1, timeout=fc.MAIL_TIMEOUT):
    """The token of the n-th reset mail to addr (waiting for it)."""
    deadline = time.monotonic() + timeout
    while True:
        mails = reset_mails(addr)
        if len(mails) >= n:
            links = RESET_LINK_RE.findall(mails[n - 1][1])
            assert len(links) == 1, mails[n - 1][1]
            return secret(links[0][1])
        if time.monotonic() > deadline:
            raise AssertionError("no%s reset mail to %s within %d s (outbox: %s)" % (
                "" if n == 1 else " %d" % n, addr, timeout,
                fc.psql("SELECT string_agg(status || '/' || attempts, '; ' ORDER BY created_at) "
                        "FROM finicom.mail_outbox WHERE lower(recipient) = lower($1)", addr)))
        time.sleep(0.05)


def request_reset(email, **kw):
    return fc.Client().post("/api/v1/auth/password-reset", {"email": email}, **kw)


def reset_with(token, password, c=None, refused=False):
    """POST the new password to the reset link as c (a new Client by default).
    A password the test expects to be refused (refused=True: "password1",
    an email) is not a secret the log scans look for: such words are in
    other logs (the unit tests' output) anyway."""
    c = c or fc.Client()
    if not refused:
        secret(password)
    return c, c.post("/api/v1/auth/password-reset/" + token, {"password": password})


def assert_not_in_logs(values, minimum=1):
    """None of values (at least `minimum` of them, 8 bytes or longer) is in
    any file of the stack's log directory, raw or URL-encoded."""
    values = [v for v in values if v and len(v) >= 8]
    assert len(values) >= minimum, "the tests before should have registered secrets (%d)" % len(values)
    time.sleep(0.5)
    blobs = {}
    for root, _dirs, names in os.walk(fc.LOGDIR):
        for n in names:
            p = os.path.join(root, n)
            try:
                with open(p, "rb") as f:
                    blobs[p] = f.read()
            except OSError:
                continue
    assert any(p.endswith(".log") for p in blobs), "no *.log file in %s" % fc.LOGDIR
    alltext = b"\n".join(blobs.values())
    assert any(rid.encode() in alltext for rid in fc.REQUEST_IDS[-50:]), \
        "no request id of this run in %s: wrong log directory?" % fc.LOGDIR
    found = sorted({(os.path.basename(p), v[:6] + "...") for p, data in blobs.items() for v in values
                    if v.encode() in data or urllib.parse.quote(v, safe="").encode() in data})
    assert not found, "secrets in the logs (file, value): %r" % found
