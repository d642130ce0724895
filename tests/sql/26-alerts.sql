-- 26-alerts: activity alerts (sql/0026_alerts.sql, docs/alerts.md): the
-- row-level security matrix of finicom.alerts and finicom.alert_rule_settings,
-- each rule firing from the events it is about (and not from others), the
-- grouping and mail rule, rule toggles, acknowledgement, the chain check,
-- and that a broken rule never makes a write fail.
--
-- Words:
--   fixtures   O1: a = admin, w = write, r = read, m1..m6 = read members
--              to remove; O2: x = admin ("the other org"); O3: a is admin
--              there too.  Orgs are dated a day back: events written in
--              the transaction that created their org raise nothing, and
--              this whole file is one transaction.
--   attempt()  one statement as finicom_app in a verified context (a
--              user of the fixtures, or 'none'), in a subtransaction
--              always rolled back: 'rows N' or 'SQLSTATE xxxxx'
--   as_user()  one statement run as the superuser in a user's verified
--              context (events get that user as actor), kept
-- Run by pg_prove as a superuser, in one transaction rolled back at the end.
CREATE EXTENSION IF NOT EXISTS pgtap;

BEGIN;
SELECT plan(67);

CREATE TEMP TABLE fx (name text PRIMARY KEY, id uuid NOT NULL DEFAULT gen_random_uuid());
INSERT INTO fx (name) VALUES ('a'), ('w'), ('r'), ('x'), ('m1'), ('m2'), ('m3'), ('m4'), ('m5'), ('m6'),
    ('o1'), ('o2'), ('o3'), ('al1'), ('al2');
CREATE FUNCTION pg_temp.fx(p_name text) RETURNS uuid LANGUAGE sql AS $$ SELECT id FROM fx WHERE name = p_name $$;

INSERT INTO finicom.users (id, email, name, password_hash)
SELECT id, name || '-' || id || '@alerts.test', upper(name), '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA'
FROM fx WHERE name !~ '^(o|al)\d$';
INSERT INTO finicom.orgs (id, name, created_at)
SELECT id, 'alerts ' || name, now() - interval '1 day' FROM fx WHERE name ~ '^o\d$';
INSERT INTO finicom.memberships (org_id, user_id, role)
SELECT pg_temp.fx(m.org), pg_temp.fx(m.usr), m.role::finicom.role
FROM (VALUES ('o1', 'a', 'admin'), ('o1', 'w', 'write'), ('o1', 'r', 'read'), ('o2', 'x', 'admin'),
             ('o3', 'a', 'admin'), ('o1', 'm1', 'read'), ('o1', 'm2', 'read'), ('o1', 'm3', 'read'),
             ('o1', 'm4', 'read'), ('o1', 'm5', 'read'), ('o1', 'm6', 'read')) m (org, usr, role);
-- The inserts above were made in psql: db_change alerts (and admin_granted
-- for the admins) in each org.  They are not what the tests below are about.
DELETE FROM finicom.alerts WHERE org_id IN (SELECT id FROM fx);
DELETE FROM finicom.mail_outbox WHERE org_id IN (SELECT id FROM fx);
INSERT INTO finicom.alerts (id, org_id, rule, summary, event_ids, mailed)
VALUES (pg_temp.fx('al1'), pg_temp.fx('o1'), 'db_change', 'fixture 1', '{}', false),
       (pg_temp.fx('al2'), pg_temp.fx('o2'), 'db_change', 'fixture 2', '{}', false);

-- {name} in a statement becomes the fixture's id.
CREATE FUNCTION pg_temp.sub(p_sql text) RETURNS text
    LANGUAGE plpgsql AS $$
    DECLARE
        f record;
    BEGIN
        FOR f IN SELECT name, id FROM fx ORDER BY length(name) DESC LOOP
            p_sql := replace(p_sql, '{' || f.name || '}', f.id::text);
        END LOOP;
        RETURN p_sql;
    END
    $$;

