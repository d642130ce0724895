-- 06-invitations: finicom.invitations and finicom.mail_outbox (issue 5,
-- "Tests"; sql/0004_invitations.sql, sql/0005_cron.sql).
--
-- Words:
--   fixtures   made here as the superuser, inside the test's transaction
--              (rolled back at the end), named in pg_temp table fx
--   O1         a = admin, w = write, r = read; ka = an admin API key,
--              kr = a read API key; i1 = a pending invitation of O1
--   O2         x = admin; i2 = a pending invitation of O2
--   attempt()  runs one statement as finicom_app with a request context in
--              a subtransaction that is always rolled back, and says what
--              happened: 'rows N' or 'SQLSTATE xxxxx' (as 03-orgs-rls does)
--   race       two dblink connections accepting one token at the same time;
--              its fixture is committed by a third connection and removed
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS dblink;

BEGIN;
SELECT plan(116);

SELECT gen_random_uuid() AS a, gen_random_uuid() AS w, gen_random_uuid() AS r, gen_random_uuid() AS x,
       gen_random_uuid() AS ka, gen_random_uuid() AS kr,
       gen_random_uuid() AS o1, gen_random_uuid() AS o2,
       gen_random_uuid() AS i1, gen_random_uuid() AS i2, gen_random_uuid() AS m1, gen_random_uuid() AS m2
\gset

CREATE TEMP TABLE fx (name text PRIMARY KEY, id uuid NOT NULL);
INSERT INTO fx VALUES ('a', :'a'), ('w', :'w'), ('r', :'r'), ('x', :'x'), ('ka', :'ka'), ('kr', :'kr'),
    ('o1', :'o1'), ('o2', :'o2'), ('i1', :'i1'), ('i2', :'i2'), ('m1', :'m1'), ('m2', :'m2');
GRANT SELECT ON fx TO PUBLIC;

INSERT INTO finicom.users (id, email, name, password_hash)
SELECT id, name || '-' || id || '@inv-rls.test', upper(name), '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA'
FROM fx WHERE name IN ('a', 'w', 'r', 'x');
INSERT INTO finicom.orgs (id, name) VALUES (:'o1', 'inv-rls O1'), (:'o2', 'inv-rls O2');
INSERT INTO finicom.memberships (org_id, user_id, role) VALUES
    (:'o1', :'a', 'admin'), (:'o1', :'w', 'write'), (:'o1', :'r', 'read'), (:'o2', :'x', 'admin');
INSERT INTO finicom.api_keys (org_id, id, name, role, prefix, token_hash) VALUES
    (:'o1', :'ka', 'admin key', 'admin', 'fcm_AAAAAA', sha256(('ka' || :'ka')::bytea)),
    (:'o1', :'kr', 'read key', 'read', 'fcm_BBBBBB', sha256(('kr' || :'kr')::bytea));
INSERT INTO finicom.invitations (org_id, id, email, role, token_hash, invited_by, expires_at) VALUES
    (:'o1', :'i1', 'invitee-1@inv-rls.test', 'read', sha256(('i1' || :'i1')::bytea), :'a', now() + interval '1 day'),
    (:'o2', :'i2', 'invitee-2@inv-rls.test', 'read', sha256(('i2' || :'i2')::bytea), :'x', now() + interval '1 day');
INSERT INTO finicom.mail_outbox (id, org_id, invitation_id, recipient, subject, body, link, message_id) VALUES
    (:'m1', :'o1', :'i1', 'invitee-1@inv-rls.test', 's', 'body with http://x/invite/T1', 'http://x/invite/T1',
     '<' || :'m1' || '@inv-rls.test>'),
    (:'m2', :'o2', :'i2', 'invitee-2@inv-rls.test', 's', 'body with http://x/invite/T2', 'http://x/invite/T2',
     '<' || :'m2' || '@inv-rls.test>');

-- {name} in a statement becomes the fixture's id.
CREATE FUNCTION pg_temp.sub(p_sql text) RETURNS text
    LANGUAGE plpgsql AS $$
    DECLARE
        f record;
    BEGIN
        FOR f IN SELECT name, id FROM fx LOOP
            p_sql := replace(p_sql, '{' || f.name || '}', f.id::text);
        END LOOP;
        RETURN p_sql;
    END
    $$;

