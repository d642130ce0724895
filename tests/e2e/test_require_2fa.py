"""The org policy require_2fa (sql/0023, docs/two-factor.md), through nginx:
an admin without two-factor cannot turn it on (409 two_factor_required);
while it is on, members without two-factor get 403 two_factor_required on
every path of the org (and row-level security shows them nothing of it),
API keys are not affected, and other orgs are not either.
"""
import client as fc
import totp_util as tu
from client import assert_error, signup


def org_path(org, suffix=""):
    return "/api/v1/orgs/%s%s" % (org["id"], suffix)


def test_org_object_shows_require_2fa_and_the_admin_needs_2fa_to_turn_it_on():
    admin = signup()
    org = fc.create_org(admin)
    assert org["require_2fa"] is False
    r = admin.patch(org_path(org), {"require_2fa": True})
    assert_error(r, 409, "two_factor_required")
    assert admin.get(org_path(org)).json()["require_2fa"] is False, "a refused PATCH changes nothing"
    assert_error(admin.patch(org_path(org), {"require_2fa": "yes"}), 400, "validation_failed", "require_2fa")
    # turning it off (or sending false) is always fine
    assert admin.patch(org_path(org), {"require_2fa": False}).status_code == 200
    tu.enable(admin)
    r = admin.patch(org_path(org), {"require_2fa": True})
    assert r.status_code == 200 and r.json()["require_2fa"] is True, r.text
    assert admin.get(org_path(org)).json()["require_2fa"] is True
    # a writer may not change it (admin only)
    w = signup()
    fc.add_member(org, w, "write")
    tu.enable(w)
    assert_error(w.patch(org_path(org), {"require_2fa": False}), 403, "forbidden")


def test_members_without_2fa_get_403_api_keys_200():
    admin = signup()
    org = fc.create_org(admin)
    r = admin.post(org_path(org, "/api-keys"), {"name": "ci", "role": "read"})
    assert r.status_code == 201, r.text
    key = r.json()["token"]
    fc.register_secret(key)
    src = admin.post(org_path(org, "/sources"), {"name": "s1", "type": "postgres", "config": {}})
    assert src.status_code == 201, src.text
    tu.enable(admin)
    assert admin.patch(org_path(org), {"require_2fa": True}).status_code == 200
    reader = signup()
    fc.add_member(org, reader, "read")
    other_org = fc.create_org(reader)
    # every path of the org: 403 two_factor_required, whatever the method
    for method, path in (("GET", ""), ("GET", "/members"), ("GET", "/sources"),
                         ("GET", "/sources/" + src.json()["id"]), ("POST", "/sources"),
                         ("GET", "/members/" + reader.id), ("DELETE", "/members/" + reader.id)):
        r = reader.request(method, org_path(org, path), json={"name": "x", "type": "t", "config": {}}
                           if method == "POST" else None)
        assert_error(r, 403, "two_factor_required")
    assert fc.psql("SELECT count(*) FROM finicom.memberships WHERE org_id = $1 AND user_id = $2",
                   org["id"], reader.id) == "1", "a refused request changes nothing"
    # other orgs of the same user are not affected; nor is /me
    assert reader.get(org_path(other_org)).status_code == 200
    assert reader.me().status_code == 200
    # a non-member still gets 404, not a hint that the org exists
    stranger = signup()
    assert_error(stranger.get(org_path(org)), 404, "not_found")
    # the admin (with 2FA) works; the API key works without any 2FA
    assert admin.get(org_path(org, "/sources")).status_code == 200
    r = fc.Client().get(org_path(org, "/sources"), headers={"Authorization": "Bearer " + key})
    assert r.status_code == 200 and len(r.json()["items"]) == 1, r.text
    # once the reader turns on 2FA, the org opens
    tu.enable(reader)
    assert reader.get(org_path(org, "/sources")).status_code == 200
    # and turning the policy off opens it to members without 2FA again
    w = signup()
    fc.add_member(org, w, "write")
    assert_error(w.get(org_path(org)), 403, "two_factor_required")
    assert admin.patch(org_path(org), {"require_2fa": False}).status_code == 200
    assert w.get(org_path(org)).status_code == 200


def test_the_database_shows_a_member_without_2fa_nothing_of_the_org():
    """The second lock: begin_request puts no org in the context."""
    admin = signup()
    org = fc.create_org(admin)
    tu.enable(admin)
    assert admin.patch(org_path(org), {"require_2fa": True}).status_code == 200
    reader = signup()
    fc.add_member(org, reader, "read")
    h = fc.sha256_hex(reader.token)
    out = fc.psql(
        "BEGIN; SET LOCAL ROLE finicom_app;"
        " SELECT two_factor_required::text || ',' || coalesce(org_role, '-') FROM finicom.begin_request("
        "'session', decode($1, 'hex'), $2::uuid, 43200, 'rid', '127.0.0.1');"
        " SELECT coalesce(finicom.request_org_id()::text, 'none');"
        " COMMIT", h, org["id"])
    assert out.split() == ["true,read", "none"], out