CREATE FUNCTION pg_temp.attempt(p_actor text, p_org text, p_sql text) RETURNS text
    LANGUAGE plpgsql AS $$
    DECLARE
        v_sql text := pg_temp.sub(p_sql);
        v_user uuid := pg_temp.fx(p_actor);
        v_org uuid := pg_temp.fx(p_org);
        v_rows bigint;
        v_outcome text;
    BEGIN
        BEGIN
            IF p_actor <> 'none' THEN
                PERFORM finicom.context_enter('user', v_user, v_org, NULL, NULL);
            END IF;
            SET LOCAL ROLE finicom_app;
            EXECUTE v_sql;
            GET DIAGNOSTICS v_rows = ROW_COUNT;
            RAISE EXCEPTION USING ERRCODE = 'PT001', MESSAGE = 'rows ' || v_rows;
        EXCEPTION WHEN OTHERS THEN
            v_outcome := CASE WHEN SQLSTATE = 'PT001' THEN SQLERRM ELSE 'SQLSTATE ' || SQLSTATE END;
        END;
        RETURN v_outcome;
    END
    $$;

CREATE FUNCTION pg_temp.as_user(p_actor text, p_org text, p_sql text) RETURNS void
    LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM finicom.context_enter('user', pg_temp.fx(p_actor), pg_temp.fx(p_org), NULL, NULL);
        EXECUTE pg_temp.sub(p_sql);
        RESET finicom.actor_type;
        RESET finicom.actor_id;
        RESET finicom.org_id;
        RESET finicom.org_role;
    END
    $$;

-- The alerts of an org and rule, and the mail of an org's alerts.
CREATE FUNCTION pg_temp.alerts(p_org text, p_rule text) RETURNS SETOF finicom.alerts
    LANGUAGE sql AS $$ SELECT * FROM finicom.alerts WHERE org_id = pg_temp.fx(p_org) AND rule = p_rule ORDER BY at $$;
CREATE FUNCTION pg_temp.mails(p_org text) RETURNS bigint
    LANGUAGE sql AS $$ SELECT count(*) FROM finicom.mail_outbox WHERE org_id = pg_temp.fx(p_org) $$;

-- ---------------------------------------------------------------------
-- Row-level security: alerts and rule settings are the org's admins'.
CREATE TEMP TABLE cases (k serial, actor text, org text, sql text, expect text);
INSERT INTO cases (actor, org, sql, expect) VALUES
    ('a', 'o1', 'SELECT * FROM finicom.alerts', 'rows 1'),
    ('w', 'o1', 'SELECT * FROM finicom.alerts', 'rows 0'),
    ('r', 'o1', 'SELECT * FROM finicom.alerts', 'rows 0'),
    ('x', 'o2', $$SELECT * FROM finicom.alerts WHERE org_id = '{o1}'$$, 'rows 0'),
    ('none', NULL, 'SELECT * FROM finicom.alerts', 'rows 0'),
    ('a', 'o1', $$UPDATE finicom.alerts SET acknowledged_at = now() WHERE id = '{al1}'$$, 'rows 1'),
    ('w', 'o1', $$UPDATE finicom.alerts SET acknowledged_at = now() WHERE id = '{al1}'$$, 'rows 0'),
    ('r', 'o1', $$UPDATE finicom.alerts SET acknowledged_at = now() WHERE id = '{al1}'$$, 'rows 0'),
    ('a', 'o1', $$UPDATE finicom.alerts SET acknowledged_at = now() WHERE id = '{al2}'$$, 'rows 0'),
    ('none', NULL, $$UPDATE finicom.alerts SET acknowledged_at = now()$$, 'rows 0'),
    ('a', 'o1', $$UPDATE finicom.alerts SET summary = 'forged' WHERE id = '{al1}'$$, 'SQLSTATE 42501'),
    ('a', 'o1', $$INSERT INTO finicom.alerts (org_id, rule, summary, event_ids, mailed)
                  VALUES ('{o1}', 'db_change', 'forged', '{}', false)$$, 'SQLSTATE 42501'),
    ('a', 'o1', $$DELETE FROM finicom.alerts WHERE id = '{al1}'$$, 'SQLSTATE 42501'),
    ('a', 'o1', $$INSERT INTO finicom.alert_rule_settings (org_id, rule, enabled) VALUES ('{o1}', 'db_change', false)$$,
     'rows 1'),
    ('w', 'o1', $$INSERT INTO finicom.alert_rule_settings (org_id, rule, enabled) VALUES ('{o1}', 'db_change', false)$$,
     'SQLSTATE 42501'),
    ('r', 'o1', $$INSERT INTO finicom.alert_rule_settings (org_id, rule, enabled) VALUES ('{o1}', 'db_change', false)$$,
     'SQLSTATE 42501'),
    ('a', 'o1', $$INSERT INTO finicom.alert_rule_settings (org_id, rule, enabled) VALUES ('{o2}', 'db_change', false)$$,
     'SQLSTATE 42501'),
    ('none', NULL, $$INSERT INTO finicom.alert_rule_settings (org_id, rule, enabled) VALUES ('{o1}', 'db_change', false)$$,
     'SQLSTATE 42501'),
    ('a', 'o1', $$INSERT INTO finicom.alert_rule_settings (org_id, rule, enabled) VALUES ('{o1}', 'no_such_rule', false)$$,
     'SQLSTATE 23514'),
    ('x', 'o2', $$SELECT * FROM finicom.alert_rule_settings WHERE org_id = '{o1}'$$, 'rows 0'),
    ('a', 'o1', $$DELETE FROM finicom.alert_rule_settings$$, 'SQLSTATE 42501');
