"""Plan changes (API v1.1 amendments): an admin may always move the org to
free; to pro or back to trial only on a server with plan_changes = admin,
otherwise 403 forbidden naming the operator's finicomctl set-plan.  The dev
stack runs with the default (plan_changes = operator).  billing_email stays
the admin's.  finicomctl set-plan is the operator's way."""
import os
import subprocess
import sys
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import client as fc  # noqa: E402
from client import assert_error, create_org, psql, signup  # noqa: E402

CTL = os.path.join(os.environ.get("FINICOM_BUILD", "/nonexistent"), "src", "finicomctl")


def ctl(*args):
    """finicomctl with the stack's superuser connection (PG* variables)."""
    return subprocess.run([CTL, *args], capture_output=True, text=True, timeout=60)


def billing(org):
    return "/api/v1/orgs/%s/billing" % org["id"]


def stored_plan(org):
    return psql("SELECT plan FROM finicom.orgs WHERE id = $1", org["id"])


def test_admin_cannot_make_the_org_pro_without_the_operator():
    admin = signup(name="Plan Admin")
    org = create_org(admin)
    r = admin.patch(billing(org), {"plan": "pro"})
    assert_error(r, 403, "forbidden")
    assert "finicomctl set-plan" in r.json()["error"]["message"], r.text
    assert stored_plan(org) == "trial", "a refused request changes nothing"
    # Nothing else in the same request is applied either.
    r = admin.patch(billing(org), {"plan": "pro", "billing_email": "pay@example.com"})
    assert_error(r, 403, "forbidden")
    assert admin.get(billing(org)).json()["billing_email"] is None


def test_admin_moves_to_free_but_not_back_to_trial():
    admin = signup(name="Plan Admin")
    org = create_org(admin)
    r = admin.patch(billing(org), {"plan": "free"})
    assert r.status_code == 200 and r.json()["plan"] == "free", r.text
    r = admin.patch(billing(org), {"plan": "trial"})
    assert_error(r, 403, "forbidden")
    assert stored_plan(org) == "free"
    r = admin.patch(billing(org), {"plan": "free"})
    assert r.status_code == 200 and r.json()["plan"] == "free", r.text


def test_billing_email_stays_the_admins():
    admin = signup(name="Plan Admin")
    org = create_org(admin)
    r = admin.patch(billing(org), {"billing_email": "Billing@Example.com"})
    assert r.status_code == 200, r.text
    # The email rule's canonical form: the domain lowercased, the local part kept.
    assert r.json()["billing_email"] == "Billing@example.com" and r.json()["plan"] == "trial"
    r = admin.patch(billing(org), {"billing_email": None})
    assert r.status_code == 200 and r.json()["billing_email"] is None, r.text
    # The plan the org already has is no change: a billing read sent back works.
    r = admin.patch(billing(org), {"plan": "trial", "billing_email": "b@example.com"})
    assert r.status_code == 200 and r.json()["billing_email"] == "b@example.com", r.text


def test_set_plan_by_the_operator():
    admin = signup(name="Plan Admin")
    org = create_org(admin)
    r = ctl("set-plan", "--org", org["id"], "--plan", "pro")
    assert r.returncode == 0, r.stderr
    assert "plan pro (was trial)" in r.stdout, r.stdout
    b = admin.get(billing(org)).json()
    assert b["plan"] == "pro", b
    # pro is what the org has: sending it back (with an email) is allowed.
    r = admin.patch(billing(org), {"plan": "pro", "billing_email": "pay@example.com"})
    assert r.status_code == 200 and r.json()["plan"] == "pro", r.text
    # The admin may leave pro for free, and not come back by themselves.
    assert admin.patch(billing(org), {"plan": "free"}).json()["plan"] == "free"
    assert_error(admin.patch(billing(org), {"plan": "pro"}), 403, "forbidden")
    r = ctl("set-plan", "--org", org["id"], "--plan", "trial")
    assert r.returncode == 0 and "plan trial (was free)" in r.stdout, (r.stdout, r.stderr)
    assert stored_plan(org) == "trial"
    events = psql("SELECT count(*) FROM audit.events WHERE org_id = $1 AND action = 'billing.updated'",
                  org["id"])
    assert int(events) >= 3, events


def test_set_plan_bad_input():
    r = ctl("set-plan", "--org", str(uuid.uuid4()), "--plan", "pro")
    assert r.returncode == 1 and "no org" in r.stderr, (r.returncode, r.stderr)
    r = ctl("set-plan", "--org", "not-a-uuid", "--plan", "pro")
    assert r.returncode == 2 and "UUID" in r.stderr, r.stderr
    r = ctl("set-plan", "--org", str(uuid.uuid4()), "--plan", "gold")
    assert r.returncode == 2 and "free, trial or pro" in r.stderr, r.stderr
    r = ctl("set-plan", "--plan", "pro")
    assert r.returncode == 2 and "usage" in r.stderr, r.stderr
