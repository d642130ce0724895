-- 0023_totp: two-factor authentication (TOTP, RFC 6238) and the org
-- policy require_2fa.  docs/two-factor.md says how it works; in short:
--
--   finicom.totp_credentials   one row per user who enrolled: the secret,
--                              encrypted by the auth process with the
--                              server's key (AES-256-GCM, util/secret.c,
--                              AAD "totp:<user id>"), confirmed_at (NULL
--                              while enrolment is pending) and last_step,
--                              the last time step accepted (a code is
--                              accepted once: no replay within its window)
--   finicom.totp_recovery_codes  SHA-256 of each of the 10 recovery codes,
--                              used_at once spent
--   finicom.totp_login_tokens  the second step of a sign-in: SHA-256 of the
--                              login_token, 5 minutes, single use, at most
--                              5 codes tried with it
--   finicom.totp_failures      per-account throttle of wrong codes, the
--                              policy of 0015's login throttle
--                              (finicom.login_lock_seconds)
--
-- Only the auth processes (finicom_auth) read the secret or the code
-- hashes, through the SECURITY DEFINER functions below, which find the
-- user from a live session's hash or a login token's hash, never from an
-- id the caller names.  The codes are checked in the auth process (C):
-- these functions take the time step that matched, or the hash of the
-- recovery code sent, and apply them atomically (a step not newer than
-- last_step, a recovery code already used: nothing happens, false).
-- finicom_app may read whether its own context's user has 2FA on
-- (user_id, confirmed_at: GET /me), nothing else of these tables.

CREATE TABLE finicom.totp_credentials (
    user_id      uuid PRIMARY KEY REFERENCES finicom.users (id) ON DELETE CASCADE,
    secret_enc   text NOT NULL CHECK (secret_enc LIKE 'enc:v1:%' AND octet_length(secret_enc) <= 200),
    confirmed_at timestamptz,
    last_step    bigint,
    created_at   timestamptz NOT NULL DEFAULT pg_catalog.now()
);
ALTER TABLE finicom.totp_credentials ENABLE ROW LEVEL SECURITY;
ALTER TABLE finicom.totp_credentials FORCE ROW LEVEL SECURITY;
CREATE POLICY totp_credentials_owner ON finicom.totp_credentials
    TO finicom_owner USING (true) WITH CHECK (true);
CREATE POLICY totp_credentials_select ON finicom.totp_credentials FOR SELECT TO finicom_app
    USING (user_id = (SELECT finicom.request_user_id()));
REVOKE ALL ON finicom.totp_credentials FROM PUBLIC;
GRANT SELECT (user_id, confirmed_at) ON finicom.totp_credentials TO finicom_app;

CREATE TABLE finicom.totp_recovery_codes (
    user_id   uuid NOT NULL REFERENCES finicom.users (id) ON DELETE CASCADE,
    code_hash bytea NOT NULL CHECK (octet_length(code_hash) = 32),
    used_at   timestamptz,
    PRIMARY KEY (user_id, code_hash)
);
ALTER TABLE finicom.totp_recovery_codes ENABLE ROW LEVEL SECURITY;
ALTER TABLE finicom.totp_recovery_codes FORCE ROW LEVEL SECURITY;
CREATE POLICY totp_recovery_codes_owner ON finicom.totp_recovery_codes
    TO finicom_owner USING (true) WITH CHECK (true);
REVOKE ALL ON finicom.totp_recovery_codes FROM PUBLIC;

CREATE TABLE finicom.totp_login_tokens (
    token_hash bytea PRIMARY KEY CHECK (octet_length(token_hash) = 32),
    user_id    uuid NOT NULL REFERENCES finicom.users (id) ON DELETE CASCADE,
    attempts   integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    created_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    expires_at timestamptz NOT NULL
);
CREATE INDEX totp_login_tokens_user_idx ON finicom.totp_login_tokens (user_id);
ALTER TABLE finicom.totp_login_tokens ENABLE ROW LEVEL SECURITY;
ALTER TABLE finicom.totp_login_tokens FORCE ROW LEVEL SECURITY;
CREATE POLICY totp_login_tokens_owner ON finicom.totp_login_tokens
    TO finicom_owner USING (true) WITH CHECK (true);
