"""API keys and the API-key side of authentication (src/openapi.json; issue 6)."""
import datetime
import os
import sys
import uuid

import pytest
import requests

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import client as fc  # noqa: E402
from client import Client, add_member, assert_error, create_org, psql, signup  # noqa: E402

KEY_KEYS = {"id", "name", "role", "prefix", "created_at", "expires_at", "last_used_at", "created_by"}
KEY_RE = __import__("re").compile(r"^fcm_[A-Za-z0-9_-]{43}$")


def keys_path(org, suffix=""):
    return "/api/v1/orgs/%s/api-keys%s" % (org["id"], suffix)


def org_path(org, suffix=""):
    return "/api/v1/orgs/%s%s" % (org["id"], suffix)


class KeyClient:
    """Requests with `Authorization: Bearer <key>` and nothing else (no cookie, no CSRF)."""

    def __init__(self, token):
        self.token = token
        self.http = requests.Session()
        self.http.trust_env = False

    def request(self, method, path, json=None, headers=None):
        h = {"Authorization": "Bearer " + self.token}
        h.update(headers or {})
        if "/api/v1/auth/" in path or "/api/v1/invitations/" in path:
            fc.PACER.wait()
        r = self.http.request(method, fc.BASE_URL + path, json=json, headers=h, timeout=fc.TIMEOUT,
                              allow_redirects=False)
        rid = r.headers.get("X-Request-Id")
        if rid:
            fc.REQUEST_IDS.append(rid)
        return r

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, json=None, **kw):
        return self.request("POST", path, json=json, **kw)

    def patch(self, path, json=None, **kw):
        return self.request("PATCH", path, json=json, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)


def make_key(admin, org, role="read", name=None, **extra):
    body = {"name": name or "key " + uuid.uuid4().hex[:6], "role": role}
    body.update(extra)
    r = admin.post(keys_path(org), body)
    assert r.status_code == 201, (r.status_code, r.text)
    key = r.json()
    fc.register_secret(key["token"])
    return key


@pytest.fixture
def team():
    admin, write, read = signup(name="Key Admin"), signup(), signup()
    org = create_org(admin)
    add_member(org, write, "write")
    add_member(org, read, "read")
    return org, admin, write, read


# --------------------------------------------------------------------------
# create, list, storage


def test_create_201_token_once(team):
    org, admin, _w, _r = team
    r = admin.post(keys_path(org), {"name": "CI deploy", "role": "write"})
    assert r.status_code == 201, r.text
    key = r.json()
    fc.register_secret(key["token"])
    assert set(key) == KEY_KEYS | {"token"}, key
    assert KEY_RE.match(key["token"]), key["token"]
    assert fc.UUID_RE.match(key["id"])
    assert key["name"] == "CI deploy" and key["role"] == "write"
    assert key["prefix"] == key["token"][:len(key["prefix"])] and key["prefix"].startswith("fcm_"), key
    assert len(key["prefix"]) < 20, "the prefix is a short part of the token"
    assert key["created_by"] == admin.id
    assert key["expires_at"] is None and key["last_used_at"] is None
    fc.parse_ts(key["created_at"])
    tok = key["token"]
    # the list: no token, anywhere
    r = admin.get(keys_path(org))
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"items", "next_cursor"}
    item = [i for i in body["items"] if i["id"] == key["id"]][0]
    assert set(item) == KEY_KEYS, item
    assert {k: item[k] for k in KEY_KEYS} == {k: key[k] for k in KEY_KEYS}
    assert tok not in r.text and tok[4:] not in r.text and "token" not in item
    # the table: only the SHA-256 of the token without its "fcm_" prefix
    assert psql("SELECT encode(token_hash, 'hex') FROM finicom.api_keys WHERE id = $1", key["id"]) == \
        fc.sha256_hex(tok[4:])
    assert psql("SELECT count(*) FROM finicom.api_keys k WHERE id = $1 AND (row_to_json(k)::text LIKE "
                "'%' || $2 || '%')", key["id"], tok[4:]) == "0"
    assert psql("SELECT count(*) FROM audit.events WHERE target_id = $1 AND (details::text LIKE "
                "'%' || $2 || '%')", key["id"], tok[4:]) == "0"
    # the key works
    r = KeyClient(tok).get(org_path(org))
    assert r.status_code == 200 and r.json()["role"] == "write", r.text


