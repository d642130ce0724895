-- 09-audit-seal: sealing the audit trail (sql/0010_audit_seal.sql).
-- Events are written pending and sealed by audit.seal_pending() in (at, id)
-- order; a seal is the one UPDATE an event ever takes, and only as the next
-- link of its org's chain; writers in one org never wait for each other or
-- for a sealer; concurrent sealers never fork the chain; pending events are
-- reported; a DBA's edit, deletion or insertion of a sealed event is caught;
-- the sealers that bound the lag (finicom-mailer, pg_cron) may run it.
--
-- Words:
--   O          the org of the single-session parts: its events are written
--              and sealed in this transaction, rolled back at the end
--   fx         a dblink connection that commits: events of the orgs Q, R,
--              S1 and S2 (no org rows: audit.append takes any org id).
--              Committed events stay (events outlive their org), all sealed
--              by the end
--   c1, c2     two more dblink connections: writers and sealers of Q and R
-- The tampering part comes last: its ALTER TABLE ... DISABLE TRIGGER holds
-- a lock on audit.events until this transaction ends.
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS dblink;

BEGIN;
SELECT plan(74);

SELECT 'dbname=' || current_database() || ' user=postgres host='
       || split_part(current_setting('unix_socket_directories'), ',', 1)
       || ' port=' || current_setting('port') AS conninfo \gset
SELECT gen_random_uuid() AS o, gen_random_uuid() AS q, gen_random_uuid() AS r,
       gen_random_uuid() AS s1, gen_random_uuid() AS s2 \gset

-- ---------------------------------------------------------------------
-- Sealing order (one session).

-- Three events in O, written in this order (each later clock_timestamp).
SELECT audit.append(:'o', 'x.first', NULL, NULL, '{"n": 1}');
SELECT audit.append(:'o', 'x.second', NULL, NULL, '{"n": 2}');
SELECT audit.append(:'o', 'x.third', NULL, NULL, '{"n": 3}');
SELECT is((SELECT count(*) FROM audit.events WHERE org_id = :'o' AND seq IS NULL), 3::bigint,
    'three pending events');
SELECT results_eq(format($$SELECT ok, events, first_bad_seq, pending, oldest_pending_at IS NOT NULL
                           FROM audit.verify_chain(%L)$$, :'o'),
    $$VALUES (true, 0::bigint, NULL::bigint, 3::bigint, true)$$,
    'verify_chain: intact, none sealed, three pending, and since when');
SELECT is((SELECT count(*) FROM audit.chain_heads WHERE org_id = :'o'), 0::bigint,
    'writing takes no chain head: writers do not touch it');
SELECT is(audit.seal_pending(:'o'), 3::bigint, 'seal_pending returns how many it sealed');
SELECT results_eq(format($$SELECT action, seq FROM audit.events WHERE org_id = %L ORDER BY at, id$$, :'o'),
    $$VALUES ('x.first', 1::bigint), ('x.second', 2::bigint), ('x.third', 3::bigint)$$,
    'sealed in (at, id) order: seq 1, 2, 3');
SELECT is((SELECT prev_hash FROM audit.events WHERE org_id = :'o' AND seq = 1),
    '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea,
    'the first prev_hash is 32 zero bytes');
SELECT ok((SELECT bool_and(e.prev_hash = p.hash) FROM audit.events e
             JOIN audit.events p ON p.org_id = e.org_id AND p.seq = e.seq - 1 WHERE e.org_id = :'o'),
    'each prev_hash is the hash of the event before');
SELECT ok((SELECT bool_and(hash = sha256(prev_hash || audit.canonical(e))) FROM audit.events e WHERE org_id = :'o'),
    'hash = sha256(prev_hash || canonical event)');
SELECT ok((SELECT bool_and(sealed_at >= at) FROM audit.events WHERE org_id = :'o'), 'sealed_at is stamped');
SELECT results_eq(format($$SELECT seq, hash FROM audit.chain_heads WHERE org_id = %L$$, :'o'),
    format($$SELECT seq, hash FROM audit.events WHERE org_id = %L AND seq = 3$$, :'o'),
    'the chain head is the last sealed event');