REVOKE ALL ON finicom.totp_login_tokens FROM PUBLIC;

CREATE TABLE finicom.totp_failures (
    user_id        uuid PRIMARY KEY REFERENCES finicom.users (id) ON DELETE CASCADE,
    failures       integer NOT NULL CHECK (failures >= 0),
    last_failed_at timestamptz NOT NULL,
    locked_until   timestamptz
);
ALTER TABLE finicom.totp_failures ENABLE ROW LEVEL SECURITY;
ALTER TABLE finicom.totp_failures FORCE ROW LEVEL SECURITY;
CREATE POLICY totp_failures_owner ON finicom.totp_failures
    TO finicom_owner USING (true) WITH CHECK (true);
REVOKE ALL ON finicom.totp_failures FROM PUBLIC;

-- The auth events of two-factor authentication (docs/two-factor.md).
ALTER TABLE audit.auth_events DROP CONSTRAINT auth_events_event_check;
ALTER TABLE audit.auth_events ADD CONSTRAINT auth_events_event_check CHECK (event IN (
    'signup', 'login.succeeded', 'login.failed', 'logout', 'email.verified', 'account.taken_over',
    'password.reset_requested', 'password.reset', 'password.changed', 'session.revoked',
    -- 0023: two-factor authentication
    'totp.enrolled', 'totp.enabled', 'totp.disabled', 'totp.failed', 'totp.recovery_code_used',
    'login.totp_required', 'login.totp_succeeded', 'login.totp_failed'));

-- ---------------------------------------------------------------------
-- The per-account throttle of codes: counted before the code is checked
-- (as 0015 counts passwords), F0429 while locked.  A correct code clears it.
CREATE FUNCTION finicom.totp_throttle(p_user uuid) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = ''
    AS $$
    DECLARE
        v_row finicom.totp_failures%ROWTYPE;
        v_now timestamptz := pg_catalog.now();
    BEGIN
        INSERT INTO finicom.totp_failures (user_id, failures, last_failed_at)
        VALUES (p_user, 0, v_now) ON CONFLICT (user_id) DO NOTHING;
        SELECT * INTO v_row FROM finicom.totp_failures f WHERE f.user_id = p_user FOR UPDATE;
        IF v_row.locked_until IS NOT NULL AND v_row.locked_until > pg_catalog.clock_timestamp() THEN
            RAISE EXCEPTION USING ERRCODE = 'F0429', MESSAGE = 'rate_limited',
                DETAIL = 'too many wrong codes for this account; try again later',
                HINT = GREATEST(1, pg_catalog.ceil(EXTRACT(epoch FROM
                    v_row.locked_until - pg_catalog.clock_timestamp())))::bigint::text;
        END IF;
        IF v_row.failures = 0 OR v_row.last_failed_at <= v_now - interval '15 minutes' THEN
            v_row.failures := 1;
        ELSE
            v_row.failures := v_row.failures + 1;
        END IF;
        UPDATE finicom.totp_failures f
        SET failures = v_row.failures, last_failed_at = v_now,
            locked_until = CASE WHEN finicom.login_lock_seconds(v_row.failures) > 0
                THEN pg_catalog.clock_timestamp()
                     + pg_catalog.make_interval(secs => finicom.login_lock_seconds(v_row.failures)) END
        WHERE f.user_id = p_user;
    END
    $$;
REVOKE ALL ON FUNCTION finicom.totp_throttle(uuid) FROM PUBLIC;

-- The user of a live session (the auth process is given its hash).
CREATE FUNCTION finicom.totp_session_user(p_session_hash bytea) RETURNS uuid
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = ''
    AS $$
        SELECT s.user_id FROM finicom.sessions s
        WHERE s.token_hash = p_session_hash AND s.expires_at > pg_catalog.now()
    $$;
REVOKE ALL ON FUNCTION finicom.totp_session_user(bytea) FROM PUBLIC;

