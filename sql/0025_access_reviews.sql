-- migrate: superuser (the pg_cron job at the end; everything else is created as finicom_owner)
-- 0025_access_reviews: the regular access review as a workflow the database
-- keeps (API v1.1 "Access reviews"), its reminder job, and the DBA view.
--
-- Words.  A review snapshots every member of the org (role, joined_at,
-- last_active_at) as its items; an admin decides each item (keep, remove,
-- change_role with a new role, a note); completing the review applies every
-- remove and change_role in one transaction, or nothing.
--
-- What the database enforces itself:
--   * one open review per org: a partial unique index (access_reviews_one_open),
--     so two admins starting one at once cannot both succeed, whatever the
--     workers check;
--   * decisions only while the review is open, completion only with every
--     item decided (F0409 review_incomplete), and never leaving the org
--     without an admin: completion changes roles first (one UPDATE, so the
--     last-admin constraint trigger of 0003 counts once the statement is
--     done: promoting B while removing A is fine) and then removes (a DELETE
--     only takes admins away, so if the end state keeps an admin, so did the
--     state after the UPDATE).  A last_admin refusal aborts the transaction:
--     nothing of the review is applied.  A member who left meanwhile has no
--     membership row to change and is skipped (named in the completed
--     event's details).
--   * the audit trail: audit.capture_access_review() writes
--     access_review.created, .decided, .completed and .canceled, with the
--     member events of 0007 (member.removed, member.role_changed) written by
--     the memberships' own trigger as completion applies them.
--
-- Policies follow 0009's shape: org_id = (SELECT finicom.request_org_for('admin')),
-- an InitPlan once per statement.  Reviews are the admins' (the seed: "admins
-- review access"); nobody else sees or writes them.  The API reads the
-- reviews and items through two views owned by finicom_owner
-- (access_review_rows, access_review_item_rows), security_barrier, whose
-- WHERE is the same org check: they show the people of a review even after
-- they left the org (finicom_app's users policy would hide them then).
--
-- The org gains access_review_interval_days (0 = off, else 30 to 365 days,
-- default 90).  The pg_cron job finicom-access-review-reminders (every
-- minute) calls finicom.access_review_remind(): every admin of an org whose
-- last completed review (or its creation, when it has none) is older than
-- the interval gets a mail through the outbox, at most once a week per org
-- (finicom.access_review_reminders keeps the last time; an upsert with a
-- WHERE makes two concurrent runs send once).
--
-- audit.capture() is replaced with one change: billing.updated lists only
-- the billing columns (plan, billing_email, trial_ends_at).  Before, it
-- listed every column but name and invite_ttl_hours, so any new org setting
-- (this interval) would have written a billing.updated event too.

SET LOCAL ROLE finicom_owner;

-- ---------------------------------------------------------------------
-- The org's setting.

ALTER TABLE finicom.orgs
    ADD COLUMN access_review_interval_days integer NOT NULL DEFAULT 90
        CONSTRAINT orgs_access_review_interval_days_check
        CHECK (access_review_interval_days = 0 OR access_review_interval_days BETWEEN 30 AND 365);
GRANT UPDATE (access_review_interval_days) ON finicom.orgs TO finicom_app;

CREATE OR REPLACE FUNCTION finicom.org_json(o finicom.orgs, p_role text) RETURNS json
    LANGUAGE sql STABLE
    AS $$
        SELECT pg_catalog.json_build_object('id', o.id, 'name', o.name,
            'created_at', finicom.ts(o.created_at), 'role', p_role,
            'invite_ttl_hours', o.invite_ttl_hours,
            'require_2fa', o.require_2fa, -- 0023
            'access_review_interval_days', o.access_review_interval_days)
    $$;

-- ---------------------------------------------------------------------
-- Reviews and their items.

CREATE TYPE finicom.access_review_status AS ENUM ('open', 'completed', 'canceled');
CREATE TYPE finicom.access_review_decision AS ENUM ('keep', 'remove', 'change_role');

CREATE TABLE finicom.access_reviews (
    org_id       uuid NOT NULL REFERENCES finicom.orgs (id) ON DELETE CASCADE,
    id           uuid NOT NULL DEFAULT gen_random_uuid(),
    status       finicom.access_review_status NOT NULL DEFAULT 'open',
    created_by   uuid REFERENCES finicom.users (id) ON DELETE SET NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    due_at       timestamptz,
    completed_at timestamptz,
    completed_by uuid REFERENCES finicom.users (id) ON DELETE SET NULL,
    canceled_at  timestamptz,
    -- What completing applied: {removed, role_changed, skipped} user ids.
    applied      jsonb,
    PRIMARY KEY (org_id, id),
    CONSTRAINT access_reviews_completed_check CHECK ((status = 'completed') = (completed_at IS NOT NULL)),
    CONSTRAINT access_reviews_canceled_check CHECK ((status = 'canceled') = (canceled_at IS NOT NULL))
);
-- One open review per org, enforced here (two admins racing: one gets 23505, a 409).
CREATE UNIQUE INDEX access_reviews_one_open ON finicom.access_reviews (org_id) WHERE status = 'open';
-- The list, newest first (keyset on created_at, id).
CREATE INDEX access_reviews_org_created_idx ON finicom.access_reviews (org_id, created_at, id);
-- The reminder job: the last completed review of an org.
CREATE INDEX access_reviews_org_completed_idx ON finicom.access_reviews (org_id, completed_at)
    WHERE status = 'completed';

CREATE TABLE finicom.access_review_items (
    org_id         uuid NOT NULL,
    review_id      uuid NOT NULL,
    user_id        uuid NOT NULL REFERENCES finicom.users (id) ON DELETE CASCADE,
    role           finicom.role NOT NULL,
    joined_at      timestamptz NOT NULL,
    last_active_at timestamptz,
    decision       finicom.access_review_decision,
    new_role       finicom.role,
    decided_by     uuid REFERENCES finicom.users (id) ON DELETE SET NULL,
    decided_at     timestamptz,
    note           text CONSTRAINT access_review_items_note_check CHECK (char_length(note) <= 500),
    PRIMARY KEY (org_id, review_id, user_id),
    FOREIGN KEY (org_id, review_id) REFERENCES finicom.access_reviews (org_id, id) ON DELETE CASCADE,
    CONSTRAINT access_review_items_new_role_check CHECK ((decision = 'change_role') = (new_role IS NOT NULL)),
    CONSTRAINT access_review_items_decided_check CHECK ((decision IS NULL) = (decided_at IS NULL))
);
-- Items in the members list's order (joined_at, user_id), keyset-paginated.
CREATE INDEX access_review_items_order_idx ON finicom.access_review_items (org_id, review_id, joined_at, user_id);

-- The reminder job's memory: when an org's admins were last reminded.
CREATE TABLE finicom.access_review_reminders (
    org_id  uuid PRIMARY KEY REFERENCES finicom.orgs (id) ON DELETE CASCADE,
    sent_at timestamptz NOT NULL
);

ALTER TABLE finicom.access_reviews ENABLE ROW LEVEL SECURITY;
ALTER TABLE finicom.access_reviews FORCE ROW LEVEL SECURITY;
ALTER TABLE finicom.access_review_items ENABLE ROW LEVEL SECURITY;
ALTER TABLE finicom.access_review_items FORCE ROW LEVEL SECURITY;
ALTER TABLE finicom.access_review_reminders ENABLE ROW LEVEL SECURITY;
ALTER TABLE finicom.access_review_reminders FORCE ROW LEVEL SECURITY;

CREATE POLICY access_reviews_owner ON finicom.access_reviews TO finicom_owner USING (true) WITH CHECK (true);
CREATE POLICY access_reviews_select ON finicom.access_reviews FOR SELECT TO finicom_app
    USING (org_id = (SELECT finicom.request_org_for('admin')));
CREATE POLICY access_reviews_insert ON finicom.access_reviews FOR INSERT TO finicom_app
    WITH CHECK (org_id = (SELECT finicom.request_org_for('admin')));
CREATE POLICY access_reviews_update ON finicom.access_reviews FOR UPDATE TO finicom_app
    USING (org_id = (SELECT finicom.request_org_for('admin')))
    WITH CHECK (org_id = (SELECT finicom.request_org_for('admin')));
CREATE POLICY access_reviews_delete ON finicom.access_reviews FOR DELETE TO finicom_app
    USING (org_id = (SELECT finicom.request_org_for('admin')));

CREATE POLICY access_review_items_owner ON finicom.access_review_items TO finicom_owner USING (true) WITH CHECK (true);
CREATE POLICY access_review_items_select ON finicom.access_review_items FOR SELECT TO finicom_app
    USING (org_id = (SELECT finicom.request_org_for('admin')));
CREATE POLICY access_review_items_insert ON finicom.access_review_items FOR INSERT TO finicom_app
    WITH CHECK (org_id = (SELECT finicom.request_org_for('admin')));
CREATE POLICY access_review_items_update ON finicom.access_review_items FOR UPDATE TO finicom_app
    USING (org_id = (SELECT finicom.request_org_for('admin')))
    WITH CHECK (org_id = (SELECT finicom.request_org_for('admin')));
CREATE POLICY access_review_items_delete ON finicom.access_review_items FOR DELETE TO finicom_app
    USING (org_id = (SELECT finicom.request_org_for('admin')));

CREATE POLICY access_review_reminders_owner ON finicom.access_review_reminders TO finicom_owner
    USING (true) WITH CHECK (true);
CREATE POLICY access_review_reminders_select ON finicom.access_review_reminders FOR SELECT TO finicom_app
    USING (org_id = (SELECT finicom.request_org_for('admin')));

-- Reviews are never deleted through the API (cancel is a status); items
-- only change their decision.
GRANT SELECT, INSERT ON finicom.access_reviews TO finicom_app;
GRANT UPDATE (status, completed_at, completed_by, canceled_at, applied) ON finicom.access_reviews TO finicom_app;
GRANT SELECT, INSERT ON finicom.access_review_items TO finicom_app;
GRANT UPDATE (decision, new_role, decided_by, decided_at, note) ON finicom.access_review_items TO finicom_app;
GRANT SELECT ON finicom.access_review_reminders TO finicom_app;

-- ---------------------------------------------------------------------
-- The API's JSON, read through two views with the owner's rights (the
-- people of a review stay visible after they left), limited to the
-- verified org of an admin's request, once per statement.

-- A user as {id, email, name}, or null.
CREATE FUNCTION finicom.person_json(p_id uuid, p_email text, p_name text) RETURNS json
    LANGUAGE sql IMMUTABLE
    AS $$
        SELECT CASE WHEN p_id IS NOT NULL THEN
            pg_catalog.json_build_object('id', p_id, 'email', p_email, 'name', p_name) END
    $$;

CREATE VIEW finicom.access_review_rows WITH (security_barrier = true) AS
    SELECT r.org_id, r.id, r.created_at, r.status,
           pg_catalog.json_build_object(
               'id', r.id, 'status', r.status,
               'created_by', finicom.person_json(r.created_by, cu.email, cu.name),
               'created_at', finicom.ts(r.created_at),
               'due_at', finicom.ts(r.due_at),
               'completed_at', finicom.ts(r.completed_at),
               'completed_by', finicom.person_json(r.completed_by, du.email, du.name),
               'items_total', n.total, 'items_decided', n.decided) AS item
    FROM finicom.access_reviews r
    LEFT JOIN finicom.users cu ON cu.id = r.created_by
    LEFT JOIN finicom.users du ON du.id = r.completed_by
    CROSS JOIN LATERAL (SELECT count(*) AS total, count(i.decision) AS decided
                        FROM finicom.access_review_items i
                        WHERE i.org_id = r.org_id AND i.review_id = r.id) n
    WHERE r.org_id = (SELECT finicom.request_org_for('admin'));

CREATE VIEW finicom.access_review_item_rows WITH (security_barrier = true) AS
    SELECT i.org_id, i.review_id, i.user_id, i.joined_at,
           pg_catalog.json_build_object(
               'user', pg_catalog.json_build_object('id', i.user_id, 'email', u.email, 'name', u.name),
               'role', i.role, 'last_active_at', finicom.ts(i.last_active_at),
               'decision', i.decision, 'new_role', i.new_role,
               'decided_by', finicom.person_json(i.decided_by, d.email, d.name),
               'decided_at', finicom.ts(i.decided_at), 'note', i.note) AS item
    FROM finicom.access_review_items i
    JOIN finicom.users u ON u.id = i.user_id
    LEFT JOIN finicom.users d ON d.id = i.decided_by
    WHERE i.org_id = (SELECT finicom.request_org_for('admin'));

GRANT SELECT ON finicom.access_review_rows, finicom.access_review_item_rows TO finicom_app;
GRANT EXECUTE ON FUNCTION finicom.person_json(uuid, text, text) TO finicom_app;

-- ---------------------------------------------------------------------
-- The workflow.  SECURITY INVOKER: they run as the worker's role, so every
-- row they touch passes the policies above (and the memberships' policies
-- and triggers when completing), and the audit events carry the caller.
-- The org is always the verified one (request_org_for('admin')).

-- Start a review of every current member; returns the review as the API
-- shows it.  A second open review is the unique index's 23505, answered as
-- F0409 conflict.
CREATE FUNCTION finicom.access_review_start(p_due_at timestamptz) RETURNS json
    LANGUAGE plpgsql
    SET search_path = ''
    AS $$
    DECLARE
        v_org uuid := finicom.request_org_for('admin');
        v_id uuid;
    BEGIN
        IF v_org IS NULL OR finicom.request_user_id() IS NULL THEN
            RAISE EXCEPTION USING ERRCODE = 'F0403', MESSAGE = 'forbidden',
                DETAIL = 'only an admin of the organization can start an access review';
        END IF;
        IF p_due_at IS NOT NULL AND p_due_at <= pg_catalog.now() THEN
            RAISE EXCEPTION USING ERRCODE = 'F0400', MESSAGE = 'validation_failed',
                DETAIL = 'due_at must be in the future', HINT = 'due_at';
        END IF;
        INSERT INTO finicom.access_reviews (org_id, created_by, due_at)
        VALUES (v_org, finicom.request_user_id(), p_due_at)
        RETURNING id INTO v_id;
        INSERT INTO finicom.access_review_items (org_id, review_id, user_id, role, joined_at, last_active_at)
        SELECT m.org_id, v_id, m.user_id, m.role, m.joined_at, a.last_active_at
        FROM finicom.memberships m
        LEFT JOIN finicom.member_activity a ON a.org_id = m.org_id AND a.user_id = m.user_id
        WHERE m.org_id = v_org;
        RETURN (SELECT v.item FROM finicom.access_review_rows v WHERE v.org_id = v_org AND v.id = v_id);
    EXCEPTION WHEN unique_violation THEN
        RAISE EXCEPTION USING ERRCODE = 'F0409', MESSAGE = 'conflict',
            DETAIL = 'an access review is already open in this organization; complete or cancel it first';
    END
    $$;

-- The review p_id of the verified org, locked for a change; F0404 when
-- there is none, F0409 conflict when it is not open.
CREATE FUNCTION finicom.access_review_lock_open(p_id uuid) RETURNS finicom.access_reviews
    LANGUAGE plpgsql
    SET search_path = ''
    AS $$
    DECLARE
        v finicom.access_reviews%ROWTYPE;
    BEGIN
        SELECT * INTO v FROM finicom.access_reviews r
        WHERE r.org_id = finicom.request_org_for('admin') AND r.id = p_id
        FOR UPDATE;
        IF NOT FOUND THEN
            RAISE EXCEPTION USING ERRCODE = 'F0404', MESSAGE = 'not_found', DETAIL = 'no such access review';
        END IF;
        IF v.status <> 'open' THEN
            RAISE EXCEPTION USING ERRCODE = 'F0409', MESSAGE = 'conflict',
                DETAIL = pg_catalog.format('this access review is %s, not open', v.status);
        END IF;
        RETURN v;
    END
    $$;

-- Decide one item of an open review; returns the item.  F0404 for an
-- unknown review or a user who is not one of its items.
CREATE FUNCTION finicom.access_review_decide(p_id uuid, p_user uuid, p_decision finicom.access_review_decision,
                                             p_new_role finicom.role, p_note text) RETURNS json
    LANGUAGE plpgsql
    SET search_path = ''
    AS $$
    BEGIN
        PERFORM finicom.access_review_lock_open(p_id);
        UPDATE finicom.access_review_items i
        SET decision = p_decision, new_role = p_new_role, note = p_note,
            decided_by = finicom.request_user_id(), decided_at = pg_catalog.now()
        WHERE i.org_id = finicom.request_org_for('admin') AND i.review_id = p_id AND i.user_id = p_user;
        IF NOT FOUND THEN
            RAISE EXCEPTION USING ERRCODE = 'F0404', MESSAGE = 'not_found',
                DETAIL = 'no such member in this access review';
        END IF;
        RETURN (SELECT v.item FROM finicom.access_review_item_rows v
                WHERE v.org_id = finicom.request_org_for('admin') AND v.review_id = p_id AND v.user_id = p_user);
    END
    $$;

-- Complete an open review: apply every change_role (one statement), then
-- every remove, then mark it completed.  F0409 review_incomplete while an
-- item is undecided; F0409 last_admin (from the memberships' constraint
-- trigger) when the result would have no admin, and then nothing is applied:
-- the error aborts the request's transaction.  Returns the review.
CREATE FUNCTION finicom.access_review_complete(p_id uuid) RETURNS json
    LANGUAGE plpgsql
    SET search_path = ''
    AS $$
    DECLARE
        v_org uuid := finicom.request_org_for('admin');
        v_undecided bigint;
        v_changed jsonb;
        v_removed jsonb;
        v_skipped jsonb;
    BEGIN
        PERFORM finicom.access_review_lock_open(p_id);
        SELECT count(*) INTO v_undecided FROM finicom.access_review_items i
        WHERE i.org_id = v_org AND i.review_id = p_id AND i.decision IS NULL;
        IF v_undecided > 0 THEN
            RAISE EXCEPTION USING ERRCODE = 'F0409', MESSAGE = 'review_incomplete',
                DETAIL = pg_catalog.format('%s item(s) of this access review have no decision yet', v_undecided);
        END IF;
        WITH changed AS (
            UPDATE finicom.memberships m SET role = i.new_role
            FROM finicom.access_review_items i
            WHERE i.org_id = v_org AND i.review_id = p_id AND i.decision = 'change_role'
              AND m.org_id = i.org_id AND m.user_id = i.user_id AND m.role <> i.new_role
            RETURNING m.user_id)
        SELECT coalesce(pg_catalog.jsonb_agg(c.user_id ORDER BY c.user_id), '[]') INTO v_changed FROM changed c;
        WITH removed AS (
            DELETE FROM finicom.memberships m
            USING finicom.access_review_items i
            WHERE i.org_id = v_org AND i.review_id = p_id AND i.decision = 'remove'
              AND m.org_id = i.org_id AND m.user_id = i.user_id
            RETURNING m.user_id)
        SELECT coalesce(pg_catalog.jsonb_agg(r.user_id ORDER BY r.user_id), '[]') INTO v_removed FROM removed r;
        SELECT coalesce(pg_catalog.jsonb_agg(i.user_id ORDER BY i.user_id), '[]') INTO v_skipped
        FROM finicom.access_review_items i
        WHERE i.org_id = v_org AND i.review_id = p_id AND i.decision IN ('remove', 'change_role')
          AND NOT EXISTS (SELECT 1 FROM finicom.memberships m WHERE m.org_id = i.org_id AND m.user_id = i.user_id)
          AND NOT v_removed @> pg_catalog.jsonb_build_array(i.user_id);
        -- applied: the completed event's details (audit.capture_access_review).
        UPDATE finicom.access_reviews r
        SET status = 'completed', completed_at = pg_catalog.now(), completed_by = finicom.request_user_id(),
            applied = pg_catalog.jsonb_build_object('removed', v_removed, 'role_changed', v_changed,
                                                    'skipped', v_skipped)
        WHERE r.org_id = v_org AND r.id = p_id;
        RETURN (SELECT v.item FROM finicom.access_review_rows v WHERE v.org_id = v_org AND v.id = p_id);
    END
    $$;

-- Cancel an open review.
CREATE FUNCTION finicom.access_review_cancel(p_id uuid) RETURNS void
    LANGUAGE plpgsql
    SET search_path = ''
    AS $$
    BEGIN
        PERFORM finicom.access_review_lock_open(p_id);
        UPDATE finicom.access_reviews r SET status = 'canceled', canceled_at = pg_catalog.now()
        WHERE r.org_id = finicom.request_org_for('admin') AND r.id = p_id;
    END
    $$;

REVOKE ALL ON FUNCTION finicom.access_review_start(timestamptz), finicom.access_review_lock_open(uuid),
    finicom.access_review_decide(uuid, uuid, finicom.access_review_decision, finicom.role, text),
    finicom.access_review_complete(uuid), finicom.access_review_cancel(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION finicom.access_review_start(timestamptz), finicom.access_review_lock_open(uuid),
    finicom.access_review_decide(uuid, uuid, finicom.access_review_decision, finicom.role, text),
    finicom.access_review_complete(uuid), finicom.access_review_cancel(uuid) TO finicom_app;

-- ---------------------------------------------------------------------
-- The audit trail of reviews.  Items written by the snapshot make no event
-- each (the created event counts them); decisions do.

CREATE FUNCTION audit.capture_access_review() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = ''
    AS $$
    BEGIN
        IF TG_TABLE_NAME = 'access_reviews' THEN
            IF TG_OP = 'INSERT' THEN
                PERFORM audit.append(NEW.org_id, 'access_review.created', 'access_review', NEW.id,
                    pg_catalog.jsonb_build_object('due_at', finicom.ts(NEW.due_at)));
            ELSIF TG_OP = 'UPDATE' AND OLD.status IS DISTINCT FROM NEW.status THEN
                PERFORM audit.append(NEW.org_id, 'access_review.' || NEW.status, 'access_review', NEW.id,
                    pg_catalog.jsonb_build_object('items',
                        (SELECT count(*) FROM finicom.access_review_items i
                         WHERE i.org_id = NEW.org_id AND i.review_id = NEW.id))
                    || coalesce(NEW.applied, '{}'));
            END IF;
        ELSIF TG_OP = 'UPDATE' AND (OLD.decision, OLD.new_role, OLD.note)
                                   IS DISTINCT FROM (NEW.decision, NEW.new_role, NEW.note) THEN
            -- The member's email too: the trail names them after they are gone.
            PERFORM audit.append(NEW.org_id, 'access_review.decided', 'user', NEW.user_id,
                pg_catalog.jsonb_build_object('review_id', NEW.review_id, 'decision', NEW.decision,
                    'new_role', NEW.new_role, 'role', NEW.role, 'note', NEW.note,
                    'email', (SELECT u.email FROM finicom.users u WHERE u.id = NEW.user_id)));
        END IF;
        RETURN NULL;
    END
    $$;
REVOKE ALL ON FUNCTION audit.capture_access_review() FROM PUBLIC;

CREATE TRIGGER zz_audit_access_reviews AFTER INSERT OR UPDATE ON finicom.access_reviews
    FOR EACH ROW EXECUTE FUNCTION audit.capture_access_review();
CREATE TRIGGER zz_audit_access_review_items AFTER UPDATE ON finicom.access_review_items
    FOR EACH ROW EXECUTE FUNCTION audit.capture_access_review();

-- billing.updated for the billing columns only (see the header).
CREATE OR REPLACE FUNCTION audit.capture() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
    DECLARE
        kind text := TG_ARGV[0];
        r record := CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
        v_org uuid;
        v_old jsonb := CASE WHEN TG_OP <> 'INSERT' THEN pg_catalog.to_jsonb(OLD) END;
        v_new jsonb := CASE WHEN TG_OP <> 'DELETE' THEN pg_catalog.to_jsonb(NEW) END;
        v_changed jsonb;
        v_billing text[] := ARRAY['plan', 'billing_email', 'trial_ends_at'];
    BEGIN
        v_org := CASE WHEN kind = 'org' THEN (pg_catalog.to_jsonb(r) ->> 'id')::uuid
                      ELSE (pg_catalog.to_jsonb(r) ->> 'org_id')::uuid END;
        IF kind <> 'org' AND NOT EXISTS (SELECT 1 FROM finicom.orgs o WHERE o.id = v_org) THEN
            RETURN NULL;
        END IF;

        IF kind = 'org' THEN
            IF TG_OP = 'INSERT' THEN
                PERFORM audit.append(v_org, 'org.created', 'org', v_org,
                    pg_catalog.jsonb_build_object('name', NEW.name));
            ELSIF TG_OP = 'DELETE' THEN
                PERFORM audit.append(v_org, 'org.deleted', 'org', v_org,
                    pg_catalog.jsonb_build_object('name', OLD.name));
            ELSE
                v_changed := audit.changed_fields(v_old, v_new, v_billing);
                IF v_changed <> '[]' THEN
                    PERFORM audit.append(v_org, 'org.updated', 'org', v_org,
                        pg_catalog.jsonb_build_object('changed', v_changed,
                            'old', v_old - v_billing - ARRAY['id', 'created_at'],
                            'new', v_new - v_billing - ARRAY['id', 'created_at']));
                END IF;
                v_changed := (SELECT coalesce(pg_catalog.jsonb_agg(k ORDER BY k), '[]'::jsonb)
                              FROM pg_catalog.unnest(v_billing) k
                              WHERE (v_old -> k) IS DISTINCT FROM (v_new -> k));
                IF v_changed <> '[]' THEN
                    PERFORM audit.append(v_org, 'billing.updated', 'org', v_org,
                        pg_catalog.jsonb_build_object('changed', v_changed,
                            'old_plan', OLD.plan, 'new_plan', NEW.plan));
                END IF;
            END IF;

        ELSIF kind = 'member' THEN
            IF TG_OP = 'INSERT' THEN
                PERFORM audit.append(v_org, 'member.added', 'user', NEW.user_id,
                    pg_catalog.jsonb_build_object('role', NEW.role));
            ELSIF TG_OP = 'DELETE' THEN
                PERFORM audit.append(v_org, 'member.removed', 'user', OLD.user_id,
                    pg_catalog.jsonb_build_object('role', OLD.role));
            ELSIF OLD.role IS DISTINCT FROM NEW.role THEN
                PERFORM audit.append(v_org, 'member.role_changed', 'user', NEW.user_id,
                    pg_catalog.jsonb_build_object('old_role', OLD.role, 'new_role', NEW.role));
            END IF;

        ELSIF kind = 'invitation' THEN
            IF TG_OP = 'INSERT' THEN
                PERFORM audit.append(v_org, 'invitation.created', 'invitation', NEW.id,
                    pg_catalog.jsonb_build_object('email', NEW.email, 'role', NEW.role));
            ELSIF TG_OP = 'DELETE' THEN
                PERFORM audit.append(v_org, 'invitation.deleted', 'invitation', OLD.id,
                    pg_catalog.jsonb_build_object('email', OLD.email));
            ELSIF OLD.token_hash IS DISTINCT FROM NEW.token_hash THEN
                -- A resend (which also revives an expired invitation).
                PERFORM audit.append(v_org, 'invitation.resent', 'invitation', NEW.id,
                    pg_catalog.jsonb_build_object('email', NEW.email, 'old_status', OLD.status,
                        'expires_at', finicom.ts(NEW.expires_at)));
            ELSIF OLD.status IS DISTINCT FROM NEW.status THEN
                PERFORM audit.append(v_org, 'invitation.' || NEW.status, 'invitation', NEW.id,
                    pg_catalog.jsonb_build_object('email', NEW.email, 'role', NEW.role,
                        'old_status', OLD.status));
            END IF;

        ELSIF kind = 'api_key' THEN
            IF TG_OP = 'INSERT' THEN
                PERFORM audit.append(v_org, 'api_key.created', 'api_key', NEW.id,
                    pg_catalog.jsonb_build_object('name', NEW.name, 'role', NEW.role, 'prefix', NEW.prefix));
            ELSIF TG_OP = 'DELETE' THEN
                PERFORM audit.append(v_org, 'api_key.deleted', 'api_key', OLD.id,
                    pg_catalog.jsonb_build_object('name', OLD.name));
            ELSIF OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL THEN
                PERFORM audit.append(v_org, 'api_key.revoked', 'api_key', NEW.id,
                    pg_catalog.jsonb_build_object('name', NEW.name, 'role', NEW.role));
            END IF;

        ELSIF kind = 'sync_run' THEN
            IF TG_OP = 'INSERT' THEN
                PERFORM audit.append(v_org, 'connection.sync_requested', 'connection',
                    (v_new ->> 'connection_id')::uuid,
                    pg_catalog.jsonb_build_object('run_id', v_new ->> 'id'));
            END IF;

        ELSIF kind = 'connection_integration' THEN
            PERFORM audit.append(v_org, 'connection.updated', 'connection',
                (pg_catalog.to_jsonb(r) ->> 'connection_id')::uuid,
                pg_catalog.jsonb_build_object(
                    CASE WHEN TG_OP = 'DELETE' THEN 'integration_removed' ELSE 'integration_added' END,
                    pg_catalog.to_jsonb(r) ->> 'integration_id'));

        ELSE
            -- Data objects: source, integration, destination, connection.
            -- Field names only: config values may be secrets.
            IF TG_OP = 'INSERT' THEN
                PERFORM audit.append(v_org, kind || '.created', kind, (v_new ->> 'id')::uuid,
                    pg_catalog.jsonb_build_object('name', v_new ->> 'name'));
            ELSIF TG_OP = 'DELETE' THEN
                PERFORM audit.append(v_org, kind || '.deleted', kind, (v_old ->> 'id')::uuid,
                    pg_catalog.jsonb_build_object('name', v_old ->> 'name'));
            ELSE
                v_changed := audit.changed_fields(v_old, v_new, ARRAY['updated_at', 'config_masked']);
                IF v_changed <> '[]' THEN
                    PERFORM audit.append(v_org, kind || '.updated', kind, (v_new ->> 'id')::uuid,
                        pg_catalog.jsonb_build_object('name', v_new ->> 'name', 'changed', v_changed));
                END IF;
            END IF;
        END IF;
        RETURN NULL;
    END
    $$;

-- ---------------------------------------------------------------------
-- begin_request: the member's activity stamp without a row lock when it
-- is fresh (the comment inside, marked "0025").  Otherwise as 0024 left it
-- (with 0023's two-factor lines and 0024's expiry condition).

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
            -- 0025: the stamp only when it is due.  INSERT ... ON CONFLICT DO
            -- UPDATE locks the row even when its WHERE skips the update, so
            -- every request held the member's activity row until it ended,
            -- and a long one (the audit export) held all of that member's
            -- other requests to the org.  A fresh stamp is now only read.
            IF v_org IS NOT NULL AND NOT v_2fa -- 0023: a refused request is no activity
               AND NOT EXISTS (
                SELECT 1 FROM finicom.member_activity a
                WHERE a.org_id = v_org AND a.user_id = v_user.id
                  AND a.last_active_at >= pg_catalog.now() - interval '1 minute') THEN
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

-- ---------------------------------------------------------------------
-- The reminder job.

-- Mail every admin of each org whose review is overdue, at most once a
-- week per org; returns the number of orgs reminded.  Runs as the system
-- actor (its access_review.reminded events say pg_cron).
CREATE FUNCTION finicom.access_review_remind() RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = ''
    AS $$
    DECLARE
        n integer;
    BEGIN
        PERFORM finicom.context_seal('system', NULL, NULL, NULL, NULL, NULL);
        WITH due AS (
            SELECT o.id, o.name, o.access_review_interval_days AS days,
                   coalesce((SELECT max(r.completed_at) FROM finicom.access_reviews r
                             WHERE r.org_id = o.id AND r.status = 'completed'), o.created_at) AS last_review
            FROM finicom.orgs o
            LEFT JOIN finicom.access_review_reminders s ON s.org_id = o.id
            WHERE o.access_review_interval_days > 0
              AND (s.sent_at IS NULL OR s.sent_at <= pg_catalog.now() - interval '7 days')
        ), claimed AS (
            -- Two runs at once: the second waits on the row and then sees a
            -- fresh sent_at, so it claims nothing.
            INSERT INTO finicom.access_review_reminders AS s (org_id, sent_at)
            SELECT d.id, pg_catalog.now() FROM due d
            WHERE d.last_review < pg_catalog.now() - pg_catalog.make_interval(days => d.days)
            ON CONFLICT (org_id) DO UPDATE SET sent_at = excluded.sent_at
            WHERE s.sent_at <= pg_catalog.now() - interval '7 days'
            RETURNING s.org_id
        ), mails AS (
            INSERT INTO finicom.mail_outbox (org_id, recipient, subject, body, message_id)
            SELECT d.id, u.email,
                pg_catalog.format('Access review due for %s on Finicom', d.name),
                pg_catalog.format(E'Hello %s,\n\nThe members of the organization "%s" on Finicom were last reviewed\n%s (UTC); the organization asks for a review every %s days.\n\nOpen the dashboard, choose "Access reviews" and start a review: decide\nfor each member to keep them, remove them or change their role.\n\nYou get this mail because you are an admin of "%s"; it comes at most\nonce a week until a review is completed.\n',
                    u.name, d.name, pg_catalog.to_char(d.last_review AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'),
                    d.days, d.name),
                '<' || pg_catalog.gen_random_uuid() || '@finicom.invalid>'
            FROM claimed c
            JOIN due d ON d.id = c.org_id
            JOIN finicom.memberships m ON m.org_id = d.id AND m.role = 'admin'
                AND (m.expires_at IS NULL OR m.expires_at > pg_catalog.now()) -- an expired admin is none (0024)
            JOIN finicom.users u ON u.id = m.user_id
            RETURNING org_id
        ), events AS (
            SELECT audit.append(c.org_id, 'access_review.reminded', 'org', c.org_id,
                       pg_catalog.jsonb_build_object('admins',
                           (SELECT count(*) FROM mails x WHERE x.org_id = c.org_id)))
            FROM claimed c
        )
        SELECT count(*) INTO n FROM events;
        IF n > 0 THEN
            PERFORM pg_catalog.pg_notify('finicom_mail', '');
        END IF;
        RETURN n;
    END
    $$;
REVOKE ALL ON FUNCTION finicom.access_review_remind() FROM PUBLIC;

-- ---------------------------------------------------------------------
-- For DBAs: who reviewed what, when, with which decisions.  One row per
-- item of every review; read by finicom_auditor with the owner's rights,
-- like audit.access_review.

CREATE VIEW audit.access_reviews WITH (security_barrier = true) AS
    SELECT o.id AS org_id, o.name AS org_name,
           r.id AS review_id, r.status, r.created_at AS started_at, cu.email AS started_by,
           r.due_at, r.completed_at, du.email AS completed_by, r.canceled_at,
           i.user_id, u.email, i.role, i.last_active_at,
           i.decision, i.new_role, i.decided_at, de.email AS decided_by, i.note
    FROM finicom.access_reviews r
    JOIN finicom.orgs o ON o.id = r.org_id
    LEFT JOIN finicom.users cu ON cu.id = r.created_by
    LEFT JOIN finicom.users du ON du.id = r.completed_by
    LEFT JOIN finicom.access_review_items i ON i.org_id = r.org_id AND i.review_id = r.id
    LEFT JOIN finicom.users u ON u.id = i.user_id
    LEFT JOIN finicom.users de ON de.id = i.decided_by;
GRANT SELECT ON audit.access_reviews TO finicom_auditor;

-- ---------------------------------------------------------------------
-- finicom-access-review-reminders: the pg_cron job, with the guards of
-- 0005_cron.sql.  To add it later, as a superuser:
-- SELECT cron.schedule('finicom-access-review-reminders', '* * * * *',
--                      'SELECT finicom.access_review_remind()');
RESET ROLE;
DO $$
BEGIN
    IF pg_catalog.current_setting('finicom.without_pg_cron', true) = 'on' THEN
        RAISE WARNING 'pg_cron job finicom-access-review-reminders not installed (--without-pg-cron)';
        RETURN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_extension WHERE extname = 'pg_cron') THEN
        RAISE WARNING 'pg_cron job finicom-access-review-reminders not installed: pg_cron is not installed in this database';
        RETURN;
    END IF;
    PERFORM cron.schedule('finicom-access-review-reminders', '* * * * *',
                          'SELECT finicom.access_review_remind()');
END
$$;
