"""Mail delivery is retried like an MTA's queue, and a bounce is final.

A small SMTP relay of this test's own (aiosmtpd, on a free loopback port)
answers 550 to RCPT TO for one recipient and 451 for another.  The stack's
mailer is stopped (with its supervisor, as test_invitations.py's destructive
tests do) and a private finicom-mailer, configured like the stack's but
pointed at that relay, drains the outbox; afterwards the stack's mailer is
started again with its own command line.  The relay answers 451 to every
recipient it does not know, so other tests' mail stays queued for the
stack's mailer.

Checked: the 550 recipient's mail is 'failed' at once with the relay's code
and words in last_error and email_status 'failed' in the API; the 451 one
stays 'queued', its attempts growing, next_attempt_at in the future; resending
the failed invitation queues a new mail, which reaches the relay.
"""
import os
import signal
import socket
import subprocess
import sys
import threading
import uuid

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import client as fc  # noqa: E402
from client import create_org, psql, signup  # noqa: E402
from conftest import wait_until  # noqa: E402
from test_invitations import _alive, _pidfile, _proc, _restart, _unsupervise_mailer, inv_path, invite  # noqa: E402

aiosmtpd_controller = pytest.importorskip("aiosmtpd.controller")

BOUNCE_TEXT = "5.1.1 no such user here (h5 test relay)"
LATER_TEXT = "4.3.0 mailbox busy, try again later (h5 test relay)"


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Relay:
    """RCPT TO: 550 for bounce addresses, 250 for ok ones, 451 for the rest."""

    def __init__(self, bounce, ok):
        self.bounce, self.ok = {a.lower() for a in bounce}, {a.lower() for a in ok}
        self.rcpts = []
        self.delivered = []
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        with self.lock:
            self.rcpts.append(address.lower())
        if address.lower() in self.bounce:
            return "550 " + BOUNCE_TEXT
        if address.lower() in self.ok:
            envelope.rcpt_tos.append(address)
            return "250 OK"
        return "451 " + LATER_TEXT

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.delivered.extend(a.lower() for a in envelope.rcpt_tos)
        return "250 OK"

    def tries(self, addr):
        with self.lock:
            return self.rcpts.count(addr.lower())


def _row(inv_id, cols="status, attempts, coalesce(last_error, ''), next_attempt_at > now()"):
    out = psql("SELECT %s FROM finicom.mail_outbox WHERE invitation_id = $1 ORDER BY created_at DESC LIMIT 1"
               % cols, inv_id)
    return out.split("|") if out else None


def _email_status(admin, org, inv_id):
    r = admin.get(inv_path(org, "?status=all&limit=100"))
    assert r.status_code == 200, r.text
    return {i["id"]: i.get("email_status") for i in r.json()["items"]}.get(inv_id)


@pytest.mark.destructive
def test_bounce_is_final_and_temporary_failure_is_retried(tmp_path):
    tag = uuid.uuid4().hex[:10]
    bounce = "h5bounce-%s@e2e.finicom.test" % tag
    later = "h5later-%s@e2e.finicom.test" % tag
    relay = Relay(bounce=[bounce], ok=[])
    port = _free_port()
    controller = aiosmtpd_controller.Controller(relay, hostname="127.0.0.1", port=port)
    controller.start()

    admin = signup(name="Retry Admin")
    org = create_org(admin)
    pidfile = _pidfile("finicom-mailer.pid")
    _unsupervise_mailer()
    pid, argv, cwd, environ = _proc(pidfile)
    conf = argv[argv.index("-c") + 1]
    lines = [ln for ln in open(conf).read().splitlines()
             if ln.split("=", 1)[0].strip() not in ("smtp_host", "smtp_port", "smtp_starttls",
                                                     "mail_retry_base", "mail_retry_max")]
    private_conf = tmp_path / "finicom-mail-retry.conf"
    private_conf.write_text("\n".join(lines + [
        "smtp_host = 127.0.0.1", "smtp_port = %d" % port, "smtp_starttls = off",
        "mail_retry_base = 2s", "mail_retry_max = 30s"]) + "\n")
    private = None
    try:
        os.kill(pid, signal.SIGTERM)
        assert wait_until(lambda: not _alive(pid), 15, 0.1), "the stack's mailer did not stop"
        private = subprocess.Popen([argv[0], "-c", str(private_conf)], cwd=cwd, env=environ,
                                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                   stderr=open(os.path.join(fc.LOGDIR, "finicom-mailer-retry.log"), "ab"),
                                   start_new_session=True)
        bounced = invite(admin, org, bounce)
        delayed = invite(admin, org, later)

        # 550: failed at the first attempt, with the relay's code and words
        def failed():
            row = _row(bounced["id"])
            return row is not None and row[0] == "failed"

        assert wait_until(failed, 20, 0.1), _row(bounced["id"])
        status, attempts, error, _ = _row(bounced["id"])
        assert attempts == "1", "a 5xx is not retried (attempts %s)" % attempts
        assert "550" in error and BOUNCE_TEXT in error, error
        assert relay.tries(bounce) == 1
        assert psql("SELECT link IS NULL FROM finicom.mail_outbox WHERE invitation_id = $1",
                    bounced["id"]) == "t", "the link of a failed mail is scrubbed"
        assert _email_status(admin, org, bounced["id"]) == "failed"

        # 451: still queued, retried with a growing wait, due again later
        def retried():
            row = _row(delayed["id"])
            return row is not None and int(row[1]) >= 3

        assert wait_until(retried, 40, 0.1), _row(delayed["id"])
        status, attempts, error, future = _row(delayed["id"])
        assert status == "queued", (status, attempts, error)
        assert future == "t", "next_attempt_at is in the future"
        assert "451" in error and LATER_TEXT in error, error
        assert relay.tries(later) >= 3
        wait = psql("SELECT extract(epoch FROM next_attempt_at - now())::int FROM finicom.mail_outbox "
                    "WHERE invitation_id = $1", delayed["id"])
        assert 1 <= int(wait) <= 30, "the wait doubles from mail_retry_base, capped (%s s)" % wait
        assert _email_status(admin, org, delayed["id"]) == "queued"

        # the failed invitation can be resent: a new mail is queued and tried
        r = admin.post(inv_path(org, "/%s/resend" % bounced["id"]))
        assert r.status_code == 200, r.text
        assert r.json().get("email_status") == "queued", r.json()
        assert psql("SELECT count(*) FROM finicom.mail_outbox WHERE invitation_id = $1", bounced["id"]) == "2"
        assert wait_until(lambda: relay.tries(bounce) == 2, 20, 0.1), "the resent mail reaches the relay"
        assert wait_until(failed, 10, 0.1), _row(bounced["id"])
        assert private.poll() is None, "the private mailer keeps running"
        private.terminate()
        assert private.wait(15) == 0
        private = None
    finally:
        if private is not None:
            private.kill()
            private.wait(5)
        controller.stop()
        try:
            alive = _alive(int(open(pidfile).read()))
        except (OSError, ValueError):
            alive = False
        if not alive:
            _restart(pidfile, argv, cwd, environ, "finicom-mailer.log")
