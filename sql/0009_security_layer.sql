-- 0009_security_layer: a request context finicom_app cannot forge, policies
-- that cost O(1) per statement, and JSON built by inlinable SQL.
--
-- The verified request context.  finicom.begin_request() (SECURITY DEFINER,
-- owned by finicom_owner) identifies the caller, looks up its role in the
-- org of the path once, and seals the result with finicom.context_seal():
-- transaction-local settings
--   finicom.actor_type  user | api_key | system
--   finicom.actor_id    the user's or API key's id
--   finicom.org_id      the org of the path, only when the actor holds a role there
--   finicom.org_role    that role (read | write | admin)
--   finicom.request_id, finicom.client_ip
--   finicom.context     HMAC-SHA256 over all of the above and over this
--                       backend's pid and this transaction's start time
-- under a key (finicom.context_keys) that only finicom_owner can read.
-- finicom.context_ok() recomputes the MAC: settings made by hand with
-- set_config, or copied from an earlier transaction (another start time) or
-- another connection (another pid), do not verify, and then every helper
-- below returns NULL and every policy sees nothing.
--
-- The MAC is NMAC-SHA256 with two independent 64-byte random keys (one
-- SHA-256 block each): mac = sha256(k_out || sha256(k_in || message)); it
-- needs no extension.  The stored and the computed MAC are compared through
-- their SHA-256, so the comparison's timing says nothing about either.
--
-- Policy cost.  Every policy compares the row's org_id with the verified
-- org, and reads the verified role, through (SELECT finicom.request_...()):
-- the planner runs each such sub-select once per statement (an InitPlan),
-- so a policy costs O(1) per statement and the (org_id, ...) indexes serve
-- it.  The request_* helpers are plain LANGUAGE sql STABLE functions (no
-- SECURITY DEFINER, no SET search_path) that inline; the one SECURITY
-- DEFINER function they reach, context_ok(), takes no argument.
--
-- JSON.  The helpers that build API JSON (ts, cursor_key, member_json,
-- org_json, api_key_json, sync_run_json, audit.event_json) drop their
-- SET search_path, so they inline into the list queries: one statement,
-- no per-row function call.  They return json, not text, so json_agg does
-- not parse them again.  Secret config values are masked at write time in a
-- generated column (config_masked), so replies pass through as PostgreSQL
-- built them.

