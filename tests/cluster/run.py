#!/usr/bin/env python3
"""tests/cluster/run.py CLUSTER_ENV: the tests of `deploy/cluster test`.

Runs against a cluster that deploy/cluster has just brought up (the file
it wrote, cluster.env, says where everything is).  Every check prints
"ok - ..." or "not ok - ...", the measurements print as "# ..." lines,
and the last line is "N passed, M failed".

  1. e2e: the non-destructive tests of the E2E_FILES of tests/e2e (the API:
     accounts, orgs, members, invitations and their mail, API keys, objects,
     audit, ...; left out: the files about one nginx, the config parser,
     input encodings and the CLI, which the cluster does not change), less
     E2E_DESELECT, through nginx over both hosts.  Each test counts.
     CLUSTER_E2E_FILES="." runs them all.
  2. faults under a bounded write load (sources and invitations created by
     LOAD_THREADS clients for LOAD_SECONDS):
       - host A's finicomd (master, workers, auth processes) is SIGKILLed,
         then started again;
       - the Patroni primary's postmaster is SIGKILLed: the synchronous
         standby is promoted, the workers reconnect by themselves;
     then: every failed request is accounted for, every 2xx write is in
     the database, the old primary is a (synchronous) standby again,
     finicomctl verify-audit passes, every invitation got exactly one
     mail, and the pg_cron jobs ran on the primary only, once per minute,
     before and after the failover.
  3. database_prepared on and off through PgBouncer's transaction pooling.
  4. GET members at tests/load/bench's concurrency (wrk -t2 -c16), both
     hosts up and then one: both rates, printed.
"""
import json
import os
import pathlib
import re
import shlex
import signal
import subprocess
import sys
import threading
import time
import uuid
import xml.etree.ElementTree as ET

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parents[1]

LOAD_SECONDS = float(os.environ.get("CLUSTER_LOAD_SECONDS", "30"))
LOAD_THREADS = int(os.environ.get("CLUSTER_LOAD_THREADS", "4"))
HOST_KILL_AT = 5.0       # seconds into the load
PG_KILL_AT = 15.0
RECOVERY_BOUND = 30.0    # the target: writes succeed again within this after the kill
BENCH_SECONDS = int(os.environ.get("CLUSTER_BENCH_SECONDS", "5"))
E2E_FILES = ["test_accounts.py", "test_api_keys.py", "test_audit.py", "test_billing_plans.py",
             "test_email_verification.py", "test_http.py", "test_invitation_limits.py", "test_invitations.py",
             "test_members.py", "test_objects.py", "test_orgs.py", "test_secret_names.py",
             "test_security_layer.py", "test_typed_params.py"]
# e2e tests that look at the single stack's own files (its finicomd.log, its
# nginx.conf next to finicom.conf): not about the cluster.
E2E_DESELECT = [
    "test_http.py::test_healthz_success_has_no_worker_log_line_but_others_do",
    "test_nginx_hardening.py::test_upstream_failure_on_token_paths_leaves_no_token_in_logs",
]

PASSED = 0
FAILED = 0


def check(cond, what, detail=""):
    global PASSED, FAILED
    if cond:
        PASSED += 1
        print("ok - %s" % what, flush=True)
    else:
        FAILED += 1
        print("not ok - %s%s" % (what, ("\n#   " + str(detail).replace("\n", "\n#   ")) if detail else ""),
              flush=True)
    return cond


def note(text):
    print("# " + text, flush=True)


def load_env(path):
    env = {}
    for line in pathlib.Path(path).read_text().splitlines():
        if line.startswith("#") or "=" not in line:
            continue
        k, v = line.split("=", 1)
        env[k] = shlex.split(v)[0] if v else ""
    return env