-- Run p_sql as p_role (finicom_app by default) with a request context:
-- p_actor a fixture name (a user, or an API key when it starts with k),
-- 'none' (settings RESET) or 'empty' (settings ''); p_org a fixture name
-- or NULL.  Always rolled back; returns 'rows N' or 'SQLSTATE xxxxx'.
CREATE FUNCTION pg_temp.attempt(p_actor text, p_org text, p_sql text, p_role text DEFAULT 'finicom_app')
    RETURNS text
    LANGUAGE plpgsql AS $$
    DECLARE
        v_sql text := pg_temp.sub(p_sql);
        v_actor text := (SELECT id::text FROM fx WHERE name = p_actor);
        v_org text := coalesce((SELECT id::text FROM fx WHERE name = p_org), '');
        v_rows bigint;
        v_outcome text;
    BEGIN
        BEGIN
            EXECUTE format('SET LOCAL ROLE %I', p_role);
            IF p_actor = 'none' THEN
                RESET ROLE; -- only finicom_owner and superusers may touch the context
                RESET finicom.actor_type;
                RESET finicom.actor_id;
                RESET finicom.org_id;
                EXECUTE format('SET LOCAL ROLE %I', p_role);
            ELSIF p_actor = 'empty' THEN
                RESET ROLE;
                PERFORM set_config('finicom.actor_type', '', true), set_config('finicom.actor_id', '', true),
                        set_config('finicom.org_id', '', true);
                EXECUTE format('SET LOCAL ROLE %I', p_role);
            ELSE
                RESET ROLE;
                PERFORM finicom.context_enter(CASE WHEN p_actor LIKE 'k%' THEN 'api_key' ELSE 'user' END,
                                              v_actor::uuid, nullif(v_org, '')::uuid, NULL, NULL);
                EXECUTE format('SET LOCAL ROLE %I', p_role);
            END IF;
            EXECUTE v_sql;
            GET DIAGNOSTICS v_rows = ROW_COUNT;
            RAISE EXCEPTION USING ERRCODE = 'PT001', MESSAGE = 'rows ' || v_rows;
        EXCEPTION WHEN OTHERS THEN
            v_outcome := CASE WHEN SQLSTATE = 'PT001' THEN SQLERRM ELSE 'SQLSTATE ' || SQLSTATE END;
        END;
        RETURN v_outcome;
    END
    $$;

-- ---------------------------------------------------------------------
-- The invitations matrix: admin only, for every command.
CREATE TEMP TABLE matrix (n serial, actor text, org text, sql text, expected text, what text);
INSERT INTO matrix (actor, org, sql, expected, what)
SELECT who.actor, who.org, cmd.sql,
       CASE WHEN who.admin THEN cmd.admin_expected ELSE cmd.expected END,
       who.label || ': ' || cmd.what || ' -> ' || CASE WHEN who.admin THEN cmd.admin_expected ELSE cmd.expected END
FROM (VALUES (1, 'a', 'o1', true, 'admin of O1'), (2, 'w', 'o1', false, 'write of O1'),
             (3, 'r', 'o1', false, 'read of O1'), (4, 'ka', 'o1', true, 'admin API key of O1'),
             (5, 'kr', 'o1', false, 'read API key of O1'), (6, 'x', 'o2', false, 'admin of O2 (other org)'),
             (7, 'none', NULL, false, 'no context'), (8, 'empty', NULL, false, 'empty-string context'))
     AS who (k, actor, org, admin, label)
CROSS JOIN (VALUES
    (1, $$SELECT 1 FROM finicom.invitations WHERE org_id = '{o1}'$$, 'rows 1', 'rows 0', 'SELECT O1''s invitations'),
    (2, $$INSERT INTO finicom.invitations (org_id, email, role, token_hash, expires_at)
          VALUES ('{o1}', 'new@inv-rls.test', 'read', sha256('new'::bytea), now() + interval '1 day')$$,
     'rows 1', 'SQLSTATE 42501', 'INSERT an invitation into O1'),
    (3, $$UPDATE finicom.invitations SET status = 'canceled' WHERE id = '{i1}'$$, 'rows 1', 'rows 0',
     'UPDATE O1''s invitation (cancel)'),
    (4, $$UPDATE finicom.invitations SET expires_at = now() + interval '9 days' WHERE id = '{i1}'$$, 'rows 1', 'rows 0',
     'UPDATE O1''s invitation (expiry)'),
    (5, $$DELETE FROM finicom.invitations WHERE id = '{i1}'$$, 'rows 1', 'rows 0', 'DELETE O1''s invitation')
) AS cmd (k, sql, admin_expected, expected, what)
ORDER BY who.k, cmd.k;

