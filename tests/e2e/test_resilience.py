"""The stack under duress: a worker killed, PostgreSQL stopped and started,
a rolling reload.  Marked destructive, so they run after every other test;
each one restores the stack in a finally block."""
import os
import signal
import subprocess
import threading
import time

import pytest
import requests

import client
from conftest import error_code, master_pid, wait_until, worker_pids

pytestmark = pytest.mark.destructive

WORKERS = int(os.environ.get("FINICOM_WORKERS", "4"))
# A well-formed API key that does not exist: looking it up needs the database.
UNKNOWN_KEY = "Bearer fcm_" + "A" * 43


def healthz(base_url):
    try:
        return requests.get(base_url + "/healthz", timeout=5)
    except requests.RequestException:
        return None


def status_of(base_url):
    r = healthz(base_url)
    return r.status_code if r is not None else None


def _log_text():
    with open(os.path.join(client.LOGDIR, "finicomd.log"), "rb") as f:
        f.seek(max(0, os.path.getsize(f.name) - 200000))
        return f.read().decode("utf-8", "replace")


def dev(env, command):
    run = subprocess.run([env["FINICOM_DEV"], command], capture_output=True, text=True, timeout=90,
                         env={**os.environ, "FINICOM_STACK": env["FINICOM_STACK"]})
    assert run.returncode == 0, f"deploy/dev {command}: {run.stdout}{run.stderr}"


def test_master_runs_the_configured_workers(env):
    master = master_pid(env)
    os.kill(master, 0)
    assert wait_until(lambda: len(worker_pids(master)) == WORKERS, 5), worker_pids(master)


def test_killed_worker_is_replaced(env, base_url):
    master = master_pid(env)
    assert wait_until(lambda: len(worker_pids(master)) == WORKERS, 5)
    before = worker_pids(master)
    victim = min(before)
    os.kill(victim, signal.SIGKILL)
    killed_at = time.monotonic()
    statuses = []

    def replaced():
        statuses.append(status_of(base_url))
        now = worker_pids(master)
        return victim not in now and len(now) == WORKERS and now - before

    assert wait_until(replaced, 2.0), f"workers {worker_pids(master)} 2 s after killing {victim}"
    assert time.monotonic() - killed_at <= 2.5
    while len(statuses) < 50:
        statuses.append(status_of(base_url))
    assert statuses == [200] * len(statuses), statuses
    assert master_pid(env) == master


def test_connections_the_server_closed_are_replaced_before_a_request_uses_them(env, base_url):
    """A server that ends an idle connection (a restart, a terminated
    backend) first sends the reason, a FATAL error, then closes.  libpq
    reads the error as a notice and still calls the connection fine; only
    the next read finds the end.  Each worker looks before a request uses
    its connection (db.c, db_connection), and must read to that end: the
    first request after such a close is answered (here 401 for a key that
    does not exist), never a 503."""
    killed = client.psql("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                         "WHERE usename = 'finicom_app' AND application_name = 'finicomd'")
    assert int(killed) >= 1, killed
    time.sleep(0.3)  # the FATALs and the closes reach the workers' sockets
    statuses = []

    def one():
        r = requests.get(base_url + "/api/v1/me", headers={"Authorization": UNKNOWN_KEY}, timeout=10)
        statuses.append(r.status_code)

    threads = [threading.Thread(target=one) for _ in range(WORKERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for _ in range(2 * WORKERS):
        one()
    assert statuses == [401] * len(statuses), statuses
    assert int(client.psql("SELECT count(*) FROM pg_stat_activity WHERE usename = 'finicom_app' "
                           "AND application_name = 'finicomd'")) >= 1

    # The auth processes' connections (a sign-in's password check) alike.
    killed = client.psql("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                         "WHERE usename = 'finicom_auth'")
    assert int(killed) >= 1, killed
    time.sleep(0.3)
    logins = []
    for i in range(2 * WORKERS):
        r = requests.post(base_url + "/api/v1/auth/login", timeout=10,
                          json={"email": client.unique_email("closed%d" % i), "password": "not the password"})
        logins.append(r.status_code)
    assert logins == [401] * len(logins), logins


def test_database_stop_and_start(env, base_url):
    master = master_pid(env)
    try:
        dev(env, "pg-stop")
        stopped_at = time.monotonic()
        assert wait_until(lambda: status_of(base_url) == 503, 2.0), "no 503 within 2 s of stopping PostgreSQL"
        assert time.monotonic() - stopped_at <= 2.5
        r = healthz(base_url)
        assert r.status_code == 503
        assert r.json() == {"status": "unavailable"}
        # A /healthz that fails is logged by the worker (only its 200s are not).
        wanted = "request_id=" + r.headers["X-Request-Id"]
        assert wait_until(lambda: wanted in _log_text(), 5.0), "the 503 of /healthz was not logged"

        api = requests.get(base_url + "/api/v1/me", headers={"Authorization": UNKNOWN_KEY}, timeout=5)
        assert api.status_code == 503, api.text
        assert error_code(api) == "unavailable"
        assert api.headers.get("X-Request-Id")
        assert master_pid(env) == master and len(worker_pids(master)) == WORKERS
    finally:
        dev(env, "pg-start")
    started_at = time.monotonic()
    assert wait_until(lambda: status_of(base_url) == 200, 5.0), "no 200 within 5 s of starting PostgreSQL"
    assert time.monotonic() - started_at <= 5.5

    # Every worker reconnects by itself: soon there is a clean run of 200s.
    run = []

    def clean_run():
        run.append(status_of(base_url))
        return run[-20:] == [200] * 20

    assert wait_until(clean_run, 5.0, interval=0.01), run[-30:]
    assert master_pid(env) == master


def test_sighup_replaces_workers_without_dropping_requests(env, base_url):
    master = master_pid(env)
    assert wait_until(lambda: len(worker_pids(master)) == WORKERS, 5)
    before = worker_pids(master)
    statuses = []
    stop = threading.Event()

    def load():
        with requests.Session() as s:
            while not stop.is_set():
                try:
                    statuses.append(s.get(base_url + "/healthz", timeout=5).status_code)
                except requests.RequestException as exc:
                    statuses.append(repr(exc))

    thread = threading.Thread(target=load)
    thread.start()
    samples = []
    try:
        time.sleep(0.2)
        os.kill(master, signal.SIGHUP)

        def all_replaced():
            now = worker_pids(master)
            samples.append(len(now))
            return not (now & before) and len(now) == WORKERS

        ok = wait_until(all_replaced, 10.0)
        time.sleep(0.3)
    finally:
        stop.set()
        thread.join(10)
    assert ok, f"old workers {before & worker_pids(master)} still there 10 s after SIGHUP"
    assert master_pid(env) == master
    os.kill(master, 0)
    assert len(statuses) > 20, statuses
    bad = [s for s in statuses if s != 200]
    assert not bad, f"{len(bad)} of {len(statuses)} requests failed during the reload: {bad[:10]}"
    # One at a time: never more than one worker missing during the reload.
    assert min(samples) >= WORKERS - 1, samples
