-- 0013_keys_made_by_people: only people create, revoke or delete API keys.
--
-- An admin API key could create admin keys, which kept working after the
-- key that made them was revoked.  The API refuses API keys on the api-keys
-- routes (403 forbidden, src/routes.c); the policies now refuse it too, so
-- a request authenticated by an API key cannot write finicom.api_keys even
-- through SQL injection.  Reading stays as before (admins of the org).
ALTER POLICY api_keys_insert ON finicom.api_keys
    WITH CHECK (org_id = (SELECT finicom.request_org_for('admin'))
                AND (SELECT finicom.request_actor_type()) = 'user');
ALTER POLICY api_keys_update ON finicom.api_keys
    USING (org_id = (SELECT finicom.request_org_for('admin'))
           AND (SELECT finicom.request_actor_type()) = 'user')
    WITH CHECK (org_id = (SELECT finicom.request_org_for('admin'))
                AND (SELECT finicom.request_actor_type()) = 'user');
ALTER POLICY api_keys_delete ON finicom.api_keys
    USING (org_id = (SELECT finicom.request_org_for('admin'))
           AND (SELECT finicom.request_actor_type()) = 'user');
