// audit_append() answers how many rows were new; counting a message's outcome exactly once needs
// to know which. These wrappers take the chains' locks first (the same ones, in the same order,
// as audit_append_at takes again: a no-op within the transaction), so no other writer can add a
// row between the check and the append, then report the entries that were not there before.

export const auditNewRowsMigration = {
  id: 12,
  name: 'audit append reports its new rows',
  sql: `
    CREATE FUNCTION audit_append_rows_at(p_context jsonb, p_entries jsonb, p_recorded_at timestamptz)
      RETURNS TABLE (message_id text, seq integer)
      LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
    BEGIN
      IF jsonb_typeof(p_entries) IS DISTINCT FROM 'array' THEN
        RAISE EXCEPTION 'audit entries must be an array' USING ERRCODE = 'invalid_parameter_value';
      END IF;
      PERFORM 1 FROM audit_chain_heads
        WHERE shard IN (SELECT audit_shard(x->>'messageId') FROM jsonb_array_elements(p_entries) x)
        ORDER BY shard FOR UPDATE;
      -- The same existence test (and partition bound) as audit_append_at's idempotency check.
      RETURN QUERY
        SELECT DISTINCT w.m, w.s FROM (
          SELECT x->>'messageId' AS m, (x->>'seq')::integer AS s, (x->>'occurredAt')::timestamptz AS o
          FROM jsonb_array_elements(p_entries) x
        ) w
        WHERE NOT EXISTS (SELECT 1 FROM audit_log a WHERE a.message_id = w.m AND a.seq = w.s
                          AND a.recorded_at >= w.o - interval '1 day');
      PERFORM audit_append_at(p_context, p_entries, p_recorded_at);
    END $$;

    CREATE FUNCTION audit_append_rows(p_context jsonb, p_entries jsonb)
      RETURNS TABLE (message_id text, seq integer)
      LANGUAGE sql SECURITY DEFINER SET search_path FROM CURRENT
      AS $$ SELECT * FROM audit_append_rows_at(p_context, p_entries, NULL) $$;

    REVOKE ALL ON FUNCTION audit_append_rows(jsonb, jsonb), audit_append_rows_at(jsonb, jsonb, timestamptz)
      FROM PUBLIC;
    DO $$
    BEGIN
      IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'switchboard_app') THEN
        GRANT EXECUTE ON FUNCTION audit_append_rows(jsonb, jsonb) TO switchboard_app;
      END IF;
    END $$;
  `,
};
