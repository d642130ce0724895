-- 17-no-context: what SQL injection in a worker gets without a verified
-- request context (issue 12, sql/0019_auth_role.sql): a finicom_app
-- connection that has not passed finicom.begin_request() with a live
-- credential can read or change nothing of any user or org.
--
-- Words:
--   listed     every function finicom_app may EXECUTE (outside pg_catalog,
--              information_schema, temporary schemas and extensions), with
--              its kind and what it does without a context.  The list is
--              compared with the catalog, so a function granted later
--              fails the first test until it is listed here:
--     reader   SECURITY INVOKER and not VOLATILE: runs with finicom_app's
--              own rights and cannot write (PostgreSQL refuses writes in a
--              non-volatile function), so it reads at most what
--              finicom_app may read itself, which without a context is
--              nothing ("Tables" below)
--     writer   SECURITY INVOKER and VOLATILE: writes only what finicom_app
--              itself may, which row-level security keeps to a verified org
--     definer  SECURITY DEFINER: each has its own test ("Entry points")
--   fixtures   org O with admin U (a live session, token hash
--              sha256('u-session')), a second member V, U's API key K
--              (sha256('k-token')), a pending invitation I
--              (sha256('i-token')) with its mail, U's live email
--              verification token (sha256('ev-token')), source S, destination D,
--              integration G, connection C (S → D, with G) and a run of C;
--              made as the superuser
--   snapshot() every row of every table of finicom and audit, hashed per
--              table (as the superuser): what finicom_app did must leave
--              it as it was
--   outcome()  one statement as finicom_app with no context, kept when it
--              succeeds (so snapshot() sees what it changed), undone only
--              when it fails: 'rows N' or 'SQLSTATE xxxxx'
-- Run by pg_prove as a superuser, in one transaction rolled back at the end.
CREATE EXTENSION IF NOT EXISTS pgtap;

BEGIN;
SELECT plan(48);

SELECT gen_random_uuid() AS o, gen_random_uuid() AS u, gen_random_uuid() AS v, gen_random_uuid() AS k,
       gen_random_uuid() AS i, gen_random_uuid() AS s, gen_random_uuid() AS d, gen_random_uuid() AS g,
       gen_random_uuid() AS c, gen_random_uuid() AS run \gset

-- ---------------------------------------------------------------------
-- Fixtures.
INSERT INTO finicom.users (id, email, name, password_hash) VALUES
    (:'u', 'u-' || :'u' || '@no-context.test', 'U', '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA'),
    (:'v', 'v-' || :'v' || '@no-context.test', 'V', '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA');
INSERT INTO finicom.sessions (token_hash, user_id, expires_at)
VALUES (sha256('u-session'::bytea), :'u', now() + interval '1 day');
INSERT INTO finicom.orgs (id, name, plan) VALUES (:'o', 'no-context O', 'pro');
INSERT INTO finicom.memberships (org_id, user_id, role) VALUES (:'o', :'u', 'admin'), (:'o', :'v', 'read');
INSERT INTO finicom.member_activity (org_id, user_id, last_active_at) VALUES (:'o', :'u', now());
INSERT INTO finicom.api_keys (org_id, id, name, role, prefix, token_hash)
VALUES (:'o', :'k', 'K', 'admin', 'fcm_nctxab', sha256('k-token'::bytea));
INSERT INTO finicom.invitations (org_id, id, email, role, token_hash, invited_by, expires_at)
VALUES (:'o', :'i', 'invitee@no-context.test', 'write', sha256('i-token'::bytea), :'u', now() + interval '1 day');
INSERT INTO finicom.mail_outbox (org_id, invitation_id, recipient, subject, body, link, message_id)
VALUES (:'o', :'i', 'invitee@no-context.test', 's', 'body http://x/invite/T', 'http://x/invite/T',
        '<' || :'i' || '@no-context.test>');
