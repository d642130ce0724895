"""Input fidelity and no 500 for client input (the v1.1 amendments).

- What a write accepts, the reads return exactly: a config nested up to the
  body's depth limit, numbers exactly (a 40-digit integer is not clamped to
  18446744073709551615), by GET list and GET by id.
- A request that answers an error changes nothing; nothing deeper than the
  limit commits.
- Duplicate keys are 400 invalid_json, \\u0000 anywhere is 400, a number
  that cannot be stored exactly is 400.
- Client input never answers 500: impossible cursor dates, huge exponents,
  configs too large once their secrets are encrypted, expires_at offsets of
  16 hours or more, an object created while its org is being deleted.
"""
import base64
import decimal
import json
import os
import subprocess
import sys
import threading
import time
import uuid

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import client as fc  # noqa: E402
from client import assert_error, create_org, psql, signup  # noqa: E402

RESOURCES = ("sources", "integrations", "destinations")
BODY_DEPTH = 32  # the body's nesting limit; a config sits one level below the body
JSON_HEADERS = {"Content-Type": "application/json"}


def path(org, suffix=""):
    return "/api/v1/orgs/%s%s" % (org["id"], suffix)


def exact(text):
    """Parse a reply keeping every number exact (Decimal for fractions)."""
    return json.loads(text, parse_float=decimal.Decimal)


def post_raw(who, org, kind, body):
    return who.post(path(org, "/" + kind), data=body.encode(), headers=JSON_HEADERS)


def rows(org, table="sources"):
    return int(psql("SELECT count(*) FROM finicom.%s WHERE org_id = $1" % table, org["id"]))


def nested_config(depth, leaf, arrays=False):
    """A config exactly `depth` levels deep (the config object itself is level 1), leaf at the bottom;
    with arrays, every other level is an array."""
    value = leaf
    while depth_of(value) < depth - 1:
        d = depth_of(value)
        value = [value] if arrays and d % 2 else {"k%d" % d: value}
    return {"top": value}


def depth_of(value):
    if isinstance(value, dict):
        return 1 + max([depth_of(v) for v in value.values()] or [0])
    if isinstance(value, list):
        return 1 + max([depth_of(v) for v in value] or [0])
    return 0


def read_back(who, org, kind, obj_id):
    """The object by id and the same object found in the list (both parsed exactly)."""
    one = who.get(path(org, "/%s/%s" % (kind, obj_id)))
    assert one.status_code == 200, (one.status_code, one.text[:300])
    listed, cursor = None, None
    while listed is None:
        page = who.get(path(org, "/" + kind), params={"limit": 200, **({"cursor": cursor} if cursor else {})})
        assert page.status_code == 200, (page.status_code, page.text[:300])
        body = exact(page.text)
        listed = next((it for it in body["items"] if it["id"] == obj_id), None)
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert listed is not None, "object %s is not in the list" % obj_id
    return exact(one.text), listed


@pytest.fixture(scope="module")
def team():
    admin = signup(name="Fidelity Admin")
    org = create_org(admin, "Fidelity " + uuid.uuid4().hex[:8])
    return admin, org


# --------------------------------------------------------------------------
# 1. what a write accepts, the reads return; nothing deeper commits


@pytest.mark.parametrize("kind", RESOURCES)
@pytest.mark.parametrize("arrays", [False, True], ids=["objects", "arrays"])
def test_config_at_depth_limit_is_read_back_exactly(team, kind, arrays):
    admin, org = team
    leaf = {"big": 12345678901234567890123456789012345678901, "neg": -98765432109876543210987654321,
            "frac": "0.1000000000000000055511151231257827021181583404541015625", "s": "é ✓ \"q\""}
    config = nested_config(BODY_DEPTH - 1, leaf, arrays)
    assert depth_of(config) == BODY_DEPTH - 1  # the body is BODY_DEPTH deep
    text = json.dumps({"name": "deep", "type": "postgres", "config": config})
    # the fraction goes in as a number, not a string
    text = text.replace('"0.1000000000000000055511151231257827021181583404541015625"',
                        "0.1000000000000000055511151231257827021181583404541015625")
    want = exact(json.dumps(config).replace(
        '"0.1000000000000000055511151231257827021181583404541015625"',
        "0.1000000000000000055511151231257827021181583404541015625"))
    r = post_raw(admin, org, kind, text)
    assert r.status_code == 201, (r.status_code, r.text[:300])
    created = exact(r.text)
    assert created["config"] == want
    one, listed = read_back(admin, org, kind, created["id"])
    assert one["config"] == want
    assert listed["config"] == want