def test_list_pagination_and_only_live_keys(team):
    org, admin, _w, _r = team
    ids = [make_key(admin, org, name="k%d" % i)["id"] for i in range(5)]
    seen, cursor = [], None
    for _ in range(5):
        params = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        body = admin.get(keys_path(org), params=params).json()
        seen += [i["id"] for i in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert seen == ids, "oldest first, no duplicates"
    assert admin.delete(keys_path(org, "/" + ids[1])).status_code == 204
    left = [i["id"] for i in admin.get(keys_path(org)).json()["items"]]
    assert left == [ids[0]] + ids[2:]


def test_validation_400(team):
    org, admin, _w, _r = team
    past = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=5)) \
        .strftime("%Y-%m-%dT%H:%M:%SZ")
    cases = (({"role": "read"}, "name"), ({"name": "", "role": "read"}, "name"),
             ({"name": "x" * 201, "role": "read"}, "name"), ({"name": 5, "role": "read"}, "name"),
             ({"name": "k"}, "role"), ({"name": "k", "role": "owner"}, "role"),
             ({"name": "k", "role": "read", "expires_at": past}, "expires_at"),
             ({"name": "k", "role": "read", "expires_at": "tomorrow"}, "expires_at"),
             ({"name": "k", "role": "read", "expires_at": "2030-01-01"}, "expires_at"),
             ({"name": "k", "role": "read", "expires_at": 1893456000}, "expires_at"),
             ({"name": "k", "role": "read", "token": "fcm_" + "A" * 43}, "token"))
    for body, field in cases:
        assert_error(admin.post(keys_path(org), body), 400, "validation_failed", field=field)
    assert psql("SELECT count(*) FROM finicom.api_keys WHERE org_id = $1", org["id"]) == "0"
    # a future expiry is kept
    key = make_key(admin, org, expires_at="2031-01-31T12:00:00Z")
    assert fc.parse_ts(key["expires_at"]) == datetime.datetime(2031, 1, 31, 12, tzinfo=datetime.timezone.utc)
    assert_error(admin.post(keys_path(org), {"name": "k", "role": "read"}, csrf=False), 403, "csrf_failed")


def test_expires_at_out_of_range_400(team):
    """Shaped like RFC 3339 but not a real time: still a validation error, never a 500."""
    org, admin, _w, _r = team
    for bad in ("2030-13-01T00:00:00Z", "2030-02-30T00:00:00Z", "2030-01-01T25:00:00Z"):
        assert_error(admin.post(keys_path(org), {"name": "k", "role": "read", "expires_at": bad}),
                     400, "validation_failed", field="expires_at")


# --------------------------------------------------------------------------
# revoke, expiry


def test_revoke_204_next_request_401(team):
    org, admin, _w, _r = team
    key = make_key(admin, org, "admin")
    kc = KeyClient(key["token"])
    assert kc.get(org_path(org)).status_code == 200
    r = admin.delete(keys_path(org, "/" + key["id"]))
    assert r.status_code == 204, r.text
    assert r.content == b""
    assert_error(kc.get(org_path(org)), 401, "unauthenticated")
    assert_error(kc.get("/api/v1/me"), 401, "unauthenticated")
    assert_error(admin.delete(keys_path(org, "/" + key["id"])), 404, "not_found")
    assert_error(admin.delete(keys_path(org, "/" + str(uuid.uuid4()))), 404, "not_found")
    assert_error(admin.delete(keys_path(org, "/nope")), 404, "not_found")
    assert psql("SELECT revoked_at IS NOT NULL FROM finicom.api_keys WHERE id = $1", key["id"]) == "t"


