-- 10-security-layer: the request context that finicom_app cannot forge, and
-- policies that cost O(1) per statement (sql/0009_security_layer.sql,
-- sql/0011_context_guard.sql).
--
-- Words:
--   O1, O2     two orgs; a = admin of O1, x = admin of O2 (the victim org),
--              k2 = an admin API key of O2
--   small/big  SM has 5 of every kind of row, BG has 200: the same list
--              query over each calls every function the same number of
--              times, or the policies (or the JSON) cost O(rows)
--   calls()    runs a statement as finicom_app in the sealed context of an
--              actor and returns what it called: {function: calls} from
--              pg_stat_xact_user_functions (track_functions = 'all'; an
--              inlined function is not called, so it is not counted)
--   forged     finicom_app setting the context by hand (set_config, SET,
--              SET LOCAL, RESET, a function's SET clause, ALTER ROLE), for
--              x in O2 with the admin role: every way is refused (42501)
--   replayed   the exact settings of a context set in an earlier
--              transaction of this session, and of one set in another
--              session (dblink), written again by finicom_app: refused
--   attempt()  one statement as finicom_app with the settings as they are,
--              in a subtransaction that is always rolled back: 'rows N'
--              (rows returned or changed) or 'SQLSTATE xxxxx'
-- Run by pg_prove as a superuser.
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS dblink;

SELECT gen_random_uuid() AS o1, gen_random_uuid() AS o2, gen_random_uuid() AS a, gen_random_uuid() AS x,
       gen_random_uuid() AS k2, gen_random_uuid() AS sm, gen_random_uuid() AS bg, gen_random_uuid() AS sa,
       gen_random_uuid() AS ba \gset

-- A context set in a transaction of its own, before the test's: its
-- settings are what a replay would copy.
BEGIN;
SELECT finicom.context_seal('user', :'x', :'o2', 'admin', 'rid-old', '192.0.2.1');
SELECT current_setting('finicom.actor_type') AS old_type, current_setting('finicom.actor_id') AS old_id,
       current_setting('finicom.org_id') AS old_org, current_setting('finicom.org_role') AS old_role,
       current_setting('finicom.request_id') AS old_rid, current_setting('finicom.client_ip') AS old_ip \gset
COMMIT;

BEGIN;
SELECT plan(124);

-- The earlier transaction's context ended with it.
SELECT is(current_setting('finicom.org_id') || '|' || current_setting('finicom.actor_id'), '|',
          'a context does not outlive its transaction');

-- ---------------------------------------------------------------------
-- Fixtures.
INSERT INTO finicom.users (id, email, name, password_hash)
SELECT id, 'sec-' || id || '@security-layer.test', 'U', '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA'
FROM unnest(ARRAY[:'a', :'x', :'sa', :'ba']::uuid[]) id;
INSERT INTO finicom.orgs (id, name, plan) VALUES (:'o1', 'sec O1', 'pro'), (:'o2', 'sec O2', 'pro'),
    (:'sm', 'sec small', 'pro'), (:'bg', 'sec big', 'pro');
INSERT INTO finicom.memberships (org_id, user_id, role) VALUES
    (:'o1', :'a', 'admin'), (:'o2', :'x', 'admin'), (:'sm', :'sa', 'admin'), (:'bg', :'ba', 'admin');
INSERT INTO finicom.api_keys (org_id, id, name, role, prefix, token_hash)
VALUES (:'o2', :'k2', 'k2', 'admin', 'fcm_secab2', sha256(convert_to(:'k2', 'UTF8')));

-- N rows of every kind in org p_org (members, invitations with mail, API
-- keys, sources, integrations, destinations, connections with an
-- integration and a run; audit events come with them).
CREATE FUNCTION pg_temp.fill(p_org uuid, p_admin uuid, n integer) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO finicom.users (id, email, name, password_hash)
    SELECT gen_random_uuid(), 'm' || g || '-' || p_org || '@security-layer.test', 'M' || g,
           '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA'
    FROM generate_series(1, n) g;
    INSERT INTO finicom.memberships (org_id, user_id, role)
    SELECT p_org, u.id, 'read' FROM finicom.users u WHERE u.email LIKE 'm%-' || p_org || '@security-layer.test';
    INSERT INTO finicom.member_activity (org_id, user_id, last_active_at)
    SELECT p_org, m.user_id, now() FROM finicom.memberships m WHERE m.org_id = p_org;
    INSERT INTO finicom.invitations (org_id, id, email, role, token_hash, invited_by, expires_at)
    SELECT p_org, gen_random_uuid(), 'i' || g || '@security-layer.test', 'read',
           sha256(convert_to(p_org || ':' || g, 'UTF8')), p_admin, now() + interval '1 day'
    FROM generate_series(1, n) g;
    INSERT INTO finicom.mail_outbox (org_id, invitation_id, recipient, subject, body, message_id)
    SELECT i.org_id, i.id, i.email, 's', 'b', '<' || i.id || '@security-layer.test>'
    FROM finicom.invitations i WHERE i.org_id = p_org;
    INSERT INTO finicom.api_keys (org_id, name, role, prefix, token_hash)
    SELECT p_org, 'key ' || g, 'read', 'fcm_' || lpad(g::text, 6, '0'),
           sha256(convert_to('key:' || p_org || ':' || g, 'UTF8'))
    FROM generate_series(1, n) g;
    INSERT INTO finicom.sources (org_id, name, type, config)
    SELECT p_org, 'source ' || g, 'postgres', '{"host": "db", "password": "enc:v1:k:x"}'
    FROM generate_series(1, n) g;
    INSERT INTO finicom.integrations (org_id, name, type) SELECT p_org, 'integration ' || g, 'slack'
    FROM generate_series(1, n) g;
    INSERT INTO finicom.destinations (org_id, name, type) SELECT p_org, 'destination ' || g, 's3'
    FROM generate_series(1, n) g;
    INSERT INTO finicom.connections (org_id, name, source_id, destination_id)
    SELECT p_org, 'connection ' || s.name, s.id, d.id
    FROM (SELECT id, name, row_number() OVER (ORDER BY id) r FROM finicom.sources WHERE org_id = p_org) s
    JOIN (SELECT id, row_number() OVER (ORDER BY id) r FROM finicom.destinations WHERE org_id = p_org) d
      ON d.r = s.r;
    INSERT INTO finicom.connection_integrations (org_id, connection_id, integration_id)
    SELECT p_org, c.id, (SELECT i.id FROM finicom.integrations i WHERE i.org_id = p_org LIMIT 1)
    FROM finicom.connections c WHERE c.org_id = p_org;
    INSERT INTO finicom.sync_runs (org_id, connection_id)
    SELECT p_org, (SELECT c.id FROM finicom.connections c WHERE c.org_id = p_org ORDER BY c.id LIMIT 1)
    FROM generate_series(1, n);
END
$$;
SELECT pg_temp.fill(:'sm', :'sa', 5);
SELECT pg_temp.fill(:'bg', :'ba', 200);
SELECT pg_temp.fill(:'o2', :'x', 3);
-- Objects of O2 that no connection uses (deletable).
INSERT INTO finicom.sources (org_id, name, type) VALUES (:'o2', 'unused', 'postgres');
INSERT INTO finicom.destinations (org_id, name, type) VALUES (:'o2', 'unused', 's3');

-- ---------------------------------------------------------------------
-- Call counts.
SET LOCAL track_functions = 'all';

CREATE FUNCTION pg_temp.fn_calls() RETURNS jsonb LANGUAGE sql AS $$
    SELECT coalesce(jsonb_object_agg(funcid::regprocedure::text, calls), '{}')
    FROM pg_stat_xact_user_functions
$$;

-- What p_sql called, run as finicom_app by p_actor ('user'/'api_key' id)
-- in the context finicom.context_enter() seals for p_org; and how many
-- rows it returned, under the key 'rows'.
CREATE FUNCTION pg_temp.calls(p_type text, p_actor uuid, p_org uuid, p_sql text) RETURNS jsonb
    LANGUAGE plpgsql AS $$
    DECLARE
        v_before jsonb;
        v_after jsonb;
        v_rows bigint;
    BEGIN
        RESET ROLE;
        PERFORM finicom.context_enter(p_type, p_actor, p_org, NULL, NULL);
        v_before := pg_temp.fn_calls();
        SET LOCAL ROLE finicom_app;
        EXECUTE p_sql;
        GET DIAGNOSTICS v_rows = ROW_COUNT;
        RESET ROLE;
        v_after := pg_temp.fn_calls();
        RETURN (SELECT coalesce(jsonb_object_agg(k, (v_after ->> k)::bigint - coalesce((v_before ->> k)::bigint, 0)), '{}')
                FROM jsonb_object_keys(v_after) k
                WHERE (v_after ->> k)::bigint > coalesce((v_before ->> k)::bigint, 0))
               || jsonb_build_object('rows', v_rows);
    END
    $$;

-- The functions the big run called more often than the small one, or
-- NULL when none.
CREATE FUNCTION pg_temp.grows(p_small jsonb, p_big jsonb) RETURNS text LANGUAGE sql AS $$
    SELECT string_agg(k || ': ' || coalesce(p_small ->> k, '0') || ' -> ' || (p_big ->> k), ', ' ORDER BY k)
    FROM jsonb_object_keys(p_big) k
    WHERE k <> 'rows' AND (p_big ->> k)::bigint > coalesce((p_small ->> k)::bigint, 0)
$$;

-- The list queries of the API, in the shape src/handlers/*.c sends them
-- ($1 limit, $2/$3 cursor, $4 org); %s is the org.
CREATE TEMP TABLE lists (name text PRIMARY KEY, sql text NOT NULL);
INSERT INTO lists VALUES
('members', $q$SELECT json_agg(finicom.member_item(p.user_id, p.email, p.name, p.role, p.joined_at, p.last_active_at)
        ORDER BY p.n), max(finicom.cursor_key(p.joined_at, p.user_id)) FILTER (WHERE p.n = 200)
    FROM (SELECT r.*, row_number() OVER (ORDER BY r.joined_at, r.user_id) AS n
          FROM finicom.member_rows r WHERE r.org_id = '%s' ORDER BY r.joined_at, r.user_id LIMIT 201) p$q$),
('invitations', $q$SELECT json_agg(x.item) FROM (SELECT i.item, finicom.cursor_key(i.created_at, i.id) AS k
    FROM finicom.invitation_items i WHERE i.org_id = '%s' AND i.status = 'pending'
    ORDER BY i.created_at, i.id LIMIT 201) x$q$),
('api_keys', $q$SELECT json_agg(x.item) FROM (SELECT finicom.api_key_json(k.id, k.name, k.role, k.prefix,
        k.created_at, k.expires_at, k.last_used_at, k.created_by) AS item, finicom.cursor_key(k.created_at, k.id) AS k
    FROM finicom.api_keys k WHERE k.org_id = '%s' AND k.revoked_at IS NULL ORDER BY k.created_at, k.id LIMIT 201) x$q$),
('sources', $q$SELECT json_agg(x.item) FROM (SELECT json_build_object('id', t.id, 'name', t.name, 'type', t.type,
        'config', t.config_masked, 'created_at', finicom.ts(t.created_at), 'updated_at', finicom.ts(t.updated_at),
        'created_by', t.created_by) AS item, finicom.cursor_key(t.created_at, t.id) AS k
    FROM finicom.sources t WHERE t.org_id = '%s' ORDER BY t.created_at, t.id LIMIT 201) x$q$),
('integrations', $q$SELECT json_agg(x.item) FROM (SELECT json_build_object('id', t.id, 'config', t.config_masked,
        'created_at', finicom.ts(t.created_at)) AS item, finicom.cursor_key(t.created_at, t.id) AS k
    FROM finicom.integrations t WHERE t.org_id = '%s' ORDER BY t.created_at, t.id LIMIT 201) x$q$),
('destinations', $q$SELECT json_agg(x.item) FROM (SELECT json_build_object('id', t.id, 'config', t.config_masked,
        'created_at', finicom.ts(t.created_at)) AS item, finicom.cursor_key(t.created_at, t.id) AS k
    FROM finicom.destinations t WHERE t.org_id = '%s' ORDER BY t.created_at, t.id LIMIT 201) x$q$),
('connections', $q$SELECT json_agg(x.item) FROM (SELECT json_build_object('id', t.id, 'integration_ids', (
        SELECT coalesce(json_agg(ci.integration_id ORDER BY ci.integration_id), '[]')
        FROM finicom.connection_integrations ci WHERE ci.org_id = t.org_id AND ci.connection_id = t.id),
        'created_at', finicom.ts(t.created_at)) AS item, finicom.cursor_key(t.created_at, t.id) AS k
    FROM finicom.connections t WHERE t.org_id = '%s' ORDER BY t.created_at, t.id LIMIT 201) x$q$),
('sync_runs', $q$SELECT json_agg(x.item) FROM (SELECT finicom.sync_run_json(r) AS item,
        finicom.cursor_key(r.requested_at, r.id) AS k
    FROM finicom.sync_runs r WHERE r.org_id = '%s' ORDER BY r.requested_at, r.id LIMIT 201) x$q$),
('audit_events', $q$SELECT json_agg(x.item) FROM (SELECT audit.event_json(e) AS item, finicom.cursor_key(e.at, e.id) AS k
    FROM audit.events e WHERE e.org_id = '%s' ORDER BY e.at DESC, e.id DESC LIMIT 201) x$q$);

-- The method catches a per-row call: a plpgsql function per row grows.
CREATE FUNCTION pg_temp.per_row(uuid) RETURNS text LANGUAGE plpgsql STABLE AS $$ BEGIN RETURN $1::text; END $$;
GRANT EXECUTE ON FUNCTION pg_temp.per_row(uuid) TO finicom_app;
SELECT isnt(pg_temp.grows(
    pg_temp.calls('user', :'sa', :'sm', format('SELECT pg_temp.per_row(id) FROM finicom.sources WHERE org_id = %L', :'sm')),
    pg_temp.calls('user', :'ba', :'bg', format('SELECT pg_temp.per_row(id) FROM finicom.sources WHERE org_id = %L', :'bg'))),
    NULL, 'the check sees a function called once per row (a plpgsql helper over 5 and 200 sources)');

-- Row-level security is really on: the context check runs, and the org
-- sees its own rows.
SELECT ok((pg_temp.calls('user', :'ba', :'bg', format('SELECT 1 FROM finicom.sources WHERE org_id = %L', :'bg'))
            ->> 'finicom.context_guard()')::int > 0,
          'listing sources runs the context check (the policies are in force)');

CREATE TEMP TABLE counted AS
SELECT l.name,
       pg_temp.calls('user', :'sa', :'sm', format(l.sql, :'sm')) AS small,
       pg_temp.calls('user', :'ba', :'bg', format(l.sql, :'bg')) AS big
FROM lists l;

SELECT is((SELECT count(*)::int FROM counted), 9, 'nine list queries counted');
SELECT is(c.big ->> 'rows', '1', c.name || ': the big list runs (one aggregate row)') FROM counted c ORDER BY c.name;
SELECT is(pg_temp.grows(c.small, c.big), NULL,
          c.name || ': listing 200 calls no function more often than listing 5') FROM counted c ORDER BY c.name;
SELECT ok((c.big ->> 'finicom.context_guard()')::int BETWEEN 1 AND 12,
          c.name || ': the context is checked a few times per statement, not per row ('
          || coalesce(c.big ->> 'finicom.context_guard()', '0') || ')')
FROM counted c ORDER BY c.name;

-- The lists really hold 200 rows (so the comparison above means something).
RESET ROLE;
SELECT finicom.context_enter('user', :'ba', :'bg', NULL, NULL);
SET LOCAL ROLE finicom_app;
SELECT is((SELECT count(*)::int FROM finicom.memberships m JOIN finicom.users u ON u.id = m.user_id
           WHERE m.org_id = :'bg'), 201, 'the big org''s admin sees its 201 members and their users');
SELECT is((SELECT count(*)::int FROM finicom.invitation_items i WHERE i.org_id = :'bg' AND i.item -> 'invited_by' ->> 'id' = :'ba'),
          200, 'the big org''s admin sees its 200 invitations with their inviter');
SELECT is((SELECT count(*)::int FROM finicom.sources WHERE org_id = :'bg' AND config_masked ->> 'password' = '********'),
          200, 'the big org''s 200 sources read with the secret masked');
RESET ROLE;

-- ---------------------------------------------------------------------
-- Forged and replayed contexts.

-- One statement as finicom_app with whatever settings are in force.
CREATE FUNCTION pg_temp.attempt(p_sql text) RETURNS text LANGUAGE plpgsql AS $$
    DECLARE
        v_rows bigint;
    BEGIN
        BEGIN
            SET LOCAL ROLE finicom_app;
            EXECUTE p_sql;
            GET DIAGNOSTICS v_rows = ROW_COUNT;
            RAISE EXCEPTION USING ERRCODE = 'PT001', MESSAGE = 'rows ' || v_rows;
        EXCEPTION WHEN OTHERS THEN
            RETURN CASE WHEN SQLSTATE = 'PT001' THEN SQLERRM ELSE 'SQLSTATE ' || SQLSTATE END;
        END;
    END
    $$;

-- Every tenant table, S/I/U/D, aimed at O2 (%s); privileges allow each of
-- these to finicom_app in a real context of O2's admin (checked below).
CREATE TEMP TABLE victims (k serial, tbl text, cmd text, sql text);
INSERT INTO victims (tbl, cmd, sql) VALUES
('orgs', 'SELECT', $$SELECT 1 FROM finicom.orgs WHERE id = '%s'$$),
('orgs', 'UPDATE', $$UPDATE finicom.orgs SET name = name WHERE id = '%s'$$),
('orgs', 'DELETE', $$DELETE FROM finicom.orgs WHERE id = '%s'$$),
('memberships', 'SELECT', $$SELECT 1 FROM finicom.memberships WHERE org_id = '%s'$$),
('memberships', 'INSERT', $$INSERT INTO finicom.memberships (org_id, user_id, role)
    SELECT '%s', id, 'admin' FROM finicom.users WHERE email LIKE 'sec-%%' LIMIT 0$$),
('memberships', 'UPDATE', $$UPDATE finicom.memberships SET role = role WHERE org_id = '%s'$$),
('memberships', 'DELETE', $$DELETE FROM finicom.memberships WHERE org_id = '%s' AND role = 'read'$$),
('member_activity', 'SELECT', $$SELECT 1 FROM finicom.member_activity WHERE org_id = '%s'$$),
('member_rows', 'SELECT', $$SELECT 1 FROM finicom.member_rows WHERE org_id = '%s'$$),
('users', 'SELECT', $$SELECT 1 FROM finicom.users u JOIN finicom.memberships m ON m.user_id = u.id
    WHERE m.org_id = '%s'$$),
('invitations', 'SELECT', $$SELECT 1 FROM finicom.invitations WHERE org_id = '%s'$$),
('invitations', 'INSERT', $$INSERT INTO finicom.invitations (org_id, email, role, token_hash, expires_at)
    VALUES ('%s', 'forged@security-layer.test', 'admin', sha256('forged'::bytea), now() + interval '1 day')$$),
('invitations', 'UPDATE', $$UPDATE finicom.invitations SET status = status WHERE org_id = '%s'$$),
('invitations', 'DELETE', $$DELETE FROM finicom.invitations WHERE org_id = '%s'$$),
('invitation_items', 'SELECT', $$SELECT 1 FROM finicom.invitation_items WHERE org_id = '%s'$$),
('mail_outbox', 'SELECT', $$SELECT 1 FROM finicom.mail_outbox WHERE org_id = '%s'$$),
('api_keys', 'SELECT', $$SELECT 1 FROM finicom.api_keys WHERE org_id = '%s'$$),
('api_keys', 'INSERT', $$INSERT INTO finicom.api_keys (org_id, name, role, prefix, token_hash)
    VALUES ('%s', 'forged', 'admin', 'fcm_forged', sha256('forged key'::bytea))$$),
('api_keys', 'UPDATE', $$UPDATE finicom.api_keys SET revoked_at = now() WHERE org_id = '%s'$$),
('api_keys', 'DELETE', $$DELETE FROM finicom.api_keys WHERE org_id = '%s'$$),
('sources', 'SELECT', $$SELECT 1 FROM finicom.sources WHERE org_id = '%s'$$),
('sources', 'INSERT', $$INSERT INTO finicom.sources (org_id, name, type) VALUES ('%s', 'forged', 'postgres')$$),
('sources', 'UPDATE', $$UPDATE finicom.sources SET name = name WHERE org_id = '%s'$$),
('sources', 'DELETE', $$DELETE FROM finicom.sources s WHERE org_id = '%s'
    AND NOT EXISTS (SELECT FROM finicom.connections c WHERE c.source_id = s.id)$$),
('integrations', 'SELECT', $$SELECT 1 FROM finicom.integrations WHERE org_id = '%s'$$),
('integrations', 'INSERT', $$INSERT INTO finicom.integrations (org_id, name, type) VALUES ('%s', 'forged', 'slack')$$),
('integrations', 'UPDATE', $$UPDATE finicom.integrations SET name = name WHERE org_id = '%s'$$),
('integrations', 'DELETE', $$DELETE FROM finicom.integrations i WHERE org_id = '%s'
    AND NOT EXISTS (SELECT FROM finicom.connection_integrations c WHERE c.integration_id = i.id)$$),
('destinations', 'SELECT', $$SELECT 1 FROM finicom.destinations WHERE org_id = '%s'$$),
('destinations', 'INSERT', $$INSERT INTO finicom.destinations (org_id, name, type) VALUES ('%s', 'forged', 's3')$$),
('destinations', 'UPDATE', $$UPDATE finicom.destinations SET name = name WHERE org_id = '%s'$$),
('destinations', 'DELETE', $$DELETE FROM finicom.destinations d WHERE org_id = '%s'
    AND NOT EXISTS (SELECT FROM finicom.connections c WHERE c.destination_id = d.id)$$),
('connections', 'SELECT', $$SELECT 1 FROM finicom.connections WHERE org_id = '%s'$$),
('connections', 'INSERT', $$INSERT INTO finicom.connections (org_id, name, source_id, destination_id)
    SELECT s.org_id, 'forged', s.id, d.id FROM finicom.sources s JOIN finicom.destinations d ON d.org_id = s.org_id
    WHERE s.org_id = '%1$s' LIMIT 1$$),
('connections', 'UPDATE', $$UPDATE finicom.connections SET name = name WHERE org_id = '%s'$$),
('connections', 'DELETE', $$DELETE FROM finicom.connections WHERE org_id = '%s'$$),
('connection_integrations', 'SELECT', $$SELECT 1 FROM finicom.connection_integrations WHERE org_id = '%s'$$),
('connection_integrations', 'INSERT', $$INSERT INTO finicom.connection_integrations (org_id, connection_id, integration_id)
    SELECT c.org_id, c.id, i.id FROM finicom.connections c JOIN finicom.integrations i ON i.org_id = c.org_id
    WHERE c.org_id = '%1$s' AND NOT EXISTS (SELECT FROM finicom.connection_integrations x
                                            WHERE x.connection_id = c.id AND x.integration_id = i.id) LIMIT 1$$),
('connection_integrations', 'DELETE', $$DELETE FROM finicom.connection_integrations WHERE org_id = '%s'$$),
('sync_runs', 'SELECT', $$SELECT 1 FROM finicom.sync_runs WHERE org_id = '%s'$$),
('sync_runs', 'INSERT', $$INSERT INTO finicom.sync_runs (org_id, connection_id)
    SELECT '%s', c.id FROM finicom.connections c LIMIT 1$$),
('sync_runs', 'UPDATE', $$UPDATE finicom.sync_runs SET status = status WHERE org_id = '%s'$$),
('audit.events', 'SELECT', $$SELECT 1 FROM audit.events WHERE org_id = '%s'$$);

-- Control: O2's admin, in the context begin_request would seal, reaches
-- every one of them (so "nothing" below is the context's doing).
CREATE FUNCTION pg_temp.as_real_admin(p_sql text) RETURNS text LANGUAGE plpgsql AS $$
    BEGIN
        RESET ROLE;
        PERFORM finicom.context_enter('user', (SELECT user_id FROM finicom.memberships
                                               WHERE org_id = current_setting('sec.o2')::uuid AND role = 'admin'
                                                 AND user_id IN (SELECT id FROM finicom.users WHERE email LIKE 'sec-%')),
                                      current_setting('sec.o2')::uuid, NULL, NULL);
        RETURN pg_temp.attempt(p_sql);
    END
    $$;
SELECT set_config('sec.o2', :'o2', true);
SELECT is((SELECT string_agg(v.tbl || ' ' || v.cmd || ': ' || r.outcome, '; ' ORDER BY v.k)
             FROM victims v, LATERAL (SELECT pg_temp.as_real_admin(format(v.sql, :'o2')) AS outcome) r
            WHERE r.outcome NOT LIKE 'rows %' OR (r.outcome = 'rows 0' AND v.sql NOT LIKE '%LIMIT 0%')),
          NULL, 'control: in a sealed context, O2''s admin reaches every table and command tried below');

-- The forger: finicom_app itself, writing the context of O2's admin by
-- every means a role has to change a setting.  Each is refused with 42501
-- (only finicom_owner holds SET on these parameters, sql/0011); returns
-- how many were refused, and leaves the role as it found it.
CREATE FUNCTION pg_temp.forge(p_type text, p_id text, p_org text, p_role text, p_rid text, p_ip text)
    RETURNS integer LANGUAGE plpgsql AS $$
    DECLARE
        v_refused integer := 0;
        v_try text;
    BEGIN
        RESET ROLE;
        SET LOCAL ROLE finicom_app;
        FOREACH v_try IN ARRAY ARRAY[
            format('SELECT set_config(%L, %L, true)', 'finicom.actor_type', p_type),
            format('SELECT set_config(%L, %L, true)', 'finicom.actor_id', p_id),
            format('SELECT set_config(%L, %L, true)', 'finicom.org_id', p_org),
            format('SELECT set_config(%L, %L, true)', 'finicom.org_role', p_role),
            format('SELECT set_config(%L, %L, true)', 'finicom.request_id', p_rid),
            format('SELECT set_config(%L, %L, true)', 'finicom.client_ip', p_ip),
            format('SELECT set_config(%L, %L, false)', 'finicom.org_id', p_org),
            format('SET finicom.org_id = %L', p_org),
            format('SET LOCAL finicom.org_role = %L', p_role),
            'RESET finicom.org_id',
            format('CREATE FUNCTION pg_temp.forged() RETURNS uuid LANGUAGE sql SET finicom.org_id = %L'
                   ' AS $f$ SELECT finicom.request_org_id() $f$', p_org),
            format('ALTER ROLE finicom_app SET finicom.org_id = %L', p_org)]
        LOOP
            BEGIN
                EXECUTE v_try;
            EXCEPTION WHEN insufficient_privilege THEN
                v_refused := v_refused + 1;
            END;
        END LOOP;
        RESET ROLE;
        RETURN v_refused;
    END
    $$;

-- 'rows 0' or a refusal: nothing seen, nothing changed.
CREATE FUNCTION pg_temp.nothing(p_outcome text) RETURNS boolean LANGUAGE sql AS $$
    SELECT p_outcome = 'rows 0' OR p_outcome LIKE 'SQLSTATE %'
$$;

-- From here on no context is in force (the control above entered one).
SELECT finicom.context_seal(NULL, NULL, NULL, NULL, NULL, NULL);
SELECT is(pg_temp.forge('user', :'x', :'o2', 'admin', 'rid', '127.0.0.1'), 12,
          'finicom_app is refused every way of writing the context (12 of 12)');
SELECT is(current_setting('finicom.org_id') || '|' || current_setting('finicom.org_role'), '|',
          '... and the refused attempts changed no setting');

SELECT ok(pg_temp.nothing(pg_temp.attempt(format(v.sql, :'o2'))),
          'forged (finicom_app writing O2''s admin''s context): ' || v.tbl || ' ' || v.cmd || ' sees and changes nothing')
FROM victims v, LATERAL (SELECT pg_temp.forge('user', :'x', :'o2', 'admin', 'rid', '127.0.0.1')) f
WHERE v.cmd IN ('SELECT', 'INSERT', 'UPDATE', 'DELETE')
ORDER BY v.k;

SELECT ok(pg_temp.nothing(pg_temp.attempt(format(v.sql, :'o2'))),
          'replayed (an earlier transaction''s settings): ' || v.tbl || ' ' || v.cmd || ' sees and changes nothing')
FROM victims v, LATERAL (SELECT pg_temp.forge(:'old_type', :'old_id', :'old_org', :'old_role', :'old_rid',
                                              :'old_ip')) f
WHERE v.tbl IN ('orgs', 'memberships', 'users', 'invitations', 'api_keys', 'sources', 'audit.events')
ORDER BY v.k;

-- A context set in another session (another backend) a moment ago.
SELECT 'dbname=' || current_database() || ' user=postgres host='
       || split_part(current_setting('unix_socket_directories'), ',', 1)
       || ' port=' || current_setting('port') AS conninfo \gset
SELECT dblink_connect('other', :'conninfo');
SELECT dblink_exec('other', 'BEGIN');
SELECT v FROM dblink('other', format($$SELECT finicom.context_seal('user', %L, %L, 'admin', 'rid-other', '192.0.2.2')::text$$,
                                     :'x', :'o2')) AS t(v text);
SELECT t.* FROM dblink('other', $$
    SELECT current_setting('finicom.actor_type'), current_setting('finicom.actor_id'),
           current_setting('finicom.org_id'), current_setting('finicom.org_role'),
           current_setting('finicom.request_id'), current_setting('finicom.client_ip')$$)
    AS t(o_type text, o_id text, o_org text, o_role text, o_rid text, o_ip text) \gset
SELECT dblink_disconnect('other');
SELECT is(:'o_org'::text, :'o2'::text, 'the other session had O2''s context');
SELECT ok(pg_temp.nothing(pg_temp.attempt(format(v.sql, :'o2'))),
          'copied from another session: ' || v.tbl || ' ' || v.cmd || ' sees and changes nothing')
FROM victims v, LATERAL (SELECT pg_temp.forge(:'o_type', :'o_id', :'o_org', :'o_role', :'o_rid', :'o_ip')) f
WHERE v.tbl IN ('memberships', 'sources', 'audit.events') AND v.cmd IN ('SELECT', 'INSERT', 'UPDATE')
ORDER BY v.k;

-- A real context, then finicom_app trying to switch it: a's context in O1,
-- with the org switched to O2, or the role and actor raised.
RESET ROLE;
SELECT finicom.context_enter('user', :'a', :'o1', NULL, NULL);
SELECT is(pg_temp.forge('user', :'x', :'o2', 'admin', 'rid', '127.0.0.1'), 12,
          'in a real context too, finicom_app is refused every way of changing it');
SELECT is(current_setting('finicom.org_id') || ' ' || current_setting('finicom.actor_id'), :'o1' || ' ' || :'a',
          '... and the context is still a''s in O1');
SELECT is(pg_temp.attempt(format($$SELECT 1 FROM finicom.sources WHERE org_id = '%s'$$, :'o2')), 'rows 0',
          'a''s context after the attempted switch sees nothing of O2');
SELECT isnt(pg_temp.attempt(format($$SELECT 1 FROM finicom.memberships WHERE org_id = '%s'$$, :'o1')), 'rows 0',
          '... and still sees its own org');
SELECT is(pg_temp.attempt(format($$SELECT 1 FROM finicom.member_rows WHERE org_id = '%s'$$, :'o2')), 'rows 0',
          'member_rows in a''s context shows nothing of O2');
SELECT is(pg_temp.attempt($$SELECT 1 FROM finicom.member_rows$$), 'rows 1',
          'member_rows in a''s context shows O1''s one member and nothing else');
RESET ROLE;

-- member_rows is a security barrier: a function of the caller's in the
-- WHERE clause sees only rows that passed the org check.
CREATE TEMP TABLE seen (email text);
GRANT INSERT, SELECT ON seen TO finicom_app;
CREATE FUNCTION pg_temp.peek(p_email text) RETURNS boolean LANGUAGE plpgsql COST 0.0001 AS $$
    BEGIN
        INSERT INTO seen VALUES (p_email);
        RETURN true;
    END
    $$;
GRANT EXECUTE ON FUNCTION pg_temp.peek(text) TO finicom_app;
SELECT finicom.context_enter('user', :'a', :'o1', NULL, NULL);
SET LOCAL ROLE finicom_app;
SELECT is((SELECT count(*)::int FROM finicom.member_rows WHERE pg_temp.peek(email)), 1,
          'member_rows with a cheap function of the caller''s in WHERE: one row');
RESET ROLE;
SELECT is((SELECT array_agg(email) FROM seen), ARRAY['sec-' || :'a' || '@security-layer.test'],
          '... and the function saw only that row, nothing of other orgs');

-- finicom_app can neither set nor enter a context through the owner's functions.
SET LOCAL ROLE finicom_app;
SELECT throws_ok(format($$SELECT finicom.context_seal('user', %L, %L, 'admin', NULL, NULL)$$, :'x', :'o2'),
                 '42501', NULL, 'finicom_app cannot call context_seal');
SELECT throws_ok(format($$SELECT finicom.context_enter('user', %L, %L, NULL, NULL)$$, :'x', :'o2'),
                 '42501', NULL, 'finicom_app cannot call context_enter');
RESET ROLE;

-- The settings are the module's, not placeholders (a placeholder would be
-- anyone's to set).
SELECT is((SELECT string_agg(name || '=' || context, ',' ORDER BY name) FROM pg_settings WHERE name LIKE 'finicom.%'),
          'finicom.actor_id=superuser,finicom.actor_type=superuser,finicom.client_ip=superuser,'
          'finicom.org_id=superuser,finicom.org_role=superuser,finicom.request_id=superuser',
          'the six context settings are defined by finicom_guard as superuser-only');

-- Audit: after a refused forging, a DBA's write is recorded as 'db', never
-- as the actor the forger claimed.
SELECT finicom.context_seal(NULL, NULL, NULL, NULL, NULL, NULL);
SELECT pg_temp.forge('user', :'x', :'o2', 'admin', 'rid-forged', '203.0.113.9');
UPDATE finicom.orgs SET name = 'sec O2 renamed' WHERE id = :'o2';
SELECT results_eq(format($$SELECT actor_type, actor_id, request_id FROM audit.events
                           WHERE org_id = %L AND action = 'org.updated'$$, :'o2'),
                  $$VALUES ('db'::text, NULL::uuid, NULL::text)$$,
                  'a change made after a refused forging is audited as db, not as the claimed actor');

-- The API key of O2, sealed: it reaches O2 with its role, and nothing of O1.
RESET ROLE;
SELECT finicom.context_enter('api_key', :'k2', :'o2', NULL, NULL);
SELECT is(finicom.request_role()::text, 'admin', 'an API key''s sealed context carries its role');
SELECT is(pg_temp.attempt(format($$SELECT 1 FROM finicom.memberships WHERE org_id = '%s'$$, :'o1')), 'rows 0',
          'an API key of O2 sees nothing of O1');
RESET ROLE;
SELECT finicom.context_enter('api_key', :'k2', :'o1', NULL, NULL);
SELECT is(finicom.request_org_id(), NULL, 'an API key in a request about another org gets no org');

SELECT * FROM finish();
ROLLBACK;
