"""SIGTERM to finicomd's master: a request in flight finishes, the master,
its workers and its auth processes are gone within 10 s, the socket is
removed.  The last test of
the suite (destructive, and last by name); it starts finicomd again the way
deploy/dev does, so the stack is whole for the suites after it.

The request in flight is made deterministic: a psql session holds the org's
row lock, so the worker's UPDATE waits inside its transaction until the lock
is released, well after SIGTERM."""
import concurrent.futures
import os
import signal
import subprocess
import time

import pytest
import requests

import client as fc
from conftest import auth_pids, master_pid, wait_until, worker_pids

pytestmark = pytest.mark.destructive


def _alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _cmdline(pid):
    argv = [a.decode() for a in open("/proc/%d/cmdline" % pid, "rb").read().split(b"\0") if a]
    env = dict(kv.decode().split("=", 1) for kv in open("/proc/%d/environ" % pid, "rb").read().split(b"\0")
               if b"=" in kv)
    return argv, os.readlink("/proc/%d/cwd" % pid), env


def _waiting_on_lock():
    return fc.psql("SELECT count(*) FROM pg_stat_activity WHERE usename = 'finicom_app' "
                   "AND wait_event_type = 'Lock'") != "0"


def test_sigterm_finishes_the_request_in_flight_and_stops(env, base_url):
    admin = fc.signup()
    org = fc.create_org(admin)
    master = master_pid(env)
    workers = worker_pids(master)
    auths = auth_pids(master)
    assert auths, "no auth processes to watch"
    argv, cwd, environ = _cmdline(master)
    conf = argv[argv.index("-c") + 1]
    socket_path = [l.split("=", 1)[1].strip() for l in open(conf) if l.startswith("listen ")][0]
    logdir = os.path.join(os.path.dirname(conf), "log")
    holder = subprocess.Popen(
        ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", env["PGHOST"], "-p", env["PGPORT"],
         "-U", env["PGUSER"], "-d", env["PGDATABASE"]],
        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    try:
        holder.stdin.write("BEGIN;\nSELECT 1 FROM finicom.orgs WHERE id = '%s' FOR UPDATE;\n" % org["id"])
        holder.stdin.flush()
        assert wait_until(lambda: fc.psql(
            "SELECT count(*) FROM pg_stat_activity WHERE state = 'idle in transaction' "
            "AND query LIKE '%FOR UPDATE%' AND query LIKE '%' || $1 || '%'", org["id"]) == "1", 10), \
            "the psql session did not take the org's row lock"
        with concurrent.futures.ThreadPoolExecutor(max_workers=1) as ex:
            pending = ex.submit(admin.patch, "/api/v1/orgs/%s" % org["id"], {"name": "Renamed at stop"})
            assert wait_until(_waiting_on_lock, 10), "the request never reached the database"
            t0 = time.monotonic()
            os.kill(master, signal.SIGTERM)
            time.sleep(0.5)
            assert _alive(master), "the master must wait for the request in flight"
            holder.stdin.write("COMMIT;\n")
            holder.stdin.close()
            r = pending.result(timeout=20)
        assert r.status_code == 200 and r.json()["name"] == "Renamed at stop", r.text
        assert wait_until(lambda: not _alive(master), 10), "the master is still running 10 s after SIGTERM"
        assert time.monotonic() - t0 < 10
        assert not any(_alive(w) for w in workers), "a worker outlived the master"
        assert not any(_alive(a) for a in auths), "an auth process outlived the master"
        assert not os.path.exists(socket_path), "the socket was not removed"
        r = requests.get(base_url + "/healthz", timeout=10)
        assert r.status_code == 502 and r.json()["error"]["code"], r.text
    finally:
        if holder.poll() is None:
            holder.kill()
        wait_until(lambda: not _alive(master), 12)
        if not _alive(master):
            with open(os.path.join(logdir, "finicomd.log"), "ab") as log:
                p = subprocess.Popen(argv, cwd=cwd, env=environ, stdin=subprocess.DEVNULL, stdout=log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
            with open(env["FINICOM_PIDFILE"], "w") as f:
                f.write("%d\n" % p.pid)
    assert wait_until(lambda: requests.get(base_url + "/healthz", timeout=5).status_code == 200, 20, 0.2), \
        "finicomd did not come back"
