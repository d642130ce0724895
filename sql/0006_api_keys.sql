-- 0006_api_keys: API keys, and the actor they make.
--
-- A key belongs to one org and acts there with its own role.  The token
-- ("fcm_" + 43 base64url characters) is shown once, in the create reply;
-- only its SHA-256 is stored, with a short prefix for people to recognize
-- it.  Revoking stamps revoked_at: the very next request with the key finds
-- no actor and is 401.

CREATE TABLE finicom.api_keys (
    org_id       uuid NOT NULL REFERENCES finicom.orgs (id) ON DELETE CASCADE,
    id           uuid NOT NULL DEFAULT gen_random_uuid() UNIQUE,
    name         text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
    role         finicom.role NOT NULL,
    prefix       text NOT NULL CHECK (prefix ~ '^fcm_[A-Za-z0-9_-]{6}$'),
    token_hash   bytea NOT NULL UNIQUE CHECK (octet_length(token_hash) = 32),
    created_by   uuid REFERENCES finicom.users (id) ON DELETE SET NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz,
    last_used_at timestamptz,
    revoked_at   timestamptz,
    PRIMARY KEY (org_id, id)
);
CREATE INDEX api_keys_org_created_idx ON finicom.api_keys (org_id, created_at, id);

ALTER TABLE finicom.api_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE finicom.api_keys FORCE ROW LEVEL SECURITY;
CREATE POLICY api_keys_owner ON finicom.api_keys TO finicom_owner USING (true) WITH CHECK (true);
-- Admins only, for every command; writes only in the org of the request.
CREATE POLICY api_keys_select ON finicom.api_keys FOR SELECT TO finicom_app
    USING ((SELECT finicom.has_role(org_id, 'admin')));
CREATE POLICY api_keys_insert ON finicom.api_keys FOR INSERT TO finicom_app
    WITH CHECK ((SELECT finicom.has_role(org_id, 'admin')) AND org_id = (SELECT finicom.current_org_id()));
CREATE POLICY api_keys_update ON finicom.api_keys FOR UPDATE TO finicom_app
    USING ((SELECT finicom.has_role(org_id, 'admin')) AND org_id = (SELECT finicom.current_org_id()))
    WITH CHECK ((SELECT finicom.has_role(org_id, 'admin')) AND org_id = (SELECT finicom.current_org_id()));
CREATE POLICY api_keys_delete ON finicom.api_keys FOR DELETE TO finicom_app
    USING ((SELECT finicom.has_role(org_id, 'admin')) AND org_id = (SELECT finicom.current_org_id()));
-- The hash is needed by nobody but begin_request (SECURITY DEFINER).
GRANT SELECT (org_id, id, name, role, prefix, created_by, created_at, expires_at, last_used_at, revoked_at),
    INSERT, DELETE ON finicom.api_keys TO finicom_app;
GRANT UPDATE (revoked_at) ON finicom.api_keys TO finicom_app;

-- A usable key: not revoked, not expired.
CREATE FUNCTION finicom.api_key_live(k finicom.api_keys) RETURNS boolean
    LANGUAGE sql STABLE SET search_path = ''
    AS $$ SELECT k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > pg_catalog.now()) $$;

-- has_role() and can_see_user(), now knowing API keys: a key holds its own
-- role in its own org and nothing anywhere else.
CREATE OR REPLACE FUNCTION finicom.has_role(p_org uuid, p_min finicom.role) RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ''
    AS $$
        SELECT CASE finicom.current_actor_type()
            WHEN 'user' THEN EXISTS (
                SELECT 1 FROM finicom.memberships m
                WHERE m.org_id = p_org AND m.user_id = finicom.current_actor_id() AND m.role >= p_min)
            WHEN 'api_key' THEN EXISTS (
                SELECT 1 FROM finicom.api_keys k
                WHERE k.id = finicom.current_actor_id() AND k.org_id = p_org AND k.role >= p_min
                  AND finicom.api_key_live(k))
            ELSE false
        END
    $$;

