// Migration 4: the audit trail becomes a set of hash chains in a table partitioned by month.
// Listed in store/migrations.ts (typed there, so this module needs no import back). Like every
// migration it is frozen once applied: change the audit schema with a new migration.
//
// Why each piece is the way it is: docs/audit-trail.md. In short:
// - 16 chains (shard = first byte of SHA-256(message_id) & 15), each with its own sequence and
//   head row in audit_chain_heads, whose row lock serialises writers of that chain only.
// - audit_append() does lock, idempotency check, hashing and insert in one round trip. It is
//   SECURITY DEFINER: the application role may call it and read, but not INSERT directly, so
//   no row can enter without being chained.
// - Partitioned by recorded_at (assigned under the chain lock, never decreasing within a chain),
//   so every partition holds a contiguous stretch of every chain and dropping the oldest one cuts
//   a prefix off each chain, recorded in audit_anchors, instead of punching holes.
// - Row hash: SHA-256 over length-prefixed text fields (audit_row_hash); store/audit-chain.ts
//   recomputes it independently.

export const GENESIS_HASH = '0'.repeat(64);

export const auditChainMigration = {
  id: 4,
  name: 'audit hash chains, monthly partitions, app role',
  sql: `
    -- The old table keeps its rows until they are re-appended below, then goes.
    ALTER TABLE audit_log RENAME TO audit_log_v1;
    ALTER TABLE audit_log_v1 RENAME CONSTRAINT audit_log_pkey TO audit_log_v1_pkey;
    ALTER INDEX audit_log_recipient RENAME TO audit_log_v1_recipient;

    -- Refusals name the table they protect (partitions, anchors), not always audit_log.
    CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
    END $$;

    CREATE TABLE audit_log (
      shard          integer     NOT NULL,
      shard_seq      bigint      NOT NULL,
      message_id     text        NOT NULL,
      seq            integer     NOT NULL,
      tenant         text        NOT NULL,
      recipient_hash text        NOT NULL,
      region         text        NOT NULL,
      flow           text        NOT NULL,
      event          text        NOT NULL,
      channel        text,
      result         text,
      error_code     text,
      detail         jsonb       NOT NULL DEFAULT '{}'::jsonb,
      config_version text,
      occurred_at    timestamptz NOT NULL,
      recorded_at    timestamptz NOT NULL,
      prev_hash      text        NOT NULL,
      row_hash       text        NOT NULL,
      -- A primary key of a partitioned table must contain the partition key; (shard, shard_seq)
      -- is unique anyway because only audit_append() assigns it, under the chain lock.
      CONSTRAINT audit_log_pkey PRIMARY KEY (shard, shard_seq, recorded_at)
    ) PARTITION BY RANGE (recorded_at);
    -- Idempotency lookups and forMessage; not UNIQUE because that would need recorded_at too.
    CREATE INDEX audit_log_message ON audit_log (message_id, seq);
    CREATE INDEX audit_log_recipient ON audit_log (recipient_hash, occurred_at);

    -- Row triggers on the parent are cloned onto every partition (PostgreSQL >= 13); statement
    -- triggers are not, so audit_ensure_partition() adds the TRUNCATE one to each partition.
    CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
      FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
    CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
      FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

    -- The last link of each chain. Its row lock is the chain's write lock; verify also compares
    -- it with the last row, so cutting rows off the end of a chain does not go unnoticed.
    CREATE TABLE audit_chain_heads (
      shard       integer     PRIMARY KEY CHECK (shard BETWEEN 0 AND 15),
      shard_seq   bigint      NOT NULL,
      row_hash    text        NOT NULL,
      recorded_at timestamptz NOT NULL
    );
    INSERT INTO audit_chain_heads
      SELECT s, 0, '${GENESIS_HASH}', '-infinity' FROM generate_series(0, 15) s;

    -- Where each chain continues after retention dropped a partition: its last link in it.
    CREATE TABLE audit_anchors (
      shard          integer     NOT NULL,
      shard_seq      bigint      NOT NULL,
      row_hash       text        NOT NULL,
      partition_name text        NOT NULL,
      partition_to   timestamptz NOT NULL,
      anchored_at    timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (shard, shard_seq)
    );
    CREATE TRIGGER audit_anchors_no_update BEFORE UPDATE OR DELETE ON audit_anchors
      FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
    CREATE TRIGGER audit_anchors_no_truncate BEFORE TRUNCATE ON audit_anchors
      FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

    CREATE FUNCTION audit_shard(p_message_id text) RETURNS integer
      LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
      AS $$ SELECT get_byte(sha256(convert_to(p_message_id, 'UTF8')), 0) & 15 $$;

    -- One field of the hashed encoding: NULL is '_', anything else '<UTF-8 length>:<text>'.
    CREATE FUNCTION audit_field(p text) RETURNS text
      LANGUAGE sql IMMUTABLE PARALLEL SAFE
      AS $$ SELECT CASE WHEN p IS NULL THEN '_' ELSE length(convert_to(p, 'UTF8'))::text || ':' || p END $$;

    CREATE FUNCTION audit_ts(p timestamptz) RETURNS text
      LANGUAGE sql STABLE PARALLEL SAFE
      AS $$ SELECT to_char(p AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') $$;

    CREATE FUNCTION audit_row_hash(
      p_shard integer, p_shard_seq bigint, p_message_id text, p_seq integer, p_tenant text,
      p_recipient_hash text, p_region text, p_flow text, p_event text, p_channel text, p_result text,
      p_error_code text, p_detail jsonb, p_config_version text, p_occurred_at timestamptz,
      p_recorded_at timestamptz, p_prev_hash text
    ) RETURNS text LANGUAGE sql STABLE PARALLEL SAFE AS $$
      SELECT encode(sha256(convert_to(
        audit_field('switchboard-audit-v1') || audit_field(p_shard::text) || audit_field(p_shard_seq::text)
        || audit_field(p_message_id) || audit_field(p_seq::text) || audit_field(p_tenant)
        || audit_field(p_recipient_hash) || audit_field(p_region) || audit_field(p_flow)
        || audit_field(p_event) || audit_field(p_channel) || audit_field(p_result)
        || audit_field(p_error_code) || audit_field(p_detail::text) || audit_field(p_config_version)
        || audit_field(audit_ts(p_occurred_at)) || audit_field(audit_ts(p_recorded_at))
        || audit_field(p_prev_hash), 'UTF8')), 'hex')
    $$;

    -- Creates the month partition holding p_at if missing (UTC months). CREATE + ATTACH rather
    -- than CREATE ... PARTITION OF: ATTACH takes SHARE UPDATE EXCLUSIVE on the parent, which
    -- does not wait for, nor block, concurrent appends and reads.
    CREATE FUNCTION audit_ensure_partition(p_at timestamptz) RETURNS text
      LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
    DECLARE
      v_from timestamp := date_trunc('month', p_at AT TIME ZONE 'UTC');
      v_name text := 'audit_log_p' || to_char(v_from, 'YYYYMM');
    BEGIN
      IF to_regclass(v_name) IS NOT NULL THEN RETURN v_name; END IF;
      PERFORM pg_advisory_xact_lock(${0x5b0a_4d04});
      IF to_regclass(v_name) IS NOT NULL THEN RETURN v_name; END IF;
      EXECUTE format('CREATE TABLE %I (LIKE audit_log INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', v_name);
      EXECUTE format('ALTER TABLE audit_log ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)', v_name,
        v_from AT TIME ZONE 'UTC', (v_from + interval '1 month') AT TIME ZONE 'UTC');
      EXECUTE format('CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON %I
        FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()', v_name);
      RETURN v_name;
    END $$;

    -- Appends entries of one context, chained. Not for the application role: p_recorded_at
    -- (NULL = now) exists for re-appending old rows (below) and for tests of retention.
    CREATE FUNCTION audit_append_at(p_context jsonb, p_entries jsonb, p_recorded_at timestamptz)
      RETURNS integer LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
    DECLARE
      e record;
      h audit_chain_heads%ROWTYPE;
      v_at timestamptz;
      v_hash text;
      v_inserted integer := 0;
      v_tenant text := p_context->>'tenant';
      v_recipient text := p_context->>'recipientHash';
      v_region text := p_context->>'region';
      v_flow text := p_context->>'flow';
    BEGIN
      IF v_tenant IS NULL OR v_recipient IS NULL OR v_region IS NULL OR v_flow IS NULL THEN
        RAISE EXCEPTION 'audit context needs tenant, recipientHash, region and flow'
          USING ERRCODE = 'invalid_parameter_value';
      END IF;
      IF jsonb_typeof(p_entries) IS DISTINCT FROM 'array' THEN
        RAISE EXCEPTION 'audit entries must be an array' USING ERRCODE = 'invalid_parameter_value';
      END IF;
      IF p_recorded_at > clock_timestamp() THEN
        RAISE EXCEPTION 'recorded_at may not lie in the future' USING ERRCODE = 'invalid_parameter_value';
      END IF;
      -- Lock every chain the batch touches, in shard order, so two batches never deadlock. A lock
      -- held, a chain's rows cannot change under us: the idempotency check below is race-free.
      PERFORM 1 FROM audit_chain_heads
        WHERE shard IN (SELECT audit_shard(x->>'messageId') FROM jsonb_array_elements(p_entries) x)
        ORDER BY shard FOR UPDATE;
      FOR e IN
        SELECT audit_shard(x->>'messageId') AS shard, x->>'messageId' AS message_id,
               (x->>'seq')::integer AS seq, x->>'event' AS event, x->>'channel' AS channel,
               x->>'result' AS result, x->>'errorCode' AS error_code,
               coalesce(x->'detail', '{}'::jsonb) AS detail, x->>'configVersion' AS config_version,
               (x->>'occurredAt')::timestamptz AS occurred_at
        FROM jsonb_array_elements(p_entries) WITH ORDINALITY AS t(x, n)
        ORDER BY 1, n
      LOOP
        IF e.message_id IS NULL OR e.seq IS NULL OR e.event IS NULL OR e.occurred_at IS NULL THEN
          RAISE EXCEPTION 'audit entry needs messageId, seq, event and occurredAt'
            USING ERRCODE = 'invalid_parameter_value';
        END IF;
        IF jsonb_typeof(e.detail) <> 'object' THEN
          RAISE EXCEPTION 'audit entry detail must be an object' USING ERRCODE = 'invalid_parameter_value';
        END IF;
        -- A retried write (or a repeat within the batch) finds its row and adds nothing. A retry
        -- carries the same occurredAt (workflow time, fixed in the activity's input), and that row
        -- was recorded after it, give or take clock skew: the bound lets PostgreSQL skip every
        -- older partition instead of probing years of them on each append.
        CONTINUE WHEN EXISTS (SELECT 1 FROM audit_log WHERE message_id = e.message_id AND seq = e.seq
                              AND recorded_at >= e.occurred_at - interval '1 day');
        SELECT * INTO h FROM audit_chain_heads WHERE shard = e.shard;
        -- Never before the chain's last row: keeps each partition a contiguous stretch of the chain.
        v_at := greatest(coalesce(p_recorded_at, clock_timestamp()), h.recorded_at);
        PERFORM audit_ensure_partition(v_at);
        v_hash := audit_row_hash(e.shard, h.shard_seq + 1, e.message_id, e.seq, v_tenant, v_recipient,
          v_region, v_flow, e.event, e.channel, e.result, e.error_code, e.detail, e.config_version,
          e.occurred_at, v_at, h.row_hash);
        INSERT INTO audit_log (shard, shard_seq, message_id, seq, tenant, recipient_hash, region, flow,
            event, channel, result, error_code, detail, config_version, occurred_at, recorded_at,
            prev_hash, row_hash)
          VALUES (e.shard, h.shard_seq + 1, e.message_id, e.seq, v_tenant, v_recipient, v_region, v_flow,
            e.event, e.channel, e.result, e.error_code, e.detail, e.config_version, e.occurred_at, v_at,
            h.row_hash, v_hash);
        UPDATE audit_chain_heads SET shard_seq = h.shard_seq + 1, row_hash = v_hash, recorded_at = v_at
          WHERE shard = e.shard;
        v_inserted := v_inserted + 1;
      END LOOP;
      RETURN v_inserted;
    END $$;

    -- The only way the application writes the audit trail.
    CREATE FUNCTION audit_append(p_context jsonb, p_entries jsonb) RETURNS integer
      LANGUAGE sql SECURITY DEFINER SET search_path FROM CURRENT
      AS $$ SELECT audit_append_at(p_context, p_entries, NULL) $$;

    -- Rows written before chaining, re-appended in their order with their own recorded_at.
    DO $$
    DECLARE r record;
    BEGIN
      FOR r IN SELECT * FROM audit_log_v1 ORDER BY recorded_at, id LOOP
        PERFORM audit_append_at(
          jsonb_build_object('tenant', r.tenant, 'recipientHash', r.recipient_hash, 'region', r.region,
            'flow', r.flow),
          jsonb_build_array(jsonb_build_object('messageId', r.message_id, 'seq', r.seq, 'event', r.event,
            'channel', r.channel, 'result', r.result, 'errorCode', r.error_code, 'detail', r.detail,
            'occurredAt', r.occurred_at, 'configVersion', r.detail->>'configVersion')),
          least(r.recorded_at, clock_timestamp()));
      END LOOP;
    END $$;

    -- Indexes other migrations put on the old table (e.g. the guard's region index, when its
    -- migration ran before this one), rebuilt on the new one under the same name.
    DO $$
    DECLARE r record;
    BEGIN
      FOR r IN SELECT indexname, indexdef FROM pg_indexes
               WHERE tablename = 'audit_log_v1' AND schemaname = current_schema()
                 AND indexname NOT IN ('audit_log_v1_pkey', 'audit_log_message_id_seq_key', 'audit_log_v1_recipient')
      LOOP
        EXECUTE format('DROP INDEX %I', r.indexname);
        EXECUTE replace(r.indexdef, '.audit_log_v1 ', '.audit_log ');
      END LOOP;
    END $$;
    DROP TABLE audit_log_v1;

    -- This month and the next two exist before the first append needs them.
    SELECT audit_ensure_partition(((now() AT TIME ZONE 'UTC') + make_interval(months => n)) AT TIME ZONE 'UTC')
      FROM generate_series(0, 2) n;

    -- Privileges. The trigger refuses UPDATE/DELETE/TRUNCATE even to the owner; these make the
    -- application role unable to try, and unable to write anything but chained rows.
    REVOKE ALL ON audit_log, audit_chain_heads, audit_anchors FROM PUBLIC;
    REVOKE ALL ON FUNCTION audit_append(jsonb, jsonb), audit_append_at(jsonb, jsonb, timestamptz),
      audit_ensure_partition(timestamptz) FROM PUBLIC;
    DO $$
    BEGIN
      IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'switchboard_app')
         AND (SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user) THEN
        BEGIN
          CREATE ROLE switchboard_app NOLOGIN;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
          NULL; -- created meanwhile by a migration of another database on the same server
        END;
      END IF;
      IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'switchboard_app') THEN
        GRANT SELECT ON audit_log, audit_chain_heads, audit_anchors TO switchboard_app;
        GRANT EXECUTE ON FUNCTION audit_append(jsonb, jsonb), audit_ensure_partition(timestamptz)
          TO switchboard_app;
      ELSE
        RAISE NOTICE 'role switchboard_app missing and not creatable here: see docs/audit-trail.md';
      END IF;
    END $$;
  `,
};
