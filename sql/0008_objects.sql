-- 0008_objects: the data objects (sources, integrations, destinations,
-- connections), the integrations of a connection, and sync runs.
--
-- Words:
--   object      a row of sources, integrations, destinations or connections;
--               every object has id, name, created_at, updated_at and
--               created_by (the actor that made it: a user's or an API
--               key's id; NULL for rows a DBA inserted by hand).
--   kind        'source', 'integration', 'destination', 'connection' (the
--               singular form names the audit events and the in_use error).
--   config      a JSON object (sources, integrations, destinations).  Secret
--               values in it are encrypted by finicomd before they get here
--               (src/util/secret.c): the database only ever holds
--               "enc:v1:<key id>:<base64url>" strings for them.  The API
--               limits a config to 16 KiB as sent; the CHECK here allows
--               32 KiB, room for the base64 of the ciphertexts.
--
-- Audit: row triggers (audit.capture of 0007_audit.sql) record every change
-- of an object (field names only, never config values), every change of a
-- connection's integrations and every sync request.
--
-- Every table follows the tenant-table pattern of 0003_orgs.sql: org_id
-- first in the primary key and in every index, RLS enabled and forced,
-- SELECT for read and up, INSERT/UPDATE/DELETE for write and up and only in
-- the org of the request.
--
-- References between objects never cross orgs: every foreign key between
-- them is composite, (org_id, x_id) -> (org_id, id), so a row can only
-- point at a row of its own org, whoever inserts it.  Objects a connection
-- uses are ON DELETE RESTRICT: deleting one that is in use fails, and
-- finicom.object_delete() turns that refusal into 409 in_use.
--
-- Deleting an org removes everything: every table, the link tables too,
-- references finicom.orgs directly ON DELETE CASCADE.  (Without the direct
-- reference, connection_integrations would be reached only through
-- connections, one cascade level later than the check of the integrations'
-- RESTRICT key, which would then refuse to delete the org.)

CREATE TABLE finicom.sources (
    org_id     uuid NOT NULL REFERENCES finicom.orgs (id) ON DELETE CASCADE,
    id         uuid NOT NULL DEFAULT gen_random_uuid() UNIQUE,
    name       text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
    type       text NOT NULL CHECK (type ~ '^[a-z][a-z0-9_]{0,39}$'),
    config     jsonb NOT NULL DEFAULT '{}'
               CHECK (jsonb_typeof(config) = 'object' AND octet_length(config::text) <= 32768),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    created_by uuid DEFAULT finicom.current_actor_id(),
    PRIMARY KEY (org_id, id)
);
CREATE INDEX sources_org_created_idx ON finicom.sources (org_id, created_at, id);

CREATE TABLE finicom.integrations (
    org_id     uuid NOT NULL REFERENCES finicom.orgs (id) ON DELETE CASCADE,
    id         uuid NOT NULL DEFAULT gen_random_uuid() UNIQUE,
    name       text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
    type       text NOT NULL CHECK (type ~ '^[a-z][a-z0-9_]{0,39}$'),
    config     jsonb NOT NULL DEFAULT '{}'
               CHECK (jsonb_typeof(config) = 'object' AND octet_length(config::text) <= 32768),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    created_by uuid DEFAULT finicom.current_actor_id(),
    PRIMARY KEY (org_id, id)
);
CREATE INDEX integrations_org_created_idx ON finicom.integrations (org_id, created_at, id);

CREATE TABLE finicom.destinations (
    org_id     uuid NOT NULL REFERENCES finicom.orgs (id) ON DELETE CASCADE,
    id         uuid NOT NULL DEFAULT gen_random_uuid() UNIQUE,
    name       text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
    type       text NOT NULL CHECK (type ~ '^[a-z][a-z0-9_]{0,39}$'),
    config     jsonb NOT NULL DEFAULT '{}'
               CHECK (jsonb_typeof(config) = 'object' AND octet_length(config::text) <= 32768),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    created_by uuid DEFAULT finicom.current_actor_id(),
    PRIMARY KEY (org_id, id)
);
CREATE INDEX destinations_org_created_idx ON finicom.destinations (org_id, created_at, id);

-- "manual" or "every N minutes" with N from 5 to 1440 (no leading zeros).
CREATE FUNCTION finicom.schedule_ok(p_schedule text) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = ''
    AS $$
        SELECT CASE
            WHEN p_schedule = 'manual' THEN true
            WHEN p_schedule ~ '^every [1-9][0-9]{0,3} minutes$'
                THEN pg_catalog.split_part(p_schedule, ' ', 2)::integer BETWEEN 5 AND 1440
            ELSE false
        END
    $$;
GRANT EXECUTE ON FUNCTION finicom.schedule_ok(text) TO finicom_app;

CREATE TABLE finicom.connections (
    org_id         uuid NOT NULL REFERENCES finicom.orgs (id) ON DELETE CASCADE,
    id             uuid NOT NULL DEFAULT gen_random_uuid() UNIQUE,
    name           text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
    source_id      uuid NOT NULL,
    destination_id uuid NOT NULL,
    schedule       text NOT NULL DEFAULT 'manual' CHECK (finicom.schedule_ok(schedule)),
    enabled        boolean NOT NULL DEFAULT true,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    created_by     uuid DEFAULT finicom.current_actor_id(),
    PRIMARY KEY (org_id, id),
    CONSTRAINT connections_source_fk FOREIGN KEY (org_id, source_id)
        REFERENCES finicom.sources (org_id, id) ON DELETE RESTRICT,
    CONSTRAINT connections_destination_fk FOREIGN KEY (org_id, destination_id)
        REFERENCES finicom.destinations (org_id, id) ON DELETE RESTRICT
);
CREATE INDEX connections_org_created_idx ON finicom.connections (org_id, created_at, id);
-- The foreign key checks when a source or destination is deleted.
CREATE INDEX connections_org_source_idx ON finicom.connections (org_id, source_id);
CREATE INDEX connections_org_destination_idx ON finicom.connections (org_id, destination_id);

-- The integrations a connection uses (a set: the API returns them sorted).
CREATE TABLE finicom.connection_integrations (
    org_id         uuid NOT NULL REFERENCES finicom.orgs (id) ON DELETE CASCADE,
    connection_id  uuid NOT NULL,
    integration_id uuid NOT NULL,
    PRIMARY KEY (org_id, connection_id, integration_id),
    CONSTRAINT connection_integrations_connection_fk FOREIGN KEY (org_id, connection_id)
        REFERENCES finicom.connections (org_id, id) ON DELETE CASCADE,
    CONSTRAINT connection_integrations_integration_fk FOREIGN KEY (org_id, integration_id)
        REFERENCES finicom.integrations (org_id, id) ON DELETE RESTRICT
);
CREATE INDEX connection_integrations_org_integration_idx
    ON finicom.connection_integrations (org_id, integration_id);

CREATE TABLE finicom.sync_runs (
    org_id        uuid NOT NULL REFERENCES finicom.orgs (id) ON DELETE CASCADE,
    id            uuid NOT NULL DEFAULT gen_random_uuid() UNIQUE,
    connection_id uuid NOT NULL,
    status        text NOT NULL DEFAULT 'queued'
                  CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'canceled')),
    requested_by  uuid DEFAULT finicom.current_actor_id(),
    requested_at  timestamptz NOT NULL DEFAULT now(),
    started_at    timestamptz,
    finished_at   timestamptz,
    PRIMARY KEY (org_id, id),
    CONSTRAINT sync_runs_connection_fk FOREIGN KEY (org_id, connection_id)
        REFERENCES finicom.connections (org_id, id) ON DELETE CASCADE
);
-- A connection's runs, newest first (keyset on requested_at, id).
CREATE INDEX sync_runs_org_connection_idx ON finicom.sync_runs (org_id, connection_id, requested_at, id);

