-- floor-sources-regexp.sql: floor-sources.sql for a schema whose sources
-- have no config_masked column (tests/load/bench picks it then).  Secrets
-- are masked the way the API shows them ("********"): every stored secret
-- is a string "enc[:]v1[:]...", wherever it is in the config, so one
-- regexp_replace on the config's text masks them all.  "[:]" keeps pgbench
-- from taking "v1" for a variable.
SELECT pg_catalog.json_build_object(
    'items', coalesce(pg_catalog.json_agg(pg_catalog.json_build_object(
        'id', p.id, 'name', p.name, 'type', p.type,
        'config', regexp_replace(p.config::text, '"enc[:]v1[:][^"]*"', '"********"', 'g')::json,
        'created_at', to_char(p.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24":"MI":"SS.MS"Z"'),
        'updated_at', to_char(p.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24":"MI":"SS.MS"Z"'),
        'created_by', p.created_by)
        ORDER BY p.n) FILTER (WHERE p.n <= 50), '[]'),
    'next_cursor', CASE WHEN count(*) > 50 THEN translate(encode(convert_to(
        max(to_char(p.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24":"MI":"SS.US"Z"') || ',' || p.id)
            FILTER (WHERE p.n = 50), 'UTF8'), 'base64'), E'+/=\n', '-_') END)::text
FROM (SELECT s.id, s.name, s.type, s.config, s.created_at, s.updated_at, s.created_by,
             row_number() OVER (ORDER BY s.created_at, s.id) AS n
      FROM finicom.sources s
      WHERE s.org_id = :org
      ORDER BY s.created_at, s.id
      LIMIT 51) p;
