-- 0003_orgs: organizations, memberships, the permission helpers and the
-- policies every tenant table follows.
--
-- Roles are an ordered enum (read < write < admin): "at least write" is
-- role >= 'write'.  The permission model in C (src/authz.c) and these
-- policies say the same thing; each is enough on its own to refuse.
--
-- The tenant-table pattern:
--   * org_id uuid NOT NULL, first in the primary key and in every index;
--   * RLS enabled and forced; one policy per command;
--   * SELECT needs membership (finicom.has_role(org_id, 'read'));
--   * INSERT/UPDATE/DELETE also need org_id = the org of the request
--     (finicom.current_org_id()), so a row can never be written into, or
--     moved to, another org than the one the request is about.

CREATE TYPE finicom.role AS ENUM ('read', 'write', 'admin');
CREATE TYPE finicom.plan AS ENUM ('trial', 'free', 'pro');

CREATE TABLE finicom.orgs (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name             text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
    invite_ttl_hours integer NOT NULL DEFAULT 168 CHECK (invite_ttl_hours BETWEEN 1 AND 720),
    plan             finicom.plan NOT NULL DEFAULT 'trial',
    trial_ends_at    timestamptz NOT NULL DEFAULT now() + interval '14 days',
    billing_email    text CHECK (octet_length(billing_email) BETWEEN 3 AND 254),
    created_at       timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE finicom.memberships (
    org_id         uuid NOT NULL REFERENCES finicom.orgs (id) ON DELETE CASCADE,
    user_id        uuid NOT NULL REFERENCES finicom.users (id) ON DELETE CASCADE,
    role           finicom.role NOT NULL,
    joined_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, user_id)
);

-- A member's last authenticated request to the org, written at most once a
-- minute by begin_request.  A table of its own: the stamp is written at the
-- start of every request, and on the membership row it would lock that row
-- for the whole request, so two admins changing each other's roles at once
-- would deadlock.  Here it locks nothing anyone else needs.
CREATE TABLE finicom.member_activity (
    org_id         uuid NOT NULL,
    user_id        uuid NOT NULL,
    last_active_at timestamptz NOT NULL,
    PRIMARY KEY (org_id, user_id),
    FOREIGN KEY (org_id, user_id) REFERENCES finicom.memberships (org_id, user_id) ON DELETE CASCADE
);
-- Keyset pagination of members, and "my orgs" for /me and has_role().
CREATE INDEX memberships_org_joined_idx ON finicom.memberships (org_id, joined_at, user_id);
CREATE INDEX memberships_user_idx ON finicom.memberships (user_id, org_id);
-- Counting admins under the org lock.
CREATE INDEX memberships_admins_idx ON finicom.memberships (org_id) WHERE role = 'admin';

-- Does the actor hold at least p_min in p_org?  Users through their
-- membership; API keys (a later migration) through their own org and role.
CREATE FUNCTION finicom.has_role(p_org uuid, p_min finicom.role) RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ''
    AS $$
        SELECT EXISTS (
            SELECT 1 FROM finicom.memberships m
            WHERE m.org_id = p_org
              AND m.user_id = finicom.current_user_id()
              AND m.role >= p_min)
    $$;

-- Does the actor share an org with p_user (or is p_user the actor)?
CREATE FUNCTION finicom.can_see_user(p_user uuid) RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ''
    AS $$
        SELECT p_user = finicom.current_user_id()
            OR EXISTS (
                SELECT 1 FROM finicom.memberships them
                JOIN finicom.memberships me ON me.org_id = them.org_id
                WHERE them.user_id = p_user AND me.user_id = finicom.current_user_id())
    $$;

GRANT EXECUTE ON FUNCTION finicom.has_role(uuid, finicom.role), finicom.can_see_user(uuid)
    TO finicom_app;

ALTER TABLE finicom.orgs ENABLE ROW LEVEL SECURITY;
ALTER TABLE finicom.orgs FORCE ROW LEVEL SECURITY;
ALTER TABLE finicom.memberships ENABLE ROW LEVEL SECURITY;
ALTER TABLE finicom.memberships FORCE ROW LEVEL SECURITY;
ALTER TABLE finicom.member_activity ENABLE ROW LEVEL SECURITY;
ALTER TABLE finicom.member_activity FORCE ROW LEVEL SECURITY;

