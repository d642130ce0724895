"""GET /metrics (finicomd, through nginx) and the mailer's own /metrics.

Every scrape is checked by a real parser, promtool check metrics (Debian's
prometheus package), and the counters must move as requests are made:
requests by route and status, a latency histogram's count, a respawn after
a worker is SIGKILLed, database errors and reconnects across a PostgreSQL
stop and start, the mailer's sends after a mail.  /metrics is refused (403)
to a client whose address is not loopback's 127.0.0.1 or ::1: the test
connects from 127.0.0.2, which nginx's allow list does not hold."""
import http.client
import os
import re
import signal
import subprocess
import time
import urllib.parse

import pytest
import requests

import client
from conftest import auth_pids, master_pid, wait_until, worker_pids

WORKERS = int(os.environ.get("FINICOM_WORKERS", "4"))
SAMPLE_RE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{(?:[^"}]|"(?:[^"\\]|\\.)*")*\})?) (\S+)$')


def promtool_check(text):
    run = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True,
                         timeout=30)
    assert run.returncode == 0, f"promtool check metrics: {run.stdout}{run.stderr}"


def parse(text):
    """{'name{labels}': value} of every sample line."""
    samples = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = SAMPLE_RE.match(line)
        assert m, f"not a sample line: {line!r}"
        assert m.group(1) not in samples, f"sample twice: {line!r}"
        samples[m.group(1)] = float(m.group(2))
    return samples


def scrape(base_url):
    r = requests.get(base_url + "/metrics", timeout=10)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4"), r.headers
    promtool_check(r.text)
    return parse(r.text)


def mailer_scrape():
    url = os.environ.get("FINICOM_MAILER_METRICS")
    assert url, "FINICOM_MAILER_METRICS is not set (deploy/dev writes it into dev.env)"
    r = requests.get(url, timeout=10)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4"), r.headers
    promtool_check(r.text)
    return parse(r.text)


def req(route, status, method="GET"):
    return f'finicom_http_requests_total{{method="{method}",route="{route}",status="{status}"}}'


def hist(route, part, method="GET", le=None):
    labels = f'method="{method}",route="{route}"' + (f',le="{le}"' if le else "")
    return f"finicom_http_request_duration_seconds_{part}{{{labels}}}"


def test_scrape_parses_and_request_counters_move(base_url):
    before = scrape(base_url)
    for _ in range(7):
        assert requests.get(base_url + "/healthz", timeout=5).status_code == 200
    for _ in range(3):
        assert requests.get(base_url + "/api/v1/no-such-thing", timeout=5).status_code == 404
    r = requests.get(base_url + "/api/v1/me", timeout=5)
    assert r.status_code == 401
    after = scrape(base_url)

    assert after[req("/healthz", 200)] - before.get(req("/healthz", 200), 0) >= 7
    assert after[req("none", 404, method="")] - before.get(req("none", 404, method=""), 0) >= 3
    assert after[req("/api/v1/me", 401)] - before.get(req("/api/v1/me", 401), 0) >= 1
    # The histogram: its count moved with the requests, and is its +Inf bucket.
    count = hist("/healthz", "count")
    assert after[count] - before.get(count, 0) >= 7
    assert after[hist("/healthz", "bucket", le="+Inf")] == after[count]
    buckets = [v for k, v in after.items() if k.startswith(hist("/healthz", "bucket")[:-1] + ',le=')]
    assert buckets == sorted(buckets), "buckets are cumulative"
    assert after[hist("/healthz", "sum")] > 0
    assert after['finicom_processes_alive{pool="worker"}'] == WORKERS
    assert after['finicom_processes_alive{pool="auth"}'] >= 1
    assert [v for k, v in after.items() if k.startswith("finicom_build_info{version=")] == [1]


def test_metrics_refused_from_an_address_not_allowed(base_url):
    url = urllib.parse.urlsplit(base_url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10, source_address=("127.0.0.2", 0))
    try:
        conn.request("GET", "/metrics")
        r = conn.getresponse()
        body = r.read().decode()
    finally:
        conn.close()
    assert r.status == 403, body
    assert '"code":"forbidden"' in body and "finicom_" not in body, body
    # The same client may read everything else.
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10, source_address=("127.0.0.2", 0))
    try:
        conn.request("GET", "/livez")
        assert conn.getresponse().status == 200
    finally:
        conn.close()


def test_mailer_counts_a_sent_mail():
    before = mailer_scrape()
    for name in ("finicom_mailer_sends_total", 'finicom_mailer_failures_total{kind="retry"}',
                 'finicom_mailer_failures_total{kind="permanent"}', "finicom_mailer_db_reconnects_total"):
        assert name in before, sorted(before)
    client.signup()  # its verification mail goes through the mailer to the sink

    def sent():
        now = mailer_scrape()
        return now if now["finicom_mailer_sends_total"] > before["finicom_mailer_sends_total"] else None

    after = wait_until(sent, 15, interval=0.25)
    assert after, "the mailer's sends_total did not move after a mail"
    # The queue's gauges are read from the outbox every few seconds.
    assert wait_until(lambda: "finicom_mailer_queue_depth" in mailer_scrape(), 10, interval=0.5)
    now = mailer_scrape()
    assert now["finicom_mailer_queue_depth"] >= 0
    assert now["finicom_mailer_oldest_queued_age_seconds"] >= 0
    assert abs(now["finicom_mailer_queue_read_timestamp_seconds"] - time.time()) < 30