INSERT INTO finicom.sources (org_id, id, name, type) VALUES (:'o', :'s', 'S', 'postgres');
-- An alert and a rule setting (sql/0026_alerts.sql; O is made in this
-- transaction, so its own events raise none).
INSERT INTO finicom.alerts (org_id, rule, summary, event_ids, mailed) VALUES (:'o', 'db_change', 'A', '{}', false);
INSERT INTO finicom.alert_rule_settings (org_id, rule, enabled) VALUES (:'o', 'db_change', false);
-- An open access review of O with an item, and a reminder (sql/0025).
SELECT gen_random_uuid() AS ar \gset
INSERT INTO finicom.access_reviews (org_id, id, created_by) VALUES (:'o', :'ar', :'u');
INSERT INTO finicom.access_review_items (org_id, review_id, user_id, role, joined_at)
VALUES (:'o', :'ar', :'v', 'read', now());
INSERT INTO finicom.access_review_reminders (org_id, sent_at) VALUES (:'o', now());
INSERT INTO finicom.destinations (org_id, id, name, type) VALUES (:'o', :'d', 'D', 's3');
INSERT INTO finicom.integrations (org_id, id, name, type) VALUES (:'o', :'g', 'G', 'slack');
INSERT INTO finicom.connections (org_id, id, name, source_id, destination_id) VALUES (:'o', :'c', 'C', :'s', :'d');
INSERT INTO finicom.connection_integrations (org_id, connection_id, integration_id) VALUES (:'o', :'c', :'g');
INSERT INTO finicom.sync_runs (org_id, id, connection_id) VALUES (:'o', :'run', :'c');
INSERT INTO audit.auth_events (event, user_id, email) VALUES ('signup', :'u', 'u@no-context.test');
INSERT INTO finicom.totp_credentials (user_id, secret_enc, confirmed_at) VALUES (:'u', 'enc:v1:fixture', now()); -- 0023
INSERT INTO finicom.email_verifications (user_id, email, token_hash, expires_at)
SELECT :'u', u.email, sha256('ev-token'::bytea), now() + interval '1 day' FROM finicom.users u WHERE u.id = :'u';

CREATE FUNCTION pg_temp.snapshot() RETURNS text
    LANGUAGE plpgsql AS $$
    DECLARE
        t regclass;
        h text;
        out text := '';
    BEGIN
        FOR t IN SELECT c.oid FROM pg_class c
                 WHERE c.relnamespace IN ('finicom'::regnamespace, 'audit'::regnamespace) AND c.relkind IN ('r', 'p')
                 ORDER BY c.oid::regclass::text LOOP
            EXECUTE format('SELECT md5(coalesce(string_agg(x::text, %L ORDER BY x::text), %L)) FROM %s x', E'\n', '', t)
                INTO h;
            out := out || t::text || '=' || h || E'\n';
        END LOOP;
        RETURN out;
    END
    $$;

CREATE FUNCTION pg_temp.outcome(p_sql text) RETURNS text
    LANGUAGE plpgsql AS $$
    DECLARE
        v_rows bigint;
    BEGIN
        BEGIN
            SET LOCAL ROLE finicom_app;
            EXECUTE p_sql;
            GET DIAGNOSTICS v_rows = ROW_COUNT;
            RESET ROLE;
            RETURN 'rows ' || v_rows;
        EXCEPTION WHEN OTHERS THEN
            RESET ROLE;
            RETURN 'SQLSTATE ' || SQLSTATE;
        END;
    END
    $$;

SELECT pg_temp.snapshot() AS before \gset

