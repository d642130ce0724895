"""The stack's mailer is supervised (deploy/dev mailer_supervise, the dev
counterpart of Restart= in deploy/systemd/finicom-mailer.service): a mailer
killed with SIGKILL is started again within a few seconds by the supervisor,
the restart is logged to the mailer's log, and mail queued afterwards is
delivered to the SMTP sink's Maildir ($FINICOM_MAILDIR).

Destructive (it kills the mailer), so it runs after the other tests; the
supervisor puts the stack back together itself.

Pid files (next to $FINICOM_PIDFILE): finicom-mailer.pid names the mailer,
finicom-mailer-supervisor.pid the supervisor whose child it is.
"""
import mailbox
import os
import signal
import time

import pytest

import client as fc
from conftest import wait_until

pytestmark = pytest.mark.destructive

RUN_DIR = os.path.dirname(os.environ.get("FINICOM_PIDFILE", "/nonexistent/finicomd.pid"))
MAILER_PIDFILE = os.path.join(RUN_DIR, "finicom-mailer.pid")
SUPERVISOR_PIDFILE = os.path.join(RUN_DIR, "finicom-mailer-supervisor.pid")
MAILDIR = os.environ.get("FINICOM_MAILDIR", "")
LOG = os.path.join(fc.LOGDIR, "finicom-mailer.log")
RESTART_WITHIN = 8  # seconds: the first back-off is 1 s, the watch interval 0.5 s


def _stat(pid):
    """(state, parent pid) of pid, or None when there is no such process."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return fields[0], int(fields[1])


def _alive(pid):
    st = _stat(pid)
    return st is not None and st[0] != "Z"


def _read_pid(path):
    try:
        with open(path) as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return None


def _is_mailer(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            argv0 = f.read().split(b"\0")[0].decode()
    except OSError:
        return False
    return os.path.basename(argv0) == "finicom-mailer"


def _mails_to(addr):
    md = mailbox.Maildir(MAILDIR, factory=None, create=False)
    found = []
    for key in md.keys():
        try:
            msg = md.get(key)
        except (KeyError, OSError):
            continue
        if msg is not None and addr.lower() in " ".join(msg.get_all("To", []) + msg.get_all("X-RcptTo", [])).lower():
            found.append(msg)
    return found


def test_sigkilled_mailer_is_restarted_and_mail_is_still_delivered():
    assert MAILDIR and os.path.isdir(os.path.join(MAILDIR, "new")), "FINICOM_MAILDIR=%r" % MAILDIR
    # The mailer may be the supervisor's child or, after another destructive test
    # restarted it by hand, one the supervisor watches: either is restarted.
    old = _read_pid(MAILER_PIDFILE)
    sup = _read_pid(SUPERVISOR_PIDFILE)
    assert sup is not None and _alive(sup), \
        "no mailer supervisor (%s): start the stack with deploy/dev up" % SUPERVISOR_PIDFILE
    assert old is not None and _alive(old) and _is_mailer(old), "no mailer in %s" % MAILER_PIDFILE
    log_start = os.path.getsize(LOG)

    os.kill(old, signal.SIGKILL)
    assert wait_until(lambda: not _alive(old), 5, 0.05), "the mailer did not die"

    def restarted():
        pid = _read_pid(MAILER_PIDFILE)
        return pid if pid is not None and pid != old and _alive(pid) and _is_mailer(pid) else None

    t0 = time.monotonic()
    new = wait_until(restarted, RESTART_WITHIN, 0.1)
    assert new, "no new mailer within %d s of the SIGKILL (pid file says %r)" % (
        RESTART_WITHIN, _read_pid(MAILER_PIDFILE))
    assert _stat(new)[1] == sup, "the new mailer %d is the supervisor's (%d) child" % (new, sup)
    assert _alive(sup), "the supervisor keeps running"
    with open(LOG, "rb") as f:
        f.seek(log_start)
        logged = f.read().decode(errors="replace")
    assert "proc=finicom-mailer-supervisor" in logged and \
        "finicom-mailer (pid %d) " % old in logged and "restarting it" in logged, \
        "the restart is logged in %s:\n%s" % (LOG, logged[-2000:])

    # Mail queued after the restart is delivered by the new mailer.
    admin = fc.signup(name="Supervision Admin")
    org = fc.create_org(admin)
    addr = fc.unique_email("supervised")
    r = admin.post("/api/v1/orgs/%s/invitations" % org["id"], {"email": addr, "role": "read"})
    assert r.status_code == 201, (r.status_code, r.text)
    got = wait_until(lambda: _mails_to(addr), 30, 0.2)
    assert got, "no mail to %s within 30 s of queueing it (outbox: %s)" % (addr, fc.psql(
        "SELECT string_agg(status || '/' || attempts || '/' || coalesce(last_error, '-'), '; ') "
        "FROM finicom.mail_outbox WHERE lower(recipient) = lower($1)", addr))
    assert "/invite/" in got[0].get_payload(decode=True).decode("utf-8", "replace")
    assert _alive(new) and _read_pid(MAILER_PIDFILE) == new, "the restarted mailer keeps running"
    print("restarted in %.1f s" % (time.monotonic() - t0))