SELECT is(audit.seal_pending(:'o'), 0::bigint, 'nothing left: the next call seals nothing');
SELECT is((SELECT ok::text || ' ' || events || ' ' || pending FROM audit.verify_chain(:'o')), 'true 3 0',
    'verify_chain: three sealed, none pending');
SELECT audit.append(:'o', 'x.fourth', NULL, NULL, '{"n": 4}');
SELECT is(audit.seal_pending(:'o'), 1::bigint, 'a later event is sealed by a later call');
SELECT is((SELECT seq FROM audit.events WHERE org_id = :'o' AND action = 'x.fourth'), 4::bigint,
    '... and continues the chain at seq 4');


-- ---------------------------------------------------------------------
-- The seal is the only change an event takes: as the owner (the sealer's
-- role), anything else is refused, and so is a seal that is not exactly
-- the next link of the chain.

SELECT audit.append(:'o', 'x.fifth', NULL, NULL, '{"n": 5}');
SELECT id AS fifth FROM audit.events WHERE org_id = :'o' AND action = 'x.fifth' \gset
SELECT seq AS head_seq, hash AS head_hash FROM audit.chain_heads WHERE org_id = :'o' \gset

-- The hash event p_id would have as seq p_seq after p_prev (with p_details
-- instead of its own, when given).
CREATE FUNCTION pg_temp.link(p_id uuid, p_seq bigint, p_prev bytea, p_details jsonb DEFAULT NULL) RETURNS bytea
    LANGUAGE plpgsql AS $$
    DECLARE
        e audit.events;
    BEGIN
        SELECT * INTO STRICT e FROM audit.events x WHERE x.id = p_id;
        e.seq := p_seq;
        e.details := coalesce(p_details, e.details);
        RETURN sha256(p_prev || audit.canonical(e));
    END
    $$;
-- Seal event p_id by hand (and change its details too, when given).
CREATE FUNCTION pg_temp.try_seal(p_id uuid, p_seq bigint, p_prev bytea, p_hash bytea, p_details jsonb DEFAULT NULL)
    RETURNS void LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE audit.events x SET seq = p_seq, prev_hash = p_prev, hash = p_hash,
                                  details = coalesce(p_details, x.details)
        WHERE x.id = p_id;
    END
    $$;

SET LOCAL ROLE finicom_owner;
SELECT throws_ok(format($$UPDATE audit.events SET details = '{"n": 50}' WHERE id = %L$$, :'fifth'),
    '42501', NULL, 'a pending event''s content cannot be changed');
SELECT throws_ok(format($$DELETE FROM audit.events WHERE id = %L$$, :'fifth'),
    '42501', NULL, 'a pending event cannot be deleted');
SELECT throws_ok(format($$SELECT pg_temp.try_seal(%L, %s, %L, sha256('forged'))$$,
                        :'fifth', :head_seq + 1, :'head_hash'),
    '42501', NULL, 'a seal whose hash is not sha256(prev_hash || event) is refused');
SELECT throws_ok(format($$SELECT pg_temp.try_seal(%1$L, %2$s, %3$L, pg_temp.link(%1$L, %2$s, %3$L))$$,
                        :'fifth', :head_seq + 2, :'head_hash'),
    '42501', NULL, 'a seal that skips a seq (a gap after the head) is refused');
SELECT throws_ok(format($$SELECT pg_temp.try_seal(%1$L, %2$s, %3$L, pg_temp.link(%1$L, %2$s, %3$L))$$,
                        :'fifth', :head_seq, :'head_hash'),
    '23505', NULL, 'a seal that takes the head''s own seq (a fork) is refused by the unique index');
SELECT throws_ok(format($$SELECT pg_temp.try_seal(%1$L, %2$s, %3$L, pg_temp.link(%1$L, %2$s, %3$L))$$,
                        :'fifth', :head_seq + 1, sha256('another chain'::bytea)),
    '42501', NULL, 'a seal onto a prev_hash that is not the head''s is refused');
SELECT throws_ok(format($$SELECT pg_temp.try_seal(%1$L, %2$s, %3$L, pg_temp.link(%1$L, %2$s, %3$L, '{"n": 50}'),
                                                  '{"n": 50}')$$,
                        :'fifth', :head_seq + 1, :'head_hash'),
    '42501', NULL, 'a seal that also changes the event is refused');
