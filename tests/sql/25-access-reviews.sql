-- 25-access-reviews: the tables, policies, functions, audit trail, DBA view
-- and reminder job of access reviews (sql/0025_access_reviews.sql).
--
-- Words:
--   fixtures   made here as the superuser, named in the temp table fx:
--              O1 with a = admin, w = write, r = read; O2 with x = admin;
--              rv1 an open review of O1 with an item for each member,
--              rv2 an open review of O2 with x's item; a reminder for each org
--   attempt()  one statement as finicom_app in the request context of an
--              actor and an org, in a subtransaction always rolled back:
--              'rows N' or 'SQLSTATE xxxxx' (as 07-objects-rls.sql)
--   the race   two dblink connections, admins a and b of a third org,
--              start a review at the same moment: one succeeds, the other
--              waits on the unique index and then gets F0409 conflict
-- Run by pg_prove as a superuser.
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS dblink;

BEGIN;

CREATE TEMP TABLE fx (name text PRIMARY KEY, id uuid NOT NULL DEFAULT gen_random_uuid());
INSERT INTO fx (name) VALUES ('a'), ('w'), ('r'), ('x'), ('o1'), ('o2'), ('rv1'), ('rv2');
CREATE FUNCTION pg_temp.fx(p_name text) RETURNS uuid LANGUAGE sql AS $$ SELECT id FROM fx WHERE name = p_name $$;
-- The names are read in statements run as these roles too.
GRANT SELECT ON fx TO finicom_app, finicom_auditor;

INSERT INTO finicom.users (id, email, name, password_hash)
SELECT id, name || '-' || id || '@reviews.pgtap.test', upper(name), '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA'
FROM fx WHERE name IN ('a', 'w', 'r', 'x');
INSERT INTO finicom.orgs (id, name) SELECT id, 'reviews ' || name FROM fx WHERE name IN ('o1', 'o2');
INSERT INTO finicom.memberships (org_id, user_id, role) VALUES
    (pg_temp.fx('o1'), pg_temp.fx('a'), 'admin'), (pg_temp.fx('o1'), pg_temp.fx('w'), 'write'),
    (pg_temp.fx('o1'), pg_temp.fx('r'), 'read'), (pg_temp.fx('o2'), pg_temp.fx('x'), 'admin');
INSERT INTO finicom.access_reviews (org_id, id, created_by) VALUES
    (pg_temp.fx('o1'), pg_temp.fx('rv1'), pg_temp.fx('a')), (pg_temp.fx('o2'), pg_temp.fx('rv2'), pg_temp.fx('x'));
INSERT INTO finicom.access_review_items (org_id, review_id, user_id, role, joined_at)
SELECT m.org_id, CASE WHEN m.org_id = pg_temp.fx('o1') THEN pg_temp.fx('rv1') ELSE pg_temp.fx('rv2') END,
       m.user_id, m.role, m.joined_at
FROM finicom.memberships m WHERE m.org_id IN (pg_temp.fx('o1'), pg_temp.fx('o2'));
INSERT INTO finicom.access_review_reminders (org_id, sent_at) SELECT id, now() FROM fx WHERE name IN ('o1', 'o2');

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

-- Run p_sql as finicom_app in the context of user p_actor in org p_org
-- (fixture names; p_actor 'none': no context at all).
CREATE FUNCTION pg_temp.attempt(p_actor text, p_org text, p_sql text) RETURNS text
    LANGUAGE plpgsql AS $$
    DECLARE
        v_rows bigint;
        v_outcome text;
    BEGIN
        BEGIN
            IF p_actor <> 'none' THEN
                PERFORM finicom.context_enter('user', pg_temp.fx(p_actor), pg_temp.fx(p_org), NULL, NULL);
            END IF;
            SET LOCAL ROLE finicom_app;
            EXECUTE pg_temp.sub(p_sql);
            GET DIAGNOSTICS v_rows = ROW_COUNT;
            RAISE EXCEPTION USING ERRCODE = 'PT001', MESSAGE = 'rows ' || v_rows;
        EXCEPTION WHEN OTHERS THEN
            v_outcome := CASE WHEN SQLSTATE = 'PT001' THEN SQLERRM ELSE 'SQLSTATE ' || SQLSTATE END;
        END;
        RETURN v_outcome;
    END
    $$;

