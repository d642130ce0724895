"""Audit events (src/openapi.json; issue 7, "Tests"): the API of the audit trail, the
actor of each action, the DBA's side (actor db), events outliving their org
and `finicomctl verify-audit`."""
import os
import subprocess
import sys
import time
import uuid

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import client as fc  # noqa: E402
from client import Client, add_member, assert_error, create_org, psql, signup  # noqa: E402
from test_api_keys import KeyClient, make_key  # noqa: E402
from test_invitations import accept, invite, wait_token  # noqa: E402

EVENT_KEYS = {"id", "at", "action", "actor", "target", "details", "ip", "request_id"}


def events_path(org):
    return "/api/v1/orgs/%s/audit-events" % org["id"]


def org_path(org, suffix=""):
    return "/api/v1/orgs/%s%s" % (org["id"], suffix)


def all_events(client, org, **params):
    """Every event of the org through the API (following cursors), newest first."""
    out, cursor = [], None
    for _ in range(100):
        p = dict(params, limit=200)
        if cursor:
            p["cursor"] = cursor
        r = client.get(events_path(org), params=p)
        assert r.status_code == 200, r.text
        body = r.json()
        out += body["items"]
        cursor = body["next_cursor"]
        if not cursor:
            return out
    raise AssertionError("too many pages")


def assert_event(e):
    assert set(e) == EVENT_KEYS, e
    assert fc.UUID_RE.match(e["id"]), e
    fc.parse_ts(e["at"])
    assert isinstance(e["action"], str) and e["action"], e
    assert set(e["actor"]) == {"type", "id", "label"}, e
    assert e["actor"]["type"] in ("user", "api_key", "system", "db"), e
    assert set(e["target"]) == {"type", "id"}, e
    assert isinstance(e["details"], dict), e


def sealed(org_id, within=2.0):
    """Wait until every event of the org is sealed into its chain (by
    finicom-mailer, every 0.2 s; sql/0010_audit_seal.sql); the seconds it took.
    Fails when events are still pending after `within` seconds."""
    t0 = time.monotonic()
    while True:
        pending = int(psql("SELECT pending FROM audit.verify_chain($1)", org_id))
        took = time.monotonic() - t0
        if pending == 0:
            return took
        assert took < within, "%d events of %s still pending after %.1f s" % (pending, org_id, within)
        time.sleep(0.02)


def conninfo():
    return "host=%s port=%s dbname=%s user=%s" % (fc.PGHOST, fc.PGPORT, fc.PGDATABASE, fc.PGUSER)


@pytest.fixture
def team():
    admin, write, read = signup(name="Audit Admin"), signup(name="W"), signup(name="R")
    org = create_org(admin)
    add_member(org, write, "write")
    add_member(org, read, "read")
    return org, admin, write, read


# --------------------------------------------------------------------------
# the list


def test_own_org_only_newest_first_shape(team):
    org, admin, write, _r = team
    other = create_org(admin)
    stranger = signup()
    third = create_org(stranger)
    for i in range(3):
        assert admin.patch(org_path(org), {"name": "Audit %d %s" % (i, uuid.uuid4().hex[:4])}).status_code == 200
        assert admin.patch(org_path(other), {"invite_ttl_hours": 10 + i}).status_code == 200
        assert stranger.patch(org_path(third), {"invite_ttl_hours": 10 + i}).status_code == 200
    r = admin.get(events_path(org))
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"items", "next_cursor"} and body["next_cursor"] is None, body
    items = body["items"]
    for e in items:
        assert_event(e)
    ids = [e["id"] for e in items]
    # exactly the events the database holds for this org
    in_db = psql("SELECT string_agg(id::text, ',' ORDER BY at DESC, id DESC) FROM audit.events WHERE org_id = $1",
                 org["id"]).split(",")
    assert ids == in_db, "the org's events, newest first, pending ones included"
    assert len(items) == 7, [e["action"] for e in items]  # created, 3 x added, 3 x updated
    ats = [fc.parse_ts(e["at"]) for e in items]
    assert ats == sorted(ats, reverse=True)
    assert items[0]["action"] == "org.updated" and items[-1]["action"] == "org.created"
    others = psql("SELECT string_agg(id::text, ',') FROM audit.events WHERE org_id IN ($1, $2)",
                  other["id"], third["id"]).split(",")
    assert not set(ids) & set(others)
    # the other org's own list
    r = admin.get(events_path(other))
    assert {e["id"] for e in r.json()["items"]} == set(psql(
        "SELECT string_agg(id::text, ',') FROM audit.events WHERE org_id = $1", other["id"]).split(","))


