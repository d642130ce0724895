"""Privilege separation (issue 12; docs/privsep.md): finicomd's master forks
auth processes beside the workers; only they (role finicom_auth) read
password hashes, create sessions and store hashes, and the workers ask them
over the master's queue.

Marked destructive (they kill, stop and replace auth processes), so they run
after the other suites; each restores the stack in a finally block.  The
dev and test stacks set auth_timeout = 2s."""
import concurrent.futures
import os
import re
import signal
import subprocess
import time

import pytest
import requests

import client as fc
from conftest import auth_pids, error_code, master_pid, wait_until, worker_pids

pytestmark = pytest.mark.destructive

WORKERS = int(os.environ.get("FINICOM_WORKERS", "4"))
AUTH_TIMEOUT = 2.0
LOGIN = "/api/v1/auth/login"


def _conf(env):
    argv = open("/proc/%d/cmdline" % master_pid(env), "rb").read().split(b"\0")
    return argv[argv.index(b"-c") + 1].decode()


def _socket_inode(path):
    """The inode of the listening unix socket bound at path (/proc/net/unix)."""
    with open("/proc/net/unix") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 8 and parts[7] == path and parts[5] == "01":  # state 01: listening
                return parts[6]
    return None


def _fd_targets(pid):
    out = set()
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            out.add(os.readlink("/proc/%d/fd/%s" % (pid, fd)))
        except OSError:
            pass
    return out


def _login(c, email, password, timeout=15):
    """One login, paced like every /auth/ request of the suites; (response, seconds)."""
    fc.register_secret(password)
    fc.PACER.wait()
    t0 = time.monotonic()
    r = c.http.post(fc.BASE_URL + LOGIN, json={"email": email, "password": password}, timeout=timeout)
    return r, time.monotonic() - t0


def _log_text():
    path = os.path.join(fc.LOGDIR, "finicomd.log")
    with open(path, "rb") as f:
        f.seek(max(0, os.path.getsize(path) - 400000))
        return f.read().decode("utf-8", "replace")


def _signal_all(pids, sig):
    for pid in pids:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass


def _assert_unavailable(r):
    assert r.status_code == 503, (r.status_code, r.text)
    assert r.headers.get("Content-Type", "").startswith("application/json")
    assert error_code(r) == "unavailable"
    assert r.headers.get("X-Request-Id")


def _all_auth_back(master, old):
    now = auth_pids(master)
    return len(now) == WORKERS and not (now & old) and now


def test_auth_processes_run_beside_the_workers_and_hold_only_their_end(env):
    master = master_pid(env)
    assert wait_until(lambda: len(auth_pids(master)) == WORKERS, 5), auth_pids(master)
    assert len(worker_pids(master)) == WORKERS
    conf = _conf(env)
    listen = [l.split("=", 1)[1].strip() for l in open(conf) if l.startswith("listen ")][0]
    inode = _socket_inode(listen)
    assert inode, "no listening socket at %s" % listen
    for w in worker_pids(master):
        assert "socket:[%s]" % inode in _fd_targets(w), "worker %d lacks the FastCGI socket" % w
    for a in auth_pids(master):
        try:
            fds = _fd_targets(a)
        except PermissionError:
            # Not dumpable: only root may look.  As root, look.
            assert os.geteuid() != 0
            fds = set()
        assert "socket:[%s]" % inode not in fds, "auth process %d holds the FastCGI socket" % a
        status = open("/proc/%d/status" % a).read()
        assert re.search(r"^Name:\s+finicomd-auth$", status, re.M), status[:200]
    # Their database roles, by application_name: the workers finicom_app, the auth processes finicom_auth.
    rows = fc.psql("SELECT application_name || ' ' || usename FROM pg_stat_activity "
                   "WHERE application_name IN ('finicomd', 'finicomd-auth') GROUP BY 1 ORDER BY 1").splitlines()
    assert rows == ["finicomd finicom_app", "finicomd-auth finicom_auth"], rows


def test_login_signup_and_accept_work_through_the_auth_processes():
    c = fc.signup(name="Privsep User")
    r, _ = _login(c, c.email, c.password)
    assert r.status_code == 200, r.text
    assert r.json()["user"]["id"] == c.id
    r, _ = _login(c, c.email, "wrong-" + c.password)
    assert r.status_code == 401 and error_code(r) == "invalid_credentials"
    # signup() verified the address through the link of the mail the auth
    # process wrote with the account, in the signup's transaction (now() is
    # the transaction's start: the same instant for both rows).
    rows = fc.psql("SELECT event FROM audit.auth_events WHERE user_id = $1 ORDER BY at", c.id).split()
    assert rows == ["signup", "email.verified", "login.succeeded", "login.failed"], rows
    assert fc.psql("SELECT count(*) FROM finicom.email_verifications v JOIN finicom.users u ON u.id = v.user_id "
                   "WHERE u.id = $1 AND v.created_at = u.created_at AND v.used_at IS NOT NULL", c.id) == "1"
    r, _ = _login(c, c.email, c.password)
    assert r.status_code == 200 and r.json()["user"]["email_verified"] is True, r.text