-- ---------------------------------------------------------------------
-- The matrix: each table, each command, on the actor's org (O1) and on the
-- other (O2), for the admin, the writer, the reader, and without a context.
-- Admins' rows only: the writer and the reader see and change nothing.
CREATE TEMP TABLE cmd (k serial, tbl text, what text, sql text, admin text);
INSERT INTO cmd (tbl, what, sql, admin)
SELECT t.tbl, c.what, format(c.sql, t.tbl, t.ins1, t.ins2, t.upd),
       CASE c.what WHEN 'SELECT same org' THEN t.rows WHEN 'UPDATE same org' THEN t.upd_rows
                   WHEN 'INSERT same org' THEN t.ins_ok WHEN 'INSERT other org' THEN 'SQLSTATE 42501'
                   WHEN 'DELETE same org' THEN 'SQLSTATE 42501' WHEN 'DELETE other org' THEN 'SQLSTATE 42501'
                   ELSE 'rows 0' END
FROM (VALUES
    ('access_reviews',
     $$(org_id, status, canceled_at) VALUES ('{o1}', 'canceled', now())$$,
     $$(org_id, status, canceled_at) VALUES ('{o2}', 'canceled', now())$$,
     $$status = status$$, 'rows 1', 'rows 1', 'rows 1'),
    ('access_review_items',
     $$(org_id, review_id, user_id, role, joined_at) VALUES ('{o1}', '{rv1}', '{x}', 'read', now())$$,
     $$(org_id, review_id, user_id, role, joined_at) VALUES ('{o2}', '{rv2}', '{a}', 'read', now())$$,
     $$note = 'n'$$, 'rows 3', 'rows 3', 'rows 1'),
    ('access_review_reminders',
     $$(org_id, sent_at) VALUES ('{o1}', now())$$, $$(org_id, sent_at) VALUES ('{o2}', now())$$,
     $$sent_at = now()$$, 'rows 1', 'SQLSTATE 42501', 'SQLSTATE 42501')
) AS t (tbl, ins1, ins2, upd, rows, upd_rows, ins_ok)
CROSS JOIN (VALUES
    (1, 'SELECT same org', $$SELECT 1 FROM finicom.%1$s WHERE org_id = '{o1}'$$),
    (2, 'SELECT other org', $$SELECT 1 FROM finicom.%1$s WHERE org_id = '{o2}'$$),
    (3, 'INSERT same org', $$INSERT INTO finicom.%1$s %2$s$$),
    (4, 'INSERT other org', $$INSERT INTO finicom.%1$s %3$s$$),
    (5, 'UPDATE same org', $$UPDATE finicom.%1$s SET %4$s WHERE org_id = '{o1}'$$),
    (6, 'UPDATE other org', $$UPDATE finicom.%1$s SET %4$s WHERE org_id = '{o2}'$$),
    (7, 'DELETE same org', $$DELETE FROM finicom.%1$s WHERE org_id = '{o1}'$$),
    (8, 'DELETE other org', $$DELETE FROM finicom.%1$s WHERE org_id = '{o2}'$$)
) AS c (n, what, sql)
ORDER BY t.tbl, c.n;
-- Reminders are the job's: finicom_app may read them (admins), nothing more.
UPDATE cmd SET admin = 'SQLSTATE 42501' WHERE tbl = 'access_review_reminders' AND what ~ '^(INSERT|UPDATE)';

CREATE TEMP TABLE matrix (n serial, actor text, org text, sql text, expected text, what text);
INSERT INTO matrix (actor, org, sql, expected, what)
SELECT who.actor, 'o1', cmd.sql,
       CASE WHEN who.actor = 'a' THEN cmd.admin
            WHEN cmd.what ~ '^(SELECT|UPDATE)' AND NOT (cmd.tbl = 'access_review_reminders' AND cmd.what ~ '^UPDATE')
            THEN 'rows 0' ELSE 'SQLSTATE 42501' END,
       who.label || ': ' || cmd.tbl || ', ' || cmd.what
FROM (VALUES (1, 'a', 'admin'), (2, 'w', 'write'), (3, 'r', 'read'), (4, 'none', 'no context')) AS who (k, actor, label)
CROSS JOIN cmd
ORDER BY who.k, cmd.k;
UPDATE matrix SET what = what || ' -> ' || expected;

SELECT plan((SELECT count(*)::int FROM matrix) + 33);

SELECT is(pg_temp.attempt(actor, org, sql), expected, what) FROM matrix ORDER BY n;

