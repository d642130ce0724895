-- 0029_login_token_once: one definition of how a second step's login
-- token is made.
--
-- 0023's auth_login_proceed (POST /auth/login with two-factor on) made the
-- login token with its own copy of the statements that 0028 put in
-- finicom.totp_login_token_create for the password reset (the user's
-- expired tokens deleted, the new one inserted for 5 minutes, the
-- login.totp_required auth event).  Two copies would drift apart: the
-- login now calls the function, and the lifetime lives in one place.
-- Nothing else changes: the same arguments, the same result, the same rows
-- and events (pgTAP 21 and 23 and test_totp.py test them).

CREATE OR REPLACE FUNCTION finicom.auth_login_proceed(p_user_id uuid, p_token_hash bytea, p_max_age_seconds integer,
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
        PERFORM finicom.totp_login_token_create(p_user_id, p_login_hash, p_ip, p_request_id); -- 0029
        RETURN QUERY SELECT true, NULL::json;
    END
    $$;
