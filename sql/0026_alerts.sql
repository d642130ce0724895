-- migrate: superuser
-- 0026_alerts: activity alerts, raised by the database as events are written.
--
-- Rules (a fixed set, each on unless an admin turns it off for the org):
--   admin_granted          someone became admin (member.added with role admin,
--                          member.role_changed to admin)
--   admin_api_key_created  api_key.created with role admin
--   mass_removal           5 or more member.removed in one org in 10 minutes
--   failed_logins          10 or more login.failed for one account's email in
--                          10 minutes (audit.auth_events); raised in every
--                          org that account is a member of
--   db_change              an event with actor db (made in psql, not
--                          through the API or a job)
--   audit_chain_broken     found by finicom-verify-audit-recent, a pg_cron
--                          job that verifies the recent part of each org's
--                          hash chain every minute
-- Events written in the transaction that created their org (the org's own
-- org.created and its first admin, also when the operator makes it with
-- finicomctl create-org) never raise an alert.
--
-- How rules are evaluated.  AFTER INSERT row triggers on audit.events and
-- audit.auth_events, with WHEN clauses that only let through the few
-- events a rule can be about: a typical write (a source created by a
-- member) does not even call a function.  What passes runs in the
-- writer's transaction, so an alert exists exactly when its events commit.
--
-- Never a failed write.  The rule code runs inside an exception block (a
-- subtransaction): whatever goes wrong in it (a bug, a full outbox, a lock
-- it waits for more than lock_timeout = 2 s) is rolled back alone and
-- logged as a WARNING, and the write goes on.  Only the cancel of the
-- whole statement (statement_timeout, pg_cancel_backend) is not caught,
-- and that cancels the write anyway.  tests/sql/26-alerts.sql breaks the
-- rule function on purpose and removes a member.
--
-- Grouping and mail.  finicom.alert_raise(org, rule, event_ids, summary):
-- an open (unacknowledged) alert of the same org and rule raised less than
-- 10 minutes ago takes the events (event_ids grow, no mail); otherwise a
-- new alert, and a mail to each admin of the org through the outbox, unless
-- a mail of that org and rule went out less than 10 minutes ago (an alert
-- acknowledged within minutes: the new one is listed, not mailed).  So at
-- most one mail per rule per org per 10 minutes.  Callers of one org and
-- rule take turns on a transaction advisory lock, so two writers cannot
-- both open an alert.
--
-- Stored alerts and rule settings are tenant tables: row-level security
-- for the org's admins, O(1) per statement (the request's verified org in
-- an InitPlan).  Acknowledging is an UPDATE of acknowledged_at by the API;
-- a trigger stamps who did it from the verified context and writes the
-- alert.acknowledged event.  Rule changes write alert_rule.updated.

SET LOCAL ROLE finicom_owner;

-- ---------------------------------------------------------------------
-- The rules.

-- The rules, in the order the API lists them.
CREATE FUNCTION finicom.alert_rule_names() RETURNS text[]
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT ARRAY['admin_granted', 'admin_api_key_created', 'mass_removal', 'failed_logins',
                       'db_change', 'audit_chain_broken'] $$;
GRANT EXECUTE ON FUNCTION finicom.alert_rule_names() TO finicom_app;

CREATE TABLE finicom.alerts (
    id                    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id                uuid NOT NULL REFERENCES finicom.orgs (id) ON DELETE CASCADE,
    rule                  text NOT NULL CHECK (rule = ANY (finicom.alert_rule_names())),
    at                    timestamptz NOT NULL DEFAULT clock_timestamp(),
    summary               text NOT NULL CHECK (char_length(summary) BETWEEN 1 AND 500),
    -- audit.events ids; for failed_logins, audit.auth_events ids; the
    -- first 100 (a full alert takes no more, so it is no longer written).
    event_ids             uuid[] NOT NULL CHECK (cardinality(event_ids) <= 100),
    mailed                boolean NOT NULL,
    acknowledged_at       timestamptz,
    acknowledged_by_type  text CHECK (acknowledged_by_type IN ('user', 'api_key', 'db')),
    acknowledged_by_id    uuid,
    acknowledged_by_label text
);
-- The API lists newest first; the rules look for the open alert of a rule.
CREATE INDEX alerts_org_at_idx ON finicom.alerts (org_id, at DESC, id DESC);
CREATE INDEX alerts_org_rule_idx ON finicom.alerts (org_id, rule, at DESC);