-- ---------------------------------------------------------------------
-- The key, readable by its owner only (no policy for anyone else, no grant).
CREATE TABLE finicom.context_keys (
    id        smallint PRIMARY KEY CHECK (id = 1),
    inner_key bytea NOT NULL CHECK (octet_length(inner_key) = 64),
    outer_key bytea NOT NULL CHECK (octet_length(outer_key) = 64),
    created_at timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE finicom.context_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE finicom.context_keys FORCE ROW LEVEL SECURITY;
CREATE POLICY context_keys_owner ON finicom.context_keys TO finicom_owner USING (true) WITH CHECK (true);
REVOKE ALL ON finicom.context_keys FROM PUBLIC;

-- 64 random bytes: gen_random_uuid() draws from pg_strong_random(); four of
-- them (122 random bits each) hashed in two halves.
INSERT INTO finicom.context_keys (id, inner_key, outer_key)
SELECT 1,
       sha256(convert_to(gen_random_uuid()::text || gen_random_uuid()::text, 'UTF8'))
         || sha256(convert_to(gen_random_uuid()::text || gen_random_uuid()::text, 'UTF8')),
       sha256(convert_to(gen_random_uuid()::text || gen_random_uuid()::text, 'UTF8'))
         || sha256(convert_to(gen_random_uuid()::text || gen_random_uuid()::text, 'UTF8'));

-- The message the MAC covers: the settings as text, unparsed (so a forged
-- value can never make the check itself fail), with this backend and this
-- transaction.  Fields are separated by a byte no setting can contain.
CREATE FUNCTION finicom.context_message() RETURNS bytea
    LANGUAGE sql STABLE
    AS $$
        SELECT pg_catalog.convert_to(pg_catalog.concat_ws(E'\x1f', 'finicom-context-v1',
            pg_catalog.pg_backend_pid(), EXTRACT(epoch FROM pg_catalog.now()),
            pg_catalog.current_setting('finicom.actor_type', true),
            pg_catalog.current_setting('finicom.actor_id', true),
            pg_catalog.current_setting('finicom.org_id', true),
            pg_catalog.current_setting('finicom.org_role', true),
            pg_catalog.current_setting('finicom.request_id', true),
            pg_catalog.current_setting('finicom.client_ip', true)), 'UTF8')
    $$;

-- Set and seal the context of this transaction (with p_actor_type NULL: no
-- actor, only the request id and address).  Owner only: finicom_app
-- reaches it through begin_request and the other SECURITY DEFINER entry
-- points, never directly.
CREATE FUNCTION finicom.context_seal(p_actor_type text, p_actor_id uuid, p_org_id uuid,
                                     p_role finicom.role, p_request_id text, p_client_ip text)
    RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = ''
    AS $$
    DECLARE
        k finicom.context_keys%ROWTYPE;
    BEGIN
        PERFORM pg_catalog.set_config('finicom.actor_type', coalesce(p_actor_type, ''), true),
                pg_catalog.set_config('finicom.actor_id', coalesce(p_actor_id::text, ''), true),
                pg_catalog.set_config('finicom.org_id', coalesce(p_org_id::text, ''), true),
                pg_catalog.set_config('finicom.org_role', coalesce(p_role::text, ''), true),
                pg_catalog.set_config('finicom.request_id', pg_catalog.left(coalesce(p_request_id, ''), 200), true),
                pg_catalog.set_config('finicom.client_ip', pg_catalog.left(coalesce(p_client_ip, ''), 100), true);
        SELECT * INTO STRICT k FROM finicom.context_keys WHERE id = 1;
        PERFORM pg_catalog.set_config('finicom.context', pg_catalog.encode(
            pg_catalog.sha256(k.outer_key || pg_catalog.sha256(k.inner_key || finicom.context_message())),
            'hex'), true);
    END
    $$;

-- Does the context of this transaction carry a valid seal?  Called once per
-- statement per policy sub-select (an InitPlan), never per row.
CREATE FUNCTION finicom.context_ok() RETURNS boolean
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = ''
    AS $$
    DECLARE
        v_mac text := pg_catalog.current_setting('finicom.context', true);
        k finicom.context_keys%ROWTYPE;
    BEGIN
        -- 64 hex digits, checked without a regular expression (this runs
        -- once per policy sub-select, so every microsecond counts).
        IF v_mac IS NULL OR pg_catalog.octet_length(v_mac) <> 64
           OR pg_catalog.ltrim(v_mac, '0123456789abcdef') <> '' THEN
            RETURN false;
        END IF;
        SELECT * INTO k FROM finicom.context_keys WHERE id = 1;
        IF NOT FOUND THEN
            RETURN false;
        END IF;
        RETURN pg_catalog.sha256(pg_catalog.decode(v_mac, 'hex'))
             = pg_catalog.sha256(pg_catalog.sha256(k.outer_key
                   || pg_catalog.sha256(k.inner_key || finicom.context_message())));
    END
    $$;

-- The verified context, NULL for anything that does not verify.  Inlinable:
-- write (SELECT finicom.request_org_id()) in a policy and it runs once.
CREATE FUNCTION finicom.request_actor_type() RETURNS text
    LANGUAGE sql STABLE
    AS $$ SELECT CASE WHEN finicom.context_ok()
                      THEN nullif(pg_catalog.current_setting('finicom.actor_type', true), '') END $$;
CREATE FUNCTION finicom.request_actor_id() RETURNS uuid
    LANGUAGE sql STABLE
    AS $$ SELECT CASE WHEN finicom.context_ok()
                      THEN nullif(pg_catalog.current_setting('finicom.actor_id', true), '')::uuid END $$;
CREATE FUNCTION finicom.request_user_id() RETURNS uuid
    LANGUAGE sql STABLE
    AS $$ SELECT CASE WHEN finicom.context_ok()
                       AND pg_catalog.current_setting('finicom.actor_type', true) = 'user'
                      THEN nullif(pg_catalog.current_setting('finicom.actor_id', true), '')::uuid END $$;
CREATE FUNCTION finicom.request_org_id() RETURNS uuid
    LANGUAGE sql STABLE
    AS $$ SELECT CASE WHEN finicom.context_ok()
                      THEN nullif(pg_catalog.current_setting('finicom.org_id', true), '')::uuid END $$;
-- The verified org when the verified role there is at least p_min: one
-- sub-select per policy, not two.
CREATE FUNCTION finicom.request_org_for(p_min finicom.role) RETURNS uuid
    LANGUAGE sql STABLE
    AS $$ SELECT CASE WHEN finicom.context_ok()
                       AND nullif(pg_catalog.current_setting('finicom.org_role', true), '')::finicom.role >= p_min
                      THEN nullif(pg_catalog.current_setting('finicom.org_id', true), '')::uuid END $$;
CREATE FUNCTION finicom.request_role() RETURNS finicom.role
    LANGUAGE sql STABLE
    AS $$ SELECT CASE WHEN finicom.context_ok()
                      THEN nullif(pg_catalog.current_setting('finicom.org_role', true), '')::finicom.role END $$;

GRANT EXECUTE ON FUNCTION finicom.context_ok(),
    finicom.request_actor_type(), finicom.request_actor_id(), finicom.request_user_id(),
    finicom.request_org_id(), finicom.request_org_for(finicom.role), finicom.request_role()
    TO finicom_app, finicom_mailer, finicom_auditor;

-- The helpers of 0002/0003 keep their names (column defaults and functions
-- use them) and now read the verified context; they inline too.
CREATE OR REPLACE FUNCTION finicom.current_actor_type() RETURNS text
    LANGUAGE sql STABLE
    AS $$ SELECT finicom.request_actor_type() $$;
CREATE OR REPLACE FUNCTION finicom.current_actor_id() RETURNS uuid
    LANGUAGE sql STABLE
    AS $$ SELECT finicom.request_actor_id() $$;
CREATE OR REPLACE FUNCTION finicom.current_user_id() RETURNS uuid
    LANGUAGE sql STABLE
    AS $$ SELECT finicom.request_user_id() $$;
CREATE OR REPLACE FUNCTION finicom.current_org_id() RETURNS uuid
    LANGUAGE sql STABLE
    AS $$ SELECT finicom.request_org_id() $$;
-- Does the verified context hold at least p_min in p_org?
CREATE OR REPLACE FUNCTION finicom.has_role(p_org uuid, p_min finicom.role) RETURNS boolean
    LANGUAGE sql STABLE
    AS $$ SELECT coalesce(p_org = finicom.request_org_id() AND finicom.request_role() >= p_min, false) $$;

-- Enter the context of an actor: look up its role in p_org once (a user
-- through the membership, an API key through its own org and role), seal
-- the context, and return the org and role that count (NULLs when the
-- actor holds nothing there).  Owner only; begin_request calls it, and the
-- pgTAP suites call it as the superuser to act as someone.
CREATE FUNCTION finicom.context_enter(p_actor_type text, p_actor_id uuid, p_org_id uuid,
                                      p_request_id text, p_client_ip text,
                                      OUT org_id uuid, OUT org_role finicom.role)
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = ''
    AS $$
    BEGIN
        IF p_actor_type = 'user' AND p_org_id IS NOT NULL THEN
            SELECT m.org_id, m.role INTO org_id, org_role FROM finicom.memberships m
            WHERE m.org_id = p_org_id AND m.user_id = p_actor_id;
        ELSIF p_actor_type = 'api_key' AND p_org_id IS NOT NULL THEN
            SELECT k.org_id, k.role INTO org_id, org_role FROM finicom.api_keys k
            WHERE k.id = p_actor_id AND k.org_id = p_org_id
              AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > pg_catalog.now());
        END IF;
        PERFORM finicom.context_seal(p_actor_type, CASE WHEN p_actor_type IS NOT NULL THEN p_actor_id END,
                                     org_id, org_role, p_request_id, p_client_ip);
    END
    $$;

