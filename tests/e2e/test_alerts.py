"""Activity alerts (docs/alerts.md, sql/0026_alerts.sql): the four endpoints,
and each rule firing from real events made through nginx (or psql for
db_change, a tampered chain and the real pg_cron job for
audit_chain_broken), with its mail in the SMTP sink going to the org's
admins and to nobody else."""
import time
import uuid

from client import (Client, add_member, assert_error, create_org, create_user_sql, parse_ts, psql, signup,
                    _mail_index, UUID_RE)
from conftest import wait_until

RULES = ["admin_granted", "admin_api_key_created", "mass_removal", "failed_logins", "db_change",
         "audit_chain_broken"]


def alerts_path(org, suffix=""):
    return "/api/v1/orgs/%s/alerts%s" % (org["id"], suffix)


def rules_path(org):
    return "/api/v1/orgs/%s/alert-rules" % org["id"]


def alert_mails(org, timeout=0.0):
    """The alert mails of org in the sink: [(recipients, subject, body)], waiting up to timeout
    for at least one."""
    deadline = time.monotonic() + timeout
    while True:
        got = [(m[0], m[1], m[2]) for m in _mail_index()
               if m[1].startswith("Finicom alert in %s:" % org["name"])]
        if got or time.monotonic() >= deadline:
            return got
        time.sleep(0.1)


def wait_mail_count(org, n, timeout=30):
    assert wait_until(lambda: len(alert_mails(org)) >= n, timeout, 0.1), (n, alert_mails(org))
    time.sleep(0.5)  # and no more arrive
    return alert_mails(org)


def alerts(client, org, status="all"):
    r = client.get(alerts_path(org), params={"status": status})
    assert r.status_code == 200, r.text
    return r.json()["items"]


def team():
    """An org (named uniquely, so its mail can be told apart) with admin A, a second admin A2,
    writer W and reader R, all signed in."""
    a = signup(name="Alert Admin")
    org = create_org(a, "Alerts " + uuid.uuid4().hex[:10])
    a2, w, r = signup(name="Second Admin"), signup(name="Alert Writer"), signup(name="Alert Reader")
    add_member(org, a2, "admin")
    add_member(org, w, "write")
    add_member(org, r, "read")
    # add_member works in psql: that raised db_change and admin_granted, mailed to A
    # and A2 (later adds joined the open db_change alert).
    assert len(wait_mail_count(org, 4)) == 4
    settle(org, a)
    return org, a, a2, w, r


def settle(org, admin):
    """After a fixture's psql changes: wait until the org's mail is sent, acknowledge its
    open alerts and date every alert 11 minutes back, as if that setup were long past
    (the next alert of a rule is then mailed again: at most one mail per rule per org
    per 10 minutes)."""
    assert wait_until(lambda: psql("SELECT count(*) FROM finicom.mail_outbox WHERE org_id = $1"
                                   " AND status = 'queued'", org["id"]) == "0", 30, 0.1)
    time.sleep(0.3)
    for al in alerts(admin, org, "open"):
        assert admin.post(alerts_path(org, "/%s/acknowledge" % al["id"])).status_code == 200
    psql("UPDATE finicom.alerts SET at = at - interval '11 minutes' WHERE org_id = $1", org["id"])


def only_admins_mailed(org, mails, admins, others):
    rcpts = [m[0] for m in mails]
    for adm in admins:
        assert sum(adm.email.lower() in x for x in rcpts) == 1, (adm.email, rcpts)
    for o in others:
        assert not any(o.email.lower() in x for x in rcpts), (o.email, rcpts)
    assert len(mails) == len(admins), rcpts


# ---------------------------------------------------------------- endpoints

