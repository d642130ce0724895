-- 13-secret-names: finicom.config_mask follows the secret-name rule and
-- masks URL passwords (sql/0014_secret_names.sql), case by case from the
-- table finicomd's unit test runs too (tests/sql/secret-names.psql), at
-- the top level and inside an array of objects; and config_masked, the
-- stored generated column, was recomputed for the rows stored before.
-- Run by pg_prove as a superuser.
CREATE EXTENSION IF NOT EXISTS pgtap;
BEGIN;
\ir secret-names.psql

SELECT plan((SELECT 2 * count(*)::int FROM secret_cases) + 5);

-- Names: the value of a key of that name reads as "********" exactly when it is secret.
SELECT is(CASE WHEN finicom.config_mask(jsonb_build_object(c.input, 'v1')) ->> c.input = '********'
               THEN 'secret' ELSE 'plain' END, c.expected, format('name %L is %s', c.input, c.expected))
FROM secret_cases c WHERE c.kind = 'name' ORDER BY c.input;
SELECT is(CASE WHEN finicom.config_mask(jsonb_build_object('hosts', jsonb_build_array(jsonb_build_object(c.input, 42))))
                    #>> ARRAY['hosts', '0', c.input] = '********'
               THEN 'secret' ELSE 'plain' END, c.expected, format('name %L in an array is %s', c.input, c.expected))
FROM secret_cases c WHERE c.kind = 'name' ORDER BY c.input;

-- Values: a URL's password is masked, anything else stays.
SELECT is(finicom.config_mask(jsonb_build_object('url', c.input)) ->> 'url', c.expected,
          format('value %L reads as %L', c.input, c.expected))
FROM secret_cases c WHERE c.kind = 'value' ORDER BY c.input;
SELECT is(finicom.config_mask(jsonb_build_object('a', jsonb_build_object('urls', jsonb_build_array(c.input)))) #>> '{a,urls,0}',
          c.expected, format('value %L in a nested array reads as %L', c.input, c.expected))
FROM secret_cases c WHERE c.kind = 'value' ORDER BY c.input;

-- A secret key's URL value is masked whole; a null secret stays null; other types stay.
SELECT is(finicom.config_mask('{"password_url": "s://u:p@h", "token": null, "port": 5432, "tls": true}'),
          '{"password_url": "********", "token": null, "port": 5432, "tls": true}',
          'a secret key masks its value whole, null and plain values stay');

-- Stored rows: config_masked follows the new rule, for new rows and for the rows stored before.
SELECT gen_random_uuid() AS org \gset
INSERT INTO finicom.orgs (id, name) VALUES (:'org', 'secret-names-test');
INSERT INTO finicom.sources (org_id, name, type, config) VALUES
    (:'org', 's', 'postgres', '{"aws_secret_access_key": "AKIA-x", "apiKey": "k", "url": "postgres://bob:hunter2@db/app"}');
SELECT is((SELECT config_masked FROM finicom.sources WHERE org_id = :'org'),
          '{"aws_secret_access_key": "********", "apiKey": "********", "url": "postgres://bob:********@db/app"}',
          'a stored source is masked by the new rule');
SELECT is((SELECT count(*)::int FROM (
              SELECT config, config_masked FROM finicom.sources
              UNION ALL SELECT config, config_masked FROM finicom.integrations
              UNION ALL SELECT config, config_masked FROM finicom.destinations) t
           WHERE t.config_masked IS DISTINCT FROM finicom.config_mask(t.config)), 0,
          'every stored config_masked is the new mask of its config (0014 recomputed them)');
SELECT is((SELECT attgenerated::text FROM pg_attribute
           WHERE attrelid = 'finicom.sources'::regclass AND attname = 'config_masked'), 's',
          'config_masked is still a stored generated column');
SELECT is((SELECT count(*)::int FROM information_schema.column_privileges
           WHERE table_schema = 'finicom' AND table_name IN ('sources', 'integrations', 'destinations')
             AND column_name = 'config_masked' AND grantee = 'finicom_app' AND privilege_type = 'SELECT'), 3,
          'finicom_app still reads config_masked of the three tables');

SELECT * FROM finish();
ROLLBACK;