-- ---------------------------------------------------------------------
-- Listed: every function finicom_app may execute, and what it does
-- without a context.
CREATE TEMP TABLE listed (fn regprocedure PRIMARY KEY, kind text NOT NULL, without_context text NOT NULL);
INSERT INTO listed VALUES
    -- Pure formatting and checks of their arguments.
    ('finicom.ts(timestamptz)', 'reader', 'formats a time'),
    ('finicom.cursor_key(timestamptz, uuid)', 'reader', 'formats a cursor'),
    ('finicom.ascii_lower(text)', 'reader', 'lowercases ASCII letters'),
    ('finicom.config_mask(jsonb)', 'reader', 'masks secret values of a JSON value'),
    ('finicom.schedule_ok(text)', 'reader', 'checks a schedule''s text'),
    ('finicom.org_json(finicom.orgs, text)', 'reader', 'the JSON of an org row the caller passes'),
    ('finicom.effective_plan(finicom.orgs)', 'reader', 'the plan of an org row the caller passes'),
    ('finicom.member_json(finicom.memberships, text, text, timestamptz)', 'reader', 'the JSON of a membership row passed'),
    ('finicom.member_item(uuid, text, text, finicom.role, timestamptz, timestamptz)', 'reader', 'the JSON of the values passed'),
    ('finicom.member_item(uuid, text, text, finicom.role, timestamptz, timestamptz, timestamptz)', 'reader', 'the JSON of the values passed'),
    ('finicom.future_time(timestamptz, text)', 'reader', 'its argument, or F0400 for a past time'),
    ('finicom.api_key_json(uuid, text, finicom.role, text, timestamptz, timestamptz, timestamptz, uuid)', 'reader', 'the JSON of the values passed'),
    ('finicom.api_key_live(finicom.api_keys)', 'reader', 'whether a key row passed is live'),
    ('finicom.sync_run_json(finicom.sync_runs)', 'reader', 'the JSON of a run row passed'),
    -- Activity alerts (sql/0026_alerts.sql).
    ('finicom.alert_rule_names()', 'reader', 'the fixed list of alert rules'),
    ('finicom.alert_json(finicom.alerts)', 'reader', 'the JSON of an alert row passed'),
    ('finicom.alert_rules_json(uuid)', 'reader',
     'reads the org''s rule settings as finicom_app may: without a context every rule shows its default'),
    ('audit.event_json(audit.events)', 'reader', 'the JSON of an event row passed'),
    ('finicom.invitation_json(finicom.invitations)', 'reader', 'reads invitation_items as finicom_app: NULL'),
    -- The request context: without one, nothing.
    ('finicom.context_guard()', 'reader', 'true (the module is loaded)'),
    ('finicom.context_ok()', 'reader', 'true (the module is loaded)'),
    ('finicom.request_actor_type()', 'reader', 'NULL'),
    ('finicom.request_actor_id()', 'reader', 'NULL'),
    ('finicom.request_user_id()', 'reader', 'NULL'),
    ('finicom.request_org_id()', 'reader', 'NULL'),
    ('finicom.request_org_for(finicom.role)', 'reader', 'NULL'),
    ('finicom.request_role()', 'reader', 'NULL'),
    ('finicom.current_actor_type()', 'reader', 'NULL'),
    ('finicom.current_actor_id()', 'reader', 'NULL'),
    ('finicom.current_user_id()', 'reader', 'NULL'),
    ('finicom.current_org_id()', 'reader', 'NULL'),
    ('finicom.has_role(uuid, finicom.role)', 'reader', 'false'),
    -- Writers with finicom_app's own rights.
    ('finicom.object_delete(text, uuid, uuid)', 'writer', 'deletes nothing: false'),
    ('finicom.sync_request(uuid, uuid)', 'writer', 'sees no connection: F0404'),
    ('finicom.connection_refs_check(uuid, uuid, uuid, uuid[])', 'writer', 'sees no object: F0400'),
    -- Access reviews (sql/0025): the org is the context's admin org, so without one nothing.
    ('finicom.person_json(uuid, text, text)', 'reader', 'the JSON of the values passed'),
    ('finicom.access_review_start(timestamptz)', 'writer', 'needs an admin: F0403'),
    ('finicom.access_review_lock_open(uuid)', 'writer', 'sees no review: F0404'),
    ('finicom.access_review_decide(uuid, uuid, finicom.access_review_decision, finicom.role, text)', 'writer',
     'sees no review: F0404'),
    ('finicom.access_review_complete(uuid)', 'writer', 'sees no review: F0404'),
    ('finicom.access_review_cancel(uuid)', 'writer', 'sees no review: F0404'),
    -- Entry points with the owner's rights.
    ('finicom.begin_request(text, bytea, uuid, integer, text, text)', 'definer',
     'the credential check itself: needs the SHA-256 of a live session''s or API key''s token, which '
     'finicom_app cannot read; anything else: no row, no actor, no org'),
    ('finicom.auth_logout(bytea)', 'definer', 'deletes only a session of the context''s user: false'),
    ('finicom.org_create(text)', 'definer', 'needs a signed-in user: F0403'),
    ('finicom.invitation_create(uuid, text, finicom.role, bytea, text)', 'definer', 'needs an admin: F0403'),
    -- Member governance (sql/0024; tested in 23-membership-expiry).
    ('finicom.invitation_create(uuid, text, finicom.role, bytea, text, timestamptz)', 'definer', 'needs an admin: F0403'),
    ('finicom.invitation_create_batch(uuid, json)', 'definer', 'needs an admin: F0403'),
    ('finicom.member_search(integer, timestamptz, uuid, text, finicom.role, integer)', 'definer',
     'reads the members of the context''s org only: without one, no row'),
    ('finicom.invitation_resend(uuid, uuid, bytea, text)', 'definer', 'needs an admin: F0403'),
    ('finicom.invitation_cancel(uuid, uuid)', 'definer', 'needs an admin: F0403'),
    ('finicom.api_key_create(uuid, text, finicom.role, text, bytea, timestamptz)', 'definer', 'needs an admin: F0403'),
    ('finicom.invitation_join(bytea)', 'definer', 'needs a signed-in user: F0403'),
    ('finicom.invitation_preview(bytea)', 'definer',
     'needs the SHA-256 of an invitation''s token (only its org''s admins can read it, in their context): '
     'the preview anyone with the link sees; otherwise no row'),
    -- Email verification (sql/0018).
    ('finicom.session_user_json(bytea)', 'definer',
     'needs the SHA-256 of a live session''s token, which finicom_app cannot read: otherwise NULL'),
    ('finicom.email_verify(bytea, text, text)', 'definer',
     'needs the SHA-256 of a verification token, which only its mail holds (no privilege on the table): '
     'otherwise not_found, nothing changed'),
    ('finicom.email_verification_resend(bytea, bytea, text)', 'definer', 'needs a signed-in user: F0403'),
    ('finicom.require_email_verified(boolean)', 'definer',
     'checks the context''s user: without one, nothing to refuse, and it changes nothing'),
    -- GET /readyz (sql/0027).
    ('finicom.schema_version()', 'definer',
     'the highest migration number, the same for everyone: no row of any user or org'),
    -- Password reset and one's own account (sql/0022; tests/sql/21-accounts.sql calls each).
    ('finicom.password_reset_preview(bytea)', 'definer',
     'needs the SHA-256 of a reset token, which only its mail holds (no privilege on the table): '
     'otherwise not_found, and it changes nothing'),
    ('finicom.my_sessions(bytea, integer, integer, timestamptz, uuid)', 'definer',
     'the sessions of the context''s user: without one, no row'),
    ('finicom.session_revoke(uuid, bytea)', 'definer', 'ends only a session of the context''s user: NULL'),
    ('finicom.sessions_revoke_others(bytea)', 'definer', 'ends only sessions of the context''s user: 0'),
    ('finicom.me_update(text)', 'definer', 'renames only the context''s user: NULL');

