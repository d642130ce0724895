"""Access reviews through the API (API v1.1 "Access reviews"; sql/0025_access_reviews.sql).

Start (a snapshot of every member), decide each item, complete (every
remove and change_role in one transaction, or nothing), cancel; the org's
access_review_interval_days; the reminder job (called directly, and once
through the real pg_cron tick), with real mail in the SMTP sink.
"""
import concurrent.futures
import datetime
import os
import sys
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import client as fc  # noqa: E402
from client import add_member, assert_error, create_org, psql, signup  # noqa: E402
from test_api_keys import KeyClient, make_key  # noqa: E402

REVIEW_KEYS = {"id", "status", "created_by", "created_at", "due_at", "completed_at", "completed_by",
               "items_total", "items_decided"}
ITEM_KEYS = {"user", "role", "last_active_at", "decision", "new_role", "decided_by", "decided_at", "note"}


def reviews(org, suffix=""):
    return "/api/v1/orgs/%s/access-reviews%s" % (org["id"], suffix)


def item(org, review, user):
    return reviews(org, "/%s/items/%s" % (review["id"], user if isinstance(user, str) else user.id))


def items_of(c, org, review):
    r = c.get(reviews(org, "/%s/items?limit=200" % review["id"]))
    assert r.status_code == 200, r.text
    return {i["user"]["id"]: i for i in r.json()["items"]}


def start(c, org, body=None):
    r = c.post(reviews(org), body if body is not None else {})
    assert r.status_code == 201, r.text
    return r.json()


def decide(c, org, review, user, decision, **extra):
    r = c.patch(item(org, review, user), dict(decision=decision, **extra))
    assert r.status_code == 200, r.text
    return r.json()


def role_of(org, user):
    return psql("SELECT role FROM finicom.memberships WHERE org_id = $1 AND user_id = $2", org["id"], user.id)


def actions(c, org):
    r = c.get("/api/v1/orgs/%s/audit-events?limit=200" % org["id"])
    assert r.status_code == 200, r.text
    return [e["action"] for e in reversed(r.json()["items"])]


@pytest.fixture
def team():
    admin, write, read = signup(name="Admin"), signup(name="Writer"), signup(name="Reader")
    org = create_org(admin)
    add_member(org, write, "write")
    add_member(org, read, "read")
    return org, admin, write, read


# --------------------------------------------------------------------------
# start, list, get, items


def test_start_snapshots_every_member(team):
    org, admin, write, read = team
    assert write.get("/api/v1/orgs/" + org["id"]).status_code == 200  # the writer's last_active_at
    due = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=14)).strftime("%Y-%m-%dT%H:%M:%SZ")
    review = start(admin, org, {"due_at": due})
    assert set(review) == REVIEW_KEYS, review
    assert review["status"] == "open" and review["items_total"] == 3 and review["items_decided"] == 0
    assert review["created_by"] == {"id": admin.id, "email": admin.email, "name": "Admin"}
    assert fc.parse_ts(review["due_at"]) == fc.parse_ts(due)
    assert review["completed_at"] is None and review["completed_by"] is None
    items = items_of(admin, org, review)
    assert set(items) == {admin.id, write.id, read.id}
    for it in items.values():
        assert set(it) == ITEM_KEYS, it
        assert it["decision"] is None and it["new_role"] is None and it["decided_by"] is None
    assert items[write.id]["role"] == "write" and items[read.id]["role"] == "read"
    assert items[write.id]["user"] == {"id": write.id, "email": write.email, "name": "Writer"}
    assert items[write.id]["last_active_at"] is not None
    assert admin.get(reviews(org, "/" + review["id"])).json() == review
    # A member who joins later is not in this review.
    add_member(org, signup(name="Late"), "read")
    assert len(items_of(admin, org, review)) == 3
    assert "access_review.created" in actions(admin, org)