SELECT is(pg_temp.attempt(actor, org, sql), expect, format('%s in %s: %s', actor, coalesce(org, 'no org'),
          regexp_replace(sql, '\s+', ' ', 'g')))
FROM cases ORDER BY k;

-- The policies are checked once per statement (an InitPlan), not per row.
SELECT count(*) AS quiet FROM (SELECT finicom.context_enter('user', pg_temp.fx('a'), pg_temp.fx('o1'), NULL, NULL)) q \gset
CREATE FUNCTION pg_temp.plan_of(p_sql text) RETURNS text
    LANGUAGE plpgsql AS $$
    DECLARE
        l text;
        out text := '';
    BEGIN
        SET LOCAL ROLE finicom_app;
        FOR l IN EXECUTE 'EXPLAIN (COSTS OFF) ' || p_sql LOOP
            out := out || l || E'\n';
        END LOOP;
        RESET ROLE;
        RETURN out;
    END
    $$;
SELECT ok(pg_temp.plan_of('SELECT finicom.alert_json(a) FROM finicom.alerts a') ~ 'InitPlan'
          AND pg_temp.plan_of('SELECT finicom.alert_json(a) FROM finicom.alerts a') !~ 'SubPlan',
          'the alerts policy is an InitPlan, no SubPlan per row');
RESET finicom.actor_type;
RESET finicom.actor_id;
RESET finicom.org_id;
RESET finicom.org_role;

-- ---------------------------------------------------------------------
-- admin_granted: a promotion to admin; mail to the org's admins only.
SELECT count(*) AS quiet FROM (SELECT pg_temp.as_user('a', 'o1', $$UPDATE finicom.memberships SET role = 'admin' WHERE user_id = '{w}'$$)) q \gset
SELECT is((SELECT count(*) FROM pg_temp.alerts('o1', 'admin_granted')), 1::bigint, 'admin_granted: one alert');
SELECT is((SELECT event_ids FROM pg_temp.alerts('o1', 'admin_granted')),
          ARRAY(SELECT id FROM audit.events WHERE org_id = pg_temp.fx('o1') AND action = 'member.role_changed'
                AND target_id = pg_temp.fx('w')), 'admin_granted: its event is the role change');