SELECT set_eq(
    $$SELECT p.oid::regprocedure FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
       WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_temp\_%'
         AND n.nspname NOT LIKE 'pg\_toast%'
         AND has_schema_privilege('finicom_app', n.oid, 'USAGE')
         AND has_function_privilege('finicom_app', p.oid, 'EXECUTE')
         AND NOT EXISTS (SELECT FROM pg_depend e WHERE e.classid = 'pg_proc'::regclass AND e.objid = p.oid
                                                   AND e.deptype = 'e')$$,
    'SELECT fn FROM listed',
    'every function finicom_app may execute is listed here with what it does without a context');

SELECT is((SELECT array_agg(fn::text ORDER BY fn::text) FROM listed l JOIN pg_proc p ON p.oid = l.fn
            WHERE (l.kind = 'reader' AND (p.prosecdef OR p.provolatile = 'v'))
               OR (l.kind = 'writer' AND p.prosecdef)
               OR (l.kind = 'definer' AND NOT p.prosecdef)),
          NULL, 'each listed function is of the kind listed (readers: SECURITY INVOKER and not VOLATILE)');

SELECT is((SELECT array_agg(fn::text ORDER BY fn::text) FROM listed l JOIN pg_proc p ON p.oid = l.fn
            WHERE p.proconfig IS NOT NULL
              AND EXISTS (SELECT FROM unnest(p.proconfig) c WHERE c NOT LIKE 'search\_path=%')),
          NULL, 'no listed function sets anything but its search_path');

-- Functions of extensions finicom_app may execute come only from these
-- (pgtap and dblink exist in test databases only), and pg_cron's schema is
-- closed to it.
SELECT is((SELECT array_agg(DISTINCT x.extname::text ORDER BY x.extname::text)
             FROM pg_proc p JOIN pg_depend e ON e.classid = 'pg_proc'::regclass AND e.objid = p.oid AND e.deptype = 'e'
             JOIN pg_extension x ON x.oid = e.refobjid
            WHERE has_function_privilege('finicom_app', p.oid, 'EXECUTE')
              AND has_schema_privilege('finicom_app', p.pronamespace, 'USAGE')
              AND x.extname NOT IN ('plpgsql', 'pgtap', 'dblink')), NULL,
          'finicom_app executes functions of no other extension');
SELECT ok(NOT has_schema_privilege('finicom_app', 'cron', 'USAGE'), 'finicom_app cannot use pg_cron''s schema');

-- ---------------------------------------------------------------------
-- Readers, called without a context.
SET LOCAL ROLE finicom_app;
SELECT is(ARRAY[finicom.request_actor_type(), finicom.request_actor_id()::text, finicom.request_user_id()::text,
                finicom.request_org_id()::text, finicom.request_org_for('read')::text, finicom.request_role()::text,
                finicom.current_actor_type(), finicom.current_actor_id()::text, finicom.current_user_id()::text,
                finicom.current_org_id()::text],
          array_fill(NULL::text, ARRAY[10]), 'every context helper is NULL without a context');
SELECT is(finicom.has_role(:'o', 'read'), false, 'has_role is false for O without a context');
SELECT is(finicom.context_ok() AND finicom.context_guard(), true, 'the module that guards the context is loaded');
RESET ROLE;
SELECT (i)::text AS inv_row FROM finicom.invitations i WHERE i.id = :'i' \gset
SELECT isnt(finicom.invitation_json(:'inv_row'::finicom.invitations)::text, NULL,
            'control: as the superuser, invitation_json of I''s row is its JSON');
SET LOCAL ROLE finicom_app;
SELECT is(finicom.invitation_json(:'inv_row'::finicom.invitations)::text, NULL,
          'as finicom_app without a context, invitation_json of I''s row (written out by hand) is NULL');
RESET ROLE;

