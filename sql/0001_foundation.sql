-- migrate: superuser
-- 0001_foundation: the roles, the schemas and the migrations table.
--
-- finicom_owner owns every object and cannot log in; migrations run as it
-- (SET LOCAL ROLE).  finicom_app (the workers), finicom_mailer and
-- finicom_auditor log in, own nothing and never bypass row-level security.
-- Roles are cluster-wide, so they are created only when missing.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'finicom_owner') THEN
        CREATE ROLE finicom_owner NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'finicom_app') THEN
        CREATE ROLE finicom_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'finicom_mailer') THEN
        CREATE ROLE finicom_mailer LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'finicom_auditor') THEN
        CREATE ROLE finicom_auditor LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;
    END IF;
    EXECUTE format('GRANT CONNECT, TEMPORARY ON DATABASE %I TO finicom_app, finicom_mailer, finicom_auditor',
                   current_database());
    EXECUTE format('REVOKE CONNECT, TEMPORARY ON DATABASE %I FROM PUBLIC', current_database());
END
$$;

-- Nobody but the owner creates objects in public.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;

CREATE SCHEMA finicom AUTHORIZATION finicom_owner;
CREATE SCHEMA audit AUTHORIZATION finicom_owner;
GRANT USAGE ON SCHEMA finicom TO finicom_app, finicom_mailer;
GRANT USAGE ON SCHEMA audit TO finicom_app, finicom_auditor;

-- Functions are not callable by PUBLIC unless a migration grants them.
ALTER DEFAULT PRIVILEGES FOR ROLE finicom_owner REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;

CREATE TABLE finicom.schema_migrations (
    version    text PRIMARY KEY CHECK (version ~ '^[0-9]{4}$'),
    name       text NOT NULL,
    checksum   text NOT NULL CHECK (checksum ~ '^[0-9a-f]{64}$'),
    applied_at timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE finicom.schema_migrations OWNER TO finicom_owner;
ALTER TABLE finicom.schema_migrations ENABLE ROW LEVEL SECURITY;
ALTER TABLE finicom.schema_migrations FORCE ROW LEVEL SECURITY;
-- Only the owner (migrations) writes it; everyone may read which versions exist.
CREATE POLICY schema_migrations_owner ON finicom.schema_migrations
    TO finicom_owner USING (true) WITH CHECK (true);