def test_signup_mail_and_takeover_keep_the_request_id_and_address():
    from test_invitations import accept, invite, wait_token
    squatter = fc.Client()
    email, password = fc.unique_email("squat"), fc.new_password()
    fc.register_secret(password)
    r = squatter.post("/api/v1/auth/signup", {"email": email, "password": password, "name": "Squatter"})
    assert r.status_code == 201, r.text
    uid = r.json()["user"]["id"]
    assert r.json()["user"]["email_verified"] is False, r.text
    # The account, its signup event (with the request's id) and its verification mail: one transaction.
    assert fc.psql("SELECT count(*) FROM finicom.users u "
                   "JOIN audit.auth_events e ON e.user_id = u.id AND e.event = 'signup' AND e.request_id = $2 "
                   "JOIN finicom.email_verifications v ON v.user_id = u.id AND v.created_at = u.created_at "
                   "JOIN finicom.mail_outbox m ON m.id = v.mail_id AND lower(m.recipient) = lower(u.email) "
                   "WHERE u.id = $1", uid, r.headers["X-Request-Id"]) == "1"
    # An invitation accepted without a session takes the unverified account over, in the auth process.
    admin = fc.signup()
    org = fc.create_org(admin)
    invite(admin, org, email, role="read")
    owner_password = fc.new_password()
    fc.register_secret(owner_password)
    r = accept(wait_token(email), fc.Client(), {"name": "Owner", "password": owner_password})
    assert r.status_code == 201, r.text
    assert r.json()["user"]["id"] == uid and r.json()["user"]["email_verified"] is True, r.text
    rows = fc.psql("SELECT event || ' ' || coalesce(ip, '-') FROM audit.auth_events "
                   "WHERE user_id = $1 AND request_id = $2 ORDER BY event", uid,
                   r.headers["X-Request-Id"]).splitlines()
    assert [x.split()[0] for x in rows] == ["account.taken_over", "email.verified"], rows
    assert all(x.split()[1] != "-" for x in rows), rows
    assert squatter.me().status_code == 401, "the squatter's session ended"
    r, _ = _login(fc.Client(), email, owner_password)
    assert r.status_code == 200, r.text


def test_the_workers_role_cannot_read_a_hash_or_make_a_session():
    c = fc.signup()
    for sql in ["SELECT password_hash FROM finicom.users",
                "SELECT * FROM finicom.auth_login_begin('%s')" % c.email,
                "SELECT * FROM finicom.auth_login_complete('%s', sha256('x'::bytea), 60, NULL, NULL, NULL, NULL)"
                % c.id,
                "SELECT * FROM finicom.session_create('%s', sha256('x'::bytea), 60)" % c.id,
                "SELECT finicom.auth_signup_verify('x-%s', 'X', '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA', "
                "sha256('x'::bytea), 60, NULL, NULL, sha256('y'::bytea), 'http://x/verify/y')" % c.email,
                "SELECT * FROM finicom.invitation_accept_new_user(sha256('x'::bytea), 'X', "
                "'$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA', sha256('x'::bytea), 60, NULL, NULL)",
                "INSERT INTO finicom.sessions (token_hash, user_id, expires_at) "
                "VALUES (sha256('x'::bytea), '%s', now() + interval '1 day')" % c.id]:
        p = fc.psql_run(sql, user="finicom_app")
        assert p.returncode != 0 and "permission denied" in p.stderr, (sql, p.returncode, p.stdout, p.stderr)
    # Control: the auth processes' role gets the hash (its job), and nothing else of the table.
    out = fc.psql("SELECT password_hash FROM finicom.auth_login_begin($1)", c.email, user="finicom_auth")
    assert out.startswith("$argon2id$"), out
    p = fc.psql_run("SELECT email FROM finicom.users", user="finicom_auth")
    assert p.returncode != 0 and "permission denied" in p.stderr, p.stderr
    # A login still works after these counted attempts (the correct password resets the count).
    r, _ = _login(c, c.email, c.password)
    assert r.status_code == 200, r.text


def test_killed_auth_processes_are_replaced_and_logins_work_again(env):
    master = master_pid(env)
    c = fc.signup()
    before = auth_pids(master)
    assert len(before) == WORKERS
    workers = worker_pids(master)
    _signal_all(before, signal.SIGKILL)
    killed_at = time.monotonic()
    assert wait_until(lambda: _all_auth_back(master, before), 2.0), \
        "auth processes %s 2 s after killing %s" % (auth_pids(master), before)
    deadline = killed_at + 3.0
    r = None
    while time.monotonic() < deadline:
        r, _ = _login(c, c.email, c.password)
        if r.status_code == 200:
            break
        time.sleep(0.1)
    assert r is not None and r.status_code == 200, (r.status_code, r.text)
    assert time.monotonic() - killed_at < 3.0
    assert worker_pids(master) == workers, "the workers were not touched"
    assert master_pid(env) == master
    assert "auth process %d was killed by signal 9" % min(before) in _log_text()


