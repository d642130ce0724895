"""finicomctl rotate-key and the TOTP secrets of two-factor authentication
(finicom.totp_credentials.secret_enc, AAD "totp:<user id>", made and read
by the auth processes; docs/two-factor.md, docs/production.md "Key
rotation").

The steps of docs/production.md, with a two-step sign-in (codes by
oathtool) at each: before (old key), after the new key is added as a
decrypt-only key, after it becomes the encrypting key (secrets still under
the old one: the auth processes must decrypt with the decrypt-only key),
during rotate-key, and after the old key is removed (a TOTP code and a
recovery code, both of which need the secret decrypted).  Every stored
secret is decrypted here too, with Python's AES-GCM and the key files, and
compared with the base32 secret the enrolment showed.  Marked destructive:
it reloads finicomd."""
import base64
import os
import pathlib
import subprocess

import pytest

import client as fc
import totp_util as tu
from client import psql
from conftest import auth_pids, master_pid, wait_until
from test_rotate_key import conninfo, ctl, decrypt, key_files, key_of, put_back
from test_signup_mode import reload_with

pytestmark = pytest.mark.destructive


def reload_all(conf_path, text, base_url, env):
    """reload_with, and wait until the auth processes are new ones too."""
    old = auth_pids(master_pid(env))
    reload_with(conf_path, text, base_url, env)
    assert wait_until(lambda: old.isdisjoint(auth_pids(master_pid(env))), 20), \
        "auth processes were not replaced after SIGHUP"


def stored(user_id):
    return psql("SELECT secret_enc FROM finicom.totp_credentials WHERE user_id = $1", user_id)


def check_secret(c, keys, want_kid):
    """c's stored secret decrypts (AAD totp:<id>) to the secret shown at enrolment."""
    kid, plain = decrypt(stored(c.id), keys, "totp:" + c.id)
    assert plain == base64.b32decode(c.secret), c.id
    assert kid == want_kid, (kid, want_kid)


def user():
    c = fc.signup()
    c.secret, c.codes = tu.enable(c)
    return c


def sign_in(c, offset=1):
    s = tu.two_step_login(c.email, c.password, c.secret, offset)
    assert s.me().status_code == 200


def all_kids():
    return set(psql("SELECT string_agg(DISTINCT substr(secret_enc, 8, 8), ',') "
                    "FROM finicom.totp_credentials").split(","))


def test_rotate_key_covers_totp_secrets(env, base_url):
    files = key_files()
    conf_path, original, key_path, new_path, old_path, old_id, old_key = files
    keys = {old_id: old_key}
    # One user per phase (a code is accepted once per 30-s step and account).
    users = [user() for _ in range(6)]
    before, added, swapped, during1, during2, after = users
    pending = fc.signup()
    pending.secret = tu.enrol(pending)["secret"]  # enrolment not confirmed: rotated too
    for c in users + [pending]:
        check_secret(c, keys, old_id)
    sign_in(before)

    rotated = False
    try:
        # 1. The new key, decrypt-only for now.
        new_id = ctl("gen-key", new_path, check=0).stdout.strip()
        new_id2, new_key = key_of(new_path)
        assert new_id == new_id2 and new_id != old_id
        keys[new_id] = new_key
        reload_all(conf_path, original + "secret_decrypt_key_files = %s\n" % new_path, base_url, env)
        sign_in(added)

        # 2. The new key encrypts; the old one only decrypts.  Every secret
        # is still under the old key: the auth processes decrypt with the
        # decrypt-only key, and a new enrolment is under the new key.
        os.rename(key_path, old_path)
        os.rename(new_path, key_path)
        rotating = original + "secret_decrypt_key_files = %s\n" % old_path
        reload_all(conf_path, rotating, base_url, env)
        sign_in(swapped)
        check_secret(swapped, keys, old_id)
        fresh = user()
        check_secret(fresh, keys, new_id)

        # --check counts the TOTP secrets under the old key; without the old
        # key rotate-key stops at the first one and changes nothing.
        p = ctl("rotate-key", "-c", conf_path, "--database", conninfo(), "--check")
        assert p.returncode == 1 and "under other keys" in p.stdout, (p.stdout, p.stderr)
        no_old = pathlib.Path(conf_path + ".no-old")
        no_old.write_text(original)
        snapshot = psql("SELECT md5(string_agg(secret_enc, '' ORDER BY user_id)) FROM finicom.totp_credentials")
        p = ctl("rotate-key", "-c", str(no_old), "--database", conninfo())
        no_old.unlink()
        assert p.returncode == 1 and "does not decrypt" in p.stderr, (p.stdout, p.stderr)
        assert psql("SELECT md5(string_agg(secret_enc, '' ORDER BY user_id)) "
                    "FROM finicom.totp_credentials") == snapshot

        # 3. rotate-key, one row at a time, while users sign in with two-factor.
        proc = subprocess.Popen([os.path.join(os.environ["FINICOM_BUILD"], "src", "finicomctl"),
                                 "rotate-key", "-c", conf_path, "--database", conninfo(),
                                 "--batch", "1", "--pause", "150ms"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        signed_in_during = 0
        for c in (during1, during2):
            if proc.poll() is None:
                sign_in(c)
                signed_in_during += 1
        out, err = proc.communicate(timeout=180)
        assert proc.returncode == 0, (out, err)
        assert signed_in_during >= 1, "rotate-key ended before a sign-in could run during it: %s" % out
        assert "every secret is under key %s" % new_id in out, out
        rotated = True
        assert all_kids() == {new_id}, all_kids()
        for c in users + [fresh, pending]:
            check_secret(c, keys, new_id)
        p = ctl("rotate-key", "-c", conf_path, "--database", conninfo(), "--check", check=0)
        assert "0 under other keys" in p.stdout, p.stdout

        # 4. The old key goes: two-factor keeps working (a TOTP code, a
        # recovery code, the confirmation of the pending enrolment).
        reload_all(conf_path, original, base_url, env)
        os.unlink(old_path)
        del keys[old_id]
        sign_in(after)
        c2, r = tu.login_step1(before.email, before.password)
        assert r.status_code == 200 and r.json()["totp_required"] is True, r.text
        r = tu.login_totp(c2, r.json()["login_token"], before.codes[0])
        assert r.status_code == 200, r.text
        r = tu.confirm(pending, pending.secret)
        assert r.status_code == 200, r.text
    finally:
        put_back(files, rotated, lambda text: reload_all(conf_path, text, base_url, env))
