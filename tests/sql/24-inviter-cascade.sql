-- 24-inviter-cascade: invitations die with their inviter's admin role
-- (sql/0024_member_governance.sql, finicom.invitations_follow_inviter).
-- Whatever takes an admin's role away (a demotion, a removal, leaving, the
-- expiry job, a DBA in psql) cancels that person's pending invitations to
-- that org in the same transaction, each with one invitation.canceled
-- event whose actor is system and whose details.reason is
-- inviter_lost_admin; the caller's context is as it was afterwards.
--
-- Words:
--   O         an org with admins A and B; B invited i1, i2 (pending, each
--             with queued mail), i3 (pending but past its expiry) and i4
--             (accepted); A invited ia
--   O2        another org where B is an admin too and invited j1
--   as(u, o)  the context finicom.context_enter() seals for user u in org o,
--             then finicom_app
--   inv(x)    the invitation whose token hash is sha256(x)
CREATE EXTENSION IF NOT EXISTS pgtap;

BEGIN;
SELECT plan(40);

SELECT gen_random_uuid() AS o, gen_random_uuid() AS o2, gen_random_uuid() AS a, gen_random_uuid() AS b,
       gen_random_uuid() AS c, gen_random_uuid() AS d, gen_random_uuid() AS e \gset

INSERT INTO finicom.users (id, email, name, password_hash, email_verified_at)
SELECT id, n || '-' || id || '@cascade.pgtap.test', upper(n), '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA', now()
FROM (VALUES (:'a'::uuid, 'a'), (:'b', 'b'), (:'c', 'c'), (:'d', 'd'), (:'e', 'e')) v (id, n);
INSERT INTO finicom.orgs (id, name) VALUES (:'o', 'pgtap 24 O'), (:'o2', 'pgtap 24 O2');
INSERT INTO finicom.memberships (org_id, user_id, role) VALUES
    (:'o', :'a', 'admin'), (:'o', :'b', 'admin'), (:'o', :'c', 'admin'), (:'o', :'d', 'admin'),
    (:'o', :'e', 'admin'), (:'o2', :'b', 'admin');

CREATE FUNCTION pg_temp.inv(p text) RETURNS uuid
    LANGUAGE sql AS $$ SELECT i.id FROM finicom.invitations i WHERE i.token_hash = sha256(p::bytea) $$;
CREATE FUNCTION pg_temp.invite(p_org uuid, p_by uuid, p_token text, p_expires interval DEFAULT interval '1 day')
    RETURNS void LANGUAGE sql AS $$
    INSERT INTO finicom.invitations (org_id, email, role, token_hash, invited_by, expires_at, created_at)
    VALUES (p_org, p_token || '@invitee.pgtap.test', 'read', sha256(p_token::bytea), p_by, now() + p_expires,
            now() - interval '2 days');
    INSERT INTO finicom.mail_outbox (org_id, invitation_id, recipient, subject, body, link, message_id)
    SELECT p_org, i.id, i.email, 's', 'open http://x/invite/' || p_token, 'http://x/invite/' || p_token,
           '<' || i.id || '@cascade.pgtap.test>'
    FROM finicom.invitations i WHERE i.token_hash = sha256(p_token::bytea)
    $$;
CREATE FUNCTION pg_temp.as_user(p_user uuid, p_org uuid) RETURNS void
    LANGUAGE plpgsql AS $$
    BEGIN
        RESET ROLE;
        PERFORM finicom.context_enter('user', p_user, p_org, 'pgtap-24', '192.0.2.24');
        SET LOCAL ROLE finicom_app;
    END
    $$;
CREATE FUNCTION pg_temp.canceled_events(p_id uuid) RETURNS TABLE (actor_type text, reason text, request_id text)
    LANGUAGE sql AS $$
    SELECT e.actor_type, e.details ->> 'reason', e.request_id FROM audit.events e
    WHERE e.target_id = p_id AND e.action = 'invitation.canceled'
    $$;

