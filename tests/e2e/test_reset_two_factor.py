"""Two-factor authentication meets the password reset and the operator
(sql/0028, docs/two-factor.md):

  * a password reset of an account with two-factor on sets the password,
    ends every session and spends the token, but answers like the first
    step of POST /auth/login ({totp_required, login_token}, no session
    cookie): the mailbox alone does not sign anyone in; POST
    /auth/login/totp completes it with a TOTP code (oathtool) or a
    recovery code;
  * `finicomctl disable-2fa EMAIL` turns two-factor off for a user who
    lost the device and the recovery codes, with its auth event.
"""
import os
import subprocess

import account_helpers as ah
import client as fc
import totp_util as tu
from client import Client, assert_error, psql
from totp_util import oathtool

RESET = "/api/v1/auth/password-reset"


def account():
    return fc.signup(password=ah.new_password())


def events(user_id, event):
    return int(psql("SELECT count(*) FROM audit.auth_events WHERE user_id = $1 AND event = $2", user_id, event))


def reset(c):
    """Request a reset for c's address and return its token (from the mail)."""
    n = len(ah.reset_mails(c.email))
    assert ah.request_reset(c.email).status_code == 202
    return ah.wait_reset_token(c.email, n + 1)


def ctl(*args):
    exe = os.path.join(os.environ["FINICOM_BUILD"], "src", "finicomctl")
    conninfo = "host=%s port=%s dbname=%s user=%s" % (fc.PGHOST, fc.PGPORT, fc.PGDATABASE, fc.PGUSER)
    return subprocess.run([exe, *args, "--database", conninfo], capture_output=True, text=True, timeout=60)


def test_reset_with_two_factor_on_asks_for_the_second_step():
    c = account()
    secret, _ = tu.enable(c)
    other = Client()
    assert other.login(c.email, c.password).status_code == 200  # step one only: no session
    token = reset(c)

    new = ah.new_password()
    n, r = ah.reset_with(token, new, Client())
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"totp_required", "login_token"} and body["totp_required"] is True, body
    tu.keep(body["login_token"])
    assert fc.TOKEN_RE.match(body["login_token"]), body
    assert fc.session_set_cookie(r) is None, "no session cookie before the second step"
    assert n.me().status_code == 401, "the reset alone does not sign in"
    # the rest of the reset happened: password set, sessions ended, token spent
    assert c.me().status_code == 401, "every session ended"
    assert Client().login(c.email, c.password).status_code == 401, "the old password is gone"
    g = Client().get(RESET + "/" + token)
    assert g.status_code == 410 and g.json()["status"] == "used", g.text
    assert events(c.id, "password.reset") == 1
    assert int(psql("SELECT count(*) FROM finicom.sessions WHERE user_id = $1", c.id)) == 0

    # a wrong code is refused; the right one completes the sign-in on the same client
    assert_error(tu.login_totp(n, body["login_token"], "000000" if oathtool(secret, 1) != "000000"
                               else "111111"), 401, "invalid_credentials")
    tu.steady()
    r = tu.login_totp(n, body["login_token"], oathtool(secret, 1))
    assert r.status_code == 200, r.text
    assert set(r.json()) == {"user", "csrf_token"} and r.json()["user"]["email"] == c.email
    assert fc.session_set_cookie(r) is not None
    assert n.me().status_code == 200, "signed in after the second step"
    # the login token is spent with it
    assert_error(tu.login_totp(Client(), body["login_token"], oathtool(secret, 2)), 401, "invalid_credentials")
    # and the new password works, still with two-factor
    c2, r = tu.login_step1(c.email, new)
    assert r.status_code == 200 and r.json()["totp_required"] is True, r.text


def test_reset_second_step_with_a_recovery_code():
    c = account()
    _, codes = tu.enable(c)
    token = reset(c)
    n, r = ah.reset_with(token, ah.new_password())
    assert r.status_code == 200 and r.json()["totp_required"] is True, r.text
    tu.keep(r.json()["login_token"])
    r = tu.login_totp(n, r.json()["login_token"], codes[0])
    assert r.status_code == 200, r.text
    assert n.me().status_code == 200
    assert psql("SELECT used_at IS NOT NULL FROM finicom.totp_recovery_codes WHERE user_id = $1 "
                "ORDER BY used_at NULLS LAST LIMIT 1", c.id) == "t"


def test_reset_without_two_factor_still_signs_in():
    c = account()
    token = reset(c)
    n, r = ah.reset_with(token, ah.new_password())
    assert r.status_code == 200 and set(r.json()) == {"user", "csrf_token"}, r.text
    assert fc.session_set_cookie(r) is not None and n.me().status_code == 200


def test_operator_disables_two_factor():
    c = account()
    secret, codes = tu.enable(c)
    assert psql("SELECT count(*) FROM finicom.totp_credentials WHERE user_id = $1", c.id) == "1"
    _, r = tu.login_step1(c.email, c.password)
    pending = r.json()["login_token"]

    p = ctl("disable-2fa", c.email.upper())  # the address in any case
    assert p.returncode == 0, (p.stdout, p.stderr)
    assert c.id in p.stdout and secret not in p.stdout + p.stderr
    assert psql("SELECT count(*) FROM finicom.totp_credentials WHERE user_id = $1", c.id) == "0"
    assert psql("SELECT count(*) FROM finicom.totp_recovery_codes WHERE user_id = $1", c.id) == "0"
    assert events(c.id, "totp.disabled_by_operator") == 1
    assert psql("SELECT request_id FROM audit.auth_events WHERE user_id = $1 "
                "AND event = 'totp.disabled_by_operator'", c.id) == "finicomctl disable-2fa"
    assert c.me().status_code == 200, "the user's sessions stay"
    assert c.me().json()["user"]["totp_enabled"] is False
    # a pending second step is dead, and the password alone signs in now
    assert_error(tu.login_totp(Client(), pending, codes[1]), 401, "invalid_credentials")
    r = Client().login(c.email, c.password)
    assert r.status_code == 200 and set(r.json()) == {"user", "csrf_token"}, r.text

    # again: two-factor is not on (exit 1, nothing recorded); unknown address; bad usage
    p = ctl("disable-2fa", c.email)
    assert p.returncode == 1 and "two-factor" in p.stderr, (p.stdout, p.stderr)
    assert events(c.id, "totp.disabled_by_operator") == 1
    p = ctl("disable-2fa", "nobody-%s" % c.email)
    assert p.returncode == 1, (p.stdout, p.stderr)
    p = ctl("disable-2fa", "not an email")
    assert p.returncode == 2 and "email" in p.stderr, (p.stdout, p.stderr)
    exe = os.path.join(os.environ["FINICOM_BUILD"], "src", "finicomctl")
    p = subprocess.run([exe, "disable-2fa"], capture_output=True, text=True, timeout=10)
    assert p.returncode == 2 and "usage" in p.stderr


def test_zz_no_codes_or_tokens_in_logs():
    ah.assert_not_in_logs(tu.VALUES + ah.SECRETS, minimum=4)