def test_keys_cannot_create_list_or_revoke_keys_403(team):
    """A key can never outlive the key that made it: API keys cannot
    create, list or revoke API keys (not even themselves); people can."""
    org, admin, _w, _r = team
    key = make_key(admin, org, "admin")
    other = make_key(admin, org, "read")
    kc = KeyClient(key["token"])
    before = psql("SELECT count(*) FROM finicom.api_keys WHERE org_id = $1", org["id"])
    assert_error(kc.post(keys_path(org), {"name": "made by a key", "role": "admin"}), 403, "forbidden")
    assert_error(kc.get(keys_path(org)), 403, "forbidden")
    assert_error(kc.delete(keys_path(org, "/" + other["id"])), 403, "forbidden")
    assert_error(kc.delete(keys_path(org, "/" + key["id"])), 403, "forbidden")
    assert psql("SELECT count(*) FROM finicom.api_keys WHERE org_id = $1", org["id"]) == before
    assert psql("SELECT count(*) FROM finicom.api_keys WHERE org_id = $1 AND revoked_at IS NOT NULL"
                " AND id IN ($2, $3)", org["id"], key["id"], other["id"]) == "0"
    assert kc.get(org_path(org, "/members")).status_code == 200
    # The org's admin, signed in, still manages them.
    assert admin.delete(keys_path(org, "/" + key["id"])).status_code == 204
    assert_error(kc.get(org_path(org, "/members")), 401, "unauthenticated")


def test_expired_key_401(team):
    org, admin, _w, _r = team
    key = make_key(admin, org, "admin", expires_at="2035-01-01T00:00:00Z")
    kc = KeyClient(key["token"])
    assert kc.get(org_path(org)).status_code == 200
    psql("UPDATE finicom.api_keys SET expires_at = now() - interval '1 second' WHERE id = $1", key["id"])
    assert_error(kc.get(org_path(org)), 401, "unauthenticated")
    assert_error(kc.get("/api/v1/me"), 401, "unauthenticated")


def test_malformed_and_unknown_bearer_401():
    for value in ("Bearer fcm_" + "A" * 43, "Bearer " + "A" * 43, "Bearer fcm_short", "Basic abc",
                  "Bearer", "bearer fcm_" + "A" * 43):
        r = requests.get(fc.BASE_URL + "/api/v1/me", headers={"Authorization": value}, timeout=fc.TIMEOUT)
        assert_error(r, 401, "unauthenticated")


# --------------------------------------------------------------------------
# what a key may do


def test_read_key_get_200_patch_403(team):
    org, admin, _w, _r = team
    kc = KeyClient(make_key(admin, org, "read")["token"])
    r = kc.get(org_path(org))
    assert r.status_code == 200 and r.json()["role"] == "read", r.text
    assert kc.get(org_path(org, "/members")).status_code == 200
    assert_error(kc.patch(org_path(org), {"name": "by read key"}), 403, "forbidden")
    assert_error(kc.get(org_path(org, "/billing")), 403, "forbidden")
    assert_error(kc.get(keys_path(org)), 403, "forbidden")
    assert_error(kc.post(org_path(org, "/invitations"), {"email": fc.unique_email(), "role": "read"}),
                 403, "forbidden")
    assert admin.get(org_path(org)).json()["name"] != "by read key"


def test_write_key_no_csrf_needed(team):
    org, admin, _w, _r = team
    kc = KeyClient(make_key(admin, org, "write")["token"])
    assert_error(kc.patch(org_path(org), {"name": "x"}), 403, "forbidden")
    assert_error(kc.delete(org_path(org, "/members/" + admin.id)), 403, "forbidden")


def test_admin_key_lists_members_and_acts_without_csrf(team):
    org, admin, write, read = team
    kc = KeyClient(make_key(admin, org, "admin")["token"])
    r = kc.get(org_path(org, "/members"))
    assert r.status_code == 200, r.text
    assert sorted(i["user"]["id"] for i in r.json()["items"]) == sorted([admin.id, write.id, read.id])
    # unsafe requests with the key need no X-CSRF-Token
    r = kc.patch(org_path(org), {"name": "Renamed by key"})
    assert r.status_code == 200 and r.json()["name"] == "Renamed by key", r.text
    r = kc.patch(org_path(org, "/members/" + read.id), {"role": "write"})
    assert r.status_code == 200 and r.json()["role"] == "write", r.text
    # a wrong X-CSRF-Token does not matter either: there is no cookie
    r = kc.patch(org_path(org), {"invite_ttl_hours": 24}, headers={"X-CSRF-Token": "A" * 43})
    assert r.status_code == 200, r.text


