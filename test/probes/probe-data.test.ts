// Probe data in PostgreSQL: each run recorded and counted once, the capability TTL suggested from
// seeded answers (hand-computed below) and applied to a real capability cache over the sandbox hub,
// and the receipt inbox's backlog gauges.
import assert from 'node:assert/strict';
import pino from 'pino';
import { createProbeActivities } from '../../activities';
import { CapabilityCache } from '../../channels/rcs/capability-cache';
import type { RbmHubClient } from '../../channels/rcs/rbm-client';
import { regionTtls } from '../../domain/capability-ttl';
import type { ProbeRun } from '../../domain/probes';
import { SwitchboardMetrics, probeMeter, watchReceiptInbox } from '../../metrics';
import type { SandboxRcsHub } from '../../sandbox/rcs-hub';
import { ProbeResults } from '../../store/probe-results';
import { receiptInboxBacklog } from '../../store/receipt-inbox-backlog';
import { startTtlTuning, ttlSuggestions } from '../../workers/capability-ttl-tuning';
import { startHub } from '../channels/rcs-helpers';
import { parseExposition, sumOf } from '../fixtures/exposition';
import { createTestDatabase } from '../store/test-database';
import type { TestDatabase } from '../store/test-database';

const quiet = pino({ enabled: false });

describe('probe data', function () {
  this.timeout(30_000);
  let testDb: TestDatabase;
  let probes: ProbeResults;

  before(async () => {
    testDb = await createTestDatabase('switchboard_probes');
    probes = new ProbeResults(testDb.db);
  });
  after(async () => testDb?.drop());
  beforeEach(() => testDb.db.query('TRUNCATE probe_results, receipt_inbox'));

  it('records a run once and counts it once, also when the activity is retried', async () => {
    const metrics = new SwitchboardMetrics('test');
    const activities = createProbeActivities({
      channels: { forRegion: () => assert.fail('recording needs no carrier') },
      probes,
      meter: probeMeter(metrics),
      sealer: null,
    });
    const run: ProbeRun = {
      probeRunId: 'run-1',
      region: 'us',
      at: new Date().toISOString(),
      results: [
        {
          carrier: 'acme',
          capability: 'rcs-e2ee',
          result: 'ok',
          channel: 'rcs',
          latencyMs: 250,
          fallbackReason: null,
          observed: 'rcs-e2ee',
          e2ee: true,
          e2eeNegotiationMs: 40.4, // fractional, as performance.now() measures it
        },
        {
          carrier: 'acme',
          capability: 'sms',
          result: 'failed',
          channel: null,
          latencyMs: null,
          fallbackReason: 'not_rcs_capable',
          observed: 'sms',
          e2ee: false,
          e2eeNegotiationMs: null,
        },
      ],
    };
    await activities.recordProbeResults(run);
    await activities.recordProbeResults(run);
    const samples = parseExposition((await metrics.exposition()).body);
    assert.equal(sumOf(samples, 'switchboard_probe_runs_total'), 2);
    assert.equal(sumOf(samples, 'switchboard_probe_runs_total', { capability: 'rcs-e2ee', result: 'ok' }), 1);
    assert.equal(sumOf(samples, 'switchboard_probe_runs_total', { capability: 'sms', result: 'failed' }), 1);
    assert.equal(sumOf(samples, 'switchboard_probe_latency_seconds_count'), 1);
    assert.equal(sumOf(samples, 'switchboard_probe_latency_seconds_sum'), 0.25);
    assert.equal(sumOf(samples, 'switchboard_probe_e2ee_negotiation_seconds_count', { carrier: 'acme' }), 1);
    assert.equal(sumOf(samples, 'switchboard_probe_e2ee_negotiation_seconds_sum'), 0.0404);
    const health = await probes.health();
    assert.deepEqual(
      health.map((h) => [h.capability, h.lastOk, h.lastSuccessAt === null]),
      [
        ['rcs-e2ee', true, false],
        ['sms', false, true],
      ],
    );
  });

  /** One recipient's answers, one a minute ending now. */
  async function seed(carrier: string, capability: string, observed: string[]): Promise<void> {
    await testDb.db.query(
      `INSERT INTO probe_results (probe_run_id, region, carrier, capability, result, observed, occurred_at)
       SELECT 'run-' || $1 || '-' || $2 || '-' || i, 'us', $1, $2, 'ok', o, now() - make_interval(mins => ($4 - i)::int)
       FROM unnest($3::text[]) WITH ORDINALITY AS t(o, i)`,
      [carrier, capability, observed, observed.length],
    );
  }
  const times = (n: number, value: string) => Array.from({ length: n }, () => value);

  it('suggests a TTL per carrier from how often its answers changed', async () => {
    // acme's RCS recipient: 61 probes over 60 min, 59 answers, 3 changes (rcs → sms → rcs → rcs-e2ee); the
    // failed lookups in between are not answers. Its SMS recipient: 61 answers, no change.
    await seed('acme', 'rcs', [
      ...times(20, 'rcs'),
      'error',
      ...times(10, 'sms'),
      ...times(10, 'rcs'),
      'error',
      ...times(19, 'rcs-e2ee'),
    ]);
    await seed('acme', 'sms', times(61, 'sms'));
    // steady: one recipient, 61 answers over 60 min, no change. sparse: 5 answers.
    await seed('steady', 'rcs', times(61, 'rcs'));
    await seed('sparse', 'rcs', times(5, 'rcs'));

    const suggestions = await ttlSuggestions(probes, 86_400);
    // acme: answers 59 + 61 = 120 (two errors left out); watched 3600 s + 3600 s; 3 changes:
    // 7200 / 3 = 2400 s between changes, 10 % = 240 s fresh, 4 × = 960 s max age.
    // steady: 3600 s, no change counts as one: 360 s. sparse: under 10 answers, nothing.
    assert.deepEqual(
      suggestions.map((s) => [s.carrier, s.answers, s.changes, s.observedSeconds, s.freshTtlMs, s.maxAgeMs]),
      [
        ['acme', 120, 3, 7200, 240_000, 960_000],
        ['sparse', 5, 0, 240, null, null],
        ['steady', 61, 0, 3600, 360_000, 1_440_000],
      ],
    );
    // The region takes its most careful carrier's.
    assert.deepEqual([...regionTtls(suggestions)], [['us', { freshTtlMs: 240_000, maxAgeMs: 960_000 }]]);
  });

  describe('CAPABILITY_TTL_TUNING: a real capability cache over the sandbox hub', () => {
    let hub: SandboxRcsHub;
    let client: RbmHubClient;
    before(async () => ({ hub, client } = await startHub()));
    after(async () => hub?.stop());

    it('serves answers for the tuned TTL, and the configured one without probe data', async () => {
      let clock = Date.parse('2026-01-01T00:00:00Z');
      const cache = new CapabilityCache({
        hub: client,
        now: () => clock,
        ttls: { freshTtlMs: 30_000, maxAgeMs: 120_000 },
      });
      const lookups = () => hub.requests.filter((r) => r.op === 'capabilities').length;
      const tuning = startTtlTuning({
        probes,
        regions: ['us'],
        retune: (region, ttls) => {
          assert.equal(region, 'us');
          cache.retune(ttls);
        },
        logger: quiet,
      });
      await tuning.tuned;
      tuning.stop();
      // No probe data yet: the configured 30 s.
      await cache.lookup('+15550200001', 'r1');
      clock += 60_000;
      assert.equal((await cache.lookup('+15550200001', 'r2')).stale, true);

      await seed('acme', 'rcs', [...times(30, 'rcs'), ...times(31, 'sms')]); // one change in 60 min: 360 s
      const tuned = startTtlTuning({
        probes,
        regions: ['us'],
        retune: (_r, t) => cache.retune(t),
        logger: quiet,
      });
      await tuned.tuned;
      tuned.stop();
      const before = lookups();
      await cache.lookup('+15550200002', 'r3');
      clock += 300_000;
      const fiveMinutesLater = await cache.lookup('+15550200002', 'r4');
      assert.equal(fiveMinutesLater.stale, false);
      assert.equal(fiveMinutesLater.source, 'cache');
      assert.equal(lookups() - before, 1, 'one hub call in five minutes');
      clock += 120_000;
      assert.equal((await cache.lookup('+15550200002', 'r5')).stale, true);
    });
  });

  it('reads the receipt inbox backlog: depth and oldest age of the receipts due for a workflow', async () => {
    const metrics = new SwitchboardMetrics('test');
    watchReceiptInbox(metrics, () => receiptInboxBacklog(testDb.db));
    const gauges = async () => {
      const samples = parseExposition((await metrics.exposition()).body);
      return [
        sumOf(samples, 'switchboard_receipt_inbox_depth'),
        sumOf(samples, 'switchboard_receipt_inbox_oldest_age_seconds'),
      ];
    };
    assert.deepEqual(await gauges(), [0, 0]);
    await testDb.db.query(
      `INSERT INTO receipt_inbox (kind, connector, external_id, event, received_at, status, awaiting_mapping) VALUES
         ('sms', 'us', 'a', 'DELIVRD', now() - interval '120 seconds', 'pending', false),
         ('sms', 'us', 'b', 'DELIVRD', now() - interval '10 seconds', 'pending', false),
         -- waits for its mapping by design; not a backlog
         ('sms', 'us', 'c', 'DELIVRD', now() - interval '1 hour', 'pending', true),
         ('rcs', 'agent', 'd', 'DELIVERED', now() - interval '2 hours', 'delivered', false)`,
    );
    const [depth, age] = await gauges();
    assert.equal(depth, 2);
    assert.ok(age !== undefined && age >= 120 && age < 140, `oldest age ${age}`);
  });
});
