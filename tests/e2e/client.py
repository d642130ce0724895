"""A small HTTP client and helpers for the end-to-end tests.

Configuration comes from the environment only (no dependency on conftest.py):

  FINICOM_URL     base URL of nginx            (default http://127.0.0.1:28080)
  PGHOST/PGPORT/PGDATABASE/PGUSER  the superuser connection used by psql()
                                               (defaults /tmp/pgs, 25432, finicom, postgres)
  FINICOM_LOGDIR  directory with the stack's logs (default: <dir of FINICOM_CONF>/log
                  when FINICOM_CONF is set, as deploy/dev's dev.env does, else /tmp/ngx)
  FINICOM_MAILDIR the SMTP sink's Maildir: signup() verifies the new account's
                  address through the link of the verification mail found there

Accounts made by signup() are verified by default, through the real mail
(signup mails {public_url}/verify/{token}; the helper opens it), because an
unverified account cannot create API keys or send invitations.  Pass
verify=False for an account left unverified.

Requests to /api/v1/auth/* are paced in-process (a token bucket well under
nginx's 10 r/s, burst 20 per address) so that the suites never trip the rate
limit by accident; the rate-limit test itself uses raw `requests` calls.
"""
import datetime
import email
import email.policy
import hashlib
import os
import re
import subprocess
import threading
import time
import uuid

import requests

BASE_URL = os.environ.get("FINICOM_URL", "http://127.0.0.1:28080").rstrip("/")
PGHOST = os.environ.get("PGHOST", "/tmp/pgs")
PGPORT = os.environ.get("PGPORT", "25432")
PGDATABASE = os.environ.get("PGDATABASE", "finicom")
PGUSER = os.environ.get("PGUSER", "postgres")


def _default_logdir():
    if os.environ.get("FINICOM_LOGDIR"):
        return os.environ["FINICOM_LOGDIR"]
    conf = os.environ.get("FINICOM_CONF")
    if conf:
        return os.path.join(os.path.dirname(conf), "log")
    return "/tmp/ngx"


LOGDIR = _default_logdir()

COOKIE = "finicom_session"
TIMEOUT = 15
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
# A syntactically valid Argon2id PHC string for users created through SQL
# (nobody logs in as them).
FAKE_HASH = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA"
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{43}$")
TS_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")

# Every password and session token the helpers have seen in this process;
# the log test greps the stack's logs for them.
SECRETS = []
# X-Request-Id of every response seen (proves the log test reads the right logs).
REQUEST_IDS = []


def register_secret(value):
    if value and value not in SECRETS:
        SECRETS.append(value)


# --------------------------------------------------------------------------
# pacing of /api/v1/auth/*


class _Pacer:
    """Token bucket: `rate` requests per second, bursts of `capacity`."""

    def __init__(self, rate=6.0, capacity=10.0):
        self.rate, self.capacity = rate, capacity
        self.tokens, self.stamp = capacity, time.monotonic()
        self.lock = threading.Lock()

    def wait(self):
        with self.lock:
            while True:
                now = time.monotonic()
                self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
                self.stamp = now
                if self.tokens >= 1:
                    self.tokens -= 1
                    return
                time.sleep((1 - self.tokens) / self.rate)

    def rest(self):
        """After a deliberate burst (the rate-limit test): start from empty."""
        with self.lock:
            self.tokens, self.stamp = 0.0, time.monotonic()


PACER = _Pacer()


# --------------------------------------------------------------------------
# the client


def _parse_set_cookie(header):
    """'name=value; A; B=c' -> (name, value, {attr_lower: value_or_True})."""
    parts = [p.strip() for p in header.split(";")]
    name, _, value = parts[0].partition("=")
    attrs = {}
    for p in parts[1:]:
        if not p:
            continue
        k, eq, v = p.partition("=")
        attrs[k.strip().lower()] = v.strip() if eq else True
    return name.strip(), value.strip(), attrs


def set_cookie_headers(resp):
    """All Set-Cookie header values of a response, unmerged."""
    try:
        return list(resp.raw.headers.getlist("Set-Cookie"))
    except AttributeError:  # pragma: no cover
        v = resp.headers.get("Set-Cookie")
        return [v] if v else []


def session_set_cookie(resp):
    """The (value, attrs, raw header) of the finicom_session Set-Cookie, or None."""
    for h in set_cookie_headers(resp):
        name, value, attrs = _parse_set_cookie(h)
        if name == COOKIE:
            return value, attrs, h
    return None


