"""finicomctl against the stack: create-user (password from standard input,
or generated and printed once), create-org, check-config.  The accounts it
makes sign in through the API like any other."""
import os
import re
import subprocess

import client as fc
from client import Client, psql

CTL = os.path.join(os.environ.get("FINICOM_BUILD", "/nonexistent"), "src", "finicomctl")
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def ctl(*args, stdin=None):
    """Run finicomctl with the stack's superuser connection (PG* variables)."""
    return subprocess.run([CTL, *args], input=stdin, capture_output=True, text=True, timeout=60)


def test_create_user_with_password_from_stdin_signs_in():
    email, password = fc.unique_email("ctl"), fc.new_password()
    r = ctl("create-user", "--email", email, "--name", "Cli User", stdin=password + "\n")
    assert r.returncode == 0, r.stderr
    assert email in r.stdout and "password" not in r.stdout.lower(), r.stdout
    c = Client()
    resp = c.login(email, password)
    assert resp.status_code == 200, resp.text
    assert resp.json()["user"]["name"] == "Cli User"
    assert fc.psql("SELECT password_hash LIKE '$argon2id$%' FROM finicom.users WHERE email = $1", email) == "t"


def test_create_user_generates_a_password_shown_once():
    email = fc.unique_email("ctlgen")
    r = ctl("create-user", "--email", email, "--name", "Generated", stdin="")
    assert r.returncode == 0, r.stderr
    m = re.search(r"password \(shown once\): (\S+)", r.stdout)
    assert m, r.stdout
    assert len(m.group(1)) >= 16
    fc.register_secret(m.group(1))
    assert Client().login(email, m.group(1)).status_code == 200


def test_create_user_bad_input():
    email = fc.unique_email("ctldup")
    assert ctl("create-user", "--email", email, "--name", "One", stdin="password-one\n").returncode == 0
    r = ctl("create-user", "--email", email.upper(), "--name", "Two", stdin="password-two\n")
    assert r.returncode == 1 and "already exists" in r.stderr, (r.returncode, r.stderr)
    r = ctl("create-user", "--email", "not-an-email", "--name", "X", stdin="password-x\n")
    assert r.returncode == 2 and "email" in r.stderr, r.stderr
    r = ctl("create-user", "--email", fc.unique_email("short"), "--name", "X", stdin="short\n")
    assert r.returncode == 2 and "password" in r.stderr, r.stderr
    r = ctl("create-user", "--name", "X")
    assert r.returncode == 2 and "usage" in r.stderr, r.stderr
    # A password equal to the email or the name (ASCII case ignored), as at signup.
    personal = fc.unique_email("personal")
    for pw in (personal.upper(), "Personal Name Here"):
        r = ctl("create-user", "--email", personal, "--name", "personal name here", stdin=pw + "\n")
        assert r.returncode == 2 and "password" in r.stderr, (pw, r.returncode, r.stderr)
    assert psql("SELECT count(*) FROM finicom.users WHERE lower(email) = lower($1)", personal) == "0"


def test_create_org_with_members():
    admin_email, writer_email = fc.unique_email("ctladmin"), fc.unique_email("ctlwriter")
    for e in (admin_email, writer_email):
        assert ctl("create-user", "--email", e, "--name", "Member", stdin="password-123\n").returncode == 0
    r = ctl("create-org", "--name", "Cli Org", "--admin", admin_email, "--member", writer_email + "=write")
    assert r.returncode == 0, r.stderr
    org_id = re.search(r"id ([0-9a-f-]{36})", r.stdout).group(1)
    admin = Client()
    assert admin.login(admin_email, "password-123").status_code == 200
    items = admin.get("/api/v1/orgs/%s/members" % org_id).json()["items"]
    assert sorted((i["user"]["email"], i["role"]) for i in items) == sorted(
        [(admin_email, "admin"), (writer_email, "write")])
    r = ctl("create-org", "--name", "Nobody's", "--admin", fc.unique_email("ghost"))
    assert r.returncode == 1 and "no user" in r.stderr, r.stderr
    r = ctl("create-org", "--name", "Bad role", "--admin", admin_email, "--member", writer_email + "=owner")
    assert r.returncode == 2, r.stderr


def test_check_config(tmp_path):
    r = ctl("check-config", os.path.join(REPO, "conf", "finicom.conf.sample"))
    assert r.returncode == 0 and r.stdout.strip().endswith(": ok"), (r.stdout, r.stderr)
    bad = tmp_path / "bad.conf"
    bad.write_text("listen = /tmp/x.sock\ndatabase = x\npublic_url = http://a.b\nworkers = lots\n")
    r = ctl("check-config", str(bad))
    assert r.returncode == 2 and "%s:4:" % bad in r.stderr and "workers" in r.stderr, r.stderr
    r = ctl("check-config", str(tmp_path / "missing.conf"))
    assert r.returncode == 2 and "could not open" in r.stderr, r.stderr


def test_finicomd_refuses_a_bad_config(tmp_path):
    finicomd = os.path.join(os.environ["FINICOM_BUILD"], "src", "finicomd")
    bad = tmp_path / "bad.conf"
    bad.write_text("# comment\nlisten = /tmp/x.sock\nbogus = 1\n")
    r = subprocess.run([finicomd, "-c", str(bad)], capture_output=True, text=True, timeout=10)
    assert r.returncode == 2 and '%s:3: unknown key "bogus"' % bad in r.stderr, (r.returncode, r.stderr)
    r = subprocess.run([finicomd, "-c", str(tmp_path / "none.conf")], capture_output=True, text=True, timeout=10)
    assert r.returncode == 2 and "could not open" in r.stderr, r.stderr
