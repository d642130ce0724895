-- migrate: superuser (pg_trgm and the pg_cron job; the rest runs as finicom_owner)
-- 0024_member_governance: memberships that expire, invitations that die
-- with their inviter's admin role, batch invitations, member filters
-- (API v1.1, "Members and invitations"; docs/members.md).
--
--   memberships.expires_at      from this time on the membership is absent:
--                               begin_request gives no org context (every
--                               request of that user to the org is 404) and
--                               the memberships policies hide the row; the
--                               job finicom-expire-memberships then deletes
--                               it (member.expired, actor system)
--   invitations.membership_expires_at
--                               the expiry the membership made on accept
--                               carries
--   invitations.cancel_reason   why the database canceled an invitation by
--                               itself ('inviter_lost_admin'), else NULL
--
-- The last-admin rule becomes "at least one admin without an expiry",
-- still one constraint trigger that locks the org row before counting.
-- A member who stops being an admin (removed, left, demoted, expired; by
-- the API, an access review or psql alike) has their pending invitations to
-- that org canceled in the same transaction by a trigger.

-- pg_trgm (PostgreSQL's contrib) in a schema of its own that only
-- finicom_owner may use: the index below needs its operator class, and
-- nobody needs its functions (finicom_app executes no extension's).
CREATE SCHEMA IF NOT EXISTS finicom_trgm;
REVOKE ALL ON SCHEMA finicom_trgm FROM PUBLIC;
GRANT USAGE ON SCHEMA finicom_trgm TO finicom_owner;
CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA finicom_trgm;

SET LOCAL ROLE finicom_owner;

ALTER TABLE finicom.memberships ADD COLUMN expires_at timestamptz;
ALTER TABLE finicom.invitations ADD COLUMN membership_expires_at timestamptz,
    ADD COLUMN cancel_reason text CHECK (cancel_reason IN ('inviter_lost_admin'));
GRANT UPDATE (expires_at) ON finicom.memberships TO finicom_app;

-- The sweep finds what is due; the member filters (docs/members.md has the
-- plans): role with the keyset order, and a trigram index for q over the
-- users' search text, "email LF name" with ASCII letters lowercased (q
-- cannot hold a control character, so a match never straddles the two).
-- The search text is a stored generated column: finicom.ascii_lower is
-- translate(), measured at about 50 us a row here, which made a filter
-- that reads an org's rows cost half a second on 10,000 members when it ran
-- at query time.
CREATE INDEX memberships_expiry_idx ON finicom.memberships (expires_at) WHERE expires_at IS NOT NULL;
CREATE INDEX memberships_org_role_joined_idx ON finicom.memberships (org_id, role, joined_at, user_id);
ALTER TABLE finicom.users
    ADD COLUMN search_text text GENERATED ALWAYS AS (finicom.ascii_lower(email || E'\n' || name)) STORED;
CREATE INDEX users_search_trgm_idx ON finicom.users USING gin (search_text finicom_trgm.gin_trgm_ops);
CREATE INDEX member_activity_org_last_idx ON finicom.member_activity (org_id, last_active_at);

-- ---------------------------------------------------------------------
-- The request context.  begin_request as in 0023, with one change (marked
-- "0024"): a membership past its expires_at gives no org.
-- (The lines marked "0023" are two-factor's, as 0023 left them.)
CREATE OR REPLACE FUNCTION finicom.begin_request(p_credential text, p_token_hash bytea, p_org_id uuid,
    p_idle_seconds integer, p_request_id text, p_client_ip text)
    RETURNS TABLE(actor_type text, actor_id uuid, email text, name text, created_at text, org_id uuid,
                  org_role text, two_factor_required boolean)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
    DECLARE
        v_session finicom.sessions%ROWTYPE;
        v_key finicom.api_keys%ROWTYPE;
        v_user finicom.users%ROWTYPE;
        v_type text;
        v_actor uuid;
        v_org uuid;
        v_role finicom.role;
        v_idle interval;
        v_set boolean;
        v_2fa boolean := false; -- 0023
    BEGIN
        IF p_token_hash IS NULL OR p_credential IS NULL OR p_credential NOT IN ('api_key', 'session') THEN
            NULL;
        ELSIF p_credential = 'api_key' THEN
            SELECT * INTO v_key FROM finicom.api_keys k
            WHERE k.token_hash = p_token_hash
              AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > pg_catalog.now());
            IF FOUND THEN
                v_type := 'api_key';
                v_actor := v_key.id;
                IF p_org_id = v_key.org_id THEN
                    v_org := v_key.org_id;
                    v_role := v_key.role;
                END IF;
                IF v_key.last_used_at IS NULL OR v_key.last_used_at < pg_catalog.now() - interval '1 minute' THEN
                    UPDATE finicom.api_keys k SET last_used_at = pg_catalog.now()
                    WHERE k.org_id = v_key.org_id AND k.id = v_key.id;
                END IF;
            END IF;
        ELSE
            v_idle := pg_catalog.make_interval(secs => p_idle_seconds);
            SELECT * INTO v_session FROM finicom.sessions s
            WHERE s.token_hash = p_token_hash
              AND s.expires_at > pg_catalog.now()
              AND s.last_seen_at > pg_catalog.now() - v_idle;
            IF FOUND THEN
                SELECT * INTO v_user FROM finicom.users u WHERE u.id = v_session.user_id;
                v_type := 'user';
                v_actor := v_session.user_id;
                IF v_session.last_seen_at < pg_catalog.now() - LEAST(interval '1 minute', v_idle / 2) THEN
                    UPDATE finicom.sessions s SET last_seen_at = pg_catalog.now() WHERE s.id = v_session.id;
                END IF;
                IF p_org_id IS NOT NULL THEN
                    SELECT m.org_id, m.role,
                           o.require_2fa AND NOT EXISTS (SELECT 1 FROM finicom.totp_credentials t -- 0023
                               WHERE t.user_id = m.user_id AND t.confirmed_at IS NOT NULL)     -- 0023
                    INTO v_org, v_role, v_2fa
                    FROM finicom.memberships m
                    JOIN finicom.orgs o ON o.id = m.org_id -- 0023
                    WHERE m.org_id = p_org_id AND m.user_id = v_session.user_id
                      -- 0024: an expired membership is absent at once, job or no job.
                      AND (m.expires_at IS NULL OR m.expires_at > pg_catalog.now());
                    v_2fa := coalesce(v_2fa, false); -- 0023
                END IF;
            END IF;
        END IF;

        -- The context: an actor only when the credential verified, an org
        -- only when the actor holds a role there (and, 0023, has the 2FA
        -- the org requires).  One expression.
        v_set := finicom.context_guard()
            AND pg_catalog.set_config('finicom.actor_type', coalesce(v_type, ''), true) IS NOT NULL
            AND pg_catalog.set_config('finicom.actor_id', coalesce(v_actor::text, ''), true) IS NOT NULL
            AND pg_catalog.set_config('finicom.org_id',
                    CASE WHEN v_2fa THEN '' ELSE coalesce(v_org::text, '') END, true) IS NOT NULL -- 0023
            AND pg_catalog.set_config('finicom.org_role',
                    CASE WHEN v_2fa THEN '' ELSE coalesce(v_role::text, '') END, true) IS NOT NULL -- 0023
            AND pg_catalog.set_config('finicom.request_id',
                    pg_catalog.left(coalesce(p_request_id, ''), 200), true) IS NOT NULL
            AND pg_catalog.set_config('finicom.client_ip',
                    pg_catalog.left(coalesce(p_client_ip, ''), 100), true) IS NOT NULL;

        two_factor_required := v_2fa; -- 0023
        IF v_type = 'api_key' THEN
            actor_type := 'api_key';
            actor_id := v_key.id;
            name := v_key.name;
            created_at := finicom.ts(v_key.created_at);
            org_id := v_key.org_id;
            org_role := CASE WHEN p_org_id IS NULL OR p_org_id = v_key.org_id THEN v_key.role::text END;
            RETURN NEXT;
        ELSIF v_type = 'user' AND v_user.id IS NOT NULL THEN
            IF v_org IS NOT NULL AND NOT v_2fa THEN -- 0023: a refused request is no activity
                INSERT INTO finicom.member_activity AS a (org_id, user_id, last_active_at)
                VALUES (v_org, v_user.id, pg_catalog.now())
                ON CONFLICT ON CONSTRAINT member_activity_pkey DO UPDATE SET last_active_at = excluded.last_active_at
                WHERE a.last_active_at < pg_catalog.now() - interval '1 minute';
            END IF;
            actor_type := 'user';
            actor_id := v_user.id;
            email := v_user.email;
            name := v_user.name;
            created_at := finicom.ts(v_user.created_at);
            org_id := v_org;
            org_role := v_role::text;
            RETURN NEXT;
        END IF;
    END
    $$;

-- The context the SECURITY DEFINER entry points (and the pgTAP tests) enter:
-- as in 0009, an expired membership gives no org there either.
CREATE OR REPLACE FUNCTION finicom.context_enter(p_actor_type text, p_actor_id uuid, p_org_id uuid,
        p_request_id text, p_client_ip text, OUT org_id uuid, OUT org_role finicom.role)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
    BEGIN
        IF p_actor_type = 'user' AND p_org_id IS NOT NULL THEN
            SELECT m.org_id, m.role INTO org_id, org_role FROM finicom.memberships m
            WHERE m.org_id = p_org_id AND m.user_id = p_actor_id
              AND (m.expires_at IS NULL OR m.expires_at > pg_catalog.now());
        ELSIF p_actor_type = 'api_key' AND p_org_id IS NOT NULL THEN
            SELECT k.org_id, k.role INTO org_id, org_role FROM finicom.api_keys k
            WHERE k.id = p_actor_id AND k.org_id = p_org_id
              AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > pg_catalog.now());
        END IF;
        PERFORM finicom.context_seal(p_actor_type, CASE WHEN p_actor_type IS NOT NULL THEN p_actor_id END,
                                     org_id, org_role, p_request_id, p_client_ip);
    END
    $$;

