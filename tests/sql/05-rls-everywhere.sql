-- 05-rls-everywhere: catalog checks that hold for every object of the
-- finicom and audit schemas, including those later migrations add without
-- touching this file (issue 4, "Tests"; README "The database"):
--   * every table has row-level security enabled and forced, and is owned
--     by finicom_owner;
--   * the roles that log in own nothing, are not superusers and cannot
--     bypass row-level security;
--   * every SECURITY DEFINER function pins its search_path, to schemas no
--     one else can create objects in;
--   * no function is executable by PUBLIC.
-- Each check lists the offenders, so a failure names them.
CREATE EXTENSION IF NOT EXISTS pgtap;

BEGIN;
SELECT plan(12);

SELECT is(
    (SELECT array_agg(c.oid::regclass::text ORDER BY 1)
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname IN ('finicom', 'audit') AND c.relkind IN ('r', 'p') AND NOT c.relrowsecurity),
    NULL, 'every table in finicom and audit has row-level security enabled');

SELECT is(
    (SELECT array_agg(c.oid::regclass::text ORDER BY 1)
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname IN ('finicom', 'audit') AND c.relkind IN ('r', 'p') AND NOT c.relforcerowsecurity),
    NULL, 'every table in finicom and audit forces row-level security (on its owner too)');

SELECT ok((SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'finicom' AND c.relkind IN ('r', 'p')) >= 4,
          'the checks above see the tables (users, sessions, orgs, memberships at least)');

SELECT is(
    (SELECT array_agg(c.oid::regclass::text || ' (' || c.relowner::regrole::text || ')' ORDER BY 1)
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname IN ('finicom', 'audit') AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
        AND c.relowner <> 'finicom_owner'::regrole),
    NULL, 'every table, view and sequence in finicom and audit is owned by finicom_owner');

-- The roles that log in own nothing: an owner skips its table's policies
-- unless forced, and may ALTER or DROP them.
SELECT is(
    (SELECT array_agg(what ORDER BY 1) FROM (
        SELECT 'relation ' || c.oid::regclass::text || ' owned by ' || c.relowner::regrole::text AS what
          FROM pg_class c
         WHERE c.relowner IN ('finicom_app'::regrole, 'finicom_auth'::regrole, 'finicom_mailer'::regrole, 'finicom_auditor'::regrole)
        UNION ALL
        SELECT 'function ' || p.oid::regprocedure::text || ' owned by ' || p.proowner::regrole::text
          FROM pg_proc p
         WHERE p.proowner IN ('finicom_app'::regrole, 'finicom_auth'::regrole, 'finicom_mailer'::regrole, 'finicom_auditor'::regrole)
        UNION ALL
        SELECT 'schema ' || s.nspname || ' owned by ' || s.nspowner::regrole::text
          FROM pg_namespace s
         WHERE s.nspowner IN ('finicom_app'::regrole, 'finicom_auth'::regrole, 'finicom_mailer'::regrole, 'finicom_auditor'::regrole)
        UNION ALL
        SELECT 'type ' || t.oid::regtype::text || ' owned by ' || t.typowner::regrole::text
          FROM pg_type t
         WHERE t.typowner IN ('finicom_app'::regrole, 'finicom_auth'::regrole, 'finicom_mailer'::regrole, 'finicom_auditor'::regrole)
        UNION ALL
        SELECT 'database ' || d.datname || ' owned by ' || d.datdba::regrole::text
          FROM pg_database d
         WHERE d.datdba IN ('finicom_app'::regrole, 'finicom_auth'::regrole, 'finicom_mailer'::regrole, 'finicom_auditor'::regrole)
    ) owned),
    NULL, 'finicom_app, finicom_auth, finicom_mailer and finicom_auditor own nothing');

SELECT is(
    (SELECT array_agg(rolname::text ORDER BY 1) FROM pg_roles
      WHERE rolname IN ('finicom_owner', 'finicom_app', 'finicom_auth', 'finicom_mailer', 'finicom_auditor')
        AND (rolsuper OR rolbypassrls)),
    NULL, 'no finicom role is a superuser or has BYPASSRLS');

