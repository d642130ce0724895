"""The audit export (API v1.1 "Audit export"; src/handlers/export.c).

GET /orgs/{org}/audit-events/export?format=csv|ndjson&from=&to=&action=
streams the org's events, oldest first, from one snapshot, in constant
worker memory.  The big test writes 100,000 events in one statement (as
the superuser, through audit.append, so they are real events with the
database's stamps), exports them as CSV and NDJSON, checks every line
against GET audit-events, and measures the memory of every worker while
it runs (one export on each worker at once): the peak RSS (VmHWM, reset
before through /proc/PID/clear_refs) may exceed the RSS before by at most
2 MiB.
"""
import csv
import io
import json
import os
import re
import subprocess
import sys
import threading
import time

import pytest
import requests

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import client as fc  # noqa: E402
from client import add_member, assert_error, create_org, psql, signup  # noqa: E402
from conftest import master_pid, wait_until, worker_pids  # noqa: E402

COLUMNS = ["id", "at", "action", "actor_type", "actor_id", "actor_label", "target_type", "target_id",
           "ip", "request_id", "details"]
BIG = 100_000
MIB = 1024 * 1024


def superuser_sql(sql, *args, timeout=300):
    """psql as the superuser with a long timeout (the 100,000 events), $1... bound as psql variables."""
    text = re.sub(r"\$(\d+)", lambda m: ":'p%s'" % m.group(1), sql)
    cmd = ["/usr/bin/psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-At", "-h", fc.PGHOST, "-p", str(fc.PGPORT),
           "-d", fc.PGDATABASE, "-U", fc.PGUSER]
    for i, a in enumerate(args, 1):
        cmd += ["-v", "p%d=%s" % (i, a)]
    p = subprocess.run(cmd, input=text + ";\n", capture_output=True, text=True, timeout=timeout)
    assert p.returncode == 0, p.stderr
    return p.stdout.strip()


def bulk_events(org, n, quoted_every=0):
    """n events in one INSERT as the superuser: audit.stamp (the trigger every
    event goes through) makes them the database's, actor db; every
    quoted_every-th has details CSV must quote."""
    superuser_sql("INSERT INTO audit.events (org_id, action, target_type, target_id, details)"
                  " SELECT $1, 'bulk.test', 'org', $1, jsonb_build_object('n', g, 'text',"
                  "  CASE WHEN $3 > 0 AND g % $3 = 0 THEN E'a, \"b\"\\nc' ELSE 'plain' END)"
                  " FROM generate_series(1, $2) g", org["id"], n, quoted_every)


def export_path(org, query=""):
    return "/api/v1/orgs/%s/audit-events/export%s" % (org["id"], query)