E = load_env(sys.argv[1])
C = pathlib.Path(E["FINICOM_CLUSTER_DIR"])
PG_PORTS = [int(p) for p in E["FINICOM_PG_PORTS"].split()]
REST_PORTS = [int(p) for p in E["FINICOM_REST_PORTS"].split()]
HOST_PORTS = [int(p) for p in E["FINICOM_HOST_PORTS"].split()]
NODES = ["pg1", "pg2"]
URL = E["FINICOM_URL"]
CLUSTER = E["FINICOM_CLUSTER"]
FINICOMCTL = pathlib.Path(E["FINICOM_BUILD"]) / "src" / "finicomctl"


def rest(i, path):
    """Patroni's REST answer for node i: (status, json or None)."""
    import urllib.error
    import urllib.request
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d/%s" % (REST_PORTS[i], path), timeout=2) as r:
            body = r.read()
            status = r.status
    except urllib.error.HTTPError as e:
        body, status = e.read(), e.code
    except OSError:
        return 0, None
    try:
        return status, json.loads(body)
    except ValueError:
        return status, None


def primary_index():
    for i in range(len(NODES)):
        if rest(i, "primary")[0] == 200:
            return i
    return None


def psql(sql, port=None, db="finicom"):
    """One statement as postgres on the node at port (default: the primary)."""
    if port is None:
        conn = E["FINICOM_SU_DB"]
    else:
        conn = "host=127.0.0.1 port=%d dbname=%s user=postgres" % (port, db)
    out = subprocess.run(["psql", "-X", "-q", "-tA", "-v", "ON_ERROR_STOP=1", conn, "-c", sql],
                         capture_output=True, text=True, timeout=60)
    if out.returncode != 0:
        raise RuntimeError("psql failed: %s" % out.stderr.strip())
    return out.stdout.strip()


def cluster(*args):
    return subprocess.run([CLUSTER] + list(args), capture_output=True, text=True, timeout=120)


# ------------------------------------------------------------------ e2e

def e2e_env(primary):
    env = dict(os.environ)
    env.update({
        "FINICOM_URL": URL, "PGHOST": "127.0.0.1", "PGPORT": str(PG_PORTS[primary]),
        "PGDATABASE": "finicom", "PGUSER": "postgres", "FINICOM_MAILDIR": E["FINICOM_MAILDIR"],
        "FINICOM_PIDFILE": str(C / "run" / "finicomd-a.pid"), "FINICOM_DEV": str(REPO / "deploy" / "dev"),
        "FINICOM_STACK": "cluster", "FINICOM_BUILD": E["FINICOM_BUILD"],
        "FINICOM_CONF": str(C / "host-a" / "finicom.conf"), "FINICOM_LOGDIR": str(C / "log"),
        "FINICOM_WORKERS": E["FINICOM_WORKERS"], "PYTHONDONTWRITEBYTECODE": "1",
    })
    return env


def test_e2e():
    primary = primary_index()
    xml = C / "log" / "e2e.xml"
    log = C / "log" / "e2e.log"
    args = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "not destructive",
            "--junitxml=%s" % xml]
    files = os.environ.get("CLUSTER_E2E_FILES", "").split() or E2E_FILES
    for d in E2E_DESELECT:
        args += ["--deselect", d]
    started = time.monotonic()
    with open(log, "w") as f:
        rc = subprocess.run(args + files, cwd=REPO / "tests" / "e2e", env=e2e_env(primary),
                            stdout=f, stderr=subprocess.STDOUT, timeout=900).returncode
    took = time.monotonic() - started
    try:
        root = ET.parse(xml).getroot()
        suite = root if root.tag == "testsuite" else root.find("testsuite")
        n, fl, er, sk = (int(suite.get(k, 0)) for k in ("tests", "failures", "errors", "skipped"))
    except (OSError, ET.ParseError):
        n, fl, er, sk = 0, 1, 0, 0
    global PASSED, FAILED
    PASSED += n - fl - er - sk
    FAILED += fl + er
    note("e2e through the cluster: %d passed, %d failed, %d skipped in %.0f s (pytest exit %d; %s)"
         % (n - fl - er - sk, fl + er, sk, took, rc, log))
    if fl + er or rc:
        print(log.read_text()[-4000:])
    check(rc == 0 and n > 0, "e2e (%d files, non-destructive) passes through nginx over both hosts"
          % (len(files) if files != ["."] else len(list((REPO / "tests" / "e2e").glob("test_*.py")))))


