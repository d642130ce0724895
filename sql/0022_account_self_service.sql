-- 0022_account_self_service: password reset by email, password change,
-- the profile's name, and the list of one's own sessions (API v1.1
-- "Accounts"; docs/accounts.md).
--
--   finicom.sessions.ip, .user_agent   where a session was made from: the
--                        client address and User-Agent (at most 256 bytes,
--                        printable ASCII: src/http.c) of the login, signup,
--                        accept or reset that made it
--   finicom.password_resets   one row per reset request, for a known address
--                        or not (the same work either way): the token's
--                        SHA-256 (the token exists in clear only in its mail,
--                        made by the auth process), 1 hour, single use; a
--                        newer request replaces the live one and cancels its
--                        unsent mail.  user_id NULL: no account had the
--                        address (no mail was sent; the token was never
--                        shown to anyone; its outbox row is canceled from
--                        the start).  The rows are also the request
--                        throttle: 5 per address an hour (F0429), known or not.
--
-- Who may do what:
--   finicom_auth (the auth processes, sql/0019): auth_password_reset_request
--       (the token is made in the auth process, so no worker ever sees
--       one), auth_password_reset (the new hash, every session ended, a new
--       one), auth_password_change_begin / auth_password_change (the
--       current hash to verify, the new one stored, the other sessions
--       ended), session_describe (the address and User-Agent of the
--       session a login, signup or accept just made).
--   finicom_app (the workers): password_reset_preview (the token is the
--       proof), and with a verified context only: my_sessions,
--       session_revoke, sessions_revoke_others, me_update.  Without a
--       context each reads and changes nothing (tests/sql/17-no-context.sql).
--
-- A reset for an unverified account takes it over (API v1.1 amendments):
-- the password is replaced and every session ends, as for any reset, an
-- 'account.taken_over' auth event says so, and the address is verified
-- (the link came by mail to it).  A password change also spends the live
-- reset tokens of the account: a link mailed before the change would
-- otherwise undo it.
--
-- Emails are compared with finicom.ascii_lower() (sql/0017).

ALTER TABLE finicom.sessions
    ADD COLUMN ip text CHECK (octet_length(ip) <= 100),
    ADD COLUMN user_agent text CHECK (octet_length(user_agent) <= 256);
CREATE INDEX sessions_user_idx ON finicom.sessions (user_id, created_at);

CREATE TABLE finicom.password_resets (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email text NOT NULL CHECK (octet_length(email) BETWEEN 3 AND 254),
    user_id uuid REFERENCES finicom.users (id) ON DELETE CASCADE,
    token_hash bytea NOT NULL UNIQUE CHECK (octet_length(token_hash) = 32),
    mail_id uuid,
    created_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    expires_at timestamptz NOT NULL,
    used_at timestamptz,
    replaced_at timestamptz
);
CREATE INDEX password_resets_email_idx ON finicom.password_resets (finicom.ascii_lower(email), created_at);
CREATE INDEX password_resets_live_idx ON finicom.password_resets (user_id)
    WHERE used_at IS NULL AND replaced_at IS NULL;
ALTER TABLE finicom.password_resets ENABLE ROW LEVEL SECURITY;
ALTER TABLE finicom.password_resets FORCE ROW LEVEL SECURITY;
CREATE POLICY password_resets_owner ON finicom.password_resets TO finicom_owner USING (true) WITH CHECK (true);

ALTER TABLE audit.auth_events DROP CONSTRAINT auth_events_event_check;
ALTER TABLE audit.auth_events ADD CONSTRAINT auth_events_event_check CHECK (event IN (
    'signup', 'login.succeeded', 'login.failed', 'logout', 'email.verified', 'account.taken_over',
    'password.reset_requested', 'password.reset', 'password.changed', 'session.revoked'));

-- Where the session just made (p_token_hash) came from, written once:
-- the auth process calls it after a login, signup or accept made the
-- session (their functions stay as they were), and auth_password_reset
-- itself.  A session already described is left as it is.
CREATE FUNCTION finicom.session_describe(p_token_hash bytea, p_ip text, p_user_agent text) RETURNS void
    LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = ''
    AS $$
        UPDATE finicom.sessions s
        SET ip = pg_catalog.left(p_ip, 100), user_agent = pg_catalog.left(p_user_agent, 256)
        WHERE s.token_hash = p_token_hash AND s.ip IS NULL AND s.user_agent IS NULL
    $$;