INSERT INTO matrix (actor, org, sql, expected, what) VALUES
    -- An admin of O1 sees nothing of O2 and changes nothing there.
    ('a', 'o1', $$SELECT 1 FROM finicom.invitations WHERE org_id = '{o2}'$$, 'rows 0',
     'admin of O1: SELECT O2''s invitations -> rows 0'),
    ('a', 'o1', $$UPDATE finicom.invitations SET status = 'canceled' WHERE id = '{i2}'$$, 'rows 0',
     'admin of O1: UPDATE O2''s invitation -> rows 0'),
    ('a', 'o1', $$DELETE FROM finicom.invitations WHERE id = '{i2}'$$, 'rows 0',
     'admin of O1: DELETE O2''s invitation -> rows 0'),
    ('a', 'o1', $$INSERT INTO finicom.invitations (org_id, email, role, token_hash, expires_at)
          VALUES ('{o2}', 'new@inv-rls.test', 'read', sha256('new2'::bytea), now() + interval '1 day')$$,
     'SQLSTATE 42501', 'admin of O1: INSERT an invitation into O2 -> refused'),
    -- Writes need the org of the request.
    ('a', NULL, $$UPDATE finicom.invitations SET status = 'canceled' WHERE id = '{i1}'$$, 'rows 0',
     'admin of O1, request without an org: UPDATE -> rows 0'),
    ('a', 'o2', $$DELETE FROM finicom.invitations WHERE id = '{i1}'$$, 'rows 0',
     'admin of O1, request about O2: DELETE O1''s invitation -> rows 0'),
    -- finicom_app cannot rewrite who invited or who accepted (column privileges).
    ('a', 'o1', $$UPDATE finicom.invitations SET invited_by = '{w}' WHERE id = '{i1}'$$, 'SQLSTATE 42501',
     'admin of O1: UPDATE invited_by -> refused (column privilege)'),
    ('a', 'o1', $$UPDATE finicom.invitations SET org_id = '{o2}' WHERE id = '{i1}'$$, 'SQLSTATE 42501',
     'admin of O1: moving an invitation to another org -> refused');

SELECT is(pg_temp.attempt(actor, org, sql), expected, what) FROM matrix ORDER BY n;

-- ---------------------------------------------------------------------
-- The outbox, seen by finicom_app: delivery status of its admin orgs only,
-- never the body, the link, the recipient or the subject.
SELECT is(pg_temp.attempt('a', 'o1', $$SELECT id, status, attempts, last_error FROM finicom.mail_outbox
                                       WHERE id IN ('{m1}', '{m2}')$$),
          'rows 1', 'finicom_app, admin of O1: sees the status of O1''s mail only');
SELECT is(pg_temp.attempt('w', 'o1', $$SELECT id, status FROM finicom.mail_outbox WHERE id IN ('{m1}', '{m2}')$$),
          'rows 0', 'finicom_app, write of O1: sees no outbox row');
SELECT is(pg_temp.attempt('ka', 'o1', $$SELECT id, status FROM finicom.mail_outbox WHERE id IN ('{m1}', '{m2}')$$),
          'rows 1', 'finicom_app, admin API key of O1: sees the status of O1''s mail only');
SELECT is(pg_temp.attempt('none', NULL, $$SELECT id, status FROM finicom.mail_outbox WHERE id IN ('{m1}', '{m2}')$$),
          'rows 0', 'finicom_app, no context: sees no outbox row');
SELECT is(pg_temp.attempt('a', 'o1', $$SELECT body FROM finicom.mail_outbox WHERE id = '{m1}'$$),
          'SQLSTATE 42501', 'finicom_app cannot read an outbox body (column privilege)');
SELECT is(pg_temp.attempt('a', 'o1', $$SELECT link FROM finicom.mail_outbox WHERE id = '{m1}'$$),
          'SQLSTATE 42501', 'finicom_app cannot read an outbox link');
SELECT is(pg_temp.attempt('a', 'o1', $$SELECT recipient, subject FROM finicom.mail_outbox WHERE id = '{m1}'$$),
          'SQLSTATE 42501', 'finicom_app cannot read an outbox recipient or subject');
