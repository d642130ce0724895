-- 19-auth-role: finicom_auth, the auth processes' role
-- (sql/0019_auth_role.sql): a login role that owns nothing, holds no
-- privilege on any table, and may execute exactly the credential
-- functions; what each of them does for it, including what sql/0018 made
-- of signup (its verification mail) and of accepting without a session
-- (the takeover of an unverified account, the address verified); and that
-- finicom_app may execute none of them.
--
-- Words:
--   credential functions  auth_login_begin, auth_login_failed,
--                         auth_login_complete, auth_signup_verify,
--                         invitation_accept_new_user
--   U                     a user with a known email; N an email nobody has
--   T, V, M               accounts an invitation of org O is for: T
--                         unverified (taken over), V verified (email_taken),
--                         M unverified and already a member of O
--   J                     an unverified user who accepts while signed in
--   H                     the Argon2id hash every fixture account has; H2
--                         the one given when accepting
-- Run by pg_prove as a superuser, in one transaction rolled back at the end.
CREATE EXTENSION IF NOT EXISTS pgtap;

BEGIN;
SELECT plan(39);

SELECT gen_random_uuid() AS u \gset
SELECT 'auth-role-' || :'u' || '@example.test' AS email, 'nobody-' || :'u' || '@example.test' AS nobody \gset
INSERT INTO finicom.users (id, email, name, password_hash)
VALUES (:'u', :'email', 'U', '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA');

-- ---------------------------------------------------------------------
-- The role.
SELECT has_role('finicom_auth');
SELECT is((SELECT ARRAY[rolcanlogin, rolsuper, rolbypassrls, rolcreaterole, rolcreatedb]
             FROM pg_roles WHERE rolname = 'finicom_auth'),
          ARRAY[true, false, false, false, false],
          'finicom_auth logs in, and is no superuser, bypasses no row-level security, creates no role or database');
SELECT is((SELECT array_agg(r.rolname::text ORDER BY 1) FROM pg_roles r
            WHERE r.rolname <> 'finicom_auth' AND pg_has_role('finicom_auth', r.oid, 'MEMBER')), NULL,
          'finicom_auth is a member of no other role (not finicom_owner, not finicom_app)');
SELECT is((SELECT array_agg(r.rolname::text ORDER BY 1) FROM pg_roles r
            WHERE r.rolname <> 'finicom_auth' AND pg_has_role(r.oid, 'finicom_auth', 'MEMBER')
              AND NOT r.rolsuper), NULL,
          'no role but a superuser has finicom_auth''s rights (finicom_app is not its member)');

-- ---------------------------------------------------------------------
-- What it may execute: exactly the credential functions (and finicom.ts
-- and finicom.session_user_json, for the user JSON it sends the worker).
SELECT set_eq(
    $$SELECT p.oid::regprocedure FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
       WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_temp\_%'
         AND n.nspname NOT LIKE 'pg\_toast%'
         AND has_schema_privilege('finicom_auth', n.oid, 'USAGE')
         AND has_function_privilege('finicom_auth', p.oid, 'EXECUTE')
         AND NOT EXISTS (SELECT FROM pg_depend e WHERE e.classid = 'pg_proc'::regclass AND e.objid = p.oid
                                                   AND e.deptype = 'e')$$,
    $$SELECT p.oid::regprocedure FROM pg_proc p
       WHERE p.pronamespace = 'finicom'::regnamespace
         AND p.proname IN ('auth_login_begin', 'auth_login_failed', 'auth_login_complete', 'auth_signup_verify',
                           'invitation_accept_new_user',
                           -- two-factor (sql/0023)
                           'auth_totp_user', 'auth_totp_enrol', 'auth_totp_begin', 'auth_totp_failed',
                           'auth_totp_confirm', 'auth_totp_disable', 'auth_login_proceed',
                           'auth_totp_login_begin', 'auth_totp_login_complete')
      UNION ALL SELECT 'finicom.ts(timestamptz)'::regprocedure
      UNION ALL SELECT 'finicom.session_user_json(bytea)'::regprocedure
      -- sql/0022 (tests/sql/21-accounts.sql)
      UNION ALL SELECT p.oid::regprocedure FROM pg_proc p
       WHERE p.pronamespace = 'finicom'::regnamespace
         AND p.proname IN ('auth_password_reset_request', 'auth_password_reset', 'auth_password_change_begin',
                           'auth_password_change', 'session_describe')$$,
    'finicom_auth may execute the credential functions, finicom.ts and finicom.session_user_json, nothing else');