# ------------------------------------------------------------------ load

sys.path.insert(0, str(REPO / "tests" / "e2e"))


def e2e_client():
    """tests/e2e/client.py, pointed at the cluster (and its conftest's wait_until)."""
    global wait_until
    for k, v in e2e_env(primary_index()).items():
        os.environ[k] = v
    import client  # noqa: E402
    from conftest import wait_until  # noqa: E402
    return client


class Load:
    """LOAD_THREADS clients, each an admin of its own orgs, creating sources
    and invitations in turn until stop; every request is recorded."""

    def __init__(self, fc, tag):
        self.fc = fc
        self.tag = tag
        self.records = []   # dicts: t0, t1, kind, org, status, id, rid, error, email
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.clients = []
        for t in range(LOAD_THREADS):
            c = fc.signup(name="Load %d" % t)
            # Invitation mail is limited to 200 an hour per org (sql/0012): 8 orgs per client.
            orgs = [fc.create_org(c, "load %s %d.%d" % (tag, t, k)) for k in range(8)]
            self.clients.append((c, orgs))

    def worker(self, t):
        c, orgs = self.clients[t]
        n = 0
        while not self.stop.is_set():
            org = orgs[n % len(orgs)]
            kind = "source" if n % 2 == 0 else "invitation"
            email = None
            if kind == "source":
                path, body = "/api/v1/orgs/%s/sources" % org["id"], {"name": "s-%s-%d-%d" % (self.tag, t, n),
                                                                      "type": "postgres"}
            else:
                email = "inv-%s-%d-%d@cluster.finicom.test" % (self.tag, t, n)
                path, body = "/api/v1/orgs/%s/invitations" % org["id"], {"email": email, "role": "read"}
            rec = {"t0": time.monotonic(), "kind": kind, "org": org["id"], "email": email, "thread": t}
            try:
                r = c.post(path, body)
                rec.update(status=r.status_code, rid=r.headers.get("X-Request-Id"))
                if r.status_code < 300:
                    rec["id"] = r.json()["id"]
                else:
                    rec["error"] = r.text[:200]
            except Exception as e:  # a connection error counts as a failure
                rec.update(status=0, error=repr(e)[:200])
            rec["t1"] = time.monotonic()
            with self.lock:
                self.records.append(rec)
            n += 1
            time.sleep(0.01)

    def run(self, events):
        """Run for LOAD_SECONDS (longer while writes are still failing, at most
        twice that), calling each (at, fn) of events at its time."""
        threads = [threading.Thread(target=self.worker, args=(t,), daemon=True) for t in range(LOAD_THREADS)]
        self.start = time.monotonic()
        for th in threads:
            th.start()
        pending = sorted(events, key=lambda e: e[0])
        while True:
            now = time.monotonic() - self.start
            while pending and pending[0][0] <= now:
                pending.pop(0)[1]()
            if now >= LOAD_SECONDS and not pending:
                with self.lock:
                    last = self.records[-8:]
                if all(r["status"] and r["status"] < 300 for r in last) or now >= 2 * LOAD_SECONDS:
                    break
            time.sleep(0.05)
        self.stop.set()
        for th in threads:
            th.join(timeout=30)


def host_pids(h):
    """finicomd's master of host h and all its children (workers, auth processes).

    Not the host's mailer: a mailer killed between the relay's acceptance
    of a message and its COMMIT sends that message again after the claim's
    lease (at least once, same Message-ID; deploy/SCALING.md), which a
    SIGKILL under a constant stream of mail hits now and then."""
    master = int((C / "run" / ("finicomd-%s.pid" % h)).read_text())
    pids = {master}
    for stat in pathlib.Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == master:
            pids.add(int(stat.parent.name))
    return pids


