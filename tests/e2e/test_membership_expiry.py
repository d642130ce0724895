"""Membership expiry end to end (API v1.1 "Members and invitations";
sql/0024_member_governance.sql, docs/members.md).

PATCH members/{user_id} {role?, expires_at?}; from expires_at on every
request of that user to the org is 404 at once, job or no job; the pg_cron
job finicom-expire-memberships removes the membership with member.expired
(actor system); the org keeps an admin without an expiry (409 last_admin);
an invitation's membership_expires_at is carried by the membership made on
accept.  Only test_the_real_pg_cron_job waits for the job's minute tick.
"""
import datetime
import os
import sys
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import client as fc  # noqa: E402
from client import Client, add_member, assert_error, create_org, psql, signup  # noqa: E402
from test_invitations import wait_token  # noqa: E402


def org_path(org, suffix=""):
    return "/api/v1/orgs/%s%s" % (org["id"], suffix)


def member(org, user):
    return org_path(org, "/members/" + (user if isinstance(user, str) else user.id))


def ahead(seconds):
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=seconds)
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def events(org, action):
    return psql("SELECT string_agg(actor_type || ' ' || coalesce(target_id::text, '-') || ' ' || details::text,"
                " E'\\n' ORDER BY at) FROM audit.events WHERE org_id = $1 AND action = $2",
                org["id"], action).splitlines()


@pytest.fixture
def team():
    admin, reader = signup(name="Expiry Admin"), signup(name="Expiry Reader")
    org = create_org(admin)
    add_member(org, reader, "read")
    return org, admin, reader


def test_an_expiry_is_set_shown_and_cleared(team):
    org, admin, reader = team
    when = ahead(3600)
    r = admin.patch(member(org, reader), {"expires_at": when})
    assert r.status_code == 200, r.text
    item = r.json()
    assert item["role"] == "read" and fc.parse_ts(item["expires_at"]) == fc.parse_ts(when[:23] + "Z"), item
    listed = {m["user"]["id"]: m for m in admin.get(org_path(org, "/members")).json()["items"]}
    assert listed[reader.id]["expires_at"] == item["expires_at"], listed
    assert listed[admin.id]["expires_at"] is None, listed
    assert reader.get(member(org, reader)).json()["expires_at"] == item["expires_at"]
    assert reader.get(org_path(org)).status_code == 200, "the expiry is ahead: the reader still works"
    r = admin.patch(member(org, reader), {"expires_at": None})
    assert r.status_code == 200 and r.json()["expires_at"] is None, r.text
    r = admin.patch(member(org, reader), {"role": "write", "expires_at": when})
    assert r.status_code == 200 and r.json()["role"] == "write" and r.json()["expires_at"], r.text
    changed = events(org, "member.expiry_changed")
    assert len(changed) == 3 and all(e.startswith("user " + reader.id) for e in changed), changed


@pytest.mark.parametrize("body,field", [
    ({"expires_at": "2020-01-01T00:00:00Z"}, "expires_at"),
    ({"expires_at": "tomorrow"}, "expires_at"),
    ({"expires_at": "2030-02-30T00:00:00Z"}, "expires_at"),
    ({"expires_at": 1893456000}, "expires_at"),
    ({"expires_at": "2030-01-01T00:00:00Z", "role": "owner"}, "role"),
    ({}, "role"),
    ({"expires_in": 5}, "expires_in"),
])
def test_bad_expiry_bodies_are_400_and_change_nothing(team, body, field):
    org, admin, reader = team
    before = admin.get(member(org, reader)).json()
    assert_error(admin.patch(member(org, reader), body), 400, "validation_failed", field)
    assert admin.get(member(org, reader)).json() == before


def test_only_admins_set_expiries(team):
    org, admin, reader = team
    assert_error(reader.patch(member(org, reader), {"expires_at": None}), 403, "forbidden")
    assert_error(reader.patch(member(org, admin), {"expires_at": ahead(60)}), 403, "forbidden")