SELECT lives_ok(format($$SELECT pg_temp.try_seal(%1$L, %2$s, %3$L, pg_temp.link(%1$L, %2$s, %3$L))$$,
                       :'fifth', :head_seq + 1, :'head_hash'),
    'exactly the next link is accepted, whoever writes it');
SELECT is((SELECT seq FROM audit.chain_heads WHERE org_id = :'o'), :head_seq + 1::bigint,
    'and the chain head moves with it');
SELECT throws_ok(format($$UPDATE audit.events SET seq = 9 WHERE id = %L$$, :'fifth'),
    '42501', NULL, 'a sealed event cannot be sealed again');
SELECT throws_ok(format($$UPDATE audit.events SET seq = NULL, prev_hash = NULL, hash = NULL WHERE id = %L$$, :'fifth'),
    '42501', NULL, 'a sealed event cannot be made pending again');
SELECT throws_ok(format($$INSERT INTO audit.events (org_id, seq, action, actor_type, prev_hash, hash)
                          VALUES (%L, 6, 'x.forged', 'db', %L, sha256('x'))$$, :'o', :'head_hash'),
    '42501', NULL, 'an event cannot be inserted sealed');
RESET ROLE;
SELECT is((SELECT ok::text || ' ' || events || ' ' || pending FROM audit.verify_chain(:'o')), 'true 5 0',
    'after all that, the chain holds five sealed events, intact');

-- ---------------------------------------------------------------------
-- Who may seal: the owner's function, for finicom-mailer (and pg_cron).
SELECT ok(has_function_privilege('finicom_mailer', 'audit.seal_pending(uuid)', 'EXECUTE'),
    'finicom_mailer may call seal_pending');
SELECT ok(NOT has_table_privilege('finicom_mailer', 'audit.events', 'SELECT')
          AND NOT has_table_privilege('finicom_mailer', 'audit.chain_heads', 'SELECT')
          AND NOT has_function_privilege('finicom_mailer', 'audit.verify_chain(uuid)', 'EXECUTE')
          AND NOT has_function_privilege('finicom_mailer', 'audit.seal_org(uuid)', 'EXECUTE'),
    'and nothing else of the audit schema');
SELECT ok(NOT has_function_privilege('finicom_app', 'audit.seal_pending(uuid)', 'EXECUTE')
          AND NOT has_function_privilege('finicom_auditor', 'audit.seal_pending(uuid)', 'EXECUTE')
          AND NOT has_function_privilege('finicom_app', 'audit.seal_org(uuid)', 'EXECUTE'),
    'finicom_app and finicom_auditor may not seal');
SELECT is((SELECT prosecdef::text || ' ' || proowner::regrole::text || ' ' || array_to_string(proconfig, ',')
             FROM pg_proc WHERE oid = 'audit.seal_pending(uuid)'::regprocedure),
    'true finicom_owner search_path=""', 'seal_pending is SECURITY DEFINER, owned by finicom_owner, search_path empty');
SELECT audit.append(:'o', 'x.sixth', NULL, NULL, '{"n": 6}');
SET LOCAL ROLE finicom_mailer;
SELECT is(audit.seal_pending(:'o'), 1::bigint, 'as finicom_mailer, seal_pending seals');
SELECT throws_ok('SELECT 1 FROM audit.events', '42501', NULL, 'finicom_mailer cannot read the events');
RESET ROLE;
SELECT CASE WHEN to_regclass('cron.job') IS NULL THEN skip('pg_cron is not installed in this database', 1)
       ELSE results_eq($$SELECT schedule, command FROM cron.job WHERE jobname = 'finicom-seal-audit'$$,
                       $$VALUES ('* * * * *'::text, 'SELECT audit.seal_pending()'::text)$$,
                       'pg_cron seals every minute (the bound when no mailer runs)') END;

-- ---------------------------------------------------------------------
-- Concurrency: writers and sealers of orgs Q and R in three sessions.  On
-- a running stack finicom-mailer and pg_cron seal too, at any moment: what
-- is checked here holds whoever seals.  (dblink_exec takes no SELECT as the
-- last statement, dblink() returns the first result: one statement each.)