CREATE OR REPLACE FUNCTION finicom.can_see_user(p_user uuid) RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ''
    AS $$
        SELECT CASE finicom.current_actor_type()
            WHEN 'user' THEN p_user = finicom.current_actor_id() OR EXISTS (
                SELECT 1 FROM finicom.memberships them
                JOIN finicom.memberships me ON me.org_id = them.org_id
                WHERE them.user_id = p_user AND me.user_id = finicom.current_actor_id())
            WHEN 'api_key' THEN EXISTS (
                SELECT 1 FROM finicom.memberships them
                JOIN finicom.api_keys k ON k.org_id = them.org_id
                WHERE them.user_id = p_user AND k.id = finicom.current_actor_id() AND finicom.api_key_live(k))
            ELSE false
        END
    $$;

-- An API key as API.md shows it (never the token or its hash).  Columns one
-- by one: finicom_app may not read token_hash, so no whole-row argument.
CREATE FUNCTION finicom.api_key_json(p_id uuid, p_name text, p_role finicom.role, p_prefix text,
                                     p_created_at timestamptz, p_expires_at timestamptz,
                                     p_last_used_at timestamptz, p_created_by uuid) RETURNS text
    LANGUAGE sql STABLE SET search_path = ''
    AS $$
        SELECT pg_catalog.json_build_object('id', p_id, 'name', p_name, 'role', p_role,
            'prefix', p_prefix, 'created_at', finicom.ts(p_created_at),
            'expires_at', finicom.ts(p_expires_at), 'last_used_at', finicom.ts(p_last_used_at),
            'created_by', p_created_by)::text
    $$;
GRANT EXECUTE ON FUNCTION finicom.api_key_live(finicom.api_keys),
    finicom.api_key_json(uuid, text, finicom.role, text, timestamptz, timestamptz, timestamptz, uuid)
    TO finicom_app;