def test_an_expired_membership_stops_at_once_job_or_no_job(team):
    org, admin, reader = team
    key = admin.post(org_path(org, "/api-keys"), {"name": "k", "role": "read"}).json()["token"]
    r = admin.patch(member(org, reader), {"expires_at": ahead(2)})
    assert r.status_code == 200, r.text
    assert reader.get(org_path(org)).status_code == 200
    assert _wait(lambda: reader.get(org_path(org)).status_code == 404, 10), "still a member after expires_at"
    # Still in the table (the job may not have run): absent for every request all the same.
    for path in ("", "/members", "/members/" + reader.id, "/sources", "/audit-events"):
        assert_error(reader.get(org_path(org, path)), 404, "not_found")
    assert_error(reader.post(org_path(org, "/sources"), {"name": "s", "type": "postgres", "config": {}}),
                 404, "not_found")
    assert_error(reader.delete(member(org, reader)), 404, "not_found")
    assert org["id"] not in [m["org"]["id"] for m in reader.me().json()["memberships"]]
    # The admin no longer sees the reader, cannot revive the membership, and the org's key is unaffected.
    ids = [m["user"]["id"] for m in admin.get(org_path(org, "/members")).json()["items"]]
    assert ids == [admin.id], ids
    assert_error(admin.get(member(org, reader)), 404, "not_found")
    assert_error(admin.patch(member(org, reader), {"expires_at": None}), 404, "not_found")
    r = Client().get(org_path(org, "/members"), headers={"Authorization": "Bearer " + key})
    assert r.status_code == 200, r.text


def _wait(pred, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.2)
    return False


def test_the_job_function_removes_it_with_member_expired(team):
    org, admin, reader = team
    psql("UPDATE finicom.memberships SET expires_at = now() - interval '1 second'"
         " WHERE org_id = $1 AND user_id = $2", org["id"], reader.id)
    assert int(psql("SELECT finicom.expire_memberships()")) >= 1
    assert psql("SELECT count(*) FROM finicom.memberships WHERE org_id = $1 AND user_id = $2",
                org["id"], reader.id) == "0"
    expired = events(org, "member.expired")
    assert len(expired) == 1 and expired[0].startswith("system " + reader.id), expired
    r = admin.get(org_path(org, "/audit-events"), params={"action": "member.expired"})
    item = r.json()["items"][0]
    assert item["actor"]["type"] == "system" and item["target"]["id"] == reader.id, item
    assert item["details"]["role"] == "read", item


def test_the_real_pg_cron_job_removes_an_expired_member(team):
    """The one test that waits for pg_cron's minute tick (at most 75 s)."""
    org, admin, reader = team
    assert psql("SELECT schedule || ' ' || command FROM cron.job WHERE jobname = 'finicom-expire-memberships'") \
        == "* * * * * SELECT finicom.expire_memberships()"
    r = admin.patch(member(org, reader), {"expires_at": ahead(1)})
    assert r.status_code == 200, r.text
    gone = _wait(lambda: psql("SELECT count(*) FROM finicom.memberships WHERE org_id = $1 AND user_id = $2",
                              org["id"], reader.id) == "0", 75)
    assert gone, "finicom-expire-memberships did not remove the expired membership within 75 s"
    expired = events(org, "member.expired")
    assert len(expired) == 1 and expired[0].startswith("system " + reader.id), expired
    assert psql("SELECT count(*) > 0 FROM cron.job_run_details d JOIN cron.job j ON j.jobid = d.jobid"
                " WHERE j.jobname = 'finicom-expire-memberships' AND d.status = 'succeeded'"
                " AND d.start_time > now() - interval '2 minutes'") == "t"


def test_the_org_keeps_an_admin_without_an_expiry(team):
    org, admin, reader = team
    assert_error(admin.patch(member(org, admin), {"expires_at": ahead(600)}), 409, "last_admin")
    r = admin.patch(member(org, reader), {"role": "admin", "expires_at": ahead(600)})
    assert r.status_code == 200, r.text
    # The other admin has an expiry: still the last one without.
    assert_error(admin.patch(member(org, admin), {"expires_at": ahead(600)}), 409, "last_admin")
    assert_error(admin.patch(member(org, admin), {"role": "write"}), 409, "last_admin")
    assert_error(admin.delete(member(org, admin)), 409, "last_admin")
    # Once the second admin has no expiry, either may get one, not both.
    assert admin.patch(member(org, reader), {"expires_at": None}).status_code == 200
    assert admin.patch(member(org, admin), {"expires_at": ahead(600)}).status_code == 200
    assert_error(reader.patch(member(org, reader), {"expires_at": ahead(600)}), 409, "last_admin")
    assert admin.get(member(org, admin)).json()["expires_at"] is not None


