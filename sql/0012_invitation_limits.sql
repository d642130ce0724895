-- 0012_invitation_limits: invitation mail is bounded.
--
-- Anyone can sign up, create an org with any name and invite any address,
-- so without limits the service mails whoever an attacker likes, with an
-- org and inviter name of the attacker's choosing.  Every invitation mail
-- goes through finicom.invitation_enqueue_mail (create and resend), and
-- that now refuses, with SQLSTATE F0429 (429 rate_limited), a mail beyond:
--   - 200 invitation mails an hour per org;
--   - 5 resends a day per invitation (the first mail does not count);
--   - 10 invitation mails a day per recipient address, across all orgs
--     (addresses compared with ASCII letters lowercased, nothing else).
-- The windows slide: they count the mail_outbox rows of the last hour or
-- day, whatever became of them (sent, failed, canceled).  The HINT of the
-- error is the number of seconds until the oldest counted mail leaves its
-- window, which the worker sends as Retry-After.  Two transactional
-- advisory locks (the org's, the recipient's) make the counts exact under
-- concurrent invitations: a second one waits for the first to commit.

-- ASCII-only lowercasing, as the API compares addresses.
CREATE FUNCTION finicom.ascii_lower(p text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT pg_catalog.translate(p, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') $$;
-- Every role that writes mail_outbox evaluates it (the index below): the
-- mailer marking a message sent, too.
GRANT EXECUTE ON FUNCTION finicom.ascii_lower(text) TO finicom_app, finicom_mailer, finicom_auditor;

CREATE INDEX mail_outbox_invitation_recipient_idx ON finicom.mail_outbox
    (finicom.ascii_lower(recipient), created_at) WHERE invitation_id IS NOT NULL;
CREATE INDEX mail_outbox_org_created_idx ON finicom.mail_outbox (org_id, created_at)
    WHERE invitation_id IS NOT NULL;

-- Raise F0429 when one more invitation mail for i would pass a limit.
CREATE FUNCTION finicom.invitation_mail_check(i finicom.invitations) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
    AS $$
    DECLARE
        v_recipient text := finicom.ascii_lower(i.email);
        v_count bigint;
        v_oldest timestamptz;
        v_first timestamptz;
    BEGIN
        PERFORM pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended('finicom-invite-org:' || i.org_id, 0)),
                pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended('finicom-invite-to:' || v_recipient, 0));

        SELECT pg_catalog.count(*), pg_catalog.min(m.created_at) INTO v_count, v_oldest
        FROM finicom.mail_outbox m
        WHERE m.org_id = i.org_id AND m.invitation_id IS NOT NULL
          AND m.created_at > pg_catalog.now() - interval '1 hour';
        IF v_count >= 200 THEN
            RAISE EXCEPTION USING ERRCODE = 'F0429', MESSAGE = 'rate_limited',
                DETAIL = 'this organization has sent 200 invitation emails in the last hour; try again later',
                HINT = finicom.retry_seconds(v_oldest + interval '1 hour');
        END IF;

        -- Resends: the invitation's mails of the last day, less its first one.
        SELECT pg_catalog.min(m.created_at) INTO v_first
        FROM finicom.mail_outbox m WHERE m.org_id = i.org_id AND m.invitation_id = i.id;
        IF v_first IS NOT NULL THEN
            SELECT pg_catalog.count(*), pg_catalog.min(m.created_at) INTO v_count, v_oldest
            FROM finicom.mail_outbox m
            WHERE m.org_id = i.org_id AND m.invitation_id = i.id
              AND m.created_at > pg_catalog.now() - interval '1 day' AND m.created_at > v_first;
            IF v_count >= 5 THEN
                RAISE EXCEPTION USING ERRCODE = 'F0429', MESSAGE = 'rate_limited',
                    DETAIL = 'this invitation has been resent 5 times in the last day; try again later',
                    HINT = finicom.retry_seconds(v_oldest + interval '1 day');
            END IF;
        END IF;

        SELECT pg_catalog.count(*), pg_catalog.min(m.created_at) INTO v_count, v_oldest
        FROM finicom.mail_outbox m
        WHERE finicom.ascii_lower(m.recipient) = v_recipient AND m.invitation_id IS NOT NULL
          AND m.created_at > pg_catalog.now() - interval '1 day';
        IF v_count >= 10 THEN
            RAISE EXCEPTION USING ERRCODE = 'F0429', MESSAGE = 'rate_limited',
                DETAIL = 'this address has received 10 invitation emails in the last day; try again later',
                HINT = finicom.retry_seconds(v_oldest + interval '1 day');
        END IF;
    END
    $$;

-- Whole seconds from now until p (at least 1), as text for a Retry-After.
CREATE FUNCTION finicom.retry_seconds(p timestamptz) RETURNS text
    LANGUAGE sql STABLE
    AS $$ SELECT GREATEST(1, pg_catalog.ceil(EXTRACT(epoch FROM p - pg_catalog.now())))::bigint::text $$;

CREATE OR REPLACE FUNCTION finicom.invitation_enqueue_mail(i finicom.invitations, p_link text) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
    DECLARE
        v_org text;
        v_inviter text;
    BEGIN
        PERFORM finicom.invitation_mail_check(i);
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
