-- 28-reset-two-factor: sql/0028.  A password reset of an account with
-- two-factor on makes a login token, not a session; finicomctl
-- disable-2fa's function.
--
-- Words:
--   T  a verified user with two-factor on and two sessions
--   P  a verified user with a pending (unconfirmed) enrolment only
-- Run by pg_prove as a superuser, in one transaction rolled back at the end.
CREATE EXTENSION IF NOT EXISTS pgtap;

BEGIN;
SELECT plan(14);

SELECT gen_random_uuid() AS t, gen_random_uuid() AS p \gset
SELECT 'r2f-t-' || :'t' || '@example.test' AS t_email, 'r2f-p-' || :'p' || '@example.test' AS p_email,
       '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA' AS h, '$argon2id$v=19$m=19456,t=2,p=1$c2FsdDI$aGFzaDI' AS h2 \gset
INSERT INTO finicom.users (id, email, name, password_hash, email_verified_at) VALUES
    (:'t', :'t_email', 'T', :'h', now()), (:'p', :'p_email', 'P', :'h', now());
INSERT INTO finicom.sessions (token_hash, user_id, expires_at) VALUES
    (sha256('t-s1'::bytea), :'t', now() + interval '1 day'), (sha256('t-s2'::bytea), :'t', now() + interval '1 day');
INSERT INTO finicom.totp_credentials (user_id, secret_enc, confirmed_at) VALUES
    (:'t', 'enc:v1:00000000:x', now()), (:'p', 'enc:v1:00000000:y', NULL);
INSERT INTO finicom.totp_recovery_codes (user_id, code_hash) VALUES (:'t', sha256('rc1'::bytea));

SELECT is((SELECT array_agg(f ORDER BY f) FROM unnest(ARRAY[
              'finicom.totp_login_token_create(uuid, bytea, text, text)',
              'finicom.totp_disable_by_operator(text, text)']) f
            WHERE has_function_privilege('finicom_app', f, 'EXECUTE')
               OR has_function_privilege('finicom_auth', f, 'EXECUTE')), NULL,
          'neither finicom_app nor finicom_auth may call the helpers of 0028 directly');
SELECT ok(NOT EXISTS (SELECT FROM pg_proc WHERE oid = 'finicom.auth_password_reset'::regproc::oid
                      AND pronargs = 7),
          'the reset of 0022, which always made a session, is gone');

-- A reset of T: the password set, every session ended, the token spent, a login token instead of a session.
SET LOCAL ROLE finicom_auth;
SELECT lives_ok(format($$SELECT finicom.auth_password_reset_request(%L, sha256('tr1'::bytea), 'http://x/reset/TR1', NULL, 'rid-1')$$, :'t_email'),
                'a reset request for T');
SELECT is((SELECT (outcome, status, user_json)::text
             FROM finicom.auth_password_reset(sha256('tr1'::bytea), :'h2', sha256('t-new'::bytea), 3600, '192.0.2.9', 'rid-2',
                                              'UA', sha256('t-login'::bytea))),
          ('totp_required', NULL, NULL)::text, 'two-factor on: totp_required, no user object');
RESET ROLE;
SELECT is((SELECT password_hash FROM finicom.users WHERE id = :'t'), :'h2', 'T''s password is the new one');
SELECT is((SELECT count(*)::int FROM finicom.sessions WHERE user_id = :'t'), 0, 'every session of T ended, and none was made');
SELECT is((SELECT used_at IS NOT NULL FROM finicom.password_resets WHERE token_hash = sha256('tr1'::bytea)), true,
          'the reset token is spent');
SELECT is((SELECT (user_id, expires_at - created_at)::text FROM finicom.totp_login_tokens WHERE token_hash = sha256('t-login'::bytea)),
          (:'t', interval '5 minutes')::text, 'the login token of the second step: T''s, 5 minutes');
SELECT is((SELECT array_agg(event ORDER BY at, event) FROM audit.auth_events WHERE user_id = :'t' AND request_id = 'rid-2'),
          ARRAY['login.totp_required', 'password.reset'], 'password.reset and login.totp_required');

-- finicomctl disable-2fa.
SELECT is(finicom.totp_disable_by_operator(upper(:'t_email'), 'finicomctl disable-2fa'), :'t'::uuid,
          'T''s two-factor off (the address in any case): T''s id');
SELECT is((SELECT ARRAY[(SELECT count(*) FROM finicom.totp_credentials WHERE user_id = :'t'),
                        (SELECT count(*) FROM finicom.totp_recovery_codes WHERE user_id = :'t'),
                        (SELECT count(*) FROM finicom.totp_login_tokens WHERE user_id = :'t')]::int[]),
          ARRAY[0, 0, 0], 'its secret, recovery codes and login tokens are gone');
SELECT is((SELECT count(*)::int FROM audit.auth_events WHERE user_id = :'t' AND event = 'totp.disabled_by_operator'
             AND request_id = 'finicomctl disable-2fa' AND ip IS NULL), 1, 'one totp.disabled_by_operator event');
SELECT is(finicom.totp_disable_by_operator(:'p_email', 'x'), NULL::uuid,
          'P has no two-factor on: NULL, no event');
SELECT is((SELECT count(*)::int FROM finicom.totp_credentials WHERE user_id = :'p')
          + (SELECT count(*)::int FROM audit.auth_events WHERE user_id = :'p'), 0,
          'P''s pending enrolment went, and nothing was recorded');

SELECT * FROM finish();
ROLLBACK;
