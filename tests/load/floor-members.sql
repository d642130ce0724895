-- floor-members.sql: the cheapest SQL we know for the reply of
-- GET /api/v1/orgs/{org}/members (the first page: 50 items, oldest first,
-- and the next cursor when there are more), for tests/load/bench.  One
-- statement, run by pgbench -M prepared as the superuser, so without
-- row-level security; the pgbench variable org is the org.  The bench
-- checks at every run that it gives the same JSON value as the API, and
-- says so when it does not.  to_char's colons are quoted (":") because
-- pgbench takes a colon before a name for one of its variables, even
-- inside a string.
SELECT pg_catalog.json_build_object(
    'items', coalesce(pg_catalog.json_agg(pg_catalog.json_build_object(
        'user', pg_catalog.json_build_object('id', p.user_id, 'email', u.email, 'name', u.name),
        'role', p.role,
        'joined_at', to_char(p.joined_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24":"MI":"SS.MS"Z"'),
        'last_active_at', to_char(a.last_active_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24":"MI":"SS.MS"Z"'),
        'expires_at', to_char(p.expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24":"MI":"SS.MS"Z"'))
        ORDER BY p.n) FILTER (WHERE p.n <= 50), '[]'),
    'next_cursor', CASE WHEN count(*) > 50 THEN translate(encode(convert_to(
        max(to_char(p.joined_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24":"MI":"SS.US"Z"') || ',' || p.user_id)
            FILTER (WHERE p.n = 50), 'UTF8'), 'base64'), E'+/=\n', '-_') END)::text
FROM (SELECT m.org_id, m.user_id, m.role, m.joined_at, m.expires_at,
             row_number() OVER (ORDER BY m.joined_at, m.user_id) AS n
      FROM finicom.memberships m
      WHERE m.org_id = :org AND (m.expires_at IS NULL OR m.expires_at > now())
      ORDER BY m.joined_at, m.user_id
      LIMIT 51) p
JOIN finicom.users u ON u.id = p.user_id
LEFT JOIN finicom.member_activity a ON a.org_id = p.org_id AND a.user_id = p.user_id;
