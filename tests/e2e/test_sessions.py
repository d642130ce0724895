"""One's own sessions (API v1.1 "Accounts"; docs/accounts.md):
GET /api/v1/me/sessions, DELETE /api/v1/me/sessions/{id},
DELETE /api/v1/me/sessions.  An ended session is 401 on its very next
request; each session shows where it was made (address, User-Agent).
"""
import uuid

import account_helpers as ah
import client as fc
from client import Client, psql

SESSIONS = "/api/v1/me/sessions"


def signed_in(c, agent):
    """Another browser of c's account: a new Client with its own User-Agent, signed in."""
    b = Client()
    b.http.headers["User-Agent"] = agent
    assert b.login(c.email, c.password).status_code == 200
    return b


def account():
    return fc.signup(password=ah.new_password())


def test_list_newest_first_with_address_agent_and_current():
    c = account()
    ua1, ua2 = "Browser-One/" + uuid.uuid4().hex[:6], "Browser-Two/" + uuid.uuid4().hex[:6]
    b1 = signed_in(c, ua1)
    b2 = signed_in(c, ua2)
    r = b1.get(SESSIONS)
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"items", "next_cursor"} and body["next_cursor"] is None
    items = body["items"]
    assert [i["user_agent"] for i in items[:2]] == [ua2, ua1], "newest first"
    assert len(items) == 3, "the signup's session too"
    for i in items:
        assert set(i) == {"id", "created_at", "last_seen_at", "ip", "user_agent", "current"}
        assert fc.UUID_RE.match(i["id"]) and i["ip"] == "127.0.0.1"
        fc.parse_ts(i["created_at"]), fc.parse_ts(i["last_seen_at"])
    assert [i["current"] for i in items] == [False, True, False]
    assert [i["current"] for i in b2.get(SESSIONS).json()["items"]] == [True, False, False]
    assert items[2]["user_agent"].startswith("python-requests/"), "signup records its User-Agent too"


def test_pagination():
    c = account()
    for n in range(3):
        signed_in(c, "Paged/%d" % n)
    r = c.get(SESSIONS, params={"limit": 2})
    page1 = r.json()
    assert len(page1["items"]) == 2 and page1["next_cursor"]
    page2 = c.get(SESSIONS, params={"limit": 2, "cursor": page1["next_cursor"]}).json()
    assert len(page2["items"]) == 2 and page2["next_cursor"] is None
    ids = [i["id"] for i in page1["items"] + page2["items"]]
    assert len(set(ids)) == 4
    for bad in ({"limit": 0}, {"limit": 201}, {"cursor": "%%%"}):
        r = c.get(SESSIONS, params=bad)
        assert r.status_code == 400 and r.json()["error"]["code"] == "validation_failed", (bad, r.text)


def test_user_agent_is_cut_to_256_bytes_and_kept_printable():
    c = account()
    agent = "Long/" + "x" * 300
    b = signed_in(c, agent)
    mine = [i for i in b.get(SESSIONS).json()["items"] if i["current"]][0]
    assert mine["user_agent"] == agent[:256]
    raw = Client()
    raw.http.headers["User-Agent"] = "Odd\u00e9Agent".encode("utf-8").decode("latin-1")
    assert raw.login(c.email, c.password).status_code == 200
    mine = [i for i in raw.get(SESSIONS).json()["items"] if i["current"]][0]
    assert mine["user_agent"] == "Odd??Agent", mine


def test_ending_another_session_is_401_on_its_very_next_request():
    c = account()
    other = signed_in(c, "Other/1")
    assert other.me().status_code == 200
    sid = [i["id"] for i in other.get(SESSIONS).json()["items"] if i["current"]][0]
    r = c.delete(SESSIONS + "/" + sid)
    assert r.status_code == 204, r.text
    assert fc.session_set_cookie(r) is None, "the caller's own cookie stays"
    r = other.me()
    assert r.status_code == 401 and r.json()["error"]["code"] == "unauthenticated"
    assert c.me().status_code == 200
    assert sid not in [i["id"] for i in c.get(SESSIONS).json()["items"]]
    assert psql("SELECT count(*) FROM audit.auth_events WHERE event = 'session.revoked' AND user_id = $1", c.id) == "1"
    r = c.delete(SESSIONS + "/" + sid)
    assert r.status_code == 404 and r.json()["error"]["message"] == "no such session"


def test_ending_the_current_session_clears_the_cookie():
    c = account()
    sid = [i["id"] for i in c.get(SESSIONS).json()["items"] if i["current"]][0]
    token = c.token
    r = c.delete(SESSIONS + "/" + sid)
    assert r.status_code == 204
    sc = fc.session_set_cookie(r)
    assert sc is not None and sc[0] == "" and sc[1].get("max-age") == "0"
    assert Client().me(cookie=token).status_code == 401


def test_sign_out_everywhere_else():
    c = account()
    others = [signed_in(c, "Elsewhere/%d" % n) for n in range(2)]
    r = c.delete(SESSIONS)
    assert r.status_code == 204, r.text
    for o in others:
        assert o.me().status_code == 401
    assert c.me().status_code == 200
    assert [i["current"] for i in c.get(SESSIONS).json()["items"]] == [True]
    assert psql("SELECT count(*) FROM audit.auth_events WHERE event = 'session.revoked' AND user_id = $1", c.id) == "2"


def test_another_users_session_cannot_be_ended_or_seen():
    a, b = account(), account()
    b_sid = [i["id"] for i in b.get(SESSIONS).json()["items"] if i["current"]][0]
    r = a.delete(SESSIONS + "/" + b_sid)
    assert r.status_code == 404
    assert b.me().status_code == 200
    assert b_sid not in [i["id"] for i in a.get(SESSIONS).json()["items"]]
    a.delete(SESSIONS)
    assert b.me().status_code == 200, "sign out everywhere else touches only one's own sessions"


def test_bad_input_and_callers():
    c = account()
    r = c.delete(SESSIONS + "/not-a-uuid")
    assert r.status_code == 404 and r.json()["error"]["message"] == "no such session"
    r = c.delete(SESSIONS, csrf=False)
    assert r.status_code == 403 and r.json()["error"]["code"] == "csrf_failed"
    assert len(c.get(SESSIONS).json()["items"]) == 1
    assert Client().get(SESSIONS).status_code == 401
    h = {"Authorization": "Bearer fcm_" + "A" * 43}
    assert Client().get(SESSIONS, headers=h).status_code == 403
    assert Client().delete(SESSIONS, headers=h).status_code == 403


def test_accepting_an_invitation_records_the_session_too():
    from test_invitations import accept, invite, wait_token
    admin = account()
    org = fc.create_org(admin)
    email = fc.unique_email("invitee")
    invite(admin, org, email, "read")
    n = Client()
    n.http.headers["User-Agent"] = "Invitee/1"
    r = accept(wait_token(email), n, {"name": "Invitee", "password": ah.new_password()})
    assert r.status_code == 201, r.text
    items = n.get(SESSIONS).json()["items"]
    assert [(i["user_agent"], i["ip"], i["current"]) for i in items] == [("Invitee/1", "127.0.0.1", True)]


def test_zz_no_token_or_password_in_logs():
    ah.assert_not_in_logs(ah.SECRETS + [t for t in fc.SECRETS if fc.TOKEN_RE.match(t or "")], minimum=5)
