-- 0030_resend_within_membership: a resent invitation never outlives the
-- membership it offers.
--
-- 0024 made an invitation's expires_at at most its membership_expires_at
-- when it is created, but a resend still set now() + invite_ttl_hours (0004's
-- invitation_resend).  So a resend could push the link past the membership's
-- end, and accepting then made a membership that had already expired: the
-- invitee was told they had joined and got 404 at once.
--
--   * A resend's new expiry is LEAST(now() + invite_ttl_hours,
--     membership_expires_at), as at creation.
--   * A resend after membership_expires_at has passed is refused
--     (409 conflict, nothing changes, no mail): that access has ended, and
--     the admin invites again with a new end, or none.
-- Everything else is 0004's function unchanged (the lines marked 0030
-- differ).

CREATE OR REPLACE FUNCTION finicom.invitation_resend(p_org uuid, p_id uuid, p_token_hash bytea, p_link text)
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
        IF v_inv.membership_expires_at <= pg_catalog.now() THEN -- 0030
            RAISE EXCEPTION USING ERRCODE = 'F0409', MESSAGE = 'conflict',
                DETAIL = 'the membership this invitation offers has already ended (membership_expires_at); '
                         'invite again with a later end or none';
        END IF;
        BEGIN
        UPDATE finicom.invitations i
        SET token_hash = p_token_hash, status = 'pending',
            expires_at = LEAST(pg_catalog.now() + pg_catalog.make_interval(hours => o.invite_ttl_hours),
                               i.membership_expires_at) -- 0030: LEAST ignores a NULL
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
