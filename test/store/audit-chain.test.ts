// The chained, append-only audit table on a real PostgreSQL: concurrency, idempotency, what the
// database itself refuses, the migration of rows written before chaining, and the cost per append.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { AUDIT_SHARDS, shardOf } from '../../store/audit-chain';
import { AuditLog } from '../../store/audit-log';
import { verifyAuditChain } from '../../store/audit-verify';
import { openDatabase } from '../../store/database';
import { migrate } from '../../store/migrate';
import type { Database } from '../../store/database';
import { MIGRATIONS } from '../../store/migrations';
import { ADMIN_URL, createTestDatabase } from './test-database';
import type { TestDatabase } from './test-database';
import { HASH_KEY, RECIPIENT, context, entry, median, newMessageId } from './audit-helpers';

describe('audit trail: chained append', () => {
  let testDb: TestDatabase;
  let db: Database;
  let log: AuditLog;

  before(async () => {
    testDb = await createTestDatabase('switchboard_audit_chain');
    db = testDb.db;
    log = new AuditLog(db, HASH_KEY);
  });
  after(() => testDb?.drop());

  it('is migration 4, and migrating again changes nothing', async () => {
    const { rows } = await db.query<{ id: number }>('SELECT id FROM schema_migrations WHERE id = 4');
    assert.equal(rows.length, 1);
    await migrate(db);
    const heads = await db.query('SELECT * FROM audit_chain_heads');
    assert.equal(heads.rowCount, AUDIT_SHARDS);
  });

  it('many concurrent appends of many messages form intact chains', async () => {
    const pool = openDatabase(testDb.url, 20);
    try {
      const concurrent = new AuditLog(pool, HASH_KEY);
      const messages = Array.from({ length: 60 }, newMessageId);
      const writes = messages.flatMap((id) =>
        [0, 1, 2, 3].map((seq) => concurrent.append(context(), [entry(id, seq)])),
      );
      const inserted = await Promise.all(writes);
      assert.equal(
        inserted.reduce((a, b) => a + b.length, 0),
        messages.length * 4,
      );
    } finally {
      await pool.end();
    }
    const report = await verifyAuditChain(db);
    assert.equal(report.firstBroken, null, JSON.stringify(report.firstBroken));
    assert.ok(report.rowsChecked >= 240);
    assert.ok(report.chains > 1, 'rows spread over several chains');
  });

  it('a retried append (same message id and seq) adds no row, also inside one batch', async () => {
    const id = newMessageId();
    assert.equal((await log.append(context(), [entry(id, 0), entry(id, 1)])).length, 2);
    assert.equal((await log.append(context(), [entry(id, 0)])).length, 0);
    assert.equal((await log.append(context(), [entry(id, 1), entry(id, 2), entry(id, 2)])).length, 1);
    const trail = await log.forMessage(id);
    assert.deepEqual(
      trail.map((r) => r.seq),
      [0, 1, 2],
    );
    assert.ok(trail.every((r) => r.shard === shardOf(id)));
    assert.deepEqual(
      trail.map((r) => r.shardSeq - trail[0]!.shardSeq),
      [0, 1, 2],
    );
  });

  it('stores the recipient only as the keyed hash, and promotes detail.configVersion', async () => {
    const id = newMessageId();
    await log.append(context(), [entry(id, 0, { detail: { configVersion: 7 } })]);
    const [row] = await log.forMessage(id);
    assert.equal(row?.recipientHash, log.hashRecipient(RECIPIENT));
    assert.equal(row?.configVersion, '7');
    const raw = await db.query('SELECT * FROM audit_log WHERE message_id = $1', [id]);
    assert.ok(!JSON.stringify(raw.rows).includes(RECIPIENT.slice(1)));
  });

  it('refuses bad entries naming the field, without echoing values', async () => {
    await assert.rejects(log.append(context(), [entry('', 0)]), /messageId/);
    await assert.rejects(log.append(context(), [entry('m', -1)]), /seq/);
    await assert.rejects(
      log.append(context(), [entry('m', 0, { occurredAt: 'yesterday' })]),
      (err: Error) => {
        assert.match(err.message, /occurredAt/);
        assert.ok(!err.message.includes('yesterday'));
        return true;
      },
    );
  });

  describe('the database itself refuses edits', () => {
    let partition: string;
    before(async () => {
      // Row triggers fire per row: the tables need rows for a refusal to be shown.
      const id = newMessageId();
      await log.append(context(), [entry(id, 0)]);
      const { rows } = await db.query<{ name: string }>(
        'SELECT tableoid::regclass::text AS name FROM audit_log WHERE message_id = $1',
        [id],
      );
      partition = rows[0]!.name;
      await db.query(
        `INSERT INTO audit_anchors (shard, shard_seq, row_hash, partition_name, partition_to)
         VALUES (0, 0, repeat('0', 64), 'none', now())`,
      );
    });

    for (const [what, sql] of [
      ['UPDATE', "UPDATE audit_log SET event = 'forged'"],
      ['DELETE', 'DELETE FROM audit_log'],
      ['TRUNCATE', 'TRUNCATE audit_log'],
      ['UPDATE of a partition', "UPDATE %p SET event = 'forged'"],
      ['DELETE from a partition', 'DELETE FROM %p'],
      ['TRUNCATE of a partition', 'TRUNCATE %p'],
      ['DELETE of an anchor', 'DELETE FROM audit_anchors'],
      ['TRUNCATE of the anchors', 'TRUNCATE audit_anchors'],
    ] as const) {
      it(`${what}, even by the owner (superuser)`, async () => {
        await assert.rejects(
          db.query(sql.replace('%p', partition)),
          /append-only: (UPDATE|DELETE|TRUNCATE) refused/,
        );
      });
    }

    it('the application role may append and read, but not write directly', async () => {
      const client = await db.connect();
      try {
        await client.query('SET ROLE switchboard_app');
        for (const sql of [
          "UPDATE audit_log SET event = 'forged'",
          'DELETE FROM audit_log',
          'TRUNCATE audit_log',
          `INSERT INTO audit_log SELECT * FROM audit_log LIMIT 1`,
          'UPDATE audit_chain_heads SET shard_seq = 0',
          `SELECT audit_append_at('{}'::jsonb, '[]'::jsonb, now())`,
          `DELETE FROM ${partition}`,
        ]) {
          await assert.rejects(client.query(sql), /permission denied/, sql);
        }
        const id = newMessageId();
        const appended = await client.query<{ n: number }>('SELECT audit_append($1::jsonb, $2::jsonb) AS n', [
          JSON.stringify({ tenant: 't', recipientHash: 'h', region: 'us', flow: 'standard' }),
          JSON.stringify([{ ...entry(id, 0), detail: {} }]),
        ]);
        assert.equal(appended.rows[0]?.n, 1);
        const read = await client.query('SELECT 1 FROM audit_log WHERE message_id = $1', [id]);
        assert.equal(read.rowCount, 1);
      } finally {
        await client.query('RESET ROLE');
        client.release();
      }
    });
  });

  it('costs little per append (median over 500 single-row appends, logged)', async function () {
    this.timeout(120_000);
    const measure = async (n: number) => {
      const times: number[] = [];
      for (let i = 0; i < n; i++) {
        const id = newMessageId();
        const start = performance.now();
        await log.append(context(), [entry(id, 0)]);
        times.push(performance.now() - start);
      }
      return times;
    };
    await measure(50); // warm the pool's connections and the function's cached plans
    const few = await measure(500);
    // Seven years of monthly partitions: the idempotency lookup has no partition key to prune on.
    await db.query(
      `SELECT audit_ensure_partition(now() - make_interval(months => n)) FROM generate_series(1, 84) n`,
    );
    await measure(50);
    const many = await measure(500);
    const line = (t: number[]) =>
      `median ${median(t).toFixed(3)} ms, p95 ${[...t].sort((a, b) => a - b)[Math.floor(t.length * 0.95)]!.toFixed(3)} ms`;
    console.log(`      audit append cost, 4 partitions: ${line(few)}; 88 partitions: ${line(many)}`);
    assert.equal((await verifyAuditChain(db)).firstBroken, null);
  });
});

