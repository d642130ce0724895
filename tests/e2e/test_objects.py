"""Data objects and roles (src/openapi.json) for sources, integrations,
destinations, connections, syncs and runs (issue 6).

Every status of those sections for these routes: 201/200/204 for write and
admin, 403 for read members and read API keys, 404 for outsiders, unknown
kinds and ids, 400 validation_failed naming the field, 409 in_use, 402
plan_required, 202 for a sync; secrets never in a reply nor in clear in the
database; "********" keeps the stored ciphertext; keyset pagination.
"""
import os
import sys
import uuid

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import client as fc  # noqa: E402
from client import add_member, assert_error, create_org, psql, signup  # noqa: E402

RESOURCES = ("sources", "integrations", "destinations")
KINDS = RESOURCES + ("connections",)
META = {"id", "created_at", "updated_at", "created_by"}
RESOURCE_KEYS = META | {"name", "type", "config"}
CONNECTION_KEYS = META | {"name", "source_id", "destination_id", "integration_ids", "schedule", "enabled"}
RUN_KEYS = {"id", "connection_id", "status", "requested_by", "requested_at", "started_at", "finished_at"}
MASK = "********"


def path(org, suffix=""):
    return "/api/v1/orgs/%s%s" % (org["id"] if isinstance(org, dict) else org, suffix)


class Team:
    """An org with an admin, a write member and a read member, and an outsider."""

    def __init__(self):
        self.admin = signup(name="Objects Admin")
        self.org = create_org(self.admin, "Objects " + uuid.uuid4().hex[:8])
        self.writer = signup(name="Objects Writer")
        self.reader = signup(name="Objects Reader")
        add_member(self.org, self.writer, "write")
        add_member(self.org, self.reader, "read")
        self.outsider = signup(name="Objects Outsider")
        self.other_org = create_org(self.outsider, "Other " + uuid.uuid4().hex[:8])

    def create(self, kind, body=None, who=None, org=None):
        """POST an object (a valid default body per kind); returns it."""
        who = who or self.writer
        org = org or self.org
        if body is None:
            body = self.default_body(kind, who, org)
        r = who.post(path(org, "/" + kind), body)
        assert r.status_code == 201, (r.status_code, r.text)
        return r.json()

    def default_body(self, kind, who=None, org=None):
        if kind != "connections":
            return {"name": "My " + kind, "type": "postgres", "config": {"host": "db.internal"}}
        src = self.create("sources", who=who, org=org)
        dst = self.create("destinations", who=who, org=org)
        return {"name": "Nightly", "source_id": src["id"], "destination_id": dst["id"]}


@pytest.fixture(scope="module")
def team():
    return Team()


def assert_object(obj, kind, creator=None):
    assert set(obj) == (CONNECTION_KEYS if kind == "connections" else RESOURCE_KEYS), obj
    assert fc.UUID_RE.match(obj["id"]), obj
    fc.parse_ts(obj["created_at"])
    fc.parse_ts(obj["updated_at"])
    if creator is not None:
        assert obj["created_by"] == creator, obj


def set_plan(org, plan, trial_ends=None):
    psql("UPDATE finicom.orgs SET plan = $2, trial_ends_at = coalesce(nullif($3, '')::timestamptz, trial_ends_at)"
         " WHERE id = $1", org["id"], plan, trial_ends or "")


# --------------------------------------------------------------------------
# CRUD by write and admin members