def test_items_paginate(team):
    org, admin, write, read = team
    review = start(admin, org)
    seen, cursor = [], None
    while True:
        r = admin.get(reviews(org, "/%s/items?limit=1%s" % (review["id"], "&cursor=" + cursor if cursor else "")))
        assert r.status_code == 200, r.text
        seen += [i["user"]["id"] for i in r.json()["items"]]
        cursor = r.json()["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted([admin.id, write.id, read.id]) and len(seen) == 3


def test_one_open_review_per_org(team):
    org, admin, write, read = team
    first = start(admin, org)
    assert_error(admin.post(reviews(org), {}), 409, "conflict")
    # Another org is not affected.
    other = create_org(admin)
    start(admin, other)
    r = admin.get(reviews(org))
    assert [x["id"] for x in r.json()["items"]] == [first["id"]]


def test_one_open_review_race(team):
    """Eight admins' requests at once: the database lets exactly one through."""
    org, admin, write, read = team
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(lambda _: admin.post(reviews(org), {}).status_code, range(8)))
    assert sorted(codes) == [201] + [409] * 7, codes
    assert psql("SELECT count(*) FROM finicom.access_reviews WHERE org_id = $1", org["id"]) == "1"


def test_list_newest_first_and_history(team):
    org, admin, write, read = team
    a = start(admin, org)
    assert admin.delete(reviews(org, "/" + a["id"])).status_code == 204
    b = start(admin, org)
    r = admin.get(reviews(org))
    assert r.status_code == 200, r.text
    got = r.json()["items"]
    assert [x["id"] for x in got] == [b["id"], a["id"]]
    assert [x["status"] for x in got] == ["open", "canceled"]
    r = admin.get(reviews(org, "?limit=1"))
    assert len(r.json()["items"]) == 1 and r.json()["next_cursor"]
    r2 = admin.get(reviews(org, "?limit=1&cursor=" + r.json()["next_cursor"]))
    assert [x["id"] for x in r2.json()["items"]] == [a["id"]] and r2.json()["next_cursor"] is None


def test_unknown_ids_404(team):
    org, admin, write, read = team
    review = start(admin, org)
    missing = "00000000-0000-4000-8000-000000000000"
    assert_error(admin.get(reviews(org, "/" + missing)), 404, "not_found")
    assert_error(admin.get(reviews(org, "/not-a-uuid")), 404, "not_found")
    assert_error(admin.get(reviews(org, "/%s/items" % missing)), 404, "not_found")
    assert_error(admin.patch(item(org, review, missing), {"decision": "keep"}), 404, "not_found")
    assert_error(admin.patch(reviews(org, "/%s/items/x" % review["id"]), {"decision": "keep"}), 404, "not_found")
    assert_error(admin.post(reviews(org, "/%s/complete" % missing)), 404, "not_found")
    assert_error(admin.delete(reviews(org, "/" + missing)), 404, "not_found")
    # Another org's review is not found either, even by its own admin's id.
    other_admin = signup(name="Other")
    other = create_org(other_admin)
    theirs = start(other_admin, other)
    assert_error(admin.get(reviews(org, "/" + theirs["id"])), 404, "not_found")
    assert_error(admin.post(reviews(org, "/%s/complete" % theirs["id"])), 404, "not_found")


def test_roles(team):
    org, admin, write, read = team
    review = start(admin, org)
    stranger = signup(name="Stranger")
    for who in (write, read):
        assert_error(who.get(reviews(org)), 403, "forbidden")
        assert_error(who.post(reviews(org), {}), 403, "forbidden")
        assert_error(who.patch(item(org, review, who), {"decision": "keep"}), 403, "forbidden")
        assert_error(who.post(reviews(org, "/%s/complete" % review["id"])), 403, "forbidden")
    assert_error(stranger.get(reviews(org)), 404, "not_found")
    assert_error(stranger.post(reviews(org), {}), 404, "not_found")
    assert_error(fc.Client().get(reviews(org)), 401, "unauthenticated")
    # API keys may read (an admin key), but decisions are made by people.
    key = KeyClient(make_key(admin, org, role="admin")["token"])
    assert key.get(reviews(org)).status_code == 200
    assert_error(key.post(reviews(org, "/%s/complete" % review["id"])), 403, "forbidden")
    assert_error(key.patch(item(org, review, admin), {"decision": "keep"}), 403, "forbidden")
    assert items_of(admin, org, review)[admin.id]["decision"] is None