def test_alert_rules_default_on_and_toggle():
    a = signup(name="Rules Admin")
    org = create_org(a)
    r = a.get(rules_path(org))
    assert r.status_code == 200
    assert r.json() == {"rules": [{"rule": x, "enabled": True} for x in RULES]}
    r = a.patch(rules_path(org), {"db_change": False, "mass_removal": False})
    assert r.status_code == 200, r.text
    want = {x: x not in ("db_change", "mass_removal") for x in RULES}
    assert r.json() == {"rules": [{"rule": x, "enabled": want[x]} for x in RULES]}
    assert a.get(rules_path(org)).json() == r.json()
    r = a.patch(rules_path(org), {"db_change": True})
    assert [x["enabled"] for x in r.json()["rules"]] == [True, True, False, True, True, True]
    events = a.get("/api/v1/orgs/%s/audit-events" % org["id"], params={"action": "alert_rule.updated"}).json()
    assert sorted((e["details"]["rule"], e["details"]["enabled"]) for e in events["items"]) == \
        [("db_change", False), ("db_change", True), ("mass_removal", False)]
    assert {e["actor"]["id"] for e in events["items"]} == {a.id}


def test_alert_rules_bad_input_is_400_and_changes_nothing():
    a = signup(name="Rules Bad")
    org = create_org(a)
    before = a.get(rules_path(org)).json()
    for body, field in [({"bogus_rule": True}, "bogus_rule"), ({"db_change": 1}, "db_change"),
                        ({"db_change": "false"}, "db_change"), ({"failed_logins": None}, "failed_logins"),
                        ({"db_change": False, "nope": False}, "nope")]:
        assert_error(a.patch(rules_path(org), body), 400, "validation_failed", field)
    assert_error(a.patch(rules_path(org), {}), 400, "validation_failed")
    assert a.get(rules_path(org)).json() == before


def test_alert_endpoints_are_admin_only_and_org_scoped():
    org, a, a2, w, r = team()
    other = signup(name="Outsider")
    other_org = create_org(other)
    for c, status in [(w, 403), (r, 403), (other, 404)]:
        assert c.get(alerts_path(org)).status_code == status
        assert c.get(rules_path(org)).status_code == status
        assert c.patch(rules_path(org), {"db_change": False}).status_code == status
    some = alerts(a, org, "all")[0]
    assert w.post(alerts_path(org, "/%s/acknowledge" % some["id"])).status_code == 403
    # Another org's alert id under this org's path is unknown here.
    add_member(other_org, create_user_sql(), "read")  # a db_change in other_org
    their_id = alerts(other, other_org, "open")[0]["id"]
    assert_error(a.post(alerts_path(org, "/%s/acknowledge" % their_id)), 404, "not_found")
    assert alerts(other, other_org, "open")[0]["status"] == "open"
    assert_error(a.post(alerts_path(org, "/not-a-uuid/acknowledge")), 404, "not_found")
    assert_error(a.get(alerts_path(org), params={"status": "closed"}), 400, "validation_failed", "status")
    assert_error(a.get(alerts_path(org), params={"limit": "0"}), 400, "validation_failed", "limit")