SELECT pg_temp.invite(:'o', :'b', 'i1-' || :'b'), pg_temp.invite(:'o', :'b', 'i2-' || :'b'),
       pg_temp.invite(:'o', :'b', 'i3-' || :'b', interval '-1 hour'), pg_temp.invite(:'o', :'b', 'i4-' || :'b'),
       pg_temp.invite(:'o', :'a', 'ia-' || :'a'), pg_temp.invite(:'o2', :'b', 'j1-' || :'b') \gset
UPDATE finicom.invitations SET status = 'accepted', accepted_at = now() WHERE id = pg_temp.inv('i4-' || :'b');

-- ---------------------------------------------------------------------
-- A demotes B through the API's statement.
SELECT FROM pg_temp.as_user(:'a', :'o');
UPDATE finicom.memberships SET role = 'write' WHERE org_id = :'o' AND user_id = :'b';
SELECT is(ARRAY[finicom.request_actor_type(), finicom.request_actor_id()::text, finicom.request_org_id()::text,
                finicom.request_role()::text, current_setting('finicom.request_id')],
          ARRAY['user', :'a', :'o', 'admin', 'pgtap-24'],
          'after the trigger the context is A''s again, as it was');
RESET ROLE;
SELECT results_eq(
    format($$SELECT status::text, cancel_reason, canceled_by IS NULL, canceled_at IS NOT NULL
             FROM finicom.invitations WHERE id IN (%L, %L) ORDER BY id$$, pg_temp.inv('i1-' || :'b'), pg_temp.inv('i2-' || :'b')),
    $$VALUES ('canceled'::text, 'inviter_lost_admin'::text, true, true), ('canceled', 'inviter_lost_admin', true, true)$$,
    'B''s two pending invitations to O are canceled, by nobody, for inviter_lost_admin');
SELECT is((SELECT status::text FROM finicom.invitations WHERE id = pg_temp.inv('i3-' || :'b')), 'pending',
          'one already past its expiry is left to the expiry job (it is expired, not canceled)');
SELECT is((SELECT status::text FROM finicom.invitations WHERE id = pg_temp.inv('i4-' || :'b')), 'accepted',
          'an accepted one stays accepted');
SELECT is((SELECT status::text FROM finicom.invitations WHERE id = pg_temp.inv('ia-' || :'a')), 'pending',
          'A''s invitation stays pending');
SELECT is((SELECT status::text FROM finicom.invitations WHERE id = pg_temp.inv('j1-' || :'b')), 'pending',
          'B''s invitation to O2, where B is still an admin, stays pending');
SELECT set_eq(format('SELECT * FROM pg_temp.canceled_events(%L)', pg_temp.inv('i1-' || :'b')),
              $$VALUES ('system'::text, 'inviter_lost_admin'::text, 'pgtap-24'::text)$$,
              'i1 has exactly one invitation.canceled event: actor system, the reason, the request''s id');
SELECT set_eq(format('SELECT * FROM pg_temp.canceled_events(%L)', pg_temp.inv('i2-' || :'b')),
              $$VALUES ('system'::text, 'inviter_lost_admin'::text, 'pgtap-24'::text)$$, 'i2 likewise');
SELECT results_eq(
    format($$SELECT actor_type, actor_id FROM audit.events WHERE org_id = %L AND target_id = %L AND action = 'member.role_changed'$$, :'o', :'b'),
    format($$VALUES ('user'::text, %L::uuid)$$, :'a'), 'the demotion itself is A''s event');
SELECT is((SELECT array_agg(DISTINCT m.status) FROM finicom.mail_outbox m
            WHERE m.invitation_id IN (pg_temp.inv('i1-' || :'b'), pg_temp.inv('i2-' || :'b'))), ARRAY['canceled'],
          'their queued mail is canceled');
SELECT is((SELECT count(*)::int FROM finicom.mail_outbox m
            WHERE m.invitation_id IN (pg_temp.inv('i1-' || :'b'), pg_temp.inv('i2-' || :'b'))
              AND (m.link IS NOT NULL OR m.body LIKE '%/invite/%')), 0, 'and holds no link any more');
SELECT is((SELECT status FROM finicom.invitation_preview(sha256(('i1-' || :'b')::bytea))), 'canceled',
          'the old link previews as canceled (410 gone)');
