"""POST /orgs/{org}/invitations/batch (API v1.1 "Members and invitations";
src/handlers/invitation_batch.c, finicom.invitation_create_batch in
sql/0024_member_governance.sql, docs/members.md).

1-100 items in one transaction, one result per item in the order given;
each item succeeds or fails on its own (already_member, invitation_pending,
validation_failed, rate_limited); each success queues its mail and its
audit event; the same email twice is 400 for the whole batch.
"""
import os
import sys
import uuid

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import client as fc  # noqa: E402
from client import Client, add_member, assert_error, create_org, psql, signup  # noqa: E402
from test_invitation_limits import earlier_mail  # noqa: E402
from test_invitations import accept, wait_token  # noqa: E402


def batch_path(org):
    return "/api/v1/orgs/%s/invitations/batch" % org["id"]


def count(sql, *args):
    return int(psql(sql, *args))


@pytest.fixture
def team():
    admin = signup(name="Batch Admin")
    org = create_org(admin)
    return org, admin


def test_each_item_succeeds_or_fails_on_its_own_in_order(team):
    org, admin = team
    member = signup(name="Already In")
    add_member(org, member, "read")
    pending = fc.unique_email("pending")
    assert admin.post("/api/v1/orgs/%s/invitations" % org["id"], {"email": pending, "role": "read"}).status_code == 201
    new1, new2 = fc.unique_email("new1"), fc.unique_email("new2")
    items = [
        {"email": new1, "role": "write"},
        {"email": member.email.upper(), "role": "read"},
        {"email": pending, "role": "admin"},
        {"email": "not-an-email", "role": "read"},
        {"email": fc.unique_email("badrole"), "role": "owner"},
        {"email": fc.unique_email("extra"), "role": "read", "color": "blue"},
        {"email": fc.unique_email("past"), "role": "read", "membership_expires_at": "2020-01-01T00:00:00Z"},
        {"role": "read"},
        {"email": new2, "role": "read", "membership_expires_at": "2099-01-01T00:00:00Z"},
    ]
    events_before = count("SELECT count(*) FROM audit.events WHERE org_id = $1 AND action = 'invitation.created'",
                          org["id"])
    r = admin.post(batch_path(org), {"items": items})
    assert r.status_code == 200, r.text
    got = r.json()["items"]
    assert len(got) == len(items)
    want = [None, ("already_member", None), ("invitation_pending", None), ("validation_failed", "email"),
            ("validation_failed", "role"), ("validation_failed", "color"),
            ("validation_failed", "membership_expires_at"), ("validation_failed", "email"), None]
    for sent, res, w in zip(items, got, want):
        # The email as checked: its canonical form (the domain lowercased), else as sent.
        assert res["email"] == (fc.re.sub(r"@.*", lambda m: m.group(0).lower(), sent["email"])
                                if "email" in sent else None), (sent, res)
        if w is None:
            assert set(res) == {"email", "invitation"}, res
            assert res["invitation"]["status"] == "pending" and res["invitation"]["role"] == sent["role"], res
        else:
            assert set(res) == {"email", "error"}, res
            assert res["error"]["code"] == w[0] and res["error"].get("field") == w[1], res
            assert isinstance(res["error"]["message"], str) and res["error"]["message"], res
    assert got[8]["invitation"]["membership_expires_at"] == "2099-01-01T00:00:00.000Z", got[8]
    # Exactly the two successes left invitations, mails and events; nothing of the failures.
    assert count("SELECT count(*) FROM audit.events WHERE org_id = $1 AND action = 'invitation.created'",
                 org["id"]) == events_before + 2
    assert count("SELECT count(*) FROM finicom.invitations WHERE org_id = $1", org["id"]) == 3
    assert psql("SELECT role FROM finicom.invitations WHERE org_id = $1 AND email = $2", org["id"], pending) == "read"
    for addr in (new1, new2):
        token = wait_token(addr)
        assert len(token) == 43
    # The batch's invitations were made in one transaction (one now()).
    assert count("SELECT count(DISTINCT created_at) FROM finicom.invitations WHERE org_id = $1"
                 " AND email IN ($2, $3)", org["id"], new1, new2) == 1
    # And they work: the second one's membership carries its expiry.
    r = accept(wait_token(new2), body={"name": "New Two", "password": fc.new_password()})
    assert r.status_code == 201, r.text
    assert psql("SELECT expires_at = '2099-01-01T00:00:00Z' FROM finicom.memberships WHERE org_id = $1"
                " AND user_id = $2", org["id"], r.json()["user"]["id"]) == "t"


