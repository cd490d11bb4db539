// The capability path as a worker runs it: CachedCapabilityProbe over a CapabilityCache whose
// shared tier is PostgresCapabilityStore on a real PostgreSQL, in front of the real sandbox hub.
// Two caches on one store stand for two workers; the hub's request log counts the hub calls.

import assert from 'node:assert/strict';
import { CachedCapabilityProbe } from '../../channels/rcs/cached-capability-probe';
import { CapabilityCache } from '../../channels/rcs/capability-cache';
import type { CapabilityCacheOptions } from '../../channels/rcs/capability-cache';
import type { RbmHubClient } from '../../channels/rcs/rbm-client';
import { RCS_FEATURE_RICHCARD } from '../../channels/rcs/types';
import type { SandboxRcsHub } from '../../sandbox/rcs-hub';
import { PostgresCapabilityStore } from '../../store/capability-store';
import { openDatabase } from '../../store/database';
import { createTestDatabase } from '../store/test-database';
import type { TestDatabase } from '../store/test-database';
import { startHub, waitFor } from './rcs-helpers';

const E2EE = '+15550100001';
const PLAIN = '+15550200001';
const NOT_RCS = '+15550300001';
const TEXT_ONLY = '+15550800001';
const KEY = 'probe-test-hash-key-0123';

describe('RCS cached capability probe (shared tier on PostgreSQL)', () => {
  let testDb: TestDatabase;
  let store: PostgresCapabilityStore;
  let hub: SandboxRcsHub;
  let client: RbmHubClient;
  let clock: number;
  const now = (): number => clock;

  const hubLookups = (msisdn?: string): number =>
    hub.requests.filter((r) => r.op === 'capabilities' && (msisdn === undefined || r.msisdn === msisdn))
      .length;
  /** One worker's cache: its own memory tier, the shared PostgreSQL tier. */
  const worker = (options: Partial<CapabilityCacheOptions> = {}): CapabilityCache =>
    new CapabilityCache({ hub: client, shared: store, now, ...options });

  before(async () => {
    testDb = await createTestDatabase('switchboard_capprobe');
    store = new PostgresCapabilityStore(testDb.db, KEY, { now });
    ({ hub, client } = await startHub());
  });
  after(async () => {
    await hub?.stop();
    await testDb?.drop();
  });
  beforeEach(async () => {
    hub.reset();
    clock = Date.parse('2026-01-01T00:00:00Z');
    await testDb.db.query('DELETE FROM capability_cache');
  });

  it('lets a second worker answer from PostgreSQL with no hub call', async () => {
    const first = worker();
    const second = worker();
    const a = await first.lookup(E2EE, 'req-1');
    assert.equal(a.source, 'hub');
    assert.equal(hubLookups(E2EE), 1);

    const b = await second.lookup(E2EE, 'req-2');
    assert.deepEqual([b.source, b.stale], ['cache', false]);
    assert.deepEqual(b.capabilities, a.capabilities);
    assert.equal(hubLookups(E2EE), 1);
    assert.deepEqual([second.stats.sharedHits, second.stats.hubCalls], [1, 0]);
  });

  it('shares a negative answer (404) between workers too', async () => {
    assert.equal((await worker().lookup(NOT_RCS, 'req-1')).capabilities, null);
    const other = await worker().lookup(NOT_RCS, 'req-2');
    assert.deepEqual([other.capabilities, other.source], [null, 'cache']);
    assert.equal(hubLookups(NOT_RCS), 1);
  });

  it('answers source "hub" first, then "cache" from memory, then "cache" from PostgreSQL in another worker', async () => {
    const probe = new CachedCapabilityProbe(worker());
    const first = await probe.probe(E2EE, 'req-1');
    assert.deepEqual(first, { rcs: true, e2ee: true, media: true, source: 'hub' });
    const second = await probe.probe(E2EE, 'req-2');
    assert.deepEqual(second, { rcs: true, e2ee: true, media: true, source: 'cache' });
    assert.deepEqual([probe.stats.hubCalls, probe.stats.hits, probe.stats.sharedHits], [1, 1, 0]);

    const elsewhere = new CachedCapabilityProbe(worker());
    assert.deepEqual(await elsewhere.probe(E2EE, 'req-3'), { ...first, source: 'cache' });
    assert.deepEqual([elsewhere.stats.sharedHits, elsewhere.stats.hubCalls], [1, 0]);
    assert.equal(hubLookups(E2EE), 1);
  });

  it('maps the features: no E2EE, text only, not RCS', async () => {
    const probe = new CachedCapabilityProbe(worker());
    assert.deepEqual(await probe.probe(PLAIN, 'r1'), { rcs: true, e2ee: false, media: true, source: 'hub' });
    assert.deepEqual(await probe.probe(TEXT_ONLY, 'r2'), {
      rcs: true,
      e2ee: false,
      media: false,
      source: 'hub',
    });
    assert.deepEqual(await probe.probe(NOT_RCS, 'r3'), {
      rcs: false,
      e2ee: false,
      media: false,
      source: 'hub',
    });
  });

  it('serves a stale shared row at once, and the background refresh moves the row forward', async () => {
    const t0 = clock;
    await worker().lookup(PLAIN, 'r1');
    clock += 45_000;
    const other = worker();
    const stale = await other.lookup(PLAIN, 'r2');
    assert.deepEqual([stale.source, stale.stale], ['cache', true]);
    await waitFor('background refresh', () => hubLookups(PLAIN) === 2);
    const deadline = Date.now() + 3000;
    while ((await store.get(PLAIN))?.fetchedAt !== t0 + 45_000) {
      assert.ok(Date.now() < deadline, 'the refreshed answer never reached PostgreSQL');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    // A late write of the old answer (a slow worker) does not roll the row back.
    await store.put(PLAIN, { capabilities: { features: [] }, fetchedAt: t0 });
    const row = await store.get(PLAIN);
    assert.equal(row?.fetchedAt, t0 + 45_000);
    assert.ok(row?.capabilities?.features.includes(RCS_FEATURE_RICHCARD));
  });

  it('falls back to the hub when PostgreSQL is unreachable, counting the failures', async () => {
    const down = openDatabase('postgres://postgres@127.0.0.1:1/nowhere', 1);
    try {
      const probe = new CachedCapabilityProbe(
        new CapabilityCache({ hub: client, shared: new PostgresCapabilityStore(down, KEY), now }),
      );
      assert.deepEqual(await probe.probe(PLAIN, 'r1'), {
        rcs: true,
        e2ee: false,
        media: true,
        source: 'hub',
      });
      assert.equal((await probe.probe(PLAIN, 'r2')).source, 'cache');
      // One failed read and one failed write; the second probe came from memory.
      assert.deepEqual([probe.stats.sharedErrors, probe.stats.hubCalls, hubLookups(PLAIN)], [2, 1, 1]);
    } finally {
      await down.end();
    }
  });
});
