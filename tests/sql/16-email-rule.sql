-- 16-email-rule: the database agrees with the email rule (sql/0017_email_rule.sql).
--
-- Words:
--   K         U+212A KELVIN SIGN: lower('K') is 'k', finicom.ascii_lower leaves it
--   U, V      users kate-…@rule.test and Kate's look-alike (never stored)
--   O         an org with U as its admin
--   try(sql)  sql as finicom_app in U's context in O, rolled back: 'ok' or
--             'SQLSTATE xxxxx'
-- Run by pg_prove as a superuser, in one transaction rolled back at the end.
CREATE EXTENSION IF NOT EXISTS pgtap;

BEGIN;
SELECT plan(24);

SELECT gen_random_uuid() AS u, gen_random_uuid() AS o, gen_random_uuid() AS w \gset
SELECT 'kate-' || :'u' || '@rule.test' AS kate, pg_catalog.chr(8490) AS k \gset
SELECT :'k' || 'ate-' || :'u' || '@rule.test' AS kelvin_kate \gset

INSERT INTO finicom.users (id, email, name, password_hash)
VALUES (:'u', :'kate', 'Kate', '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA'),
       (:'w', 'Wendy-' || :'u' || '@Rule.test', 'Wendy', '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA');
INSERT INTO finicom.orgs (id, name) VALUES (:'o', 'rule O');
INSERT INTO finicom.memberships (org_id, user_id, role) VALUES (:'o', :'u', 'admin');

CREATE FUNCTION pg_temp.try(p_user uuid, p_org uuid, p_sql text) RETURNS text LANGUAGE plpgsql AS $$
    BEGIN
        BEGIN
            PERFORM finicom.context_enter('user', p_user, p_org, NULL, NULL);
            SET LOCAL ROLE finicom_app;
            EXECUTE p_sql;
            RAISE EXCEPTION USING ERRCODE = 'PT001', MESSAGE = 'ok';
        EXCEPTION WHEN OTHERS THEN
            RETURN CASE WHEN SQLSTATE = 'PT001' THEN 'ok' ELSE 'SQLSTATE ' || SQLSTATE END;
        END;
    END
    $$;
-- invitation_join() (accepting while signed in) as p_user, rolled back: its outcome.
CREATE FUNCTION pg_temp.join_as(p_user uuid, p_hash bytea) RETURNS text LANGUAGE plpgsql AS $$
    DECLARE
        v text;
    BEGIN
        BEGIN
            PERFORM finicom.context_enter('user', p_user, NULL, NULL, NULL);
            SET LOCAL ROLE finicom_app;
            SELECT j.outcome INTO v FROM finicom.invitation_join(p_hash) j;
            RAISE EXCEPTION USING ERRCODE = 'PT001', MESSAGE = v;
        EXCEPTION WHEN OTHERS THEN
            RETURN CASE WHEN SQLSTATE = 'PT001' THEN SQLERRM ELSE 'SQLSTATE ' || SQLSTATE END;
        END;
    END
    $$;
CREATE FUNCTION pg_temp.invite(p_user uuid, p_org uuid, p_email text) RETURNS text LANGUAGE sql AS $$
    SELECT pg_temp.try(p_user, p_org, format(
        $f$SELECT finicom.invitation_create(%L, %L, 'read', sha256(%L::bytea), 'http://x/invite/T')$f$,
        p_org, p_email, gen_random_uuid()::text))
$$;

-- ---------------------------------------------------------------------
-- Stored emails are printable ASCII.
SELECT throws_ok(format($$INSERT INTO finicom.users (email, name, password_hash)
                          VALUES (%L, 'K', '$argon2id$x')$$, :'kelvin_kate'),
                 '23514', NULL, 'a user email with U+212A is refused (users_email_check)');
SELECT throws_ok($$INSERT INTO finicom.users (email, name, password_hash)
                   VALUES ('jos' || chr(233) || '@rule.test', 'J', '$argon2id$x')$$,
                 '23514', NULL, 'a user email with a non-ASCII local part is refused');
SELECT throws_ok($$INSERT INTO finicom.users (email, name, password_hash)
                   VALUES ('user@b' || chr(252) || 'cher.example', 'B', '$argon2id$x')$$,
                 '23514', NULL, 'a user email with a Unicode domain (not its A-label) is refused');
SELECT throws_ok($$INSERT INTO finicom.users (email, name, password_hash)
                   VALUES ('a b@rule.test', 'S', '$argon2id$x')$$,
                 '23514', NULL, 'a user email with a space is refused');
SELECT lives_ok($$INSERT INTO finicom.users (email, name, password_hash)
                  VALUES ('!#$%&''*+-/=?^_`{|}~@xn--bcher-kva.example', 'A', '$argon2id$x')$$,
                'a user email of atext symbols at an A-label domain is stored');
SELECT throws_ok(format($$INSERT INTO finicom.invitations (org_id, email, role, token_hash, invited_by, expires_at)
                          VALUES (%L, %L, 'read', sha256('t1'::bytea), %L, now() + interval '1 day')$$,
                        :'o', :'kelvin_kate', :'u'),
                 '23514', NULL, 'an invitation email with U+212A is refused (invitations_email_check)');
SELECT throws_ok(format($$UPDATE finicom.orgs SET billing_email = 'b' || chr(8490) || '@rule.test' WHERE id = %L$$, :'o'),
                 '23514', NULL, 'a billing_email with U+212A is refused (orgs_billing_email_check)');
SELECT lives_ok(format($$UPDATE finicom.orgs SET billing_email = NULL WHERE id = %L$$, :'o'),
                'billing_email may still be cleared');