def test_list_filter_and_acknowledge():
    org, a, a2, w, r = team()
    acked = alerts(a, org, "acknowledged")
    assert len(acked) == 2 and alerts(a, org, "open") == []
    psql("UPDATE finicom.orgs SET invite_ttl_hours = 99 WHERE id = $1", org["id"])  # db_change (new: the old one is acknowledged)
    open_ = alerts(a, org, "open")
    assert [x["rule"] for x in open_] == ["db_change"]
    al = open_[0]
    assert set(al) == {"id", "rule", "at", "summary", "event_ids", "status", "acknowledged_by", "acknowledged_at"}
    assert UUID_RE.match(al["id"]) and al["status"] == "open"
    assert al["acknowledged_by"] is None and al["acknowledged_at"] is None
    parse_ts(al["at"])
    ev = a.get("/api/v1/orgs/%s/audit-events" % org["id"], params={"action": "org.updated"}).json()["items"]
    assert al["event_ids"] == [ev[0]["id"]] and ev[0]["actor"]["type"] == "db"
    assert "org.updated" in al["summary"]
    r1 = a2.post(alerts_path(org, "/%s/acknowledge" % al["id"]))
    assert r1.status_code == 200, r1.text
    got = r1.json()
    assert got["status"] == "acknowledged" and got["acknowledged_by"] == {"type": "user", "id": a2.id,
                                                                           "label": a2.email}
    assert parse_ts(got["acknowledged_at"]) >= parse_ts(got["at"])
    again = a.post(alerts_path(org, "/%s/acknowledge" % al["id"]))
    assert again.status_code == 200 and again.json() == got  # the first acknowledgement stays
    assert alerts(a, org, "open") == []
    everything = alerts(a, org, "all")
    assert len(everything) == 3 and everything[0]["id"] == al["id"]  # newest first
    assert [x["at"] for x in everything] == sorted((x["at"] for x in everything), reverse=True)
    page = a.get(alerts_path(org), params={"limit": 2}).json()
    assert len(page["items"]) == 2 and page["next_cursor"]
    rest = a.get(alerts_path(org), params={"limit": 2, "cursor": page["next_cursor"]}).json()
    assert [x["id"] for x in page["items"] + rest["items"]] == [x["id"] for x in everything]
    ev = a.get("/api/v1/orgs/%s/audit-events" % org["id"], params={"action": "alert.acknowledged"}).json()
    assert al["id"] in [e["target"]["id"] for e in ev["items"]]


# ---------------------------------------------------------------- rules

def test_admin_granted_through_the_api_mails_the_admins_only():
    org, a, a2, w, r = team()
    before = len(alert_mails(org))
    resp = a.patch("/api/v1/orgs/%s/members/%s" % (org["id"], w.id), {"role": "admin"})
    assert resp.status_code == 200, resp.text
    mails = wait_mail_count(org, before + 3)[before:]
    only_admins_mailed(org, mails, [a, a2, w], [r])  # w is an admin now
    al = alerts(a, org, "open")
    assert [x["rule"] for x in al] == ["admin_granted"]
    assert w.email in al[0]["summary"] and al[0]["id"] in mails[0][2]
    # A second promotion within 10 minutes joins the open alert, without mail.
    assert a.patch("/api/v1/orgs/%s/members/%s" % (org["id"], r.id), {"role": "admin"}).status_code == 200
    time.sleep(1.5)
    assert len(alert_mails(org)) == before + 3
    al = alerts(a, org, "open")
    assert len(al) == 1 and len(al[0]["event_ids"]) == 2


def test_admin_api_key_created():
    org, a, a2, w, r = team()
    before = len(alert_mails(org))
    assert a.post("/api/v1/orgs/%s/api-keys" % org["id"], {"name": "ci", "role": "write"}).status_code == 201
    assert a.post("/api/v1/orgs/%s/api-keys" % org["id"], {"name": "root", "role": "admin"}).status_code == 201
    mails = wait_mail_count(org, before + 2)[before:]
    only_admins_mailed(org, mails, [a, a2], [w, r])
    al = alerts(a, org, "open")
    assert [x["rule"] for x in al] == ["admin_api_key_created"]  # the write key raised nothing
    assert '"root"' in al[0]["summary"] and a.email in al[0]["summary"]


def test_mass_removal():
    org, a, a2, w, r = team()
    extra = [create_user_sql() for _ in range(6)]
    for u in extra:
        add_member(org, u, "read")
    settle(org, a)  # the db_change of the psql adds
    before = len(alert_mails(org))
    for u in extra[:4]:
        assert a.delete("/api/v1/orgs/%s/members/%s" % (org["id"], u)).status_code == 204
    assert alerts(a, org, "open") == []
    assert a.delete("/api/v1/orgs/%s/members/%s" % (org["id"], extra[4])).status_code == 204
    al = alerts(a, org, "open")
    assert [x["rule"] for x in al] == ["mass_removal"] and len(al[0]["event_ids"]) == 5
    assert al[0]["summary"] == "5 members removed in 10 minutes"
    mails = wait_mail_count(org, before + 2)[before:]
    only_admins_mailed(org, mails, [a, a2], [w, r])
    assert a.delete("/api/v1/orgs/%s/members/%s" % (org["id"], extra[5])).status_code == 204
    al = alerts(a, org, "open")
    assert len(al) == 1 and len(al[0]["event_ids"]) == 6 and al[0]["summary"].startswith("6 ")
    time.sleep(1.5)
    assert len(alert_mails(org)) == before + 2  # grouped: no new mail