-- The policies: an expired membership is not there for finicom_app.  The
-- time is an uncorrelated sub-select (an InitPlan, once per statement),
-- like the org check beside it.
ALTER POLICY memberships_select ON finicom.memberships
    USING (((org_id = (SELECT finicom.request_org_id())) OR (user_id = (SELECT finicom.request_user_id())))
           AND (expires_at IS NULL OR expires_at > (SELECT pg_catalog.now())));
ALTER POLICY memberships_update ON finicom.memberships
    USING (org_id = (SELECT finicom.request_org_for('admin'))
           AND (expires_at IS NULL OR expires_at > (SELECT pg_catalog.now())))
    WITH CHECK (org_id = (SELECT finicom.request_org_for('admin')));
ALTER POLICY memberships_delete ON finicom.memberships
    USING (((org_id = (SELECT finicom.request_org_for('admin')))
            OR ((org_id = (SELECT finicom.request_org_id())) AND (user_id = (SELECT finicom.request_user_id()))))
           AND (expires_at IS NULL OR expires_at > (SELECT pg_catalog.now())));

-- The member list's view (0011) without expired memberships, and with the
-- expiry (a new last column).
CREATE OR REPLACE VIEW finicom.member_rows WITH (security_barrier = true) AS
    SELECT m.org_id, m.user_id, m.role, m.joined_at, u.email, u.name, a.last_active_at, m.expires_at
    FROM finicom.memberships m
    JOIN finicom.users u ON u.id = m.user_id
    LEFT JOIN finicom.member_activity a ON a.org_id = m.org_id AND a.user_id = m.user_id
    WHERE m.org_id = (SELECT finicom.request_org_id())
      AND (m.expires_at IS NULL OR m.expires_at > (SELECT pg_catalog.now()));