-- POST /me/totp, first half: the session's user, and whether 2FA is on.
CREATE FUNCTION finicom.auth_totp_user(p_session_hash bytea)
    RETURNS TABLE(user_id uuid, email text, enabled boolean)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = ''
    AS $$
        SELECT u.id, u.email, t.confirmed_at IS NOT NULL
        FROM finicom.users u LEFT JOIN finicom.totp_credentials t ON t.user_id = u.id
        WHERE u.id = finicom.totp_session_user(p_session_hash)
    $$;

-- POST /me/totp, second half: store the new secret (encrypted), not yet
-- active; it replaces a pending one.  409 while 2FA is on.
CREATE FUNCTION finicom.auth_totp_enrol(p_session_hash bytea, p_secret_enc text, p_ip text, p_request_id text)
    RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = ''
    AS $$
    DECLARE
        v_user uuid := finicom.totp_session_user(p_session_hash);
    BEGIN
        IF v_user IS NULL THEN
            RAISE EXCEPTION USING ERRCODE = 'F0401', MESSAGE = 'unauthenticated',
                DETAIL = 'the session is not valid or has expired';
        END IF;
        INSERT INTO finicom.totp_credentials AS t (user_id, secret_enc)
        VALUES (v_user, p_secret_enc)
        ON CONFLICT (user_id) DO UPDATE SET secret_enc = excluded.secret_enc, last_step = NULL,
            created_at = pg_catalog.now()
        WHERE t.confirmed_at IS NULL;
        IF NOT FOUND THEN
            RAISE EXCEPTION USING ERRCODE = 'F0409', MESSAGE = 'conflict',
                DETAIL = 'two-factor authentication is already on; turn it off first to enrol again';
        END IF;
        PERFORM audit.auth_event('totp.enrolled', v_user,
            (SELECT u.email FROM finicom.users u WHERE u.id = v_user), p_ip, p_request_id);
    END
    $$;

-- Confirm and disable, first half: the session's user, its secret and
-- state; the attempt is counted (F0429 while throttled).  No row: no
-- enrolment at all.
CREATE FUNCTION finicom.auth_totp_begin(p_session_hash bytea)
    RETURNS TABLE(user_id uuid, secret_enc text, enabled boolean, last_step bigint)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = ''
    AS $$
    DECLARE
        v_user uuid := finicom.totp_session_user(p_session_hash);
    BEGIN
        IF v_user IS NULL THEN
            RAISE EXCEPTION USING ERRCODE = 'F0401', MESSAGE = 'unauthenticated',
                DETAIL = 'the session is not valid or has expired';
        END IF;
        IF NOT EXISTS (SELECT 1 FROM finicom.totp_credentials t WHERE t.user_id = v_user) THEN
            RETURN;
        END IF;
        PERFORM finicom.totp_throttle(v_user);
        RETURN QUERY SELECT t.user_id, t.secret_enc, t.confirmed_at IS NOT NULL, t.last_step
                     FROM finicom.totp_credentials t WHERE t.user_id = v_user;
    END
    $$;

-- A wrong code: the event (the attempt was counted already).
CREATE FUNCTION finicom.auth_totp_failed(p_user uuid, p_login boolean, p_ip text, p_request_id text)
    RETURNS void
    LANGUAGE sql SECURITY DEFINER
    SET search_path = ''
    AS $$
        SELECT audit.auth_event(CASE WHEN p_login THEN 'login.totp_failed' ELSE 'totp.failed' END,
            p_user, (SELECT u.email FROM finicom.users u WHERE u.id = p_user), p_ip, p_request_id)
    $$;

-- Accept the time step p_step for p_user: only if newer than the last one
-- accepted (no replay).  True when accepted.
CREATE FUNCTION finicom.totp_accept_step(p_user uuid, p_step bigint) RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = ''
    AS $$
    BEGIN
        UPDATE finicom.totp_credentials t SET last_step = p_step
        WHERE t.user_id = p_user AND (t.last_step IS NULL OR t.last_step < p_step);
        RETURN FOUND;
    END
    $$;
