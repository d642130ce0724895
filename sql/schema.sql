-- sql/schema.sql: the current schema, for reading.  GENERATED; do not edit.
--
-- Written by `deploy/dev schema`: PostgreSQL 15's pg_dump --schema-only of an
-- empty database migrated from scratch by `finicomctl migrate --without-pg-cron`,
-- normalized (no "Dumped from/by" lines, no SET or \restrict lines, no database
-- name, no data), so it is the same on every run and machine.
--
-- The migrations sql/NNNN_name.sql remain the source of change: add a migration,
-- run `deploy/dev schema`, commit both.  Install and upgrade with
-- `finicomctl migrate`, never from this file.  `deploy/dev test` fails when this
-- file is stale, and checks that migrating step by step (--to each version in
-- turn) gives the same schema as migrating in one go.
--
-- Without pg_cron (it runs in one database only, cron.database_name), so with
-- it an installation also has what sql/0005_cron.sql adds: the extension pg_cron,
-- USAGE on schema cron and SELECT, DELETE on cron.job_run_details for
-- finicom_owner, the function finicom.purge_cron_history(), and the three jobs
-- (rows of cron.job: data, not schema).
--
-- Generated from these migrations (SHA-256 as in finicom.schema_migrations):
--   99c4a5f3b41295a249508447f95491573ff3b12ba9cc24bbcd91a15a5dd205c3  0001_foundation.sql
--   d8f3b2e6470df628f1e697bd94348d6f0d00561b42d9725e844f960b71289c7a  0002_accounts.sql
--   f05f084940a03d72b2f23e903c73979ac5f1d17b8c214efdcb3a638f362cad01  0003_orgs.sql
--   34a8ee0cca2749d3304b8bb17a51113ddf3daa76b7dede437c5d5a4f0313e76a  0004_invitations.sql
--   99df89320f2998ad1c10b458a157b73c1391079326345e63f2ca89fbf8ada0a9  0005_cron.sql
--   d6af84f08929436ad5d87dba2b9a4843a42276da1be5ccf43fb7c32a380c14a2  0006_api_keys.sql
--   b2cfd4dc97d6ebeb1e676b77b5e4731686d12c41edf84510b00d9eaaa6a237c9  0007_audit.sql
--   5699fc919787f77abba2e5c162bf556f81817387ed95bcbe71eb33095b8dceaa  0008_objects.sql
--   f433e0503ee9b7da58699b08f07f97a11a53e574f3fb4af6e1f99774bddee8ae  0009_security_layer.sql
--   6cb19adecf2918c6acfc95bb48bf914f855cbc7e3ee257e793f68ad8d7eeba18  0010_audit_seal.sql
--   165bff2520b50591cccc57d1e8bd37065f507ae792659d418cdfbac2b5deb559  0011_context_guard.sql
--   e00d9d2fff08575b10cb07b205b79503ed0dc68be34d3be80805ea400816810b  0012_invitation_limits.sql
--   b0fcbb1becec6f17281b17878f886141a9363f8301c4f6566a5b8f3e21b5f660  0013_keys_made_by_people.sql
--   173879995bd84e8a75339963a1f9a2f028711cccdb1ac965ef3cd30dc0bbb84d  0014_secret_names.sql
--   a940a8090d4dfa9191f176a626843f439903df015b033d8960b8a268f4516651  0015_login_throttle.sql
--   3d65cdd57aa7f8931861225348046ed0fa2907cdf0c60a63ca2200bae4eaf64c  0016_audit_capture_objects.sql
--   935ea863410329aa9a1bddca2a42d577174a1323b48c8daaa6f89c62c367a748  0017_email_rule.sql
--   01bc12b5a1ff57483d87a796d7627f3a55f2937f938153c5319440917678b452  0018_email_verification.sql
--   67335cc4f455cd01ebea0d60b100bfbec4c9a96a385e997928f375c04d3fb47a  0019_auth_role.sql
--   87f441223bd620af01dc21e2bedfb5eda06b3de3cf6237084d3960496ca88bf9  0020_auditor_verifies.sql
--   00328ae8db7c56b3af69c98941d916ebd972f57cf2f66ca7928e0881e70fac24  0021_invitation_times.sql
--   5f8dccc3700291213dd4a11e84cc7b65ac2d8796a6cd1ff08eb1ee9bc7ef1133  0022_account_self_service.sql
--   63dcddf47918e52e6a3a9f434d18aabce95689b65189ea18eda40c55b37df89a  0023_totp.sql
--   ccba25a58ea154c10d29f7a33b35e5fcf092fa074bf0cb73d6ee021840871513  0024_member_governance.sql
--   580390e25a165424a92fd2a6dae6dc34a1e9172717f76ca424e606ac3e4b4657  0025_access_reviews.sql
--   a9a565135f2d1fe1aef83435ea7004eadb682d701b89bb47e6c6bcd2e7f2ce2d  0026_alerts.sql
--   32df4e259d09ec98abc9fa651c1199007f1ebdc9dd0ae0597eae5c19ce254a25  0027_schema_version.sql
--   2fbf5ced8dcf52e158b162cecd7174003abe0bde16ecb01e05f173f765a82cf7  0028_reset_two_factor.sql
--   86b70324457d6dc2ce8ad251ee3c2c599a157e5efa06a4f7c2a874f09551cd80  0029_login_token_once.sql
--   46eb5970517eff12025795a7c18b3e4d36c792befb0d0892808d63e1835ba57e  0030_resend_within_membership.sql

--
-- PostgreSQL database dump
--

--
-- Name: audit; Type: SCHEMA; Schema: -; Owner: finicom_owner
--

CREATE SCHEMA audit;

ALTER SCHEMA audit OWNER TO finicom_owner;

--
-- Name: finicom; Type: SCHEMA; Schema: -; Owner: finicom_owner
--

CREATE SCHEMA finicom;

ALTER SCHEMA finicom OWNER TO finicom_owner;

--
-- Name: finicom_trgm; Type: SCHEMA; Schema: -; Owner: postgres
--

CREATE SCHEMA finicom_trgm;

ALTER SCHEMA finicom_trgm OWNER TO postgres;

--
-- Name: pg_trgm; Type: EXTENSION; Schema: -; Owner: -
--

CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA finicom_trgm;

--
-- Name: EXTENSION pg_trgm; Type: COMMENT; Schema: -; Owner: 
--

COMMENT ON EXTENSION pg_trgm IS 'text similarity measurement and index searching based on trigrams';

--
-- Name: access_review_decision; Type: TYPE; Schema: finicom; Owner: finicom_owner
--

CREATE TYPE finicom.access_review_decision AS ENUM (
    'keep',
    'remove',
    'change_role'
);

ALTER TYPE finicom.access_review_decision OWNER TO finicom_owner;

--
-- Name: access_review_status; Type: TYPE; Schema: finicom; Owner: finicom_owner
--

CREATE TYPE finicom.access_review_status AS ENUM (
    'open',
    'completed',
    'canceled'
);

ALTER TYPE finicom.access_review_status OWNER TO finicom_owner;

--
-- Name: invitation_status; Type: TYPE; Schema: finicom; Owner: finicom_owner
--

CREATE TYPE finicom.invitation_status AS ENUM (
    'pending',
    'accepted',
    'canceled',
    'expired'
);

ALTER TYPE finicom.invitation_status OWNER TO finicom_owner;

--
-- Name: plan; Type: TYPE; Schema: finicom; Owner: finicom_owner
--

CREATE TYPE finicom.plan AS ENUM (
    'trial',
    'free',
    'pro'
);

ALTER TYPE finicom.plan OWNER TO finicom_owner;

--
-- Name: role; Type: TYPE; Schema: finicom; Owner: finicom_owner
--

CREATE TYPE finicom.role AS ENUM (
    'read',
    'write',
    'admin'
);

ALTER TYPE finicom.role OWNER TO finicom_owner;

--
-- Name: alerts_on_auth_event(); Type: FUNCTION; Schema: audit; Owner: finicom_owner
--

CREATE FUNCTION audit.alerts_on_auth_event() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
    DECLARE
        v_ids uuid[];
        v_org uuid;
    BEGIN
        BEGIN
            v_ids := ARRAY(SELECT a.id FROM audit.auth_events a
                           WHERE a.user_id = NEW.user_id AND a.event = 'login.failed' AND a.id <> NEW.id
                             AND a.at > pg_catalog.clock_timestamp() - interval '10 minutes'
                           ORDER BY a.at, a.id LIMIT 999) || NEW.id;
            IF pg_catalog.cardinality(v_ids) >= 10 THEN
                FOR v_org IN SELECT m.org_id FROM finicom.memberships m WHERE m.user_id = NEW.user_id LOOP
                    PERFORM finicom.alert_raise(v_org, 'failed_logins', v_ids,
                        pg_catalog.format('%s failed sign-ins for %s in 10 minutes (last from %s)',
                            pg_catalog.cardinality(v_ids),
                            (SELECT u.email FROM finicom.users u WHERE u.id = NEW.user_id),
                            coalesce(NEW.ip, 'an unknown address')));
                END LOOP;
            END IF;
        EXCEPTION WHEN OTHERS THEN
            RAISE WARNING 'activity alert not evaluated for auth event %: %', NEW.id, SQLERRM;
        END;
        RETURN NULL;
    END
    $$;

ALTER FUNCTION audit.alerts_on_auth_event() OWNER TO finicom_owner;

--
-- Name: alerts_on_event(); Type: FUNCTION; Schema: audit; Owner: finicom_owner
--

CREATE FUNCTION audit.alerts_on_event() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
    DECLARE
        v_ids uuid[];
        v_label text;
    BEGIN
        BEGIN
            IF finicom.org_created_now(NEW.org_id) THEN
                RETURN NULL;
            END IF;
            IF NEW.actor_type = 'db' THEN
                PERFORM finicom.alert_raise(NEW.org_id, 'db_change', ARRAY[NEW.id],
                    pg_catalog.format('%s by database role %s, not through the API', NEW.action, NEW.actor_label));
            END IF;
            IF (NEW.action = 'member.added' AND NEW.details ->> 'role' = 'admin')
               OR (NEW.action = 'member.role_changed' AND NEW.details ->> 'new_role' = 'admin') THEN
                v_label := (SELECT u.email FROM finicom.users u WHERE u.id = NEW.target_id);
                PERFORM finicom.alert_raise(NEW.org_id, 'admin_granted', ARRAY[NEW.id],
                    pg_catalog.format('%s became an admin (%s by %s)', coalesce(v_label, 'a user'),
                        NEW.action, coalesce(NEW.actor_label, NEW.actor_type)));
            ELSIF NEW.action = 'api_key.created' AND NEW.details ->> 'role' = 'admin' THEN
                PERFORM finicom.alert_raise(NEW.org_id, 'admin_api_key_created', ARRAY[NEW.id],
                    pg_catalog.format('admin API key "%s" created by %s', NEW.details ->> 'name',
                        coalesce(NEW.actor_label, NEW.actor_type)));
            ELSIF NEW.action = 'member.removed' THEN
                v_ids := ARRAY(SELECT e.id FROM audit.events e
                               WHERE e.org_id = NEW.org_id AND e.action = 'member.removed' AND e.id <> NEW.id
                                 AND e.at > pg_catalog.clock_timestamp() - interval '10 minutes'
                               ORDER BY e.at, e.id LIMIT 999) || NEW.id;
                IF pg_catalog.cardinality(v_ids) >= 5 THEN
                    PERFORM finicom.alert_raise(NEW.org_id, 'mass_removal', v_ids,
                        pg_catalog.format('%s members removed in 10 minutes', pg_catalog.cardinality(v_ids)));
                END IF;
            END IF;
        EXCEPTION WHEN OTHERS THEN
            RAISE WARNING 'activity alert not evaluated for audit event % (%): %', NEW.id, NEW.action, SQLERRM;
        END;
        RETURN NULL;
    END
    $$;

ALTER FUNCTION audit.alerts_on_event() OWNER TO finicom_owner;

--
-- Name: append(uuid, text, text, uuid, jsonb); Type: FUNCTION; Schema: audit; Owner: finicom_owner
--

CREATE FUNCTION audit.append(p_org uuid, p_action text, p_target_type text, p_target_id uuid, p_details jsonb) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
    BEGIN
        INSERT INTO audit.events (org_id, action, target_type, target_id, details)
        VALUES (p_org, p_action, p_target_type, p_target_id, coalesce(p_details, '{}'));
    END
    $$;

ALTER FUNCTION audit.append(p_org uuid, p_action text, p_target_type text, p_target_id uuid, p_details jsonb) OWNER TO finicom_owner;

--
-- Name: auth_event(text, uuid, text, text, text); Type: FUNCTION; Schema: audit; Owner: finicom_owner
--

CREATE FUNCTION audit.auth_event(p_event text, p_user uuid, p_email text, p_ip text, p_request_id text) RETURNS void
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO ''
    AS $$
        INSERT INTO audit.auth_events (event, user_id, email, ip, request_id)
        VALUES (p_event, p_user, pg_catalog.left(p_email, 254), p_ip, p_request_id)
    $$;

ALTER FUNCTION audit.auth_event(p_event text, p_user uuid, p_email text, p_ip text, p_request_id text) OWNER TO finicom_owner;

--
-- Name: events; Type: TABLE; Schema: audit; Owner: finicom_owner
--

CREATE TABLE audit.events (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    org_id uuid NOT NULL,
    seq bigint,
    at timestamp with time zone DEFAULT now() NOT NULL,
    action text NOT NULL,
    actor_type text NOT NULL,
    actor_id uuid,
    actor_label text,
    target_type text,
    target_id uuid,
    details jsonb DEFAULT '{}'::jsonb NOT NULL,
    ip text,
    request_id text,
    prev_hash bytea,
    hash bytea,
    sealed_at timestamp with time zone,
    CONSTRAINT events_actor_type_check CHECK ((actor_type = ANY (ARRAY['user'::text, 'api_key'::text, 'system'::text, 'db'::text]))),
    CONSTRAINT events_hash_check CHECK ((octet_length(hash) = 32)),
    CONSTRAINT events_prev_hash_check CHECK ((octet_length(prev_hash) = 32)),
    CONSTRAINT events_sealed_or_pending CHECK ((((seq IS NULL) = (prev_hash IS NULL)) AND ((seq IS NULL) = (hash IS NULL)) AND ((sealed_at IS NULL) OR (seq IS NOT NULL)))),
    CONSTRAINT events_seq_check CHECK ((seq > 0))
);

ALTER TABLE ONLY audit.events FORCE ROW LEVEL SECURITY;

ALTER TABLE audit.events OWNER TO finicom_owner;

--
-- Name: canonical(audit.events); Type: FUNCTION; Schema: audit; Owner: finicom_owner
--

CREATE FUNCTION audit.canonical(e audit.events) RETURNS bytea
    LANGUAGE sql IMMUTABLE
    AS $$
        SELECT pg_catalog.convert_to(pg_catalog.concat_ws(E'\x1f',
            e.org_id, e.seq, pg_catalog.to_char(e.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
            e.action, e.actor_type, coalesce(e.actor_id::text, ''), coalesce(e.actor_label, ''),
            coalesce(e.target_type, ''), coalesce(e.target_id::text, ''), e.details::text,
            coalesce(e.ip, ''), coalesce(e.request_id, '')), 'UTF8')
    $$;

ALTER FUNCTION audit.canonical(e audit.events) OWNER TO finicom_owner;

--
-- Name: capture(); Type: FUNCTION; Schema: audit; Owner: finicom_owner
--

CREATE FUNCTION audit.capture() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
    DECLARE
        kind text := TG_ARGV[0];
        r record := CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
        v_org uuid;
        v_old jsonb := CASE WHEN TG_OP <> 'INSERT' THEN pg_catalog.to_jsonb(OLD) END;
        v_new jsonb := CASE WHEN TG_OP <> 'DELETE' THEN pg_catalog.to_jsonb(NEW) END;
        v_changed jsonb;
        v_billing text[] := ARRAY['plan', 'billing_email', 'trial_ends_at'];
    BEGIN
        v_org := CASE WHEN kind = 'org' THEN (pg_catalog.to_jsonb(r) ->> 'id')::uuid
                      ELSE (pg_catalog.to_jsonb(r) ->> 'org_id')::uuid END;
        IF kind <> 'org' AND NOT EXISTS (SELECT 1 FROM finicom.orgs o WHERE o.id = v_org) THEN
            RETURN NULL;
        END IF;

        IF kind = 'org' THEN
            IF TG_OP = 'INSERT' THEN
                PERFORM audit.append(v_org, 'org.created', 'org', v_org,
                    pg_catalog.jsonb_build_object('name', NEW.name));
            ELSIF TG_OP = 'DELETE' THEN
                PERFORM audit.append(v_org, 'org.deleted', 'org', v_org,
                    pg_catalog.jsonb_build_object('name', OLD.name));
            ELSE
                v_changed := audit.changed_fields(v_old, v_new, v_billing);
                IF v_changed <> '[]' THEN
                    PERFORM audit.append(v_org, 'org.updated', 'org', v_org,
                        pg_catalog.jsonb_build_object('changed', v_changed,
                            'old', v_old - v_billing - ARRAY['id', 'created_at'],
                            'new', v_new - v_billing - ARRAY['id', 'created_at']));
                END IF;
                v_changed := (SELECT coalesce(pg_catalog.jsonb_agg(k ORDER BY k), '[]'::jsonb)
                              FROM pg_catalog.unnest(v_billing) k
                              WHERE (v_old -> k) IS DISTINCT FROM (v_new -> k));
                IF v_changed <> '[]' THEN
                    PERFORM audit.append(v_org, 'billing.updated', 'org', v_org,
                        pg_catalog.jsonb_build_object('changed', v_changed,
                            'old_plan', OLD.plan, 'new_plan', NEW.plan));
                END IF;
            END IF;

        ELSIF kind = 'member' THEN
            IF TG_OP = 'INSERT' THEN
                PERFORM audit.append(v_org, 'member.added', 'user', NEW.user_id,
                    pg_catalog.jsonb_build_object('role', NEW.role));
            ELSIF TG_OP = 'DELETE' THEN
                PERFORM audit.append(v_org, 'member.removed', 'user', OLD.user_id,
                    pg_catalog.jsonb_build_object('role', OLD.role));
            ELSIF OLD.role IS DISTINCT FROM NEW.role THEN
                PERFORM audit.append(v_org, 'member.role_changed', 'user', NEW.user_id,
                    pg_catalog.jsonb_build_object('old_role', OLD.role, 'new_role', NEW.role));
            END IF;

        ELSIF kind = 'invitation' THEN
            IF TG_OP = 'INSERT' THEN
                PERFORM audit.append(v_org, 'invitation.created', 'invitation', NEW.id,
                    pg_catalog.jsonb_build_object('email', NEW.email, 'role', NEW.role));
            ELSIF TG_OP = 'DELETE' THEN
                PERFORM audit.append(v_org, 'invitation.deleted', 'invitation', OLD.id,
                    pg_catalog.jsonb_build_object('email', OLD.email));
            ELSIF OLD.token_hash IS DISTINCT FROM NEW.token_hash THEN
                -- A resend (which also revives an expired invitation).
                PERFORM audit.append(v_org, 'invitation.resent', 'invitation', NEW.id,
                    pg_catalog.jsonb_build_object('email', NEW.email, 'old_status', OLD.status,
                        'expires_at', finicom.ts(NEW.expires_at)));
            ELSIF OLD.status IS DISTINCT FROM NEW.status THEN
                PERFORM audit.append(v_org, 'invitation.' || NEW.status, 'invitation', NEW.id,
                    pg_catalog.jsonb_build_object('email', NEW.email, 'role', NEW.role,
                        'old_status', OLD.status));
            END IF;

        ELSIF kind = 'api_key' THEN
            IF TG_OP = 'INSERT' THEN
                PERFORM audit.append(v_org, 'api_key.created', 'api_key', NEW.id,
                    pg_catalog.jsonb_build_object('name', NEW.name, 'role', NEW.role, 'prefix', NEW.prefix));
            ELSIF TG_OP = 'DELETE' THEN
                PERFORM audit.append(v_org, 'api_key.deleted', 'api_key', OLD.id,
                    pg_catalog.jsonb_build_object('name', OLD.name));
            ELSIF OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL THEN
                PERFORM audit.append(v_org, 'api_key.revoked', 'api_key', NEW.id,
                    pg_catalog.jsonb_build_object('name', NEW.name, 'role', NEW.role));
            END IF;

        ELSIF kind = 'sync_run' THEN
            IF TG_OP = 'INSERT' THEN
                PERFORM audit.append(v_org, 'connection.sync_requested', 'connection',
                    (v_new ->> 'connection_id')::uuid,
                    pg_catalog.jsonb_build_object('run_id', v_new ->> 'id'));
            END IF;

        ELSIF kind = 'connection_integration' THEN
            PERFORM audit.append(v_org, 'connection.updated', 'connection',
                (pg_catalog.to_jsonb(r) ->> 'connection_id')::uuid,
                pg_catalog.jsonb_build_object(
                    CASE WHEN TG_OP = 'DELETE' THEN 'integration_removed' ELSE 'integration_added' END,
                    pg_catalog.to_jsonb(r) ->> 'integration_id'));

        ELSE
            -- Data objects: source, integration, destination, connection.
            -- Field names only: config values may be secrets.
            IF TG_OP = 'INSERT' THEN
                PERFORM audit.append(v_org, kind || '.created', kind, (v_new ->> 'id')::uuid,
                    pg_catalog.jsonb_build_object('name', v_new ->> 'name'));
            ELSIF TG_OP = 'DELETE' THEN
                PERFORM audit.append(v_org, kind || '.deleted', kind, (v_old ->> 'id')::uuid,
                    pg_catalog.jsonb_build_object('name', v_old ->> 'name'));
            ELSE
                v_changed := audit.changed_fields(v_old, v_new, ARRAY['updated_at', 'config_masked']);
                IF v_changed <> '[]' THEN
                    PERFORM audit.append(v_org, kind || '.updated', kind, (v_new ->> 'id')::uuid,
                        pg_catalog.jsonb_build_object('name', v_new ->> 'name', 'changed', v_changed));
                END IF;
            END IF;
        END IF;
        RETURN NULL;
    END
    $$;

ALTER FUNCTION audit.capture() OWNER TO finicom_owner;

--
-- Name: capture_access_review(); Type: FUNCTION; Schema: audit; Owner: finicom_owner
--

CREATE FUNCTION audit.capture_access_review() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
    BEGIN
        IF TG_TABLE_NAME = 'access_reviews' THEN
            IF TG_OP = 'INSERT' THEN
                PERFORM audit.append(NEW.org_id, 'access_review.created', 'access_review', NEW.id,
                    pg_catalog.jsonb_build_object('due_at', finicom.ts(NEW.due_at)));
            ELSIF TG_OP = 'UPDATE' AND OLD.status IS DISTINCT FROM NEW.status THEN
                PERFORM audit.append(NEW.org_id, 'access_review.' || NEW.status, 'access_review', NEW.id,
                    pg_catalog.jsonb_build_object('items',
                        (SELECT count(*) FROM finicom.access_review_items i
                         WHERE i.org_id = NEW.org_id AND i.review_id = NEW.id))
                    || coalesce(NEW.applied, '{}'));
            END IF;
        ELSIF TG_OP = 'UPDATE' AND (OLD.decision, OLD.new_role, OLD.note)
                                   IS DISTINCT FROM (NEW.decision, NEW.new_role, NEW.note) THEN
            -- The member's email too: the trail names them after they are gone.
            PERFORM audit.append(NEW.org_id, 'access_review.decided', 'user', NEW.user_id,
                pg_catalog.jsonb_build_object('review_id', NEW.review_id, 'decision', NEW.decision,
                    'new_role', NEW.new_role, 'role', NEW.role, 'note', NEW.note,
                    'email', (SELECT u.email FROM finicom.users u WHERE u.id = NEW.user_id)));
        END IF;
        RETURN NULL;
    END
    $$;

ALTER FUNCTION audit.capture_access_review() OWNER TO finicom_owner;

--
-- Name: capture_member(); Type: FUNCTION; Schema: audit; Owner: finicom_owner
--

CREATE FUNCTION audit.capture_member() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
    DECLARE
        v_org uuid := CASE WHEN TG_OP = 'DELETE' THEN OLD.org_id ELSE NEW.org_id END;
    BEGIN
        IF NOT EXISTS (SELECT 1 FROM finicom.orgs o WHERE o.id = v_org) THEN
            RETURN NULL;
        END IF;
        IF TG_OP = 'INSERT' THEN
            PERFORM audit.append(v_org, 'member.added', 'user', NEW.user_id,
                pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object('role', NEW.role,
                    'expires_at', finicom.ts(NEW.expires_at))));
        ELSIF TG_OP = 'DELETE' THEN
            IF OLD.expires_at IS NOT NULL AND OLD.expires_at <= pg_catalog.now() THEN
                PERFORM audit.append(v_org, 'member.expired', 'user', OLD.user_id,
                    pg_catalog.jsonb_build_object('role', OLD.role, 'expires_at', finicom.ts(OLD.expires_at)));
            ELSE
                PERFORM audit.append(v_org, 'member.removed', 'user', OLD.user_id,
                    pg_catalog.jsonb_build_object('role', OLD.role));
            END IF;
        ELSE
            IF OLD.role IS DISTINCT FROM NEW.role THEN
                PERFORM audit.append(v_org, 'member.role_changed', 'user', NEW.user_id,
                    pg_catalog.jsonb_build_object('old_role', OLD.role, 'new_role', NEW.role));
            END IF;
            IF OLD.expires_at IS DISTINCT FROM NEW.expires_at THEN
                PERFORM audit.append(v_org, 'member.expiry_changed', 'user', NEW.user_id,
                    pg_catalog.jsonb_build_object('old_expires_at', finicom.ts(OLD.expires_at),
                        'new_expires_at', finicom.ts(NEW.expires_at)));
            END IF;
        END IF;
        RETURN NULL;
    END
    $$;

ALTER FUNCTION audit.capture_member() OWNER TO finicom_owner;

--
-- Name: capture_object(); Type: FUNCTION; Schema: audit; Owner: finicom_owner
--

CREATE FUNCTION audit.capture_object() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
    DECLARE
        kind text := TG_ARGV[0];
        v_changed jsonb;
    BEGIN
        IF TG_OP = 'INSERT' THEN
            -- The org exists: the row's foreign key says so.
            INSERT INTO audit.events (org_id, action, target_type, target_id, details)
            VALUES (NEW.org_id, kind || '.created', kind, NEW.id,
                    pg_catalog.jsonb_build_object('name', NEW.name));
        ELSIF TG_OP = 'DELETE' THEN
            IF EXISTS (SELECT 1 FROM finicom.orgs o WHERE o.id = OLD.org_id) THEN
                INSERT INTO audit.events (org_id, action, target_type, target_id, details)
                VALUES (OLD.org_id, kind || '.deleted', kind, OLD.id,
                        pg_catalog.jsonb_build_object('name', OLD.name));
            END IF;
        ELSE
            v_changed := audit.changed_fields(pg_catalog.to_jsonb(OLD), pg_catalog.to_jsonb(NEW),
                                              ARRAY['updated_at', 'config_masked']);
            IF v_changed <> '[]' AND EXISTS (SELECT 1 FROM finicom.orgs o WHERE o.id = NEW.org_id) THEN
                INSERT INTO audit.events (org_id, action, target_type, target_id, details)
                VALUES (NEW.org_id, kind || '.updated', kind, NEW.id,
                        pg_catalog.jsonb_build_object('name', NEW.name, 'changed', v_changed));
            END IF;
        END IF;
        RETURN NULL;
    END
    $$;

ALTER FUNCTION audit.capture_object() OWNER TO finicom_owner;

--
-- Name: changed_fields(jsonb, jsonb, text[]); Type: FUNCTION; Schema: audit; Owner: finicom_owner
--

CREATE FUNCTION audit.changed_fields(p_old jsonb, p_new jsonb, p_skip text[]) RETURNS jsonb
    LANGUAGE sql IMMUTABLE
    SET search_path TO ''
    AS $$
        SELECT coalesce(pg_catalog.jsonb_agg(k ORDER BY k), '[]'::jsonb)
        FROM pg_catalog.jsonb_object_keys(p_new) k
        WHERE NOT (k = ANY (p_skip)) AND (p_old -> k) IS DISTINCT FROM (p_new -> k)
    $$;

ALTER FUNCTION audit.changed_fields(p_old jsonb, p_new jsonb, p_skip text[]) OWNER TO finicom_owner;

--
-- Name: event_json(audit.events); Type: FUNCTION; Schema: audit; Owner: finicom_owner
--

CREATE FUNCTION audit.event_json(e audit.events) RETURNS json
    LANGUAGE sql STABLE
    AS $$
        SELECT pg_catalog.json_build_object('id', e.id, 'at', finicom.ts(e.at), 'action', e.action,
            'actor', pg_catalog.json_build_object('type', e.actor_type, 'id', e.actor_id, 'label', e.actor_label),
            'target', pg_catalog.json_build_object('type', e.target_type, 'id', e.target_id),
            'details', e.details, 'ip', e.ip, 'request_id', e.request_id)
    $$;

ALTER FUNCTION audit.event_json(e audit.events) OWNER TO finicom_owner;

--
-- Name: refuse_change(); Type: FUNCTION; Schema: audit; Owner: finicom_owner
--

CREATE FUNCTION audit.refuse_change() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
    DECLARE
        v_old audit.events;
        v_new audit.events;
    BEGIN
        IF TG_OP = 'UPDATE' AND TG_TABLE_SCHEMA = 'audit' AND TG_TABLE_NAME = 'events'
           AND OLD.seq IS NULL AND NEW.seq IS NOT NULL THEN
            v_old := OLD;
            v_new := NEW;
            v_new.seq := NULL;
            v_new.prev_hash := NULL;
            v_new.hash := NULL;
            v_new.sealed_at := NULL;
            IF NOT v_new OPERATOR(pg_catalog.*=) v_old THEN
                RAISE EXCEPTION 'audit events are append-only: a seal changes only seq, prev_hash and hash'
                    USING ERRCODE = 'insufficient_privilege';
            END IF;
            IF NEW.hash IS DISTINCT FROM pg_catalog.sha256(NEW.prev_hash || audit.canonical(NEW)) THEN
                RAISE EXCEPTION 'audit events are append-only: the hash of a seal must be sha256(prev_hash || event)'
                    USING ERRCODE = 'insufficient_privilege';
            END IF;
            NEW.sealed_at := pg_catalog.clock_timestamp();
            RETURN NEW;
        END IF;
        RAISE EXCEPTION 'audit events are append-only: % is not allowed', TG_OP
            USING ERRCODE = 'insufficient_privilege';
    END
    $$;

ALTER FUNCTION audit.refuse_change() OWNER TO finicom_owner;

--
-- Name: seal_links(); Type: FUNCTION; Schema: audit; Owner: finicom_owner
--

CREATE FUNCTION audit.seal_links() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
    DECLARE
        r record;
        v_org uuid;
        v_head audit.chain_heads%ROWTYPE;
        v_seq bigint;
        v_hash bytea;
    BEGIN
        FOR r IN SELECT n.org_id, n.id, n.seq, n.prev_hash, n.hash FROM new_rows n
                 WHERE n.seq IS NOT NULL ORDER BY n.org_id, n.seq LOOP
            IF v_org IS DISTINCT FROM r.org_id THEN
                IF v_seq > v_head.seq THEN
                    UPDATE audit.chain_heads h SET seq = v_seq, hash = v_hash WHERE h.org_id = v_org;
                END IF;
                v_org := r.org_id;
                SELECT * INTO v_head FROM audit.chain_heads h WHERE h.org_id = v_org FOR UPDATE;
                IF NOT FOUND THEN
                    RAISE EXCEPTION 'audit events are append-only: org % has no chain head to seal onto', v_org
                        USING ERRCODE = 'insufficient_privilege';
                END IF;
                v_seq := v_head.seq;
                v_hash := v_head.hash;
            END IF;
            CONTINUE WHEN r.seq <= v_head.seq;
            IF r.seq <> v_seq + 1 OR r.prev_hash IS DISTINCT FROM v_hash THEN
                RAISE EXCEPTION 'audit events are append-only: event % is not the next link of the chain of org %',
                    r.id, v_org USING ERRCODE = 'insufficient_privilege';
            END IF;
            v_seq := r.seq;
            v_hash := r.hash;
        END LOOP;
        IF v_seq > v_head.seq THEN
            UPDATE audit.chain_heads h SET seq = v_seq, hash = v_hash WHERE h.org_id = v_org;
        END IF;
        RETURN NULL;
    END
    $$;

ALTER FUNCTION audit.seal_links() OWNER TO finicom_owner;

--
-- Name: seal_org(uuid); Type: FUNCTION; Schema: audit; Owner: finicom_owner
--

CREATE FUNCTION audit.seal_org(p_org uuid) RETURNS bigint
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
    DECLARE
        v_head audit.chain_heads%ROWTYPE;
        e audit.events%ROWTYPE;
        v_ids uuid[] := '{}';
        v_prevs bytea[] := '{}';
        v_hashes bytea[] := '{}';
        v_rows bigint;
    BEGIN
        SELECT * INTO v_head FROM audit.chain_heads h WHERE h.org_id = p_org FOR UPDATE SKIP LOCKED;
        IF NOT FOUND THEN
            -- Held by another sealer, or the org's first seal.  A first seal
            -- takes a transaction-level advisory lock on the org, so that a
            -- second one skips instead of waiting for the first's new head.
            IF EXISTS (SELECT FROM audit.chain_heads h WHERE h.org_id = p_org)
               OR NOT pg_catalog.pg_try_advisory_xact_lock(
                          pg_catalog.hashtextextended('finicom audit.chain_heads ' || p_org, 0)) THEN
                RETURN 0;
            END IF;
            INSERT INTO audit.chain_heads (org_id, seq, hash)
            VALUES (p_org, 0, '\x0000000000000000000000000000000000000000000000000000000000000000')
            ON CONFLICT (org_id) DO NOTHING
            RETURNING * INTO v_head;
            IF NOT FOUND THEN
                RETURN 0; -- made and sealed by another sealer just now
            END IF;
        END IF;
        FOR e IN SELECT * FROM audit.events x WHERE x.org_id = p_org AND x.seq IS NULL ORDER BY x.at, x.id LOOP
            e.seq := v_head.seq + 1;
            e.prev_hash := v_head.hash;
            v_head.seq := e.seq;
            v_head.hash := pg_catalog.sha256(e.prev_hash || audit.canonical(e));
            v_ids := v_ids || e.id;
            v_prevs := v_prevs || e.prev_hash;
            v_hashes := v_hashes || v_head.hash;
        END LOOP;
        -- The triggers check every link and move the head.
        UPDATE audit.events x SET seq = v_head.seq - pg_catalog.cardinality(v_ids) + u.n,
                                  prev_hash = u.prev_hash, hash = u.hash
        FROM ROWS FROM (pg_catalog.unnest(v_ids), pg_catalog.unnest(v_prevs), pg_catalog.unnest(v_hashes))
             WITH ORDINALITY AS u (id, prev_hash, hash, n)
        WHERE x.id = u.id AND x.seq IS NULL;
        GET DIAGNOSTICS v_rows = ROW_COUNT;
        IF v_rows <> pg_catalog.cardinality(v_ids) THEN
            RAISE EXCEPTION 'events of org % were sealed by someone else', p_org;
        END IF;
        RETURN v_rows;
    END
    $$;

ALTER FUNCTION audit.seal_org(p_org uuid) OWNER TO finicom_owner;

--
-- Name: seal_pending(uuid); Type: FUNCTION; Schema: audit; Owner: finicom_owner
--

CREATE FUNCTION audit.seal_pending(p_org uuid DEFAULT NULL::uuid) RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
    DECLARE
        v_org uuid;
        v_sealed bigint := 0;
    BEGIN
        IF p_org IS NOT NULL THEN
            v_org := (SELECT x.org_id FROM audit.events x WHERE x.org_id = p_org AND x.seq IS NULL LIMIT 1);
        ELSE
            v_org := (SELECT x.org_id FROM audit.events x WHERE x.seq IS NULL ORDER BY x.org_id LIMIT 1);
        END IF;
        WHILE v_org IS NOT NULL LOOP
            BEGIN
                v_sealed := v_sealed + audit.seal_org(v_org);
            EXCEPTION WHEN OTHERS THEN
                RAISE WARNING 'could not seal the audit events of org %: %', v_org, SQLERRM;
            END;
            EXIT WHEN p_org IS NOT NULL;
            v_org := (SELECT x.org_id FROM audit.events x WHERE x.seq IS NULL AND x.org_id > v_org
                      ORDER BY x.org_id LIMIT 1);
        END LOOP;
        RETURN v_sealed;
    END
    $$;

ALTER FUNCTION audit.seal_pending(p_org uuid) OWNER TO finicom_owner;

--
-- Name: stamp(); Type: FUNCTION; Schema: audit; Owner: finicom_owner
--

CREATE FUNCTION audit.stamp() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
    DECLARE
        v_type text := finicom.request_actor_type();
    BEGIN
        IF NEW.seq IS NOT NULL OR NEW.prev_hash IS NOT NULL OR NEW.hash IS NOT NULL
           OR NEW.sealed_at IS NOT NULL THEN
            RAISE EXCEPTION 'audit events are written pending and sealed by audit.seal_pending()'
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        NEW.id := pg_catalog.gen_random_uuid();
        NEW.at := pg_catalog.clock_timestamp();
        IF v_type IS NULL THEN
            -- No verified actor: a DBA in psql.
            NEW.actor_type := 'db';
            NEW.actor_id := NULL;
            NEW.actor_label := session_user;
            NEW.ip := NULL;
            NEW.request_id := NULL;
            RETURN NEW;
        END IF;
        NEW.actor_type := v_type;
        NEW.actor_id := finicom.request_actor_id();
        IF v_type = 'user' THEN
            NEW.actor_label := (SELECT u.email FROM finicom.users u WHERE u.id = NEW.actor_id);
        ELSIF v_type = 'api_key' THEN
            NEW.actor_label := (SELECT k.name FROM finicom.api_keys k WHERE k.id = NEW.actor_id);
        ELSE
            NEW.actor_label := 'pg_cron';
        END IF;
        NEW.ip := nullif(pg_catalog.current_setting('finicom.client_ip', true), '');
        NEW.request_id := nullif(pg_catalog.current_setting('finicom.request_id', true), '');
        RETURN NEW;
    END
    $$;

ALTER FUNCTION audit.stamp() OWNER TO finicom_owner;

--
-- Name: verify_chain(uuid); Type: FUNCTION; Schema: audit; Owner: finicom_owner
--

CREATE FUNCTION audit.verify_chain(p_org uuid) RETURNS TABLE(ok boolean, events bigint, first_bad_seq bigint, first_bad_id uuid, reason text, pending bigint, oldest_pending_at timestamp with time zone)
    LANGUAGE sql STABLE
    SET search_path TO ''
    AS $$ SELECT * FROM audit.verify_chain_from(p_org, 1) $$;

ALTER FUNCTION audit.verify_chain(p_org uuid) OWNER TO finicom_owner;

--
-- Name: verify_chain_from(uuid, bigint); Type: FUNCTION; Schema: audit; Owner: finicom_owner
--

CREATE FUNCTION audit.verify_chain_from(p_org uuid, p_from bigint) RETURNS TABLE(ok boolean, events bigint, first_bad_seq bigint, first_bad_id uuid, reason text, pending bigint, oldest_pending_at timestamp with time zone)
    LANGUAGE plpgsql STABLE
    SET search_path TO ''
    AS $$
    DECLARE
        e audit.events%ROWTYPE;
        v_from bigint := GREATEST(p_from, 1);
        v_prev bytea := '\x0000000000000000000000000000000000000000000000000000000000000000';
        v_expect bigint;
        v_head audit.chain_heads%ROWTYPE;
        v_pending bigint;
        v_oldest timestamptz;
    BEGIN
        SELECT count(*), min(x.at) INTO v_pending, v_oldest
        FROM audit.events x WHERE x.org_id = p_org AND x.seq IS NULL;
        IF v_from > 1 THEN
            SELECT x.hash INTO v_prev FROM audit.events x WHERE x.org_id = p_org AND x.seq = v_from - 1;
            IF NOT FOUND THEN
                -- Nothing that far back: verify from the first event present.
                v_from := 1;
                v_prev := '\x0000000000000000000000000000000000000000000000000000000000000000';
            END IF;
        END IF;
        v_expect := v_from;
        FOR e IN SELECT * FROM audit.events x WHERE x.org_id = p_org AND x.seq >= v_from ORDER BY x.seq LOOP
            IF e.seq <> v_expect THEN
                RETURN QUERY SELECT false, v_expect - v_from, e.seq, e.id,
                    pg_catalog.format('event %s is missing before this one', v_expect), v_pending, v_oldest;
                RETURN;
            END IF;
            IF e.prev_hash <> v_prev THEN
                RETURN QUERY SELECT false, v_expect - v_from, e.seq, e.id,
                    'prev_hash does not match the event before'::text, v_pending, v_oldest;
                RETURN;
            END IF;
            IF e.hash <> pg_catalog.sha256(v_prev || audit.canonical(e)) THEN
                RETURN QUERY SELECT false, v_expect - v_from, e.seq, e.id,
                    'the event was changed after it was written'::text, v_pending, v_oldest;
                RETURN;
            END IF;
            v_prev := e.hash;
            v_expect := v_expect + 1;
        END LOOP;
        SELECT * INTO v_head FROM audit.chain_heads h WHERE h.org_id = p_org;
        IF FOUND AND (v_head.seq <> v_expect - 1 OR v_head.hash <> v_prev) THEN
            RETURN QUERY SELECT false, v_expect - v_from, v_expect, NULL::uuid,
                'events after the last one present are missing'::text, v_pending, v_oldest;
            RETURN;
        END IF;
        IF NOT FOUND AND v_expect > 1 THEN
            RETURN QUERY SELECT false, v_expect - v_from, v_expect, NULL::uuid,
                'the chain head is missing'::text, v_pending, v_oldest;
            RETURN;
        END IF;
        RETURN QUERY SELECT true, v_expect - v_from, NULL::bigint, NULL::uuid, NULL::text, v_pending, v_oldest;
    END
    $$;

ALTER FUNCTION audit.verify_chain_from(p_org uuid, p_from bigint) OWNER TO finicom_owner;

--
-- Name: verify_recent_chains(integer, integer, uuid, integer); Type: FUNCTION; Schema: audit; Owner: finicom_owner
--

CREATE FUNCTION audit.verify_recent_chains(p_events integer DEFAULT 1000, p_orgs integer DEFAULT 500, p_org uuid DEFAULT NULL::uuid, p_overlap integer DEFAULT 100) RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
    DECLARE
        h record;
        v record;
        n integer := 0;
    BEGIN
        FOR h IN SELECT hd.org_id, hd.seq, c.bad_seq, c.bad_reason,
                        CASE WHEN c.org_id IS NULL OR p_org IS NOT NULL
                                  OR c.checked_at < pg_catalog.clock_timestamp() - interval '10 minutes'
                             THEN hd.seq - p_events + 1
                             ELSE LEAST(c.head_seq, hd.seq) - p_overlap + 1 END AS from_seq
                 FROM audit.chain_heads hd LEFT JOIN audit.chain_checks c ON c.org_id = hd.org_id
                 WHERE (p_org IS NULL AND (c.org_id IS NULL OR c.head_seq <> hd.seq
                                           OR c.checked_at < pg_catalog.clock_timestamp() - interval '10 minutes'))
                    OR hd.org_id = p_org
                 ORDER BY c.org_id IS NOT NULL, c.head_seq = hd.seq, c.checked_at, hd.org_id
                 LIMIT p_orgs LOOP
            BEGIN
                SELECT * INTO v FROM audit.verify_chain_from(h.org_id, h.from_seq);
                INSERT INTO audit.chain_checks AS c (org_id, head_seq, checked_at, bad_seq, bad_reason)
                VALUES (h.org_id, h.seq, pg_catalog.clock_timestamp(),
                        CASE WHEN NOT v.ok THEN v.first_bad_seq END, CASE WHEN NOT v.ok THEN v.reason END)
                ON CONFLICT (org_id) DO UPDATE
                SET head_seq = EXCLUDED.head_seq, checked_at = EXCLUDED.checked_at,
                    bad_seq = EXCLUDED.bad_seq, bad_reason = EXCLUDED.bad_reason;
                IF NOT v.ok AND (h.bad_seq IS DISTINCT FROM v.first_bad_seq
                                 OR h.bad_reason IS DISTINCT FROM v.reason)
                   AND EXISTS (SELECT FROM finicom.orgs o WHERE o.id = h.org_id) THEN
                    PERFORM finicom.alert_raise(h.org_id, 'audit_chain_broken',
                        ARRAY(SELECT v.first_bad_id WHERE v.first_bad_id IS NOT NULL),
                        pg_catalog.format('the audit chain is broken at event %s: %s', v.first_bad_seq, v.reason));
                END IF;
                n := n + 1;
            EXCEPTION WHEN OTHERS THEN
                RAISE WARNING 'could not verify the audit chain of org %: %', h.org_id, SQLERRM;
            END;
        END LOOP;
        RETURN n;
    END
    $$;

ALTER FUNCTION audit.verify_recent_chains(p_events integer, p_orgs integer, p_org uuid, p_overlap integer) OWNER TO finicom_owner;

--
-- Name: access_review_cancel(uuid); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.access_review_cancel(p_id uuid) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
    BEGIN
        PERFORM finicom.access_review_lock_open(p_id);
        UPDATE finicom.access_reviews r SET status = 'canceled', canceled_at = pg_catalog.now()
        WHERE r.org_id = finicom.request_org_for('admin') AND r.id = p_id;
    END
    $$;

ALTER FUNCTION finicom.access_review_cancel(p_id uuid) OWNER TO finicom_owner;

--
-- Name: access_review_complete(uuid); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.access_review_complete(p_id uuid) RETURNS json
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
    DECLARE
        v_org uuid := finicom.request_org_for('admin');
        v_undecided bigint;
        v_changed jsonb;
        v_removed jsonb;
        v_skipped jsonb;
    BEGIN
        PERFORM finicom.access_review_lock_open(p_id);
        SELECT count(*) INTO v_undecided FROM finicom.access_review_items i
        WHERE i.org_id = v_org AND i.review_id = p_id AND i.decision IS NULL;
        IF v_undecided > 0 THEN
            RAISE EXCEPTION USING ERRCODE = 'F0409', MESSAGE = 'review_incomplete',
                DETAIL = pg_catalog.format('%s item(s) of this access review have no decision yet', v_undecided);
        END IF;
        WITH changed AS (
            UPDATE finicom.memberships m SET role = i.new_role
            FROM finicom.access_review_items i
            WHERE i.org_id = v_org AND i.review_id = p_id AND i.decision = 'change_role'
              AND m.org_id = i.org_id AND m.user_id = i.user_id AND m.role <> i.new_role
            RETURNING m.user_id)
        SELECT coalesce(pg_catalog.jsonb_agg(c.user_id ORDER BY c.user_id), '[]') INTO v_changed FROM changed c;
        WITH removed AS (
            DELETE FROM finicom.memberships m
            USING finicom.access_review_items i
            WHERE i.org_id = v_org AND i.review_id = p_id AND i.decision = 'remove'
              AND m.org_id = i.org_id AND m.user_id = i.user_id
            RETURNING m.user_id)
        SELECT coalesce(pg_catalog.jsonb_agg(r.user_id ORDER BY r.user_id), '[]') INTO v_removed FROM removed r;
        SELECT coalesce(pg_catalog.jsonb_agg(i.user_id ORDER BY i.user_id), '[]') INTO v_skipped
        FROM finicom.access_review_items i
        WHERE i.org_id = v_org AND i.review_id = p_id AND i.decision IN ('remove', 'change_role')
          AND NOT EXISTS (SELECT 1 FROM finicom.memberships m WHERE m.org_id = i.org_id AND m.user_id = i.user_id)
          AND NOT v_removed @> pg_catalog.jsonb_build_array(i.user_id);
        -- applied: the completed event's details (audit.capture_access_review).
        UPDATE finicom.access_reviews r
        SET status = 'completed', completed_at = pg_catalog.now(), completed_by = finicom.request_user_id(),
            applied = pg_catalog.jsonb_build_object('removed', v_removed, 'role_changed', v_changed,
                                                    'skipped', v_skipped)
        WHERE r.org_id = v_org AND r.id = p_id;
        RETURN (SELECT v.item FROM finicom.access_review_rows v WHERE v.org_id = v_org AND v.id = p_id);
    END
    $$;

ALTER FUNCTION finicom.access_review_complete(p_id uuid) OWNER TO finicom_owner;

--
-- Name: access_review_decide(uuid, uuid, finicom.access_review_decision, finicom.role, text); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.access_review_decide(p_id uuid, p_user uuid, p_decision finicom.access_review_decision, p_new_role finicom.role, p_note text) RETURNS json
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
    BEGIN
        PERFORM finicom.access_review_lock_open(p_id);
        UPDATE finicom.access_review_items i
        SET decision = p_decision, new_role = p_new_role, note = p_note,
            decided_by = finicom.request_user_id(), decided_at = pg_catalog.now()
        WHERE i.org_id = finicom.request_org_for('admin') AND i.review_id = p_id AND i.user_id = p_user;
        IF NOT FOUND THEN
            RAISE EXCEPTION USING ERRCODE = 'F0404', MESSAGE = 'not_found',
                DETAIL = 'no such member in this access review';
        END IF;
        RETURN (SELECT v.item FROM finicom.access_review_item_rows v
                WHERE v.org_id = finicom.request_org_for('admin') AND v.review_id = p_id AND v.user_id = p_user);
    END
    $$;

ALTER FUNCTION finicom.access_review_decide(p_id uuid, p_user uuid, p_decision finicom.access_review_decision, p_new_role finicom.role, p_note text) OWNER TO finicom_owner;

--
-- Name: access_reviews; Type: TABLE; Schema: finicom; Owner: finicom_owner
--

CREATE TABLE finicom.access_reviews (
    org_id uuid NOT NULL,
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    status finicom.access_review_status DEFAULT 'open'::finicom.access_review_status NOT NULL,
    created_by uuid,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    due_at timestamp with time zone,
    completed_at timestamp with time zone,
    completed_by uuid,
    canceled_at timestamp with time zone,
    applied jsonb,
    CONSTRAINT access_reviews_canceled_check CHECK (((status = 'canceled'::finicom.access_review_status) = (canceled_at IS NOT NULL))),
    CONSTRAINT access_reviews_completed_check CHECK (((status = 'completed'::finicom.access_review_status) = (completed_at IS NOT NULL)))
);

ALTER TABLE ONLY finicom.access_reviews FORCE ROW LEVEL SECURITY;

ALTER TABLE finicom.access_reviews OWNER TO finicom_owner;

--
-- Name: access_review_lock_open(uuid); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.access_review_lock_open(p_id uuid) RETURNS finicom.access_reviews
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
    DECLARE
        v finicom.access_reviews%ROWTYPE;
    BEGIN
        SELECT * INTO v FROM finicom.access_reviews r
        WHERE r.org_id = finicom.request_org_for('admin') AND r.id = p_id
        FOR UPDATE;
        IF NOT FOUND THEN
            RAISE EXCEPTION USING ERRCODE = 'F0404', MESSAGE = 'not_found', DETAIL = 'no such access review';
        END IF;
        IF v.status <> 'open' THEN
            RAISE EXCEPTION USING ERRCODE = 'F0409', MESSAGE = 'conflict',
                DETAIL = pg_catalog.format('this access review is %s, not open', v.status);
        END IF;
        RETURN v;
    END
    $$;

ALTER FUNCTION finicom.access_review_lock_open(p_id uuid) OWNER TO finicom_owner;

--
-- Name: access_review_remind(); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.access_review_remind() RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
    DECLARE
        n integer;
    BEGIN
        PERFORM finicom.context_seal('system', NULL, NULL, NULL, NULL, NULL);
        WITH due AS (
            SELECT o.id, o.name, o.access_review_interval_days AS days,
                   coalesce((SELECT max(r.completed_at) FROM finicom.access_reviews r
                             WHERE r.org_id = o.id AND r.status = 'completed'), o.created_at) AS last_review
            FROM finicom.orgs o
            LEFT JOIN finicom.access_review_reminders s ON s.org_id = o.id
            WHERE o.access_review_interval_days > 0
              AND (s.sent_at IS NULL OR s.sent_at <= pg_catalog.now() - interval '7 days')
        ), claimed AS (
            -- Two runs at once: the second waits on the row and then sees a
            -- fresh sent_at, so it claims nothing.
            INSERT INTO finicom.access_review_reminders AS s (org_id, sent_at)
            SELECT d.id, pg_catalog.now() FROM due d
            WHERE d.last_review < pg_catalog.now() - pg_catalog.make_interval(days => d.days)
            ON CONFLICT (org_id) DO UPDATE SET sent_at = excluded.sent_at
            WHERE s.sent_at <= pg_catalog.now() - interval '7 days'
            RETURNING s.org_id
        ), mails AS (
            INSERT INTO finicom.mail_outbox (org_id, recipient, subject, body, message_id)
            SELECT d.id, u.email,
                pg_catalog.format('Access review due for %s on Finicom', d.name),
                pg_catalog.format(E'Hello %s,\n\nThe members of the organization "%s" on Finicom were last reviewed\n%s (UTC); the organization asks for a review every %s days.\n\nOpen the dashboard, choose "Access reviews" and start a review: decide\nfor each member to keep them, remove them or change their role.\n\nYou get this mail because you are an admin of "%s"; it comes at most\nonce a week until a review is completed.\n',
                    u.name, d.name, pg_catalog.to_char(d.last_review AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'),
                    d.days, d.name),
                '<' || pg_catalog.gen_random_uuid() || '@finicom.invalid>'
            FROM claimed c
            JOIN due d ON d.id = c.org_id
            JOIN finicom.memberships m ON m.org_id = d.id AND m.role = 'admin'
                AND (m.expires_at IS NULL OR m.expires_at > pg_catalog.now()) -- an expired admin is none (0024)
            JOIN finicom.users u ON u.id = m.user_id
            RETURNING org_id
        ), events AS (
            SELECT audit.append(c.org_id, 'access_review.reminded', 'org', c.org_id,
                       pg_catalog.jsonb_build_object('admins',
                           (SELECT count(*) FROM mails x WHERE x.org_id = c.org_id)))
            FROM claimed c
        )
        SELECT count(*) INTO n FROM events;
        IF n > 0 THEN
            PERFORM pg_catalog.pg_notify('finicom_mail', '');
        END IF;
        RETURN n;
    END
    $$;

ALTER FUNCTION finicom.access_review_remind() OWNER TO finicom_owner;

--
-- Name: access_review_start(timestamp with time zone); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.access_review_start(p_due_at timestamp with time zone) RETURNS json
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
    DECLARE
        v_org uuid := finicom.request_org_for('admin');
        v_id uuid;
    BEGIN
        IF v_org IS NULL OR finicom.request_user_id() IS NULL THEN
            RAISE EXCEPTION USING ERRCODE = 'F0403', MESSAGE = 'forbidden',
                DETAIL = 'only an admin of the organization can start an access review';
        END IF;
        IF p_due_at IS NOT NULL AND p_due_at <= pg_catalog.now() THEN
            RAISE EXCEPTION USING ERRCODE = 'F0400', MESSAGE = 'validation_failed',
                DETAIL = 'due_at must be in the future', HINT = 'due_at';
        END IF;
        INSERT INTO finicom.access_reviews (org_id, created_by, due_at)
        VALUES (v_org, finicom.request_user_id(), p_due_at)
        RETURNING id INTO v_id;
        INSERT INTO finicom.access_review_items (org_id, review_id, user_id, role, joined_at, last_active_at)
        SELECT m.org_id, v_id, m.user_id, m.role, m.joined_at, a.last_active_at
        FROM finicom.memberships m
        LEFT JOIN finicom.member_activity a ON a.org_id = m.org_id AND a.user_id = m.user_id
        WHERE m.org_id = v_org;
        RETURN (SELECT v.item FROM finicom.access_review_rows v WHERE v.org_id = v_org AND v.id = v_id);
    EXCEPTION WHEN unique_violation THEN
        RAISE EXCEPTION USING ERRCODE = 'F0409', MESSAGE = 'conflict',
            DETAIL = 'an access review is already open in this organization; complete or cancel it first';
    END
    $$;

ALTER FUNCTION finicom.access_review_start(p_due_at timestamp with time zone) OWNER TO finicom_owner;

--
-- Name: alert_acknowledge_stamp(); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.alert_acknowledge_stamp() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
    DECLARE
        v_type text := finicom.request_actor_type();
    BEGIN
        IF OLD.acknowledged_at IS NOT NULL THEN
            IF NEW.acknowledged_at IS DISTINCT FROM OLD.acknowledged_at
               OR NEW.acknowledged_by_type IS DISTINCT FROM OLD.acknowledged_by_type
               OR NEW.acknowledged_by_id IS DISTINCT FROM OLD.acknowledged_by_id
               OR NEW.acknowledged_by_label IS DISTINCT FROM OLD.acknowledged_by_label THEN
                RAISE EXCEPTION 'an acknowledged alert stays acknowledged' USING ERRCODE = 'F0409';
            END IF;
            RETURN NEW;
        END IF;
        IF NEW.acknowledged_at IS NULL THEN
            RETURN NEW;
        END IF;
        NEW.acknowledged_at := pg_catalog.clock_timestamp();
        IF v_type IS NULL OR v_type = 'system' THEN
            NEW.acknowledged_by_type := 'db';
            NEW.acknowledged_by_id := NULL;
            NEW.acknowledged_by_label := session_user;
        ELSE
            NEW.acknowledged_by_type := v_type;
            NEW.acknowledged_by_id := finicom.request_actor_id();
            NEW.acknowledged_by_label := CASE v_type
                WHEN 'user' THEN (SELECT u.email FROM finicom.users u WHERE u.id = NEW.acknowledged_by_id)
                ELSE (SELECT k.name FROM finicom.api_keys k WHERE k.id = NEW.acknowledged_by_id) END;
        END IF;
        PERFORM audit.append(NEW.org_id, 'alert.acknowledged', 'alert', NEW.id,
            pg_catalog.jsonb_build_object('rule', NEW.rule, 'summary', NEW.summary));
        RETURN NEW;
    END
    $$;

ALTER FUNCTION finicom.alert_acknowledge_stamp() OWNER TO finicom_owner;

--
-- Name: alert_rule_names(); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.alert_rule_names() RETURNS text[]
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT ARRAY['admin_granted', 'admin_api_key_created', 'mass_removal', 'failed_logins',
                       'db_change', 'audit_chain_broken'] $$;

ALTER FUNCTION finicom.alert_rule_names() OWNER TO finicom_owner;

--
-- Name: alerts; Type: TABLE; Schema: finicom; Owner: finicom_owner
--

CREATE TABLE finicom.alerts (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    org_id uuid NOT NULL,
    rule text NOT NULL,
    at timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
    summary text NOT NULL,
    event_ids uuid[] NOT NULL,
    mailed boolean NOT NULL,
    acknowledged_at timestamp with time zone,
    acknowledged_by_type text,
    acknowledged_by_id uuid,
    acknowledged_by_label text,
    CONSTRAINT alerts_acknowledged_by_type_check CHECK ((acknowledged_by_type = ANY (ARRAY['user'::text, 'api_key'::text, 'db'::text]))),
    CONSTRAINT alerts_event_ids_check CHECK ((cardinality(event_ids) <= 100)),
    CONSTRAINT alerts_rule_check CHECK ((rule = ANY (finicom.alert_rule_names()))),
    CONSTRAINT alerts_summary_check CHECK (((char_length(summary) >= 1) AND (char_length(summary) <= 500)))
);

ALTER TABLE ONLY finicom.alerts FORCE ROW LEVEL SECURITY;

ALTER TABLE finicom.alerts OWNER TO finicom_owner;

--
-- Name: alert_json(finicom.alerts); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.alert_json(a finicom.alerts) RETURNS json
    LANGUAGE sql STABLE
    AS $$
        SELECT pg_catalog.json_build_object(
            'id', a.id, 'rule', a.rule, 'at', finicom.ts(a.at), 'summary', a.summary,
            'event_ids', pg_catalog.to_json(a.event_ids),
            'status', CASE WHEN a.acknowledged_at IS NULL THEN 'open' ELSE 'acknowledged' END,
            'acknowledged_by', CASE WHEN a.acknowledged_at IS NOT NULL THEN
                pg_catalog.json_build_object('type', a.acknowledged_by_type, 'id', a.acknowledged_by_id,
                                             'label', a.acknowledged_by_label) END,
            'acknowledged_at', finicom.ts(a.acknowledged_at))
    $$;

ALTER FUNCTION finicom.alert_json(a finicom.alerts) OWNER TO finicom_owner;

--
-- Name: alert_raise(uuid, text, uuid[], text); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.alert_raise(p_org uuid, p_rule text, p_event_ids uuid[], p_summary text) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    SET lock_timeout TO '2s'
    AS $$
    DECLARE
        v_alert finicom.alerts%ROWTYPE;
        v_now timestamptz := pg_catalog.clock_timestamp();
        v_summary text := pg_catalog.left(pg_catalog.regexp_replace(p_summary, '[[:cntrl:]]+', ' ', 'g'), 500);
        v_new uuid[];
        v_mail boolean;
        v_org_name text;
    BEGIN
        IF EXISTS (SELECT FROM finicom.alert_rule_settings s
                   WHERE s.org_id = p_org AND s.rule = p_rule AND NOT s.enabled) THEN
            RETURN;
        END IF;
        -- An open alert to join: looked up without a lock; only opening a
        -- new one takes the org's rule lock (held to commit, so a second
        -- writer waits and then finds the first one's alert).
        SELECT * INTO v_alert FROM finicom.alerts a
        WHERE a.org_id = p_org AND a.rule = p_rule AND a.acknowledged_at IS NULL
          AND a.at > v_now - interval '10 minutes'
        ORDER BY a.at DESC LIMIT 1;
        IF NOT FOUND THEN
            PERFORM pg_catalog.pg_advisory_xact_lock(
                pg_catalog.hashtextextended('finicom alert ' || p_org || ' ' || p_rule, 0));
            SELECT * INTO v_alert FROM finicom.alerts a
            WHERE a.org_id = p_org AND a.rule = p_rule AND a.acknowledged_at IS NULL
              AND a.at > v_now - interval '10 minutes'
            ORDER BY a.at DESC LIMIT 1;
        END IF;
        IF FOUND THEN
            -- The event that made this call (the last id) joins the alert;
            -- a full one (100 events) is left as it is, unless its summary
            -- counts (mass_removal, failed_logins: rare events).  So a burst
            -- of psql changes writes the alert row 100 times, not once per
            -- event, and its writers stop taking turns on that row.
            v_new := ARRAY(SELECT x FROM pg_catalog.unnest(p_event_ids[pg_catalog.cardinality(p_event_ids):]) x
                           WHERE x IS NOT NULL AND NOT (x = ANY (v_alert.event_ids)));
            IF pg_catalog.cardinality(v_alert.event_ids) >= 100 AND p_rule NOT IN ('mass_removal', 'failed_logins') THEN
                RETURN;
            END IF;
            UPDATE finicom.alerts a
            SET event_ids = CASE WHEN pg_catalog.cardinality(a.event_ids) + pg_catalog.cardinality(v_new) <= 100
                                 THEN a.event_ids || v_new ELSE a.event_ids END,
                summary = CASE WHEN p_rule IN ('mass_removal', 'failed_logins') THEN v_summary ELSE a.summary END
            WHERE a.id = v_alert.id;
            RETURN;
        END IF;
        v_mail := NOT EXISTS (SELECT FROM finicom.alerts a
                              WHERE a.org_id = p_org AND a.rule = p_rule AND a.mailed
                                AND a.at > v_now - interval '10 minutes');
        v_new := ARRAY(SELECT u.x FROM pg_catalog.unnest(p_event_ids) WITH ORDINALITY AS u (x, n)
                       WHERE u.x IS NOT NULL GROUP BY u.x ORDER BY min(u.n));
        INSERT INTO finicom.alerts (org_id, rule, at, summary, event_ids, mailed)
        VALUES (p_org, p_rule, v_now, v_summary, v_new[1:100], v_mail)
        RETURNING * INTO v_alert;
        IF NOT v_mail THEN
            RETURN;
        END IF;
        SELECT o.name INTO v_org_name FROM finicom.orgs o WHERE o.id = p_org;
        -- One mail per admin of the org, and to nobody else.
        INSERT INTO finicom.mail_outbox (org_id, recipient, subject, body, message_id)
        SELECT p_org, u.email,
            pg_catalog.left(pg_catalog.format('Finicom alert in %s: %s', v_org_name, v_summary), 250),
            pg_catalog.format(E'Hello %s,\n\nAn activity alert was raised in the organization "%s" on Finicom:\n\n  %s\n\nRule: %s (%s)\nTime: %s (UTC)\nAlert: %s\n\nFurther events of this rule in the next 10 minutes are added to this\nalert without another email.  Review and acknowledge it on the Alerts\npage of the dashboard; an admin can turn rules off there too.\n',
                u.name, v_org_name, v_summary, p_rule, finicom.alert_rule_text(p_rule),
                pg_catalog.to_char(v_now AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'), v_alert.id),
            '<' || pg_catalog.gen_random_uuid() || '@finicom.invalid>'
        FROM finicom.memberships m JOIN finicom.users u ON u.id = m.user_id
        WHERE m.org_id = p_org AND m.role = 'admin'
          AND (m.expires_at IS NULL OR m.expires_at > pg_catalog.now()); -- an expired admin is none (0024)
        PERFORM pg_catalog.pg_notify('finicom_mail', '');
    END
    $$;

ALTER FUNCTION finicom.alert_raise(p_org uuid, p_rule text, p_event_ids uuid[], p_summary text) OWNER TO finicom_owner;

--
-- Name: alert_rule_audit(); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.alert_rule_audit() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
    BEGIN
        IF NEW.enabled IS DISTINCT FROM (CASE WHEN TG_OP = 'UPDATE' THEN OLD.enabled ELSE true END) THEN
            PERFORM audit.append(NEW.org_id, 'alert_rule.updated', 'org', NEW.org_id,
                pg_catalog.jsonb_build_object('rule', NEW.rule, 'enabled', NEW.enabled));
        END IF;
        RETURN NULL;
    END
    $$;

ALTER FUNCTION finicom.alert_rule_audit() OWNER TO finicom_owner;

--
-- Name: alert_rule_text(text); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.alert_rule_text(p_rule text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
        SELECT CASE p_rule
            WHEN 'admin_granted' THEN 'someone became an admin'
            WHEN 'admin_api_key_created' THEN 'an API key with the admin role was created'
            WHEN 'mass_removal' THEN '5 or more members removed in 10 minutes'
            WHEN 'failed_logins' THEN '10 or more failed sign-ins for one member''s email in 10 minutes'
            WHEN 'db_change' THEN 'a change made directly in the database, not through the API'
            WHEN 'audit_chain_broken' THEN 'the audit trail''s hash chain does not verify'
        END
    $$;

ALTER FUNCTION finicom.alert_rule_text(p_rule text) OWNER TO finicom_owner;

--
-- Name: alert_rules_json(uuid); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.alert_rules_json(p_org uuid) RETURNS json
    LANGUAGE sql STABLE
    AS $$
        SELECT pg_catalog.json_build_object('rules', pg_catalog.json_agg(
                   pg_catalog.json_build_object('rule', r.rule, 'enabled', coalesce(s.enabled, true))
                   ORDER BY r.n))
        FROM pg_catalog.unnest(finicom.alert_rule_names()) WITH ORDINALITY AS r (rule, n)
        LEFT JOIN finicom.alert_rule_settings s ON s.org_id = p_org AND s.rule = r.rule
    $$;

ALTER FUNCTION finicom.alert_rules_json(p_org uuid) OWNER TO finicom_owner;

--
-- Name: api_key_create(uuid, text, finicom.role, text, bytea, timestamp with time zone); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.api_key_create(p_org uuid, p_name text, p_role finicom.role, p_prefix text, p_token_hash bytea, p_expires_at timestamp with time zone) RETURNS text
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
    DECLARE
        v_key finicom.api_keys%ROWTYPE;
    BEGIN
        IF p_org IS DISTINCT FROM finicom.current_org_id() OR NOT finicom.has_role(p_org, 'admin') THEN
            RAISE EXCEPTION USING ERRCODE = 'F0403', MESSAGE = 'forbidden',
                DETAIL = 'only admins can create API keys';
        END IF;
        IF p_expires_at IS NOT NULL AND p_expires_at <= pg_catalog.now() THEN
            RAISE EXCEPTION USING ERRCODE = 'F0400', MESSAGE = 'validation_failed',
                DETAIL = 'expires_at must be in the future', HINT = 'expires_at';
        END IF;
        INSERT INTO finicom.api_keys (org_id, name, role, prefix, token_hash, created_by, expires_at)
        VALUES (p_org, p_name, p_role, p_prefix, p_token_hash, finicom.current_user_id(), p_expires_at)
        RETURNING * INTO v_key;
        RETURN finicom.api_key_json(v_key.id, v_key.name, v_key.role, v_key.prefix, v_key.created_at,
                                    v_key.expires_at, v_key.last_used_at, v_key.created_by);
    END
    $$;

ALTER FUNCTION finicom.api_key_create(p_org uuid, p_name text, p_role finicom.role, p_prefix text, p_token_hash bytea, p_expires_at timestamp with time zone) OWNER TO finicom_owner;

--
-- Name: api_key_json(uuid, text, finicom.role, text, timestamp with time zone, timestamp with time zone, timestamp with time zone, uuid); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.api_key_json(p_id uuid, p_name text, p_role finicom.role, p_prefix text, p_created_at timestamp with time zone, p_expires_at timestamp with time zone, p_last_used_at timestamp with time zone, p_created_by uuid) RETURNS json
    LANGUAGE sql STABLE
    AS $$
        SELECT pg_catalog.json_build_object('id', p_id, 'name', p_name, 'role', p_role,
            'prefix', p_prefix, 'created_at', finicom.ts(p_created_at),
            'expires_at', finicom.ts(p_expires_at), 'last_used_at', finicom.ts(p_last_used_at),
            'created_by', p_created_by)
    $$;

ALTER FUNCTION finicom.api_key_json(p_id uuid, p_name text, p_role finicom.role, p_prefix text, p_created_at timestamp with time zone, p_expires_at timestamp with time zone, p_last_used_at timestamp with time zone, p_created_by uuid) OWNER TO finicom_owner;

--
-- Name: api_keys; Type: TABLE; Schema: finicom; Owner: finicom_owner
--

CREATE TABLE finicom.api_keys (
    org_id uuid NOT NULL,
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    name text NOT NULL,
    role finicom.role NOT NULL,
    prefix text NOT NULL,
    token_hash bytea NOT NULL,
    created_by uuid,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    expires_at timestamp with time zone,
    last_used_at timestamp with time zone,
    revoked_at timestamp with time zone,
    CONSTRAINT api_keys_name_check CHECK (((char_length(name) >= 1) AND (char_length(name) <= 200))),
    CONSTRAINT api_keys_prefix_check CHECK ((prefix ~ '^fcm_[A-Za-z0-9_-]{6}$'::text)),
    CONSTRAINT api_keys_token_hash_check CHECK ((octet_length(token_hash) = 32))
);

ALTER TABLE ONLY finicom.api_keys FORCE ROW LEVEL SECURITY;

ALTER TABLE finicom.api_keys OWNER TO finicom_owner;

--
-- Name: api_key_live(finicom.api_keys); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.api_key_live(k finicom.api_keys) RETURNS boolean
    LANGUAGE sql STABLE
    AS $$ SELECT k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > pg_catalog.now()) $$;

ALTER FUNCTION finicom.api_key_live(k finicom.api_keys) OWNER TO finicom_owner;

--
-- Name: ascii_lower(text); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.ascii_lower(p text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT pg_catalog.translate(p, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') $$;

ALTER FUNCTION finicom.ascii_lower(p text) OWNER TO finicom_owner;

--
-- Name: auth_login_begin(text); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.auth_login_begin(p_email text) RETURNS TABLE(user_id uuid, password_hash text)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
    DECLARE
        v_key text := finicom.ascii_lower(p_email);
        v_row finicom.login_failures%ROWTYPE;
        v_now timestamptz := pg_catalog.now();
        v_lock integer;
    BEGIN
        INSERT INTO finicom.login_failures (email, failures, first_failed_at, last_failed_at)
        VALUES (v_key, 0, v_now, v_now)
        ON CONFLICT (email) DO NOTHING;
        SELECT * INTO v_row FROM finicom.login_failures f WHERE f.email = v_key FOR UPDATE;
        IF v_row.locked_until IS NOT NULL AND v_row.locked_until > pg_catalog.clock_timestamp() THEN
            RAISE EXCEPTION USING ERRCODE = 'F0429', MESSAGE = 'rate_limited',
                DETAIL = 'too many failed sign-ins for this email; try again later',
                HINT = GREATEST(1, pg_catalog.ceil(EXTRACT(epoch FROM
                    v_row.locked_until - pg_catalog.clock_timestamp())))::bigint::text;
        END IF;
        IF v_row.failures = 0 OR v_row.last_failed_at <= v_now - interval '15 minutes' THEN
            v_row.failures := 1;
            v_row.first_failed_at := v_now;
        ELSE
            v_row.failures := v_row.failures + 1;
        END IF;
        v_lock := finicom.login_lock_seconds(v_row.failures);
        UPDATE finicom.login_failures f
        SET failures = v_row.failures, first_failed_at = v_row.first_failed_at, last_failed_at = v_now,
            locked_until = CASE WHEN v_lock > 0
                                THEN pg_catalog.clock_timestamp() + pg_catalog.make_interval(secs => v_lock) END
        WHERE f.email = v_key;
        RETURN QUERY SELECT u.id, u.password_hash FROM finicom.users u
                     WHERE finicom.ascii_lower(u.email) = v_key;
    END
    $$;

ALTER FUNCTION finicom.auth_login_begin(p_email text) OWNER TO finicom_owner;

--
-- Name: auth_login_complete(uuid, bytea, integer, text, bytea, text, text); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.auth_login_complete(p_user_id uuid, p_token_hash bytea, p_max_age_seconds integer, p_new_hash text, p_old_token_hash bytea, p_ip text, p_request_id text) RETURNS TABLE(id uuid, email text, name text, created_at timestamp with time zone)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
    BEGIN
        IF p_new_hash IS NOT NULL THEN
            UPDATE finicom.users u SET password_hash = p_new_hash WHERE u.id = p_user_id;
        END IF;
        IF p_old_token_hash IS NOT NULL THEN
            DELETE FROM finicom.sessions s WHERE s.token_hash = p_old_token_hash;
        END IF;
        DELETE FROM finicom.login_failures f
        WHERE f.email = (SELECT finicom.ascii_lower(u.email) FROM finicom.users u WHERE u.id = p_user_id);
        PERFORM audit.auth_event('login.succeeded', p_user_id,
            (SELECT u.email FROM finicom.users u WHERE u.id = p_user_id), p_ip, p_request_id);
        RETURN QUERY SELECT * FROM finicom.session_create(p_user_id, p_token_hash, p_max_age_seconds);
    END
    $$;

ALTER FUNCTION finicom.auth_login_complete(p_user_id uuid, p_token_hash bytea, p_max_age_seconds integer, p_new_hash text, p_old_token_hash bytea, p_ip text, p_request_id text) OWNER TO finicom_owner;

--
-- Name: auth_login_failed(text, text, text); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.auth_login_failed(p_email text, p_ip text, p_request_id text) RETURNS void
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO ''
    AS $$
        SELECT audit.auth_event('login.failed',
            (SELECT u.id FROM finicom.users u WHERE finicom.ascii_lower(u.email) = finicom.ascii_lower(p_email)),
            p_email, p_ip, p_request_id)
    $$;

ALTER FUNCTION finicom.auth_login_failed(p_email text, p_ip text, p_request_id text) OWNER TO finicom_owner;

--
-- Name: auth_login_proceed(uuid, bytea, integer, text, bytea, text, text, bytea); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.auth_login_proceed(p_user_id uuid, p_token_hash bytea, p_max_age_seconds integer, p_new_hash text, p_old_token_hash bytea, p_ip text, p_request_id text, p_login_hash bytea) RETURNS TABLE(totp_required boolean, user_json json)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
    BEGIN
        IF NOT EXISTS (SELECT 1 FROM finicom.totp_credentials t
                       WHERE t.user_id = p_user_id AND t.confirmed_at IS NOT NULL) THEN
            PERFORM finicom.auth_login_complete(p_user_id, p_token_hash, p_max_age_seconds, p_new_hash,
                                                p_old_token_hash, p_ip, p_request_id);
            RETURN QUERY SELECT false, finicom.session_user_json(p_token_hash);
            RETURN;
        END IF;
        IF p_new_hash IS NOT NULL THEN
            UPDATE finicom.users u SET password_hash = p_new_hash WHERE u.id = p_user_id;
        END IF;
        DELETE FROM finicom.login_failures f
        WHERE f.email = (SELECT finicom.ascii_lower(u.email) FROM finicom.users u WHERE u.id = p_user_id);
        PERFORM finicom.totp_login_token_create(p_user_id, p_login_hash, p_ip, p_request_id); -- 0029
        RETURN QUERY SELECT true, NULL::json;
    END
    $$;

ALTER FUNCTION finicom.auth_login_proceed(p_user_id uuid, p_token_hash bytea, p_max_age_seconds integer, p_new_hash text, p_old_token_hash bytea, p_ip text, p_request_id text, p_login_hash bytea) OWNER TO finicom_owner;

--
-- Name: auth_logout(bytea); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.auth_logout(p_token_hash bytea) RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
    DECLARE
        v_user uuid;
    BEGIN
        DELETE FROM finicom.sessions s
        WHERE s.token_hash = p_token_hash AND s.user_id = finicom.request_user_id()
        RETURNING s.user_id INTO v_user;
        IF v_user IS NULL THEN
            RETURN false;
        END IF;
        PERFORM audit.auth_event('logout', v_user,
            (SELECT u.email FROM finicom.users u WHERE u.id = v_user),
            nullif(pg_catalog.current_setting('finicom.client_ip', true), ''),
            nullif(pg_catalog.current_setting('finicom.request_id', true), ''));
        RETURN true;
    END
    $$;

ALTER FUNCTION finicom.auth_logout(p_token_hash bytea) OWNER TO finicom_owner;

--
-- Name: auth_password_change(uuid, bytea, text, text, text); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.auth_password_change(p_user uuid, p_session_hash bytea, p_new_hash text, p_ip text, p_request_id text) RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
    DECLARE
        v_email text;
    BEGIN
        SELECT u.email INTO v_email FROM finicom.sessions s JOIN finicom.users u ON u.id = s.user_id
        WHERE s.token_hash = p_session_hash AND s.user_id = p_user AND s.expires_at > pg_catalog.now()
        FOR UPDATE OF u;
        IF v_email IS NULL THEN
            RETURN false;
        END IF;
        UPDATE finicom.users u SET password_hash = p_new_hash WHERE u.id = p_user;
        DELETE FROM finicom.sessions s WHERE s.user_id = p_user AND s.token_hash <> p_session_hash;
        DELETE FROM finicom.login_failures f WHERE f.email = finicom.ascii_lower(v_email);
        UPDATE finicom.password_resets r SET replaced_at = pg_catalog.now()
        WHERE r.user_id = p_user AND r.used_at IS NULL AND r.replaced_at IS NULL;
        PERFORM audit.auth_event('password.changed', p_user, v_email, p_ip, p_request_id);
        RETURN true;
    END
    $$;

ALTER FUNCTION finicom.auth_password_change(p_user uuid, p_session_hash bytea, p_new_hash text, p_ip text, p_request_id text) OWNER TO finicom_owner;

--
-- Name: auth_password_change_begin(uuid, bytea); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.auth_password_change_begin(p_user uuid, p_session_hash bytea) RETURNS TABLE(password_hash text)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
    DECLARE
        v_email text;
    BEGIN
        SELECT u.email INTO v_email FROM finicom.sessions s JOIN finicom.users u ON u.id = s.user_id
        WHERE s.token_hash = p_session_hash AND s.user_id = p_user AND s.expires_at > pg_catalog.now();
        IF v_email IS NULL THEN
            RETURN;
        END IF;
        RETURN QUERY SELECT b.password_hash FROM finicom.auth_login_begin(v_email) b WHERE b.user_id = p_user;
    END
    $$;

ALTER FUNCTION finicom.auth_password_change_begin(p_user uuid, p_session_hash bytea) OWNER TO finicom_owner;

--
-- Name: auth_password_reset(bytea, text, bytea, integer, text, text, text, bytea); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.auth_password_reset(p_token_hash bytea, p_password_hash text, p_session_hash bytea, p_max_age_seconds integer, p_ip text, p_request_id text, p_user_agent text, p_login_hash bytea) RETURNS TABLE(outcome text, status text, user_json text)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
    DECLARE
        v finicom.password_resets%ROWTYPE;
        v_user finicom.users%ROWTYPE;
    BEGIN
        SELECT * INTO v FROM finicom.password_resets r WHERE r.token_hash = p_token_hash FOR UPDATE;
        IF NOT FOUND OR v.user_id IS NULL THEN
            RETURN QUERY SELECT 'not_found'::text, NULL::text, NULL::text;
            RETURN;
        END IF;
        IF v.used_at IS NOT NULL OR v.replaced_at IS NOT NULL OR v.expires_at <= pg_catalog.now() THEN
            RETURN QUERY SELECT 'gone'::text, CASE WHEN v.used_at IS NOT NULL THEN 'used'
                                                  WHEN v.replaced_at IS NOT NULL THEN 'replaced'
                                                  ELSE 'expired' END, NULL::text;
            RETURN;
        END IF;
        SELECT * INTO v_user FROM finicom.users u WHERE u.id = v.user_id FOR UPDATE;
        IF v_user.email_verified_at IS NULL THEN
            PERFORM audit.auth_event('account.taken_over', v_user.id, v_user.email, p_ip, p_request_id);
        END IF;
        UPDATE finicom.users u SET password_hash = p_password_hash WHERE u.id = v_user.id;
        DELETE FROM finicom.sessions s WHERE s.user_id = v_user.id;
        DELETE FROM finicom.login_failures f WHERE f.email = finicom.ascii_lower(v_user.email);
        UPDATE finicom.password_resets r SET used_at = pg_catalog.now() WHERE r.id = v.id;
        UPDATE finicom.password_resets r SET replaced_at = pg_catalog.now()
        WHERE r.user_id = v_user.id AND r.used_at IS NULL AND r.replaced_at IS NULL;
        PERFORM finicom.email_verified_mark(v_user.id, p_ip, p_request_id);
        PERFORM audit.auth_event('password.reset', v_user.id, v_user.email, p_ip, p_request_id);
        IF EXISTS (SELECT 1 FROM finicom.totp_credentials t
                   WHERE t.user_id = v_user.id AND t.confirmed_at IS NOT NULL) THEN
            -- Two-factor on: the second step of a sign-in, not a session.
            PERFORM finicom.totp_login_token_create(v_user.id, p_login_hash, p_ip, p_request_id);
            RETURN QUERY SELECT 'totp_required'::text, NULL::text, NULL::text;
            RETURN;
        END IF;
        PERFORM finicom.session_create(v_user.id, p_session_hash, p_max_age_seconds);
        PERFORM finicom.session_describe(p_session_hash, p_ip, p_user_agent);
        RETURN QUERY SELECT 'ok'::text, NULL::text, finicom.session_user_json(p_session_hash)::text;
    END
    $$;

ALTER FUNCTION finicom.auth_password_reset(p_token_hash bytea, p_password_hash text, p_session_hash bytea, p_max_age_seconds integer, p_ip text, p_request_id text, p_user_agent text, p_login_hash bytea) OWNER TO finicom_owner;

--
-- Name: auth_password_reset_request(text, bytea, text, text, text); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.auth_password_reset_request(p_email text, p_token_hash bytea, p_link text, p_ip text, p_request_id text) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
    DECLARE
        v_key text := finicom.ascii_lower(p_email);
        v_user finicom.users%ROWTYPE;
        v_count bigint;
        v_oldest timestamptz;
        v_mail uuid;
        v_expires timestamptz := pg_catalog.now() + interval '1 hour';
    BEGIN
        PERFORM pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended('finicom.password_reset:' || v_key, 0));
        SELECT pg_catalog.count(*), pg_catalog.min(r.created_at) INTO v_count, v_oldest
        FROM finicom.password_resets r
        WHERE finicom.ascii_lower(r.email) = v_key AND r.created_at > pg_catalog.now() - interval '1 hour';
        IF v_count >= 5 THEN
            RAISE EXCEPTION USING ERRCODE = 'F0429', MESSAGE = 'rate_limited',
                DETAIL = 'too many password reset requests for this email; try again later',
                HINT = finicom.retry_seconds(v_oldest + interval '1 hour');
        END IF;
        SELECT * INTO v_user FROM finicom.users u WHERE finicom.ascii_lower(u.email) = v_key;
        UPDATE finicom.mail_outbox m
        SET status = 'canceled', body = pg_catalog.replace(m.body, m.link, '(link replaced)'), link = NULL
        WHERE m.id IN (SELECT x.id FROM finicom.mail_outbox x JOIN finicom.password_resets r ON r.mail_id = x.id
                       WHERE finicom.ascii_lower(r.email) = v_key AND r.used_at IS NULL AND r.replaced_at IS NULL
                         AND x.status = 'queued' FOR UPDATE OF x SKIP LOCKED);
        UPDATE finicom.password_resets r SET replaced_at = pg_catalog.now()
        WHERE finicom.ascii_lower(r.email) = v_key AND r.used_at IS NULL AND r.replaced_at IS NULL;
        -- The same row either way; for an unknown address it is canceled
        -- from the start (never sent) and holds no link.
        INSERT INTO finicom.mail_outbox (recipient, subject, body, link, message_id, status)
        VALUES (coalesce(v_user.email, p_email), 'Reset your Finicom password',
            pg_catalog.format(E'Hello %s,\n\nSomeone asked to reset the password of the Finicom account for %s.\nTo choose a new password, open this link:\n\n%s\n\nThe link works once and expires at %s (UTC).\nSetting a new password signs the account out everywhere.\nIf you did not ask for this, you can ignore this email: your password stays as it is.\n',
                coalesce(v_user.name, '-'), coalesce(v_user.email, p_email),
                CASE WHEN v_user.id IS NOT NULL THEN p_link ELSE '(no account has this address)' END,
                pg_catalog.to_char(v_expires AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI')),
            CASE WHEN v_user.id IS NOT NULL THEN p_link END, '<' || gen_random_uuid() || '@finicom.invalid>',
            CASE WHEN v_user.id IS NOT NULL THEN 'queued' ELSE 'canceled' END)
        RETURNING id INTO v_mail;
        INSERT INTO finicom.password_resets (email, user_id, token_hash, mail_id, expires_at)
        VALUES (coalesce(v_user.email, p_email), v_user.id, p_token_hash, v_mail, v_expires);
        PERFORM audit.auth_event('password.reset_requested', v_user.id, coalesce(v_user.email, p_email),
                                 p_ip, p_request_id);
    END
    $$;

ALTER FUNCTION finicom.auth_password_reset_request(p_email text, p_token_hash bytea, p_link text, p_ip text, p_request_id text) OWNER TO finicom_owner;

--
-- Name: auth_signup(text, text, text, bytea, integer, text, text); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.auth_signup(p_email text, p_name text, p_password_hash text, p_token_hash bytea, p_max_age_seconds integer, p_ip text, p_request_id text) RETURNS TABLE(id uuid, email text, name text, created_at timestamp with time zone)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
    DECLARE
        v_id uuid;
    BEGIN
        SELECT c.id INTO v_id FROM finicom.user_create(p_email, p_name, p_password_hash) c;
        PERFORM audit.auth_event('signup', v_id, p_email, p_ip, p_request_id);
        RETURN QUERY SELECT * FROM finicom.session_create(v_id, p_token_hash, p_max_age_seconds);
    END
    $$;

ALTER FUNCTION finicom.auth_signup(p_email text, p_name text, p_password_hash text, p_token_hash bytea, p_max_age_seconds integer, p_ip text, p_request_id text) OWNER TO finicom_owner;

--
-- Name: auth_signup_verify(text, text, text, bytea, integer, text, text, bytea, text); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.auth_signup_verify(p_email text, p_name text, p_password_hash text, p_session_hash bytea, p_max_age_seconds integer, p_ip text, p_request_id text, p_verify_hash bytea, p_verify_link text) RETURNS json
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
    DECLARE
        v_id uuid;
    BEGIN
        SELECT s.id INTO v_id
        FROM finicom.auth_signup(p_email, p_name, p_password_hash, p_session_hash, p_max_age_seconds,
                                 p_ip, p_request_id) s;
        PERFORM finicom.email_verification_issue(v_id, p_session_hash, p_verify_hash, p_verify_link);
        RETURN finicom.session_user_json(p_session_hash);
    END
    $$;

ALTER FUNCTION finicom.auth_signup_verify(p_email text, p_name text, p_password_hash text, p_session_hash bytea, p_max_age_seconds integer, p_ip text, p_request_id text, p_verify_hash bytea, p_verify_link text) OWNER TO finicom_owner;

--
-- Name: auth_totp_begin(bytea); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.auth_totp_begin(p_session_hash bytea) RETURNS TABLE(user_id uuid, secret_enc text, enabled boolean, last_step bigint)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
    DECLARE
        v_user uuid := finicom.totp_session_user(p_session_hash);
    BEGIN
        IF v_user IS NULL THEN
            RAISE EXCEPTION USING ERRCODE = 'F0401', MESSAGE = 'unauthenticated',
                DETAIL = 'the session is not valid or has expired';
        END IF;
        IF NOT EXISTS (SELECT 1 FROM finicom.totp_credentials t WHERE t.user_id = v_user) THEN
            RETURN;
        END IF;
        PERFORM finicom.totp_throttle(v_user);
        RETURN QUERY SELECT t.user_id, t.secret_enc, t.confirmed_at IS NOT NULL, t.last_step
                     FROM finicom.totp_credentials t WHERE t.user_id = v_user;
    END
    $$;

ALTER FUNCTION finicom.auth_totp_begin(p_session_hash bytea) OWNER TO finicom_owner;

--
-- Name: auth_totp_confirm(bytea, bigint, bytea[], text, text); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.auth_totp_confirm(p_session_hash bytea, p_step bigint, p_codes bytea[], p_ip text, p_request_id text) RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
    DECLARE
        v_user uuid := finicom.totp_session_user(p_session_hash);
    BEGIN
        IF pg_catalog.cardinality(p_codes) <> 10 THEN
            RAISE EXCEPTION 'ten recovery codes expected';
        END IF;
        UPDATE finicom.totp_credentials t SET confirmed_at = pg_catalog.now(), last_step = p_step
        WHERE t.user_id = v_user AND t.confirmed_at IS NULL
          AND (t.last_step IS NULL OR t.last_step < p_step);
        IF NOT FOUND THEN
            RETURN false;
        END IF;
        DELETE FROM finicom.totp_recovery_codes c WHERE c.user_id = v_user;
        INSERT INTO finicom.totp_recovery_codes (user_id, code_hash)
        SELECT v_user, h FROM pg_catalog.unnest(p_codes) h;
        DELETE FROM finicom.totp_failures f WHERE f.user_id = v_user;
        PERFORM audit.auth_event('totp.enabled', v_user,
            (SELECT u.email FROM finicom.users u WHERE u.id = v_user), p_ip, p_request_id);
        RETURN true;
    END
    $$;

ALTER FUNCTION finicom.auth_totp_confirm(p_session_hash bytea, p_step bigint, p_codes bytea[], p_ip text, p_request_id text) OWNER TO finicom_owner;

--
-- Name: auth_totp_disable(bytea, bigint, bytea, text, text); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.auth_totp_disable(p_session_hash bytea, p_step bigint, p_recovery bytea, p_ip text, p_request_id text) RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
    DECLARE
        v_user uuid := finicom.totp_session_user(p_session_hash);
    BEGIN
        IF v_user IS NULL OR NOT EXISTS (SELECT 1 FROM finicom.totp_credentials t
                                         WHERE t.user_id = v_user AND t.confirmed_at IS NOT NULL) THEN
            RETURN false;
        END IF;
        IF NOT finicom.totp_accept(v_user, p_step, p_recovery, p_ip, p_request_id) THEN
            RETURN false;
        END IF;
        DELETE FROM finicom.totp_credentials t WHERE t.user_id = v_user;
        DELETE FROM finicom.totp_recovery_codes c WHERE c.user_id = v_user;
        DELETE FROM finicom.totp_login_tokens l WHERE l.user_id = v_user;
        DELETE FROM finicom.totp_failures f WHERE f.user_id = v_user;
        PERFORM audit.auth_event('totp.disabled', v_user,
            (SELECT u.email FROM finicom.users u WHERE u.id = v_user), p_ip, p_request_id);
        RETURN true;
    END
    $$;

ALTER FUNCTION finicom.auth_totp_disable(p_session_hash bytea, p_step bigint, p_recovery bytea, p_ip text, p_request_id text) OWNER TO finicom_owner;

--
-- Name: auth_totp_enrol(bytea, text, text, text); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.auth_totp_enrol(p_session_hash bytea, p_secret_enc text, p_ip text, p_request_id text) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
    DECLARE
        v_user uuid := finicom.totp_session_user(p_session_hash);
    BEGIN
        IF v_user IS NULL THEN
            RAISE EXCEPTION USING ERRCODE = 'F0401', MESSAGE = 'unauthenticated',
                DETAIL = 'the session is not valid or has expired';
        END IF;
        INSERT INTO finicom.totp_credentials AS t (user_id, secret_enc)
        VALUES (v_user, p_secret_enc)
        ON CONFLICT (user_id) DO UPDATE SET secret_enc = excluded.secret_enc, last_step = NULL,
            created_at = pg_catalog.now()
        WHERE t.confirmed_at IS NULL;
        IF NOT FOUND THEN
            RAISE EXCEPTION USING ERRCODE = 'F0409', MESSAGE = 'conflict',
                DETAIL = 'two-factor authentication is already on; turn it off first to enrol again';
        END IF;
        PERFORM audit.auth_event('totp.enrolled', v_user,
            (SELECT u.email FROM finicom.users u WHERE u.id = v_user), p_ip, p_request_id);
    END
    $$;

ALTER FUNCTION finicom.auth_totp_enrol(p_session_hash bytea, p_secret_enc text, p_ip text, p_request_id text) OWNER TO finicom_owner;

--
-- Name: auth_totp_failed(uuid, boolean, text, text); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.auth_totp_failed(p_user uuid, p_login boolean, p_ip text, p_request_id text) RETURNS void
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO ''
    AS $$
        SELECT audit.auth_event(CASE WHEN p_login THEN 'login.totp_failed' ELSE 'totp.failed' END,
            p_user, (SELECT u.email FROM finicom.users u WHERE u.id = p_user), p_ip, p_request_id)
    $$;

ALTER FUNCTION finicom.auth_totp_failed(p_user uuid, p_login boolean, p_ip text, p_request_id text) OWNER TO finicom_owner;

--
-- Name: auth_totp_login_begin(bytea); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.auth_totp_login_begin(p_login_hash bytea) RETURNS TABLE(user_id uuid, secret_enc text, last_step bigint)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
    DECLARE
        v_tok finicom.totp_login_tokens%ROWTYPE;
    BEGIN
        SELECT * INTO v_tok FROM finicom.totp_login_tokens l
        WHERE l.token_hash = p_login_hash AND l.expires_at > pg_catalog.now() FOR UPDATE;
        IF NOT FOUND THEN
            RETURN;
        END IF;
        PERFORM finicom.totp_throttle(v_tok.user_id);
        IF v_tok.attempts >= 4 THEN
            DELETE FROM finicom.totp_login_tokens l WHERE l.token_hash = p_login_hash;
        ELSE
            UPDATE finicom.totp_login_tokens l SET attempts = l.attempts + 1
            WHERE l.token_hash = p_login_hash;
        END IF;
        RETURN QUERY SELECT t.user_id, t.secret_enc, t.last_step
                     FROM finicom.totp_credentials t
                     WHERE t.user_id = v_tok.user_id AND t.confirmed_at IS NOT NULL;
    END
    $$;

ALTER FUNCTION finicom.auth_totp_login_begin(p_login_hash bytea) OWNER TO finicom_owner;

--
-- Name: auth_totp_login_complete(bytea, bigint, bytea, bytea, integer, bytea, text, text); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.auth_totp_login_complete(p_login_hash bytea, p_step bigint, p_recovery bytea, p_token_hash bytea, p_max_age_seconds integer, p_old_token_hash bytea, p_ip text, p_request_id text) RETURNS json
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
    DECLARE
        v_user uuid;
    BEGIN
        SELECT l.user_id INTO v_user FROM finicom.totp_login_tokens l
        WHERE l.token_hash = p_login_hash FOR UPDATE;
        IF v_user IS NULL THEN
            RETURN NULL;
        END IF;
        IF NOT finicom.totp_accept(v_user, p_step, p_recovery, p_ip, p_request_id) THEN
            RETURN NULL;
        END IF;
        DELETE FROM finicom.totp_login_tokens l WHERE l.token_hash = p_login_hash;
        DELETE FROM finicom.totp_failures f WHERE f.user_id = v_user;
        IF p_old_token_hash IS NOT NULL THEN
            DELETE FROM finicom.sessions s WHERE s.token_hash = p_old_token_hash;
        END IF;
        PERFORM audit.auth_event('login.totp_succeeded', v_user,
            (SELECT u.email FROM finicom.users u WHERE u.id = v_user), p_ip, p_request_id);
        PERFORM finicom.session_create(v_user, p_token_hash, p_max_age_seconds);
        RETURN finicom.session_user_json(p_token_hash);
    END
    $$;

ALTER FUNCTION finicom.auth_totp_login_complete(p_login_hash bytea, p_step bigint, p_recovery bytea, p_token_hash bytea, p_max_age_seconds integer, p_old_token_hash bytea, p_ip text, p_request_id text) OWNER TO finicom_owner;

--
-- Name: auth_totp_user(bytea); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.auth_totp_user(p_session_hash bytea) RETURNS TABLE(user_id uuid, email text, enabled boolean)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
        SELECT u.id, u.email, t.confirmed_at IS NOT NULL
        FROM finicom.users u LEFT JOIN finicom.totp_credentials t ON t.user_id = u.id
        WHERE u.id = finicom.totp_session_user(p_session_hash)
    $$;

ALTER FUNCTION finicom.auth_totp_user(p_session_hash bytea) OWNER TO finicom_owner;

--
-- Name: begin_request(text, bytea, uuid, integer, text, text); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.begin_request(p_credential text, p_token_hash bytea, p_org_id uuid, p_idle_seconds integer, p_request_id text, p_client_ip text) RETURNS TABLE(actor_type text, actor_id uuid, email text, name text, created_at text, org_id uuid, org_role text, two_factor_required boolean)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
    DECLARE
        v_session finicom.sessions%ROWTYPE;
        v_key finicom.api_keys%ROWTYPE;
        v_user finicom.users%ROWTYPE;
        v_type text;
        v_actor uuid;
        v_org uuid;
        v_role finicom.role;
        v_idle interval;
        v_set boolean;
        v_2fa boolean := false; -- 0023
    BEGIN
        IF p_token_hash IS NULL OR p_credential IS NULL OR p_credential NOT IN ('api_key', 'session') THEN
            NULL;
        ELSIF p_credential = 'api_key' THEN
            SELECT * INTO v_key FROM finicom.api_keys k
            WHERE k.token_hash = p_token_hash
              AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > pg_catalog.now());
            IF FOUND THEN
                v_type := 'api_key';
                v_actor := v_key.id;
                IF p_org_id = v_key.org_id THEN
                    v_org := v_key.org_id;
                    v_role := v_key.role;
                END IF;
                IF v_key.last_used_at IS NULL OR v_key.last_used_at < pg_catalog.now() - interval '1 minute' THEN
                    UPDATE finicom.api_keys k SET last_used_at = pg_catalog.now()
                    WHERE k.org_id = v_key.org_id AND k.id = v_key.id;
                END IF;
            END IF;
        ELSE
            v_idle := pg_catalog.make_interval(secs => p_idle_seconds);
            SELECT * INTO v_session FROM finicom.sessions s
            WHERE s.token_hash = p_token_hash
              AND s.expires_at > pg_catalog.now()
              AND s.last_seen_at > pg_catalog.now() - v_idle;
            IF FOUND THEN
                SELECT * INTO v_user FROM finicom.users u WHERE u.id = v_session.user_id;
                v_type := 'user';
                v_actor := v_session.user_id;
                IF v_session.last_seen_at < pg_catalog.now() - LEAST(interval '1 minute', v_idle / 2) THEN
                    UPDATE finicom.sessions s SET last_seen_at = pg_catalog.now() WHERE s.id = v_session.id;
                END IF;
                IF p_org_id IS NOT NULL THEN
                    SELECT m.org_id, m.role,
                           o.require_2fa AND NOT EXISTS (SELECT 1 FROM finicom.totp_credentials t -- 0023
                               WHERE t.user_id = m.user_id AND t.confirmed_at IS NOT NULL)     -- 0023
                    INTO v_org, v_role, v_2fa
                    FROM finicom.memberships m
                    JOIN finicom.orgs o ON o.id = m.org_id -- 0023
                    WHERE m.org_id = p_org_id AND m.user_id = v_session.user_id
                      -- 0024: an expired membership is absent at once, job or no job.
                      AND (m.expires_at IS NULL OR m.expires_at > pg_catalog.now());
                    v_2fa := coalesce(v_2fa, false); -- 0023
                END IF;
            END IF;
        END IF;

        -- The context: an actor only when the credential verified, an org
        -- only when the actor holds a role there (and, 0023, has the 2FA
        -- the org requires).  One expression.
        v_set := finicom.context_guard()
            AND pg_catalog.set_config('finicom.actor_type', coalesce(v_type, ''), true) IS NOT NULL
            AND pg_catalog.set_config('finicom.actor_id', coalesce(v_actor::text, ''), true) IS NOT NULL
            AND pg_catalog.set_config('finicom.org_id',
                    CASE WHEN v_2fa THEN '' ELSE coalesce(v_org::text, '') END, true) IS NOT NULL -- 0023
            AND pg_catalog.set_config('finicom.org_role',
                    CASE WHEN v_2fa THEN '' ELSE coalesce(v_role::text, '') END, true) IS NOT NULL -- 0023
            AND pg_catalog.set_config('finicom.request_id',
                    pg_catalog.left(coalesce(p_request_id, ''), 200), true) IS NOT NULL
            AND pg_catalog.set_config('finicom.client_ip',
                    pg_catalog.left(coalesce(p_client_ip, ''), 100), true) IS NOT NULL;

        two_factor_required := v_2fa; -- 0023
        IF v_type = 'api_key' THEN
            actor_type := 'api_key';
            actor_id := v_key.id;
            name := v_key.name;
            created_at := finicom.ts(v_key.created_at);
            org_id := v_key.org_id;
            org_role := CASE WHEN p_org_id IS NULL OR p_org_id = v_key.org_id THEN v_key.role::text END;
            RETURN NEXT;
        ELSIF v_type = 'user' AND v_user.id IS NOT NULL THEN
            -- 0025: the stamp only when it is due.  INSERT ... ON CONFLICT DO
            -- UPDATE locks the row even when its WHERE skips the update, so
            -- every request held the member's activity row until it ended,
            -- and a long one (the audit export) held all of that member's
            -- other requests to the org.  A fresh stamp is now only read.
            IF v_org IS NOT NULL AND NOT v_2fa -- 0023: a refused request is no activity
               AND NOT EXISTS (
                SELECT 1 FROM finicom.member_activity a
                WHERE a.org_id = v_org AND a.user_id = v_user.id
                  AND a.last_active_at >= pg_catalog.now() - interval '1 minute') THEN
                INSERT INTO finicom.member_activity AS a (org_id, user_id, last_active_at)
                VALUES (v_org, v_user.id, pg_catalog.now())
                ON CONFLICT ON CONSTRAINT member_activity_pkey DO UPDATE SET last_active_at = excluded.last_active_at
                WHERE a.last_active_at < pg_catalog.now() - interval '1 minute';
            END IF;
            actor_type := 'user';
            actor_id := v_user.id;
            email := v_user.email;
            name := v_user.name;
            created_at := finicom.ts(v_user.created_at);
            org_id := v_org;
            org_role := v_role::text;
            RETURN NEXT;
        END IF;
    END
    $$;

ALTER FUNCTION finicom.begin_request(p_credential text, p_token_hash bytea, p_org_id uuid, p_idle_seconds integer, p_request_id text, p_client_ip text) OWNER TO finicom_owner;

--
-- Name: config_mask(jsonb); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.config_mask(p jsonb) RETURNS jsonb
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

ALTER FUNCTION finicom.config_mask(p jsonb) OWNER TO finicom_owner;

--
-- Name: connection_refs_check(uuid, uuid, uuid, uuid[]); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.connection_refs_check(p_org uuid, p_source uuid, p_destination uuid, p_integrations uuid[]) RETURNS boolean
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
    DECLARE
        v_found integer;
    BEGIN
        IF p_source IS NOT NULL THEN
            PERFORM 1 FROM finicom.sources s WHERE s.org_id = p_org AND s.id = p_source FOR KEY SHARE;
            IF NOT FOUND THEN
                RAISE EXCEPTION USING ERRCODE = 'F0400', MESSAGE = 'validation_failed',
                    DETAIL = 'source_id does not name a source of this organization', HINT = 'source_id';
            END IF;
        END IF;
        IF p_destination IS NOT NULL THEN
            PERFORM 1 FROM finicom.destinations d WHERE d.org_id = p_org AND d.id = p_destination FOR KEY SHARE;
            IF NOT FOUND THEN
                RAISE EXCEPTION USING ERRCODE = 'F0400', MESSAGE = 'validation_failed',
                    DETAIL = 'destination_id does not name a destination of this organization',
                    HINT = 'destination_id';
            END IF;
        END IF;
        IF p_integrations IS NOT NULL THEN
            SELECT count(*) INTO v_found FROM (
                SELECT 1 FROM finicom.integrations i
                WHERE i.org_id = p_org AND i.id = ANY (p_integrations) FOR KEY SHARE) locked;
            IF v_found <> (SELECT count(DISTINCT x) FROM pg_catalog.unnest(p_integrations) x) THEN
                RAISE EXCEPTION USING ERRCODE = 'F0400', MESSAGE = 'validation_failed',
                    DETAIL = 'integration_ids names an integration that is not in this organization',
                    HINT = 'integration_ids';
            END IF;
        END IF;
        RETURN true;
    END
    $$;

ALTER FUNCTION finicom.connection_refs_check(p_org uuid, p_source uuid, p_destination uuid, p_integrations uuid[]) OWNER TO finicom_owner;

--
-- Name: context_enter(text, uuid, uuid, text, text); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.context_enter(p_actor_type text, p_actor_id uuid, p_org_id uuid, p_request_id text, p_client_ip text, OUT org_id uuid, OUT org_role finicom.role) RETURNS record
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
    BEGIN
        IF p_actor_type = 'user' AND p_org_id IS NOT NULL THEN
            SELECT m.org_id, m.role INTO org_id, org_role FROM finicom.memberships m
            WHERE m.org_id = p_org_id AND m.user_id = p_actor_id
              AND (m.expires_at IS NULL OR m.expires_at > pg_catalog.now());
        ELSIF p_actor_type = 'api_key' AND p_org_id IS NOT NULL THEN
            SELECT k.org_id, k.role INTO org_id, org_role FROM finicom.api_keys k
            WHERE k.id = p_actor_id AND k.org_id = p_org_id
              AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > pg_catalog.now());
        END IF;
        PERFORM finicom.context_seal(p_actor_type, CASE WHEN p_actor_type IS NOT NULL THEN p_actor_id END,
                                     org_id, org_role, p_request_id, p_client_ip);
    END
    $$;

ALTER FUNCTION finicom.context_enter(p_actor_type text, p_actor_id uuid, p_org_id uuid, p_request_id text, p_client_ip text, OUT org_id uuid, OUT org_role finicom.role) OWNER TO finicom_owner;

--
-- Name: context_guard(); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.context_guard() RETURNS boolean
    LANGUAGE c STABLE PARALLEL SAFE
    AS 'finicom_guard', 'finicom_context_guard';

ALTER FUNCTION finicom.context_guard() OWNER TO finicom_owner;

--
-- Name: context_ok(); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.context_ok() RETURNS boolean
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT finicom.context_guard() $$;

ALTER FUNCTION finicom.context_ok() OWNER TO finicom_owner;

--
-- Name: context_seal(text, uuid, uuid, finicom.role, text, text); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.context_seal(p_actor_type text, p_actor_id uuid, p_org_id uuid, p_role finicom.role, p_request_id text, p_client_ip text) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
    BEGIN
        PERFORM finicom.context_guard(),
                pg_catalog.set_config('finicom.actor_type', coalesce(p_actor_type, ''), true),
                pg_catalog.set_config('finicom.actor_id', coalesce(p_actor_id::text, ''), true),
                pg_catalog.set_config('finicom.org_id', coalesce(p_org_id::text, ''), true),
                pg_catalog.set_config('finicom.org_role', coalesce(p_role::text, ''), true),
                pg_catalog.set_config('finicom.request_id', pg_catalog.left(coalesce(p_request_id, ''), 200), true),
                pg_catalog.set_config('finicom.client_ip', pg_catalog.left(coalesce(p_client_ip, ''), 100), true);
    END
    $$;

ALTER FUNCTION finicom.context_seal(p_actor_type text, p_actor_id uuid, p_org_id uuid, p_role finicom.role, p_request_id text, p_client_ip text) OWNER TO finicom_owner;

--
-- Name: current_actor_id(); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.current_actor_id() RETURNS uuid
    LANGUAGE sql STABLE
    AS $$ SELECT finicom.request_actor_id() $$;

ALTER FUNCTION finicom.current_actor_id() OWNER TO finicom_owner;

--
-- Name: current_actor_type(); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.current_actor_type() RETURNS text
    LANGUAGE sql STABLE
    AS $$ SELECT finicom.request_actor_type() $$;

ALTER FUNCTION finicom.current_actor_type() OWNER TO finicom_owner;

--
-- Name: current_org_id(); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.current_org_id() RETURNS uuid
    LANGUAGE sql STABLE
    AS $$ SELECT finicom.request_org_id() $$;

ALTER FUNCTION finicom.current_org_id() OWNER TO finicom_owner;

--
-- Name: current_user_id(); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.current_user_id() RETURNS uuid
    LANGUAGE sql STABLE
    AS $$ SELECT finicom.request_user_id() $$;

ALTER FUNCTION finicom.current_user_id() OWNER TO finicom_owner;

--
-- Name: cursor_key(timestamp with time zone, uuid); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.cursor_key(t timestamp with time zone, id uuid) RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT pg_catalog.to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') || ',' || id $$;

ALTER FUNCTION finicom.cursor_key(t timestamp with time zone, id uuid) OWNER TO finicom_owner;

--
-- Name: orgs; Type: TABLE; Schema: finicom; Owner: finicom_owner
--

CREATE TABLE finicom.orgs (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    name text NOT NULL,
    invite_ttl_hours integer DEFAULT 168 NOT NULL,
    plan finicom.plan DEFAULT 'trial'::finicom.plan NOT NULL,
    trial_ends_at timestamp with time zone DEFAULT (now() + '14 days'::interval) NOT NULL,
    billing_email text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    require_2fa boolean DEFAULT false NOT NULL,
    access_review_interval_days integer DEFAULT 90 NOT NULL,
    CONSTRAINT orgs_access_review_interval_days_check CHECK (((access_review_interval_days = 0) OR ((access_review_interval_days >= 30) AND (access_review_interval_days <= 365)))),
    CONSTRAINT orgs_billing_email_check CHECK ((((octet_length(billing_email) >= 3) AND (octet_length(billing_email) <= 254)) AND (billing_email !~ '[^!-~]'::text))),
    CONSTRAINT orgs_invite_ttl_hours_check CHECK (((invite_ttl_hours >= 1) AND (invite_ttl_hours <= 720))),
    CONSTRAINT orgs_name_check CHECK (((char_length(name) >= 1) AND (char_length(name) <= 200)))
);

ALTER TABLE ONLY finicom.orgs FORCE ROW LEVEL SECURITY;

ALTER TABLE finicom.orgs OWNER TO finicom_owner;

--
-- Name: effective_plan(finicom.orgs); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.effective_plan(o finicom.orgs) RETURNS finicom.plan
    LANGUAGE sql STABLE
    AS $$
        SELECT CASE WHEN o.plan = 'trial' AND o.trial_ends_at <= pg_catalog.now()
                    THEN 'free'::finicom.plan ELSE o.plan END
    $$;

ALTER FUNCTION finicom.effective_plan(o finicom.orgs) OWNER TO finicom_owner;

--
-- Name: email_verification_issue(uuid, bytea, bytea, text); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.email_verification_issue(p_user uuid, p_session_hash bytea, p_token_hash bytea, p_link text) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
    DECLARE
        v_user finicom.users%ROWTYPE;
        v_mail uuid;
    BEGIN
        SELECT u.* INTO v_user FROM finicom.sessions s JOIN finicom.users u ON u.id = s.user_id
        WHERE s.token_hash = p_session_hash AND s.user_id = p_user AND s.expires_at > pg_catalog.now()
        FOR UPDATE OF u;
        IF NOT FOUND THEN
            RAISE EXCEPTION USING ERRCODE = 'F0404', MESSAGE = 'not_found', DETAIL = 'no such account';
        END IF;
        IF v_user.email_verified_at IS NOT NULL THEN
            RETURN;
        END IF;
        UPDATE finicom.mail_outbox m
        SET status = 'canceled', body = pg_catalog.replace(m.body, m.link, '(link replaced)'), link = NULL
        FROM finicom.email_verifications v
        WHERE v.user_id = p_user AND v.used_at IS NULL AND v.replaced_at IS NULL
          AND m.id = v.mail_id AND m.status = 'queued';
        UPDATE finicom.email_verifications v SET replaced_at = pg_catalog.now()
        WHERE v.user_id = p_user AND v.used_at IS NULL AND v.replaced_at IS NULL;
        INSERT INTO finicom.mail_outbox (recipient, subject, body, link, message_id)
        VALUES (v_user.email, 'Verify your email address for Finicom',
            pg_catalog.format(E'Hello %s,\n\nPlease confirm that this is your email address by opening this link:\n\n%s\n\nThe link works once and expires at %s (UTC).\nUntil then your account cannot create API keys or send invitations.\nIf you did not create a Finicom account, you can ignore this email:\nwhoever receives an invitation for this address can still take the account.\n',
                v_user.name, p_link,
                pg_catalog.to_char((pg_catalog.now() + interval '24 hours') AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI')),
            p_link, '<' || gen_random_uuid() || '@finicom.invalid>')
        RETURNING id INTO v_mail;
        INSERT INTO finicom.email_verifications (user_id, email, token_hash, mail_id, expires_at)
        VALUES (p_user, v_user.email, p_token_hash, v_mail, pg_catalog.now() + interval '24 hours');
        PERFORM pg_catalog.pg_notify('finicom_mail', '');
    END
    $$;

ALTER FUNCTION finicom.email_verification_issue(p_user uuid, p_session_hash bytea, p_token_hash bytea, p_link text) OWNER TO finicom_owner;

--
-- Name: email_verification_resend(bytea, bytea, text); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.email_verification_resend(p_session_hash bytea, p_token_hash bytea, p_link text) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
    DECLARE
        v_user uuid := finicom.request_user_id();
        v_count bigint;
        v_oldest timestamptz;
    BEGIN
        IF v_user IS NULL OR NOT EXISTS (SELECT 1 FROM finicom.sessions s
                                         WHERE s.token_hash = p_session_hash AND s.user_id = v_user) THEN
            RAISE EXCEPTION USING ERRCODE = 'F0403', MESSAGE = 'forbidden', DETAIL = 'sign in first';
        END IF;
        PERFORM 1 FROM finicom.users u WHERE u.id = v_user FOR UPDATE;
        IF EXISTS (SELECT 1 FROM finicom.users u WHERE u.id = v_user AND u.email_verified_at IS NOT NULL) THEN
            RAISE EXCEPTION USING ERRCODE = 'F0409', MESSAGE = 'already_verified',
                DETAIL = 'your email address is already verified';
        END IF;
        SELECT pg_catalog.count(*), pg_catalog.min(v.created_at) INTO v_count, v_oldest
        FROM finicom.email_verifications v
        WHERE v.user_id = v_user AND v.created_at > pg_catalog.now() - interval '1 day'
          AND v.created_at > (SELECT pg_catalog.min(f.created_at) FROM finicom.email_verifications f
                              WHERE f.user_id = v_user);
        IF v_count >= 5 THEN
            RAISE EXCEPTION USING ERRCODE = 'F0429', MESSAGE = 'rate_limited',
                DETAIL = '5 verification emails were sent in the last day; try again later',
                HINT = finicom.retry_seconds(v_oldest + interval '1 day');
        END IF;
        PERFORM finicom.email_verification_issue(v_user, p_session_hash, p_token_hash, p_link);
    END
    $$;

ALTER FUNCTION finicom.email_verification_resend(p_session_hash bytea, p_token_hash bytea, p_link text) OWNER TO finicom_owner;

--
-- Name: email_verified_mark(uuid, text, text); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.email_verified_mark(p_user uuid, p_ip text, p_request_id text) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
    DECLARE
        v_email text;
    BEGIN
        UPDATE finicom.users u SET email_verified_at = pg_catalog.now()
        WHERE u.id = p_user AND u.email_verified_at IS NULL
        RETURNING u.email INTO v_email;
        IF v_email IS NULL THEN
            RETURN;
        END IF;
        UPDATE finicom.mail_outbox m
        SET status = 'canceled', body = pg_catalog.replace(m.body, m.link, '(link removed)'), link = NULL
        WHERE m.id IN (SELECT x.id FROM finicom.mail_outbox x JOIN finicom.email_verifications v ON v.mail_id = x.id
                       WHERE v.user_id = p_user AND v.used_at IS NULL AND v.replaced_at IS NULL
                         AND x.status = 'queued' FOR UPDATE OF x SKIP LOCKED);
        UPDATE finicom.email_verifications v SET used_at = pg_catalog.now()
        WHERE v.user_id = p_user AND v.used_at IS NULL AND v.replaced_at IS NULL;
        PERFORM audit.auth_event('email.verified', p_user, v_email, p_ip, p_request_id);
    END
    $$;

ALTER FUNCTION finicom.email_verified_mark(p_user uuid, p_ip text, p_request_id text) OWNER TO finicom_owner;

--
-- Name: email_verify(bytea, text, text); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.email_verify(p_token_hash bytea, p_ip text, p_request_id text) RETURNS TABLE(outcome text, status text, user_json json)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
    DECLARE
        v finicom.email_verifications%ROWTYPE;
        v_user finicom.users%ROWTYPE;
    BEGIN
        SELECT * INTO v FROM finicom.email_verifications x WHERE x.token_hash = p_token_hash FOR UPDATE;
        IF NOT FOUND THEN
            RETURN QUERY SELECT 'not_found', NULL::text, NULL::json;
            RETURN;
        END IF;
        IF v.used_at IS NOT NULL OR v.replaced_at IS NOT NULL OR v.expires_at <= pg_catalog.now() THEN
            RETURN QUERY SELECT 'gone', CASE WHEN v.used_at IS NOT NULL THEN 'used'
                                            WHEN v.replaced_at IS NOT NULL THEN 'replaced'
                                            ELSE 'expired' END, NULL::json;
            RETURN;
        END IF;
        SELECT * INTO v_user FROM finicom.users u WHERE u.id = v.user_id FOR UPDATE;
        -- The token verifies the address it was mailed to, nothing else.
        IF finicom.ascii_lower(v_user.email) IS DISTINCT FROM finicom.ascii_lower(v.email) THEN
            RETURN QUERY SELECT 'gone', 'replaced', NULL::json;
            RETURN;
        END IF;
        PERFORM finicom.email_verified_mark(v.user_id, p_ip, p_request_id);
        -- Spent even when the address was verified some other way meanwhile.
        UPDATE finicom.email_verifications x SET used_at = pg_catalog.now()
        WHERE x.id = v.id AND x.used_at IS NULL;
        RETURN QUERY SELECT 'ok', 'verified', finicom.user_json(u) FROM finicom.users u WHERE u.id = v.user_id;
    END
    $$;

ALTER FUNCTION finicom.email_verify(p_token_hash bytea, p_ip text, p_request_id text) OWNER TO finicom_owner;

--
-- Name: expire_invitations(); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.expire_invitations() RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
    DECLARE
        n integer;
    BEGIN
        PERFORM finicom.context_seal('system', NULL, NULL, NULL, NULL, NULL);
        UPDATE finicom.invitations i SET status = 'expired'
        WHERE i.status = 'pending' AND i.expires_at <= pg_catalog.now();
        GET DIAGNOSTICS n = ROW_COUNT;
        UPDATE finicom.mail_outbox m
        SET status = 'canceled', body = pg_catalog.replace(m.body, m.link, '(link removed)'), link = NULL
        FROM finicom.invitations i
        WHERE m.status = 'queued' AND i.id = m.invitation_id AND i.org_id = m.org_id AND i.status = 'expired';
        RETURN n;
    END
    $$;

ALTER FUNCTION finicom.expire_invitations() OWNER TO finicom_owner;

--
-- Name: expire_memberships(); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.expire_memberships() RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
    DECLARE
        n integer;
    BEGIN
        PERFORM finicom.context_seal('system', NULL, NULL, NULL, NULL, NULL);
        DELETE FROM finicom.memberships m WHERE m.expires_at <= pg_catalog.now();
        GET DIAGNOSTICS n = ROW_COUNT;
        RETURN n;
    END
    $$;

ALTER FUNCTION finicom.expire_memberships() OWNER TO finicom_owner;

--
-- Name: future_time(timestamp with time zone, text); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.future_time(p timestamp with time zone, p_field text) RETURNS timestamp with time zone
    LANGUAGE plpgsql STABLE
    SET search_path TO ''
    AS $$
    BEGIN
        IF p IS NOT NULL AND p <= pg_catalog.now() THEN
            RAISE EXCEPTION USING ERRCODE = 'F0400', MESSAGE = 'validation_failed',
                DETAIL = p_field || ' must be in the future', HINT = p_field;
        END IF;
        RETURN p;
    END
    $$;

ALTER FUNCTION finicom.future_time(p timestamp with time zone, p_field text) OWNER TO finicom_owner;

--
-- Name: has_role(uuid, finicom.role); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.has_role(p_org uuid, p_min finicom.role) RETURNS boolean
    LANGUAGE sql STABLE
    AS $$ SELECT coalesce(p_org = finicom.request_org_id() AND finicom.request_role() >= p_min, false) $$;

ALTER FUNCTION finicom.has_role(p_org uuid, p_min finicom.role) OWNER TO finicom_owner;

--
-- Name: invitation_accept_new_user(bytea, text, text, bytea, integer, text, text); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.invitation_accept_new_user(p_token_hash bytea, p_name text, p_password_hash text, p_session_hash bytea, p_max_age_seconds integer, p_ip text, p_request_id text) RETURNS TABLE(outcome text, status text, org_id uuid, org_name text, role text, user_json text)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
    DECLARE
        v_inv finicom.invitations%ROWTYPE;
        v_existing finicom.users%ROWTYPE;
        v_user uuid;
    BEGIN
        SELECT * INTO v_inv FROM finicom.invitations i WHERE i.token_hash = p_token_hash FOR UPDATE;
        IF NOT FOUND THEN
            RETURN QUERY SELECT 'not_found'::text, NULL::text, NULL::uuid, NULL::text, NULL::text, NULL::text;
            RETURN;
        END IF;
        IF v_inv.status <> 'pending' OR v_inv.expires_at <= pg_catalog.now() THEN
            RETURN QUERY SELECT 'gone'::text, CASE WHEN v_inv.status = 'pending' THEN 'expired'
                                                  ELSE v_inv.status::text END,
                                NULL::uuid, NULL::text, NULL::text, NULL::text;
            RETURN;
        END IF;
        SELECT * INTO v_existing FROM finicom.users u
        WHERE finicom.ascii_lower(u.email) = finicom.ascii_lower(v_inv.email) FOR UPDATE;
        IF FOUND AND v_existing.email_verified_at IS NOT NULL THEN
            RETURN QUERY SELECT 'email_taken'::text, NULL::text, NULL::uuid, NULL::text, NULL::text, NULL::text;
            RETURN;
        ELSIF FOUND THEN
            IF EXISTS (SELECT 1 FROM finicom.memberships m
                       WHERE m.org_id = v_inv.org_id AND m.user_id = v_existing.id) THEN
                RETURN QUERY SELECT 'already_member'::text, NULL::text, NULL::uuid, NULL::text, NULL::text,
                                    NULL::text;
                RETURN;
            END IF;
            -- The owner of the address takes the unverified account over.
            v_user := v_existing.id;
            UPDATE finicom.users u SET password_hash = p_password_hash, name = p_name WHERE u.id = v_user;
            DELETE FROM finicom.sessions s WHERE s.user_id = v_user;
            DELETE FROM finicom.login_failures f WHERE f.email = finicom.ascii_lower(v_existing.email);
            PERFORM audit.auth_event('account.taken_over', v_user, v_existing.email, p_ip, p_request_id);
        ELSE
            SELECT c.id INTO v_user FROM finicom.user_create(v_inv.email, p_name, p_password_hash) c;
        END IF;
        PERFORM finicom.session_create(v_user, p_session_hash, p_max_age_seconds);
        RETURN QUERY SELECT * FROM finicom.invitation_admit(v_inv, v_user, p_request_id, p_ip);
    END
    $$;

ALTER FUNCTION finicom.invitation_accept_new_user(p_token_hash bytea, p_name text, p_password_hash text, p_session_hash bytea, p_max_age_seconds integer, p_ip text, p_request_id text) OWNER TO finicom_owner;

--
-- Name: invitations; Type: TABLE; Schema: finicom; Owner: finicom_owner
--

CREATE TABLE finicom.invitations (
    org_id uuid NOT NULL,
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    email text NOT NULL,
    role finicom.role NOT NULL,
    token_hash bytea NOT NULL,
    status finicom.invitation_status DEFAULT 'pending'::finicom.invitation_status NOT NULL,
    invited_by uuid,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    accepted_at timestamp with time zone,
    accepted_by uuid,
    canceled_at timestamp with time zone,
    canceled_by uuid,
    membership_expires_at timestamp with time zone,
    cancel_reason text,
    CONSTRAINT invitations_cancel_reason_check CHECK ((cancel_reason = 'inviter_lost_admin'::text)),
    CONSTRAINT invitations_email_check CHECK ((((octet_length(email) >= 3) AND (octet_length(email) <= 254)) AND (email !~ '[^!-~]'::text))),
    CONSTRAINT invitations_token_hash_check CHECK ((octet_length(token_hash) = 32))
);

ALTER TABLE ONLY finicom.invitations FORCE ROW LEVEL SECURITY;

ALTER TABLE finicom.invitations OWNER TO finicom_owner;

--
-- Name: invitation_admit(finicom.invitations, uuid, text, text); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.invitation_admit(p_inv finicom.invitations, p_user uuid, p_request_id text, p_client_ip text) RETURNS TABLE(outcome text, status text, org_id uuid, org_name text, role text, user_json text)
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
    BEGIN
        PERFORM finicom.email_verified_mark(p_user, p_client_ip, p_request_id);
        PERFORM finicom.context_seal('user', p_user, p_inv.org_id, p_inv.role, p_request_id, p_client_ip);
        INSERT INTO finicom.memberships (org_id, user_id, role, expires_at)
        VALUES (p_inv.org_id, p_user, p_inv.role, p_inv.membership_expires_at);
        UPDATE finicom.invitations i
        SET status = 'accepted', accepted_at = pg_catalog.now(), accepted_by = p_user
        WHERE i.org_id = p_inv.org_id AND i.id = p_inv.id;
        RETURN QUERY
            SELECT 'ok'::text, 'accepted'::text, p_inv.org_id,
                   (SELECT o.name FROM finicom.orgs o WHERE o.id = p_inv.org_id), p_inv.role::text,
                   finicom.user_json(u)::text
            FROM finicom.users u WHERE u.id = p_user;
    END
    $$;

ALTER FUNCTION finicom.invitation_admit(p_inv finicom.invitations, p_user uuid, p_request_id text, p_client_ip text) OWNER TO finicom_owner;

--
-- Name: invitation_cancel(uuid, uuid); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.invitation_cancel(p_org uuid, p_id uuid) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
    DECLARE
        v_status finicom.invitation_status;
    BEGIN
        IF p_org IS DISTINCT FROM finicom.current_org_id() OR NOT finicom.has_role(p_org, 'admin') THEN
            RAISE EXCEPTION USING ERRCODE = 'F0403', MESSAGE = 'forbidden', DETAIL = 'only admins can cancel';
        END IF;
        -- Past its expiry it is expired, whether or not the job has run yet.
        SELECT CASE WHEN i.status = 'pending' AND i.expires_at <= pg_catalog.now()
                    THEN 'expired'::finicom.invitation_status ELSE i.status END
        INTO v_status FROM finicom.invitations i
        WHERE i.org_id = p_org AND i.id = p_id FOR UPDATE;
        IF NOT FOUND THEN
            RAISE EXCEPTION USING ERRCODE = 'F0404', MESSAGE = 'not_found', DETAIL = 'no such invitation';
        END IF;
        IF v_status <> 'pending' THEN
            RAISE EXCEPTION USING ERRCODE = 'F0409', MESSAGE = 'not_pending',
                DETAIL = 'only a pending invitation can be canceled';
        END IF;
        UPDATE finicom.invitations i
        SET status = 'canceled', canceled_at = pg_catalog.now(), canceled_by = finicom.current_user_id()
        WHERE i.org_id = p_org AND i.id = p_id;
        UPDATE finicom.mail_outbox m
        SET status = 'canceled', body = pg_catalog.replace(m.body, m.link, '(link removed)'), link = NULL
        WHERE m.org_id = p_org AND m.invitation_id = p_id AND m.status = 'queued';
    END
    $$;

ALTER FUNCTION finicom.invitation_cancel(p_org uuid, p_id uuid) OWNER TO finicom_owner;

--
-- Name: invitation_create(uuid, text, finicom.role, bytea, text); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.invitation_create(p_org uuid, p_email text, p_role finicom.role, p_token_hash bytea, p_link text) RETURNS text
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO ''
    AS $$ SELECT finicom.invitation_create(p_org, p_email, p_role, p_token_hash, p_link, NULL::timestamptz) $$;

ALTER FUNCTION finicom.invitation_create(p_org uuid, p_email text, p_role finicom.role, p_token_hash bytea, p_link text) OWNER TO finicom_owner;

--
-- Name: invitation_create(uuid, text, finicom.role, bytea, text, timestamp with time zone); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.invitation_create(p_org uuid, p_email text, p_role finicom.role, p_token_hash bytea, p_link text, p_membership_expires_at timestamp with time zone) RETURNS text
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
    DECLARE
        v_inv finicom.invitations%ROWTYPE;
    BEGIN
        IF p_org IS DISTINCT FROM finicom.current_org_id() OR NOT finicom.has_role(p_org, 'admin') THEN
            RAISE EXCEPTION USING ERRCODE = 'F0403', MESSAGE = 'forbidden',
                DETAIL = 'only admins can invite';
        END IF;
        PERFORM finicom.future_time(p_membership_expires_at, 'membership_expires_at');
        IF EXISTS (SELECT 1 FROM finicom.memberships m JOIN finicom.users u ON u.id = m.user_id
                   WHERE m.org_id = p_org AND finicom.ascii_lower(u.email) = finicom.ascii_lower(p_email)) THEN
            RAISE EXCEPTION USING ERRCODE = 'F0409', MESSAGE = 'already_member',
                DETAIL = 'this person is already a member of the organization';
        END IF;
        -- A pending invitation past its expiry no longer counts as pending.
        UPDATE finicom.invitations i SET status = 'expired'
        WHERE i.org_id = p_org AND finicom.ascii_lower(i.email) = finicom.ascii_lower(p_email)
          AND i.status = 'pending' AND i.expires_at <= pg_catalog.now();
        BEGIN
            INSERT INTO finicom.invitations (org_id, email, role, token_hash, invited_by, expires_at,
                                             membership_expires_at)
            SELECT p_org, p_email, p_role, p_token_hash, finicom.current_user_id(),
                   LEAST(pg_catalog.now() + pg_catalog.make_interval(hours => o.invite_ttl_hours),
                         p_membership_expires_at),
                   p_membership_expires_at
            FROM finicom.orgs o WHERE o.id = p_org
            RETURNING * INTO v_inv;
        EXCEPTION WHEN unique_violation THEN
            RAISE EXCEPTION USING ERRCODE = 'F0409', MESSAGE = 'invitation_pending',
                DETAIL = 'a pending invitation for this email exists; resend it instead';
        END;
        PERFORM finicom.invitation_enqueue_mail(v_inv, p_link);
        RETURN finicom.invitation_json(v_inv);
    END
    $$;

ALTER FUNCTION finicom.invitation_create(p_org uuid, p_email text, p_role finicom.role, p_token_hash bytea, p_link text, p_membership_expires_at timestamp with time zone) OWNER TO finicom_owner;

--
-- Name: invitation_create_batch(uuid, json); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.invitation_create_batch(p_org uuid, p_items json) RETURNS text
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
    DECLARE
        v_item json;
        v_out json[] := '{}';
        v_inv text;
        v_code text;
        v_message text;
        v_field text;
    BEGIN
        IF p_org IS DISTINCT FROM finicom.current_org_id() OR NOT finicom.has_role(p_org, 'admin') THEN
            RAISE EXCEPTION USING ERRCODE = 'F0403', MESSAGE = 'forbidden',
                DETAIL = 'only admins can invite';
        END IF;
        FOR v_item IN SELECT e FROM pg_catalog.json_array_elements(p_items) WITH ORDINALITY AS t(e, n) ORDER BY n
        LOOP
            IF v_item -> 'error' IS NOT NULL THEN
                v_out := v_out || v_item;
                CONTINUE;
            END IF;
            BEGIN
                v_inv := finicom.invitation_create(p_org, v_item ->> 'email', (v_item ->> 'role')::finicom.role,
                    pg_catalog.decode(pg_catalog.substr(v_item ->> 'token_hash', 3), 'hex'), v_item ->> 'link',
                    (v_item ->> 'membership_expires_at')::timestamptz);
                v_out := v_out || pg_catalog.json_build_object('email', v_item ->> 'email',
                    'invitation', v_inv::json);
            EXCEPTION WHEN SQLSTATE 'F0409' OR SQLSTATE 'F0429' OR SQLSTATE 'F0400' THEN
                GET STACKED DIAGNOSTICS v_code = MESSAGE_TEXT, v_message = PG_EXCEPTION_DETAIL,
                                        v_field = PG_EXCEPTION_HINT;
                v_out := v_out || pg_catalog.json_build_object('email', v_item ->> 'email',
                    'error', pg_catalog.json_strip_nulls(pg_catalog.json_build_object('code', v_code,
                        'message', v_message,
                        'field', CASE WHEN v_code = 'validation_failed' THEN nullif(v_field, '') END,
                        'retry_after', CASE WHEN v_code = 'rate_limited' THEN nullif(v_field, '')::integer END)));
            END;
        END LOOP;
        RETURN pg_catalog.array_to_json(v_out)::text;
    END
    $$;

ALTER FUNCTION finicom.invitation_create_batch(p_org uuid, p_items json) OWNER TO finicom_owner;

--
-- Name: invitation_enqueue_mail(finicom.invitations, text); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.invitation_enqueue_mail(i finicom.invitations, p_link text) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
    DECLARE
        v_org text;
        v_inviter text;
    BEGIN
        PERFORM finicom.invitation_mail_check(i);
        SELECT o.name INTO v_org FROM finicom.orgs o WHERE o.id = i.org_id;
        SELECT u.name INTO v_inviter FROM finicom.users u WHERE u.id = i.invited_by;
        -- Mail not yet sent for an older link of this invitation is useless now.
        UPDATE finicom.mail_outbox m
        SET status = 'canceled', body = pg_catalog.replace(m.body, m.link, '(link replaced)'), link = NULL
        WHERE m.org_id = i.org_id AND m.invitation_id = i.id AND m.status = 'queued';
        INSERT INTO finicom.mail_outbox (org_id, invitation_id, recipient, subject, body, link, message_id)
        VALUES (i.org_id, i.id, i.email,
            pg_catalog.format('%s invited you to %s on Finicom', coalesce(v_inviter, 'An admin'), v_org),
            pg_catalog.format(E'Hello,\n\n%s invited you to join the organization "%s" on Finicom\nwith the role: %s.\n\nTo accept, open this link:\n\n%s\n\nThe invitation expires at %s (UTC).\nIf you did not expect it, you can ignore this email.\n',
                coalesce(v_inviter, 'An admin'), v_org, i.role, p_link,
                pg_catalog.to_char(i.expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI')),
            p_link,
            '<' || gen_random_uuid() || '@finicom.invalid>');
        PERFORM pg_catalog.pg_notify('finicom_mail', '');
    END
    $$;

ALTER FUNCTION finicom.invitation_enqueue_mail(i finicom.invitations, p_link text) OWNER TO finicom_owner;

--
-- Name: invitation_join(bytea); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.invitation_join(p_token_hash bytea) RETURNS TABLE(outcome text, status text, org_id uuid, org_name text, role text, user_json text)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
    DECLARE
        v_user uuid := finicom.request_user_id();
        v_inv finicom.invitations%ROWTYPE;
    BEGIN
        IF v_user IS NULL THEN
            RAISE EXCEPTION USING ERRCODE = 'F0403', MESSAGE = 'forbidden',
                DETAIL = 'only a signed-in user can join with an invitation';
        END IF;
        SELECT * INTO v_inv FROM finicom.invitations i WHERE i.token_hash = p_token_hash FOR UPDATE;
        IF NOT FOUND THEN
            RETURN QUERY SELECT 'not_found'::text, NULL::text, NULL::uuid, NULL::text, NULL::text, NULL::text;
            RETURN;
        END IF;
        IF v_inv.status <> 'pending' OR v_inv.expires_at <= pg_catalog.now() THEN
            RETURN QUERY SELECT 'gone'::text, CASE WHEN v_inv.status = 'pending' THEN 'expired'
                                                  ELSE v_inv.status::text END,
                                NULL::uuid, NULL::text, NULL::text, NULL::text;
            RETURN;
        END IF;
        IF (SELECT finicom.ascii_lower(u.email) FROM finicom.users u WHERE u.id = v_user)
           IS DISTINCT FROM finicom.ascii_lower(v_inv.email) THEN
            RETURN QUERY SELECT 'email_mismatch'::text, NULL::text, NULL::uuid, NULL::text, NULL::text, NULL::text;
            RETURN;
        END IF;
        IF EXISTS (SELECT 1 FROM finicom.memberships m WHERE m.org_id = v_inv.org_id AND m.user_id = v_user) THEN
            RETURN QUERY SELECT 'already_member'::text, NULL::text, NULL::uuid, NULL::text, NULL::text, NULL::text;
            RETURN;
        END IF;
        RETURN QUERY SELECT * FROM finicom.invitation_admit(v_inv, v_user,
            nullif(pg_catalog.current_setting('finicom.request_id', true), ''),
            nullif(pg_catalog.current_setting('finicom.client_ip', true), ''));
    END
    $$;

ALTER FUNCTION finicom.invitation_join(p_token_hash bytea) OWNER TO finicom_owner;

--
-- Name: invitation_json(finicom.invitations); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.invitation_json(i finicom.invitations) RETURNS json
    LANGUAGE sql STABLE
    AS $$ SELECT v.item FROM finicom.invitation_items v WHERE v.org_id = i.org_id AND v.id = i.id $$;

ALTER FUNCTION finicom.invitation_json(i finicom.invitations) OWNER TO finicom_owner;

--
-- Name: invitation_mail_check(finicom.invitations); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.invitation_mail_check(i finicom.invitations) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
    DECLARE
        v_recipient text := finicom.ascii_lower(i.email);
        v_count bigint;
        v_oldest timestamptz;
        v_first timestamptz;
    BEGIN
        PERFORM pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended('finicom-invite-org:' || i.org_id, 0)),
                pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended('finicom-invite-to:' || v_recipient, 0));

        SELECT pg_catalog.count(*), pg_catalog.min(m.created_at) INTO v_count, v_oldest
        FROM finicom.mail_outbox m
        WHERE m.org_id = i.org_id AND m.invitation_id IS NOT NULL
          AND m.created_at > pg_catalog.now() - interval '1 hour';
        IF v_count >= 200 THEN
            RAISE EXCEPTION USING ERRCODE = 'F0429', MESSAGE = 'rate_limited',
                DETAIL = 'this organization has sent 200 invitation emails in the last hour; try again later',
                HINT = finicom.retry_seconds(v_oldest + interval '1 hour');
        END IF;

        -- Resends: the invitation's mails of the last day, less its first one.
        SELECT pg_catalog.min(m.created_at) INTO v_first
        FROM finicom.mail_outbox m WHERE m.org_id = i.org_id AND m.invitation_id = i.id;
        IF v_first IS NOT NULL THEN
            SELECT pg_catalog.count(*), pg_catalog.min(m.created_at) INTO v_count, v_oldest
            FROM finicom.mail_outbox m
            WHERE m.org_id = i.org_id AND m.invitation_id = i.id
              AND m.created_at > pg_catalog.now() - interval '1 day' AND m.created_at > v_first;
            IF v_count >= 5 THEN
                RAISE EXCEPTION USING ERRCODE = 'F0429', MESSAGE = 'rate_limited',
                    DETAIL = 'this invitation has been resent 5 times in the last day; try again later',
                    HINT = finicom.retry_seconds(v_oldest + interval '1 day');
            END IF;
        END IF;

        SELECT pg_catalog.count(*), pg_catalog.min(m.created_at) INTO v_count, v_oldest
        FROM finicom.mail_outbox m
        WHERE finicom.ascii_lower(m.recipient) = v_recipient AND m.invitation_id IS NOT NULL
          AND m.created_at > pg_catalog.now() - interval '1 day';
        IF v_count >= 10 THEN
            RAISE EXCEPTION USING ERRCODE = 'F0429', MESSAGE = 'rate_limited',
                DETAIL = 'this address has received 10 invitation emails in the last day; try again later',
                HINT = finicom.retry_seconds(v_oldest + interval '1 day');
        END IF;
    END
    $$;

ALTER FUNCTION finicom.invitation_mail_check(i finicom.invitations) OWNER TO finicom_owner;

--
-- Name: invitation_preview(bytea); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.invitation_preview(p_token_hash bytea) RETURNS TABLE(status text, body text)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
        SELECT s.status,
               pg_catalog.json_build_object('org', pg_catalog.json_build_object('name', o.name),
                   'email', i.email, 'role', i.role,
                   'invited_by', pg_catalog.json_build_object('name', u.name),
                   'expires_at', finicom.ts(i.expires_at), 'status', s.status)::text
        FROM finicom.invitations i
        JOIN finicom.orgs o ON o.id = i.org_id
        LEFT JOIN finicom.users u ON u.id = i.invited_by
        CROSS JOIN LATERAL (SELECT CASE WHEN i.status = 'pending' AND i.expires_at <= pg_catalog.now()
                                        THEN 'expired' ELSE i.status::text END AS status) s
        WHERE i.token_hash = p_token_hash
    $$;

ALTER FUNCTION finicom.invitation_preview(p_token_hash bytea) OWNER TO finicom_owner;

--
-- Name: invitation_resend(uuid, uuid, bytea, text); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.invitation_resend(p_org uuid, p_id uuid, p_token_hash bytea, p_link text) RETURNS text
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
    DECLARE
        v_inv finicom.invitations%ROWTYPE;
    BEGIN
        IF p_org IS DISTINCT FROM finicom.current_org_id() OR NOT finicom.has_role(p_org, 'admin') THEN
            RAISE EXCEPTION USING ERRCODE = 'F0403', MESSAGE = 'forbidden', DETAIL = 'only admins can resend';
        END IF;
        SELECT * INTO v_inv FROM finicom.invitations i WHERE i.org_id = p_org AND i.id = p_id FOR UPDATE;
        IF NOT FOUND THEN
            RAISE EXCEPTION USING ERRCODE = 'F0404', MESSAGE = 'not_found', DETAIL = 'no such invitation';
        END IF;
        -- An expired invitation (by the job or just by its time) is revived:
        -- resending is how an admin gives someone a second chance.
        IF v_inv.status NOT IN ('pending', 'expired') THEN
            RAISE EXCEPTION USING ERRCODE = 'F0409', MESSAGE = 'not_pending',
                DETAIL = 'an accepted or canceled invitation cannot be resent; invite again';
        END IF;
        IF v_inv.membership_expires_at <= pg_catalog.now() THEN -- 0030
            RAISE EXCEPTION USING ERRCODE = 'F0409', MESSAGE = 'conflict',
                DETAIL = 'the membership this invitation offers has already ended (membership_expires_at); '
                         'invite again with a later end or none';
        END IF;
        BEGIN
        UPDATE finicom.invitations i
        SET token_hash = p_token_hash, status = 'pending',
            expires_at = LEAST(pg_catalog.now() + pg_catalog.make_interval(hours => o.invite_ttl_hours),
                               i.membership_expires_at) -- 0030: LEAST ignores a NULL
        FROM finicom.orgs o
        WHERE o.id = i.org_id AND i.org_id = p_org AND i.id = p_id
        RETURNING i.* INTO v_inv;
        EXCEPTION WHEN unique_violation THEN
            RAISE EXCEPTION USING ERRCODE = 'F0409', MESSAGE = 'invitation_pending',
                DETAIL = 'another pending invitation for this email exists';
        END;
        PERFORM finicom.invitation_enqueue_mail(v_inv, p_link);
        RETURN finicom.invitation_json(v_inv);
    END
    $$;

ALTER FUNCTION finicom.invitation_resend(p_org uuid, p_id uuid, p_token_hash bytea, p_link text) OWNER TO finicom_owner;

--
-- Name: invitations_cancel_for_inviter(uuid, uuid); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.invitations_cancel_for_inviter(p_org uuid, p_user uuid) RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
    DECLARE
        v_type text := nullif(pg_catalog.current_setting('finicom.actor_type', true), '');
        v_actor uuid := nullif(pg_catalog.current_setting('finicom.actor_id', true), '')::uuid;
        v_org uuid := nullif(pg_catalog.current_setting('finicom.org_id', true), '')::uuid;
        v_role finicom.role := nullif(pg_catalog.current_setting('finicom.org_role', true), '')::finicom.role;
        v_request text := nullif(pg_catalog.current_setting('finicom.request_id', true), '');
        v_ip text := nullif(pg_catalog.current_setting('finicom.client_ip', true), '');
        v_inv record;
        n integer := 0;
    BEGIN
        -- Nothing to do, or the org itself is being deleted (its invitations go with it).
        IF NOT EXISTS (SELECT 1 FROM finicom.orgs o WHERE o.id = p_org)
           OR NOT EXISTS (SELECT 1 FROM finicom.invitations i
                          WHERE i.org_id = p_org AND i.invited_by = p_user AND i.status = 'pending'
                            AND i.expires_at > pg_catalog.now()) THEN
            RETURN 0;
        END IF;
        PERFORM finicom.context_seal('system', NULL, NULL, NULL, v_request, v_ip);
        FOR v_inv IN
            UPDATE finicom.invitations i
            SET status = 'canceled', canceled_at = pg_catalog.now(), canceled_by = NULL,
                cancel_reason = 'inviter_lost_admin'
            WHERE i.org_id = p_org AND i.invited_by = p_user AND i.status = 'pending'
              AND i.expires_at > pg_catalog.now()
            RETURNING i.id, i.email, i.role
        LOOP
            PERFORM audit.append(p_org, 'invitation.canceled', 'invitation', v_inv.id,
                pg_catalog.jsonb_build_object('email', v_inv.email, 'role', v_inv.role,
                    'old_status', 'pending', 'reason', 'inviter_lost_admin'));
            UPDATE finicom.mail_outbox m
            SET status = 'canceled', body = pg_catalog.replace(m.body, m.link, '(link removed)'), link = NULL
            WHERE m.org_id = p_org AND m.invitation_id = v_inv.id AND m.status = 'queued';
            n := n + 1;
        END LOOP;
        PERFORM finicom.context_seal(v_type, v_actor, v_org, v_role, v_request, v_ip);
        RETURN n;
    END
    $$;

ALTER FUNCTION finicom.invitations_cancel_for_inviter(p_org uuid, p_user uuid) OWNER TO finicom_owner;

--
-- Name: invitations_follow_deleted_inviter(); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.invitations_follow_deleted_inviter() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
    BEGIN
        PERFORM finicom.invitations_cancel_for_inviter(m.org_id, OLD.id)
        FROM finicom.memberships m WHERE m.user_id = OLD.id AND m.role = 'admin';
        RETURN OLD;
    END
    $$;

ALTER FUNCTION finicom.invitations_follow_deleted_inviter() OWNER TO finicom_owner;

--
-- Name: invitations_follow_inviter(); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.invitations_follow_inviter() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
    BEGIN
        IF OLD.role = 'admin' AND (TG_OP = 'DELETE' OR NEW.role <> 'admin') THEN
            PERFORM finicom.invitations_cancel_for_inviter(OLD.org_id, OLD.user_id);
        END IF;
        RETURN NULL;
    END
    $$;

ALTER FUNCTION finicom.invitations_follow_inviter() OWNER TO finicom_owner;

--
-- Name: login_lock_seconds(integer); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.login_lock_seconds(p_failures integer) RETURNS integer
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path TO ''
    AS $$
        SELECT CASE WHEN p_failures < 5 THEN 0
                    ELSE LEAST(300, (2 ^ LEAST(p_failures - 5, 9))::integer) END
    $$;

ALTER FUNCTION finicom.login_lock_seconds(p_failures integer) OWNER TO finicom_owner;

--
-- Name: mail_claim(); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.mail_claim() RETURNS TABLE(id uuid, recipient text, subject text, body text, message_id text, attempts integer)
    LANGUAGE sql
    SET search_path TO ''
    AS $$
        SELECT m.id, m.recipient, m.subject, m.body, m.message_id, m.attempts
        FROM finicom.mail_outbox m
        WHERE m.status = 'queued' AND m.next_attempt_at <= pg_catalog.now()
        ORDER BY m.next_attempt_at, m.id
        LIMIT 1
        FOR UPDATE SKIP LOCKED
    $$;

ALTER FUNCTION finicom.mail_claim() OWNER TO finicom_owner;

--
-- Name: mail_failed(uuid, text, integer, integer, integer); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.mail_failed(p_id uuid, p_error text, p_base_seconds integer, p_cap_seconds integer, p_max_attempts integer) RETURNS text
    LANGUAGE sql
    SET search_path TO ''
    AS $$
        UPDATE finicom.mail_outbox m
        SET attempts = m.attempts + 1,
            last_error = pg_catalog.left(p_error, 500),
            status = CASE WHEN m.attempts + 1 >= p_max_attempts THEN 'failed' ELSE 'queued' END,
            next_attempt_at = pg_catalog.now() + pg_catalog.make_interval(secs =>
                LEAST(p_cap_seconds::float8, p_base_seconds * pg_catalog.power(2::float8, LEAST(m.attempts, 30)))),
            body = CASE WHEN m.attempts + 1 >= p_max_attempts AND m.link IS NOT NULL
                        THEN pg_catalog.replace(m.body, m.link, '(link removed)') ELSE m.body END,
            link = CASE WHEN m.attempts + 1 >= p_max_attempts THEN NULL ELSE m.link END
        WHERE m.id = p_id
        RETURNING m.status
    $$;

ALTER FUNCTION finicom.mail_failed(p_id uuid, p_error text, p_base_seconds integer, p_cap_seconds integer, p_max_attempts integer) OWNER TO finicom_owner;

--
-- Name: mail_next_due(); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.mail_next_due() RETURNS double precision
    LANGUAGE sql STABLE
    SET search_path TO ''
    AS $$
        SELECT GREATEST(0, EXTRACT(epoch FROM min(m.next_attempt_at) - pg_catalog.now()))::float8
        FROM finicom.mail_outbox m WHERE m.status = 'queued'
    $$;

ALTER FUNCTION finicom.mail_next_due() OWNER TO finicom_owner;

--
-- Name: mail_sent(uuid); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.mail_sent(p_id uuid) RETURNS void
    LANGUAGE sql
    SET search_path TO ''
    AS $$
        UPDATE finicom.mail_outbox m
        SET status = 'sent', sent_at = pg_catalog.now(), attempts = m.attempts + 1, last_error = NULL,
            body = CASE WHEN m.link IS NULL THEN m.body
                        ELSE pg_catalog.replace(m.body, m.link, '(link removed after sending)') END,
            link = NULL
        WHERE m.id = p_id
    $$;

ALTER FUNCTION finicom.mail_sent(p_id uuid) OWNER TO finicom_owner;

--
-- Name: me_update(text); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.me_update(p_name text) RETURNS json
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO ''
    AS $$
        UPDATE finicom.users u SET name = p_name WHERE u.id = finicom.request_user_id()
        RETURNING finicom.user_json(u)
    $$;

ALTER FUNCTION finicom.me_update(p_name text) OWNER TO finicom_owner;

--
-- Name: member_item(uuid, text, text, finicom.role, timestamp with time zone, timestamp with time zone); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.member_item(p_user_id uuid, p_email text, p_name text, p_role finicom.role, p_joined_at timestamp with time zone, p_last_active_at timestamp with time zone) RETURNS json
    LANGUAGE sql STABLE
    AS $$
        SELECT pg_catalog.json_build_object(
            'user', pg_catalog.json_build_object('id', p_user_id, 'email', p_email, 'name', p_name),
            'role', p_role, 'joined_at', finicom.ts(p_joined_at),
            'last_active_at', finicom.ts(p_last_active_at))
    $$;

ALTER FUNCTION finicom.member_item(p_user_id uuid, p_email text, p_name text, p_role finicom.role, p_joined_at timestamp with time zone, p_last_active_at timestamp with time zone) OWNER TO finicom_owner;

--
-- Name: member_item(uuid, text, text, finicom.role, timestamp with time zone, timestamp with time zone, timestamp with time zone); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.member_item(p_user_id uuid, p_email text, p_name text, p_role finicom.role, p_joined_at timestamp with time zone, p_last_active_at timestamp with time zone, p_expires_at timestamp with time zone) RETURNS json
    LANGUAGE sql STABLE
    AS $$
        SELECT pg_catalog.json_build_object(
            'user', pg_catalog.json_build_object('id', p_user_id, 'email', p_email, 'name', p_name),
            'role', p_role, 'joined_at', finicom.ts(p_joined_at),
            'last_active_at', finicom.ts(p_last_active_at), 'expires_at', finicom.ts(p_expires_at))
    $$;

ALTER FUNCTION finicom.member_item(p_user_id uuid, p_email text, p_name text, p_role finicom.role, p_joined_at timestamp with time zone, p_last_active_at timestamp with time zone, p_expires_at timestamp with time zone) OWNER TO finicom_owner;

--
-- Name: memberships; Type: TABLE; Schema: finicom; Owner: finicom_owner
--

CREATE TABLE finicom.memberships (
    org_id uuid NOT NULL,
    user_id uuid NOT NULL,
    role finicom.role NOT NULL,
    joined_at timestamp with time zone DEFAULT now() NOT NULL,
    expires_at timestamp with time zone
);

ALTER TABLE ONLY finicom.memberships FORCE ROW LEVEL SECURITY;

ALTER TABLE finicom.memberships OWNER TO finicom_owner;

--
-- Name: member_json(finicom.memberships, text, text, timestamp with time zone); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.member_json(m finicom.memberships, p_email text, p_name text, p_last_active_at timestamp with time zone) RETURNS json
    LANGUAGE sql STABLE
    AS $$ SELECT finicom.member_item(m.user_id, p_email, p_name, m.role, m.joined_at, p_last_active_at,
                                     m.expires_at) $$;

ALTER FUNCTION finicom.member_json(m finicom.memberships, p_email text, p_name text, p_last_active_at timestamp with time zone) OWNER TO finicom_owner;

--
-- Name: member_search(integer, timestamp with time zone, uuid, text, finicom.role, integer); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.member_search(p_limit integer, p_after_t timestamp with time zone, p_after_id uuid, p_like text, p_role finicom.role, p_inactive_days integer) RETURNS TABLE(user_id uuid, email text, name text, role finicom.role, joined_at timestamp with time zone, last_active_at timestamp with time zone, expires_at timestamp with time zone)
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $_$
    DECLARE
        v_org uuid := finicom.request_org_id();
    BEGIN
        IF v_org IS NULL THEN
            RETURN;
        END IF;
        RETURN QUERY EXECUTE
            'SELECT m.user_id, u.email, u.name, m.role, m.joined_at, a.last_active_at, m.expires_at'
            ' FROM finicom.memberships m JOIN finicom.users u ON u.id = m.user_id'
            ' LEFT JOIN finicom.member_activity a ON a.org_id = m.org_id AND a.user_id = m.user_id'
            ' WHERE m.org_id = $1 AND (m.expires_at IS NULL OR m.expires_at > pg_catalog.now())'
            || CASE WHEN p_after_t IS NOT NULL THEN ' AND (m.joined_at, m.user_id) > ($2, $3)' ELSE '' END
            || CASE WHEN p_like IS NOT NULL
                    THEN ' AND u.search_text LIKE $4' ELSE '' END
            || CASE WHEN p_role IS NOT NULL THEN ' AND m.role = $5' ELSE '' END
            || CASE WHEN p_inactive_days IS NOT NULL
                    THEN ' AND (a.last_active_at IS NULL OR a.last_active_at < pg_catalog.now()'
                         ' - pg_catalog.make_interval(days => $6))' ELSE '' END
            -- With a role, the same order spelled as the role index's: the
            -- planner cannot see how rare a role is (row-level security
            -- hides the statistics from a non-leakproof enum_eq), and so
            -- would scan the org's rows filtering them instead.
            || CASE WHEN p_role IS NOT NULL THEN ' ORDER BY m.role, m.joined_at, m.user_id LIMIT $7'
                    ELSE ' ORDER BY m.joined_at, m.user_id LIMIT $7' END
            USING v_org, p_after_t, p_after_id, p_like, p_role, p_inactive_days, p_limit;
    END
    $_$;

ALTER FUNCTION finicom.member_search(p_limit integer, p_after_t timestamp with time zone, p_after_id uuid, p_like text, p_role finicom.role, p_inactive_days integer) OWNER TO finicom_owner;

--
-- Name: memberships_keep_an_admin(); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.memberships_keep_an_admin() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
    BEGIN
        IF OLD.role <> 'admin' OR OLD.expires_at IS NOT NULL
           OR (TG_OP = 'UPDATE' AND NEW.role = 'admin' AND NEW.expires_at IS NULL) THEN
            RETURN NULL;
        END IF;
        PERFORM 1 FROM finicom.orgs o WHERE o.id = OLD.org_id FOR UPDATE;
        IF NOT FOUND THEN
            RETURN NULL;
        END IF;
        IF NOT EXISTS (SELECT 1 FROM finicom.memberships m
                       WHERE m.org_id = OLD.org_id AND m.role = 'admin' AND m.expires_at IS NULL) THEN
            RAISE EXCEPTION USING ERRCODE = 'F0409', MESSAGE = 'last_admin',
                DETAIL = 'an organization must keep at least one admin without an expiry';
        END IF;
        RETURN NULL;
    END
    $$;

ALTER FUNCTION finicom.memberships_keep_an_admin() OWNER TO finicom_owner;

--
-- Name: my_sessions(bytea, integer, integer, timestamp with time zone, uuid); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.my_sessions(p_current_hash bytea, p_idle_seconds integer, p_limit integer, p_after_t timestamp with time zone, p_after_id uuid) RETURNS TABLE(item json, kt timestamp with time zone, ki uuid)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
        SELECT pg_catalog.json_build_object('id', s.id, 'created_at', finicom.ts(s.created_at),
                   'last_seen_at', finicom.ts(s.last_seen_at), 'ip', s.ip, 'user_agent', s.user_agent,
                   'current', s.token_hash = p_current_hash),
               s.created_at, s.id
        FROM finicom.sessions s
        WHERE s.user_id = finicom.request_user_id()
          AND s.expires_at > pg_catalog.now()
          AND s.last_seen_at > pg_catalog.now() - pg_catalog.make_interval(secs => p_idle_seconds)
          AND (p_after_t IS NULL OR (s.created_at, s.id) < (p_after_t, p_after_id))
        ORDER BY s.created_at DESC, s.id DESC
        LIMIT p_limit + 1
    $$;

ALTER FUNCTION finicom.my_sessions(p_current_hash bytea, p_idle_seconds integer, p_limit integer, p_after_t timestamp with time zone, p_after_id uuid) OWNER TO finicom_owner;

--
-- Name: object_delete(text, uuid, uuid); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.object_delete(p_kind text, p_org uuid, p_id uuid) RETURNS boolean
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $_$
    DECLARE
        v_table text := CASE p_kind WHEN 'source' THEN 'sources' WHEN 'integration' THEN 'integrations'
                                    WHEN 'destination' THEN 'destinations' WHEN 'connection' THEN 'connections'
                        END;
        v_rows bigint;
    BEGIN
        IF v_table IS NULL THEN
            RAISE EXCEPTION 'unknown kind of object "%"', p_kind;
        END IF;
        EXECUTE pg_catalog.format('DELETE FROM finicom.%I WHERE org_id = $1 AND id = $2', v_table)
            USING p_org, p_id;
        GET DIAGNOSTICS v_rows = ROW_COUNT;
        RETURN v_rows > 0;
    EXCEPTION WHEN foreign_key_violation THEN
        RAISE EXCEPTION USING ERRCODE = 'F0409', MESSAGE = 'in_use',
            DETAIL = pg_catalog.format('this %s is used by a connection; change or delete the connection first',
                                       p_kind);
    END
    $_$;

ALTER FUNCTION finicom.object_delete(p_kind text, p_org uuid, p_id uuid) OWNER TO finicom_owner;

--
-- Name: org_create(text); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.org_create(p_name text) RETURNS SETOF finicom.orgs
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
    DECLARE
        v_user uuid := finicom.request_user_id();
        v_org finicom.orgs%ROWTYPE;
    BEGIN
        IF v_user IS NULL THEN
            RAISE EXCEPTION USING ERRCODE = 'F0403', MESSAGE = 'forbidden',
                DETAIL = 'only a signed-in user can create an organization';
        END IF;
        INSERT INTO finicom.orgs (name) VALUES (p_name) RETURNING * INTO v_org;
        INSERT INTO finicom.memberships (org_id, user_id, role) VALUES (v_org.id, v_user, 'admin');
        PERFORM finicom.context_enter('user', v_user, v_org.id,
            nullif(pg_catalog.current_setting('finicom.request_id', true), ''),
            nullif(pg_catalog.current_setting('finicom.client_ip', true), ''));
        RETURN NEXT v_org;
    END
    $$;

ALTER FUNCTION finicom.org_create(p_name text) OWNER TO finicom_owner;

--
-- Name: org_created_now(uuid); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.org_created_now(p_org uuid) RETURNS boolean
    LANGUAGE sql STABLE
    AS $$ SELECT coalesce((SELECT o.created_at = pg_catalog.now() FROM finicom.orgs o WHERE o.id = p_org), true) $$;

ALTER FUNCTION finicom.org_created_now(p_org uuid) OWNER TO finicom_owner;

--
-- Name: org_json(finicom.orgs, text); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.org_json(o finicom.orgs, p_role text) RETURNS json
    LANGUAGE sql STABLE
    AS $$
        SELECT pg_catalog.json_build_object('id', o.id, 'name', o.name,
            'created_at', finicom.ts(o.created_at), 'role', p_role,
            'invite_ttl_hours', o.invite_ttl_hours,
            'require_2fa', o.require_2fa, -- 0023
            'access_review_interval_days', o.access_review_interval_days)
    $$;

ALTER FUNCTION finicom.org_json(o finicom.orgs, p_role text) OWNER TO finicom_owner;

--
-- Name: orgs_require_2fa_check(); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.orgs_require_2fa_check() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
    BEGIN
        IF NEW.require_2fa AND NOT OLD.require_2fa AND finicom.request_actor_type() = 'user'
           AND NOT EXISTS (SELECT 1 FROM finicom.totp_credentials t
                           WHERE t.user_id = finicom.request_user_id() AND t.confirmed_at IS NOT NULL) THEN
            RAISE EXCEPTION USING ERRCODE = 'F0409', MESSAGE = 'two_factor_required',
                DETAIL = 'turn on two-factor authentication for your own account before requiring it of the organization';
        END IF;
        RETURN NEW;
    END
    $$;

ALTER FUNCTION finicom.orgs_require_2fa_check() OWNER TO finicom_owner;

--
-- Name: password_reset_preview(bytea); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.password_reset_preview(p_token_hash bytea) RETURNS TABLE(outcome text, status text, email text, name text, expires_at text)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
        SELECT CASE WHEN r.id IS NULL OR r.user_id IS NULL THEN 'not_found'
                    WHEN r.used_at IS NOT NULL OR r.replaced_at IS NOT NULL
                         OR r.expires_at <= pg_catalog.now() THEN 'gone'
                    ELSE 'ok' END,
               CASE WHEN r.used_at IS NOT NULL THEN 'used' WHEN r.replaced_at IS NOT NULL THEN 'replaced'
                    WHEN r.expires_at <= pg_catalog.now() THEN 'expired' END,
               u.email, u.name, finicom.ts(r.expires_at)
        FROM (SELECT 1) one
        LEFT JOIN finicom.password_resets r ON r.token_hash = p_token_hash
        LEFT JOIN finicom.users u ON u.id = r.user_id
    $$;

ALTER FUNCTION finicom.password_reset_preview(p_token_hash bytea) OWNER TO finicom_owner;

--
-- Name: person_json(uuid, text, text); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.person_json(p_id uuid, p_email text, p_name text) RETURNS json
    LANGUAGE sql IMMUTABLE
    AS $$
        SELECT CASE WHEN p_id IS NOT NULL THEN
            pg_catalog.json_build_object('id', p_id, 'email', p_email, 'name', p_name) END
    $$;

ALTER FUNCTION finicom.person_json(p_id uuid, p_email text, p_name text) OWNER TO finicom_owner;

--
-- Name: purge_sessions(); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.purge_sessions() RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
    DECLARE
        n integer;
    BEGIN
        DELETE FROM finicom.sessions s WHERE s.expires_at <= pg_catalog.now();
        GET DIAGNOSTICS n = ROW_COUNT;
        DELETE FROM finicom.login_failures f
        WHERE f.last_failed_at <= pg_catalog.now() - interval '15 minutes'
          AND (f.locked_until IS NULL OR f.locked_until <= pg_catalog.now());
        DELETE FROM finicom.mail_outbox m USING finicom.password_resets r
        WHERE m.id = r.mail_id AND r.user_id IS NULL AND r.created_at <= pg_catalog.now() - interval '1 day';
        DELETE FROM finicom.password_resets r WHERE r.created_at <= pg_catalog.now() - interval '1 day';
        RETURN n;
    END
    $$;

ALTER FUNCTION finicom.purge_sessions() OWNER TO finicom_owner;

--
-- Name: request_actor_id(); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.request_actor_id() RETURNS uuid
    LANGUAGE sql STABLE
    AS $$ SELECT CASE WHEN finicom.context_ok()
                      THEN nullif(pg_catalog.current_setting('finicom.actor_id', true), '')::uuid END $$;

ALTER FUNCTION finicom.request_actor_id() OWNER TO finicom_owner;

--
-- Name: request_actor_type(); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.request_actor_type() RETURNS text
    LANGUAGE sql STABLE
    AS $$ SELECT CASE WHEN finicom.context_ok()
                      THEN nullif(pg_catalog.current_setting('finicom.actor_type', true), '') END $$;

ALTER FUNCTION finicom.request_actor_type() OWNER TO finicom_owner;

--
-- Name: request_org_for(finicom.role); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.request_org_for(p_min finicom.role) RETURNS uuid
    LANGUAGE sql STABLE
    AS $$ SELECT CASE WHEN finicom.context_ok()
                       AND nullif(pg_catalog.current_setting('finicom.org_role', true), '')::finicom.role >= p_min
                      THEN nullif(pg_catalog.current_setting('finicom.org_id', true), '')::uuid END $$;

ALTER FUNCTION finicom.request_org_for(p_min finicom.role) OWNER TO finicom_owner;

--
-- Name: request_org_id(); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.request_org_id() RETURNS uuid
    LANGUAGE sql STABLE
    AS $$ SELECT CASE WHEN finicom.context_ok()
                      THEN nullif(pg_catalog.current_setting('finicom.org_id', true), '')::uuid END $$;

ALTER FUNCTION finicom.request_org_id() OWNER TO finicom_owner;

--
-- Name: request_role(); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.request_role() RETURNS finicom.role
    LANGUAGE sql STABLE
    AS $$ SELECT CASE WHEN finicom.context_ok()
                      THEN nullif(pg_catalog.current_setting('finicom.org_role', true), '')::finicom.role END $$;

ALTER FUNCTION finicom.request_role() OWNER TO finicom_owner;

--
-- Name: request_user_id(); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.request_user_id() RETURNS uuid
    LANGUAGE sql STABLE
    AS $$ SELECT CASE WHEN finicom.context_ok()
                       AND pg_catalog.current_setting('finicom.actor_type', true) = 'user'
                      THEN nullif(pg_catalog.current_setting('finicom.actor_id', true), '')::uuid END $$;

ALTER FUNCTION finicom.request_user_id() OWNER TO finicom_owner;

--
-- Name: require_email_verified(boolean); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.require_email_verified(p_required boolean) RETURNS void
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
    BEGIN
        IF p_required AND finicom.request_actor_type() = 'user' AND NOT EXISTS (
            SELECT 1 FROM finicom.users u
            WHERE u.id = finicom.request_user_id() AND u.email_verified_at IS NOT NULL) THEN
            RAISE EXCEPTION USING ERRCODE = 'F0403', MESSAGE = 'email_unverified',
                DETAIL = 'verify your email address first: open the link in the mail we sent you';
        END IF;
    END
    $$;

ALTER FUNCTION finicom.require_email_verified(p_required boolean) OWNER TO finicom_owner;

--
-- Name: retry_seconds(timestamp with time zone); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.retry_seconds(p timestamp with time zone) RETURNS text
    LANGUAGE sql STABLE
    AS $$ SELECT GREATEST(1, pg_catalog.ceil(EXTRACT(epoch FROM p - pg_catalog.now())))::bigint::text $$;

ALTER FUNCTION finicom.retry_seconds(p timestamp with time zone) OWNER TO finicom_owner;

--
-- Name: schedule_ok(text); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.schedule_ok(p_schedule text) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path TO ''
    AS $_$
        SELECT CASE
            WHEN p_schedule = 'manual' THEN true
            WHEN p_schedule ~ '^every [1-9][0-9]{0,3} minutes$'
                THEN pg_catalog.split_part(p_schedule, ' ', 2)::integer BETWEEN 5 AND 1440
            ELSE false
        END
    $_$;

ALTER FUNCTION finicom.schedule_ok(p_schedule text) OWNER TO finicom_owner;

--
-- Name: schema_version(); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.schema_version() RETURNS integer
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
        SELECT pg_catalog.max(m.version)::integer FROM finicom.schema_migrations m
    $$;

ALTER FUNCTION finicom.schema_version() OWNER TO finicom_owner;

--
-- Name: session_create(uuid, bytea, integer); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.session_create(p_user_id uuid, p_token_hash bytea, p_max_age_seconds integer) RETURNS TABLE(id uuid, email text, name text, created_at timestamp with time zone)
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO ''
    AS $$
        INSERT INTO finicom.sessions (token_hash, user_id, expires_at)
        VALUES (p_token_hash, p_user_id,
                pg_catalog.now() + pg_catalog.make_interval(secs => p_max_age_seconds));
        SELECT u.id, u.email, u.name, u.created_at FROM finicom.users u WHERE u.id = p_user_id;
    $$;

ALTER FUNCTION finicom.session_create(p_user_id uuid, p_token_hash bytea, p_max_age_seconds integer) OWNER TO finicom_owner;

--
-- Name: session_describe(bytea, text, text); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.session_describe(p_token_hash bytea, p_ip text, p_user_agent text) RETURNS void
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO ''
    AS $$
        UPDATE finicom.sessions s
        SET ip = pg_catalog.left(p_ip, 100), user_agent = pg_catalog.left(p_user_agent, 256)
        WHERE s.token_hash = p_token_hash AND s.ip IS NULL AND s.user_agent IS NULL
    $$;

ALTER FUNCTION finicom.session_describe(p_token_hash bytea, p_ip text, p_user_agent text) OWNER TO finicom_owner;

--
-- Name: session_revoke(uuid, bytea); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.session_revoke(p_id uuid, p_current_hash bytea) RETURNS text
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
    DECLARE
        v_user uuid;
        v_hash bytea;
    BEGIN
        DELETE FROM finicom.sessions s WHERE s.id = p_id AND s.user_id = finicom.request_user_id()
        RETURNING s.user_id, s.token_hash INTO v_user, v_hash;
        IF v_user IS NULL THEN
            RETURN NULL;
        END IF;
        PERFORM audit.auth_event('session.revoked', v_user,
            (SELECT u.email FROM finicom.users u WHERE u.id = v_user),
            nullif(pg_catalog.current_setting('finicom.client_ip', true), ''),
            nullif(pg_catalog.current_setting('finicom.request_id', true), ''));
        RETURN CASE WHEN v_hash = p_current_hash THEN 'current' ELSE 'other' END;
    END
    $$;

ALTER FUNCTION finicom.session_revoke(p_id uuid, p_current_hash bytea) OWNER TO finicom_owner;

--
-- Name: session_user_json(bytea); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.session_user_json(p_session_hash bytea) RETURNS json
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO ''
    AS $$
        SELECT finicom.user_json(u)
        FROM finicom.sessions s JOIN finicom.users u ON u.id = s.user_id
        WHERE s.token_hash = p_session_hash AND s.expires_at > pg_catalog.now()
    $$;

ALTER FUNCTION finicom.session_user_json(p_session_hash bytea) OWNER TO finicom_owner;

--
-- Name: sessions_revoke_others(bytea); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.sessions_revoke_others(p_current_hash bytea) RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
    DECLARE
        v_user uuid := finicom.request_user_id();
        v_email text;
        v_n integer;
    BEGIN
        IF v_user IS NULL THEN
            RETURN 0;
        END IF;
        DELETE FROM finicom.sessions s WHERE s.user_id = v_user AND s.token_hash <> p_current_hash;
        GET DIAGNOSTICS v_n = ROW_COUNT;
        SELECT u.email INTO v_email FROM finicom.users u WHERE u.id = v_user;
        PERFORM audit.auth_event('session.revoked', v_user, v_email,
            nullif(pg_catalog.current_setting('finicom.client_ip', true), ''),
            nullif(pg_catalog.current_setting('finicom.request_id', true), ''))
        FROM pg_catalog.generate_series(1, v_n);
        RETURN v_n;
    END
    $$;

ALTER FUNCTION finicom.sessions_revoke_others(p_current_hash bytea) OWNER TO finicom_owner;

--
-- Name: sync_request(uuid, uuid); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.sync_request(p_org uuid, p_connection uuid) RETURNS text
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
    DECLARE
        v_run finicom.sync_runs%ROWTYPE;
    BEGIN
        PERFORM 1 FROM finicom.connections c WHERE c.org_id = p_org AND c.id = p_connection;
        IF NOT FOUND THEN
            RAISE EXCEPTION USING ERRCODE = 'F0404', MESSAGE = 'not_found', DETAIL = 'no such connection';
        END IF;
        IF NOT EXISTS (SELECT 1 FROM finicom.orgs o
                       WHERE o.id = p_org AND finicom.effective_plan(o) IN ('trial', 'pro')) THEN
            RAISE EXCEPTION USING ERRCODE = 'F0402', MESSAGE = 'plan_required',
                DETAIL = 'syncing needs a trial or a paid plan; this organization is on the free plan';
        END IF;
        INSERT INTO finicom.sync_runs (org_id, connection_id) VALUES (p_org, p_connection)
        RETURNING * INTO v_run;
        RETURN finicom.sync_run_json(v_run);
    END
    $$;

ALTER FUNCTION finicom.sync_request(p_org uuid, p_connection uuid) OWNER TO finicom_owner;

--
-- Name: sync_runs; Type: TABLE; Schema: finicom; Owner: finicom_owner
--

CREATE TABLE finicom.sync_runs (
    org_id uuid NOT NULL,
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    connection_id uuid NOT NULL,
    status text DEFAULT 'queued'::text NOT NULL,
    requested_by uuid DEFAULT finicom.current_actor_id(),
    requested_at timestamp with time zone DEFAULT now() NOT NULL,
    started_at timestamp with time zone,
    finished_at timestamp with time zone,
    CONSTRAINT sync_runs_status_check CHECK ((status = ANY (ARRAY['queued'::text, 'running'::text, 'succeeded'::text, 'failed'::text, 'canceled'::text])))
);

ALTER TABLE ONLY finicom.sync_runs FORCE ROW LEVEL SECURITY;

ALTER TABLE finicom.sync_runs OWNER TO finicom_owner;

--
-- Name: sync_run_json(finicom.sync_runs); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.sync_run_json(r finicom.sync_runs) RETURNS json
    LANGUAGE sql STABLE
    AS $$
        SELECT pg_catalog.json_build_object('id', r.id, 'connection_id', r.connection_id,
            'status', r.status, 'requested_by', r.requested_by,
            'requested_at', finicom.ts(r.requested_at), 'started_at', finicom.ts(r.started_at),
            'finished_at', finicom.ts(r.finished_at))
    $$;

ALTER FUNCTION finicom.sync_run_json(r finicom.sync_runs) OWNER TO finicom_owner;

--
-- Name: totp_accept(uuid, bigint, bytea, text, text); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.totp_accept(p_user uuid, p_step bigint, p_recovery bytea, p_ip text, p_request_id text) RETURNS boolean
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO ''
    AS $$
        SELECT CASE WHEN p_step IS NOT NULL THEN finicom.totp_accept_step(p_user, p_step)
                    ELSE finicom.totp_spend_recovery(p_user, p_recovery, p_ip, p_request_id) END
    $$;

ALTER FUNCTION finicom.totp_accept(p_user uuid, p_step bigint, p_recovery bytea, p_ip text, p_request_id text) OWNER TO finicom_owner;

--
-- Name: totp_accept_step(uuid, bigint); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.totp_accept_step(p_user uuid, p_step bigint) RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
    BEGIN
        UPDATE finicom.totp_credentials t SET last_step = p_step
        WHERE t.user_id = p_user AND (t.last_step IS NULL OR t.last_step < p_step);
        RETURN FOUND;
    END
    $$;

ALTER FUNCTION finicom.totp_accept_step(p_user uuid, p_step bigint) OWNER TO finicom_owner;

--
-- Name: totp_disable_by_operator(text, text); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.totp_disable_by_operator(p_email text, p_request_id text) RETURNS uuid
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
    DECLARE
        v_user finicom.users%ROWTYPE;
        v_on boolean;
    BEGIN
        SELECT * INTO v_user FROM finicom.users u
        WHERE finicom.ascii_lower(u.email) = finicom.ascii_lower(p_email) FOR UPDATE;
        IF NOT FOUND THEN
            RETURN NULL;
        END IF;
        v_on := EXISTS (SELECT 1 FROM finicom.totp_credentials t
                        WHERE t.user_id = v_user.id AND t.confirmed_at IS NOT NULL);
        DELETE FROM finicom.totp_credentials t WHERE t.user_id = v_user.id;
        DELETE FROM finicom.totp_recovery_codes c WHERE c.user_id = v_user.id;
        DELETE FROM finicom.totp_login_tokens l WHERE l.user_id = v_user.id;
        DELETE FROM finicom.totp_failures f WHERE f.user_id = v_user.id;
        IF NOT v_on THEN
            RETURN NULL;
        END IF;
        PERFORM audit.auth_event('totp.disabled_by_operator', v_user.id, v_user.email, NULL, p_request_id);
        RETURN v_user.id;
    END
    $$;

ALTER FUNCTION finicom.totp_disable_by_operator(p_email text, p_request_id text) OWNER TO finicom_owner;

--
-- Name: totp_login_token_create(uuid, bytea, text, text); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.totp_login_token_create(p_user uuid, p_login_hash bytea, p_ip text, p_request_id text) RETURNS void
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO ''
    AS $$
        DELETE FROM finicom.totp_login_tokens l
        WHERE l.user_id = p_user AND l.expires_at <= pg_catalog.now();
        INSERT INTO finicom.totp_login_tokens (token_hash, user_id, expires_at)
        VALUES (p_login_hash, p_user, pg_catalog.now() + interval '5 minutes');
        SELECT audit.auth_event('login.totp_required', p_user,
            (SELECT u.email FROM finicom.users u WHERE u.id = p_user), p_ip, p_request_id);
    $$;

ALTER FUNCTION finicom.totp_login_token_create(p_user uuid, p_login_hash bytea, p_ip text, p_request_id text) OWNER TO finicom_owner;

--
-- Name: totp_session_user(bytea); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.totp_session_user(p_session_hash bytea) RETURNS uuid
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
        SELECT s.user_id FROM finicom.sessions s
        WHERE s.token_hash = p_session_hash AND s.expires_at > pg_catalog.now()
    $$;

ALTER FUNCTION finicom.totp_session_user(p_session_hash bytea) OWNER TO finicom_owner;

--
-- Name: totp_spend_recovery(uuid, bytea, text, text); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.totp_spend_recovery(p_user uuid, p_hash bytea, p_ip text, p_request_id text) RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
    BEGIN
        UPDATE finicom.totp_recovery_codes c SET used_at = pg_catalog.now()
        WHERE c.user_id = p_user AND c.code_hash = p_hash AND c.used_at IS NULL;
        IF NOT FOUND THEN
            RETURN false;
        END IF;
        PERFORM audit.auth_event('totp.recovery_code_used', p_user,
            (SELECT u.email FROM finicom.users u WHERE u.id = p_user), p_ip, p_request_id);
        RETURN true;
    END
    $$;

ALTER FUNCTION finicom.totp_spend_recovery(p_user uuid, p_hash bytea, p_ip text, p_request_id text) OWNER TO finicom_owner;

--
-- Name: totp_throttle(uuid); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.totp_throttle(p_user uuid) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
    DECLARE
        v_row finicom.totp_failures%ROWTYPE;
        v_now timestamptz := pg_catalog.now();
    BEGIN
        INSERT INTO finicom.totp_failures (user_id, failures, last_failed_at)
        VALUES (p_user, 0, v_now) ON CONFLICT (user_id) DO NOTHING;
        SELECT * INTO v_row FROM finicom.totp_failures f WHERE f.user_id = p_user FOR UPDATE;
        IF v_row.locked_until IS NOT NULL AND v_row.locked_until > pg_catalog.clock_timestamp() THEN
            RAISE EXCEPTION USING ERRCODE = 'F0429', MESSAGE = 'rate_limited',
                DETAIL = 'too many wrong codes for this account; try again later',
                HINT = GREATEST(1, pg_catalog.ceil(EXTRACT(epoch FROM
                    v_row.locked_until - pg_catalog.clock_timestamp())))::bigint::text;
        END IF;
        IF v_row.failures = 0 OR v_row.last_failed_at <= v_now - interval '15 minutes' THEN
            v_row.failures := 1;
        ELSE
            v_row.failures := v_row.failures + 1;
        END IF;
        UPDATE finicom.totp_failures f
        SET failures = v_row.failures, last_failed_at = v_now,
            locked_until = CASE WHEN finicom.login_lock_seconds(v_row.failures) > 0
                THEN pg_catalog.clock_timestamp()
                     + pg_catalog.make_interval(secs => finicom.login_lock_seconds(v_row.failures)) END
        WHERE f.user_id = p_user;
    END
    $$;

ALTER FUNCTION finicom.totp_throttle(p_user uuid) OWNER TO finicom_owner;

--
-- Name: touch_updated_at(); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.touch_updated_at() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
    BEGIN
        NEW.updated_at := pg_catalog.now();
        RETURN NEW;
    END
    $$;

ALTER FUNCTION finicom.touch_updated_at() OWNER TO finicom_owner;

--
-- Name: ts(timestamp with time zone); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.ts(t timestamp with time zone) RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT pg_catalog.to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') $$;

ALTER FUNCTION finicom.ts(t timestamp with time zone) OWNER TO finicom_owner;

--
-- Name: user_create(text, text, text); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.user_create(p_email text, p_name text, p_password_hash text) RETURNS TABLE(id uuid, email text, name text, created_at timestamp with time zone)
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO ''
    AS $$
        INSERT INTO finicom.users (email, name, password_hash)
        VALUES (p_email, p_name, p_password_hash)
        RETURNING id, email, name, created_at
    $$;

ALTER FUNCTION finicom.user_create(p_email text, p_name text, p_password_hash text) OWNER TO finicom_owner;

--
-- Name: user_create_verified(text, text, text); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.user_create_verified(p_email text, p_name text, p_password_hash text) RETURNS TABLE(id uuid, email text, name text, created_at timestamp with time zone)
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO ''
    AS $$
        INSERT INTO finicom.users (email, name, password_hash, email_verified_at)
        VALUES (p_email, p_name, p_password_hash, pg_catalog.now())
        RETURNING id, email, name, created_at
    $$;

ALTER FUNCTION finicom.user_create_verified(p_email text, p_name text, p_password_hash text) OWNER TO finicom_owner;

--
-- Name: users; Type: TABLE; Schema: finicom; Owner: finicom_owner
--

CREATE TABLE finicom.users (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    email text NOT NULL,
    name text NOT NULL,
    password_hash text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    email_verified_at timestamp with time zone,
    search_text text GENERATED ALWAYS AS (finicom.ascii_lower(((email || '
'::text) || name))) STORED,
    CONSTRAINT users_email_check CHECK ((((octet_length(email) >= 3) AND (octet_length(email) <= 254)) AND (email !~ '[^!-~]'::text))),
    CONSTRAINT users_name_check CHECK (((char_length(name) >= 1) AND (char_length(name) <= 200))),
    CONSTRAINT users_password_hash_check CHECK ((password_hash ~~ '$argon2id$%'::text))
);

ALTER TABLE ONLY finicom.users FORCE ROW LEVEL SECURITY;

ALTER TABLE finicom.users OWNER TO finicom_owner;

--
-- Name: user_json(finicom.users); Type: FUNCTION; Schema: finicom; Owner: finicom_owner
--

CREATE FUNCTION finicom.user_json(u finicom.users) RETURNS json
    LANGUAGE sql STABLE
    AS $$
        SELECT pg_catalog.json_build_object('id', u.id, 'email', u.email, 'name', u.name,
            'created_at', finicom.ts(u.created_at), 'email_verified', u.email_verified_at IS NOT NULL)
    $$;

ALTER FUNCTION finicom.user_json(u finicom.users) OWNER TO finicom_owner;

--
-- Name: member_activity; Type: TABLE; Schema: finicom; Owner: finicom_owner
--

CREATE TABLE finicom.member_activity (
    org_id uuid NOT NULL,
    user_id uuid NOT NULL,
    last_active_at timestamp with time zone NOT NULL
);

ALTER TABLE ONLY finicom.member_activity FORCE ROW LEVEL SECURITY;

ALTER TABLE finicom.member_activity OWNER TO finicom_owner;

--
-- Name: access_review; Type: VIEW; Schema: audit; Owner: finicom_owner
--

CREATE VIEW audit.access_review WITH (security_barrier='true') AS
 SELECT o.id AS org_id,
    o.name AS org_name,
    u.id AS user_id,
    u.email,
    u.name,
    m.role,
    m.joined_at,
    a.last_active_at,
    ((now())::date - (COALESCE(a.last_active_at, m.joined_at))::date) AS days_inactive,
    ( SELECT count(*) AS count
           FROM finicom.invitations i
          WHERE ((i.org_id = o.id) AND (i.status = 'pending'::finicom.invitation_status) AND (i.expires_at > now()))) AS pending_invitations
   FROM (((finicom.memberships m
     JOIN finicom.orgs o ON ((o.id = m.org_id)))
     JOIN finicom.users u ON ((u.id = m.user_id)))
     LEFT JOIN finicom.member_activity a ON (((a.org_id = m.org_id) AND (a.user_id = m.user_id))));

ALTER TABLE audit.access_review OWNER TO finicom_owner;

--
-- Name: access_review_items; Type: TABLE; Schema: finicom; Owner: finicom_owner
--

CREATE TABLE finicom.access_review_items (
    org_id uuid NOT NULL,
    review_id uuid NOT NULL,
    user_id uuid NOT NULL,
    role finicom.role NOT NULL,
    joined_at timestamp with time zone NOT NULL,
    last_active_at timestamp with time zone,
    decision finicom.access_review_decision,
    new_role finicom.role,
    decided_by uuid,
    decided_at timestamp with time zone,
    note text,
    CONSTRAINT access_review_items_decided_check CHECK (((decision IS NULL) = (decided_at IS NULL))),
    CONSTRAINT access_review_items_new_role_check CHECK (((decision = 'change_role'::finicom.access_review_decision) = (new_role IS NOT NULL))),
    CONSTRAINT access_review_items_note_check CHECK ((char_length(note) <= 500))
);

ALTER TABLE ONLY finicom.access_review_items FORCE ROW LEVEL SECURITY;

ALTER TABLE finicom.access_review_items OWNER TO finicom_owner;

--
-- Name: access_reviews; Type: VIEW; Schema: audit; Owner: finicom_owner
--

CREATE VIEW audit.access_reviews WITH (security_barrier='true') AS
 SELECT o.id AS org_id,
    o.name AS org_name,
    r.id AS review_id,
    r.status,
    r.created_at AS started_at,
    cu.email AS started_by,
    r.due_at,
    r.completed_at,
    du.email AS completed_by,
    r.canceled_at,
    i.user_id,
    u.email,
    i.role,
    i.last_active_at,
    i.decision,
    i.new_role,
    i.decided_at,
    de.email AS decided_by,
    i.note
   FROM ((((((finicom.access_reviews r
     JOIN finicom.orgs o ON ((o.id = r.org_id)))
     LEFT JOIN finicom.users cu ON ((cu.id = r.created_by)))
     LEFT JOIN finicom.users du ON ((du.id = r.completed_by)))
     LEFT JOIN finicom.access_review_items i ON (((i.org_id = r.org_id) AND (i.review_id = r.id))))
     LEFT JOIN finicom.users u ON ((u.id = i.user_id)))
     LEFT JOIN finicom.users de ON ((de.id = i.decided_by)));

ALTER TABLE audit.access_reviews OWNER TO finicom_owner;

--
-- Name: auth_events; Type: TABLE; Schema: audit; Owner: finicom_owner
--

CREATE TABLE audit.auth_events (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    at timestamp with time zone DEFAULT now() NOT NULL,
    event text NOT NULL,
    user_id uuid,
    email text,
    ip text,
    request_id text,
    CONSTRAINT auth_events_event_check CHECK ((event = ANY (ARRAY['signup'::text, 'login.succeeded'::text, 'login.failed'::text, 'logout'::text, 'email.verified'::text, 'account.taken_over'::text, 'password.reset_requested'::text, 'password.reset'::text, 'password.changed'::text, 'session.revoked'::text, 'totp.enrolled'::text, 'totp.enabled'::text, 'totp.disabled'::text, 'totp.failed'::text, 'totp.recovery_code_used'::text, 'login.totp_required'::text, 'login.totp_succeeded'::text, 'login.totp_failed'::text, 'totp.disabled_by_operator'::text])))
);

ALTER TABLE ONLY audit.auth_events FORCE ROW LEVEL SECURITY;

ALTER TABLE audit.auth_events OWNER TO finicom_owner;

--
-- Name: chain_checks; Type: TABLE; Schema: audit; Owner: finicom_owner
--

CREATE TABLE audit.chain_checks (
    org_id uuid NOT NULL,
    head_seq bigint NOT NULL,
    checked_at timestamp with time zone NOT NULL,
    bad_seq bigint,
    bad_reason text
);

ALTER TABLE ONLY audit.chain_checks FORCE ROW LEVEL SECURITY;

ALTER TABLE audit.chain_checks OWNER TO finicom_owner;

--
-- Name: chain_heads; Type: TABLE; Schema: audit; Owner: finicom_owner
--

CREATE TABLE audit.chain_heads (
    org_id uuid NOT NULL,
    seq bigint NOT NULL,
    hash bytea NOT NULL
);

ALTER TABLE ONLY audit.chain_heads FORCE ROW LEVEL SECURITY;

ALTER TABLE audit.chain_heads OWNER TO finicom_owner;

--
-- Name: role_changes; Type: VIEW; Schema: audit; Owner: finicom_owner
--

CREATE VIEW audit.role_changes WITH (security_barrier='true') AS
 SELECT e.org_id,
    e.seq,
    e.at,
    e.action,
    e.actor_type,
    e.actor_label,
    e.target_id AS user_id,
    (e.details ->> 'old_role'::text) AS old_role,
    COALESCE((e.details ->> 'new_role'::text), (e.details ->> 'role'::text)) AS new_role,
    e.request_id
   FROM audit.events e
  WHERE (e.action = ANY (ARRAY['member.added'::text, 'member.role_changed'::text, 'member.removed'::text]));

ALTER TABLE audit.role_changes OWNER TO finicom_owner;

--
-- Name: access_review_item_rows; Type: VIEW; Schema: finicom; Owner: finicom_owner
--

CREATE VIEW finicom.access_review_item_rows WITH (security_barrier='true') AS
 SELECT i.org_id,
    i.review_id,
    i.user_id,
    i.joined_at,
    json_build_object('user', json_build_object('id', i.user_id, 'email', u.email, 'name', u.name), 'role', i.role, 'last_active_at', finicom.ts(i.last_active_at), 'decision', i.decision, 'new_role', i.new_role, 'decided_by', finicom.person_json(i.decided_by, d.email, d.name), 'decided_at', finicom.ts(i.decided_at), 'note', i.note) AS item
   FROM ((finicom.access_review_items i
     JOIN finicom.users u ON ((u.id = i.user_id)))
     LEFT JOIN finicom.users d ON ((d.id = i.decided_by)))
  WHERE (i.org_id = ( SELECT finicom.request_org_for('admin'::finicom.role) AS request_org_for));

ALTER TABLE finicom.access_review_item_rows OWNER TO finicom_owner;

--
-- Name: access_review_reminders; Type: TABLE; Schema: finicom; Owner: finicom_owner
--

CREATE TABLE finicom.access_review_reminders (
    org_id uuid NOT NULL,
    sent_at timestamp with time zone NOT NULL
);

ALTER TABLE ONLY finicom.access_review_reminders FORCE ROW LEVEL SECURITY;

ALTER TABLE finicom.access_review_reminders OWNER TO finicom_owner;

--
-- Name: access_review_rows; Type: VIEW; Schema: finicom; Owner: finicom_owner
--

CREATE VIEW finicom.access_review_rows WITH (security_barrier='true') AS
 SELECT r.org_id,
    r.id,
    r.created_at,
    r.status,
    json_build_object('id', r.id, 'status', r.status, 'created_by', finicom.person_json(r.created_by, cu.email, cu.name), 'created_at', finicom.ts(r.created_at), 'due_at', finicom.ts(r.due_at), 'completed_at', finicom.ts(r.completed_at), 'completed_by', finicom.person_json(r.completed_by, du.email, du.name), 'items_total', n.total, 'items_decided', n.decided) AS item
   FROM (((finicom.access_reviews r
     LEFT JOIN finicom.users cu ON ((cu.id = r.created_by)))
     LEFT JOIN finicom.users du ON ((du.id = r.completed_by)))
     CROSS JOIN LATERAL ( SELECT count(*) AS total,
            count(i.decision) AS decided
           FROM finicom.access_review_items i
          WHERE ((i.org_id = r.org_id) AND (i.review_id = r.id))) n)
  WHERE (r.org_id = ( SELECT finicom.request_org_for('admin'::finicom.role) AS request_org_for));

ALTER TABLE finicom.access_review_rows OWNER TO finicom_owner;

--
-- Name: alert_rule_settings; Type: TABLE; Schema: finicom; Owner: finicom_owner
--

CREATE TABLE finicom.alert_rule_settings (
    org_id uuid NOT NULL,
    rule text NOT NULL,
    enabled boolean NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT alert_rule_settings_rule_check CHECK ((rule = ANY (finicom.alert_rule_names())))
);

ALTER TABLE ONLY finicom.alert_rule_settings FORCE ROW LEVEL SECURITY;

ALTER TABLE finicom.alert_rule_settings OWNER TO finicom_owner;

--
-- Name: connection_integrations; Type: TABLE; Schema: finicom; Owner: finicom_owner
--

CREATE TABLE finicom.connection_integrations (
    org_id uuid NOT NULL,
    connection_id uuid NOT NULL,
    integration_id uuid NOT NULL
);

ALTER TABLE ONLY finicom.connection_integrations FORCE ROW LEVEL SECURITY;

ALTER TABLE finicom.connection_integrations OWNER TO finicom_owner;

--
-- Name: connections; Type: TABLE; Schema: finicom; Owner: finicom_owner
--

CREATE TABLE finicom.connections (
    org_id uuid NOT NULL,
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    name text NOT NULL,
    source_id uuid NOT NULL,
    destination_id uuid NOT NULL,
    schedule text DEFAULT 'manual'::text NOT NULL,
    enabled boolean DEFAULT true NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    created_by uuid DEFAULT finicom.current_actor_id(),
    CONSTRAINT connections_name_check CHECK (((char_length(name) >= 1) AND (char_length(name) <= 200))),
    CONSTRAINT connections_schedule_check CHECK (finicom.schedule_ok(schedule))
);

ALTER TABLE ONLY finicom.connections FORCE ROW LEVEL SECURITY;

ALTER TABLE finicom.connections OWNER TO finicom_owner;

--
-- Name: destinations; Type: TABLE; Schema: finicom; Owner: finicom_owner
--

CREATE TABLE finicom.destinations (
    org_id uuid NOT NULL,
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    name text NOT NULL,
    type text NOT NULL,
    config jsonb DEFAULT '{}'::jsonb NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    created_by uuid DEFAULT finicom.current_actor_id(),
    config_masked jsonb GENERATED ALWAYS AS (finicom.config_mask(config)) STORED,
    CONSTRAINT destinations_config_check CHECK (((jsonb_typeof(config) = 'object'::text) AND (octet_length((config)::text) <= 32768))),
    CONSTRAINT destinations_name_check CHECK (((char_length(name) >= 1) AND (char_length(name) <= 200))),
    CONSTRAINT destinations_type_check CHECK ((type ~ '^[a-z][a-z0-9_]{0,39}$'::text))
);

ALTER TABLE ONLY finicom.destinations FORCE ROW LEVEL SECURITY;

ALTER TABLE finicom.destinations OWNER TO finicom_owner;

--
-- Name: email_verifications; Type: TABLE; Schema: finicom; Owner: finicom_owner
--

CREATE TABLE finicom.email_verifications (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    user_id uuid NOT NULL,
    email text NOT NULL,
    token_hash bytea NOT NULL,
    mail_id uuid,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    used_at timestamp with time zone,
    replaced_at timestamp with time zone,
    CONSTRAINT email_verifications_check CHECK ((expires_at > created_at)),
    CONSTRAINT email_verifications_email_check CHECK (((octet_length(email) >= 3) AND (octet_length(email) <= 254))),
    CONSTRAINT email_verifications_token_hash_check CHECK ((octet_length(token_hash) = 32))
);

ALTER TABLE ONLY finicom.email_verifications FORCE ROW LEVEL SECURITY;

ALTER TABLE finicom.email_verifications OWNER TO finicom_owner;

--
-- Name: integrations; Type: TABLE; Schema: finicom; Owner: finicom_owner
--

CREATE TABLE finicom.integrations (
    org_id uuid NOT NULL,
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    name text NOT NULL,
    type text NOT NULL,
    config jsonb DEFAULT '{}'::jsonb NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    created_by uuid DEFAULT finicom.current_actor_id(),
    config_masked jsonb GENERATED ALWAYS AS (finicom.config_mask(config)) STORED,
    CONSTRAINT integrations_config_check CHECK (((jsonb_typeof(config) = 'object'::text) AND (octet_length((config)::text) <= 32768))),
    CONSTRAINT integrations_name_check CHECK (((char_length(name) >= 1) AND (char_length(name) <= 200))),
    CONSTRAINT integrations_type_check CHECK ((type ~ '^[a-z][a-z0-9_]{0,39}$'::text))
);

ALTER TABLE ONLY finicom.integrations FORCE ROW LEVEL SECURITY;

ALTER TABLE finicom.integrations OWNER TO finicom_owner;

--
-- Name: mail_outbox; Type: TABLE; Schema: finicom; Owner: finicom_owner
--

CREATE TABLE finicom.mail_outbox (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    org_id uuid,
    invitation_id uuid,
    recipient text NOT NULL,
    subject text NOT NULL,
    body text NOT NULL,
    link text,
    message_id text NOT NULL,
    status text DEFAULT 'queued'::text NOT NULL,
    attempts integer DEFAULT 0 NOT NULL,
    next_attempt_at timestamp with time zone DEFAULT now() NOT NULL,
    last_error text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    sent_at timestamp with time zone,
    CONSTRAINT mail_outbox_recipient_check CHECK (((octet_length(recipient) >= 3) AND (octet_length(recipient) <= 254))),
    CONSTRAINT mail_outbox_status_check CHECK ((status = ANY (ARRAY['queued'::text, 'sent'::text, 'failed'::text, 'canceled'::text])))
);

ALTER TABLE ONLY finicom.mail_outbox FORCE ROW LEVEL SECURITY;

ALTER TABLE finicom.mail_outbox OWNER TO finicom_owner;

--
-- Name: invitation_items; Type: VIEW; Schema: finicom; Owner: finicom_owner
--

CREATE VIEW finicom.invitation_items WITH (security_invoker='true') AS
 SELECT i.org_id,
    i.id,
    i.created_at,
    s.status,
    json_build_object('id', i.id, 'email', i.email, 'role', i.role, 'status', s.status, 'invited_by',
        CASE
            WHEN (u.id IS NOT NULL) THEN json_build_object('id', u.id, 'email', u.email, 'name', u.name)
            ELSE NULL::json
        END, 'created_at', finicom.ts(i.created_at), 'expires_at', finicom.ts(i.expires_at), 'accepted_at', finicom.ts(i.accepted_at), 'canceled_at', finicom.ts(i.canceled_at), 'membership_expires_at', finicom.ts(i.membership_expires_at), 'email_status', ( SELECT m.status
           FROM finicom.mail_outbox m
          WHERE ((m.org_id = i.org_id) AND (m.invitation_id = i.id))
          ORDER BY m.created_at DESC
         LIMIT 1)) AS item
   FROM ((finicom.invitations i
     LEFT JOIN finicom.users u ON ((u.id = i.invited_by)))
     CROSS JOIN LATERAL ( SELECT
                CASE
                    WHEN ((i.status = 'pending'::finicom.invitation_status) AND (i.expires_at <= now())) THEN 'expired'::text
                    ELSE (i.status)::text
                END AS status) s);

ALTER TABLE finicom.invitation_items OWNER TO finicom_owner;

--
-- Name: login_failures; Type: TABLE; Schema: finicom; Owner: finicom_owner
--

CREATE TABLE finicom.login_failures (
    email text NOT NULL,
    failures integer NOT NULL,
    first_failed_at timestamp with time zone NOT NULL,
    last_failed_at timestamp with time zone NOT NULL,
    locked_until timestamp with time zone,
    CONSTRAINT login_failures_failures_check CHECK ((failures >= 0))
);

ALTER TABLE ONLY finicom.login_failures FORCE ROW LEVEL SECURITY;

ALTER TABLE finicom.login_failures OWNER TO finicom_owner;

--
-- Name: member_rows; Type: VIEW; Schema: finicom; Owner: finicom_owner
--

CREATE VIEW finicom.member_rows WITH (security_barrier='true') AS
 SELECT m.org_id,
    m.user_id,
    m.role,
    m.joined_at,
    u.email,
    u.name,
    a.last_active_at,
    m.expires_at
   FROM ((finicom.memberships m
     JOIN finicom.users u ON ((u.id = m.user_id)))
     LEFT JOIN finicom.member_activity a ON (((a.org_id = m.org_id) AND (a.user_id = m.user_id))))
  WHERE ((m.org_id = ( SELECT finicom.request_org_id() AS request_org_id)) AND ((m.expires_at IS NULL) OR (m.expires_at > ( SELECT now() AS now))));

ALTER TABLE finicom.member_rows OWNER TO finicom_owner;

--
-- Name: password_resets; Type: TABLE; Schema: finicom; Owner: finicom_owner
--

CREATE TABLE finicom.password_resets (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    email text NOT NULL,
    user_id uuid,
    token_hash bytea NOT NULL,
    mail_id uuid,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    used_at timestamp with time zone,
    replaced_at timestamp with time zone,
    CONSTRAINT password_resets_email_check CHECK (((octet_length(email) >= 3) AND (octet_length(email) <= 254))),
    CONSTRAINT password_resets_token_hash_check CHECK ((octet_length(token_hash) = 32))
);

ALTER TABLE ONLY finicom.password_resets FORCE ROW LEVEL SECURITY;

ALTER TABLE finicom.password_resets OWNER TO finicom_owner;

--
-- Name: schema_migrations; Type: TABLE; Schema: finicom; Owner: finicom_owner
--

CREATE TABLE finicom.schema_migrations (
    version text NOT NULL,
    name text NOT NULL,
    checksum text NOT NULL,
    applied_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT schema_migrations_checksum_check CHECK ((checksum ~ '^[0-9a-f]{64}$'::text)),
    CONSTRAINT schema_migrations_version_check CHECK ((version ~ '^[0-9]{4}$'::text))
);

ALTER TABLE ONLY finicom.schema_migrations FORCE ROW LEVEL SECURITY;

ALTER TABLE finicom.schema_migrations OWNER TO finicom_owner;

--
-- Name: sessions; Type: TABLE; Schema: finicom; Owner: finicom_owner
--

CREATE TABLE finicom.sessions (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    token_hash bytea NOT NULL,
    user_id uuid NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    last_seen_at timestamp with time zone DEFAULT now() NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    ip text,
    user_agent text,
    CONSTRAINT sessions_ip_check CHECK ((octet_length(ip) <= 100)),
    CONSTRAINT sessions_token_hash_check CHECK ((octet_length(token_hash) = 32)),
    CONSTRAINT sessions_user_agent_check CHECK ((octet_length(user_agent) <= 256))
);

ALTER TABLE ONLY finicom.sessions FORCE ROW LEVEL SECURITY;

ALTER TABLE finicom.sessions OWNER TO finicom_owner;

--
-- Name: sources; Type: TABLE; Schema: finicom; Owner: finicom_owner
--

CREATE TABLE finicom.sources (
    org_id uuid NOT NULL,
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    name text NOT NULL,
    type text NOT NULL,
    config jsonb DEFAULT '{}'::jsonb NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    created_by uuid DEFAULT finicom.current_actor_id(),
    config_masked jsonb GENERATED ALWAYS AS (finicom.config_mask(config)) STORED,
    CONSTRAINT sources_config_check CHECK (((jsonb_typeof(config) = 'object'::text) AND (octet_length((config)::text) <= 32768))),
    CONSTRAINT sources_name_check CHECK (((char_length(name) >= 1) AND (char_length(name) <= 200))),
    CONSTRAINT sources_type_check CHECK ((type ~ '^[a-z][a-z0-9_]{0,39}$'::text))
);

ALTER TABLE ONLY finicom.sources FORCE ROW LEVEL SECURITY;

ALTER TABLE finicom.sources OWNER TO finicom_owner;

--
-- Name: totp_credentials; Type: TABLE; Schema: finicom; Owner: finicom_owner
--

CREATE TABLE finicom.totp_credentials (
    user_id uuid NOT NULL,
    secret_enc text NOT NULL,
    confirmed_at timestamp with time zone,
    last_step bigint,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT totp_credentials_secret_enc_check CHECK (((secret_enc ~~ 'enc:v1:%'::text) AND (octet_length(secret_enc) <= 200)))
);

ALTER TABLE ONLY finicom.totp_credentials FORCE ROW LEVEL SECURITY;

ALTER TABLE finicom.totp_credentials OWNER TO finicom_owner;

--
-- Name: totp_failures; Type: TABLE; Schema: finicom; Owner: finicom_owner
--

CREATE TABLE finicom.totp_failures (
    user_id uuid NOT NULL,
    failures integer NOT NULL,
    last_failed_at timestamp with time zone NOT NULL,
    locked_until timestamp with time zone,
    CONSTRAINT totp_failures_failures_check CHECK ((failures >= 0))
);

ALTER TABLE ONLY finicom.totp_failures FORCE ROW LEVEL SECURITY;

ALTER TABLE finicom.totp_failures OWNER TO finicom_owner;

--
-- Name: totp_login_tokens; Type: TABLE; Schema: finicom; Owner: finicom_owner
--

CREATE TABLE finicom.totp_login_tokens (
    token_hash bytea NOT NULL,
    user_id uuid NOT NULL,
    attempts integer DEFAULT 0 NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    CONSTRAINT totp_login_tokens_attempts_check CHECK ((attempts >= 0)),
    CONSTRAINT totp_login_tokens_token_hash_check CHECK ((octet_length(token_hash) = 32))
);

ALTER TABLE ONLY finicom.totp_login_tokens FORCE ROW LEVEL SECURITY;

ALTER TABLE finicom.totp_login_tokens OWNER TO finicom_owner;

--
-- Name: totp_recovery_codes; Type: TABLE; Schema: finicom; Owner: finicom_owner
--

CREATE TABLE finicom.totp_recovery_codes (
    user_id uuid NOT NULL,
    code_hash bytea NOT NULL,
    used_at timestamp with time zone,
    CONSTRAINT totp_recovery_codes_code_hash_check CHECK ((octet_length(code_hash) = 32))
);

ALTER TABLE ONLY finicom.totp_recovery_codes FORCE ROW LEVEL SECURITY;

ALTER TABLE finicom.totp_recovery_codes OWNER TO finicom_owner;

--
-- Name: auth_events auth_events_pkey; Type: CONSTRAINT; Schema: audit; Owner: finicom_owner
--

ALTER TABLE ONLY audit.auth_events
    ADD CONSTRAINT auth_events_pkey PRIMARY KEY (id);

--
-- Name: chain_checks chain_checks_pkey; Type: CONSTRAINT; Schema: audit; Owner: finicom_owner
--

ALTER TABLE ONLY audit.chain_checks
    ADD CONSTRAINT chain_checks_pkey PRIMARY KEY (org_id);

--
-- Name: chain_heads chain_heads_pkey; Type: CONSTRAINT; Schema: audit; Owner: finicom_owner
--

ALTER TABLE ONLY audit.chain_heads
    ADD CONSTRAINT chain_heads_pkey PRIMARY KEY (org_id);

--
-- Name: events events_pkey; Type: CONSTRAINT; Schema: audit; Owner: finicom_owner
--

ALTER TABLE ONLY audit.events
    ADD CONSTRAINT events_pkey PRIMARY KEY (id);

--
-- Name: access_review_items access_review_items_pkey; Type: CONSTRAINT; Schema: finicom; Owner: finicom_owner
--

ALTER TABLE ONLY finicom.access_review_items
    ADD CONSTRAINT access_review_items_pkey PRIMARY KEY (org_id, review_id, user_id);

--
-- Name: access_review_reminders access_review_reminders_pkey; Type: CONSTRAINT; Schema: finicom; Owner: finicom_owner
--

ALTER TABLE ONLY finicom.access_review_reminders
    ADD CONSTRAINT access_review_reminders_pkey PRIMARY KEY (org_id);

--
-- Name: access_reviews access_reviews_pkey; Type: CONSTRAINT; Schema: finicom; Owner: finicom_owner
--

ALTER TABLE ONLY finicom.access_reviews
    ADD CONSTRAINT access_reviews_pkey PRIMARY KEY (org_id, id);

--
-- Name: alert_rule_settings alert_rule_settings_pkey; Type: CONSTRAINT; Schema: finicom; Owner: finicom_owner
--

ALTER TABLE ONLY finicom.alert_rule_settings
    ADD CONSTRAINT alert_rule_settings_pkey PRIMARY KEY (org_id, rule);

--
-- Name: alerts alerts_pkey; Type: CONSTRAINT; Schema: finicom; Owner: finicom_owner
--

ALTER TABLE ONLY finicom.alerts
    ADD CONSTRAINT alerts_pkey PRIMARY KEY (id);

--
-- Name: api_keys api_keys_id_key; Type: CONSTRAINT; Schema: finicom; Owner: finicom_owner
--

ALTER TABLE ONLY finicom.api_keys
    ADD CONSTRAINT api_keys_id_key UNIQUE (id);

--
-- Name: api_keys api_keys_pkey; Type: CONSTRAINT; Schema: finicom; Owner: finicom_owner
--

ALTER TABLE ONLY finicom.api_keys
    ADD CONSTRAINT api_keys_pkey PRIMARY KEY (org_id, id);

--
-- Name: api_keys api_keys_token_hash_key; Type: CONSTRAINT; Schema: finicom; Owner: finicom_owner
--

ALTER TABLE ONLY finicom.api_keys
    ADD CONSTRAINT api_keys_token_hash_key UNIQUE (token_hash);

--
-- Name: connection_integrations connection_integrations_pkey; Type: CONSTRAINT; Schema: finicom; Owner: finicom_owner
--

ALTER TABLE ONLY finicom.connection_integrations
    ADD CONSTRAINT connection_integrations_pkey PRIMARY KEY (org_id, connection_id, integration_id);

--
-- Name: connections connections_id_key; Type: CONSTRAINT; Schema: finicom; Owner: finicom_owner
--

ALTER TABLE ONLY finicom.connections
    ADD CONSTRAINT connections_id_key UNIQUE (id);

--
-- Name: connections connections_pkey; Type: CONSTRAINT; Schema: finicom; Owner: finicom_owner
--

ALTER TABLE ONLY finicom.connections
    ADD CONSTRAINT connections_pkey PRIMARY KEY (org_id, id);

--
-- Name: destinations destinations_id_key; Type: CONSTRAINT; Schema: finicom; Owner: finicom_owner
--

ALTER TABLE ONLY finicom.destinations
    ADD CONSTRAINT destinations_id_key UNIQUE (id);

--
-- Name: destinations destinations_pkey; Type: CONSTRAINT; Schema: finicom; Owner: finicom_owner
--

ALTER TABLE ONLY finicom.destinations
    ADD CONSTRAINT destinations_pkey PRIMARY KEY (org_id, id);

--
-- Name: email_verifications email_verifications_pkey; Type: CONSTRAINT; Schema: finicom; Owner: finicom_owner
--

ALTER TABLE ONLY finicom.email_verifications
    ADD CONSTRAINT email_verifications_pkey PRIMARY KEY (id);

--
-- Name: email_verifications email_verifications_token_hash_key; Type: CONSTRAINT; Schema: finicom; Owner: finicom_owner
--

ALTER TABLE ONLY finicom.email_verifications
    ADD CONSTRAINT email_verifications_token_hash_key UNIQUE (token_hash);

--
-- Name: integrations integrations_id_key; Type: CONSTRAINT; Schema: finicom; Owner: finicom_owner
--

ALTER TABLE ONLY finicom.integrations
    ADD CONSTRAINT integrations_id_key UNIQUE (id);

--
-- Name: integrations integrations_pkey; Type: CONSTRAINT; Schema: finicom; Owner: finicom_owner
--

ALTER TABLE ONLY finicom.integrations
    ADD CONSTRAINT integrations_pkey PRIMARY KEY (org_id, id);

--
-- Name: invitations invitations_id_key; Type: CONSTRAINT; Schema: finicom; Owner: finicom_owner
--

ALTER TABLE ONLY finicom.invitations
    ADD CONSTRAINT invitations_id_key UNIQUE (id);

--
-- Name: invitations invitations_pkey; Type: CONSTRAINT; Schema: finicom; Owner: finicom_owner
--

ALTER TABLE ONLY finicom.invitations
    ADD CONSTRAINT invitations_pkey PRIMARY KEY (org_id, id);

--
-- Name: invitations invitations_token_hash_key; Type: CONSTRAINT; Schema: finicom; Owner: finicom_owner
--

ALTER TABLE ONLY finicom.invitations
    ADD CONSTRAINT invitations_token_hash_key UNIQUE (token_hash);

--
-- Name: login_failures login_failures_pkey; Type: CONSTRAINT; Schema: finicom; Owner: finicom_owner
--

ALTER TABLE ONLY finicom.login_failures
    ADD CONSTRAINT login_failures_pkey PRIMARY KEY (email);

--
-- Name: mail_outbox mail_outbox_message_id_key; Type: CONSTRAINT; Schema: finicom; Owner: finicom_owner
--

ALTER TABLE ONLY finicom.mail_outbox
    ADD CONSTRAINT mail_outbox_message_id_key UNIQUE (message_id);

--
-- Name: mail_outbox mail_outbox_pkey; Type: CONSTRAINT; Schema: finicom; Owner: finicom_owner
--

ALTER TABLE ONLY finicom.mail_outbox
    ADD CONSTRAINT mail_outbox_pkey PRIMARY KEY (id);

--
-- Name: member_activity member_activity_pkey; Type: CONSTRAINT; Schema: finicom; Owner: finicom_owner
--

ALTER TABLE ONLY finicom.member_activity
    ADD CONSTRAINT member_activity_pkey PRIMARY KEY (org_id, user_id);

--
-- Name: memberships memberships_pkey; Type: CONSTRAINT; Schema: finicom; Owner: finicom_owner
--

ALTER TABLE ONLY finicom.memberships
    ADD CONSTRAINT memberships_pkey PRIMARY KEY (org_id, user_id);

--
-- Name: orgs orgs_pkey; Type: CONSTRAINT; Schema: finicom; Owner: finicom_owner
--

ALTER TABLE ONLY finicom.orgs
    ADD CONSTRAINT orgs_pkey PRIMARY KEY (id);

--
-- Name: password_resets password_resets_pkey; Type: CONSTRAINT; Schema: finicom; Owner: finicom_owner
--

ALTER TABLE ONLY finicom.password_resets
    ADD CONSTRAINT password_resets_pkey PRIMARY KEY (id);

--
-- Name: password_resets password_resets_token_hash_key; Type: CONSTRAINT; Schema: finicom; Owner: finicom_owner
--

ALTER TABLE ONLY finicom.password_resets
    ADD CONSTRAINT password_resets_token_hash_key UNIQUE (token_hash);

--
-- Name: schema_migrations schema_migrations_pkey; Type: CONSTRAINT; Schema: finicom; Owner: finicom_owner
--

ALTER TABLE ONLY finicom.schema_migrations
    ADD CONSTRAINT schema_migrations_pkey PRIMARY KEY (version);

--
-- Name: sessions sessions_pkey; Type: CONSTRAINT; Schema: finicom; Owner: finicom_owner
--

ALTER TABLE ONLY finicom.sessions
    ADD CONSTRAINT sessions_pkey PRIMARY KEY (id);

--
-- Name: sessions sessions_token_hash_key; Type: CONSTRAINT; Schema: finicom; Owner: finicom_owner
--

ALTER TABLE ONLY finicom.sessions
    ADD CONSTRAINT sessions_token_hash_key UNIQUE (token_hash);

--
-- Name: sources sources_id_key; Type: CONSTRAINT; Schema: finicom; Owner: finicom_owner
--

ALTER TABLE ONLY finicom.sources
    ADD CONSTRAINT sources_id_key UNIQUE (id);

--
-- Name: sources sources_pkey; Type: CONSTRAINT; Schema: finicom; Owner: finicom_owner
--

ALTER TABLE ONLY finicom.sources
    ADD CONSTRAINT sources_pkey PRIMARY KEY (org_id, id);

--
-- Name: sync_runs sync_runs_id_key; Type: CONSTRAINT; Schema: finicom; Owner: finicom_owner
--

ALTER TABLE ONLY finicom.sync_runs
    ADD CONSTRAINT sync_runs_id_key UNIQUE (id);

--
-- Name: sync_runs sync_runs_pkey; Type: CONSTRAINT; Schema: finicom; Owner: finicom_owner
--

ALTER TABLE ONLY finicom.sync_runs
    ADD CONSTRAINT sync_runs_pkey PRIMARY KEY (org_id, id);

--
-- Name: totp_credentials totp_credentials_pkey; Type: CONSTRAINT; Schema: finicom; Owner: finicom_owner
--

ALTER TABLE ONLY finicom.totp_credentials
    ADD CONSTRAINT totp_credentials_pkey PRIMARY KEY (user_id);

--
-- Name: totp_failures totp_failures_pkey; Type: CONSTRAINT; Schema: finicom; Owner: finicom_owner
--

ALTER TABLE ONLY finicom.totp_failures
    ADD CONSTRAINT totp_failures_pkey PRIMARY KEY (user_id);

--
-- Name: totp_login_tokens totp_login_tokens_pkey; Type: CONSTRAINT; Schema: finicom; Owner: finicom_owner
--

ALTER TABLE ONLY finicom.totp_login_tokens
    ADD CONSTRAINT totp_login_tokens_pkey PRIMARY KEY (token_hash);

--
-- Name: totp_recovery_codes totp_recovery_codes_pkey; Type: CONSTRAINT; Schema: finicom; Owner: finicom_owner
--

ALTER TABLE ONLY finicom.totp_recovery_codes
    ADD CONSTRAINT totp_recovery_codes_pkey PRIMARY KEY (user_id, code_hash);

--
-- Name: users users_pkey; Type: CONSTRAINT; Schema: finicom; Owner: finicom_owner
--

ALTER TABLE ONLY finicom.users
    ADD CONSTRAINT users_pkey PRIMARY KEY (id);

--
-- Name: auth_events_at_idx; Type: INDEX; Schema: audit; Owner: finicom_owner
--

CREATE INDEX auth_events_at_idx ON audit.auth_events USING btree (at);

--
-- Name: auth_events_user_idx; Type: INDEX; Schema: audit; Owner: finicom_owner
--

CREATE INDEX auth_events_user_idx ON audit.auth_events USING btree (user_id, at);

--
-- Name: events_org_action_idx; Type: INDEX; Schema: audit; Owner: finicom_owner
--

CREATE INDEX events_org_action_idx ON audit.events USING btree (org_id, action, at DESC, id DESC);

--
-- Name: events_org_actor_idx; Type: INDEX; Schema: audit; Owner: finicom_owner
--

CREATE INDEX events_org_actor_idx ON audit.events USING btree (org_id, actor_id, at DESC, id DESC);

--
-- Name: events_org_at_idx; Type: INDEX; Schema: audit; Owner: finicom_owner
--

CREATE INDEX events_org_at_idx ON audit.events USING btree (org_id, at DESC, id DESC);

--
-- Name: events_org_seq_key; Type: INDEX; Schema: audit; Owner: finicom_owner
--

CREATE UNIQUE INDEX events_org_seq_key ON audit.events USING btree (org_id, seq) WHERE (seq IS NOT NULL);

--
-- Name: events_pending_idx; Type: INDEX; Schema: audit; Owner: finicom_owner
--

CREATE INDEX events_pending_idx ON audit.events USING btree (org_id, at, id) WHERE (seq IS NULL);

--
-- Name: access_review_items_order_idx; Type: INDEX; Schema: finicom; Owner: finicom_owner
--

CREATE INDEX access_review_items_order_idx ON finicom.access_review_items USING btree (org_id, review_id, joined_at, user_id);

--
-- Name: access_reviews_one_open; Type: INDEX; Schema: finicom; Owner: finicom_owner
--

CREATE UNIQUE INDEX access_reviews_one_open ON finicom.access_reviews USING btree (org_id) WHERE (status = 'open'::finicom.access_review_status);

--
-- Name: access_reviews_org_completed_idx; Type: INDEX; Schema: finicom; Owner: finicom_owner
--

CREATE INDEX access_reviews_org_completed_idx ON finicom.access_reviews USING btree (org_id, completed_at) WHERE (status = 'completed'::finicom.access_review_status);

--
-- Name: access_reviews_org_created_idx; Type: INDEX; Schema: finicom; Owner: finicom_owner
--

CREATE INDEX access_reviews_org_created_idx ON finicom.access_reviews USING btree (org_id, created_at, id);

--
-- Name: alerts_org_at_idx; Type: INDEX; Schema: finicom; Owner: finicom_owner
--

CREATE INDEX alerts_org_at_idx ON finicom.alerts USING btree (org_id, at DESC, id DESC);

--
-- Name: alerts_org_rule_idx; Type: INDEX; Schema: finicom; Owner: finicom_owner
--

CREATE INDEX alerts_org_rule_idx ON finicom.alerts USING btree (org_id, rule, at DESC);

--
-- Name: api_keys_org_created_idx; Type: INDEX; Schema: finicom; Owner: finicom_owner
--

CREATE INDEX api_keys_org_created_idx ON finicom.api_keys USING btree (org_id, created_at, id);

--
-- Name: connection_integrations_org_integration_idx; Type: INDEX; Schema: finicom; Owner: finicom_owner
--

CREATE INDEX connection_integrations_org_integration_idx ON finicom.connection_integrations USING btree (org_id, integration_id);

--
-- Name: connections_org_created_idx; Type: INDEX; Schema: finicom; Owner: finicom_owner
--

CREATE INDEX connections_org_created_idx ON finicom.connections USING btree (org_id, created_at, id);

--
-- Name: connections_org_destination_idx; Type: INDEX; Schema: finicom; Owner: finicom_owner
--

CREATE INDEX connections_org_destination_idx ON finicom.connections USING btree (org_id, destination_id);

--
-- Name: connections_org_source_idx; Type: INDEX; Schema: finicom; Owner: finicom_owner
--

CREATE INDEX connections_org_source_idx ON finicom.connections USING btree (org_id, source_id);

--
-- Name: destinations_org_created_idx; Type: INDEX; Schema: finicom; Owner: finicom_owner
--

CREATE INDEX destinations_org_created_idx ON finicom.destinations USING btree (org_id, created_at, id);

--
-- Name: email_verifications_live_key; Type: INDEX; Schema: finicom; Owner: finicom_owner
--

CREATE UNIQUE INDEX email_verifications_live_key ON finicom.email_verifications USING btree (user_id) WHERE ((used_at IS NULL) AND (replaced_at IS NULL));

--
-- Name: email_verifications_user_idx; Type: INDEX; Schema: finicom; Owner: finicom_owner
--

CREATE INDEX email_verifications_user_idx ON finicom.email_verifications USING btree (user_id, created_at);

--
-- Name: integrations_org_created_idx; Type: INDEX; Schema: finicom; Owner: finicom_owner
--

CREATE INDEX integrations_org_created_idx ON finicom.integrations USING btree (org_id, created_at, id);

--
-- Name: invitations_expiry_idx; Type: INDEX; Schema: finicom; Owner: finicom_owner
--

CREATE INDEX invitations_expiry_idx ON finicom.invitations USING btree (expires_at) WHERE (status = 'pending'::finicom.invitation_status);

--
-- Name: invitations_one_pending_key; Type: INDEX; Schema: finicom; Owner: finicom_owner
--

CREATE UNIQUE INDEX invitations_one_pending_key ON finicom.invitations USING btree (org_id, finicom.ascii_lower(email)) WHERE (status = 'pending'::finicom.invitation_status);

--
-- Name: invitations_org_created_idx; Type: INDEX; Schema: finicom; Owner: finicom_owner
--

CREATE INDEX invitations_org_created_idx ON finicom.invitations USING btree (org_id, created_at, id);

--
-- Name: login_failures_last_failed_at_idx; Type: INDEX; Schema: finicom; Owner: finicom_owner
--

CREATE INDEX login_failures_last_failed_at_idx ON finicom.login_failures USING btree (last_failed_at);

--
-- Name: mail_outbox_due_idx; Type: INDEX; Schema: finicom; Owner: finicom_owner
--

CREATE INDEX mail_outbox_due_idx ON finicom.mail_outbox USING btree (next_attempt_at, id) WHERE (status = 'queued'::text);

--
-- Name: mail_outbox_invitation_recipient_idx; Type: INDEX; Schema: finicom; Owner: finicom_owner
--

CREATE INDEX mail_outbox_invitation_recipient_idx ON finicom.mail_outbox USING btree (finicom.ascii_lower(recipient), created_at) WHERE (invitation_id IS NOT NULL);

--
-- Name: mail_outbox_org_created_idx; Type: INDEX; Schema: finicom; Owner: finicom_owner
--

CREATE INDEX mail_outbox_org_created_idx ON finicom.mail_outbox USING btree (org_id, created_at) WHERE (invitation_id IS NOT NULL);

--
-- Name: mail_outbox_org_invitation_idx; Type: INDEX; Schema: finicom; Owner: finicom_owner
--

CREATE INDEX mail_outbox_org_invitation_idx ON finicom.mail_outbox USING btree (org_id, invitation_id, created_at);

--
-- Name: member_activity_org_last_idx; Type: INDEX; Schema: finicom; Owner: finicom_owner
--

CREATE INDEX member_activity_org_last_idx ON finicom.member_activity USING btree (org_id, last_active_at);

--
-- Name: memberships_admins_idx; Type: INDEX; Schema: finicom; Owner: finicom_owner
--

CREATE INDEX memberships_admins_idx ON finicom.memberships USING btree (org_id) WHERE (role = 'admin'::finicom.role);

--
-- Name: memberships_expiry_idx; Type: INDEX; Schema: finicom; Owner: finicom_owner
--

CREATE INDEX memberships_expiry_idx ON finicom.memberships USING btree (expires_at) WHERE (expires_at IS NOT NULL);

--
-- Name: memberships_org_joined_idx; Type: INDEX; Schema: finicom; Owner: finicom_owner
--

CREATE INDEX memberships_org_joined_idx ON finicom.memberships USING btree (org_id, joined_at, user_id);

--
-- Name: memberships_org_role_joined_idx; Type: INDEX; Schema: finicom; Owner: finicom_owner
--

CREATE INDEX memberships_org_role_joined_idx ON finicom.memberships USING btree (org_id, role, joined_at, user_id);

--
-- Name: memberships_user_idx; Type: INDEX; Schema: finicom; Owner: finicom_owner
--

CREATE INDEX memberships_user_idx ON finicom.memberships USING btree (user_id, org_id);

--
-- Name: password_resets_email_idx; Type: INDEX; Schema: finicom; Owner: finicom_owner
--

CREATE INDEX password_resets_email_idx ON finicom.password_resets USING btree (finicom.ascii_lower(email), created_at);

--
-- Name: password_resets_live_idx; Type: INDEX; Schema: finicom; Owner: finicom_owner
--

CREATE INDEX password_resets_live_idx ON finicom.password_resets USING btree (user_id) WHERE ((used_at IS NULL) AND (replaced_at IS NULL));

--
-- Name: sessions_expires_at_idx; Type: INDEX; Schema: finicom; Owner: finicom_owner
--

CREATE INDEX sessions_expires_at_idx ON finicom.sessions USING btree (expires_at);

--
-- Name: sessions_user_id_idx; Type: INDEX; Schema: finicom; Owner: finicom_owner
--

CREATE INDEX sessions_user_id_idx ON finicom.sessions USING btree (user_id);

--
-- Name: sessions_user_idx; Type: INDEX; Schema: finicom; Owner: finicom_owner
--

CREATE INDEX sessions_user_idx ON finicom.sessions USING btree (user_id, created_at);

--
-- Name: sources_org_created_idx; Type: INDEX; Schema: finicom; Owner: finicom_owner
--

CREATE INDEX sources_org_created_idx ON finicom.sources USING btree (org_id, created_at, id);

--
-- Name: sync_runs_org_connection_idx; Type: INDEX; Schema: finicom; Owner: finicom_owner
--

CREATE INDEX sync_runs_org_connection_idx ON finicom.sync_runs USING btree (org_id, connection_id, requested_at, id);

--
-- Name: totp_login_tokens_user_idx; Type: INDEX; Schema: finicom; Owner: finicom_owner
--

CREATE INDEX totp_login_tokens_user_idx ON finicom.totp_login_tokens USING btree (user_id);

--
-- Name: users_email_ascii_lower_key; Type: INDEX; Schema: finicom; Owner: finicom_owner
--

CREATE UNIQUE INDEX users_email_ascii_lower_key ON finicom.users USING btree (finicom.ascii_lower(email));

--
-- Name: users_search_trgm_idx; Type: INDEX; Schema: finicom; Owner: finicom_owner
--

CREATE INDEX users_search_trgm_idx ON finicom.users USING gin (search_text finicom_trgm.gin_trgm_ops);

--
-- Name: auth_events auth_events_alerts; Type: TRIGGER; Schema: audit; Owner: finicom_owner
--

CREATE TRIGGER auth_events_alerts AFTER INSERT ON audit.auth_events FOR EACH ROW WHEN (((new.event = 'login.failed'::text) AND (new.user_id IS NOT NULL))) EXECUTE FUNCTION audit.alerts_on_auth_event();

--
-- Name: auth_events auth_events_append_only; Type: TRIGGER; Schema: audit; Owner: finicom_owner
--

CREATE TRIGGER auth_events_append_only BEFORE DELETE OR UPDATE ON audit.auth_events FOR EACH ROW EXECUTE FUNCTION audit.refuse_change();

--
-- Name: auth_events auth_events_no_truncate; Type: TRIGGER; Schema: audit; Owner: finicom_owner
--

CREATE TRIGGER auth_events_no_truncate BEFORE TRUNCATE ON audit.auth_events FOR EACH STATEMENT EXECUTE FUNCTION audit.refuse_change();

--
-- Name: events events_alerts; Type: TRIGGER; Schema: audit; Owner: finicom_owner
--

CREATE TRIGGER events_alerts AFTER INSERT ON audit.events FOR EACH ROW WHEN (((new.actor_type = 'db'::text) OR (new.action = ANY (ARRAY['member.added'::text, 'member.role_changed'::text, 'member.removed'::text, 'api_key.created'::text])))) EXECUTE FUNCTION audit.alerts_on_event();

--
-- Name: events events_append_only; Type: TRIGGER; Schema: audit; Owner: finicom_owner
--

CREATE TRIGGER events_append_only BEFORE DELETE OR UPDATE ON audit.events FOR EACH ROW EXECUTE FUNCTION audit.refuse_change();

--
-- Name: events events_no_truncate; Type: TRIGGER; Schema: audit; Owner: finicom_owner
--

CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON audit.events FOR EACH STATEMENT EXECUTE FUNCTION audit.refuse_change();

--
-- Name: events events_seal_links; Type: TRIGGER; Schema: audit; Owner: finicom_owner
--

CREATE TRIGGER events_seal_links AFTER UPDATE ON audit.events REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION audit.seal_links();

--
-- Name: events events_stamp; Type: TRIGGER; Schema: audit; Owner: finicom_owner
--

CREATE TRIGGER events_stamp BEFORE INSERT ON audit.events FOR EACH ROW EXECUTE FUNCTION audit.stamp();

--
-- Name: alert_rule_settings alert_rule_settings_audit; Type: TRIGGER; Schema: finicom; Owner: finicom_owner
--

CREATE TRIGGER alert_rule_settings_audit AFTER INSERT OR UPDATE ON finicom.alert_rule_settings FOR EACH ROW EXECUTE FUNCTION finicom.alert_rule_audit();

--
-- Name: alerts alerts_acknowledge; Type: TRIGGER; Schema: finicom; Owner: finicom_owner
--

CREATE TRIGGER alerts_acknowledge BEFORE UPDATE ON finicom.alerts FOR EACH ROW EXECUTE FUNCTION finicom.alert_acknowledge_stamp();

--
-- Name: connections connections_touch; Type: TRIGGER; Schema: finicom; Owner: finicom_owner
--

CREATE TRIGGER connections_touch BEFORE UPDATE ON finicom.connections FOR EACH ROW EXECUTE FUNCTION finicom.touch_updated_at();

--
-- Name: destinations destinations_touch; Type: TRIGGER; Schema: finicom; Owner: finicom_owner
--

CREATE TRIGGER destinations_touch BEFORE UPDATE ON finicom.destinations FOR EACH ROW EXECUTE FUNCTION finicom.touch_updated_at();

--
-- Name: integrations integrations_touch; Type: TRIGGER; Schema: finicom; Owner: finicom_owner
--

CREATE TRIGGER integrations_touch BEFORE UPDATE ON finicom.integrations FOR EACH ROW EXECUTE FUNCTION finicom.touch_updated_at();

--
-- Name: memberships memberships_invitations_follow_inviter; Type: TRIGGER; Schema: finicom; Owner: finicom_owner
--

CREATE TRIGGER memberships_invitations_follow_inviter AFTER DELETE OR UPDATE OF role ON finicom.memberships FOR EACH ROW EXECUTE FUNCTION finicom.invitations_follow_inviter();

--
-- Name: memberships memberships_keep_an_admin; Type: TRIGGER; Schema: finicom; Owner: finicom_owner
--

CREATE CONSTRAINT TRIGGER memberships_keep_an_admin AFTER DELETE OR UPDATE OF role, expires_at ON finicom.memberships NOT DEFERRABLE INITIALLY IMMEDIATE FOR EACH ROW EXECUTE FUNCTION finicom.memberships_keep_an_admin();

--
-- Name: orgs orgs_require_2fa_check; Type: TRIGGER; Schema: finicom; Owner: finicom_owner
--

CREATE TRIGGER orgs_require_2fa_check BEFORE UPDATE OF require_2fa ON finicom.orgs FOR EACH ROW EXECUTE FUNCTION finicom.orgs_require_2fa_check();

--
-- Name: sources sources_touch; Type: TRIGGER; Schema: finicom; Owner: finicom_owner
--

CREATE TRIGGER sources_touch BEFORE UPDATE ON finicom.sources FOR EACH ROW EXECUTE FUNCTION finicom.touch_updated_at();

--
-- Name: users users_invitations_follow_inviter; Type: TRIGGER; Schema: finicom; Owner: finicom_owner
--

CREATE TRIGGER users_invitations_follow_inviter BEFORE DELETE ON finicom.users FOR EACH ROW EXECUTE FUNCTION finicom.invitations_follow_deleted_inviter();

--
-- Name: access_review_items zz_audit_access_review_items; Type: TRIGGER; Schema: finicom; Owner: finicom_owner
--

CREATE TRIGGER zz_audit_access_review_items AFTER UPDATE ON finicom.access_review_items FOR EACH ROW EXECUTE FUNCTION audit.capture_access_review();

--
-- Name: access_reviews zz_audit_access_reviews; Type: TRIGGER; Schema: finicom; Owner: finicom_owner
--

CREATE TRIGGER zz_audit_access_reviews AFTER INSERT OR UPDATE ON finicom.access_reviews FOR EACH ROW EXECUTE FUNCTION audit.capture_access_review();

--
-- Name: api_keys zz_audit_api_keys; Type: TRIGGER; Schema: finicom; Owner: finicom_owner
--

CREATE TRIGGER zz_audit_api_keys AFTER INSERT OR DELETE OR UPDATE ON finicom.api_keys FOR EACH ROW EXECUTE FUNCTION audit.capture('api_key');

--
-- Name: connection_integrations zz_audit_connection_integrations; Type: TRIGGER; Schema: finicom; Owner: finicom_owner
--

CREATE TRIGGER zz_audit_connection_integrations AFTER INSERT OR DELETE ON finicom.connection_integrations FOR EACH ROW EXECUTE FUNCTION audit.capture('connection_integration');

--
-- Name: connections zz_audit_connections; Type: TRIGGER; Schema: finicom; Owner: finicom_owner
--

CREATE TRIGGER zz_audit_connections AFTER INSERT OR DELETE OR UPDATE ON finicom.connections FOR EACH ROW EXECUTE FUNCTION audit.capture_object('connection');

--
-- Name: destinations zz_audit_destinations; Type: TRIGGER; Schema: finicom; Owner: finicom_owner
--

CREATE TRIGGER zz_audit_destinations AFTER INSERT OR DELETE OR UPDATE ON finicom.destinations FOR EACH ROW EXECUTE FUNCTION audit.capture_object('destination');

--
-- Name: integrations zz_audit_integrations; Type: TRIGGER; Schema: finicom; Owner: finicom_owner
--

CREATE TRIGGER zz_audit_integrations AFTER INSERT OR DELETE OR UPDATE ON finicom.integrations FOR EACH ROW EXECUTE FUNCTION audit.capture_object('integration');

--
-- Name: invitations zz_audit_invitations; Type: TRIGGER; Schema: finicom; Owner: finicom_owner
--

CREATE TRIGGER zz_audit_invitations AFTER INSERT OR DELETE ON finicom.invitations FOR EACH ROW EXECUTE FUNCTION audit.capture('invitation');

--
-- Name: invitations zz_audit_invitations_update; Type: TRIGGER; Schema: finicom; Owner: finicom_owner
--

CREATE TRIGGER zz_audit_invitations_update AFTER UPDATE ON finicom.invitations FOR EACH ROW WHEN ((NOT (new.cancel_reason IS DISTINCT FROM old.cancel_reason))) EXECUTE FUNCTION audit.capture('invitation');

--
-- Name: memberships zz_audit_memberships; Type: TRIGGER; Schema: finicom; Owner: finicom_owner
--

CREATE TRIGGER zz_audit_memberships AFTER INSERT OR DELETE OR UPDATE ON finicom.memberships FOR EACH ROW EXECUTE FUNCTION audit.capture_member();

--
-- Name: orgs zz_audit_orgs; Type: TRIGGER; Schema: finicom; Owner: finicom_owner
--

CREATE TRIGGER zz_audit_orgs AFTER INSERT OR DELETE OR UPDATE ON finicom.orgs FOR EACH ROW EXECUTE FUNCTION audit.capture('org');

--
-- Name: sources zz_audit_sources; Type: TRIGGER; Schema: finicom; Owner: finicom_owner
--

CREATE TRIGGER zz_audit_sources AFTER INSERT OR DELETE OR UPDATE ON finicom.sources FOR EACH ROW EXECUTE FUNCTION audit.capture_object('source');

--
-- Name: sync_runs zz_audit_sync_runs; Type: TRIGGER; Schema: finicom; Owner: finicom_owner
--

CREATE TRIGGER zz_audit_sync_runs AFTER INSERT ON finicom.sync_runs FOR EACH ROW EXECUTE FUNCTION audit.capture('sync_run');

--
-- Name: access_review_items access_review_items_decided_by_fkey; Type: FK CONSTRAINT; Schema: finicom; Owner: finicom_owner
--

ALTER TABLE ONLY finicom.access_review_items
    ADD CONSTRAINT access_review_items_decided_by_fkey FOREIGN KEY (decided_by) REFERENCES finicom.users(id) ON DELETE SET NULL;

--
-- Name: access_review_items access_review_items_org_id_review_id_fkey; Type: FK CONSTRAINT; Schema: finicom; Owner: finicom_owner
--

ALTER TABLE ONLY finicom.access_review_items
    ADD CONSTRAINT access_review_items_org_id_review_id_fkey FOREIGN KEY (org_id, review_id) REFERENCES finicom.access_reviews(org_id, id) ON DELETE CASCADE;

--
-- Name: access_review_items access_review_items_user_id_fkey; Type: FK CONSTRAINT; Schema: finicom; Owner: finicom_owner
--

ALTER TABLE ONLY finicom.access_review_items
    ADD CONSTRAINT access_review_items_user_id_fkey FOREIGN KEY (user_id) REFERENCES finicom.users(id) ON DELETE CASCADE;

--
-- Name: access_review_reminders access_review_reminders_org_id_fkey; Type: FK CONSTRAINT; Schema: finicom; Owner: finicom_owner
--

ALTER TABLE ONLY finicom.access_review_reminders
    ADD CONSTRAINT access_review_reminders_org_id_fkey FOREIGN KEY (org_id) REFERENCES finicom.orgs(id) ON DELETE CASCADE;

--
-- Name: access_reviews access_reviews_completed_by_fkey; Type: FK CONSTRAINT; Schema: finicom; Owner: finicom_owner
--

ALTER TABLE ONLY finicom.access_reviews
    ADD CONSTRAINT access_reviews_completed_by_fkey FOREIGN KEY (completed_by) REFERENCES finicom.users(id) ON DELETE SET NULL;

--
-- Name: access_reviews access_reviews_created_by_fkey; Type: FK CONSTRAINT; Schema: finicom; Owner: finicom_owner
--

ALTER TABLE ONLY finicom.access_reviews
    ADD CONSTRAINT access_reviews_created_by_fkey FOREIGN KEY (created_by) REFERENCES finicom.users(id) ON DELETE SET NULL;

--
-- Name: access_reviews access_reviews_org_id_fkey; Type: FK CONSTRAINT; Schema: finicom; Owner: finicom_owner
--

ALTER TABLE ONLY finicom.access_reviews
    ADD CONSTRAINT access_reviews_org_id_fkey FOREIGN KEY (org_id) REFERENCES finicom.orgs(id) ON DELETE CASCADE;

--
-- Name: alert_rule_settings alert_rule_settings_org_id_fkey; Type: FK CONSTRAINT; Schema: finicom; Owner: finicom_owner
--

ALTER TABLE ONLY finicom.alert_rule_settings
    ADD CONSTRAINT alert_rule_settings_org_id_fkey FOREIGN KEY (org_id) REFERENCES finicom.orgs(id) ON DELETE CASCADE;

--
-- Name: alerts alerts_org_id_fkey; Type: FK CONSTRAINT; Schema: finicom; Owner: finicom_owner
--

ALTER TABLE ONLY finicom.alerts
    ADD CONSTRAINT alerts_org_id_fkey FOREIGN KEY (org_id) REFERENCES finicom.orgs(id) ON DELETE CASCADE;

--
-- Name: api_keys api_keys_created_by_fkey; Type: FK CONSTRAINT; Schema: finicom; Owner: finicom_owner
--

ALTER TABLE ONLY finicom.api_keys
    ADD CONSTRAINT api_keys_created_by_fkey FOREIGN KEY (created_by) REFERENCES finicom.users(id) ON DELETE SET NULL;

--
-- Name: api_keys api_keys_org_id_fkey; Type: FK CONSTRAINT; Schema: finicom; Owner: finicom_owner
--

ALTER TABLE ONLY finicom.api_keys
    ADD CONSTRAINT api_keys_org_id_fkey FOREIGN KEY (org_id) REFERENCES finicom.orgs(id) ON DELETE CASCADE;

--
-- Name: connection_integrations connection_integrations_connection_fk; Type: FK CONSTRAINT; Schema: finicom; Owner: finicom_owner
--

ALTER TABLE ONLY finicom.connection_integrations
    ADD CONSTRAINT connection_integrations_connection_fk FOREIGN KEY (org_id, connection_id) REFERENCES finicom.connections(org_id, id) ON DELETE CASCADE;

--
-- Name: connection_integrations connection_integrations_integration_fk; Type: FK CONSTRAINT; Schema: finicom; Owner: finicom_owner
--

ALTER TABLE ONLY finicom.connection_integrations
    ADD CONSTRAINT connection_integrations_integration_fk FOREIGN KEY (org_id, integration_id) REFERENCES finicom.integrations(org_id, id) ON DELETE RESTRICT;

--
-- Name: connection_integrations connection_integrations_org_id_fkey; Type: FK CONSTRAINT; Schema: finicom; Owner: finicom_owner
--

ALTER TABLE ONLY finicom.connection_integrations
    ADD CONSTRAINT connection_integrations_org_id_fkey FOREIGN KEY (org_id) REFERENCES finicom.orgs(id) ON DELETE CASCADE;

--
-- Name: connections connections_destination_fk; Type: FK CONSTRAINT; Schema: finicom; Owner: finicom_owner
--

ALTER TABLE ONLY finicom.connections
    ADD CONSTRAINT connections_destination_fk FOREIGN KEY (org_id, destination_id) REFERENCES finicom.destinations(org_id, id) ON DELETE RESTRICT;

--
-- Name: connections connections_org_id_fkey; Type: FK CONSTRAINT; Schema: finicom; Owner: finicom_owner
--

ALTER TABLE ONLY finicom.connections
    ADD CONSTRAINT connections_org_id_fkey FOREIGN KEY (org_id) REFERENCES finicom.orgs(id) ON DELETE CASCADE;

--
-- Name: connections connections_source_fk; Type: FK CONSTRAINT; Schema: finicom; Owner: finicom_owner
--

ALTER TABLE ONLY finicom.connections
    ADD CONSTRAINT connections_source_fk FOREIGN KEY (org_id, source_id) REFERENCES finicom.sources(org_id, id) ON DELETE RESTRICT;

--
-- Name: destinations destinations_org_id_fkey; Type: FK CONSTRAINT; Schema: finicom; Owner: finicom_owner
--

ALTER TABLE ONLY finicom.destinations
    ADD CONSTRAINT destinations_org_id_fkey FOREIGN KEY (org_id) REFERENCES finicom.orgs(id) ON DELETE CASCADE;

--
-- Name: email_verifications email_verifications_mail_id_fkey; Type: FK CONSTRAINT; Schema: finicom; Owner: finicom_owner
--

ALTER TABLE ONLY finicom.email_verifications
    ADD CONSTRAINT email_verifications_mail_id_fkey FOREIGN KEY (mail_id) REFERENCES finicom.mail_outbox(id) ON DELETE SET NULL;

--
-- Name: email_verifications email_verifications_user_id_fkey; Type: FK CONSTRAINT; Schema: finicom; Owner: finicom_owner
--

ALTER TABLE ONLY finicom.email_verifications
    ADD CONSTRAINT email_verifications_user_id_fkey FOREIGN KEY (user_id) REFERENCES finicom.users(id) ON DELETE CASCADE;

--
-- Name: integrations integrations_org_id_fkey; Type: FK CONSTRAINT; Schema: finicom; Owner: finicom_owner
--

ALTER TABLE ONLY finicom.integrations
    ADD CONSTRAINT integrations_org_id_fkey FOREIGN KEY (org_id) REFERENCES finicom.orgs(id) ON DELETE CASCADE;

--
-- Name: invitations invitations_accepted_by_fkey; Type: FK CONSTRAINT; Schema: finicom; Owner: finicom_owner
--

ALTER TABLE ONLY finicom.invitations
    ADD CONSTRAINT invitations_accepted_by_fkey FOREIGN KEY (accepted_by) REFERENCES finicom.users(id) ON DELETE SET NULL;

--
-- Name: invitations invitations_canceled_by_fkey; Type: FK CONSTRAINT; Schema: finicom; Owner: finicom_owner
--

ALTER TABLE ONLY finicom.invitations
    ADD CONSTRAINT invitations_canceled_by_fkey FOREIGN KEY (canceled_by) REFERENCES finicom.users(id) ON DELETE SET NULL;

--
-- Name: invitations invitations_invited_by_fkey; Type: FK CONSTRAINT; Schema: finicom; Owner: finicom_owner
--

ALTER TABLE ONLY finicom.invitations
    ADD CONSTRAINT invitations_invited_by_fkey FOREIGN KEY (invited_by) REFERENCES finicom.users(id) ON DELETE SET NULL;

--
-- Name: invitations invitations_org_id_fkey; Type: FK CONSTRAINT; Schema: finicom; Owner: finicom_owner
--

ALTER TABLE ONLY finicom.invitations
    ADD CONSTRAINT invitations_org_id_fkey FOREIGN KEY (org_id) REFERENCES finicom.orgs(id) ON DELETE CASCADE;

--
-- Name: mail_outbox mail_outbox_org_id_fkey; Type: FK CONSTRAINT; Schema: finicom; Owner: finicom_owner
--

ALTER TABLE ONLY finicom.mail_outbox
    ADD CONSTRAINT mail_outbox_org_id_fkey FOREIGN KEY (org_id) REFERENCES finicom.orgs(id) ON DELETE CASCADE;

--
-- Name: member_activity member_activity_org_id_user_id_fkey; Type: FK CONSTRAINT; Schema: finicom; Owner: finicom_owner
--

ALTER TABLE ONLY finicom.member_activity
    ADD CONSTRAINT member_activity_org_id_user_id_fkey FOREIGN KEY (org_id, user_id) REFERENCES finicom.memberships(org_id, user_id) ON DELETE CASCADE;

--
-- Name: memberships memberships_org_id_fkey; Type: FK CONSTRAINT; Schema: finicom; Owner: finicom_owner
--

ALTER TABLE ONLY finicom.memberships
    ADD CONSTRAINT memberships_org_id_fkey FOREIGN KEY (org_id) REFERENCES finicom.orgs(id) ON DELETE CASCADE;

--
-- Name: memberships memberships_user_id_fkey; Type: FK CONSTRAINT; Schema: finicom; Owner: finicom_owner
--

ALTER TABLE ONLY finicom.memberships
    ADD CONSTRAINT memberships_user_id_fkey FOREIGN KEY (user_id) REFERENCES finicom.users(id) ON DELETE CASCADE;

--
-- Name: password_resets password_resets_user_id_fkey; Type: FK CONSTRAINT; Schema: finicom; Owner: finicom_owner
--

ALTER TABLE ONLY finicom.password_resets
    ADD CONSTRAINT password_resets_user_id_fkey FOREIGN KEY (user_id) REFERENCES finicom.users(id) ON DELETE CASCADE;

--
-- Name: sessions sessions_user_id_fkey; Type: FK CONSTRAINT; Schema: finicom; Owner: finicom_owner
--

ALTER TABLE ONLY finicom.sessions
    ADD CONSTRAINT sessions_user_id_fkey FOREIGN KEY (user_id) REFERENCES finicom.users(id) ON DELETE CASCADE;

--
-- Name: sources sources_org_id_fkey; Type: FK CONSTRAINT; Schema: finicom; Owner: finicom_owner
--

ALTER TABLE ONLY finicom.sources
    ADD CONSTRAINT sources_org_id_fkey FOREIGN KEY (org_id) REFERENCES finicom.orgs(id) ON DELETE CASCADE;

--
-- Name: sync_runs sync_runs_connection_fk; Type: FK CONSTRAINT; Schema: finicom; Owner: finicom_owner
--

ALTER TABLE ONLY finicom.sync_runs
    ADD CONSTRAINT sync_runs_connection_fk FOREIGN KEY (org_id, connection_id) REFERENCES finicom.connections(org_id, id) ON DELETE CASCADE;

--
-- Name: sync_runs sync_runs_org_id_fkey; Type: FK CONSTRAINT; Schema: finicom; Owner: finicom_owner
--

ALTER TABLE ONLY finicom.sync_runs
    ADD CONSTRAINT sync_runs_org_id_fkey FOREIGN KEY (org_id) REFERENCES finicom.orgs(id) ON DELETE CASCADE;

--
-- Name: totp_credentials totp_credentials_user_id_fkey; Type: FK CONSTRAINT; Schema: finicom; Owner: finicom_owner
--

ALTER TABLE ONLY finicom.totp_credentials
    ADD CONSTRAINT totp_credentials_user_id_fkey FOREIGN KEY (user_id) REFERENCES finicom.users(id) ON DELETE CASCADE;

--
-- Name: totp_failures totp_failures_user_id_fkey; Type: FK CONSTRAINT; Schema: finicom; Owner: finicom_owner
--

ALTER TABLE ONLY finicom.totp_failures
    ADD CONSTRAINT totp_failures_user_id_fkey FOREIGN KEY (user_id) REFERENCES finicom.users(id) ON DELETE CASCADE;

--
-- Name: totp_login_tokens totp_login_tokens_user_id_fkey; Type: FK CONSTRAINT; Schema: finicom; Owner: finicom_owner
--

ALTER TABLE ONLY finicom.totp_login_tokens
    ADD CONSTRAINT totp_login_tokens_user_id_fkey FOREIGN KEY (user_id) REFERENCES finicom.users(id) ON DELETE CASCADE;

--
-- Name: totp_recovery_codes totp_recovery_codes_user_id_fkey; Type: FK CONSTRAINT; Schema: finicom; Owner: finicom_owner
--

ALTER TABLE ONLY finicom.totp_recovery_codes
    ADD CONSTRAINT totp_recovery_codes_user_id_fkey FOREIGN KEY (user_id) REFERENCES finicom.users(id) ON DELETE CASCADE;

--
-- Name: auth_events; Type: ROW SECURITY; Schema: audit; Owner: finicom_owner
--

ALTER TABLE audit.auth_events ENABLE ROW LEVEL SECURITY;

--
-- Name: auth_events auth_events_auditor; Type: POLICY; Schema: audit; Owner: finicom_owner
--

CREATE POLICY auth_events_auditor ON audit.auth_events FOR SELECT TO finicom_auditor USING (true);

--
-- Name: auth_events auth_events_owner; Type: POLICY; Schema: audit; Owner: finicom_owner
--

CREATE POLICY auth_events_owner ON audit.auth_events TO finicom_owner USING (true) WITH CHECK (true);

--
-- Name: chain_checks; Type: ROW SECURITY; Schema: audit; Owner: finicom_owner
--

ALTER TABLE audit.chain_checks ENABLE ROW LEVEL SECURITY;

--
-- Name: chain_checks chain_checks_auditor; Type: POLICY; Schema: audit; Owner: finicom_owner
--

CREATE POLICY chain_checks_auditor ON audit.chain_checks FOR SELECT TO finicom_auditor USING (true);

--
-- Name: chain_checks chain_checks_owner; Type: POLICY; Schema: audit; Owner: finicom_owner
--

CREATE POLICY chain_checks_owner ON audit.chain_checks TO finicom_owner USING (true) WITH CHECK (true);

--
-- Name: chain_heads; Type: ROW SECURITY; Schema: audit; Owner: finicom_owner
--

ALTER TABLE audit.chain_heads ENABLE ROW LEVEL SECURITY;

--
-- Name: chain_heads chain_heads_auditor; Type: POLICY; Schema: audit; Owner: finicom_owner
--

CREATE POLICY chain_heads_auditor ON audit.chain_heads FOR SELECT TO finicom_auditor USING (true);

--
-- Name: chain_heads chain_heads_owner; Type: POLICY; Schema: audit; Owner: finicom_owner
--

CREATE POLICY chain_heads_owner ON audit.chain_heads TO finicom_owner USING (true) WITH CHECK (true);

--
-- Name: events; Type: ROW SECURITY; Schema: audit; Owner: finicom_owner
--

ALTER TABLE audit.events ENABLE ROW LEVEL SECURITY;

--
-- Name: events events_app; Type: POLICY; Schema: audit; Owner: finicom_owner
--

CREATE POLICY events_app ON audit.events FOR SELECT TO finicom_app USING ((org_id = ( SELECT finicom.request_org_for('admin'::finicom.role) AS request_org_for)));

--
-- Name: events events_auditor; Type: POLICY; Schema: audit; Owner: finicom_owner
--

CREATE POLICY events_auditor ON audit.events FOR SELECT TO finicom_auditor USING (true);

--
-- Name: events events_owner; Type: POLICY; Schema: audit; Owner: finicom_owner
--

CREATE POLICY events_owner ON audit.events TO finicom_owner USING (true) WITH CHECK (true);

--
-- Name: access_review_items; Type: ROW SECURITY; Schema: finicom; Owner: finicom_owner
--

ALTER TABLE finicom.access_review_items ENABLE ROW LEVEL SECURITY;

--
-- Name: access_review_items access_review_items_delete; Type: POLICY; Schema: finicom; Owner: finicom_owner
--

CREATE POLICY access_review_items_delete ON finicom.access_review_items FOR DELETE TO finicom_app USING ((org_id = ( SELECT finicom.request_org_for('admin'::finicom.role) AS request_org_for)));

--
-- Name: access_review_items access_review_items_insert; Type: POLICY; Schema: finicom; Owner: finicom_owner
--

CREATE POLICY access_review_items_insert ON finicom.access_review_items FOR INSERT TO finicom_app WITH CHECK ((org_id = ( SELECT finicom.request_org_for('admin'::finicom.role) AS request_org_for)));

--
-- Name: access_review_items access_review_items_owner; Type: POLICY; Schema: finicom; Owner: finicom_owner
--

CREATE POLICY access_review_items_owner ON finicom.access_review_items TO finicom_owner USING (true) WITH CHECK (true);

--
-- Name: access_review_items access_review_items_select; Type: POLICY; Schema: finicom; Owner: finicom_owner
--

CREATE POLICY access_review_items_select ON finicom.access_review_items FOR SELECT TO finicom_app USING ((org_id = ( SELECT finicom.request_org_for('admin'::finicom.role) AS request_org_for)));

--
-- Name: access_review_items access_review_items_update; Type: POLICY; Schema: finicom; Owner: finicom_owner
--

CREATE POLICY access_review_items_update ON finicom.access_review_items FOR UPDATE TO finicom_app USING ((org_id = ( SELECT finicom.request_org_for('admin'::finicom.role) AS request_org_for))) WITH CHECK ((org_id = ( SELECT finicom.request_org_for('admin'::finicom.role) AS request_org_for)));

--
-- Name: access_review_reminders; Type: ROW SECURITY; Schema: finicom; Owner: finicom_owner
--

ALTER TABLE finicom.access_review_reminders ENABLE ROW LEVEL SECURITY;

--
-- Name: access_review_reminders access_review_reminders_owner; Type: POLICY; Schema: finicom; Owner: finicom_owner
--

CREATE POLICY access_review_reminders_owner ON finicom.access_review_reminders TO finicom_owner USING (true) WITH CHECK (true);

--
-- Name: access_review_reminders access_review_reminders_select; Type: POLICY; Schema: finicom; Owner: finicom_owner
--

CREATE POLICY access_review_reminders_select ON finicom.access_review_reminders FOR SELECT TO finicom_app USING ((org_id = ( SELECT finicom.request_org_for('admin'::finicom.role) AS request_org_for)));

--
-- Name: access_reviews; Type: ROW SECURITY; Schema: finicom; Owner: finicom_owner
--

ALTER TABLE finicom.access_reviews ENABLE ROW LEVEL SECURITY;

--
-- Name: access_reviews access_reviews_delete; Type: POLICY; Schema: finicom; Owner: finicom_owner
--

CREATE POLICY access_reviews_delete ON finicom.access_reviews FOR DELETE TO finicom_app USING ((org_id = ( SELECT finicom.request_org_for('admin'::finicom.role) AS request_org_for)));

--
-- Name: access_reviews access_reviews_insert; Type: POLICY; Schema: finicom; Owner: finicom_owner
--

CREATE POLICY access_reviews_insert ON finicom.access_reviews FOR INSERT TO finicom_app WITH CHECK ((org_id = ( SELECT finicom.request_org_for('admin'::finicom.role) AS request_org_for)));

--
-- Name: access_reviews access_reviews_owner; Type: POLICY; Schema: finicom; Owner: finicom_owner
--

CREATE POLICY access_reviews_owner ON finicom.access_reviews TO finicom_owner USING (true) WITH CHECK (true);

--
-- Name: access_reviews access_reviews_select; Type: POLICY; Schema: finicom; Owner: finicom_owner
--

CREATE POLICY access_reviews_select ON finicom.access_reviews FOR SELECT TO finicom_app USING ((org_id = ( SELECT finicom.request_org_for('admin'::finicom.role) AS request_org_for)));

--
-- Name: access_reviews access_reviews_update; Type: POLICY; Schema: finicom; Owner: finicom_owner
--

CREATE POLICY access_reviews_update ON finicom.access_reviews FOR UPDATE TO finicom_app USING ((org_id = ( SELECT finicom.request_org_for('admin'::finicom.role) AS request_org_for))) WITH CHECK ((org_id = ( SELECT finicom.request_org_for('admin'::finicom.role) AS request_org_for)));

--
-- Name: alert_rule_settings; Type: ROW SECURITY; Schema: finicom; Owner: finicom_owner
--

ALTER TABLE finicom.alert_rule_settings ENABLE ROW LEVEL SECURITY;

--
-- Name: alert_rule_settings alert_rule_settings_app_insert; Type: POLICY; Schema: finicom; Owner: finicom_owner
--

CREATE POLICY alert_rule_settings_app_insert ON finicom.alert_rule_settings FOR INSERT TO finicom_app WITH CHECK ((org_id = ( SELECT finicom.request_org_for('admin'::finicom.role) AS request_org_for)));

--
-- Name: alert_rule_settings alert_rule_settings_app_select; Type: POLICY; Schema: finicom; Owner: finicom_owner
--

CREATE POLICY alert_rule_settings_app_select ON finicom.alert_rule_settings FOR SELECT TO finicom_app USING ((org_id = ( SELECT finicom.request_org_for('admin'::finicom.role) AS request_org_for)));

--
-- Name: alert_rule_settings alert_rule_settings_app_update; Type: POLICY; Schema: finicom; Owner: finicom_owner
--

CREATE POLICY alert_rule_settings_app_update ON finicom.alert_rule_settings FOR UPDATE TO finicom_app USING ((org_id = ( SELECT finicom.request_org_for('admin'::finicom.role) AS request_org_for))) WITH CHECK ((org_id = ( SELECT finicom.request_org_for('admin'::finicom.role) AS request_org_for)));

--
-- Name: alert_rule_settings alert_rule_settings_owner; Type: POLICY; Schema: finicom; Owner: finicom_owner
--

CREATE POLICY alert_rule_settings_owner ON finicom.alert_rule_settings TO finicom_owner USING (true) WITH CHECK (true);

--
-- Name: alerts; Type: ROW SECURITY; Schema: finicom; Owner: finicom_owner
--

ALTER TABLE finicom.alerts ENABLE ROW LEVEL SECURITY;

--
-- Name: alerts alerts_app_select; Type: POLICY; Schema: finicom; Owner: finicom_owner
--

CREATE POLICY alerts_app_select ON finicom.alerts FOR SELECT TO finicom_app USING ((org_id = ( SELECT finicom.request_org_for('admin'::finicom.role) AS request_org_for)));

--
-- Name: alerts alerts_app_update; Type: POLICY; Schema: finicom; Owner: finicom_owner
--

CREATE POLICY alerts_app_update ON finicom.alerts FOR UPDATE TO finicom_app USING ((org_id = ( SELECT finicom.request_org_for('admin'::finicom.role) AS request_org_for))) WITH CHECK ((org_id = ( SELECT finicom.request_org_for('admin'::finicom.role) AS request_org_for)));

--
-- Name: alerts alerts_owner; Type: POLICY; Schema: finicom; Owner: finicom_owner
--

CREATE POLICY alerts_owner ON finicom.alerts TO finicom_owner USING (true) WITH CHECK (true);

--
-- Name: api_keys; Type: ROW SECURITY; Schema: finicom; Owner: finicom_owner
--

ALTER TABLE finicom.api_keys ENABLE ROW LEVEL SECURITY;

--
-- Name: api_keys api_keys_delete; Type: POLICY; Schema: finicom; Owner: finicom_owner
--

CREATE POLICY api_keys_delete ON finicom.api_keys FOR DELETE TO finicom_app USING (((org_id = ( SELECT finicom.request_org_for('admin'::finicom.role) AS request_org_for)) AND (( SELECT finicom.request_actor_type() AS request_actor_type) = 'user'::text)));

--
-- Name: api_keys api_keys_insert; Type: POLICY; Schema: finicom; Owner: finicom_owner
--

CREATE POLICY api_keys_insert ON finicom.api_keys FOR INSERT TO finicom_app WITH CHECK (((org_id = ( SELECT finicom.request_org_for('admin'::finicom.role) AS request_org_for)) AND (( SELECT finicom.request_actor_type() AS request_actor_type) = 'user'::text)));

--
-- Name: api_keys api_keys_owner; Type: POLICY; Schema: finicom; Owner: finicom_owner
--

CREATE POLICY api_keys_owner ON finicom.api_keys TO finicom_owner USING (true) WITH CHECK (true);

--
-- Name: api_keys api_keys_select; Type: POLICY; Schema: finicom; Owner: finicom_owner
--

CREATE POLICY api_keys_select ON finicom.api_keys FOR SELECT TO finicom_app USING ((org_id = ( SELECT finicom.request_org_for('admin'::finicom.role) AS request_org_for)));

--
-- Name: api_keys api_keys_update; Type: POLICY; Schema: finicom; Owner: finicom_owner
--

CREATE POLICY api_keys_update ON finicom.api_keys FOR UPDATE TO finicom_app USING (((org_id = ( SELECT finicom.request_org_for('admin'::finicom.role) AS request_org_for)) AND (( SELECT finicom.request_actor_type() AS request_actor_type) = 'user'::text))) WITH CHECK (((org_id = ( SELECT finicom.request_org_for('admin'::finicom.role) AS request_org_for)) AND (( SELECT finicom.request_actor_type() AS request_actor_type) = 'user'::text)));

--
-- Name: connection_integrations; Type: ROW SECURITY; Schema: finicom; Owner: finicom_owner
--

ALTER TABLE finicom.connection_integrations ENABLE ROW LEVEL SECURITY;

--
-- Name: connection_integrations connection_integrations_delete; Type: POLICY; Schema: finicom; Owner: finicom_owner
--

CREATE POLICY connection_integrations_delete ON finicom.connection_integrations FOR DELETE TO finicom_app USING ((org_id = ( SELECT finicom.request_org_for('write'::finicom.role) AS request_org_for)));

--
-- Name: connection_integrations connection_integrations_insert; Type: POLICY; Schema: finicom; Owner: finicom_owner
--

CREATE POLICY connection_integrations_insert ON finicom.connection_integrations FOR INSERT TO finicom_app WITH CHECK ((org_id = ( SELECT finicom.request_org_for('write'::finicom.role) AS request_org_for)));

--
-- Name: connection_integrations connection_integrations_owner; Type: POLICY; Schema: finicom; Owner: finicom_owner
--

CREATE POLICY connection_integrations_owner ON finicom.connection_integrations TO finicom_owner USING (true) WITH CHECK (true);

--
-- Name: connection_integrations connection_integrations_select; Type: POLICY; Schema: finicom; Owner: finicom_owner
--

CREATE POLICY connection_integrations_select ON finicom.connection_integrations FOR SELECT TO finicom_app USING ((org_id = ( SELECT finicom.request_org_id() AS request_org_id)));

--
-- Name: connection_integrations connection_integrations_update; Type: POLICY; Schema: finicom; Owner: finicom_owner
--

CREATE POLICY connection_integrations_update ON finicom.connection_integrations FOR UPDATE TO finicom_app USING ((org_id = ( SELECT finicom.request_org_for('write'::finicom.role) AS request_org_for))) WITH CHECK ((org_id = ( SELECT finicom.request_org_for('write'::finicom.role) AS request_org_for)));

--
-- Name: connections; Type: ROW SECURITY; Schema: finicom; Owner: finicom_owner
--

ALTER TABLE finicom.connections ENABLE ROW LEVEL SECURITY;

--
-- Name: connections connections_delete; Type: POLICY; Schema: finicom; Owner: finicom_owner
--

CREATE POLICY connections_delete ON finicom.connections FOR DELETE TO finicom_app USING ((org_id = ( SELECT finicom.request_org_for('write'::finicom.role) AS request_org_for)));

--
-- Name: connections connections_insert; Type: POLICY; Schema: finicom; Owner: finicom_owner
--

CREATE POLICY connections_insert ON finicom.connections FOR INSERT TO finicom_app WITH CHECK ((org_id = ( SELECT finicom.request_org_for('write'::finicom.role) AS request_org_for)));

--
-- Name: connections connections_owner; Type: POLICY; Schema: finicom; Owner: finicom_owner
--

CREATE POLICY connections_owner ON finicom.connections TO finicom_owner USING (true) WITH CHECK (true);

--
-- Name: connections connections_select; Type: POLICY; Schema: finicom; Owner: finicom_owner
--

CREATE POLICY connections_select ON finicom.connections FOR SELECT TO finicom_app USING ((org_id = ( SELECT finicom.request_org_id() AS request_org_id)));

--
-- Name: connections connections_update; Type: POLICY; Schema: finicom; Owner: finicom_owner
--

CREATE POLICY connections_update ON finicom.connections FOR UPDATE TO finicom_app USING ((org_id = ( SELECT finicom.request_org_for('write'::finicom.role) AS request_org_for))) WITH CHECK ((org_id = ( SELECT finicom.request_org_for('write'::finicom.role) AS request_org_for)));

--
-- Name: destinations; Type: ROW SECURITY; Schema: finicom; Owner: finicom_owner
--

ALTER TABLE finicom.destinations ENABLE ROW LEVEL SECURITY;

--
-- Name: destinations destinations_delete; Type: POLICY; Schema: finicom; Owner: finicom_owner
--

CREATE POLICY destinations_delete ON finicom.destinations FOR DELETE TO finicom_app USING ((org_id = ( SELECT finicom.request_org_for('write'::finicom.role) AS request_org_for)));

--
-- Name: destinations destinations_insert; Type: POLICY; Schema: finicom; Owner: finicom_owner
--

CREATE POLICY destinations_insert ON finicom.destinations FOR INSERT TO finicom_app WITH CHECK ((org_id = ( SELECT finicom.request_org_for('write'::finicom.role) AS request_org_for)));

--
-- Name: destinations destinations_owner; Type: POLICY; Schema: finicom; Owner: finicom_owner
--

CREATE POLICY destinations_owner ON finicom.destinations TO finicom_owner USING (true) WITH CHECK (true);

--
-- Name: destinations destinations_select; Type: POLICY; Schema: finicom; Owner: finicom_owner
--

CREATE POLICY destinations_select ON finicom.destinations FOR SELECT TO finicom_app USING ((org_id = ( SELECT finicom.request_org_id() AS request_org_id)));

--
-- Name: destinations destinations_update; Type: POLICY; Schema: finicom; Owner: finicom_owner
--

CREATE POLICY destinations_update ON finicom.destinations FOR UPDATE TO finicom_app USING ((org_id = ( SELECT finicom.request_org_for('write'::finicom.role) AS request_org_for))) WITH CHECK ((org_id = ( SELECT finicom.request_org_for('write'::finicom.role) AS request_org_for)));

--
-- Name: email_verifications; Type: ROW SECURITY; Schema: finicom; Owner: finicom_owner
--

ALTER TABLE finicom.email_verifications ENABLE ROW LEVEL SECURITY;

--
-- Name: email_verifications email_verifications_owner; Type: POLICY; Schema: finicom; Owner: finicom_owner
--

CREATE POLICY email_verifications_owner ON finicom.email_verifications TO finicom_owner USING (true) WITH CHECK (true);

--
-- Name: integrations; Type: ROW SECURITY; Schema: finicom; Owner: finicom_owner
--

ALTER TABLE finicom.integrations ENABLE ROW LEVEL SECURITY;

--
-- Name: integrations integrations_delete; Type: POLICY; Schema: finicom; Owner: finicom_owner
--

CREATE POLICY integrations_delete ON finicom.integrations FOR DELETE TO finicom_app USING ((org_id = ( SELECT finicom.request_org_for('write'::finicom.role) AS request_org_for)));

--
-- Name: integrations integrations_insert; Type: POLICY; Schema: finicom; Owner: finicom_owner
--

CREATE POLICY integrations_insert ON finicom.integrations FOR INSERT TO finicom_app WITH CHECK ((org_id = ( SELECT finicom.request_org_for('write'::finicom.role) AS request_org_for)));

--
-- Name: integrations integrations_owner; Type: POLICY; Schema: finicom; Owner: finicom_owner
--

CREATE POLICY integrations_owner ON finicom.integrations TO finicom_owner USING (true) WITH CHECK (true);

--
-- Name: integrations integrations_select; Type: POLICY; Schema: finicom; Owner: finicom_owner
--

CREATE POLICY integrations_select ON finicom.integrations FOR SELECT TO finicom_app USING ((org_id = ( SELECT finicom.request_org_id() AS request_org_id)));

--
-- Name: integrations integrations_update; Type: POLICY; Schema: finicom; Owner: finicom_owner
--

CREATE POLICY integrations_update ON finicom.integrations FOR UPDATE TO finicom_app USING ((org_id = ( SELECT finicom.request_org_for('write'::finicom.role) AS request_org_for))) WITH CHECK ((org_id = ( SELECT finicom.request_org_for('write'::finicom.role) AS request_org_for)));

--
-- Name: invitations; Type: ROW SECURITY; Schema: finicom; Owner: finicom_owner
--

ALTER TABLE finicom.invitations ENABLE ROW LEVEL SECURITY;

--
-- Name: invitations invitations_delete; Type: POLICY; Schema: finicom; Owner: finicom_owner
--

CREATE POLICY invitations_delete ON finicom.invitations FOR DELETE TO finicom_app USING ((org_id = ( SELECT finicom.request_org_for('admin'::finicom.role) AS request_org_for)));

--
-- Name: invitations invitations_insert; Type: POLICY; Schema: finicom; Owner: finicom_owner
--

CREATE POLICY invitations_insert ON finicom.invitations FOR INSERT TO finicom_app WITH CHECK ((org_id = ( SELECT finicom.request_org_for('admin'::finicom.role) AS request_org_for)));

--
-- Name: invitations invitations_owner; Type: POLICY; Schema: finicom; Owner: finicom_owner
--

CREATE POLICY invitations_owner ON finicom.invitations TO finicom_owner USING (true) WITH CHECK (true);

--
-- Name: invitations invitations_select; Type: POLICY; Schema: finicom; Owner: finicom_owner
--

CREATE POLICY invitations_select ON finicom.invitations FOR SELECT TO finicom_app USING ((org_id = ( SELECT finicom.request_org_for('admin'::finicom.role) AS request_org_for)));

--
-- Name: invitations invitations_update; Type: POLICY; Schema: finicom; Owner: finicom_owner
--

CREATE POLICY invitations_update ON finicom.invitations FOR UPDATE TO finicom_app USING ((org_id = ( SELECT finicom.request_org_for('admin'::finicom.role) AS request_org_for))) WITH CHECK ((org_id = ( SELECT finicom.request_org_for('admin'::finicom.role) AS request_org_for)));

--
-- Name: login_failures; Type: ROW SECURITY; Schema: finicom; Owner: finicom_owner
--

ALTER TABLE finicom.login_failures ENABLE ROW LEVEL SECURITY;

--
-- Name: login_failures login_failures_owner; Type: POLICY; Schema: finicom; Owner: finicom_owner
--

CREATE POLICY login_failures_owner ON finicom.login_failures TO finicom_owner USING (true) WITH CHECK (true);

--
-- Name: mail_outbox; Type: ROW SECURITY; Schema: finicom; Owner: finicom_owner
--

ALTER TABLE finicom.mail_outbox ENABLE ROW LEVEL SECURITY;

--
-- Name: mail_outbox mail_outbox_app_select; Type: POLICY; Schema: finicom; Owner: finicom_owner
--

CREATE POLICY mail_outbox_app_select ON finicom.mail_outbox FOR SELECT TO finicom_app USING ((org_id = ( SELECT finicom.request_org_for('admin'::finicom.role) AS request_org_for)));

--
-- Name: mail_outbox mail_outbox_mailer; Type: POLICY; Schema: finicom; Owner: finicom_owner
--

CREATE POLICY mail_outbox_mailer ON finicom.mail_outbox TO finicom_mailer USING (true) WITH CHECK (true);

--
-- Name: mail_outbox mail_outbox_owner; Type: POLICY; Schema: finicom; Owner: finicom_owner
--

CREATE POLICY mail_outbox_owner ON finicom.mail_outbox TO finicom_owner USING (true) WITH CHECK (true);

--
-- Name: member_activity; Type: ROW SECURITY; Schema: finicom; Owner: finicom_owner
--

ALTER TABLE finicom.member_activity ENABLE ROW LEVEL SECURITY;

--
-- Name: member_activity member_activity_owner; Type: POLICY; Schema: finicom; Owner: finicom_owner
--

CREATE POLICY member_activity_owner ON finicom.member_activity TO finicom_owner USING (true) WITH CHECK (true);

--
-- Name: member_activity member_activity_select; Type: POLICY; Schema: finicom; Owner: finicom_owner
--

CREATE POLICY member_activity_select ON finicom.member_activity FOR SELECT TO finicom_app USING ((org_id = ( SELECT finicom.request_org_id() AS request_org_id)));

--
-- Name: memberships; Type: ROW SECURITY; Schema: finicom; Owner: finicom_owner
--

ALTER TABLE finicom.memberships ENABLE ROW LEVEL SECURITY;

--
-- Name: memberships memberships_delete; Type: POLICY; Schema: finicom; Owner: finicom_owner
--

CREATE POLICY memberships_delete ON finicom.memberships FOR DELETE TO finicom_app USING ((((org_id = ( SELECT finicom.request_org_for('admin'::finicom.role) AS request_org_for)) OR ((org_id = ( SELECT finicom.request_org_id() AS request_org_id)) AND (user_id = ( SELECT finicom.request_user_id() AS request_user_id)))) AND ((expires_at IS NULL) OR (expires_at > ( SELECT now() AS now)))));

--
-- Name: memberships memberships_insert; Type: POLICY; Schema: finicom; Owner: finicom_owner
--

CREATE POLICY memberships_insert ON finicom.memberships FOR INSERT TO finicom_app WITH CHECK ((org_id = ( SELECT finicom.request_org_for('admin'::finicom.role) AS request_org_for)));

--
-- Name: memberships memberships_owner; Type: POLICY; Schema: finicom; Owner: finicom_owner
--

CREATE POLICY memberships_owner ON finicom.memberships TO finicom_owner USING (true) WITH CHECK (true);

--
-- Name: memberships memberships_select; Type: POLICY; Schema: finicom; Owner: finicom_owner
--

CREATE POLICY memberships_select ON finicom.memberships FOR SELECT TO finicom_app USING ((((org_id = ( SELECT finicom.request_org_id() AS request_org_id)) OR (user_id = ( SELECT finicom.request_user_id() AS request_user_id))) AND ((expires_at IS NULL) OR (expires_at > ( SELECT now() AS now)))));

--
-- Name: memberships memberships_update; Type: POLICY; Schema: finicom; Owner: finicom_owner
--

CREATE POLICY memberships_update ON finicom.memberships FOR UPDATE TO finicom_app USING (((org_id = ( SELECT finicom.request_org_for('admin'::finicom.role) AS request_org_for)) AND ((expires_at IS NULL) OR (expires_at > ( SELECT now() AS now))))) WITH CHECK ((org_id = ( SELECT finicom.request_org_for('admin'::finicom.role) AS request_org_for)));

--
-- Name: orgs; Type: ROW SECURITY; Schema: finicom; Owner: finicom_owner
--

ALTER TABLE finicom.orgs ENABLE ROW LEVEL SECURITY;

--
-- Name: orgs orgs_delete; Type: POLICY; Schema: finicom; Owner: finicom_owner
--

CREATE POLICY orgs_delete ON finicom.orgs FOR DELETE TO finicom_app USING ((id = ( SELECT finicom.request_org_for('admin'::finicom.role) AS request_org_for)));

--
-- Name: orgs orgs_owner; Type: POLICY; Schema: finicom; Owner: finicom_owner
--

CREATE POLICY orgs_owner ON finicom.orgs TO finicom_owner USING (true) WITH CHECK (true);

--
-- Name: orgs orgs_select; Type: POLICY; Schema: finicom; Owner: finicom_owner
--

CREATE POLICY orgs_select ON finicom.orgs FOR SELECT TO finicom_app USING (((id = ( SELECT finicom.request_org_id() AS request_org_id)) OR (id IN ( SELECT m.org_id
   FROM finicom.memberships m
  WHERE (m.user_id = ( SELECT finicom.request_user_id() AS request_user_id))))));

--
-- Name: orgs orgs_update; Type: POLICY; Schema: finicom; Owner: finicom_owner
--

CREATE POLICY orgs_update ON finicom.orgs FOR UPDATE TO finicom_app USING ((id = ( SELECT finicom.request_org_for('admin'::finicom.role) AS request_org_for))) WITH CHECK ((id = ( SELECT finicom.request_org_for('admin'::finicom.role) AS request_org_for)));

--
-- Name: password_resets; Type: ROW SECURITY; Schema: finicom; Owner: finicom_owner
--

ALTER TABLE finicom.password_resets ENABLE ROW LEVEL SECURITY;

--
-- Name: password_resets password_resets_owner; Type: POLICY; Schema: finicom; Owner: finicom_owner
--

CREATE POLICY password_resets_owner ON finicom.password_resets TO finicom_owner USING (true) WITH CHECK (true);

--
-- Name: schema_migrations; Type: ROW SECURITY; Schema: finicom; Owner: finicom_owner
--

ALTER TABLE finicom.schema_migrations ENABLE ROW LEVEL SECURITY;

--
-- Name: schema_migrations schema_migrations_owner; Type: POLICY; Schema: finicom; Owner: finicom_owner
--

CREATE POLICY schema_migrations_owner ON finicom.schema_migrations TO finicom_owner USING (true) WITH CHECK (true);

--
-- Name: sessions; Type: ROW SECURITY; Schema: finicom; Owner: finicom_owner
--

ALTER TABLE finicom.sessions ENABLE ROW LEVEL SECURITY;

--
-- Name: sessions sessions_owner; Type: POLICY; Schema: finicom; Owner: finicom_owner
--

CREATE POLICY sessions_owner ON finicom.sessions TO finicom_owner USING (true) WITH CHECK (true);

--
-- Name: sources; Type: ROW SECURITY; Schema: finicom; Owner: finicom_owner
--

ALTER TABLE finicom.sources ENABLE ROW LEVEL SECURITY;

--
-- Name: sources sources_delete; Type: POLICY; Schema: finicom; Owner: finicom_owner
--

CREATE POLICY sources_delete ON finicom.sources FOR DELETE TO finicom_app USING ((org_id = ( SELECT finicom.request_org_for('write'::finicom.role) AS request_org_for)));

--
-- Name: sources sources_insert; Type: POLICY; Schema: finicom; Owner: finicom_owner
--

CREATE POLICY sources_insert ON finicom.sources FOR INSERT TO finicom_app WITH CHECK ((org_id = ( SELECT finicom.request_org_for('write'::finicom.role) AS request_org_for)));

--
-- Name: sources sources_owner; Type: POLICY; Schema: finicom; Owner: finicom_owner
--

CREATE POLICY sources_owner ON finicom.sources TO finicom_owner USING (true) WITH CHECK (true);

--
-- Name: sources sources_select; Type: POLICY; Schema: finicom; Owner: finicom_owner
--

CREATE POLICY sources_select ON finicom.sources FOR SELECT TO finicom_app USING ((org_id = ( SELECT finicom.request_org_id() AS request_org_id)));

--
-- Name: sources sources_update; Type: POLICY; Schema: finicom; Owner: finicom_owner
--

CREATE POLICY sources_update ON finicom.sources FOR UPDATE TO finicom_app USING ((org_id = ( SELECT finicom.request_org_for('write'::finicom.role) AS request_org_for))) WITH CHECK ((org_id = ( SELECT finicom.request_org_for('write'::finicom.role) AS request_org_for)));

--
-- Name: sync_runs; Type: ROW SECURITY; Schema: finicom; Owner: finicom_owner
--

ALTER TABLE finicom.sync_runs ENABLE ROW LEVEL SECURITY;

--
-- Name: sync_runs sync_runs_delete; Type: POLICY; Schema: finicom; Owner: finicom_owner
--

CREATE POLICY sync_runs_delete ON finicom.sync_runs FOR DELETE TO finicom_app USING ((org_id = ( SELECT finicom.request_org_for('write'::finicom.role) AS request_org_for)));

--
-- Name: sync_runs sync_runs_insert; Type: POLICY; Schema: finicom; Owner: finicom_owner
--

CREATE POLICY sync_runs_insert ON finicom.sync_runs FOR INSERT TO finicom_app WITH CHECK ((org_id = ( SELECT finicom.request_org_for('write'::finicom.role) AS request_org_for)));

--
-- Name: sync_runs sync_runs_owner; Type: POLICY; Schema: finicom; Owner: finicom_owner
--

CREATE POLICY sync_runs_owner ON finicom.sync_runs TO finicom_owner USING (true) WITH CHECK (true);

--
-- Name: sync_runs sync_runs_select; Type: POLICY; Schema: finicom; Owner: finicom_owner
--

CREATE POLICY sync_runs_select ON finicom.sync_runs FOR SELECT TO finicom_app USING ((org_id = ( SELECT finicom.request_org_id() AS request_org_id)));

--
-- Name: sync_runs sync_runs_update; Type: POLICY; Schema: finicom; Owner: finicom_owner
--

CREATE POLICY sync_runs_update ON finicom.sync_runs FOR UPDATE TO finicom_app USING ((org_id = ( SELECT finicom.request_org_for('write'::finicom.role) AS request_org_for))) WITH CHECK ((org_id = ( SELECT finicom.request_org_for('write'::finicom.role) AS request_org_for)));

--
-- Name: totp_credentials; Type: ROW SECURITY; Schema: finicom; Owner: finicom_owner
--

ALTER TABLE finicom.totp_credentials ENABLE ROW LEVEL SECURITY;

--
-- Name: totp_credentials totp_credentials_owner; Type: POLICY; Schema: finicom; Owner: finicom_owner
--

CREATE POLICY totp_credentials_owner ON finicom.totp_credentials TO finicom_owner USING (true) WITH CHECK (true);

--
-- Name: totp_credentials totp_credentials_select; Type: POLICY; Schema: finicom; Owner: finicom_owner
--

CREATE POLICY totp_credentials_select ON finicom.totp_credentials FOR SELECT TO finicom_app USING ((user_id = ( SELECT finicom.request_user_id() AS request_user_id)));

--
-- Name: totp_failures; Type: ROW SECURITY; Schema: finicom; Owner: finicom_owner
--

ALTER TABLE finicom.totp_failures ENABLE ROW LEVEL SECURITY;

--
-- Name: totp_failures totp_failures_owner; Type: POLICY; Schema: finicom; Owner: finicom_owner
--

CREATE POLICY totp_failures_owner ON finicom.totp_failures TO finicom_owner USING (true) WITH CHECK (true);

--
-- Name: totp_login_tokens; Type: ROW SECURITY; Schema: finicom; Owner: finicom_owner
--

ALTER TABLE finicom.totp_login_tokens ENABLE ROW LEVEL SECURITY;

--
-- Name: totp_login_tokens totp_login_tokens_owner; Type: POLICY; Schema: finicom; Owner: finicom_owner
--

CREATE POLICY totp_login_tokens_owner ON finicom.totp_login_tokens TO finicom_owner USING (true) WITH CHECK (true);

--
-- Name: totp_recovery_codes; Type: ROW SECURITY; Schema: finicom; Owner: finicom_owner
--

ALTER TABLE finicom.totp_recovery_codes ENABLE ROW LEVEL SECURITY;

--
-- Name: totp_recovery_codes totp_recovery_codes_owner; Type: POLICY; Schema: finicom; Owner: finicom_owner
--

CREATE POLICY totp_recovery_codes_owner ON finicom.totp_recovery_codes TO finicom_owner USING (true) WITH CHECK (true);

--
-- Name: users; Type: ROW SECURITY; Schema: finicom; Owner: finicom_owner
--

ALTER TABLE finicom.users ENABLE ROW LEVEL SECURITY;

--
-- Name: users users_owner; Type: POLICY; Schema: finicom; Owner: finicom_owner
--

CREATE POLICY users_owner ON finicom.users TO finicom_owner USING (true) WITH CHECK (true);

--
-- Name: users users_select; Type: POLICY; Schema: finicom; Owner: finicom_owner
--

CREATE POLICY users_select ON finicom.users FOR SELECT TO finicom_app USING (((id = ( SELECT finicom.request_user_id() AS request_user_id)) OR (id IN ( SELECT m.user_id
   FROM finicom.memberships m)) OR (id IN ( SELECT i.invited_by
   FROM finicom.invitations i))));

--
-- Name: SCHEMA audit; Type: ACL; Schema: -; Owner: finicom_owner
--

GRANT USAGE ON SCHEMA audit TO finicom_app;
GRANT USAGE ON SCHEMA audit TO finicom_auditor;
GRANT USAGE ON SCHEMA audit TO finicom_mailer;

--
-- Name: SCHEMA finicom; Type: ACL; Schema: -; Owner: finicom_owner
--

GRANT USAGE ON SCHEMA finicom TO finicom_app;
GRANT USAGE ON SCHEMA finicom TO finicom_mailer;
GRANT USAGE ON SCHEMA finicom TO finicom_auth;

--
-- Name: SCHEMA finicom_trgm; Type: ACL; Schema: -; Owner: postgres
--

GRANT USAGE ON SCHEMA finicom_trgm TO finicom_owner;

--
-- Name: FUNCTION alerts_on_auth_event(); Type: ACL; Schema: audit; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION audit.alerts_on_auth_event() FROM PUBLIC;

--
-- Name: FUNCTION alerts_on_event(); Type: ACL; Schema: audit; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION audit.alerts_on_event() FROM PUBLIC;

--
-- Name: FUNCTION append(p_org uuid, p_action text, p_target_type text, p_target_id uuid, p_details jsonb); Type: ACL; Schema: audit; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION audit.append(p_org uuid, p_action text, p_target_type text, p_target_id uuid, p_details jsonb) FROM PUBLIC;

--
-- Name: FUNCTION auth_event(p_event text, p_user uuid, p_email text, p_ip text, p_request_id text); Type: ACL; Schema: audit; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION audit.auth_event(p_event text, p_user uuid, p_email text, p_ip text, p_request_id text) FROM PUBLIC;

--
-- Name: TABLE events; Type: ACL; Schema: audit; Owner: finicom_owner
--

GRANT SELECT ON TABLE audit.events TO finicom_app;
GRANT SELECT ON TABLE audit.events TO finicom_auditor;

--
-- Name: FUNCTION canonical(e audit.events); Type: ACL; Schema: audit; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION audit.canonical(e audit.events) FROM PUBLIC;
GRANT ALL ON FUNCTION audit.canonical(e audit.events) TO finicom_auditor;

--
-- Name: FUNCTION capture(); Type: ACL; Schema: audit; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION audit.capture() FROM PUBLIC;

--
-- Name: FUNCTION capture_access_review(); Type: ACL; Schema: audit; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION audit.capture_access_review() FROM PUBLIC;

--
-- Name: FUNCTION capture_member(); Type: ACL; Schema: audit; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION audit.capture_member() FROM PUBLIC;

--
-- Name: FUNCTION capture_object(); Type: ACL; Schema: audit; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION audit.capture_object() FROM PUBLIC;

--
-- Name: FUNCTION changed_fields(p_old jsonb, p_new jsonb, p_skip text[]); Type: ACL; Schema: audit; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION audit.changed_fields(p_old jsonb, p_new jsonb, p_skip text[]) FROM PUBLIC;

--
-- Name: FUNCTION event_json(e audit.events); Type: ACL; Schema: audit; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION audit.event_json(e audit.events) FROM PUBLIC;
GRANT ALL ON FUNCTION audit.event_json(e audit.events) TO finicom_app;
GRANT ALL ON FUNCTION audit.event_json(e audit.events) TO finicom_auditor;

--
-- Name: FUNCTION refuse_change(); Type: ACL; Schema: audit; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION audit.refuse_change() FROM PUBLIC;

--
-- Name: FUNCTION seal_links(); Type: ACL; Schema: audit; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION audit.seal_links() FROM PUBLIC;

--
-- Name: FUNCTION seal_org(p_org uuid); Type: ACL; Schema: audit; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION audit.seal_org(p_org uuid) FROM PUBLIC;

--
-- Name: FUNCTION seal_pending(p_org uuid); Type: ACL; Schema: audit; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION audit.seal_pending(p_org uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION audit.seal_pending(p_org uuid) TO finicom_mailer;

--
-- Name: FUNCTION stamp(); Type: ACL; Schema: audit; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION audit.stamp() FROM PUBLIC;

--
-- Name: FUNCTION verify_chain(p_org uuid); Type: ACL; Schema: audit; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION audit.verify_chain(p_org uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION audit.verify_chain(p_org uuid) TO finicom_auditor;

--
-- Name: FUNCTION verify_chain_from(p_org uuid, p_from bigint); Type: ACL; Schema: audit; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION audit.verify_chain_from(p_org uuid, p_from bigint) FROM PUBLIC;
GRANT ALL ON FUNCTION audit.verify_chain_from(p_org uuid, p_from bigint) TO finicom_auditor;

--
-- Name: FUNCTION verify_recent_chains(p_events integer, p_orgs integer, p_org uuid, p_overlap integer); Type: ACL; Schema: audit; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION audit.verify_recent_chains(p_events integer, p_orgs integer, p_org uuid, p_overlap integer) FROM PUBLIC;

--
-- Name: FUNCTION access_review_cancel(p_id uuid); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.access_review_cancel(p_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION finicom.access_review_cancel(p_id uuid) TO finicom_app;

--
-- Name: FUNCTION access_review_complete(p_id uuid); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.access_review_complete(p_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION finicom.access_review_complete(p_id uuid) TO finicom_app;

--
-- Name: FUNCTION access_review_decide(p_id uuid, p_user uuid, p_decision finicom.access_review_decision, p_new_role finicom.role, p_note text); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.access_review_decide(p_id uuid, p_user uuid, p_decision finicom.access_review_decision, p_new_role finicom.role, p_note text) FROM PUBLIC;
GRANT ALL ON FUNCTION finicom.access_review_decide(p_id uuid, p_user uuid, p_decision finicom.access_review_decision, p_new_role finicom.role, p_note text) TO finicom_app;

--
-- Name: TABLE access_reviews; Type: ACL; Schema: finicom; Owner: finicom_owner
--

GRANT SELECT,INSERT ON TABLE finicom.access_reviews TO finicom_app;

--
-- Name: COLUMN access_reviews.status; Type: ACL; Schema: finicom; Owner: finicom_owner
--

GRANT UPDATE(status) ON TABLE finicom.access_reviews TO finicom_app;

--
-- Name: COLUMN access_reviews.completed_at; Type: ACL; Schema: finicom; Owner: finicom_owner
--

GRANT UPDATE(completed_at) ON TABLE finicom.access_reviews TO finicom_app;

--
-- Name: COLUMN access_reviews.completed_by; Type: ACL; Schema: finicom; Owner: finicom_owner
--

GRANT UPDATE(completed_by) ON TABLE finicom.access_reviews TO finicom_app;

--
-- Name: COLUMN access_reviews.canceled_at; Type: ACL; Schema: finicom; Owner: finicom_owner
--

GRANT UPDATE(canceled_at) ON TABLE finicom.access_reviews TO finicom_app;

--
-- Name: COLUMN access_reviews.applied; Type: ACL; Schema: finicom; Owner: finicom_owner
--

GRANT UPDATE(applied) ON TABLE finicom.access_reviews TO finicom_app;

--
-- Name: FUNCTION access_review_lock_open(p_id uuid); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.access_review_lock_open(p_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION finicom.access_review_lock_open(p_id uuid) TO finicom_app;

--
-- Name: FUNCTION access_review_remind(); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.access_review_remind() FROM PUBLIC;

--
-- Name: FUNCTION access_review_start(p_due_at timestamp with time zone); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.access_review_start(p_due_at timestamp with time zone) FROM PUBLIC;
GRANT ALL ON FUNCTION finicom.access_review_start(p_due_at timestamp with time zone) TO finicom_app;

--
-- Name: FUNCTION alert_acknowledge_stamp(); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.alert_acknowledge_stamp() FROM PUBLIC;

--
-- Name: FUNCTION alert_rule_names(); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.alert_rule_names() FROM PUBLIC;
GRANT ALL ON FUNCTION finicom.alert_rule_names() TO finicom_app;

--
-- Name: TABLE alerts; Type: ACL; Schema: finicom; Owner: finicom_owner
--

GRANT SELECT ON TABLE finicom.alerts TO finicom_app;
GRANT SELECT ON TABLE finicom.alerts TO finicom_auditor;

--
-- Name: COLUMN alerts.acknowledged_at; Type: ACL; Schema: finicom; Owner: finicom_owner
--

GRANT UPDATE(acknowledged_at) ON TABLE finicom.alerts TO finicom_app;

--
-- Name: FUNCTION alert_json(a finicom.alerts); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.alert_json(a finicom.alerts) FROM PUBLIC;
GRANT ALL ON FUNCTION finicom.alert_json(a finicom.alerts) TO finicom_app;

--
-- Name: FUNCTION alert_raise(p_org uuid, p_rule text, p_event_ids uuid[], p_summary text); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.alert_raise(p_org uuid, p_rule text, p_event_ids uuid[], p_summary text) FROM PUBLIC;

--
-- Name: FUNCTION alert_rule_audit(); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.alert_rule_audit() FROM PUBLIC;

--
-- Name: FUNCTION alert_rule_text(p_rule text); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.alert_rule_text(p_rule text) FROM PUBLIC;

--
-- Name: FUNCTION alert_rules_json(p_org uuid); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.alert_rules_json(p_org uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION finicom.alert_rules_json(p_org uuid) TO finicom_app;

--
-- Name: FUNCTION api_key_create(p_org uuid, p_name text, p_role finicom.role, p_prefix text, p_token_hash bytea, p_expires_at timestamp with time zone); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.api_key_create(p_org uuid, p_name text, p_role finicom.role, p_prefix text, p_token_hash bytea, p_expires_at timestamp with time zone) FROM PUBLIC;
GRANT ALL ON FUNCTION finicom.api_key_create(p_org uuid, p_name text, p_role finicom.role, p_prefix text, p_token_hash bytea, p_expires_at timestamp with time zone) TO finicom_app;

--
-- Name: FUNCTION api_key_json(p_id uuid, p_name text, p_role finicom.role, p_prefix text, p_created_at timestamp with time zone, p_expires_at timestamp with time zone, p_last_used_at timestamp with time zone, p_created_by uuid); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.api_key_json(p_id uuid, p_name text, p_role finicom.role, p_prefix text, p_created_at timestamp with time zone, p_expires_at timestamp with time zone, p_last_used_at timestamp with time zone, p_created_by uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION finicom.api_key_json(p_id uuid, p_name text, p_role finicom.role, p_prefix text, p_created_at timestamp with time zone, p_expires_at timestamp with time zone, p_last_used_at timestamp with time zone, p_created_by uuid) TO finicom_app;

--
-- Name: TABLE api_keys; Type: ACL; Schema: finicom; Owner: finicom_owner
--

GRANT INSERT,DELETE ON TABLE finicom.api_keys TO finicom_app;

--
-- Name: COLUMN api_keys.org_id; Type: ACL; Schema: finicom; Owner: finicom_owner
--

GRANT SELECT(org_id) ON TABLE finicom.api_keys TO finicom_app;

--
-- Name: COLUMN api_keys.id; Type: ACL; Schema: finicom; Owner: finicom_owner
--

GRANT SELECT(id) ON TABLE finicom.api_keys TO finicom_app;

--
-- Name: COLUMN api_keys.name; Type: ACL; Schema: finicom; Owner: finicom_owner
--

GRANT SELECT(name) ON TABLE finicom.api_keys TO finicom_app;

--
-- Name: COLUMN api_keys.role; Type: ACL; Schema: finicom; Owner: finicom_owner
--

GRANT SELECT(role) ON TABLE finicom.api_keys TO finicom_app;

--
-- Name: COLUMN api_keys.prefix; Type: ACL; Schema: finicom; Owner: finicom_owner
--

GRANT SELECT(prefix) ON TABLE finicom.api_keys TO finicom_app;

--
-- Name: COLUMN api_keys.created_by; Type: ACL; Schema: finicom; Owner: finicom_owner
--

GRANT SELECT(created_by) ON TABLE finicom.api_keys TO finicom_app;

--
-- Name: COLUMN api_keys.created_at; Type: ACL; Schema: finicom; Owner: finicom_owner
--

GRANT SELECT(created_at) ON TABLE finicom.api_keys TO finicom_app;

--
-- Name: COLUMN api_keys.expires_at; Type: ACL; Schema: finicom; Owner: finicom_owner
--

GRANT SELECT(expires_at) ON TABLE finicom.api_keys TO finicom_app;

--
-- Name: COLUMN api_keys.last_used_at; Type: ACL; Schema: finicom; Owner: finicom_owner
--

GRANT SELECT(last_used_at) ON TABLE finicom.api_keys TO finicom_app;

--
-- Name: COLUMN api_keys.revoked_at; Type: ACL; Schema: finicom; Owner: finicom_owner
--

GRANT SELECT(revoked_at),UPDATE(revoked_at) ON TABLE finicom.api_keys TO finicom_app;

--
-- Name: FUNCTION api_key_live(k finicom.api_keys); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.api_key_live(k finicom.api_keys) FROM PUBLIC;
GRANT ALL ON FUNCTION finicom.api_key_live(k finicom.api_keys) TO finicom_app;

--
-- Name: FUNCTION ascii_lower(p text); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.ascii_lower(p text) FROM PUBLIC;
GRANT ALL ON FUNCTION finicom.ascii_lower(p text) TO finicom_app;
GRANT ALL ON FUNCTION finicom.ascii_lower(p text) TO finicom_mailer;
GRANT ALL ON FUNCTION finicom.ascii_lower(p text) TO finicom_auditor;

--
-- Name: FUNCTION auth_login_begin(p_email text); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.auth_login_begin(p_email text) FROM PUBLIC;
GRANT ALL ON FUNCTION finicom.auth_login_begin(p_email text) TO finicom_auth;

--
-- Name: FUNCTION auth_login_complete(p_user_id uuid, p_token_hash bytea, p_max_age_seconds integer, p_new_hash text, p_old_token_hash bytea, p_ip text, p_request_id text); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.auth_login_complete(p_user_id uuid, p_token_hash bytea, p_max_age_seconds integer, p_new_hash text, p_old_token_hash bytea, p_ip text, p_request_id text) FROM PUBLIC;
GRANT ALL ON FUNCTION finicom.auth_login_complete(p_user_id uuid, p_token_hash bytea, p_max_age_seconds integer, p_new_hash text, p_old_token_hash bytea, p_ip text, p_request_id text) TO finicom_auth;

--
-- Name: FUNCTION auth_login_failed(p_email text, p_ip text, p_request_id text); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.auth_login_failed(p_email text, p_ip text, p_request_id text) FROM PUBLIC;
GRANT ALL ON FUNCTION finicom.auth_login_failed(p_email text, p_ip text, p_request_id text) TO finicom_auth;

--
-- Name: FUNCTION auth_login_proceed(p_user_id uuid, p_token_hash bytea, p_max_age_seconds integer, p_new_hash text, p_old_token_hash bytea, p_ip text, p_request_id text, p_login_hash bytea); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.auth_login_proceed(p_user_id uuid, p_token_hash bytea, p_max_age_seconds integer, p_new_hash text, p_old_token_hash bytea, p_ip text, p_request_id text, p_login_hash bytea) FROM PUBLIC;
GRANT ALL ON FUNCTION finicom.auth_login_proceed(p_user_id uuid, p_token_hash bytea, p_max_age_seconds integer, p_new_hash text, p_old_token_hash bytea, p_ip text, p_request_id text, p_login_hash bytea) TO finicom_auth;

--
-- Name: FUNCTION auth_logout(p_token_hash bytea); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.auth_logout(p_token_hash bytea) FROM PUBLIC;
GRANT ALL ON FUNCTION finicom.auth_logout(p_token_hash bytea) TO finicom_app;

--
-- Name: FUNCTION auth_password_change(p_user uuid, p_session_hash bytea, p_new_hash text, p_ip text, p_request_id text); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.auth_password_change(p_user uuid, p_session_hash bytea, p_new_hash text, p_ip text, p_request_id text) FROM PUBLIC;
GRANT ALL ON FUNCTION finicom.auth_password_change(p_user uuid, p_session_hash bytea, p_new_hash text, p_ip text, p_request_id text) TO finicom_auth;

--
-- Name: FUNCTION auth_password_change_begin(p_user uuid, p_session_hash bytea); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.auth_password_change_begin(p_user uuid, p_session_hash bytea) FROM PUBLIC;
GRANT ALL ON FUNCTION finicom.auth_password_change_begin(p_user uuid, p_session_hash bytea) TO finicom_auth;

--
-- Name: FUNCTION auth_password_reset(p_token_hash bytea, p_password_hash text, p_session_hash bytea, p_max_age_seconds integer, p_ip text, p_request_id text, p_user_agent text, p_login_hash bytea); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.auth_password_reset(p_token_hash bytea, p_password_hash text, p_session_hash bytea, p_max_age_seconds integer, p_ip text, p_request_id text, p_user_agent text, p_login_hash bytea) FROM PUBLIC;
GRANT ALL ON FUNCTION finicom.auth_password_reset(p_token_hash bytea, p_password_hash text, p_session_hash bytea, p_max_age_seconds integer, p_ip text, p_request_id text, p_user_agent text, p_login_hash bytea) TO finicom_auth;

--
-- Name: FUNCTION auth_password_reset_request(p_email text, p_token_hash bytea, p_link text, p_ip text, p_request_id text); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.auth_password_reset_request(p_email text, p_token_hash bytea, p_link text, p_ip text, p_request_id text) FROM PUBLIC;
GRANT ALL ON FUNCTION finicom.auth_password_reset_request(p_email text, p_token_hash bytea, p_link text, p_ip text, p_request_id text) TO finicom_auth;

--
-- Name: FUNCTION auth_signup(p_email text, p_name text, p_password_hash text, p_token_hash bytea, p_max_age_seconds integer, p_ip text, p_request_id text); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.auth_signup(p_email text, p_name text, p_password_hash text, p_token_hash bytea, p_max_age_seconds integer, p_ip text, p_request_id text) FROM PUBLIC;

--
-- Name: FUNCTION auth_signup_verify(p_email text, p_name text, p_password_hash text, p_session_hash bytea, p_max_age_seconds integer, p_ip text, p_request_id text, p_verify_hash bytea, p_verify_link text); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.auth_signup_verify(p_email text, p_name text, p_password_hash text, p_session_hash bytea, p_max_age_seconds integer, p_ip text, p_request_id text, p_verify_hash bytea, p_verify_link text) FROM PUBLIC;
GRANT ALL ON FUNCTION finicom.auth_signup_verify(p_email text, p_name text, p_password_hash text, p_session_hash bytea, p_max_age_seconds integer, p_ip text, p_request_id text, p_verify_hash bytea, p_verify_link text) TO finicom_auth;

--
-- Name: FUNCTION auth_totp_begin(p_session_hash bytea); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.auth_totp_begin(p_session_hash bytea) FROM PUBLIC;
GRANT ALL ON FUNCTION finicom.auth_totp_begin(p_session_hash bytea) TO finicom_auth;

--
-- Name: FUNCTION auth_totp_confirm(p_session_hash bytea, p_step bigint, p_codes bytea[], p_ip text, p_request_id text); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.auth_totp_confirm(p_session_hash bytea, p_step bigint, p_codes bytea[], p_ip text, p_request_id text) FROM PUBLIC;
GRANT ALL ON FUNCTION finicom.auth_totp_confirm(p_session_hash bytea, p_step bigint, p_codes bytea[], p_ip text, p_request_id text) TO finicom_auth;

--
-- Name: FUNCTION auth_totp_disable(p_session_hash bytea, p_step bigint, p_recovery bytea, p_ip text, p_request_id text); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.auth_totp_disable(p_session_hash bytea, p_step bigint, p_recovery bytea, p_ip text, p_request_id text) FROM PUBLIC;
GRANT ALL ON FUNCTION finicom.auth_totp_disable(p_session_hash bytea, p_step bigint, p_recovery bytea, p_ip text, p_request_id text) TO finicom_auth;

--
-- Name: FUNCTION auth_totp_enrol(p_session_hash bytea, p_secret_enc text, p_ip text, p_request_id text); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.auth_totp_enrol(p_session_hash bytea, p_secret_enc text, p_ip text, p_request_id text) FROM PUBLIC;
GRANT ALL ON FUNCTION finicom.auth_totp_enrol(p_session_hash bytea, p_secret_enc text, p_ip text, p_request_id text) TO finicom_auth;

--
-- Name: FUNCTION auth_totp_failed(p_user uuid, p_login boolean, p_ip text, p_request_id text); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.auth_totp_failed(p_user uuid, p_login boolean, p_ip text, p_request_id text) FROM PUBLIC;
GRANT ALL ON FUNCTION finicom.auth_totp_failed(p_user uuid, p_login boolean, p_ip text, p_request_id text) TO finicom_auth;

--
-- Name: FUNCTION auth_totp_login_begin(p_login_hash bytea); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.auth_totp_login_begin(p_login_hash bytea) FROM PUBLIC;
GRANT ALL ON FUNCTION finicom.auth_totp_login_begin(p_login_hash bytea) TO finicom_auth;

--
-- Name: FUNCTION auth_totp_login_complete(p_login_hash bytea, p_step bigint, p_recovery bytea, p_token_hash bytea, p_max_age_seconds integer, p_old_token_hash bytea, p_ip text, p_request_id text); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.auth_totp_login_complete(p_login_hash bytea, p_step bigint, p_recovery bytea, p_token_hash bytea, p_max_age_seconds integer, p_old_token_hash bytea, p_ip text, p_request_id text) FROM PUBLIC;
GRANT ALL ON FUNCTION finicom.auth_totp_login_complete(p_login_hash bytea, p_step bigint, p_recovery bytea, p_token_hash bytea, p_max_age_seconds integer, p_old_token_hash bytea, p_ip text, p_request_id text) TO finicom_auth;

--
-- Name: FUNCTION auth_totp_user(p_session_hash bytea); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.auth_totp_user(p_session_hash bytea) FROM PUBLIC;
GRANT ALL ON FUNCTION finicom.auth_totp_user(p_session_hash bytea) TO finicom_auth;

--
-- Name: FUNCTION begin_request(p_credential text, p_token_hash bytea, p_org_id uuid, p_idle_seconds integer, p_request_id text, p_client_ip text); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.begin_request(p_credential text, p_token_hash bytea, p_org_id uuid, p_idle_seconds integer, p_request_id text, p_client_ip text) FROM PUBLIC;
GRANT ALL ON FUNCTION finicom.begin_request(p_credential text, p_token_hash bytea, p_org_id uuid, p_idle_seconds integer, p_request_id text, p_client_ip text) TO finicom_app;

--
-- Name: FUNCTION config_mask(p jsonb); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.config_mask(p jsonb) FROM PUBLIC;
GRANT ALL ON FUNCTION finicom.config_mask(p jsonb) TO finicom_app;

--
-- Name: FUNCTION connection_refs_check(p_org uuid, p_source uuid, p_destination uuid, p_integrations uuid[]); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.connection_refs_check(p_org uuid, p_source uuid, p_destination uuid, p_integrations uuid[]) FROM PUBLIC;
GRANT ALL ON FUNCTION finicom.connection_refs_check(p_org uuid, p_source uuid, p_destination uuid, p_integrations uuid[]) TO finicom_app;

--
-- Name: FUNCTION context_enter(p_actor_type text, p_actor_id uuid, p_org_id uuid, p_request_id text, p_client_ip text, OUT org_id uuid, OUT org_role finicom.role); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.context_enter(p_actor_type text, p_actor_id uuid, p_org_id uuid, p_request_id text, p_client_ip text, OUT org_id uuid, OUT org_role finicom.role) FROM PUBLIC;

--
-- Name: FUNCTION context_guard(); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.context_guard() FROM PUBLIC;
GRANT ALL ON FUNCTION finicom.context_guard() TO finicom_app;
GRANT ALL ON FUNCTION finicom.context_guard() TO finicom_mailer;
GRANT ALL ON FUNCTION finicom.context_guard() TO finicom_auditor;

--
-- Name: FUNCTION context_ok(); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.context_ok() FROM PUBLIC;
GRANT ALL ON FUNCTION finicom.context_ok() TO finicom_app;
GRANT ALL ON FUNCTION finicom.context_ok() TO finicom_mailer;
GRANT ALL ON FUNCTION finicom.context_ok() TO finicom_auditor;

--
-- Name: FUNCTION context_seal(p_actor_type text, p_actor_id uuid, p_org_id uuid, p_role finicom.role, p_request_id text, p_client_ip text); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.context_seal(p_actor_type text, p_actor_id uuid, p_org_id uuid, p_role finicom.role, p_request_id text, p_client_ip text) FROM PUBLIC;

--
-- Name: FUNCTION current_actor_id(); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.current_actor_id() FROM PUBLIC;
GRANT ALL ON FUNCTION finicom.current_actor_id() TO finicom_app;

--
-- Name: FUNCTION current_actor_type(); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.current_actor_type() FROM PUBLIC;
GRANT ALL ON FUNCTION finicom.current_actor_type() TO finicom_app;

--
-- Name: FUNCTION current_org_id(); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.current_org_id() FROM PUBLIC;
GRANT ALL ON FUNCTION finicom.current_org_id() TO finicom_app;

--
-- Name: FUNCTION current_user_id(); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.current_user_id() FROM PUBLIC;
GRANT ALL ON FUNCTION finicom.current_user_id() TO finicom_app;

--
-- Name: FUNCTION cursor_key(t timestamp with time zone, id uuid); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.cursor_key(t timestamp with time zone, id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION finicom.cursor_key(t timestamp with time zone, id uuid) TO finicom_app;
GRANT ALL ON FUNCTION finicom.cursor_key(t timestamp with time zone, id uuid) TO finicom_auditor;

--
-- Name: TABLE orgs; Type: ACL; Schema: finicom; Owner: finicom_owner
--

GRANT SELECT,DELETE ON TABLE finicom.orgs TO finicom_app;

--
-- Name: COLUMN orgs.name; Type: ACL; Schema: finicom; Owner: finicom_owner
--

GRANT UPDATE(name) ON TABLE finicom.orgs TO finicom_app;

--
-- Name: COLUMN orgs.invite_ttl_hours; Type: ACL; Schema: finicom; Owner: finicom_owner
--

GRANT UPDATE(invite_ttl_hours) ON TABLE finicom.orgs TO finicom_app;

--
-- Name: COLUMN orgs.plan; Type: ACL; Schema: finicom; Owner: finicom_owner
--

GRANT UPDATE(plan) ON TABLE finicom.orgs TO finicom_app;

--
-- Name: COLUMN orgs.billing_email; Type: ACL; Schema: finicom; Owner: finicom_owner
--

GRANT UPDATE(billing_email) ON TABLE finicom.orgs TO finicom_app;

--
-- Name: COLUMN orgs.require_2fa; Type: ACL; Schema: finicom; Owner: finicom_owner
--

GRANT UPDATE(require_2fa) ON TABLE finicom.orgs TO finicom_app;

--
-- Name: COLUMN orgs.access_review_interval_days; Type: ACL; Schema: finicom; Owner: finicom_owner
--

GRANT UPDATE(access_review_interval_days) ON TABLE finicom.orgs TO finicom_app;

--
-- Name: FUNCTION effective_plan(o finicom.orgs); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.effective_plan(o finicom.orgs) FROM PUBLIC;
GRANT ALL ON FUNCTION finicom.effective_plan(o finicom.orgs) TO finicom_app;

--
-- Name: FUNCTION email_verification_issue(p_user uuid, p_session_hash bytea, p_token_hash bytea, p_link text); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.email_verification_issue(p_user uuid, p_session_hash bytea, p_token_hash bytea, p_link text) FROM PUBLIC;

--
-- Name: FUNCTION email_verification_resend(p_session_hash bytea, p_token_hash bytea, p_link text); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.email_verification_resend(p_session_hash bytea, p_token_hash bytea, p_link text) FROM PUBLIC;
GRANT ALL ON FUNCTION finicom.email_verification_resend(p_session_hash bytea, p_token_hash bytea, p_link text) TO finicom_app;

--
-- Name: FUNCTION email_verified_mark(p_user uuid, p_ip text, p_request_id text); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.email_verified_mark(p_user uuid, p_ip text, p_request_id text) FROM PUBLIC;

--
-- Name: FUNCTION email_verify(p_token_hash bytea, p_ip text, p_request_id text); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.email_verify(p_token_hash bytea, p_ip text, p_request_id text) FROM PUBLIC;
GRANT ALL ON FUNCTION finicom.email_verify(p_token_hash bytea, p_ip text, p_request_id text) TO finicom_app;

--
-- Name: FUNCTION expire_invitations(); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.expire_invitations() FROM PUBLIC;

--
-- Name: FUNCTION expire_memberships(); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.expire_memberships() FROM PUBLIC;

--
-- Name: FUNCTION future_time(p timestamp with time zone, p_field text); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.future_time(p timestamp with time zone, p_field text) FROM PUBLIC;
GRANT ALL ON FUNCTION finicom.future_time(p timestamp with time zone, p_field text) TO finicom_app;

--
-- Name: FUNCTION has_role(p_org uuid, p_min finicom.role); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.has_role(p_org uuid, p_min finicom.role) FROM PUBLIC;
GRANT ALL ON FUNCTION finicom.has_role(p_org uuid, p_min finicom.role) TO finicom_app;

--
-- Name: FUNCTION invitation_accept_new_user(p_token_hash bytea, p_name text, p_password_hash text, p_session_hash bytea, p_max_age_seconds integer, p_ip text, p_request_id text); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.invitation_accept_new_user(p_token_hash bytea, p_name text, p_password_hash text, p_session_hash bytea, p_max_age_seconds integer, p_ip text, p_request_id text) FROM PUBLIC;
GRANT ALL ON FUNCTION finicom.invitation_accept_new_user(p_token_hash bytea, p_name text, p_password_hash text, p_session_hash bytea, p_max_age_seconds integer, p_ip text, p_request_id text) TO finicom_auth;

--
-- Name: TABLE invitations; Type: ACL; Schema: finicom; Owner: finicom_owner
--

GRANT SELECT,INSERT,DELETE ON TABLE finicom.invitations TO finicom_app;

--
-- Name: COLUMN invitations.token_hash; Type: ACL; Schema: finicom; Owner: finicom_owner
--

GRANT UPDATE(token_hash) ON TABLE finicom.invitations TO finicom_app;

--
-- Name: COLUMN invitations.status; Type: ACL; Schema: finicom; Owner: finicom_owner
--

GRANT UPDATE(status) ON TABLE finicom.invitations TO finicom_app;

--
-- Name: COLUMN invitations.expires_at; Type: ACL; Schema: finicom; Owner: finicom_owner
--

GRANT UPDATE(expires_at) ON TABLE finicom.invitations TO finicom_app;

--
-- Name: COLUMN invitations.canceled_at; Type: ACL; Schema: finicom; Owner: finicom_owner
--

GRANT UPDATE(canceled_at) ON TABLE finicom.invitations TO finicom_app;

--
-- Name: COLUMN invitations.canceled_by; Type: ACL; Schema: finicom; Owner: finicom_owner
--

GRANT UPDATE(canceled_by) ON TABLE finicom.invitations TO finicom_app;

--
-- Name: FUNCTION invitation_admit(p_inv finicom.invitations, p_user uuid, p_request_id text, p_client_ip text); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.invitation_admit(p_inv finicom.invitations, p_user uuid, p_request_id text, p_client_ip text) FROM PUBLIC;

--
-- Name: FUNCTION invitation_cancel(p_org uuid, p_id uuid); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.invitation_cancel(p_org uuid, p_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION finicom.invitation_cancel(p_org uuid, p_id uuid) TO finicom_app;

--
-- Name: FUNCTION invitation_create(p_org uuid, p_email text, p_role finicom.role, p_token_hash bytea, p_link text); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.invitation_create(p_org uuid, p_email text, p_role finicom.role, p_token_hash bytea, p_link text) FROM PUBLIC;
GRANT ALL ON FUNCTION finicom.invitation_create(p_org uuid, p_email text, p_role finicom.role, p_token_hash bytea, p_link text) TO finicom_app;

--
-- Name: FUNCTION invitation_create(p_org uuid, p_email text, p_role finicom.role, p_token_hash bytea, p_link text, p_membership_expires_at timestamp with time zone); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.invitation_create(p_org uuid, p_email text, p_role finicom.role, p_token_hash bytea, p_link text, p_membership_expires_at timestamp with time zone) FROM PUBLIC;
GRANT ALL ON FUNCTION finicom.invitation_create(p_org uuid, p_email text, p_role finicom.role, p_token_hash bytea, p_link text, p_membership_expires_at timestamp with time zone) TO finicom_app;

--
-- Name: FUNCTION invitation_create_batch(p_org uuid, p_items json); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.invitation_create_batch(p_org uuid, p_items json) FROM PUBLIC;
GRANT ALL ON FUNCTION finicom.invitation_create_batch(p_org uuid, p_items json) TO finicom_app;

--
-- Name: FUNCTION invitation_enqueue_mail(i finicom.invitations, p_link text); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.invitation_enqueue_mail(i finicom.invitations, p_link text) FROM PUBLIC;

--
-- Name: FUNCTION invitation_join(p_token_hash bytea); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.invitation_join(p_token_hash bytea) FROM PUBLIC;
GRANT ALL ON FUNCTION finicom.invitation_join(p_token_hash bytea) TO finicom_app;

--
-- Name: FUNCTION invitation_json(i finicom.invitations); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.invitation_json(i finicom.invitations) FROM PUBLIC;
GRANT ALL ON FUNCTION finicom.invitation_json(i finicom.invitations) TO finicom_app;

--
-- Name: FUNCTION invitation_mail_check(i finicom.invitations); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.invitation_mail_check(i finicom.invitations) FROM PUBLIC;

--
-- Name: FUNCTION invitation_preview(p_token_hash bytea); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.invitation_preview(p_token_hash bytea) FROM PUBLIC;
GRANT ALL ON FUNCTION finicom.invitation_preview(p_token_hash bytea) TO finicom_app;

--
-- Name: FUNCTION invitation_resend(p_org uuid, p_id uuid, p_token_hash bytea, p_link text); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.invitation_resend(p_org uuid, p_id uuid, p_token_hash bytea, p_link text) FROM PUBLIC;
GRANT ALL ON FUNCTION finicom.invitation_resend(p_org uuid, p_id uuid, p_token_hash bytea, p_link text) TO finicom_app;

--
-- Name: FUNCTION invitations_cancel_for_inviter(p_org uuid, p_user uuid); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.invitations_cancel_for_inviter(p_org uuid, p_user uuid) FROM PUBLIC;

--
-- Name: FUNCTION invitations_follow_deleted_inviter(); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.invitations_follow_deleted_inviter() FROM PUBLIC;

--
-- Name: FUNCTION invitations_follow_inviter(); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.invitations_follow_inviter() FROM PUBLIC;

--
-- Name: FUNCTION login_lock_seconds(p_failures integer); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.login_lock_seconds(p_failures integer) FROM PUBLIC;

--
-- Name: FUNCTION mail_claim(); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.mail_claim() FROM PUBLIC;
GRANT ALL ON FUNCTION finicom.mail_claim() TO finicom_mailer;

--
-- Name: FUNCTION mail_failed(p_id uuid, p_error text, p_base_seconds integer, p_cap_seconds integer, p_max_attempts integer); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.mail_failed(p_id uuid, p_error text, p_base_seconds integer, p_cap_seconds integer, p_max_attempts integer) FROM PUBLIC;
GRANT ALL ON FUNCTION finicom.mail_failed(p_id uuid, p_error text, p_base_seconds integer, p_cap_seconds integer, p_max_attempts integer) TO finicom_mailer;

--
-- Name: FUNCTION mail_next_due(); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.mail_next_due() FROM PUBLIC;
GRANT ALL ON FUNCTION finicom.mail_next_due() TO finicom_mailer;

--
-- Name: FUNCTION mail_sent(p_id uuid); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.mail_sent(p_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION finicom.mail_sent(p_id uuid) TO finicom_mailer;

--
-- Name: FUNCTION me_update(p_name text); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.me_update(p_name text) FROM PUBLIC;
GRANT ALL ON FUNCTION finicom.me_update(p_name text) TO finicom_app;

--
-- Name: FUNCTION member_item(p_user_id uuid, p_email text, p_name text, p_role finicom.role, p_joined_at timestamp with time zone, p_last_active_at timestamp with time zone); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.member_item(p_user_id uuid, p_email text, p_name text, p_role finicom.role, p_joined_at timestamp with time zone, p_last_active_at timestamp with time zone) FROM PUBLIC;
GRANT ALL ON FUNCTION finicom.member_item(p_user_id uuid, p_email text, p_name text, p_role finicom.role, p_joined_at timestamp with time zone, p_last_active_at timestamp with time zone) TO finicom_app;

--
-- Name: FUNCTION member_item(p_user_id uuid, p_email text, p_name text, p_role finicom.role, p_joined_at timestamp with time zone, p_last_active_at timestamp with time zone, p_expires_at timestamp with time zone); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.member_item(p_user_id uuid, p_email text, p_name text, p_role finicom.role, p_joined_at timestamp with time zone, p_last_active_at timestamp with time zone, p_expires_at timestamp with time zone) FROM PUBLIC;
GRANT ALL ON FUNCTION finicom.member_item(p_user_id uuid, p_email text, p_name text, p_role finicom.role, p_joined_at timestamp with time zone, p_last_active_at timestamp with time zone, p_expires_at timestamp with time zone) TO finicom_app;

--
-- Name: TABLE memberships; Type: ACL; Schema: finicom; Owner: finicom_owner
--

GRANT SELECT,INSERT,DELETE ON TABLE finicom.memberships TO finicom_app;

--
-- Name: COLUMN memberships.role; Type: ACL; Schema: finicom; Owner: finicom_owner
--

GRANT UPDATE(role) ON TABLE finicom.memberships TO finicom_app;

--
-- Name: COLUMN memberships.expires_at; Type: ACL; Schema: finicom; Owner: finicom_owner
--

GRANT UPDATE(expires_at) ON TABLE finicom.memberships TO finicom_app;

--
-- Name: FUNCTION member_json(m finicom.memberships, p_email text, p_name text, p_last_active_at timestamp with time zone); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.member_json(m finicom.memberships, p_email text, p_name text, p_last_active_at timestamp with time zone) FROM PUBLIC;
GRANT ALL ON FUNCTION finicom.member_json(m finicom.memberships, p_email text, p_name text, p_last_active_at timestamp with time zone) TO finicom_app;

--
-- Name: FUNCTION member_search(p_limit integer, p_after_t timestamp with time zone, p_after_id uuid, p_like text, p_role finicom.role, p_inactive_days integer); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.member_search(p_limit integer, p_after_t timestamp with time zone, p_after_id uuid, p_like text, p_role finicom.role, p_inactive_days integer) FROM PUBLIC;
GRANT ALL ON FUNCTION finicom.member_search(p_limit integer, p_after_t timestamp with time zone, p_after_id uuid, p_like text, p_role finicom.role, p_inactive_days integer) TO finicom_app;

--
-- Name: FUNCTION memberships_keep_an_admin(); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.memberships_keep_an_admin() FROM PUBLIC;

--
-- Name: FUNCTION my_sessions(p_current_hash bytea, p_idle_seconds integer, p_limit integer, p_after_t timestamp with time zone, p_after_id uuid); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.my_sessions(p_current_hash bytea, p_idle_seconds integer, p_limit integer, p_after_t timestamp with time zone, p_after_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION finicom.my_sessions(p_current_hash bytea, p_idle_seconds integer, p_limit integer, p_after_t timestamp with time zone, p_after_id uuid) TO finicom_app;

--
-- Name: FUNCTION object_delete(p_kind text, p_org uuid, p_id uuid); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.object_delete(p_kind text, p_org uuid, p_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION finicom.object_delete(p_kind text, p_org uuid, p_id uuid) TO finicom_app;

--
-- Name: FUNCTION org_create(p_name text); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.org_create(p_name text) FROM PUBLIC;
GRANT ALL ON FUNCTION finicom.org_create(p_name text) TO finicom_app;

--
-- Name: FUNCTION org_created_now(p_org uuid); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.org_created_now(p_org uuid) FROM PUBLIC;

--
-- Name: FUNCTION org_json(o finicom.orgs, p_role text); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.org_json(o finicom.orgs, p_role text) FROM PUBLIC;
GRANT ALL ON FUNCTION finicom.org_json(o finicom.orgs, p_role text) TO finicom_app;

--
-- Name: FUNCTION orgs_require_2fa_check(); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.orgs_require_2fa_check() FROM PUBLIC;

--
-- Name: FUNCTION password_reset_preview(p_token_hash bytea); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.password_reset_preview(p_token_hash bytea) FROM PUBLIC;
GRANT ALL ON FUNCTION finicom.password_reset_preview(p_token_hash bytea) TO finicom_app;

--
-- Name: FUNCTION person_json(p_id uuid, p_email text, p_name text); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.person_json(p_id uuid, p_email text, p_name text) FROM PUBLIC;
GRANT ALL ON FUNCTION finicom.person_json(p_id uuid, p_email text, p_name text) TO finicom_app;

--
-- Name: FUNCTION purge_sessions(); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.purge_sessions() FROM PUBLIC;

--
-- Name: FUNCTION request_actor_id(); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.request_actor_id() FROM PUBLIC;
GRANT ALL ON FUNCTION finicom.request_actor_id() TO finicom_app;
GRANT ALL ON FUNCTION finicom.request_actor_id() TO finicom_mailer;
GRANT ALL ON FUNCTION finicom.request_actor_id() TO finicom_auditor;

--
-- Name: FUNCTION request_actor_type(); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.request_actor_type() FROM PUBLIC;
GRANT ALL ON FUNCTION finicom.request_actor_type() TO finicom_app;
GRANT ALL ON FUNCTION finicom.request_actor_type() TO finicom_mailer;
GRANT ALL ON FUNCTION finicom.request_actor_type() TO finicom_auditor;

--
-- Name: FUNCTION request_org_for(p_min finicom.role); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.request_org_for(p_min finicom.role) FROM PUBLIC;
GRANT ALL ON FUNCTION finicom.request_org_for(p_min finicom.role) TO finicom_app;
GRANT ALL ON FUNCTION finicom.request_org_for(p_min finicom.role) TO finicom_mailer;
GRANT ALL ON FUNCTION finicom.request_org_for(p_min finicom.role) TO finicom_auditor;

--
-- Name: FUNCTION request_org_id(); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.request_org_id() FROM PUBLIC;
GRANT ALL ON FUNCTION finicom.request_org_id() TO finicom_app;
GRANT ALL ON FUNCTION finicom.request_org_id() TO finicom_mailer;
GRANT ALL ON FUNCTION finicom.request_org_id() TO finicom_auditor;

--
-- Name: FUNCTION request_role(); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.request_role() FROM PUBLIC;
GRANT ALL ON FUNCTION finicom.request_role() TO finicom_app;
GRANT ALL ON FUNCTION finicom.request_role() TO finicom_mailer;
GRANT ALL ON FUNCTION finicom.request_role() TO finicom_auditor;

--
-- Name: FUNCTION request_user_id(); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.request_user_id() FROM PUBLIC;
GRANT ALL ON FUNCTION finicom.request_user_id() TO finicom_app;
GRANT ALL ON FUNCTION finicom.request_user_id() TO finicom_mailer;
GRANT ALL ON FUNCTION finicom.request_user_id() TO finicom_auditor;

--
-- Name: FUNCTION require_email_verified(p_required boolean); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.require_email_verified(p_required boolean) FROM PUBLIC;
GRANT ALL ON FUNCTION finicom.require_email_verified(p_required boolean) TO finicom_app;

--
-- Name: FUNCTION retry_seconds(p timestamp with time zone); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.retry_seconds(p timestamp with time zone) FROM PUBLIC;

--
-- Name: FUNCTION schedule_ok(p_schedule text); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.schedule_ok(p_schedule text) FROM PUBLIC;
GRANT ALL ON FUNCTION finicom.schedule_ok(p_schedule text) TO finicom_app;

--
-- Name: FUNCTION schema_version(); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.schema_version() FROM PUBLIC;
GRANT ALL ON FUNCTION finicom.schema_version() TO finicom_app;

--
-- Name: FUNCTION session_create(p_user_id uuid, p_token_hash bytea, p_max_age_seconds integer); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.session_create(p_user_id uuid, p_token_hash bytea, p_max_age_seconds integer) FROM PUBLIC;

--
-- Name: FUNCTION session_describe(p_token_hash bytea, p_ip text, p_user_agent text); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.session_describe(p_token_hash bytea, p_ip text, p_user_agent text) FROM PUBLIC;
GRANT ALL ON FUNCTION finicom.session_describe(p_token_hash bytea, p_ip text, p_user_agent text) TO finicom_auth;

--
-- Name: FUNCTION session_revoke(p_id uuid, p_current_hash bytea); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.session_revoke(p_id uuid, p_current_hash bytea) FROM PUBLIC;
GRANT ALL ON FUNCTION finicom.session_revoke(p_id uuid, p_current_hash bytea) TO finicom_app;

--
-- Name: FUNCTION session_user_json(p_session_hash bytea); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.session_user_json(p_session_hash bytea) FROM PUBLIC;
GRANT ALL ON FUNCTION finicom.session_user_json(p_session_hash bytea) TO finicom_app;
GRANT ALL ON FUNCTION finicom.session_user_json(p_session_hash bytea) TO finicom_auth;

--
-- Name: FUNCTION sessions_revoke_others(p_current_hash bytea); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.sessions_revoke_others(p_current_hash bytea) FROM PUBLIC;
GRANT ALL ON FUNCTION finicom.sessions_revoke_others(p_current_hash bytea) TO finicom_app;

--
-- Name: FUNCTION sync_request(p_org uuid, p_connection uuid); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.sync_request(p_org uuid, p_connection uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION finicom.sync_request(p_org uuid, p_connection uuid) TO finicom_app;

--
-- Name: TABLE sync_runs; Type: ACL; Schema: finicom; Owner: finicom_owner
--

GRANT SELECT,INSERT,DELETE ON TABLE finicom.sync_runs TO finicom_app;

--
-- Name: COLUMN sync_runs.status; Type: ACL; Schema: finicom; Owner: finicom_owner
--

GRANT UPDATE(status) ON TABLE finicom.sync_runs TO finicom_app;

--
-- Name: COLUMN sync_runs.started_at; Type: ACL; Schema: finicom; Owner: finicom_owner
--

GRANT UPDATE(started_at) ON TABLE finicom.sync_runs TO finicom_app;

--
-- Name: COLUMN sync_runs.finished_at; Type: ACL; Schema: finicom; Owner: finicom_owner
--

GRANT UPDATE(finished_at) ON TABLE finicom.sync_runs TO finicom_app;

--
-- Name: FUNCTION sync_run_json(r finicom.sync_runs); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.sync_run_json(r finicom.sync_runs) FROM PUBLIC;
GRANT ALL ON FUNCTION finicom.sync_run_json(r finicom.sync_runs) TO finicom_app;

--
-- Name: FUNCTION totp_accept(p_user uuid, p_step bigint, p_recovery bytea, p_ip text, p_request_id text); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.totp_accept(p_user uuid, p_step bigint, p_recovery bytea, p_ip text, p_request_id text) FROM PUBLIC;

--
-- Name: FUNCTION totp_accept_step(p_user uuid, p_step bigint); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.totp_accept_step(p_user uuid, p_step bigint) FROM PUBLIC;

--
-- Name: FUNCTION totp_disable_by_operator(p_email text, p_request_id text); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.totp_disable_by_operator(p_email text, p_request_id text) FROM PUBLIC;

--
-- Name: FUNCTION totp_login_token_create(p_user uuid, p_login_hash bytea, p_ip text, p_request_id text); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.totp_login_token_create(p_user uuid, p_login_hash bytea, p_ip text, p_request_id text) FROM PUBLIC;

--
-- Name: FUNCTION totp_session_user(p_session_hash bytea); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.totp_session_user(p_session_hash bytea) FROM PUBLIC;

--
-- Name: FUNCTION totp_spend_recovery(p_user uuid, p_hash bytea, p_ip text, p_request_id text); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.totp_spend_recovery(p_user uuid, p_hash bytea, p_ip text, p_request_id text) FROM PUBLIC;

--
-- Name: FUNCTION totp_throttle(p_user uuid); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.totp_throttle(p_user uuid) FROM PUBLIC;

--
-- Name: FUNCTION touch_updated_at(); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.touch_updated_at() FROM PUBLIC;

--
-- Name: FUNCTION ts(t timestamp with time zone); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.ts(t timestamp with time zone) FROM PUBLIC;
GRANT ALL ON FUNCTION finicom.ts(t timestamp with time zone) TO finicom_app;
GRANT ALL ON FUNCTION finicom.ts(t timestamp with time zone) TO finicom_mailer;
GRANT ALL ON FUNCTION finicom.ts(t timestamp with time zone) TO finicom_auditor;
GRANT ALL ON FUNCTION finicom.ts(t timestamp with time zone) TO finicom_auth;

--
-- Name: FUNCTION user_create(p_email text, p_name text, p_password_hash text); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.user_create(p_email text, p_name text, p_password_hash text) FROM PUBLIC;

--
-- Name: FUNCTION user_create_verified(p_email text, p_name text, p_password_hash text); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.user_create_verified(p_email text, p_name text, p_password_hash text) FROM PUBLIC;

--
-- Name: COLUMN users.id; Type: ACL; Schema: finicom; Owner: finicom_owner
--

GRANT SELECT(id) ON TABLE finicom.users TO finicom_app;

--
-- Name: COLUMN users.email; Type: ACL; Schema: finicom; Owner: finicom_owner
--

GRANT SELECT(email) ON TABLE finicom.users TO finicom_app;

--
-- Name: COLUMN users.name; Type: ACL; Schema: finicom; Owner: finicom_owner
--

GRANT SELECT(name) ON TABLE finicom.users TO finicom_app;

--
-- Name: COLUMN users.created_at; Type: ACL; Schema: finicom; Owner: finicom_owner
--

GRANT SELECT(created_at) ON TABLE finicom.users TO finicom_app;

--
-- Name: COLUMN users.email_verified_at; Type: ACL; Schema: finicom; Owner: finicom_owner
--

GRANT SELECT(email_verified_at) ON TABLE finicom.users TO finicom_app;

--
-- Name: FUNCTION user_json(u finicom.users); Type: ACL; Schema: finicom; Owner: finicom_owner
--

REVOKE ALL ON FUNCTION finicom.user_json(u finicom.users) FROM PUBLIC;

--
-- Name: TABLE member_activity; Type: ACL; Schema: finicom; Owner: finicom_owner
--

GRANT SELECT ON TABLE finicom.member_activity TO finicom_app;

--
-- Name: TABLE access_review; Type: ACL; Schema: audit; Owner: finicom_owner
--

GRANT SELECT ON TABLE audit.access_review TO finicom_auditor;

--
-- Name: TABLE access_review_items; Type: ACL; Schema: finicom; Owner: finicom_owner
--

GRANT SELECT,INSERT ON TABLE finicom.access_review_items TO finicom_app;

--
-- Name: COLUMN access_review_items.decision; Type: ACL; Schema: finicom; Owner: finicom_owner
--

GRANT UPDATE(decision) ON TABLE finicom.access_review_items TO finicom_app;

--
-- Name: COLUMN access_review_items.new_role; Type: ACL; Schema: finicom; Owner: finicom_owner
--

GRANT UPDATE(new_role) ON TABLE finicom.access_review_items TO finicom_app;

--
-- Name: COLUMN access_review_items.decided_by; Type: ACL; Schema: finicom; Owner: finicom_owner
--

GRANT UPDATE(decided_by) ON TABLE finicom.access_review_items TO finicom_app;

--
-- Name: COLUMN access_review_items.decided_at; Type: ACL; Schema: finicom; Owner: finicom_owner
--

GRANT UPDATE(decided_at) ON TABLE finicom.access_review_items TO finicom_app;

--
-- Name: COLUMN access_review_items.note; Type: ACL; Schema: finicom; Owner: finicom_owner
--

GRANT UPDATE(note) ON TABLE finicom.access_review_items TO finicom_app;

--
-- Name: TABLE access_reviews; Type: ACL; Schema: audit; Owner: finicom_owner
--

GRANT SELECT ON TABLE audit.access_reviews TO finicom_auditor;

--
-- Name: TABLE auth_events; Type: ACL; Schema: audit; Owner: finicom_owner
--

GRANT SELECT ON TABLE audit.auth_events TO finicom_auditor;

--
-- Name: TABLE chain_checks; Type: ACL; Schema: audit; Owner: finicom_owner
--

GRANT SELECT ON TABLE audit.chain_checks TO finicom_auditor;

--
-- Name: TABLE chain_heads; Type: ACL; Schema: audit; Owner: finicom_owner
--

GRANT SELECT ON TABLE audit.chain_heads TO finicom_auditor;

--
-- Name: TABLE role_changes; Type: ACL; Schema: audit; Owner: finicom_owner
--

GRANT SELECT ON TABLE audit.role_changes TO finicom_auditor;

--
-- Name: TABLE access_review_item_rows; Type: ACL; Schema: finicom; Owner: finicom_owner
--

GRANT SELECT ON TABLE finicom.access_review_item_rows TO finicom_app;

--
-- Name: TABLE access_review_reminders; Type: ACL; Schema: finicom; Owner: finicom_owner
--

GRANT SELECT ON TABLE finicom.access_review_reminders TO finicom_app;

--
-- Name: TABLE access_review_rows; Type: ACL; Schema: finicom; Owner: finicom_owner
--

GRANT SELECT ON TABLE finicom.access_review_rows TO finicom_app;

--
-- Name: TABLE alert_rule_settings; Type: ACL; Schema: finicom; Owner: finicom_owner
--

GRANT SELECT ON TABLE finicom.alert_rule_settings TO finicom_app;
GRANT SELECT ON TABLE finicom.alert_rule_settings TO finicom_auditor;

--
-- Name: COLUMN alert_rule_settings.org_id; Type: ACL; Schema: finicom; Owner: finicom_owner
--

GRANT INSERT(org_id) ON TABLE finicom.alert_rule_settings TO finicom_app;

--
-- Name: COLUMN alert_rule_settings.rule; Type: ACL; Schema: finicom; Owner: finicom_owner
--

GRANT INSERT(rule) ON TABLE finicom.alert_rule_settings TO finicom_app;

--
-- Name: COLUMN alert_rule_settings.enabled; Type: ACL; Schema: finicom; Owner: finicom_owner
--

GRANT INSERT(enabled),UPDATE(enabled) ON TABLE finicom.alert_rule_settings TO finicom_app;

--
-- Name: COLUMN alert_rule_settings.updated_at; Type: ACL; Schema: finicom; Owner: finicom_owner
--

GRANT UPDATE(updated_at) ON TABLE finicom.alert_rule_settings TO finicom_app;

--
-- Name: TABLE connection_integrations; Type: ACL; Schema: finicom; Owner: finicom_owner
--

GRANT SELECT,INSERT,DELETE ON TABLE finicom.connection_integrations TO finicom_app;

--
-- Name: TABLE connections; Type: ACL; Schema: finicom; Owner: finicom_owner
--

GRANT SELECT,INSERT,DELETE ON TABLE finicom.connections TO finicom_app;

--
-- Name: COLUMN connections.name; Type: ACL; Schema: finicom; Owner: finicom_owner
--

GRANT UPDATE(name) ON TABLE finicom.connections TO finicom_app;

--
-- Name: COLUMN connections.source_id; Type: ACL; Schema: finicom; Owner: finicom_owner
--

GRANT UPDATE(source_id) ON TABLE finicom.connections TO finicom_app;

--
-- Name: COLUMN connections.destination_id; Type: ACL; Schema: finicom; Owner: finicom_owner
--

GRANT UPDATE(destination_id) ON TABLE finicom.connections TO finicom_app;

--
-- Name: COLUMN connections.schedule; Type: ACL; Schema: finicom; Owner: finicom_owner
--

GRANT UPDATE(schedule) ON TABLE finicom.connections TO finicom_app;

--
-- Name: COLUMN connections.enabled; Type: ACL; Schema: finicom; Owner: finicom_owner
--

GRANT UPDATE(enabled) ON TABLE finicom.connections TO finicom_app;

--
-- Name: TABLE destinations; Type: ACL; Schema: finicom; Owner: finicom_owner
--

GRANT SELECT,INSERT,DELETE ON TABLE finicom.destinations TO finicom_app;

--
-- Name: COLUMN destinations.name; Type: ACL; Schema: finicom; Owner: finicom_owner
--

GRANT UPDATE(name) ON TABLE finicom.destinations TO finicom_app;

--
-- Name: COLUMN destinations.type; Type: ACL; Schema: finicom; Owner: finicom_owner
--

GRANT UPDATE(type) ON TABLE finicom.destinations TO finicom_app;

--
-- Name: COLUMN destinations.config; Type: ACL; Schema: finicom; Owner: finicom_owner
--

GRANT UPDATE(config) ON TABLE finicom.destinations TO finicom_app;

--
-- Name: TABLE integrations; Type: ACL; Schema: finicom; Owner: finicom_owner
--

GRANT SELECT,INSERT,DELETE ON TABLE finicom.integrations TO finicom_app;

--
-- Name: COLUMN integrations.name; Type: ACL; Schema: finicom; Owner: finicom_owner
--

GRANT UPDATE(name) ON TABLE finicom.integrations TO finicom_app;

--
-- Name: COLUMN integrations.type; Type: ACL; Schema: finicom; Owner: finicom_owner
--

GRANT UPDATE(type) ON TABLE finicom.integrations TO finicom_app;

--
-- Name: COLUMN integrations.config; Type: ACL; Schema: finicom; Owner: finicom_owner
--

GRANT UPDATE(config) ON TABLE finicom.integrations TO finicom_app;

--
-- Name: TABLE mail_outbox; Type: ACL; Schema: finicom; Owner: finicom_owner
--

GRANT SELECT,UPDATE ON TABLE finicom.mail_outbox TO finicom_mailer;

--
-- Name: COLUMN mail_outbox.id; Type: ACL; Schema: finicom; Owner: finicom_owner
--

GRANT SELECT(id) ON TABLE finicom.mail_outbox TO finicom_app;

--
-- Name: COLUMN mail_outbox.org_id; Type: ACL; Schema: finicom; Owner: finicom_owner
--

GRANT SELECT(org_id) ON TABLE finicom.mail_outbox TO finicom_app;

--
-- Name: COLUMN mail_outbox.invitation_id; Type: ACL; Schema: finicom; Owner: finicom_owner
--

GRANT SELECT(invitation_id) ON TABLE finicom.mail_outbox TO finicom_app;

--
-- Name: COLUMN mail_outbox.status; Type: ACL; Schema: finicom; Owner: finicom_owner
--

GRANT SELECT(status) ON TABLE finicom.mail_outbox TO finicom_app;

--
-- Name: COLUMN mail_outbox.attempts; Type: ACL; Schema: finicom; Owner: finicom_owner
--

GRANT SELECT(attempts) ON TABLE finicom.mail_outbox TO finicom_app;

--
-- Name: COLUMN mail_outbox.last_error; Type: ACL; Schema: finicom; Owner: finicom_owner
--

GRANT SELECT(last_error) ON TABLE finicom.mail_outbox TO finicom_app;

--
-- Name: COLUMN mail_outbox.created_at; Type: ACL; Schema: finicom; Owner: finicom_owner
--

GRANT SELECT(created_at) ON TABLE finicom.mail_outbox TO finicom_app;

--
-- Name: COLUMN mail_outbox.sent_at; Type: ACL; Schema: finicom; Owner: finicom_owner
--

GRANT SELECT(sent_at) ON TABLE finicom.mail_outbox TO finicom_app;

--
-- Name: TABLE invitation_items; Type: ACL; Schema: finicom; Owner: finicom_owner
--

GRANT SELECT ON TABLE finicom.invitation_items TO finicom_app;

--
-- Name: TABLE member_rows; Type: ACL; Schema: finicom; Owner: finicom_owner
--

GRANT SELECT ON TABLE finicom.member_rows TO finicom_app;

--
-- Name: TABLE sources; Type: ACL; Schema: finicom; Owner: finicom_owner
--

GRANT SELECT,INSERT,DELETE ON TABLE finicom.sources TO finicom_app;

--
-- Name: COLUMN sources.name; Type: ACL; Schema: finicom; Owner: finicom_owner
--

GRANT UPDATE(name) ON TABLE finicom.sources TO finicom_app;

--
-- Name: COLUMN sources.type; Type: ACL; Schema: finicom; Owner: finicom_owner
--

GRANT UPDATE(type) ON TABLE finicom.sources TO finicom_app;

--
-- Name: COLUMN sources.config; Type: ACL; Schema: finicom; Owner: finicom_owner
--

GRANT UPDATE(config) ON TABLE finicom.sources TO finicom_app;

--
-- Name: COLUMN totp_credentials.user_id; Type: ACL; Schema: finicom; Owner: finicom_owner
--

GRANT SELECT(user_id) ON TABLE finicom.totp_credentials TO finicom_app;

--
-- Name: COLUMN totp_credentials.confirmed_at; Type: ACL; Schema: finicom; Owner: finicom_owner
--

GRANT SELECT(confirmed_at) ON TABLE finicom.totp_credentials TO finicom_app;

--
-- Name: DEFAULT PRIVILEGES FOR FUNCTIONS; Type: DEFAULT ACL; Schema: -; Owner: finicom_owner
--

ALTER DEFAULT PRIVILEGES FOR ROLE finicom_owner REVOKE ALL ON FUNCTIONS  FROM PUBLIC;

--
-- PostgreSQL database dump complete
--

