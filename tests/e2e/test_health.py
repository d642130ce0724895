"""GET /livez and GET /readyz.

/livez: the process answers, whatever the database does.  /readyz: the
database answers and is migrated at least to the highest migration the
binary was built with (sql/NNNN_*.sql); 503 with a JSON reason otherwise:
while PostgreSQL is stopped, and while finicom.schema_migrations lacks the
newest migration (the test takes its row out and puts it back)."""
import pathlib
import re

import pytest
import requests

from conftest import superuser_psql, wait_until
from test_metrics import _dev, fresh_children

REPO = pathlib.Path(__file__).resolve().parents[2]


def expected_version():
    """The highest NNNN of the migrations in Makefile.am (what the build knows)."""
    text = (REPO / "Makefile.am").read_text()
    return max(int(n) for n in re.findall(r"sql/(\d{4})_\w+\.sql", text))


def test_livez(base_url):
    r = requests.get(base_url + "/livez", timeout=5)
    assert r.status_code == 200
    assert r.json() == {"status": "alive"}
    assert r.headers["Content-Type"] == "application/json"


def test_readyz_when_migrated(base_url):
    r = requests.get(base_url + "/readyz", timeout=5)
    assert r.status_code == 200, r.text
    want = expected_version()
    assert r.json() == {"status": "ready", "reason": None, "schema_version": r.json()["schema_version"],
                        "expected_schema_version": want}
    assert r.json()["schema_version"] >= want


def test_readyz_503_while_the_schema_is_behind(env, base_url):
    top = superuser_psql(env, "SELECT max(version) FROM finicom.schema_migrations")
    row = superuser_psql(env, "SELECT name || '|' || checksum || '|' || applied_at FROM "
                              f"finicom.schema_migrations WHERE version = '{top}'")
    name, checksum, applied_at = row.split("|")
    try:
        superuser_psql(env, f"DELETE FROM finicom.schema_migrations WHERE version = '{top}'")
        r = requests.get(base_url + "/readyz", timeout=5)
        assert r.status_code == 503, r.text
        body = r.json()
        assert body["status"] == "not_ready" and body["reason"] == "schema_behind", body
        assert body["schema_version"] < body["expected_schema_version"] == expected_version(), body
        # Alive all the same, and /healthz (the database answers) too.
        assert requests.get(base_url + "/livez", timeout=5).status_code == 200
        assert requests.get(base_url + "/healthz", timeout=5).status_code == 200
    finally:
        superuser_psql(env, "INSERT INTO finicom.schema_migrations (version, name, checksum, applied_at) "
                            f"VALUES ('{top}', '{name}', '{checksum}', '{applied_at}') ON CONFLICT DO NOTHING")
    assert requests.get(base_url + "/readyz", timeout=5).status_code == 200


@pytest.mark.destructive
def test_readyz_503_and_livez_200_while_postgresql_is_stopped(env, base_url):
    try:
        _dev(env, "pg-stop")

        def unready():
            r = requests.get(base_url + "/readyz", timeout=5)
            return [r] if r.status_code == 503 else None  # a Response of a 503 is false

        got = wait_until(unready, 5)
        assert got, "/readyz did not turn 503 with PostgreSQL stopped"
        r = got[0]
        assert r.json()["status"] == "unavailable" and r.json()["reason"] == "database_unreachable", r.text
        live = requests.get(base_url + "/livez", timeout=5)
        assert live.status_code == 200 and live.json() == {"status": "alive"}
    finally:
        _dev(env, "pg-start")
    assert wait_until(lambda: requests.get(base_url + "/readyz", timeout=5).status_code == 200, 10)
    fresh_children(env, base_url)
