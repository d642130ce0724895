-- 0002_accounts: users, sessions, the request context, and the functions
-- that must run before the actor is known.
--
-- The request context is a set of transaction-local settings, set by
-- finicom.begin_request() at the start of every authenticated request and
-- read by the policies through the helpers below:
--   finicom.actor_type  user | api_key | system      (none: a DBA in psql)
--   finicom.actor_id    the user's or API key's id
--   finicom.org_id      the org named by the request path, if any
--   finicom.request_id  nginx's request id
--   finicom.client_ip   the client's address
-- No context means no rows: every helper returns NULL for an unset or
-- empty setting, and NULL never satisfies a policy.

CREATE TABLE finicom.users (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email         text NOT NULL CHECK (octet_length(email) BETWEEN 3 AND 254),
    name          text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
    password_hash text NOT NULL CHECK (password_hash LIKE '$argon2id$%'),
    created_at    timestamptz NOT NULL DEFAULT now()
);
-- Emails are unique case-insensitively.
CREATE UNIQUE INDEX users_email_lower_key ON finicom.users (lower(email));

CREATE TABLE finicom.sessions (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    token_hash   bytea NOT NULL UNIQUE CHECK (octet_length(token_hash) = 32),
    user_id      uuid NOT NULL REFERENCES finicom.users (id) ON DELETE CASCADE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL
);
CREATE INDEX sessions_user_id_idx ON finicom.sessions (user_id);
CREATE INDEX sessions_expires_at_idx ON finicom.sessions (expires_at);

-- Times in API replies: RFC 3339, UTC, millisecond precision, "Z".
CREATE FUNCTION finicom.ts(t timestamptz) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = ''
    AS $$ SELECT pg_catalog.to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') $$;
GRANT EXECUTE ON FUNCTION finicom.ts(timestamptz) TO finicom_app, finicom_mailer, finicom_auditor;

-- Context helpers.  STABLE and SECURITY DEFINER with an empty search_path,
-- as every policy helper is; the planner can hoist (SELECT helper()) out of
-- a scan.
CREATE FUNCTION finicom.current_actor_type() RETURNS text
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ''
    AS $$ SELECT nullif(pg_catalog.current_setting('finicom.actor_type', true), '') $$;

CREATE FUNCTION finicom.current_actor_id() RETURNS uuid
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ''
    AS $$ SELECT nullif(pg_catalog.current_setting('finicom.actor_id', true), '')::uuid $$;

-- The signed-in user's id, or NULL for an API key or no context.
CREATE FUNCTION finicom.current_user_id() RETURNS uuid
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ''
    AS $$
        SELECT CASE WHEN finicom.current_actor_type() = 'user' THEN finicom.current_actor_id() END
    $$;

CREATE FUNCTION finicom.current_org_id() RETURNS uuid
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ''
    AS $$ SELECT nullif(pg_catalog.current_setting('finicom.org_id', true), '')::uuid $$;

GRANT EXECUTE ON FUNCTION finicom.current_actor_type(), finicom.current_actor_id(),
    finicom.current_user_id(), finicom.current_org_id() TO finicom_app;

-- Row-level security.  users: a user sees themselves (the orgs migration
-- widens this to people who share an org).  sessions: no policy, so no rows,
-- for every role but the owner; only the functions below touch it.
ALTER TABLE finicom.users ENABLE ROW LEVEL SECURITY;
ALTER TABLE finicom.users FORCE ROW LEVEL SECURITY;
ALTER TABLE finicom.sessions ENABLE ROW LEVEL SECURITY;
ALTER TABLE finicom.sessions FORCE ROW LEVEL SECURITY;

CREATE POLICY users_owner ON finicom.users TO finicom_owner USING (true) WITH CHECK (true);
CREATE POLICY sessions_owner ON finicom.sessions TO finicom_owner USING (true) WITH CHECK (true);
CREATE POLICY users_select_self ON finicom.users FOR SELECT TO finicom_app
    USING (id = (SELECT finicom.current_user_id()));

-- The password hash is not even selectable by the workers' role.
GRANT SELECT (id, email, name, created_at) ON finicom.users TO finicom_app;

