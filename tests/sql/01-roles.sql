-- 01-roles: the five roles of README "The database" and what they may not do.
--
-- finicom_owner owns everything; finicom_app (the workers), finicom_auth
-- (the auth processes), finicom_mailer and finicom_auditor log in, own
-- nothing, are not superusers, cannot bypass row-level security and are not
-- members of the owner (which would give them the owner's rights back).
-- Run by pg_prove as a superuser.
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
SELECT plan(36);

SELECT has_role('finicom_owner');
SELECT has_role('finicom_app');
SELECT has_role('finicom_auth');
SELECT has_role('finicom_mailer');
SELECT has_role('finicom_auditor');

SELECT ok((SELECT rolcanlogin FROM pg_roles WHERE rolname = 'finicom_app'), 'finicom_app can log in');
SELECT ok((SELECT rolcanlogin FROM pg_roles WHERE rolname = 'finicom_auth'), 'finicom_auth can log in');
SELECT ok((SELECT rolcanlogin FROM pg_roles WHERE rolname = 'finicom_mailer'), 'finicom_mailer can log in');
SELECT ok((SELECT rolcanlogin FROM pg_roles WHERE rolname = 'finicom_auditor'), 'finicom_auditor can log in');

SELECT isnt_superuser('finicom_owner');
SELECT isnt_superuser('finicom_app');
SELECT isnt_superuser('finicom_auth');
SELECT isnt_superuser('finicom_mailer');
SELECT isnt_superuser('finicom_auditor');

SELECT is((SELECT rolbypassrls FROM pg_roles WHERE rolname = 'finicom_owner'), false, 'finicom_owner has no BYPASSRLS');
SELECT is((SELECT rolbypassrls FROM pg_roles WHERE rolname = 'finicom_app'), false, 'finicom_app has no BYPASSRLS');
SELECT is((SELECT rolbypassrls FROM pg_roles WHERE rolname = 'finicom_auth'), false, 'finicom_auth has no BYPASSRLS');
SELECT is((SELECT rolbypassrls FROM pg_roles WHERE rolname = 'finicom_mailer'), false, 'finicom_mailer has no BYPASSRLS');
SELECT is((SELECT rolbypassrls FROM pg_roles WHERE rolname = 'finicom_auditor'), false, 'finicom_auditor has no BYPASSRLS');

SELECT ok(NOT pg_has_role('finicom_app', 'finicom_owner', 'MEMBER'), 'finicom_app is not a member of finicom_owner');
SELECT ok(NOT pg_has_role('finicom_auth', 'finicom_owner', 'MEMBER'), 'finicom_auth is not a member of finicom_owner');
SELECT ok(NOT pg_has_role('finicom_mailer', 'finicom_owner', 'MEMBER'), 'finicom_mailer is not a member of finicom_owner');
SELECT ok(NOT pg_has_role('finicom_auditor', 'finicom_owner', 'MEMBER'), 'finicom_auditor is not a member of finicom_owner');

-- The workers' role owns nothing: a table's owner skips row-level security.
SELECT is((SELECT count(*)::int FROM pg_class WHERE relowner = 'finicom_app'::regrole), 0,
          'finicom_app owns no relation');
SELECT is((SELECT count(*)::int FROM pg_namespace WHERE nspowner = 'finicom_app'::regrole), 0,
          'finicom_app owns no schema');
SELECT is((SELECT count(*)::int FROM pg_proc WHERE proowner = 'finicom_app'::regrole), 0,
          'finicom_app owns no function');
SELECT is((SELECT count(*)::int FROM pg_type WHERE typowner = 'finicom_app'::regrole), 0,
          'finicom_app owns no type');
SELECT is((SELECT count(*)::int
             FROM (SELECT relowner AS o FROM pg_class
                   UNION ALL SELECT nspowner FROM pg_namespace
                   UNION ALL SELECT proowner FROM pg_proc) owned
            WHERE o IN ('finicom_auth'::regrole, 'finicom_mailer'::regrole, 'finicom_auditor'::regrole)), 0,
          'finicom_auth, finicom_mailer and finicom_auditor own nothing');

SELECT has_schema('finicom');
SELECT has_schema('audit');
SELECT schema_owner_is('finicom', 'finicom_owner');
SELECT schema_owner_is('audit', 'finicom_owner');

-- The migrations table: one row per applied file, versions 0001..N in order.
SELECT has_table('finicom', 'schema_migrations', 'finicom.schema_migrations exists');
SELECT ok((SELECT count(*) > 0 FROM finicom.schema_migrations), 'schema_migrations lists applied migrations');
SELECT is((SELECT count(*)::int FROM finicom.schema_migrations
            WHERE name !~ '^[0-9]{4}_[a-z0-9_]+\.sql$'
               OR left(name, 4) <> version), 0,
          'schema_migrations rows are NNNN_name.sql files named by their version');
SELECT is((SELECT array_agg(v ORDER BY v)
             FROM (SELECT to_char(n, 'FM0000') AS v
                     FROM generate_series(1, (SELECT max(version::int) FROM finicom.schema_migrations)) n) want
            WHERE v NOT IN (SELECT version FROM finicom.schema_migrations)), NULL,
          'schema_migrations rows are numbered 0001..N without gaps');

SELECT * FROM finish();
ROLLBACK;
