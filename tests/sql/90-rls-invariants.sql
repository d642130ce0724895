-- 90-rls-invariants: every table in the finicom and audit schemas is owned by
-- finicom_owner and has row-level security enabled and forced, so no role
-- that logs in skips the policies; SECURITY DEFINER functions pin their
-- search_path (README "The database").  Catalog checks: they cover tables that
-- later migrations add without editing this file.
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
SELECT plan(6);

SELECT is(
    (SELECT array_agg(n.nspname || '.' || c.relname ORDER BY 1)
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname IN ('finicom', 'audit') AND c.relkind IN ('r', 'p')
        AND NOT c.relrowsecurity),
    NULL, 'every table has row-level security enabled');

SELECT is(
    (SELECT array_agg(n.nspname || '.' || c.relname ORDER BY 1)
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname IN ('finicom', 'audit') AND c.relkind IN ('r', 'p')
        AND NOT c.relforcerowsecurity),
    NULL, 'every table forces row-level security (the owner too)');

SELECT is(
    (SELECT array_agg(n.nspname || '.' || c.relname ORDER BY 1)
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname IN ('finicom', 'audit') AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
        AND c.relowner <> 'finicom_owner'::regrole),
    NULL, 'every relation in finicom and audit is owned by finicom_owner');

SELECT is(
    (SELECT array_agg(p.oid::regprocedure::text ORDER BY 1)
       FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
      WHERE n.nspname IN ('finicom', 'audit') AND p.proowner <> 'finicom_owner'::regrole),
    NULL, 'every function in finicom and audit is owned by finicom_owner');

SELECT is(
    (SELECT array_agg(p.oid::regprocedure::text ORDER BY 1)
       FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
      WHERE n.nspname IN ('finicom', 'audit') AND p.prosecdef
        AND NOT EXISTS (SELECT FROM unnest(p.proconfig) s WHERE s LIKE 'search_path=%')),
    NULL, 'every SECURITY DEFINER function sets its search_path');

-- Behaviour, not only catalogs: as finicom_app with no request context,
-- the migrations table (owner-only policy) shows nothing or is refused.
CREATE FUNCTION pg_temp.app_sees_migrations() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    n bigint;
BEGIN
    SET LOCAL ROLE finicom_app;
    BEGIN
        SELECT count(*) INTO n FROM finicom.schema_migrations;
    EXCEPTION WHEN insufficient_privilege THEN
        n := 0;
    END;
    RESET ROLE;
    RETURN n;
END
$$;
SELECT is(pg_temp.app_sees_migrations(), 0::bigint,
          'finicom_app cannot read finicom.schema_migrations (RLS applies to it)');

SELECT * FROM finish();
ROLLBACK;
