-- migrate: superuser (a LANGUAGE c function and GRANT SET ON PARAMETER)
-- 0011_context_guard: the request context as settings finicom_app cannot
-- write, instead of settings sealed with a MAC.
--
-- 0009 sealed the six context settings with NMAC-SHA256 and had every
-- policy sub-select check the seal through a SECURITY DEFINER plpgsql
-- function: about 25 microseconds a call, five or six calls a statement,
-- and two nested SECURITY DEFINER calls and four hashes in begin_request.
-- Measured, that was a third of the PostgreSQL CPU of a 50-member list.
--
-- Now the settings themselves are protected.  The PostgreSQL module
-- finicom_guard (src/pg/finicom_guard.c, in shared_preload_libraries)
-- defines finicom.actor_type, actor_id, org_id, org_role, request_id and
-- client_ip as PGC_SUSET settings; PostgreSQL 15's GRANT SET ON PARAMETER
-- gives the right to set them to finicom_owner alone.  So only the
-- SECURITY DEFINER functions finicom_owner owns (begin_request,
-- invitation_accept, org_create, the pg_cron jobs) can put a context in
-- place, always with is_local = true: it ends with the transaction.  A
-- SET, set_config(), RESET or a function's SET clause by finicom_app fails
-- with 42501 and changes nothing, so there is nothing to forge and nothing
-- to replay, and the helpers read the settings with plain inlinable SQL.
--
-- finicom.context_guard() (C, from the module) returns true; calling it
-- loads the module in a backend where shared_preload_libraries did not,
-- and the load drops any same-named value set by a role without the right
-- (PostgreSQL re-applies placeholder values with the setter's rights).  The
-- helpers call it first, so without the module they cannot run at all and
-- every policy fails closed.  Its cost is one C function call per InitPlan.
--
-- The module is found through dynamic_library_path (a bare name below):
-- install finicom_guard.so in PostgreSQL's library directory (pg_config
-- --pkglibdir), or add its directory to dynamic_library_path.

CREATE FUNCTION finicom.context_guard() RETURNS boolean
    LANGUAGE c STABLE PARALLEL SAFE
    AS 'finicom_guard', 'finicom_context_guard';
ALTER FUNCTION finicom.context_guard() OWNER TO finicom_owner;
REVOKE ALL ON FUNCTION finicom.context_guard() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION finicom.context_guard() TO finicom_app, finicom_mailer, finicom_auditor;

GRANT SET ON PARAMETER finicom.actor_type, finicom.actor_id, finicom.org_id,
    finicom.org_role, finicom.request_id, finicom.client_ip TO finicom_owner;

-- The rest as the owner of everything, like every other migration.
SET LOCAL ROLE finicom_owner;

-- context_ok keeps its name (the request_* helpers and audit.stamp call
-- it) and becomes inlinable: the context is verified when the module that
-- protects it is loaded.
CREATE OR REPLACE FUNCTION finicom.context_ok() RETURNS boolean
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT finicom.context_guard() $$;

-- Set the context of this transaction (with p_actor_type NULL: no actor,
-- only the request id and address).  Owner only, as before.
CREATE OR REPLACE FUNCTION finicom.context_seal(p_actor_type text, p_actor_id uuid, p_org_id uuid,
                                                p_role finicom.role, p_request_id text, p_client_ip text)
    RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = ''
    AS $$
    BEGIN
        PERFORM finicom.context_guard(),
                pg_catalog.set_config('finicom.actor_type', coalesce(p_actor_type, ''), true),
                pg_catalog.set_config('finicom.actor_id', coalesce(p_actor_id::text, ''), true),
                pg_catalog.set_config('finicom.org_id', coalesce(p_org_id::text, ''), true),
                pg_catalog.set_config('finicom.org_role', coalesce(p_role::text, ''), true),
                pg_catalog.set_config('finicom.request_id', pg_catalog.left(coalesce(p_request_id, ''), 200), true),
                pg_catalog.set_config('finicom.client_ip', pg_catalog.left(coalesce(p_client_ip, ''), 100), true);
    END
    $$;