@pytest.mark.parametrize("kind", RESOURCES)
def test_resource_crud_by_write_member(team, kind):
    w = team.writer
    created = team.create(kind, {"name": "Warehouse", "type": "s3", "config": {"bucket": "b", "n": 3}})
    assert_object(created, kind, creator=w.id)
    assert created["name"] == "Warehouse" and created["type"] == "s3"
    assert created["config"] == {"bucket": "b", "n": 3}
    assert created["created_at"] == created["updated_at"]

    r = w.get(path(team.org, "/%s/%s" % (kind, created["id"])))
    assert r.status_code == 200 and r.json() == created, r.text

    r = w.patch(path(team.org, "/%s/%s" % (kind, created["id"])), {"name": "Lake"})
    assert r.status_code == 200, r.text
    patched = r.json()
    assert patched["name"] == "Lake" and patched["type"] == "s3" and patched["config"] == created["config"]
    assert fc.parse_ts(patched["updated_at"]) >= fc.parse_ts(created["updated_at"])
    assert patched["created_at"] == created["created_at"]

    r = w.patch(path(team.org, "/%s/%s" % (kind, created["id"])), {"type": "gcs", "config": {}})
    assert r.status_code == 200 and r.json()["type"] == "gcs" and r.json()["config"] == {}, r.text

    r = w.get(path(team.org, "/" + kind), params={"limit": 200})
    assert r.status_code == 200, r.text
    assert created["id"] in [o["id"] for o in r.json()["items"]]

    r = w.delete(path(team.org, "/%s/%s" % (kind, created["id"])))
    assert r.status_code == 204, r.text
    assert r.content == b""
    assert_error(w.get(path(team.org, "/%s/%s" % (kind, created["id"]))), 404, "not_found")
    assert_error(w.delete(path(team.org, "/%s/%s" % (kind, created["id"]))), 404, "not_found")
    assert_error(w.patch(path(team.org, "/%s/%s" % (kind, created["id"])), {"name": "x"}), 404, "not_found")


def test_config_defaults_to_empty_object(team):
    obj = team.create("sources", {"name": "No config", "type": "stripe"})
    assert obj["config"] == {}


@pytest.mark.parametrize("kind", KINDS)
def test_admin_creates_updates_deletes(team, kind):
    a = team.admin
    obj = team.create(kind, who=a)
    assert_object(obj, kind, creator=a.id)
    r = a.patch(path(team.org, "/%s/%s" % (kind, obj["id"])), {"name": "Renamed by admin"})
    assert r.status_code == 200 and r.json()["name"] == "Renamed by admin", r.text
    assert a.delete(path(team.org, "/%s/%s" % (kind, obj["id"]))).status_code == 204


def test_connection_shape_defaults_and_patch(team):
    w = team.writer
    src = team.create("sources")
    dst = team.create("destinations")
    i1 = team.create("integrations", {"name": "Slack", "type": "slack"})
    i2 = team.create("integrations", {"name": "Stripe", "type": "stripe"})
    c = team.create("connections", {"name": "Sync", "source_id": src["id"], "destination_id": dst["id"],
                                    "integration_ids": [i1["id"], i2["id"]]})
    assert_object(c, "connections", creator=w.id)
    assert c["source_id"] == src["id"] and c["destination_id"] == dst["id"]
    assert c["integration_ids"] == sorted([i1["id"], i2["id"]])
    assert c["schedule"] == "manual" and c["enabled"] is True

    url = path(team.org, "/connections/" + c["id"])
    r = w.patch(url, {"schedule": "every 15 minutes", "enabled": False, "integration_ids": [i2["id"]]})
    assert r.status_code == 200, r.text
    p = r.json()
    assert p["schedule"] == "every 15 minutes" and p["enabled"] is False
    assert p["integration_ids"] == [i2["id"]]
    assert p["name"] == "Sync" and p["source_id"] == src["id"]

    dst2 = team.create("destinations")
    r = w.patch(url, {"destination_id": dst2["id"], "integration_ids": []})
    assert r.status_code == 200, r.text
    assert r.json()["destination_id"] == dst2["id"] and r.json()["integration_ids"] == []
    assert r.json()["schedule"] == "every 15 minutes"

    for schedule in ("every 5 minutes", "every 1440 minutes", "manual"):
        r = w.patch(url, {"schedule": schedule})
        assert r.status_code == 200 and r.json()["schedule"] == schedule, r.text
    assert w.get(url).json() == r.json()


# --------------------------------------------------------------------------
# Roles


