import { inTransaction } from './database';
import type { Database } from './database';
import { decodeEscrowRecord, encodeEscrowRecord } from '../e2ee/escrow';
import type { EscrowRecord, EscrowedMessage } from '../e2ee/escrow';
import type { ArchivedEscrowMessage, EscrowArchiveStore } from '../e2ee/escrow-archive';

export class EscrowStore implements EscrowArchiveStore {
  constructor(private readonly db: Database) {}

  /** Makes `record` its tenant's active escrow, retiring the previous one (its archive stays). */
  async activate(record: EscrowRecord): Promise<void> {
    await inTransaction(this.db, async (client) => {
      await client.query(
        'UPDATE e2ee_escrows SET retired_at = now() WHERE tenant = $1 AND retired_at IS NULL',
        [record.tenant],
      );
      await client.query('INSERT INTO e2ee_escrows (escrow_id, tenant, record) VALUES ($1, $2, $3)', [
        record.escrowId,
        record.tenant,
        encodeEscrowRecord(record),
      ]);
    });
  }

  async activeEscrow(tenant: string): Promise<EscrowRecord | null> {
    const { rows } = await this.db.query<{ record: string }>(
      'SELECT record FROM e2ee_escrows WHERE tenant = $1 AND retired_at IS NULL',
      [tenant],
    );
    return rows[0] ? decodeEscrowRecord(rows[0].record) : null;
  }

  async byId(escrowId: string): Promise<EscrowRecord | null> {
    const { rows } = await this.db.query<{ record: string }>(
      'SELECT record FROM e2ee_escrows WHERE escrow_id = $1',
      [escrowId],
    );
    return rows[0] ? decodeEscrowRecord(rows[0].record) : null;
  }

  async hasWelcome(escrowId: string, groupId: string): Promise<boolean> {
    const { rowCount } = await this.db.query(
      'SELECT 1 FROM e2ee_escrow_welcomes WHERE escrow_id = $1 AND group_id = $2',
      [escrowId, groupId],
    );
    return (rowCount ?? 0) > 0;
  }

  async archive(message: ArchivedEscrowMessage): Promise<void> {
    await inTransaction(this.db, async (client) => {
      if (message.welcome) {
        await client.query(
          `INSERT INTO e2ee_escrow_welcomes (escrow_id, group_id, welcome) VALUES ($1, $2, $3)
           ON CONFLICT DO NOTHING`,
          [message.escrowId, message.groupId, Buffer.from(message.welcome)],
        );
      }
      // A retried send archives the same message again: the first copy stays.
      await client.query(
        `INSERT INTO e2ee_escrow_messages (message_id, escrow_id, tenant, group_id, ciphertext)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (message_id) DO NOTHING`,
        [
          message.messageId,
          message.escrowId,
          message.tenant,
          message.groupId,
          Buffer.from(message.ciphertext),
        ],
      );
    });
  }

  /** The escrows that archived any of `messageIds` for `tenant`. */
  async escrowsHolding(tenant: string, messageIds: readonly string[]): Promise<string[]> {
    const { rows } = await this.db.query<{ escrow_id: string }>(
      `SELECT DISTINCT escrow_id FROM e2ee_escrow_messages WHERE tenant = $1 AND message_id = ANY($2::text[])`,
      [tenant, [...messageIds]],
    );
    return rows.map((r) => r.escrow_id).sort();
  }

  /** The archived messages of `escrowId` among `messageIds`, with their groups' Welcomes; others are left out. */
  async archived(escrowId: string, messageIds: readonly string[]): Promise<EscrowedMessage[]> {
    const { rows } = await this.db.query<{ message_id: string; welcome: Buffer; ciphertext: Buffer }>(
      `SELECT m.message_id, w.welcome, m.ciphertext
       FROM e2ee_escrow_messages m JOIN e2ee_escrow_welcomes w USING (escrow_id, group_id)
       WHERE m.escrow_id = $1 AND m.message_id = ANY($2::text[])`,
      [escrowId, [...messageIds]],
    );
    return rows.map((r) => ({
      messageId: r.message_id,
      welcome: new Uint8Array(r.welcome),
      ciphertext: new Uint8Array(r.ciphertext),
    }));
  }
}