def test_an_invitation_carries_the_membership_expiry(team):
    org, admin, _ = team
    when = ahead(7200)
    invitee = fc.unique_email("expiring")
    r = admin.post(org_path(org, "/invitations"),
                   {"email": invitee, "role": "write", "membership_expires_at": when})
    assert r.status_code == 201, r.text
    inv = r.json()
    assert fc.parse_ts(inv["membership_expires_at"]) == fc.parse_ts(when[:23] + "Z"), inv
    assert fc.parse_ts(inv["expires_at"]) <= fc.parse_ts(inv["membership_expires_at"]), inv
    token = wait_token(invitee)
    r = Client().post("/api/v1/invitations/%s/accept" % token, {"name": "Temp", "password": fc.new_password()})
    assert r.status_code == 201, r.text
    user_id = r.json()["user"]["id"]
    assert admin.get(member(org, user_id)).json()["expires_at"] == inv["membership_expires_at"]
    added = events(org, "member.added")
    assert any(user_id in e and inv["membership_expires_at"] in e for e in added), added


def test_a_resend_never_outlives_the_membership_it_offers(team):
    """0030: a resend's new expiry is capped at membership_expires_at, as at
    creation (it was now + invite_ttl_hours, so accepting could make a
    membership that had already ended)."""
    org, admin, _ = team
    when = ahead(3600)  # the org's links last 72 h: the membership's end is sooner
    invitee = fc.unique_email("resend-capped")
    r = admin.post(org_path(org, "/invitations"), {"email": invitee, "role": "read", "membership_expires_at": when})
    assert r.status_code == 201, r.text
    inv = r.json()
    r = admin.post(org_path(org, "/invitations/%s/resend" % inv["id"]))
    assert r.status_code == 200, r.text
    assert r.json()["expires_at"] == inv["membership_expires_at"], r.json()
    assert psql("SELECT expires_at = membership_expires_at FROM finicom.invitations WHERE id = $1", inv["id"]) == "t"


def test_a_resend_after_the_membership_ended_is_refused_and_changes_nothing(team):
    org, admin, _ = team
    invitee = fc.unique_email("resend-ended")
    r = admin.post(org_path(org, "/invitations"), {"email": invitee, "role": "read", "membership_expires_at": ahead(2)})
    assert r.status_code == 201, r.text
    inv = r.json()
    wait_token(invitee)
    time.sleep(2.5)
    before = psql("SELECT token_hash::text || ' ' || expires_at::text || ' ' || status FROM finicom.invitations "
                  "WHERE id = $1", inv["id"])
    mails = psql("SELECT count(*) FROM finicom.mail_outbox WHERE recipient = $1", invitee)
    r = admin.post(org_path(org, "/invitations/%s/resend" % inv["id"]))
    assert_error(r, 409, "conflict")
    assert "membership_expires_at" in r.json()["error"]["message"], r.json()
    assert psql("SELECT token_hash::text || ' ' || expires_at::text || ' ' || status FROM finicom.invitations "
                "WHERE id = $1", inv["id"]) == before
    assert psql("SELECT count(*) FROM finicom.mail_outbox WHERE recipient = $1", invitee) == mails


@pytest.mark.parametrize("value", ["2020-01-01T00:00:00Z", "soon", 5])
def test_a_bad_membership_expires_at_is_400(team, value):
    org, admin, _ = team
    invitee = fc.unique_email("bad-expiry")
    assert_error(admin.post(org_path(org, "/invitations"),
                            {"email": invitee, "role": "read", "membership_expires_at": value}),
                 400, "validation_failed", "membership_expires_at")
    assert psql("SELECT count(*) FROM finicom.invitations WHERE email = $1", invitee) == "0"
