// Tampering that bypasses the triggers (a superuser disabling them) must not go unnoticed:
// verifyAuditChain recomputes the chains and names the first broken link. Each case tampers
// with a database of its own.

import assert from 'node:assert/strict';
import { shardOf } from '../../store/audit-chain';
import { AuditLog } from '../../store/audit-log';
import type { AuditRow } from '../../store/audit-log';
import { verifyAuditChain } from '../../store/audit-verify';
import { createTestDatabase } from './test-database';
import type { TestDatabase } from './test-database';
import { HASH_KEY, context, entry, newMessageId, tamper } from './audit-helpers';

describe('audit trail: verify', () => {
  let testDb: TestDatabase | undefined;
  let log: AuditLog;
  /** Three messages of four rows each; returns the rows of the first. */
  let trail: AuditRow[];

  beforeEach(async () => {
    testDb = await createTestDatabase('switchboard_audit_verify');
    log = new AuditLog(testDb.db, HASH_KEY);
    const ids = [newMessageId(), newMessageId(), newMessageId()];
    for (const seq of [0, 1, 2, 3]) for (const id of ids) await log.append(context(), [entry(id, seq)]);
    trail = await log.forMessage(ids[0]!);
  });
  afterEach(async () => {
    await testDb?.drop();
    testDb = undefined;
  });

  it('reports an intact trail', async () => {
    const report = await verifyAuditChain(testDb!.db);
    assert.deepEqual(
      { rowsChecked: report.rowsChecked, firstBroken: report.firstBroken },
      { rowsChecked: 12, firstBroken: null },
    );
  });

  it('finds a row altered with triggers disabled, at its shard and sequence', async () => {
    const victim = trail[1]!;
    await tamper(
      testDb!.db,
      `UPDATE audit_log SET result = 'delivered' WHERE message_id = '${victim.messageId}' AND seq = 1`,
    );
    const { firstBroken, breaks } = await verifyAuditChain(testDb!.db);
    assert.deepEqual(firstBroken, {
      shard: shardOf(victim.messageId),
      shardSeq: victim.shardSeq,
      messageId: victim.messageId,
      seq: 1,
      recordedAt: firstBroken?.recordedAt,
      reason: 'hash mismatch',
    });
    assert.equal(breaks.length, 1);
  });

  it('finds an edit whose row hash was recomputed too, as a broken link at the next row', async () => {
    const victim = trail[1]!;
    await tamper(
      testDb!.db,
      `UPDATE audit_log SET result = 'delivered', row_hash = audit_row_hash(shard, shard_seq, message_id, seq,
         tenant, recipient_hash, region, flow, event, channel, 'delivered', error_code, detail, config_version,
         occurred_at, recorded_at, prev_hash)
       WHERE message_id = '${victim.messageId}' AND seq = 1`,
    );
    const { firstBroken } = await verifyAuditChain(testDb!.db);
    assert.equal(firstBroken?.reason, 'broken link');
    assert.equal(firstBroken?.shard, victim.shard);
    assert.equal(firstBroken?.shardSeq, victim.shardSeq + 1);
  });

  it('finds a deleted row as a missing predecessor of the next one', async () => {
    const victim = trail[2]!;
    await tamper(testDb!.db, `DELETE FROM audit_log WHERE message_id = '${victim.messageId}' AND seq = 2`);
    const { firstBroken } = await verifyAuditChain(testDb!.db);
    assert.equal(firstBroken?.reason, 'missing predecessor');
    assert.equal(firstBroken?.shard, victim.shard);
    assert.equal(firstBroken?.shardSeq, victim.shardSeq + 1);
  });

  it('finds rows cut off the end of a chain', async () => {
    const last = trail[3]!;
    // The last row of that chain, whichever message it belongs to.
    await tamper(
      testDb!.db,
      `DELETE FROM audit_log WHERE shard = ${last.shard}
         AND shard_seq = (SELECT max(shard_seq) FROM audit_log WHERE shard = ${last.shard})`,
    );
    const { firstBroken } = await verifyAuditChain(testDb!.db);
    assert.equal(firstBroken?.reason, 'missing tail');
    assert.equal(firstBroken?.shard, last.shard);
  });

  it('checks a time window from the last row before it, and sees a break inside it only', async () => {
    const rows = (
      await testDb!.db.query<{ recorded_at: Date }>('SELECT recorded_at FROM audit_log ORDER BY recorded_at')
    ).rows;
    const middle = rows[6]!.recorded_at;
    const whole = await verifyAuditChain(testDb!.db, { from: middle });
    assert.equal(whole.firstBroken, null);
    assert.equal(whole.rowsChecked, 6);

    const victim = trail[0]!; // recorded first of all, so before the window
    await tamper(
      testDb!.db,
      `UPDATE audit_log SET event = 'x' WHERE message_id = '${victim.messageId}' AND seq = 0`,
    );
    assert.equal((await verifyAuditChain(testDb!.db, { from: middle })).firstBroken, null);
    assert.equal((await verifyAuditChain(testDb!.db, { to: middle })).firstBroken?.reason, 'hash mismatch');
  });
});
