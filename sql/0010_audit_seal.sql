-- migrate: superuser
-- 0010_audit_seal: audit events are written pending and sealed into their
-- org's hash chain afterwards, in order, by audit.seal_pending().
--
-- Why.  In 0007 audit.append locked the org's row of audit.chain_heads FOR
-- UPDATE to take the next seq and the previous hash, and held that lock
-- until COMMIT: every write in one org waited for the commit (and the WAL
-- flush) of the write before it, so commits in one org could not share an
-- fsync.  Four writers in one org created sources at about 0.38 of the
-- rate without the audit trigger (tests/load/audit-bench).  A lock held for
-- a shorter time cannot fix that: an event's link (seq, prev_hash) can only
-- be fixed once the event before it is known to have committed.
--
-- How.  audit.append only INSERTs the event, pending (seq, prev_hash, hash
-- and sealed_at NULL), and takes no lock.  audit.seal_pending(org) takes
-- the org's chain head FOR UPDATE SKIP LOCKED (another sealer holding it
-- makes this one skip the org; the first seal of an org takes an advisory
-- lock the same way), and gives the committed pending events, in (at, id)
-- order, the next seq, prev_hash = the hash before, hash = sha256(prev_hash
-- || canonical event) exactly as 0007 defined them, in one UPDATE; the head
-- moves to the last.  Writers never touch the head, and nobody waits for
-- anybody: not writers for writers, not writers for sealers, not sealers
-- for writers (they see only what is committed) or for each other.  seq is
-- now the order of sealing: an event whose transaction commits late is
-- sealed after events written after it (at no longer follows seq; the API
-- lists by at, id as before).
--
-- What stays as strong as before.
--   - Every sealed event is in its org's one chain.  seq is unique per org
--     among sealed events (events_org_seq_key), and a seal must continue
--     the chain head exactly (audit.seal_links), with the head locked: the
--     chain cannot fork.
--   - Append-only for everyone, the owner included: audit.refuse_change()
--     still refuses every UPDATE, DELETE and TRUNCATE, with one exception,
--     the seal itself: an UPDATE of a pending event that changes nothing
--     but seq, prev_hash and hash (byte for byte; sealed_at is stamped),
--     whose hash is sha256(prev_hash || event) and which is the next link of
--     the org's chain.  Whoever runs it can only do what seal_pending does.
--   - An event's id, time, actor, address and request id are the
--     database's: a BEFORE INSERT trigger (audit.stamp) sets them from the
--     verified request context (finicom.request_actor_type() and
--     request_actor_id() of 0009; no verified actor: 'db' with the
--     session's role), whatever the INSERT says, and refuses an event
--     inserted sealed.  A DBA's INSERT is recorded as the DBA's event, as a
--     call of audit.append always was, and cannot pass for anyone else's.
--   - audit.verify_chain(org) checks the sealed events exactly as before
--     (seq 1, 2, 3 ..., prev_hash, hash, the head) and names the first bad
--     one; it also says how many events are pending and since when (and
--     now also catches a missing head).  A DBA who edits, deletes or
--     inserts a sealed event behind the triggers' back is caught at that
--     event, as before.  A pending event has no hash yet: an edit of one
--     behind the triggers' back before it is sealed cannot be told later.
--     That window is the sealing lag, kept short by the sealers below.
--
-- Who seals, so that the lag is bounded.
--   - finicom-mailer, every 0.2 s, between messages and while idle
--     (src/mailer/mailer.c), as finicom_mailer, which may call
--     audit.seal_pending() and nothing else of the audit schema.  It already
--     runs beside finicomd and loops; one call seals every org's pending
--     events, so the cost is paid in batches, off the requests' path.  The
--     lag is then the interval plus one seal, longer only while the mailer
--     is in an SMTP session (one message's).
--   - pg_cron, finicom-seal-audit, every minute (its resolution): the bound
--     when no mailer runs.  Installed at the end of this file with the
--     guards of 0005_cron.sql.
--   - A DBA may seal at once, as a superuser: SELECT audit.seal_pending().
-- Writers do not seal: that would put the head lock, and the sealing work,
-- back inside the requests' transactions.
--
-- This file runs as the superuser ("migrate: superuser") only for the
-- pg_cron job at its end; everything before it is created as finicom_owner.

SET LOCAL ROLE finicom_owner;

-- ---------------------------------------------------------------------
-- Pending events.

ALTER TABLE audit.events
    ALTER COLUMN seq DROP NOT NULL,
    ALTER COLUMN prev_hash DROP NOT NULL,
    ALTER COLUMN hash DROP NOT NULL,
    ADD COLUMN sealed_at timestamptz,
    ADD CONSTRAINT events_sealed_or_pending
        CHECK ((seq IS NULL) = (prev_hash IS NULL) AND (seq IS NULL) = (hash IS NULL)
               AND (sealed_at IS NULL OR seq IS NOT NULL));
-- The sealer's queue, in sealing order: a partial index holds only the
-- pending events, so it stays small.  And seq is unique among the sealed
-- ones as before (NULLs never collide), in a partial index that a pending
-- event does not enter: one index entry less on the writers' path.
CREATE INDEX events_pending_idx ON audit.events (org_id, at, id) WHERE seq IS NULL;
CREATE UNIQUE INDEX events_org_seq_key ON audit.events (org_id, seq) WHERE seq IS NOT NULL;
ALTER TABLE audit.events DROP CONSTRAINT events_org_id_seq_key;

-- A new event, as the database records it.  SECURITY INVOKER: the inserter
-- is audit.append (the owner, under its search_path '') or a superuser;
-- nobody else may INSERT.  No SET search_path of its own (every name in it
-- is qualified): it runs once per event, and a SET costs a GUC save and
-- restore at every call.
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
            -- No verified actor: a DBA in psql (or a context that does not verify).
            NEW.actor_type := 'db';
            NEW.actor_id := NULL;
            NEW.actor_label := session_user;
            IF NOT finicom.context_ok() THEN
                NEW.ip := NULL;
                NEW.request_id := NULL;
                RETURN NEW;
            END IF;
        ELSE
            NEW.actor_type := v_type;
            NEW.actor_id := finicom.request_actor_id();
            IF v_type = 'user' THEN
                NEW.actor_label := (SELECT u.email FROM finicom.users u WHERE u.id = NEW.actor_id);
            ELSIF v_type = 'api_key' THEN
                NEW.actor_label := (SELECT k.name FROM finicom.api_keys k WHERE k.id = NEW.actor_id);
            ELSE
                NEW.actor_label := 'pg_cron';
            END IF;
        END IF;
        -- The context verified (an actor type is only returned when it does).
        NEW.ip := nullif(pg_catalog.current_setting('finicom.client_ip', true), '');
        NEW.request_id := nullif(pg_catalog.current_setting('finicom.request_id', true), '');
        RETURN NEW;
    END
    $$;
CREATE TRIGGER events_stamp BEFORE INSERT ON audit.events
    FOR EACH ROW EXECUTE FUNCTION audit.stamp();

-- Append one pending event to org p_org's trail; audit.stamp() adds the
-- actor of the verified context, the time, the address and the request id.
-- No lock: concurrent writers in one org do not wait for each other.
-- (PL/pgSQL, so the INSERT is planned once per session: a SECURITY DEFINER
-- SQL function is parsed and planned again at every call.)
CREATE OR REPLACE FUNCTION audit.append(p_org uuid, p_action text, p_target_type text, p_target_id uuid,
                                        p_details jsonb) RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = ''
    AS $$
    BEGIN
        INSERT INTO audit.events (org_id, action, target_type, target_id, details)
        VALUES (p_org, p_action, p_target_type, p_target_id, coalesce(p_details, '{}'));
    END
    $$;

-- The canonical form of an event, as 0007 defined it (the same bytes), now
-- without SET search_path (every name in it is qualified) so that it
-- inlines: the sealer and the seal check compute it once per event, and a
-- SQL function that does not inline is parsed again at every call.
CREATE OR REPLACE FUNCTION audit.canonical(e audit.events) RETURNS bytea
    LANGUAGE sql IMMUTABLE
    AS $$
        SELECT pg_catalog.convert_to(pg_catalog.concat_ws(E'\x1f',
            e.org_id, e.seq, pg_catalog.to_char(e.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
            e.action, e.actor_type, coalesce(e.actor_id::text, ''), coalesce(e.actor_label, ''),
            coalesce(e.target_type, ''), coalesce(e.target_id::text, ''), e.details::text,
            coalesce(e.ip, ''), coalesce(e.request_id, '')), 'UTF8')
    $$;

-- ---------------------------------------------------------------------
-- Append-only, but for the seal.

-- Refuses every UPDATE, DELETE and TRUNCATE of audit.events and
-- audit.auth_events, except an UPDATE of audit.events that seals a pending
-- event: seq, prev_hash and hash go from NULL to values whose hash is
-- sha256(prev_hash || canonical event), and nothing else changes (compared
-- byte for byte, *=); sealed_at is stamped here.  That these values are the
-- next links of the org's chain is checked for the whole statement by
-- audit.seal_links().
CREATE OR REPLACE FUNCTION audit.refuse_change() RETURNS trigger
    LANGUAGE plpgsql SET search_path = ''
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

-- After an UPDATE statement of audit.events: the events it sealed (those
-- now past their org's chain head) must continue the head exactly (seq
-- head.seq + 1, + 2, ... with no gap, each prev_hash the hash before it,
-- the first the head's), and the head moves to the last of them.  The head
-- is locked FOR UPDATE, so sealers of one org take turns and the chain
-- cannot fork.  Rows at or before the head were not sealed by this
-- statement: with audit.refuse_change() enabled no such UPDATE gets here;
-- with it disabled (a superuser behind its back), verify_chain judges them.
-- One pass over the statement's rows, in (org_id, seq) order.
CREATE FUNCTION audit.seal_links() RETURNS trigger
    LANGUAGE plpgsql SET search_path = ''
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
CREATE TRIGGER events_seal_links AFTER UPDATE ON audit.events
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION audit.seal_links();

-- ---------------------------------------------------------------------
-- The sealer.

-- Seal the committed pending events of org p_org, in (at, id) order, with
-- one UPDATE, and return how many were sealed: 0 as well when another
-- sealer holds the org's head (it seals them, or the next call does; this
-- one never waits).  Pending events of transactions still open are not
-- seen: a later call seals them.  Owner only: audit.seal_pending() calls it.
CREATE FUNCTION audit.seal_org(p_org uuid) RETURNS bigint
    LANGUAGE plpgsql VOLATILE SET search_path = ''
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

-- Seal the committed pending events of org p_org (NULL: of every org that
-- has some) and return how many were sealed; see audit.seal_org().  Orgs
-- are found one index probe at a time (the next org_id of
-- events_pending_idx), never by a scan of audit.events.  Each org is sealed
-- in a subtransaction: an org whose chain cannot be continued (say its head
-- was deleted) stays pending with a WARNING, and the others are sealed.
CREATE FUNCTION audit.seal_pending(p_org uuid DEFAULT NULL) RETURNS bigint
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = ''
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
GRANT USAGE ON SCHEMA audit TO finicom_mailer;
GRANT EXECUTE ON FUNCTION audit.seal_pending(uuid) TO finicom_mailer;

-- ---------------------------------------------------------------------
-- Verification.

-- Is org p_org's chain intact?  Returns ok, the number of sealed events
-- checked and, when broken, the first one that does not match (by seq and
-- id), as in 0007; and the number of events still pending, with the time of
-- the oldest.  Pending events do not make a chain broken.
DROP FUNCTION audit.verify_chain(uuid);
CREATE FUNCTION audit.verify_chain(p_org uuid)
    RETURNS TABLE (ok boolean, events bigint, first_bad_seq bigint, first_bad_id uuid, reason text,
                   pending bigint, oldest_pending_at timestamptz)
    LANGUAGE plpgsql STABLE SET search_path = ''
    AS $$
    DECLARE
        e audit.events%ROWTYPE;
        v_prev bytea := '\x0000000000000000000000000000000000000000000000000000000000000000';
        v_expect bigint := 1;
        v_head audit.chain_heads%ROWTYPE;
        v_pending bigint;
        v_oldest timestamptz;
    BEGIN
        SELECT count(*), min(x.at) INTO v_pending, v_oldest
        FROM audit.events x WHERE x.org_id = p_org AND x.seq IS NULL;
        FOR e IN SELECT * FROM audit.events x WHERE x.org_id = p_org AND x.seq IS NOT NULL ORDER BY x.seq LOOP
            IF e.seq <> v_expect THEN
                RETURN QUERY SELECT false, v_expect - 1, e.seq, e.id,
                    pg_catalog.format('event %s is missing before this one', v_expect), v_pending, v_oldest;
                RETURN;
            END IF;
            IF e.prev_hash <> v_prev THEN
                RETURN QUERY SELECT false, v_expect - 1, e.seq, e.id,
                    'prev_hash does not match the event before'::text, v_pending, v_oldest;
                RETURN;
            END IF;
            IF e.hash <> pg_catalog.sha256(v_prev || audit.canonical(e)) THEN
                RETURN QUERY SELECT false, v_expect - 1, e.seq, e.id,
                    'the event was changed after it was written'::text, v_pending, v_oldest;
                RETURN;
            END IF;
            v_prev := e.hash;
            v_expect := v_expect + 1;
        END LOOP;
        SELECT * INTO v_head FROM audit.chain_heads h WHERE h.org_id = p_org;
        IF FOUND AND (v_head.seq <> v_expect - 1 OR v_head.hash <> v_prev) THEN
            RETURN QUERY SELECT false, v_expect - 1, v_expect, NULL::uuid,
                'events after the last one present are missing'::text, v_pending, v_oldest;
            RETURN;
        END IF;
        IF NOT FOUND AND v_expect > 1 THEN
            RETURN QUERY SELECT false, v_expect - 1, v_expect, NULL::uuid,
                'the chain head is missing'::text, v_pending, v_oldest;
            RETURN;
        END IF;
        RETURN QUERY SELECT true, v_expect - 1, NULL::bigint, NULL::uuid, NULL::text, v_pending, v_oldest;
    END
    $$;
GRANT EXECUTE ON FUNCTION audit.verify_chain(uuid) TO finicom_auditor;

-- ---------------------------------------------------------------------
-- finicom-seal-audit: the pg_cron job, with the guards of 0005_cron.sql
-- (installed only when pg_cron is, and not with --without-pg-cron).  To add
-- it later: SELECT cron.schedule('finicom-seal-audit', '* * * * *',
-- 'SELECT audit.seal_pending()'); as a superuser.
RESET ROLE;
DO $$
BEGIN
    IF pg_catalog.current_setting('finicom.without_pg_cron', true) = 'on' THEN
        RAISE WARNING 'pg_cron job finicom-seal-audit not installed (--without-pg-cron)';
        RETURN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_extension WHERE extname = 'pg_cron') THEN
        RAISE WARNING 'pg_cron job finicom-seal-audit not installed: pg_cron is not installed in this database';
        RETURN;
    END IF;
    PERFORM cron.schedule('finicom-seal-audit', '* * * * *', 'SELECT audit.seal_pending()');
END
$$;