def test_key_on_another_org_404(team):
    org, admin, _w, _r = team
    other = create_org(admin)  # the key's creator administers it too
    kc = KeyClient(make_key(admin, org, "admin")["token"])
    for path in (org_path(other), org_path(other, "/members"),
                 org_path(other, "/audit-events"), org_path(other, "/invitations")):
        assert_error(kc.get(path), 404, "not_found")
    assert_error(kc.patch(org_path(other), {"name": "hijacked"}), 404, "not_found")
    assert_error(kc.get(org_path({"id": str(uuid.uuid4())})), 404, "not_found")
    assert admin.get(org_path(other)).json()["name"] != "hijacked"


def test_keys_cannot_create_orgs_auth_or_accept_403(team):
    org, admin, _w, _r = team
    kc = KeyClient(make_key(admin, org, "admin")["token"])
    assert_error(kc.post("/api/v1/orgs", {"name": "by key"}), 403, "forbidden")
    assert_error(kc.post("/api/v1/auth/login", {"email": admin.email, "password": admin.password}),
                 403, "forbidden")
    assert_error(kc.post("/api/v1/auth/logout"), 403, "forbidden")
    assert_error(kc.post("/api/v1/auth/signup", {"email": fc.unique_email(), "password": fc.new_password(),
                                                 "name": "k"}), 403, "forbidden")
    assert_error(kc.post("/api/v1/invitations/%s/accept" % ("A" * 43), {"name": "k", "password": "x" * 12}),
                 403, "forbidden")
    assert psql("SELECT count(*) FROM finicom.orgs WHERE name = 'by key'") == "0"


def test_cookie_and_bearer_on_one_request_401(team):
    org, admin, _w, _r = team
    key = make_key(admin, org, "admin")
    r = admin.get(org_path(org), headers={"Authorization": "Bearer " + key["token"]})
    assert_error(r, 401, "unauthenticated")
    r = admin.patch(org_path(org), {"name": "both"}, headers={"Authorization": "Bearer " + key["token"]})
    assert_error(r, 401, "unauthenticated")
    assert admin.get(org_path(org)).status_code == 200


def test_me_with_key(team):
    org, admin, _w, _r = team
    key = make_key(admin, org, "write", name="me key")
    r = KeyClient(key["token"]).get("/api/v1/me")
    assert r.status_code == 200, r.text
    assert r.json() == {"api_key": {"id": key["id"], "name": "me key", "role": "write", "org_id": org["id"]}}


def test_last_used_at_set_after_use(team):
    org, admin, _w, _r = team
    key = make_key(admin, org, "read")
    before = datetime.datetime.now(datetime.timezone.utc)
    assert KeyClient(key["token"]).get(org_path(org)).status_code == 200
    item = [i for i in admin.get(keys_path(org)).json()["items"] if i["id"] == key["id"]][0]
    assert item["last_used_at"] is not None, item
    assert abs((fc.parse_ts(item["last_used_at"]) - before).total_seconds()) < 60, item


def test_members_below_admin_403_outsider_404(team):
    org, admin, write, read = team
    key = make_key(admin, org, "read")
    outsider = signup()
    for who, status, code in ((write, 403, "forbidden"), (read, 403, "forbidden"),
                              (outsider, 404, "not_found")):
        assert_error(who.post(keys_path(org), {"name": "k", "role": "admin"}), status, code)
        assert_error(who.get(keys_path(org)), status, code)
        assert_error(who.delete(keys_path(org, "/" + key["id"])), status, code)
    assert_error(Client().get(keys_path(org)), 401, "unauthenticated")
    assert psql("SELECT count(*) FROM finicom.api_keys WHERE org_id = $1 AND revoked_at IS NULL",
                org["id"]) == "1"


def test_key_dies_with_its_org(team):
    org, admin, _w, _r = team
    key = make_key(admin, org, "read")
    kc = KeyClient(key["token"])
    r = admin.delete(org_path(org))
    assert r.status_code == 204, r.text
    assert_error(kc.get(org_path(org)), 401, "unauthenticated")
