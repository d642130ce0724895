-- 21-accounts: password reset, password change, the profile's name and
-- one's own sessions (sql/0022_account_self_service.sql; the reset's last
-- argument, the login token's hash of sql/0028, is NULL: no account here has
-- two-factor on).
--
-- Words:
--   U      a verified user with two sessions (sha256('u-s1'), sha256('u-s2'))
--   W      an unverified user with one session (sha256('w-s1'))
--   X      another user with a session (sha256('x-s1'))
--   N      an address no account has
--   H, H2  Argon2id strings: every fixture's hash, and the new one
-- The auth functions are called as finicom_auth, the account functions as
-- finicom_app (with and without a verified context), as the server does.
-- Run by pg_prove as a superuser, in one transaction rolled back at the end.
CREATE EXTENSION IF NOT EXISTS pgtap;

BEGIN;
SELECT plan(53);

SELECT gen_random_uuid() AS u, gen_random_uuid() AS w, gen_random_uuid() AS x \gset
SELECT 'acc-u-' || :'u' || '@example.test' AS u_email, 'acc-w-' || :'w' || '@example.test' AS w_email,
       'acc-n-' || :'u' || '@example.test' AS n_email,
       '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA' AS h, '$argon2id$v=19$m=19456,t=2,p=1$c2FsdDI$aGFzaDI' AS h2 \gset
INSERT INTO finicom.users (id, email, name, password_hash, email_verified_at) VALUES
    (:'u', :'u_email', 'U', :'h', now()),
    (:'w', :'w_email', 'W', :'h', NULL),
    (:'x', 'acc-x-' || :'x' || '@example.test', 'X', :'h', now());
INSERT INTO finicom.sessions (token_hash, user_id, expires_at, created_at) VALUES
    (sha256('u-s1'::bytea), :'u', now() + interval '1 day', now() - interval '2 minutes'),
    (sha256('u-s2'::bytea), :'u', now() + interval '1 day', now() - interval '1 minute'),
    (sha256('w-s1'::bytea), :'w', now() + interval '1 day', now()),
    (sha256('x-s1'::bytea), :'x', now() + interval '1 day', now());

-- ---------------------------------------------------------------------
-- The table and who may touch it.
SELECT ok((SELECT relrowsecurity AND relforcerowsecurity FROM pg_class WHERE oid = 'finicom.password_resets'::regclass),
          'password_resets has row-level security, forced');
SELECT table_privs_are('finicom', 'password_resets', 'finicom_app', ARRAY[]::text[],
                       'finicom_app has no privilege on password_resets');
SELECT table_privs_are('finicom', 'password_resets', 'finicom_auth', ARRAY[]::text[],
                       'finicom_auth has no privilege on password_resets');
SELECT is((SELECT array_agg(f ORDER BY f) FROM unnest(ARRAY[
              'finicom.auth_password_reset_request(text, bytea, text, text, text)',
              'finicom.auth_password_reset(bytea, text, bytea, integer, text, text, text, bytea)',
              'finicom.auth_password_change_begin(uuid, bytea)',
              'finicom.auth_password_change(uuid, bytea, text, text, text)',
              'finicom.session_describe(bytea, text, text)']) f
            WHERE has_function_privilege('finicom_app', f, 'EXECUTE')
               OR NOT has_function_privilege('finicom_auth', f, 'EXECUTE')), NULL,
          'the reset, change and session_describe functions are finicom_auth''s, not finicom_app''s');

-- ---------------------------------------------------------------------
-- A reset request: the same steps for a known and an unknown address.
SET LOCAL ROLE finicom_auth;
SELECT lives_ok(format($$SELECT finicom.auth_password_reset_request(%L, sha256('r1'::bytea), 'http://x/reset/R1', '192.0.2.1', 'rid-1')$$, :'u_email'),
                'finicom_auth requests a reset for U');
SELECT lives_ok(format($$SELECT finicom.auth_password_reset_request(%L, sha256('n1'::bytea), 'http://x/reset/N1', '192.0.2.1', 'rid-2')$$, upper(:'n_email')),
                'and for N, an address no account has (in capitals)');
RESET ROLE;
SELECT is((SELECT (user_id, mail_id IS NOT NULL, expires_at - created_at)::text FROM finicom.password_resets
            WHERE token_hash = sha256('r1'::bytea)), (:'u', true, interval '1 hour')::text,
          'U''s request: a row for U with its mail, for an hour');
