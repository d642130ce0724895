"""Settings that take effect on reload: signup = invite_only and a short
session_idle_timeout.  The configuration is changed and finicomd reloaded
(SIGHUP), then restored.  Destructive, so it runs after the other tests."""
import os
import signal
import time
import uuid

import pytest
import requests

import client as fc
from conftest import master_pid, wait_until, worker_pids

pytestmark = pytest.mark.destructive


def signup(base_url, email):
    return requests.post(base_url + "/api/v1/auth/signup", timeout=10,
                         json={"email": email, "password": "invite-only-9f2c", "name": "Invitee"})


def reload_with(conf_path, text, base_url, env):
    """Write text as the configuration, SIGHUP the master, wait for every worker to be new."""
    old = set(worker_pids(master_pid(env)))
    with open(conf_path, "w") as f:
        f.write(text)
    os.kill(master_pid(env), signal.SIGHUP)
    assert wait_until(lambda: old.isdisjoint(worker_pids(master_pid(env))), 15), \
        "workers were not replaced after SIGHUP"
    assert wait_until(lambda: requests.get(base_url + "/healthz", timeout=5).status_code == 200, 10)


def test_signup_invite_only_is_403(env, base_url):
    conf_path = os.environ["FINICOM_CONF"]
    original = open(conf_path).read()
    assert "signup = open" in original
    try:
        reload_with(conf_path, original.replace("signup = open", "signup = invite_only"), base_url, env)
        r = signup(base_url, f"io-{uuid.uuid4().hex[:10]}@example.test")
        assert r.status_code == 403, r.text
        assert r.json()["error"]["code"] == "forbidden"
        # Login still works for existing accounts: an unknown one is 401, not 403.
        r = requests.post(base_url + "/api/v1/auth/login", timeout=10,
                          json={"email": "nobody@example.test", "password": "invite-only-9f2c"})
        assert r.status_code == 401, r.text
    finally:
        reload_with(conf_path, original, base_url, env)
    time.sleep(0.2)
    r = signup(base_url, f"io-{uuid.uuid4().hex[:10]}@example.test")
    assert r.status_code == 201, r.text


def test_invite_only_lets_unverified_accounts_make_keys_and_invite(env, base_url):
    """With signup = invite_only every account came from an invitation or the
    operator, so an unverified address (left from when signup was open) does
    not stop API keys or invitations; with signup = open it does (403)."""
    conf_path = os.environ["FINICOM_CONF"]
    original = open(conf_path).read()
    c = fc.signup(name="Left Unverified", verify=False)
    org = fc.create_org(c)
    keys, invs = "/api/v1/orgs/%s/api-keys" % org["id"], "/api/v1/orgs/%s/invitations" % org["id"]
    assert c.post(keys, {"name": "open", "role": "read"}).json()["error"]["code"] == "email_unverified"
    try:
        reload_with(conf_path, original.replace("signup = open", "signup = invite_only"), base_url, env)
        r = c.post(keys, {"name": "invite-only", "role": "read"})
        assert r.status_code == 201, r.text
        r = c.post(invs, {"email": fc.unique_email("io-inv"), "role": "read"})
        assert r.status_code == 201, r.text
        assert c.me().json()["user"]["email_verified"] is False
    finally:
        reload_with(conf_path, original, base_url, env)
    time.sleep(0.2)
    r = c.post(keys, {"name": "open again", "role": "read"})
    assert r.status_code == 403 and r.json()["error"]["code"] == "email_unverified", r.text


def test_short_idle_timeout_ends_an_idle_session(env, base_url):
    """session_idle_timeout from the configuration: a session used within the
    timeout stays alive, one left idle past it is 401."""
    conf_path = os.environ["FINICOM_CONF"]
    original = open(conf_path).read()
    email, password = f"idle-{uuid.uuid4().hex[:10]}@example.test", "invite-only-9f2c"
    assert signup(base_url, email).status_code == 201
    try:
        reload_with(conf_path, original + "session_idle_timeout = 3s\n", base_url, env)
        s = requests.Session()
        r = s.post(base_url + "/api/v1/auth/login", json={"email": email, "password": password}, timeout=10)
        assert r.status_code == 200, r.text
        for _ in range(4):           # used every second: alive past 3 s in all
            time.sleep(1)
            assert s.get(base_url + "/api/v1/me", timeout=10).status_code == 200
        time.sleep(4)                # idle past the timeout
        r = s.get(base_url + "/api/v1/me", timeout=10)
        assert r.status_code == 401, r.text
        assert r.json()["error"]["code"] == "unauthenticated"
    finally:
        reload_with(conf_path, original, base_url, env)