-- ---------------------------------------------------------------------
-- begin_request: the same signature and columns as in 0006; the context is
-- now sealed, with the role of the org of the path.  For an API key the
-- org counts only when the path names the key's own org; its role is
-- returned also when the path names no org (GET /me), but the context then
-- holds no org and so no role.
CREATE OR REPLACE FUNCTION finicom.begin_request(p_credential text, p_token_hash bytea, p_org_id uuid,
                                                 p_idle_seconds integer, p_request_id text, p_client_ip text)
    RETURNS TABLE (actor_type text, actor_id uuid, email text, name text,
                   created_at text, org_id uuid, org_role text)
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = ''
    AS $$
    DECLARE
        v_session finicom.sessions%ROWTYPE;
        v_key finicom.api_keys%ROWTYPE;
        v_ctx record;
        v_idle interval := pg_catalog.make_interval(secs => p_idle_seconds);
    BEGIN
        -- No credential, or one that does not verify: a sealed context
        -- with no actor (the request id and address only).
        IF p_token_hash IS NULL OR p_credential IS NULL OR p_credential NOT IN ('api_key', 'session') THEN
            PERFORM finicom.context_seal(NULL, NULL, NULL, NULL, p_request_id, p_client_ip);
            RETURN;
        END IF;

        IF p_credential = 'api_key' THEN
            SELECT * INTO v_key FROM finicom.api_keys k
            WHERE k.token_hash = p_token_hash
              AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > pg_catalog.now());
            IF NOT FOUND THEN
                PERFORM finicom.context_seal(NULL, NULL, NULL, NULL, p_request_id, p_client_ip);
                RETURN;
            END IF;
            IF v_key.last_used_at IS NULL OR v_key.last_used_at < pg_catalog.now() - interval '1 minute' THEN
                UPDATE finicom.api_keys k SET last_used_at = pg_catalog.now()
                WHERE k.org_id = v_key.org_id AND k.id = v_key.id;
            END IF;
            v_ctx := finicom.context_enter('api_key', v_key.id, p_org_id, p_request_id, p_client_ip);
            RETURN QUERY SELECT 'api_key'::text, v_key.id, NULL::text, v_key.name, finicom.ts(v_key.created_at),
                v_key.org_id,
                CASE WHEN p_org_id IS NULL OR p_org_id = v_key.org_id THEN v_key.role::text END;
            RETURN;
        END IF;

        SELECT * INTO v_session FROM finicom.sessions s
        WHERE s.token_hash = p_token_hash
          AND s.expires_at > pg_catalog.now()
          AND s.last_seen_at > pg_catalog.now() - v_idle;
        IF NOT FOUND THEN
            PERFORM finicom.context_seal(NULL, NULL, NULL, NULL, p_request_id, p_client_ip);
            RETURN;
        END IF;
        IF v_session.last_seen_at < pg_catalog.now() - LEAST(interval '1 minute', v_idle / 2) THEN
            UPDATE finicom.sessions s SET last_seen_at = pg_catalog.now() WHERE s.id = v_session.id;
        END IF;
        v_ctx := finicom.context_enter('user', v_session.user_id, p_org_id, p_request_id, p_client_ip);
        IF v_ctx.org_id IS NOT NULL THEN
            INSERT INTO finicom.member_activity AS a (org_id, user_id, last_active_at)
            VALUES (v_ctx.org_id, v_session.user_id, pg_catalog.now())
            ON CONFLICT ON CONSTRAINT member_activity_pkey DO UPDATE SET last_active_at = excluded.last_active_at
            WHERE a.last_active_at < pg_catalog.now() - interval '1 minute';
        END IF;
        RETURN QUERY
            SELECT 'user'::text, u.id, u.email, u.name, finicom.ts(u.created_at),
                   v_ctx.org_id, v_ctx.org_role::text
            FROM finicom.users u WHERE u.id = v_session.user_id;
    END
    $$;

-- org_create: the creator is the new org's admin, and the context says so.
CREATE OR REPLACE FUNCTION finicom.org_create(p_name text) RETURNS SETOF finicom.orgs
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = ''
    AS $$
    DECLARE
        v_user uuid := finicom.request_user_id();
        v_org finicom.orgs%ROWTYPE;
    BEGIN
        IF v_user IS NULL THEN
            RAISE EXCEPTION USING ERRCODE = 'F0403', MESSAGE = 'forbidden',
                DETAIL = 'only a signed-in user can create an organization';
        END IF;
        INSERT INTO finicom.orgs (name) VALUES (p_name) RETURNING * INTO v_org;
        INSERT INTO finicom.memberships (org_id, user_id, role) VALUES (v_org.id, v_user, 'admin');
        PERFORM finicom.context_enter('user', v_user, v_org.id,
            nullif(pg_catalog.current_setting('finicom.request_id', true), ''),
            nullif(pg_catalog.current_setting('finicom.client_ip', true), ''));
        RETURN NEXT v_org;
    END
    $$;

-- The pg_cron expiry runs as the system actor, in a sealed context.
CREATE OR REPLACE FUNCTION finicom.expire_invitations() RETURNS integer
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = ''
    AS $$
    DECLARE
        n integer;
    BEGIN
        PERFORM finicom.context_seal('system', NULL, NULL, NULL, NULL, NULL);
        UPDATE finicom.invitations i SET status = 'expired'
        WHERE i.status = 'pending' AND i.expires_at <= pg_catalog.now();
        GET DIAGNOSTICS n = ROW_COUNT;
        UPDATE finicom.mail_outbox m
        SET status = 'canceled', body = pg_catalog.replace(m.body, m.link, '(link removed)'), link = NULL
        FROM finicom.invitations i
        WHERE m.status = 'queued' AND i.id = m.invitation_id AND i.org_id = m.org_id AND i.status = 'expired';
        RETURN n;
    END
    $$;

