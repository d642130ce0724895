-- 22-totp: two-factor authentication in the database (sql/0023_totp.sql).
--
-- The functions are called as finicom_auth (the auth processes' role) the
-- way the auth process calls them; the code checks themselves are C
-- (tests/e2e/test_totp.py, with oathtool): here the database's half, the
-- single use of a time step, a recovery code and a login token, the
-- throttle, the grants, and require_2fa in begin_request and the org
-- trigger.  Run by pg_prove as a superuser, in one transaction rolled
-- back at the end; now() does not move, so times are moved by hand.
CREATE EXTENSION IF NOT EXISTS pgtap;

BEGIN;
SELECT plan(30);

SELECT gen_random_uuid() AS u, gen_random_uuid() AS o \gset
INSERT INTO finicom.users (id, email, name, password_hash)
VALUES (:'u', 'totp-' || :'u' || '@example.test', 'T', '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA');
INSERT INTO finicom.sessions (token_hash, user_id, expires_at)
VALUES (sha256(('s-' || :'u')::bytea), :'u', now() + interval '1 hour');
SELECT sha256(('s-' || :'u')::bytea) AS sh \gset

-- as finicom_auth, one call, its SQLSTATE on failure
CREATE FUNCTION pg_temp.as_auth(p_sql text) RETURNS text LANGUAGE plpgsql AS $$
    DECLARE
        v text;
    BEGIN
        BEGIN
            SET LOCAL ROLE finicom_auth;
            EXECUTE p_sql INTO v;
            RESET ROLE;
            RETURN coalesce(v, 'null');
        EXCEPTION WHEN OTHERS THEN
            RESET ROLE;
            RETURN 'SQLSTATE ' || SQLSTATE || ' ' || SQLERRM;
        END;
    END
    $$;

-- ---------------------------------------------------------------------
-- enrolment and confirmation
SELECT is(pg_temp.as_auth(format($$SELECT enabled::text FROM finicom.auth_totp_user(%L)$$, :'sh')), 'false',
          'auth_totp_user: the session''s user, two-factor off');
SELECT is(pg_temp.as_auth(format($$SELECT finicom.auth_totp_enrol(%L, 'enc:v1:x', 'ip', 'rid')::text$$, :'sh')), '',
          'auth_totp_enrol stores a pending secret');
SELECT is(pg_temp.as_auth($$SELECT finicom.auth_totp_enrol('\x00', 'enc:v1:x', 'ip', 'rid')::text$$),
          'SQLSTATE F0401 unauthenticated', 'auth_totp_enrol without a live session: F0401');
SELECT is(pg_temp.as_auth(format($$SELECT finicom.auth_totp_enrol(%L, 'plain', 'ip', 'rid')::text$$, :'sh')),
          'SQLSTATE 23514 new row for relation "totp_credentials" violates check constraint "totp_credentials_secret_enc_check"',
          'only a ciphertext is stored');
SELECT is(pg_temp.as_auth(format($$SELECT enabled || ',' || coalesce(last_step::text, '-') FROM finicom.auth_totp_begin(%L)$$, :'sh')),
          'false,-', 'auth_totp_begin: pending, no step yet');
SELECT is(pg_temp.as_auth(format(
    $$SELECT finicom.auth_totp_confirm(%L, 100, ARRAY[%s], 'ip', 'rid')::text$$, :'sh',
    (SELECT string_agg(format('sha256(%L::bytea)', 'code' || k), ',') FROM generate_series(1, 10) k))), 'true',
          'auth_totp_confirm with step 100 and ten code hashes: on');
SELECT is((SELECT count(*)::int FROM finicom.totp_recovery_codes WHERE user_id = :'u'), 10, 'ten recovery codes stored');
SELECT is(pg_temp.as_auth(format($$SELECT finicom.auth_totp_enrol(%L, 'enc:v1:y', 'ip', 'rid')::text$$, :'sh')),
          'SQLSTATE F0409 conflict', 'enrolling again while on: F0409 conflict');

-- ---------------------------------------------------------------------
-- the two-step login
SELECT is(pg_temp.as_auth(format($$SELECT totp_required::text || coalesce(user_json::text, '') FROM
    finicom.auth_login_proceed(%L, sha256('new-session'::bytea), 3600, NULL, NULL, 'ip', 'rid', sha256(%L::bytea))$$,
    :'u', 'login-' || :'u')), 'true', 'auth_login_proceed with two-factor on: a login token, no session');
SELECT is((SELECT count(*)::int FROM finicom.sessions WHERE token_hash = sha256('new-session'::bytea)), 0,
          'no session was made');
SELECT ok((SELECT expires_at = now() + interval '5 minutes' FROM finicom.totp_login_tokens
           WHERE token_hash = sha256(('login-' || :'u')::bytea)), 'the login token lives 5 minutes');
SELECT is(pg_temp.as_auth(format($$SELECT finicom.auth_totp_login_complete(sha256(%L::bytea), 100, NULL,
    sha256('s2'::bytea), 3600, NULL, 'ip', 'rid')::text$$, 'login-' || :'u')), 'null',
          'the step used at confirmation is refused (no replay)');
SELECT is(pg_temp.as_auth(format($$SELECT (finicom.auth_totp_login_complete(sha256(%L::bytea), 101, NULL,
    sha256('s2'::bytea), 3600, NULL, 'ip', 'rid') ->> 'id')$$, 'login-' || :'u')), :'u',
          'a newer step signs in: the user object of the new session');
SELECT is((SELECT count(*)::int FROM finicom.totp_login_tokens WHERE token_hash = sha256(('login-' || :'u')::bytea)), 0,
          'the login token is spent');
SELECT is(pg_temp.as_auth(format($$SELECT count(*)::text FROM finicom.auth_totp_login_begin(sha256(%L::bytea))$$,
    'login-' || :'u')), '0', 'a spent login token finds nothing');

-- recovery codes, once
SELECT pg_temp.as_auth(format($$SELECT count(*)::text FROM finicom.auth_login_proceed(%L, sha256('x'::bytea), 3600,
    NULL, NULL, 'ip', 'rid', sha256(%L::bytea))$$, :'u', 'login2-' || :'u'));
SELECT is(pg_temp.as_auth(format($$SELECT (finicom.auth_totp_login_complete(sha256(%L::bytea), NULL, sha256('code3'::bytea),
    sha256('s3'::bytea), 3600, NULL, 'ip', 'rid') ->> 'id')$$, 'login2-' || :'u')), :'u', 'a recovery code signs in');
SELECT pg_temp.as_auth(format($$SELECT count(*)::text FROM finicom.auth_login_proceed(%L, sha256('y'::bytea), 3600,
    NULL, NULL, 'ip', 'rid', sha256(%L::bytea))$$, :'u', 'login3-' || :'u'));
SELECT is(pg_temp.as_auth(format($$SELECT finicom.auth_totp_login_complete(sha256(%L::bytea), NULL, sha256('code3'::bytea),
    sha256('s4'::bytea), 3600, NULL, 'ip', 'rid')::text$$, 'login3-' || :'u')), 'null', 'the same recovery code again: refused');
SELECT is((SELECT count(*)::int FROM finicom.totp_login_tokens WHERE token_hash = sha256(('login3-' || :'u')::bytea)), 1,
          'a refused code does not spend the login token');

-- the throttle: the 5th attempt of a run locks the account
SELECT is(ARRAY(SELECT pg_temp.as_auth(format($$SELECT count(*)::text FROM finicom.auth_totp_login_begin(sha256(%L::bytea))$$,
    'login3-' || :'u')) FROM generate_series(1, 4)), ARRAY['1', '1', '1', '1'], 'four attempts with a token: counted');
SELECT is((SELECT attempts FROM finicom.totp_login_tokens WHERE token_hash = sha256(('login3-' || :'u')::bytea)), 4,
          'the token counts its attempts');
SELECT is(pg_temp.as_auth(format($$SELECT count(*)::text FROM finicom.auth_totp_login_begin(sha256(%L::bytea))$$,
    'login3-' || :'u')), '1', 'the fifth is answered, and spends the token');
SELECT is((SELECT count(*)::int FROM finicom.totp_login_tokens WHERE token_hash = sha256(('login3-' || :'u')::bytea)), 0,
          'after five codes the login token is gone');
SELECT matches(pg_temp.as_auth(format($$SELECT count(*)::text FROM finicom.auth_totp_begin(%L)$$, :'sh')),
          '^SQLSTATE F0429', 'five wrong codes in a run: the account is throttled (F0429)');

-- ---------------------------------------------------------------------
-- grants: finicom_app reads whether its own user has 2FA, not the secret
SELECT ok(NOT has_column_privilege('finicom_app', 'finicom.totp_credentials', 'secret_enc', 'SELECT'),
          'finicom_app cannot read the secret column');
SELECT ok(has_column_privilege('finicom_app', 'finicom.totp_credentials', 'confirmed_at', 'SELECT'),
          'finicom_app reads confirmed_at (GET /me)');
SELECT is(ARRAY[has_table_privilege('finicom_app', 'finicom.totp_recovery_codes', 'SELECT'),
                has_table_privilege('finicom_app', 'finicom.totp_login_tokens', 'SELECT'),
                has_table_privilege('finicom_app', 'finicom.totp_failures', 'SELECT'),
                has_function_privilege('finicom_app', 'finicom.auth_totp_begin(bytea)', 'EXECUTE'),
                has_function_privilege('finicom_app', 'finicom.totp_accept_step(uuid, bigint)', 'EXECUTE')],
          array_fill(false, ARRAY[5]), 'finicom_app has nothing else of two-factor');

-- ---------------------------------------------------------------------
-- require_2fa
SELECT gen_random_uuid() AS u2 \gset
INSERT INTO finicom.users (id, email, name, password_hash)
VALUES (:'u2', 'no2fa-' || :'u2' || '@example.test', 'N', '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA');
INSERT INTO finicom.sessions (token_hash, user_id, expires_at)
VALUES (sha256(('s-' || :'u2')::bytea), :'u2', now() + interval '1 hour');
INSERT INTO finicom.orgs (id, name, require_2fa) VALUES (:'o', 'Strict', true);
INSERT INTO finicom.memberships (org_id, user_id, role) VALUES (:'o', :'u', 'admin'), (:'o', :'u2', 'write');
SET LOCAL ROLE finicom_app;
SELECT is((SELECT two_factor_required::text || ',' || org_role FROM finicom.begin_request('session',
    sha256(('s-' || :'u2')::bytea), :'o', 43200, 'rid', '127.0.0.1')), 'true,write',
          'begin_request: a member without 2FA of a require_2fa org is flagged, the role still returned');
SELECT is(finicom.request_org_id(), NULL, 'and the context has no org');
SELECT is((SELECT two_factor_required::text FROM finicom.begin_request('session',
    sha256(('s-' || :'u')::bytea), :'o', 43200, 'rid', '127.0.0.1')), 'false', 'a member with 2FA is not flagged');
SELECT is(finicom.request_org_id(), :'o'::uuid, 'and has the org in the context');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
