-- 12-keys-made-by-people: a request made with an API key cannot create,
-- revoke or delete API keys, even in SQL (sql/0013_keys_made_by_people.sql).
-- A = admin of O1; ka = an admin API key of O1.  attempt() runs one
-- statement as finicom_app in a context, rolled back: 'rows N' or 'SQLSTATE x'.
CREATE EXTENSION IF NOT EXISTS pgtap;

BEGIN;
SELECT plan(7);

SELECT gen_random_uuid() AS a, gen_random_uuid() AS o1, gen_random_uuid() AS ka, gen_random_uuid() AS k2 \gset
INSERT INTO finicom.users (id, email, name, password_hash)
VALUES (:'a', 'keys-' || :'a' || '@keys.test', 'A', '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA');
INSERT INTO finicom.orgs (id, name) VALUES (:'o1', 'keys O1');
INSERT INTO finicom.memberships (org_id, user_id, role) VALUES (:'o1', :'a', 'admin');
INSERT INTO finicom.api_keys (org_id, id, name, role, prefix, token_hash) VALUES
    (:'o1', :'ka', 'admin key', 'admin', 'fcm_KKKKKK', sha256(('ka' || :'ka')::bytea)),
    (:'o1', :'k2', 'other key', 'read', 'fcm_LLLLLL', sha256(('k2' || :'k2')::bytea));

CREATE FUNCTION pg_temp.attempt(p_type text, p_actor uuid, p_org uuid, p_sql text) RETURNS text
    LANGUAGE plpgsql AS $$
    DECLARE
        v_rows bigint;
    BEGIN
        BEGIN
            PERFORM finicom.context_enter(p_type, p_actor, p_org, NULL, NULL);
            SET LOCAL ROLE finicom_app;
            EXECUTE p_sql;
            GET DIAGNOSTICS v_rows = ROW_COUNT;
            RAISE EXCEPTION USING ERRCODE = 'PT001', MESSAGE = 'rows ' || v_rows;
        EXCEPTION WHEN OTHERS THEN
            RETURN CASE WHEN SQLSTATE = 'PT001' THEN SQLERRM ELSE 'SQLSTATE ' || SQLSTATE END;
        END;
    END
    $$;

SELECT format($$INSERT INTO finicom.api_keys (org_id, name, role, prefix, token_hash)
                VALUES (%L, 'made by a key', 'admin', 'fcm_MMMMMM', sha256('m'::bytea))$$, :'o1') AS ins,
       format($$UPDATE finicom.api_keys SET revoked_at = now() WHERE id = %L$$, :'k2') AS revoke,
       format($$DELETE FROM finicom.api_keys WHERE id = %L$$, :'k2') AS del,
       format($$SELECT 1 FROM finicom.api_keys WHERE org_id = %L$$, :'o1') AS sel \gset

SELECT is(pg_temp.attempt('user', :'a', :'o1', :'ins'), 'rows 1', 'control: the org''s admin creates a key');
SELECT is(pg_temp.attempt('user', :'a', :'o1', :'revoke'), 'rows 1', 'control: the org''s admin revokes a key');
SELECT is(pg_temp.attempt('api_key', :'ka', :'o1', :'ins'), 'SQLSTATE 42501',
          'an admin API key cannot create an API key (row-level security)');
SELECT is(pg_temp.attempt('api_key', :'ka', :'o1', :'revoke'), 'rows 0', 'an admin API key cannot revoke an API key');
SELECT is(pg_temp.attempt('api_key', :'ka', :'o1', :'del'), 'rows 0', 'an admin API key cannot delete an API key');
SELECT is(pg_temp.attempt('api_key', :'ka', :'o1', :'sel'), 'rows 2', 'an admin API key still reads the keys (as before)');
SELECT is((SELECT count(*)::int FROM finicom.api_keys WHERE org_id = :'o1' AND revoked_at IS NULL), 2,
          'nothing was changed by the refused attempts');

SELECT * FROM finish();
ROLLBACK;
