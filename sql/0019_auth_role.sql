-- migrate: superuser (CREATE ROLE finicom_auth and its CONNECT on the database)
-- 0019_auth_role: credentials move to their own role, finicom_auth.
--
-- Until now the workers' role, finicom_app, could read any user's Argon2
-- hash (auth_login_lookup, auth_login_begin), mint a session for any user
-- (auth_login_complete with the hash of a token of its own), create
-- accounts with a hash of its choosing (auth_signup, auth_signup_verify,
-- invitation_accept), take over an unverified account with a password of
-- its choosing (invitation_accept without p_user, sql/0018) and name the
-- user an invitation is accepted for (invitation_accept's p_user): all of
-- it one SQL injection away.  Now finicomd's master forks auth processes
-- (src/privsep/) that connect as finicom_auth, the only role that may
-- execute the credential functions: they read the hash, verify the
-- password, create the session and store new hashes.  The workers ask
-- them over a socket and never see a hash.
--
-- finicom_auth owns nothing and has no privilege on any table: it reaches
-- the data only through these SECURITY DEFINER functions:
--   auth_login_begin     throttle check + the account's id and hash
--   auth_login_failed    the login.failed auth event
--   auth_login_complete  rehash, end the old session, a new session
--   auth_signup_verify   a new account, its first session and its
--                        verification mail (sql/0018), in one transaction
--   invitation_accept_new_user  accepting without a session: a new account
--                        (or the takeover of an unverified one, sql/0018),
--                        its session, its verified address and its
--                        membership
-- and finicom.ts and finicom.session_user_json (the user object it returns
-- to the worker).  auth_signup itself is no one's any more: the only way
-- to an account by signup is auth_signup_verify, so every signup mails its
-- verification link.
--
-- finicom_app keeps what a request needs with a verified context, and each
-- of its SECURITY DEFINER entry points now does nothing without one:
--   invitation_join      (new) accepting as the signed-in user of the
--                        context, instead of invitation_accept's p_user;
--                        it verifies the address, as sql/0018's did
--   auth_logout          deletes only a session of the context's user
-- invitation_accept (which did both, for any user) and auth_login_lookup
-- (unused since 0015, returning hashes) are dropped.
-- tests/sql/17-no-context.sql lists every function finicom_app may execute
-- with what it can do without a context; 19-auth-role.sql checks
-- finicom_auth.
--
-- Emails are compared as sql/0017 says, with finicom.ascii_lower() and
-- never lower() (tests/sql/16-email-rule.sql).

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'finicom_auth') THEN
        CREATE ROLE finicom_auth LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;
    END IF;
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO finicom_auth', current_database());
END
$$;

SET LOCAL ROLE finicom_owner;

GRANT USAGE ON SCHEMA finicom TO finicom_auth;
GRANT EXECUTE ON FUNCTION finicom.ts(timestamptz) TO finicom_auth;
-- The user object of the API for the session just made (login's reply).
GRANT EXECUTE ON FUNCTION finicom.session_user_json(bytea) TO finicom_auth;


-- The credential functions change hands, every version of each.
DO $$
DECLARE
    f regprocedure;
BEGIN
    FOR f IN SELECT p.oid FROM pg_catalog.pg_proc p
             WHERE p.pronamespace = 'finicom'::regnamespace
               AND p.proname IN ('auth_login_begin', 'auth_login_failed', 'auth_login_complete',
                                 'auth_signup_verify')
    LOOP
        EXECUTE pg_catalog.format('REVOKE EXECUTE ON FUNCTION %s FROM finicom_app', f);
        EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION %s TO finicom_auth', f);
    END LOOP;
    -- Signup without its verification mail: internal to auth_signup_verify.
    FOR f IN SELECT p.oid FROM pg_catalog.pg_proc p
             WHERE p.pronamespace = 'finicom'::regnamespace AND p.proname = 'auth_signup'
    LOOP
        EXECUTE pg_catalog.format('REVOKE ALL ON FUNCTION %s FROM PUBLIC, finicom_app', f);
    END LOOP;
END
$$;

DROP FUNCTION finicom.auth_login_lookup(text);
DROP FUNCTION finicom.invitation_accept(bytea, uuid, text, text, bytea, integer);

-- The end of every accepted invitation: p_user's address is verified (the
-- link came by mail to it: sql/0018's email_verified_mark, with its
-- 'email.verified' auth event), p_user joins the invitation's org with its
-- role, in a context that says so (for the audit trigger), and the
-- invitation is accepted.  Returns the 'ok' row of the accept functions,
-- with the user object of sql/0018 (email_verified).  Only for the two
-- below (no one may execute it).
CREATE FUNCTION finicom.invitation_admit(p_inv finicom.invitations, p_user uuid, p_request_id text,
                                         p_client_ip text)
    RETURNS TABLE (outcome text, status text, org_id uuid, org_name text, role text, user_json text)
    LANGUAGE plpgsql SET search_path = ''
    AS $$
    BEGIN
        PERFORM finicom.email_verified_mark(p_user, p_client_ip, p_request_id);
        PERFORM finicom.context_seal('user', p_user, p_inv.org_id, p_inv.role, p_request_id, p_client_ip);
        INSERT INTO finicom.memberships (org_id, user_id, role) VALUES (p_inv.org_id, p_user, p_inv.role);
        UPDATE finicom.invitations i
        SET status = 'accepted', accepted_at = pg_catalog.now(), accepted_by = p_user
        WHERE i.org_id = p_inv.org_id AND i.id = p_inv.id;
        RETURN QUERY
            SELECT 'ok'::text, 'accepted'::text, p_inv.org_id,
                   (SELECT o.name FROM finicom.orgs o WHERE o.id = p_inv.org_id), p_inv.role::text,
                   finicom.user_json(u)::text
            FROM finicom.users u WHERE u.id = p_user;
    END
    $$;