SELECT is((SELECT count(*)::int FROM pg_proc p WHERE p.pronamespace = 'finicom'::regnamespace
            AND p.proname IN ('auth_login_begin', 'auth_login_failed', 'auth_login_complete', 'auth_signup_verify',
                              'invitation_accept_new_user')), 5,
          'control: there is one of each credential function');
SELECT is((SELECT array_agg(p.oid::regprocedure::text ORDER BY 1) FROM pg_proc p
            WHERE p.pronamespace = 'finicom'::regnamespace
              AND has_function_privilege('finicom_auth', p.oid, 'EXECUTE') AND p.proname <> 'ts'
              AND NOT (p.prosecdef AND p.proowner = 'finicom_owner'::regrole)), NULL,
          'each credential function runs as finicom_owner (SECURITY DEFINER), the only way to the data');
SELECT is((SELECT array_agg(p.oid::regprocedure::text ORDER BY 1) FROM pg_proc p
            WHERE p.pronamespace = 'finicom'::regnamespace
              AND has_function_privilege('finicom_auth', p.oid, 'EXECUTE')
              AND p.proname NOT IN ('ts', 'session_user_json')
              AND has_function_privilege('finicom_app', p.oid, 'EXECUTE')), NULL,
          'finicom_app may execute none of them (but ts and session_user_json, which return no hash and make nothing)');
SELECT is(ARRAY[has_function_privilege('finicom_auth', 'finicom.begin_request(text, bytea, uuid, integer, text, text)', 'EXECUTE'),
                has_function_privilege('finicom_auth', 'finicom.user_create(text, text, text)', 'EXECUTE'),
                has_function_privilege('finicom_auth', 'finicom.session_create(uuid, bytea, integer)', 'EXECUTE'),
                has_function_privilege('finicom_auth', 'finicom.invitation_join(bytea)', 'EXECUTE'),
                has_function_privilege('finicom_auth', 'finicom.org_create(text)', 'EXECUTE'),
                has_function_privilege('finicom_auth', 'finicom.auth_signup(text, text, text, bytea, integer, text, text)', 'EXECUTE'),
                has_function_privilege('finicom_auth', 'finicom.email_verification_issue(uuid, bytea, bytea, text)', 'EXECUTE'),
                has_function_privilege('finicom_auth', 'finicom.email_verified_mark(uuid, text, text)', 'EXECUTE'),
                has_function_privilege('finicom_auth', 'finicom.user_create_verified(text, text, text)', 'EXECUTE')],
          array_fill(false, ARRAY[9]),
          'not begin_request, user_create, session_create, invitation_join, org_create, nor auth_signup '
          '(an account without its verification mail), issuing or marking a verification, operator accounts');
SELECT is((SELECT array_agg(p.oid::regprocedure::text) FROM pg_proc p
            WHERE p.pronamespace = 'finicom'::regnamespace AND p.proname = 'auth_signup'
              AND (has_function_privilege('finicom_auth', p.oid, 'EXECUTE')
                   OR has_function_privilege('finicom_app', p.oid, 'EXECUTE'))), NULL,
          'no version of auth_signup is executable by finicom_auth or finicom_app');

-- ---------------------------------------------------------------------
-- Schemas and tables: nothing directly.
SELECT is(ARRAY[has_schema_privilege('finicom_auth', 'finicom', 'USAGE'),
                has_schema_privilege('finicom_auth', 'finicom', 'CREATE'),
                has_schema_privilege('finicom_auth', 'audit', 'USAGE'),
                has_schema_privilege('finicom_auth', 'cron', 'USAGE'),
                has_schema_privilege('finicom_auth', 'public', 'CREATE')],
          ARRAY[true, false, false, false, false],
          'finicom_auth uses schema finicom only, and creates nothing anywhere');
SELECT is((SELECT array_agg(c.oid::regclass::text || ' ' || p.priv ORDER BY 1) FROM pg_class c
             CROSS JOIN unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER']) p (priv)
            WHERE c.relnamespace IN ('finicom'::regnamespace, 'audit'::regnamespace)
              AND (has_table_privilege('finicom_auth', c.oid, p.priv)
                   OR p.priv IN ('SELECT', 'INSERT', 'UPDATE', 'REFERENCES')
                      AND has_any_column_privilege('finicom_auth', c.oid, p.priv))), NULL,
          'finicom_auth holds no privilege on any table, view or column of finicom and audit');