def test_read_member_sees_but_cannot_change(team):
    conn = team.create("connections")
    src = team.create("sources")
    r = team.reader
    for kind in KINDS:
        assert r.get(path(team.org, "/" + kind)).status_code == 200
    assert r.get(path(team.org, "/sources/" + src["id"])).status_code == 200
    assert r.get(path(team.org, "/connections/" + conn["id"])).status_code == 200
    assert r.get(path(team.org, "/connections/%s/runs" % conn["id"])).status_code == 200
    for kind in KINDS:
        assert_error(r.post(path(team.org, "/" + kind), team.default_body(kind) if kind != "connections"
                            else {"name": "x", "source_id": src["id"], "destination_id": src["id"]}),
                     403, "forbidden")
    assert_error(r.patch(path(team.org, "/sources/" + src["id"]), {"name": "nope"}), 403, "forbidden")
    assert_error(r.delete(path(team.org, "/sources/" + src["id"])), 403, "forbidden")
    assert_error(r.delete(path(team.org, "/connections/" + conn["id"])), 403, "forbidden")
    assert_error(r.post(path(team.org, "/connections/%s/sync" % conn["id"])), 403, "forbidden")
    assert team.writer.get(path(team.org, "/sources/" + src["id"])).json()["name"] == src["name"]


def test_outsider_gets_404_everywhere(team):
    conn = team.create("connections")
    src = team.create("sources")
    o = team.outsider
    for kind in KINDS:
        assert_error(o.get(path(team.org, "/" + kind)), 404, "not_found")
        assert_error(o.post(path(team.org, "/" + kind), {"name": "x", "type": "s3"}), 404, "not_found")
    assert_error(o.get(path(team.org, "/sources/" + src["id"])), 404, "not_found")
    assert_error(o.patch(path(team.org, "/sources/" + src["id"]), {"name": "x"}), 404, "not_found")
    assert_error(o.delete(path(team.org, "/sources/" + src["id"])), 404, "not_found")
    assert_error(o.post(path(team.org, "/connections/%s/sync" % conn["id"])), 404, "not_found")
    assert_error(o.get(path(team.org, "/connections/%s/runs" % conn["id"])), 404, "not_found")
    # Nor through the outsider's own org: ids of another org are unknown there.
    assert_error(o.get(path(team.other_org, "/sources/" + src["id"])), 404, "not_found")
    assert_error(o.patch(path(team.other_org, "/sources/" + src["id"]), {"name": "x"}), 404, "not_found")
    assert_error(o.delete(path(team.other_org, "/sources/" + src["id"])), 404, "not_found")
    assert_error(o.post(path(team.other_org, "/connections/%s/sync" % conn["id"])), 404, "not_found")
    assert_error(o.get(path(team.other_org, "/connections/%s/runs" % conn["id"])), 404, "not_found")
    assert team.writer.get(path(team.org, "/sources/" + src["id"])).status_code == 200


def test_unknown_kind_and_ids_are_404(team):
    w = team.writer
    for suffix in ("/widgets", "/source", "/Sources", "/widgets/" + str(uuid.uuid4())):
        assert_error(w.get(path(team.org, suffix)), 404, "not_found")
    assert_error(w.post(path(team.org, "/widgets"), {"name": "x", "type": "s3"}), 404, "not_found")
    for kind in KINDS:
        assert_error(w.get(path(team.org, "/%s/%s" % (kind, uuid.uuid4()))), 404, "not_found")
        assert_error(w.get(path(team.org, "/%s/not-a-uuid" % kind)), 404, "not_found")
    assert_error(w.post(path(team.org, "/connections/%s/sync" % uuid.uuid4())), 404, "not_found")
    assert_error(w.get(path(team.org, "/connections/%s/runs" % uuid.uuid4())), 404, "not_found")
    # A source's id is not a connection's.
    src = team.create("sources")
    assert_error(w.get(path(team.org, "/connections/" + src["id"])), 404, "not_found")
    assert_error(w.post(path(team.org, "/connections/%s/sync" % src["id"])), 404, "not_found")


def test_wrong_method_is_405(team):
    for method, suffix, allowed in (("PUT", "/sources", {"GET", "POST"}),
                                    ("POST", "/connections/%s" % uuid.uuid4(), {"GET", "PATCH", "DELETE"}),
                                    ("GET", "/connections/%s/sync" % uuid.uuid4(), {"POST"})):
        r = team.writer.request(method, path(team.org, suffix), json={})
        assert_error(r, 405, "method_not_allowed")
        assert allowed <= {m.strip() for m in r.headers.get("Allow", "").split(",")}, r.headers


