"""Roles and organizations through the API (src/openapi.json; issue 4)."""
import datetime
import os
import sys
import uuid

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import client as fc  # noqa: E402
from client import Client, add_member, assert_error, create_org, psql, signup  # noqa: E402

ORGS = "/api/v1/orgs"
ORG_KEYS = {"id", "name", "created_at", "role", "invite_ttl_hours", "require_2fa", "access_review_interval_days"}
BILLING_KEYS = {"plan", "trial_ends_at", "billing_email", "seats_used"}


def org_path(org, suffix=""):
    return "%s/%s%s" % (ORGS, org["id"] if isinstance(org, dict) else org, suffix)


@pytest.fixture(scope="module")
def validator():
    """One user for the many validation cases (each case makes its own org):
    keeps the number of signups low under the CI rate limit."""
    return signup(name="Validator")


@pytest.fixture
def team():
    """A fresh org with an admin, a write and a read member (each signed in)."""
    admin, write, read = signup(name="Admin"), signup(name="Writer"), signup(name="Reader")
    org = create_org(admin)
    add_member(org, write, "write")
    add_member(org, read, "read")
    return org, admin, write, read


def assert_org(body, role, name=None, ttl=None):
    assert set(body) == ORG_KEYS, body
    assert fc.UUID_RE.match(body["id"]), body
    fc.parse_ts(body["created_at"])
    assert body["role"] == role, body
    if name is not None:
        assert body["name"] == name, body
    if ttl is not None:
        assert body["invite_ttl_hours"] == ttl, body


# --------------------------------------------------------------------------
# create


def test_create_org_201():
    c = signup()
    before = datetime.datetime.now(datetime.timezone.utc)
    r = c.post(ORGS, {"name": "Acme Corp"})
    assert r.status_code == 201, r.text
    assert r.headers.get("X-Request-Id")
    org = r.json()
    assert_org(org, "admin", name="Acme Corp", ttl=168)
    assert abs((fc.parse_ts(org["created_at"]) - before).total_seconds()) < 60
    # the creator is its admin, also as the org and /me see it
    r = c.get(org_path(org))
    assert r.status_code == 200, r.text
    assert r.json() == org
    ms = c.me().json()["memberships"]
    assert [(m["org"]["id"], m["role"]) for m in ms] == [(org["id"], "admin")]
    assert psql("SELECT role FROM finicom.memberships WHERE org_id = $1 AND user_id = $2",
                org["id"], c.id) == "admin"


def test_create_org_csrf_and_auth():
    c = signup()
    assert_error(c.post(ORGS, {"name": "No CSRF"}, csrf=False), 403, "csrf_failed")
    assert_error(c.post(ORGS, {"name": "Bad CSRF"}, csrf="x" * 43), 403, "csrf_failed")
    assert_error(Client().post(ORGS, {"name": "Anon"}), 401, "unauthenticated")
    assert c.me().json()["memberships"] == [], "a refused create must create nothing"


@pytest.mark.parametrize("body, field", [
    ({}, "name"),
    ({"name": ""}, "name"),
    ({"name": "   "}, "name"),
    ({"name": "n" * 201}, "name"),
    ({"name": 42}, "name"),
    ({"name": None}, "name"),
    ({"name": "ok", "plan": "pro"}, "plan"),
])
def test_create_org_validation_400(validator, body, field):
    c = validator
    r = c.post(ORGS, body)
    assert_error(r, 400, "validation_failed", field=field)


def test_create_org_name_200_characters_multibyte_ok():
    c = signup()
    org = create_org(c, "ü" * 200)
    assert org["name"] == "ü" * 200


# --------------------------------------------------------------------------
# get


def test_get_org_each_role_sees_own_role(team):
    org, admin, write, read = team
    for who, role in ((admin, "admin"), (write, "write"), (read, "read")):
        r = who.get(org_path(org))
        assert r.status_code == 200, r.text
        assert_org(r.json(), role, name=org["name"], ttl=168)
        assert r.json()["id"] == org["id"]


def test_get_org_unauthenticated_401():
    c = signup()
    org = create_org(c)
    assert_error(Client().get(org_path(org)), 401, "unauthenticated")


