-- 20-auditor-verifies: finicom_auditor can check a chain
-- (sql/0020_auditor_verifies.sql).  audit.verify_chain() runs with the
-- caller's rights and hashes each event with audit.canonical(): the auditor
-- needs EXECUTE on both, and still cannot write, seal or read finicom.
-- What finicomctl audit-anchor and verify-audit --anchors read as the
-- auditor (chain heads, every event's columns) is readable too.
CREATE EXTENSION IF NOT EXISTS pgtap;

BEGIN;
SELECT plan(9);

SELECT gen_random_uuid() AS o \gset
SELECT audit.append(:'o', 'x.one', NULL, NULL, '{"n": 1}');
SELECT audit.append(:'o', 'x.two', NULL, NULL, '{"n": 2}');
SELECT is(audit.seal_pending(:'o'), 2::bigint, 'two events sealed');

SET LOCAL ROLE finicom_auditor;
SELECT lives_ok(format('SELECT * FROM audit.verify_chain(%L)', :'o'), 'finicom_auditor may run verify_chain');
SELECT results_eq(format('SELECT ok, events, pending FROM audit.verify_chain(%L)', :'o'),
    $$VALUES (true, 2::bigint, 0::bigint)$$, 'and it checks the chain: intact, two sealed, none pending');
SELECT is((SELECT seq FROM audit.chain_heads WHERE org_id = :'o'), 2::bigint,
    'finicom_auditor reads the chain head (audit-anchor)');
SELECT is((SELECT count(*) FROM audit.events WHERE org_id = :'o' AND details::text <> '' AND at IS NOT NULL),
    2::bigint, 'finicom_auditor reads the events'' columns (verify-audit --anchors)');
SELECT throws_ok(format('SELECT audit.seal_pending(%L)', :'o'), '42501', NULL, 'finicom_auditor cannot seal');
SELECT throws_ok($$UPDATE audit.chain_heads SET seq = 0$$, '42501', NULL, 'finicom_auditor cannot move a chain head');
SELECT throws_ok($$DELETE FROM audit.chain_heads$$, '42501', NULL, 'finicom_auditor cannot delete a chain head');
SELECT throws_ok($$SELECT * FROM finicom.orgs$$, '42501', NULL, 'finicom_auditor cannot read finicom tables');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