-- The actor of an audit event: the verified context only.  A context that
-- does not verify (or none: a DBA in psql) is recorded as 'db' with the
-- session's role, as before.
CREATE OR REPLACE FUNCTION audit.append(p_org uuid, p_action text, p_target_type text, p_target_id uuid,
                                        p_details jsonb) RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = ''
    AS $$
    DECLARE
        v_ok boolean := finicom.context_ok();
        v_type text := CASE WHEN v_ok THEN nullif(pg_catalog.current_setting('finicom.actor_type', true), '') END;
        v_id uuid := CASE WHEN v_ok THEN nullif(pg_catalog.current_setting('finicom.actor_id', true), '')::uuid END;
        v_label text;
        v_seq bigint;
        v_prev bytea;
        e audit.events%ROWTYPE;
    BEGIN
        IF v_type IS NULL THEN
            v_type := 'db';
            v_id := NULL;
            v_label := session_user;
        ELSIF v_type = 'user' THEN
            SELECT u.email INTO v_label FROM finicom.users u WHERE u.id = v_id;
        ELSIF v_type = 'api_key' THEN
            SELECT k.name INTO v_label FROM finicom.api_keys k WHERE k.id = v_id;
        ELSE
            v_label := 'pg_cron';
        END IF;
        -- Serialize per org: lock its head (created on the first event).
        INSERT INTO audit.chain_heads (org_id, seq, hash)
        VALUES (p_org, 0, '\x0000000000000000000000000000000000000000000000000000000000000000')
        ON CONFLICT (org_id) DO NOTHING;
        SELECT h.seq, h.hash INTO v_seq, v_prev FROM audit.chain_heads h WHERE h.org_id = p_org FOR UPDATE;
        e.id := gen_random_uuid();
        e.org_id := p_org;
        e.seq := v_seq + 1;
        e.at := pg_catalog.clock_timestamp();
        e.action := p_action;
        e.actor_type := v_type;
        e.actor_id := v_id;
        e.actor_label := v_label;
        e.target_type := p_target_type;
        e.target_id := p_target_id;
        e.details := coalesce(p_details, '{}');
        e.ip := CASE WHEN v_ok THEN nullif(pg_catalog.current_setting('finicom.client_ip', true), '') END;
        e.request_id := CASE WHEN v_ok THEN nullif(pg_catalog.current_setting('finicom.request_id', true), '') END;
        e.prev_hash := v_prev;
        e.hash := pg_catalog.sha256(v_prev || audit.canonical(e));
        INSERT INTO audit.events VALUES (e.*);
        UPDATE audit.chain_heads h SET seq = e.seq, hash = e.hash WHERE h.org_id = p_org;
    END
    $$;

-- ---------------------------------------------------------------------
-- Policies: the verified org and role, once per statement.
--   read   org_id = (SELECT finicom.request_org_id())
--   write  org_id = (SELECT finicom.request_org_for('write'))
--   admin  org_id = (SELECT finicom.request_org_for('admin'))
-- The org of a request is set only for an actor that holds a role there,
-- so "org_id = the verified org" already means "a member".  Writes can only
-- touch the org of the request, as before.

ALTER POLICY orgs_select ON finicom.orgs
    USING (id = (SELECT finicom.request_org_id())
           OR id IN (SELECT m.org_id FROM finicom.memberships m
                     WHERE m.user_id = (SELECT finicom.request_user_id())));
ALTER POLICY orgs_update ON finicom.orgs
    USING (id = (SELECT finicom.request_org_for('admin')))
    WITH CHECK (id = (SELECT finicom.request_org_for('admin')));
ALTER POLICY orgs_delete ON finicom.orgs
    USING (id = (SELECT finicom.request_org_for('admin')));

-- Members of the org of the request; and, with or without an org, the
-- signed-in user's own memberships (GET /me, GET /orgs).
ALTER POLICY memberships_select ON finicom.memberships
    USING (org_id = (SELECT finicom.request_org_id()) OR user_id = (SELECT finicom.request_user_id()));
ALTER POLICY memberships_insert ON finicom.memberships
    WITH CHECK (org_id = (SELECT finicom.request_org_for('admin')));
ALTER POLICY memberships_update ON finicom.memberships
    USING (org_id = (SELECT finicom.request_org_for('admin')))
    WITH CHECK (org_id = (SELECT finicom.request_org_for('admin')));
ALTER POLICY memberships_delete ON finicom.memberships
    USING (org_id = (SELECT finicom.request_org_for('admin'))
           OR (org_id = (SELECT finicom.request_org_id()) AND user_id = (SELECT finicom.request_user_id())));
ALTER POLICY member_activity_select ON finicom.member_activity
    USING (org_id = (SELECT finicom.request_org_id()));

