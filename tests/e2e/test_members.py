"""Roles and members through the API (src/openapi.json; issue 4)."""
import base64
import concurrent.futures
import datetime
import os
import sys
import uuid

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import client as fc  # noqa: E402
from client import add_member, assert_error, create_org, psql, signup  # noqa: E402

ITEM_KEYS = {"user", "role", "joined_at", "last_active_at", "expires_at"}


def members(org, suffix=""):
    return "/api/v1/orgs/%s/members%s" % (org["id"], suffix)


def member(org, user):
    return members(org, "/" + (user if isinstance(user, str) else user.id))


def org_path(org, suffix=""):
    return "/api/v1/orgs/%s%s" % (org["id"], suffix)


def assert_item(item, user=None, role=None):
    assert set(item) == ITEM_KEYS, item
    assert set(item["user"]) == {"id", "email", "name"}, item
    assert fc.UUID_RE.match(item["user"]["id"]), item
    fc.parse_ts(item["joined_at"])
    if item["last_active_at"] is not None:
        fc.parse_ts(item["last_active_at"])
    if user is not None:
        assert item["user"] == {"id": user.id, "email": user.email, "name": user.user["name"]}, item
    if role is not None:
        assert item["role"] == role, item


@pytest.fixture
def team():
    """A fresh org with an admin, a write and a read member (each signed in)."""
    admin, write, read = signup(name="Admin"), signup(name="Writer"), signup(name="Reader")
    org = create_org(admin)
    add_member(org, write, "write")
    add_member(org, read, "read")
    return org, admin, write, read


# --------------------------------------------------------------------------
# list and get


def test_members_list_shape(team):
    org, admin, write, read = team
    for who in (admin, write, read):
        r = who.get(members(org))
        assert r.status_code == 200, r.text
        body = r.json()
        assert set(body) == {"items", "next_cursor"}, body
        assert body["next_cursor"] is None
        items = body["items"]
        assert len(items) == 3, items
        by_id = {i["user"]["id"]: i for i in items}
        assert_item(by_id[admin.id], admin, "admin")
        assert_item(by_id[write.id], write, "write")
        assert_item(by_id[read.id], read, "read")
        # oldest first: the creator joined before the others
        assert items[0]["user"]["id"] == admin.id
        # no secrets of the users in the list
        assert "argon2" not in r.text and "password" not in r.text


def test_members_keyset_pagination():
    admin = signup()
    org = create_org(admin)
    ids = [fc.create_user_sql(name="Paged %d" % i) for i in range(6)]
    # one statement: the six share one joined_at, so the cursor must break ties
    psql("INSERT INTO finicom.memberships (org_id, user_id, role) "
         "SELECT $1::uuid, unnest(string_to_array($2, ',')::uuid[]), 'read'",
         org["id"], ",".join(ids))
    expected = {admin.id, *ids}
    seen, sizes, cursor, pages = [], [], None, 0
    while True:
        params = {"limit": 3}
        if cursor is not None:
            params["cursor"] = cursor
        r = admin.get(members(org), params=params)
        assert r.status_code == 200, r.text
        body = r.json()
        sizes.append(len(body["items"]))
        for it in body["items"]:
            assert_item(it)
        seen += [i["user"]["id"] for i in body["items"]]
        cursor = body["next_cursor"]
        pages += 1
        if cursor is None or pages > 5:
            break
        assert isinstance(cursor, str) and cursor
    assert sizes == [3, 3, 1], sizes
    assert cursor is None
    assert len(seen) == len(set(seen)), "duplicates across pages: %s" % seen
    assert set(seen) == expected
    # the same order as one big page
    r = admin.get(members(org))
    assert [i["user"]["id"] for i in r.json()["items"]] == seen
    assert r.json()["next_cursor"] is None
    # a page that ends exactly at the end has no next cursor
    r = admin.get(members(org), params={"limit": 7})
    assert len(r.json()["items"]) == 7 and r.json()["next_cursor"] is None, r.text
    r = admin.get(members(org), params={"limit": 200})
    assert r.status_code == 200 and len(r.json()["items"]) == 7
    # limit=6: the second page holds exactly the seventh member
    r = admin.get(members(org), params={"limit": 6})
    last = admin.get(members(org), params={"limit": 6, "cursor": r.json()["next_cursor"]})
    assert [i["user"]["id"] for i in last.json()["items"]] == seen[6:]