def test_outsider_gets_404_on_every_org_path():
    admin, outsider = signup(), signup()
    org = create_org(admin, "Secret Org")
    other_org = create_org(outsider, "Outsider's own")  # a member elsewhere
    p = org_path(org)
    member = p + "/members/" + admin.id
    me_there = p + "/members/" + outsider.id
    calls = [
        ("GET", p, None), ("PATCH", p, {"name": "pwned"}), ("DELETE", p, None),
        ("GET", p + "/billing", None), ("PATCH", p + "/billing", {"plan": "pro"}),
        ("GET", p + "/members", None), ("GET", p + "/members?limit=1", None),
        ("GET", member, None), ("PATCH", member, {"role": "read"}), ("DELETE", member, None),
        ("GET", me_there, None), ("DELETE", me_there, None),
    ]
    for method, path, body in calls:
        r = outsider.request(method, path, json=body)
        assert_error(r, 404, "not_found")
        assert org["id"] not in r.text and "Secret Org" not in r.text, (method, path, r.text)
    # nothing changed
    r = admin.get(p)
    assert r.status_code == 200 and r.json()["name"] == "Secret Org", r.text
    r = admin.get(p + "/billing")
    assert r.json()["plan"] == "trial"
    r = admin.get(member)
    assert r.status_code == 200 and r.json()["role"] == "admin", r.text
    # the outsider's own org still works for them
    assert outsider.get(org_path(other_org)).status_code == 200


def test_unknown_and_malformed_org_ids_404():
    c = signup()
    create_org(c)
    rnd = str(uuid.uuid4())
    for path in (org_path(rnd), org_path(rnd, "/billing"), org_path(rnd, "/members"),
                 org_path(rnd, "/members/" + c.id)):
        assert_error(c.get(path), 404, "not_found")
    assert_error(c.patch(org_path(rnd), {"name": "x"}), 404, "not_found")
    assert_error(c.delete(org_path(rnd)), 404, "not_found")
    for bad in ("not-a-uuid", "123", rnd.replace("-", ""), rnd + "0", "%27%20OR%201=1"):
        assert_error(c.get(org_path(bad)), 404, "not_found")
        assert_error(c.get(org_path(bad, "/members")), 404, "not_found")
        assert_error(c.patch(org_path(bad), {"name": "x"}), 404, "not_found")


# --------------------------------------------------------------------------
# patch


def test_patch_org_by_admin():
    c = signup()
    org = create_org(c, "Before")
    r = c.patch(org_path(org), {"name": "After", "invite_ttl_hours": 24})
    assert r.status_code == 200, r.text
    assert_org(r.json(), "admin", name="After", ttl=24)
    assert r.json()["id"] == org["id"] and r.json()["created_at"] == org["created_at"]
    for ttl in (1, 720):
        r = c.patch(org_path(org), {"invite_ttl_hours": ttl})
        assert r.status_code == 200, r.text
        assert r.json()["invite_ttl_hours"] == ttl and r.json()["name"] == "After"
    r = c.patch(org_path(org), {"name": "Only Name"})
    assert r.status_code == 200 and r.json()["invite_ttl_hours"] == 720, r.text
    r = c.get(org_path(org))
    assert_org(r.json(), "admin", name="Only Name", ttl=720)


@pytest.mark.parametrize("body, field", [
    ({"invite_ttl_hours": 0}, "invite_ttl_hours"),
    ({"invite_ttl_hours": 721}, "invite_ttl_hours"),
    ({"invite_ttl_hours": -5}, "invite_ttl_hours"),
    ({"invite_ttl_hours": "24"}, "invite_ttl_hours"),
    ({"invite_ttl_hours": 1.5}, "invite_ttl_hours"),
    ({"invite_ttl_hours": 4294967320}, "invite_ttl_hours"),
    ({"name": ""}, "name"),
    ({"name": "x" * 201}, "name"),
    ({"name": "ok", "plan": "pro"}, "plan"),
])
def test_patch_org_validation_400(validator, body, field):
    c = validator
    org = create_org(c, "Valid")
    r = c.patch(org_path(org), body)
    assert_error(r, 400, "validation_failed", field=field)
    r = c.get(org_path(org))
    assert r.json()["name"] == "Valid" and r.json()["invite_ttl_hours"] == 168, r.text


def test_patch_org_csrf_required():
    c = signup()
    org = create_org(c, "Keep")
    assert_error(c.patch(org_path(org), {"name": "x"}, csrf=False), 403, "csrf_failed")
    assert c.get(org_path(org)).json()["name"] == "Keep"


def test_write_and_read_members_forbidden_on_admin_actions(team):
    org, admin, write, read = team
    p = org_path(org)
    for who in (write, read):
        assert_error(who.patch(p, {"name": "mine now"}), 403, "forbidden")
        assert_error(who.patch(p, {"invite_ttl_hours": 1}), 403, "forbidden")
        assert_error(who.get(p + "/billing"), 403, "forbidden")
        assert_error(who.patch(p + "/billing", {"plan": "pro"}), 403, "forbidden")
        assert_error(who.delete(p), 403, "forbidden")
    r = admin.get(p)
    assert r.status_code == 200, r.text
    assert r.json()["name"] == org["name"] and r.json()["invite_ttl_hours"] == 168
    r = admin.get(p + "/billing")
    assert r.status_code == 200 and r.json()["plan"] == "trial", r.text


