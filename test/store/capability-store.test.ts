// PostgresCapabilityStore against a real PostgreSQL: a database of its own, migrated by the
// production migrate(), dropped afterwards.

import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { CapabilityStoreError, PostgresCapabilityStore } from '../../store/capability-store';
import { openDatabase } from '../../store/database';
import { migrate } from '../../store/migrate';
import type { Database } from '../../store/database';
import { createTestDatabase } from './test-database';
import type { TestDatabase } from './test-database';

const KEY = 'capability-test-hash-key';
const T0 = Date.parse('2026-01-01T00:00:00.123Z');
const RCS = { features: ['REVOCATION', 'RICHCARD_STANDALONE', 'E2EE_MLS'] };

describe('PostgresCapabilityStore', () => {
  let testDb: TestDatabase;
  let db: Database;
  let store: PostgresCapabilityStore;
  let clock: number;
  let serial = 0;
  /** A number no other test has touched. */
  const fresh = (): string => `+1555020${String(++serial).padStart(4, '0')}`;

  before(async () => {
    testDb = await createTestDatabase('switchboard_capstore');
    db = testDb.db;
  });
  after(() => testDb?.drop());
  beforeEach(async () => {
    clock = T0;
    store = new PostgresCapabilityStore(db, KEY, { now: () => clock });
    await db.query('DELETE FROM capability_cache');
  });

  it('is created by migration 3, and migrating again changes nothing', async () => {
    const { rows } = await db.query<{ id: number; name: string }>(
      'SELECT id, name FROM schema_migrations ORDER BY id',
    );
    assert.equal(rows.find((r) => r.id === 3)?.name, 'capability cache');
    await migrate(db);
    const again = await db.query('SELECT id FROM schema_migrations');
    assert.equal(again.rowCount, rows.length);
  });

  it('round-trips an entry, to the millisecond', async () => {
    const msisdn = fresh();
    await store.put(msisdn, { capabilities: RCS, fetchedAt: T0 });
    assert.deepEqual(await store.get(msisdn), { capabilities: RCS, fetchedAt: T0 });
  });

  it('answers null for a number it has never seen', async () => {
    assert.equal(await store.get(fresh()), null);
  });

  it('stores a negative answer as SQL NULL and reads it back as null', async () => {
    const msisdn = fresh();
    await store.put(msisdn, { capabilities: null, fetchedAt: T0 });
    assert.deepEqual(await store.get(msisdn), { capabilities: null, fetchedAt: T0 });
    const { rows } = await db.query<{ is_null: boolean }>(
      'SELECT capabilities IS NULL AS is_null FROM capability_cache WHERE msisdn_hash = $1',
      [store.hashMsisdn(msisdn)],
    );
    assert.deepEqual(rows, [{ is_null: true }]);
  });

  it('replaces an entry with a newer one, and never with an older or equally old one', async () => {
    const msisdn = fresh();
    await store.put(msisdn, { capabilities: null, fetchedAt: T0 });
    await store.put(msisdn, { capabilities: RCS, fetchedAt: T0 + 1 });
    assert.deepEqual(await store.get(msisdn), { capabilities: RCS, fetchedAt: T0 + 1 });

    await store.put(msisdn, { capabilities: null, fetchedAt: T0 });
    await store.put(msisdn, { capabilities: { features: [] }, fetchedAt: T0 + 1 });
    assert.deepEqual(await store.get(msisdn), { capabilities: RCS, fetchedAt: T0 + 1 });
  });

  it('keeps the newest of many concurrent writes, whatever order they land in', async () => {
    const msisdn = fresh();
    const times = Array.from({ length: 40 }, (_, i) => T0 + i * 1000).sort(() => Math.random() - 0.5);
    await Promise.all(
      times.map((fetchedAt) =>
        store.put(msisdn, { capabilities: { features: [String(fetchedAt)] }, fetchedAt }),
      ),
    );
    const newest = T0 + 39_000;
    assert.deepEqual(await store.get(msisdn), {
      capabilities: { features: [String(newest)] },
      fetchedAt: newest,
    });
  });

  it('keeps no phone number in the table, only HMAC-SHA256(key, number)', async () => {
    const numbers = [fresh(), fresh(), fresh()];
    for (const [i, msisdn] of numbers.entries()) {
      await store.put(msisdn, { capabilities: i === 0 ? null : RCS, fetchedAt: T0 });
    }
    const { rows } = await db.query<Record<string, unknown>>('SELECT * FROM capability_cache');
    assert.equal(rows.length, numbers.length);
    const dump = JSON.stringify(rows);
    for (const msisdn of numbers) {
      // Neither E.164 nor its bare digits; assert.ok with a message so a failure prints no number.
      assert.ok(!dump.includes(msisdn), 'a number appears in capability_cache');
      assert.ok(!dump.includes(msisdn.slice(1)), 'the digits of a number appear in capability_cache');
    }
    const expected = numbers.map((m) => createHmac('sha256', KEY).update(m).digest('hex')).sort();
    assert.deepEqual(rows.map((r) => r.msisdn_hash).sort(), expected);
    assert.ok(rows.every((r) => /^[0-9a-f]{64}$/.test(String(r.msisdn_hash))));
  });

  it('does not find entries written under another hash key', async () => {
    const msisdn = fresh();
    await store.put(msisdn, { capabilities: RCS, fetchedAt: T0 });
    const rotated = new PostgresCapabilityStore(db, 'another-key-of-16-chars-or-more');
    assert.equal(await rotated.get(msisdn), null);
  });

  it('refuses a short hash key', () => {
    assert.throws(() => new PostgresCapabilityStore(db, 'short'), /at least 16/);
  });

  it('purges rows older than the given age by its clock, and reports how many', async () => {
    const old = [fresh(), fresh()];
    const recent = fresh();
    for (const m of old) await store.put(m, { capabilities: RCS, fetchedAt: T0 });
    await store.put(recent, { capabilities: null, fetchedAt: T0 + 50_000 });
    clock = T0 + 100_000;
    assert.equal(await store.purgeOlderThan(60_000), 2);
    assert.equal(await store.get(old[0] ?? ''), null);
    assert.deepEqual(await store.get(recent), { capabilities: null, fetchedAt: T0 + 50_000 });
    assert.equal(await store.purgeOlderThan(60_000), 0);
    await assert.rejects(store.purgeOlderThan(-1), RangeError);
  });

  it('rejects a row whose capabilities are not a feature list', async () => {
    const msisdn = fresh();
    await db.query(
      `INSERT INTO capability_cache (msisdn_hash, capabilities, fetched_at) VALUES ($1, '{"features": 5}', now())`,
      [store.hashMsisdn(msisdn)],
    );
    await assert.rejects(store.get(msisdn), (err: unknown) => {
      assert.ok(err instanceof CapabilityStoreError);
      assert.equal(err.reason, 'malformed-row');
      return true;
    });
  });

  it('gives up after timeoutMs when no connection is free', async () => {
    const tiny = openDatabase(testDb.url, 1);
    const held = await tiny.connect();
    try {
      const impatient = new PostgresCapabilityStore(tiny, KEY, { timeoutMs: 100 });
      const started = Date.now();
      await assert.rejects(impatient.get(fresh()), (err: unknown) => {
        assert.ok(err instanceof CapabilityStoreError);
        assert.equal(err.reason, 'timeout');
        return true;
      });
      assert.ok(Date.now() - started < 1000);
    } finally {
      held.release();
      await tiny.end();
    }
  });
});
