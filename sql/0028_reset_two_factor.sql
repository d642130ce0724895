-- 0028_reset_two_factor: two-factor authentication meets the password
-- reset and the operator (docs/two-factor.md, docs/accounts.md).
--
--   * A password reset no longer signs in an account that has two-factor
--     on: the password is set, every session ends, the token is spent, and
--     the reply is the login token of the second step (as POST
--     /auth/login's), so the mailbox alone does not get anyone in.
--   * finicomctl disable-2fa EMAIL turns an account's two-factor off for a
--     user who lost the device and the recovery codes: the auth event
--     'totp.disabled_by_operator'.

ALTER TABLE audit.auth_events DROP CONSTRAINT auth_events_event_check;
ALTER TABLE audit.auth_events ADD CONSTRAINT auth_events_event_check CHECK (event IN (
    'signup', 'login.succeeded', 'login.failed', 'logout', 'email.verified', 'account.taken_over',
    'password.reset_requested', 'password.reset', 'password.changed', 'session.revoked',
    -- 0023: two-factor authentication
    'totp.enrolled', 'totp.enabled', 'totp.disabled', 'totp.failed', 'totp.recovery_code_used',
    'login.totp_required', 'login.totp_succeeded', 'login.totp_failed',
    -- 0028: finicomctl disable-2fa
    'totp.disabled_by_operator'));

-- The login token of a second step for p_user (5 minutes, as
-- auth_login_proceed makes them; the user's expired ones go).
CREATE FUNCTION finicom.totp_login_token_create(p_user uuid, p_login_hash bytea, p_ip text, p_request_id text)
    RETURNS void
    LANGUAGE sql SECURITY DEFINER
    SET search_path = ''
    AS $$
        DELETE FROM finicom.totp_login_tokens l
        WHERE l.user_id = p_user AND l.expires_at <= pg_catalog.now();
        INSERT INTO finicom.totp_login_tokens (token_hash, user_id, expires_at)
        VALUES (p_login_hash, p_user, pg_catalog.now() + interval '5 minutes');
        SELECT audit.auth_event('login.totp_required', p_user,
            (SELECT u.email FROM finicom.users u WHERE u.id = p_user), p_ip, p_request_id);
    $$;
REVOKE ALL ON FUNCTION finicom.totp_login_token_create(uuid, bytea, text, text) FROM PUBLIC;

-- POST /auth/password-reset/{token}, as 0022's, with p_login_hash: when
-- the account has two-factor on, no session is made (p_session_hash is
-- not used) but the login token whose hash is p_login_hash, and the
-- outcome is 'totp_required' (user_json NULL); everything else happens
-- as with 'ok' (the password set, every session ended, the tokens spent,
-- the address verified, the events).
DROP FUNCTION finicom.auth_password_reset(bytea, text, bytea, integer, text, text, text);
CREATE FUNCTION finicom.auth_password_reset(p_token_hash bytea, p_password_hash text, p_session_hash bytea,
                                            p_max_age_seconds integer, p_ip text, p_request_id text,
                                            p_user_agent text, p_login_hash bytea)
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
        PERFORM audit.auth_event('password.reset', v_user.id, v_user.email, p_ip, p_request_id);
        IF EXISTS (SELECT 1 FROM finicom.totp_credentials t
                   WHERE t.user_id = v_user.id AND t.confirmed_at IS NOT NULL) THEN
            -- Two-factor on: the second step of a sign-in, not a session.
            PERFORM finicom.totp_login_token_create(v_user.id, p_login_hash, p_ip, p_request_id);
            RETURN QUERY SELECT 'totp_required'::text, NULL::text, NULL::text;
            RETURN;
        END IF;
        PERFORM finicom.session_create(v_user.id, p_session_hash, p_max_age_seconds);
        PERFORM finicom.session_describe(p_session_hash, p_ip, p_user_agent);
        RETURN QUERY SELECT 'ok'::text, NULL::text, finicom.session_user_json(p_session_hash)::text;
    END
    $$;
REVOKE ALL ON FUNCTION finicom.auth_password_reset(bytea, text, bytea, integer, text, text, text, bytea)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION finicom.auth_password_reset(bytea, text, bytea, integer, text, text, text, bytea)
    TO finicom_auth;

-- finicomctl disable-2fa EMAIL: the account's two-factor off (its secret,
-- recovery codes, pending login tokens and run of wrong codes gone); its
-- sessions stay.  The account's id, or NULL when no account has the
-- address or two-factor is not on (pending enrolments go either way).
-- Only the owner (and superusers) may call it.
CREATE FUNCTION finicom.totp_disable_by_operator(p_email text, p_request_id text) RETURNS uuid
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = ''
    AS $$
    DECLARE
        v_user finicom.users%ROWTYPE;
        v_on boolean;
    BEGIN
        SELECT * INTO v_user FROM finicom.users u
        WHERE finicom.ascii_lower(u.email) = finicom.ascii_lower(p_email) FOR UPDATE;
        IF NOT FOUND THEN
            RETURN NULL;
        END IF;
        v_on := EXISTS (SELECT 1 FROM finicom.totp_credentials t
                        WHERE t.user_id = v_user.id AND t.confirmed_at IS NOT NULL);
        DELETE FROM finicom.totp_credentials t WHERE t.user_id = v_user.id;
        DELETE FROM finicom.totp_recovery_codes c WHERE c.user_id = v_user.id;
        DELETE FROM finicom.totp_login_tokens l WHERE l.user_id = v_user.id;
        DELETE FROM finicom.totp_failures f WHERE f.user_id = v_user.id;
        IF NOT v_on THEN
            RETURN NULL;
        END IF;
        PERFORM audit.auth_event('totp.disabled_by_operator', v_user.id, v_user.email, NULL, p_request_id);
        RETURN v_user.id;
    END
    $$;
REVOKE ALL ON FUNCTION finicom.totp_disable_by_operator(text, text) FROM PUBLIC;
