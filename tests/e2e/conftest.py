"""Fixtures for the end-to-end suite: HTTP through nginx to finicomd.

The stack under test is described by the variables deploy/dev writes to
S/dev.env (FINICOM_URL, PGHOST, ..., FINICOM_PIDFILE, FINICOM_DEV,
FINICOM_STACK, FINICOM_BUILD).  When they are not in the environment (a
developer running pytest by hand), var/dev.env of this checkout is read.

Tests marked "destructive" (they kill workers, stop PostgreSQL, reload
finicomd) run after all the others and restore the stack themselves.
"""
import os
import pathlib
import shlex
import subprocess
import time

import pytest
import requests

REPO = pathlib.Path(__file__).resolve().parents[2]
ENV_KEYS = ("FINICOM_URL", "PGHOST", "PGPORT", "PGDATABASE", "PGUSER", "FINICOM_MAILDIR",
            "FINICOM_PIDFILE", "FINICOM_DEV", "FINICOM_STACK", "FINICOM_BUILD")


def _load_dev_env():
    """Fill os.environ from dev.env for the keys that are missing."""
    if all(k in os.environ for k in ENV_KEYS):
        return
    path = pathlib.Path(os.environ.get("FINICOM_ENV", REPO / "var" / "dev.env"))
    if not path.exists():
        raise pytest.UsageError(f"{path} does not exist: run deploy/dev up first")
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.split("=", 1)
        parts = shlex.split(value) if value else [""]
        os.environ.setdefault(key, parts[0] if parts else "")


_load_dev_env()


def pytest_configure(config):
    config.addinivalue_line("markers", "destructive: kills or restarts parts of the stack; runs last")


def pytest_collection_modifyitems(config, items):
    # Destructive tests last; among them the mailer supervision test first,
    # while deploy/dev's supervisor still runs (the mail tests that kill
    # and start mailers themselves stop it: test_invitations.py).
    items.sort(key=lambda item: (item.get_closest_marker("destructive") is not None,
                                 item.module.__name__ != "test_mailer_supervision"))


@pytest.fixture(scope="session")
def env():
    return {k: os.environ[k] for k in ENV_KEYS}


@pytest.fixture(scope="session")
def base_url(env):
    return env["FINICOM_URL"].rstrip("/")


@pytest.fixture
def http():
    with requests.Session() as s:
        yield s


def wait_until(predicate, timeout, interval=0.05):
    """Call predicate until it returns a true value or timeout seconds pass.

    Returns the last value (true on success, false on timeout)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


def master_pid(env):
    return int(pathlib.Path(env["FINICOM_PIDFILE"]).read_text().strip())


def _children(master):
    """(pid, comm) of the live children of finicomd's master (zombies excluded)."""
    children = set()
    for stat in pathlib.Path("/proc").glob("[0-9]*/stat"):
        try:
            head, tail = stat.read_text().rsplit(")", 1)
            fields = tail.split()
        except (OSError, ValueError):
            continue
        # fields[0] is the state, fields[1] the parent's pid; comm is in the parentheses.
        if int(fields[1]) == master and fields[0] != "Z":
            children.add((int(stat.parent.name), head.split("(", 1)[1]))
    return children


def worker_pids(master):
    """The live FastCGI workers of finicomd's master."""
    return {pid for pid, comm in _children(master) if comm != "finicomd-auth"}


def auth_pids(master):
    """The live auth processes of finicomd's master (they name themselves finicomd-auth)."""
    return {pid for pid, comm in _children(master) if comm == "finicomd-auth"}


def superuser_psql(env, sql):
    """Run one statement as the stack's superuser; returns stdout stripped."""
    out = subprocess.run(
        ["psql", "-X", "-q", "-tA", "-v", "ON_ERROR_STOP=1", "-h", env["PGHOST"], "-p", env["PGPORT"],
         "-U", env["PGUSER"], "-d", env["PGDATABASE"], "-c", sql],
        check=True, capture_output=True, text=True, timeout=30)
    return out.stdout.strip()


def error_code(response):
    body = response.json()
    assert set(body) == {"error"}, body
    assert isinstance(body["error"].get("message"), str) and body["error"]["message"], body
    return body["error"]["code"]