SET LOCAL ROLE finicom_auth;
SELECT throws_ok('SELECT password_hash FROM finicom.users', '42501', NULL, 'reading users directly is refused');
SELECT throws_ok('SELECT count(*) FROM finicom.sessions', '42501', NULL, 'reading sessions directly is refused');
SELECT throws_ok(format($$SELECT set_config('finicom.actor_id', %L, true)$$, :'u'), '42501', NULL,
                 'writing the request context is refused');
RESET ROLE;

-- ---------------------------------------------------------------------
-- What the functions do for it.
SET LOCAL ROLE finicom_auth;
SELECT results_eq(format('SELECT user_id, password_hash FROM finicom.auth_login_begin(%L)', upper(:'email')),
                  format($$VALUES (%L::uuid, '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA'::text)$$, :'u'),
                  'auth_login_begin: U''s id and hash, for the email in any case');
SELECT is_empty(format('SELECT * FROM finicom.auth_login_begin(%L)', :'nobody'),
                'auth_login_begin of an email nobody has: no row');
SELECT lives_ok(format($$SELECT finicom.auth_login_failed(%L, '192.0.2.7', 'req-failed')$$, :'email'),
                'auth_login_failed records a failure');
SELECT results_eq(format($$SELECT id, email FROM finicom.auth_login_complete(%L, sha256('auth-role-session'::bytea),
                             3600, NULL, NULL, '192.0.2.7', 'req-ok')$$, :'u'),
                  format('VALUES (%L::uuid, %L::text)', :'u', :'email'),
                  'auth_login_complete: a session for U, and U');
SELECT results_eq(format($$SELECT u->>'email', u->>'name', u->>'email_verified'
                             FROM finicom.auth_signup_verify(%L, 'New', '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA',
                                  sha256('auth-role-signup'::bytea), 3600, '192.0.2.7', 'req-signup',
                                  sha256('auth-role-verify'::bytea), 'http://x/verify/auth-role') u$$, 'new-' || :'email'),
                  format($$VALUES (%L::text, 'New'::text, 'false'::text)$$, 'new-' || :'email'),
                  'auth_signup_verify: the new account''s user object, unverified');
RESET ROLE;
SELECT results_eq(format($$SELECT m.recipient, m.link, m.status::text, v.expires_at - v.created_at
                             FROM finicom.email_verifications v JOIN finicom.mail_outbox m ON m.id = v.mail_id
                             JOIN finicom.users u ON u.id = v.user_id
                            WHERE v.token_hash = sha256('auth-role-verify'::bytea) AND u.email = %L$$, 'new-' || :'email'),
                  format($$VALUES (%L::text, 'http://x/verify/auth-role'::text, 'queued'::text, interval '24 hours')$$,
                         'new-' || :'email'),
                  'and its verification mail is queued with the link, in the same transaction');
SELECT results_eq(format($$SELECT event, ip, request_id FROM audit.auth_events
                             WHERE request_id IN ('req-failed', 'req-ok', 'req-signup') AND email IN (%L, %L)
                             ORDER BY request_id$$, :'email', 'new-' || :'email'),
                  $$VALUES ('login.failed'::text, '192.0.2.7'::text, 'req-failed'::text),
                           ('login.succeeded', '192.0.2.7', 'req-ok'), ('signup', '192.0.2.7', 'req-signup')$$,
                  'each is in audit.auth_events with the address and request id it was given');
SELECT results_eq($$SELECT u.email FROM finicom.sessions s JOIN finicom.users u ON u.id = s.user_id
                    WHERE s.token_hash IN (sha256('auth-role-session'::bytea), sha256('auth-role-signup'::bytea))
                    ORDER BY 1$$,
                  format('VALUES (%L::text), (%L)', :'email', 'new-' || :'email'),
                  'the two sessions exist, each for its user');
SELECT is((SELECT failures FROM finicom.login_failures WHERE email = lower(:'email')), NULL,
          'the successful login ended U''s run of failures');
SET LOCAL ROLE finicom_auth;
SELECT throws_ok(format($$SELECT finicom.auth_signup_verify(%L, 'Dup', '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA',
                            sha256('auth-role-dup'::bytea), 3600, NULL, NULL, sha256('auth-role-dup-v'::bytea),
                            'http://x/verify/dup')$$, upper(:'email')),
                 '23505', NULL, 'auth_signup_verify of a taken email (any case): unique_violation');
