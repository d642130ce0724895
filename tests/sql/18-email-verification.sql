-- 18-email-verification: the verification tokens and what an unverified
-- account may do (sql/0018_email_verification.sql).
--
-- Words:
--   U  an unverified user with a session (token hash su), V a verified one
--   attempt(type, actor, sql)  one statement as finicom_app in a context,
--      rolled back: 'rows N', or 'SQLSTATE x' (and the message for F0xxx)
-- Run by pg_prove as a superuser, in one transaction rolled back at the end.
CREATE EXTENSION IF NOT EXISTS pgtap;

BEGIN;
SELECT plan(34);

SELECT gen_random_uuid() AS u, gen_random_uuid() AS v, gen_random_uuid() AS o \gset
SELECT sha256(('session-' || :'u')::bytea) AS su, sha256(('t1-' || :'u')::bytea) AS t1,
       sha256(('t2-' || :'u')::bytea) AS t2 \gset
INSERT INTO finicom.users (id, email, name, password_hash) VALUES
    (:'u', 'verify-u-' || :'u' || '@verify.test', 'U', '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA');
INSERT INTO finicom.users (id, email, name, password_hash, email_verified_at) VALUES
    (:'v', 'verify-v-' || :'v' || '@verify.test', 'V', '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA', now());
INSERT INTO finicom.sessions (token_hash, user_id, expires_at) VALUES (:'su', :'u', now() + interval '1 day');
INSERT INTO finicom.orgs (id, name) VALUES (:'o', 'verify org');
INSERT INTO finicom.memberships (org_id, user_id, role) VALUES (:'o', :'u', 'admin'), (:'o', :'v', 'admin');

CREATE FUNCTION pg_temp.attempt(p_type text, p_actor uuid, p_sql text) RETURNS text
    LANGUAGE plpgsql AS $$
    DECLARE
        v_rows bigint;
    BEGIN
        BEGIN
            PERFORM finicom.context_enter(p_type, p_actor, NULL, NULL, NULL);
            SET LOCAL ROLE finicom_app;
            EXECUTE p_sql;
            GET DIAGNOSTICS v_rows = ROW_COUNT;
            RAISE EXCEPTION USING ERRCODE = 'PT001', MESSAGE = 'rows ' || v_rows;
        EXCEPTION WHEN OTHERS THEN
            RETURN CASE WHEN SQLSTATE = 'PT001' THEN SQLERRM
                        WHEN SQLSTATE LIKE 'F0%' THEN 'SQLSTATE ' || SQLSTATE || ' ' || SQLERRM
                        ELSE 'SQLSTATE ' || SQLSTATE END;
        END;
    END
    $$;
-- email_verify() as finicom_app, kept: 'outcome/status'.
CREATE FUNCTION pg_temp.use(p_hash bytea) RETURNS text LANGUAGE plpgsql AS $$
    DECLARE
        v text;
    BEGIN
        SET LOCAL ROLE finicom_app;
        SELECT outcome || '/' || coalesce(status, '-') INTO v FROM finicom.email_verify(p_hash, NULL, NULL);
        RESET ROLE;
        RETURN v;
    END
    $$;

-- The table: row-level security on and forced, nobody but the owner.
SELECT ok((SELECT relrowsecurity AND relforcerowsecurity FROM pg_class
           WHERE oid = 'finicom.email_verifications'::regclass), 'email_verifications: RLS enabled and forced');
SELECT is(ARRAY(SELECT policyname::text FROM pg_policies
                WHERE schemaname = 'finicom' AND tablename = 'email_verifications'),
          ARRAY['email_verifications_owner'], 'its only policy is the owner''s');
SELECT is(ARRAY(SELECT r || ':' || p FROM unnest(ARRAY['finicom_app', 'finicom_mailer', 'finicom_auditor']) r,
                unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE']) p
                WHERE has_table_privilege(r, 'finicom.email_verifications', p)),
          '{}'::text[], 'no privilege on it for the app, the mailer or the auditor');
SELECT is(pg_temp.attempt('user', :'u', 'SELECT 1 FROM finicom.email_verifications'), 'SQLSTATE 42501',
          'the app cannot read the tokens, even its own user''s');

-- The columns of users.
SELECT ok(has_column_privilege('finicom_app', 'finicom.users', 'email_verified_at', 'SELECT'),
          'the app reads users.email_verified_at');
SELECT ok(NOT has_column_privilege('finicom_app', 'finicom.users', 'email_verified_at', 'UPDATE'),
          'but cannot write it');
SELECT ok(NOT has_column_privilege('finicom_app', 'finicom.users', 'password_hash', 'SELECT'),
          'and still cannot read password hashes');
SELECT is(pg_temp.attempt('user', :'u', format($$UPDATE finicom.users SET email_verified_at = now() WHERE id = %L$$, :'u')),
          'SQLSTATE 42501', 'a user cannot mark itself verified');

-- The functions the app may call, and those it may not.
SELECT is(ARRAY(SELECT f FROM unnest(ARRAY[
            'finicom.email_verify(bytea, text, text)',
            'finicom.session_user_json(bytea)',
            'finicom.require_email_verified(boolean)',
            'finicom.email_verification_resend(bytea, bytea, text)']) f
          WHERE NOT has_function_privilege('finicom_app', f, 'EXECUTE')), '{}'::text[],
          'the app executes the verify, user object, check and resend functions');
-- Signup stores a password hash and makes a session: since
-- sql/0019_auth_role.sql only the auth processes' role may.
SELECT is(ARRAY[has_function_privilege('finicom_app',
                    'finicom.auth_signup_verify(text, text, text, bytea, integer, text, text, bytea, text)', 'EXECUTE'),
                has_function_privilege('finicom_auth',
                    'finicom.auth_signup_verify(text, text, text, bytea, integer, text, text, bytea, text)', 'EXECUTE')],
          ARRAY[false, true], 'signup with its verification mail is finicom_auth''s, not the app''s');