REVOKE ALL ON FUNCTION finicom.totp_accept_step(uuid, bigint) FROM PUBLIC;

-- Spend the recovery code whose hash is p_hash (once).  True when spent.
CREATE FUNCTION finicom.totp_spend_recovery(p_user uuid, p_hash bytea, p_ip text, p_request_id text)
    RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = ''
    AS $$
    BEGIN
        UPDATE finicom.totp_recovery_codes c SET used_at = pg_catalog.now()
        WHERE c.user_id = p_user AND c.code_hash = p_hash AND c.used_at IS NULL;
        IF NOT FOUND THEN
            RETURN false;
        END IF;
        PERFORM audit.auth_event('totp.recovery_code_used', p_user,
            (SELECT u.email FROM finicom.users u WHERE u.id = p_user), p_ip, p_request_id);
        RETURN true;
    END
    $$;
REVOKE ALL ON FUNCTION finicom.totp_spend_recovery(uuid, bytea, text, text) FROM PUBLIC;

-- A code for p_user: the TOTP step p_step, or else the recovery code p_recovery.
CREATE FUNCTION finicom.totp_accept(p_user uuid, p_step bigint, p_recovery bytea, p_ip text, p_request_id text)
    RETURNS boolean
    LANGUAGE sql SECURITY DEFINER
    SET search_path = ''
    AS $$
        SELECT CASE WHEN p_step IS NOT NULL THEN finicom.totp_accept_step(p_user, p_step)
                    ELSE finicom.totp_spend_recovery(p_user, p_recovery, p_ip, p_request_id) END
    $$;
REVOKE ALL ON FUNCTION finicom.totp_accept(uuid, bigint, bytea, text, text) FROM PUBLIC;

-- POST /me/totp/confirm: the code matched p_step; 2FA is on from now, with
-- the recovery codes whose hashes are p_codes (older ones are gone).
-- False when there is nothing pending or the step was used already.
CREATE FUNCTION finicom.auth_totp_confirm(p_session_hash bytea, p_step bigint, p_codes bytea[],
    p_ip text, p_request_id text) RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = ''
    AS $$
    DECLARE
        v_user uuid := finicom.totp_session_user(p_session_hash);
    BEGIN
        IF pg_catalog.cardinality(p_codes) <> 10 THEN
            RAISE EXCEPTION 'ten recovery codes expected';
        END IF;
        UPDATE finicom.totp_credentials t SET confirmed_at = pg_catalog.now(), last_step = p_step
        WHERE t.user_id = v_user AND t.confirmed_at IS NULL
          AND (t.last_step IS NULL OR t.last_step < p_step);
        IF NOT FOUND THEN
            RETURN false;
        END IF;
        DELETE FROM finicom.totp_recovery_codes c WHERE c.user_id = v_user;
        INSERT INTO finicom.totp_recovery_codes (user_id, code_hash)
        SELECT v_user, h FROM pg_catalog.unnest(p_codes) h;
        DELETE FROM finicom.totp_failures f WHERE f.user_id = v_user;
        PERFORM audit.auth_event('totp.enabled', v_user,
            (SELECT u.email FROM finicom.users u WHERE u.id = v_user), p_ip, p_request_id);
        RETURN true;
    END
    $$;

-- DELETE /me/totp: a TOTP code that matched p_step, or the recovery code
-- whose hash is p_recovery.  2FA is off and its codes are gone.  False
-- when the step was used already or the recovery code is unknown or spent.
CREATE FUNCTION finicom.auth_totp_disable(p_session_hash bytea, p_step bigint, p_recovery bytea,
    p_ip text, p_request_id text) RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = ''
    AS $$
    DECLARE
        v_user uuid := finicom.totp_session_user(p_session_hash);
    BEGIN
        IF v_user IS NULL OR NOT EXISTS (SELECT 1 FROM finicom.totp_credentials t
                                         WHERE t.user_id = v_user AND t.confirmed_at IS NOT NULL) THEN
            RETURN false;
        END IF;
        IF NOT finicom.totp_accept(v_user, p_step, p_recovery, p_ip, p_request_id) THEN
            RETURN false;
        END IF;
        DELETE FROM finicom.totp_credentials t WHERE t.user_id = v_user;
        DELETE FROM finicom.totp_recovery_codes c WHERE c.user_id = v_user;
        DELETE FROM finicom.totp_login_tokens l WHERE l.user_id = v_user;
        DELETE FROM finicom.totp_failures f WHERE f.user_id = v_user;
        PERFORM audit.auth_event('totp.disabled', v_user,
            (SELECT u.email FROM finicom.users u WHERE u.id = v_user), p_ip, p_request_id);
        RETURN true;
    END
    $$;