SELECT ok((SELECT summary FROM pg_temp.alerts('o1', 'admin_granted')) LIKE 'w-%became an admin%',
          'admin_granted: the summary names the new admin');
SELECT set_eq($$SELECT recipient FROM finicom.mail_outbox WHERE org_id = pg_temp.fx('o1')$$,
              $$SELECT email FROM finicom.users WHERE id IN (pg_temp.fx('a'), pg_temp.fx('w'))$$,
              'admin_granted: one mail to each admin of O1 (a, and w now), nobody else');
SELECT is((SELECT count(*) FROM pg_temp.alerts('o1', 'db_change')), 1::bigint,
          'a change through a verified context is no db_change (only the fixture alert)');
-- A second promotion within 10 minutes is grouped: event_ids grow, no new mail.
SELECT pg_temp.mails('o1') AS mails_before \gset
SELECT count(*) AS quiet FROM (SELECT pg_temp.as_user('a', 'o1', $$UPDATE finicom.memberships SET role = 'admin' WHERE user_id = '{r}'$$)) q \gset
SELECT is((SELECT count(*) || ' ' || cardinality(event_ids) FROM pg_temp.alerts('o1', 'admin_granted') GROUP BY event_ids),
          '1 2', 'admin_granted again within 10 minutes: the same alert, two events');
SELECT is(pg_temp.mails('o1'), :'mails_before'::bigint, 'grouped: no new mail');
-- A demotion is not about admin_granted.
SELECT count(*) AS quiet FROM (SELECT pg_temp.as_user('a', 'o1', $$UPDATE finicom.memberships SET role = 'read' WHERE user_id IN ('{r}', '{w}')$$)) q \gset
SELECT is((SELECT cardinality(event_ids) FROM pg_temp.alerts('o1', 'admin_granted')), 2, 'demotions add nothing');

-- ---------------------------------------------------------------------
-- admin_api_key_created: admin keys only.
SELECT count(*) AS quiet FROM (SELECT pg_temp.as_user('x', 'o2', $$INSERT INTO finicom.api_keys (org_id, name, role, prefix, token_hash)
    VALUES ('{o2}', 'writer key', 'write', 'fcm_alrtw1', sha256('alerts-w'::bytea))$$)) q \gset
SELECT is((SELECT count(*) FROM pg_temp.alerts('o2', 'admin_api_key_created')), 0::bigint,
          'admin_api_key_created: a write key raises nothing');
SELECT count(*) AS quiet FROM (SELECT pg_temp.as_user('x', 'o2', $$INSERT INTO finicom.api_keys (org_id, name, role, prefix, token_hash)
    VALUES ('{o2}', 'root key', 'admin', 'fcm_alrta1', sha256('alerts-a'::bytea))$$)) q \gset
SELECT is((SELECT summary FROM pg_temp.alerts('o2', 'admin_api_key_created')),
          'admin API key "root key" created by x-' || pg_temp.fx('x') || '@alerts.test',
          'admin_api_key_created: an admin key raises it, naming the key and who made it');
SELECT set_eq($$SELECT recipient FROM finicom.mail_outbox WHERE org_id = pg_temp.fx('o2')$$,
              $$SELECT email FROM finicom.users WHERE id = pg_temp.fx('x')$$, 'its mail goes to O2''s admin');

-- ---------------------------------------------------------------------
-- mass_removal: the 5th removal in 10 minutes, then grouped.
SELECT count(*) AS quiet FROM (SELECT pg_temp.as_user('a', 'o1', $$DELETE FROM finicom.memberships WHERE user_id IN ('{m1}', '{m2}', '{m3}', '{m4}')$$)) q \gset
SELECT is((SELECT count(*) FROM pg_temp.alerts('o1', 'mass_removal')), 0::bigint, 'mass_removal: 4 removals raise nothing');
SELECT pg_temp.mails('o1') AS mails_before \gset
SELECT count(*) AS quiet FROM (SELECT pg_temp.as_user('a', 'o1', $$DELETE FROM finicom.memberships WHERE user_id = '{m5}'$$)) q \gset
SELECT is((SELECT cardinality(event_ids) || ' ' || summary FROM pg_temp.alerts('o1', 'mass_removal')),
          '5 5 members removed in 10 minutes', 'mass_removal: the 5th raises it, with the five removals');