CREATE TABLE finicom.alert_rule_settings (
    org_id     uuid NOT NULL REFERENCES finicom.orgs (id) ON DELETE CASCADE,
    rule       text NOT NULL CHECK (rule = ANY (finicom.alert_rule_names())),
    enabled    boolean NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, rule)
);

ALTER TABLE finicom.alerts ENABLE ROW LEVEL SECURITY;
ALTER TABLE finicom.alerts FORCE ROW LEVEL SECURITY;
ALTER TABLE finicom.alert_rule_settings ENABLE ROW LEVEL SECURITY;
ALTER TABLE finicom.alert_rule_settings FORCE ROW LEVEL SECURITY;

CREATE POLICY alerts_owner ON finicom.alerts TO finicom_owner USING (true) WITH CHECK (true);
CREATE POLICY alerts_app_select ON finicom.alerts FOR SELECT TO finicom_app
    USING (org_id = (SELECT finicom.request_org_for('admin')));
CREATE POLICY alerts_app_update ON finicom.alerts FOR UPDATE TO finicom_app
    USING (org_id = (SELECT finicom.request_org_for('admin')))
    WITH CHECK (org_id = (SELECT finicom.request_org_for('admin')));
CREATE POLICY alert_rule_settings_owner ON finicom.alert_rule_settings TO finicom_owner
    USING (true) WITH CHECK (true);
CREATE POLICY alert_rule_settings_app_select ON finicom.alert_rule_settings FOR SELECT TO finicom_app
    USING (org_id = (SELECT finicom.request_org_for('admin')));
CREATE POLICY alert_rule_settings_app_insert ON finicom.alert_rule_settings FOR INSERT TO finicom_app
    WITH CHECK (org_id = (SELECT finicom.request_org_for('admin')));
CREATE POLICY alert_rule_settings_app_update ON finicom.alert_rule_settings FOR UPDATE TO finicom_app
    USING (org_id = (SELECT finicom.request_org_for('admin')))
    WITH CHECK (org_id = (SELECT finicom.request_org_for('admin')));

REVOKE ALL ON finicom.alerts, finicom.alert_rule_settings FROM PUBLIC;
GRANT SELECT, UPDATE (acknowledged_at) ON finicom.alerts TO finicom_app;
GRANT SELECT, INSERT (org_id, rule, enabled), UPDATE (enabled, updated_at)
    ON finicom.alert_rule_settings TO finicom_app;
GRANT SELECT ON finicom.alerts, finicom.alert_rule_settings TO finicom_auditor;

-- An alert as the API shows it.
CREATE FUNCTION finicom.alert_json(a finicom.alerts) RETURNS json
    LANGUAGE sql STABLE
    AS $$
        SELECT pg_catalog.json_build_object(
            'id', a.id, 'rule', a.rule, 'at', finicom.ts(a.at), 'summary', a.summary,
            'event_ids', pg_catalog.to_json(a.event_ids),
            'status', CASE WHEN a.acknowledged_at IS NULL THEN 'open' ELSE 'acknowledged' END,
            'acknowledged_by', CASE WHEN a.acknowledged_at IS NOT NULL THEN
                pg_catalog.json_build_object('type', a.acknowledged_by_type, 'id', a.acknowledged_by_id,
                                             'label', a.acknowledged_by_label) END,
            'acknowledged_at', finicom.ts(a.acknowledged_at))
    $$;
GRANT EXECUTE ON FUNCTION finicom.alert_json(finicom.alerts) TO finicom_app;

-- The org's rules, {rules: [{rule, enabled}]}, as row-level security lets
-- the caller see its settings (an admin of the org).
CREATE FUNCTION finicom.alert_rules_json(p_org uuid) RETURNS json
    LANGUAGE sql STABLE
    AS $$
        SELECT pg_catalog.json_build_object('rules', pg_catalog.json_agg(
                   pg_catalog.json_build_object('rule', r.rule, 'enabled', coalesce(s.enabled, true))
                   ORDER BY r.n))
        FROM pg_catalog.unnest(finicom.alert_rule_names()) WITH ORDINALITY AS r (rule, n)
        LEFT JOIN finicom.alert_rule_settings s ON s.org_id = p_org AND s.rule = r.rule
    $$;