-- A member item with its expiry (the old six-argument form stays for
-- callers that do not know it yet).
CREATE FUNCTION finicom.member_item(p_user_id uuid, p_email text, p_name text, p_role finicom.role,
        p_joined_at timestamptz, p_last_active_at timestamptz, p_expires_at timestamptz) RETURNS json
    LANGUAGE sql STABLE
    AS $$
        SELECT pg_catalog.json_build_object(
            'user', pg_catalog.json_build_object('id', p_user_id, 'email', p_email, 'name', p_name),
            'role', p_role, 'joined_at', finicom.ts(p_joined_at),
            'last_active_at', finicom.ts(p_last_active_at), 'expires_at', finicom.ts(p_expires_at))
    $$;
GRANT EXECUTE ON FUNCTION finicom.member_item(uuid, text, text, finicom.role, timestamptz, timestamptz, timestamptz)
    TO finicom_app;

CREATE OR REPLACE FUNCTION finicom.member_json(m finicom.memberships, p_email text, p_name text,
        p_last_active_at timestamptz) RETURNS json
    LANGUAGE sql STABLE
    AS $$ SELECT finicom.member_item(m.user_id, p_email, p_name, m.role, m.joined_at, p_last_active_at,
                                     m.expires_at) $$;

-- A time a client sets must lie ahead (400 naming the field otherwise).
CREATE FUNCTION finicom.future_time(p timestamptz, p_field text) RETURNS timestamptz
    LANGUAGE plpgsql STABLE
    SET search_path TO ''
    AS $$
    BEGIN
        IF p IS NOT NULL AND p <= pg_catalog.now() THEN
            RAISE EXCEPTION USING ERRCODE = 'F0400', MESSAGE = 'validation_failed',
                DETAIL = p_field || ' must be in the future', HINT = p_field;
        END IF;
        RETURN p;
    END
    $$;