def test_cookie_request_without_csrf_is_refused(team):
    r = team.writer.post(path(team.org, "/sources"), {"name": "x", "type": "s3"}, csrf=False)
    assert_error(r, 403, "csrf_failed")


# --------------------------------------------------------------------------
# Validation


def test_resource_validation_400(team):
    w = team.writer
    ok = {"name": "Ok", "type": "postgres", "config": {}}
    cases = [
        ({"type": "s3"}, "name"),
        ({"name": "x"}, "type"),
        (dict(ok, name=""), "name"),
        (dict(ok, name="   "), "name"),
        (dict(ok, name="n" * 201), "name"),
        (dict(ok, name=5), "name"),
        (dict(ok, type="Postgres"), "type"),
        (dict(ok, type="1abc"), "type"),
        (dict(ok, type="pg-sql"), "type"),
        (dict(ok, type="a" * 41), "type"),
        (dict(ok, type=""), "type"),
        (dict(ok, type=7), "type"),
        (dict(ok, config=[]), "config"),
        (dict(ok, config="{}"), "config"),
        (dict(ok, config={"blob": "x" * (16 * 1024)}), "config"),
        (dict(ok, config={"password": MASK}), "config"),
        (dict(ok, colour="red"), "colour"),
        (dict(ok, id=str(uuid.uuid4())), "id"),
    ]
    for kind in RESOURCES:
        for body, field in cases:
            r = w.post(path(team.org, "/" + kind), body)
            assert_error(r, 400, "validation_failed", field=field)
    assert w.post(path(team.org, "/sources"), dict(ok, name="n" * 200, type="a" * 40)).status_code == 201
    assert w.post(path(team.org, "/sources"),
                  dict(ok, config={"blob": "x" * (16 * 1024 - 20)})).status_code == 201

    src = team.create("sources")
    url = path(team.org, "/sources/" + src["id"])
    for body, field in [({"name": ""}, "name"), ({"type": "Bad"}, "type"), ({"config": 1}, "config"),
                        ({"source_id": src["id"]}, "source_id"), ({"created_by": None, "x": 1}, None)]:
        r = w.patch(url, body)
        assert_error(r, 400, "validation_failed", field=field)
    assert w.get(url).json() == src