-- POST /auth/login after the password verified: with 2FA on, no session
-- but a login token (5 minutes; the password's run of failures ends, an
-- outdated hash is replaced); otherwise the session, as 0015's
-- auth_login_complete makes it.  One statement either way.
CREATE FUNCTION finicom.auth_login_proceed(p_user_id uuid, p_token_hash bytea, p_max_age_seconds integer,
    p_new_hash text, p_old_token_hash bytea, p_ip text, p_request_id text, p_login_hash bytea)
    RETURNS TABLE(totp_required boolean, user_json json)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = ''
    AS $$
    BEGIN
        IF NOT EXISTS (SELECT 1 FROM finicom.totp_credentials t
                       WHERE t.user_id = p_user_id AND t.confirmed_at IS NOT NULL) THEN
            PERFORM finicom.auth_login_complete(p_user_id, p_token_hash, p_max_age_seconds, p_new_hash,
                                                p_old_token_hash, p_ip, p_request_id);
            RETURN QUERY SELECT false, finicom.session_user_json(p_token_hash);
            RETURN;
        END IF;
        IF p_new_hash IS NOT NULL THEN
            UPDATE finicom.users u SET password_hash = p_new_hash WHERE u.id = p_user_id;
        END IF;
        DELETE FROM finicom.login_failures f
        WHERE f.email = (SELECT finicom.ascii_lower(u.email) FROM finicom.users u WHERE u.id = p_user_id);
        -- Expired tokens of this user go now: no job needed, no growth.
        DELETE FROM finicom.totp_login_tokens l
        WHERE l.user_id = p_user_id AND l.expires_at <= pg_catalog.now();
        INSERT INTO finicom.totp_login_tokens (token_hash, user_id, expires_at)
        VALUES (p_login_hash, p_user_id, pg_catalog.now() + interval '5 minutes');
        PERFORM audit.auth_event('login.totp_required', p_user_id,
            (SELECT u.email FROM finicom.users u WHERE u.id = p_user_id), p_ip, p_request_id);
        RETURN QUERY SELECT true, NULL::json;
    END
    $$;

-- POST /auth/login/totp, first half: the login token's user and secret.
-- The code tried is counted: for the token (the 5th wrong one spends it)
-- and for the account (F0429 while throttled).  No row: the token is
-- unknown, expired or spent.
CREATE FUNCTION finicom.auth_totp_login_begin(p_login_hash bytea)
    RETURNS TABLE(user_id uuid, secret_enc text, last_step bigint)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = ''
    AS $$
    DECLARE
        v_tok finicom.totp_login_tokens%ROWTYPE;
    BEGIN
        SELECT * INTO v_tok FROM finicom.totp_login_tokens l
        WHERE l.token_hash = p_login_hash AND l.expires_at > pg_catalog.now() FOR UPDATE;
        IF NOT FOUND THEN
            RETURN;
        END IF;
        PERFORM finicom.totp_throttle(v_tok.user_id);
        IF v_tok.attempts >= 4 THEN
            DELETE FROM finicom.totp_login_tokens l WHERE l.token_hash = p_login_hash;
        ELSE
            UPDATE finicom.totp_login_tokens l SET attempts = l.attempts + 1
            WHERE l.token_hash = p_login_hash;
        END IF;
        RETURN QUERY SELECT t.user_id, t.secret_enc, t.last_step
                     FROM finicom.totp_credentials t
                     WHERE t.user_id = v_tok.user_id AND t.confirmed_at IS NOT NULL;
    END
    $$;