-- ---------------------------------------------------------------------
-- Tables: nothing to read, nothing to change.
CREATE FUNCTION pg_temp.visible_rows() RETURNS text[]
    LANGUAGE plpgsql AS $$
    DECLARE
        t regclass;
        n bigint;
        out text[] := '{}';
    BEGIN
        FOR t IN SELECT c.oid FROM pg_class c
                 WHERE c.relnamespace IN ('finicom'::regnamespace, 'audit'::regnamespace)
                   AND c.relkind IN ('r', 'p', 'v', 'm')
                   AND has_any_column_privilege('finicom_app', c.oid, 'SELECT')
                 ORDER BY c.oid::regclass::text LOOP
            SET LOCAL ROLE finicom_app;
            EXECUTE format('SELECT count(*) FROM %s', t) INTO n;
            RESET ROLE;
            out := out || (t::text || ' ' || n);
        END LOOP;
        RETURN out;
    END
    $$;
SELECT is((SELECT array_agg(r) FROM unnest(pg_temp.visible_rows()) r WHERE r !~ ' 0$'), NULL,
          'every table and view finicom_app may read shows it no row without a context');
SELECT ok(cardinality(pg_temp.visible_rows()) >= 15, 'control: that covers the tables and views it reads');
SELECT is((SELECT array_agg(c.oid::regclass::text ORDER BY 1) FROM pg_class c
            WHERE c.relnamespace = 'finicom'::regnamespace AND c.relkind = 'r'
              AND has_any_column_privilege('finicom_app', c.oid, 'SELECT')
              AND (xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM %s', c.oid::regclass),
                                                      false, true, '')))[1]::text::int = 0),
          NULL, 'control: as the superuser, each of those tables holds fixture rows');

CREATE FUNCTION pg_temp.write_everything() RETURNS text[]
    LANGUAGE plpgsql AS $$
    DECLARE
        t regclass;
        col name;
        out text[] := '{}';
    BEGIN
        FOR t IN SELECT c.oid FROM pg_class c
                 WHERE c.relnamespace IN ('finicom'::regnamespace, 'audit'::regnamespace) AND c.relkind IN ('r', 'p')
                 ORDER BY c.oid::regclass::text LOOP
            IF has_table_privilege('finicom_app', t, 'DELETE') THEN
                out := out || (t::text || ' DELETE ' || pg_temp.outcome(format('DELETE FROM %s', t)));
            END IF;
            FOR col IN SELECT a.attname FROM pg_attribute a
                       WHERE a.attrelid = t AND a.attnum > 0 AND NOT a.attisdropped
                         AND has_column_privilege('finicom_app', t, a.attnum, 'UPDATE') ORDER BY a.attnum LOOP
                out := out || (t::text || ' UPDATE ' || col || ' '
                               || pg_temp.outcome(format('UPDATE %s SET %I = %I', t, col, col)));
            END LOOP;
        END LOOP;
        RETURN out;
    END
    $$;
SELECT is((SELECT array_agg(r) FROM unnest(pg_temp.write_everything()) r WHERE r !~ ' rows 0$'), NULL,
          'every DELETE and every UPDATE finicom_app may run, of every column it may update, changes no row');
SELECT ok(cardinality(pg_temp.write_everything()) >= 20, 'control: that covers its DELETEs and UPDATEs');

SELECT set_eq($$SELECT c.oid::regclass FROM pg_class c
                WHERE c.relnamespace IN ('finicom'::regnamespace, 'audit'::regnamespace) AND c.relkind IN ('r', 'p', 'v')
                  AND has_table_privilege('finicom_app', c.oid, 'INSERT')$$,
              $$VALUES ('finicom.memberships'::regclass), ('finicom.invitations'), ('finicom.api_keys'),
                       ('finicom.sources'), ('finicom.integrations'), ('finicom.destinations'),
                       ('finicom.connections'), ('finicom.connection_integrations'), ('finicom.sync_runs'),
                       ('finicom.access_reviews'), ('finicom.access_review_items')$$,
              'finicom_app may INSERT into these tables only (each tried below)');
