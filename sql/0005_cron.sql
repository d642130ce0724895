-- migrate: superuser
-- 0005_cron: the pg_cron jobs.
--
--   finicom-expire-invitations  every minute  finicom.expire_invitations()
--   finicom-purge-sessions      hourly        finicom.purge_sessions()
--   finicom-purge-cron-history  daily         finicom.purge_cron_history()
--
-- Each job only calls a SECURITY DEFINER function owned by finicom_owner,
-- never ad-hoc SQL.  cron.schedule() replaces a job of the same name, so
-- running this again changes nothing.  pg_cron must be preloaded
-- (shared_preload_libraries) with cron.database_name set to this database;
-- without it, migrate stops here with what to do, unless it is run with
-- --without-pg-cron: invitations then still expire at accept time (accept
-- checks expires_at itself), only the stored status lags.
DO $$
BEGIN
    IF pg_catalog.current_setting('finicom.without_pg_cron', true) = 'on' THEN
        RAISE WARNING 'pg_cron jobs not installed (--without-pg-cron)';
        RETURN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_available_extensions WHERE name = 'pg_cron') THEN
        RAISE EXCEPTION 'pg_cron is not installed'
            USING HINT = 'install postgresql-15-cron, set shared_preload_libraries = ''pg_cron'' and '
                         'cron.database_name, restart PostgreSQL; or run finicomctl migrate --without-pg-cron';
    END IF;
    IF pg_catalog.current_setting('cron.database_name', true) IS DISTINCT FROM pg_catalog.current_database() THEN
        RAISE EXCEPTION 'pg_cron runs jobs in database "%", not in "%"',
            pg_catalog.current_setting('cron.database_name', true), pg_catalog.current_database()
            USING HINT = 'set cron.database_name in postgresql.conf and restart, '
                         'or run finicomctl migrate --without-pg-cron';
    END IF;
    CREATE EXTENSION IF NOT EXISTS pg_cron;
    GRANT USAGE ON SCHEMA cron TO finicom_owner;
    GRANT SELECT, DELETE ON cron.job_run_details TO finicom_owner;

    -- finicom-purge-cron-history: run details older than a week.
    EXECUTE $fn$
        CREATE OR REPLACE FUNCTION finicom.purge_cron_history() RETURNS integer
            LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = ''
            AS $body$
            DECLARE
                n integer;
            BEGIN
                DELETE FROM cron.job_run_details d WHERE d.end_time < pg_catalog.now() - interval '7 days';
                GET DIAGNOSTICS n = ROW_COUNT;
                RETURN n;
            END
            $body$
    $fn$;
    ALTER FUNCTION finicom.purge_cron_history() OWNER TO finicom_owner;
    -- Created by the superuser, so the owner's default privileges did not apply.
    REVOKE ALL ON FUNCTION finicom.purge_cron_history() FROM PUBLIC;

    PERFORM cron.schedule('finicom-expire-invitations', '* * * * *', 'SELECT finicom.expire_invitations()');
    PERFORM cron.schedule('finicom-purge-sessions', '17 * * * *', 'SELECT finicom.purge_sessions()');
    PERFORM cron.schedule('finicom-purge-cron-history', '29 3 * * *', 'SELECT finicom.purge_cron_history()');
END
$$;