def test_stuck_auth_processes_give_503_not_a_hang(env):
    master = master_pid(env)
    c = fc.signup()
    stopped = auth_pids(master)
    rid = None
    try:
        _signal_all(stopped, signal.SIGSTOP)
        r, took = _login(c, c.email, c.password)
        _assert_unavailable(r)
        rid = r.headers["X-Request-Id"]
        assert AUTH_TIMEOUT - 0.2 <= took < AUTH_TIMEOUT + 2.0, took
        fc.PACER.wait()
        stuck_email = fc.unique_email()
        r = c.http.post(fc.BASE_URL + "/api/v1/auth/signup", timeout=15,
                        json={"email": stuck_email, "password": fc.new_password(), "name": "Stuck"})
        _assert_unavailable(r)
        # The workers are fine: a signed-in request needs no auth process.
        me = c.me()
        assert me.status_code == 200 and me.json()["user"]["id"] == c.id, me.text
    finally:
        _signal_all(stopped, signal.SIGCONT)
    # The stopped processes drop the requests their workers gave up on, and serve again.
    assert wait_until(lambda: "dropped a request its worker no longer waits for" in _log_text(), 5), \
        "the stale requests were not dropped"
    r, took = _login(c, c.email, c.password)
    assert r.status_code == 200, r.text
    assert auth_pids(master) == stopped, "SIGSTOP/SIGCONT must not have cost a process"
    # The login that was answered 503 never happened, nor did the signup: no account, no verification mail.
    assert fc.psql("SELECT count(*) FROM audit.auth_events WHERE request_id = $1", rid) == "0"
    assert fc.psql("SELECT (SELECT count(*) FROM finicom.users WHERE lower(email) = lower($1)) + "
                   "(SELECT count(*) FROM finicom.mail_outbox WHERE lower(recipient) = lower($1))", stuck_email) == "0"


def test_auth_process_killed_mid_login_is_503_at_once(env):
    master = master_pid(env)
    c = fc.signup()
    holder = subprocess.Popen(
        ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", env["PGHOST"], "-p", env["PGPORT"],
         "-U", env["PGUSER"], "-d", env["PGDATABASE"]],
        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    before = auth_pids(master)
    try:
        # Hold the row auth_login_begin locks for this email: the login waits inside an auth process.
        holder.stdin.write("BEGIN;\nINSERT INTO finicom.login_failures (email, failures, first_failed_at, "
                           "last_failed_at) VALUES (lower('%s'), 0, now(), now()) ON CONFLICT DO NOTHING;\n"
                           "SELECT 1 FROM finicom.login_failures WHERE email = lower('%s') FOR UPDATE;\n"
                           % (c.email, c.email))
        holder.stdin.flush()
        assert wait_until(lambda: fc.psql("SELECT count(*) FROM pg_stat_activity WHERE state = 'idle in transaction' "
                                          "AND query LIKE '%FOR UPDATE%'") != "0", 10)
        with concurrent.futures.ThreadPoolExecutor(max_workers=1) as ex:
            t0 = time.monotonic()
            pending = ex.submit(_login, c, c.email, c.password)
            assert wait_until(lambda: fc.psql("SELECT count(*) FROM pg_stat_activity WHERE usename = 'finicom_auth' "
                                              "AND wait_event_type = 'Lock'") != "0", 1.0), \
                "the login never reached the lock"
            time.sleep(0.3)
            _signal_all(before, signal.SIGKILL)
            killed = time.monotonic()
            r, _ = pending.result(timeout=20)
        _assert_unavailable(r)
        done = time.monotonic()
        assert done - killed < 0.7 and done - t0 < AUTH_TIMEOUT - 0.2, \
            "answered %.2f s after the kill, %.2f s after the request: the timeout, not the end" % (
                done - killed, done - t0)
        assert "the auth process ended without answering" in _log_text()
    finally:
        holder.stdin.write("ROLLBACK;\n")
        holder.stdin.close()
        holder.wait(10)
    assert wait_until(lambda: _all_auth_back(master, before), 3.0), auth_pids(master)
    r = None
    for _ in range(20):
        r, _ = _login(c, c.email, c.password)
        if r.status_code == 200:
            break
        time.sleep(0.1)
    assert r.status_code == 200, r.text


def test_sighup_replaces_the_auth_processes_and_logins_keep_working(env):
    master = master_pid(env)
    c = fc.signup()
    before = auth_pids(master)
    workers_before = worker_pids(master)
    os.kill(master, signal.SIGHUP)
    statuses, samples = [], []

    def replaced():
        r, _ = _login(c, c.email, c.password)
        statuses.append(r.status_code)
        samples.append(len(auth_pids(master)))
        now = auth_pids(master)
        return len(now) == WORKERS and not (now & before) and not (worker_pids(master) & workers_before)

    assert wait_until(replaced, 15.0, interval=0.05), "old auth processes %s still there" % (auth_pids(master) & before)
    assert statuses and all(s == 200 for s in statuses), statuses
    assert min(samples) >= WORKERS - 1, samples
    assert master_pid(env) == master