SELECT is(pg_temp.mails('o1'), :'mails_before'::bigint + 1, 'mass_removal: one mail (O1 has one admin now)');
SELECT count(*) AS quiet FROM (SELECT pg_temp.as_user('a', 'o1', $$DELETE FROM finicom.memberships WHERE user_id = '{m6}'$$)) q \gset
SELECT is((SELECT count(*) || ' ' || max(cardinality(event_ids)) || ' ' || max(summary) FROM pg_temp.alerts('o1', 'mass_removal')),
          '1 6 6 members removed in 10 minutes', 'the 6th is grouped into it, and the summary counts it');
SELECT is(pg_temp.mails('o1'), :'mails_before'::bigint + 1, 'no second mail');

-- ---------------------------------------------------------------------
-- failed_logins: the 10th failure for one account's email, in each of its orgs.
SELECT count(*) AS quiet FROM (SELECT audit.auth_event('login.failed', pg_temp.fx('a'), 'a@alerts.test', '192.0.2.7', NULL)
FROM generate_series(1, 9)) q \gset
SELECT count(*) AS quiet FROM (SELECT audit.auth_event('login.failed', NULL, 'nobody@alerts.test', '192.0.2.7', NULL) FROM generate_series(1, 12)) q \gset
SELECT is((SELECT count(*) FROM finicom.alerts WHERE rule = 'failed_logins'
           AND org_id IN (pg_temp.fx('o1'), pg_temp.fx('o3'))), 0::bigint,
          'failed_logins: 9 failures raise nothing (nor do failures for an email with no account)');
SELECT count(*) AS quiet FROM (SELECT audit.auth_event('login.failed', pg_temp.fx('a'), 'a@alerts.test', '192.0.2.7', NULL)) q \gset
SELECT is((SELECT array_agg(org_id ORDER BY org_id) FROM finicom.alerts WHERE rule = 'failed_logins'
           AND org_id IN (SELECT id FROM fx)),
          (SELECT array_agg(id ORDER BY id) FROM fx WHERE name IN ('o1', 'o3')),
          'failed_logins: the 10th raises it in both of a''s orgs, not in O2');
SELECT is((SELECT cardinality(event_ids) FROM pg_temp.alerts('o3', 'failed_logins')), 10,
          'failed_logins: the alert holds the ten auth events');
SELECT ok((SELECT summary FROM pg_temp.alerts('o3', 'failed_logins')) ~ '^10 failed sign-ins for a-.* from 192\.0\.2\.7\)$',
          'failed_logins: the summary says how many, for whom, from where');
SELECT count(*) AS quiet FROM (SELECT audit.auth_event('login.failed', pg_temp.fx('a'), 'a@alerts.test', '192.0.2.8', NULL)) q \gset
SELECT is((SELECT count(*) || ' ' || max(cardinality(event_ids)) FROM pg_temp.alerts('o3', 'failed_logins')), '1 11',
          'the 11th is grouped');

-- ---------------------------------------------------------------------
-- db_change: a change in psql (no context); off when the org turns it off.
DELETE FROM finicom.alerts WHERE id = pg_temp.fx('al2');
UPDATE finicom.orgs SET name = 'renamed in psql' WHERE id = pg_temp.fx('o2');
SELECT is((SELECT event_ids FROM pg_temp.alerts('o2', 'db_change')),
          ARRAY(SELECT id FROM audit.events WHERE org_id = pg_temp.fx('o2') AND action = 'org.updated'),
          'db_change: a psql change raises it, about its event');
SELECT ok((SELECT summary FROM pg_temp.alerts('o2', 'db_change') ORDER BY at DESC LIMIT 1)
          = 'org.updated by database role ' || session_user || ', not through the API',
          'db_change: the summary names the action and the database role');