SELECT is(ARRAY[
    pg_temp.outcome(format($$INSERT INTO finicom.memberships (org_id, user_id, role) VALUES (%L, %L, 'admin')$$,
                           :'o', :'v')),
    pg_temp.outcome(format($$INSERT INTO finicom.invitations (org_id, email, role, token_hash, expires_at)
                             VALUES (%L, 'x@no-context.test', 'admin', sha256('x'::bytea), now() + interval '1 day')$$, :'o')),
    pg_temp.outcome(format($$INSERT INTO finicom.api_keys (org_id, name, role, prefix, token_hash)
                             VALUES (%L, 'x', 'admin', 'fcm_xxxxxx', sha256('x'::bytea))$$, :'o')),
    pg_temp.outcome(format($$INSERT INTO finicom.sources (org_id, name, type) VALUES (%L, 'x', 'postgres')$$, :'o')),
    pg_temp.outcome(format($$INSERT INTO finicom.integrations (org_id, name, type) VALUES (%L, 'x', 'slack')$$, :'o')),
    pg_temp.outcome(format($$INSERT INTO finicom.destinations (org_id, name, type) VALUES (%L, 'x', 's3')$$, :'o')),
    pg_temp.outcome(format($$INSERT INTO finicom.connections (org_id, name, source_id, destination_id)
                             VALUES (%L, 'x', %L, %L)$$, :'o', :'s', :'d')),
    pg_temp.outcome(format($$INSERT INTO finicom.connection_integrations (org_id, connection_id, integration_id)
                             VALUES (%L, %L, %L)$$, :'o', :'c', :'g')),
    pg_temp.outcome(format($$INSERT INTO finicom.sync_runs (org_id, connection_id) VALUES (%L, %L)$$, :'o', :'c')),
    pg_temp.outcome(format($$INSERT INTO finicom.access_reviews (org_id) VALUES (%L)$$, :'o')),
    pg_temp.outcome(format($$INSERT INTO finicom.access_review_items (org_id, review_id, user_id, role, joined_at)
                             VALUES (%L, %L, %L, 'admin', now())$$, :'o', :'ar', :'u'))],
    array_fill('SQLSTATE 42501'::text, ARRAY[11]),
    'an INSERT into O is refused on each of them (row-level security)');
SELECT is((SELECT array_agg(c.oid::regclass::text || ' ' || p.priv ORDER BY 1) FROM pg_class c
             CROSS JOIN unnest(ARRAY['TRUNCATE', 'REFERENCES', 'TRIGGER']) p (priv)
            WHERE c.relnamespace IN ('finicom'::regnamespace, 'audit'::regnamespace) AND c.relkind IN ('r', 'p')
              AND has_table_privilege('finicom_app', c.oid, p.priv)), NULL,
          'finicom_app may not TRUNCATE, reference or add triggers to any table');

-- Credentials: no hash, no session, no way to make either.
SELECT column_privs_are('finicom', 'users', 'password_hash', 'finicom_app', ARRAY[]::text[],
                        'finicom_app has no privilege on users.password_hash');
SELECT is(pg_temp.outcome('SELECT password_hash FROM finicom.users'), 'SQLSTATE 42501',
          'reading users.password_hash is refused');
SELECT table_privs_are('finicom', 'sessions', 'finicom_app', ARRAY[]::text[],
                       'finicom_app has no privilege on finicom.sessions');
SELECT is(pg_temp.outcome(format($$INSERT INTO finicom.sessions (token_hash, user_id, expires_at)
                                   VALUES (sha256('mine'::bytea), %L, now() + interval '1 day')$$, :'u')),
          'SQLSTATE 42501', 'inserting a session is refused');
SELECT is(pg_temp.outcome('SELECT token_hash FROM finicom.api_keys'), 'SQLSTATE 42501',
          'reading api_keys.token_hash is refused');
SELECT is(pg_temp.outcome('SELECT token_hash FROM finicom.invitations'), 'rows 0',
          'invitations.token_hash: no row without a context');
SELECT is((SELECT array_agg(p.oid::regprocedure::text ORDER BY 1) FROM pg_proc p
            WHERE p.pronamespace = 'finicom'::regnamespace
              AND (p.proname IN ('auth_login_begin', 'auth_login_complete', 'auth_login_failed', 'auth_signup',
                                 'auth_signup_verify', 'invitation_accept_new_user', 'user_create',
                                 'user_create_verified', 'session_create', 'email_verification_issue',
                                 'email_verified_mark', 'context_seal', 'context_enter', 'invitation_admit')
                   -- finicom_auth's but ts and session_user_json (neither returns a hash nor makes anything)
                   OR has_function_privilege('finicom_auth', p.oid, 'EXECUTE')
                      AND p.proname NOT IN ('ts', 'session_user_json'))
              AND has_function_privilege('finicom_app', p.oid, 'EXECUTE')), NULL,
          'finicom_app cannot execute a credential function (finicom_auth''s, user_create, session_create, '
          'signup, issuing or marking an email verification) nor set a context');
SELECT ok((SELECT count(*) >= 5 FROM pg_proc p WHERE p.pronamespace = 'finicom'::regnamespace
            AND has_function_privilege('finicom_auth', p.oid, 'EXECUTE')),
          'control: finicom_auth has the credential functions');
