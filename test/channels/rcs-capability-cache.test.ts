// The capability cache in front of the real sandbox hub. The hub's request log is the witness:
// every assertion about "one hub call" counts real HTTP requests. Only the cache's clock is
// ours, so ages can pass without waiting for them.

import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { CapabilityCache, InMemorySharedCapabilityStore } from '../../channels/rcs/capability-cache';
import type { CapabilityCacheOptions } from '../../channels/rcs/capability-cache';
import { RcsTransientError } from '../../channels/rcs/errors';
import type { RbmHubClient } from '../../channels/rcs/rbm-client';
import { RCS_FEATURE_E2EE_MLS } from '../../channels/rcs/types';
import { behaviourFor } from '../../sandbox/number-plan';
import type { SandboxRcsHub } from '../../sandbox/rcs-hub';
import { startHub, waitFor } from './rcs-helpers';

const E2EE = '+15550100001';
const PLAIN = '+15550200001';
const NOT_RCS = '+15550300001';
const EU = '+447700900001';

describe('RCS capability cache', () => {
  let hub: SandboxRcsHub;
  let client: RbmHubClient;
  let clock: number;
  const now = (): number => clock;

  const hubLookups = (msisdn?: string): number =>
    hub.requests.filter((r) => r.op === 'capabilities' && (msisdn === undefined || r.msisdn === msisdn))
      .length;
  const cache = (options: Partial<CapabilityCacheOptions> = {}): CapabilityCache =>
    new CapabilityCache({ hub: client, shared: new InMemorySharedCapabilityStore(), now, ...options });

  before(async () => {
    ({ hub, client } = await startHub());
  });
  after(() => hub.stop());
  beforeEach(() => {
    hub.reset();
    clock = Date.parse('2026-01-01T00:00:00Z');
  });

  it('coalesces 50 concurrent lookups of one number into exactly one hub call', async () => {
    const c = cache();
    const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => c.lookup(E2EE, `req-${i}`)));
    assert.equal(hubLookups(E2EE), 1);
    assert.ok(answers.every((a) => a.capabilities?.features.includes(RCS_FEATURE_E2EE_MLS)));
    assert.ok(answers.every((a) => a.source === 'hub' && !a.stale));
    assert.equal(c.stats.hubCalls, 1);
    assert.equal(c.stats.coalesced, 49);
  });

  it('serves a fresh entry without calling the hub', async () => {
    const c = cache();
    await c.lookup(PLAIN, 'r1');
    clock += 29_000;
    const again = await c.lookup(PLAIN, 'r2');
    assert.deepEqual([again.source, again.stale, hubLookups()], ['cache', false, 1]);
    assert.equal(c.stats.hits, 1);
  });

  it('caches a negative answer (404) like a positive one', async () => {
    const c = cache();
    assert.equal((await c.lookup(NOT_RCS, 'r1')).capabilities, null);
    assert.equal((await c.lookup(NOT_RCS, 'r2')).capabilities, null);
    assert.equal(hubLookups(NOT_RCS), 1);
  });

  it('serves stale between 30 s and 2 min and refreshes once in the background', async () => {
    const c = cache();
    await c.lookup(PLAIN, 'r1');
    clock += 45_000;
    const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => c.lookup(PLAIN, `s${i}`)));
    assert.ok(answers.every((a) => a.stale && a.source === 'cache'));
    await waitFor('background refresh', () => hubLookups(PLAIN) === 2);
    await sleep(50);
    assert.equal(hubLookups(PLAIN), 2);
    assert.equal(c.stats.stale, 10);
    const fresh = await c.lookup(PLAIN, 'r3');
    assert.equal(fresh.stale, false);
    assert.equal(hubLookups(PLAIN), 2);
  });

  it('waits for the hub once an entry is past the max age', async () => {
    const c = cache();
    await c.lookup(PLAIN, 'r1');
    clock += 121_000;
    const answer = await c.lookup(PLAIN, 'r2');
    assert.deepEqual([answer.source, answer.stale, hubLookups(PLAIN)], ['hub', false, 2]);
  });

  it('lets a second process answer from the shared tier without a hub call', async () => {
    const shared = new InMemorySharedCapabilityStore();
    await cache({ shared }).lookup(E2EE, 'r1');
    const other = cache({ shared });
    const answer = await other.lookup(E2EE, 'r2');
    assert.deepEqual([answer.source, hubLookups(E2EE), other.stats.sharedHits], ['cache', 1, 1]);
  });

  it('applies a per-region TTL override', async () => {
    const c = cache({ regionOf: (m) => behaviourFor(m).region, regionTtls: { eu: { freshTtlMs: 5_000 } } });
    await c.lookup(EU, 'r1');
    await c.lookup(PLAIN, 'r2');
    clock += 10_000;
    assert.equal((await c.lookup(EU, 'r3')).stale, true);
    assert.equal((await c.lookup(PLAIN, 'r4')).stale, false);
  });

  it('propagates a hub failure on a miss, and keeps serving stale when a refresh fails', async () => {
    const c = cache();
    hub.inject({ errorRates: { 503: 1 } });
    await assert.rejects(c.lookup(PLAIN, 'r1'), RcsTransientError);
    hub.reset();
    await c.lookup(PLAIN, 'r2');
    hub.inject({ errorRates: { 503: 1 } });
    clock += 60_000;
    assert.equal((await c.lookup(PLAIN, 'r3')).stale, true);
    await waitFor('failed refresh', () => c.stats.refreshFailures === 1);
    assert.equal((await c.lookup(PLAIN, 'r4')).stale, true);
  });
});
