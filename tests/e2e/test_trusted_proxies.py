"""Behind a load balancer (trusted_proxies, src/util/client_ip.h; nginx's
realip module): the client's address is the one the trusted proxy names in
X-Forwarded-For, for the audit trail, login events and nginx's rate limits;
from any other address a spoofed X-Forwarded-For changes nothing.

deploy/dev makes 127.0.0.2 the stacks' load balancer (trusted_proxies =
127.0.0.2 in finicom.conf, set_real_ip_from 127.0.0.2 in nginx.conf); these
tests connect from 127.0.0.2 (the proxy), 127.0.0.1 and 127.0.0.3 (ordinary
clients: every other test is 127.0.0.1)."""
import os
import sys
import time
import uuid

import pytest
import requests
from requests.adapters import HTTPAdapter

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import client as fc  # noqa: E402
from client import create_org, psql, signup  # noqa: E402

PROXY = "127.0.0.2"


class SourceAdapter(HTTPAdapter):
    """Connect from a chosen loopback address."""

    def __init__(self, source, **kw):
        self.source = source
        super().__init__(**kw)

    def init_poolmanager(self, *args, **kw):
        kw["source_address"] = (self.source, 0)
        super().init_poolmanager(*args, **kw)


def from_addr(c, source):
    """The same client (its session), its connections from source."""
    c.http.mount("http://", SourceAdapter(source))
    return c


def conf():
    return open(os.environ["FINICOM_CONF"]).read()


def test_stack_trusts_the_proxy_address():
    assert "trusted_proxies = %s" % PROXY in conf().splitlines()


def source_event_ip(org, name):
    return psql("SELECT ip FROM audit.events WHERE org_id = $1 AND action = 'source.created' "
                "AND details->>'name' = $2", org["id"], name)


def create_source(c, org, name, xff=None):
    r = c.post("/api/v1/orgs/%s/sources" % org["id"], {"name": name, "type": "postgres",
               "config": {"host": "db.example"}},
               headers={"X-Forwarded-For": xff} if xff else None)
    assert r.status_code == 201, r.text
    return r.json()


@pytest.fixture
def admin_org():
    admin = signup(name="Proxy Admin")
    return admin, create_org(admin)


def test_audit_ip_is_the_client_named_by_the_trusted_proxy(admin_org):
    admin, org = admin_org
    from_addr(admin, PROXY)
    # The client wrote a fake first entry; the proxy appended the real peer.
    create_source(admin, org, "via-proxy", xff="198.51.100.23, 203.0.113.45")
    assert source_event_ip(org, "via-proxy") == "203.0.113.45"
    # The API shows the same address.
    items = admin.get("/api/v1/orgs/%s/audit-events" % org["id"]).json()["items"]
    assert [e["ip"] for e in items if e["action"] == "source.created"] == ["203.0.113.45"]


def test_chain_of_trusted_proxies_is_skipped(admin_org):
    admin, org = admin_org
    from_addr(admin, PROXY)
    create_source(admin, org, "two-hops", xff="203.0.113.46, 127.0.0.2")
    assert source_event_ip(org, "two-hops") == "203.0.113.46"


def test_proxy_without_header_is_itself_the_client(admin_org):
    admin, org = admin_org
    from_addr(admin, PROXY)
    create_source(admin, org, "no-header")
    assert source_event_ip(org, "no-header") == PROXY


@pytest.mark.parametrize("source", ["127.0.0.1", "127.0.0.3"])
def test_spoofed_header_from_untrusted_address_changes_nothing(admin_org, source):
    admin, org = admin_org
    from_addr(admin, source)
    name = "spoof-" + source
    create_source(admin, org, name, xff="203.0.113.99")
    assert source_event_ip(org, name) == source


def test_login_event_records_the_client_address():
    user = signup(name="Proxy Login")
    c = from_addr(fc.Client(), PROXY)
    r = c.login(user.email, user.password, headers={"X-Forwarded-For": "203.0.113.61"})
    assert r.status_code == 200, r.text
    c2 = from_addr(fc.Client(), "127.0.0.3")
    r = c2.login(user.email, user.password, headers={"X-Forwarded-For": "203.0.113.62"})
    assert r.status_code == 200, r.text
    ips = psql("SELECT string_agg(ip, ',' ORDER BY at) FROM audit.auth_events "
               "WHERE user_id = $1 AND event = 'login.succeeded'", user.id)
    assert ips.split(",")[-2:] == ["203.0.113.61", "127.0.0.3"]


def burst(source, xffs):
    """POST /api/v1/auth/logout (no session: 401 from finicomd, or 429 from
    nginx's auth zone) once for each X-Forwarded-For, as fast as possible."""
    with requests.Session() as s:
        s.trust_env = False
        s.mount("http://", SourceAdapter(source))
        return [s.post(fc.BASE_URL + "/api/v1/auth/logout", headers={"X-Forwarded-For": x},
                       timeout=10).status_code for x in xffs]


def test_rate_limit_is_per_client_behind_the_proxy():
    # One client behind the proxy uses up its burst (20, then 10 a second) ...
    a = "203.0.113.%d" % (100 + uuid.uuid4().int % 50)
    b = "203.0.113.%d" % (150 + uuid.uuid4().int % 50)
    codes = burst(PROXY, [a] * 40)
    assert codes.count(429) >= 10, codes
    assert set(codes) <= {401, 429}, codes
    # ... and another client behind the same proxy is not limited with it.
    codes = burst(PROXY, [b] * 5)
    assert codes == [401] * 5, codes


def test_spoofed_header_does_not_escape_the_rate_limit():
    # An untrusted client that names another address in every request is
    # still one address to nginx: it is limited all the same.
    codes = burst("127.0.0.3", ["198.51.100.%d" % i for i in range(40)])
    assert codes.count(429) >= 10, codes
    time.sleep(3)  # let 127.0.0.3's bucket refill for whoever comes next