-- Users: oneself, and the people whose memberships the caller sees (the
-- members of the org of the request); for its admins also whoever invited
-- someone to it (the inviter may have left).  Each IN (...) runs once per
-- statement (a hashed SubPlan over the org's rows), not per user row.
DROP POLICY users_select ON finicom.users;
CREATE POLICY users_select ON finicom.users FOR SELECT TO finicom_app
    USING (id = (SELECT finicom.request_user_id())
           OR id IN (SELECT m.user_id FROM finicom.memberships m)
           OR id IN (SELECT i.invited_by FROM finicom.invitations i));

-- Admin-only tables.
ALTER POLICY invitations_select ON finicom.invitations
    USING (org_id = (SELECT finicom.request_org_for('admin')));
ALTER POLICY invitations_insert ON finicom.invitations
    WITH CHECK (org_id = (SELECT finicom.request_org_for('admin')));
ALTER POLICY invitations_update ON finicom.invitations
    USING (org_id = (SELECT finicom.request_org_for('admin')))
    WITH CHECK (org_id = (SELECT finicom.request_org_for('admin')));
ALTER POLICY invitations_delete ON finicom.invitations
    USING (org_id = (SELECT finicom.request_org_for('admin')));
ALTER POLICY mail_outbox_app_select ON finicom.mail_outbox
    USING (org_id = (SELECT finicom.request_org_for('admin')));
ALTER POLICY api_keys_select ON finicom.api_keys
    USING (org_id = (SELECT finicom.request_org_for('admin')));
ALTER POLICY api_keys_insert ON finicom.api_keys
    WITH CHECK (org_id = (SELECT finicom.request_org_for('admin')));
ALTER POLICY api_keys_update ON finicom.api_keys
    USING (org_id = (SELECT finicom.request_org_for('admin')))
    WITH CHECK (org_id = (SELECT finicom.request_org_for('admin')));
ALTER POLICY api_keys_delete ON finicom.api_keys
    USING (org_id = (SELECT finicom.request_org_for('admin')));
ALTER POLICY events_app ON audit.events
    USING (org_id = (SELECT finicom.request_org_for('admin')));
-- Data objects: read for every member, write for write and admin.
ALTER POLICY sources_select ON finicom.sources
    USING (org_id = (SELECT finicom.request_org_id()));
ALTER POLICY sources_insert ON finicom.sources
    WITH CHECK (org_id = (SELECT finicom.request_org_for('write')));
ALTER POLICY sources_update ON finicom.sources
    USING (org_id = (SELECT finicom.request_org_for('write')))
    WITH CHECK (org_id = (SELECT finicom.request_org_for('write')));
ALTER POLICY sources_delete ON finicom.sources
    USING (org_id = (SELECT finicom.request_org_for('write')));
ALTER POLICY integrations_select ON finicom.integrations
    USING (org_id = (SELECT finicom.request_org_id()));
ALTER POLICY integrations_insert ON finicom.integrations
    WITH CHECK (org_id = (SELECT finicom.request_org_for('write')));
ALTER POLICY integrations_update ON finicom.integrations
    USING (org_id = (SELECT finicom.request_org_for('write')))
    WITH CHECK (org_id = (SELECT finicom.request_org_for('write')));
ALTER POLICY integrations_delete ON finicom.integrations
    USING (org_id = (SELECT finicom.request_org_for('write')));
ALTER POLICY destinations_select ON finicom.destinations
    USING (org_id = (SELECT finicom.request_org_id()));
ALTER POLICY destinations_insert ON finicom.destinations
    WITH CHECK (org_id = (SELECT finicom.request_org_for('write')));
ALTER POLICY destinations_update ON finicom.destinations
    USING (org_id = (SELECT finicom.request_org_for('write')))
    WITH CHECK (org_id = (SELECT finicom.request_org_for('write')));
ALTER POLICY destinations_delete ON finicom.destinations
    USING (org_id = (SELECT finicom.request_org_for('write')));
ALTER POLICY connections_select ON finicom.connections
    USING (org_id = (SELECT finicom.request_org_id()));
ALTER POLICY connections_insert ON finicom.connections
    WITH CHECK (org_id = (SELECT finicom.request_org_for('write')));
ALTER POLICY connections_update ON finicom.connections
    USING (org_id = (SELECT finicom.request_org_for('write')))
    WITH CHECK (org_id = (SELECT finicom.request_org_for('write')));
ALTER POLICY connections_delete ON finicom.connections
    USING (org_id = (SELECT finicom.request_org_for('write')));
ALTER POLICY connection_integrations_select ON finicom.connection_integrations
    USING (org_id = (SELECT finicom.request_org_id()));
ALTER POLICY connection_integrations_insert ON finicom.connection_integrations
    WITH CHECK (org_id = (SELECT finicom.request_org_for('write')));
ALTER POLICY connection_integrations_update ON finicom.connection_integrations
    USING (org_id = (SELECT finicom.request_org_for('write')))
    WITH CHECK (org_id = (SELECT finicom.request_org_for('write')));
ALTER POLICY connection_integrations_delete ON finicom.connection_integrations
    USING (org_id = (SELECT finicom.request_org_for('write')));
ALTER POLICY sync_runs_select ON finicom.sync_runs
    USING (org_id = (SELECT finicom.request_org_id()));
ALTER POLICY sync_runs_insert ON finicom.sync_runs
    WITH CHECK (org_id = (SELECT finicom.request_org_for('write')));
ALTER POLICY sync_runs_update ON finicom.sync_runs
    USING (org_id = (SELECT finicom.request_org_for('write')))
    WITH CHECK (org_id = (SELECT finicom.request_org_for('write')));
ALTER POLICY sync_runs_delete ON finicom.sync_runs
    USING (org_id = (SELECT finicom.request_org_for('write')));

-- The per-row helpers that did not inline, and are not needed any more.
DROP FUNCTION finicom.can_see_user(uuid);

-- ---------------------------------------------------------------------
-- JSON helpers that inline: no SET search_path (every name inside is
-- qualified), STABLE (to_char is), json out.
CREATE OR REPLACE FUNCTION finicom.ts(t timestamptz) RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT pg_catalog.to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') $$;
CREATE OR REPLACE FUNCTION finicom.cursor_key(t timestamptz, id uuid) RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT pg_catalog.to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') || ',' || id $$;
CREATE OR REPLACE FUNCTION finicom.effective_plan(o finicom.orgs) RETURNS finicom.plan
    LANGUAGE sql STABLE
    AS $$
        SELECT CASE WHEN o.plan = 'trial' AND o.trial_ends_at <= pg_catalog.now()
                    THEN 'free'::finicom.plan ELSE o.plan END
    $$;
CREATE OR REPLACE FUNCTION finicom.api_key_live(k finicom.api_keys) RETURNS boolean
    LANGUAGE sql STABLE
    AS $$ SELECT k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > pg_catalog.now()) $$;

DROP FUNCTION finicom.org_json(finicom.orgs, text);
CREATE FUNCTION finicom.org_json(o finicom.orgs, p_role text) RETURNS json
    LANGUAGE sql STABLE
    AS $$
        SELECT pg_catalog.json_build_object('id', o.id, 'name', o.name,
            'created_at', finicom.ts(o.created_at), 'role', p_role,
            'invite_ttl_hours', o.invite_ttl_hours)
    $$;