REVOKE ALL ON FUNCTION finicom.invitation_admit(finicom.invitations, uuid, text, text) FROM PUBLIC;

-- Accepting as the signed-in user of the verified context (finicom_app):
-- the outcomes of invitation_accept for a signed-in user (not_found, gone,
-- email_mismatch, already_member, ok), emails compared with ASCII letters
-- lowercased only (sql/0017).  Without a user in the context it refuses
-- (F0403) and changes nothing.
CREATE FUNCTION finicom.invitation_join(p_token_hash bytea)
    RETURNS TABLE (outcome text, status text, org_id uuid, org_name text, role text, user_json text)
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
    AS $$
    DECLARE
        v_user uuid := finicom.request_user_id();
        v_inv finicom.invitations%ROWTYPE;
    BEGIN
        IF v_user IS NULL THEN
            RAISE EXCEPTION USING ERRCODE = 'F0403', MESSAGE = 'forbidden',
                DETAIL = 'only a signed-in user can join with an invitation';
        END IF;
        SELECT * INTO v_inv FROM finicom.invitations i WHERE i.token_hash = p_token_hash FOR UPDATE;
        IF NOT FOUND THEN
            RETURN QUERY SELECT 'not_found'::text, NULL::text, NULL::uuid, NULL::text, NULL::text, NULL::text;
            RETURN;
        END IF;
        IF v_inv.status <> 'pending' OR v_inv.expires_at <= pg_catalog.now() THEN
            RETURN QUERY SELECT 'gone'::text, CASE WHEN v_inv.status = 'pending' THEN 'expired'
                                                  ELSE v_inv.status::text END,
                                NULL::uuid, NULL::text, NULL::text, NULL::text;
            RETURN;
        END IF;
        IF (SELECT finicom.ascii_lower(u.email) FROM finicom.users u WHERE u.id = v_user)
           IS DISTINCT FROM finicom.ascii_lower(v_inv.email) THEN
            RETURN QUERY SELECT 'email_mismatch'::text, NULL::text, NULL::uuid, NULL::text, NULL::text, NULL::text;
            RETURN;
        END IF;
        IF EXISTS (SELECT 1 FROM finicom.memberships m WHERE m.org_id = v_inv.org_id AND m.user_id = v_user) THEN
            RETURN QUERY SELECT 'already_member'::text, NULL::text, NULL::uuid, NULL::text, NULL::text, NULL::text;
            RETURN;
        END IF;
        RETURN QUERY SELECT * FROM finicom.invitation_admit(v_inv, v_user,
            nullif(pg_catalog.current_setting('finicom.request_id', true), ''),
            nullif(pg_catalog.current_setting('finicom.client_ip', true), ''));
    END
    $$;
