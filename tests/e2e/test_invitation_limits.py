"""Invitation mail is bounded (sql/0012_invitation_limits.sql): 429
rate_limited with Retry-After, and a refused request changes nothing.

The windows count mail_outbox rows, so the tests put the earlier mail in
place as the superuser (with psql) instead of sending hundreds of emails.
"""
import os
import sys
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from client import assert_error, create_org, psql, signup  # noqa: E402


def inv_path(org, suffix=""):
    return "/api/v1/orgs/%s/invitations%s" % (org["id"], suffix)


def earlier_mail(org_id, recipient, n, age):
    """n invitation mails of org_id to recipient (or recipient-k@...), age ago, already sent."""
    psql("INSERT INTO finicom.mail_outbox (org_id, invitation_id, recipient, subject, body, message_id,"
         " created_at, status)"
         " SELECT $1::uuid, gen_random_uuid(), replace($2, '{k}', k::text), 's', 'b',"
         " '<' || gen_random_uuid() || '@limits.test>', now() - $4::interval, 'sent'"
         " FROM generate_series(1, $3::int) k", org_id, recipient, n, age)


def outbox_count(org_id):
    return int(psql("SELECT count(*) FROM finicom.mail_outbox WHERE org_id = $1", org_id))


def assert_rate_limited(r, low, high):
    assert_error(r, 429, "rate_limited")
    retry = r.headers.get("Retry-After", "")
    assert retry.isdigit() and low <= int(retry) <= high, r.headers


def test_an_org_sends_at_most_200_invitation_mails_an_hour():
    admin = signup()
    org = create_org(admin)
    earlier_mail(org["id"], "someone-{k}@limits.test", 199, "10 minutes")
    r = admin.post(inv_path(org), {"email": "number-200@limits.test", "role": "read"})
    assert r.status_code == 201, r.text
    before = outbox_count(org["id"])
    r = admin.post(inv_path(org), {"email": "number-201@limits.test", "role": "read"})
    assert_rate_limited(r, 2900, 3000)
    assert outbox_count(org["id"]) == before, "a refused invitation queued mail"
    listed = admin.get(inv_path(org)).json()["items"]
    assert [i["email"] for i in listed] == ["number-200@limits.test"], listed


def test_an_address_gets_at_most_10_invitation_mails_a_day_from_all_orgs():
    victim = "victim-%s@limits.test" % uuid.uuid4().hex[:8]
    other = create_org(signup())
    earlier_mail(other["id"], victim.upper().replace("@LIMITS.TEST", "@limits.test"), 1, "2 hours")
    earlier_mail(other["id"], victim, 9, "2 hours")
    admin = signup()
    org = create_org(admin)
    r = admin.post(inv_path(org), {"email": victim, "role": "read"})
    assert_rate_limited(r, 22 * 3600 - 60, 22 * 3600)
    r = admin.post(inv_path(org), {"email": "someone-else-%s@limits.test" % uuid.uuid4().hex[:8],
                                   "role": "read"})
    assert r.status_code == 201, r.text


def test_an_invitation_is_resent_at_most_5_times_a_day():
    admin = signup()
    org = create_org(admin)
    r = admin.post(inv_path(org), {"email": "resent-%s@limits.test" % uuid.uuid4().hex[:8], "role": "read"})
    assert r.status_code == 201, r.text
    inv = r.json()
    for k in range(5):
        r = admin.post(inv_path(org, "/%s/resend" % inv["id"]))
        assert r.status_code == 200, (k, r.text)
    before = outbox_count(org["id"])
    r = admin.post(inv_path(org, "/%s/resend" % inv["id"]))
    assert_rate_limited(r, 23 * 3600, 24 * 3600)
    assert outbox_count(org["id"]) == before