SELECT throws_ok($$SELECT finicom.auth_signup_verify('bad@example.test', 'Bad', 'not-an-argon2-hash',
                   sha256('auth-role-bad'::bytea), 3600, NULL, NULL, sha256('auth-role-bad-v'::bytea),
                   'http://x/verify/bad')$$,
                 '23514', NULL, 'auth_signup_verify stores nothing but an Argon2id hash');
SELECT throws_ok(format($$SELECT * FROM finicom.auth_signup(%L, 'No mail', '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA',
                            sha256('auth-role-nomail'::bytea), 3600, NULL, NULL)$$, 'nomail-' || :'email'),
                 '42501', NULL, 'auth_signup itself (an account without its verification mail) is refused');
RESET ROLE;

-- ---------------------------------------------------------------------
-- Accepting an invitation without a session (invitation_accept_new_user),
-- with sql/0018's semantics: the takeover of an unverified account, the
-- address verified, email_taken only for a verified account.
SELECT gen_random_uuid() AS o, gen_random_uuid() AS t, gen_random_uuid() AS v, gen_random_uuid() AS m,
       gen_random_uuid() AS j \gset
SELECT 'take-' || :'t' || '@example.test' AS t_email \gset
INSERT INTO finicom.orgs (id, name) VALUES (:'o', 'auth-role O');
INSERT INTO finicom.users (id, email, name, password_hash, email_verified_at) VALUES
    (:'t', :'t_email', 'Squatter', '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA', NULL),
    (:'v', 'verified-' || :'v' || '@example.test', 'Verified', '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA', now()),
    (:'m', 'member-' || :'m' || '@example.test', 'Member', '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA', NULL),
    (:'j', 'joiner-' || :'j' || '@example.test', 'Joiner', '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA', NULL);
INSERT INTO finicom.memberships (org_id, user_id, role) VALUES (:'o', :'u', 'admin'), (:'o', :'m', 'read');
INSERT INTO finicom.sessions (token_hash, user_id, expires_at) VALUES
    (sha256(('t-old-1' || :'t')::bytea), :'t', now() + interval '1 day'),
    (sha256(('t-old-2' || :'t')::bytea), :'t', now() + interval '1 day'),
    (sha256(('v-old' || :'v')::bytea), :'v', now() + interval '1 day'),
    (sha256(('m-old' || :'m')::bytea), :'m', now() + interval '1 day');
INSERT INTO finicom.login_failures (email, failures, first_failed_at, last_failed_at)
VALUES (finicom.ascii_lower(:'t_email'), 3, now(), now());
INSERT INTO finicom.email_verifications (user_id, email, token_hash, expires_at)
VALUES (:'t', :'t_email', sha256(('t-verify' || :'t')::bytea), now() + interval '1 day');
INSERT INTO finicom.invitations (org_id, email, role, token_hash, invited_by, expires_at) VALUES
    (:'o', upper(:'t_email'), 'write', sha256(('inv-t' || :'t')::bytea), :'u', now() + interval '1 day'),
    (:'o', 'verified-' || :'v' || '@example.test', 'read', sha256(('inv-v' || :'v')::bytea), :'u', now() + interval '1 day'),
    (:'o', 'member-' || :'m' || '@example.test', 'read', sha256(('inv-m' || :'m')::bytea), :'u', now() + interval '1 day'),
    (:'o', 'joiner-' || :'j' || '@example.test', 'read', sha256(('inv-j' || :'j')::bytea), :'u', now() + interval '1 day');

SET LOCAL ROLE finicom_auth;
SELECT results_eq(format($$SELECT outcome, status, role, user_json::json->>'id', user_json::json->>'name',
                                  user_json::json->>'email_verified'
                             FROM finicom.invitation_accept_new_user(sha256(('inv-t' || %L)::bytea), 'Owner',
                                  '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$b3duZXI', sha256(('t-new' || %L)::bytea),
                                  3600, '192.0.2.8', 'req-takeover')$$, :'t', :'t'),
                  format($$VALUES ('ok'::text, 'accepted'::text, 'write'::text, %L::text, 'Owner'::text, 'true'::text)$$, :'t'),
                  'an invitation to an unverified account''s email (other ASCII case): ok, that account, '
                  'its new name, verified');
RESET ROLE;
SELECT results_eq(format($$SELECT name, password_hash, email_verified_at IS NOT NULL FROM finicom.users WHERE id = %L$$, :'t'),
                  $$VALUES ('Owner'::text, '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$b3duZXI'::text, true)$$,
                  'the taken-over account has the name and password given, and its address is verified');
