-- 11-invitation-limits: invitation mail is bounded (sql/0012_invitation_limits.sql).
--
-- Words:
--   O1, O2     two orgs; a = admin of O1, x = admin of O2
--   invite()   finicom.invitation_create as finicom_app in a's context in
--              O1, in a subtransaction always rolled back: 'ok',
--              'SQLSTATE xxxxx' or, for F0429, 'F0429 <hint>'
--   filler     mail_outbox rows made here as the superuser, with the
--              created_at a test needs (the windows are the last hour or day)
-- Run by pg_prove as a superuser, in one transaction rolled back at the end.
CREATE EXTENSION IF NOT EXISTS pgtap;

BEGIN;
SELECT plan(13);

SELECT gen_random_uuid() AS a, gen_random_uuid() AS x, gen_random_uuid() AS o1, gen_random_uuid() AS o2 \gset

INSERT INTO finicom.users (id, email, name, password_hash)
SELECT id, 'lim-' || id || '@limits.test', 'L', '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA'
FROM unnest(ARRAY[:'a', :'x']::uuid[]) id;
INSERT INTO finicom.orgs (id, name) VALUES (:'o1', 'limits O1'), (:'o2', 'limits O2');
INSERT INTO finicom.memberships (org_id, user_id, role) VALUES (:'o1', :'a', 'admin'), (:'o2', :'x', 'admin');

-- p_fn(args) as finicom_app in p_admin's context in p_org, rolled back.
CREATE FUNCTION pg_temp.try(p_admin uuid, p_org uuid, p_sql text) RETURNS text LANGUAGE plpgsql AS $$
    BEGIN
        BEGIN
            PERFORM finicom.context_enter('user', p_admin, p_org, NULL, NULL);
            SET LOCAL ROLE finicom_app;
            EXECUTE p_sql;
            RAISE EXCEPTION USING ERRCODE = 'PT001', MESSAGE = 'ok';
        EXCEPTION WHEN OTHERS THEN
            DECLARE
                v_hint text;
            BEGIN
                GET STACKED DIAGNOSTICS v_hint = PG_EXCEPTION_HINT;
                RETURN CASE WHEN SQLSTATE = 'PT001' THEN 'ok'
                            WHEN SQLSTATE = 'F0429' THEN 'F0429 ' || v_hint
                            ELSE 'SQLSTATE ' || SQLSTATE END;
            END;
        END;
    END
    $$;
CREATE FUNCTION pg_temp.invite(p_org uuid, p_admin uuid, p_email text) RETURNS text LANGUAGE sql AS $$
    SELECT pg_temp.try(p_admin, p_org, format(
        $f$SELECT finicom.invitation_create(%L, %L, 'read', sha256(%L::bytea), 'http://x/invite/T')$f$,
        p_org, p_email, gen_random_uuid()::text))
$$;
-- n invitation mails of p_org to p_to, p_age ago.
CREATE FUNCTION pg_temp.filler(p_org uuid, p_to text, n integer, p_age interval) RETURNS void LANGUAGE sql AS $$
    INSERT INTO finicom.mail_outbox (org_id, invitation_id, recipient, subject, body, message_id, created_at, status)
    SELECT p_org, gen_random_uuid(), p_to || k || '@limits.test', 's', 'b',
           '<' || gen_random_uuid() || '@limits.test>', now() - p_age, 'sent'
    FROM generate_series(1, n) k
$$;

-- Per org: 200 an hour.
SELECT pg_temp.filler(:'o1', 'someone-', 199, interval '10 minutes');
SELECT is(pg_temp.invite(:'o1', :'a', 'one-more@limits.test'), 'ok',
          'the 200th invitation mail of an org in an hour is sent');
SELECT pg_temp.filler(:'o1', 'someone-else-', 1, interval '10 minutes');
SELECT matches(pg_temp.invite(:'o1', :'a', 'one-more@limits.test'), '^F0429 (29[5-9][0-9]|3000)$',
               'the 201st is refused (F0429), retry after the oldest leaves the hour (about 50 minutes)');
SELECT is(pg_temp.invite(:'o2', :'x', 'one-more@limits.test'), 'ok',
          'another org is not limited by O1''s mail');
UPDATE finicom.mail_outbox SET created_at = now() - interval '61 minutes' WHERE org_id = :'o1';
SELECT is(pg_temp.invite(:'o1', :'a', 'one-more@limits.test'), 'ok',
          'mail older than an hour no longer counts');
DELETE FROM finicom.mail_outbox WHERE org_id = :'o1';