-- updated_at follows every UPDATE of an object.
CREATE FUNCTION finicom.touch_updated_at() RETURNS trigger
    LANGUAGE plpgsql SET search_path = ''
    AS $$
    BEGIN
        NEW.updated_at := pg_catalog.now();
        RETURN NEW;
    END
    $$;
CREATE TRIGGER sources_touch BEFORE UPDATE ON finicom.sources
    FOR EACH ROW EXECUTE FUNCTION finicom.touch_updated_at();
CREATE TRIGGER integrations_touch BEFORE UPDATE ON finicom.integrations
    FOR EACH ROW EXECUTE FUNCTION finicom.touch_updated_at();
CREATE TRIGGER destinations_touch BEFORE UPDATE ON finicom.destinations
    FOR EACH ROW EXECUTE FUNCTION finicom.touch_updated_at();
CREATE TRIGGER connections_touch BEFORE UPDATE ON finicom.connections
    FOR EACH ROW EXECUTE FUNCTION finicom.touch_updated_at();

-- ---------------------------------------------------------------------
-- Row-level security: the same five policies on every table.

ALTER TABLE finicom.sources ENABLE ROW LEVEL SECURITY;
ALTER TABLE finicom.sources FORCE ROW LEVEL SECURITY;
CREATE POLICY sources_owner ON finicom.sources TO finicom_owner USING (true) WITH CHECK (true);
CREATE POLICY sources_select ON finicom.sources FOR SELECT TO finicom_app
    USING ((SELECT finicom.has_role(org_id, 'read')));