GRANT EXECUTE ON FUNCTION finicom.future_time(timestamptz, text) TO finicom_app;

-- ---------------------------------------------------------------------
-- GET members with filters: one page of the verified org's live members,
-- keyset order (joined_at, user_id), for q (already ASCII-lowercased and
-- LIKE-escaped by the caller: '%...%'), role and inactive_days, any of
-- them NULL.  SECURITY DEFINER, called once per statement: as finicom_app
-- the filters would stay above the row-level security quals (LIKE is not
-- leakproof) and could use no index.  The org is the request's, never a
-- parameter.  Only fixed fragments are put together; every value is bound.
CREATE FUNCTION finicom.member_search(p_limit integer, p_after_t timestamptz, p_after_id uuid,
        p_like text, p_role finicom.role, p_inactive_days integer)
    RETURNS TABLE(user_id uuid, email text, name text, role finicom.role, joined_at timestamptz,
                  last_active_at timestamptz, expires_at timestamptz)
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
    DECLARE
        v_org uuid := finicom.request_org_id();
    BEGIN
        IF v_org IS NULL THEN
            RETURN;
        END IF;
        RETURN QUERY EXECUTE
            'SELECT m.user_id, u.email, u.name, m.role, m.joined_at, a.last_active_at, m.expires_at'
            ' FROM finicom.memberships m JOIN finicom.users u ON u.id = m.user_id'
            ' LEFT JOIN finicom.member_activity a ON a.org_id = m.org_id AND a.user_id = m.user_id'
            ' WHERE m.org_id = $1 AND (m.expires_at IS NULL OR m.expires_at > pg_catalog.now())'
            || CASE WHEN p_after_t IS NOT NULL THEN ' AND (m.joined_at, m.user_id) > ($2, $3)' ELSE '' END
            || CASE WHEN p_like IS NOT NULL
                    THEN ' AND u.search_text LIKE $4' ELSE '' END
            || CASE WHEN p_role IS NOT NULL THEN ' AND m.role = $5' ELSE '' END
            || CASE WHEN p_inactive_days IS NOT NULL
                    THEN ' AND (a.last_active_at IS NULL OR a.last_active_at < pg_catalog.now()'
                         ' - pg_catalog.make_interval(days => $6))' ELSE '' END
            -- With a role, the same order spelled as the role index's: the
            -- planner cannot see how rare a role is (row-level security
            -- hides the statistics from a non-leakproof enum_eq), and so
            -- would scan the org's rows filtering them instead.
            || CASE WHEN p_role IS NOT NULL THEN ' ORDER BY m.role, m.joined_at, m.user_id LIMIT $7'
                    ELSE ' ORDER BY m.joined_at, m.user_id LIMIT $7' END
            USING v_org, p_after_t, p_after_id, p_like, p_role, p_inactive_days, p_limit;
    END
    $$;
GRANT EXECUTE ON FUNCTION finicom.member_search(integer, timestamptz, uuid, text, finicom.role, integer)
    TO finicom_app;

