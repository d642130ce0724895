-- floor-sources.sql: the cheapest SQL we know for the reply of
-- GET /api/v1/orgs/{org}/sources (the first page: 50 items, oldest first),
-- for tests/load/bench; see floor-members.sql.  The config as the API shows
-- it, secrets masked, is the stored generated column config_masked (the
-- masking is paid once, at write time); floor-sources-regexp.sql is the
-- floor for a schema without that column.
SELECT pg_catalog.json_build_object(
    'items', coalesce(pg_catalog.json_agg(pg_catalog.json_build_object(
        'id', p.id, 'name', p.name, 'type', p.type,
        'config', p.config_masked,
        'created_at', to_char(p.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24":"MI":"SS.MS"Z"'),
        'updated_at', to_char(p.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24":"MI":"SS.MS"Z"'),
        'created_by', p.created_by)
        ORDER BY p.n) FILTER (WHERE p.n <= 50), '[]'),
    'next_cursor', CASE WHEN count(*) > 50 THEN translate(encode(convert_to(
        max(to_char(p.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24":"MI":"SS.US"Z"') || ',' || p.id)
            FILTER (WHERE p.n = 50), 'UTF8'), 'base64'), E'+/=\n', '-_') END)::text
FROM (SELECT s.id, s.name, s.type, s.config_masked, s.created_at, s.updated_at, s.created_by,
             row_number() OVER (ORDER BY s.created_at, s.id) AS n
      FROM finicom.sources s
      WHERE s.org_id = :org
      ORDER BY s.created_at, s.id
      LIMIT 51) p;
