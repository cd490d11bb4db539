// The status callbacks' transactional outbox. An event is written by the same statement that
// appends its audit row (audit_append_with_status_events), so a message's callbacks exist exactly
// when its audit rows do: no extra activity, round trip or history event per message, and a
// retried append (no new rows) writes no event twice. The sender (channels/callbacks/) claims due
// rows, one per message at a time: event n+1 waits until n was acknowledged or given up on.

// Listed in store/migrations.ts.
export const statusEventsMigration = {
  id: 17,
  name: 'status events outbox',
  sql: `
    CREATE TABLE status_events (
      id              bigserial   PRIMARY KEY,
      event_id        uuid        NOT NULL UNIQUE DEFAULT gen_random_uuid(),
      message_id      text        NOT NULL,
      -- 1, 2, 3… per message. NULL: a read receipt that came before the message's outcome was
      -- written; it is numbered right after the outcome, so it never overtakes "delivered".
      seq             integer,
      -- What the event came from ('audit:<seq>', 'read'): a repeated source adds nothing.
      source          text        NOT NULL,
      tenant          text        NOT NULL,
      url             text        NOT NULL,
      status          text        NOT NULL
                      CHECK (status IN ('accepted', 'fell_back', 'delivered', 'failed', 'read')),
      channel         text,
      fallback_reason text,
      error_code      text,
      occurred_at     timestamptz NOT NULL,
      created_at      timestamptz NOT NULL DEFAULT now(),
      state           text        NOT NULL DEFAULT 'pending'
                      CHECK (state IN ('pending', 'sent', 'undeliverable')),
      attempts        integer     NOT NULL DEFAULT 0,
      next_attempt_at timestamptz NOT NULL DEFAULT now(),
      last_error      text,
      settled_at      timestamptz,
      UNIQUE (message_id, seq),
      UNIQUE (message_id, source)
    );
    CREATE INDEX status_events_pending ON status_events (message_id, seq) WHERE state = 'pending';

    -- One event of one message. Serialised per message (advisory lock) so numbering is gap-free
    -- even when a pilot's two children write at once. The first event fixes where the message's
    -- events go: its own URL, else the tenant's default; a tenant without a webhook (no secret
    -- to sign with) gets none. Answers recorded | held | duplicate | untracked.
    CREATE FUNCTION status_event_insert(
      p_message text, p_tenant text, p_url text, p_source text, p_status text, p_channel text,
      p_reason text, p_code text, p_occurred timestamptz
    ) RETURNS text LANGUAGE plpgsql AS $$
    DECLARE
      v_tenant text;
      v_url text;
      v_seq integer;
      v_count integer;
    BEGIN
      PERFORM pg_advisory_xact_lock(hashtextextended('status_events:' || p_message, 0));
      SELECT e.tenant, e.url INTO v_tenant, v_url FROM status_events e
        WHERE e.message_id = p_message ORDER BY e.id LIMIT 1;
      IF v_url IS NULL THEN
        IF p_tenant IS NULL THEN RETURN 'untracked'; END IF;
        v_tenant := p_tenant;
        SELECT COALESCE(p_url, w.default_url) INTO v_url FROM tenant_webhooks w WHERE w.tenant = p_tenant;
        IF v_url IS NULL THEN RETURN 'untracked'; END IF;
      END IF;
      IF p_status = 'read' AND NOT EXISTS (SELECT 1 FROM status_events e WHERE e.message_id = p_message
                                           AND e.status IN ('delivered', 'failed')) THEN
        v_seq := NULL;
      ELSE
        SELECT COALESCE(max(e.seq), 0) + 1 INTO v_seq FROM status_events e WHERE e.message_id = p_message;
      END IF;
      INSERT INTO status_events (message_id, seq, source, tenant, url, status, channel, fallback_reason,
                                 error_code, occurred_at)
        VALUES (p_message, v_seq, p_source, v_tenant, v_url, p_status, p_channel, p_reason, p_code, p_occurred)
        ON CONFLICT (message_id, source) DO NOTHING;
      GET DIAGNOSTICS v_count = ROW_COUNT;
      IF v_count = 0 THEN RETURN 'duplicate'; END IF;
      IF p_status IN ('delivered', 'failed') THEN
        UPDATE status_events SET seq = v_seq + 1 WHERE message_id = p_message AND seq IS NULL;
      END IF;
      RETURN CASE WHEN v_seq IS NULL THEN 'held' ELSE 'recorded' END;
    END $$;

    -- audit_append_rows, plus the status events of the rows that were new, in one statement.
    -- p_events: [{messageId, auditSeq, status, channel, fallbackReason, errorCode, occurredAt}].
    CREATE FUNCTION audit_append_with_status_events(
      p_context jsonb, p_entries jsonb, p_events jsonb, p_url text
    ) RETURNS TABLE (message_id text, seq integer) LANGUAGE plpgsql AS $$
    DECLARE
      v_new jsonb;
      ev jsonb;
    BEGIN
      SELECT COALESCE(jsonb_agg(jsonb_build_object('m', r.message_id, 's', r.seq)), '[]'::jsonb) INTO v_new
        FROM audit_append_rows(p_context, p_entries) r;
      FOR ev IN SELECT x FROM jsonb_array_elements(p_events) x
                WHERE v_new @> jsonb_build_array(jsonb_build_object('m', x->>'messageId', 's', (x->>'auditSeq')::integer))
                ORDER BY (x->>'auditSeq')::integer
      LOOP
        PERFORM status_event_insert(ev->>'messageId', p_context->>'tenant', p_url, 'audit:' || (ev->>'auditSeq'),
          ev->>'status', ev->>'channel', ev->>'fallbackReason', ev->>'errorCode', (ev->>'occurredAt')::timestamptz);
      END LOOP;
      RETURN QUERY SELECT x->>'m', (x->>'s')::integer FROM jsonb_array_elements(v_new) x;
    END $$;

    -- A read receipt (RBM READ) by its RBM message id: ids not in rcs_sends are message ids.
    CREATE FUNCTION status_event_read(p_rbm_message_id text, p_occurred timestamptz) RETURNS text
      LANGUAGE sql AS $$
      SELECT status_event_insert(
        COALESCE((SELECT s.message_id FROM rcs_sends s WHERE s.rbm_message_id = p_rbm_message_id), p_rbm_message_id),
        NULL, NULL, 'read', 'read', 'rcs', NULL, NULL, p_occurred)
    $$;

    DO $$
    BEGIN
      IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'switchboard_app') THEN
        GRANT SELECT, INSERT, UPDATE ON status_events TO switchboard_app;
        GRANT USAGE ON SEQUENCE status_events_id_seq TO switchboard_app;
        GRANT SELECT, INSERT, UPDATE ON tenant_webhooks TO switchboard_app;
      END IF;
    END $$;
  `,
};