DROP FUNCTION finicom.member_json(finicom.memberships, text, text, timestamptz);
CREATE FUNCTION finicom.member_json(m finicom.memberships, p_email text, p_name text,
                                    p_last_active_at timestamptz) RETURNS json
    LANGUAGE sql STABLE
    AS $$
        SELECT pg_catalog.json_build_object(
            'user', pg_catalog.json_build_object('id', m.user_id, 'email', p_email, 'name', p_name),
            'role', m.role, 'joined_at', finicom.ts(m.joined_at),
            'last_active_at', finicom.ts(p_last_active_at))
    $$;

DROP FUNCTION finicom.api_key_json(uuid, text, finicom.role, text, timestamptz, timestamptz, timestamptz, uuid);
CREATE FUNCTION finicom.api_key_json(p_id uuid, p_name text, p_role finicom.role, p_prefix text,
                                     p_created_at timestamptz, p_expires_at timestamptz,
                                     p_last_used_at timestamptz, p_created_by uuid) RETURNS json
    LANGUAGE sql STABLE
    AS $$
        SELECT pg_catalog.json_build_object('id', p_id, 'name', p_name, 'role', p_role,
            'prefix', p_prefix, 'created_at', finicom.ts(p_created_at),
            'expires_at', finicom.ts(p_expires_at), 'last_used_at', finicom.ts(p_last_used_at),
            'created_by', p_created_by)
    $$;

DROP FUNCTION finicom.sync_run_json(finicom.sync_runs);
CREATE FUNCTION finicom.sync_run_json(r finicom.sync_runs) RETURNS json
    LANGUAGE sql STABLE
    AS $$
        SELECT pg_catalog.json_build_object('id', r.id, 'connection_id', r.connection_id,
            'status', r.status, 'requested_by', r.requested_by,
            'requested_at', finicom.ts(r.requested_at), 'started_at', finicom.ts(r.started_at),
            'finished_at', finicom.ts(r.finished_at))
    $$;

DROP FUNCTION audit.event_json(audit.events);
CREATE FUNCTION audit.event_json(e audit.events) RETURNS json
    LANGUAGE sql STABLE
    AS $$
        SELECT pg_catalog.json_build_object('id', e.id, 'at', finicom.ts(e.at), 'action', e.action,
            'actor', pg_catalog.json_build_object('type', e.actor_type, 'id', e.actor_id, 'label', e.actor_label),
            'target', pg_catalog.json_build_object('type', e.target_type, 'id', e.target_id),
            'details', e.details, 'ip', e.ip, 'request_id', e.request_id)
    $$;

-- Invitations as the API shows them, with the inviter and the delivery
-- status of the latest mail.  A view (security_invoker: the caller's
-- policies apply), so the list query plans it inline: the inviter is a
-- join and the mail status an index probe, no function call per row.
CREATE VIEW finicom.invitation_items WITH (security_invoker = true) AS
    SELECT i.org_id, i.id, i.created_at, s.status,
           pg_catalog.json_build_object(
               'id', i.id, 'email', i.email, 'role', i.role, 'status', s.status,
               'invited_by', CASE WHEN u.id IS NOT NULL THEN
                   pg_catalog.json_build_object('id', u.id, 'email', u.email, 'name', u.name) END,
               'created_at', finicom.ts(i.created_at),
               'expires_at', finicom.ts(i.expires_at),
               'email_status', (SELECT m.status FROM finicom.mail_outbox m
                                WHERE m.org_id = i.org_id AND m.invitation_id = i.id
                                ORDER BY m.created_at DESC LIMIT 1)) AS item
    FROM finicom.invitations i
    LEFT JOIN finicom.users u ON u.id = i.invited_by
    CROSS JOIN LATERAL (SELECT CASE WHEN i.status = 'pending' AND i.expires_at <= pg_catalog.now()
                                    THEN 'expired' ELSE i.status::text END AS status) s;

-- One invitation's JSON (create and resend return it; they run as the owner).
DROP FUNCTION finicom.invitation_json(finicom.invitations);
CREATE FUNCTION finicom.invitation_json(i finicom.invitations) RETURNS json
    LANGUAGE sql STABLE
    AS $$ SELECT v.item FROM finicom.invitation_items v WHERE v.org_id = i.org_id AND v.id = i.id $$;

GRANT SELECT ON finicom.invitation_items TO finicom_app;
GRANT EXECUTE ON FUNCTION finicom.org_json(finicom.orgs, text),
    finicom.member_json(finicom.memberships, text, text, timestamptz),
    finicom.api_key_json(uuid, text, finicom.role, text, timestamptz, timestamptz, timestamptz, uuid),
    finicom.sync_run_json(finicom.sync_runs), finicom.invitation_json(finicom.invitations)
    TO finicom_app;
GRANT EXECUTE ON FUNCTION audit.event_json(audit.events) TO finicom_app, finicom_auditor;

-- ---------------------------------------------------------------------
-- Secret config values as replies show them: every non-null value whose
-- key ends in password, secret, token, api_key or private_key (ASCII case
-- folded only, like finicomd's secret_name(); lower() would fold U+212A
-- into k) becomes "********", at any depth.  Stored as a generated column,
-- so reads pass the masked config through without a function call.
CREATE FUNCTION finicom.config_mask(p jsonb) RETURNS jsonb
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
        SELECT CASE pg_catalog.jsonb_typeof(p)
            WHEN 'object' THEN (
                SELECT coalesce(pg_catalog.jsonb_object_agg(e.key,
                    CASE WHEN e.key OPERATOR(pg_catalog.~)
                              '([Pp][Aa][Ss][Ss][Ww][Oo][Rr][Dd]|[Ss][Ee][Cc][Rr][Ee][Tt]|[Tt][Oo][Kk][Ee][Nn]|[Aa][Pp][Ii]_[Kk][Ee][Yy]|[Pp][Rr][Ii][Vv][Aa][Tt][Ee]_[Kk][Ee][Yy])$'
                              AND pg_catalog.jsonb_typeof(e.value) <> 'null'
                         THEN '"********"'::jsonb
                         ELSE finicom.config_mask(e.value) END), '{}'::jsonb)
                FROM pg_catalog.jsonb_each(p) e)
            WHEN 'array' THEN (
                SELECT coalesce(pg_catalog.jsonb_agg(finicom.config_mask(a.x) ORDER BY a.i), '[]'::jsonb)
                FROM pg_catalog.jsonb_array_elements(p) WITH ORDINALITY a(x, i))
            ELSE p
        END
    $$;