SELECT results_eq(format($$SELECT token_hash = sha256(('t-new' || %L)::bytea) FROM finicom.sessions WHERE user_id = %L$$,
                         :'t', :'t'),
                  ARRAY[true], 'every session it had ended: its only session is the new one');
SELECT is((SELECT count(*)::int FROM finicom.users WHERE finicom.ascii_lower(email) = finicom.ascii_lower(:'t_email')), 1,
          'no second account was made');
SELECT results_eq(format($$SELECT event, ip, request_id FROM audit.auth_events WHERE user_id = %L ORDER BY event$$, :'t'),
                  $$VALUES ('account.taken_over'::text, '192.0.2.8'::text, 'req-takeover'::text),
                           ('email.verified', '192.0.2.8', 'req-takeover')$$,
                  'account.taken_over and email.verified auth events, with the request''s address and id');
SELECT results_eq(format($$SELECT (SELECT count(*)::int FROM finicom.login_failures WHERE email = finicom.ascii_lower(%L)),
                                  (SELECT used_at IS NOT NULL FROM finicom.email_verifications WHERE user_id = %L),
                                  (SELECT role::text FROM finicom.memberships WHERE org_id = %L AND user_id = %L)$$,
                         :'t_email', :'t', :'o', :'t'),
                  $$VALUES (0, true, 'write'::text)$$,
                  'its throttle is forgotten, its pending verification token spent, and it is a write member of O');

SET LOCAL ROLE finicom_auth;
SELECT results_eq(format($$SELECT outcome FROM finicom.invitation_accept_new_user(sha256(('inv-v' || %L)::bytea), 'Thief',
                             '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$dGhpZWY', sha256(('v-new' || %L)::bytea), 3600, NULL, NULL)$$,
                         :'v', :'v'),
                  $$VALUES ('email_taken'::text)$$, 'for a verified account''s email: email_taken');
SELECT results_eq(format($$SELECT outcome FROM finicom.invitation_accept_new_user(sha256(('inv-m' || %L)::bytea), 'Thief',
                             '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$dGhpZWY', sha256(('m-new' || %L)::bytea), 3600, NULL, NULL)$$,
                         :'m', :'m'),
                  $$VALUES ('already_member'::text)$$,
                  'for an unverified account already a member of the org: already_member');
RESET ROLE;
SELECT results_eq(format($$SELECT u.name, u.password_hash, u.email_verified_at IS NULL,
                                  (SELECT array_agg(s.token_hash = sha256(('m-old' || u.id)::bytea) OR s.token_hash = sha256(('v-old' || u.id)::bytea))
                                     FROM finicom.sessions s WHERE s.user_id = u.id)
                             FROM finicom.users u WHERE u.id IN (%L, %L) ORDER BY u.name$$, :'m', :'v'),
                  $$VALUES ('Member'::text, '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA'::text, true, ARRAY[true]),
                           ('Verified', '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA', false, ARRAY[true])$$,
                  'neither account changed: same name, same password, same single old session');
SELECT is((SELECT array_agg(status::text ORDER BY email) FROM finicom.invitations
            WHERE token_hash IN (sha256(('inv-v' || :'v')::bytea), sha256(('inv-m' || :'m')::bytea))), ARRAY['pending', 'pending'],
          'and both invitations are still pending');

-- Accepting while signed in (invitation_join, finicom_app in J's context) verifies J's address too.
SELECT finicom.context_enter('user', :'j', NULL, 'req-join', '192.0.2.9') IS NULL AS entered \gset
SET LOCAL ROLE finicom_app;
SELECT results_eq(format($$SELECT outcome, user_json::json->>'email_verified' FROM finicom.invitation_join(sha256(('inv-j' || %L)::bytea))$$, :'j'),
                  $$VALUES ('ok'::text, 'true'::text)$$, 'invitation_join as J: ok, and J''s user object says verified');
RESET ROLE;
SELECT results_eq(format($$SELECT (SELECT email_verified_at IS NOT NULL FROM finicom.users WHERE id = %L),
                                  (SELECT array_agg(request_id || ' ' || ip) FROM audit.auth_events
                                    WHERE user_id = %L AND event = 'email.verified')$$,
                         :'j', :'j'),
                  $$VALUES (true, ARRAY['req-join 192.0.2.9'])$$,
                  'J is verified, with one email.verified auth event (the request''s id and address)');

SELECT * FROM finish();
ROLLBACK;