SELECT FROM pg_temp.as_user(:'a', :'o');
SELECT throws_ok(format($$SELECT finicom.invitation_resend(%L, %L, sha256('again'::bytea), 'http://x/invite/again')$$,
                        :'o', pg_temp.inv('i1-' || :'b')),
                 'F0409', 'not_pending', 'a canceled invitation cannot be resent back to life');
SELECT FROM pg_temp.as_user(:'e', NULL);
SELECT is((SELECT outcome FROM finicom.invitation_join(sha256(('i1-' || :'b')::bytea))), 'gone',
          'nor accepted');

-- Making B admin again brings nothing back; a no-op role change cancels nothing.
SELECT FROM pg_temp.as_user(:'a', :'o');
UPDATE finicom.memberships SET role = 'admin' WHERE org_id = :'o' AND user_id = :'b';
UPDATE finicom.memberships SET role = 'admin' WHERE org_id = :'o' AND user_id = :'a';
RESET ROLE;
SELECT is((SELECT status::text FROM finicom.invitations WHERE id = pg_temp.inv('ia-' || :'a')), 'pending',
          'an admin''s role set to admin again cancels nothing');

-- ---------------------------------------------------------------------
-- Removal by another admin, leaving, a DBA, the expiry job.
SELECT pg_temp.invite(:'o', :'c', 'c1-' || :'c'), pg_temp.invite(:'o', :'d', 'd1-' || :'d'),
       pg_temp.invite(:'o', :'e', 'e1-' || :'e'), pg_temp.invite(:'o', :'b', 'b5-' || :'b') \gset
SELECT FROM pg_temp.as_user(:'a', :'o');
DELETE FROM finicom.memberships WHERE org_id = :'o' AND user_id = :'c';
RESET ROLE;
SELECT is((SELECT status::text || '/' || cancel_reason FROM finicom.invitations WHERE id = pg_temp.inv('c1-' || :'c')),
          'canceled/inviter_lost_admin', 'C removed by A: C''s invitation is canceled');
SELECT set_eq(format('SELECT actor_type, reason FROM pg_temp.canceled_events(%L)', pg_temp.inv('c1-' || :'c')),
              $$VALUES ('system'::text, 'inviter_lost_admin'::text)$$, 'with its system event');

SELECT FROM pg_temp.as_user(:'d', :'o');
DELETE FROM finicom.memberships WHERE org_id = :'o' AND user_id = :'d';
SELECT is(finicom.request_actor_id()::text, :'d', 'D leaves; D''s context stays D''s');
RESET ROLE;
SELECT is((SELECT status::text || '/' || cancel_reason FROM finicom.invitations WHERE id = pg_temp.inv('d1-' || :'d')),
          'canceled/inviter_lost_admin', 'D left: D''s invitation is canceled');
SELECT set_eq(format('SELECT actor_type, reason FROM pg_temp.canceled_events(%L)', pg_temp.inv('d1-' || :'d')),
              $$VALUES ('system'::text, 'inviter_lost_admin'::text)$$, 'with its system event');

-- A DBA in psql (no context at all).
SELECT FROM finicom.context_enter(NULL, NULL, NULL, NULL, NULL);
UPDATE finicom.memberships SET role = 'read' WHERE org_id = :'o' AND user_id = :'e';
SELECT is(finicom.request_actor_type(), NULL, 'a DBA''s demotion: afterwards there is still no context');
SELECT is((SELECT status::text || '/' || cancel_reason FROM finicom.invitations WHERE id = pg_temp.inv('e1-' || :'e')),
          'canceled/inviter_lost_admin', 'E demoted in psql: E''s invitation is canceled');
SELECT set_eq(format('SELECT actor_type, reason FROM pg_temp.canceled_events(%L)', pg_temp.inv('e1-' || :'e')),
              $$VALUES ('system'::text, 'inviter_lost_admin'::text)$$, 'with a system event');
SELECT results_eq(
    format($$SELECT actor_type FROM audit.events WHERE org_id = %L AND target_id = %L AND action = 'member.role_changed'$$, :'o', :'e'),
    $$VALUES ('db'::text)$$, 'while the demotion is the DBA''s (actor db)');