SELECT is(pg_temp.attempt('a', 'o1', $$SELECT * FROM finicom.mail_outbox$$),
          'SQLSTATE 42501', 'finicom_app cannot SELECT * from the outbox');
SELECT is(pg_temp.attempt('a', 'o1', $$UPDATE finicom.mail_outbox SET status = 'sent' WHERE id = '{m1}'$$),
          'SQLSTATE 42501', 'finicom_app cannot update the outbox');
SELECT is(pg_temp.attempt('a', 'o1', $$DELETE FROM finicom.mail_outbox WHERE id = '{m1}'$$),
          'SQLSTATE 42501', 'finicom_app cannot delete from the outbox');
SELECT is(pg_temp.attempt('a', 'o1', $$INSERT INTO finicom.mail_outbox (org_id, recipient, subject, body, message_id)
                                       VALUES ('{o1}', 'z@inv-rls.test', 's', 'b', '<forged@inv-rls.test>')$$),
          'SQLSTATE 42501', 'finicom_app cannot queue mail directly');

-- ---------------------------------------------------------------------
-- finicom_mailer: the outbox and nothing else.
SELECT is(pg_temp.attempt('none', NULL, $$SELECT id, recipient, subject, body, link, message_id FROM finicom.mail_outbox
                                          WHERE id IN ('{m1}', '{m2}')$$, 'finicom_mailer'),
          'rows 2', 'finicom_mailer reads every outbox row, body and link included');
SELECT is(pg_temp.attempt('none', NULL, $$UPDATE finicom.mail_outbox SET attempts = attempts + 1 WHERE id IN ('{m1}', '{m2}')$$,
                          'finicom_mailer'),
          'rows 2', 'finicom_mailer updates outbox rows');
SELECT is(pg_temp.attempt('none', NULL, $$SELECT finicom.mail_sent('{m1}')$$, 'finicom_mailer'),
          'rows 1', 'finicom_mailer can mark a message sent');
SELECT is(pg_temp.attempt('none', NULL, $$DELETE FROM finicom.mail_outbox WHERE id = '{m1}'$$, 'finicom_mailer'),
          'SQLSTATE 42501', 'finicom_mailer cannot delete outbox rows');
SELECT is(pg_temp.attempt('none', NULL, $$INSERT INTO finicom.mail_outbox (recipient, subject, body, message_id)
                                          VALUES ('z@inv-rls.test', 's', 'b', '<m@inv-rls.test>')$$, 'finicom_mailer'),
          'SQLSTATE 42501', 'finicom_mailer cannot queue mail');
SELECT is(pg_temp.attempt('none', NULL, format('SELECT 1 FROM %s LIMIT 1', t), 'finicom_mailer'), 'SQLSTATE 42501',
          'finicom_mailer cannot SELECT ' || t)
FROM unnest(ARRAY['finicom.users', 'finicom.orgs', 'finicom.invitations', 'finicom.sessions',
                  'finicom.memberships', 'finicom.api_keys', 'audit.events']) AS t;
SELECT is(pg_temp.attempt('none', NULL, $$UPDATE finicom.invitations SET status = 'canceled' WHERE id = '{i1}'$$,
                          'finicom_mailer'),
          'SQLSTATE 42501', 'finicom_mailer cannot update invitations');
SELECT is(pg_temp.attempt('none', NULL, $$SELECT * FROM finicom.invitation_preview(sha256('x'::bytea))$$,
                          'finicom_mailer'),
          'SQLSTATE 42501', 'finicom_mailer cannot call the service''s invitation functions');
-- mail_sent, called by the mailer for real, scrubs the link from the body.
SET LOCAL ROLE finicom_mailer;
SELECT lives_ok(format('SELECT finicom.mail_sent(%L)', :'m1'), 'finicom_mailer marks a message sent');
RESET ROLE;
SELECT is((SELECT body NOT LIKE '%/invite/T1%' AND link IS NULL AND status = 'sent'
           FROM finicom.mail_outbox WHERE id = :'m1'),
          true, 'once sent, the body no longer holds the link and the link column is NULL');

-- ---------------------------------------------------------------------
-- One pending invitation per (org, lower(email)).
SELECT throws_ok(format($$INSERT INTO finicom.invitations (org_id, email, role, token_hash, expires_at)
                          VALUES (%L, 'INVITEE-1@Inv-Rls.test', 'write', sha256('dup'::bytea), now() + interval '1 day')$$,
                        :'o1'),
                 '23505', NULL, 'a second pending invitation for the same email, in another case, is refused');
