"""finicomctl migrate is safe to run again: exit 0, nothing re-applied,
and finicom.schema_migrations lists exactly the files in sql/."""
import os
import pathlib
import subprocess

from conftest import REPO, superuser_psql


def _conninfo(env):
    return (f"host={env['PGHOST']} port={env['PGPORT']} dbname={env['PGDATABASE']} "
            f"user={env['PGUSER']}")


def _applied(env):
    rows = superuser_psql(env, "SELECT name || '|' || checksum || '|' || applied_at "
                               "FROM finicom.schema_migrations ORDER BY version")
    return rows.splitlines()


def test_schema_migrations_lists_the_sql_files(env):
    files = sorted(p.name for p in (REPO / "sql").glob("[0-9][0-9][0-9][0-9]_*.sql"))
    assert files, "no migrations in sql/"
    names = [row.split("|", 1)[0] for row in _applied(env)]
    assert names == files


def test_migrate_twice_changes_nothing(env):
    before = _applied(env)
    ctl = pathlib.Path(env["FINICOM_BUILD"]) / "src" / "finicomctl"
    run = subprocess.run([str(ctl), "migrate", "--database", _conninfo(env), "--sql-dir", str(REPO / "sql")],
                         capture_output=True, text=True, timeout=120, env=os.environ.copy())
    assert run.returncode == 0, run.stderr
    after = _applied(env)
    assert after == before  # same rows, same checksums, same applied_at


def test_migrate_rejects_a_bad_connection(env):
    ctl = pathlib.Path(env["FINICOM_BUILD"]) / "src" / "finicomctl"
    run = subprocess.run([str(ctl), "migrate", "--database", f"host={env['PGHOST']} port=1 dbname=finicom",
                          "--sql-dir", str(REPO / "sql")],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode != 0
    assert run.stderr.strip()


def _migrate(env, *args):
    ctl = pathlib.Path(env["FINICOM_BUILD"]) / "src" / "finicomctl"
    return subprocess.run([str(ctl), "migrate", "--database", _conninfo(env), "--sql-dir", str(REPO / "sql"),
                           *args], capture_output=True, text=True, timeout=120, env=os.environ.copy())


def test_migrate_to_a_version_already_applied_changes_nothing(env):
    # The database is at the latest version: --to an earlier one undoes
    # nothing and says so.  (Replaying step by step is deploy/dev test's
    # schema suite, on databases of its own.)
    before = _applied(env)
    assert len(before) >= 2, before
    first = before[0].split("|", 1)[0][:4]
    run = _migrate(env, "--to", first)
    assert run.returncode == 0, run.stderr
    assert f"migrations: 0 applied now, 1 up to {first}," in run.stdout
    assert f"past {first}; migrations are never undone" in run.stderr
    assert _applied(env) == before


def test_migrate_to_bad_version(env):
    before = _applied(env)
    invalid = [  # (VERSION, exit status, message)
        ("9999", 1, 'no migration 9999 in "'),
        ("12", 2, "--to needs a four-digit version"),
        ("0001_foundation.sql", 2, "--to needs a four-digit version"),
        ("", 2, "--to needs a four-digit version"),
    ]
    for version, status, message in invalid:
        run = _migrate(env, "--to", version)
        assert run.returncode == status, (version, run.stdout, run.stderr)
        assert message in run.stderr, (version, run.stderr)
        assert "applied" not in run.stdout, (version, run.stdout)
    assert _applied(env) == before