-- The expiry job: an expired admin's invitations go with the membership.
UPDATE finicom.memberships SET expires_at = now() - interval '1 second' WHERE org_id = :'o' AND user_id = :'b';
SELECT ok(finicom.expire_memberships() >= 1, 'the job removes B''s expired membership');
SELECT is((SELECT status::text || '/' || cancel_reason FROM finicom.invitations WHERE id = pg_temp.inv('b5-' || :'b')),
          'canceled/inviter_lost_admin', 'B expired: B''s invitation is canceled');
SELECT is((SELECT array_agg(action ORDER BY action) FROM audit.events
            WHERE org_id = :'o' AND (target_id = pg_temp.inv('b5-' || :'b') AND action = 'invitation.canceled'
                                    OR target_id = :'b' AND action = 'member.expired')),
          ARRAY['invitation.canceled', 'member.expired'], 'the job wrote member.expired and the cancellation');
SELECT is((SELECT status::text FROM finicom.invitations WHERE id = pg_temp.inv('j1-' || :'b')), 'pending',
          'B''s invitation to O2 is still pending');

-- ---------------------------------------------------------------------
-- An admin's own cancel is still one event, the admin's.
SELECT FROM pg_temp.as_user(:'a', :'o');
SELECT lives_ok(format('SELECT finicom.invitation_cancel(%L, %L)', :'o', pg_temp.inv('ia-' || :'a')), 'A cancels ia');
RESET ROLE;
SELECT results_eq(
    format($$SELECT actor_type, actor_id, details ->> 'reason' FROM audit.events WHERE target_id = %L AND action = 'invitation.canceled'$$,
           pg_temp.inv('ia-' || :'a')),
    format($$VALUES ('user'::text, %L::uuid, NULL::text)$$, :'a'), 'one event, A''s, with no reason');
SELECT is((SELECT cancel_reason FROM finicom.invitations WHERE id = pg_temp.inv('ia-' || :'a')), NULL,
          'and no cancel_reason');
SELECT throws_ok(format($$UPDATE finicom.invitations SET cancel_reason = 'because' WHERE id = %L$$, pg_temp.inv('ia-' || :'a')),
                 '23514', NULL, 'cancel_reason holds only the known reasons');

-- ---------------------------------------------------------------------
-- Deleting an org, or an inviting admin's account, works as before.
SELECT pg_temp.invite(:'o2', :'b', 'j2-' || :'b') \gset
INSERT INTO finicom.memberships (org_id, user_id, role) VALUES (:'o2', :'a', 'admin');
SELECT lives_ok(format('DELETE FROM finicom.users WHERE id = %L', :'b'),
                'deleting B''s account (admin of O2, with pending invitations there) works');
SELECT is((SELECT array_agg(status::text || '/' || coalesce(cancel_reason, '-') ORDER BY created_at, id)
             FROM finicom.invitations WHERE org_id = :'o2'),
          ARRAY['canceled/inviter_lost_admin', 'canceled/inviter_lost_admin'],
          'and cancels B''s invitations to O2 too');
SELECT pg_temp.invite(:'o', :'a', 'ib-' || :'a') \gset
SELECT lives_ok(format('DELETE FROM finicom.orgs WHERE id = %L', :'o'), 'deleting O with pending invitations works');
SELECT is((SELECT count(*)::int FROM finicom.invitations WHERE org_id = :'o'), 0, 'and its invitations go with it');

-- ---------------------------------------------------------------------
-- The pieces.
SELECT trigger_is('finicom', 'memberships', 'memberships_invitations_follow_inviter', 'finicom', 'invitations_follow_inviter',
                  'memberships carry the trigger');
SELECT ok((SELECT prosecdef FROM pg_proc WHERE oid = 'finicom.invitations_follow_inviter()'::regprocedure),
          'its function is SECURITY DEFINER (finicom_owner may switch the context to system)');
SELECT is((SELECT proowner::regrole::text FROM pg_proc WHERE oid = 'finicom.invitations_follow_inviter()'::regprocedure),
          'finicom_owner', 'owned by finicom_owner');
SELECT ok(NOT has_function_privilege('finicom_app', 'finicom.invitations_follow_inviter()', 'EXECUTE'),
          'finicom_app cannot call it');

SELECT * FROM finish();
ROLLBACK;