def test_connection_validation_400(team):
    w = team.writer
    src = team.create("sources")
    dst = team.create("destinations")
    integ = team.create("integrations")
    foreign_src = team.create("sources", who=team.outsider, org=team.other_org)
    foreign_dst = team.create("destinations", who=team.outsider, org=team.other_org)
    foreign_int = team.create("integrations", who=team.outsider, org=team.other_org)
    ok = {"name": "C", "source_id": src["id"], "destination_id": dst["id"]}
    cases = [
        ({"source_id": src["id"], "destination_id": dst["id"]}, "name"),
        ({"name": "C", "destination_id": dst["id"]}, "source_id"),
        ({"name": "C", "source_id": src["id"]}, "destination_id"),
        (dict(ok, source_id="not-a-uuid"), "source_id"),
        (dict(ok, source_id=5), "source_id"),
        (dict(ok, source_id=foreign_src["id"]), "source_id"),
        (dict(ok, source_id=str(uuid.uuid4())), "source_id"),
        (dict(ok, source_id=dst["id"]), "source_id"),
        (dict(ok, destination_id=foreign_dst["id"]), "destination_id"),
        (dict(ok, destination_id=src["id"]), "destination_id"),
        (dict(ok, integration_ids=integ["id"]), "integration_ids"),
        (dict(ok, integration_ids=["nope"]), "integration_ids"),
        (dict(ok, integration_ids=[integ["id"], integ["id"]]), "integration_ids"),
        (dict(ok, integration_ids=[integ["id"], foreign_int["id"]]), "integration_ids"),
        (dict(ok, integration_ids=[src["id"]]), "integration_ids"),
        (dict(ok, schedule="hourly"), "schedule"),
        (dict(ok, schedule="every 4 minutes"), "schedule"),
        (dict(ok, schedule="every 1441 minutes"), "schedule"),
        (dict(ok, schedule="every 05 minutes"), "schedule"),
        (dict(ok, schedule="every 5 minute"), "schedule"),
        (dict(ok, schedule="Manual"), "schedule"),
        (dict(ok, schedule=5), "schedule"),
        (dict(ok, enabled="yes"), "enabled"),
        (dict(ok, enabled=1), "enabled"),
        (dict(ok, config={}), "config"),
        (dict(ok, type="s3"), "type"),
    ]
    for body, field in cases:
        assert_error(w.post(path(team.org, "/connections"), body), 400, "validation_failed", field=field)

    c = team.create("connections", dict(ok, integration_ids=[integ["id"]]))
    url = path(team.org, "/connections/" + c["id"])
    for body, field in [({"source_id": foreign_src["id"]}, "source_id"),
                        ({"destination_id": str(uuid.uuid4())}, "destination_id"),
                        ({"integration_ids": [foreign_int["id"]]}, "integration_ids"),
                        ({"schedule": "every 2 minutes"}, "schedule"),
                        ({"name": "n" * 201}, "name")]:
        assert_error(w.patch(url, body), 400, "validation_failed", field=field)
    assert w.get(url).json() == c
    # Nothing of the other org changed or got linked.
    assert team.outsider.get(path(team.other_org, "/sources/" + foreign_src["id"])).status_code == 200


def test_bad_body_is_400_invalid_json(team):
    r = team.writer.post(path(team.org, "/sources"), data=b"[1]", headers={"Content-Type": "application/json"})
    assert_error(r, 400, "invalid_json")
    r = team.writer.post(path(team.org, "/sources"), data=b"{", headers={"Content-Type": "application/json"})
    assert_error(r, 400, "invalid_json")


# --------------------------------------------------------------------------
# In use


def test_delete_in_use_is_409(team):
    w = team.writer
    src = team.create("sources")
    dst = team.create("destinations")
    integ = team.create("integrations")
    c = team.create("connections", {"name": "C", "source_id": src["id"], "destination_id": dst["id"],
                                    "integration_ids": [integ["id"]]})
    for kind, obj in (("sources", src), ("destinations", dst), ("integrations", integ)):
        err = assert_error(w.delete(path(team.org, "/%s/%s" % (kind, obj["id"]))), 409, "in_use")
        assert "connection" in err["message"]
        assert w.get(path(team.org, "/%s/%s" % (kind, obj["id"]))).status_code == 200
    # Unlinking the integration frees it.
    assert w.patch(path(team.org, "/connections/" + c["id"]), {"integration_ids": []}).status_code == 200
    assert w.delete(path(team.org, "/integrations/" + integ["id"])).status_code == 204
    assert w.delete(path(team.org, "/connections/" + c["id"])).status_code == 204
    assert w.delete(path(team.org, "/sources/" + src["id"])).status_code == 204
    assert w.delete(path(team.org, "/destinations/" + dst["id"])).status_code == 204


def test_org_with_objects_in_use_can_be_deleted():
    admin = signup()
    org = create_org(admin)
    t = Team.__new__(Team)
    t.org, t.writer = org, admin
    t.create("connections")
    r = admin.delete(path(org))
    assert r.status_code == 204, r.text
    assert psql("SELECT count(*) FROM finicom.sources WHERE org_id = $1", org["id"]) == "0"
    assert psql("SELECT count(*) FROM finicom.connections WHERE org_id = $1", org["id"]) == "0"


# --------------------------------------------------------------------------
# Sync and runs