-- begin_request: the same answers as 0009's, in fewer executor runs: one
-- query for the credential (and one for the membership of a session's
-- org), then the context and the reply row as plpgsql simple expressions
-- (RETURN NEXT of the OUT columns), which need no executor start-up.
CREATE OR REPLACE FUNCTION finicom.begin_request(p_credential text, p_token_hash bytea, p_org_id uuid,
                                                 p_idle_seconds integer, p_request_id text, p_client_ip text)
    RETURNS TABLE (actor_type text, actor_id uuid, email text, name text, created_at text,
                   org_id uuid, org_role text)
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
    AS $$
    DECLARE
        v_session finicom.sessions%ROWTYPE;
        v_key finicom.api_keys%ROWTYPE;
        v_user finicom.users%ROWTYPE;
        v_type text;
        v_actor uuid;
        v_org uuid;
        v_role finicom.role;
        v_idle interval;
        v_set boolean;
    BEGIN
        IF p_token_hash IS NULL OR p_credential IS NULL OR p_credential NOT IN ('api_key', 'session') THEN
            NULL;
        ELSIF p_credential = 'api_key' THEN
            SELECT * INTO v_key FROM finicom.api_keys k
            WHERE k.token_hash = p_token_hash
              AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > pg_catalog.now());
            IF FOUND THEN
                v_type := 'api_key';
                v_actor := v_key.id;
                IF p_org_id = v_key.org_id THEN
                    v_org := v_key.org_id;
                    v_role := v_key.role;
                END IF;
                IF v_key.last_used_at IS NULL OR v_key.last_used_at < pg_catalog.now() - interval '1 minute' THEN
                    UPDATE finicom.api_keys k SET last_used_at = pg_catalog.now()
                    WHERE k.org_id = v_key.org_id AND k.id = v_key.id;
                END IF;
            END IF;
        ELSE
            v_idle := pg_catalog.make_interval(secs => p_idle_seconds);
            SELECT * INTO v_session FROM finicom.sessions s
            WHERE s.token_hash = p_token_hash
              AND s.expires_at > pg_catalog.now()
              AND s.last_seen_at > pg_catalog.now() - v_idle;
            IF FOUND THEN
                SELECT * INTO v_user FROM finicom.users u WHERE u.id = v_session.user_id;
                v_type := 'user';
                v_actor := v_session.user_id;
                IF v_session.last_seen_at < pg_catalog.now() - LEAST(interval '1 minute', v_idle / 2) THEN
                    UPDATE finicom.sessions s SET last_seen_at = pg_catalog.now() WHERE s.id = v_session.id;
                END IF;
                IF p_org_id IS NOT NULL THEN
                    SELECT m.org_id, m.role INTO v_org, v_role FROM finicom.memberships m
                    WHERE m.org_id = p_org_id AND m.user_id = v_session.user_id;
                END IF;
            END IF;
        END IF;

        -- The context: an actor only when the credential verified, an org
        -- only when the actor holds a role there.  One expression.
        v_set := finicom.context_guard()
            AND pg_catalog.set_config('finicom.actor_type', coalesce(v_type, ''), true) IS NOT NULL
            AND pg_catalog.set_config('finicom.actor_id', coalesce(v_actor::text, ''), true) IS NOT NULL
            AND pg_catalog.set_config('finicom.org_id', coalesce(v_org::text, ''), true) IS NOT NULL
            AND pg_catalog.set_config('finicom.org_role', coalesce(v_role::text, ''), true) IS NOT NULL
            AND pg_catalog.set_config('finicom.request_id',
                    pg_catalog.left(coalesce(p_request_id, ''), 200), true) IS NOT NULL
            AND pg_catalog.set_config('finicom.client_ip',
                    pg_catalog.left(coalesce(p_client_ip, ''), 100), true) IS NOT NULL;

        IF v_type = 'api_key' THEN
            actor_type := 'api_key';
            actor_id := v_key.id;
            name := v_key.name;
            created_at := finicom.ts(v_key.created_at);
            org_id := v_key.org_id;
            org_role := CASE WHEN p_org_id IS NULL OR p_org_id = v_key.org_id THEN v_key.role::text END;
            RETURN NEXT;
        ELSIF v_type = 'user' AND v_user.id IS NOT NULL THEN
            IF v_org IS NOT NULL THEN
                INSERT INTO finicom.member_activity AS a (org_id, user_id, last_active_at)
                VALUES (v_org, v_user.id, pg_catalog.now())
                ON CONFLICT ON CONSTRAINT member_activity_pkey DO UPDATE SET last_active_at = excluded.last_active_at
                WHERE a.last_active_at < pg_catalog.now() - interval '1 minute';
            END IF;
            actor_type := 'user';
            actor_id := v_user.id;
            email := v_user.email;
            name := v_user.name;
            created_at := finicom.ts(v_user.created_at);
            org_id := v_org;
            org_role := v_role::text;
            RETURN NEXT;
        END IF;
    END
    $$;