SELECT is((SELECT (recipient, status, link, position('http://x/reset/R1' IN body) > 0)::text FROM finicom.mail_outbox m
            JOIN finicom.password_resets r ON r.mail_id = m.id WHERE r.token_hash = sha256('r1'::bytea)),
          (:'u_email', 'queued', 'http://x/reset/R1', true)::text,
          'the mail to U is queued with the link on its own (scrubbed after sending, as invitations)');
SELECT is((SELECT user_id IS NULL FROM finicom.password_resets WHERE token_hash = sha256('n1'::bytea)),
          true, 'N''s request: a row without a user');
SELECT is((SELECT array_agg((m.status, m.link IS NULL, position('N1' IN m.body) = 0)::text) FROM finicom.mail_outbox m
            JOIN finicom.password_resets r ON r.mail_id = m.id WHERE r.token_hash = sha256('n1'::bytea)),
          ARRAY[('canceled', true, true)::text], 'and the same outbox row, canceled from the start, without the link: nothing is mailed to N');
SELECT is((SELECT array_agg((user_id IS NOT NULL, ip, request_id)::text ORDER BY request_id) FROM audit.auth_events
            WHERE event = 'password.reset_requested' AND request_id IN ('rid-1', 'rid-2')),
          ARRAY[(true, '192.0.2.1', 'rid-1')::text, (false, '192.0.2.1', 'rid-2')::text],
          'a password.reset_requested auth event for each, with the user only when there is one');

SET LOCAL ROLE finicom_auth;
SELECT lives_ok(format($$SELECT finicom.auth_password_reset_request(%L, sha256('r2'::bytea), 'http://x/reset/R2', NULL, 'rid-3')$$, :'u_email'),
                'a second request for U');
RESET ROLE;
SELECT is((SELECT replaced_at IS NOT NULL FROM finicom.password_resets WHERE token_hash = sha256('r1'::bytea)), true,
          'it replaces the first token');
SELECT is((SELECT (m.status, m.link IS NULL, position('R1' IN m.body) = 0)::text FROM finicom.mail_outbox m
            JOIN finicom.password_resets r ON r.mail_id = m.id WHERE r.token_hash = sha256('r1'::bytea)),
          ('canceled', true, true)::text, 'and cancels its unsent mail, link removed');

-- The throttle: 5 requests an hour per address, known or not.
SET LOCAL ROLE finicom_auth;
SELECT lives_ok(format($$SELECT finicom.auth_password_reset_request(%L, sha256(('n' || i)::bytea), 'http://x/reset/N', NULL, 'rid') FROM generate_series(2, 5) i$$, :'n_email'),
                'N: four more requests (five in the hour)');
SELECT throws_ok(format($$SELECT finicom.auth_password_reset_request(%L, sha256('n6'::bytea), 'http://x/reset/N6', NULL, 'rid')$$, :'n_email'),
                 'F0429', 'rate_limited', 'the sixth for N within an hour is F0429 rate_limited');
RESET ROLE;
SELECT ok((SELECT count(*) = 0 FROM finicom.password_resets WHERE token_hash = sha256('n6'::bytea)),
          'and leaves no row');

-- ---------------------------------------------------------------------
-- Preview (finicom_app, no context: the token is the proof).
SET LOCAL ROLE finicom_app;
SELECT is((SELECT (outcome, email, name, expires_at IS NOT NULL)::text FROM finicom.password_reset_preview(sha256('r2'::bytea))),
          ('ok', :'u_email', 'U', true)::text, 'preview of U''s live token: ok, U''s email and name');
SELECT is((SELECT (outcome, status)::text FROM finicom.password_reset_preview(sha256('r1'::bytea))),
          ('gone', 'replaced')::text, 'the replaced token: gone, replaced');
SELECT is((SELECT outcome FROM finicom.password_reset_preview(sha256('n2'::bytea))), 'not_found',
          'a token of an address without account: not_found');
SELECT is((SELECT outcome FROM finicom.password_reset_preview(sha256('guess'::bytea))), 'not_found',
          'a guessed token: not_found');
RESET ROLE;