-- p_sql run on connection p_conn, its one bigint result.
CREATE FUNCTION pg_temp.on(p_conn text, p_sql text) RETURNS bigint
    LANGUAGE sql AS $$ SELECT n FROM dblink(p_conn, p_sql) AS t(n bigint) $$;

-- Race two sealers (c1, c2) p_rounds times, fx committing three events of
-- p_org before each round.  Returns how many the two sealed in all.
CREATE FUNCTION pg_temp.race(p_org uuid, p_rounds integer) RETURNS bigint
    LANGUAGE plpgsql AS $$
    DECLARE
        v_sealed bigint := 0;
        v_sql text := format('SELECT audit.seal_pending(%L)', p_org);
    BEGIN
        FOR i IN 1..p_rounds LOOP
            PERFORM dblink_exec('fx', format($q$BEGIN; SELECT audit.append(%1$L, 'q.race', NULL, NULL, NULL);
                SELECT audit.append(%1$L, 'q.race', NULL, NULL, NULL);
                SELECT audit.append(%1$L, 'q.race', NULL, NULL, NULL); COMMIT$q$, p_org));
            PERFORM dblink_send_query('c1', v_sql);
            PERFORM dblink_send_query('c2', v_sql);
            v_sealed := v_sealed + (SELECT n FROM dblink_get_result('c1') AS t(n bigint))
                                 + (SELECT n FROM dblink_get_result('c2') AS t(n bigint));
            PERFORM * FROM dblink_get_result('c1') AS t(n bigint);
            PERFORM * FROM dblink_get_result('c2') AS t(n bigint);
        END LOOP;
        RETURN v_sealed;
    END
    $$;

SELECT is(ARRAY[dblink_connect('fx', :'conninfo'), dblink_connect('c1', :'conninfo'), dblink_connect('c2', :'conninfo')],
          ARRAY['OK', 'OK', 'OK'], 'three connections open');
-- Nobody waits longer than this below: a wait fails the statement.
SELECT is(dblink_exec('c1', $$SET lock_timeout = '2s'$$) || dblink_exec('c2', $$SET lock_timeout = '2s'$$)
          || dblink_exec('fx', $$SET lock_timeout = '2s'$$), 'SETSETSET', 'lock_timeout 2 s everywhere');

-- Two writers of Q, both transactions open: the second does not wait for the first.
SELECT is(dblink_exec('c1', format($$BEGIN; SELECT audit.append(%L, 'q.c1', NULL, NULL, NULL); SET LOCAL foo.bar = 1$$,
                                   :'q')),
    'SET', 'connection 1 writes an event of Q and keeps its transaction open');
SELECT is(dblink_exec('c2', format($$BEGIN; SELECT audit.append(%L, 'q.c2', NULL, NULL, NULL); COMMIT$$, :'q')),
    'COMMIT', 'connection 2 writes an event of Q and commits, without waiting for connection 1');
SELECT lives_ok(format('SELECT pg_temp.on(%L, %L)', 'fx', format('SELECT audit.seal_pending(%L)', :'q')),
    'a sealer does not wait for the open writer either');
SELECT results_eq(format($$SELECT * FROM dblink('fx', %L) AS t(action text, sealed boolean)$$,
                         format('SELECT action, seq IS NOT NULL FROM audit.events WHERE org_id = %L', :'q')),
    $$VALUES ('q.c2', true)$$, 'the committed event is sealed; the open one is not seen');
SELECT is(dblink_exec('c1', 'COMMIT'), 'COMMIT', 'connection 1 commits');
SELECT lives_ok(format('SELECT pg_temp.on(%L, %L)', 'fx', format('SELECT audit.seal_pending(%L)', :'q')),
    'a sealer seals it');
SELECT results_eq(format($$SELECT * FROM dblink('fx', %L) AS t(action text, seq bigint)$$,
                         format('SELECT action, seq FROM audit.events WHERE org_id = %L ORDER BY at, id', :'q')),
    $$VALUES ('q.c1', 2::bigint), ('q.c2', 1::bigint)$$,
    'seq is the order of sealing: the event committed later comes later, though written first');

