"""Secret config values by the v1.1 rule, end to end: keys whose name
contains a secret word (case, '_' and '-' ignored) and URL passwords are
stored encrypted and read back masked; a config sent back as read keeps
what is stored.  The rule itself is tested case by case in
tests/unit/test_secret_names.c and tests/sql/13-secret-names.sql."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from client import assert_error, create_org, psql, signup  # noqa: E402

CONFIG = {
    "aws_secret_access_key": "wJalrXUtnFEMI-K7MDENG",
    "apiKey": "ak-123456",
    "passwd": "pw-passwd",
    "ssh-passphrase": "phrase-1",
    "credentials": {"client": "x", "key": "cred-inner"},
    "url": "postgres://bob:hunter2-url@db.example.com:5432/app",
    "mirrors": ["https://u:mirror-pw@m1.example.com/"],
    "host": "db.example.com",
}
MASKED = dict(CONFIG, **{
    "aws_secret_access_key": "********", "apiKey": "********", "passwd": "********",
    "ssh-passphrase": "********", "credentials": "********",
    "url": "postgres://bob:********@db.example.com:5432/app",
    "mirrors": ["https://u:********@m1.example.com/"],
})
SECRETS = ("wJalrXUtnFEMI-K7MDENG", "ak-123456", "pw-passwd", "phrase-1", "cred-inner",
           "hunter2-url", "mirror-pw")


def test_secret_names_and_url_passwords_are_encrypted_and_masked():
    admin = signup(name="Secret Admin")
    org = create_org(admin)
    p = "/api/v1/orgs/%s/sources" % org["id"]
    r = admin.post(p, {"name": "warehouse", "type": "postgres", "config": CONFIG})
    assert r.status_code == 201, r.text
    src = r.json()
    assert src["config"] == MASKED, src["config"]
    got = admin.get(p + "/" + src["id"]).json()["config"]
    assert got == MASKED, got
    stored = psql("SELECT config::text FROM finicom.sources WHERE id = $1", src["id"])
    for s in SECRETS:
        assert s not in stored, (s, stored)
    cfg = json.loads(stored)
    assert cfg["url"].startswith("postgres://bob:enc:v1:") and cfg["url"].endswith("@db.example.com:5432/app")

    # Sent back as read: every stored ciphertext is kept exactly.
    r = admin.patch(p + "/" + src["id"], {"config": got})
    assert r.status_code == 200 and r.json()["config"] == MASKED, r.text
    assert psql("SELECT config::text FROM finicom.sources WHERE id = $1", src["id"]) == stored

    # "********" as the password of another URL is refused, and changes nothing.
    bad = dict(got, url="postgres://bob:********@evil.example.com/app")
    assert_error(admin.patch(p + "/" + src["id"], {"config": bad}), 400, "validation_failed", "config")
    assert psql("SELECT config::text FROM finicom.sources WHERE id = $1", src["id"]) == stored