-- ---------------------------------------------------------------------
-- The last admin: at least one admin without an expiry (0003's trigger,
-- same concurrency decision: lock the org row, then count again; under
-- READ COMMITTED the count after the lock sees what the other transaction
-- committed).  Only a change that takes an expiry-free admin away can break
-- the rule: a delete, a demotion, or an expiry set on such an admin.
CREATE OR REPLACE FUNCTION finicom.memberships_keep_an_admin() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
    BEGIN
        IF OLD.role <> 'admin' OR OLD.expires_at IS NOT NULL
           OR (TG_OP = 'UPDATE' AND NEW.role = 'admin' AND NEW.expires_at IS NULL) THEN
            RETURN NULL;
        END IF;
        PERFORM 1 FROM finicom.orgs o WHERE o.id = OLD.org_id FOR UPDATE;
        IF NOT FOUND THEN
            RETURN NULL;
        END IF;
        IF NOT EXISTS (SELECT 1 FROM finicom.memberships m
                       WHERE m.org_id = OLD.org_id AND m.role = 'admin' AND m.expires_at IS NULL) THEN
            RAISE EXCEPTION USING ERRCODE = 'F0409', MESSAGE = 'last_admin',
                DETAIL = 'an organization must keep at least one admin without an expiry';
        END IF;
        RETURN NULL;
    END
    $$;
DROP TRIGGER memberships_keep_an_admin ON finicom.memberships;
CREATE CONSTRAINT TRIGGER memberships_keep_an_admin AFTER DELETE OR UPDATE OF role, expires_at
    ON finicom.memberships NOT DEFERRABLE INITIALLY IMMEDIATE
    FOR EACH ROW EXECUTE FUNCTION finicom.memberships_keep_an_admin();

-- ---------------------------------------------------------------------
-- Membership audit events: audit.capture's member branch, plus
-- member.expired (the deletion of a membership past its expiry: the job's,
-- or a DBA's) and member.expiry_changed.  A function of its own, so
-- audit.capture stays as 0016 left it.
CREATE FUNCTION audit.capture_member() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
    DECLARE
        v_org uuid := CASE WHEN TG_OP = 'DELETE' THEN OLD.org_id ELSE NEW.org_id END;
    BEGIN
        IF NOT EXISTS (SELECT 1 FROM finicom.orgs o WHERE o.id = v_org) THEN
            RETURN NULL;
        END IF;
        IF TG_OP = 'INSERT' THEN
            PERFORM audit.append(v_org, 'member.added', 'user', NEW.user_id,
                pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object('role', NEW.role,
                    'expires_at', finicom.ts(NEW.expires_at))));
        ELSIF TG_OP = 'DELETE' THEN
            IF OLD.expires_at IS NOT NULL AND OLD.expires_at <= pg_catalog.now() THEN
                PERFORM audit.append(v_org, 'member.expired', 'user', OLD.user_id,
                    pg_catalog.jsonb_build_object('role', OLD.role, 'expires_at', finicom.ts(OLD.expires_at)));
            ELSE
                PERFORM audit.append(v_org, 'member.removed', 'user', OLD.user_id,
                    pg_catalog.jsonb_build_object('role', OLD.role));
            END IF;
        ELSE
            IF OLD.role IS DISTINCT FROM NEW.role THEN
                PERFORM audit.append(v_org, 'member.role_changed', 'user', NEW.user_id,
                    pg_catalog.jsonb_build_object('old_role', OLD.role, 'new_role', NEW.role));
            END IF;
            IF OLD.expires_at IS DISTINCT FROM NEW.expires_at THEN
                PERFORM audit.append(v_org, 'member.expiry_changed', 'user', NEW.user_id,
                    pg_catalog.jsonb_build_object('old_expires_at', finicom.ts(OLD.expires_at),
                        'new_expires_at', finicom.ts(NEW.expires_at)));
            END IF;
        END IF;
        RETURN NULL;
    END
    $$;
DROP TRIGGER zz_audit_memberships ON finicom.memberships;
CREATE TRIGGER zz_audit_memberships AFTER INSERT OR DELETE OR UPDATE ON finicom.memberships
    FOR EACH ROW EXECUTE FUNCTION audit.capture_member();

