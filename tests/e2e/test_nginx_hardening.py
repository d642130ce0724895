"""nginx in front of finicomd (conf/nginx.conf.in): tokens never reach a log
line, nginx's own errors come in the API's shape on /api/ paths, and slow
clients can neither take every slot nor hold one for long.

Everything goes through the stack's running nginx (FINICOM_URL), except the
upstream failures: finicomd belongs to the whole stack, so those requests go
to a private copy of the stack's rendered nginx.conf (same file, another
loopback port, its FastCGI socket pointed at a dead or silent one, its logs
in a temporary directory), started and stopped here; the stack's nginx and
finicomd are untouched.  The log checks read what every log file of the
stack (and of that copy) gained during the test, not the whole files.
"""
import contextlib
import json
import os
import re
import resource
import secrets
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse

import pytest
import requests

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import client as fc  # noqa: E402

URL = urllib.parse.urlsplit(fc.BASE_URL)
HOST, PORT = URL.hostname, URL.port or 80
SECURITY_HEADERS = ("Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy",
                    "X-Frame-Options")


def new_token():
    """A token as the service makes them: 32 random bytes, base64url (43 chars)."""
    return secrets.token_urlsafe(32)


# --------------------------------------------------------------------------
# raw HTTP (requests cannot send malformed requests)


class Raw:
    """One reply read off a socket: status, headers (lower-case names), body."""

    def __init__(self, data):
        head, _, self.body = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        m = re.match(r"HTTP/1\.[01] (\d{3})", lines[0])
        assert m, "not an HTTP reply: %r" % data[:200]
        self.status = int(m.group(1))
        self.headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            self.headers[name.strip().lower()] = value.strip()
        n = self.headers.get("content-length")
        if n is not None:
            self.body = self.body[:int(n)]

    def json(self):
        return json.loads(self.body)


def raw_request(data, port=PORT, source=None, timeout=5):
    """Send bytes, read the reply (until Content-Length or close)."""
    s = socket.socket()
    try:
        if source:
            s.bind((source, 0))
        s.settimeout(timeout)
        s.connect((HOST, port))
        s.sendall(data)
        buf = b""
        while True:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            buf += chunk
            head, sep, body = buf.partition(b"\r\n\r\n")
            if sep:
                m = re.search(rb"(?im)^content-length:\s*(\d+)", head)
                if m and len(body) >= int(m.group(1)):
                    break
        return Raw(buf)
    finally:
        s.close()


def assert_api_error(resp, status, code):
    """nginx's own error in the API's shape (Raw or requests.Response)."""
    status_code = getattr(resp, "status", None) or resp.status_code
    headers = {k.lower(): v for k, v in resp.headers.items()}
    body = resp.body if isinstance(resp, Raw) else resp.content
    assert status_code == status, (status_code, body[:300])
    assert headers.get("content-type", "").startswith("application/json"), (headers, body[:300])
    doc = json.loads(body)
    assert set(doc) == {"error"}, doc
    assert set(doc["error"]) == {"code", "message"}, doc
    assert doc["error"]["code"] == code, doc
    assert isinstance(doc["error"]["message"], str) and doc["error"]["message"], doc
    assert headers.get("x-request-id"), headers
    for h in SECURITY_HEADERS:
        assert h.lower() in headers, (h, headers)
    return headers["x-request-id"]


# --------------------------------------------------------------------------
# the stack's log files: what they gained since a mark


def log_sizes(dirs):
    sizes = {}
    for d in dirs:
        for root, _dirs, files in os.walk(d):
            for f in files:
                p = os.path.join(root, f)
                if os.path.isfile(p) and not os.path.islink(p):
                    sizes[p] = os.path.getsize(p)
    return sizes


def log_growth(mark, dirs):
    """{path: bytes appended since mark} for every file under dirs."""
    out = {}
    for p, size in log_sizes(dirs).items():
        start = mark.get(p, 0)
        if size < start:  # truncated or rotated meanwhile: read it all
            start = 0
        with open(p, "rb") as f:
            f.seek(start)
            out[p] = f.read()
    return out