@pytest.mark.parametrize("body", [
    {},
    {"items": None},
    {"items": {"email": "a@b.test", "role": "read"}},
    {"items": []},
    {"items": [{"email": "x-%d@batch.test" % i, "role": "read"} for i in range(101)]},
    {"items": [{"email": "a@batch.test", "role": "read"}, "b@batch.test"]},
    {"items": [{"email": "a@batch.test", "role": "read"}, {"email": "A@Batch.TEST", "role": "write"}]},
    {"items": [{"email": "a@batch.test", "role": "read"}], "send": True},
])
def test_bad_batches_are_400_and_change_nothing(team, body):
    org, admin = team
    field = "send" if "send" in body else "items"
    assert_error(admin.post(batch_path(org), body), 400, "validation_failed", field)
    assert count("SELECT count(*) FROM finicom.invitations WHERE org_id = $1", org["id"]) == 0
    assert count("SELECT count(*) FROM finicom.mail_outbox WHERE org_id = $1", org["id"]) == 0


def test_a_hundred_items_in_one_request(team):
    org, admin = team
    tag = uuid.uuid4().hex[:8]
    items = [{"email": "hundred-%s-%d@batch.test" % (tag, i), "role": "read"} for i in range(100)]
    r = admin.post(batch_path(org), {"items": items})
    assert r.status_code == 200, r.text
    got = r.json()["items"]
    assert [g["email"] for g in got] == [i["email"] for i in items]
    assert all("invitation" in g for g in got), [g for g in got if "error" in g][:3]
    assert count("SELECT count(*) FROM finicom.mail_outbox WHERE org_id = $1", org["id"]) == 100


def test_the_mail_limits_apply_per_item(team):
    org, admin = team
    victim = "victim-%s@batch.test" % uuid.uuid4().hex[:8]
    earlier_mail(create_org(signup())["id"], victim, 10, "1 hour")
    ok = fc.unique_email("ok")
    r = admin.post(batch_path(org), {"items": [{"email": victim, "role": "read"}, {"email": ok, "role": "read"}]})
    assert r.status_code == 200, r.text
    first, second = r.json()["items"]
    assert first["error"]["code"] == "rate_limited", first
    assert 22 * 3600 <= first["error"]["retry_after"] <= 23 * 3600, first
    assert "invitation" in second, second
    assert count("SELECT count(*) FROM finicom.invitations WHERE org_id = $1 AND email = $2", org["id"], victim) == 0


def test_only_verified_admins_send_batches(team):
    org, admin = team
    writer = signup(name="Writer")
    add_member(org, writer, "write")
    body = {"items": [{"email": fc.unique_email("w"), "role": "read"}]}
    assert_error(writer.post(batch_path(org), body), 403, "forbidden")
    unverified = signup(name="Unverified", verify=False)
    add_member(org, unverified, "admin")
    assert_error(unverified.post(batch_path(org), body), 403, "email_unverified")
    assert_error(Client().post(batch_path(org), body), 401, "unauthenticated")
    outsider = signup(name="Outsider")
    assert_error(outsider.post(batch_path(org), body), 404, "not_found")
    assert count("SELECT count(*) FROM finicom.invitations WHERE org_id = $1", org["id"]) == 0
