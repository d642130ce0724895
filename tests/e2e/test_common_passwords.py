"""Passwords on the list of the 10,000 most common passwords are refused
wherever a password is set: signup, finicomctl create-user and accepting an
invitation without a session (400 validation_failed, field "password";
nothing is created).  ASCII case does not matter ("Password1" is as common
as "password1").  Logins are not checked: an account whose password
predates the rule still signs in."""
import ctypes
import ctypes.util
import os
import secrets
import subprocess

import pytest

import client as fc
from client import Client, assert_error, psql

SIGNUP = "/api/v1/auth/signup"
CTL = os.path.join(os.environ.get("FINICOM_BUILD", "/nonexistent"), "src", "finicomctl")

COMMON = ["password1", "qwerty123", "iloveyou", "Password1", "QWERTY123", "1qaz2wsx", "trustno1",
          "baseball", "Football", "superman", "12345678", "24081990"]


@pytest.mark.parametrize("password", COMMON)
def test_signup_common_password_400(password):
    email = fc.unique_email("common")
    r = Client().post(SIGNUP, {"email": email, "password": password, "name": "Common Choice"})
    err = assert_error(r, 400, "validation_failed", field="password")
    assert "common" in err["message"], err
    assert psql("SELECT count(*) FROM finicom.users WHERE lower(email) = lower($1)", email) == "0"


@pytest.mark.parametrize("password", ["password1!", "qwerty123 ", "iloveyou-too", "correct horse battery staple"])
def test_signup_near_misses_are_fine(password):
    c = fc.signup(password=password)
    assert c.user["email"] == c.email


def test_ctl_create_user_refuses_a_common_password():
    email = fc.unique_email("ctlcommon")
    r = subprocess.run([CTL, "create-user", "--email", email, "--name", "Cli Common"],
                       input="Qwerty123\n", capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "common" in r.stderr, (r.returncode, r.stderr)
    assert psql("SELECT count(*) FROM finicom.users WHERE lower(email) = lower($1)", email) == "0"


def test_accept_checks_the_password_before_the_token():
    """The rule comes first, as every 400 of the body does: a common password
    is 400 even for a token that does not exist, a good one then 404."""
    token = secrets.token_urlsafe(32)
    path = "/api/v1/invitations/%s/accept" % token
    r = Client().post(path, {"name": "Nobody", "password": "Password1"})
    assert_error(r, 400, "validation_failed", field="password")
    r = Client().post(path, {"name": "Nobody", "password": "not-common-at-all-42"})
    assert_error(r, 404, "not_found")


def argon2id_phc(password):
    """An Argon2id PHC string of password, made by libargon2 (the library
    finicomd links) with finicomd's parameters."""
    lib = ctypes.CDLL(ctypes.util.find_library("argon2") or "libargon2.so.1")
    sz, u32 = ctypes.c_size_t, ctypes.c_uint32
    lib.argon2id_hash_encoded.argtypes = [u32, u32, u32, ctypes.c_char_p, sz, ctypes.c_char_p, sz, sz,
                                          ctypes.c_char_p, sz]
    out = ctypes.create_string_buffer(128)
    pw, salt = password.encode(), os.urandom(16)
    rc = lib.argon2id_hash_encoded(2, 19456, 1, pw, len(pw), salt, len(salt), 32, out, len(out))
    assert rc == 0, rc
    return out.value.decode()


def test_login_is_not_checked():
    """An account whose password is on the list (set before the rule; here
    through SQL) still signs in: the rule is for new passwords only."""
    c = fc.signup()
    psql("UPDATE finicom.users SET password_hash = $1 WHERE id = $2", argon2id_phc("password1"), c.id)
    r = Client().login(c.email, "password1")
    assert r.status_code == 200, r.text
    assert r.json()["user"]["id"] == c.id