-- Create a user (signup, invitations, finicomctl create-user).
-- Raises unique_violation when the email is taken, in any case.
CREATE FUNCTION finicom.user_create(p_email text, p_name text, p_password_hash text)
    RETURNS TABLE (id uuid, email text, name text, created_at timestamptz)
    LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = ''
    AS $$
        INSERT INTO finicom.users (email, name, password_hash)
        VALUES (p_email, p_name, p_password_hash)
        RETURNING id, email, name, created_at
    $$;

-- A new session for a user; returns the user.
CREATE FUNCTION finicom.session_create(p_user_id uuid, p_token_hash bytea, p_max_age_seconds integer)
    RETURNS TABLE (id uuid, email text, name text, created_at timestamptz)
    LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = ''
    AS $$
        INSERT INTO finicom.sessions (token_hash, user_id, expires_at)
        VALUES (p_token_hash, p_user_id,
                pg_catalog.now() + pg_catalog.make_interval(secs => p_max_age_seconds));
        SELECT u.id, u.email, u.name, u.created_at FROM finicom.users u WHERE u.id = p_user_id;
    $$;

-- Signup: the user and its first session, in one statement.
CREATE FUNCTION finicom.auth_signup(p_email text, p_name text, p_password_hash text,
                                    p_token_hash bytea, p_max_age_seconds integer)
    RETURNS TABLE (id uuid, email text, name text, created_at timestamptz)
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = ''
    AS $$
    DECLARE
        v_id uuid;
    BEGIN
        SELECT c.id INTO v_id FROM finicom.user_create(p_email, p_name, p_password_hash) c;
        RETURN QUERY SELECT * FROM finicom.session_create(v_id, p_token_hash, p_max_age_seconds);
    END
    $$;

-- Login, step one: the hash to verify, or no row for an unknown email.
CREATE FUNCTION finicom.auth_login_lookup(p_email text)
    RETURNS TABLE (user_id uuid, password_hash text)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ''
    AS $$
        SELECT u.id, u.password_hash FROM finicom.users u
        WHERE lower(u.email) = lower(p_email)
    $$;

-- Login, step two (after the worker verified the password): replace the
-- hash if its parameters are outdated, end the session the client came with
-- (a new session id at every login), start a new one.
CREATE FUNCTION finicom.auth_login_complete(p_user_id uuid, p_token_hash bytea,
                                            p_max_age_seconds integer, p_new_hash text,
                                            p_old_token_hash bytea)
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
        RETURN QUERY SELECT * FROM finicom.session_create(p_user_id, p_token_hash, p_max_age_seconds);
    END
    $$;

CREATE FUNCTION finicom.auth_logout(p_token_hash bytea) RETURNS boolean
    LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = ''
    AS $$
        WITH gone AS (DELETE FROM finicom.sessions s WHERE s.token_hash = p_token_hash RETURNING 1)
        SELECT count(*) > 0 FROM gone
    $$;

-- The first statement of every authenticated request: sets the context and
-- returns the actor, or no row when the credential is unknown or expired.
--   p_credential   'session' (p_token_hash is a session token's SHA-256) or NULL
--   p_org_id       the org named by the path, or NULL
--   p_idle_seconds idle timeout of sessions
-- last_seen_at is written at most once a minute (more often only when the
-- idle timeout is under two minutes, so a short timeout still works).
-- Later migrations replace this function with the same signature to add
-- org roles and API keys.
CREATE FUNCTION finicom.begin_request(p_credential text, p_token_hash bytea, p_org_id uuid,
                                      p_idle_seconds integer, p_request_id text, p_client_ip text)
    RETURNS TABLE (actor_type text, actor_id uuid, email text, name text,
                   created_at text, org_id uuid, org_role text)
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = ''
    AS $$
    DECLARE
        v_session finicom.sessions%ROWTYPE;
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
        RETURN QUERY
            SELECT 'user'::text, u.id, u.email, u.name, finicom.ts(u.created_at), NULL::uuid, NULL::text
            FROM finicom.users u WHERE u.id = v_session.user_id;
    END
    $$;

GRANT EXECUTE ON FUNCTION
    finicom.auth_signup(text, text, text, bytea, integer),
    finicom.auth_login_lookup(text),
    finicom.auth_login_complete(uuid, bytea, integer, text, bytea),
    finicom.auth_logout(bytea),
    finicom.begin_request(text, bytea, uuid, integer, text, text)
    TO finicom_app;