-- A sealer holds Q's head: a writer does not wait, a second sealer skips Q.
SELECT is(dblink_exec('c1', 'BEGIN'), 'BEGIN', 'connection 1 begins');
SELECT is(pg_temp.on('c1', format('SELECT seq FROM audit.chain_heads WHERE org_id = %L FOR UPDATE', :'q')), 2::bigint,
    'connection 1 holds Q''s chain head, as a sealer does while it seals');
SELECT is(dblink_exec('fx', format($$SELECT audit.append(%L, 'q.fx1', NULL, NULL, NULL); SET foo.bar = 1$$, :'q')),
    'SET', 'a writer of Q commits meanwhile, without waiting');
SELECT is(pg_temp.on('c2', format('SELECT audit.seal_pending(%L)', :'q')), 0::bigint,
    'a second sealer skips Q at once: it neither waits nor forks');
SELECT is(pg_temp.on('fx', format('SELECT pending FROM audit.verify_chain(%L)', :'q')), 1::bigint,
    'the event stays pending while the head is held');
SELECT is(dblink_exec('c1', 'COMMIT'), 'COMMIT', 'connection 1 lets go');
SELECT lives_ok(format('SELECT pg_temp.on(%L, %L)', 'c2', format('SELECT audit.seal_pending(%L)', :'q')),
    'the second sealer again');
SELECT is(pg_temp.on('fx', format('SELECT pending FROM audit.verify_chain(%L)', :'q')), 0::bigint,
    'now it has sealed the event');

-- Two sealers racing, twenty rounds, with a writer: still one chain.
SELECT cmp_ok(pg_temp.race(:'q', 20), '<=', 60::bigint, 'two sealers racing seal each event at most once');
SELECT lives_ok(format('SELECT pg_temp.on(%L, %L)', 'fx', format('SELECT audit.seal_pending(%L)', :'q')),
    'a last seal');
SELECT results_eq(format($$SELECT * FROM dblink('fx', %L) AS t(n bigint, seqs bigint, top bigint)$$,
                         format('SELECT count(*), count(DISTINCT seq), max(seq) FROM audit.events WHERE org_id = %L',
                                :'q')),
    $$VALUES (63::bigint, 63::bigint, 63::bigint)$$, 'Q: 63 events, seq 1..63, none given out twice');
SELECT results_eq(format($$SELECT * FROM dblink('fx', %L) AS t(ok boolean, events bigint, pending bigint)$$,
                         format('SELECT ok, events, pending FROM audit.verify_chain(%L)', :'q')),
    $$VALUES (true, 63::bigint, 0::bigint)$$, 'Q''s chain verifies, nothing pending');

-- The first seal of an org: a second sealer skips it, without waiting
-- for the first one's new head.
SELECT is(dblink_exec('c1', format($$BEGIN; SELECT audit.append(%L, 'r.1', NULL, NULL, NULL); SET LOCAL foo.bar = 1$$,
                                   :'r')),
    'SET', 'connection 1 writes the first event of a new org R');
SELECT is(pg_temp.on('c1', format('SELECT audit.seal_pending(%L)', :'r')), 1::bigint,
    'and seals it, making R''s chain head (transaction open)');
SELECT is(dblink_exec('fx', format($$SELECT audit.append(%L, 'r.2', NULL, NULL, NULL); SET foo.bar = 1$$, :'r')),
    'SET', 'another event of R is committed');
SELECT is(pg_temp.on('c2', format('SELECT audit.seal_pending(%L)', :'r')), 0::bigint,
    'a second sealer skips R at once');
SELECT is(dblink_exec('c1', 'COMMIT'), 'COMMIT', 'connection 1 commits R''s first seal');
SELECT lives_ok(format('SELECT pg_temp.on(%L, %L)', 'c2', format('SELECT audit.seal_pending(%L)', :'r')),
    'the second sealer again');
SELECT results_eq(format($$SELECT * FROM dblink('fx', %L) AS t(ok boolean, events bigint, pending bigint)$$,
                         format('SELECT ok, events, pending FROM audit.verify_chain(%L)', :'r')),
    $$VALUES (true, 2::bigint, 0::bigint)$$, 'R''s chain holds both, in one chain');