def test_sync_plan_gating_and_runs():
    admin = signup()
    org = create_org(admin)
    writer = signup()
    reader = signup()
    add_member(org, writer, "write")
    add_member(org, reader, "read")
    t = Team.__new__(Team)
    t.org, t.writer = org, writer
    c = t.create("connections")
    sync = path(org, "/connections/%s/sync" % c["id"])
    runs = path(org, "/connections/%s/runs" % c["id"])

    r = writer.post(sync)  # a new org is on its trial
    assert r.status_code == 202, r.text
    run1 = r.json()
    assert set(run1) == RUN_KEYS, run1
    assert run1["status"] == "queued" and run1["requested_by"] == writer.id
    assert run1["connection_id"] == c["id"] and fc.UUID_RE.match(run1["id"])
    fc.parse_ts(run1["requested_at"])

    set_plan(org, "free")
    assert_error(writer.post(sync), 402, "plan_required")
    assert_error(admin.post(sync), 402, "plan_required")
    set_plan(org, "trial", "2000-01-01T00:00:00Z")  # an ended trial counts as free
    assert_error(writer.post(sync), 402, "plan_required")
    assert_error(reader.post(sync), 403, "forbidden")
    set_plan(org, "pro")
    r = admin.post(sync)
    assert r.status_code == 202, r.text
    run2 = r.json()
    assert run2["requested_by"] == admin.id

    for who in (reader, writer, admin):
        r = who.get(runs)
        assert r.status_code == 200, r.text
        body = r.json()
        assert [x["id"] for x in body["items"]] == [run2["id"], run1["id"]], body  # newest first
        assert body["next_cursor"] is None
        assert set(body["items"][0]) == RUN_KEYS
    r = reader.get(runs, params={"limit": 1})
    page1 = r.json()
    assert [x["id"] for x in page1["items"]] == [run2["id"]] and page1["next_cursor"]
    page2 = reader.get(runs, params={"limit": 1, "cursor": page1["next_cursor"]}).json()
    assert [x["id"] for x in page2["items"]] == [run1["id"]] and page2["next_cursor"] is None
    assert psql("SELECT count(*) FROM finicom.sync_runs WHERE connection_id = $1", c["id"]) == "2"

    # A disabled connection can still be run by hand.
    assert writer.patch(path(org, "/connections/" + c["id"]), {"enabled": False}).status_code == 200
    assert writer.post(sync).status_code == 202
    # Deleting the connection takes its runs with it.
    assert writer.delete(path(org, "/connections/" + c["id"])).status_code == 204
    assert psql("SELECT count(*) FROM finicom.sync_runs WHERE connection_id = $1", c["id"]) == "0"


# --------------------------------------------------------------------------
# Secrets


def stored_config(kind, obj_id):
    return psql("SELECT config::text FROM finicom.%s WHERE id = $1" % kind, obj_id)


def stored_value(kind, obj_id, *keys):
    return psql("SELECT config #>> $2 FROM finicom.%s WHERE id = $1" % kind, obj_id,
                "{" + ",".join(keys) + "}")


@pytest.mark.parametrize("kind", RESOURCES)
def test_secrets_are_write_only_and_encrypted(team, kind):
    w = team.writer
    pw, key, tok = ("pw-" + uuid.uuid4().hex, "key-" + uuid.uuid4().hex, "tok-" + uuid.uuid4().hex)
    config = {"host": "db", "Password": pw, "auth": {"user": "u", "api_key": key},
              "hooks": [{"url": "https://x", "access_token": tok}], "ssh_private_key": None}
    r = w.post(path(team.org, "/" + kind), {"name": "Secretive", "type": "postgres", "config": config})
    assert r.status_code == 201, r.text
    obj = r.json()
    masked = {"host": "db", "Password": MASK, "auth": {"user": "u", "api_key": MASK},
              "hooks": [{"url": "https://x", "access_token": MASK}], "ssh_private_key": None}
    assert obj["config"] == masked

    replies = [r.text, w.get(path(team.org, "/%s/%s" % (kind, obj["id"]))).text,
               w.get(path(team.org, "/" + kind), params={"limit": 200}).text,
               team.reader.get(path(team.org, "/%s/%s" % (kind, obj["id"]))).text,
               w.patch(path(team.org, "/%s/%s" % (kind, obj["id"])), {"name": "Renamed"}).text]
    for text in replies:
        for secret in (pw, key, tok):
            assert secret not in text
    assert w.get(path(team.org, "/%s/%s" % (kind, obj["id"]))).json()["config"] == masked

    # In the database: ciphertexts only, nowhere the plaintext.
    raw = stored_config(kind, obj["id"])
    for secret in (pw, key, tok):
        assert secret not in raw
        assert psql("SELECT count(*) FROM finicom.%s WHERE config::text LIKE '%%' || $1 || '%%'" % kind,
                    secret) == "0"
        assert psql("SELECT count(*) FROM audit.events WHERE details::text LIKE '%%' || $1 || '%%'",
                    secret) == "0"
    for keys in (("Password",), ("auth", "api_key"), ("hooks", "0", "access_token")):
        assert stored_value(kind, obj["id"], *keys).startswith("enc:v1:")
    assert stored_value(kind, obj["id"], "host") == "db"