@pytest.mark.parametrize("kind", RESOURCES)
def test_config_deeper_than_the_limit_is_refused_and_commits_nothing(team, kind):
    admin, org = team
    table = kind
    before = rows(org, table)
    for depth in (BODY_DEPTH, BODY_DEPTH + 1, BODY_DEPTH + 20):
        config = nested_config(depth, 1)
        assert depth_of(config) == depth
        r = admin.post(path(org, "/" + kind), {"name": "too deep", "type": "postgres", "config": config})
        assert_error(r, 400, "invalid_json")
    assert rows(org, table) == before


def test_patch_keeps_a_deep_config_and_its_secret(team):
    admin, org = team
    config = nested_config(BODY_DEPTH - 1, {"password": "hunter2", "n": 10 ** 40})
    assert depth_of(config) == BODY_DEPTH - 1
    r = admin.post(path(org, "/sources"), {"name": "deep secret", "type": "postgres", "config": config})
    assert r.status_code == 201, (r.status_code, r.text[:300])
    obj = exact(r.text)
    masked = json.loads(json.dumps(config).replace('"hunter2"', '"********"'))
    r = admin.patch(path(org, "/sources/" + obj["id"]), {"config": masked})
    assert r.status_code == 200, (r.status_code, r.text[:300])
    one, listed = read_back(admin, org, "sources", obj["id"])
    assert one["config"] == listed["config"] == masked
    stored = psql("SELECT config::text FROM finicom.sources WHERE id = $1", obj["id"])
    assert "hunter2" not in stored and "enc:v1:" in stored


# --------------------------------------------------------------------------
# 3. numbers exactly, or 400; duplicate keys and \u0000 are 400


NUMBERS = [
    "12345678901234567890123456789012345678901",
    "-12345678901234567890123456789012345678901",
    "18446744073709551616",
    "-9223372036854775809",
    "0.1000000000000000055511151231257827021181583404541015625",
    "1.50",
    "1e400",
    "-2.5E-300",
    "123456789012345678901234567890.123456789012345678901234567890",
]


@pytest.mark.parametrize("number", NUMBERS)
def test_numbers_are_stored_and_read_back_exactly(team, number):
    admin, org = team
    body = '{"name":"num","type":"postgres","config":{"n":%s,"list":[%s]}}' % (number, number)
    r = post_raw(admin, org, "sources", body)
    assert r.status_code == 201, (r.status_code, r.text[:300])
    want = decimal.Decimal(number)
    created = exact(r.text)
    one, listed = read_back(admin, org, "sources", created["id"])
    for obj in (created, one, listed):
        assert decimal.Decimal(obj["config"]["n"]) == want, obj["config"]
        assert decimal.Decimal(obj["config"]["list"][0]) == want, obj["config"]
    assert psql("SELECT (config->>'n')::numeric = $2::numeric FROM finicom.sources WHERE id = $1",
                created["id"], number) == "t"


@pytest.mark.parametrize("body", [
    '{"name":"n","type":"postgres","config":{"a":1e1000000}}',
    '{"name":"n","type":"postgres","config":{"a":1e-1000000}}',
    '{"name":"n","type":"postgres","config":{"a":1e20000}}',
    '{"name":"n","type":"postgres","config":{"a":1e999999999999999999999}}',
    '{"name":"n","type":"postgres","config":{"a":[1e16000, 1e16000]}}',
], ids=["e1000000", "e-1000000", "e20000", "e-absurd", "twice-e16000"])
def test_numbers_that_cannot_be_kept_are_400(team, body):
    admin, org = team
    before = rows(org)
    r = post_raw(admin, org, "sources", body)
    assert r.status_code == 400, (r.status_code, r.text[:300])
    assert_error(r, 400, r.json()["error"]["code"])
    assert r.json()["error"]["code"] in ("invalid_json", "validation_failed")
    assert rows(org) == before