-- ---------------------------------------------------------------------
-- Policies: O(1) per statement (the org check an uncorrelated sub-select).
SELECT is((SELECT array_agg(policyname::text ORDER BY 1) FROM pg_policies
            WHERE schemaname = 'finicom' AND tablename LIKE 'access_review%' AND 'finicom_app' = ANY (roles)
              AND coalesce(qual, with_check) !~ '^\(org_id = \( SELECT finicom\.request_org_for\(''admin''::finicom\.role\)'),
          NULL, 'every finicom_app policy of the review tables is org_id = (SELECT request_org_for(''admin''))');
SELECT is((SELECT count(*)::int FROM pg_policies
            WHERE schemaname = 'finicom' AND tablename LIKE 'access_review%' AND 'finicom_app' = ANY (roles)), 9,
          'control: the nine policies are there (four and four, one for the reminders)');

-- The views the API reads: the verified admin org only.
SELECT is(pg_temp.attempt('a', 'o1', 'SELECT 1 FROM finicom.access_review_rows'), 'rows 1',
          'access_review_rows: an admin of O1 sees O1''s one review');
SELECT is(pg_temp.attempt('w', 'o1', 'SELECT 1 FROM finicom.access_review_rows'), 'rows 0',
          'access_review_rows: the writer sees none');
SELECT is(pg_temp.attempt('none', NULL, 'SELECT 1 FROM finicom.access_review_item_rows'), 'rows 0',
          'access_review_item_rows: nothing without a context');
SELECT is(pg_temp.attempt('a', 'o1', $$SELECT 1 FROM finicom.access_review_item_rows WHERE review_id = '{rv2}'$$),
          'rows 0', 'access_review_item_rows: O2''s items are not in O1''s request');

-- ---------------------------------------------------------------------
-- The workflow functions, in an admin's context.
SELECT is(pg_temp.attempt('a', 'o1', 'SELECT finicom.access_review_start(NULL)'), 'SQLSTATE F0409',
          'a second open review of O1: F0409 conflict (the unique index)');
SELECT is(pg_temp.attempt('x', 'o2', $$SELECT finicom.access_review_complete('{rv2}')$$), 'SQLSTATE F0409',
          'completing with an undecided item: F0409 (review_incomplete)');
SELECT is(pg_temp.attempt('a', 'o1', $$SELECT finicom.access_review_complete('{rv2}')$$), 'SQLSTATE F0404',
          'O1''s admin completing O2''s review: F0404');
SELECT is(pg_temp.attempt('w', 'o1', $$SELECT finicom.access_review_decide('{rv1}', '{w}', 'keep', NULL, NULL)$$),
          'SQLSTATE F0404', 'the writer deciding: F0404 (it sees no review)');
SELECT is(pg_temp.attempt('a', 'o1', $$SELECT finicom.access_review_decide('{rv1}', '{x}', 'keep', NULL, NULL)$$),
          'SQLSTATE F0404', 'deciding for someone who is no item of the review: F0404');
SELECT is(pg_temp.attempt('a', 'o1', $$SELECT finicom.access_review_decide('{rv1}', '{w}', 'change_role', NULL, NULL)$$),
          'SQLSTATE 23514', 'change_role without a new role breaks access_review_items_new_role_check');

-- Completing: all or nothing (the last admin), as the superuser decided.
UPDATE finicom.access_review_items SET decision = 'remove', decided_at = now()
WHERE review_id = pg_temp.fx('rv1') AND user_id IN (pg_temp.fx('a'), pg_temp.fx('w'));
UPDATE finicom.access_review_items SET decision = 'change_role', new_role = 'write', decided_at = now()
WHERE review_id = pg_temp.fx('rv1') AND user_id = pg_temp.fx('r');
SELECT is(pg_temp.attempt('a', 'o1', $$SELECT finicom.access_review_complete('{rv1}')$$), 'SQLSTATE F0409',
          'removing the only admin: F0409 (last_admin) for the whole completion');
SELECT is((SELECT array_agg(role::text ORDER BY role) FROM finicom.memberships WHERE org_id = pg_temp.fx('o1')),
          ARRAY['read', 'write', 'admin'], 'and every membership of O1 is as it was');
UPDATE finicom.access_review_items SET decision = 'change_role', new_role = 'admin'
WHERE review_id = pg_temp.fx('rv1') AND user_id = pg_temp.fx('r');
-- Completed for real now, as a, in this transaction (not an attempt).
SELECT FROM finicom.context_enter('user', pg_temp.fx('a'), pg_temp.fx('o1'), 'rid-25', '192.0.2.25');
SET LOCAL ROLE finicom_app;
SELECT is(finicom.access_review_complete(pg_temp.fx('rv1')) ->> 'status', 'completed',
          'r promoted while a and w are removed: completed');