-- begin_request, now with API keys.  For a key: the actor is the key, its
-- org is the key's org, and its role counts only when the path names that
-- org (or no org: GET /me).  last_used_at at most once a minute.
CREATE OR REPLACE FUNCTION finicom.begin_request(p_credential text, p_token_hash bytea, p_org_id uuid,
                                                 p_idle_seconds integer, p_request_id text, p_client_ip text)
    RETURNS TABLE (actor_type text, actor_id uuid, email text, name text,
                   created_at text, org_id uuid, org_role text)
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = ''
    AS $$
    DECLARE
        v_session finicom.sessions%ROWTYPE;
        v_member finicom.memberships%ROWTYPE;
        v_key finicom.api_keys%ROWTYPE;
        v_idle interval := pg_catalog.make_interval(secs => p_idle_seconds);
    BEGIN
        PERFORM pg_catalog.set_config('finicom.request_id', coalesce(p_request_id, ''), true);
        PERFORM pg_catalog.set_config('finicom.client_ip', coalesce(p_client_ip, ''), true);
        PERFORM pg_catalog.set_config('finicom.actor_type', '', true);
        PERFORM pg_catalog.set_config('finicom.actor_id', '', true);
        PERFORM pg_catalog.set_config('finicom.org_id', '', true);
        IF p_token_hash IS NULL THEN
            RETURN;
        END IF;

        IF p_credential = 'api_key' THEN
            SELECT * INTO v_key FROM finicom.api_keys k
            WHERE k.token_hash = p_token_hash AND finicom.api_key_live(k);
            IF NOT FOUND THEN
                RETURN;
            END IF;
            IF v_key.last_used_at IS NULL OR v_key.last_used_at < pg_catalog.now() - interval '1 minute' THEN
                UPDATE finicom.api_keys k SET last_used_at = pg_catalog.now()
                WHERE k.org_id = v_key.org_id AND k.id = v_key.id;
            END IF;
            PERFORM pg_catalog.set_config('finicom.actor_type', 'api_key', true);
            PERFORM pg_catalog.set_config('finicom.actor_id', v_key.id::text, true);
            IF p_org_id = v_key.org_id THEN
                PERFORM pg_catalog.set_config('finicom.org_id', p_org_id::text, true);
            END IF;
            RETURN QUERY SELECT 'api_key'::text, v_key.id, NULL::text, v_key.name, finicom.ts(v_key.created_at),
                v_key.org_id,
                CASE WHEN p_org_id IS NULL OR p_org_id = v_key.org_id THEN v_key.role::text END;
            RETURN;
        END IF;

        IF p_credential IS DISTINCT FROM 'session' THEN
            RETURN;
        END IF;
        SELECT * INTO v_session FROM finicom.sessions s
        WHERE s.token_hash = p_token_hash
          AND s.expires_at > pg_catalog.now()
          AND s.last_seen_at > pg_catalog.now() - v_idle;
        IF NOT FOUND THEN
            RETURN;
        END IF;
        IF v_session.last_seen_at < pg_catalog.now() - LEAST(interval '1 minute', v_idle / 2) THEN
            UPDATE finicom.sessions s SET last_seen_at = pg_catalog.now() WHERE s.id = v_session.id;
        END IF;
        PERFORM pg_catalog.set_config('finicom.actor_type', 'user', true);
        PERFORM pg_catalog.set_config('finicom.actor_id', v_session.user_id::text, true);
        IF p_org_id IS NOT NULL THEN
            SELECT * INTO v_member FROM finicom.memberships m
            WHERE m.org_id = p_org_id AND m.user_id = v_session.user_id;
            IF FOUND THEN
                PERFORM pg_catalog.set_config('finicom.org_id', p_org_id::text, true);
                INSERT INTO finicom.member_activity AS a (org_id, user_id, last_active_at)
                VALUES (p_org_id, v_session.user_id, pg_catalog.now())
                ON CONFLICT ON CONSTRAINT member_activity_pkey DO UPDATE SET last_active_at = excluded.last_active_at
                WHERE a.last_active_at < pg_catalog.now() - interval '1 minute';
            END IF;
        END IF;
        RETURN QUERY
            SELECT 'user'::text, u.id, u.email, u.name, finicom.ts(u.created_at),
                   v_member.org_id, v_member.role::text
            FROM finicom.users u WHERE u.id = v_session.user_id;
    END
    $$;

-- Create a key in the org of the request (the caller must be its admin);
-- returns the key's JSON (the caller adds the token, which the database
-- never sees).
CREATE FUNCTION finicom.api_key_create(p_org uuid, p_name text, p_role finicom.role, p_prefix text,
                                       p_token_hash bytea, p_expires_at timestamptz) RETURNS text
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = ''
    AS $$
    DECLARE
        v_key finicom.api_keys%ROWTYPE;
    BEGIN
        IF p_org IS DISTINCT FROM finicom.current_org_id() OR NOT finicom.has_role(p_org, 'admin') THEN
            RAISE EXCEPTION USING ERRCODE = 'F0403', MESSAGE = 'forbidden',
                DETAIL = 'only admins can create API keys';
        END IF;
        IF p_expires_at IS NOT NULL AND p_expires_at <= pg_catalog.now() THEN
            RAISE EXCEPTION USING ERRCODE = 'F0400', MESSAGE = 'validation_failed',
                DETAIL = 'expires_at must be in the future', HINT = 'expires_at';
        END IF;
        INSERT INTO finicom.api_keys (org_id, name, role, prefix, token_hash, created_by, expires_at)
        VALUES (p_org, p_name, p_role, p_prefix, p_token_hash, finicom.current_user_id(), p_expires_at)
        RETURNING * INTO v_key;
        RETURN finicom.api_key_json(v_key.id, v_key.name, v_key.role, v_key.prefix, v_key.created_at,
                                    v_key.expires_at, v_key.last_used_at, v_key.created_by);
    END
    $$;
GRANT EXECUTE ON FUNCTION finicom.api_key_create(uuid, text, finicom.role, text, bytea, timestamptz)
    TO finicom_app;