-- POST /auth/login/totp, second half: the code matched p_step (or is the
-- recovery code whose hash is p_recovery).  The token is spent, the
-- account's run of wrong codes ends, the session the client came with
-- ends, a new one starts; its user object comes back.  NULL when the
-- step was used already, the recovery code is unknown or spent, or the
-- token is gone (used concurrently): nothing changed.
CREATE FUNCTION finicom.auth_totp_login_complete(p_login_hash bytea, p_step bigint, p_recovery bytea,
    p_token_hash bytea, p_max_age_seconds integer, p_old_token_hash bytea, p_ip text, p_request_id text)
    RETURNS json
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = ''
    AS $$
    DECLARE
        v_user uuid;
    BEGIN
        SELECT l.user_id INTO v_user FROM finicom.totp_login_tokens l
        WHERE l.token_hash = p_login_hash FOR UPDATE;
        IF v_user IS NULL THEN
            RETURN NULL;
        END IF;
        IF NOT finicom.totp_accept(v_user, p_step, p_recovery, p_ip, p_request_id) THEN
            RETURN NULL;
        END IF;
        DELETE FROM finicom.totp_login_tokens l WHERE l.token_hash = p_login_hash;
        DELETE FROM finicom.totp_failures f WHERE f.user_id = v_user;
        IF p_old_token_hash IS NOT NULL THEN
            DELETE FROM finicom.sessions s WHERE s.token_hash = p_old_token_hash;
        END IF;
        PERFORM audit.auth_event('login.totp_succeeded', v_user,
            (SELECT u.email FROM finicom.users u WHERE u.id = v_user), p_ip, p_request_id);
        PERFORM finicom.session_create(v_user, p_token_hash, p_max_age_seconds);
        RETURN finicom.session_user_json(p_token_hash);
    END
    $$;

DO $$
DECLARE
    f regprocedure;
BEGIN
    FOR f IN SELECT p.oid FROM pg_catalog.pg_proc p
             WHERE p.pronamespace = 'finicom'::regnamespace
               AND p.proname IN ('auth_totp_user', 'auth_totp_enrol', 'auth_totp_begin', 'auth_totp_failed',
                                 'auth_totp_confirm', 'auth_totp_disable', 'auth_login_proceed',
                                 'auth_totp_login_begin', 'auth_totp_login_complete')
    LOOP
        EXECUTE pg_catalog.format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', f);
        EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION %s TO finicom_auth', f);
    END LOOP;
END
$$;

-- ---------------------------------------------------------------------
-- The org policy.  require_2fa: while on, a member without 2FA gets no
-- org in the request context (begin_request) and 403
-- two_factor_required from the worker's permission check (src/auth.c);
-- API keys are not affected.
ALTER TABLE finicom.orgs ADD COLUMN require_2fa boolean NOT NULL DEFAULT false;
GRANT UPDATE (require_2fa) ON finicom.orgs TO finicom_app;

CREATE OR REPLACE FUNCTION finicom.org_json(o finicom.orgs, p_role text) RETURNS json
    LANGUAGE sql STABLE
    AS $$
        SELECT pg_catalog.json_build_object('id', o.id, 'name', o.name,
            'created_at', finicom.ts(o.created_at), 'role', p_role,
            'invite_ttl_hours', o.invite_ttl_hours,
            'require_2fa', o.require_2fa) -- 0023
    $$;

-- Turning require_2fa on is refused (409 two_factor_required) when the
-- user doing it has no 2FA: they would lock themselves out.  A DBA in
-- psql (no request context, actor db) is not asked.
CREATE FUNCTION finicom.orgs_require_2fa_check() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = ''
    AS $$
    BEGIN
        IF NEW.require_2fa AND NOT OLD.require_2fa AND finicom.request_actor_type() = 'user'
           AND NOT EXISTS (SELECT 1 FROM finicom.totp_credentials t
                           WHERE t.user_id = finicom.request_user_id() AND t.confirmed_at IS NOT NULL) THEN
            RAISE EXCEPTION USING ERRCODE = 'F0409', MESSAGE = 'two_factor_required',
                DETAIL = 'turn on two-factor authentication for your own account before requiring it of the organization';
        END IF;
        RETURN NEW;
    END
    $$;