# --------------------------------------------------------------------------
# decisions


@pytest.mark.parametrize("body, field", [
    ({}, "decision"),
    ({"decision": "maybe"}, "decision"),
    ({"decision": 1}, "decision"),
    ({"decision": "change_role"}, "new_role"),
    ({"decision": "change_role", "new_role": "owner"}, "new_role"),
    ({"decision": "keep", "new_role": "read"}, "new_role"),
    ({"decision": "remove", "new_role": "read"}, "new_role"),
    ({"decision": "keep", "note": "x" * 501}, "note"),
    ({"decision": "keep", "note": 5}, "note"),
    ({"decision": "keep", "colour": "red"}, "colour"),
])
def test_decide_bad_input_400(team, body, field):
    org, admin, write, read = team
    review = start(admin, org)
    assert_error(admin.patch(item(org, review, write), body), 400, "validation_failed", field)
    assert items_of(admin, org, review)[write.id]["decision"] is None


def test_decide_and_change_mind(team):
    org, admin, write, read = team
    review = start(admin, org)
    it = decide(admin, org, review, write, "change_role", new_role="read", note="é" * 500)
    assert it["decision"] == "change_role" and it["new_role"] == "read" and it["note"] == "é" * 500
    assert it["decided_by"] == {"id": admin.id, "email": admin.email, "name": "Admin"}
    fc.parse_ts(it["decided_at"])
    it = decide(admin, org, review, write, "keep", note=None)
    assert it["decision"] == "keep" and it["new_role"] is None and it["note"] is None
    assert admin.get(reviews(org, "/" + review["id"])).json()["items_decided"] == 1
    assert actions(admin, org).count("access_review.decided") == 2


def test_decide_only_while_open(team):
    org, admin, write, read = team
    review = start(admin, org)
    assert admin.delete(reviews(org, "/" + review["id"])).status_code == 204
    assert_error(admin.patch(item(org, review, write), {"decision": "keep"}), 409, "conflict")
    assert_error(admin.post(reviews(org, "/%s/complete" % review["id"])), 409, "conflict")
    assert_error(admin.delete(reviews(org, "/" + review["id"])), 409, "conflict")
    assert admin.get(reviews(org, "/" + review["id"])).json()["status"] == "canceled"
    assert "access_review.canceled" in actions(admin, org)
    # A new review may start once none is open.
    start(admin, org)


# --------------------------------------------------------------------------
# completing


def test_complete_needs_every_decision(team):
    org, admin, write, read = team
    review = start(admin, org)
    decide(admin, org, review, admin, "keep")
    decide(admin, org, review, write, "remove")
    assert_error(admin.post(reviews(org, "/%s/complete" % review["id"])), 409, "review_incomplete")
    assert role_of(org, write) == "write"
    assert admin.get(reviews(org, "/" + review["id"])).json()["status"] == "open"


def test_complete_applies_every_decision(team):
    org, admin, write, read = team
    review = start(admin, org)
    decide(admin, org, review, admin, "keep")
    decide(admin, org, review, write, "remove", note="left the team")
    decide(admin, org, review, read, "change_role", new_role="write")
    r = admin.post(reviews(org, "/%s/complete" % review["id"]))
    assert r.status_code == 200, r.text
    done = r.json()
    assert done["status"] == "completed" and done["items_decided"] == 3
    assert done["completed_by"]["id"] == admin.id
    fc.parse_ts(done["completed_at"])
    assert role_of(org, write) == "" and role_of(org, read) == "write"
    assert_error(write.get("/api/v1/orgs/" + org["id"]), 404, "not_found")
    got = actions(admin, org)
    assert got[-3:] == ["member.role_changed", "member.removed", "access_review.completed"], got
    events = admin.get("/api/v1/orgs/%s/audit-events?action=access_review.completed" % org["id"]).json()["items"]
    assert events[0]["details"]["removed"] == [write.id]
    assert events[0]["details"]["role_changed"] == [read.id]
    assert events[0]["details"]["skipped"] == []
    assert events[0]["actor"]["id"] == admin.id
    # The history keeps the removed member's name.
    items = items_of(admin, org, review)
    assert items[write.id]["user"]["email"] == write.email and items[write.id]["note"] == "left the team"
    assert_error(admin.post(reviews(org, "/%s/complete" % review["id"])), 409, "conflict")