SELECT is(ARRAY[
    pg_temp.outcome($$SELECT * FROM finicom.auth_login_begin('u@no-context.test')$$),
    pg_temp.outcome(format($$SELECT * FROM finicom.auth_login_complete(%L, sha256('mine'::bytea), 3600, NULL, NULL, NULL, NULL)$$, :'u')),
    pg_temp.outcome($$SELECT finicom.auth_login_failed('u@no-context.test', '192.0.2.9', 'forged')$$),
    pg_temp.outcome($$SELECT * FROM finicom.auth_signup('new@no-context.test', 'N', '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA', sha256('mine'::bytea), 3600, NULL, NULL)$$),
    pg_temp.outcome($$SELECT finicom.auth_signup_verify('new@no-context.test', 'N', '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA', sha256('mine'::bytea), 3600, NULL, NULL, sha256('mine-v'::bytea), 'http://x/verify/mine')$$),
    pg_temp.outcome(format($$SELECT finicom.email_verification_issue(%L, sha256('u-session'::bytea), sha256('mine-v'::bytea), 'http://x/verify/mine')$$, :'u')),
    pg_temp.outcome(format($$SELECT finicom.email_verified_mark(%L, NULL, NULL)$$, :'u')),
    pg_temp.outcome($$SELECT * FROM finicom.invitation_accept_new_user(sha256('i-token'::bytea), 'N', '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA', sha256('mine'::bytea), 3600, NULL, NULL)$$),
    pg_temp.outcome(format($$SELECT * FROM finicom.session_create(%L, sha256('mine'::bytea), 3600)$$, :'u'))],
    array_fill('SQLSTATE 42501'::text, ARRAY[9]),
    'calling them is refused: no hash read, no session made, no account, no forged auth event, '
    'no verification issued or marked');
SELECT is(pg_temp.outcome(format($$SELECT set_config('finicom.actor_id', %L, true)$$, :'u')), 'SQLSTATE 42501',
          'nor can it write the context itself (tests/sql/10-security-layer.sql tries every way)');

-- ---------------------------------------------------------------------
-- Writers.
SELECT is(pg_temp.outcome(format($$SELECT 1 WHERE finicom.object_delete('source', %L, %L) = false$$, :'o', :'s')),
          'rows 1', 'object_delete of S: false (deletes nothing)');
SELECT is(pg_temp.outcome(format($$SELECT 1 WHERE finicom.object_delete('connection', %L, %L) = false$$, :'o', :'c')),
          'rows 1', 'object_delete of C: false (deletes nothing)');
SELECT is(pg_temp.outcome(format('SELECT finicom.sync_request(%L, %L)', :'o', :'c')), 'SQLSTATE F0404',
          'sync_request of C: not_found (queues no run)');
SELECT is(pg_temp.outcome(format('SELECT finicom.connection_refs_check(%L, %L, %L, ARRAY[%L]::uuid[])', :'o', :'s', :'d', :'g')),
          'SQLSTATE F0400', 'connection_refs_check of S, D and G: sees none of them');
SELECT is(ARRAY[
    pg_temp.outcome('SELECT finicom.access_review_start(NULL)'),
    pg_temp.outcome(format('SELECT finicom.access_review_lock_open(%L)', :'ar')),
    pg_temp.outcome(format($$SELECT finicom.access_review_decide(%L, %L, 'remove', NULL, NULL)$$, :'ar', :'v')),
    pg_temp.outcome(format('SELECT finicom.access_review_complete(%L)', :'ar')),
    pg_temp.outcome(format('SELECT finicom.access_review_cancel(%L)', :'ar'))],
    ARRAY['SQLSTATE F0403', 'SQLSTATE F0404', 'SQLSTATE F0404', 'SQLSTATE F0404', 'SQLSTATE F0404'],
    'access_review_start: F0403; lock_open, decide, complete and cancel of AR: F0404 (AR stays open, undecided)');

-- ---------------------------------------------------------------------
-- Entry points.
SELECT is(ARRAY[
    pg_temp.outcome(format($$SELECT * FROM finicom.begin_request(NULL, NULL, %L, 43200, 'rid', '192.0.2.1')$$, :'o')),
    pg_temp.outcome(format($$SELECT * FROM finicom.begin_request('session', sha256('guess'::bytea), %L, 43200, 'rid', '192.0.2.1')$$, :'o')),
    pg_temp.outcome(format($$SELECT * FROM finicom.begin_request('api_key', sha256('guess'::bytea), %L, 43200, 'rid', '192.0.2.1')$$, :'o')),
    pg_temp.outcome(format($$SELECT * FROM finicom.begin_request('session', sha256('k-token'::bytea), %L, 43200, 'rid', '192.0.2.1')$$, :'o')),
    pg_temp.outcome(format($$SELECT * FROM finicom.begin_request('user', sha256('u-session'::bytea), %L, 43200, 'rid', '192.0.2.1')$$, :'o'))],
    array_fill('rows 0'::text, ARRAY[5]),
    'begin_request without a live credential of the kind named: no row (no credential, a guess, '
    'a key''s hash as a session, an unknown kind)');
SET LOCAL ROLE finicom_app;
SELECT is(ARRAY[finicom.request_actor_id()::text, finicom.request_org_id()::text, finicom.request_role()::text],
          array_fill(NULL::text, ARRAY[3]), 'and after them the context has no actor, no org and no role');