REVOKE ALL ON FUNCTION finicom.orgs_require_2fa_check() FROM PUBLIC;
CREATE TRIGGER orgs_require_2fa_check BEFORE UPDATE OF require_2fa ON finicom.orgs
    FOR EACH ROW EXECUTE FUNCTION finicom.orgs_require_2fa_check();

-- begin_request: 0011's, with one more column, two_factor_required: the
-- path's org requires 2FA and the signed-in member has none.  Then the
-- context gets no org (row-level security shows nothing of it), and the
-- worker answers 403 two_factor_required (the role still comes back, so
-- that a non-member stays 404).  The flag is read in the membership's own
-- statement: no extra statement, no extra round trip.  The lines marked
-- "0023" are the whole change.
DROP FUNCTION finicom.begin_request(text, bytea, uuid, integer, text, text);
CREATE FUNCTION finicom.begin_request(p_credential text, p_token_hash bytea, p_org_id uuid,
    p_idle_seconds integer, p_request_id text, p_client_ip text)
    RETURNS TABLE(actor_type text, actor_id uuid, email text, name text, created_at text, org_id uuid,
                  org_role text, two_factor_required boolean)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
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
        v_2fa boolean := false; -- 0023
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
                    SELECT m.org_id, m.role,
                           o.require_2fa AND NOT EXISTS (SELECT 1 FROM finicom.totp_credentials t -- 0023
                               WHERE t.user_id = m.user_id AND t.confirmed_at IS NOT NULL)     -- 0023
                    INTO v_org, v_role, v_2fa
                    FROM finicom.memberships m
                    JOIN finicom.orgs o ON o.id = m.org_id -- 0023
                    WHERE m.org_id = p_org_id AND m.user_id = v_session.user_id;
                    v_2fa := coalesce(v_2fa, false); -- 0023
                END IF;
            END IF;
        END IF;

        -- The context: an actor only when the credential verified, an org
        -- only when the actor holds a role there (and, 0023, has the 2FA
        -- the org requires).  One expression.
        v_set := finicom.context_guard()
            AND pg_catalog.set_config('finicom.actor_type', coalesce(v_type, ''), true) IS NOT NULL
            AND pg_catalog.set_config('finicom.actor_id', coalesce(v_actor::text, ''), true) IS NOT NULL
            AND pg_catalog.set_config('finicom.org_id',
                    CASE WHEN v_2fa THEN '' ELSE coalesce(v_org::text, '') END, true) IS NOT NULL -- 0023
            AND pg_catalog.set_config('finicom.org_role',
                    CASE WHEN v_2fa THEN '' ELSE coalesce(v_role::text, '') END, true) IS NOT NULL -- 0023
            AND pg_catalog.set_config('finicom.request_id',
                    pg_catalog.left(coalesce(p_request_id, ''), 200), true) IS NOT NULL
            AND pg_catalog.set_config('finicom.client_ip',
                    pg_catalog.left(coalesce(p_client_ip, ''), 100), true) IS NOT NULL;

        two_factor_required := v_2fa; -- 0023
        IF v_type = 'api_key' THEN
            actor_type := 'api_key';
            actor_id := v_key.id;
            name := v_key.name;
            created_at := finicom.ts(v_key.created_at);
            org_id := v_key.org_id;
            org_role := CASE WHEN p_org_id IS NULL OR p_org_id = v_key.org_id THEN v_key.role::text END;
            RETURN NEXT;
        ELSIF v_type = 'user' AND v_user.id IS NOT NULL THEN
            IF v_org IS NOT NULL AND NOT v_2fa THEN -- 0023: a refused request is no activity
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
REVOKE ALL ON FUNCTION finicom.begin_request(text, bytea, uuid, integer, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION finicom.begin_request(text, bytea, uuid, integer, text, text) TO finicom_app;
