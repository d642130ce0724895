-- 0007_audit: the audit trail, written by the database itself.
--
-- Row triggers on every tenant table append to audit.events, with the actor,
-- client address and request id of the request context; with no context (a
-- DBA in psql) the actor is 'db' and the session's role; the pg_cron expiry
-- runs as 'system'.  details say what changed (old and new role, the names
-- of changed fields) and never hold a secret, a token or a password hash.
--
-- Append-only: UPDATE, DELETE and TRUNCATE of audit.events are refused by
-- trigger for everyone, and by privileges for every role but the owner.
-- Events have no foreign key: they outlive their org.
--
-- Hash chain per org: seq counts 1, 2, 3, ... in each org and
--   hash = sha256(prev_hash || canonical form of the event)
-- where the first event's prev_hash is 32 zero bytes.  Writers serialize per
-- org on the org's row in audit.chain_heads (locked FOR UPDATE), so two
-- transactions can never fork the chain.  audit.verify_chain(org) recomputes
-- it and names the first event that does not match.

CREATE TABLE audit.events (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id      uuid NOT NULL,
    seq         bigint NOT NULL CHECK (seq > 0),
    at          timestamptz NOT NULL DEFAULT now(),
    action      text NOT NULL,
    actor_type  text NOT NULL CHECK (actor_type IN ('user', 'api_key', 'system', 'db')),
    actor_id    uuid,
    actor_label text,
    target_type text,
    target_id   uuid,
    details     jsonb NOT NULL DEFAULT '{}',
    ip          text,
    request_id  text,
    prev_hash   bytea NOT NULL CHECK (octet_length(prev_hash) = 32),
    hash        bytea NOT NULL CHECK (octet_length(hash) = 32),
    UNIQUE (org_id, seq)
);
-- The API lists newest first, filtered by action or actor.
-- (at follows seq within an org: it is taken under the org's chain lock.)
CREATE INDEX events_org_at_idx ON audit.events (org_id, at DESC, id DESC);
CREATE INDEX events_org_action_idx ON audit.events (org_id, action, at DESC, id DESC);
CREATE INDEX events_org_actor_idx ON audit.events (org_id, actor_id, at DESC, id DESC);

CREATE TABLE audit.chain_heads (
    org_id uuid PRIMARY KEY,
    seq    bigint NOT NULL,
    hash   bytea NOT NULL
);

-- Sign-ins, sign-in failures and sign-outs, per user (no org): never a password.
CREATE TABLE audit.auth_events (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    at         timestamptz NOT NULL DEFAULT now(),
    event      text NOT NULL CHECK (event IN ('signup', 'login.succeeded', 'login.failed', 'logout')),
    user_id    uuid,
    email      text,
    ip         text,
    request_id text
);
CREATE INDEX auth_events_user_idx ON audit.auth_events (user_id, at);
CREATE INDEX auth_events_at_idx ON audit.auth_events (at);

ALTER TABLE audit.events ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit.events FORCE ROW LEVEL SECURITY;
ALTER TABLE audit.chain_heads ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit.chain_heads FORCE ROW LEVEL SECURITY;
ALTER TABLE audit.auth_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit.auth_events FORCE ROW LEVEL SECURITY;

CREATE POLICY events_owner ON audit.events TO finicom_owner USING (true) WITH CHECK (true);
CREATE POLICY events_app ON audit.events FOR SELECT TO finicom_app
    USING ((SELECT finicom.has_role(org_id, 'admin')));
CREATE POLICY events_auditor ON audit.events FOR SELECT TO finicom_auditor USING (true);
CREATE POLICY chain_heads_owner ON audit.chain_heads TO finicom_owner USING (true) WITH CHECK (true);
CREATE POLICY chain_heads_auditor ON audit.chain_heads FOR SELECT TO finicom_auditor USING (true);
CREATE POLICY auth_events_owner ON audit.auth_events TO finicom_owner USING (true) WITH CHECK (true);
CREATE POLICY auth_events_auditor ON audit.auth_events FOR SELECT TO finicom_auditor USING (true);

REVOKE ALL ON audit.events, audit.chain_heads, audit.auth_events FROM PUBLIC;
GRANT SELECT ON audit.events TO finicom_app, finicom_auditor;
GRANT SELECT ON audit.chain_heads, audit.auth_events TO finicom_auditor;

-- Append-only, for everyone.
CREATE FUNCTION audit.refuse_change() RETURNS trigger
    LANGUAGE plpgsql SET search_path = ''
    AS $$
    BEGIN
        RAISE EXCEPTION 'audit events are append-only: % is not allowed', TG_OP
            USING ERRCODE = 'insufficient_privilege';
    END
    $$;
CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON audit.events
    FOR EACH ROW EXECUTE FUNCTION audit.refuse_change();
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON audit.events
    FOR EACH STATEMENT EXECUTE FUNCTION audit.refuse_change();
CREATE TRIGGER auth_events_append_only BEFORE UPDATE OR DELETE ON audit.auth_events
    FOR EACH ROW EXECUTE FUNCTION audit.refuse_change();
CREATE TRIGGER auth_events_no_truncate BEFORE TRUNCATE ON audit.auth_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit.refuse_change();

-- The canonical form of an event: every field but the hashes, in a fixed
-- order, separated by a byte that cannot occur in them.
CREATE FUNCTION audit.canonical(e audit.events) RETURNS bytea
    LANGUAGE sql IMMUTABLE SET search_path = ''
    AS $$
        SELECT pg_catalog.convert_to(pg_catalog.concat_ws(E'\x1f',
            e.org_id, e.seq, pg_catalog.to_char(e.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
            e.action, e.actor_type, coalesce(e.actor_id::text, ''), coalesce(e.actor_label, ''),
            coalesce(e.target_type, ''), coalesce(e.target_id::text, ''), e.details::text,
            coalesce(e.ip, ''), coalesce(e.request_id, '')), 'UTF8')
    $$;

-- Append one event to org p_org's chain, with the actor of the context.
CREATE FUNCTION audit.append(p_org uuid, p_action text, p_target_type text, p_target_id uuid,
                             p_details jsonb) RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = ''
    AS $$
    DECLARE
        v_type text := nullif(pg_catalog.current_setting('finicom.actor_type', true), '');
        v_id uuid := nullif(pg_catalog.current_setting('finicom.actor_id', true), '')::uuid;
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
        e.ip := nullif(pg_catalog.current_setting('finicom.client_ip', true), '');
        e.request_id := nullif(pg_catalog.current_setting('finicom.request_id', true), '');
        e.prev_hash := v_prev;
        e.hash := pg_catalog.sha256(v_prev || audit.canonical(e));
        INSERT INTO audit.events VALUES (e.*);
        UPDATE audit.chain_heads h SET seq = e.seq, hash = e.hash WHERE h.org_id = p_org;
    END
    $$;

-- Is org p_org's chain intact?  Returns ok, the number of events checked and,
-- when broken, the first event that does not match (by seq and id).
CREATE FUNCTION audit.verify_chain(p_org uuid)
    RETURNS TABLE (ok boolean, events bigint, first_bad_seq bigint, first_bad_id uuid, reason text)
    LANGUAGE plpgsql STABLE SET search_path = ''
    AS $$
    DECLARE
        e audit.events%ROWTYPE;
        v_prev bytea := '\x0000000000000000000000000000000000000000000000000000000000000000';
        v_expect bigint := 1;
        v_head audit.chain_heads%ROWTYPE;
    BEGIN
        FOR e IN SELECT * FROM audit.events x WHERE x.org_id = p_org ORDER BY x.seq LOOP
            IF e.seq <> v_expect THEN
                RETURN QUERY SELECT false, v_expect - 1, e.seq, e.id,
                    pg_catalog.format('event %s is missing before this one', v_expect);
                RETURN;
            END IF;
            IF e.prev_hash <> v_prev THEN
                RETURN QUERY SELECT false, v_expect - 1, e.seq, e.id, 'prev_hash does not match the event before'::text;
                RETURN;
            END IF;
            IF e.hash <> pg_catalog.sha256(v_prev || audit.canonical(e)) THEN
                RETURN QUERY SELECT false, v_expect - 1, e.seq, e.id, 'the event was changed after it was written'::text;
                RETURN;
            END IF;
            v_prev := e.hash;
            v_expect := v_expect + 1;
        END LOOP;
        SELECT * INTO v_head FROM audit.chain_heads h WHERE h.org_id = p_org;
        IF FOUND AND (v_head.seq <> v_expect - 1 OR v_head.hash <> v_prev) THEN
            RETURN QUERY SELECT false, v_expect - 1, v_expect, NULL::uuid,
                'events after the last one present are missing'::text;
            RETURN;
        END IF;
        RETURN QUERY SELECT true, v_expect - 1, NULL::bigint, NULL::uuid, NULL::text;
    END
    $$;
GRANT EXECUTE ON FUNCTION audit.verify_chain(uuid) TO finicom_auditor;

-- Names of the columns whose values differ between two rows, except those
-- listed in p_skip.
CREATE FUNCTION audit.changed_fields(p_old jsonb, p_new jsonb, p_skip text[]) RETURNS jsonb
    LANGUAGE sql IMMUTABLE SET search_path = ''
    AS $$
        SELECT coalesce(pg_catalog.jsonb_agg(k ORDER BY k), '[]'::jsonb)
        FROM pg_catalog.jsonb_object_keys(p_new) k
        WHERE NOT (k = ANY (p_skip)) AND (p_old -> k) IS DISTINCT FROM (p_new -> k)
    $$;

-- The one trigger function of every tenant table.  TG_ARGV[0] names the
-- kind of row (org, member, invitation, api_key, source, ...).  Rows of an
-- org being deleted (the cascade) add nothing after org.deleted.
CREATE FUNCTION audit.capture() RETURNS trigger
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
                v_changed := audit.changed_fields(v_old, v_new, ARRAY['updated_at']);
                IF v_changed <> '[]' THEN
                    PERFORM audit.append(v_org, kind || '.updated', kind, (v_new ->> 'id')::uuid,
                        pg_catalog.jsonb_build_object('name', v_new ->> 'name', 'changed', v_changed));
                END IF;
            END IF;
        END IF;
        RETURN NULL;
    END
    $$;

-- Named zz_*: PostgreSQL fires a table's triggers in name order, so the
-- audit comes after the table's own checks (the last-admin trigger).
CREATE TRIGGER zz_audit_orgs AFTER INSERT OR UPDATE OR DELETE ON finicom.orgs
    FOR EACH ROW EXECUTE FUNCTION audit.capture('org');
CREATE TRIGGER zz_audit_memberships AFTER INSERT OR UPDATE OR DELETE ON finicom.memberships
    FOR EACH ROW EXECUTE FUNCTION audit.capture('member');
CREATE TRIGGER zz_audit_invitations AFTER INSERT OR UPDATE OR DELETE ON finicom.invitations
    FOR EACH ROW EXECUTE FUNCTION audit.capture('invitation');
CREATE TRIGGER zz_audit_api_keys AFTER INSERT OR UPDATE OR DELETE ON finicom.api_keys
    FOR EACH ROW EXECUTE FUNCTION audit.capture('api_key');
-- Tables added by later migrations attach audit.capture() themselves
-- (tests/sql/08-audit.sql fails for a tenant table without it).

-- Authentication events.  The account functions of 0002 now record them:
-- signup and login take the client's address and request id (they run
-- before any request context exists); logout reads the context.
CREATE FUNCTION audit.auth_event(p_event text, p_user uuid, p_email text, p_ip text, p_request_id text)
    RETURNS void
    LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = ''
    AS $$
        INSERT INTO audit.auth_events (event, user_id, email, ip, request_id)
        VALUES (p_event, p_user, pg_catalog.left(p_email, 254), p_ip, p_request_id)
    $$;

DROP FUNCTION finicom.auth_signup(text, text, text, bytea, integer);
CREATE FUNCTION finicom.auth_signup(p_email text, p_name text, p_password_hash text,
                                    p_token_hash bytea, p_max_age_seconds integer,
                                    p_ip text, p_request_id text)
    RETURNS TABLE (id uuid, email text, name text, created_at timestamptz)
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = ''
    AS $$
    DECLARE
        v_id uuid;
    BEGIN
        SELECT c.id INTO v_id FROM finicom.user_create(p_email, p_name, p_password_hash) c;
        PERFORM audit.auth_event('signup', v_id, p_email, p_ip, p_request_id);
        RETURN QUERY SELECT * FROM finicom.session_create(v_id, p_token_hash, p_max_age_seconds);
    END
    $$;

DROP FUNCTION finicom.auth_login_complete(uuid, bytea, integer, text, bytea);
CREATE FUNCTION finicom.auth_login_complete(p_user_id uuid, p_token_hash bytea,
                                            p_max_age_seconds integer, p_new_hash text,
                                            p_old_token_hash bytea, p_ip text, p_request_id text)
    RETURNS TABLE (id uuid, email text, name text, created_at timestamptz)
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = ''
    AS $$
    BEGIN
        IF p_new_hash IS NOT NULL THEN
            UPDATE finicom.users u SET password_hash = p_new_hash WHERE u.id = p_user_id;
        END IF;
        IF p_old_token_hash IS NOT NULL THEN
            DELETE FROM finicom.sessions s WHERE s.token_hash = p_old_token_hash;
        END IF;
        PERFORM audit.auth_event('login.succeeded', p_user_id,
            (SELECT u.email FROM finicom.users u WHERE u.id = p_user_id), p_ip, p_request_id);
        RETURN QUERY SELECT * FROM finicom.session_create(p_user_id, p_token_hash, p_max_age_seconds);
    END
    $$;

-- A failed login: the email as typed, and the user when it names one.
CREATE FUNCTION finicom.auth_login_failed(p_email text, p_ip text, p_request_id text) RETURNS void
    LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = ''
    AS $$
        SELECT audit.auth_event('login.failed',
            (SELECT u.id FROM finicom.users u WHERE lower(u.email) = lower(p_email)),
            p_email, p_ip, p_request_id)
    $$;

CREATE OR REPLACE FUNCTION finicom.auth_logout(p_token_hash bytea) RETURNS boolean
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = ''
    AS $$
    DECLARE
        v_user uuid;
    BEGIN
        DELETE FROM finicom.sessions s WHERE s.token_hash = p_token_hash RETURNING s.user_id INTO v_user;
        IF v_user IS NULL THEN
            RETURN false;
        END IF;
        PERFORM audit.auth_event('logout', v_user,
            (SELECT u.email FROM finicom.users u WHERE u.id = v_user),
            nullif(pg_catalog.current_setting('finicom.client_ip', true), ''),
            nullif(pg_catalog.current_setting('finicom.request_id', true), ''));
        RETURN true;
    END
    $$;

GRANT EXECUTE ON FUNCTION
    finicom.auth_signup(text, text, text, bytea, integer, text, text),
    finicom.auth_login_complete(uuid, bytea, integer, text, bytea, text, text),
    finicom.auth_login_failed(text, text, text)
    TO finicom_app;

-- An event as the API shows it.
CREATE FUNCTION audit.event_json(e audit.events) RETURNS text
    LANGUAGE sql STABLE SET search_path = ''
    AS $$
        SELECT pg_catalog.json_build_object('id', e.id, 'at', finicom.ts(e.at), 'action', e.action,
            'actor', pg_catalog.json_build_object('type', e.actor_type, 'id', e.actor_id, 'label', e.actor_label),
            'target', pg_catalog.json_build_object('type', e.target_type, 'id', e.target_id),
            'details', e.details, 'ip', e.ip, 'request_id', e.request_id)::text
    $$;
GRANT EXECUTE ON FUNCTION audit.event_json(audit.events), finicom.cursor_key(timestamptz, uuid)
    TO finicom_app, finicom_auditor;
GRANT EXECUTE ON FUNCTION finicom.ts(timestamptz) TO finicom_auditor;

-- For DBAs (role finicom_auditor) --------------------------------------

-- Every role change and removal, readable.
CREATE VIEW audit.role_changes WITH (security_barrier) AS
    SELECT e.org_id, e.seq, e.at, e.action, e.actor_type, e.actor_label, e.target_id AS user_id,
           e.details ->> 'old_role' AS old_role,
           coalesce(e.details ->> 'new_role', e.details ->> 'role') AS new_role,
           e.request_id
    FROM audit.events e
    WHERE e.action IN ('member.added', 'member.role_changed', 'member.removed');

-- The regular access review: who has which role where, since when, how
-- long inactive, and how many invitations are still pending in that org.
CREATE VIEW audit.access_review WITH (security_barrier) AS
    SELECT o.id AS org_id, o.name AS org_name, u.id AS user_id, u.email, u.name, m.role,
           m.joined_at, a.last_active_at,
           (pg_catalog.now()::date - coalesce(a.last_active_at, m.joined_at)::date) AS days_inactive,
           (SELECT count(*) FROM finicom.invitations i
            WHERE i.org_id = o.id AND i.status = 'pending' AND i.expires_at > pg_catalog.now())
               AS pending_invitations
    FROM finicom.memberships m
    JOIN finicom.orgs o ON o.id = m.org_id
    JOIN finicom.users u ON u.id = m.user_id
    LEFT JOIN finicom.member_activity a ON a.org_id = m.org_id AND a.user_id = m.user_id;
ALTER VIEW audit.role_changes OWNER TO finicom_owner;
ALTER VIEW audit.access_review OWNER TO finicom_owner;
GRANT SELECT ON audit.role_changes, audit.access_review TO finicom_auditor;