def test_masked_patch_keeps_ciphertext_and_new_value_changes_it(team):
    w = team.writer
    pw = "pw-" + uuid.uuid4().hex
    obj = team.create("sources", {"name": "S", "type": "postgres",
                                  "config": {"host": "a", "password": pw, "nested": {"token": "t1"}}})
    url = path(team.org, "/sources/" + obj["id"])
    before_pw = stored_value("sources", obj["id"], "password")
    before_tok = stored_value("sources", obj["id"], "nested", "token")

    # Send back what GET shows, with a plain change: ciphertexts byte-identical.
    config = w.get(url).json()["config"]
    config["host"] = "b"
    r = w.patch(url, {"config": config})
    assert r.status_code == 200, r.text
    assert r.json()["config"] == {"host": "b", "password": MASK, "nested": {"token": MASK}}
    assert stored_value("sources", obj["id"], "password") == before_pw
    assert stored_value("sources", obj["id"], "nested", "token") == before_tok

    # PATCH without config: the config is untouched.
    before_all = stored_config("sources", obj["id"])
    assert w.patch(url, {"name": "T"}).status_code == 200
    assert stored_config("sources", obj["id"]) == before_all

    # A new value: a new ciphertext (fresh nonce), never the plaintext.
    pw2 = "pw-" + uuid.uuid4().hex
    r = w.patch(url, {"config": {"host": "b", "password": pw2, "nested": {"token": MASK}}})
    assert r.status_code == 200, r.text
    assert pw2 not in r.text
    after_pw = stored_value("sources", obj["id"], "password")
    assert after_pw.startswith("enc:v1:") and after_pw != before_pw
    assert stored_value("sources", obj["id"], "nested", "token") == before_tok
    assert pw2 not in stored_config("sources", obj["id"])

    # The same value again still gets a new ciphertext.
    assert w.patch(url, {"config": {"password": pw2}}).status_code == 200
    assert stored_value("sources", obj["id"], "password") not in (after_pw, before_pw)

    # "********" where nothing is stored is refused; a removed secret is gone.
    assert_error(w.patch(url, {"config": {"api_key": MASK}}), 400, "validation_failed", field="config")
    assert w.patch(url, {"config": {"host": "c"}}).json()["config"] == {"host": "c"}
    assert_error(w.patch(url, {"config": {"password": MASK}}), 400, "validation_failed", field="config")


def test_ciphertext_copied_to_another_object_is_not_a_stored_secret(team):
    """A PATCH cannot launder another object's ciphertext: only the row's own value is kept."""
    w = team.writer
    a = team.create("sources", {"name": "A", "type": "pg", "config": {"password": "secret-a"}})
    b = team.create("sources", {"name": "B", "type": "pg", "config": {}})
    ct = stored_value("sources", a["id"], "password")
    r = w.patch(path(team.org, "/sources/" + b["id"]), {"config": {"password": ct}})
    assert r.status_code == 200
    # The ciphertext text sent as a value is just a new secret value: encrypted again.
    assert stored_value("sources", b["id"], "password") != ct


# --------------------------------------------------------------------------
# Pagination


