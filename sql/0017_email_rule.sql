-- 0017_email_rule: the database agrees with the email rule of the API.
--
-- finicomd, finicomctl and finicom-mailer check every address by one rule
-- (src/util/email.h, docs/emails.md): an ASCII dot-atom local part, '@', a
-- domain stored as its A-labels, so a stored address is printable ASCII.
-- Emails are compared with ASCII letters lowercased and nothing else
-- (finicom.ascii_lower of 0012).  Before this, uniqueness, login and
-- invitations compared lower(email): lower() maps U+212A KELVIN SIGN to
-- 'k' and U+0130 to 'i', so "ad\u212Amin@example.com" (which the API then
-- took) held the place of "admin@example.com": the real owner got
-- email_taken at signup, and a login typed as admin@… reached the
-- look-alike's account.  Now:
--   - users' emails are unique by finicom.ascii_lower(email), one pending
--     invitation per (org, finicom.ascii_lower(email)), and every function
--     that compares emails compares them so (login and its throttling,
--     inviting, accepting); tests/sql/16-email-rule.sql checks that no
--     function of the finicom or audit schema calls lower() any more;
--   - users.email, invitations.email and orgs.billing_email hold printable
--     ASCII only ('!' to '~': no space, no control character): the
--     <table>_<column>_check constraints take the ASCII test beside their
--     length test.
--
-- Existing rows.  The new unique indexes always build: two emails equal
-- under ascii_lower are equal under lower().  Rows that are not printable
-- ASCII (written before the rule: a Unicode local part or domain) cannot
-- be converted in SQL (IDNA needs libidn2), so each CHECK is added NOT
-- VALID and validated at once when its table has no such row; otherwise
-- the migration goes on with a WARNING that names the table, the
-- constraint stays NOT VALID (new rows are checked, old ones are not) and
-- docs/emails.md says how to fix the rows and validate it.  A fresh
-- install, and any database without such rows, ends validated, as
-- sql/schema.sql shows.

DROP INDEX finicom.users_email_lower_key;
-- Emails are unique with ASCII letters lowercased (and nothing else folded).
CREATE UNIQUE INDEX users_email_ascii_lower_key ON finicom.users (finicom.ascii_lower(email));

DROP INDEX finicom.invitations_one_pending_key;
-- One pending invitation per (org, email), ASCII case aside.
CREATE UNIQUE INDEX invitations_one_pending_key ON finicom.invitations
    (org_id, finicom.ascii_lower(email)) WHERE status = 'pending';

ALTER TABLE finicom.users DROP CONSTRAINT users_email_check,
    ADD CONSTRAINT users_email_check
    CHECK (octet_length(email) BETWEEN 3 AND 254 AND email !~ '[^!-~]') NOT VALID;
ALTER TABLE finicom.invitations DROP CONSTRAINT invitations_email_check,
    ADD CONSTRAINT invitations_email_check
    CHECK (octet_length(email) BETWEEN 3 AND 254 AND email !~ '[^!-~]') NOT VALID;
ALTER TABLE finicom.orgs DROP CONSTRAINT orgs_billing_email_check,
    ADD CONSTRAINT orgs_billing_email_check
    CHECK (octet_length(billing_email) BETWEEN 3 AND 254 AND billing_email !~ '[^!-~]') NOT VALID;

DO $$
    DECLARE
        v_bad bigint;
    BEGIN
        SELECT count(*) INTO v_bad FROM finicom.users u WHERE u.email !~ '[^!-~]' IS NOT TRUE;
        IF v_bad = 0 THEN
            ALTER TABLE finicom.users VALIDATE CONSTRAINT users_email_check;
        ELSE
            RAISE WARNING '% rows of finicom.users have an email that is not printable ASCII; users_email_check stays NOT VALID (see docs/emails.md)', v_bad;
        END IF;
        SELECT count(*) INTO v_bad FROM finicom.invitations i WHERE i.email !~ '[^!-~]' IS NOT TRUE;
        IF v_bad = 0 THEN
            ALTER TABLE finicom.invitations VALIDATE CONSTRAINT invitations_email_check;
        ELSE
            RAISE WARNING '% rows of finicom.invitations have an email that is not printable ASCII; invitations_email_check stays NOT VALID (see docs/emails.md)', v_bad;
        END IF;
        SELECT count(*) INTO v_bad FROM finicom.orgs o WHERE o.billing_email !~ '[^!-~]' IS NOT TRUE
            AND o.billing_email IS NOT NULL;
        IF v_bad = 0 THEN
            ALTER TABLE finicom.orgs VALIDATE CONSTRAINT orgs_billing_email_check;
        ELSE
            RAISE WARNING '% rows of finicom.orgs have a billing_email that is not printable ASCII; orgs_billing_email_check stays NOT VALID (see docs/emails.md)', v_bad;
        END IF;
    END
$$;

-- Login throttling (0015) keys its rows by the email as the API compares it.
-- Rows written under lower() are the same keys for every ASCII address and
-- end within 15 minutes (finicom-purge-sessions).
CREATE OR REPLACE FUNCTION finicom.auth_login_begin(p_email text) RETURNS TABLE(user_id uuid, password_hash text)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = ''
    AS $$
    DECLARE
        v_key text := finicom.ascii_lower(p_email);
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
                     WHERE finicom.ascii_lower(u.email) = v_key;
    END
    $$;