def test_complete_last_admin_applies_nothing(team):
    org, admin, write, read = team
    review = start(admin, org)
    decide(admin, org, review, admin, "change_role", new_role="read")
    decide(admin, org, review, write, "remove")
    decide(admin, org, review, read, "change_role", new_role="write")
    before = psql("SELECT count(*) FROM audit.events WHERE org_id = $1", org["id"])
    assert_error(admin.post(reviews(org, "/%s/complete" % review["id"])), 409, "last_admin")
    # Nothing half-applied: every membership as it was, the review open, no new event.
    assert (role_of(org, admin), role_of(org, write), role_of(org, read)) == ("admin", "write", "read")
    assert admin.get(reviews(org, "/" + review["id"])).json()["status"] == "open"
    assert psql("SELECT count(*) FROM audit.events WHERE org_id = $1", org["id"]) == before
    # Removing the only admin is refused the same way.
    decide(admin, org, review, admin, "remove")
    assert_error(admin.post(reviews(org, "/%s/complete" % review["id"])), 409, "last_admin")
    assert role_of(org, write) == "write"
    # Promoting the writer in the same review makes it fine.
    decide(admin, org, review, write, "change_role", new_role="admin")
    r = admin.post(reviews(org, "/%s/complete" % review["id"]))
    assert r.status_code == 200, r.text
    assert (role_of(org, admin), role_of(org, write), role_of(org, read)) == ("", "admin", "write")


def test_complete_skips_a_member_who_left(team):
    org, admin, write, read = team
    review = start(admin, org)
    decide(admin, org, review, admin, "keep")
    decide(admin, org, review, write, "change_role", new_role="read")
    decide(admin, org, review, read, "remove")
    assert read.delete("/api/v1/orgs/%s/members/%s" % (org["id"], read.id)).status_code == 204
    r = admin.post(reviews(org, "/%s/complete" % review["id"]))
    assert r.status_code == 200, r.text
    assert role_of(org, write) == "read"
    ev = admin.get("/api/v1/orgs/%s/audit-events?action=access_review.completed" % org["id"]).json()["items"][0]
    assert ev["details"]["skipped"] == [read.id] and ev["details"]["removed"] == []
    assert actions(admin, org).count("member.removed") == 1  # the leave, not the review


def test_empty_body_and_due_at(team):
    org, admin, write, read = team
    r = admin.post(reviews(org))  # no body at all
    assert r.status_code == 201, r.text
    assert admin.delete(reviews(org, "/" + r.json()["id"])).status_code == 204
    assert_error(admin.post(reviews(org), {"due_at": "soon"}), 400, "validation_failed", "due_at")
    assert_error(admin.post(reviews(org), {"due_at": "2001-01-01T00:00:00Z"}), 400, "validation_failed", "due_at")
    assert_error(admin.post(reviews(org), {"nope": 1}), 400, "validation_failed", "nope")
    assert psql("SELECT count(*) FROM finicom.access_reviews WHERE org_id = $1 AND status = 'open'", org["id"]) == "0"


# --------------------------------------------------------------------------
# the interval and the reminder job


def test_interval_setting(team):
    org, admin, write, read = team
    r = admin.get("/api/v1/orgs/" + org["id"])
    assert r.json()["access_review_interval_days"] == 90
    for days in (0, 30, 365, 120):
        r = admin.patch("/api/v1/orgs/" + org["id"], {"access_review_interval_days": days})
        assert r.status_code == 200 and r.json()["access_review_interval_days"] == days, r.text
    for bad in (29, 366, -1, 1.5, "90", True, [90]):
        assert_error(admin.patch("/api/v1/orgs/" + org["id"], {"access_review_interval_days": bad}),
                     400, "validation_failed", "access_review_interval_days")
    assert_error(write.patch("/api/v1/orgs/" + org["id"], {"access_review_interval_days": 30}), 403, "forbidden")
    assert admin.get("/api/v1/orgs/" + org["id"]).json()["access_review_interval_days"] == 120
    got = actions(admin, org)
    assert got.count("org.updated") == 4 and "billing.updated" not in got, got