def assert_no_token_in_logs(mark, dirs, tokens, request_ids):
    """No token in any log line written since mark; the request ids prove
    that these are the logs the requests were written to."""
    assert request_ids, "the test made no request that answered"
    deadline = time.monotonic() + 3
    while True:
        grown = log_growth(mark, dirs)
        text = b"\n".join(grown.values())
        if all(rid.encode() in text for rid in request_ids) or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    missing = [rid for rid in request_ids if rid.encode() not in text]
    assert not missing, "request ids %s are in no log under %s: the wrong logs?" % (missing[:3], dirs)
    leaks = []
    for p, data in grown.items():
        for t in tokens:
            for form in {t, urllib.parse.quote(t, safe="")}:
                i = data.find(form.encode())
                if i >= 0:
                    leaks.append("%s: %r" % (p, data[max(0, data.rfind(b"\n", 0, i)):i + 60]))
    assert not leaks, "a token reached a log line:\n" + "\n".join(leaks)


@pytest.fixture
def log_mark():
    return log_sizes([fc.LOGDIR])


def rested():
    """After a deliberate burst on the auth zone (10 r/s, burst 20): let it
    drain, so that later tests are not refused."""
    fc.PACER.rest()
    time.sleep(2.2)


# --------------------------------------------------------------------------
# a private copy of the stack's nginx, for upstream failures


