-- 0004_invitations: invitations and the mail outbox.
--
-- An invitation's token exists in clear only in the email: the table keeps
-- its SHA-256.  The mail is written to finicom.mail_outbox in the same
-- transaction as the invitation (so a committed invitation always has its
-- mail, and a rolled-back one never does) and a NOTIFY wakes the mailer.
-- The link sits in the outbox row only until the mail is sent; then the body
-- is scrubbed of it.

CREATE TYPE finicom.invitation_status AS ENUM ('pending', 'accepted', 'canceled', 'expired');

CREATE TABLE finicom.invitations (
    org_id      uuid NOT NULL REFERENCES finicom.orgs (id) ON DELETE CASCADE,
    id          uuid NOT NULL DEFAULT gen_random_uuid() UNIQUE,
    email       text NOT NULL CHECK (octet_length(email) BETWEEN 3 AND 254),
    role        finicom.role NOT NULL,
    token_hash  bytea NOT NULL UNIQUE CHECK (octet_length(token_hash) = 32),
    status      finicom.invitation_status NOT NULL DEFAULT 'pending',
    invited_by  uuid REFERENCES finicom.users (id) ON DELETE SET NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    accepted_at timestamptz,
    accepted_by uuid REFERENCES finicom.users (id) ON DELETE SET NULL,
    canceled_at timestamptz,
    canceled_by uuid REFERENCES finicom.users (id) ON DELETE SET NULL,
    PRIMARY KEY (org_id, id)
);
-- One pending invitation per (org, email), whatever the case of the email.
CREATE UNIQUE INDEX invitations_one_pending_key ON finicom.invitations (org_id, lower(email))
    WHERE status = 'pending';
CREATE INDEX invitations_org_created_idx ON finicom.invitations (org_id, created_at, id);
CREATE INDEX invitations_expiry_idx ON finicom.invitations (expires_at) WHERE status = 'pending';