def test_failed_logins_through_nginx_alert_every_org_of_the_member():
    """Ten real bad passwords for a member's email (the login throttle answers 429 in
    between: we wait its Retry-After, as a patient attacker would), and the alert is
    raised in each org the member belongs to, mailed to those orgs' admins."""
    org, a, a2, w, r = team()
    other_admin = signup(name="Other Admin")
    org2 = create_org(other_admin, "Alerts2 " + uuid.uuid4().hex[:10])
    add_member(org2, r, "read")
    settle(org2, other_admin)
    before1, before2 = len(alert_mails(org)), len(alert_mails(org2))
    attacker = Client()
    failures, started = 0, time.monotonic()
    while failures < 10:
        assert time.monotonic() - started < 70, "ten failed logins took too long"
        resp = attacker.login(r.email, "wrong-password-%d" % failures)
        if resp.status_code == 429:
            time.sleep(min(30, int(resp.headers.get("Retry-After", "1"))))
            continue
        assert_error(resp, 401, "invalid_credentials")
        failures += 1
        if failures == 9:
            assert alerts(a, org, "open") == []
    al1, al2 = alerts(a, org, "open"), alerts(other_admin, org2, "open")
    assert [x["rule"] for x in al1] == ["failed_logins"] and [x["rule"] for x in al2] == ["failed_logins"]
    assert len(al1[0]["event_ids"]) == 10 and r.email in al1[0]["summary"]
    ids = psql("SELECT string_agg(id::text, ',' ORDER BY at, id) FROM audit.auth_events"
               " WHERE user_id = $1 AND event = 'login.failed'", r.id).split(",")
    assert al1[0]["event_ids"] == ids
    only_admins_mailed(org, wait_mail_count(org, before1 + 2)[before1:], [a, a2], [w, r])
    only_admins_mailed(org2, wait_mail_count(org2, before2 + 1)[before2:], [other_admin], [r, a])


def test_db_change_from_psql():
    org, a, a2, w, r = team()
    before = len(alert_mails(org))
    src = a.post("/api/v1/orgs/%s/sources" % org["id"], {"name": "pg", "type": "postgres", "config": {}})
    assert src.status_code == 201
    assert alerts(a, org, "open") == []  # a change through the API is no db_change
    psql("UPDATE finicom.sources SET name = 'renamed by a DBA' WHERE id = $1", src.json()["id"])
    al = alerts(a, org, "open")
    assert [x["rule"] for x in al] == ["db_change"]
    assert al[0]["summary"] == "source.updated by database role postgres, not through the API"
    mails = wait_mail_count(org, before + 2)[before:]
    only_admins_mailed(org, mails, [a, a2], [w, r])
    assert "db_change" in mails[0][2] and "renamed" not in mails[0][1]
    # Turned off, a psql change raises nothing.
    assert a.patch(rules_path(org), {"db_change": False}).status_code == 200
    a.post(alerts_path(org, "/%s/acknowledge" % al[0]["id"]))
    psql("UPDATE finicom.sources SET name = 'again' WHERE id = $1", src.json()["id"])
    assert alerts(a, org, "open") == []