SELECT is(ARRAY(SELECT f FROM unnest(ARRAY[
            'finicom.email_verification_issue(uuid, bytea, bytea, text)',
            'finicom.email_verified_mark(uuid, text, text)',
            'finicom.user_create_verified(text, text, text)',
            'finicom.user_json(finicom.users)']) f
          WHERE has_function_privilege('finicom_app', f, 'EXECUTE')
             OR has_function_privilege('finicom_mailer', f, 'EXECUTE')), '{}'::text[],
          'but not the internal ones: issuing for any account, marking verified, operator accounts');

-- require_email_verified: the 403 of API keys and invitations.
SELECT is(pg_temp.attempt('user', :'u', 'SELECT finicom.require_email_verified(true)'),
          'SQLSTATE F0403 email_unverified', 'an unverified user is refused');
SELECT is(pg_temp.attempt('user', :'u', 'SELECT finicom.require_email_verified(false)'), 'rows 1',
          'not when the server does not require it (signup = invite_only)');
SELECT is(pg_temp.attempt('user', :'v', 'SELECT finicom.require_email_verified(true)'), 'rows 1',
          'a verified user passes');
SELECT is(pg_temp.attempt('user', :'u', format(
            $$SELECT finicom.api_key_create(%L, 'k', 'admin', 'fcm_VVVVVV', sha256('k'::bytea), NULL)
              FROM finicom.require_email_verified(true)$$, :'o')),
          'SQLSTATE F0403 email_unverified', 'the worker''s statement for a key makes none for an unverified user');
SELECT is((SELECT count(*)::int FROM finicom.api_keys WHERE org_id = :'o'), 0, 'no key was made');

-- Tokens: issued for the account of a session, single use, 24 hours.
SELECT throws_ok(format($$SELECT finicom.email_verification_issue(%L, %L, %L, 'http://x/verify/t')$$,
                        :'v', :'su', :'t1'), 'F0404', 'not_found',
                 'a token is issued only for the account of the session given');
SELECT lives_ok(format($$SELECT finicom.email_verification_issue(%L, %L, %L, 'http://x/verify/t1')$$,
                       :'u', :'su', :'t1'), 'issued for U');
SELECT is((SELECT expires_at - created_at FROM finicom.email_verifications WHERE token_hash = :'t1'),
          interval '24 hours', 'it lives 24 hours');
SELECT is((SELECT count(*)::int FROM finicom.mail_outbox m JOIN finicom.email_verifications v ON v.mail_id = m.id
           WHERE v.token_hash = :'t1' AND m.status = 'queued' AND m.link = 'http://x/verify/t1'
             AND m.org_id IS NULL AND m.invitation_id IS NULL), 1,
          'its mail is queued with the link, in no org (admins never see it)');
SELECT lives_ok(format($$SELECT finicom.email_verification_issue(%L, %L, %L, 'http://x/verify/t2')$$,
                       :'u', :'su', :'t2'), 'a newer one for U');
SELECT is((SELECT m.status || ' ' || (m.link IS NULL) FROM finicom.mail_outbox m
           JOIN finicom.email_verifications v ON v.mail_id = m.id WHERE v.token_hash = :'t1'),
          'canceled true', 'the older one''s unsent mail is canceled and scrubbed');
SELECT throws_ok(format($$INSERT INTO finicom.email_verifications (user_id, email, token_hash, expires_at)
                          VALUES (%L, 'x@y.z', sha256('t3'::bytea), now() + interval '1 day')$$, :'u'),
                 '23505', NULL, 'an account has at most one live token');
SELECT is(pg_temp.use(:'t1'), 'gone/replaced', 'the older token is gone: replaced');
SELECT is(pg_temp.use(sha256('never'::bytea)), 'not_found/-', 'an unknown token is not found');
UPDATE finicom.email_verifications SET expires_at = now() - interval '1 second',
    created_at = now() - interval '24 hours 1 second' WHERE token_hash = :'t2';
SELECT is(pg_temp.use(:'t2'), 'gone/expired', 'past expires_at it is expired');
UPDATE finicom.email_verifications SET expires_at = now() + interval '1 minute',
    created_at = now() - interval '23 hours 59 minutes' WHERE token_hash = :'t2';
SELECT is(pg_temp.use(:'t2'), 'ok/verified', 'before it, the token verifies U');
SELECT ok((SELECT email_verified_at IS NOT NULL FROM finicom.users WHERE id = :'u'), 'U is verified');
SELECT is(pg_temp.use(:'t2'), 'gone/used', 'the token works once');
SELECT is((SELECT count(*)::int FROM audit.auth_events WHERE user_id = :'u' AND event = 'email.verified'), 1,
          'one email.verified auth event');
SELECT is(pg_temp.attempt('user', :'u', 'SELECT finicom.require_email_verified(true)'), 'rows 1',
          'a verified U passes the check');
SELECT lives_ok(format($$SELECT finicom.email_verification_issue(%L, %L, sha256('t4'::bytea), 'http://x/verify/t4')$$,
                       :'u', :'su'), 'issuing for a verified account does nothing');
SELECT is((SELECT count(*)::int FROM finicom.email_verifications WHERE user_id = :'u'), 2,
          'no token was added for it');
DELETE FROM finicom.users WHERE id = :'u';
SELECT is((SELECT count(*)::int FROM finicom.email_verifications WHERE user_id = :'u'), 0,
          'an account''s tokens go with it');

SELECT * FROM finish();
ROLLBACK;
