"""finicomctl rotate-key (src/ctl/rotate.c): the secret key's rotation, online,
as docs/production.md "Key rotation" tells the operator to do it:

  1. gen-key a new key; name it in secret_decrypt_key_files; reload
     (every worker can now decrypt under both keys);
  2. make the new key secret_key_file and the old one the decrypt-only key;
     reload (new secrets are encrypted under the new key);
  3. rotate-key (while the API reads and writes secrets);
  4. rotate-key --check says every secret is under the new key; drop the old
     key from the configuration, reload, delete it.

Every stored ciphertext is decrypted here too, with Python's AES-GCM and the
key files, and compared with what was sent: the plaintexts survive, under the
key ids expected, at every step.  Marked destructive: it reloads finicomd."""
import base64
import hashlib
import json
import os
import pathlib
import re
import subprocess
import sys
import threading
import time

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import client as fc  # noqa: E402
from client import create_org, psql, signup  # noqa: E402
from test_signup_mode import reload_with  # noqa: E402

pytestmark = pytest.mark.destructive

CIPHER = re.compile(r"enc:v1:([0-9a-f]{8}):([A-Za-z0-9_-]+)")


def ctl(*args, check=None):
    exe = os.path.join(os.environ["FINICOM_BUILD"], "src", "finicomctl")
    p = subprocess.run([exe, *args], capture_output=True, text=True, timeout=120)
    if check is not None:
        assert p.returncode == check, (p.returncode, p.stdout, p.stderr)
    return p


def conninfo():
    return "host=%s port=%s dbname=%s user=%s" % (fc.PGHOST, fc.PGPORT, fc.PGDATABASE, fc.PGUSER)


def key_of(path):
    key = bytes.fromhex(pathlib.Path(path).read_text().strip())
    return hashlib.sha256(key).hexdigest()[:8], key


def decrypt(stored, keys, aad):
    """The plaintext bytes of one stored form, with the key its id names."""
    m = CIPHER.fullmatch(stored)
    assert m, stored
    kid, b64 = m.groups()
    raw = base64.urlsafe_b64decode(b64 + "=" * (-len(b64) % 4))
    full_aad = ("enc:v1:%s:%s" % (kid, aad)).encode()
    return kid, AESGCM(keys[kid]).decrypt(raw[:12], raw[12:], full_aad)


def stored_secrets(org, sid, keys):
    """{path: (key id, plaintext)} of one source's stored config."""
    config = json.loads(psql("SELECT config::text FROM finicom.sources WHERE id = $1", sid))
    prefix = "%s:source:%s:" % (org["id"], sid)
    out = {}
    for path, value in (("/password", config["password"]), ("/nested/api_token",
                        config["nested"]["api_token"])):
        kid, plain = decrypt(value, keys, prefix + path)
        out[path] = (kid, json.loads(plain))
    url = config["url"]
    m = re.fullmatch(r"postgres://app:(enc:v1:[^@]+)@db\.example/app", url)
    assert m, url
    kid, plain = decrypt(m.group(1), keys, prefix + "/url")
    out["/url"] = (kid, plain.decode())
    return out


def config_of(i, tag):
    return {"host": "db.example", "password": "pw-%s-%d" % (tag, i),
            "url": "postgres://app:url-%s-%d@db.example/app" % (tag, i),
            "nested": {"api_token": "tok-%s-%d" % (tag, i), "port": 5432}}


def expected_of(i, tag):
    c = config_of(i, tag)
    return {"/password": c["password"], "/nested/api_token": c["nested"]["api_token"],
            "/url": "url-%s-%d" % (tag, i)}


MASKED = {"host": "db.example", "password": "********", "url": "postgres://app:********@db.example/app",
          "nested": {"api_token": "********", "port": 5432}}


def check_all(c, org, ids, expected, keys, want_kid=None):
    for i, sid in enumerate(ids):
        got = stored_secrets(org, sid, keys)
        assert {p: v for p, (_, v) in got.items()} == expected[sid], (sid, got)
        if want_kid is not None:
            assert {k for k, _ in got.values()} == {want_kid}, got
        r = c.get("/api/v1/orgs/%s/sources/%s" % (org["id"], sid))
        assert r.status_code == 200 and r.json()["config"] == MASKED, r.text


def key_files():
    """The stack's configuration (path, text), its key file, the paths of the
    new and the old key during a rotation (none there yet), and the key's id
    and bytes (test_rotate_key_totp.py too)."""
    conf_path = os.environ["FINICOM_CONF"]
    original = open(conf_path).read()
    key_path = re.search(r"^secret_key_file = (.+)$", original, re.M).group(1)
    new_path, old_path = key_path + ".new", key_path + ".old"
    for p in (new_path, old_path):
        if os.path.exists(p):
            os.unlink(p)
    return (conf_path, original, key_path, new_path, old_path) + key_of(key_path)


def put_back(files, rotated, reload):
    """After a rotation test: the stack's key as it was (unless rotated), no
    new or old key file left, the configuration as it was (reload(text))."""
    conf_path, original, key_path, new_path, old_path = files[:5]
    if not rotated and os.path.exists(old_path):
        os.replace(old_path, key_path)  # put the stack's key back as it was
    for p in (new_path, old_path):
        if os.path.exists(p):
            os.unlink(p)
    if open(conf_path).read() != original:
        reload(original)