RESET ROLE;
SELECT is((SELECT array_agg(user_id || ' ' || role ORDER BY user_id) FROM finicom.memberships WHERE org_id = pg_temp.fx('o1')),
          ARRAY[pg_temp.fx('r') || ' admin'], 'O1 has r as its admin, a and w are gone');
SELECT results_eq(
    $$SELECT action, actor_type, request_id FROM audit.events
       WHERE org_id = pg_temp.fx('o1') AND request_id = 'rid-25' ORDER BY at, action$$,
    $$VALUES ('member.role_changed', 'user', 'rid-25'), ('member.removed', 'user', 'rid-25'),
             ('member.removed', 'user', 'rid-25'), ('access_review.completed', 'user', 'rid-25')$$,
    'the completion wrote the member events, then access_review.completed, as a''s request');
SELECT is((SELECT details FROM audit.events WHERE org_id = pg_temp.fx('o1') AND action = 'access_review.completed'),
          jsonb_build_object('items', 3, 'removed', (SELECT jsonb_agg(u ORDER BY u) FROM unnest(ARRAY[pg_temp.fx('a'), pg_temp.fx('w')]) u),
                             'role_changed', jsonb_build_array(pg_temp.fx('r')), 'skipped', '[]'::jsonb),
          'access_review.completed says what it applied');

-- ---------------------------------------------------------------------
-- For DBAs: audit.access_reviews, read by the auditor.
SET LOCAL ROLE finicom_auditor;
SELECT results_eq(
    format($$SELECT email, decision::text, new_role::text, status::text FROM audit.access_reviews
              WHERE review_id = %L ORDER BY email$$, pg_temp.fx('rv1')),
    format($$VALUES (%L, 'remove', NULL, 'completed'), (%L, 'change_role', 'admin', 'completed'),
                    (%L, 'remove', NULL, 'completed')$$,
           'a-' || pg_temp.fx('a') || '@reviews.pgtap.test', 'r-' || pg_temp.fx('r') || '@reviews.pgtap.test',
           'w-' || pg_temp.fx('w') || '@reviews.pgtap.test'),
    'finicom_auditor reads who was reviewed, with which decision, in audit.access_reviews');
RESET ROLE;
SELECT is(pg_temp.attempt('x', 'o2', 'SELECT 1 FROM audit.access_reviews'), 'SQLSTATE 42501',
          'finicom_app cannot read audit.access_reviews');

-- ---------------------------------------------------------------------
-- The reminder job.
SELECT ok((SELECT p.prosecdef AND p.proowner = 'finicom_owner'::regrole
             FROM pg_proc p WHERE p.oid = 'finicom.access_review_remind()'::regprocedure),
          'access_review_remind() is SECURITY DEFINER, owned by finicom_owner');
SELECT ok(NOT has_function_privilege('finicom_app', 'finicom.access_review_remind()', 'EXECUTE'),
          'finicom_app cannot run the reminder job');
SELECT is((SELECT count(*)::int FROM pg_extension WHERE extname = 'pg_cron')
          - (SELECT count(*)::int FROM pg_extension e WHERE e.extname = 'pg_cron'
               AND EXISTS (SELECT FROM cron.job j WHERE j.jobname = 'finicom-access-review-reminders'
                             AND j.command = 'SELECT finicom.access_review_remind()' AND j.schedule = '* * * * *')),
          0, 'where pg_cron is installed, finicom-access-review-reminders runs it every minute');
-- O2 is overdue (made 100 days ago, never reviewed); its reminder is recent.
UPDATE finicom.orgs SET created_at = now() - interval '100 days' WHERE id = pg_temp.fx('o2');
SELECT finicom.access_review_remind() AS n1 \gset
SELECT is((SELECT count(*)::int FROM finicom.mail_outbox WHERE org_id = pg_temp.fx('o2')), 0,
          'reminded less than a week ago: no mail');
UPDATE finicom.access_review_reminders SET sent_at = now() - interval '8 days' WHERE org_id = pg_temp.fx('o2');
SELECT ok(finicom.access_review_remind() >= 1, 'a week later: the job reminds');
SELECT results_eq($$SELECT recipient FROM finicom.mail_outbox WHERE org_id = pg_temp.fx('o2')$$,
                  $$SELECT email FROM finicom.users WHERE id = pg_temp.fx('x')$$,
                  'one mail, to O2''s admin x, through the outbox');
