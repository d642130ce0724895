"""Invitations die with their inviter's admin role (API v1.1 "Members and
invitations"; sql/0024_member_governance.sql, docs/members.md).

When a member who invited people is demoted, removed, leaves, expires, or
is demoted in psql, their pending invitations to that org are canceled in
the same transaction: invitation.canceled events with actor system and
details.reason = "inviter_lost_admin", and the old link is 410 gone.
"""
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import client as fc  # noqa: E402
from client import add_member, assert_error, create_org, psql, signup  # noqa: E402
from test_invitations import accept, assert_gone, preview, wait_token  # noqa: E402


def org_path(org, suffix=""):
    return "/api/v1/orgs/%s%s" % (org["id"], suffix)


@pytest.fixture
def orgs():
    """Org O with admins A and B, and org O2 where B is an admin too."""
    a, b = signup(name="Admin A"), signup(name="Admin B")
    org = create_org(a)
    add_member(org, b, "admin")
    org2 = create_org(b)
    return org, org2, a, b


def invite(admin, org, role="read"):
    addr = fc.unique_email("cascade")
    r = admin.post(org_path(org, "/invitations"), {"email": addr, "role": role})
    assert r.status_code == 201, r.text
    return r.json(), wait_token(addr)


def cancel_events(org, inv):
    r = psql("SELECT string_agg(actor_type || ' ' || actor_label || ' ' || coalesce(details ->> 'reason', '-'), ';')"
             " FROM audit.events WHERE org_id = $1 AND target_id = $2 AND action = 'invitation.canceled'",
             org["id"], inv["id"])
    return r.split(";") if r else []


def statuses(admin, org):
    items = admin.get(org_path(org, "/invitations"), params={"status": "all"}).json()["items"]
    return {i["id"]: i["status"] for i in items}


def assert_canceled_by_system(admin, org, inv, token):
    got = statuses(admin, org)
    assert got[inv["id"]] == "canceled", got
    assert cancel_events(org, inv) == ["system pg_cron inviter_lost_admin"], cancel_events(org, inv)
    r = admin.get(org_path(org, "/audit-events"), params={"action": "invitation.canceled"})
    ev = [e for e in r.json()["items"] if e["target"]["id"] == inv["id"]]
    assert len(ev) == 1 and ev[0]["actor"]["type"] == "system", ev
    assert ev[0]["details"]["reason"] == "inviter_lost_admin", ev
    assert_gone(preview(token), "canceled")
    assert_gone(accept(token, body={"name": "Late", "password": fc.new_password()}), "canceled")


def test_demotion_cancels_the_demoted_admins_invitations(orgs):
    org, org2, a, b = orgs
    mine, my_token = invite(b, org)
    other, _ = invite(b, org2)
    kept, _ = invite(a, org)
    r = a.patch(org_path(org, "/members/" + b.id), {"role": "write"})
    assert r.status_code == 200, r.text
    assert_canceled_by_system(a, org, mine, my_token)
    assert statuses(a, org)[kept["id"]] == "pending", "another admin's invitation must stay"
    assert statuses(b, org2)[other["id"]] == "pending", "B is still an admin of O2"
    # The demotion itself is A's event; making B admin again revives nothing.
    assert psql("SELECT actor_id FROM audit.events WHERE org_id = $1 AND action = 'member.role_changed'"
                " AND target_id = $2", org["id"], b.id) == a.id
    assert a.patch(org_path(org, "/members/" + b.id), {"role": "admin"}).status_code == 200
    assert statuses(a, org)[mine["id"]] == "canceled"
    assert_error(a.post(org_path(org, "/invitations/%s/resend" % mine["id"])), 409, "not_pending")


def test_removal_cancels_them(orgs):
    org, _, a, b = orgs
    inv, token = invite(b, org, "write")
    assert a.delete(org_path(org, "/members/" + b.id)).status_code == 204
    assert_canceled_by_system(a, org, inv, token)


def test_leaving_cancels_them(orgs):
    org, _, a, b = orgs
    inv, token = invite(b, org)
    assert b.delete(org_path(org, "/members/" + b.id)).status_code == 204
    assert_canceled_by_system(a, org, inv, token)


def test_a_demotion_in_psql_cancels_them(orgs):
    org, _, a, b = orgs
    inv, token = invite(b, org)
    psql("UPDATE finicom.memberships SET role = 'read' WHERE org_id = $1 AND user_id = $2", org["id"], b.id)
    assert_canceled_by_system(a, org, inv, token)
    assert psql("SELECT actor_type FROM audit.events WHERE org_id = $1 AND action = 'member.role_changed'"
                " AND target_id = $2", org["id"], b.id) == "db"


def test_an_expired_admins_invitations_go_with_the_membership(orgs):
    org, _, a, b = orgs
    inv, token = invite(b, org)
    psql("UPDATE finicom.memberships SET expires_at = now() - interval '1 second'"
         " WHERE org_id = $1 AND user_id = $2", org["id"], b.id)
    assert int(psql("SELECT finicom.expire_memberships()")) >= 1
    assert_canceled_by_system(a, org, inv, token)


def test_an_unsent_mail_is_canceled_with_its_invitation(orgs):
    org, _, a, b = orgs
    addr = fc.unique_email("unsent")
    # The mailer may be quick: hold the mail back by making it due later.
    r = b.post(org_path(org, "/invitations"), {"email": addr, "role": "read"})
    assert r.status_code == 201, r.text
    inv = r.json()
    psql("UPDATE finicom.mail_outbox SET next_attempt_at = now() + interval '1 hour'"
         " WHERE invitation_id = $1 AND status = 'queued'", inv["id"])
    queued = psql("SELECT count(*) FROM finicom.mail_outbox WHERE invitation_id = $1 AND status = 'queued'",
                  inv["id"])
    assert a.patch(org_path(org, "/members/" + b.id), {"role": "read"}).status_code == 200
    rows = psql("SELECT status || ' ' || (link IS NULL) || ' ' || (body LIKE '%/invite/%')"
                " FROM finicom.mail_outbox WHERE invitation_id = $1", inv["id"])
    if queued == "1":
        assert rows == "canceled true false", rows
    else:
        assert rows.startswith("sent"), rows


def test_a_writer_leaving_cancels_nothing(orgs):
    org, _, a, b = orgs
    inv, _ = invite(a, org)
    w = signup(name="Writer")
    add_member(org, w, "write")
    assert w.delete(org_path(org, "/members/" + w.id)).status_code == 204
    assert statuses(a, org)[inv["id"]] == "pending"
    assert cancel_events(org, inv) == []
