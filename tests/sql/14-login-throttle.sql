-- 14-login-throttle: per-account login throttling (sql/0015_login_throttle.sql).
--
-- Words:
--   attempt(e)  finicom.auth_login_begin(e) as finicom_auth (the auth
--               processes' role, sql/0019_auth_role.sql), kept (not rolled
--               back): 'ok N' (N = rows returned, 1 for an account, 0 for an
--               unknown email), 'F0429 <hint>' when throttled, or 'SQLSTATE x'
--   U           a user; 'nobody-…' emails have no account
-- The window and the lock are moved by hand (UPDATE as the superuser): the
-- whole file is one transaction, so now() does not move.
-- Run by pg_prove as a superuser, in one transaction rolled back at the end.
CREATE EXTENSION IF NOT EXISTS pgtap;

BEGIN;
SELECT plan(26);

SELECT gen_random_uuid() AS u \gset
SELECT 'Throttle-' || :'u' || '@Example.test' AS email, 'nobody-' || :'u' || '@example.test' AS nobody \gset
INSERT INTO finicom.users (id, email, name, password_hash)
VALUES (:'u', :'email', 'T', '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA');

CREATE FUNCTION pg_temp.attempt(p_email text) RETURNS text LANGUAGE plpgsql AS $$
    DECLARE
        n integer;
        v_hint text;
    BEGIN
        BEGIN
            SET LOCAL ROLE finicom_auth;
            SELECT count(*) INTO n FROM finicom.auth_login_begin(p_email);
            RESET ROLE;
            RETURN 'ok ' || n;
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS v_hint = PG_EXCEPTION_HINT;
            RETURN CASE WHEN SQLSTATE = 'F0429' THEN 'F0429 ' || v_hint ELSE 'SQLSTATE ' || SQLSTATE END;
        END;
    END
    $$;
CREATE FUNCTION pg_temp.attempts(p_email text, n integer) RETURNS text[] LANGUAGE sql AS $$
    SELECT array_agg(pg_temp.attempt(p_email) ORDER BY k) FROM generate_series(1, n) k
$$;
CREATE FUNCTION pg_temp.failures(p_email text) RETURNS integer LANGUAGE sql AS $$
    SELECT failures FROM finicom.login_failures WHERE email = lower(p_email)
$$;
-- The throttle is over (as if its time had passed).
CREATE FUNCTION pg_temp.unlock(p_email text) RETURNS void LANGUAGE sql AS $$
    UPDATE finicom.login_failures SET locked_until = clock_timestamp() - interval '1 second'
    WHERE email = lower(p_email)
$$;

-- The policy.
SELECT is(ARRAY(SELECT finicom.login_lock_seconds(n) FROM unnest(ARRAY[1, 4, 5, 6, 7, 13, 14, 15, 1000]) n),
          ARRAY[0, 0, 1, 2, 4, 256, 300, 300, 300],
          'no throttle before the 5th failure; then 1 s doubling, at most 5 minutes');

-- An account: 5 attempts are checked, the 6th is refused without the hash.
SELECT is(pg_temp.attempts(:'email', 5), ARRAY['ok 1', 'ok 1', 'ok 1', 'ok 1', 'ok 1'],
          'the first 5 attempts for an account get its hash (the password is checked)');
SELECT is(pg_temp.attempt(:'email'), 'F0429 1', 'the 6th at once is F0429, Retry-After 1');
SELECT is(pg_temp.attempt(upper(:'email')), 'F0429 1', 'the email in another case shares the throttle');
SELECT is(pg_temp.failures(:'email'), 5, 'refused attempts are not counted');

-- Unknown emails are tracked the same way (no enumeration).
SELECT is(pg_temp.attempts(:'nobody', 5), ARRAY['ok 0', 'ok 0', 'ok 0', 'ok 0', 'ok 0'],
          'an unknown email: 5 attempts are answered as usual (401 after the same work)');
SELECT is(pg_temp.attempt(:'nobody'), 'F0429 1', 'and the 6th is F0429 like for an account');
SELECT is(pg_temp.attempt('other-' || :'nobody'), 'ok 0', 'another email is not throttled');