def upstream_log():
    """request_id -> "upstream addresses upstream statuses" from nginx's cluster log."""
    out = {}
    try:
        lines = (C / "log" / "nginx-upstream.log").read_text().splitlines()
    except OSError:
        return out
    for line in lines:
        m = re.search(r"request_id=(\S+) upstream=(.*) ustatus=(.*)$", line)
        if m:
            out[m.group(1)] = m.group(2) + " / " + m.group(3)
    return out


def test_faults(fc):
    tag = uuid.uuid4().hex[:8]
    primary = primary_index()
    check(primary is not None, "a primary before the faults (%s)" % (NODES[primary] if primary is not None else "-"))
    standby = 1 - primary
    load = Load(fc, tag)
    times = {}

    def kill_host():
        pids = host_pids("a")
        times["host_kill"] = time.monotonic()
        for p in pids:
            try:
                os.kill(p, signal.SIGKILL)
            except ProcessLookupError:
                pass
        # Dead only once the last of them is (the listening socket lives until then).
        wait_until(lambda: not any(os.path.exists("/proc/%d/stat" % p) and
                                   open("/proc/%d/stat" % p).read().rsplit(")", 1)[1].split()[0] != "Z"
                                   for p in pids), 5, 0.005)
        times["host_dead"] = time.monotonic()
        note("%.0f ms from the first SIGKILL to the last process gone; " % (
            1000 * (times["host_dead"] - times["host_kill"])))
        note("SIGKILLed host A's finicomd: %d processes (master, workers, auth processes)" % len(pids))

    def restart_host():
        r = cluster("host-up", "a")
        times["host_back"] = time.monotonic()
        note("host A started again (%s)" % ("ok" if r.returncode == 0 else r.stderr.strip()[-200:]))

    def kill_pg():
        pid = int((C / NODES[primary] / "data" / "postmaster.pid").read_text().split()[0])
        times["pg_kill"] = time.monotonic()
        os.kill(pid, signal.SIGKILL)
        note("SIGKILLed the primary's postmaster (%s, pid %d)" % (NODES[primary], pid))

    load.run([(HOST_KILL_AT, kill_host), (HOST_KILL_AT + 4, restart_host), (PG_KILL_AT, kill_pg)])
    recs = sorted(load.records, key=lambda r: r["t0"])
    ok = [r for r in recs if r["status"] and r["status"] < 300]
    bad = [r for r in recs if not (r["status"] and r["status"] < 300)]
    note("load: %d requests in %.0f s (%d threads), %d 2xx, %d failed"
         % (len(recs), time.monotonic() - load.start, LOAD_THREADS, len(ok), len(bad)))

    # --- host A: which requests failed, and were they in flight on host A?
    ups = upstream_log()
    host_a = "127.0.0.1:%d" % HOST_PORTS[0]
    pg_kill = times.get("pg_kill", 1e18)
    host_window = [r for r in bad if r["t1"] < pg_kill]
    # In flight on host A: sent before its last process was gone, answered after the first kill.
    in_flight = [r for r in host_window if r["t0"] <= times["host_dead"] and r["t1"] >= times["host_kill"]]
    for r in host_window:
        note("  failed request: sent %+.3f s, answered %+.3f s from the first SIGKILL" % (
            r["t0"] - times["host_kill"], r["t1"] - times["host_kill"]))
    on_a = [r for r in host_window if r.get("rid") and host_a in ups.get(r["rid"], "")]
    note("host A fault: %d failed requests, %d of them in flight at the kill, %d answered by nginx after "
         "host A refused or broke" % (len(host_window), len(in_flight), len(on_a)))
    for r in host_window:
        note("  failed: %s %s status %s rid %s upstream %s" % (r["kind"], r.get("email") or "", r["status"],
                                                               r.get("rid"), ups.get(r.get("rid") or "")))
    check(all(r in in_flight and r.get("rid") and host_a in ups.get(r["rid"], "") for r in host_window),
          "host A killed: only requests in flight on host A failed (%d)" % len(host_window))
    after_kill = [r for r in recs if times["host_kill"] + 0.5 < r["t0"] < times["host_back"]]
    check(after_kill and all(r["status"] and r["status"] < 300 for r in after_kill),
          "host A down: host B answered every one of the %d requests sent meanwhile" % len(after_kill))

    # --- the primary's failover
    pg_bad = [r for r in bad if r["t1"] >= pg_kill]
    later_ok = [r for r in ok if r["t0"] > pg_kill]
    last_bad_end = max((r["t1"] for r in pg_bad), default=pg_kill)
    first_ok_after = min((r["t0"] for r in later_ok if r["t0"] >= last_bad_end), default=None)
    recovered = (first_ok_after - pg_kill) if first_ok_after is not None else None
    note("primary fault: %d failed requests (%s); writes succeed again %.1f s after the kill (target <= %.0f s)"
         % (len(pg_bad), ", ".join(sorted({str(r["status"]) for r in pg_bad})) or "-",
            recovered if recovered is not None else -1, RECOVERY_BOUND))
    check(recovered is not None and recovered <= RECOVERY_BOUND,
          "primary killed: writes succeed again within %.0f s (%s s)" %
          (RECOVERY_BOUND, "%.1f" % recovered if recovered is not None else "never"))
    new_primary = wait_until(primary_index, 30)
    check(new_primary == standby, "the synchronous standby %s was promoted" % NODES[standby])

    # --- no 2xx write missing (on the new primary)
    src_ids = [r["id"] for r in ok if r["kind"] == "source"]
    inv = [r for r in ok if r["kind"] == "invitation"]
    have_src = set(psql("SELECT id FROM finicom.sources WHERE id = ANY('{%s}'::uuid[])" % ",".join(src_ids))
                   .split()) if src_ids else set()
    have_inv = set(psql("SELECT id FROM finicom.invitations WHERE id = ANY('{%s}'::uuid[])"
                        % ",".join(r["id"] for r in inv)).split()) if inv else set()
    lost = len(set(src_ids) - have_src) + len({r["id"] for r in inv} - have_inv)
    note("writes: %d sources and %d invitations got a 2xx; %d of them missing" % (len(src_ids), len(inv), lost))
    check(lost == 0 and src_ids and inv, "no write that got a 2xx is missing (lost writes: %d)" % lost)

    # --- the old primary rejoins as the synchronous standby
    t0 = time.monotonic()
    back = wait_until(lambda: rest(primary, "sync")[0] == 200, 120, 0.5)
    st = rest(primary, "patroni")[1] or {}
    note("old primary %s: %s after %.0f s (role %s, state %s, timeline %s)" % (
        NODES[primary], "synchronous standby" if back else "not back", time.monotonic() - t0, st.get("role"),
        st.get("state"), st.get("timeline")))
    check(back, "the old primary %s rejoined as the synchronous standby" % NODES[primary])
    how = patroni_rejoin_how(primary)
    note("how it rejoined (its Patroni log): %s" % how)
    if back:
        # the rejoined node holds the same writes
        def caught_up():
            try:
                n = psql("SELECT count(*) FROM finicom.sources WHERE id = ANY('{%s}'::uuid[])" % ",".join(src_ids),
                         port=PG_PORTS[primary])
            except RuntimeError:
                return False
            return n == str(len(src_ids))
        check(wait_until(caught_up, 30), "the rejoined standby has every 2xx source too")

    # --- the audit chain of every org the load wrote to (the e2e suite run
    # before breaks some chains on purpose: its tamper tests)
    orgs = [o["id"] for _, os_ in load.clients for o in os_]
    fails = []
    for org in orgs:
        ctl = subprocess.run([str(FINICOMCTL), "verify-audit", "--org", org, "--database", E["FINICOM_SU_DB"]],
                             capture_output=True, text=True, timeout=120)
        if ctl.returncode != 0:
            fails.append((org, (ctl.stdout + ctl.stderr).strip()[-300:]))
    note("finicomctl verify-audit --org for the %d orgs of the load: %d failed" % (len(orgs), len(fails)))
    check(not fails, "finicomctl verify-audit passes after the faults (%d orgs)" % len(orgs), fails[:3])

    # --- exactly one mail per invitation
    emails = {r["email"] for r in inv}
    ids = ",".join(r["id"] for r in inv)

    def drained():
        return psql("SELECT count(*) FROM finicom.mail_outbox WHERE invitation_id = ANY('{%s}'::uuid[]) "
                    "AND status = 'queued'" % ids) == "0"
    wait_until(drained, 90, 0.5)
    time.sleep(1)
    per_rcpt, per_mid = count_mail(tag)
    missing = sorted(e for e in emails if per_rcpt.get(e, 0) == 0)
    dup = sorted(e for e in emails if per_rcpt.get(e, 0) > 1)
    dup_mid = sorted(m for m, n in per_mid.items() if n > 1)
    stray = sorted(e for e in per_rcpt if e not in emails)
    sent_by = mailer_counts()
    note("mail: %d invitations with a 2xx, %d mails for them; missing %d, duplicated %d (same Message-ID twice: "
         "%d); sent by host A's mailer %d, host B's %d (whole run)" % (
             len(emails), sum(per_rcpt.get(e, 0) for e in emails), len(missing), len(dup), len(dup_mid),
             sent_by.get("a", 0), sent_by.get("b", 0)))
    check(not missing and not dup and not dup_mid,
          "every invitation created under load got exactly one mail (missing %d, duplicates %d)"
          % (len(missing), len(dup) + len(dup_mid)), (missing[:5], dup[:5], dup_mid[:5]))
    note("mails to addresses whose invitation request failed (committed, answer lost): %d" % len(stray))
    check(sent_by.get("a", 0) > 0 and sent_by.get("b", 0) > 0, "both hosts' mailers sent mail")
    return times, primary, standby