SELECT is((SELECT actor_type || ' ' || actor_label FROM audit.events
            WHERE org_id = pg_temp.fx('o2') AND action = 'access_review.reminded'),
          'system pg_cron', 'access_review.reminded, by the system actor');
SELECT finicom.access_review_remind() AS n2 \gset
SELECT is((SELECT count(*)::int FROM finicom.mail_outbox WHERE org_id = pg_temp.fx('o2')), 1,
          'run again at once: still one mail');

-- ---------------------------------------------------------------------
-- The race: two admins start a review of one org at the same moment.
SELECT 'dbname=' || current_database() || ' user=postgres host='
       || split_part(current_setting('unix_socket_directories'), ',', 1)
       || ' port=' || current_setting('port') AS conninfo \gset
SELECT gen_random_uuid() AS race_org, gen_random_uuid() AS ra, gen_random_uuid() AS rb \gset
SELECT FROM dblink_connect('rfx', :'conninfo') a, dblink_connect('rc1', :'conninfo') b, dblink_connect('rc2', :'conninfo') c;
SELECT is(dblink_exec('rfx', format($$
    BEGIN;
    INSERT INTO finicom.users (id, email, name, password_hash) VALUES
        (%1$L, 'ra-' || %1$L || '@reviews-race.pgtap.test', 'RA', '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA'),
        (%2$L, 'rb-' || %2$L || '@reviews-race.pgtap.test', 'RB', '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA');
    INSERT INTO finicom.orgs (id, name) VALUES (%3$L, 'pgtap 25 review race');
    INSERT INTO finicom.memberships (org_id, user_id, role) VALUES (%3$L, %1$L, 'admin'), (%3$L, %2$L, 'admin');
    COMMIT$$, :'ra', :'rb', :'race_org')), 'COMMIT', 'the race''s fixture (an org with admins ra and rb) is committed');
SELECT (SELECT pid FROM dblink('rc1', 'SELECT pg_backend_pid()') AS t(pid integer)) AS rc1_pid,
       (SELECT pid FROM dblink('rc2', 'SELECT pg_backend_pid()') AS t(pid integer)) AS rc2_pid \gset
SELECT is(dblink_exec('rc1', format($$
    BEGIN;
    SELECT finicom.context_enter('user', %L, %L, NULL, NULL);
    SET LOCAL ROLE finicom_app;
    DO 'BEGIN PERFORM finicom.access_review_start(NULL); END'$$, :'ra', :'race_org')), 'DO',
    'connection 1 (ra) starts a review, transaction still open');
SELECT FROM dblink_exec('rc2', format($$
    SET lock_timeout = '20s';
    BEGIN;
    SELECT finicom.context_enter('user', %L, %L, NULL, NULL);
    SET LOCAL ROLE finicom_app$$, :'rb', :'race_org'));
SELECT FROM dblink_send_query('rc2', 'SELECT finicom.access_review_start(NULL)::text');
CREATE FUNCTION pg_temp.blocked(p_waiter integer, p_holder integer) RETURNS boolean
    LANGUAGE plpgsql AS $$
    BEGIN
        FOR i IN 1..200 LOOP
            IF p_holder = ANY (pg_blocking_pids(p_waiter)) THEN
                RETURN true;
            END IF;
            PERFORM pg_sleep(0.05);
        END LOOP;
        RETURN false;
    END
    $$;
SELECT ok(pg_temp.blocked(:rc2_pid, :rc1_pid), 'connection 2 (rb) waits for connection 1 on the one-open-review index');
SELECT FROM dblink_exec('rc1', 'COMMIT');
SELECT throws_ok($$SELECT * FROM dblink_get_result('rc2') AS t(r text)$$, 'F0409', 'conflict',
                 'connection 2''s review is refused with conflict once connection 1 commits');
SELECT FROM dblink_get_result('rc2') AS t(r text);
SELECT FROM dblink_exec('rc2', 'ROLLBACK');
SELECT is((SELECT n FROM dblink('rfx', format('SELECT count(*) FROM finicom.access_reviews WHERE org_id = %L', :'race_org'))
             AS t(n bigint)), 1::bigint, 'the org has exactly one review');
SELECT FROM dblink_exec('rfx', format($$
    BEGIN;
    DELETE FROM finicom.orgs WHERE id = %L;
    DELETE FROM finicom.users WHERE id IN (%L, %L);
    COMMIT$$, :'race_org', :'ra', :'rb'));
SELECT FROM dblink_disconnect('rc1') a, dblink_disconnect('rc2') b, dblink_disconnect('rfx') c;

SELECT * FROM finish();
ROLLBACK;