-- After the throttle: one more guess, then a doubled throttle.
SELECT pg_temp.unlock(:'email');
SELECT is(pg_temp.attempt(:'email'), 'ok 1', 'after the throttle ends the next attempt is checked');
SELECT is(pg_temp.failures(:'email'), 6, 'and counted');
SELECT is(pg_temp.attempt(:'email'), 'F0429 2', 'the 6th failure throttles for 2 s');
SELECT pg_temp.unlock(:'email');
SELECT is(pg_temp.attempt(:'email'), 'ok 1', 'after that, one more attempt');
SELECT is(pg_temp.attempt(:'email'), 'F0429 4', 'the 7th failure throttles for 4 s');

-- Capped.
UPDATE finicom.login_failures SET failures = 40, locked_until = NULL WHERE email = lower(:'email');
SELECT is(pg_temp.attempt(:'email'), 'ok 1', 'the 41st attempt is checked');
SELECT is(pg_temp.attempt(:'email'), 'F0429 300', 'and throttles for at most 5 minutes');

-- The run ends 15 minutes after its last failure.
UPDATE finicom.login_failures SET last_failed_at = now() - interval '16 minutes',
                                  locked_until = clock_timestamp() - interval '1 second'
WHERE email = lower(:'email');
SELECT is(pg_temp.attempt(:'email'), 'ok 1', 'after 15 quiet minutes the email is checked again');
SELECT is(pg_temp.failures(:'email'), 1, 'and its count starts again at 1');
UPDATE finicom.login_failures SET last_failed_at = now() - interval '14 minutes' WHERE email = lower(:'email');
SELECT is(pg_temp.attempts(:'email', 4), ARRAY['ok 1', 'ok 1', 'ok 1', 'ok 1'],
          'failures 14 minutes apart stay in one run: 2nd to 5th are checked');
SELECT is(pg_temp.attempt(:'email'), 'F0429 1', 'and the 5th of the run throttles');

-- A correct password (auth_login_complete) resets the count.
SELECT pg_temp.unlock(:'email');
SET LOCAL ROLE finicom_auth;
SELECT lives_ok(format($$SELECT * FROM finicom.auth_login_complete(%L, sha256('throttle-session'::bytea),
                                3600, NULL, NULL, '127.0.0.1', 'req-throttle')$$, :'u'),
                'a login completes after the throttle has ended');
RESET ROLE;
SELECT is(pg_temp.failures(:'email'), NULL, 'a successful login forgets the failures');
SELECT is(pg_temp.attempts(:'email', 5), ARRAY['ok 1', 'ok 1', 'ok 1', 'ok 1', 'ok 1'],
          'and the account has 5 attempts again');

-- Neither finicom_app nor finicom_auth can read or write the table itself.
SET LOCAL ROLE finicom_app;
SELECT throws_ok('SELECT count(*) FROM finicom.login_failures', '42501', NULL,
                 'finicom_app cannot read login_failures');
SELECT throws_ok(format('DELETE FROM finicom.login_failures WHERE email = %L', lower(:'email')), '42501', NULL,
                 'finicom_app cannot clear a throttle');
RESET ROLE;
SET LOCAL ROLE finicom_auth;
SELECT throws_ok(format('DELETE FROM finicom.login_failures WHERE email = %L', lower(:'email')), '42501', NULL,
                 'finicom_auth cannot clear a throttle but by a correct password');
RESET ROLE;

-- The hourly purge forgets ended runs only.
UPDATE finicom.login_failures SET last_failed_at = now() - interval '16 minutes', locked_until = NULL
WHERE email = lower(:'nobody');
SELECT finicom.purge_sessions();
SELECT is(ARRAY(SELECT email FROM finicom.login_failures WHERE email IN (lower(:'nobody'), lower(:'email'))),
          ARRAY[lower(:'email')], 'purge_sessions deletes runs that have ended and keeps the others');

SELECT * FROM finish();
ROLLBACK;