def count_mail(tag):
    """(recipient -> number of mails, Message-ID -> number) for this run's invitations."""
    import email
    import email.policy
    per_rcpt, per_mid = {}, {}
    md = pathlib.Path(E["FINICOM_MAILDIR"])
    for sub in ("new", "cur"):
        for p in (md / sub).iterdir():
            msg = email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
            to = str(msg.get("To", "")).lower()
            m = re.search(r"inv-%s-[0-9]+-[0-9]+@cluster\.finicom\.test" % tag, to)
            if not m:
                continue
            per_rcpt[m.group(0)] = per_rcpt.get(m.group(0), 0) + 1
            mid = str(msg.get("Message-ID", ""))
            per_mid[mid] = per_mid.get(mid, 0) + 1
    return per_rcpt, per_mid


def mailer_counts():
    out = {}
    for h in ("a", "b"):
        try:
            out[h] = (C / "log" / ("mailer-%s.log" % h)).read_text().count('msg="mail sent"')
        except OSError:
            out[h] = 0
    return out


def patroni_rejoin_how(i):
    try:
        text = (C / NODES[i] / "log" / "patroni.log").read_text()
    except OSError:
        return "no log"
    hits = [w for w in ("running pg_rewind", "pg_rewind exited", "reinitializ", "Failing over",
                        "starting after demotion", "Primary crashed") if w in text]
    return ", ".join(hits) or "restarted as a replica"


