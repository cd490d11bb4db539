// Retention by whole partitions: rows recorded in the far past are dropped with their partition,
// anchors keep the chains verifiable, and nothing younger than the retention is touched.

import assert from 'node:assert/strict';
import { shardOf } from '../../store/audit-chain';
import { AuditLog } from '../../store/audit-log';
import {
  dropExpiredAuditPartitions,
  ensureAuditPartitions,
  listAuditPartitions,
} from '../../store/audit-retention';
import { verifyAuditChain } from '../../store/audit-verify';
import type { Database } from '../../store/database';
import { createTestDatabase } from './test-database';
import type { TestDatabase } from './test-database';
import { HASH_KEY, context, entry, newMessageId } from './audit-helpers';

describe('audit trail: retention', () => {
  let testDb: TestDatabase;
  let db: Database;
  const now = new Date();
  let clock: Date;
  const old = [newMessageId(), newMessageId(), newMessageId()];
  const recent = [newMessageId(), newMessageId()];

  before(async () => {
    testDb = await createTestDatabase('switchboard_audit_retention');
    db = testDb.db;
    // Rows recorded (and occurring) in 2010 and 2011, then today's.
    const past = new AuditLog(db, HASH_KEY, { recordedAt: () => clock });
    for (const [i, id] of old.entries()) {
      clock = new Date(Date.UTC(2010 + i, 2, 15));
      await past.append(
        context(),
        [0, 1, 2].map((seq) => entry(id, seq, { occurredAt: clock.toISOString() })),
      );
    }
    const live = new AuditLog(db, HASH_KEY);
    for (const id of recent) await live.append(context(), [entry(id, 0), entry(id, 1)]);
  });
  after(() => testDb?.drop());

  it('creates the coming months, idempotently', async () => {
    const names = await ensureAuditPartitions(db, now, 3);
    assert.equal(names.length, 4);
    assert.deepEqual(await ensureAuditPartitions(db, now, 3), names);
    const listed = (await listAuditPartitions(db)).map((p) => p.name);
    for (const n of names) assert.ok(listed.includes(n));
  });

  it('drops only partitions older than the retention, with anchors, and verify still passes', async () => {
    assert.equal((await verifyAuditChain(db)).firstBroken, null);
    const before = await listAuditPartitions(db);
    // 2012-06 + 2 years: the 2010-03 and 2011-03 months are expired, 2012-03 is not.
    const dropped = await dropExpiredAuditPartitions(db, 2, new Date(Date.UTC(2013, 5, 1)));
    assert.deepEqual(
      dropped.map((d) => [d.name, d.rows]),
      [
        ['audit_log_p201003', 3],
        ['audit_log_p201103', 3],
      ],
    );
    const after = await listAuditPartitions(db);
    assert.equal(after.length, before.length - 2);
    assert.equal(
      (await db.query<{ t: string | null }>("SELECT to_regclass('audit_log_p201003') AS t")).rows[0]?.t,
      null,
    );
    const anchors = await db.query('SELECT partition_name FROM audit_anchors');
    assert.ok((anchors.rowCount ?? 0) >= 1);

    const report = await verifyAuditChain(db);
    assert.equal(report.firstBroken, null, JSON.stringify(report.firstBroken));
    assert.equal(report.rowsChecked, 3 + 4);
    const log = new AuditLog(db, HASH_KEY);
    assert.deepEqual(await log.forMessage(old[0]!), []);
    assert.equal((await log.forMessage(old[2]!)).length, 3);
    assert.equal((await log.forMessage(recent[0]!)).length, 2);
  });

  it('with the default 7 years, today drops the 2012 month and nothing younger', async () => {
    const dropped = await dropExpiredAuditPartitions(db);
    assert.deepEqual(
      dropped.map((d) => [d.name, d.rows]),
      [['audit_log_p201203', 3]],
    );
    assert.equal((await verifyAuditChain(db)).firstBroken, null);
  });

  it('new partitions carry the append-only triggers', async () => {
    const { rows } = await db.query<{ partition: string; triggers: string[] }>(
      `SELECT c.relname AS partition, array_agg(t.tgname::text ORDER BY t.tgname) AS triggers
       FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
       JOIN pg_trigger t ON t.tgrelid = c.oid AND NOT t.tgisinternal AND t.tgenabled = 'O'
       WHERE i.inhparent = 'audit_log'::regclass GROUP BY c.relname`,
    );
    assert.equal(rows.length, (await listAuditPartitions(db)).length);
    for (const r of rows)
      assert.deepEqual(r.triggers, ['audit_log_no_truncate', 'audit_log_no_update'], r.partition);
  });

  it('a partition dropped without its anchors (not by retention) breaks verification', async () => {
    const { rows } = await db.query<{ name: string }>(
      'SELECT tableoid::regclass::text AS name FROM audit_log WHERE message_id = $1',
      [recent[0]],
    );
    await db.query(`DROP TABLE ${rows[0]!.name}`);
    const { firstBroken } = await verifyAuditChain(db);
    assert.ok(recent.map(shardOf).includes(firstBroken!.shard));
    assert.equal(firstBroken?.reason, 'missing tail');
  });
});