CREATE POLICY sources_insert ON finicom.sources FOR INSERT TO finicom_app
    WITH CHECK ((SELECT finicom.has_role(org_id, 'write')) AND org_id = (SELECT finicom.current_org_id()));
CREATE POLICY sources_update ON finicom.sources FOR UPDATE TO finicom_app
    USING ((SELECT finicom.has_role(org_id, 'write')) AND org_id = (SELECT finicom.current_org_id()))
    WITH CHECK ((SELECT finicom.has_role(org_id, 'write')) AND org_id = (SELECT finicom.current_org_id()));
CREATE POLICY sources_delete ON finicom.sources FOR DELETE TO finicom_app
    USING ((SELECT finicom.has_role(org_id, 'write')) AND org_id = (SELECT finicom.current_org_id()));

ALTER TABLE finicom.integrations ENABLE ROW LEVEL SECURITY;
ALTER TABLE finicom.integrations FORCE ROW LEVEL SECURITY;
CREATE POLICY integrations_owner ON finicom.integrations TO finicom_owner USING (true) WITH CHECK (true);
CREATE POLICY integrations_select ON finicom.integrations FOR SELECT TO finicom_app
    USING ((SELECT finicom.has_role(org_id, 'read')));
CREATE POLICY integrations_insert ON finicom.integrations FOR INSERT TO finicom_app
    WITH CHECK ((SELECT finicom.has_role(org_id, 'write')) AND org_id = (SELECT finicom.current_org_id()));
CREATE POLICY integrations_update ON finicom.integrations FOR UPDATE TO finicom_app
    USING ((SELECT finicom.has_role(org_id, 'write')) AND org_id = (SELECT finicom.current_org_id()))
    WITH CHECK ((SELECT finicom.has_role(org_id, 'write')) AND org_id = (SELECT finicom.current_org_id()));
CREATE POLICY integrations_delete ON finicom.integrations FOR DELETE TO finicom_app
    USING ((SELECT finicom.has_role(org_id, 'write')) AND org_id = (SELECT finicom.current_org_id()));

ALTER TABLE finicom.destinations ENABLE ROW LEVEL SECURITY;
ALTER TABLE finicom.destinations FORCE ROW LEVEL SECURITY;
CREATE POLICY destinations_owner ON finicom.destinations TO finicom_owner USING (true) WITH CHECK (true);
CREATE POLICY destinations_select ON finicom.destinations FOR SELECT TO finicom_app
    USING ((SELECT finicom.has_role(org_id, 'read')));
CREATE POLICY destinations_insert ON finicom.destinations FOR INSERT TO finicom_app
    WITH CHECK ((SELECT finicom.has_role(org_id, 'write')) AND org_id = (SELECT finicom.current_org_id()));
CREATE POLICY destinations_update ON finicom.destinations FOR UPDATE TO finicom_app
    USING ((SELECT finicom.has_role(org_id, 'write')) AND org_id = (SELECT finicom.current_org_id()))
    WITH CHECK ((SELECT finicom.has_role(org_id, 'write')) AND org_id = (SELECT finicom.current_org_id()));