-- Per recipient: 10 a day across all orgs, addresses compared ASCII-lowercased.
INSERT INTO finicom.mail_outbox (org_id, invitation_id, recipient, subject, body, message_id, created_at)
SELECT CASE WHEN k % 2 = 0 THEN :'o1'::uuid ELSE :'o2'::uuid END, gen_random_uuid(),
       CASE WHEN k % 3 = 0 THEN 'Victim@Limits.TEST' ELSE 'victim@limits.test' END, 's', 'b',
       '<' || gen_random_uuid() || '@limits.test>', now() - interval '3 hours'
FROM generate_series(1, 9) k;
SELECT is(pg_temp.invite(:'o1', :'a', 'victim@limits.test'), 'ok',
          'the 10th invitation mail to an address in a day is sent');
INSERT INTO finicom.mail_outbox (org_id, invitation_id, recipient, subject, body, message_id, created_at)
VALUES (:'o2', gen_random_uuid(), 'victim@limits.test', 's', 'b', '<' || gen_random_uuid() || '@limits.test>',
        now() - interval '3 hours');
SELECT matches(pg_temp.invite(:'o1', :'a', 'VICTIM@limits.test'), '^F0429 7[0-9]{4}$',
               'the 11th, from any org and in any ASCII case, is refused; retry in about 21 hours');
SELECT is(pg_temp.invite(:'o1', :'a', 'victim2@limits.test'), 'ok', 'another address is not limited');
UPDATE finicom.mail_outbox SET created_at = now() - interval '25 hours' WHERE recipient ILIKE 'victim@limits.test';
SELECT is(pg_temp.invite(:'o1', :'a', 'victim@limits.test'), 'ok', 'mail older than a day no longer counts');

-- Per invitation: 5 resends a day; the first mail does not count.
RESET ROLE;
SELECT finicom.context_enter('user', :'a', :'o1', NULL, NULL);
SELECT (finicom.invitation_create(:'o1', 'resent@limits.test', 'read', sha256('r0'::bytea), 'http://x/invite/R0')::json ->> 'id')
    AS inv \gset
CREATE FUNCTION pg_temp.resend(p_org uuid, p_admin uuid, p_inv uuid, k integer) RETURNS text LANGUAGE sql AS $$
    SELECT pg_temp.try(p_admin, p_org, format(
        $f$SELECT finicom.invitation_resend(%L, %L, sha256(%L::bytea), 'http://x/invite/R')$f$,
        p_org, p_inv, 'r' || k || gen_random_uuid()))
$$;
-- Four resends an hour ago (the subtransactions of try() roll theirs back,
-- so these are written here, as the resends would have written them).
INSERT INTO finicom.mail_outbox (org_id, invitation_id, recipient, subject, body, message_id, created_at, status)
SELECT :'o1', :'inv', 'resent@limits.test', 's', 'b', '<' || gen_random_uuid() || '@limits.test>',
       now() + interval '1 second' - interval '1 hour', 'sent'
FROM generate_series(1, 4);
UPDATE finicom.mail_outbox SET created_at = now() - interval '2 hours'
WHERE invitation_id = :'inv' AND created_at = now();
SELECT is(pg_temp.resend(:'o1', :'a', :'inv', 5), 'ok', 'the 5th resend of an invitation in a day is sent');
INSERT INTO finicom.mail_outbox (org_id, invitation_id, recipient, subject, body, message_id, created_at, status)
VALUES (:'o1', :'inv', 'resent@limits.test', 's', 'b', '<' || gen_random_uuid() || '@limits.test>',
        now() - interval '30 minutes', 'sent');
SELECT matches(pg_temp.resend(:'o1', :'a', :'inv', 6), '^F0429 8[0-9]{4}$',
               'the 6th resend in a day is refused; retry in about 23 hours');
SELECT is((SELECT count(*)::int FROM finicom.invitations WHERE id = :'inv' AND token_hash = sha256('r0'::bytea)), 1,
          'the refused resend changed nothing (the invitation keeps its token)');

-- Through the API's mapping: F0429 is 429, the hint a Retry-After.
SELECT is((SELECT count(*)::int FROM pg_proc WHERE proname = 'invitation_mail_check' AND prosecdef), 1,
          'the check is a SECURITY DEFINER function (it counts other orgs'' mail)');
SELECT ok(NOT has_function_privilege('finicom_app', 'finicom.invitation_mail_check(finicom.invitations)', 'EXECUTE'),
          'finicom_app cannot call the check directly');

SELECT * FROM finish();
ROLLBACK;