CREATE TABLE finicom.mail_outbox (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id          uuid REFERENCES finicom.orgs (id) ON DELETE CASCADE,
    invitation_id   uuid,
    recipient       text NOT NULL CHECK (octet_length(recipient) BETWEEN 3 AND 254),
    subject         text NOT NULL,
    body            text NOT NULL,
    link            text,             -- the secret part of body, until sent
    message_id      text NOT NULL UNIQUE,
    status          text NOT NULL DEFAULT 'queued'
                    CHECK (status IN ('queued', 'sent', 'failed', 'canceled')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    sent_at         timestamptz
);
CREATE INDEX mail_outbox_due_idx ON finicom.mail_outbox (next_attempt_at, id) WHERE status = 'queued';
CREATE INDEX mail_outbox_org_invitation_idx ON finicom.mail_outbox (org_id, invitation_id, created_at);

ALTER TABLE finicom.invitations ENABLE ROW LEVEL SECURITY;
ALTER TABLE finicom.invitations FORCE ROW LEVEL SECURITY;
ALTER TABLE finicom.mail_outbox ENABLE ROW LEVEL SECURITY;
ALTER TABLE finicom.mail_outbox FORCE ROW LEVEL SECURITY;

CREATE POLICY invitations_owner ON finicom.invitations TO finicom_owner USING (true) WITH CHECK (true);
-- Admins only, for every command, and writes only in the org of the request.
CREATE POLICY invitations_select ON finicom.invitations FOR SELECT TO finicom_app
    USING ((SELECT finicom.has_role(org_id, 'admin')));
CREATE POLICY invitations_insert ON finicom.invitations FOR INSERT TO finicom_app
    WITH CHECK ((SELECT finicom.has_role(org_id, 'admin')) AND org_id = (SELECT finicom.current_org_id()));
CREATE POLICY invitations_update ON finicom.invitations FOR UPDATE TO finicom_app
    USING ((SELECT finicom.has_role(org_id, 'admin')) AND org_id = (SELECT finicom.current_org_id()))
    WITH CHECK ((SELECT finicom.has_role(org_id, 'admin')) AND org_id = (SELECT finicom.current_org_id()));
CREATE POLICY invitations_delete ON finicom.invitations FOR DELETE TO finicom_app
    USING ((SELECT finicom.has_role(org_id, 'admin')) AND org_id = (SELECT finicom.current_org_id()));
GRANT SELECT, INSERT, DELETE ON finicom.invitations TO finicom_app;
GRANT UPDATE (status, token_hash, expires_at, canceled_at, canceled_by) ON finicom.invitations TO finicom_app;

CREATE POLICY mail_outbox_owner ON finicom.mail_outbox TO finicom_owner USING (true) WITH CHECK (true);
-- The mailer sees and updates every row, and nothing else in the database.
CREATE POLICY mail_outbox_mailer ON finicom.mail_outbox TO finicom_mailer USING (true) WITH CHECK (true);
-- Admins see the delivery status of their org's mail, never the body.
CREATE POLICY mail_outbox_app_select ON finicom.mail_outbox FOR SELECT TO finicom_app
    USING ((SELECT finicom.has_role(org_id, 'admin')));
GRANT SELECT, UPDATE ON finicom.mail_outbox TO finicom_mailer;
GRANT SELECT (id, org_id, invitation_id, status, attempts, last_error, created_at, sent_at)
    ON finicom.mail_outbox TO finicom_app;

-- ---------------------------------------------------------------------
-- The mailer's side (finicom-mailer, role finicom_mailer).
-- In one transaction per message: mail_claim() locks the next due message
-- (FOR UPDATE SKIP LOCKED, so several mailers never send the same one), the
-- mailer sends it, then mail_sent() or mail_failed(), then COMMIT.  A mailer
-- that dies mid-send leaves its row unlocked and still queued: it is sent
-- again (at least once; the Message-ID stays the same).
CREATE FUNCTION finicom.mail_claim()
    RETURNS TABLE (id uuid, recipient text, subject text, body text, message_id text, attempts integer)
    LANGUAGE sql VOLATILE SET search_path = ''
    AS $$
        SELECT m.id, m.recipient, m.subject, m.body, m.message_id, m.attempts
        FROM finicom.mail_outbox m
        WHERE m.status = 'queued' AND m.next_attempt_at <= pg_catalog.now()
        ORDER BY m.next_attempt_at, m.id
        LIMIT 1
        FOR UPDATE SKIP LOCKED
    $$;

CREATE FUNCTION finicom.mail_sent(p_id uuid) RETURNS void
    LANGUAGE sql VOLATILE SET search_path = ''
    AS $$
        UPDATE finicom.mail_outbox m
        SET status = 'sent', sent_at = pg_catalog.now(), attempts = m.attempts + 1, last_error = NULL,
            body = CASE WHEN m.link IS NULL THEN m.body
                        ELSE pg_catalog.replace(m.body, m.link, '(link removed after sending)') END,
            link = NULL
        WHERE m.id = p_id
    $$;

-- A failed attempt: retry after p_base * 2^(attempts) seconds, at most
-- p_cap; after p_max_attempts the message is 'failed' (admins see it as the
-- invitation's email_status) and its link is scrubbed.
CREATE FUNCTION finicom.mail_failed(p_id uuid, p_error text, p_base_seconds integer,
                                    p_cap_seconds integer, p_max_attempts integer) RETURNS text
    LANGUAGE sql VOLATILE SET search_path = ''
    AS $$
        UPDATE finicom.mail_outbox m
        SET attempts = m.attempts + 1,
            last_error = pg_catalog.left(p_error, 500),
            status = CASE WHEN m.attempts + 1 >= p_max_attempts THEN 'failed' ELSE 'queued' END,
            next_attempt_at = pg_catalog.now() + pg_catalog.make_interval(secs =>
                LEAST(p_cap_seconds::float8, p_base_seconds * pg_catalog.power(2::float8, LEAST(m.attempts, 30)))),
            body = CASE WHEN m.attempts + 1 >= p_max_attempts AND m.link IS NOT NULL
                        THEN pg_catalog.replace(m.body, m.link, '(link removed)') ELSE m.body END,
            link = CASE WHEN m.attempts + 1 >= p_max_attempts THEN NULL ELSE m.link END
        WHERE m.id = p_id
        RETURNING m.status
    $$;

-- Seconds until the next queued message is due (NULL when none), so the
-- mailer can sleep exactly that long.
CREATE FUNCTION finicom.mail_next_due() RETURNS double precision
    LANGUAGE sql STABLE SET search_path = ''
    AS $$
        SELECT GREATEST(0, EXTRACT(epoch FROM min(m.next_attempt_at) - pg_catalog.now()))::float8
        FROM finicom.mail_outbox m WHERE m.status = 'queued'
    $$;

GRANT EXECUTE ON FUNCTION finicom.mail_claim(), finicom.mail_sent(uuid),
    finicom.mail_failed(uuid, text, integer, integer, integer), finicom.mail_next_due()
    TO finicom_mailer;

-- ---------------------------------------------------------------------
-- The service's side.

-- An invitation as API.md shows it, with the inviter and the delivery
-- status of its latest mail (queued, sent, failed).  SECURITY DEFINER: the
-- inviter may have left the org since, and admins still see who invited.
CREATE FUNCTION finicom.invitation_json(i finicom.invitations) RETURNS text
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ''
    AS $$
        SELECT pg_catalog.json_build_object(
            'id', i.id, 'email', i.email, 'role', i.role,
            'status', CASE WHEN i.status = 'pending' AND i.expires_at <= pg_catalog.now()
                           THEN 'expired'::finicom.invitation_status ELSE i.status END,
            'invited_by', (SELECT pg_catalog.json_build_object('id', u.id, 'email', u.email, 'name', u.name)
                           FROM finicom.users u WHERE u.id = i.invited_by),
            'created_at', finicom.ts(i.created_at),
            'expires_at', finicom.ts(i.expires_at),
            'email_status', (SELECT m.status FROM finicom.mail_outbox m
                             WHERE m.org_id = i.org_id AND m.invitation_id = i.id
                             ORDER BY m.created_at DESC LIMIT 1))::text
        WHERE finicom.has_role(i.org_id, 'admin')
    $$;

-- Queue the invitation mail for i with the accept link p_link.
CREATE FUNCTION finicom.invitation_enqueue_mail(i finicom.invitations, p_link text) RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = ''
    AS $$
    DECLARE
        v_org text;
        v_inviter text;
    BEGIN
        SELECT o.name INTO v_org FROM finicom.orgs o WHERE o.id = i.org_id;
        SELECT u.name INTO v_inviter FROM finicom.users u WHERE u.id = i.invited_by;
        -- Mail not yet sent for an older link of this invitation is useless now.
        UPDATE finicom.mail_outbox m
        SET status = 'canceled', body = pg_catalog.replace(m.body, m.link, '(link replaced)'), link = NULL
        WHERE m.org_id = i.org_id AND m.invitation_id = i.id AND m.status = 'queued';
        INSERT INTO finicom.mail_outbox (org_id, invitation_id, recipient, subject, body, link, message_id)
        VALUES (i.org_id, i.id, i.email,
            pg_catalog.format('%s invited you to %s on Finicom', coalesce(v_inviter, 'An admin'), v_org),
            pg_catalog.format(E'Hello,\n\n%s invited you to join the organization "%s" on Finicom\nwith the role: %s.\n\nTo accept, open this link:\n\n%s\n\nThe invitation expires at %s (UTC).\nIf you did not expect it, you can ignore this email.\n',
                coalesce(v_inviter, 'An admin'), v_org, i.role, p_link,
                pg_catalog.to_char(i.expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI')),
            p_link,
            '<' || gen_random_uuid() || '@finicom.invalid>');
        PERFORM pg_catalog.pg_notify('finicom_mail', '');
    END
    $$;

-- Create an invitation in the org of the request (the caller must be its
-- admin) and queue its mail.  Raises F0409 already_member when the email
-- belongs to a member, F0409 invitation_pending when one is pending.
CREATE FUNCTION finicom.invitation_create(p_org uuid, p_email text, p_role finicom.role,
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
                   WHERE m.org_id = p_org AND lower(u.email) = lower(p_email)) THEN
            RAISE EXCEPTION USING ERRCODE = 'F0409', MESSAGE = 'already_member',
                DETAIL = 'this person is already a member of the organization';
        END IF;
        -- A pending invitation past its expiry no longer counts as pending.
        UPDATE finicom.invitations i SET status = 'expired'
        WHERE i.org_id = p_org AND lower(i.email) = lower(p_email)
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

-- A new token, a new expiry and a new mail for a pending invitation.
CREATE FUNCTION finicom.invitation_resend(p_org uuid, p_id uuid, p_token_hash bytea, p_link text)
    RETURNS text
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = ''
    AS $$
    DECLARE
        v_inv finicom.invitations%ROWTYPE;
    BEGIN
        IF p_org IS DISTINCT FROM finicom.current_org_id() OR NOT finicom.has_role(p_org, 'admin') THEN
            RAISE EXCEPTION USING ERRCODE = 'F0403', MESSAGE = 'forbidden', DETAIL = 'only admins can resend';
        END IF;
        SELECT * INTO v_inv FROM finicom.invitations i WHERE i.org_id = p_org AND i.id = p_id FOR UPDATE;
        IF NOT FOUND THEN
            RAISE EXCEPTION USING ERRCODE = 'F0404', MESSAGE = 'not_found', DETAIL = 'no such invitation';
        END IF;
        -- An expired invitation (by the job or just by its time) is revived:
        -- resending is how an admin gives someone a second chance.
        IF v_inv.status NOT IN ('pending', 'expired') THEN
            RAISE EXCEPTION USING ERRCODE = 'F0409', MESSAGE = 'not_pending',
                DETAIL = 'an accepted or canceled invitation cannot be resent; invite again';
        END IF;
        BEGIN
        UPDATE finicom.invitations i
        SET token_hash = p_token_hash, status = 'pending',
            expires_at = pg_catalog.now() + pg_catalog.make_interval(hours => o.invite_ttl_hours)
        FROM finicom.orgs o
        WHERE o.id = i.org_id AND i.org_id = p_org AND i.id = p_id
        RETURNING i.* INTO v_inv;
        EXCEPTION WHEN unique_violation THEN
            RAISE EXCEPTION USING ERRCODE = 'F0409', MESSAGE = 'invitation_pending',
                DETAIL = 'another pending invitation for this email exists';
        END;
        PERFORM finicom.invitation_enqueue_mail(v_inv, p_link);
        RETURN finicom.invitation_json(v_inv);
    END
    $$;

-- Cancel a pending invitation; its unsent mail is canceled too.
CREATE FUNCTION finicom.invitation_cancel(p_org uuid, p_id uuid) RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = ''
    AS $$
    DECLARE
        v_status finicom.invitation_status;
    BEGIN
        IF p_org IS DISTINCT FROM finicom.current_org_id() OR NOT finicom.has_role(p_org, 'admin') THEN
            RAISE EXCEPTION USING ERRCODE = 'F0403', MESSAGE = 'forbidden', DETAIL = 'only admins can cancel';
        END IF;
        -- Past its expiry it is expired, whether or not the job has run yet.
        SELECT CASE WHEN i.status = 'pending' AND i.expires_at <= pg_catalog.now()
                    THEN 'expired'::finicom.invitation_status ELSE i.status END
        INTO v_status FROM finicom.invitations i
        WHERE i.org_id = p_org AND i.id = p_id FOR UPDATE;
        IF NOT FOUND THEN
            RAISE EXCEPTION USING ERRCODE = 'F0404', MESSAGE = 'not_found', DETAIL = 'no such invitation';
        END IF;
        IF v_status <> 'pending' THEN
            RAISE EXCEPTION USING ERRCODE = 'F0409', MESSAGE = 'not_pending',
                DETAIL = 'only a pending invitation can be canceled';
        END IF;
        UPDATE finicom.invitations i
        SET status = 'canceled', canceled_at = pg_catalog.now(), canceled_by = finicom.current_user_id()
        WHERE i.org_id = p_org AND i.id = p_id;
        UPDATE finicom.mail_outbox m
        SET status = 'canceled', body = pg_catalog.replace(m.body, m.link, '(link removed)'), link = NULL
        WHERE m.org_id = p_org AND m.invitation_id = p_id AND m.status = 'queued';
    END
    $$;

-- The public preview behind GET /api/v1/invitations/{token}: what the
-- invitee may see, and the status as it stands now (a pending invitation
-- past its expiry is expired, whether or not the job has run yet).
CREATE FUNCTION finicom.invitation_preview(p_token_hash bytea) RETURNS TABLE (status text, body text)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ''
    AS $$
        SELECT s.status,
               pg_catalog.json_build_object('org', pg_catalog.json_build_object('name', o.name),
                   'email', i.email, 'role', i.role,
                   'invited_by', pg_catalog.json_build_object('name', u.name),
                   'expires_at', finicom.ts(i.expires_at), 'status', s.status)::text
        FROM finicom.invitations i
        JOIN finicom.orgs o ON o.id = i.org_id
        LEFT JOIN finicom.users u ON u.id = i.invited_by
        CROSS JOIN LATERAL (SELECT CASE WHEN i.status = 'pending' AND i.expires_at <= pg_catalog.now()
                                        THEN 'expired' ELSE i.status::text END AS status) s
        WHERE i.token_hash = p_token_hash
    $$;

-- Accept an invitation.  Locks the invitation row, so two accepts of one
-- token serialize: the second finds it accepted.  Outcomes:
--   ok | not_found | gone (status says why) | email_mismatch | already_member | email_taken
-- With p_user (a signed-in user) that user joins; with p_user NULL an
-- account is created for the invited email from p_name/p_password_hash and
-- signed in with a session of p_session_hash.
CREATE FUNCTION finicom.invitation_accept(p_token_hash bytea, p_user uuid, p_name text,
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
            IF lower(v_email) IS DISTINCT FROM lower(v_inv.email) THEN
                RETURN QUERY SELECT 'email_mismatch', NULL::text, NULL::uuid, NULL::text, NULL::text, NULL::text;
                RETURN;
            END IF;
            IF EXISTS (SELECT 1 FROM finicom.memberships m WHERE m.org_id = v_inv.org_id AND m.user_id = v_user) THEN
                RETURN QUERY SELECT 'already_member', NULL::text, NULL::uuid, NULL::text, NULL::text, NULL::text;
                RETURN;
            END IF;
        ELSE
            IF EXISTS (SELECT 1 FROM finicom.users u WHERE lower(u.email) = lower(v_inv.email)) THEN
                RETURN QUERY SELECT 'email_taken', NULL::text, NULL::uuid, NULL::text, NULL::text, NULL::text;
                RETURN;
            END IF;
            SELECT c.id INTO v_user FROM finicom.user_create(v_inv.email, p_name, p_password_hash) c;
            PERFORM finicom.session_create(v_user, p_session_hash, p_max_age_seconds);
        END IF;
        -- The context of the request that joins: the new member in this org.
        PERFORM pg_catalog.set_config('finicom.actor_type', 'user', true);
        PERFORM pg_catalog.set_config('finicom.actor_id', v_user::text, true);
        PERFORM pg_catalog.set_config('finicom.org_id', v_inv.org_id::text, true);
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

-- The pg_cron job finicom-expire-invitations: pending invitations past
-- their expiry become expired.  Runs as finicom_owner (SECURITY DEFINER),
-- so row-level security does not hide the rows from it; the audit trail
-- records it as the system.
CREATE FUNCTION finicom.expire_invitations() RETURNS integer
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = ''
    AS $$
    DECLARE
        n integer;
    BEGIN
        PERFORM pg_catalog.set_config('finicom.actor_type', 'system', true);
        PERFORM pg_catalog.set_config('finicom.actor_id', '', true);
        UPDATE finicom.invitations i SET status = 'expired'
        WHERE i.status = 'pending' AND i.expires_at <= pg_catalog.now();
        GET DIAGNOSTICS n = ROW_COUNT;
        UPDATE finicom.mail_outbox m
        SET status = 'canceled', body = pg_catalog.replace(m.body, m.link, '(link removed)'), link = NULL
        FROM finicom.invitations i
        WHERE m.status = 'queued' AND i.id = m.invitation_id AND i.org_id = m.org_id AND i.status = 'expired';
        RETURN n;
    END
    $$;

-- finicom-purge-sessions: sessions past their absolute expiry.
CREATE FUNCTION finicom.purge_sessions() RETURNS integer
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = ''
    AS $$
    DECLARE
        n integer;
    BEGIN
        DELETE FROM finicom.sessions s WHERE s.expires_at <= pg_catalog.now();
        GET DIAGNOSTICS n = ROW_COUNT;
        RETURN n;
    END
    $$;

GRANT EXECUTE ON FUNCTION
    finicom.invitation_json(finicom.invitations),
    finicom.invitation_create(uuid, text, finicom.role, bytea, text),
    finicom.invitation_resend(uuid, uuid, bytea, text),
    finicom.invitation_cancel(uuid, uuid),
    finicom.invitation_preview(bytea),
    finicom.invitation_accept(bytea, uuid, text, text, bytea, integer)
    TO finicom_app;