SELECT count(*) AS quiet FROM (SELECT pg_temp.as_user('x', 'o2', $$INSERT INTO finicom.alert_rule_settings (org_id, rule, enabled) VALUES ('{o2}', 'db_change', false)$$)) q \gset
SELECT is((SELECT details FROM audit.events WHERE org_id = pg_temp.fx('o2') AND action = 'alert_rule.updated'),
          '{"rule": "db_change", "enabled": false}'::jsonb, 'turning a rule off is audited');
DELETE FROM finicom.alerts WHERE org_id = pg_temp.fx('o2') AND rule = 'db_change';
UPDATE finicom.orgs SET name = 'renamed again' WHERE id = pg_temp.fx('o2');
SELECT is((SELECT count(*) FROM pg_temp.alerts('o2', 'db_change')), 0::bigint, 'a rule turned off raises nothing');
SELECT is(finicom.alert_rules_json(pg_temp.fx('o2'))::jsonb -> 'rules' -> 4, '{"rule": "db_change", "enabled": false}'::jsonb,
          'alert_rules_json shows it off');

-- Founding events: an org made in this transaction alerts nobody.
INSERT INTO fx (name) VALUES ('o4');
INSERT INTO finicom.orgs (id, name) VALUES (pg_temp.fx('o4'), 'alerts new');
INSERT INTO finicom.memberships (org_id, user_id, role) VALUES (pg_temp.fx('o4'), pg_temp.fx('x'), 'admin');
SELECT is((SELECT count(*) FROM finicom.alerts WHERE org_id = pg_temp.fx('o4')), 0::bigint,
          'the events of a new org''s own transaction raise nothing');

-- ---------------------------------------------------------------------
-- Acknowledging: who did it comes from the context; it is audited and final.
SELECT count(*) AS quiet FROM (SELECT pg_temp.as_user('a', 'o1', $$UPDATE finicom.alerts SET acknowledged_at = now(), acknowledged_by_label = 'forged' WHERE id = '{al1}'$$)) q \gset
SELECT is((SELECT acknowledged_by_type || ' ' || acknowledged_by_id || ' ' || acknowledged_by_label FROM finicom.alerts WHERE id = pg_temp.fx('al1')),
          'user ' || pg_temp.fx('a') || ' a-' || pg_temp.fx('a') || '@alerts.test',
          'acknowledging stamps the verified actor, whatever the statement says');
SELECT is((SELECT count(*) FROM audit.events WHERE org_id = pg_temp.fx('o1') AND action = 'alert.acknowledged'
           AND target_id = pg_temp.fx('al1') AND actor_id = pg_temp.fx('a')), 1::bigint, 'alert.acknowledged is recorded');
SELECT is(pg_temp.attempt('a', 'o1', $$UPDATE finicom.alerts SET acknowledged_at = NULL WHERE id = '{al1}'$$), 'SQLSTATE F0409',
          'an acknowledgement cannot be taken back');
SELECT is(finicom.alert_json(a)::jsonb ->> 'status', 'acknowledged', 'alert_json: status acknowledged')
FROM finicom.alerts a WHERE id = pg_temp.fx('al1');
-- An acknowledged alert takes no more events: the next admin_granted is a new alert,
-- listed but not mailed (a mail of that rule went out less than 10 minutes ago).
UPDATE finicom.alerts SET acknowledged_at = now() WHERE org_id = pg_temp.fx('o1') AND rule = 'admin_granted';
SELECT pg_temp.mails('o1') AS mails_before \gset
SELECT count(*) AS quiet FROM (SELECT pg_temp.as_user('a', 'o1', $$UPDATE finicom.memberships SET role = 'admin' WHERE user_id = '{r}'$$)) q \gset
SELECT is((SELECT count(*) || ' ' || count(*) FILTER (WHERE mailed) FROM pg_temp.alerts('o1', 'admin_granted')), '2 1',
          'after an acknowledgement a new alert opens, unmailed within the 10 minutes');