SELECT is(
    (SELECT count(*)::int FROM pg_roles
      WHERE rolname IN ('finicom_owner', 'finicom_app', 'finicom_auth', 'finicom_mailer', 'finicom_auditor')),
    5, 'the five finicom roles exist (the check above is about them)');

-- Nor do they inherit what they must not have: membership in the owner
-- (its rights) or in any superuser or BYPASSRLS role.
SELECT is(
    (SELECT array_agg(l.rolname || ' member of ' || r.rolname ORDER BY 1)
       FROM pg_roles l CROSS JOIN pg_roles r
      WHERE l.rolname IN ('finicom_app', 'finicom_auth', 'finicom_mailer', 'finicom_auditor')
        AND r.oid <> l.oid
        AND (r.rolname = 'finicom_owner' OR r.rolsuper OR r.rolbypassrls)
        AND pg_has_role(l.oid, r.oid, 'MEMBER')),
    NULL, 'the login roles are members of neither finicom_owner nor any superuser or BYPASSRLS role');

-- ---------------------------------------------------------------------
-- Functions.
SELECT is(
    (SELECT array_agg(p.oid::regprocedure::text ORDER BY 1)
       FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
      WHERE n.nspname IN ('finicom', 'audit') AND p.prosecdef
        AND NOT EXISTS (SELECT FROM unnest(p.proconfig) AS s (setting) WHERE s.setting LIKE 'search_path=%')),
    NULL, 'every SECURITY DEFINER function in finicom and audit pins its search_path');

-- A pinned search_path helps only if it names no schema that someone but
-- finicom_owner (or a superuser) can create objects in.
SELECT is(
    (SELECT array_agg(DISTINCT p.oid::regprocedure::text || ' searches ' || sp.schema
                      ORDER BY p.oid::regprocedure::text || ' searches ' || sp.schema)
       FROM pg_proc p
       JOIN pg_namespace n ON n.oid = p.pronamespace
       CROSS JOIN LATERAL unnest(p.proconfig) AS cfg (setting)
       CROSS JOIN LATERAL unnest(string_to_array(substr(cfg.setting, length('search_path=') + 1), ','))
                  AS raw (item)
       CROSS JOIN LATERAL (SELECT trim(both ' "' FROM raw.item) AS schema) sp
       LEFT JOIN pg_namespace s ON s.nspname = sp.schema
      WHERE n.nspname IN ('finicom', 'audit') AND p.prosecdef
        AND cfg.setting LIKE 'search_path=%'
        AND sp.schema NOT IN ('', 'pg_catalog', 'pg_temp')
        AND (s.oid IS NULL                               -- $user, or a schema anyone may create later
             OR s.nspowner <> 'finicom_owner'::regrole
             OR EXISTS (SELECT FROM aclexplode(s.nspacl) a
                         WHERE a.privilege_type = 'CREATE' AND a.grantee <> 'finicom_owner'::regrole))),
    NULL, 'SECURITY DEFINER functions search only pg_catalog and schemas only finicom_owner writes');

-- proacl NULL means the default, which lets PUBLIC execute.
SELECT is(
    (SELECT array_agg(p.oid::regprocedure::text ORDER BY 1)
       FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
      WHERE n.nspname IN ('finicom', 'audit')
        AND (p.proacl IS NULL
             OR EXISTS (SELECT FROM aclexplode(p.proacl) a
                         WHERE a.grantee = 0 AND a.privilege_type = 'EXECUTE'))),
    NULL, 'no function in finicom and audit is executable by PUBLIC');

SELECT ok((SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
            WHERE n.nspname = 'finicom' AND p.prosecdef) >= 10,
          'the checks above see the SECURITY DEFINER functions (begin_request, has_role, ... )');

SELECT * FROM finish();
ROLLBACK;
