"""Typed path parameters and route-declared body fields (src/routes.c):
a path id that is not a UUID is 404 naming the resource, checked after the
caller is identified and authorized (401 and 403 come first, so a refused
caller learns nothing from the id) and before the body's fields (a bad id
with a bad body is the 404), and the body's fields are checked before the
handler runs, with the same 400s as before."""
import uuid

import pytest

from client import Client, add_member, assert_error, create_org, signup

BAD = "not-a-uuid"

# (method, path under /api/v1/orgs/{org}, the noun of its 404, a body for PATCH/POST or None)
TYPED = [
    ("GET", "/members/%s", "member", None),
    ("PATCH", "/members/%s", "member", {"role": "read"}),
    ("DELETE", "/members/%s", "member", None),
    ("DELETE", "/invitations/%s", "invitation", None),
    ("POST", "/invitations/%s/resend", "invitation", None),
    ("DELETE", "/api-keys/%s", "API key", None),
    ("GET", "/sources/%s", "source", None),
    ("PATCH", "/sources/%s", "source", {"name": "x"}),
    ("DELETE", "/sources/%s", "source", None),
    ("GET", "/integrations/%s", "integration", None),
    ("GET", "/destinations/%s", "destination", None),
    ("GET", "/connections/%s", "connection", None),
    ("POST", "/connections/%s/sync", "connection", None),
    ("GET", "/connections/%s/runs", "connection", None),
]


@pytest.fixture(scope="module")
def team():
    admin = signup(name="Typed Admin")
    org = create_org(admin)
    reader = signup(name="Typed Reader")
    add_member(org, reader, "read")
    return admin, reader, org


def call(c, method, path, body):
    return c.request(method, path, json=body)


@pytest.mark.parametrize("method,tail,noun,body", TYPED)
def test_malformed_id_is_404_naming_the_resource(team, method, tail, noun, body):
    admin, _, org = team
    r = call(admin, method, "/api/v1/orgs/%s%s" % (org["id"], tail % BAD), body)
    err = assert_error(r, 404, "not_found")
    assert err["message"] == "no such %s" % noun, err


@pytest.mark.parametrize("method,tail,noun,body", TYPED)
def test_unauthenticated_is_401_before_the_id(team, method, tail, noun, body):
    _, _, org = team
    r = call(Client(), method, "/api/v1/orgs/%s%s" % (org["id"], tail % BAD), body)
    assert_error(r, 401, "unauthenticated")


def test_refused_role_is_403_before_the_id(team):
    _, reader, org = team
    for method, tail in [("DELETE", "/api-keys/%s"), ("DELETE", "/invitations/%s"),
                         ("PATCH", "/sources/%s"), ("DELETE", "/sources/%s")]:
        body = {"name": "x"} if method == "PATCH" else None
        r = call(reader, method, "/api/v1/orgs/%s%s" % (org["id"], tail % BAD), body)
        assert_error(r, 403, "forbidden")


def test_other_org_is_404_whatever_the_id(team):
    _, _, org = team
    stranger = signup(name="Typed Stranger")
    r = stranger.get("/api/v1/orgs/%s/sources/%s" % (org["id"], BAD))
    assert_error(r, 404, "not_found")


def test_bad_id_beats_bad_body(team):
    admin, _, org = team
    r = admin.patch("/api/v1/orgs/%s/members/%s" % (org["id"], BAD), {"role": "boss", "x": 1})
    err = assert_error(r, 404, "not_found")
    assert err["message"] == "no such member"
    r = admin.patch("/api/v1/orgs/%s/sources/%s" % (org["id"], BAD), {"nope": 1})
    assert_error(r, 404, "not_found")


def test_well_formed_unknown_id_is_the_handlers_404(team):
    admin, _, org = team
    r = admin.get("/api/v1/orgs/%s/sources/%s" % (org["id"], uuid.uuid4()))
    err = assert_error(r, 404, "not_found")
    assert err["message"] == "no such source"


def test_route_fields_checked_before_the_handler(team):
    admin, _, org = team
    base = "/api/v1/orgs/%s" % org["id"]
    assert_error(admin.post(base + "/sources", {"name": "s", "type": "postgres", "extra": 1}),
                 400, "validation_failed", "extra")
    assert_error(admin.post(base + "/sources", {"type": "postgres"}), 400, "validation_failed", "name")
    assert_error(admin.patch(base, {"invite_ttl_hours": 0}), 400, "validation_failed", "invite_ttl_hours")
    assert_error(admin.post(base + "/api-keys", {"name": "k", "role": "owner"}), 400,
                 "validation_failed", "role")
    # A PATCH's fields are all optional: one field alone is taken.
    s = admin.post(base + "/sources", {"name": "s1", "type": "postgres"})
    assert s.status_code == 201, s.text
    r = admin.patch(base + "/sources/" + s.json()["id"], {"name": "s2"})
    assert r.status_code == 200 and r.json()["name"] == "s2", r.text
    # Nothing was stored by the refused requests.
    names = [x["name"] for x in admin.get(base + "/sources").json()["items"]]
    assert names == ["s2"], names
