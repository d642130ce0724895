"""The profile's name and the password change (API v1.1 "Accounts";
docs/accounts.md): PATCH /api/v1/me, POST /api/v1/me/password."""
import pytest

import account_helpers as ah
import client as fc
from client import Client, psql


def account():
    return fc.signup(password=ah.new_password(), name="Pat Profile")


def test_patch_me_changes_the_name():
    c = account()
    r = c.patch("/api/v1/me", {"name": "Pat Renamed \u2603"})
    assert r.status_code == 200, r.text
    assert set(r.json()) == {"user"}
    u = r.json()["user"]
    assert u["name"] == "Pat Renamed \u2603" and u["email"] == c.email and u["id"] == c.id
    assert u["email_verified"] is True
    assert c.me().json()["user"]["name"] == "Pat Renamed \u2603"


@pytest.mark.parametrize("body,field", [
    ({}, "name"), ({"name": ""}, "name"), ({"name": "x" * 201}, "name"), ({"name": 7}, "name"),
    ({"name": "Ok", "email": "x@example.test"}, "email"),
])
def test_patch_me_validation_400(body, field):
    c = account()
    r = c.patch("/api/v1/me", body)
    assert r.status_code == 400 and r.json()["error"]["code"] == "validation_failed", r.text
    assert r.json()["error"]["field"] == field
    assert c.me().json()["user"]["name"] == "Pat Profile", "nothing changed"


def test_patch_me_needs_csrf_a_session_and_no_api_key():
    c = account()
    r = c.patch("/api/v1/me", {"name": "Mallory"}, csrf=False)
    assert r.status_code == 403 and r.json()["error"]["code"] == "csrf_failed"
    assert Client().patch("/api/v1/me", {"name": "Mallory"}).status_code == 401
    h = {"Authorization": "Bearer fcm_" + "A" * 43}
    assert Client().patch("/api/v1/me", {"name": "Mallory"}, headers=h).status_code == 403
    assert c.me().json()["user"]["name"] == "Pat Profile"


def test_password_change_ends_the_other_sessions_and_keeps_this_one():
    c = account()
    other = Client()
    assert other.login(c.email, c.password).status_code == 200
    new = ah.new_password()
    r = c.post("/api/v1/me/password", {"current_password": c.password, "new_password": new})
    assert r.status_code == 204, r.text
    assert c.me().status_code == 200, "this session stays"
    assert other.me().status_code == 401, "the other one ends at once"
    assert Client().login(c.email, c.password).status_code == 401
    assert Client().login(c.email, new).status_code == 200
    assert psql("SELECT count(*) FROM audit.auth_events WHERE event = 'password.changed' AND user_id = $1", c.id) == "1"


def test_wrong_current_password_is_400_and_changes_nothing():
    c = account()
    hash_before = psql("SELECT password_hash FROM finicom.users WHERE id = $1", c.id)
    r = c.post("/api/v1/me/password", {"current_password": ah.new_password(), "new_password": ah.new_password()})
    assert r.status_code == 400, r.text
    e = r.json()["error"]
    assert e["code"] == "validation_failed" and e["field"] == "current_password"
    assert psql("SELECT password_hash FROM finicom.users WHERE id = $1", c.id) == hash_before
    assert c.me().status_code == 200


def test_new_password_rules_apply():
    c = account()
    for bad in ["password123", c.email, "Pat Profile", "short"]:
        r = c.post("/api/v1/me/password", {"current_password": c.password, "new_password": bad})
        assert r.status_code == 400 and r.json()["error"]["field"] == "new_password", (bad, r.text)
    for body, field in [({"new_password": ah.new_password()}, "current_password"),
                        ({"current_password": c.password}, "new_password"),
                        ({"current_password": c.password, "new_password": ah.new_password(), "x": 1}, "x")]:
        r = c.post("/api/v1/me/password", body)
        assert r.status_code == 400 and r.json()["error"]["field"] == field, (body, r.text)
    assert Client().login(c.email, c.password).status_code == 200, "nothing changed"


def test_password_change_needs_csrf_and_a_session():
    c = account()
    body = {"current_password": c.password, "new_password": ah.new_password()}
    r = c.post("/api/v1/me/password", body, csrf=False)
    assert r.status_code == 403 and r.json()["error"]["code"] == "csrf_failed"
    assert Client().post("/api/v1/me/password", body).status_code == 401
    assert Client().login(c.email, c.password).status_code == 200


def test_a_change_spends_a_pending_reset_link():
    c = account()
    assert ah.request_reset(c.email).status_code == 202
    token = ah.wait_reset_token(c.email)
    r = c.post("/api/v1/me/password", {"current_password": c.password, "new_password": ah.new_password()})
    assert r.status_code == 204
    g = Client().get("/api/v1/auth/password-reset/" + token)
    assert g.status_code == 410 and g.json()["status"] == "replaced", g.text


def test_wrong_current_passwords_count_as_failed_sign_ins():
    """Five wrong current passwords lock the address as five failed logins do (429)."""
    c = account()
    codes = [c.post("/api/v1/me/password", {"current_password": ah.new_password(),
                                            "new_password": ah.new_password()}).status_code for _ in range(6)]
    assert codes[:5] == [400] * 5 and codes[5] == 429, codes
    r = Client().login(c.email, c.password)
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1, "the login throttle is the same"


def test_zz_no_password_in_logs():
    ah.assert_not_in_logs(ah.SECRETS, minimum=10)