CREATE POLICY destinations_delete ON finicom.destinations FOR DELETE TO finicom_app
    USING ((SELECT finicom.has_role(org_id, 'write')) AND org_id = (SELECT finicom.current_org_id()));

ALTER TABLE finicom.connections ENABLE ROW LEVEL SECURITY;
ALTER TABLE finicom.connections FORCE ROW LEVEL SECURITY;
CREATE POLICY connections_owner ON finicom.connections TO finicom_owner USING (true) WITH CHECK (true);
CREATE POLICY connections_select ON finicom.connections FOR SELECT TO finicom_app
    USING ((SELECT finicom.has_role(org_id, 'read')));
CREATE POLICY connections_insert ON finicom.connections FOR INSERT TO finicom_app
    WITH CHECK ((SELECT finicom.has_role(org_id, 'write')) AND org_id = (SELECT finicom.current_org_id()));
CREATE POLICY connections_update ON finicom.connections FOR UPDATE TO finicom_app
    USING ((SELECT finicom.has_role(org_id, 'write')) AND org_id = (SELECT finicom.current_org_id()))
    WITH CHECK ((SELECT finicom.has_role(org_id, 'write')) AND org_id = (SELECT finicom.current_org_id()));
CREATE POLICY connections_delete ON finicom.connections FOR DELETE TO finicom_app
    USING ((SELECT finicom.has_role(org_id, 'write')) AND org_id = (SELECT finicom.current_org_id()));

ALTER TABLE finicom.connection_integrations ENABLE ROW LEVEL SECURITY;
ALTER TABLE finicom.connection_integrations FORCE ROW LEVEL SECURITY;
CREATE POLICY connection_integrations_owner ON finicom.connection_integrations TO finicom_owner
    USING (true) WITH CHECK (true);
CREATE POLICY connection_integrations_select ON finicom.connection_integrations FOR SELECT TO finicom_app
    USING ((SELECT finicom.has_role(org_id, 'read')));
CREATE POLICY connection_integrations_insert ON finicom.connection_integrations FOR INSERT TO finicom_app
    WITH CHECK ((SELECT finicom.has_role(org_id, 'write')) AND org_id = (SELECT finicom.current_org_id()));
CREATE POLICY connection_integrations_update ON finicom.connection_integrations FOR UPDATE TO finicom_app
    USING ((SELECT finicom.has_role(org_id, 'write')) AND org_id = (SELECT finicom.current_org_id()))
    WITH CHECK ((SELECT finicom.has_role(org_id, 'write')) AND org_id = (SELECT finicom.current_org_id()));
CREATE POLICY connection_integrations_delete ON finicom.connection_integrations FOR DELETE TO finicom_app
    USING ((SELECT finicom.has_role(org_id, 'write')) AND org_id = (SELECT finicom.current_org_id()));

ALTER TABLE finicom.sync_runs ENABLE ROW LEVEL SECURITY;
ALTER TABLE finicom.sync_runs FORCE ROW LEVEL SECURITY;
CREATE POLICY sync_runs_owner ON finicom.sync_runs TO finicom_owner USING (true) WITH CHECK (true);
CREATE POLICY sync_runs_select ON finicom.sync_runs FOR SELECT TO finicom_app
    USING ((SELECT finicom.has_role(org_id, 'read')));
CREATE POLICY sync_runs_insert ON finicom.sync_runs FOR INSERT TO finicom_app
    WITH CHECK ((SELECT finicom.has_role(org_id, 'write')) AND org_id = (SELECT finicom.current_org_id()));
CREATE POLICY sync_runs_update ON finicom.sync_runs FOR UPDATE TO finicom_app
    USING ((SELECT finicom.has_role(org_id, 'write')) AND org_id = (SELECT finicom.current_org_id()))
    WITH CHECK ((SELECT finicom.has_role(org_id, 'write')) AND org_id = (SELECT finicom.current_org_id()));
CREATE POLICY sync_runs_delete ON finicom.sync_runs FOR DELETE TO finicom_app
    USING ((SELECT finicom.has_role(org_id, 'write')) AND org_id = (SELECT finicom.current_org_id()));