GRANT EXECUTE ON FUNCTION finicom.config_mask(jsonb) TO finicom_app;
ALTER TABLE finicom.sources
    ADD COLUMN config_masked jsonb GENERATED ALWAYS AS (finicom.config_mask(config)) STORED;
ALTER TABLE finicom.integrations
    ADD COLUMN config_masked jsonb GENERATED ALWAYS AS (finicom.config_mask(config)) STORED;
ALTER TABLE finicom.destinations
    ADD COLUMN config_masked jsonb GENERATED ALWAYS AS (finicom.config_mask(config)) STORED;

-- The audit trigger of 0007, skipping the generated config_masked column
-- (config is already named when it changes).
CREATE OR REPLACE FUNCTION audit.capture() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
    AS $$
    DECLARE
        kind text := TG_ARGV[0];
        r record := CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
        v_org uuid;
        v_old jsonb := CASE WHEN TG_OP <> 'INSERT' THEN pg_catalog.to_jsonb(OLD) END;
        v_new jsonb := CASE WHEN TG_OP <> 'DELETE' THEN pg_catalog.to_jsonb(NEW) END;
        v_changed jsonb;
    BEGIN
        v_org := CASE WHEN kind = 'org' THEN (pg_catalog.to_jsonb(r) ->> 'id')::uuid
                      ELSE (pg_catalog.to_jsonb(r) ->> 'org_id')::uuid END;
        IF kind <> 'org' AND NOT EXISTS (SELECT 1 FROM finicom.orgs o WHERE o.id = v_org) THEN
            RETURN NULL;
        END IF;

        IF kind = 'org' THEN
            IF TG_OP = 'INSERT' THEN
                PERFORM audit.append(v_org, 'org.created', 'org', v_org,
                    pg_catalog.jsonb_build_object('name', NEW.name));
            ELSIF TG_OP = 'DELETE' THEN
                PERFORM audit.append(v_org, 'org.deleted', 'org', v_org,
                    pg_catalog.jsonb_build_object('name', OLD.name));
            ELSE
                v_changed := audit.changed_fields(v_old, v_new, ARRAY['plan', 'billing_email', 'trial_ends_at']);
                IF v_changed <> '[]' THEN
                    PERFORM audit.append(v_org, 'org.updated', 'org', v_org,
                        pg_catalog.jsonb_build_object('changed', v_changed,
                            'old', v_old - ARRAY['plan', 'billing_email', 'trial_ends_at', 'id', 'created_at'],
                            'new', v_new - ARRAY['plan', 'billing_email', 'trial_ends_at', 'id', 'created_at']));
                END IF;
                v_changed := audit.changed_fields(
                    v_old - ARRAY['name', 'invite_ttl_hours'], v_new - ARRAY['name', 'invite_ttl_hours'],
                    ARRAY['id', 'created_at']);
                IF v_changed <> '[]' THEN
                    PERFORM audit.append(v_org, 'billing.updated', 'org', v_org,
                        pg_catalog.jsonb_build_object('changed', v_changed,
                            'old_plan', OLD.plan, 'new_plan', NEW.plan));
                END IF;
            END IF;

        ELSIF kind = 'member' THEN
            IF TG_OP = 'INSERT' THEN
                PERFORM audit.append(v_org, 'member.added', 'user', NEW.user_id,
                    pg_catalog.jsonb_build_object('role', NEW.role));
            ELSIF TG_OP = 'DELETE' THEN
                PERFORM audit.append(v_org, 'member.removed', 'user', OLD.user_id,
                    pg_catalog.jsonb_build_object('role', OLD.role));
            ELSIF OLD.role IS DISTINCT FROM NEW.role THEN
                PERFORM audit.append(v_org, 'member.role_changed', 'user', NEW.user_id,
                    pg_catalog.jsonb_build_object('old_role', OLD.role, 'new_role', NEW.role));
            END IF;

        ELSIF kind = 'invitation' THEN
            IF TG_OP = 'INSERT' THEN
                PERFORM audit.append(v_org, 'invitation.created', 'invitation', NEW.id,
                    pg_catalog.jsonb_build_object('email', NEW.email, 'role', NEW.role));
            ELSIF TG_OP = 'DELETE' THEN
                PERFORM audit.append(v_org, 'invitation.deleted', 'invitation', OLD.id,
                    pg_catalog.jsonb_build_object('email', OLD.email));
            ELSIF OLD.token_hash IS DISTINCT FROM NEW.token_hash THEN
                -- A resend (which also revives an expired invitation).
                PERFORM audit.append(v_org, 'invitation.resent', 'invitation', NEW.id,
                    pg_catalog.jsonb_build_object('email', NEW.email, 'old_status', OLD.status,
                        'expires_at', finicom.ts(NEW.expires_at)));
            ELSIF OLD.status IS DISTINCT FROM NEW.status THEN
                PERFORM audit.append(v_org, 'invitation.' || NEW.status, 'invitation', NEW.id,
                    pg_catalog.jsonb_build_object('email', NEW.email, 'role', NEW.role,
                        'old_status', OLD.status));
            END IF;

        ELSIF kind = 'api_key' THEN
            IF TG_OP = 'INSERT' THEN
                PERFORM audit.append(v_org, 'api_key.created', 'api_key', NEW.id,
                    pg_catalog.jsonb_build_object('name', NEW.name, 'role', NEW.role, 'prefix', NEW.prefix));
            ELSIF TG_OP = 'DELETE' THEN
                PERFORM audit.append(v_org, 'api_key.deleted', 'api_key', OLD.id,
                    pg_catalog.jsonb_build_object('name', OLD.name));
            ELSIF OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL THEN
                PERFORM audit.append(v_org, 'api_key.revoked', 'api_key', NEW.id,
                    pg_catalog.jsonb_build_object('name', NEW.name, 'role', NEW.role));
            END IF;

        ELSIF kind = 'sync_run' THEN
            IF TG_OP = 'INSERT' THEN
                PERFORM audit.append(v_org, 'connection.sync_requested', 'connection',
                    (v_new ->> 'connection_id')::uuid,
                    pg_catalog.jsonb_build_object('run_id', v_new ->> 'id'));
            END IF;

        ELSIF kind = 'connection_integration' THEN
            PERFORM audit.append(v_org, 'connection.updated', 'connection',
                (pg_catalog.to_jsonb(r) ->> 'connection_id')::uuid,
                pg_catalog.jsonb_build_object(
                    CASE WHEN TG_OP = 'DELETE' THEN 'integration_removed' ELSE 'integration_added' END,
                    pg_catalog.to_jsonb(r) ->> 'integration_id'));

        ELSE
            -- Data objects: source, integration, destination, connection.
            -- Field names only: config values may be secrets.
            IF TG_OP = 'INSERT' THEN
                PERFORM audit.append(v_org, kind || '.created', kind, (v_new ->> 'id')::uuid,
                    pg_catalog.jsonb_build_object('name', v_new ->> 'name'));
            ELSIF TG_OP = 'DELETE' THEN
                PERFORM audit.append(v_org, kind || '.deleted', kind, (v_old ->> 'id')::uuid,
                    pg_catalog.jsonb_build_object('name', v_old ->> 'name'));
            ELSE
                v_changed := audit.changed_fields(v_old, v_new, ARRAY['updated_at', 'config_masked']);
                IF v_changed <> '[]' THEN
                    PERFORM audit.append(v_org, kind || '.updated', kind, (v_new ->> 'id')::uuid,
                        pg_catalog.jsonb_build_object('name', v_new ->> 'name', 'changed', v_changed));
                END IF;
            END IF;
        END IF;
        RETURN NULL;
    END
    $$;