def test_rotate_key_online(env, base_url):
    files = key_files()
    conf_path, original, key_path, new_path, old_path, old_id, old_key = files
    keys = {old_id: old_key}

    admin = signup(name="Rotation Admin")
    org = create_org(admin)
    ids, expected = [], {}
    for i in range(12):
        r = admin.post("/api/v1/orgs/%s/sources" % org["id"],
                       {"name": "rot-%d" % i, "type": "postgres", "config": config_of(i, "a")})
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
        expected[ids[-1]] = expected_of(i, "a")
    check_all(admin, org, ids, expected, keys, want_kid=old_id)

    rotated = False
    try:
        # 1. The new key, decrypt-only for now.
        out = ctl("gen-key", new_path, check=0).stdout.strip()
        new_id, new_key = key_of(new_path)
        assert out == new_id and new_id != old_id
        keys[new_id] = new_key
        reload_with(conf_path, original + "secret_decrypt_key_files = %s\n" % new_path, base_url, env)
        check_all(admin, org, ids, expected, keys, want_kid=old_id)

        # 2. The new key encrypts; the old one only decrypts.
        os.rename(key_path, old_path)
        os.rename(new_path, key_path)
        rotating = original + "secret_decrypt_key_files = %s\n" % old_path
        reload_with(conf_path, rotating, base_url, env)
        r = admin.patch("/api/v1/orgs/%s/sources/%s" % (org["id"], ids[0]), {"config": config_of(0, "b")})
        assert r.status_code == 200, r.text
        expected[ids[0]] = expected_of(0, "b")
        assert {k for k, _ in stored_secrets(org, ids[0], keys).values()} == {new_id}
        # Not done yet: --check says so.  Without the old key rotate-key
        # refuses and changes nothing.
        p = ctl("rotate-key", "-c", conf_path, "--database", conninfo(), "--check")
        assert p.returncode == 1 and "under other keys" in p.stdout, (p.stdout, p.stderr)
        no_old = pathlib.Path(os.environ["FINICOM_CONF"] + ".no-old")
        no_old.write_text(original)
        before = psql("SELECT md5(string_agg(config::text, '' ORDER BY id)) FROM finicom.sources "
                      "WHERE org_id = $1", org["id"])
        p = ctl("rotate-key", "-c", str(no_old), "--database", conninfo())
        no_old.unlink()
        assert p.returncode == 1 and "does not decrypt" in p.stderr, (p.stdout, p.stderr)
        assert psql("SELECT md5(string_agg(config::text, '' ORDER BY id)) FROM finicom.sources "
                    "WHERE org_id = $1", org["id"]) == before

        # 3. rotate-key, slowly (a batch of 2 rows, 150 ms apart), while the
        # API keeps reading and writing the same rows.
        proc = subprocess.Popen([os.path.join(os.environ["FINICOM_BUILD"], "src", "finicomctl"),
                                 "rotate-key", "-c", conf_path, "--database", conninfo(),
                                 "--batch", "2", "--pause", "150ms"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        failures, rounds = [], 0
        while proc.poll() is None and rounds < 200:
            i = rounds % len(ids)
            sid = ids[i]
            path = "/api/v1/orgs/%s/sources/%s" % (org["id"], sid)
            if rounds % 3 == 0:      # send the masked config back: keeps the stored secrets
                r = admin.patch(path, {"config": MASKED, "name": "rot-%d-k%d" % (i, rounds)})
            elif rounds % 3 == 1:    # new secrets
                r = admin.patch(path, {"config": config_of(i, "c%d" % rounds)})
                if r.status_code == 200:
                    expected[sid] = expected_of(i, "c%d" % rounds)
            else:
                r = admin.get(path)
            if r.status_code != 200 or r.json()["config"] != MASKED:
                failures.append((r.status_code, r.text[:200]))
            rounds += 1
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, (out, err)
        assert not failures, failures
        assert rounds >= 3, "rotate-key ended before the API could be used during it: %s" % out
        assert "every secret is under key %s" % new_id in out, out
        rotated = True
        check_all(admin, org, ids, expected, keys, want_kid=new_id)
        p = ctl("rotate-key", "-c", conf_path, "--database", conninfo(), "--check", check=0)
        assert "0 under other keys" in p.stdout, p.stdout

        # 4. The old key goes.
        reload_with(conf_path, original, base_url, env)
        os.unlink(old_path)
        del keys[old_id]
        ctl("rotate-key", "-c", conf_path, "--database", conninfo(), "--check", check=0)
        r = admin.patch("/api/v1/orgs/%s/sources/%s" % (org["id"], ids[1]),
                        {"config": MASKED, "name": "after"})
        assert r.status_code == 200, r.text
        check_all(admin, org, ids, expected, keys, want_kid=new_id)
        # Rotation is audited as the database's (actor db), the changed config named.
        assert int(psql("SELECT count(*) FROM audit.events WHERE org_id = $1 AND action = "
                        "'source.updated' AND actor_type = 'db'", org["id"])) >= 1
    finally:
        put_back(files, rotated, lambda text: reload_with(conf_path, text, base_url, env))