def stack_nginx_conf():
    return os.path.join(os.path.dirname(os.environ["FINICOM_CONF"]), "nginx.conf")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def running(pid):
    """pid is a live process (the daemonized master's zombie does not count:
    its reaper is not this process)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


@contextlib.contextmanager
def private_nginx(upstream, read_timeout=None):
    """The stack's nginx.conf on another port, FastCGI to `upstream` (a unix
    socket path), logs in a private directory.  Yields (base_url, log_dir)."""
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    conf = open(stack_nginx_conf()).read()
    work = tempfile.mkdtemp(prefix="finicom-nginx-test-")
    os.chmod(work, 0o755)  # nginx's workers (www-data when root) write no file here but logs
    port = free_port()
    new, n = re.subn(r"(?m)^(\s*listen\s+)127\.0\.0\.1:\d+;", r"\g<1>127.0.0.1:%d;" % port, conf)
    assert n == 1, "no listen line in %s" % stack_nginx_conf()
    new, n = re.subn(r"(?m)^(\s*pid\s+)\S+;", r"\g<1>%s/nginx.pid;" % work, new)
    assert n == 1
    new, n = re.subn(r"fastcgi_pass\s+unix:[^;\s]+;", "fastcgi_pass unix:%s;" % upstream, new)
    assert n >= 3, "fastcgi_pass lines: %d" % n
    # every log to the private directory, except the ones that go nowhere
    new = re.sub(r"(?m)^(\s*(?:error_log|access_log)\s+)(?!/dev/null)(\S+?)([;\s])",
                 lambda m: "%s%s/%s%s" % (m.group(1), work, os.path.basename(m.group(2)), m.group(3)),
                 new)
    if read_timeout:
        new, n = re.subn(r"fastcgi_read_timeout\s+\S+;", "fastcgi_read_timeout %s;" % read_timeout, new)
        assert n == 1
    path = os.path.join(work, "nginx.conf")
    with open(path, "w") as f:
        f.write(new)
    args = [nginx, "-p", work + "/", "-c", path, "-e", os.path.join(work, "startup.log")]
    run = subprocess.run(args, capture_output=True, text=True, timeout=20)
    assert run.returncode == 0, "private nginx did not start: %s%s" % (run.stdout, run.stderr)
    pidfile = os.path.join(work, "nginx.pid")
    pid = None
    try:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            if os.path.exists(pidfile) and open(pidfile).read().strip():
                pid = int(open(pidfile).read().strip())
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    pass
            time.sleep(0.05)
        assert pid, "private nginx wrote no pid file"
        yield "http://127.0.0.1:%d" % port, work
    finally:
        if pid:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)  # fast shutdown: nothing here to finish
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                if not running(pid):
                    break
                time.sleep(0.05)
            else:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        shutil.rmtree(work, ignore_errors=True)


@contextlib.contextmanager
def dead_upstream(kind):
    """A FastCGI socket path that fails: "absent" (finicomd stopped, its
    socket removed), "refused" (a socket nobody accepts on), "silent"
    (accepts and never answers: nginx times out)."""
    d = tempfile.mkdtemp(prefix="finicom-upstream-")
    os.chmod(d, 0o755)
    path = os.path.join(d, "finicomd.sock")
    s = None
    try:
        if kind != "absent":
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.bind(path)
            os.chmod(path, 0o777)
            if kind == "silent":
                s.listen(64)
        yield path
    finally:
        if s:
            s.close()
        shutil.rmtree(d, ignore_errors=True)


# --------------------------------------------------------------------------
# Defect 6: no token in any log file


def token_paths(token):
    return ["/api/v1/invitations/%s" % token, "/api/v1/auth/password-reset/%s" % token,
            "/api/v1/auth/verify/%s" % token]


def test_rate_limited_token_paths_leave_no_token_in_logs(log_mark):
    token = new_token()
    rids, statuses = [], []
    with requests.Session() as s:
        s.trust_env = False
        try:
            for i in range(45):
                path = token_paths(token)[i % 3] if i % 5 else "/api/v1/invitations/%s/accept" % token
                method = "POST" if path.endswith("/accept") else "GET"
                r = s.request(method, fc.BASE_URL + path, data="{}", timeout=10,
                              headers={"Content-Type": "application/json"})
                statuses.append(r.status_code)
                rids.append(r.headers.get("X-Request-Id"))
                if r.status_code == 429:
                    assert_api_error(r, 429, "rate_limited")
        finally:
            rested()
    assert 429 in statuses, "45 requests at once on the token paths were never limited: %s" % statuses
    assert_no_token_in_logs(log_mark, [fc.LOGDIR], [token], [x for x in rids if x])


def test_malformed_token_requests_leave_no_token_in_logs(log_mark):
    token = new_token()
    inv = "/api/v1/invitations/%s" % token
    cases = [  # (request, the status the fixed configuration answers)
        # body over the limit (nginx: "client intended to send too large body")
        (("POST %s/accept HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
          "Content-Length: 100000\r\nConnection: close\r\n\r\n" % inv).encode(), 413),
        # a chunked body that is not one ("client sent invalid chunked body")
        (("POST %s/accept HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
          "Transfer-Encoding: chunked\r\n\r\nzz\r\n" % inv).encode(), 400),
        # a bad escape after the token
        (("GET %s/%%zz HTTP/1.1\r\nHost: x\r\n\r\n" % inv).encode(), 400),
        # a header too large, a URI too long, on the token path
        (("GET %s HTTP/1.1\r\nHost: x\r\nX-Pad: %s\r\n\r\n" % (inv, "a" * 9000)).encode(), 431),
        (("GET %s/%s HTTP/1.1\r\nHost: x\r\n\r\n" % (inv, "a" * 9000)).encode(), 414),
        # the dashboard's page for the link in the mail, with a header too large
        (("GET /invite/%s HTTP/1.1\r\nHost: x\r\nX-Pad: %s\r\n\r\n" % (token, "a" * 9000)).encode(),
         400),
    ]
    rids = []
    for data, status in cases:
        r = raw_request(data)
        # refused (their exact status and shape: test_nginx_errors_on_api_paths_are_json)
        assert 400 <= r.status < 500, (data[:80], r.status, r.body[:200])
        rids.append(r.headers.get("x-request-id"))
    assert_no_token_in_logs(log_mark, [fc.LOGDIR], [token], [x for x in rids if x])


@pytest.mark.parametrize("kind,status", [("absent", 502), ("refused", 502), ("silent", 504)])
def test_upstream_failure_on_token_paths_leaves_no_token_in_logs(log_mark, kind, status):
    token = new_token()
    with dead_upstream(kind) as sock, \
            private_nginx(sock, read_timeout="500ms" if kind == "silent" else None) as (url, logdir):
        replies = []
        with requests.Session() as s:
            s.trust_env = False
            for path in token_paths(token) + ["/api/v1/invitations/%s/accept" % token]:
                method = "POST" if path.endswith("/accept") else "GET"
                replies.append(s.request(method, url + path, data="{}", timeout=10,
                                         headers={"Content-Type": "application/json"}))
            # the same failure elsewhere is still in the error log (so the
            # check below is not vacuous)
            replies.append(s.get(url + "/healthz", timeout=10))
            # a path with an extension: still JSON
            replies.append(s.get(url + "/api/v1/report.html", timeout=10))
        assert [r.status_code for r in replies] == [status] * len(replies), \
            [(r.status_code, r.text[:100]) for r in replies]
        errors = open(os.path.join(logdir, "nginx-error.log"), "rb").read()
        assert b"/healthz" in errors, "the upstream failure of /healthz was not logged: %r" % errors[-500:]
        assert_no_token_in_logs(log_mark, [fc.LOGDIR, logdir], [token],
                                [r.headers.get("X-Request-Id") for r in replies])
        for r in replies:
            assert_api_error(r, status, "unavailable")


# --------------------------------------------------------------------------
# Defect 8: nginx's own errors in the API's shape on /api/ paths

API_ERRORS = {
    "bad escape": (b"GET /api/v1/orgs/%zz HTTP/1.1\r\nHost: x\r\n\r\n", 400, "validation_failed"),
    "malformed request line": (b"GET /api/v1/orgs x HTTP/1.1\r\nHost: x\r\n\r\n", 400,
                               "validation_failed"),
    "header line without a colon": (b"GET /api/v1/me HTTP/1.1\r\nHost: x\r\nno colon\r\n\r\n", 400,
                                    "validation_failed"),
    "no Host": (b"GET /api/v1/me HTTP/1.1\r\n\r\n", 400, "validation_failed"),
    "URI too long": (b"GET /api/v1/orgs/" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414,
                     "validation_failed"),
    "header too large": (b"GET /api/v1/me HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 9000 + b"\r\n\r\n",
                         431, "validation_failed"),
    "cookie too large": (b"GET /api/v1/me HTTP/1.1\r\nHost: x\r\nCookie: finicom_session=" + b"a" * 9000
                         + b"\r\n\r\n", 431, "validation_failed"),
    "body too large, .html path": (b"POST /api/v1/orgs/report.html HTTP/1.1\r\nHost: x\r\n"
                                   b"Content-Type: application/json\r\nContent-Length: 70000\r\n"
                                   b"Connection: close\r\n\r\n", 413, "payload_too_large"),
    "unknown Transfer-Encoding": (b"POST /api/v1/orgs HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n"
                                  b"\r\n", 501, "validation_failed"),
    "HTTP version": (b"GET /api/v1/me HTTP/2.0\r\nHost: x\r\n\r\n", 505, "validation_failed"),
}


@pytest.mark.parametrize("case", sorted(API_ERRORS))
def test_nginx_errors_on_api_paths_are_json(case):
    data, status, code = API_ERRORS[case]
    assert_api_error(raw_request(data), status, code)


def test_nginx_errors_off_api_paths_stay_html():
    """The dashboard keeps nginx's own pages (and their statuses)."""
    for data, status in [(b"GET /%zz HTTP/1.1\r\nHost: x\r\n\r\n", 400),
                         (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
                         (b"GET / HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 9000 + b"\r\n\r\n", 400)]:
        r = raw_request(data)
        assert r.status == status, (data[:40], r.status)
        assert r.headers.get("content-type", "").startswith("text/html"), r.headers
    # the internal error locations are not reachable from outside
    r = requests.get(fc.BASE_URL + "/.finicom-error/400", timeout=10)
    assert r.status_code == 404


# --------------------------------------------------------------------------
# Defect 12: slow clients

SLOW_HEADER = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: 1\r\n"   # never ends
SLOW_BODY = (b"POST /api/v1/orgs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
             b"Content-Length: 1000\r\n\r\n{")                       # the body never comes


def need_loopback_sources():
    try:
        ip = socket.gethostbyname(HOST)
    except OSError:
        ip = HOST
    if ip != "127.0.0.1":
        pytest.skip("needs the stack on 127.0.0.1 (clients bind other 127.x addresses), not %s" % ip)


def need_files(n):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < n + 200:
        pytest.skip("open files limit %d < %d" % (hard, n + 200))
    if soft != resource.RLIM_INFINITY and soft < n + 200:
        resource.setrlimit(resource.RLIMIT_NOFILE, (n + 200 if hard == resource.RLIM_INFINITY
                                                    else min(hard, max(n + 200, 4096)), hard))


def open_slow(n, source, data):
    conns = []
    try:
        for _ in range(n):
            s = socket.socket()
            conns.append(s)
            s.bind((source, 0))
            s.settimeout(5)
            s.connect((HOST, PORT))
            s.sendall(data)
    except BaseException:
        for s in conns:
            s.close()
        raise
    return conns


def served(source):
    """A new client, on a new connection, from another address: static, finicomd, the API."""
    out = []
    for path in ("/bench/nginx-200", "/healthz", "/api/v1/openapi.json"):
        t0 = time.monotonic()
        try:
            r = raw_request(("GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % path).encode(),
                            source=source, timeout=5)
            out.append((path, r.status, round(time.monotonic() - t0, 3)))
        except (OSError, AssertionError) as e:  # refused, reset, closed without a reply
            out.append((path, repr(e)[:80], round(time.monotonic() - t0, 3)))
    return out


def wait_closed(conns, deadline):
    """Wait until nginx has closed every connection or deadline passes;
    returns how many are still open."""
    sel = selectors.DefaultSelector()
    for s in conns:
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ)
    left = len(conns)
    try:
        while left and time.monotonic() < deadline:
            for key, _ in sel.select(timeout=max(0.0, min(1.0, deadline - time.monotonic()))):
                try:
                    chunk = key.fileobj.recv(65536)
                except BlockingIOError:
                    continue
                except OSError:  # reset: reset_timedout_connection
                    chunk = b""
                if not chunk:
                    sel.unregister(key.fileobj)
                    left -= 1
    finally:
        sel.close()
    return left


def test_slow_clients_leave_room_and_are_dropped():
    """1,800 connections that never finish their header and 20 that never
    send their body (at most 2,000 connections with the clients below):
    other clients are served at once meanwhile, and nginx drops the slow
    ones by itself within 25 s (nginx's default is 60 s)."""
    need_loopback_sources()
    n_header, n_body = 1800, 20
    need_files(n_header + n_body)
    slow = []
    try:
        t0 = time.monotonic()
        slow += open_slow(n_header, "127.0.0.2", SLOW_HEADER)
        slow += open_slow(n_body, "127.0.0.3", SLOW_BODY)
        time.sleep(0.5)  # let nginx take them all
        for _ in range(5):
            got = served("127.0.0.1")
            assert all(status == 200 and took < 3 for _, status, took in got), \
                "%d slow connections held: %s" % (len(slow), got)
            time.sleep(0.2)
        left = wait_closed(slow, t0 + 25)
        assert left == 0, "%d of %d slow connections still open %.1f s after they were opened" % (
            left, len(slow), time.monotonic() - t0)
        assert all(status == 200 for _, status, _ in served("127.0.0.1"))
    finally:
        for s in slow:
            s.close()


def test_one_address_cannot_hold_many_requests():
    """limit_conn: of 100 requests from one address that never send their
    body, nginx holds some and refuses the rest with 429 in the API's
    shape; another address is served meanwhile."""
    need_loopback_sources()
    n = 100
    need_files(n)
    conns = []
    try:
        conns = open_slow(n, "127.0.0.4", SLOW_BODY)
        time.sleep(0.5)
        # the refused ones have their reply by now; the held ones nothing
        refused = []
        sel = selectors.DefaultSelector()
        for s in conns:
            sel.register(s, selectors.EVENT_READ)
        for key, _ in sel.select(timeout=0.5):
            try:
                refused.append(key.fileobj.recv(65536))
            except OSError:
                refused.append(b"")
        sel.close()
        held = n - len(refused)
        assert refused, "all %d slow requests from one address were held" % n
        assert held >= 16, "only %d requests from one address held: the limit is too tight" % held
        for data in refused:
            assert_api_error(Raw(data), 429, "rate_limited")
        got = served("127.0.0.5")
        assert all(status == 200 for _, status, _ in got), got
    finally:
        for s in conns:
            s.close()