SELECT is(
    (SELECT string_agg(conname || ' ' || convalidated, ', ' ORDER BY conname) FROM pg_catalog.pg_constraint
     WHERE conname IN ('users_email_check', 'invitations_email_check', 'orgs_billing_email_check')),
    'invitations_email_check true, orgs_billing_email_check true, users_email_check true',
    'the three email constraints are validated on a database without old non-ASCII rows');

-- ---------------------------------------------------------------------
-- Uniqueness with ASCII letters lowercased only.
SELECT throws_ok(format($$INSERT INTO finicom.users (email, name, password_hash)
                          VALUES (%L, 'K2', '$argon2id$x')$$, upper(:'kate')),
                 '23505', NULL, 'the same email in capitals is taken (users_email_ascii_lower_key)');
SELECT is((SELECT indexdef ~ 'finicom\.ascii_lower\(email\)' FROM pg_catalog.pg_indexes
           WHERE schemaname = 'finicom' AND indexname = 'users_email_ascii_lower_key'), true,
          'users are unique by finicom.ascii_lower(email)');
SELECT is((SELECT indexdef ~ 'org_id, finicom\.ascii_lower\(email\)' FROM pg_catalog.pg_indexes
           WHERE schemaname = 'finicom' AND indexname = 'invitations_one_pending_key'), true,
          'one pending invitation per (org, finicom.ascii_lower(email))');
SELECT is_empty($$SELECT indexname FROM pg_catalog.pg_indexes
                  WHERE schemaname IN ('finicom', 'audit') AND indexdef ~ '(^|[^_[:alnum:]])lower\('$$,
                'no index of the finicom or audit schema uses lower()');
-- Whoever redefines a function that compares emails must keep ascii_lower.
SELECT is_empty($$SELECT p.oid::regprocedure::text FROM pg_catalog.pg_proc p
                  JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
                  WHERE n.nspname IN ('finicom', 'audit') AND p.prosrc ~ '(^|[^_[:alnum:]])lower\s*\('$$,
                'no function of the finicom or audit schema calls lower()');

-- ---------------------------------------------------------------------
-- Login (as the auth processes' role, sql/0019_auth_role.sql): the
-- look-alike names no account; capitals still do.
SET LOCAL ROLE finicom_auth;
SELECT results_eq(format('SELECT user_id FROM finicom.auth_login_begin(%L)', upper(:'kate')),
                  ARRAY[:'u'::uuid], 'a login as KATE-…@RULE.TEST finds Kate');
SELECT is_empty(format('SELECT user_id FROM finicom.auth_login_begin(%L)', :'kelvin_kate'),
                'a login typed with U+212A for k finds no account (lower() found Kate)');
RESET ROLE;
SELECT hasnt_function('finicom', 'auth_login_lookup', ARRAY['text'],
                      'auth_login_lookup, which compared with lower() until 0017, is gone (0019)');
SET LOCAL ROLE finicom_auth;
SELECT lives_ok(format('SELECT finicom.auth_login_failed(%L, NULL, NULL)', :'kelvin_kate'),
                'a failed login with U+212A is recorded');
RESET ROLE;
SELECT is((SELECT user_id FROM audit.auth_events WHERE email = :'kelvin_kate' AND event = 'login.failed'),
          NULL, 'the failed look-alike login names no user');
SELECT is((SELECT count(*)::integer FROM finicom.login_failures
           WHERE email IN (:'kate', :'kelvin_kate')), 2,
          'throttling counts Kate and the look-alike apart (keyed by ascii_lower)');

-- ---------------------------------------------------------------------
-- Invitations: a member in other ASCII case is a member; accept compares ASCII case only.
SELECT is(pg_temp.invite(:'u', :'o', upper(:'kate')), 'SQLSTATE F0409',
          'inviting a member by her email in capitals is already_member');
INSERT INTO finicom.invitations (org_id, email, role, token_hash, invited_by, expires_at)
VALUES (:'o', 'WENDY-' || :'u' || '@rule.TEST', 'read', sha256(('w-' || :'u')::bytea), :'u', now() + interval '1 day');
SELECT is(pg_temp.join_as(:'w', sha256(('w-' || :'u')::bytea)),
          'ok', 'Wendy (signed in) accepts an invitation to her email in other ASCII case');
-- Without a session (the auth processes' invitation_accept_new_user): an
-- invitation to Kate's email in capitals is Kate's account, which is
-- unverified, so its owner takes it over; no second account is made.
SELECT gen_random_uuid() AS o2 \gset
INSERT INTO finicom.orgs (id, name) VALUES (:'o2', 'rule O2');
INSERT INTO finicom.invitations (org_id, email, role, token_hash, invited_by, expires_at)
VALUES (:'o2', upper(:'kate'), 'read', sha256(('k-' || :'u')::bytea), :'u', now() + interval '1 day');
SET LOCAL ROLE finicom_auth;
SELECT results_eq(format($$SELECT outcome, user_json::json->>'id' FROM finicom.invitation_accept_new_user(
                             sha256(('k-' || %L)::bytea), 'Kate', '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA',
                             sha256(('ks-' || %L)::bytea), 3600, NULL, NULL)$$, :'u', :'u'),
                  format($$VALUES ('ok'::text, %L::text)$$, :'u'),
                  'accepting without a session an invitation to KATE-…@RULE.TEST is Kate''s account');
RESET ROLE;
SELECT is((SELECT count(*)::int FROM finicom.users WHERE finicom.ascii_lower(email) = :'kate'), 1,
          'and there is still one account with Kate''s email');

SELECT * FROM finish();
ROLLBACK;