SELECT lives_ok(format($$INSERT INTO finicom.invitations (org_id, email, role, token_hash, expires_at)
                         VALUES (%L, 'invitee-1@inv-rls.test', 'write', sha256('dup-o2'::bytea), now() + interval '1 day')$$,
                       :'o2'),
                'the same email may have a pending invitation in another org');
SELECT lives_ok(format($$INSERT INTO finicom.invitations (org_id, email, role, token_hash, expires_at, status)
                         VALUES (%L, 'Invitee-1@inv-rls.test', 'read', sha256('dup-canceled'::bytea),
                                 now() + interval '1 day', 'canceled')$$, :'o1'),
                'a canceled invitation for that email beside the pending one is fine');

-- ---------------------------------------------------------------------
-- The expiry function, run as the role of the pg_cron job.
SELECT username AS cron_user FROM cron.job WHERE jobname = 'finicom-expire-invitations' \gset
SELECT gen_random_uuid() AS e_due, gen_random_uuid() AS e_future, gen_random_uuid() AS e_canceled,
       gen_random_uuid() AS e_accepted \gset
INSERT INTO finicom.invitations (org_id, id, email, role, token_hash, expires_at, status) VALUES
    (:'o1', :'e_due', 'due@inv-rls.test', 'read', sha256('e1'::bytea), now() - interval '1 second', 'pending'),
    (:'o1', :'e_future', 'future@inv-rls.test', 'read', sha256('e2'::bytea), now() + interval '1 hour', 'pending'),
    (:'o1', :'e_canceled', 'canc@inv-rls.test', 'read', sha256('e3'::bytea), now() - interval '1 hour', 'canceled'),
    (:'o1', :'e_accepted', 'acc@inv-rls.test', 'read', sha256('e4'::bytea), now() - interval '1 hour', 'accepted');
INSERT INTO finicom.mail_outbox (org_id, invitation_id, recipient, subject, body, link, message_id) VALUES
    (:'o1', :'e_due', 'due@inv-rls.test', 's', 'go to http://x/invite/DUE', 'http://x/invite/DUE', '<due@inv-rls.test>');
SELECT ok((SELECT prosecdef AND proowner = 'finicom_owner'::regrole FROM pg_proc
           WHERE oid = 'finicom.expire_invitations()'::regprocedure),
          'expire_invitations is SECURITY DEFINER, owned by finicom_owner');
-- A context that sees nothing (a read member of another org) must not matter.
SELECT set_config('finicom.actor_type', 'user', true), set_config('finicom.actor_id', :'r', true),
       set_config('finicom.org_id', :'o2', true);
SET LOCAL ROLE :"cron_user";
SELECT cmp_ok(finicom.expire_invitations(), '>=', 1, 'expire_invitations, as the cron job''s role, expires rows');
RESET ROLE;
SELECT results_eq(
    format($$SELECT id, status::text FROM finicom.invitations WHERE id IN (%L, %L, %L, %L) ORDER BY email$$,
           :'e_due', :'e_future', :'e_canceled', :'e_accepted'),
    format($$VALUES (%L::uuid, 'accepted'::text), (%L, 'canceled'), (%L, 'expired'), (%L, 'pending')$$,
           :'e_accepted', :'e_canceled', :'e_due', :'e_future'),
    'only the past-due pending invitation became expired');
SELECT is((SELECT status || ' ' || (link IS NULL) || ' ' || (body NOT LIKE '%/invite/DUE%')
           FROM finicom.mail_outbox WHERE invitation_id = :'e_due'),
          'canceled true true', 'its queued mail is canceled and scrubbed of the link');
SELECT results_eq(format($$SELECT actor_type, actor_id FROM audit.events WHERE target_id = %L AND action = 'invitation.expired'$$,
                         :'e_due'),
                  $$VALUES ('system'::text, NULL::uuid)$$, 'one invitation.expired event, by the system');
SELECT is((SELECT count(*)::int FROM audit.events WHERE target_id IN (:'e_future', :'e_canceled', :'e_accepted')
           AND action = 'invitation.expired'), 0, 'no expiry event for the others');
SELECT is(finicom.expire_invitations(), 0, 'a second run finds nothing more to expire');