def test_mailer_listener_serves_only_metrics():
    url = urllib.parse.urlsplit(os.environ["FINICOM_MAILER_METRICS"])
    r = requests.get(f"http://{url.hostname}:{url.port}/", timeout=5)
    assert r.status_code == 404


@pytest.mark.destructive
def test_a_killed_worker_counts_as_a_respawn(env, base_url):
    master = master_pid(env)
    assert wait_until(lambda: len(worker_pids(master)) == WORKERS, 5)
    before = scrape(base_url)
    victim = min(worker_pids(master))
    os.kill(victim, signal.SIGKILL)
    assert wait_until(lambda: victim not in worker_pids(master) and len(worker_pids(master)) == WORKERS, 5)

    def counted():
        now = scrape(base_url)
        return now if now['finicom_respawns_total{pool="worker"}'] > before['finicom_respawns_total{pool="worker"}'] \
            else None

    after = wait_until(counted, 5, interval=0.1)
    assert after, "respawns_total did not move after a SIGKILLed worker"
    assert after['finicom_respawns_total{pool="worker"}'] == before['finicom_respawns_total{pool="worker"}'] + 1
    assert wait_until(lambda: scrape(base_url)['finicom_processes_alive{pool="worker"}'] == WORKERS, 5)
    # A respawned worker adds to its slot's counters: nothing went back.
    for key, value in before.items():
        if key.startswith("finicom_http_requests_total"):
            assert after[key] >= value, key


def _dev(env, command):
    run = subprocess.run([env["FINICOM_DEV"], command], capture_output=True, text=True, timeout=90,
                         env={**os.environ, "FINICOM_STACK": env["FINICOM_STACK"]})
    assert run.returncode == 0, f"deploy/dev {command}: {run.stdout}{run.stderr}"


def fresh_children(env, base_url):
    """After PostgreSQL came back: SIGHUP, so every worker and auth process is
    replaced by one with a fresh connection and the tests after this one find
    the stack as it was (fresh processes, counters aside)."""
    master = master_pid(env)
    workers, auths = worker_pids(master), auth_pids(master)
    os.kill(master, signal.SIGHUP)
    assert wait_until(lambda: not (worker_pids(master) & workers) and not (auth_pids(master) & auths) and
                      len(worker_pids(master)) == WORKERS, 30, interval=0.1), "the children were not replaced"
    run = []

    def clean_run():
        run.append(requests.get(base_url + "/healthz", timeout=5).status_code)
        return run[-20:] == [200] * 20

    assert wait_until(clean_run, 10, interval=0.01), run[-30:]


@pytest.mark.destructive
def test_database_errors_and_reconnects_are_counted(env, base_url):
    before = scrape(base_url)
    mailer_before = mailer_scrape()
    unknown_key = {"Authorization": "Bearer fcm_" + "A" * 43}
    try:
        _dev(env, "pg-stop")
        assert wait_until(lambda: requests.get(base_url + "/healthz", timeout=5).status_code == 503, 5)
        for _ in range(4):
            assert requests.get(base_url + "/api/v1/me", headers=unknown_key, timeout=5).status_code == 503
        during = scrape(base_url)  # /metrics needs no database
        assert during['finicom_db_errors_total{pool="worker",kind="unavailable"}'] >= \
            before['finicom_db_errors_total{pool="worker",kind="unavailable"}'] + 4
        assert during['finicom_db_connections_lost_total{pool="worker"}'] > \
            before['finicom_db_connections_lost_total{pool="worker"}']
        assert during['finicom_db_connect_failures_total{pool="worker"}'] > \
            before['finicom_db_connect_failures_total{pool="worker"}']
        assert during[req("/api/v1/me", 503)] - before.get(req("/api/v1/me", 503), 0) >= 4
    finally:
        _dev(env, "pg-start")
    assert wait_until(lambda: requests.get(base_url + "/healthz", timeout=5).status_code == 200, 10)
    for _ in range(3 * WORKERS):
        requests.get(base_url + "/api/v1/me", headers=unknown_key, timeout=5)
    after = scrape(base_url)
    assert after['finicom_db_reconnects_total{pool="worker"}'] > before['finicom_db_reconnects_total{pool="worker"}']
    assert after['finicom_db_connects_total{pool="worker"}'] > before['finicom_db_connects_total{pool="worker"}']
    fresh_children(env, base_url)
    # The mailer comes back by itself too, and says so.
    assert wait_until(lambda: mailer_scrape()["finicom_mailer_db_reconnects_total"] >
                      mailer_before["finicom_mailer_db_reconnects_total"], 40, interval=0.5), \
        "the mailer's reconnect was not counted"
