"""Helpers of the two-factor tests (test_totp.py, test_require_2fa.py).

Codes come from Debian's oathtool, an implementation nobody here wrote:
`oathtool --totp -b SECRET` (SHA-1, 6 digits, 30 s), and `-N` for another
time.  Every secret, login token and recovery code is registered for the
log-grep test (client.register_secret); the six-digit codes are too short
to grep for blindly, so each is kept with the request id of the request
that sent it (CODES_SENT) and looked for in that request's log lines.
"""
import subprocess
import time

import client as fc

# (request id, code) of every request that carried a code
CODES_SENT = []
# every TOTP secret, otpauth URI, login token and recovery code seen
VALUES = []


def keep(value):
    """Register value for the log tests (this module's and test_accounts')."""
    fc.register_secret(value)
    if value not in VALUES:
        VALUES.append(value)


def oathtool(secret, offset_steps=0):
    """The TOTP code of secret at now + offset_steps * 30 s, by oathtool."""
    when = "@%d" % (int(time.time()) + 30 * offset_steps)
    out = subprocess.run(["oathtool", "--totp", "-b", "-N", when, secret],
                         capture_output=True, text=True, check=True, timeout=10).stdout.strip()
    assert len(out) == 6 and out.isdigit(), out
    return out


def steady(margin=3.0):
    """Wait until at least `margin` seconds of the current 30-s step remain
    (so that 'now' is the same step for oathtool and the server)."""
    left = 30 - (time.time() % 30)
    if left < margin:
        time.sleep(left + 0.2)


def sent(c, code):
    rid = c.last.headers.get("X-Request-Id") if c.last is not None else None
    if rid:
        CODES_SENT.append((rid, code))


def enrol(c):
    """POST /me/totp as c: the secret (registered)."""
    r = c.post("/api/v1/me/totp")
    assert r.status_code == 200, (r.status_code, r.text)
    body = r.json()
    keep(body["secret"])
    keep(body["otpauth_uri"])
    return body


def confirm(c, secret, offset_steps=0):
    steady()
    code = oathtool(secret, offset_steps)
    r = c.post("/api/v1/me/totp/confirm", {"code": code})
    sent(c, code)
    return r


def enable(c):
    """Enrol and confirm c; returns (secret, recovery codes).  The step of
    now is then used: later codes are taken from the next step on."""
    secret = enrol(c)["secret"]
    r = confirm(c, secret)
    assert r.status_code == 200, (r.status_code, r.text)
    codes = r.json()["recovery_codes"]
    for k in codes:
        keep(k)
    return secret, codes


def login_step1(email, password):
    """POST /auth/login with a fresh client: (client, reply)."""
    c = fc.Client()
    r = c.login(email, password)
    if r.status_code == 200 and r.json().get("login_token"):
        keep(r.json()["login_token"])
    return c, r


def login_totp(c, login_token, code):
    r = c.post("/api/v1/auth/login/totp", {"login_token": login_token, "code": code})
    sent(c, code)
    return r


def two_step_login(email, password, secret, offset_steps=1):
    """A full sign-in with a code of now + offset_steps: the signed-in client."""
    c, r = login_step1(email, password)
    assert r.status_code == 200 and r.json()["totp_required"] is True, r.text
    steady()
    r = login_totp(c, r.json()["login_token"], oathtool(secret, offset_steps))
    assert r.status_code == 200, (r.status_code, r.text)
    return c