-- ---------------------------------------------------------------------
-- Accepting twice on one token without an account: a new account, made by
-- the auth processes' role (sql/0019_auth_role.sql).
SELECT is(pg_temp.attempt('none', NULL, $$SELECT 1 FROM finicom.invitation_accept_new_user(sha256(('i1' || '{i1}')::bytea),
              'Twice', '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA', sha256('s1'::bytea), 3600, '127.0.0.1', 'req-1')
              WHERE outcome = 'ok'$$, 'finicom_auth'), 'rows 1',
          'the first accept of i1 is ok (checked in a subtransaction)');
SELECT is(pg_temp.attempt('none', NULL, $$SELECT 1 FROM finicom.invitation_accept_new_user(sha256(('i1' || '{i1}')::bytea),
              'Twice', '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA', sha256('s1'::bytea), 3600, '127.0.0.1', 'req-1')$$),
          'SQLSTATE 42501', 'finicom_app cannot make an account from an invitation');
RESET finicom.actor_type;
RESET finicom.actor_id;
RESET finicom.org_id;
SET LOCAL ROLE finicom_auth;
SELECT results_eq($$SELECT outcome, status, role FROM finicom.invitation_accept_new_user(sha256(('i1' || (SELECT id FROM fx WHERE name = 'i1'))::bytea),
                      'Twice', '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA', sha256('s1'::bytea), 3600, '127.0.0.1', 'req-1')$$,
                  $$VALUES ('ok'::text, 'accepted'::text, 'read'::text)$$, 'finicom_auth: the first accept is ok');
SELECT results_eq($$SELECT outcome, status FROM finicom.invitation_accept_new_user(sha256(('i1' || (SELECT id FROM fx WHERE name = 'i1'))::bytea),
                      'Again', '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA', sha256('s2'::bytea), 3600, '127.0.0.1', 'req-2')$$,
                  $$VALUES ('gone'::text, 'accepted'::text)$$, 'the second accept of the same token is gone (accepted)');
SELECT results_eq($$SELECT outcome FROM finicom.invitation_accept_new_user(sha256('no such token'::bytea),
                      'X', '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA', sha256('s3'::bytea), 3600, '127.0.0.1', 'req-3')$$,
                  $$VALUES ('not_found'::text)$$, 'an unknown token is not_found');
RESET ROLE;
SELECT is((SELECT count(*)::int FROM finicom.memberships m JOIN finicom.users u ON u.id = m.user_id
           WHERE m.org_id = :'o1' AND lower(u.email) = 'invitee-1@inv-rls.test'), 1,
          'the invitee is a member of O1 exactly once');
SELECT results_eq($$SELECT s.user_id = u.id, u.name FROM finicom.sessions s JOIN finicom.users u ON u.id = s.user_id
                     WHERE s.token_hash = sha256('s1'::bytea)$$,
                  $$VALUES (true, 'Twice'::text)$$, 'the new account has its first session, and the name it was given');
SELECT results_eq(format($$SELECT actor_type, actor_id = (SELECT id FROM finicom.users WHERE lower(email) = 'invitee-1@inv-rls.test'),
                                  request_id, ip
                             FROM audit.events WHERE org_id = %L AND action = 'member.added'
                              AND target_id = (SELECT id FROM finicom.users WHERE lower(email) = 'invitee-1@inv-rls.test')$$, :'o1'),
                  $$VALUES ('user'::text, true, 'req-1'::text, '127.0.0.1'::text)$$,
                  'the membership''s audit event is the new member''s, with the request''s id and address');

