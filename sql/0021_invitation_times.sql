-- 0021_invitation_times: invitations show when they were accepted or
-- canceled (API v1.1: "Invitations gain accepted_at and canceled_at").
--
-- The table has kept both times since 0004; the view the API reads them
-- through (finicom.invitation_items, 0009) did not show them, so the
-- dashboard's list of every invitation could not say when one was
-- accepted.  The same view, with the two times added to the item; its
-- columns, security_invoker, grants and plan shape stay as they were.

CREATE OR REPLACE VIEW finicom.invitation_items WITH (security_invoker = true) AS
    SELECT i.org_id, i.id, i.created_at, s.status,
           pg_catalog.json_build_object(
               'id', i.id, 'email', i.email, 'role', i.role, 'status', s.status,
               'invited_by', CASE WHEN u.id IS NOT NULL THEN
                   pg_catalog.json_build_object('id', u.id, 'email', u.email, 'name', u.name) END,
               'created_at', finicom.ts(i.created_at),
               'expires_at', finicom.ts(i.expires_at),
               'accepted_at', finicom.ts(i.accepted_at),
               'canceled_at', finicom.ts(i.canceled_at),
               'email_status', (SELECT m.status FROM finicom.mail_outbox m
                                WHERE m.org_id = i.org_id AND m.invitation_id = i.id
                                ORDER BY m.created_at DESC LIMIT 1)) AS item
    FROM finicom.invitations i
    LEFT JOIN finicom.users u ON u.id = i.invited_by
    CROSS JOIN LATERAL (SELECT CASE WHEN i.status = 'pending' AND i.expires_at <= pg_catalog.now()
                                    THEN 'expired' ELSE i.status::text END AS status) s;