REVOKE ALL ON FUNCTION finicom.invitation_join(bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION finicom.invitation_join(bytea) TO finicom_app;

-- Accepting without a session (finicom_auth, after hashing the password),
-- in one statement: sql/0018's invitation_accept without p_user.
--   - No account has the invited email (ASCII case aside): the account
--     with that email is made.
--   - An unverified account has it: the owner of the address takes it
--     over.  The name and password given replace the old ones, every
--     session of the account ends and its throttle is forgotten
--     ('account.taken_over' auth event).  Unless it already is a member of
--     the org: already_member, and nothing changes.
--   - A verified account has it: email_taken (sign in, then accept).
-- Then the account's first (or only) session, its address verified and the
-- membership (invitation_admit).  Outcomes: not_found, gone, email_taken,
-- already_member, ok.  The request's id and address go into the auth
-- events and the context of the membership's audit event, as the worker's
-- context had them.
CREATE FUNCTION finicom.invitation_accept_new_user(p_token_hash bytea, p_name text, p_password_hash text,
                                                   p_session_hash bytea, p_max_age_seconds integer,
                                                   p_ip text, p_request_id text)
    RETURNS TABLE (outcome text, status text, org_id uuid, org_name text, role text, user_json text)
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
    AS $$
    DECLARE
        v_inv finicom.invitations%ROWTYPE;
        v_existing finicom.users%ROWTYPE;
        v_user uuid;
    BEGIN
        SELECT * INTO v_inv FROM finicom.invitations i WHERE i.token_hash = p_token_hash FOR UPDATE;
        IF NOT FOUND THEN
            RETURN QUERY SELECT 'not_found'::text, NULL::text, NULL::uuid, NULL::text, NULL::text, NULL::text;
            RETURN;
        END IF;
        IF v_inv.status <> 'pending' OR v_inv.expires_at <= pg_catalog.now() THEN
            RETURN QUERY SELECT 'gone'::text, CASE WHEN v_inv.status = 'pending' THEN 'expired'
                                                  ELSE v_inv.status::text END,
                                NULL::uuid, NULL::text, NULL::text, NULL::text;
            RETURN;
        END IF;
        SELECT * INTO v_existing FROM finicom.users u
        WHERE finicom.ascii_lower(u.email) = finicom.ascii_lower(v_inv.email) FOR UPDATE;
        IF FOUND AND v_existing.email_verified_at IS NOT NULL THEN
            RETURN QUERY SELECT 'email_taken'::text, NULL::text, NULL::uuid, NULL::text, NULL::text, NULL::text;
            RETURN;
        ELSIF FOUND THEN
            IF EXISTS (SELECT 1 FROM finicom.memberships m
                       WHERE m.org_id = v_inv.org_id AND m.user_id = v_existing.id) THEN
                RETURN QUERY SELECT 'already_member'::text, NULL::text, NULL::uuid, NULL::text, NULL::text,
                                    NULL::text;
                RETURN;
            END IF;
            -- The owner of the address takes the unverified account over.
            v_user := v_existing.id;
            UPDATE finicom.users u SET password_hash = p_password_hash, name = p_name WHERE u.id = v_user;
            DELETE FROM finicom.sessions s WHERE s.user_id = v_user;
            DELETE FROM finicom.login_failures f WHERE f.email = finicom.ascii_lower(v_existing.email);
            PERFORM audit.auth_event('account.taken_over', v_user, v_existing.email, p_ip, p_request_id);
        ELSE
            SELECT c.id INTO v_user FROM finicom.user_create(v_inv.email, p_name, p_password_hash) c;
        END IF;
        PERFORM finicom.session_create(v_user, p_session_hash, p_max_age_seconds);
        RETURN QUERY SELECT * FROM finicom.invitation_admit(v_inv, v_user, p_request_id, p_ip);
    END
    $$;
REVOKE ALL ON FUNCTION finicom.invitation_accept_new_user(bytea, text, text, bytea, integer, text, text)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION finicom.invitation_accept_new_user(bytea, text, text, bytea, integer, text, text)
    TO finicom_auth;

-- Logout ends the session only when it is the context's user's: without a
-- context a token hash deletes nothing.
CREATE OR REPLACE FUNCTION finicom.auth_logout(p_token_hash bytea) RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
    DECLARE
        v_user uuid;
    BEGIN
        DELETE FROM finicom.sessions s
        WHERE s.token_hash = p_token_hash AND s.user_id = finicom.request_user_id()
        RETURNING s.user_id INTO v_user;
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