-- Column privileges: ids, org_id, created_* and requested_* never change
-- (updated_at is the trigger's).  The links of a connection are inserted
-- and deleted, never updated.
GRANT SELECT, INSERT, DELETE ON finicom.sources, finicom.integrations, finicom.destinations,
    finicom.connections, finicom.connection_integrations, finicom.sync_runs TO finicom_app;
GRANT UPDATE (name, type, config) ON finicom.sources, finicom.integrations, finicom.destinations
    TO finicom_app;
GRANT UPDATE (name, source_id, destination_id, schedule, enabled) ON finicom.connections TO finicom_app;
GRANT UPDATE (status, started_at, finished_at) ON finicom.sync_runs TO finicom_app;

-- ---------------------------------------------------------------------
-- Helpers for the service (src/handlers/objects.c).  None is SECURITY
-- DEFINER: they run with the caller's rights, under the policies above.

-- Do the objects a connection names exist in p_org?  NULL arguments are
-- not checked (a PATCH that leaves them alone).  The rows found are locked
-- FOR KEY SHARE, so they cannot be deleted before this transaction ends
-- (a concurrent delete then waits and fails with in_use).  Raises
-- validation_failed naming the field; returns true.
CREATE FUNCTION finicom.connection_refs_check(p_org uuid, p_source uuid, p_destination uuid,
                                              p_integrations uuid[]) RETURNS boolean
    LANGUAGE plpgsql VOLATILE SET search_path = ''
    AS $$
    DECLARE
        v_found integer;
    BEGIN
        IF p_source IS NOT NULL THEN
            PERFORM 1 FROM finicom.sources s WHERE s.org_id = p_org AND s.id = p_source FOR KEY SHARE;
            IF NOT FOUND THEN
                RAISE EXCEPTION USING ERRCODE = 'F0400', MESSAGE = 'validation_failed',
                    DETAIL = 'source_id does not name a source of this organization', HINT = 'source_id';
            END IF;
        END IF;
        IF p_destination IS NOT NULL THEN
            PERFORM 1 FROM finicom.destinations d WHERE d.org_id = p_org AND d.id = p_destination FOR KEY SHARE;
            IF NOT FOUND THEN
                RAISE EXCEPTION USING ERRCODE = 'F0400', MESSAGE = 'validation_failed',
                    DETAIL = 'destination_id does not name a destination of this organization',
                    HINT = 'destination_id';
            END IF;
        END IF;
        IF p_integrations IS NOT NULL THEN
            SELECT count(*) INTO v_found FROM (
                SELECT 1 FROM finicom.integrations i
                WHERE i.org_id = p_org AND i.id = ANY (p_integrations) FOR KEY SHARE) locked;
            IF v_found <> (SELECT count(DISTINCT x) FROM pg_catalog.unnest(p_integrations) x) THEN
                RAISE EXCEPTION USING ERRCODE = 'F0400', MESSAGE = 'validation_failed',
                    DETAIL = 'integration_ids names an integration that is not in this organization',
                    HINT = 'integration_ids';
            END IF;
        END IF;
        RETURN true;
    END
    $$;

-- Delete the object p_id of kind p_kind in p_org.  Returns whether a row
-- was deleted (false: no such object, or not visible).  An object that a
-- connection still uses is refused with 409 in_use (the RESTRICT foreign
-- keys decide; a concurrent use is caught the same way).
CREATE FUNCTION finicom.object_delete(p_kind text, p_org uuid, p_id uuid) RETURNS boolean
    LANGUAGE plpgsql VOLATILE SET search_path = ''
    AS $$
    DECLARE
        v_table text := CASE p_kind WHEN 'source' THEN 'sources' WHEN 'integration' THEN 'integrations'
                                    WHEN 'destination' THEN 'destinations' WHEN 'connection' THEN 'connections'
                        END;
        v_rows bigint;
    BEGIN
        IF v_table IS NULL THEN
            RAISE EXCEPTION 'unknown kind of object "%"', p_kind;
        END IF;
        EXECUTE pg_catalog.format('DELETE FROM finicom.%I WHERE org_id = $1 AND id = $2', v_table)
            USING p_org, p_id;
        GET DIAGNOSTICS v_rows = ROW_COUNT;
        RETURN v_rows > 0;
    EXCEPTION WHEN foreign_key_violation THEN
        RAISE EXCEPTION USING ERRCODE = 'F0409', MESSAGE = 'in_use',
            DETAIL = pg_catalog.format('this %s is used by a connection; change or delete the connection first',
                                       p_kind);
    END
    $$;

-- A sync run as API.md shows it.
CREATE FUNCTION finicom.sync_run_json(r finicom.sync_runs) RETURNS text
    LANGUAGE sql STABLE SET search_path = ''
    AS $$
        SELECT pg_catalog.json_build_object('id', r.id, 'connection_id', r.connection_id,
            'status', r.status, 'requested_by', r.requested_by,
            'requested_at', finicom.ts(r.requested_at), 'started_at', finicom.ts(r.started_at),
            'finished_at', finicom.ts(r.finished_at))::text
    $$;

-- Queue a run of connection p_connection of p_org for the actor of the
-- request.  404 not_found when there is no such connection (or it is not
-- visible); 402 plan_required when the org's plan counts as free (a trial
-- past its end included).  A disabled connection can still be run by hand.
CREATE FUNCTION finicom.sync_request(p_org uuid, p_connection uuid) RETURNS text
    LANGUAGE plpgsql VOLATILE SET search_path = ''
    AS $$
    DECLARE
        v_run finicom.sync_runs%ROWTYPE;
    BEGIN
        PERFORM 1 FROM finicom.connections c WHERE c.org_id = p_org AND c.id = p_connection;
        IF NOT FOUND THEN
            RAISE EXCEPTION USING ERRCODE = 'F0404', MESSAGE = 'not_found', DETAIL = 'no such connection';
        END IF;
        IF NOT EXISTS (SELECT 1 FROM finicom.orgs o
                       WHERE o.id = p_org AND finicom.effective_plan(o) IN ('trial', 'pro')) THEN
            RAISE EXCEPTION USING ERRCODE = 'F0402', MESSAGE = 'plan_required',
                DETAIL = 'syncing needs a trial or a paid plan; this organization is on the free plan';
        END IF;
        INSERT INTO finicom.sync_runs (org_id, connection_id) VALUES (p_org, p_connection)
        RETURNING * INTO v_run;
        RETURN finicom.sync_run_json(v_run);
    END
    $$;

