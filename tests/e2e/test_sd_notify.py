"""sd_notify without systemd: the test is the service manager.

It binds a unix datagram socket, starts a private finicomd (and a private
finicom-mailer) with NOTIFY_SOCKET naming it and WATCHDOG_USEC set, as
systemd does for a Type=notify unit with WatchdogSec=, and reads what the
daemon says: READY=1 once it serves (the master: its socket bound and
every child ready; the mailer: connected), WATCHDOG=1 about every half
WATCHDOG_USEC, STOPPING=1 on SIGTERM.  The private daemons use the
stack's database and a listen socket of their own."""
import os
import pathlib
import re
import signal
import socket
import subprocess
import time

import pytest


def private_conf(env, tmp_path, **overrides):
    """The stack's finicom.conf with its listen socket moved to tmp_path and keys overridden."""
    text = pathlib.Path(os.environ["FINICOM_CONF"]).read_text()
    values = {"listen": str(tmp_path / "d.sock"), "workers": "2", **overrides}
    lines = [ln for ln in text.splitlines()
             if not re.match(r"\s*(%s|mailer_metrics_listen|auth_processes)\s*=" % "|".join(values), ln)]
    lines += [f"{k} = {v}" for k, v in values.items() if v is not None]
    path = tmp_path / "finicom.conf"
    path.write_text("\n".join(lines) + "\n")
    return path


class Manager:
    """The NOTIFY_SOCKET end: collects (monotonic time, message) pairs."""

    def __init__(self, path):
        self.path = str(path)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.messages = []

    def read_until(self, predicate, timeout):
        deadline = time.monotonic() + timeout
        while not predicate(self.messages):
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(4096)
            except socket.timeout:
                return predicate(self.messages)
            self.messages.append((time.monotonic(), data.decode()))
        return True

    def said(self, line):
        return [t for t, m in self.messages if line in m.split("\n")]

    def close(self):
        self.sock.close()


def start(argv, manager, log):
    env = {**os.environ, "NOTIFY_SOCKET": manager.path, "WATCHDOG_USEC": "1000000"}
    env.pop("WATCHDOG_PID", None)
    return subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log)


def stop(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.mark.parametrize("program", ["finicomd", "finicom-mailer"])
def test_ready_watchdog_and_stopping(env, tmp_path, program):
    conf = private_conf(env, tmp_path)
    manager = Manager(tmp_path / "notify")
    log = open(tmp_path / "daemon.log", "wb")
    proc = start([os.path.join(env["FINICOM_BUILD"], "src", program), "-c", str(conf)], manager, log)
    try:
        assert manager.read_until(lambda m: any("READY=1" in x.split("\n") for _, x in m), 15), \
            (manager.messages, (tmp_path / "daemon.log").read_text())
        ready_at = manager.said("READY=1")[0]
        assert len(manager.said("READY=1")) == 1
        status = [m for _, m in manager.messages if "READY=1" in m.split("\n")][0]
        assert "STATUS=" in status, status
        # WatchdogSec=1s: a ping about every 0.5 s, from the main loop.
        assert manager.read_until(lambda m: len([1 for t, x in m if x == "WATCHDOG=1" and t > ready_at]) >= 4, 5), \
            manager.messages
        pings = [t for t in manager.said("WATCHDOG=1") if t > ready_at]
        gaps = [b - a for a, b in zip(pings, pings[1:])]
        assert all(0.2 < g < 0.9 for g in gaps), gaps
        if program == "finicomd":
            # Ready means serving: the socket answers FastCGI.
            assert (tmp_path / "d.sock").exists()
        proc.send_signal(signal.SIGTERM)
        assert manager.read_until(lambda m: any(x == "STOPPING=1" for _, x in m), 12), manager.messages
        assert proc.wait(timeout=15) == 0
    finally:
        stop(proc)
        log.close()
        manager.close()


def test_no_notify_socket_changes_nothing(env, tmp_path):
    """Without NOTIFY_SOCKET (not under systemd) finicomd starts and stops as before."""
    conf = private_conf(env, tmp_path)
    with open(tmp_path / "daemon.log", "wb") as log:
        envv = {k: v for k, v in os.environ.items() if k not in ("NOTIFY_SOCKET", "WATCHDOG_USEC")}
        proc = subprocess.Popen([os.path.join(env["FINICOM_BUILD"], "src", "finicomd"), "-c", str(conf)],
                                env=envv, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        try:
            deadline = time.monotonic() + 10
            while not (tmp_path / "d.sock").exists() and time.monotonic() < deadline:
                time.sleep(0.05)
            assert (tmp_path / "d.sock").exists()
            time.sleep(0.5)
            assert proc.poll() is None
        finally:
            stop(proc)
    assert proc.returncode == 0