def api_events(c, org, query=""):
    """Every event of GET audit-events (all pages), oldest first."""
    items, cursor = [], None
    while True:
        q = "?limit=200" + ("&cursor=" + cursor if cursor else "") + query
        r = c.get("/api/v1/orgs/%s/audit-events%s" % (org["id"], q))
        assert r.status_code == 200, r.text
        body = r.json()
        items.extend(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            return list(reversed(items))


def csv_row(event):
    """An API event as the export's CSV row (NULL is an empty field)."""
    def s(v):
        return "" if v is None else str(v)
    return [s(event["id"]), s(event["at"]), s(event["action"]), s(event["actor"]["type"]),
            s(event["actor"]["id"]), s(event["actor"]["label"]), s(event["target"]["type"]),
            s(event["target"]["id"]), s(event["ip"]), s(event["request_id"]), event["details"]]


def parse_csv(text):
    rows = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    assert rows[0] == COLUMNS, rows[0]
    out = []
    for row in rows[1:]:
        assert len(row) == len(COLUMNS), row
        row[10] = json.loads(row[10])
        out.append(row)
    return out


@pytest.fixture
def admin_org():
    admin = signup(name="Export Admin")
    org = create_org(admin)
    return admin, org


# --------------------------------------------------------------------------
# small exports


def test_export_csv_small_matches_the_api(admin_org):
    admin, org = admin_org
    # Values CSV must quote: commas and quotes in the org's name, a newline
    # in an access review's note.
    assert admin.patch("/api/v1/orgs/" + org["id"], {"name": 'Acme, "Quoted"'}).status_code == 200
    reviews = "/api/v1/orgs/%s/access-reviews" % org["id"]
    review = admin.post(reviews, {}).json()
    r = admin.patch("%s/%s/items/%s" % (reviews, review["id"], admin.id), {"decision": "keep", "note": "line 1\r\nline 2"})
    assert r.status_code == 200, r.text
    r = admin.get(export_path(org, "?format=csv"))
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("text/csv"), r.headers
    disposition = r.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and ".csv" in disposition, disposition
    assert "Content-Length" not in r.headers  # streamed
    assert r.content.startswith(b"id,at,action,") and b"\r\n" in r.content
    rows = parse_csv(r.content.decode("utf-8"))
    assert rows == [csv_row(e) for e in api_events(admin, org)]
    assert [row[2] for row in rows][:2] == ["org.created", "member.added"]
    assert [row[2] for row in rows][-3:] == ["org.updated", "access_review.created", "access_review.decided"]
    assert rows[-3][10]["new"]["name"] == 'Acme, "Quoted"'
    assert rows[-1][10]["note"] == "line 1\r\nline 2"


def test_export_ndjson_small_matches_the_api(admin_org):
    admin, org = admin_org
    assert admin.patch("/api/v1/orgs/" + org["id"], {"invite_ttl_hours": 7}).status_code == 200
    r = admin.get(export_path(org, "?format=ndjson"))
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("application/x-ndjson"), r.headers
    assert r.headers["Content-Disposition"].startswith("attachment;")
    assert r.text.endswith("\n")
    lines = [json.loads(x) for x in r.text.splitlines()]
    assert lines == api_events(admin, org)


def test_export_filters(admin_org):
    admin, org = admin_org
    for ttl in (11, 12, 13):
        assert admin.patch("/api/v1/orgs/" + org["id"], {"invite_ttl_hours": ttl}).status_code == 200
    events = api_events(admin, org)
    updated = [e for e in events if e["action"] == "org.updated"]
    assert len(updated) == 3
    r = admin.get(export_path(org, "?format=ndjson&action=org.updated"))
    assert [json.loads(x) for x in r.text.splitlines()] == updated
    # from inclusive, to exclusive, as GET audit-events.
    r = admin.get(export_path(org, "?format=ndjson&from=%s&to=%s" % (updated[1]["at"], updated[2]["at"])))
    assert r.status_code == 200, r.text
    assert [json.loads(x)["id"] for x in r.text.splitlines()] == [updated[1]["id"]]
    # The default format is csv.
    r = admin.get(export_path(org, "?action=org.updated"))
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/csv")
    assert len(parse_csv(r.text)) == 3
    # Nothing matches: the header line only.
    r = admin.get(export_path(org, "?action=no.such"))
    assert r.status_code == 200 and r.text == ",".join(COLUMNS) + "\r\n"


@pytest.mark.parametrize("query, field", [
    ("?format=xml", "format"),
    ("?format=", "format"),
    ("?format=CSV", "format"),
    ("?from=yesterday", "from"),
    ("?to=2030-02-30T00:00:00Z", "to"),
    ("?action=DROP%20TABLE", "action"),
    ("?action=" + "a" * 65, "action"),
])
def test_export_bad_params(admin_org, query, field):
    admin, org = admin_org
    assert_error(admin.get(export_path(org, query)), 400, "validation_failed", field)


def test_export_is_for_admins_only(admin_org):
    admin, org = admin_org
    writer, stranger = signup(name="W"), signup(name="S")
    add_member(org, writer, "write")
    assert_error(writer.get(export_path(org)), 403, "forbidden")
    assert_error(stranger.get(export_path(org)), 404, "not_found")
    assert_error(fc.Client().get(export_path(org)), 401, "unauthenticated")


# --------------------------------------------------------------------------
# 100,000 events, constant memory


def rss_kib(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise AssertionError("no %s for %d" % (key, pid))


def reset_peak(pid):
    """VmHWM := VmRSS (proc(5), clear_refs "5")."""
    with open("/proc/%d/clear_refs" % pid, "w") as f:
        f.write("5")


def open_stream(c, path):
    """GET path as c, the body left to read as it comes (requests' stream)."""
    return c.http.get(fc.BASE_URL + path, headers={"Cookie": "%s=%s" % (fc.COOKIE, c.token)},
                      stream=True, timeout=120)


def export_streamed(admin, org, fmt):
    """Download the export, reading it as it comes; returns (bytes, chunks seen)."""
    r = open_stream(admin, export_path(org, "?format=" + fmt))
    assert r.status_code == 200, r.text
    buf, chunks = io.BytesIO(), 0
    for chunk in r.iter_content(chunk_size=65536):
        buf.write(chunk)
        chunks += 1
    return buf.getvalue(), chunks


def export_on_every_worker(admin, org, fmt, n):
    """n exports at once, one per worker, read as they come; their bodies.

    The n responses are all open (headers received, bodies not yet read)
    before any is read: a worker serves one request at a time, so n open
    responses are n workers.  Then threads read them side by side (nginx
    would drop a client that reads nothing for send_timeout)."""
    streams = [open_stream(admin, export_path(org, "?format=" + fmt)) for _ in range(n)]
    assert [r.status_code for r in streams] == [200] * n
    bodies = [None] * n

    def drain(i):
        buf = io.BytesIO()
        for chunk in streams[i].iter_content(chunk_size=65536):
            buf.write(chunk)
        bodies[i] = buf.getvalue()

    threads = [threading.Thread(target=drain, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert all(b is not None for b in bodies), "an export did not finish"
    return bodies


def test_export_100k_events_constant_memory(env, admin_org):
    admin, org = admin_org
    started = time.monotonic()
    # One statement, as the superuser, through the audit trigger: real
    # events (stamped by the database: actor db), some with values CSV
    # must quote.
    bulk_events(org, BIG, quoted_every=1000)
    assert time.monotonic() - started < 120, "generating the events is too slow"
    expected = api_events(admin, org)
    assert len(expected) == BIG + 2  # org.created and member.added

    workers = sorted(worker_pids(master_pid(env)))
    assert workers, "no workers found"
    for fmt in ("csv", "ndjson"):
        # A warm-up round first, one export on every worker: a worker's
        # first export maps libpq's and the allocator's working set once
        # (and, in the sanitizer build, fills ASan's bounded quarantine of
        # freed memory: deploy/dev's test stack); the measured round must
        # then grow no worker.
        export_on_every_worker(admin, org, fmt, len(workers))
        before = {pid: rss_kib(pid, "VmRSS") for pid in workers}
        for pid in workers:
            reset_peak(pid)
        bodies = export_on_every_worker(admin, org, fmt, len(workers))
        peak = {pid: rss_kib(pid, "VmHWM") for pid in workers}
        growth = {pid: peak[pid] - before[pid] for pid in workers}
        assert max(growth.values()) * 1024 <= 2 * MIB, (fmt, growth, [len(b) for b in bodies])
        assert len(set(bodies)) == 1, "every worker sent the same file"
        body = bodies[0]
        if fmt == "csv":
            rows = parse_csv(body.decode("utf-8"))
            assert len(rows) == len(expected)
            assert rows == [csv_row(e) for e in expected]
            quoted = [row for row in rows if row[10].get("text") == 'a, "b"\nc']
            assert len(quoted) == BIG // 1000
        else:
            lines = body.decode("utf-8").split("\n")
            assert lines[-1] == ""
            assert [json.loads(x) for x in lines[:-1]] == expected
        assert len(body) > BIG * 100  # several MB went through each worker's few pages
    # Read as it comes: a client sees the body in many pieces.
    _, chunks = export_streamed(admin, org, "csv")
    assert chunks > 10, "the body did not come in pieces"


def test_export_reads_one_snapshot(admin_org):
    """Events written while an export streams are not in it."""
    admin, org = admin_org
    bulk_events(org, 30000)
    r = open_stream(admin, export_path(org, "?format=ndjson"))
    assert r.status_code == 200
    it = r.iter_lines()
    first = next(it)
    assert json.loads(first)["action"] == "org.created"
    # While the export is open (its cursor declared), more events arrive.
    for ttl in (21, 22):
        assert admin.patch("/api/v1/orgs/" + org["id"], {"invite_ttl_hours": ttl}).status_code == 200
    rest = [json.loads(x) for x in it if x]
    assert len(rest) + 1 == 30002
    assert all(e["action"] != "org.updated" for e in rest)
    # The next export has them.
    r = admin.get(export_path(org, "?format=ndjson&action=org.updated"))
    assert len(r.text.splitlines()) == 2


def test_export_cut_short_is_an_incomplete_transfer(admin_org):
    """A FETCH that fails part way (here: the worker's database connection
    terminated mid-export) must not end the body as a whole one would: the
    status line is long gone, so the client must see an incomplete transfer
    (no last chunk), never a shorter file that parses."""
    admin, org = admin_org
    # 20,000 events of about 2 KB each: far more than the socket buffers and
    # nginx's hold between the worker and a client that has paused.
    superuser_sql("INSERT INTO audit.events (org_id, action, target_type, target_id, details)"
                  " SELECT $1, 'bulk.test', 'org', $1, jsonb_build_object('n', g, 'pad', repeat('x', 2000))"
                  " FROM generate_series(1, 20000) g", org["id"])
    r = open_stream(admin, export_path(org, "?format=csv"))
    assert r.status_code == 200, r.text
    it = r.iter_content(chunk_size=16384)
    got = next(it)
    # The export's backend (its cursor open, a FETCH done) is terminated.
    killed = wait_until(lambda: superuser_sql(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
        "WHERE query LIKE 'FETCH % FROM finicom_audit_export'") == "1", 5, 0.05)
    assert killed, "no backend of the export found"
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        for chunk in it:
            got += chunk
    assert got.count(b"\r\n") < 20000, "the client got the whole file after all"
    # The worker connects again and serves the next export whole.
    r = admin.get(export_path(org, "?format=csv&action=org.created"))
    assert r.status_code == 200, r.text
    assert len(parse_csv(r.text)) == 1