@pytest.mark.parametrize("body", [
    '{"name":"n","type":"postgres","config":{"a":1,"a":2}}',
    '{"name":"n","type":"postgres","config":{"a":1,"\\u0061":2}}',
    '{"name":"n","type":"postgres","config":{"x":{"a":{},"b":1,"a":[1]}}}',
    '{"name":"n","type":"postgres","config":{"l":[{"p":1,"p":1}]}}',
    '{"name":"n","name":"m","type":"postgres"}',
], ids=["plain", "escaped", "nested", "in-array", "top-level"])
def test_duplicate_keys_are_invalid_json(team, body):
    admin, org = team
    before = rows(org)
    assert_error(post_raw(admin, org, "sources", body), 400, "invalid_json")
    assert rows(org) == before


@pytest.mark.parametrize("body", [
    '{"name":"n","type":"postgres","config":{"a":"x\\u0000y"}}',
    '{"name":"n","type":"postgres","config":{"a\\u0000b":1}}',
    '{"name":"n","type":"postgres","config":{"l":["\\u0000"]}}',
    '{"name":"n\\u0000","type":"postgres"}',
    '{"name":"n","type":"postgres","config":{"a":"\\ud800"}}',
    '{"name":"n","type":"postgres","config":{"a":"\\udc00\\ud800"}}',
], ids=["value", "key", "array", "name", "lone-high", "reversed-pair"])
def test_nul_and_lone_surrogates_are_400(team, body):
    admin, org = team
    before = rows(org)
    r = post_raw(admin, org, "sources", body)
    assert r.status_code == 400, (r.status_code, r.text[:300])
    assert_error(r, 400, "invalid_json")
    assert rows(org) == before


def test_a_surrogate_pair_is_a_character(team):
    admin, org = team
    r = post_raw(admin, org, "sources", '{"name":"n","type":"postgres","config":{"e":"\\ud83d\\ude00"}}')
    assert r.status_code == 201, (r.status_code, r.text[:300])
    assert r.json()["config"] == {"e": "\U0001F600"}


# Astral characters whose low 16 bits fall in D800..DFFF, written as escaped
# surrogate pairs (as Python's json.dumps writes every one of them): json-c
# 0.16 alone decodes these to U+FFFD, in keys ("an object has the same key
# twice") and in values (read back as U+FFFD).
ASTRAL = ["\U0001D800", "\U0001DA8B", "\U0001DF00", "\U0002D200", "\U0002DFFF", "\U0003D7FF",
          "\U0010DFFF", "\U0001F600"]


@pytest.mark.parametrize("kind", RESOURCES)
def test_escaped_astral_characters_read_back_exactly(team, kind):
    admin, org = team
    config = {c + "-key": [c, "x" + c + "y", {c: c * 2}] for c in ASTRAL}
    body = json.dumps({"name": "astral", "type": "postgres", "config": config})  # ensure_ascii: all escaped
    assert "\\ud836\\udc00" in body
    r = post_raw(admin, org, kind, body)
    assert r.status_code == 201, (r.status_code, r.text[:300])
    created = exact(r.content.decode("utf-8"))
    assert created["config"] == config
    one, listed = read_back(admin, org, kind, created["id"])
    assert one["config"] == config and listed["config"] == config
    # and the same key twice, once escaped and once raw, is still a duplicate
    dup = '{"name":"n","type":"postgres","config":{"\\ud836\\udc00":1,"\U0001D800":2}}'
    assert_error(post_raw(admin, org, kind, dup), 400, "invalid_json")


