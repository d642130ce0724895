-- 08-audit: the audit trail.  Every audited change makes exactly one event
-- with the right actor type; an event is written pending and sealed into
-- the org's chain by audit.seal_pending() (sql/0010_audit_seal.sql);
-- events cannot be changed or removed; a change made behind the triggers'
-- back is caught by verify_chain; every tenant table has the audit trigger.
-- Run by pg_prove as a superuser.  (Sealing order, concurrency and the
-- seal's own checks: 09-audit-seal.sql.)
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
SELECT plan(34);

-- Tenant tables (those with an org_id, and orgs itself) all carry audit.capture() (the data objects audit.capture_object(), 0016;
-- memberships audit.capture_member(), 0024; access reviews and their items audit.capture_access_review(), 0025).
SELECT is(
    (SELECT array_agg(c.relname::text ORDER BY c.relname)
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'finicom' AND c.relkind = 'r'
        AND (c.relname = 'orgs' OR EXISTS (SELECT 1 FROM pg_attribute a
                                            WHERE a.attrelid = c.oid AND a.attname = 'org_id'))
        -- generated mail and activity stamps are not changes anyone makes
        -- (nor the reminder job's stamps: its events are written by the job, 0025)
        AND c.relname NOT IN ('mail_outbox', 'member_activity', 'access_review_reminders')
        -- alerts are raised by the database; acknowledging one and changing
        -- a rule are audited by their own triggers (sql/0026, 26-alerts.sql)
        AND c.relname NOT IN ('alerts', 'alert_rule_settings')
        AND NOT EXISTS (SELECT 1 FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid
                         WHERE t.tgrelid = c.oid AND p.proname IN ('capture', 'capture_object', 'capture_member', 'capture_access_review')
                           AND p.pronamespace = 'audit'::regnamespace)),
    NULL, 'every tenant table has an audit trigger');

-- A user, an org, a member, as the app would do it.
SELECT finicom.user_create('audit-a@example.test', 'Ann', '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA');
SELECT finicom.user_create('audit-b@example.test', 'Bob', '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA');
CREATE TEMP TABLE ids AS
    SELECT (SELECT id FROM finicom.users WHERE email = 'audit-a@example.test') AS a,
           (SELECT id FROM finicom.users WHERE email = 'audit-b@example.test') AS b,
           NULL::uuid AS org;
GRANT SELECT, UPDATE ON ids TO finicom_app, finicom_auditor, finicom_owner;

-- Ann's request, its context sealed as begin_request seals it (org_create
-- then enters the new org as its admin).
SELECT finicom.context_enter('user', (SELECT a FROM ids), NULL, 'req-audit-1', '192.0.2.7');
SET LOCAL ROLE finicom_app;
UPDATE ids SET org = (SELECT id FROM finicom.org_create('Audited Inc'));
INSERT INTO finicom.memberships (org_id, user_id, role) SELECT org, b, 'read' FROM ids;
UPDATE finicom.memberships SET role = 'write' WHERE org_id = (SELECT org FROM ids) AND user_id = (SELECT b FROM ids);
UPDATE finicom.orgs SET name = 'Audited Ltd' WHERE id = (SELECT org FROM ids);
UPDATE finicom.orgs SET plan = 'pro' WHERE id = (SELECT org FROM ids);
RESET ROLE;

-- Written pending: no seq, no hash yet, and verify_chain says so.
SELECT is((SELECT count(*) FROM audit.events WHERE org_id = (SELECT org FROM ids)
            AND seq IS NULL AND prev_hash IS NULL AND hash IS NULL AND sealed_at IS NULL),
    6::bigint, 'the six events are written pending (no seq, prev_hash, hash)');
SELECT is((SELECT ok::text || ' ' || events || ' ' || pending FROM audit.verify_chain((SELECT org FROM ids))),
    'true 0 6', 'verify_chain: intact, nothing sealed, six pending');
SELECT is(audit.seal_pending((SELECT org FROM ids)), 6::bigint, 'seal_pending seals the six');

SELECT results_eq(
    $$SELECT action, actor_type FROM audit.events WHERE org_id = (SELECT org FROM ids) ORDER BY seq$$,
    $$VALUES ('org.created', 'user'), ('member.added', 'user'), ('member.added', 'user'),
             ('member.role_changed', 'user'), ('org.updated', 'user'), ('billing.updated', 'user')$$,
    'each change made exactly one event, by the user, sealed in the order written');
SELECT is((SELECT array_agg(seq ORDER BY seq) FROM audit.events WHERE org_id = (SELECT org FROM ids)),
    ARRAY[1, 2, 3, 4, 5, 6]::bigint[], 'seq counts 1..6');
SELECT is((SELECT details FROM audit.events WHERE org_id = (SELECT org FROM ids) AND action = 'member.role_changed'),
    '{"old_role": "read", "new_role": "write"}'::jsonb, 'role change details hold old and new role');
SELECT is((SELECT actor_label FROM audit.events WHERE org_id = (SELECT org FROM ids) AND seq = 1),
    'audit-a@example.test', 'actor label is the user''s email');
SELECT is((SELECT ip || ' ' || request_id FROM audit.events WHERE org_id = (SELECT org FROM ids) AND seq = 1),
    '192.0.2.7 req-audit-1', 'ip and request id come from the request context');
SELECT is((SELECT details -> 'changed' FROM audit.events WHERE org_id = (SELECT org FROM ids) AND action = 'org.updated'),
    '["name"]'::jsonb, 'org.updated names the changed field');

-- A DBA in psql: no context (settings that do not verify) -> actor db with the session's role.
SELECT set_config('finicom.actor_type', '', true), set_config('finicom.actor_id', '', true);
UPDATE finicom.memberships SET role = 'read' WHERE org_id = (SELECT org FROM ids) AND user_id = (SELECT b FROM ids);
SELECT is((SELECT actor_type || ':' || actor_label FROM audit.events
            WHERE org_id = (SELECT org FROM ids) ORDER BY at DESC, id DESC LIMIT 1),
    'db:' || session_user, 'a change without context is recorded as db and the session role');
-- ... even when the INSERT itself claims someone else: the database stamps the actor.
INSERT INTO audit.events (org_id, action, actor_type, actor_id, actor_label, ip, request_id)
SELECT org, 'member.added', 'user', a, 'audit-a@example.test', '192.0.2.7', 'req-forged' FROM ids;
SELECT is((SELECT actor_type || ':' || actor_label || ':' || coalesce(request_id, '-') FROM audit.events
            WHERE org_id = (SELECT org FROM ids) ORDER BY at DESC, id DESC LIMIT 1),
    'db:' || session_user || ':-', 'an event INSERTed by hand is the DBA''s, whatever it claims');

-- The expiry job: actor system.
INSERT INTO finicom.invitations (org_id, email, role, token_hash, expires_at)
SELECT org, 'late@example.test', 'read', sha256('audit-invite'::bytea), now() - interval '1 second' FROM ids;
SELECT ok(finicom.expire_invitations() >= 1, 'the expiry function expires the invitation');
SELECT is((SELECT actor_type FROM audit.events WHERE org_id = (SELECT org FROM ids) AND action = 'invitation.expired'),
    'system', 'invitation.expired is recorded as the system');

-- No secret, token or hash in any event.
SELECT is((SELECT count(*) FROM audit.events WHERE org_id = (SELECT org FROM ids)
            AND (details::text LIKE '%argon2%' OR details ? 'token_hash' OR details ? 'password_hash')),
    0::bigint, 'no hash or token in details');

-- The chain is intact, and verify_chain says so: sealed and pending.
SELECT is((SELECT ok::text || ' ' || events || ' ' || pending FROM audit.verify_chain((SELECT org FROM ids))),
    'true 6 4', 'chain intact: six sealed, four pending');
SELECT is(audit.seal_pending((SELECT org FROM ids)), 4::bigint, 'the next seal takes the four');
SELECT is((SELECT ok FROM audit.verify_chain((SELECT org FROM ids))), true, 'chain intact');
SELECT is((SELECT events FROM audit.verify_chain((SELECT org FROM ids))), 10::bigint, 'ten events checked');
SELECT is((SELECT pending FROM audit.verify_chain((SELECT org FROM ids))), 0::bigint, 'none pending');

-- Append-only for the app, the auditor and the owner's everyday path.
SET LOCAL ROLE finicom_app;
SELECT throws_ok($$UPDATE audit.events SET action = 'x'$$, '42501', NULL, 'finicom_app cannot update events');
SELECT throws_ok($$DELETE FROM audit.events$$, '42501', NULL, 'finicom_app cannot delete events');
SELECT throws_ok($$TRUNCATE audit.events$$, '42501', NULL, 'finicom_app cannot truncate events');
SELECT throws_ok($$INSERT INTO audit.events (org_id, action, actor_type) VALUES (gen_random_uuid(), 'x', 'db')$$,
    '42501', NULL, 'finicom_app cannot insert events directly');
RESET ROLE;
SET LOCAL ROLE finicom_auditor;
SELECT throws_ok($$UPDATE audit.events SET action = 'x'$$, '42501', NULL, 'finicom_auditor cannot update events');
SELECT throws_ok($$DELETE FROM audit.events$$, '42501', NULL, 'finicom_auditor cannot delete events');
SELECT ok((SELECT count(*) FROM audit.events WHERE org_id = (SELECT org FROM ids)) = 10, 'finicom_auditor reads events');
SELECT ok((SELECT count(*) FROM audit.access_review WHERE org_id = (SELECT org FROM ids)) = 2,
    'finicom_auditor reads the access review');
SELECT throws_ok($$SELECT * FROM finicom.users$$, '42501', NULL, 'finicom_auditor cannot read finicom tables');
RESET ROLE;
SET LOCAL ROLE finicom_owner;
SELECT throws_ok($$UPDATE audit.events SET action = 'x'$$, '42501', NULL, 'the owner''s UPDATE is refused by trigger');
SELECT throws_ok($$DELETE FROM audit.events$$, '42501', NULL, 'the owner''s DELETE is refused by trigger');
SELECT throws_ok($$TRUNCATE audit.events$$, '42501', NULL, 'the owner''s TRUNCATE is refused by trigger');
RESET ROLE;

-- A superuser who edits an event behind the trigger's back is caught at that event.
ALTER TABLE audit.events DISABLE TRIGGER events_append_only;
UPDATE audit.events SET details = '{"role": "admin"}' WHERE org_id = (SELECT org FROM ids) AND seq = 3;
ALTER TABLE audit.events ENABLE TRIGGER events_append_only;
SELECT is((SELECT ok::text || ' ' || first_bad_seq FROM audit.verify_chain((SELECT org FROM ids))), 'false 3',
    'verify_chain names the edited event');

-- Events outlive their org.
DELETE FROM finicom.orgs WHERE id = (SELECT org FROM ids);
SELECT ok((SELECT count(*) FROM audit.events WHERE org_id = (SELECT org FROM ids)) >= 11
          AND (SELECT action FROM audit.events WHERE org_id = (SELECT org FROM ids)
                ORDER BY at DESC, id DESC LIMIT 1) = 'org.deleted',
    'events stay after the org is deleted, with org.deleted last');

SELECT * FROM finish();
ROLLBACK;
