// Migration 20, after the status callbacks' security review (17 may be deployed: never edited).
// - first_attempt_at: the retry budget runs from when an event first became its message's head
//   and was tried, not from when it was written (after a long outage queued events get their
//   full budget, not one try each).
// - previous_secret_sealed: the secret a rotation replaced, signed with beside the new one for
//   CALLBACK_SECRET_GRACE_MS after rotated_at, so apps can switch without losing callbacks.
// - status_event_read answers 'unwanted' for a READ of a message whose 'received' audit row exists
//   but that has no events (its tenant has no webhook, or no URL): final, the receipt is not retried.
// - the worker may DELETE settled events (retention) and only reads tenant_webhooks (the
//   operator's CLI writes it).

// Listed in store/migrations.ts.
export const statusEventsHardeningMigration = {
  id: 20,
  name: 'status events: retry budget from first attempt, secret grace, retention',
  sql: `
    ALTER TABLE status_events ADD COLUMN first_attempt_at timestamptz;
    CREATE INDEX status_events_settled ON status_events (settled_at) WHERE state <> 'pending';
    ALTER TABLE tenant_webhooks ADD COLUMN previous_secret_sealed bytea;

    CREATE OR REPLACE FUNCTION status_event_read(p_rbm_message_id text, p_occurred timestamptz) RETURNS text
      LANGUAGE plpgsql AS $$
    DECLARE
      v_message text;
      v_result text;
    BEGIN
      v_message := COALESCE((SELECT s.message_id FROM rcs_sends s WHERE s.rbm_message_id = p_rbm_message_id),
                            p_rbm_message_id);
      v_result := status_event_insert(v_message, NULL, NULL, 'read', 'read', 'rcs', NULL, NULL, p_occurred);
      -- A message's 'accepted' event is written by the statement that writes its 'received' audit
      -- row (domain/status-event.ts): that row without events means the message wants none (no
      -- webhook or no URL), not "not written yet".
      IF v_result = 'untracked' AND EXISTS (SELECT 1 FROM audit_log a WHERE a.message_id = v_message
                                             AND a.event = 'received' AND a.seq < 1000) THEN
        RETURN 'unwanted';
      END IF;
      RETURN v_result;
    END $$;

    DO $$
    BEGIN
      IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'switchboard_app') THEN
        GRANT DELETE ON status_events TO switchboard_app;
        REVOKE INSERT, UPDATE, DELETE ON tenant_webhooks FROM switchboard_app;
        GRANT SELECT ON tenant_webhooks TO switchboard_app;
      END IF;
    END $$;
  `,
};