RESET ROLE;
SELECT is(pg_temp.outcome($$SELECT 1 WHERE finicom.auth_logout(sha256('u-session'::bytea)) = false$$), 'rows 1',
          'auth_logout with U''s session hash: false');
SELECT is((SELECT count(*)::int FROM finicom.sessions WHERE token_hash = sha256('u-session'::bytea)), 1,
          'and U''s session is still there');
SELECT is(ARRAY[
    pg_temp.outcome($$SELECT * FROM finicom.org_create('mine')$$),
    pg_temp.outcome(format($$SELECT finicom.invitation_create(%L, 'me@no-context.test', 'admin', sha256('mine'::bytea), 'http://x/invite/mine')$$, :'o')),
    pg_temp.outcome(format($$SELECT finicom.invitation_resend(%L, %L, sha256('mine'::bytea), 'http://x/invite/mine')$$, :'o', :'i')),
    pg_temp.outcome(format('SELECT finicom.invitation_cancel(%L, %L)', :'o', :'i')),
    pg_temp.outcome(format($$SELECT finicom.api_key_create(%L, 'mine', 'admin', 'fcm_mineab', sha256('mine'::bytea), NULL)$$, :'o')),
    pg_temp.outcome($$SELECT * FROM finicom.invitation_join(sha256('i-token'::bytea))$$)],
    array_fill('SQLSTATE F0403'::text, ARRAY[6]),
    'org_create, invitation_create, _resend, _cancel, api_key_create and invitation_join (with I''s '
    'hash): F0403, each');
SELECT is(pg_temp.outcome($$SELECT * FROM finicom.invitation_preview(sha256('guess'::bytea))$$), 'rows 0',
          'invitation_preview of a guessed hash: no row');
SELECT is(pg_temp.outcome($$SELECT * FROM finicom.invitation_preview(sha256('i-token'::bytea))$$), 'rows 1',
          'invitation_preview of I''s hash: the public preview (the hash is the capability, unreadable without a context)');
SELECT is(pg_temp.outcome($$SELECT 1 FROM finicom.invitation_preview(sha256('i-token'::bytea)) p
                             WHERE p.body::jsonb ?| ARRAY['id', 'token', 'token_hash', 'org_id', 'invited_by_id']$$),
          'rows 0', 'and the preview names no id and no token');

SELECT is(ARRAY[
    pg_temp.outcome($$SELECT 1 WHERE finicom.session_user_json(sha256('guess'::bytea)) IS NULL$$),
    pg_temp.outcome($$SELECT 1 WHERE finicom.session_user_json(sha256('k-token'::bytea)) IS NULL$$),
    pg_temp.outcome($$SELECT 1 FROM finicom.email_verify(sha256('guess'::bytea), '192.0.2.1', 'rid')
                      WHERE outcome = 'not_found'$$),
    pg_temp.outcome($$SELECT 1 FROM finicom.email_verify(sha256('u-session'::bytea), '192.0.2.1', 'rid')
                      WHERE outcome = 'not_found'$$),
    pg_temp.outcome($$SELECT finicom.require_email_verified(true)$$)],
    array_fill('rows 1'::text, ARRAY[5]),
    'session_user_json of a guess or a key''s hash: NULL; email_verify of a guess or a session''s hash: '
    'not_found; require_email_verified: nothing');
SELECT is(pg_temp.outcome($$SELECT finicom.email_verification_resend(sha256('u-session'::bytea),
                              sha256('mine-v'::bytea), 'http://x/verify/mine')$$),
          'SQLSTATE F0403', 'email_verification_resend with U''s session hash: F0403 (mails nothing)');
SELECT is((SELECT count(*)::int FROM finicom.email_verifications
            WHERE user_id = :'u' AND used_at IS NULL AND replaced_at IS NULL
              AND token_hash = sha256('ev-token'::bytea)), 1,
          'and U''s verification token is still the live one, unused');

-- GET /readyz's number (sql/0027): the same as the superuser reads, nothing else.
SELECT max(version)::int AS top FROM finicom.schema_migrations \gset
SELECT is(pg_temp.outcome(format($$SELECT 1 WHERE finicom.schema_version() = %s$$, :'top')), 'rows 1',
          'schema_version() without a context: the highest migration, as the superuser reads it');
SELECT is(pg_temp.outcome($$SELECT 1 FROM finicom.schema_migrations$$), 'SQLSTATE 42501',
          'and the table behind it stays closed to finicom_app');

-- ---------------------------------------------------------------------
-- After all of it: nothing changed.
SELECT is(pg_temp.snapshot(), :'before', 'every table of finicom and audit is as it was before finicom_app''s attempts');
SELECT ok(:'before' ~ 'finicom.users=' AND :'before' ~ 'audit.events=', 'control: the snapshot covers the tables');

SELECT * FROM finish();
ROLLBACK;