def test_long_keys_make_paths_of_any_length(team):
    """A config's keys may be as long as its 16 KiB allow, at any depth, with
    secrets below them: the path of a secret (its AAD) was once limited to
    4 KiB, and such configs were 400 whether they had secrets or not."""
    admin, org = team
    key = "a/b~c" + "k" * 4995
    config = {key: {key: [{"token": "t-1", "url": "pg://u:pw@h/db", "plain": "p"}]}, "n": 1}
    assert len(json.dumps(config, separators=(",", ":"))) < 16 * 1024
    masked = {key: {key: [{"token": "********", "url": "pg://u:********@h/db", "plain": "p"}]}, "n": 1}
    r = admin.post(path(org, "/sources"), {"name": "long keys", "type": "postgres", "config": config})
    assert r.status_code == 201, (r.status_code, r.text[:300])
    obj = r.json()
    assert obj["config"] == masked
    stored = psql("SELECT md5(config::text) FROM finicom.sources WHERE id = $1", obj["id"])
    assert psql("SELECT config::text LIKE '%t-1%' OR config::text LIKE '%:pw@%' FROM finicom.sources"
                " WHERE id = $1", obj["id"]) == "f"
    # sent back as read, every secret stays as stored
    r = admin.patch(path(org, "/sources/" + obj["id"]), {"config": masked})
    assert r.status_code == 200, (r.status_code, r.text[:300])
    one, listed = read_back(admin, org, "sources", obj["id"])
    assert one["config"] == listed["config"] == masked
    assert psql("SELECT md5(config::text) FROM finicom.sources WHERE id = $1", obj["id"]) == stored
    # a plain config with one key of 16 KB is fine too
    r = admin.post(path(org, "/sources"), {"name": "one long key", "type": "postgres",
                                           "config": {"k" * 16370: None}})
    assert r.status_code == 201, (r.status_code, r.text[:300])


@pytest.mark.parametrize("number", ["0e1073741823", "-0.0E+1073741823", "0.000e99999999999999999999",
                                    "0e-1073741823", "1e1073741823"])
def test_an_exponent_numeric_cannot_take_is_invalid_json(team, number):
    """PostgreSQL's numeric refuses an exponent of 1073741823 or more even
    for zero: the check says so (it was a 400 from the database, after the
    INSERT had been sent)."""
    admin, org = team
    before = rows(org)
    r = post_raw(admin, org, "sources", '{"name":"n","type":"postgres","config":{"z":%s}}' % number)
    assert_error(r, 400, "invalid_json")
    assert rows(org) == before


def test_zero_with_the_largest_exponent_is_zero(team):
    admin, org = team
    r = post_raw(admin, org, "sources", '{"name":"n","type":"postgres","config":{"z":[0e1073741822,-0.0E+01073741822]}}')
    assert r.status_code == 201, (r.status_code, r.text[:300])
    one, listed = read_back(admin, org, "sources", r.json()["id"])
    assert one["config"] == listed["config"] == {"z": [0, 0]}


def test_a_refused_patch_changes_nothing(team):
    admin, org = team
    obj = admin.post(path(org, "/sources"), {"name": "keep", "type": "postgres", "config": {"a": 1}}).json()
    for body in ('{"config":{"a":1,"a":2}}', '{"config":{"a":"\\u0000"}}', '{"config":{"a":1e1000000}}',
                 '{"name":"other","config":{"a":[{"password":0}' + ',{"password":0}' * 999 + ']}}'):
        r = admin.patch(path(org, "/sources/" + obj["id"]), data=body.encode(), headers=JSON_HEADERS)
        assert r.status_code == 400, (r.status_code, r.text[:300])
    one, listed = read_back(admin, org, "sources", obj["id"])
    assert one["name"] == "keep" and one["config"] == {"a": 1} and listed["config"] == {"a": 1}


# --------------------------------------------------------------------------
# 2. no 500 for client input


def cursor(text):
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


BAD_TIMES = ["2026-13-01T00:00:00.000000Z", "0000-01-01T00:00:00.000000Z", "2026-02-30T00:00:00.000000Z",
             "2025-02-29T00:00:00.000000Z", "2026-04-31T00:00:00.000000Z", "2026-00-10T00:00:00.000000Z",
             "2026-01-00T00:00:00.000000Z", "2026-01-01T24:00:00.000000Z", "2026-01-01T23:60:00.000000Z",
             "2026-01-01T23:59:60.000000Z"]


@pytest.mark.parametrize("when", BAD_TIMES)
@pytest.mark.parametrize("listing", ["/sources", "/connections", "/api-keys", "/members", "/audit-events"])
def test_cursor_with_an_impossible_date_is_400(team, listing, when):
    admin, org = team
    c = cursor(when + "," + str(uuid.uuid4()))
    assert_error(admin.get(path(org, listing), params={"cursor": c}), 400, "validation_failed", "cursor")