-- ---------------------------------------------------------------------
-- Invitations die with their inviter's admin role.  After a membership
-- that was an admin's is deleted or stops being admin, that person's
-- pending invitations to the org are canceled, their unsent mail with
-- them, each with an invitation.canceled event whose actor is system and
-- whose details say the reason.  The events are written here, with the
-- context switched to system for them and put back after (this function is
-- finicom_owner's, which alone may set it); audit.capture skips those rows
-- (the trigger's WHEN below), so each gets exactly one event.
CREATE FUNCTION finicom.invitations_cancel_for_inviter(p_org uuid, p_user uuid) RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
    DECLARE
        v_type text := nullif(pg_catalog.current_setting('finicom.actor_type', true), '');
        v_actor uuid := nullif(pg_catalog.current_setting('finicom.actor_id', true), '')::uuid;
        v_org uuid := nullif(pg_catalog.current_setting('finicom.org_id', true), '')::uuid;
        v_role finicom.role := nullif(pg_catalog.current_setting('finicom.org_role', true), '')::finicom.role;
        v_request text := nullif(pg_catalog.current_setting('finicom.request_id', true), '');
        v_ip text := nullif(pg_catalog.current_setting('finicom.client_ip', true), '');
        v_inv record;
        n integer := 0;
    BEGIN
        -- Nothing to do, or the org itself is being deleted (its invitations go with it).
        IF NOT EXISTS (SELECT 1 FROM finicom.orgs o WHERE o.id = p_org)
           OR NOT EXISTS (SELECT 1 FROM finicom.invitations i
                          WHERE i.org_id = p_org AND i.invited_by = p_user AND i.status = 'pending'
                            AND i.expires_at > pg_catalog.now()) THEN
            RETURN 0;
        END IF;
        PERFORM finicom.context_seal('system', NULL, NULL, NULL, v_request, v_ip);
        FOR v_inv IN
            UPDATE finicom.invitations i
            SET status = 'canceled', canceled_at = pg_catalog.now(), canceled_by = NULL,
                cancel_reason = 'inviter_lost_admin'
            WHERE i.org_id = p_org AND i.invited_by = p_user AND i.status = 'pending'
              AND i.expires_at > pg_catalog.now()
            RETURNING i.id, i.email, i.role
        LOOP
            PERFORM audit.append(p_org, 'invitation.canceled', 'invitation', v_inv.id,
                pg_catalog.jsonb_build_object('email', v_inv.email, 'role', v_inv.role,
                    'old_status', 'pending', 'reason', 'inviter_lost_admin'));
            UPDATE finicom.mail_outbox m
            SET status = 'canceled', body = pg_catalog.replace(m.body, m.link, '(link removed)'), link = NULL
            WHERE m.org_id = p_org AND m.invitation_id = v_inv.id AND m.status = 'queued';
            n := n + 1;
        END LOOP;
        PERFORM finicom.context_seal(v_type, v_actor, v_org, v_role, v_request, v_ip);
        RETURN n;
    END
    $$;

-- The memberships trigger: a membership that was an admin's is deleted or
-- its role is no longer admin.
CREATE FUNCTION finicom.invitations_follow_inviter() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
    BEGIN
        IF OLD.role = 'admin' AND (TG_OP = 'DELETE' OR NEW.role <> 'admin') THEN
            PERFORM finicom.invitations_cancel_for_inviter(OLD.org_id, OLD.user_id);
        END IF;
        RETURN NULL;
    END
    $$;

-- An account deleted (by a DBA): its memberships go by cascade, but
-- invitations.invited_by is set to NULL by another cascade that may run
-- first, so its admin memberships' invitations are canceled before.
CREATE FUNCTION finicom.invitations_follow_deleted_inviter() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
    BEGIN
        PERFORM finicom.invitations_cancel_for_inviter(m.org_id, OLD.id)
        FROM finicom.memberships m WHERE m.user_id = OLD.id AND m.role = 'admin';
        RETURN OLD;
    END
    $$;
CREATE TRIGGER users_invitations_follow_inviter BEFORE DELETE ON finicom.users
    FOR EACH ROW EXECUTE FUNCTION finicom.invitations_follow_deleted_inviter();
CREATE TRIGGER memberships_invitations_follow_inviter AFTER DELETE OR UPDATE OF role ON finicom.memberships
    FOR EACH ROW EXECUTE FUNCTION finicom.invitations_follow_inviter();

DROP TRIGGER zz_audit_invitations ON finicom.invitations;
CREATE TRIGGER zz_audit_invitations AFTER INSERT OR DELETE ON finicom.invitations
    FOR EACH ROW EXECUTE FUNCTION audit.capture('invitation');
CREATE TRIGGER zz_audit_invitations_update AFTER UPDATE ON finicom.invitations
    FOR EACH ROW WHEN (NEW.cancel_reason IS NOT DISTINCT FROM OLD.cancel_reason)
    EXECUTE FUNCTION audit.capture('invitation');

-- ---------------------------------------------------------------------
-- Invitations with a membership expiry.  The five-argument create of 0018
-- becomes this one with no expiry.  The invitation itself never outlives
-- the membership it offers: its expires_at is at most membership_expires_at.
CREATE FUNCTION finicom.invitation_create(p_org uuid, p_email text, p_role finicom.role, p_token_hash bytea,
        p_link text, p_membership_expires_at timestamptz) RETURNS text
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
    DECLARE
        v_inv finicom.invitations%ROWTYPE;
    BEGIN
        IF p_org IS DISTINCT FROM finicom.current_org_id() OR NOT finicom.has_role(p_org, 'admin') THEN
            RAISE EXCEPTION USING ERRCODE = 'F0403', MESSAGE = 'forbidden',
                DETAIL = 'only admins can invite';
        END IF;
        PERFORM finicom.future_time(p_membership_expires_at, 'membership_expires_at');
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
            INSERT INTO finicom.invitations (org_id, email, role, token_hash, invited_by, expires_at,
                                             membership_expires_at)
            SELECT p_org, p_email, p_role, p_token_hash, finicom.current_user_id(),
                   LEAST(pg_catalog.now() + pg_catalog.make_interval(hours => o.invite_ttl_hours),
                         p_membership_expires_at),
                   p_membership_expires_at
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
GRANT EXECUTE ON FUNCTION finicom.invitation_create(uuid, text, finicom.role, bytea, text, timestamptz)
    TO finicom_app;

CREATE OR REPLACE FUNCTION finicom.invitation_create(p_org uuid, p_email text, p_role finicom.role,
        p_token_hash bytea, p_link text) RETURNS text
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO ''
    AS $$ SELECT finicom.invitation_create(p_org, p_email, p_role, p_token_hash, p_link, NULL::timestamptz) $$;

-- POST invitations/batch: p_items is a JSON array in the client's order;
-- each element either {email, role, membership_expires_at, token_hash
-- (bytea text), link} for the database to try, or {email, error} that the
-- worker refused already (passed through as it is).  Each try runs in its
-- own subtransaction (the BEGIN ... EXCEPTION block): a refused item
-- (already_member, invitation_pending, validation_failed, rate_limited)
-- leaves nothing behind and the others go on; every success has its mail
-- and its event, all in the request's one transaction.  Only a caller who
-- may not invite at all (forbidden) fails the whole batch.  Returns the
-- reply's items array.
CREATE FUNCTION finicom.invitation_create_batch(p_org uuid, p_items json) RETURNS text
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
    DECLARE
        v_item json;
        v_out json[] := '{}';
        v_inv text;
        v_code text;
        v_message text;
        v_field text;
    BEGIN
        IF p_org IS DISTINCT FROM finicom.current_org_id() OR NOT finicom.has_role(p_org, 'admin') THEN
            RAISE EXCEPTION USING ERRCODE = 'F0403', MESSAGE = 'forbidden',
                DETAIL = 'only admins can invite';
        END IF;
        FOR v_item IN SELECT e FROM pg_catalog.json_array_elements(p_items) WITH ORDINALITY AS t(e, n) ORDER BY n
        LOOP
            IF v_item -> 'error' IS NOT NULL THEN
                v_out := v_out || v_item;
                CONTINUE;
            END IF;
            BEGIN
                v_inv := finicom.invitation_create(p_org, v_item ->> 'email', (v_item ->> 'role')::finicom.role,
                    pg_catalog.decode(pg_catalog.substr(v_item ->> 'token_hash', 3), 'hex'), v_item ->> 'link',
                    (v_item ->> 'membership_expires_at')::timestamptz);
                v_out := v_out || pg_catalog.json_build_object('email', v_item ->> 'email',
                    'invitation', v_inv::json);
            EXCEPTION WHEN SQLSTATE 'F0409' OR SQLSTATE 'F0429' OR SQLSTATE 'F0400' THEN
                GET STACKED DIAGNOSTICS v_code = MESSAGE_TEXT, v_message = PG_EXCEPTION_DETAIL,
                                        v_field = PG_EXCEPTION_HINT;
                v_out := v_out || pg_catalog.json_build_object('email', v_item ->> 'email',
                    'error', pg_catalog.json_strip_nulls(pg_catalog.json_build_object('code', v_code,
                        'message', v_message,
                        'field', CASE WHEN v_code = 'validation_failed' THEN nullif(v_field, '') END,
                        'retry_after', CASE WHEN v_code = 'rate_limited' THEN nullif(v_field, '')::integer END)));
            END;
        END LOOP;
        RETURN pg_catalog.array_to_json(v_out)::text;
    END
    $$;
GRANT EXECUTE ON FUNCTION finicom.invitation_create_batch(uuid, json) TO finicom_app;

-- Accepting makes the membership with the invitation's membership expiry
-- (0019's invitation_admit, with that one column added).
CREATE OR REPLACE FUNCTION finicom.invitation_admit(p_inv finicom.invitations, p_user uuid, p_request_id text,
        p_client_ip text) RETURNS TABLE(outcome text, status text, org_id uuid, org_name text, role text, user_json text)
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
    BEGIN
        PERFORM finicom.email_verified_mark(p_user, p_client_ip, p_request_id);
        PERFORM finicom.context_seal('user', p_user, p_inv.org_id, p_inv.role, p_request_id, p_client_ip);
        INSERT INTO finicom.memberships (org_id, user_id, role, expires_at)
        VALUES (p_inv.org_id, p_user, p_inv.role, p_inv.membership_expires_at);
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

-- The invitations list's view (0021) shows the membership expiry too.
CREATE OR REPLACE VIEW finicom.invitation_items WITH (security_invoker = true) AS
    SELECT i.org_id, i.id, i.created_at, s.status,
           pg_catalog.json_build_object(
               'id', i.id, 'email', i.email, 'role', i.role, 'status', s.status,
               'invited_by', CASE WHEN u.id IS NOT NULL THEN
                   pg_catalog.json_build_object('id', u.id, 'email', u.email, 'name', u.name) END,
               'created_at', finicom.ts(i.created_at),
               'expires_at', finicom.ts(i.expires_at),
               'accepted_at', finicom.ts(i.accepted_at),
               'canceled_at', finicom.ts(i.canceled_at),
               'membership_expires_at', finicom.ts(i.membership_expires_at),
               'email_status', (SELECT m.status FROM finicom.mail_outbox m
                                WHERE m.org_id = i.org_id AND m.invitation_id = i.id
                                ORDER BY m.created_at DESC LIMIT 1)) AS item
    FROM finicom.invitations i
    LEFT JOIN finicom.users u ON u.id = i.invited_by
    CROSS JOIN LATERAL (SELECT CASE WHEN i.status = 'pending' AND i.expires_at <= pg_catalog.now()
                                    THEN 'expired' ELSE i.status::text END AS status) s;

-- ---------------------------------------------------------------------
-- finicom-expire-memberships: every minute, the memberships past their
-- expiry go, each with member.expired (actor system); an expired admin's
-- pending invitations go with them (the trigger above).
CREATE FUNCTION finicom.expire_memberships() RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
    DECLARE
        n integer;
    BEGIN
        PERFORM finicom.context_seal('system', NULL, NULL, NULL, NULL, NULL);
        DELETE FROM finicom.memberships m WHERE m.expires_at <= pg_catalog.now();
        GET DIAGNOSTICS n = ROW_COUNT;
        RETURN n;
    END
    $$;

RESET ROLE;
DO $$
BEGIN
    IF pg_catalog.current_setting('finicom.without_pg_cron', true) = 'on' THEN
        RAISE WARNING 'pg_cron job finicom-expire-memberships not installed (--without-pg-cron)';
        RETURN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_extension WHERE extname = 'pg_cron') THEN
        RAISE WARNING 'pg_cron job finicom-expire-memberships not installed: pg_cron is not installed in this database';
        RETURN;
    END IF;
    PERFORM cron.schedule('finicom-expire-memberships', '* * * * *', 'SELECT finicom.expire_memberships()');
END
$$;