def test_pagination_over_120_objects_without_duplicates():
    admin = signup()
    org = create_org(admin)
    psql("INSERT INTO finicom.sources (org_id, name, type, created_at)"
         " SELECT $1, 'bulk ' || n, 'postgres', now() - make_interval(secs => n % 7)"
         " FROM generate_series(1, 120) n", org["id"])
    expected = set(psql("SELECT string_agg(id::text, ',') FROM finicom.sources WHERE org_id = $1",
                        org["id"]).split(","))
    assert len(expected) == 120
    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 50}
        if cursor:
            params["cursor"] = cursor
        r = admin.get(path(org, "/sources"), params=params)
        assert r.status_code == 200, r.text
        body = r.json()
        assert set(body) == {"items", "next_cursor"}
        seen += [o["id"] for o in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
        assert pages < 10
    assert pages == 3
    assert len(seen) == 120 and len(set(seen)) == 120 and set(seen) == expected
    r = admin.get(path(org, "/sources"))
    assert len(r.json()["items"]) == 50  # the default limit
    items = admin.get(path(org, "/sources"), params={"limit": 200}).json()["items"]
    keys = [(fc.parse_ts(o["created_at"]), o["id"]) for o in items]
    assert keys == sorted(keys)  # oldest first
    assert all(o["created_by"] is None for o in items)  # inserted by hand, no actor
    assert admin.get(path(org, "/connections")).json() == {"items": [], "next_cursor": None}


def test_pagination_bad_params_400(team):
    for params, field in (({"limit": "0"}, "limit"), ({"limit": "201"}, "limit"), ({"limit": "x"}, "limit"),
                          ({"cursor": "garbage!"}, "cursor"), ({"cursor": "aGVsbG8"}, "cursor")):
        assert_error(team.reader.get(path(team.org, "/sources"), params=params), 400, "validation_failed",
                     field=field)


# --------------------------------------------------------------------------
# API keys


def new_key(admin, org, role):
    r = admin.post(path(org, "/api-keys"), {"name": "objects " + role, "role": role})
    assert r.status_code == 201, r.text
    return r.json()


def bearer(token):
    return {"Authorization": "Bearer " + token}


def test_api_keys_on_objects(team):
    read_key = new_key(team.admin, team.org, "read")
    write_key = new_key(team.admin, team.org, "write")
    anon = fc.Client()
    body = {"name": "By key", "type": "s3", "config": {"secret": "k-" + uuid.uuid4().hex}}

    r = anon.post(path(team.org, "/sources"), body, headers=bearer(read_key["token"]))
    assert_error(r, 403, "forbidden")
    r = anon.get(path(team.org, "/sources"), headers=bearer(read_key["token"]))
    assert r.status_code == 200, r.text

    r = anon.post(path(team.org, "/sources"), body, headers=bearer(write_key["token"]))  # no CSRF token
    assert r.status_code == 201, r.text
    obj = r.json()
    assert obj["created_by"] == write_key["id"]
    assert obj["config"] == {"secret": MASK}
    r = anon.patch(path(team.org, "/sources/" + obj["id"]), {"name": "Key renamed"},
                   headers=bearer(write_key["token"]))
    assert r.status_code == 200 and r.json()["name"] == "Key renamed", r.text
    conn = team.create("connections")
    r = anon.post(path(team.org, "/connections/%s/sync" % conn["id"]), headers=bearer(write_key["token"]))
    assert r.status_code == 202 and r.json()["requested_by"] == write_key["id"], r.text

    # Another org's path: 404.
    assert_error(anon.get(path(team.other_org, "/sources"), headers=bearer(write_key["token"])),
                 404, "not_found")
    assert_error(anon.post(path(team.other_org, "/sources"), body, headers=bearer(write_key["token"])),
                 404, "not_found")

    # Revoked: 401 on the very next use.
    assert team.admin.delete(path(team.org, "/api-keys/" + write_key["id"])).status_code == 204
    r = anon.delete(path(team.org, "/sources/" + obj["id"]), headers=bearer(write_key["token"]))
    assert_error(r, 401, "unauthenticated")
    assert team.writer.get(path(team.org, "/sources/" + obj["id"])).status_code == 200