-- ---------------------------------------------------------------------
-- Completing a reset.
SET LOCAL ROLE finicom_auth;
SELECT is((SELECT outcome FROM finicom.auth_password_reset(sha256('r1'::bytea), :'h2', sha256('u-new'::bytea), 3600, '192.0.2.2', 'rid-4', 'UA', NULL)),
          'gone', 'the replaced token cannot reset');
RESET ROLE;
SELECT is((SELECT password_hash FROM finicom.users WHERE id = :'u'), :'h', 'and U''s password is as it was');
SET LOCAL ROLE finicom_auth;
SELECT is((SELECT (outcome, (user_json::json)->>'email')::text
             FROM finicom.auth_password_reset(sha256('r2'::bytea), :'h2', sha256('u-new'::bytea), 3600, '192.0.2.2', 'rid-5', 'Agent/1', NULL)),
          ('ok', :'u_email')::text, 'the live token resets U''s password: ok, U''s user object');
RESET ROLE;
SELECT is((SELECT password_hash FROM finicom.users WHERE id = :'u'), :'h2', 'U''s hash is the new one');
SELECT is((SELECT array_agg((token_hash = sha256('u-new'::bytea), ip, user_agent)::text) FROM finicom.sessions WHERE user_id = :'u'),
          ARRAY[(true, '192.0.2.2', 'Agent/1')::text],
          'every session of U ended; only the new one is left, with its address and User-Agent');
SELECT is((SELECT used_at IS NOT NULL FROM finicom.password_resets WHERE token_hash = sha256('r2'::bytea)), true,
          'the token is spent');
SELECT ok(EXISTS (SELECT FROM audit.auth_events WHERE event = 'password.reset' AND user_id = :'u' AND request_id = 'rid-5'),
          'a password.reset auth event');
SELECT ok(NOT EXISTS (SELECT FROM audit.auth_events WHERE event = 'account.taken_over' AND user_id = :'u'),
          'U was verified: no takeover');
SET LOCAL ROLE finicom_auth;
SELECT is((SELECT (outcome, status)::text FROM finicom.auth_password_reset(sha256('r2'::bytea), :'h', sha256('u-new2'::bytea), 3600, NULL, 'rid-6', NULL, NULL)),
          ('gone', 'used')::text, 'a second use: gone, used');
SELECT is((SELECT outcome FROM finicom.auth_password_reset(sha256('guess'::bytea), :'h', sha256('u-new2'::bytea), 3600, NULL, 'rid', NULL, NULL)),
          'not_found', 'a guessed token: not_found');
SELECT lives_ok(format($$SELECT finicom.auth_password_reset_request(%L, sha256('w1'::bytea), 'http://x/reset/W1', NULL, 'rid-7')$$, :'w_email'),
                'a request for W, unverified');
RESET ROLE;
UPDATE finicom.password_resets SET expires_at = now() - interval '1 second', created_at = now() - interval '2 hours'
WHERE token_hash = sha256('w1'::bytea);
SET LOCAL ROLE finicom_auth;
SELECT is((SELECT (outcome, status)::text FROM finicom.auth_password_reset(sha256('w1'::bytea), :'h2', sha256('w-new'::bytea), 3600, NULL, 'rid', NULL, NULL)),
          ('gone', 'expired')::text, 'its token, once expired: gone, expired');
SELECT lives_ok(format($$SELECT finicom.auth_password_reset_request(%L, sha256('w2'::bytea), 'http://x/reset/W2', NULL, 'rid-8')$$, :'w_email'),
                'a new request for W');
SELECT is((SELECT outcome FROM finicom.auth_password_reset(sha256('w2'::bytea), :'h2', sha256('w-new'::bytea), 3600, NULL, 'rid-9', NULL, NULL)),
          'ok', 'W resets with the new token');
RESET ROLE;
SELECT is((SELECT (email_verified_at IS NOT NULL, password_hash = :'h2')::text FROM finicom.users WHERE id = :'w'),
          (true, true)::text, 'the reset took W over: new password, address verified');
SELECT is((SELECT array_agg(token_hash = sha256('w-new'::bytea)) FROM finicom.sessions WHERE user_id = :'w'), ARRAY[true],
          'W''s old session ended');
SELECT ok(EXISTS (SELECT FROM audit.auth_events WHERE event = 'account.taken_over' AND user_id = :'w' AND request_id = 'rid-9'),
          'an account.taken_over auth event for W');