describe('audit trail: migrating rows written before chaining', () => {
  const name = `switchboard_audit_legacy_${randomBytes(4).toString('hex')}`;
  let db: Database;
  const admin = async (sql: string) => {
    const c = new pg.Client({ connectionString: ADMIN_URL });
    await c.connect();
    try {
      await c.query(sql);
    } finally {
      await c.end();
    }
  };

  before(async () => {
    await admin(`CREATE DATABASE ${name}`);
    const url = new URL(ADMIN_URL);
    url.pathname = `/${name}`;
    db = openDatabase(url.toString(), 2);
  });
  after(async () => {
    await db?.end();
    await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  });

  it('re-appends old rows in order, chained, keeping indexes later migrations added', async () => {
    // A database that had every migration but this one (the guard's index on audit_log included).
    await db.query(
      'CREATE TABLE schema_migrations (id integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())',
    );
    for (const m of MIGRATIONS.filter((x) => x.id !== 4)) {
      await db.query(m.sql);
      await db.query('INSERT INTO schema_migrations (id, name) VALUES ($1, $2)', [m.id, m.name]);
    }
    const ids = [newMessageId(), newMessageId()];
    for (const [i, id] of ids.entries()) {
      for (const seq of [0, 1]) {
        await db.query(
          `INSERT INTO audit_log (message_id, seq, tenant, recipient_hash, region, flow, event, detail, occurred_at, recorded_at)
           VALUES ($1, $2, 'acme', 'h', 'us', 'standard', 'received', '{"configVersion": 2}', $3, $3)`,
          [id, seq, new Date(Date.UTC(2026, 0, 10 + i, 0, 0, seq))],
        );
      }
    }
    await migrate(db);
    const log = new AuditLog(db, HASH_KEY);
    const trail = await log.forMessage(ids[0]!);
    assert.deepEqual(
      trail.map((r) => [r.seq, r.configVersion, r.recordedAt]),
      [
        [0, '2', '2026-01-10T00:00:00.000Z'],
        [1, '2', '2026-01-10T00:00:01.000Z'],
      ],
    );
    const report = await verifyAuditChain(db);
    assert.equal(report.firstBroken, null);
    assert.equal(report.rowsChecked, 4);
    const index = await db.query(
      `SELECT 1 FROM pg_indexes WHERE tablename = 'audit_log' AND indexname IN ('audit_log_region_time')`,
    );
    assert.equal(index.rowCount, 1, 'the region index moved to the new table');
    assert.equal(
      (await db.query<{ t: string | null }>("SELECT to_regclass('audit_log_v1') AS t")).rows[0]?.t,
      null,
    );
    // New appends continue the chains.
    assert.equal((await log.append(context(), [entry(ids[0]!, 2)])).length, 1);
    assert.equal((await verifyAuditChain(db)).firstBroken, null);
  });
});