def test_members_list_bad_params_400():
    admin = signup()
    org = create_org(admin)
    for limit in ("0", "201", "abc", "-1", "", "3.5", "1e2"):
        r = admin.get(members(org), params={"limit": limit})
        assert_error(r, 400, "validation_failed", field="limit")
    garbage = ["garbage", "!!!", base64.urlsafe_b64encode(b"nonsense,xyz").decode().rstrip("="),
               base64.urlsafe_b64encode(b"2026-01-01T00:00:00Z,not-a-uuid").decode(), "a" * 200]
    for cur in garbage:
        r = admin.get(members(org), params={"cursor": cur})
        assert_error(r, 400, "validation_failed", field="cursor")


def test_member_get_one_and_404s(team):
    org, admin, write, read = team
    r = read.get(member(org, write))
    assert r.status_code == 200, r.text
    assert_item(r.json(), write, "write")
    r = write.get(member(org, admin))
    assert r.status_code == 200, r.text
    assert_item(r.json(), admin, "admin")
    stranger = fc.create_user_sql()
    for uid in (str(uuid.uuid4()), stranger, "not-a-uuid", "123"):
        assert_error(admin.get(member(org, uid)), 404, "not_found")
    assert_error(admin.patch(member(org, str(uuid.uuid4())), {"role": "read"}), 404, "not_found")
    assert_error(admin.delete(member(org, stranger)), 404, "not_found")


# --------------------------------------------------------------------------
# roles


def test_role_change_takes_effect_on_next_request(team):
    org, admin, write, read = team
    # write -> read
    r = admin.patch(member(org, write), {"role": "read"})
    assert r.status_code == 200, r.text
    assert_item(r.json(), write, "read")
    r = write.get(org_path(org))
    assert r.status_code == 200 and r.json()["role"] == "read", r.text
    assert_error(write.patch(org_path(org), {"name": "x"}), 403, "forbidden")
    assert write.get(member(org, write)).json()["role"] == "read"
    # read -> admin: admin powers at once
    assert_error(read.get(org_path(org, "/billing")), 403, "forbidden")
    r = admin.patch(member(org, read), {"role": "admin"})
    assert r.status_code == 200 and r.json()["role"] == "admin", r.text
    r = read.get(org_path(org, "/billing"))
    assert r.status_code == 200, r.text
    assert r.json()["seats_used"] == 3
    r = read.patch(org_path(org), {"invite_ttl_hours": 48})
    assert r.status_code == 200 and r.json()["role"] == "admin", r.text
    # and the first admin, demoted by the new one, loses them at once
    r = read.patch(member(org, admin), {"role": "write"})
    assert r.status_code == 200 and r.json()["role"] == "write", r.text
    assert_error(admin.get(org_path(org, "/billing")), 403, "forbidden")
    assert admin.get(org_path(org)).json()["role"] == "write"
    assert [m["role"] for m in admin.me().json()["memberships"]] == ["write"]


def test_role_change_forbidden_below_admin(team):
    org, admin, write, read = team
    for who, target in ((write, read), (read, write), (write, write), (read, admin)):
        assert_error(who.patch(member(org, target), {"role": "admin"}), 403, "forbidden")
    r = admin.get(members(org))
    roles = {i["user"]["id"]: i["role"] for i in r.json()["items"]}
    assert roles == {admin.id: "admin", write.id: "write", read.id: "read"}


def test_role_change_validation_400():
    admin = signup()
    org = create_org(admin)
    m = fc.create_user_sql()
    add_member(org, m, "read")
    for body, field in (({"role": "owner"}, "role"), ({"role": "Admin"}, "role"),
                        ({}, "role"), ({"role": 1}, "role"), ({"role": None}, "role"),
                        ({"role": "write", "org_id": org["id"]}, "org_id")):
        assert_error(admin.patch(member(org, m), body), 400, "validation_failed", field=field)
    assert_error(admin.patch(member(org, m), {"role": "write"}, csrf=False), 403, "csrf_failed")
    assert admin.get(member(org, m)).json()["role"] == "read"


def test_last_admin_cannot_demote_or_remove_self():
    admin = signup()
    org = create_org(admin)
    add_member(org, fc.create_user_sql(), "write")
    for role in ("write", "read"):
        err = assert_error(admin.patch(member(org, admin), {"role": role}), 409, "last_admin")
        assert "field" not in err
    assert_error(admin.delete(member(org, admin)), 409, "last_admin")
    r = admin.get(member(org, admin))
    assert r.status_code == 200 and r.json()["role"] == "admin", r.text
    # promoting yourself to what you are is not a demotion
    r = admin.patch(member(org, admin), {"role": "admin"})
    assert r.status_code == 200, r.text


