-- 0014_secret_names: which config values are secret, by one rule.
--
-- A key is secret when its name, with '_' and '-' dropped and ASCII letters
-- lowercased (so case boundaries do not count either), contains password,
-- passwd, passphrase, secret, token, apikey, accesskey, privatekey or
-- credential: aws_secret_access_key, apiKey, db-passwd, credentials.  Its
-- value, whatever its JSON type, reads back as "********" (null stays null).
-- Before, only names ending in password, secret, token, api_key or
-- private_key were, so readers saw the others in clear.
--
-- And any other string value, at any depth, that is a URL with a password
-- (scheme://user:password@host...) reads back with "********" as the
-- password.  scheme is a letter then letters, digits, '+', '.' or '-'; the
-- authority ends at the first '/', '?' or '#' after "://", the userinfo at
-- its last '@', the user at the first ':' of the userinfo; an empty
-- password is none.
--
-- finicomd encrypts by the same rule before storing (src/util/secret.c,
-- secret_name and secret_url_password); tests/sql/secret-names.psql is the
-- one table of cases both are tested with (tests/unit/test_secret_names.c,
-- tests/sql/13-secret-names.sql).  ASCII-only lowercasing (translate, not
-- lower()) keeps the database's collation out of the rule.
--
-- config_masked is a stored generated column: replacing its function does
-- not recompute the rows already stored, so the column is dropped and added
-- again, which rewrites the three tables with the new masks (no row
-- trigger fires, updated_at and the audit trail stay as they are).  Values
-- stored in clear under a name that is secret only now stay in clear in
-- config until the object's next write, which encrypts them (a PATCH that
-- sends "********" back encrypts the stored value); readers never see them.
CREATE OR REPLACE FUNCTION finicom.config_mask(p jsonb) RETURNS jsonb
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
        SELECT CASE pg_catalog.jsonb_typeof(p)
            WHEN 'object' THEN (
                SELECT coalesce(pg_catalog.jsonb_object_agg(e.key,
                    CASE WHEN pg_catalog.translate(e.key, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ_-',
                                                   'abcdefghijklmnopqrstuvwxyz')
                              OPERATOR(pg_catalog.~)
                              '(password|passwd|passphrase|secret|token|apikey|accesskey|privatekey|credential)'
                              AND pg_catalog.jsonb_typeof(e.value) <> 'null'
                         THEN '"********"'::jsonb
                         ELSE finicom.config_mask(e.value) END), '{}'::jsonb)
                FROM pg_catalog.jsonb_each(p) e)
            WHEN 'array' THEN (
                SELECT coalesce(pg_catalog.jsonb_agg(finicom.config_mask(a.x) ORDER BY a.i), '[]'::jsonb)
                FROM pg_catalog.jsonb_array_elements(p) WITH ORDINALITY a(x, i))
            WHEN 'string' THEN pg_catalog.to_jsonb(pg_catalog.regexp_replace(p #>> '{}',
                '^([A-Za-z][A-Za-z0-9+.-]*://[^/?#:]*:)[^/?#]+@', '\1********@'))
            ELSE p
        END
    $$;

ALTER TABLE finicom.sources DROP COLUMN config_masked,
    ADD COLUMN config_masked jsonb GENERATED ALWAYS AS (finicom.config_mask(config)) STORED;
ALTER TABLE finicom.integrations DROP COLUMN config_masked,
    ADD COLUMN config_masked jsonb GENERATED ALWAYS AS (finicom.config_mask(config)) STORED;
ALTER TABLE finicom.destinations DROP COLUMN config_masked,
    ADD COLUMN config_masked jsonb GENERATED ALWAYS AS (finicom.config_mask(config)) STORED;