# ------------------------------------------------------------------ pg_cron

def cron_setup():
    """A probe job beside Finicom's: every minute it writes which node ran it."""
    psql("CREATE SCHEMA IF NOT EXISTS cluster_probe")
    psql("CREATE TABLE IF NOT EXISTS cluster_probe.runs (at timestamptz NOT NULL DEFAULT now(), "
         "port integer NOT NULL, in_recovery boolean NOT NULL)")
    psql("SELECT cron.schedule('cluster-probe', '* * * * *', $$INSERT INTO cluster_probe.runs (port, in_recovery) "
         "SELECT current_setting('port')::integer, pg_is_in_recovery()$$)")


def test_cron(pg_kill_wall, old, new):
    """Runs before and after the failover, each on the primary of the time, once a minute
    (the runs since this run's start: STARTED_WALL)."""
    def after():
        return psql("SELECT count(*) FROM cluster_probe.runs WHERE at > to_timestamp(%f)" % pg_kill_wall) != "0"
    got = wait_until(after, 75, 1)
    rows = [line.split("|") for line in psql(
        "SELECT date_trunc('minute', at), port, in_recovery, at > to_timestamp(%f) FROM cluster_probe.runs "
        "WHERE at > to_timestamp(%f) ORDER BY at" % (pg_kill_wall, STARTED_WALL)).splitlines()]
    before = [r for r in rows if r[3] == "f"]
    later = [r for r in rows if r[3] == "t"]
    minutes = [r[0] for r in rows]
    note("pg_cron probe: %d runs before the failover (ports %s), %d after (ports %s)" % (
        len(before), sorted({r[1] for r in before}), len(later), sorted({r[1] for r in later})))
    check(before and all(r[1] == str(PG_PORTS[old]) for r in before),
          "pg_cron: before the failover the probe job ran on %s only" % NODES[old])
    check(got and later and all(r[1] == str(PG_PORTS[new]) for r in later),
          "pg_cron: after the failover it runs on %s (the new primary) only" % NODES[new])
    check(all(r[2] == "f" for r in rows), "pg_cron: never ran on a node in recovery")
    check(len(minutes) == len(set(minutes)), "pg_cron: once a minute, never twice", minutes)
    # Finicom's own minute job, from cron.job_run_details (written on the primary).
    det = psql("SELECT count(*) FILTER (WHERE d.start_time > to_timestamp(%f)), "
               "count(*) FILTER (WHERE d.status <> 'succeeded' AND d.start_time > to_timestamp(%f)), "
               "count(*) - count(DISTINCT date_trunc('minute', d.start_time)) "
               "FROM cron.job_run_details d JOIN cron.job j USING (jobid) "
               "WHERE j.jobname = 'finicom-expire-invitations'" % (pg_kill_wall, pg_kill_wall)).split("|")
    note("finicom-expire-invitations after the failover: %s runs, %s not succeeded; minutes with two runs: %s"
         % tuple(det))
    check(det[0] != "0" and det[1] == "0" and det[2] == "0",
          "pg_cron: finicom-expire-invitations runs after the failover, once a minute, and succeeds")
    logs = {}
    for i, n in enumerate(NODES):
        try:
            logs[n] = (C / n / "log" / "postgresql.log").read_text().count("cron job")
        except OSError:
            logs[n] = 0
    note("pg_cron lines ('cron job ...') in each node's PostgreSQL log: %s" % logs)