REVOKE ALL ON FUNCTION finicom.session_describe(bytea, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION finicom.session_describe(bytea, text, text) TO finicom_auth;

-- ---------------------------------------------------------------------
-- Password reset.

-- POST /api/v1/auth/password-reset (finicom_auth; the auth process made
-- the token and the link {public_url}/reset/{token}): the same steps for
-- a known and an unknown address, so both cost the same.  The address is
-- locked (advisory, for exact counts under concurrent requests) and
-- throttled (5 requests an hour: F0429, HINT the seconds until the oldest
-- leaves the window); the live token of the address is replaced (its
-- unsent mail canceled; a mail the mailer is sending right now is left to
-- it); the mail is written to the outbox, queued for an account with the
-- address, canceled at once (and without the link) for an unknown one, so
-- both write the same rows; the request's row is written; a
-- 'password.reset_requested' auth event either way (user_id NULL for an
-- unknown address, as login.failed).  No NOTIFY: a
-- woken mailer would be sending (and the SMTP relay receiving) while the
-- reply is still on its way, which made known addresses measurably slower
-- on a busy machine; the mailer finds the row at its next look instead
-- (at most SEAL_INTERVAL, 0.2 s, later: src/mailer/mailer.c).
CREATE FUNCTION finicom.auth_password_reset_request(p_email text, p_token_hash bytea, p_link text,
                                                    p_ip text, p_request_id text) RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = ''
    AS $$
    DECLARE
        v_key text := finicom.ascii_lower(p_email);
        v_user finicom.users%ROWTYPE;
        v_count bigint;
        v_oldest timestamptz;
        v_mail uuid;
        v_expires timestamptz := pg_catalog.now() + interval '1 hour';
    BEGIN
        PERFORM pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended('finicom.password_reset:' || v_key, 0));
        SELECT pg_catalog.count(*), pg_catalog.min(r.created_at) INTO v_count, v_oldest
        FROM finicom.password_resets r
        WHERE finicom.ascii_lower(r.email) = v_key AND r.created_at > pg_catalog.now() - interval '1 hour';
        IF v_count >= 5 THEN
            RAISE EXCEPTION USING ERRCODE = 'F0429', MESSAGE = 'rate_limited',
                DETAIL = 'too many password reset requests for this email; try again later',
                HINT = finicom.retry_seconds(v_oldest + interval '1 hour');
        END IF;
        SELECT * INTO v_user FROM finicom.users u WHERE finicom.ascii_lower(u.email) = v_key;
        UPDATE finicom.mail_outbox m
        SET status = 'canceled', body = pg_catalog.replace(m.body, m.link, '(link replaced)'), link = NULL
        WHERE m.id IN (SELECT x.id FROM finicom.mail_outbox x JOIN finicom.password_resets r ON r.mail_id = x.id
                       WHERE finicom.ascii_lower(r.email) = v_key AND r.used_at IS NULL AND r.replaced_at IS NULL
                         AND x.status = 'queued' FOR UPDATE OF x SKIP LOCKED);
        UPDATE finicom.password_resets r SET replaced_at = pg_catalog.now()
        WHERE finicom.ascii_lower(r.email) = v_key AND r.used_at IS NULL AND r.replaced_at IS NULL;
        -- The same row either way; for an unknown address it is canceled
        -- from the start (never sent) and holds no link.
        INSERT INTO finicom.mail_outbox (recipient, subject, body, link, message_id, status)
        VALUES (coalesce(v_user.email, p_email), 'Reset your Finicom password',
            pg_catalog.format(E'Hello %s,\n\nSomeone asked to reset the password of the Finicom account for %s.\nTo choose a new password, open this link:\n\n%s\n\nThe link works once and expires at %s (UTC).\nSetting a new password signs the account out everywhere.\nIf you did not ask for this, you can ignore this email: your password stays as it is.\n',
                coalesce(v_user.name, '-'), coalesce(v_user.email, p_email),
                CASE WHEN v_user.id IS NOT NULL THEN p_link ELSE '(no account has this address)' END,
                pg_catalog.to_char(v_expires AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI')),
            CASE WHEN v_user.id IS NOT NULL THEN p_link END, '<' || gen_random_uuid() || '@finicom.invalid>',
            CASE WHEN v_user.id IS NOT NULL THEN 'queued' ELSE 'canceled' END)
        RETURNING id INTO v_mail;
        INSERT INTO finicom.password_resets (email, user_id, token_hash, mail_id, expires_at)
        VALUES (coalesce(v_user.email, p_email), v_user.id, p_token_hash, v_mail, v_expires);
        PERFORM audit.auth_event('password.reset_requested', v_user.id, coalesce(v_user.email, p_email),
                                 p_ip, p_request_id);
    END
    $$;
REVOKE ALL ON FUNCTION finicom.auth_password_reset_request(text, bytea, text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION finicom.auth_password_reset_request(text, bytea, text, text, text) TO finicom_auth;

-- GET /api/v1/auth/password-reset/{token} (finicom_app; the token is the
-- proof): 'ok' with the account's email, name and the expiry; 'not_found'
-- (never issued, or issued for an address no account has); 'gone' with
-- status 'used', 'replaced' (a newer request) or 'expired'.
CREATE FUNCTION finicom.password_reset_preview(p_token_hash bytea)
    RETURNS TABLE (outcome text, status text, email text, name text, expires_at text)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ''
    AS $$
        SELECT CASE WHEN r.id IS NULL OR r.user_id IS NULL THEN 'not_found'
                    WHEN r.used_at IS NOT NULL OR r.replaced_at IS NOT NULL
                         OR r.expires_at <= pg_catalog.now() THEN 'gone'
                    ELSE 'ok' END,
               CASE WHEN r.used_at IS NOT NULL THEN 'used' WHEN r.replaced_at IS NOT NULL THEN 'replaced'
                    WHEN r.expires_at <= pg_catalog.now() THEN 'expired' END,
               u.email, u.name, finicom.ts(r.expires_at)
        FROM (SELECT 1) one
        LEFT JOIN finicom.password_resets r ON r.token_hash = p_token_hash
        LEFT JOIN finicom.users u ON u.id = r.user_id
    $$;
REVOKE ALL ON FUNCTION finicom.password_reset_preview(bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION finicom.password_reset_preview(bytea) TO finicom_app;

-- POST /api/v1/auth/password-reset/{token} (finicom_auth, after hashing
-- the new password): the token's row locked, so two uses serialize and
-- the second finds it used.  Outcomes as the preview's; with 'ok' the
-- password is replaced, every session of the account ends and the new one
-- (p_session_hash) starts, the throttle of the address is forgotten, every
-- live token of the account is spent, the address is verified, and the
-- auth events say so ('account.taken_over' first for an unverified
-- account, then 'password.reset').  user_json: the user object.
CREATE FUNCTION finicom.auth_password_reset(p_token_hash bytea, p_password_hash text, p_session_hash bytea,
                                            p_max_age_seconds integer, p_ip text, p_request_id text,
                                            p_user_agent text)
    RETURNS TABLE (outcome text, status text, user_json text)
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = ''
    AS $$
    DECLARE
        v finicom.password_resets%ROWTYPE;
        v_user finicom.users%ROWTYPE;
    BEGIN
        SELECT * INTO v FROM finicom.password_resets r WHERE r.token_hash = p_token_hash FOR UPDATE;
        IF NOT FOUND OR v.user_id IS NULL THEN
            RETURN QUERY SELECT 'not_found'::text, NULL::text, NULL::text;
            RETURN;
        END IF;
        IF v.used_at IS NOT NULL OR v.replaced_at IS NOT NULL OR v.expires_at <= pg_catalog.now() THEN
            RETURN QUERY SELECT 'gone'::text, CASE WHEN v.used_at IS NOT NULL THEN 'used'
                                                  WHEN v.replaced_at IS NOT NULL THEN 'replaced'
                                                  ELSE 'expired' END, NULL::text;
            RETURN;
        END IF;
        SELECT * INTO v_user FROM finicom.users u WHERE u.id = v.user_id FOR UPDATE;
        IF v_user.email_verified_at IS NULL THEN
            PERFORM audit.auth_event('account.taken_over', v_user.id, v_user.email, p_ip, p_request_id);
        END IF;
        UPDATE finicom.users u SET password_hash = p_password_hash WHERE u.id = v_user.id;
        DELETE FROM finicom.sessions s WHERE s.user_id = v_user.id;
        DELETE FROM finicom.login_failures f WHERE f.email = finicom.ascii_lower(v_user.email);
        UPDATE finicom.password_resets r SET used_at = pg_catalog.now() WHERE r.id = v.id;
        UPDATE finicom.password_resets r SET replaced_at = pg_catalog.now()
        WHERE r.user_id = v_user.id AND r.used_at IS NULL AND r.replaced_at IS NULL;
        PERFORM finicom.email_verified_mark(v_user.id, p_ip, p_request_id);
        PERFORM finicom.session_create(v_user.id, p_session_hash, p_max_age_seconds);
        PERFORM finicom.session_describe(p_session_hash, p_ip, p_user_agent);
        PERFORM audit.auth_event('password.reset', v_user.id, v_user.email, p_ip, p_request_id);
        RETURN QUERY SELECT 'ok'::text, NULL::text, finicom.session_user_json(p_session_hash)::text;
    END
    $$;
REVOKE ALL ON FUNCTION finicom.auth_password_reset(bytea, text, bytea, integer, text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION finicom.auth_password_reset(bytea, text, bytea, integer, text, text, text)
    TO finicom_auth;

-- ---------------------------------------------------------------------
-- Password change (POST /api/v1/me/password), in the auth process.

-- The hash to verify the current password against, for p_user whose live
-- session p_session_hash is (else no row).  The attempt counts in the
-- login throttle of the account's address (auth_login_begin, sql/0015:
-- F0429 while throttled), so a stolen session cannot guess the password
-- faster than a login could; auth_password_change forgets it on success.
CREATE FUNCTION finicom.auth_password_change_begin(p_user uuid, p_session_hash bytea)
    RETURNS TABLE (password_hash text)
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = ''
    AS $$
    DECLARE
        v_email text;
    BEGIN
        SELECT u.email INTO v_email FROM finicom.sessions s JOIN finicom.users u ON u.id = s.user_id
        WHERE s.token_hash = p_session_hash AND s.user_id = p_user AND s.expires_at > pg_catalog.now();
        IF v_email IS NULL THEN
            RETURN;
        END IF;
        RETURN QUERY SELECT b.password_hash FROM finicom.auth_login_begin(v_email) b WHERE b.user_id = p_user;
    END
    $$;
REVOKE ALL ON FUNCTION finicom.auth_password_change_begin(uuid, bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION finicom.auth_password_change_begin(uuid, bytea) TO finicom_auth;

-- The current password was right: the new hash replaces it, every other
-- session of p_user ends (p_session_hash, the one asking, stays), the
-- throttle is forgotten, live reset tokens are spent, and a
-- 'password.changed' auth event is written.  False (nothing changed) when
-- p_session_hash is not a live session of p_user.
CREATE FUNCTION finicom.auth_password_change(p_user uuid, p_session_hash bytea, p_new_hash text,
                                             p_ip text, p_request_id text) RETURNS boolean
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = ''
    AS $$
    DECLARE
        v_email text;
    BEGIN
        SELECT u.email INTO v_email FROM finicom.sessions s JOIN finicom.users u ON u.id = s.user_id
        WHERE s.token_hash = p_session_hash AND s.user_id = p_user AND s.expires_at > pg_catalog.now()
        FOR UPDATE OF u;
        IF v_email IS NULL THEN
            RETURN false;
        END IF;
        UPDATE finicom.users u SET password_hash = p_new_hash WHERE u.id = p_user;
        DELETE FROM finicom.sessions s WHERE s.user_id = p_user AND s.token_hash <> p_session_hash;
        DELETE FROM finicom.login_failures f WHERE f.email = finicom.ascii_lower(v_email);
        UPDATE finicom.password_resets r SET replaced_at = pg_catalog.now()
        WHERE r.user_id = p_user AND r.used_at IS NULL AND r.replaced_at IS NULL;
        PERFORM audit.auth_event('password.changed', p_user, v_email, p_ip, p_request_id);
        RETURN true;
    END
    $$;
REVOKE ALL ON FUNCTION finicom.auth_password_change(uuid, bytea, text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION finicom.auth_password_change(uuid, bytea, text, text, text) TO finicom_auth;

-- ---------------------------------------------------------------------
-- The signed-in user's own account (finicom_app, verified context only).

-- GET /api/v1/me/sessions: the live sessions of the context's user (none
-- without one), newest first, as page rows (item, kt, ki) after the cursor
-- (p_after_t, p_after_id), at most p_limit + 1 of them.  current: the
-- session whose token hash is p_current_hash.  A session idle longer than
-- p_idle_seconds is dead (begin_request refuses it) and not listed.
CREATE FUNCTION finicom.my_sessions(p_current_hash bytea, p_idle_seconds integer, p_limit integer,
                                    p_after_t timestamptz, p_after_id uuid)
    RETURNS TABLE (item json, kt timestamptz, ki uuid)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ''
    AS $$
        SELECT pg_catalog.json_build_object('id', s.id, 'created_at', finicom.ts(s.created_at),
                   'last_seen_at', finicom.ts(s.last_seen_at), 'ip', s.ip, 'user_agent', s.user_agent,
                   'current', s.token_hash = p_current_hash),
               s.created_at, s.id
        FROM finicom.sessions s
        WHERE s.user_id = finicom.request_user_id()
          AND s.expires_at > pg_catalog.now()
          AND s.last_seen_at > pg_catalog.now() - pg_catalog.make_interval(secs => p_idle_seconds)
          AND (p_after_t IS NULL OR (s.created_at, s.id) < (p_after_t, p_after_id))
        ORDER BY s.created_at DESC, s.id DESC
        LIMIT p_limit + 1
    $$;
REVOKE ALL ON FUNCTION finicom.my_sessions(bytea, integer, integer, timestamptz, uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION finicom.my_sessions(bytea, integer, integer, timestamptz, uuid) TO finicom_app;

-- DELETE /api/v1/me/sessions/{id}: end that session of the context's user
-- ('session.revoked'): 'current' when it was p_current_hash's (the one
-- asking), else 'other'; NULL when it is no session of that user (404).
CREATE FUNCTION finicom.session_revoke(p_id uuid, p_current_hash bytea) RETURNS text
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = ''
    AS $$
    DECLARE
        v_user uuid;
        v_hash bytea;
    BEGIN
        DELETE FROM finicom.sessions s WHERE s.id = p_id AND s.user_id = finicom.request_user_id()
        RETURNING s.user_id, s.token_hash INTO v_user, v_hash;
        IF v_user IS NULL THEN
            RETURN NULL;
        END IF;
        PERFORM audit.auth_event('session.revoked', v_user,
            (SELECT u.email FROM finicom.users u WHERE u.id = v_user),
            nullif(pg_catalog.current_setting('finicom.client_ip', true), ''),
            nullif(pg_catalog.current_setting('finicom.request_id', true), ''));
        RETURN CASE WHEN v_hash = p_current_hash THEN 'current' ELSE 'other' END;
    END
    $$;
REVOKE ALL ON FUNCTION finicom.session_revoke(uuid, bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION finicom.session_revoke(uuid, bytea) TO finicom_app;

-- DELETE /api/v1/me/sessions: end every session of the context's user but
-- p_current_hash's, one 'session.revoked' event for each; returns how many.
CREATE FUNCTION finicom.sessions_revoke_others(p_current_hash bytea) RETURNS integer
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = ''
    AS $$
    DECLARE
        v_user uuid := finicom.request_user_id();
        v_email text;
        v_n integer;
    BEGIN
        IF v_user IS NULL THEN
            RETURN 0;
        END IF;
        DELETE FROM finicom.sessions s WHERE s.user_id = v_user AND s.token_hash <> p_current_hash;
        GET DIAGNOSTICS v_n = ROW_COUNT;
        SELECT u.email INTO v_email FROM finicom.users u WHERE u.id = v_user;
        PERFORM audit.auth_event('session.revoked', v_user, v_email,
            nullif(pg_catalog.current_setting('finicom.client_ip', true), ''),
            nullif(pg_catalog.current_setting('finicom.request_id', true), ''))
        FROM pg_catalog.generate_series(1, v_n);
        RETURN v_n;
    END
    $$;
REVOKE ALL ON FUNCTION finicom.sessions_revoke_others(bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION finicom.sessions_revoke_others(bytea) TO finicom_app;

-- PATCH /api/v1/me {name}: the context's user's new name; the user object
-- (NULL without a user in the context: nothing changed).
CREATE FUNCTION finicom.me_update(p_name text) RETURNS json
    LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = ''
    AS $$
        UPDATE finicom.users u SET name = p_name WHERE u.id = finicom.request_user_id()
        RETURNING finicom.user_json(u)
    $$;
REVOKE ALL ON FUNCTION finicom.me_update(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION finicom.me_update(text) TO finicom_app;

-- The hourly purge also forgets reset requests a day old (their tokens
-- expired long before; the throttle looks back one hour), with the
-- canceled outbox rows of those for unknown addresses.
CREATE OR REPLACE FUNCTION finicom.purge_sessions() RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
    AS $$
    DECLARE
        n integer;
    BEGIN
        DELETE FROM finicom.sessions s WHERE s.expires_at <= pg_catalog.now();
        GET DIAGNOSTICS n = ROW_COUNT;
        DELETE FROM finicom.login_failures f
        WHERE f.last_failed_at <= pg_catalog.now() - interval '15 minutes'
          AND (f.locked_until IS NULL OR f.locked_until <= pg_catalog.now());
        DELETE FROM finicom.mail_outbox m USING finicom.password_resets r
        WHERE m.id = r.mail_id AND r.user_id IS NULL AND r.created_at <= pg_catalog.now() - interval '1 day';
        DELETE FROM finicom.password_resets r WHERE r.created_at <= pg_catalog.now() - interval '1 day';
        RETURN n;
    END
    $$;