-- A correct password ends the run of failures of that key.
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
        WHERE f.email = (SELECT finicom.ascii_lower(u.email) FROM finicom.users u WHERE u.id = p_user_id);
        PERFORM audit.auth_event('login.succeeded', p_user_id,
            (SELECT u.email FROM finicom.users u WHERE u.id = p_user_id), p_ip, p_request_id);
        RETURN QUERY SELECT * FROM finicom.session_create(p_user_id, p_token_hash, p_max_age_seconds);
    END
    $$;

-- A failed login: the email as typed (canonical), and the user when it names one.
CREATE OR REPLACE FUNCTION finicom.auth_login_failed(p_email text, p_ip text, p_request_id text) RETURNS void
    LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = ''
    AS $$
        SELECT audit.auth_event('login.failed',
            (SELECT u.id FROM finicom.users u WHERE finicom.ascii_lower(u.email) = finicom.ascii_lower(p_email)),
            p_email, p_ip, p_request_id)
    $$;

-- Login, step one of 0002 (kept for callers outside finicomd).
CREATE OR REPLACE FUNCTION finicom.auth_login_lookup(p_email text)
    RETURNS TABLE (user_id uuid, password_hash text)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ''
    AS $$
        SELECT u.id, u.password_hash FROM finicom.users u
        WHERE finicom.ascii_lower(u.email) = finicom.ascii_lower(p_email)
    $$;

-- Invitations (0004): a member or a pending invitation with the same email,
-- ASCII case aside.
CREATE OR REPLACE FUNCTION finicom.invitation_create(p_org uuid, p_email text, p_role finicom.role,
                                          p_token_hash bytea, p_link text) RETURNS text
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = ''
    AS $$
    DECLARE
        v_inv finicom.invitations%ROWTYPE;
    BEGIN
        IF p_org IS DISTINCT FROM finicom.current_org_id() OR NOT finicom.has_role(p_org, 'admin') THEN
            RAISE EXCEPTION USING ERRCODE = 'F0403', MESSAGE = 'forbidden',
                DETAIL = 'only admins can invite';
        END IF;
        IF EXISTS (SELECT 1 FROM finicom.memberships m JOIN finicom.users u ON u.id = m.user_id
                   WHERE m.org_id = p_org AND finicom.ascii_lower(u.email) = finicom.ascii_lower(p_email)) THEN
            RAISE EXCEPTION USING ERRCODE = 'F0409', MESSAGE = 'already_member',
                DETAIL = 'this person is already a member of the organization';
        END IF;
        -- A pending invitation past its expiry no longer counts as pending.
        UPDATE finicom.invitations i SET status = 'expired'
        WHERE i.org_id = p_org AND finicom.ascii_lower(i.email) = finicom.ascii_lower(p_email)
          AND i.status = 'pending' AND i.expires_at <= pg_catalog.now();
        BEGIN
            INSERT INTO finicom.invitations (org_id, email, role, token_hash, invited_by, expires_at)
            SELECT p_org, p_email, p_role, p_token_hash, finicom.current_user_id(),
                   pg_catalog.now() + pg_catalog.make_interval(hours => o.invite_ttl_hours)
            FROM finicom.orgs o WHERE o.id = p_org
            RETURNING * INTO v_inv;
        EXCEPTION WHEN unique_violation THEN
            RAISE EXCEPTION USING ERRCODE = 'F0409', MESSAGE = 'invitation_pending',
                DETAIL = 'a pending invitation for this email exists; resend it instead';
        END;
        PERFORM finicom.invitation_enqueue_mail(v_inv, p_link);
        RETURN finicom.invitation_json(v_inv);
    END
    $$;

-- Accepting (0009): the signed-in user's email must be the invited one, ASCII
-- case aside; without a session, an account with that email is email_taken.
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
        v_org_name text;
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
            IF EXISTS (SELECT 1 FROM finicom.users u WHERE finicom.ascii_lower(u.email) = finicom.ascii_lower(v_inv.email)) THEN
                RETURN QUERY SELECT 'email_taken', NULL::text, NULL::uuid, NULL::text, NULL::text, NULL::text;
                RETURN;
            END IF;
            SELECT c.id INTO v_user FROM finicom.user_create(v_inv.email, p_name, p_password_hash) c;
            PERFORM finicom.session_create(v_user, p_session_hash, p_max_age_seconds);
        END IF;
        -- The context of the request that joins: the new member in this org.
        PERFORM finicom.context_seal('user', v_user, v_inv.org_id, v_inv.role,
            nullif(pg_catalog.current_setting('finicom.request_id', true), ''),
            nullif(pg_catalog.current_setting('finicom.client_ip', true), ''));
        INSERT INTO finicom.memberships (org_id, user_id, role) VALUES (v_inv.org_id, v_user, v_inv.role);
        UPDATE finicom.invitations i
        SET status = 'accepted', accepted_at = pg_catalog.now(), accepted_by = v_user
        WHERE i.org_id = v_inv.org_id AND i.id = v_inv.id;
        SELECT o.name INTO v_org_name FROM finicom.orgs o WHERE o.id = v_inv.org_id;
        RETURN QUERY
            SELECT 'ok', 'accepted', v_inv.org_id, v_org_name, v_inv.role::text,
                   pg_catalog.json_build_object('id', u.id, 'email', u.email, 'name', u.name,
                       'created_at', finicom.ts(u.created_at))::text
            FROM finicom.users u WHERE u.id = v_user;
    END
    $$;