# ------------------------------------------------------------------ prepared

def test_prepared(fc):
    """database_prepared through PgBouncer 1.18's transaction pooling: on
    (named statements) breaks as soon as two workers share a server
    connection; off (the cluster's setting) answers every request.  Host B
    is stopped meanwhile so that host A answers everything."""
    c = fc.signup(name="Prepared")
    org = fc.create_org(c, "prepared")
    path = "/api/v1/orgs/%s/members" % org["id"]
    cluster("host-down", "b")
    results = {}
    try:
        for setting in ("on", "off"):
            cluster("host-down", "a")
            r = cluster("host-conf", "a", setting)
            r2 = cluster("host-up", "a")
            if r.returncode or r2.returncode:
                results[setting] = None
                note("could not restart host A: %s %s" % (r.stderr[-200:], r2.stderr[-200:]))
                continue
            codes = []
            for _ in range(40):
                try:
                    codes.append(c.get(path).status_code)
                except Exception:
                    codes.append(0)
            results[setting] = codes
            note("database_prepared = %s: %d of 40 GET members answered 200 (others: %s)" % (
                setting, codes.count(200), sorted({x for x in codes if x != 200})))
    finally:
        cluster("host-down", "a")
        cluster("host-conf", "a")
        cluster("host-up", "a")
        cluster("host-up", "b")
    check(results.get("off") and all(x == 200 for x in results["off"]),
          "database_prepared = off through PgBouncer (transaction pooling): every request answers")
    check(results.get("on") and any(x != 200 for x in results["on"]),
          "database_prepared = on through PgBouncer (transaction pooling) fails, as PgBouncer 1.18 predicts "
          "(why the cluster turns it off)")