-- ---------------------------------------------------------------------
-- Password change (finicom_auth).
INSERT INTO finicom.sessions (token_hash, user_id, expires_at) VALUES (sha256('u-s3'::bytea), :'u', now() + interval '1 day');
SET LOCAL ROLE finicom_auth;
SELECT lives_ok(format($$SELECT finicom.auth_password_reset_request(%L, sha256('r3'::bytea), 'http://x/reset/R3', NULL, 'rid')$$, :'u_email'),
                'U requests another reset (left unused)');
SELECT is((SELECT count(*)::int FROM finicom.auth_password_change_begin(:'u', sha256('x-s1'::bytea))), 0,
          'change_begin with another user''s session: no hash');
SELECT is((SELECT password_hash FROM finicom.auth_password_change_begin(:'u', sha256('u-new'::bytea))), :'h2',
          'change_begin with U''s live session: U''s hash');
SELECT is(finicom.auth_password_change(:'u', sha256('x-s1'::bytea), :'h', NULL, 'rid'), false,
          'change with another user''s session: false');
SELECT is(finicom.auth_password_change(:'u', sha256('u-new'::bytea), :'h', '192.0.2.3', 'rid-10'), true,
          'change with U''s session: true');
RESET ROLE;
SELECT is((SELECT array_agg(token_hash = sha256('u-new'::bytea)) FROM finicom.sessions WHERE user_id = :'u'), ARRAY[true],
          'U''s other sessions ended, the asking one stays');
SELECT is((SELECT (password_hash = :'h')::text FROM finicom.users WHERE id = :'u'), 'true', 'the new hash is stored');
SELECT is((SELECT replaced_at IS NOT NULL FROM finicom.password_resets WHERE token_hash = sha256('r3'::bytea)), true,
          'and U''s live reset token is spent');

-- ---------------------------------------------------------------------
-- One's own account, as finicom_app.
INSERT INTO finicom.sessions (token_hash, user_id, expires_at, created_at)
VALUES (sha256('u-s4'::bytea), :'u', now() + interval '1 day', now() + interval '1 second');
SET LOCAL ROLE finicom_app;
SELECT is(ARRAY[(SELECT count(*) FROM finicom.my_sessions(sha256('u-new'::bytea), 43200, 50, NULL, NULL))::text,
                finicom.session_revoke(gen_random_uuid(), sha256('x'::bytea)),
                finicom.sessions_revoke_others(sha256('u-new'::bytea))::text,
                finicom.me_update('Mallory')::text],
          ARRAY['0', NULL, '0', NULL], 'without a context: no session listed, none ended, no name changed');
SELECT is((SELECT count(*)::int FROM finicom.begin_request('session', sha256('u-new'::bytea), NULL, 43200, 'rid-11', '192.0.2.4')), 1,
          'with U''s session as the context');
SELECT is((SELECT array_agg((item->>'current')::boolean ORDER BY kt DESC) FROM finicom.my_sessions(sha256('u-new'::bytea), 43200, 50, NULL, NULL)),
          ARRAY[false, true], 'my_sessions: U''s two live sessions, newest first, the asking one current');
RESET ROLE;
SELECT id AS x_session FROM finicom.sessions WHERE token_hash = sha256('x-s1'::bytea) \gset
SELECT id AS u_s4 FROM finicom.sessions WHERE token_hash = sha256('u-s4'::bytea) \gset
SET LOCAL ROLE finicom_app;
SELECT is(finicom.session_revoke(:'x_session', sha256('u-new'::bytea)), NULL, 'session_revoke of X''s session: NULL');
SELECT is(finicom.session_revoke(:'u_s4', sha256('u-new'::bytea)), 'other', 'session_revoke of U''s other session: other');
SELECT is((finicom.me_update('U Renamed'))->>'name', 'U Renamed', 'me_update renames U');
RESET ROLE;
SELECT is((SELECT array_agg(user_id::text ORDER BY user_id) FROM finicom.sessions WHERE token_hash IN (sha256('x-s1'::bytea), sha256('u-s4'::bytea))),
          ARRAY[:'x'], 'X''s session is still there, U''s is gone');

SELECT * FROM finish();
ROLLBACK;
