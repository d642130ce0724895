"""GET /orgs/{org}/members filters q, role, inactive_days (API v1.1
"Members and invitations"; src/handlers/members.c, finicom.member_search in
sql/0024_member_governance.sql, docs/members.md for the plans).

q: case-insensitive (ASCII letters, as emails are compared) substring of
the name or the email, 1-100 characters; role; inactive_days 1-3650
(last_active_at older than N days, or never).  They combine with each
other and with the keyset pagination; a bad one is 400 naming it.
"""
import os
import sys
import uuid

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from client import add_member, assert_error, create_org, create_user_sql, psql, signup  # noqa: E402


def members(org):
    return "/api/v1/orgs/%s/members" % org["id"]


def names(client, org, **params):
    r = client.get(members(org), params=params)
    assert r.status_code == 200, r.text
    return [m["user"]["name"] for m in r.json()["items"]]


@pytest.fixture(scope="module")
def people():
    """An org whose admin is "Filter Admin", with members made in SQL, each
    with a role and a last activity (days ago, or never); and another org
    with a member whose name matches everything the tests look for."""
    admin = signup(name="Filter Admin")
    org = create_org(admin)
    # No "a" in the tag: the emails carry it, and the filters below count on
    # which names and emails hold an "a" (q="a"); a hex tag holds one 4 times in 10.
    tag = uuid.uuid4().hex[:8].replace("a", "0")
    rows = [  # name, email local part, role, days since last active (None: never)
        ("Alice Archer", "alice.archer", "write", 0),
        ("Bob Builder", "bob", "read", 40),
        ("Émile Zola", "ezola", "read", None),
        ("snake_case Sam", "sam", "write", 5),
        ("Percent Pat", "pat%off", "admin", 100),
        ("Carol ALICE", "carol", "read", 2),
    ]
    for name, local, role, days in rows:
        uid = create_user_sql("%s-%s@filters.test" % (local, tag), name)
        add_member(org, uid, role)
        if days is not None:
            psql("INSERT INTO finicom.member_activity (org_id, user_id, last_active_at)"
                 " VALUES ($1, $2, now() - make_interval(days => $3::int, mins => 1))", org["id"], uid, days)
    other = create_org(signup(name="Other Admin"))
    add_member(other, create_user_sql("alice-other-%s@filters.test" % tag, "Alice Elsewhere"), "read")
    return org, admin, tag


def test_q_matches_names_and_emails_ascii_case_insensitively(people):
    org, admin, tag = people
    assert names(admin, org, q="alice") == ["Alice Archer", "Carol ALICE"]
    assert names(admin, org, q="ALICE.ARCH") == ["Alice Archer"]
    assert names(admin, org, q="bob-" + tag.upper()) == ["Bob Builder"]
    assert names(admin, org, q="@FILTERS.test") == names(admin, org, q="filters.test")
    assert len(names(admin, org, q="@filters.test")) == 6
    assert names(admin, org, q="Émile") == ["Émile Zola"]
    assert names(admin, org, q="ÉMILE") == ["Émile Zola"], "ASCII letters fold, É is itself"
    assert names(admin, org, q="émile") == [], "non-ASCII letters are compared as they are"
    assert names(admin, org, q="nobody-at-all") == []


def test_like_characters_match_themselves(people):
    org, admin, _ = people
    assert names(admin, org, q="_") == ["snake_case Sam"]
    assert names(admin, org, q="%") == ["Percent Pat"]
    assert names(admin, org, q="\\") == []
    assert names(admin, org, q="a%o") == [], "% inside q is no wildcard"


def test_role_and_inactive_days(people):
    org, admin, _ = people
    assert names(admin, org, role="read") == ["Bob Builder", "Émile Zola", "Carol ALICE"]
    assert names(admin, org, role="admin") == ["Filter Admin", "Percent Pat"]
    assert names(admin, org, inactive_days="30") == ["Bob Builder", "Émile Zola", "Percent Pat"]
    assert names(admin, org, inactive_days="3650") == ["Émile Zola"], "never active counts as inactive"
    assert names(admin, org, inactive_days="1") == ["Bob Builder", "Émile Zola", "snake_case Sam",
                                                     "Percent Pat", "Carol ALICE"]


def test_filters_combine_with_each_other_and_with_pagination(people):
    org, admin, _ = people
    assert names(admin, org, q="a", role="read", inactive_days="1") == ["Émile Zola", "Carol ALICE"]
    seen, cursor = [], None
    for _ in range(10):
        params = {"q": "a", "limit": "1"}
        if cursor:
            params["cursor"] = cursor
        body = admin.get(members(org), params=params).json()
        seen += [m["user"]["name"] for m in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == names(admin, org, q="a") and len(seen) >= 5, seen
    assert len(set(seen)) == len(seen)


def test_every_member_may_filter_and_sees_only_the_org(people):
    org, admin, tag = people
    reader = signup(name="Reader Filter")
    add_member(org, reader, "read")
    assert names(reader, org, q="alice") == ["Alice Archer", "Carol ALICE"]
    assert "Alice Elsewhere" not in names(admin, org, q="alice-other-" + tag)
    outsider = signup(name="Outsider")
    assert_error(outsider.get(members(org), params={"q": "alice"}), 404, "not_found")


def test_expired_members_are_not_listed(people):
    org, admin, tag = people
    uid = create_user_sql("expired-%s@filters.test" % tag, "Expired Eve")
    psql("INSERT INTO finicom.memberships (org_id, user_id, role, expires_at)"
         " VALUES ($1, $2, 'read', now() + interval '1 hour')", org["id"], uid)
    assert names(admin, org, q="Expired Eve") == ["Expired Eve"]
    psql("UPDATE finicom.memberships SET expires_at = now() - interval '1 second' WHERE org_id = $1 AND user_id = $2",
         org["id"], uid)
    assert names(admin, org, q="Expired Eve") == []
    assert "Expired Eve" not in names(admin, org)
    psql("DELETE FROM finicom.memberships WHERE org_id = $1 AND user_id = $2", org["id"], uid)


@pytest.mark.parametrize("params,field", [
    ({"q": ""}, "q"),
    ({"q": "x" * 101}, "q"),
    ({"q": "é" * 101}, "q"),
    ({"q": "tab\there"}, "q"),
    ({"q": "nul\x00"}, None),  # refused with the whole query string (http.c)
    ({"role": "owner"}, "role"),
    ({"role": ""}, "role"),
    ({"inactive_days": "0"}, "inactive_days"),
    ({"inactive_days": "3651"}, "inactive_days"),
    ({"inactive_days": "-1"}, "inactive_days"),
    ({"inactive_days": "1e3"}, "inactive_days"),
    ({"inactive_days": " 5"}, "inactive_days"),
    ({"inactive_days": "99999999999999999999"}, "inactive_days"),
    ({"inactive_days": ""}, "inactive_days"),
])
def test_bad_filters_are_400_naming_them(people, params, field):
    org, admin, _ = people
    assert_error(admin.get(members(org), params=params), 400, "validation_failed", field)


def test_q_of_100_characters_and_bad_utf8(people):
    org, admin, _ = people
    assert names(admin, org, q="é" * 100) == []
    r = admin.get(members(org) + "?q=%FF%FE")
    assert_error(r, 400, "validation_failed", "q")
    r = admin.get(members(org) + "?q=%C3%A9mile")
    assert r.status_code == 200 and [m["user"]["name"] for m in r.json()["items"]] == [], r.text