def test_request_id_and_ip_of_the_causing_request(team):
    org, admin, _w, read = team
    r = admin.patch(org_path(org), {"name": "Req " + uuid.uuid4().hex[:6]})
    assert r.status_code == 200
    rid = r.headers.get("X-Request-Id")
    assert rid
    r2 = admin.patch(org_path(org, "/members/" + read.id), {"role": "write"})
    rid2 = r2.headers["X-Request-Id"]
    assert rid2 != rid
    items = admin.get(events_path(org)).json()["items"]
    upd = [e for e in items if e["action"] == "org.updated"][0]
    assert upd["request_id"] == rid, upd
    assert isinstance(upd["ip"], str) and upd["ip"], upd
    chg = [e for e in items if e["action"] == "member.role_changed"][0]
    assert chg["request_id"] == rid2, chg
    assert chg["details"] == {"old_role": "read", "new_role": "write"}, chg
    assert chg["target"] == {"type": "user", "id": read.id}, chg
    assert chg["actor"] == {"type": "user", "id": admin.id, "label": admin.email}, chg


def test_filters_action_and_actor_id(team):
    org, admin, write, read = team
    assert admin.patch(org_path(org, "/members/" + read.id), {"role": "write"}).status_code == 200
    assert admin.patch(org_path(org, "/members/" + read.id), {"role": "read"}).status_code == 200
    # write leaves by itself: an event whose actor is write
    assert write.delete(org_path(org, "/members/" + write.id)).status_code == 204
    r = admin.get(events_path(org), params={"action": "member.role_changed"})
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert [e["action"] for e in items] == ["member.role_changed"] * 2
    assert [e["details"]["new_role"] for e in items] == ["read", "write"], "newest first"
    r = admin.get(events_path(org), params={"actor_id": write.id})
    items = r.json()["items"]
    assert [(e["action"], e["actor"]["id"]) for e in items] == [("member.removed", write.id)], items
    r = admin.get(events_path(org), params={"actor_id": admin.id, "action": "member.removed"})
    assert r.json()["items"] == []
    r = admin.get(events_path(org), params={"actor_id": admin.id, "action": "org.created"})
    assert [e["action"] for e in r.json()["items"]] == ["org.created"]
    assert admin.get(events_path(org), params={"action": "no.such_action"}).json()["items"] == []
    assert admin.get(events_path(org), params={"actor_id": str(uuid.uuid4())}).json()["items"] == []
    for bad in ("Member.Added", "x;drop", "", "a" * 65):
        assert_error(admin.get(events_path(org), params={"action": bad}), 400, "validation_failed",
                     field="action")
    for bad in ("nope", "123", ""):
        assert_error(admin.get(events_path(org), params={"actor_id": bad}), 400, "validation_failed",
                     field="actor_id")


