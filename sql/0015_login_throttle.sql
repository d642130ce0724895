-- 0015_login_throttle: per-account login throttling.
--
-- nginx limits login requests per client address only, so guesses spread
-- over many addresses were never slowed down.  Now every login attempt is
-- counted per email, whether or not an account has it (the same work and
-- the same replies either way: no enumeration), in finicom.login_failures:
--
--   - finicom.auth_login_begin(email), called before the password is
--     verified (Argon2id runs in finicomd, outside any transaction), locks
--     the email's row and, if the email is throttled, raises F0429
--     (429 rate_limited, HINT = the seconds left, sent as Retry-After)
--     without returning the hash, so a throttled guess is never checked,
--     never counted and cannot succeed, and costs no Argon2 work.
--     Otherwise it counts the attempt as a failure up front and returns the
--     account's id and hash (no row for an unknown email).  Counting before
--     the verify, under the row lock, makes the limit exact when many
--     attempts for one email arrive at once on several workers.
--   - finicom.auth_login_complete (a correct password) deletes the row.
--
-- A run of failures continues while each attempt comes within 15 minutes
-- of the previous one (otherwise the count starts again at 1).  The 5th
-- failure of a run and every later one throttle the email for 1 s, doubling
-- with each further failure (1, 2, 4, ... 256 s), at most 5 minutes.  So an
-- attacker gets 5 quick guesses, then about 10 in the next 9 minutes, then
-- one every 5 minutes, from any number of addresses; the owner of the
-- account is never locked out for more than 5 minutes at a time (and only
-- while someone keeps guessing), and signed-in sessions are not affected.
--
-- Emails are keyed by lower(email), the comparison the account lookup
-- uses, so every spelling that reaches an account shares its counter.
-- finicom_app cannot read or write the table (no policy for it, no
-- privileges); only the SECURITY DEFINER functions touch it.  The hourly
-- finicom-purge-sessions job also deletes rows whose run has ended.

CREATE TABLE finicom.login_failures (
    email           text PRIMARY KEY,
    failures        integer NOT NULL CHECK (failures >= 0),
    first_failed_at timestamptz NOT NULL,
    last_failed_at  timestamptz NOT NULL,
    locked_until    timestamptz
);
CREATE INDEX login_failures_last_failed_at_idx ON finicom.login_failures (last_failed_at);
ALTER TABLE finicom.login_failures ENABLE ROW LEVEL SECURITY;
ALTER TABLE finicom.login_failures FORCE ROW LEVEL SECURITY;
CREATE POLICY login_failures_owner ON finicom.login_failures
    TO finicom_owner USING (true) WITH CHECK (true);

-- Throttle policy, in one place: 5 failures, 15 minutes, 1 s doubling, 5 min.
CREATE FUNCTION finicom.login_lock_seconds(p_failures integer) RETURNS integer
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path = ''
    AS $$
        SELECT CASE WHEN p_failures < 5 THEN 0
                    ELSE LEAST(300, (2 ^ LEAST(p_failures - 5, 9))::integer) END
    $$;

-- Before verifying a password: F0429 while p_email is throttled; otherwise
-- count the attempt and return the account's id and hash (none if unknown).
CREATE FUNCTION finicom.auth_login_begin(p_email text) RETURNS TABLE(user_id uuid, password_hash text)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = ''
    AS $$
    DECLARE
        v_key text := pg_catalog.lower(p_email);
        v_row finicom.login_failures%ROWTYPE;
        v_now timestamptz := pg_catalog.now();
        v_lock integer;
    BEGIN
        INSERT INTO finicom.login_failures (email, failures, first_failed_at, last_failed_at)
        VALUES (v_key, 0, v_now, v_now)
        ON CONFLICT (email) DO NOTHING;
        SELECT * INTO v_row FROM finicom.login_failures f WHERE f.email = v_key FOR UPDATE;
        IF v_row.locked_until IS NOT NULL AND v_row.locked_until > pg_catalog.clock_timestamp() THEN
            RAISE EXCEPTION USING ERRCODE = 'F0429', MESSAGE = 'rate_limited',
                DETAIL = 'too many failed sign-ins for this email; try again later',
                HINT = GREATEST(1, pg_catalog.ceil(EXTRACT(epoch FROM
                    v_row.locked_until - pg_catalog.clock_timestamp())))::bigint::text;
        END IF;
        IF v_row.failures = 0 OR v_row.last_failed_at <= v_now - interval '15 minutes' THEN
            v_row.failures := 1;
            v_row.first_failed_at := v_now;
        ELSE
            v_row.failures := v_row.failures + 1;
        END IF;
        v_lock := finicom.login_lock_seconds(v_row.failures);
        UPDATE finicom.login_failures f
        SET failures = v_row.failures, first_failed_at = v_row.first_failed_at, last_failed_at = v_now,
            locked_until = CASE WHEN v_lock > 0
                                THEN pg_catalog.clock_timestamp() + pg_catalog.make_interval(secs => v_lock) END
        WHERE f.email = v_key;
        RETURN QUERY SELECT u.id, u.password_hash FROM finicom.users u
                     WHERE pg_catalog.lower(u.email) = v_key;
    END
    $$;
REVOKE ALL ON FUNCTION finicom.auth_login_begin(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION finicom.auth_login_begin(text) TO finicom_app;

-- A correct password ends the user's run of failures.
CREATE OR REPLACE FUNCTION finicom.auth_login_complete(p_user_id uuid, p_token_hash bytea, p_max_age_seconds integer, p_new_hash text, p_old_token_hash bytea, p_ip text, p_request_id text) RETURNS TABLE(id uuid, email text, name text, created_at timestamp with time zone)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
    BEGIN
        IF p_new_hash IS NOT NULL THEN
            UPDATE finicom.users u SET password_hash = p_new_hash WHERE u.id = p_user_id;
        END IF;
        IF p_old_token_hash IS NOT NULL THEN
            DELETE FROM finicom.sessions s WHERE s.token_hash = p_old_token_hash;
        END IF;
        DELETE FROM finicom.login_failures f
        WHERE f.email = (SELECT pg_catalog.lower(u.email) FROM finicom.users u WHERE u.id = p_user_id);
        PERFORM audit.auth_event('login.succeeded', p_user_id,
            (SELECT u.email FROM finicom.users u WHERE u.id = p_user_id), p_ip, p_request_id);
        RETURN QUERY SELECT * FROM finicom.session_create(p_user_id, p_token_hash, p_max_age_seconds);
    END
    $$;

-- The hourly job also forgets runs of failures that have ended.
CREATE OR REPLACE FUNCTION finicom.purge_sessions() RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
    DECLARE
        n integer;
    BEGIN
        DELETE FROM finicom.sessions s WHERE s.expires_at <= pg_catalog.now();
        GET DIAGNOSTICS n = ROW_COUNT;
        DELETE FROM finicom.login_failures f
        WHERE f.last_failed_at <= pg_catalog.now() - interval '15 minutes'
          AND (f.locked_until IS NULL OR f.locked_until <= pg_catalog.now());
        RETURN n;
    END
    $$;
