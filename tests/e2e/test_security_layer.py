"""The security layer rebuilt for speed (issue 11): reads in one round trip
keep the order of errors; replies pass through as PostgreSQL built them;
a request context set by hand as finicom_app sees nothing; prepared
statements and one-trip reads can be turned off and change no answer."""
import os
import sys
import uuid

import pytest
import requests

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import client as fc  # noqa: E402
from client import add_member, assert_error, create_org, psql, psql_run, signup  # noqa: E402
from test_api_keys import KeyClient, make_key  # noqa: E402
from test_signup_mode import reload_with  # noqa: E402

# The reads that send begin_request with their statement (ROUTE_ONE_TRIP),
# with the role they need.
READS = [
    ("/members", "read"),
    ("/invitations", "admin"),
    ("/api-keys", "admin"),
    ("/audit-events", "admin"),
    ("/sources", "read"),
    ("/integrations", "read"),
    ("/destinations", "read"),
    ("/connections", "read"),
]


@pytest.fixture(scope="module")
def world():
    admin = signup(name="Sec Admin")
    org = create_org(admin, "sec layer " + uuid.uuid4().hex[:6])
    reader = signup(name="Sec Reader")
    add_member(org, reader, "read")
    outsider = signup(name="Sec Outsider")
    create_org(outsider, "outsider's own")
    r = admin.post("/api/v1/orgs/%s/sources" % org["id"],
                   {"name": "db", "type": "postgres", "config": {"host": "db", "password": "s3cret"}})
    assert r.status_code == 201, r.text
    return {"admin": admin, "org": org, "reader": reader, "outsider": outsider, "source": r.json()}


def path(world, suffix):
    return "/api/v1/orgs/%s%s" % (world["org"]["id"], suffix)


def anonymous_get(p, **kw):
    return requests.get(fc.BASE_URL + p, timeout=fc.TIMEOUT, **kw)


@pytest.mark.parametrize("suffix,need", READS)
def test_read_errors_keep_their_order(world, suffix, need):
    """401 before 404 before 403 before 400, as when begin_request had its own round trip."""
    p = path(world, suffix)
    assert_error(anonymous_get(p + "?cursor=%21%21"), 401, "unauthenticated")
    assert_error(world["outsider"].get(p + "?cursor=%21%21"), 404, "not_found")
    assert_error(world["outsider"].get(p), 404, "not_found")
    if need == "admin":
        assert_error(world["reader"].get(p + "?cursor=%21%21"), 403, "forbidden")
        assert_error(world["reader"].get(p), 403, "forbidden")
    else:
        assert_error(world["reader"].get(p + "?cursor=%21%21"), 400, "validation_failed", "cursor")
        assert world["reader"].get(p).status_code == 200
    assert_error(world["admin"].get(p + "?limit=0"), 400, "validation_failed", "limit")
    r = world["admin"].get(p)
    assert r.status_code == 200, r.text
    assert set(r.json()) == {"items", "next_cursor"}


def test_single_reads_keep_their_order(world):
    src = path(world, "/sources/" + world["source"]["id"])
    assert_error(anonymous_get(src), 401, "unauthenticated")
    assert_error(world["outsider"].get(src), 404, "not_found")
    assert world["reader"].get(src).status_code == 200
    assert_error(world["reader"].get(path(world, "/sources/not-a-uuid")), 404, "not_found")
    assert_error(world["reader"].get(path(world, "/sources/" + str(uuid.uuid4()))), 404, "not_found")
    member = path(world, "/members/" + world["reader"].id)
    assert_error(world["outsider"].get(member), 404, "not_found")
    assert world["reader"].get(member).json()["role"] == "read"
    billing = path(world, "/billing")
    assert_error(world["reader"].get(billing), 403, "forbidden")
    assert world["admin"].get(billing).status_code == 200


def test_role_change_and_removal_count_on_the_next_read(world):
    admin, org = world["admin"], world["org"]
    other = signup(name="Sec Soon Gone")
    add_member(org, other, "admin")
    assert other.get(path(world, "/invitations")).status_code == 200
    r = admin.patch(path(world, "/members/" + other.id), {"role": "read"})
    assert r.status_code == 200, r.text
    assert_error(other.get(path(world, "/invitations")), 403, "forbidden")
    assert other.get(path(world, "/members")).status_code == 200
    assert admin.delete(path(world, "/members/" + other.id)).status_code == 204
    assert_error(other.get(path(world, "/members")), 404, "not_found")


