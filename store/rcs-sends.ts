import type { Database } from './database';

// Listed in store/migrations.ts.
export const rcsSendsMigration = {
  id: 9,
  name: 'rcs sends',
  sql: `
    -- Which workflow waits for the events of an RBM message id. A message may have several RCS
    -- sends (an encrypted one, then a plain one; a pilot's child), each under its own id.
    CREATE TABLE rcs_sends (
      rbm_message_id text        PRIMARY KEY,
      message_id     text        NOT NULL,
      workflow_id    text        NOT NULL,
      sent_at        timestamptz NOT NULL DEFAULT now()
    );
  `,
};

export class RcsSends {
  constructor(private readonly db: Database) {}

  /** Written before the send, so the hub's event always finds its workflow. */
  async record(rbmMessageId: string, messageId: string, workflowId: string): Promise<void> {
    await this.db.query(
      `INSERT INTO rcs_sends (rbm_message_id, message_id, workflow_id) VALUES ($1, $2, $3)
       ON CONFLICT (rbm_message_id) DO UPDATE SET workflow_id = excluded.workflow_id`,
      [rbmMessageId, messageId, workflowId],
    );
  }

  async workflowFor(rbmMessageId: string): Promise<string | null> {
    const { rows } = await this.db.query<{ workflow_id: string }>(
      'SELECT workflow_id FROM rcs_sends WHERE rbm_message_id = $1',
      [rbmMessageId],
    );
    return rows[0]?.workflow_id ?? null;
  }
}