def test_a_broken_rule_never_fails_a_member_removal():
    """The rule code runs in a subtransaction: replace the function every rule calls
    with one that fails, and removing members through the API still works."""
    org, a, a2, w, r = team()
    original = psql("SELECT pg_get_functiondef('finicom.alert_raise(uuid, text, uuid[], text)'::regprocedure)")
    psql("CREATE OR REPLACE FUNCTION finicom.alert_raise(p_org uuid, p_rule text, p_event_ids uuid[],"
         " p_summary text) RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''"
         " AS $f$ BEGIN RAISE EXCEPTION 'a bug in a rule'; END $f$")
    try:
        users = [create_user_sql() for _ in range(5)]
        for u in users:
            add_member(org, u, "admin")
        for u in users:
            assert a.delete("/api/v1/orgs/%s/members/%s" % (org["id"], u)).status_code == 204
    finally:
        psql(original)
    assert alerts(a, org, "open") == []
    assert psql("SELECT count(*) FROM audit.events WHERE org_id = $1 AND action = 'member.removed'",
                org["id"]) == "5"


def test_audit_chain_broken_by_the_real_pg_cron_job():
    """Tamper with a sealed event; the org's next event moves its head, and the
    finicom-verify-audit-recent job (every minute) finds the break at its next tick."""
    org, a, a2, w, r = team()
    assert a.patch("/api/v1/orgs/%s" % org["id"], {"invite_ttl_hours": 50}).status_code == 200
    assert wait_until(lambda: psql("SELECT count(*) FROM audit.events WHERE org_id = $1 AND seq IS NULL",
                                   org["id"]) == "0", 10, 0.1)
    victim = psql("SELECT id FROM audit.events WHERE org_id = $1 AND action = 'org.updated' AND seq IS NOT NULL",
                  org["id"])
    psql("BEGIN; ALTER TABLE audit.events DISABLE TRIGGER events_append_only; "
         "UPDATE audit.events SET details = '{\"tampered\": true}' WHERE id = $1; "
         "ALTER TABLE audit.events ENABLE TRIGGER events_append_only; COMMIT", victim)
    before = len(alert_mails(org))
    assert a.patch("/api/v1/orgs/%s" % org["id"], {"invite_ttl_hours": 51}).status_code == 200
    assert wait_until(lambda: any(x["rule"] == "audit_chain_broken" for x in alerts(a, org, "open")), 75, 1), \
        psql("SELECT jobid, status, return_message FROM cron.job_run_details d JOIN cron.job j USING (jobid)"
             " WHERE j.jobname = 'finicom-verify-audit-recent' ORDER BY start_time DESC LIMIT 2")
    al = [x for x in alerts(a, org, "open") if x["rule"] == "audit_chain_broken"]
    assert len(al) == 1 and al[0]["event_ids"] == [victim]
    assert al[0]["summary"].endswith("the event was changed after it was written")
    only_admins_mailed(org, wait_mail_count(org, before + 2)[before:], [a, a2], [w, r])


def test_audit_chain_check_function_is_bounded_and_quiet_on_intact_chains():
    org, a, a2, w, r = team()
    for i in range(3):
        assert a.patch("/api/v1/orgs/%s" % org["id"], {"invite_ttl_hours": 60 + i}).status_code == 200
    psql("SELECT audit.seal_pending($1)", org["id"])
    assert psql("SELECT audit.verify_recent_chains(1000, 1, $1)", org["id"]) == "1"
    assert psql("SELECT head_seq = (SELECT seq FROM audit.chain_heads WHERE org_id = $1) AND bad_seq IS NULL"
                " FROM audit.chain_checks WHERE org_id = $1", org["id"]) == "t"
    assert not any(x["rule"] == "audit_chain_broken" for x in alerts(a, org, "all"))
    # Only the last two events: the segment check reports how many it checked.
    head = int(psql("SELECT seq FROM audit.chain_heads WHERE org_id = $1", org["id"]))
    assert psql("SELECT ok::text || ' ' || events FROM audit.verify_chain_from($1, $2)", org["id"],
                head - 1) == "true 2"