# --------------------------------------------------------------------------
# billing


def test_billing_get_by_admin(team):
    org, admin, _write, _read = team
    r = admin.get(org_path(org, "/billing"))
    assert r.status_code == 200, r.text
    b = r.json()
    assert set(b) == BILLING_KEYS, b
    assert b["plan"] == "trial"
    assert b["billing_email"] is None
    assert b["seats_used"] == 3
    ends = fc.parse_ts(b["trial_ends_at"])
    created = fc.parse_ts(org["created_at"])
    delta = (ends - created).total_seconds() - 14 * 86400
    assert abs(delta) < 60, (b["trial_ends_at"], org["created_at"])


def test_billing_patch_by_admin():
    c = signup()
    org = create_org(c)
    p = org_path(org, "/billing")
    # The operator sets paid plans (plan_changes = operator, the default).
    assert_error(c.patch(p, {"plan": "pro"}), 403, "forbidden")
    assert c.get(p).json()["plan"] == "trial"
    psql("UPDATE finicom.orgs SET plan = 'pro' WHERE id = $1", org["id"])
    r = c.get(p)
    assert set(r.json()) == BILLING_KEYS and r.json()["plan"] == "pro", r.text
    assert r.json()["seats_used"] == 1
    r = c.patch(p, {"billing_email": "Billing@Example.com"})
    assert r.status_code == 200, r.text
    # Stored in the email rule's canonical form: the domain lowercased, the local part kept.
    assert r.json()["billing_email"] == "Billing@example.com" and r.json()["plan"] == "pro"
    r = c.patch(p, {"plan": "free"})
    assert r.status_code == 200 and r.json()["plan"] == "free", r.text
    assert r.json()["billing_email"] == "Billing@example.com", "omitted field must not change"
    for body, field in (({"billing_email": "not-an-email"}, "billing_email"),
                        ({"billing_email": "a@nodot"}, "billing_email"),
                        ({"billing_email": "a" * 250 + "@x.io"}, "billing_email"),
                        ({"billing_email": 5}, "billing_email"),
                        ({"plan": "enterprise"}, "plan"),
                        ({"plan": 1}, "plan"),
                        ({"seats": 10}, "seats")):
        assert_error(c.patch(p, body), 400, "validation_failed", field=field)
    r = c.get(p)
    assert r.json()["plan"] == "free" and r.json()["billing_email"] == "Billing@example.com"
    r = c.patch(p, {"billing_email": None})
    assert r.status_code == 200, r.text
    assert r.json()["billing_email"] is None and r.json()["plan"] == "free"
    assert c.get(p).json()["billing_email"] is None
    assert_error(c.patch(p, {"plan": "pro"}, csrf=False), 403, "csrf_failed")


def test_expired_trial_reports_free():
    c = signup()
    org = create_org(c)
    psql("UPDATE finicom.orgs SET trial_ends_at = now() - interval '1 minute' WHERE id = $1",
         org["id"])
    r = c.get(org_path(org, "/billing"))
    assert r.status_code == 200, r.text
    assert r.json()["plan"] == "free", r.text
    fc.parse_ts(r.json()["trial_ends_at"])
    # a paid plan after the trial is pro, whatever the trial date (the
    # operator sets it: an admin's PATCH to pro is 403 by default)
    assert_error(c.patch(org_path(org, "/billing"), {"plan": "pro"}), 403, "forbidden")
    psql("UPDATE finicom.orgs SET plan = 'pro' WHERE id = $1", org["id"])
    r = c.get(org_path(org, "/billing"))
    assert r.status_code == 200 and r.json()["plan"] == "pro", r.text


# --------------------------------------------------------------------------
# delete


def test_delete_org_by_admin(team):
    org, admin, write, _read = team
    r = admin.delete(org_path(org), csrf=False)
    assert_error(r, 403, "csrf_failed")
    assert admin.get(org_path(org)).status_code == 200
    r = admin.delete(org_path(org))
    assert r.status_code == 204, r.text
    assert r.content == b""
    assert_error(admin.get(org_path(org)), 404, "not_found")
    assert_error(write.get(org_path(org)), 404, "not_found")
    assert_error(admin.get(org_path(org, "/members")), 404, "not_found")
    assert_error(admin.delete(org_path(org)), 404, "not_found")
    assert admin.me().json()["memberships"] == []
    assert psql("SELECT count(*) FROM finicom.memberships WHERE org_id = $1", org["id"]) == "0"


def test_delete_org_by_write_or_read_403(team):
    org, admin, write, read = team
    assert_error(write.delete(org_path(org)), 403, "forbidden")
    assert_error(read.delete(org_path(org)), 403, "forbidden")
    r = admin.get(org_path(org))
    assert r.status_code == 200, r.text
    assert write.get(org_path(org)).json()["role"] == "write"