def test_two_admins_first_can_demote_itself():
    a, b = signup(), signup()
    org = create_org(a)
    add_member(org, b, "admin")
    r = a.patch(member(org, a), {"role": "write"})
    assert r.status_code == 200, r.text
    assert_item(r.json(), a, "write")
    assert_error(a.patch(member(org, b), {"role": "read"}), 403, "forbidden")
    assert_error(b.patch(member(org, b), {"role": "read"}), 409, "last_admin")
    assert_error(b.delete(member(org, b)), 409, "last_admin")
    # with two admins again, one may remove the other
    r = b.patch(member(org, a), {"role": "admin"})
    assert r.status_code == 200, r.text
    r = b.delete(member(org, a))
    assert r.status_code == 204, r.text
    assert_error(a.get(org_path(org)), 404, "not_found")


def test_concurrent_cross_demotion_keeps_one_admin():
    a, b = signup(), signup()
    org = create_org(a)
    add_member(org, b, "admin")
    for _ in range(4):
        # both admins again, and both "not seen for a while", so that each
        # request also records last_active_at (as a member's first request
        # of the day does)
        psql("UPDATE finicom.memberships SET role = 'admin' WHERE org_id = $1", org["id"])
        psql("DELETE FROM finicom.member_activity WHERE org_id = $1", org["id"])
        with concurrent.futures.ThreadPoolExecutor(max_workers=2) as ex:
            fa = ex.submit(a.patch, member(org, b), {"role": "write"}, update=False)
            fb = ex.submit(b.patch, member(org, a), {"role": "write"}, update=False)
            ra, rb = fa.result(), fb.result()
        statuses = sorted([ra.status_code, rb.status_code])
        assert statuses[0] == 200 and statuses[1] in (403, 404, 409), (ra.text, rb.text)
        admins = psql("SELECT count(*) FROM finicom.memberships WHERE org_id = $1 "
                      "AND role = 'admin'", org["id"])
        assert admins == "1", "exactly one admin must remain (got %s)" % admins


# --------------------------------------------------------------------------
# removal and leaving


def test_admin_removes_member_effective_next_request(team):
    org, admin, write, read = team
    assert write.get(org_path(org)).status_code == 200
    r = admin.delete(member(org, write), csrf=False)
    assert_error(r, 403, "csrf_failed")
    r = admin.delete(member(org, write))
    assert r.status_code == 204, r.text
    assert r.content == b""
    assert_error(write.get(org_path(org)), 404, "not_found")
    assert_error(write.get(members(org)), 404, "not_found")
    assert_error(write.delete(member(org, write)), 404, "not_found")
    assert write.me().json()["memberships"] == []
    assert_error(admin.get(member(org, write)), 404, "not_found")
    assert_error(admin.delete(member(org, write)), 404, "not_found")
    ids = [i["user"]["id"] for i in admin.get(members(org)).json()["items"]]
    assert sorted(ids) == sorted([admin.id, read.id])
    assert admin.get(org_path(org, "/billing")).json()["seats_used"] == 2


def test_read_or_write_cannot_remove_others(team):
    org, admin, write, read = team
    assert_error(read.delete(member(org, write)), 403, "forbidden")
    assert_error(read.delete(member(org, admin)), 403, "forbidden")
    assert_error(write.delete(member(org, read)), 403, "forbidden")
    assert len(admin.get(members(org)).json()["items"]) == 3
    assert read.get(org_path(org)).status_code == 200


def test_any_member_can_leave(team):
    org, admin, write, read = team
    for who in (read, write):
        r = who.delete(member(org, who), csrf=False)
        assert_error(r, 403, "csrf_failed")
        r = who.delete(member(org, who))
        assert r.status_code == 204, r.text
        assert_error(who.get(org_path(org)), 404, "not_found")
        assert who.me().json()["memberships"] == []
    items = admin.get(members(org)).json()["items"]
    assert [i["user"]["id"] for i in items] == [admin.id]


# --------------------------------------------------------------------------
# last_active_at


def test_last_active_at_null_until_first_request():
    admin, m = signup(), signup()
    org = create_org(admin)
    add_member(org, m, "read")
    # requests elsewhere do not count for this org
    assert m.me().status_code == 200
    r = admin.get(member(org, m))
    assert r.status_code == 200, r.text
    assert r.json()["last_active_at"] is None, r.text
    before = datetime.datetime.now(datetime.timezone.utc)
    assert m.get(org_path(org)).status_code == 200
    r = admin.get(member(org, m))
    ts = r.json()["last_active_at"]
    assert ts is not None, "last_active_at must be set after the member's GET of the org"
    when = fc.parse_ts(ts)
    assert abs((when - before).total_seconds()) < 60, ts
    # the admin's own activity is recorded as well
    items = {i["user"]["id"]: i for i in admin.get(members(org)).json()["items"]}
    assert items[admin.id]["last_active_at"] is not None
    assert items[m.id]["last_active_at"] == ts