# ------------------------------------------------------------------ rates

def wrk_rate(url, headers_file):
    env = dict(os.environ, BENCH_HEADERS=str(headers_file))
    out = subprocess.run(["wrk", "-t2", "-c16", "-d%ds" % BENCH_SECONDS, "-s",
                          str(REPO / "tests" / "load" / "request.lua"), url],
                         capture_output=True, text=True, timeout=BENCH_SECONDS + 60, env=env).stdout
    m = re.search(r"Requests/sec:\s+([0-9.]+)", out)
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errs = re.search(r"Socket errors: (.*)", out)
    return (float(m.group(1)) if m else 0.0), (int(bad.group(1)) if bad else 0), (errs.group(1) if errs else ""), out


def test_rates(fc):
    c = fc.signup(name="Bench")
    org = fc.create_org(c, "bench")
    for k in range(20):
        c.post("/api/v1/orgs/%s/invitations" % org["id"], {"email": "bench-%d-%s@cluster.finicom.test"
                                                          % (k, uuid.uuid4().hex[:6]), "role": "read"})
    r = c.post("/api/v1/orgs/%s/api-keys" % org["id"], {"name": "bench", "role": "read"})
    if not check(r.status_code == 201, "an API key for the read bench", r.text[:200]):
        return
    hf = C / "run" / "bench-headers"
    hf.write_text("Authorization: Bearer %s\n" % r.json()["token"])
    hf.chmod(0o600)
    url = URL + "/api/v1/orgs/%s/members" % org["id"]
    both, bad2, err2, out2 = wrk_rate(url, hf)
    cluster("host-down", "b")
    try:
        one, bad1, err1, out1 = wrk_rate(url, hf)
    finally:
        cluster("host-up", "b")
    hf.unlink()
    note("GET members, wrk -t2 -c16 -d%ds through nginx: both hosts %.0f req/s, host A alone %.0f req/s "
         "(%d workers a host; a shared 2-core machine: noisy, compare within one run only)"
         % (BENCH_SECONDS, both, one, int(E["FINICOM_WORKERS"])))
    (C / "log" / "bench.log").write_text(out2 + "\n----\n" + out1)
    check(both > 0 and bad2 == 0 and not err2, "GET members with both hosts: only 2xx (%.0f req/s)" % both, out2)
    check(one > 0 and bad1 == 0 and not err1, "GET members with host B stopped: only 2xx (%.0f req/s)" % one, out1)


STARTED_WALL = time.time()


def main():
    started = time.monotonic()
    cron_setup()
    if os.environ.get("CLUSTER_SKIP_E2E") != "1":
        test_e2e()
    fc = e2e_client()
    test_prepared(fc)
    test_rates(fc)
    wall0 = time.time() - time.monotonic()
    times, old, new = test_faults(fc)
    test_cron(wall0 + times["pg_kill"], old, new)
    note("cluster tests: %.0f s" % (time.monotonic() - started))
    print("%d passed, %d failed" % (PASSED, FAILED))
    return 0 if FAILED == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