-- The member list's rows: the verified org's memberships with their users
-- and activity, read with the owner's rights (so without the users
-- policy's sub-selects, which cost the list about a tenth of its
-- PostgreSQL CPU) and limited here, to the org of the request's context.
-- It shows no more than the policies would: members of the verified org
-- and their users.  security_barrier: a caller's own functions in a WHERE
-- clause see only rows that passed the org check.
CREATE VIEW finicom.member_rows WITH (security_barrier) AS
    SELECT m.org_id, m.user_id, m.role, m.joined_at, u.email, u.name, a.last_active_at
    FROM finicom.memberships m
    JOIN finicom.users u ON u.id = m.user_id
    LEFT JOIN finicom.member_activity a ON a.org_id = m.org_id AND a.user_id = m.user_id
    WHERE m.org_id = (SELECT finicom.request_org_id());
REVOKE ALL ON finicom.member_rows FROM PUBLIC;
GRANT SELECT ON finicom.member_rows TO finicom_app;

-- audit.stamp: an event without a verified actor is the DBA's ('db'), and
-- carries no request id or address either: before, a context that did not
-- verify had none; now the settings always verify (only finicom_owner and
-- superusers can write them), so the test is whether there is an actor.
CREATE OR REPLACE FUNCTION audit.stamp() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
    DECLARE
        v_type text := finicom.request_actor_type();
    BEGIN
        IF NEW.seq IS NOT NULL OR NEW.prev_hash IS NOT NULL OR NEW.hash IS NOT NULL
           OR NEW.sealed_at IS NOT NULL THEN
            RAISE EXCEPTION 'audit events are written pending and sealed by audit.seal_pending()'
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        NEW.id := pg_catalog.gen_random_uuid();
        NEW.at := pg_catalog.clock_timestamp();
        IF v_type IS NULL THEN
            -- No verified actor: a DBA in psql.
            NEW.actor_type := 'db';
            NEW.actor_id := NULL;
            NEW.actor_label := session_user;
            NEW.ip := NULL;
            NEW.request_id := NULL;
            RETURN NEW;
        END IF;
        NEW.actor_type := v_type;
        NEW.actor_id := finicom.request_actor_id();
        IF v_type = 'user' THEN
            NEW.actor_label := (SELECT u.email FROM finicom.users u WHERE u.id = NEW.actor_id);
        ELSIF v_type = 'api_key' THEN
            NEW.actor_label := (SELECT k.name FROM finicom.api_keys k WHERE k.id = NEW.actor_id);
        ELSE
            NEW.actor_label := 'pg_cron';
        END IF;
        NEW.ip := nullif(pg_catalog.current_setting('finicom.client_ip', true), '');
        NEW.request_id := nullif(pg_catalog.current_setting('finicom.request_id', true), '');
        RETURN NEW;
    END
    $$;

-- The seal and its key are gone.
DROP FUNCTION finicom.context_message();
DROP TABLE finicom.context_keys;

-- A member's JSON from its columns, so a list can build it from the
-- columns of its page without carrying whole rows through the page's
-- subquery (measured: the whole-row form cost a fifth more for 50 members).
-- member_json keeps its signature for the single-member replies and uses it.
CREATE FUNCTION finicom.member_item(p_user_id uuid, p_email text, p_name text, p_role finicom.role,
                                    p_joined_at timestamptz, p_last_active_at timestamptz)
    RETURNS json
    LANGUAGE sql STABLE
    AS $$
        SELECT pg_catalog.json_build_object(
            'user', pg_catalog.json_build_object('id', p_user_id, 'email', p_email, 'name', p_name),
            'role', p_role, 'joined_at', finicom.ts(p_joined_at),
            'last_active_at', finicom.ts(p_last_active_at))
    $$;
GRANT EXECUTE ON FUNCTION finicom.member_item(uuid, text, text, finicom.role, timestamptz, timestamptz)
    TO finicom_app;
CREATE OR REPLACE FUNCTION finicom.member_json(m finicom.memberships, p_email text, p_name text,
                                               p_last_active_at timestamptz)
    RETURNS json
    LANGUAGE sql STABLE
    AS $$ SELECT finicom.member_item(m.user_id, p_email, p_name, m.role, m.joined_at, p_last_active_at) $$;