SELECT is(pg_temp.mails('o1'), :'mails_before'::bigint, 'at most one mail per rule per org per 10 minutes');

-- ---------------------------------------------------------------------
-- audit_chain_broken: the job's function finds a tampered event once.
SELECT audit.seal_pending(pg_temp.fx('o3')) > 0 AS sealed \gset
SELECT ok(:'sealed', 'O3''s events are sealed');
SELECT is(audit.verify_recent_chains(1000, 1, pg_temp.fx('o3')), 1, 'verify_recent_chains checks O3');
SELECT is((SELECT count(*) FROM pg_temp.alerts('o3', 'audit_chain_broken')), 0::bigint, 'an intact chain raises nothing');
SELECT id AS victim FROM audit.events WHERE org_id = pg_temp.fx('o3') AND seq = 2 \gset
ALTER TABLE audit.events DISABLE TRIGGER events_append_only;
UPDATE audit.events SET details = '{"tampered": true}' WHERE id = :'victim';
ALTER TABLE audit.events ENABLE TRIGGER events_append_only;
SELECT count(*) AS quiet FROM (SELECT audit.verify_recent_chains(1000, 1, pg_temp.fx('o3'))) q \gset
SELECT is((SELECT event_ids FROM pg_temp.alerts('o3', 'audit_chain_broken')), ARRAY[:'victim'::uuid],
          'audit_chain_broken: raised, naming the tampered event');
SELECT is((SELECT summary FROM pg_temp.alerts('o3', 'audit_chain_broken')),
          'the audit chain is broken at event 2: the event was changed after it was written', 'its summary says where and why');
SELECT is((SELECT first_bad_id FROM audit.verify_chain(pg_temp.fx('o3'))), :'victim'::uuid,
          'verify_chain (now verify_chain_from 1) names the same event');
UPDATE finicom.alerts SET acknowledged_at = now() WHERE org_id = pg_temp.fx('o3') AND rule = 'audit_chain_broken';
SELECT count(*) AS quiet FROM (SELECT audit.verify_recent_chains(1000, 1, pg_temp.fx('o3'))) q \gset
SELECT is((SELECT count(*) FROM pg_temp.alerts('o3', 'audit_chain_broken')), 1::bigint,
          'the same break is raised once, not at every run');
SELECT is((SELECT ok::text || ' ' || events FROM audit.verify_chain_from(pg_temp.fx('o3'), 3)),
          'true ' || (SELECT seq - 2 FROM audit.chain_heads WHERE org_id = pg_temp.fx('o3')),
          'verify_chain_from 3 checks only the events after the tampered one');

-- ---------------------------------------------------------------------
-- A broken rule never makes a write fail.
CREATE OR REPLACE FUNCTION finicom.alert_raise(p_org uuid, p_rule text, p_event_ids uuid[], p_summary text)
    RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path = '' AS $$ BEGIN PERFORM 1 / 0; END $$;
DELETE FROM finicom.alerts WHERE org_id = pg_temp.fx('o1') AND rule = 'db_change';
SELECT lives_ok($$DELETE FROM finicom.memberships WHERE org_id = pg_temp.fx('o1') AND user_id = pg_temp.fx('w')$$,
                'with alert_raise failing, a member removal in psql still succeeds');
SELECT is((SELECT count(*) FROM finicom.memberships WHERE org_id = pg_temp.fx('o1') AND user_id = pg_temp.fx('w')),
          0::bigint, 'the member is removed');
SELECT is((SELECT count(*) FROM audit.events WHERE org_id = pg_temp.fx('o1') AND action = 'member.removed'
           AND target_id = pg_temp.fx('w')), 1::bigint, 'and its event recorded');
SELECT lives_ok($$SELECT audit.auth_event('login.failed', pg_temp.fx('a'), 'a@alerts.test', NULL, NULL)$$,
                'a failed login is recorded too');

SELECT * FROM finish();
ROLLBACK;