-- seal_pending() without an org: every org's.
SELECT is(dblink_exec('fx', format($$BEGIN; SELECT audit.append(%L, 's.1', NULL, NULL, NULL);
                                     SELECT audit.append(%L, 's.1', NULL, NULL, NULL); COMMIT$$, :'s1', :'s2')),
    'COMMIT', 'events of two more orgs are committed');
SELECT lives_ok($$SELECT pg_temp.on('fx', 'SELECT audit.seal_pending()')$$, 'seal_pending() without an org');
SELECT is(pg_temp.on('fx', format('SELECT count(*) FROM audit.events WHERE org_id IN (%L, %L) AND seq IS NULL',
                                  :'s1', :'s2')),
    0::bigint, 'has sealed the pending events of every org');

SELECT is(ARRAY[dblink_disconnect('c1'), dblink_disconnect('c2'), dblink_disconnect('fx')],
          ARRAY['OK', 'OK', 'OK'], 'the three connections close');

-- ---------------------------------------------------------------------
-- A superuser behind the triggers' back: every edit, deletion or insertion
-- of a sealed event is caught and named (each undone after its check).
ALTER TABLE audit.events DISABLE TRIGGER events_append_only;
SAVEPOINT tamper;
UPDATE audit.events SET details = '{"n": 20}' WHERE org_id = :'o' AND seq = 2;
SELECT results_eq(format($$SELECT ok, first_bad_seq, first_bad_id, reason FROM audit.verify_chain(%L)$$, :'o'),
    format($$SELECT false, 2::bigint, id, 'the event was changed after it was written'::text
             FROM audit.events WHERE org_id = %L AND seq = 2$$, :'o'),
    'an edited sealed event is named');
ROLLBACK TO SAVEPOINT tamper;
DELETE FROM audit.events WHERE org_id = :'o' AND seq = 2;
SELECT results_eq(format($$SELECT ok, first_bad_seq, reason FROM audit.verify_chain(%L)$$, :'o'),
    $$VALUES (false, 3::bigint, 'event 2 is missing before this one'::text)$$,
    'a deleted sealed event is caught at the one after it');
ROLLBACK TO SAVEPOINT tamper;
SELECT max(seq) AS last FROM audit.events WHERE org_id = :'o' \gset
DELETE FROM audit.events WHERE org_id = :'o' AND seq = :last;
SELECT results_eq(format($$SELECT ok, first_bad_seq, reason FROM audit.verify_chain(%L)$$, :'o'),
    format($$VALUES (false, %s::bigint, 'events after the last one present are missing'::text)$$, :last),
    'a deleted last event is caught by the chain head');
ROLLBACK TO SAVEPOINT tamper;
UPDATE audit.events SET seq = NULL, prev_hash = NULL, hash = NULL, sealed_at = NULL WHERE org_id = :'o' AND seq = 2;
SELECT results_eq(format($$SELECT ok, first_bad_seq, pending FROM audit.verify_chain(%L)$$, :'o'),
    $$VALUES (false, 3::bigint, 1::bigint)$$,
    'a sealed event made pending again is caught (missing from the chain)');
SELECT is(audit.seal_pending(:'o'), 1::bigint, 'the sealer then seals it again, at the end of the chain');
SELECT is((SELECT ok::text || ' ' || first_bad_seq FROM audit.verify_chain(:'o')), 'false 3',
    '... and the hole it left is still named');
ROLLBACK TO SAVEPOINT tamper;
ALTER TABLE audit.events DISABLE TRIGGER events_stamp;
INSERT INTO audit.events (org_id, seq, action, actor_type, prev_hash, hash)
SELECT :'o', :last + 1, 'x.forged', 'user', h.hash, sha256('forged') FROM audit.chain_heads h WHERE h.org_id = :'o';
SELECT results_eq(format($$SELECT ok, first_bad_seq FROM audit.verify_chain(%L)$$, :'o'),
    format($$VALUES (false, %s::bigint)$$, :last + 1), 'an event inserted sealed behind the triggers'' back is named');
ROLLBACK TO SAVEPOINT tamper;
ALTER TABLE audit.events ENABLE TRIGGER events_append_only;
SELECT is((SELECT ok FROM audit.verify_chain(:'o')), true, 'undone, the chain is intact again');


SELECT * FROM finish();
ROLLBACK;
