-- 0027_schema_version: GET /readyz compares the highest migration the
-- running binary was built with against the database's, so a worker whose
-- database has not been migrated yet says it is not ready.  The workers'
-- role cannot read finicom.schema_migrations (its policy is the owner's);
-- this function gives it the one number it needs, and nothing else.
CREATE FUNCTION finicom.schema_version() RETURNS integer
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ''
    AS $$
        SELECT pg_catalog.max(m.version)::integer FROM finicom.schema_migrations m
    $$;

GRANT EXECUTE ON FUNCTION finicom.schema_version() TO finicom_app;
