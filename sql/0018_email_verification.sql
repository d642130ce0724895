-- 0018_email_verification: verified email addresses.
--
-- Anyone can sign up with any address, so an account says nothing about
-- who reads that address's mail until the owner proves it.  Signup now also
-- mails a verification link {public_url}/verify/{token}; opening it
-- (POST /api/v1/auth/verify/{token}) verifies the account's address.
-- Accepting an invitation verifies it too (the link came by mail to that
-- address), and so does an account made by the operator (finicomctl
-- create-user).
--
--   finicom.users.email_verified_at   when the address was verified, or NULL
--   finicom.email_verifications       the verification tokens of an account:
--                                      their SHA-256 (a token itself exists
--                                      only in its mail), 24 hours, single
--                                      use; a newer one (POST /auth/verify,
--                                      the resend) replaces the live one,
--                                      whose unsent mail is canceled
--
-- An unverified account never keeps the real owner of the address out: an
-- invitation accepted without a session for its address takes the account
-- over (finicom.invitation_accept below: the password and name the owner
-- gives replace the old ones, every session of the account ends, and the
-- address is verified).  Until it is verified, an account cannot create API
-- keys or send invitations (F0403 email_unverified, from
-- finicom.require_email_verified, which the worker calls with those
-- statements unless the server runs with signup = invite_only).
--
-- The verification mail goes through finicom.mail_outbox like an
-- invitation's (same mailer, same retries; the link is scrubbed from the
-- stored body once sent), without an org: admins never see it.
--
-- Tokens are created in one place, finicom.email_verification_issue(), for
-- the user of a session the caller holds (signup passes the new session,
-- the resend the request's).  A resend is refused for a verified account
-- (F0409 already_verified) and beyond 5 a day per account (F0429
-- rate_limited with the seconds to wait; the signup mail does not count),
-- so an unverified account cannot flood its address with mail.
-- finicom_app has no privilege on email_verifications; only the SECURITY
-- DEFINER functions here touch it.

ALTER TABLE finicom.users ADD COLUMN email_verified_at timestamptz;
GRANT SELECT (email_verified_at) ON finicom.users TO finicom_app;

-- Accounts from before this migration: verified, unless the account came
-- from self-signup (its 'signup' auth event) and never accepted an
-- invitation addressed to it.  The others came from the operator or from
-- an invitation link mailed to the address.
--
-- 0017 leaves users_email_check NOT VALID while old rows have an email that
-- is not printable ASCII (until finicomctl normalize-emails converts them),
-- and an UPDATE checks every new row version against it: with the check in
-- place this stamp would fail the whole migration on such a database.  So
-- the check is set aside for this one statement and put back as it was
-- (validated again only if it was valid).
DO $$
    DECLARE
        v_valid boolean;
    BEGIN
        SELECT c.convalidated INTO v_valid FROM pg_catalog.pg_constraint c
        WHERE c.conrelid = 'finicom.users'::regclass AND c.conname = 'users_email_check';
        ALTER TABLE finicom.users DROP CONSTRAINT users_email_check;
        UPDATE finicom.users u
        SET email_verified_at = coalesce(
                (SELECT pg_catalog.min(i.accepted_at) FROM finicom.invitations i
                 WHERE i.accepted_by = u.id AND i.status = 'accepted'
                   AND finicom.ascii_lower(i.email) = finicom.ascii_lower(u.email)),
                u.created_at)
        WHERE NOT EXISTS (SELECT 1 FROM audit.auth_events e WHERE e.event = 'signup' AND e.user_id = u.id)
           OR EXISTS (SELECT 1 FROM finicom.invitations i
                      WHERE i.accepted_by = u.id AND i.status = 'accepted'
                        AND finicom.ascii_lower(i.email) = finicom.ascii_lower(u.email));
        ALTER TABLE finicom.users ADD CONSTRAINT users_email_check
            CHECK (octet_length(email) BETWEEN 3 AND 254 AND email !~ '[^!-~]') NOT VALID;
        IF v_valid THEN
            ALTER TABLE finicom.users VALIDATE CONSTRAINT users_email_check;
        END IF;
    END
$$;

CREATE TABLE finicom.email_verifications (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id     uuid NOT NULL REFERENCES finicom.users (id) ON DELETE CASCADE,
    email       text NOT NULL CHECK (octet_length(email) BETWEEN 3 AND 254), -- the address mailed
    token_hash  bytea NOT NULL UNIQUE CHECK (octet_length(token_hash) = 32),
    mail_id     uuid REFERENCES finicom.mail_outbox (id) ON DELETE SET NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz,
    replaced_at timestamptz,
    CHECK (expires_at > created_at)
);
CREATE INDEX email_verifications_user_idx ON finicom.email_verifications (user_id, created_at);
-- At most one live token per account.
CREATE UNIQUE INDEX email_verifications_live_key ON finicom.email_verifications (user_id)
    WHERE used_at IS NULL AND replaced_at IS NULL;
ALTER TABLE finicom.email_verifications ENABLE ROW LEVEL SECURITY;
ALTER TABLE finicom.email_verifications FORCE ROW LEVEL SECURITY;
CREATE POLICY email_verifications_owner ON finicom.email_verifications
    TO finicom_owner USING (true) WITH CHECK (true);
REVOKE ALL ON finicom.email_verifications FROM PUBLIC;

ALTER TABLE audit.auth_events DROP CONSTRAINT auth_events_event_check;
ALTER TABLE audit.auth_events ADD CONSTRAINT auth_events_event_check CHECK (event IN (
    'signup', 'login.succeeded', 'login.failed', 'logout', 'email.verified', 'account.taken_over'));

-- The user object of the API: {id, email, name, created_at, email_verified}.
CREATE FUNCTION finicom.user_json(u finicom.users) RETURNS json
    LANGUAGE sql STABLE
    AS $$
        SELECT pg_catalog.json_build_object('id', u.id, 'email', u.email, 'name', u.name,
            'created_at', finicom.ts(u.created_at), 'email_verified', u.email_verified_at IS NOT NULL)
    $$;

-- The user object of the account a live session (token SHA-256) belongs to,
-- or NULL.  VOLATILE: in "SELECT finicom.session_user_json($h) FROM
-- finicom.auth_login_complete(...)" it must see the session that the
-- function in FROM has just made.
CREATE FUNCTION finicom.session_user_json(p_session_hash bytea) RETURNS json
    LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = ''
    AS $$
        SELECT finicom.user_json(u)
        FROM finicom.sessions s JOIN finicom.users u ON u.id = s.user_id
        WHERE s.token_hash = p_session_hash AND s.expires_at > pg_catalog.now()
    $$;

-- A new verification token for the account of the session p_session_hash
-- (which must be p_user's): replaces the account's live token, cancels
-- that one's unsent mail, and queues the mail with p_link.  Nothing for an
-- account already verified.  Raises F0404 when the session is not p_user's.
CREATE FUNCTION finicom.email_verification_issue(p_user uuid, p_session_hash bytea,
                                                 p_token_hash bytea, p_link text) RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = ''
    AS $$
    DECLARE
        v_user finicom.users%ROWTYPE;
        v_mail uuid;
    BEGIN
        SELECT u.* INTO v_user FROM finicom.sessions s JOIN finicom.users u ON u.id = s.user_id
        WHERE s.token_hash = p_session_hash AND s.user_id = p_user AND s.expires_at > pg_catalog.now()
        FOR UPDATE OF u;
        IF NOT FOUND THEN
            RAISE EXCEPTION USING ERRCODE = 'F0404', MESSAGE = 'not_found', DETAIL = 'no such account';
        END IF;
        IF v_user.email_verified_at IS NOT NULL THEN
            RETURN;
        END IF;
        UPDATE finicom.mail_outbox m
        SET status = 'canceled', body = pg_catalog.replace(m.body, m.link, '(link replaced)'), link = NULL
        FROM finicom.email_verifications v
        WHERE v.user_id = p_user AND v.used_at IS NULL AND v.replaced_at IS NULL
          AND m.id = v.mail_id AND m.status = 'queued';
        UPDATE finicom.email_verifications v SET replaced_at = pg_catalog.now()
        WHERE v.user_id = p_user AND v.used_at IS NULL AND v.replaced_at IS NULL;
        INSERT INTO finicom.mail_outbox (recipient, subject, body, link, message_id)
        VALUES (v_user.email, 'Verify your email address for Finicom',
            pg_catalog.format(E'Hello %s,\n\nPlease confirm that this is your email address by opening this link:\n\n%s\n\nThe link works once and expires at %s (UTC).\nUntil then your account cannot create API keys or send invitations.\nIf you did not create a Finicom account, you can ignore this email:\nwhoever receives an invitation for this address can still take the account.\n',
                v_user.name, p_link,
                pg_catalog.to_char((pg_catalog.now() + interval '24 hours') AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI')),
            p_link, '<' || gen_random_uuid() || '@finicom.invalid>')
        RETURNING id INTO v_mail;
        INSERT INTO finicom.email_verifications (user_id, email, token_hash, mail_id, expires_at)
        VALUES (p_user, v_user.email, p_token_hash, v_mail, pg_catalog.now() + interval '24 hours');
        PERFORM pg_catalog.pg_notify('finicom_mail', '');
    END
    $$;

-- POST /api/v1/auth/verify (the resend): a new link for the signed-in user
-- of the request, whose session p_session_hash is.  F0409 already_verified;
-- F0429 rate_limited after 5 resends in a day (the signup mail does not
-- count; HINT: the seconds until the oldest counted one is a day old).
CREATE FUNCTION finicom.email_verification_resend(p_session_hash bytea, p_token_hash bytea,
                                                  p_link text) RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = ''
    AS $$
    DECLARE
        v_user uuid := finicom.request_user_id();
        v_count bigint;
        v_oldest timestamptz;
    BEGIN
        IF v_user IS NULL OR NOT EXISTS (SELECT 1 FROM finicom.sessions s
                                         WHERE s.token_hash = p_session_hash AND s.user_id = v_user) THEN
            RAISE EXCEPTION USING ERRCODE = 'F0403', MESSAGE = 'forbidden', DETAIL = 'sign in first';
        END IF;
        PERFORM 1 FROM finicom.users u WHERE u.id = v_user FOR UPDATE;
        IF EXISTS (SELECT 1 FROM finicom.users u WHERE u.id = v_user AND u.email_verified_at IS NOT NULL) THEN
            RAISE EXCEPTION USING ERRCODE = 'F0409', MESSAGE = 'already_verified',
                DETAIL = 'your email address is already verified';
        END IF;
        SELECT pg_catalog.count(*), pg_catalog.min(v.created_at) INTO v_count, v_oldest
        FROM finicom.email_verifications v
        WHERE v.user_id = v_user AND v.created_at > pg_catalog.now() - interval '1 day'
          AND v.created_at > (SELECT pg_catalog.min(f.created_at) FROM finicom.email_verifications f
                              WHERE f.user_id = v_user);
        IF v_count >= 5 THEN
            RAISE EXCEPTION USING ERRCODE = 'F0429', MESSAGE = 'rate_limited',
                DETAIL = '5 verification emails were sent in the last day; try again later',
                HINT = finicom.retry_seconds(v_oldest + interval '1 day');
        END IF;
        PERFORM finicom.email_verification_issue(v_user, p_session_hash, p_token_hash, p_link);
    END
    $$;

-- Mark p_user's address verified (if it is not yet): its pending token is
-- spent, its unsent verification mail canceled (a mail the mailer is
-- sending right now is left to it), and an 'email.verified' auth event
-- written.  Internal: called by the functions below, granted to nobody.
CREATE FUNCTION finicom.email_verified_mark(p_user uuid, p_ip text, p_request_id text) RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = ''
    AS $$
    DECLARE
        v_email text;
    BEGIN
        UPDATE finicom.users u SET email_verified_at = pg_catalog.now()
        WHERE u.id = p_user AND u.email_verified_at IS NULL
        RETURNING u.email INTO v_email;
        IF v_email IS NULL THEN
            RETURN;
        END IF;
        UPDATE finicom.mail_outbox m
        SET status = 'canceled', body = pg_catalog.replace(m.body, m.link, '(link removed)'), link = NULL
        WHERE m.id IN (SELECT x.id FROM finicom.mail_outbox x JOIN finicom.email_verifications v ON v.mail_id = x.id
                       WHERE v.user_id = p_user AND v.used_at IS NULL AND v.replaced_at IS NULL
                         AND x.status = 'queued' FOR UPDATE OF x SKIP LOCKED);
        UPDATE finicom.email_verifications v SET used_at = pg_catalog.now()
        WHERE v.user_id = p_user AND v.used_at IS NULL AND v.replaced_at IS NULL;
        PERFORM audit.auth_event('email.verified', p_user, v_email, p_ip, p_request_id);
    END
    $$;
REVOKE ALL ON FUNCTION finicom.email_verified_mark(uuid, text, text) FROM PUBLIC;

-- POST /api/v1/auth/verify/{token}: outcome 'ok' with the user object,
-- 'not_found' (no such token was ever issued), or 'gone' with status
-- 'used', 'replaced' (a newer link was sent) or 'expired' (24 hours after
-- it was made).  Locks the token's row, so two uses of one token
-- serialize: the second finds it used.
CREATE FUNCTION finicom.email_verify(p_token_hash bytea, p_ip text, p_request_id text)
    RETURNS TABLE (outcome text, status text, user_json json)
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = ''
    AS $$
    DECLARE
        v finicom.email_verifications%ROWTYPE;
        v_user finicom.users%ROWTYPE;
    BEGIN
        SELECT * INTO v FROM finicom.email_verifications x WHERE x.token_hash = p_token_hash FOR UPDATE;
        IF NOT FOUND THEN
            RETURN QUERY SELECT 'not_found', NULL::text, NULL::json;
            RETURN;
        END IF;
        IF v.used_at IS NOT NULL OR v.replaced_at IS NOT NULL OR v.expires_at <= pg_catalog.now() THEN
            RETURN QUERY SELECT 'gone', CASE WHEN v.used_at IS NOT NULL THEN 'used'
                                            WHEN v.replaced_at IS NOT NULL THEN 'replaced'
                                            ELSE 'expired' END, NULL::json;
            RETURN;
        END IF;
        SELECT * INTO v_user FROM finicom.users u WHERE u.id = v.user_id FOR UPDATE;
        -- The token verifies the address it was mailed to, nothing else.
        IF finicom.ascii_lower(v_user.email) IS DISTINCT FROM finicom.ascii_lower(v.email) THEN
            RETURN QUERY SELECT 'gone', 'replaced', NULL::json;
            RETURN;
        END IF;
        PERFORM finicom.email_verified_mark(v.user_id, p_ip, p_request_id);
        -- Spent even when the address was verified some other way meanwhile.
        UPDATE finicom.email_verifications x SET used_at = pg_catalog.now()
        WHERE x.id = v.id AND x.used_at IS NULL;
        RETURN QUERY SELECT 'ok', 'verified', finicom.user_json(u) FROM finicom.users u WHERE u.id = v.user_id;
    END
    $$;

-- Signup with its verification mail, in one transaction: finicom.auth_signup
-- (the account and its first session), then a verification token for it.
-- Returns the user object.
CREATE FUNCTION finicom.auth_signup_verify(p_email text, p_name text, p_password_hash text,
                                           p_session_hash bytea, p_max_age_seconds integer,
                                           p_ip text, p_request_id text,
                                           p_verify_hash bytea, p_verify_link text) RETURNS json
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = ''
    AS $$
    DECLARE
        v_id uuid;
    BEGIN
        SELECT s.id INTO v_id
        FROM finicom.auth_signup(p_email, p_name, p_password_hash, p_session_hash, p_max_age_seconds,
                                 p_ip, p_request_id) s;
        PERFORM finicom.email_verification_issue(v_id, p_session_hash, p_verify_hash, p_verify_link);
        RETURN finicom.session_user_json(p_session_hash);
    END
    $$;

-- The statement the worker runs before creating an API key or sending an
-- invitation: F0403 email_unverified when p_required (the server's signup
-- is not invite_only) and the request's user has not verified the address.
-- API keys pass: only people make keys, and they must be verified to.
CREATE FUNCTION finicom.require_email_verified(p_required boolean) RETURNS void
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = ''
    AS $$
    BEGIN
        IF p_required AND finicom.request_actor_type() = 'user' AND NOT EXISTS (
            SELECT 1 FROM finicom.users u
            WHERE u.id = finicom.request_user_id() AND u.email_verified_at IS NOT NULL) THEN
            RAISE EXCEPTION USING ERRCODE = 'F0403', MESSAGE = 'email_unverified',
                DETAIL = 'verify your email address first: open the link in the mail we sent you';
        END IF;
    END
    $$;

-- finicomctl create-user: an account made by the operator, verified.
CREATE FUNCTION finicom.user_create_verified(p_email text, p_name text, p_password_hash text)
    RETURNS TABLE (id uuid, email text, name text, created_at timestamptz)
    LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = ''
    AS $$
        INSERT INTO finicom.users (email, name, password_hash, email_verified_at)
        VALUES (p_email, p_name, p_password_hash, pg_catalog.now())
        RETURNING id, email, name, created_at
    $$;
REVOKE ALL ON FUNCTION finicom.user_create_verified(text, text, text) FROM PUBLIC;

-- Accepting an invitation (replaces 0004's, same signature and outcomes):
--   - it verifies the address (the link came by mail to it);
--   - without a session, for an address whose account is unverified, it
--     takes the account over: the name and password given replace the old
--     ones, every session of the account ends, and the new one starts
--     ('account.taken_over' auth event).  For a verified account it is
--     email_taken, as before.  Nothing changes when the outcome is not ok
--     (already_member is checked before the takeover).
--   - user_json is the user object with email_verified.
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
        v_existing finicom.users%ROWTYPE;
        v_org_name text;
        v_ip text := nullif(pg_catalog.current_setting('finicom.client_ip', true), '');
        v_rid text := nullif(pg_catalog.current_setting('finicom.request_id', true), '');
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
            IF finicom.ascii_lower(v_email) IS DISTINCT FROM finicom.ascii_lower(v_inv.email) THEN
                RETURN QUERY SELECT 'email_mismatch', NULL::text, NULL::uuid, NULL::text, NULL::text, NULL::text;
                RETURN;
            END IF;
            IF EXISTS (SELECT 1 FROM finicom.memberships m WHERE m.org_id = v_inv.org_id AND m.user_id = v_user) THEN
                RETURN QUERY SELECT 'already_member', NULL::text, NULL::uuid, NULL::text, NULL::text, NULL::text;
                RETURN;
            END IF;
        ELSE
            SELECT * INTO v_existing FROM finicom.users u WHERE finicom.ascii_lower(u.email) = finicom.ascii_lower(v_inv.email) FOR UPDATE;
            IF FOUND AND v_existing.email_verified_at IS NOT NULL THEN
                RETURN QUERY SELECT 'email_taken', NULL::text, NULL::uuid, NULL::text, NULL::text, NULL::text;
                RETURN;
            ELSIF FOUND THEN
                IF EXISTS (SELECT 1 FROM finicom.memberships m
                           WHERE m.org_id = v_inv.org_id AND m.user_id = v_existing.id) THEN
                    RETURN QUERY SELECT 'already_member', NULL::text, NULL::uuid, NULL::text, NULL::text, NULL::text;
                    RETURN;
                END IF;
                -- The owner of the address takes the unverified account over.
                v_user := v_existing.id;
                UPDATE finicom.users u SET password_hash = p_password_hash, name = p_name WHERE u.id = v_user;
                DELETE FROM finicom.sessions s WHERE s.user_id = v_user;
                DELETE FROM finicom.login_failures f WHERE f.email = finicom.ascii_lower(v_existing.email);
                PERFORM audit.auth_event('account.taken_over', v_user, v_existing.email, v_ip, v_rid);
            ELSE
                SELECT c.id INTO v_user FROM finicom.user_create(v_inv.email, p_name, p_password_hash) c;
            END IF;
            PERFORM finicom.session_create(v_user, p_session_hash, p_max_age_seconds);
        END IF;
        PERFORM finicom.email_verified_mark(v_user, v_ip, v_rid);
        -- The context of the request that joins: the new member in this org.
        PERFORM finicom.context_seal('user', v_user, v_inv.org_id, v_inv.role, v_rid, v_ip);
        INSERT INTO finicom.memberships (org_id, user_id, role) VALUES (v_inv.org_id, v_user, v_inv.role);
        UPDATE finicom.invitations i
        SET status = 'accepted', accepted_at = pg_catalog.now(), accepted_by = v_user
        WHERE i.org_id = v_inv.org_id AND i.id = v_inv.id;
        SELECT o.name INTO v_org_name FROM finicom.orgs o WHERE o.id = v_inv.org_id;
        RETURN QUERY
            SELECT 'ok', 'accepted', v_inv.org_id, v_org_name, v_inv.role::text, finicom.user_json(u)::text
            FROM finicom.users u WHERE u.id = v_user;
    END
    $$;

GRANT EXECUTE ON FUNCTION
    finicom.session_user_json(bytea),
    finicom.email_verify(bytea, text, text),
    finicom.auth_signup_verify(text, text, text, bytea, integer, text, text, bytea, text),
    finicom.require_email_verified(boolean)
    TO finicom_app;
-- Internal: signup and the resend call it.
REVOKE ALL ON FUNCTION finicom.email_verification_issue(uuid, bytea, bytea, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION finicom.email_verification_resend(bytea, bytea, text) TO finicom_app;