def test_pagination_no_duplicates(team):
    org, admin, _w, _r = team
    for i in range(6):
        assert admin.patch(org_path(org), {"invite_ttl_hours": 100 + i}).status_code == 200
    full = admin.get(events_path(org)).json()["items"]
    n = len(full)
    assert n == 10, [e["action"] for e in full]  # created, 3 x added, 6 x updated
    seen, sizes, cursor = [], [], None
    for _ in range(10):
        params = {"limit": 4}
        if cursor:
            params["cursor"] = cursor
        r = admin.get(events_path(org), params=params)
        assert r.status_code == 200, r.text
        body = r.json()
        sizes.append(len(body["items"]))
        seen += [e["id"] for e in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert sizes == [4, 4, 2], sizes
    assert seen == [e["id"] for e in full] and len(set(seen)) == n
    # new events while paging do not shift the pages already fetched
    first = admin.get(events_path(org), params={"limit": 3}).json()
    assert admin.patch(org_path(org), {"invite_ttl_hours": 99}).status_code == 200
    second = admin.get(events_path(org), params={"limit": 3, "cursor": first["next_cursor"]}).json()
    assert [e["id"] for e in first["items"] + second["items"]] == [e["id"] for e in full[:6]]
    for limit in ("0", "201", "x"):
        assert_error(admin.get(events_path(org), params={"limit": limit}), 400, "validation_failed",
                     field="limit")
    assert_error(admin.get(events_path(org), params={"cursor": "garbage"}), 400, "validation_failed",
                 field="cursor")


def test_who_may_read(team):
    org, admin, write, read = team
    outsider = signup()
    create_org(outsider)
    assert_error(write.get(events_path(org)), 403, "forbidden")
    assert_error(read.get(events_path(org)), 403, "forbidden")
    assert_error(outsider.get(events_path(org)), 404, "not_found")
    assert_error(Client().get(events_path(org)), 401, "unauthenticated")
    assert_error(KeyClient(make_key(admin, org, "write")["token"]).get(events_path(org)), 403, "forbidden")
    r = KeyClient(make_key(admin, org, "admin")["token"]).get(events_path(org))
    assert r.status_code == 200, r.text


# --------------------------------------------------------------------------
# every action with its actor


def test_every_action_with_its_actor_type():
    admin = signup(name="All Actions")
    org = create_org(admin)
    # org.updated, billing.updated
    assert admin.patch(org_path(org), {"name": "Renamed " + uuid.uuid4().hex[:6]}).status_code == 200
    r = admin.patch(org_path(org, "/billing"), {"plan": "free"})
    assert r.status_code == 200, r.text
    # invitation.created -> accepted (member.added by the invitee)
    addr = fc.unique_email("aud")
    inv1 = invite(admin, org, addr, "read")
    tok = wait_token(addr)
    anon = Client()
    r = accept(tok, anon, {"name": "Joiner", "password": fc.new_password()})
    assert r.status_code == 201, r.text
    joiner = r.json()["user"]["id"]
    # member.role_changed, member.removed
    assert admin.patch(org_path(org, "/members/" + joiner), {"role": "write"}).status_code == 200
    assert admin.delete(org_path(org, "/members/" + joiner)).status_code == 204
    # invitation.resent, invitation.canceled
    inv2 = invite(admin, org, fc.unique_email("aud2"), "write")
    assert admin.post(org_path(org, "/invitations/%s/resend" % inv2["id"])).status_code == 200
    assert admin.delete(org_path(org, "/invitations/" + inv2["id"])).status_code == 204
    # invitation.expired, by the expiry function (what the pg_cron job calls)
    inv3 = invite(admin, org, fc.unique_email("aud3"), "read")
    psql("UPDATE finicom.invitations SET expires_at = now() - interval '1 second' WHERE id = $1", inv3["id"])
    psql("SELECT finicom.expire_invitations()")
    # api_key.created, api_key.revoked; and a change made with a key
    key = make_key(admin, org, "admin", name="audit key")
    assert KeyClient(key["token"]).patch(org_path(org), {"invite_ttl_hours": 12}).status_code == 200
    assert admin.delete(org_path(org, "/api-keys/" + key["id"])).status_code == 204

    events = list(reversed(all_events(admin, org)))  # oldest first
    for e in events:
        assert_event(e)
    got = [(e["action"], e["actor"]["type"]) for e in events]
    expected = [
        ("org.created", "user"), ("member.added", "user"),
        ("org.updated", "user"), ("billing.updated", "user"),
        ("invitation.created", "user"), ("member.added", "user"), ("invitation.accepted", "user"),
        ("member.role_changed", "user"), ("member.removed", "user"),
        ("invitation.created", "user"), ("invitation.resent", "user"), ("invitation.canceled", "user"),
        ("invitation.created", "user"), ("invitation.expired", "system"),
        ("api_key.created", "user"), ("org.updated", "api_key"), ("api_key.revoked", "user"),
    ]
    assert sorted(got) == sorted(expected), got
    by = {}
    for e in events:
        by.setdefault(e["action"], []).append(e)
    assert by["org.created"][0]["actor"] == {"type": "user", "id": admin.id, "label": admin.email}
    assert by["org.created"][0]["target"] == {"type": "org", "id": org["id"]}
    acc = by["invitation.accepted"][0]
    assert acc["actor"]["id"] == joiner and acc["target"] == {"type": "invitation", "id": inv1["id"]}, acc
    assert [e["target"]["id"] for e in by["member.added"]] == [admin.id, joiner]
    assert by["member.added"][1]["actor"]["id"] == joiner
    assert by["invitation.resent"][0]["target"]["id"] == inv2["id"]
    assert by["invitation.canceled"][0]["target"]["id"] == inv2["id"]
    exp = by["invitation.expired"][0]
    assert exp["target"]["id"] == inv3["id"] and exp["actor"]["id"] is None, exp
    assert [e["target"]["id"] for e in by["api_key.created"] + by["api_key.revoked"]] == [key["id"]] * 2
    by_key = by["org.updated"][1]
    assert by_key["actor"] == {"type": "api_key", "id": key["id"], "label": "audit key"}, by_key
    assert by["billing.updated"][0]["details"].get("new_plan") == "free", by["billing.updated"]
    # never a token or a hash in the details
    text = str([e["details"] for e in events])
    assert tok not in text and key["token"][4:] not in text and "argon2" not in text and "hash" not in text


def test_dba_psql_update_is_actor_db(team):
    org, admin, _w, read = team
    psql("UPDATE finicom.memberships SET role = 'admin' WHERE org_id = $1 AND user_id = $2", org["id"], read.id)
    e = admin.get(events_path(org), params={"action": "member.role_changed"}).json()["items"][0]
    assert e["actor"] == {"type": "db", "id": None, "label": fc.PGUSER}, e
    assert e["details"] == {"old_role": "read", "new_role": "admin"}, e
    assert e["target"] == {"type": "user", "id": read.id}
    assert e["request_id"] is None and e["ip"] is None, e


def test_events_stay_after_org_deleted(team):
    org, admin, _w, _r = team
    before = int(psql("SELECT count(*) FROM audit.events WHERE org_id = $1", org["id"]))
    assert before >= 3
    r = admin.delete(org_path(org))
    assert r.status_code == 204, r.text
    assert psql("SELECT count(*) FROM finicom.orgs WHERE id = $1", org["id"]) == "0"
    after = psql("SELECT count(*) || ' ' || (array_agg(action ORDER BY at DESC, id DESC))[1] FROM audit.events "
                 "WHERE org_id = $1", org["id"])
    assert after == "%d org.deleted" % (before + 1), after
    sealed(org["id"])
    assert psql("SELECT ok FROM audit.verify_chain($1)", org["id"]) == "t"
    assert_error(admin.get(events_path(org)), 404, "not_found")


def test_verify_audit_cli_detects_tampering():
    admin = signup(name="Tamper")
    org = create_org(admin)  # only this org's events are touched
    for i in range(3):
        assert admin.patch(org_path(org), {"invite_ttl_hours": 30 + i}).status_code == 200
    ctl = os.path.join(os.environ["FINICOM_BUILD"], "src", "finicomctl")
    cmd = [ctl, "verify-audit", "--org", org["id"], "--database", conninfo()]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, (p.returncode, p.stdout, p.stderr)  # events still pending are no failure
    assert org["id"] in p.stdout
    sealed(org["id"])
    victim = psql("SELECT id FROM audit.events WHERE org_id = $1 AND seq = 3", org["id"])
    psql("BEGIN; ALTER TABLE audit.events DISABLE TRIGGER events_append_only; "
         "UPDATE audit.events SET details = '{\"changed\": [\"name\"]}' WHERE id = $1; "
         "ALTER TABLE audit.events ENABLE TRIGGER events_append_only; COMMIT", victim)
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert p.returncode == 1, (p.returncode, p.stdout, p.stderr)
    assert victim in p.stdout + p.stderr, (victim, p.stdout, p.stderr)
    assert psql("SELECT first_bad_id FROM audit.verify_chain($1)", org["id"]) == victim


def test_events_are_sealed_by_the_mailer_within_a_second():
    """Events are written pending and finicom-mailer seals them every 0.2 s:
    the API lists them at once, and within a second they are in the chain."""
    admin = signup(name="Sealed")
    org = create_org(admin)
    for i in range(5):
        assert admin.patch(org_path(org), {"invite_ttl_hours": 40 + i}).status_code == 200
    assert len(all_events(admin, org)) == 7  # org.created, member.added, 5 x org.updated: sealed or not
    took = sealed(org["id"], within=1.0)
    assert psql("SELECT ok::text || ' ' || events || ' ' || pending FROM audit.verify_chain($1)",
                org["id"]) == "true 7 0", "org.created, member.added, five updates"
    assert psql("SELECT max(sealed_at - at) < interval '1 second' FROM audit.events WHERE org_id = $1",
                org["id"]) == "t", took
    ctl = os.path.join(os.environ["FINICOM_BUILD"], "src", "finicomctl")
    p = subprocess.run([ctl, "verify-audit", "--org", org["id"], "--database", conninfo()],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0 and "ok, 7 events sealed" in p.stdout, (p.stdout, p.stderr)


def test_verify_audit_cli_checks_an_org_whose_head_is_gone():
    """A superuser deletes an org's chain head and leaves its events: plain
    verify-audit (no --org) still finds the org, by its sealed events, and
    names the chain broken.  It used to list only orgs with a head or with
    pending events, and said nothing of this one."""
    admin = signup(name="Headless")
    org = create_org(admin)  # org.created, member.added
    sealed(org["id"])
    psql("DELETE FROM audit.chain_heads WHERE org_id = $1", org["id"])
    ctl = os.path.join(os.environ["FINICOM_BUILD"], "src", "finicomctl")
    p = subprocess.run([ctl, "verify-audit", "--database", conninfo()], capture_output=True, text=True, timeout=120)
    assert p.returncode == 1, (p.returncode, p.stdout, p.stderr)
    mine = [line for line in p.stdout.splitlines() if org["id"] in line]
    assert mine == ["org %s: BROKEN at event 3 (id -): the chain head is missing; 2 events before it verify"
                    % org["id"]], (mine, p.stdout)