CREATE POLICY orgs_owner ON finicom.orgs TO finicom_owner USING (true) WITH CHECK (true);
CREATE POLICY orgs_select ON finicom.orgs FOR SELECT TO finicom_app
    USING ((SELECT finicom.has_role(id, 'read')));
-- No INSERT policy: orgs are created by finicom.org_create(), which makes the
-- creator its admin in the same statement.
CREATE POLICY orgs_update ON finicom.orgs FOR UPDATE TO finicom_app
    USING ((SELECT finicom.has_role(id, 'admin')) AND id = (SELECT finicom.current_org_id()))
    WITH CHECK ((SELECT finicom.has_role(id, 'admin')) AND id = (SELECT finicom.current_org_id()));
CREATE POLICY orgs_delete ON finicom.orgs FOR DELETE TO finicom_app
    USING ((SELECT finicom.has_role(id, 'admin')) AND id = (SELECT finicom.current_org_id()));

CREATE POLICY memberships_owner ON finicom.memberships TO finicom_owner USING (true) WITH CHECK (true);
CREATE POLICY memberships_select ON finicom.memberships FOR SELECT TO finicom_app
    USING ((SELECT finicom.has_role(org_id, 'read')));
CREATE POLICY memberships_insert ON finicom.memberships FOR INSERT TO finicom_app
    WITH CHECK ((SELECT finicom.has_role(org_id, 'admin')) AND org_id = (SELECT finicom.current_org_id()));
CREATE POLICY memberships_update ON finicom.memberships FOR UPDATE TO finicom_app
    USING ((SELECT finicom.has_role(org_id, 'admin')) AND org_id = (SELECT finicom.current_org_id()))
    WITH CHECK ((SELECT finicom.has_role(org_id, 'admin')) AND org_id = (SELECT finicom.current_org_id()));
-- Admins remove members; everyone may remove themselves (leave).
CREATE POLICY memberships_delete ON finicom.memberships FOR DELETE TO finicom_app
    USING (org_id = (SELECT finicom.current_org_id())
           AND ((SELECT finicom.has_role(org_id, 'admin')) OR user_id = (SELECT finicom.current_user_id())));

CREATE POLICY member_activity_owner ON finicom.member_activity TO finicom_owner USING (true) WITH CHECK (true);
-- Read by members; written only by begin_request (SECURITY DEFINER).
CREATE POLICY member_activity_select ON finicom.member_activity FOR SELECT TO finicom_app
    USING ((SELECT finicom.has_role(org_id, 'read')));
GRANT SELECT ON finicom.member_activity TO finicom_app;

-- Users: also visible to the people they share an org with.
DROP POLICY users_select_self ON finicom.users;
CREATE POLICY users_select ON finicom.users FOR SELECT TO finicom_app
    USING ((SELECT finicom.can_see_user(id)));

GRANT SELECT, DELETE ON finicom.orgs TO finicom_app;
GRANT UPDATE (name, invite_ttl_hours, plan, billing_email) ON finicom.orgs TO finicom_app;
GRANT SELECT, INSERT, DELETE ON finicom.memberships TO finicom_app;
GRANT UPDATE (role) ON finicom.memberships TO finicom_app;

-- At least one admin per org.  Serialized per org: the org row is locked
-- before admins are counted, so two admins demoting each other at once
-- cannot both succeed: the second waits for the first, then counts again
-- with the first one's change visible (READ COMMITTED takes a new snapshot
-- per statement) and is refused.  When the org itself is being deleted
-- (its memberships go by cascade) there is nothing to protect.
CREATE FUNCTION finicom.memberships_keep_an_admin() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
    AS $$
    BEGIN
        IF OLD.role <> 'admin' OR (TG_OP = 'UPDATE' AND NEW.role = 'admin') THEN
            RETURN NULL;
        END IF;
        PERFORM 1 FROM finicom.orgs o WHERE o.id = OLD.org_id FOR UPDATE;
        IF NOT FOUND THEN
            RETURN NULL;
        END IF;
        IF NOT EXISTS (SELECT 1 FROM finicom.memberships m
                       WHERE m.org_id = OLD.org_id AND m.role = 'admin') THEN
            RAISE EXCEPTION USING ERRCODE = 'F0409', MESSAGE = 'last_admin',
                DETAIL = 'an organization must keep at least one admin';
        END IF;
        RETURN NULL;
    END
    $$;

CREATE CONSTRAINT TRIGGER memberships_keep_an_admin
    AFTER UPDATE OF role OR DELETE ON finicom.memberships
    FOR EACH ROW EXECUTE FUNCTION finicom.memberships_keep_an_admin();