def reminder_mails(addr):
    return [m for m in fc._mail_index() if addr.lower() in m[0] and m[1].startswith("Access review due for")]


def wait_mail(addr, n, timeout=fc.MAIL_TIMEOUT):
    deadline = time.monotonic() + timeout
    while len(reminder_mails(addr)) < n:
        assert time.monotonic() < deadline, "no reminder mail to %s" % addr
        time.sleep(0.1)
    return reminder_mails(addr)


def remind():
    return int(psql("SELECT finicom.access_review_remind()"))


def overdue(org, days=100):
    """The org was made `days` ago (as a DBA would see an old org)."""
    psql("UPDATE finicom.orgs SET created_at = now() - make_interval(days => $2::int) WHERE id = $1", org["id"], days)


def test_reminder_mails_admins_weekly(team):
    org, admin, write, read = team
    second = signup(name="Second Admin")
    add_member(org, second, "admin")
    overdue(org)
    remind()  # (or the pg_cron job, if its minute came first)
    for who in (admin, second):
        mails = wait_mail(who.email, 1)
        assert org["name"] in mails[0][1] and "Access reviews" in mails[0][2], mails[0]
    assert reminder_mails(write.email) == [] and reminder_mails(read.email) == []
    # At most once a week.
    remind()
    time.sleep(1)
    assert len(reminder_mails(admin.email)) == 1
    ev = admin.get("/api/v1/orgs/%s/audit-events?action=access_review.reminded" % org["id"]).json()["items"]
    assert len(ev) == 1 and ev[0]["actor"]["type"] == "system" and ev[0]["details"]["admins"] == 2
    # A week later, still overdue: again.
    psql("UPDATE finicom.access_review_reminders SET sent_at = now() - interval '8 days' WHERE org_id = $1", org["id"])
    remind()
    wait_mail(admin.email, 2)


def test_reminder_respects_reviews_and_interval(team):
    org, admin, write, read = team
    # (Each org is made overdue only once what keeps it from being due is
    # in place: the pg_cron job may run at any moment.)
    # A review completed recently: not due, however old the org.
    review = start(admin, org)
    for who in (admin, write, read):
        decide(admin, org, review, who, "keep")
    assert admin.post(reviews(org, "/%s/complete" % review["id"])).status_code == 200
    overdue(org)
    remind()
    # Off: not due either.
    other_admin = signup(name="Off")
    other = create_org(other_admin)
    assert other_admin.patch("/api/v1/orgs/" + other["id"], {"access_review_interval_days": 0}).status_code == 200
    overdue(other, 400)
    remind()
    # A review completed long ago is as old as its completion.
    third_admin = signup(name="Third")
    third = create_org(third_admin)
    old = start(third_admin, third)
    decide(third_admin, third, old, third_admin, "keep")
    assert third_admin.post(reviews(third, "/%s/complete" % old["id"])).status_code == 200
    assert third_admin.patch("/api/v1/orgs/" + third["id"], {"access_review_interval_days": 30}).status_code == 200
    overdue(third, 400)
    remind()  # the last review is recent: nothing for this org yet
    assert reminder_mails(third_admin.email) == []
    psql("UPDATE finicom.access_reviews SET completed_at = now() - interval '40 days' WHERE id = $1", old["id"])
    remind()
    wait_mail(third_admin.email, 1)
    assert reminder_mails(admin.email) == [] and reminder_mails(other_admin.email) == []


def test_reminder_from_the_real_cron_job(team):
    """The one test that waits for pg_cron's minute: finicom-access-review-reminders."""
    org, admin, write, read = team
    assert psql("SELECT schedule || ' ' || command FROM cron.job WHERE jobname = 'finicom-access-review-reminders'") \
        == "* * * * * SELECT finicom.access_review_remind()"
    overdue(org)
    mails = wait_mail(admin.email, 1, timeout=130)
    assert org["name"] in mails[0][1]
    assert reminder_mails(write.email) == []
