-- floor-audit-events.sql: the cheapest SQL we know for the reply of
-- GET /api/v1/orgs/{org}/audit-events (the first page: 50 events, newest
-- first, and the next cursor when there are more), for tests/load/bench;
-- see floor-members.sql.
SELECT pg_catalog.json_build_object(
    'items', coalesce(pg_catalog.json_agg(pg_catalog.json_build_object(
        'id', p.id, 'at', to_char(p.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24":"MI":"SS.MS"Z"'),
        'action', p.action,
        'actor', pg_catalog.json_build_object('type', p.actor_type, 'id', p.actor_id, 'label', p.actor_label),
        'target', pg_catalog.json_build_object('type', p.target_type, 'id', p.target_id),
        'details', p.details, 'ip', p.ip, 'request_id', p.request_id)
        ORDER BY p.n) FILTER (WHERE p.n <= 50), '[]'),
    'next_cursor', CASE WHEN count(*) > 50 THEN translate(encode(convert_to(
        max(to_char(p.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24":"MI":"SS.US"Z"') || ',' || p.id)
            FILTER (WHERE p.n = 50), 'UTF8'), 'base64'), E'+/=\n', '-_') END)::text
FROM (SELECT e.id, e.at, e.action, e.actor_type, e.actor_id, e.actor_label, e.target_type,
             e.target_id, e.details, e.ip, e.request_id,
             row_number() OVER (ORDER BY e.at DESC, e.id DESC) AS n
      FROM audit.events e
      WHERE e.org_id = :org
      ORDER BY e.at DESC, e.id DESC
      LIMIT 51) p;