-- Create an org with the calling user as its admin; returns the org.
CREATE FUNCTION finicom.org_create(p_name text) RETURNS SETOF finicom.orgs
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = ''
    AS $$
    DECLARE
        v_user uuid := finicom.current_user_id();
        v_org finicom.orgs%ROWTYPE;
    BEGIN
        IF v_user IS NULL THEN
            RAISE EXCEPTION USING ERRCODE = 'F0403', MESSAGE = 'forbidden',
                DETAIL = 'only a signed-in user can create an organization';
        END IF;
        INSERT INTO finicom.orgs (name) VALUES (p_name) RETURNING * INTO v_org;
        PERFORM pg_catalog.set_config('finicom.org_id', v_org.id::text, true);
        INSERT INTO finicom.memberships (org_id, user_id, role) VALUES (v_org.id, v_user, 'admin');
        RETURN NEXT v_org;
    END
    $$;
GRANT EXECUTE ON FUNCTION finicom.org_create(text) TO finicom_app;

-- The org as API.md shows it to a caller with role p_role.
CREATE FUNCTION finicom.org_json(o finicom.orgs, p_role text) RETURNS text
    LANGUAGE sql STABLE SET search_path = ''
    AS $$
        SELECT pg_catalog.json_build_object('id', o.id, 'name', o.name,
            'created_at', finicom.ts(o.created_at), 'role', p_role,
            'invite_ttl_hours', o.invite_ttl_hours)::text
    $$;

-- A plan that counts: a trial past its end counts as free.
CREATE FUNCTION finicom.effective_plan(o finicom.orgs) RETURNS finicom.plan
    LANGUAGE sql STABLE SET search_path = ''
    AS $$
        SELECT CASE WHEN o.plan = 'trial' AND o.trial_ends_at <= pg_catalog.now()
                    THEN 'free'::finicom.plan ELSE o.plan END
    $$;

-- A member as API.md shows it.
-- (The user's columns come one by one: a whole users row would need the
-- password_hash column, which finicom_app may not read.)
CREATE FUNCTION finicom.member_json(m finicom.memberships, p_email text, p_name text,
                                    p_last_active_at timestamptz) RETURNS text
    LANGUAGE sql STABLE SET search_path = ''
    AS $$
        SELECT pg_catalog.json_build_object(
            'user', pg_catalog.json_build_object('id', m.user_id, 'email', p_email, 'name', p_name),
            'role', m.role, 'joined_at', finicom.ts(m.joined_at),
            'last_active_at', finicom.ts(p_last_active_at))::text
    $$;

-- Opaque keyset cursors: the sort time (microseconds) and the id.
CREATE FUNCTION finicom.cursor_key(t timestamptz, id uuid) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = ''
    AS $$ SELECT pg_catalog.to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') || ',' || id $$;

GRANT EXECUTE ON FUNCTION finicom.org_json(finicom.orgs, text), finicom.effective_plan(finicom.orgs),
    finicom.member_json(finicom.memberships, text, text, timestamptz), finicom.cursor_key(timestamptz, uuid)
    TO finicom_app;

-- begin_request, now with the org of the path: the actor's role there, the
-- org context (only for members), and last_active_at at most once a minute.
CREATE OR REPLACE FUNCTION finicom.begin_request(p_credential text, p_token_hash bytea, p_org_id uuid,
                                                 p_idle_seconds integer, p_request_id text, p_client_ip text)
    RETURNS TABLE (actor_type text, actor_id uuid, email text, name text,
                   created_at text, org_id uuid, org_role text)
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = ''
    AS $$
    DECLARE
        v_session finicom.sessions%ROWTYPE;
        v_member finicom.memberships%ROWTYPE;
        v_idle interval := pg_catalog.make_interval(secs => p_idle_seconds);
    BEGIN
        PERFORM pg_catalog.set_config('finicom.request_id', coalesce(p_request_id, ''), true);
        PERFORM pg_catalog.set_config('finicom.client_ip', coalesce(p_client_ip, ''), true);
        PERFORM pg_catalog.set_config('finicom.actor_type', '', true);
        PERFORM pg_catalog.set_config('finicom.actor_id', '', true);
        PERFORM pg_catalog.set_config('finicom.org_id', '', true);
        IF p_credential IS DISTINCT FROM 'session' OR p_token_hash IS NULL THEN
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