def test_cursor_on_a_leap_day_is_fine(team):
    admin, org = team
    c = cursor("2024-02-29T23:59:59.999999Z," + str(uuid.uuid4()))
    r = admin.get(path(org, "/sources"), params={"cursor": c})
    assert r.status_code == 200, (r.status_code, r.text[:300])


def test_config_too_large_once_encrypted_is_400(team):
    admin, org = team
    before = rows(org)
    config = {"a": [{"password": 0}] * 1000}
    assert len(json.dumps(config, separators=(",", ":"))) < 16 * 1024
    r = admin.post(path(org, "/sources"), {"name": "many secrets", "type": "postgres", "config": config})
    assert_error(r, 400, "validation_failed", "config")
    assert rows(org) == before
    # a few secrets are fine
    r = admin.post(path(org, "/sources"), {"name": "some secrets", "type": "postgres",
                                           "config": {"a": [{"password": 0}] * 100}})
    assert r.status_code == 201, (r.status_code, r.text[:300])


@pytest.mark.parametrize("expires_at", ["2030-01-01T00:00:00+16:00", "2030-01-01T00:00:00-16:00",
                                        "2030-01-01T00:00:00+23:59", "2030-01-01T00:00:00-20:30",
                                        "2030-02-29T00:00:00Z", "0000-01-01T00:00:00Z"])
def test_api_key_expires_at_postgresql_cannot_take_is_400(team, expires_at):
    admin, org = team
    before = rows(org, "api_keys")
    r = admin.post(path(org, "/api-keys"), {"name": "k", "role": "read", "expires_at": expires_at})
    assert_error(r, 400, "validation_failed", "expires_at")
    assert rows(org, "api_keys") == before


def test_api_key_expires_at_with_the_largest_offset_is_fine(team):
    admin, org = team
    r = admin.post(path(org, "/api-keys"), {"name": "k", "role": "read", "expires_at": "2030-01-01T00:00:00+15:59"})
    assert r.status_code == 201, (r.status_code, r.text[:300])
    assert fc.parse_ts(r.json()["expires_at"]).isoformat() == "2029-12-31T08:01:00+00:00"


def _psql_session():
    return subprocess.Popen(
        ["/usr/bin/psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", fc.PGHOST, "-p", str(fc.PGPORT),
         "-d", fc.PGDATABASE, "-U", fc.PGUSER],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _lock_waiters():
    return int(psql("SELECT count(*) FROM pg_stat_activity WHERE usename = 'finicom_app'"
                    " AND wait_event_type = 'Lock'"))


@pytest.mark.parametrize("kind", ["sources", "api-keys"])
def test_create_while_the_org_is_being_deleted_is_404(kind):
    admin = signup(name="Doomed Admin")
    org = create_org(admin, "Doomed " + uuid.uuid4().hex[:8])
    body = ({"name": "late", "type": "postgres", "config": {}} if kind == "sources"
            else {"name": "late", "role": "read"})
    session = _psql_session()
    result = {}
    try:
        session.stdin.write("BEGIN;\nDELETE FROM finicom.orgs WHERE id = '%s';\nSELECT pg_sleep(0);\n" % org["id"])
        session.stdin.flush()
        deadline = time.monotonic() + 10
        while psql("SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid)"
                   " WHERE a.usename = $1 AND l.locktype = 'transactionid' AND l.mode = 'ExclusiveLock'"
                   " AND a.state = 'idle in transaction'", fc.PGUSER) == "0":
            assert time.monotonic() < deadline, "the psql session did not start deleting"
            time.sleep(0.05)
        waiting_before = _lock_waiters()

        def create():
            result["r"] = admin.post(path(org, "/" + kind), body)

        t = threading.Thread(target=create)
        t.start()
        deadline = time.monotonic() + 10
        while _lock_waiters() <= waiting_before and t.is_alive():
            assert time.monotonic() < deadline, "the request never waited for the delete"
            time.sleep(0.05)
        session.stdin.write("COMMIT;\n")
        session.stdin.flush()
        t.join(15)
    finally:
        session.stdin.close()
        session.wait(15)
    r = result["r"]
    assert 400 <= r.status_code < 500, (r.status_code, r.text[:300])
    assert_error(r, 404, "not_found")
    assert psql("SELECT count(*) FROM finicom.sources WHERE org_id = $1", org["id"]) == "0"