-- invitation_accept of 0004: the joining member's context is sealed.
CREATE OR REPLACE FUNCTION finicom.invitation_accept(p_token_hash bytea, p_user uuid, p_name text,
                                          p_password_hash text, p_session_hash bytea,
                                          p_max_age_seconds integer)
    RETURNS TABLE (outcome text, status text, org_id uuid, org_name text, role text, user_json text)
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = ''
    AS $$
    DECLARE
        v_inv finicom.invitations%ROWTYPE;
        v_user uuid := p_user;
        v_email text;
        v_org_name text;
    BEGIN
        SELECT * INTO v_inv FROM finicom.invitations i WHERE i.token_hash = p_token_hash FOR UPDATE;
        IF NOT FOUND THEN
            RETURN QUERY SELECT 'not_found', NULL::text, NULL::uuid, NULL::text, NULL::text, NULL::text;
            RETURN;
        END IF;
        IF v_inv.status <> 'pending' OR v_inv.expires_at <= pg_catalog.now() THEN
            RETURN QUERY SELECT 'gone', CASE WHEN v_inv.status = 'pending' THEN 'expired'
                                            ELSE v_inv.status::text END,
                                NULL::uuid, NULL::text, NULL::text, NULL::text;
            RETURN;
        END IF;
        IF v_user IS NOT NULL THEN
            SELECT u.email INTO v_email FROM finicom.users u WHERE u.id = v_user;
            IF lower(v_email) IS DISTINCT FROM lower(v_inv.email) THEN
                RETURN QUERY SELECT 'email_mismatch', NULL::text, NULL::uuid, NULL::text, NULL::text, NULL::text;
                RETURN;
            END IF;
            IF EXISTS (SELECT 1 FROM finicom.memberships m WHERE m.org_id = v_inv.org_id AND m.user_id = v_user) THEN
                RETURN QUERY SELECT 'already_member', NULL::text, NULL::uuid, NULL::text, NULL::text, NULL::text;
                RETURN;
            END IF;
        ELSE
            IF EXISTS (SELECT 1 FROM finicom.users u WHERE lower(u.email) = lower(v_inv.email)) THEN
                RETURN QUERY SELECT 'email_taken', NULL::text, NULL::uuid, NULL::text, NULL::text, NULL::text;
                RETURN;
            END IF;
            SELECT c.id INTO v_user FROM finicom.user_create(v_inv.email, p_name, p_password_hash) c;
            PERFORM finicom.session_create(v_user, p_session_hash, p_max_age_seconds);
        END IF;
        -- The context of the request that joins: the new member in this org.
        PERFORM finicom.context_seal('user', v_user, v_inv.org_id, v_inv.role,
            nullif(pg_catalog.current_setting('finicom.request_id', true), ''),
            nullif(pg_catalog.current_setting('finicom.client_ip', true), ''));
        INSERT INTO finicom.memberships (org_id, user_id, role) VALUES (v_inv.org_id, v_user, v_inv.role);
        UPDATE finicom.invitations i
        SET status = 'accepted', accepted_at = pg_catalog.now(), accepted_by = v_user
        WHERE i.org_id = v_inv.org_id AND i.id = v_inv.id;
        SELECT o.name INTO v_org_name FROM finicom.orgs o WHERE o.id = v_inv.org_id;
        RETURN QUERY
            SELECT 'ok', 'accepted', v_inv.org_id, v_org_name, v_inv.role::text,
                   pg_catalog.json_build_object('id', u.id, 'email', u.email, 'name', u.name,
                       'created_at', finicom.ts(u.created_at))::text
            FROM finicom.users u WHERE u.id = v_user;
    END
    $$;