GRANT EXECUTE ON FUNCTION finicom.connection_refs_check(uuid, uuid, uuid, uuid[]),
    finicom.object_delete(text, uuid, uuid), finicom.sync_run_json(finicom.sync_runs),
    finicom.sync_request(uuid, uuid)
    TO finicom_app;

-- ---------------------------------------------------------------------
-- Audit (0007_audit.sql): every change, written by the database itself.
CREATE TRIGGER zz_audit_sources AFTER INSERT OR UPDATE OR DELETE ON finicom.sources
    FOR EACH ROW EXECUTE FUNCTION audit.capture('source');
CREATE TRIGGER zz_audit_integrations AFTER INSERT OR UPDATE OR DELETE ON finicom.integrations
    FOR EACH ROW EXECUTE FUNCTION audit.capture('integration');
CREATE TRIGGER zz_audit_destinations AFTER INSERT OR UPDATE OR DELETE ON finicom.destinations
    FOR EACH ROW EXECUTE FUNCTION audit.capture('destination');
CREATE TRIGGER zz_audit_connections AFTER INSERT OR UPDATE OR DELETE ON finicom.connections
    FOR EACH ROW EXECUTE FUNCTION audit.capture('connection');
CREATE TRIGGER zz_audit_connection_integrations AFTER INSERT OR DELETE ON finicom.connection_integrations
    FOR EACH ROW EXECUTE FUNCTION audit.capture('connection_integration');
CREATE TRIGGER zz_audit_sync_runs AFTER INSERT ON finicom.sync_runs
    FOR EACH ROW EXECUTE FUNCTION audit.capture('sync_run');