class Client:
    """A browser-like API client: keeps the session cookie and the CSRF token.

    Unsafe methods send X-CSRF-Token automatically; pass csrf=False to omit
    it or csrf="..." to send another value.  Pass cookie=... to send another
    cookie value for one request (cookie=False: none).  The cookie and the
    CSRF token are updated from every response that sets them.
    """

    def __init__(self, base_url=BASE_URL):
        self.base_url = base_url
        self.http = requests.Session()
        self.http.trust_env = False
        self.token = None       # the finicom_session cookie value
        self.csrf = None
        self.user = None        # the user object of signup/login
        self.email = None
        self.password = None
        self.last = None

    @property
    def id(self):
        return self.user["id"]

    def request(self, method, path, json=None, data=None, headers=None, csrf=True,
                cookie=True, params=None, update=True):
        method = method.upper()
        url = path if path.startswith("http") else self.base_url + path
        h = dict(headers or {})
        tok = self.token if cookie is True else (cookie or None)
        if tok:
            h["Cookie"] = "%s=%s" % (COOKIE, tok)
        if method in UNSAFE:
            if csrf is True and self.csrf:
                h["X-CSRF-Token"] = self.csrf
            elif isinstance(csrf, str):
                h["X-CSRF-Token"] = csrf
        if "/api/v1/auth/" in url:
            PACER.wait()
        resp = self.http.request(method, url, json=json, data=data, headers=h, params=params,
                                 timeout=TIMEOUT, allow_redirects=False)
        rid = resp.headers.get("X-Request-Id")
        if rid:
            REQUEST_IDS.append(rid)
        self.last = resp
        if update:
            sc = session_set_cookie(resp)
            if sc is not None:
                value, attrs, _ = sc
                if value == "" or attrs.get("max-age") == "0":
                    self.token = None
                    self.csrf = None
                else:
                    self.token = value
                    register_secret(value)
            if resp.status_code < 300 and "json" in resp.headers.get("Content-Type", ""):
                try:
                    body = resp.json()
                except ValueError:
                    body = None
                if isinstance(body, dict) and isinstance(body.get("csrf_token"), str):
                    self.csrf = body["csrf_token"]
                    if isinstance(body.get("user"), dict):
                        self.user = body["user"]
        return resp

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, json=None, **kw):
        return self.request("POST", path, json=json, **kw)

    def patch(self, path, json=None, **kw):
        return self.request("PATCH", path, json=json, **kw)

    def put(self, path, json=None, **kw):
        return self.request("PUT", path, json=json, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    # --- account actions
    def login(self, email=None, password=None, **kw):
        email = email if email is not None else self.email
        password = password if password is not None else self.password
        register_secret(password)
        return self.post("/api/v1/auth/login", {"email": email, "password": password}, **kw)

    def logout(self, **kw):
        return self.post("/api/v1/auth/logout", **kw)

    def me(self, **kw):
        return self.get("/api/v1/me", **kw)


# --------------------------------------------------------------------------
# helpers


def unique_email(prefix="u"):
    return "%s-%s@e2e.finicom.test" % (prefix, uuid.uuid4().hex[:16])


def new_password():
    return "pw-" + uuid.uuid4().hex


def signup(email=None, name=None, password=None, expect=201, verify=True):
    """Sign up a new user (unique email by default); returns a signed-in Client.

    With verify (the default) the account's address is then verified by
    opening the link of its verification mail, as its owner would; c.user
    is the reply of that (email_verified true)."""
    c = Client()
    c.email = email or unique_email()
    c.password = password or new_password()
    register_secret(c.password)
    r = c.post("/api/v1/auth/signup",
               {"email": c.email, "password": c.password, "name": name or "E2E User"})
    assert r.status_code == expect, (r.status_code, r.text)
    if expect == 201:
        c.user = r.json()["user"]
        assert c.token and c.csrf
        assert c.user["email_verified"] is False, c.user
        if verify:
            verify_email(c)
    return c


# --------------------------------------------------------------------------
# mail in the SMTP sink's Maildir

MAILDIR = os.environ.get("FINICOM_MAILDIR", "")
MAIL_TIMEOUT = 30
VERIFY_LINK_RE = re.compile(r"^\s*\S+/verify/([A-Za-z0-9_-]+)\s*$", re.M)
_MAIL = {}  # file name -> (recipients lowercased, subject, text body, mtime)


def _mail_index():
    """Every message of the Maildir (new/ and cur/), each file parsed once."""
    assert MAILDIR and os.path.isdir(os.path.join(MAILDIR, "new")), \
        "FINICOM_MAILDIR=%r is not a Maildir" % MAILDIR
    for sub in ("new", "cur"):
        d = os.path.join(MAILDIR, sub)
        try:
            names = os.listdir(d)
        except FileNotFoundError:
            continue
        for n in names:
            key = n.split(":", 1)[0]
            if key in _MAIL:
                continue
            path = os.path.join(d, n)
            try:
                with open(path, "rb") as f:
                    raw = f.read()
                mtime = os.stat(path).st_mtime
            except OSError:
                continue
            msg = email.message_from_bytes(raw, policy=email.policy.default)
            rcpt = " ".join(str(msg.get_all(h, [])) for h in ("To", "X-RcptTo")).lower()
            body = msg.get_content() if not msg.is_multipart() else ""
            _MAIL[key] = (rcpt, str(msg.get("Subject", "")), body.replace("\r\n", "\n"), mtime)
    return list(_MAIL.values())


def verification_mails(addr):
    """The verification mails to addr in the Maildir, oldest first: [(subject, body)]."""
    got = [m for m in _mail_index() if addr.lower() in m[0] and VERIFY_LINK_RE.search(m[2])]
    return [(m[1], m[2]) for m in sorted(got, key=lambda m: m[3])]


def wait_verification_token(addr, n=1, timeout=MAIL_TIMEOUT):
    """The token of the n-th verification mail to addr (waiting for it)."""
    deadline = time.monotonic() + timeout
    while True:
        mails = verification_mails(addr)
        if len(mails) >= n:
            links = VERIFY_LINK_RE.findall(mails[n - 1][1])
            assert len(links) == 1, mails[n - 1][1]
            register_secret(links[0])
            return links[0]
        if time.monotonic() > deadline:
            raise AssertionError("no%s verification mail to %s in %s within %d s (outbox: %s)" % (
                "" if n == 1 else " %d" % n, addr, MAILDIR, timeout,
                psql("SELECT string_agg(status || '/' || attempts || '/' || coalesce(last_error, '-'), "
                     "'; ' ORDER BY created_at) FROM finicom.mail_outbox WHERE lower(recipient) = lower($1)",
                     addr)))
        time.sleep(0.05)


def verify_email(c, n=1):
    """Open the link of c's n-th verification mail: POST /auth/verify/{token}."""
    token = wait_verification_token(c.email, n)
    r = Client().post("/api/v1/auth/verify/" + token)
    assert r.status_code == 200, (r.status_code, r.text)
    c.user = r.json()["user"]
    assert c.user["email_verified"] is True, c.user
    return token


def create_org(client, name=None):
    """POST /api/v1/orgs as client; returns the org object."""
    r = client.post("/api/v1/orgs", {"name": name or "Org " + uuid.uuid4().hex[:8]})
    assert r.status_code == 201, (r.status_code, r.text)
    return r.json()


def _id(x):
    if isinstance(x, dict):
        return x["id"]
    if isinstance(x, Client):
        return x.id
    return str(x)


def add_member(org, user, role):
    """Make user a member of org with role, directly in the database.

    (Invitations are the API's way; they are another issue.)"""
    psql("INSERT INTO finicom.memberships (org_id, user_id, role) VALUES ($1, $2, $3)",
         _id(org), _id(user), role)


def create_user_sql(email=None, name="SQL User"):
    """A user created through finicom.user_create (no password anyone knows); returns its id."""
    return psql("SELECT id FROM finicom.user_create($1, $2, $3)",
                email or unique_email("sql"), name, FAKE_HASH)


def psql_run(sql, *args, user=None):
    """Run sql through /usr/bin/psql; $1, $2, ... are bound to args (as psql
    variables, quoted by psql).  Returns CompletedProcess."""
    text = re.sub(r"\$(\d+)", lambda m: ":'p%s'" % m.group(1), sql)
    cmd = ["/usr/bin/psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-At",
           "-h", PGHOST, "-p", str(PGPORT), "-d", PGDATABASE, "-U", user or PGUSER]
    for i, a in enumerate(args, 1):
        cmd += ["-v", "p%d=%s" % (i, "" if a is None else a)]
    env = dict(os.environ, PGCONNECT_TIMEOUT="10")
    env.pop("PGOPTIONS", None)
    return subprocess.run(cmd, input=text + ";\n", capture_output=True, text=True, env=env,
                          timeout=30)


def psql(sql, *args, user=None):
    """Run sql as the superuser (or user); returns stdout stripped.  Raises on error."""
    p = psql_run(sql, *args, user=user)
    if p.returncode != 0:
        raise AssertionError("psql failed (%d): %s" % (p.returncode, p.stderr.strip()))
    return p.stdout.strip()


def sha256_hex(s):
    return hashlib.sha256(s.encode()).hexdigest()


def parse_ts(s):
    """Parse an API timestamp, asserting RFC 3339 in UTC with a Z suffix."""
    assert isinstance(s, str) and TS_RE.match(s), "not RFC 3339 UTC with Z: %r" % (s,)
    fmt = "%Y-%m-%dT%H:%M:%S.%fZ" if "." in s else "%Y-%m-%dT%H:%M:%SZ"
    return datetime.datetime.strptime(s, fmt).replace(tzinfo=datetime.timezone.utc)


def assert_error(resp, status, code, field=None):
    """The API's error shape: {"error": {"code", "message"[, "field"]}}."""
    assert resp.status_code == status, (resp.status_code, resp.text)
    assert resp.headers.get("Content-Type", "").startswith("application/json"), resp.headers
    body = resp.json()
    assert set(body) == {"error"}, body
    err = body["error"]
    assert err.get("code") == code, body
    assert isinstance(err.get("message"), str) and err["message"], body
    if field is not None:
        assert err.get("field") == field, body
    return err