GRANT EXECUTE ON FUNCTION finicom.alert_rules_json(uuid) TO finicom_app;

-- ---------------------------------------------------------------------
-- Raising an alert.

-- What each rule is about, for the mail.
CREATE FUNCTION finicom.alert_rule_text(p_rule text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
        SELECT CASE p_rule
            WHEN 'admin_granted' THEN 'someone became an admin'
            WHEN 'admin_api_key_created' THEN 'an API key with the admin role was created'
            WHEN 'mass_removal' THEN '5 or more members removed in 10 minutes'
            WHEN 'failed_logins' THEN '10 or more failed sign-ins for one member''s email in 10 minutes'
            WHEN 'db_change' THEN 'a change made directly in the database, not through the API'
            WHEN 'audit_chain_broken' THEN 'the audit trail''s hash chain does not verify'
        END
    $$;

-- Raise (or group) an alert of rule p_rule in org p_org about the events
-- p_event_ids, described by p_summary; see the grouping rule at the top.
-- A new alert takes every id; an open one only the last, the event that
-- made this call (the counting rules pass the whole window, that one last).
-- Does nothing when the org has turned the rule off.  Counting rules
-- (mass_removal, failed_logins) pass a summary with the count so far,
-- which replaces the open alert's; the others keep their first summary.
-- Owner only: the rule triggers and the verification job call it.
CREATE FUNCTION finicom.alert_raise(p_org uuid, p_rule text, p_event_ids uuid[], p_summary text)
    RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = '' SET lock_timeout = '2s'
    AS $$
    DECLARE
        v_alert finicom.alerts%ROWTYPE;
        v_now timestamptz := pg_catalog.clock_timestamp();
        v_summary text := pg_catalog.left(pg_catalog.regexp_replace(p_summary, '[[:cntrl:]]+', ' ', 'g'), 500);
        v_new uuid[];
        v_mail boolean;
        v_org_name text;
    BEGIN
        IF EXISTS (SELECT FROM finicom.alert_rule_settings s
                   WHERE s.org_id = p_org AND s.rule = p_rule AND NOT s.enabled) THEN
            RETURN;
        END IF;
        -- An open alert to join: looked up without a lock; only opening a
        -- new one takes the org's rule lock (held to commit, so a second
        -- writer waits and then finds the first one's alert).
        SELECT * INTO v_alert FROM finicom.alerts a
        WHERE a.org_id = p_org AND a.rule = p_rule AND a.acknowledged_at IS NULL
          AND a.at > v_now - interval '10 minutes'
        ORDER BY a.at DESC LIMIT 1;
        IF NOT FOUND THEN
            PERFORM pg_catalog.pg_advisory_xact_lock(
                pg_catalog.hashtextextended('finicom alert ' || p_org || ' ' || p_rule, 0));
            SELECT * INTO v_alert FROM finicom.alerts a
            WHERE a.org_id = p_org AND a.rule = p_rule AND a.acknowledged_at IS NULL
              AND a.at > v_now - interval '10 minutes'
            ORDER BY a.at DESC LIMIT 1;
        END IF;
        IF FOUND THEN
            -- The event that made this call (the last id) joins the alert;
            -- a full one (100 events) is left as it is, unless its summary
            -- counts (mass_removal, failed_logins: rare events).  So a burst
            -- of psql changes writes the alert row 100 times, not once per
            -- event, and its writers stop taking turns on that row.
            v_new := ARRAY(SELECT x FROM pg_catalog.unnest(p_event_ids[pg_catalog.cardinality(p_event_ids):]) x
                           WHERE x IS NOT NULL AND NOT (x = ANY (v_alert.event_ids)));
            IF pg_catalog.cardinality(v_alert.event_ids) >= 100 AND p_rule NOT IN ('mass_removal', 'failed_logins') THEN
                RETURN;
            END IF;
            UPDATE finicom.alerts a
            SET event_ids = CASE WHEN pg_catalog.cardinality(a.event_ids) + pg_catalog.cardinality(v_new) <= 100
                                 THEN a.event_ids || v_new ELSE a.event_ids END,
                summary = CASE WHEN p_rule IN ('mass_removal', 'failed_logins') THEN v_summary ELSE a.summary END
            WHERE a.id = v_alert.id;
            RETURN;
        END IF;
        v_mail := NOT EXISTS (SELECT FROM finicom.alerts a
                              WHERE a.org_id = p_org AND a.rule = p_rule AND a.mailed
                                AND a.at > v_now - interval '10 minutes');
        v_new := ARRAY(SELECT u.x FROM pg_catalog.unnest(p_event_ids) WITH ORDINALITY AS u (x, n)
                       WHERE u.x IS NOT NULL GROUP BY u.x ORDER BY min(u.n));
        INSERT INTO finicom.alerts (org_id, rule, at, summary, event_ids, mailed)
        VALUES (p_org, p_rule, v_now, v_summary, v_new[1:100], v_mail)
        RETURNING * INTO v_alert;
        IF NOT v_mail THEN
            RETURN;
        END IF;
        SELECT o.name INTO v_org_name FROM finicom.orgs o WHERE o.id = p_org;
        -- One mail per admin of the org, and to nobody else.
        INSERT INTO finicom.mail_outbox (org_id, recipient, subject, body, message_id)
        SELECT p_org, u.email,
            pg_catalog.left(pg_catalog.format('Finicom alert in %s: %s', v_org_name, v_summary), 250),
            pg_catalog.format(E'Hello %s,\n\nAn activity alert was raised in the organization "%s" on Finicom:\n\n  %s\n\nRule: %s (%s)\nTime: %s (UTC)\nAlert: %s\n\nFurther events of this rule in the next 10 minutes are added to this\nalert without another email.  Review and acknowledge it on the Alerts\npage of the dashboard; an admin can turn rules off there too.\n',
                u.name, v_org_name, v_summary, p_rule, finicom.alert_rule_text(p_rule),
                pg_catalog.to_char(v_now AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'), v_alert.id),
            '<' || pg_catalog.gen_random_uuid() || '@finicom.invalid>'
        FROM finicom.memberships m JOIN finicom.users u ON u.id = m.user_id
        WHERE m.org_id = p_org AND m.role = 'admin'
          AND (m.expires_at IS NULL OR m.expires_at > pg_catalog.now()); -- an expired admin is none (0024)
        PERFORM pg_catalog.pg_notify('finicom_mail', '');
    END
    $$;

-- Was org p_org created in this transaction?  Its founding events alert nobody.
CREATE FUNCTION finicom.org_created_now(p_org uuid) RETURNS boolean
    LANGUAGE sql STABLE
    AS $$ SELECT coalesce((SELECT o.created_at = pg_catalog.now() FROM finicom.orgs o WHERE o.id = p_org), true) $$;

-- The rules about one audit event (audit.events AFTER INSERT; the WHEN
-- clause of the trigger lets through only events a rule is about).
-- Errors are caught: an alert never makes the write fail.
CREATE FUNCTION audit.alerts_on_event() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
    AS $$
    DECLARE
        v_ids uuid[];
        v_label text;
    BEGIN
        BEGIN
            IF finicom.org_created_now(NEW.org_id) THEN
                RETURN NULL;
            END IF;
            IF NEW.actor_type = 'db' THEN
                PERFORM finicom.alert_raise(NEW.org_id, 'db_change', ARRAY[NEW.id],
                    pg_catalog.format('%s by database role %s, not through the API', NEW.action, NEW.actor_label));
            END IF;
            IF (NEW.action = 'member.added' AND NEW.details ->> 'role' = 'admin')
               OR (NEW.action = 'member.role_changed' AND NEW.details ->> 'new_role' = 'admin') THEN
                v_label := (SELECT u.email FROM finicom.users u WHERE u.id = NEW.target_id);
                PERFORM finicom.alert_raise(NEW.org_id, 'admin_granted', ARRAY[NEW.id],
                    pg_catalog.format('%s became an admin (%s by %s)', coalesce(v_label, 'a user'),
                        NEW.action, coalesce(NEW.actor_label, NEW.actor_type)));
            ELSIF NEW.action = 'api_key.created' AND NEW.details ->> 'role' = 'admin' THEN
                PERFORM finicom.alert_raise(NEW.org_id, 'admin_api_key_created', ARRAY[NEW.id],
                    pg_catalog.format('admin API key "%s" created by %s', NEW.details ->> 'name',
                        coalesce(NEW.actor_label, NEW.actor_type)));
            ELSIF NEW.action = 'member.removed' THEN
                v_ids := ARRAY(SELECT e.id FROM audit.events e
                               WHERE e.org_id = NEW.org_id AND e.action = 'member.removed' AND e.id <> NEW.id
                                 AND e.at > pg_catalog.clock_timestamp() - interval '10 minutes'
                               ORDER BY e.at, e.id LIMIT 999) || NEW.id;
                IF pg_catalog.cardinality(v_ids) >= 5 THEN
                    PERFORM finicom.alert_raise(NEW.org_id, 'mass_removal', v_ids,
                        pg_catalog.format('%s members removed in 10 minutes', pg_catalog.cardinality(v_ids)));
                END IF;
            END IF;
        EXCEPTION WHEN OTHERS THEN
            RAISE WARNING 'activity alert not evaluated for audit event % (%): %', NEW.id, NEW.action, SQLERRM;
        END;
        RETURN NULL;
    END
    $$;
CREATE TRIGGER events_alerts AFTER INSERT ON audit.events
    FOR EACH ROW
    WHEN (NEW.actor_type = 'db'
          OR NEW.action IN ('member.added', 'member.role_changed', 'member.removed', 'api_key.created'))
    EXECUTE FUNCTION audit.alerts_on_event();

-- failed_logins (audit.auth_events AFTER INSERT of a login.failed for an
-- existing account): the 10th failure in 10 minutes and every later one,
-- in each org the account is a member of.  Errors are caught.
CREATE FUNCTION audit.alerts_on_auth_event() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
    AS $$
    DECLARE
        v_ids uuid[];
        v_org uuid;
    BEGIN
        BEGIN
            v_ids := ARRAY(SELECT a.id FROM audit.auth_events a
                           WHERE a.user_id = NEW.user_id AND a.event = 'login.failed' AND a.id <> NEW.id
                             AND a.at > pg_catalog.clock_timestamp() - interval '10 minutes'
                           ORDER BY a.at, a.id LIMIT 999) || NEW.id;
            IF pg_catalog.cardinality(v_ids) >= 10 THEN
                FOR v_org IN SELECT m.org_id FROM finicom.memberships m WHERE m.user_id = NEW.user_id LOOP
                    PERFORM finicom.alert_raise(v_org, 'failed_logins', v_ids,
                        pg_catalog.format('%s failed sign-ins for %s in 10 minutes (last from %s)',
                            pg_catalog.cardinality(v_ids),
                            (SELECT u.email FROM finicom.users u WHERE u.id = NEW.user_id),
                            coalesce(NEW.ip, 'an unknown address')));
                END LOOP;
            END IF;
        EXCEPTION WHEN OTHERS THEN
            RAISE WARNING 'activity alert not evaluated for auth event %: %', NEW.id, SQLERRM;
        END;
        RETURN NULL;
    END
    $$;
CREATE TRIGGER auth_events_alerts AFTER INSERT ON audit.auth_events
    FOR EACH ROW
    WHEN (NEW.event = 'login.failed' AND NEW.user_id IS NOT NULL)
    EXECUTE FUNCTION audit.alerts_on_auth_event();

-- ---------------------------------------------------------------------
-- Acknowledging, and the rule settings: audited.

-- BEFORE UPDATE of an alert: acknowledging stamps who did it from the
-- verified context (db when there is none: a DBA in psql) and records
-- alert.acknowledged; an acknowledgement is never taken back.
CREATE FUNCTION finicom.alert_acknowledge_stamp() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
    AS $$
    DECLARE
        v_type text := finicom.request_actor_type();
    BEGIN
        IF OLD.acknowledged_at IS NOT NULL THEN
            IF NEW.acknowledged_at IS DISTINCT FROM OLD.acknowledged_at
               OR NEW.acknowledged_by_type IS DISTINCT FROM OLD.acknowledged_by_type
               OR NEW.acknowledged_by_id IS DISTINCT FROM OLD.acknowledged_by_id
               OR NEW.acknowledged_by_label IS DISTINCT FROM OLD.acknowledged_by_label THEN
                RAISE EXCEPTION 'an acknowledged alert stays acknowledged' USING ERRCODE = 'F0409';
            END IF;
            RETURN NEW;
        END IF;
        IF NEW.acknowledged_at IS NULL THEN
            RETURN NEW;
        END IF;
        NEW.acknowledged_at := pg_catalog.clock_timestamp();
        IF v_type IS NULL OR v_type = 'system' THEN
            NEW.acknowledged_by_type := 'db';
            NEW.acknowledged_by_id := NULL;
            NEW.acknowledged_by_label := session_user;
        ELSE
            NEW.acknowledged_by_type := v_type;
            NEW.acknowledged_by_id := finicom.request_actor_id();
            NEW.acknowledged_by_label := CASE v_type
                WHEN 'user' THEN (SELECT u.email FROM finicom.users u WHERE u.id = NEW.acknowledged_by_id)
                ELSE (SELECT k.name FROM finicom.api_keys k WHERE k.id = NEW.acknowledged_by_id) END;
        END IF;
        PERFORM audit.append(NEW.org_id, 'alert.acknowledged', 'alert', NEW.id,
            pg_catalog.jsonb_build_object('rule', NEW.rule, 'summary', NEW.summary));
        RETURN NEW;
    END
    $$;
CREATE TRIGGER alerts_acknowledge BEFORE UPDATE ON finicom.alerts
    FOR EACH ROW EXECUTE FUNCTION finicom.alert_acknowledge_stamp();

-- AFTER INSERT OR UPDATE of a rule setting: alert_rule.updated when the
-- rule's state changed (a missing row is an enabled rule).
CREATE FUNCTION finicom.alert_rule_audit() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
    AS $$
    BEGIN
        IF NEW.enabled IS DISTINCT FROM (CASE WHEN TG_OP = 'UPDATE' THEN OLD.enabled ELSE true END) THEN
            PERFORM audit.append(NEW.org_id, 'alert_rule.updated', 'org', NEW.org_id,
                pg_catalog.jsonb_build_object('rule', NEW.rule, 'enabled', NEW.enabled));
        END IF;
        RETURN NULL;
    END
    $$;
CREATE TRIGGER alert_rule_settings_audit AFTER INSERT OR UPDATE ON finicom.alert_rule_settings
    FOR EACH ROW EXECUTE FUNCTION finicom.alert_rule_audit();

-- ---------------------------------------------------------------------
-- audit_chain_broken: verifying the recent part of each chain.

-- audit.verify_chain(org) of 0010, from event p_from on: the same checks
-- (seq p_from, p_from + 1, ... without a gap, each prev_hash the hash
-- before, each hash sha256(prev_hash || canonical event), the head the
-- last event), starting from the hash of event p_from - 1 as it is
-- stored (none before event 1).  events is the number of events checked.
-- With p_from = 1 it is the whole chain, and audit.verify_chain is now
-- exactly that: one verification for finicomctl verify-audit and the job.
CREATE FUNCTION audit.verify_chain_from(p_org uuid, p_from bigint)
    RETURNS TABLE (ok boolean, events bigint, first_bad_seq bigint, first_bad_id uuid, reason text,
                   pending bigint, oldest_pending_at timestamptz)
    LANGUAGE plpgsql STABLE SET search_path = ''
    AS $$
    DECLARE
        e audit.events%ROWTYPE;
        v_from bigint := GREATEST(p_from, 1);
        v_prev bytea := '\x0000000000000000000000000000000000000000000000000000000000000000';
        v_expect bigint;
        v_head audit.chain_heads%ROWTYPE;
        v_pending bigint;
        v_oldest timestamptz;
    BEGIN
        SELECT count(*), min(x.at) INTO v_pending, v_oldest
        FROM audit.events x WHERE x.org_id = p_org AND x.seq IS NULL;
        IF v_from > 1 THEN
            SELECT x.hash INTO v_prev FROM audit.events x WHERE x.org_id = p_org AND x.seq = v_from - 1;
            IF NOT FOUND THEN
                -- Nothing that far back: verify from the first event present.
                v_from := 1;
                v_prev := '\x0000000000000000000000000000000000000000000000000000000000000000';
            END IF;
        END IF;
        v_expect := v_from;
        FOR e IN SELECT * FROM audit.events x WHERE x.org_id = p_org AND x.seq >= v_from ORDER BY x.seq LOOP
            IF e.seq <> v_expect THEN
                RETURN QUERY SELECT false, v_expect - v_from, e.seq, e.id,
                    pg_catalog.format('event %s is missing before this one', v_expect), v_pending, v_oldest;
                RETURN;
            END IF;
            IF e.prev_hash <> v_prev THEN
                RETURN QUERY SELECT false, v_expect - v_from, e.seq, e.id,
                    'prev_hash does not match the event before'::text, v_pending, v_oldest;
                RETURN;
            END IF;
            IF e.hash <> pg_catalog.sha256(v_prev || audit.canonical(e)) THEN
                RETURN QUERY SELECT false, v_expect - v_from, e.seq, e.id,
                    'the event was changed after it was written'::text, v_pending, v_oldest;
                RETURN;
            END IF;
            v_prev := e.hash;
            v_expect := v_expect + 1;
        END LOOP;
        SELECT * INTO v_head FROM audit.chain_heads h WHERE h.org_id = p_org;
        IF FOUND AND (v_head.seq <> v_expect - 1 OR v_head.hash <> v_prev) THEN
            RETURN QUERY SELECT false, v_expect - v_from, v_expect, NULL::uuid,
                'events after the last one present are missing'::text, v_pending, v_oldest;
            RETURN;
        END IF;
        IF NOT FOUND AND v_expect > 1 THEN
            RETURN QUERY SELECT false, v_expect - v_from, v_expect, NULL::uuid,
                'the chain head is missing'::text, v_pending, v_oldest;
            RETURN;
        END IF;
        RETURN QUERY SELECT true, v_expect - v_from, NULL::bigint, NULL::uuid, NULL::text, v_pending, v_oldest;
    END
    $$;
GRANT EXECUTE ON FUNCTION audit.verify_chain_from(uuid, bigint) TO finicom_auditor;

CREATE OR REPLACE FUNCTION audit.verify_chain(p_org uuid)
    RETURNS TABLE (ok boolean, events bigint, first_bad_seq bigint, first_bad_id uuid, reason text,
                   pending bigint, oldest_pending_at timestamptz)
    LANGUAGE sql STABLE SET search_path = ''
    AS $$ SELECT * FROM audit.verify_chain_from(p_org, 1) $$;

-- What the job last found, per org: the head it verified up to, when, and
-- the break it last raised an alert for (so a break is raised once, and
-- again only if it moves).
CREATE TABLE audit.chain_checks (
    org_id     uuid PRIMARY KEY,
    head_seq   bigint NOT NULL,
    checked_at timestamptz NOT NULL,
    bad_seq    bigint,
    bad_reason text
);
ALTER TABLE audit.chain_checks ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit.chain_checks FORCE ROW LEVEL SECURITY;
CREATE POLICY chain_checks_owner ON audit.chain_checks TO finicom_owner USING (true) WITH CHECK (true);
CREATE POLICY chain_checks_auditor ON audit.chain_checks FOR SELECT TO finicom_auditor USING (true);
REVOKE ALL ON audit.chain_checks FROM PUBLIC;
GRANT SELECT ON audit.chain_checks TO finicom_auditor;

-- The job: verify the recent part of the chains, and raise
-- audit_chain_broken for a break not raised before.  Which orgs, and from
-- which event:
--   - an org never checked: its last p_events events;
--   - an org whose head moved since its last check: from p_overlap events
--     before the head it was last checked at, so every new event and the
--     last p_overlap old ones are checked again;
--   - an org not checked for 10 minutes: its last p_events events again;
-- at most p_orgs orgs a run, in that order (oldest check first within
-- each).  Returns the number of orgs checked.  Bounded: at most p_orgs x
-- (p_events, or the new events plus p_overlap) hashes a run, so it stays
-- cheap however long the chains grow; the whole chain is finicomctl
-- verify-audit's.  With p_org: that org only, its last p_events, whenever
-- it was last checked (a DBA's check, and the tests').  Each org in a
-- subtransaction: one that cannot be read does not stop the others.
CREATE FUNCTION audit.verify_recent_chains(p_events integer DEFAULT 1000, p_orgs integer DEFAULT 500,
                                           p_org uuid DEFAULT NULL, p_overlap integer DEFAULT 100)
    RETURNS integer
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = ''
    AS $$
    DECLARE
        h record;
        v record;
        n integer := 0;
    BEGIN
        FOR h IN SELECT hd.org_id, hd.seq, c.bad_seq, c.bad_reason,
                        CASE WHEN c.org_id IS NULL OR p_org IS NOT NULL
                                  OR c.checked_at < pg_catalog.clock_timestamp() - interval '10 minutes'
                             THEN hd.seq - p_events + 1
                             ELSE LEAST(c.head_seq, hd.seq) - p_overlap + 1 END AS from_seq
                 FROM audit.chain_heads hd LEFT JOIN audit.chain_checks c ON c.org_id = hd.org_id
                 WHERE (p_org IS NULL AND (c.org_id IS NULL OR c.head_seq <> hd.seq
                                           OR c.checked_at < pg_catalog.clock_timestamp() - interval '10 minutes'))
                    OR hd.org_id = p_org
                 ORDER BY c.org_id IS NOT NULL, c.head_seq = hd.seq, c.checked_at, hd.org_id
                 LIMIT p_orgs LOOP
            BEGIN
                SELECT * INTO v FROM audit.verify_chain_from(h.org_id, h.from_seq);
                INSERT INTO audit.chain_checks AS c (org_id, head_seq, checked_at, bad_seq, bad_reason)
                VALUES (h.org_id, h.seq, pg_catalog.clock_timestamp(),
                        CASE WHEN NOT v.ok THEN v.first_bad_seq END, CASE WHEN NOT v.ok THEN v.reason END)
                ON CONFLICT (org_id) DO UPDATE
                SET head_seq = EXCLUDED.head_seq, checked_at = EXCLUDED.checked_at,
                    bad_seq = EXCLUDED.bad_seq, bad_reason = EXCLUDED.bad_reason;
                IF NOT v.ok AND (h.bad_seq IS DISTINCT FROM v.first_bad_seq
                                 OR h.bad_reason IS DISTINCT FROM v.reason)
                   AND EXISTS (SELECT FROM finicom.orgs o WHERE o.id = h.org_id) THEN
                    PERFORM finicom.alert_raise(h.org_id, 'audit_chain_broken',
                        ARRAY(SELECT v.first_bad_id WHERE v.first_bad_id IS NOT NULL),
                        pg_catalog.format('the audit chain is broken at event %s: %s', v.first_bad_seq, v.reason));
                END IF;
                n := n + 1;
            EXCEPTION WHEN OTHERS THEN
                RAISE WARNING 'could not verify the audit chain of org %: %', h.org_id, SQLERRM;
            END;
        END LOOP;
        RETURN n;
    END
    $$;

-- ---------------------------------------------------------------------
-- finicom-verify-audit-recent: the pg_cron job, every minute (pg_cron's
-- resolution), with the guards of 0010.  To add it later: SELECT
-- cron.schedule('finicom-verify-audit-recent', '* * * * *', 'SELECT
-- audit.verify_recent_chains()'); as a superuser.
RESET ROLE;
DO $$
BEGIN
    IF pg_catalog.current_setting('finicom.without_pg_cron', true) = 'on' THEN
        RAISE WARNING 'pg_cron job finicom-verify-audit-recent not installed (--without-pg-cron)';
        RETURN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_extension WHERE extname = 'pg_cron') THEN
        RAISE WARNING 'pg_cron job finicom-verify-audit-recent not installed: pg_cron is not installed in this database';
        RETURN;
    END IF;
    PERFORM cron.schedule('finicom-verify-audit-recent', '* * * * *', 'SELECT audit.verify_recent_chains()');
END
$$;