-- Accepting as the signed-in user of the context (finicom_app): i2 is for
-- invitee-2, so x (O2's admin) is refused, and no context at all refuses.
INSERT INTO finicom.users (id, email, name, password_hash) VALUES
    (gen_random_uuid(), 'invitee-2@inv-rls.test', 'Invitee Two', '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA');
INSERT INTO fx SELECT 'j2', id FROM finicom.users WHERE email = 'invitee-2@inv-rls.test';
SELECT is(pg_temp.attempt('none', NULL, $$SELECT 1 FROM finicom.invitation_join(sha256(('i2' || '{i2}')::bytea))$$),
          'SQLSTATE F0403', 'invitation_join without a context refuses');
SELECT is(pg_temp.attempt('x', NULL, $$SELECT 1 FROM finicom.invitation_join(sha256(('i2' || '{i2}')::bytea))
              WHERE outcome = 'email_mismatch'$$), 'rows 1', 'invitation_join as another user: email_mismatch');
SELECT is(pg_temp.attempt('ka', NULL, $$SELECT 1 FROM finicom.invitation_join(sha256(('i2' || '{i2}')::bytea))$$),
          'SQLSTATE F0403', 'invitation_join as an API key refuses');
SELECT is(pg_temp.attempt('j2', NULL, $$SELECT 1 FROM finicom.invitation_join(sha256(('i2' || '{i2}')::bytea))
              WHERE outcome = 'ok' AND role = 'read' AND org_id = '{o2}'$$), 'rows 1',
          'invitation_join as the invited user: ok, a read member of O2');
SELECT is(pg_temp.attempt('j2', NULL, $$SELECT 1 FROM finicom.invitation_join(sha256('no such token'::bytea))
              WHERE outcome = 'not_found'$$), 'rows 1', 'invitation_join of an unknown token: not_found');
SELECT is(pg_temp.attempt('none', NULL, $$SELECT 1 FROM finicom.invitation_join(sha256(('i2' || '{i2}')::bytea))$$,
                          'finicom_auth'),
          'SQLSTATE 42501', 'finicom_auth cannot join anyone to an org');
SELECT is((SELECT status::text FROM finicom.invitations WHERE id = :'i2'), 'pending',
          'i2 is still pending (every attempt above was rolled back)');

-- ---------------------------------------------------------------------
-- pg_cron: the jobs, by name and schedule, each calling its function
-- (finicom-seal-audit comes with sql/0010_audit_seal.sql,
-- finicom-access-review-reminders with sql/0025_access_reviews.sql).
SELECT set_eq($$SELECT jobname::text, schedule::text, command::text FROM cron.job WHERE jobname LIKE 'finicom-%'$$,
              $$VALUES ('finicom-expire-invitations', '* * * * *', 'SELECT finicom.expire_invitations()'),
                       ('finicom-purge-sessions', '17 * * * *', 'SELECT finicom.purge_sessions()'),
                       ('finicom-purge-cron-history', '29 3 * * *', 'SELECT finicom.purge_cron_history()'),
                       ('finicom-seal-audit', '* * * * *', 'SELECT audit.seal_pending()'),
                       -- sql/0024_member_governance.sql
                       ('finicom-expire-memberships', '* * * * *', 'SELECT finicom.expire_memberships()'),
                       -- sql/0026_alerts.sql
                       ('finicom-verify-audit-recent', '* * * * *', 'SELECT audit.verify_recent_chains()'),
                       -- sql/0025_access_reviews.sql
                       ('finicom-access-review-reminders', '* * * * *', 'SELECT finicom.access_review_remind()')$$,
              'the pg_cron jobs exist with their names, schedules and commands');
SELECT is((SELECT bool_and(active AND database = current_database()) FROM cron.job WHERE jobname LIKE 'finicom-%'),
          true, 'the jobs are active and run in this database');

-- ---------------------------------------------------------------------
-- The race: two connections accept one token at the same moment.
SELECT 'dbname=' || current_database() || ' user=' || current_user || ' host='
       || split_part(current_setting('unix_socket_directories'), ',', 1)
       || ' port=' || current_setting('port') AS conninfo \gset
SELECT gen_random_uuid() AS race_org, gen_random_uuid() AS race_admin, gen_random_uuid() AS race_inv,
       'race-' || gen_random_uuid() || '@inv-race.pgtap.test' AS race_email \gset

CREATE FUNCTION pg_temp.c2_blocked_by_c1(p_c2 integer, p_c1 integer) RETURNS boolean
    LANGUAGE plpgsql AS $$
    BEGIN
        FOR i IN 1..200 LOOP
            IF p_c1 = ANY (pg_blocking_pids(p_c2)) THEN
                RETURN true;
            END IF;
            IF dblink_is_busy('c2') = 0 THEN
                RETURN false;
            END IF;
            PERFORM pg_sleep(0.05);
        END LOOP;
        RETURN false;
    END
    $$;

SELECT is(ARRAY[dblink_connect('fx', :'conninfo'), dblink_connect('c1', :'conninfo'), dblink_connect('c2', :'conninfo')],
          ARRAY['OK', 'OK', 'OK'], 'three connections open');
SELECT is(dblink_exec('fx', format($$
    BEGIN;
    INSERT INTO finicom.users (id, email, name, password_hash)
        VALUES (%1$L, 'admin-' || %1$L || '@inv-race.pgtap.test', 'Race Admin', '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA');
    INSERT INTO finicom.orgs (id, name) VALUES (%2$L, 'pgtap 06 invitation race');
    INSERT INTO finicom.memberships (org_id, user_id, role) VALUES (%2$L, %1$L, 'admin');
    INSERT INTO finicom.invitations (org_id, id, email, role, token_hash, invited_by, expires_at)
        VALUES (%2$L, %3$L, %4$L, 'write', sha256(('race' || %3$L)::bytea), %1$L, now() + interval '1 hour');
    COMMIT$$, :'race_admin', :'race_org', :'race_inv', :'race_email')), 'COMMIT', 'the race fixture is committed');

SELECT (SELECT pid FROM dblink('c1', 'SELECT pg_backend_pid()') AS t(pid integer)) AS c1_pid,
       (SELECT pid FROM dblink('c2', 'SELECT pg_backend_pid()') AS t(pid integer)) AS c2_pid \gset

SELECT is(dblink_exec('c1', 'BEGIN; SET LOCAL ROLE finicom_auth'), 'SET', 'connection 1 begins');
SELECT results_eq(format($$SELECT outcome FROM dblink('c1', %L) AS t(outcome text)$$,
    format($$SELECT outcome FROM finicom.invitation_accept_new_user(sha256(('race' || %L)::bytea), 'First',
             '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA', sha256(('c1' || %L)::bytea), 3600, NULL, NULL)$$,
           :'race_inv', :'race_inv')),
    $$VALUES ('ok'::text)$$, 'connection 1 accepts (transaction still open)');
SELECT is(dblink_exec('c2', 'SET lock_timeout = ''20s''; BEGIN; SET LOCAL ROLE finicom_auth'), 'SET',
          'connection 2 begins');
SELECT is(dblink_send_query('c2', format(
    $$SELECT outcome, status FROM finicom.invitation_accept_new_user(sha256(('race' || %L)::bytea), 'Second',
      '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA', sha256(('c2' || %L)::bytea), 3600, NULL, NULL)$$,
    :'race_inv', :'race_inv')),
    1, 'connection 2 sends its accept of the same token');
SELECT ok(pg_temp.c2_blocked_by_c1(:c2_pid, :c1_pid), 'connection 2 waits for connection 1 (the invitation row lock)');
SELECT is(dblink_exec('c1', 'COMMIT'), 'COMMIT', 'connection 1 commits');
SELECT results_eq($$SELECT outcome, status FROM dblink_get_result('c2') AS t(outcome text, status text)$$,
                  $$VALUES ('gone'::text, 'accepted'::text)$$, 'connection 2''s accept is gone: already accepted');
SELECT is_empty($$SELECT * FROM dblink_get_result('c2') AS t(outcome text, status text)$$,
                'connection 2 has nothing more to say');
SELECT is(dblink_exec('c2', 'COMMIT'), 'COMMIT', 'connection 2 commits (nothing to commit)');
SELECT results_eq(format('SELECT n FROM dblink(%L, %L) AS t(n bigint)', 'fx', format(
    $$SELECT (SELECT count(*) FROM finicom.memberships m JOIN finicom.users u ON u.id = m.user_id
              WHERE m.org_id = %1$L AND lower(u.email) = lower(%2$L)) * 100
           + (SELECT count(*) FROM finicom.users WHERE lower(email) = lower(%2$L)) * 10
           + (SELECT count(*) FROM finicom.invitations WHERE id = %3$L AND status = 'accepted')$$,
    :'race_org', :'race_email', :'race_inv')),
    ARRAY[111::bigint], 'exactly one membership, one account, and the invitation accepted');
SELECT is(dblink_exec('fx', format($$
    BEGIN;
    DELETE FROM finicom.orgs WHERE id = %L;
    DELETE FROM finicom.users WHERE id = %L OR lower(email) = lower(%L);
    COMMIT$$, :'race_org', :'race_admin', :'race_email')), 'COMMIT', 'the race fixture is removed');
SELECT is(ARRAY[dblink_disconnect('c1'), dblink_disconnect('c2'), dblink_disconnect('fx')],
          ARRAY['OK', 'OK', 'OK'], 'the three connections close');

SELECT * FROM finish();
ROLLBACK;