def test_a_revoked_key_is_401_on_its_next_read(world):
    admin, org = world["admin"], world["org"]
    made = make_key(admin, org, role="read")
    key = KeyClient(made["token"])
    assert key.get(path(world, "/members")).status_code == 200
    assert admin.delete(path(world, "/api-keys/" + made["id"])).status_code == 204
    assert_error(key.get(path(world, "/members")), 401, "unauthenticated")


def test_replies_pass_through_as_postgresql_built_them(world):
    """The list reply is PostgreSQL's JSON text (json_build_object writes
    '"key" : value'), not a reprint by the worker; the secret is masked."""
    r = world["reader"].get(path(world, "/sources"))
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/json"
    assert '"name" : "db"' in r.text, r.text[:200]
    item = r.json()["items"][0]
    assert item["config"] == {"host": "db", "password": "********"}
    r = world["reader"].get(path(world, "/sources/" + world["source"]["id"]))
    assert '"config" : {"host": "db", "password": "********"}' in r.text, r.text


def test_a_context_set_by_hand_as_finicom_app_is_refused_and_sees_nothing(world):
    """What SQL injection as finicom_app could do: set the settings of the
    org's admin by hand.  PostgreSQL refuses it (only finicom_owner may set
    them, sql/0011_context_guard.sql), and the statements after it, in the
    same session, see and change nothing."""
    org, admin = world["org"]["id"], world["admin"].id
    forgeries = ["SELECT set_config('finicom.actor_id', $1, false)",
                 "SELECT set_config('finicom.org_id', $2, true)",
                 "SET finicom.org_role = 'admin'",
                 "RESET finicom.org_id"]
    for forged in forgeries:
        p = psql_run(forged, admin, org, user="finicom_app")
        assert p.returncode != 0 and "permission denied to set parameter" in p.stderr, (forged, p.stderr)
    # Without ON_ERROR_STOP: the forgeries fail, the session carries on.
    attempt = "\\set ON_ERROR_STOP 0\n" + ";\n".join(
        f.replace("true)", "false)") for f in forgeries) + ";\n\\set ON_ERROR_STOP 1\n"
    for sql in ["SELECT count(*) FROM finicom.memberships WHERE org_id = $2",
                "SELECT count(*) FROM finicom.sources WHERE org_id = $2",
                "SELECT count(*) FROM audit.events WHERE org_id = $2",
                "WITH d AS (DELETE FROM finicom.sources WHERE org_id = $2 RETURNING 1) SELECT count(*) FROM d"]:
        out = psql(attempt + sql, admin, org, user="finicom_app")
        assert out.splitlines()[-1] == "0", (sql, out)
    p = psql_run(attempt + "INSERT INTO finicom.api_keys (org_id, name, role, prefix, token_hash)"
                 " VALUES ($2, 'forged', 'admin', 'fcm_forged', sha256('x'::bytea))", admin, org,
                 user="finicom_app")
    assert p.returncode != 0 and "row-level security" in p.stderr, p.stderr
    # The key is not there, and the source still is.
    assert psql("SELECT count(*) FROM finicom.api_keys WHERE org_id = $1 AND name = 'forged'", org) == "0"
    assert world["reader"].get(path(world, "/sources/" + world["source"]["id"])).status_code == 200


def answers(world):
    """What a fixed set of reads answers: (status, body) with volatile fields dropped."""
    def norm(r):
        try:
            body = r.json()
        except ValueError:
            body = r.text
        if isinstance(body, dict) and "items" in body:
            for it in body["items"]:
                if isinstance(it, dict):
                    it.pop("last_active_at", None)
                    it.pop("last_used_at", None)
        return r.status_code, body
    out = []
    for suffix, _ in READS:
        if suffix in ("/audit-events",):
            continue
        out.append(norm(world["admin"].get(path(world, suffix))))
        out.append(norm(world["reader"].get(path(world, suffix))))
        out.append(norm(world["outsider"].get(path(world, suffix))))
        out.append(norm(anonymous_get(path(world, suffix))))
    out.append(norm(world["reader"].get(path(world, "/sources/" + world["source"]["id"]))))
    return out


@pytest.mark.destructive
def test_prepared_statements_and_one_trip_reads_can_be_off(env, base_url, world):
    """database_prepared = off (for PgBouncer's transaction pooling) and
    one_trip_reads = off answer exactly what the defaults answer."""
    conf_path = os.environ["FINICOM_CONF"]
    original = open(conf_path).read()
    before = answers(world)
    try:
        reload_with(conf_path, original + "database_prepared = off\none_trip_reads = off\n", base_url, env)
        assert answers(world) == before
        test_read_errors_keep_their_order(world, "/members", "read")
        test_read_errors_keep_their_order(world, "/invitations", "admin")
    finally:
        reload_with(conf_path, original, base_url, env)
    assert answers(world) == before
