// The dashboard's JSON against a hand-computed data set: audit trails seeded in PostgreSQL, the
// series, percentiles and shares worked out below by hand; and its current-metrics snapshot.

import assert from 'node:assert/strict';
import { dashboardData, parseWindow } from '../../dashboard/data';
import type { AuditEntry } from '../../domain/audit';
import { SwitchboardMetrics, metricsSnapshot } from '../../metrics';
import { PROBE_SUCCESS } from '../../ops/metric-names';
import { OBJECTIVES } from '../../ops/slo/objectives';
import { AuditLog } from '../../store/audit-log';
import { createTestDatabase } from '../store/test-database';
import type { TestDatabase } from '../store/test-database';

type Step = [
  offsetMs: number,
  event: string,
  channel: string | null,
  result: string | null,
  detail?: AuditEntry['detail'],
];

const RCS_FIRST = { plan: 'rcs>sms' };

describe('dashboard data (audit-trail series and current metrics)', function () {
  this.timeout(60_000);
  let database: TestDatabase;
  // A 10-minute window has 10 s buckets; every message below starts 1 s into the bucket `bucket`.
  const bucket = Math.floor(Date.now() / 10_000) * 10_000 - 60_000;
  const now = new Date(bucket + 60_000);

  before(async () => {
    database = await createTestDatabase('dashboard_data');
    const log = new AuditLog(database.db, 'dashboard-test-audit-hash-key');
    const seed = (id: string, region: string, startMs: number, steps: Step[]) =>
      log.append(
        { tenant: 'acme', recipient: `+1555000${id.length}${id.charCodeAt(1)}`, region, flow: 'standard' },
        steps.map(([offset, event, channel, result, detail], seq) => ({
          messageId: id,
          seq,
          event,
          channel,
          result,
          errorCode: null,
          detail: detail ?? {},
          occurredAt: new Date(startMs + offset).toISOString(),
        })),
      );
    const start = bucket + 1000;
    // a1, a2: us, RCS delivered after 200 and 400 ms; a1 end-to-end encrypted.
    await seed('a1', 'us', start, [
      [0, 'received', null, null],
      [0, 'routed', 'rcs', null, RCS_FIRST],
      [200, 'delivered', 'rcs', 'delivered', { e2ee: true }],
      [200, 'completed', 'rcs', 'delivered'],
    ]);
    await seed('a2', 'us', start, [
      [0, 'received', null, null],
      [0, 'routed', 'rcs', null, RCS_FIRST],
      [400, 'delivered', 'rcs', 'delivered'],
      [400, 'completed', 'rcs', 'delivered'],
    ]);
    // a3: eu, RCS failed, SMS delivered after 2 s: a fallback.
    await seed('a3', 'eu', start, [
      [0, 'received', null, null],
      [0, 'routed', 'rcs', null, RCS_FIRST],
      [100, 'attempt', 'rcs', 'failed'],
      [2000, 'delivered', 'sms', 'delivered'],
      [2000, 'completed', 'sms', 'delivered'],
    ]);
    // a4: us, SMS only after 1 s (not RCS-eligible).
    await seed('a4', 'us', start, [
      [0, 'received', null, null],
      [0, 'routed', 'sms', null, { plan: 'sms' }],
      [1000, 'delivered', 'sms', 'delivered'],
      [1000, 'completed', 'sms', 'delivered'],
    ]);
    // a5: us, RCS-first, failed on every channel: a fallback, and a failure in the mix.
    await seed('a5', 'us', start, [
      [0, 'received', null, null],
      [0, 'routed', 'rcs', null, RCS_FIRST],
      [3000, 'failed', null, 'failed'],
    ]);
    // old: 20 minutes before now, outside the window.
    await seed('old', 'us', now.getTime() - 20 * 60_000, [
      [0, 'received', null, null],
      [0, 'routed', 'rcs', null, RCS_FIRST],
      [100, 'completed', 'sms', 'delivered'],
    ]);
  });
  after(async () => {
    await database?.drop();
  });

  it('buckets latency percentiles, fallback per region, channel mix and E2EE share as computed by hand', async () => {
    const none = new SwitchboardMetrics('test');
    const data = await dashboardData({ db: database.db, current: () => metricsSnapshot(none) }, 600, now);
    const at = bucket / 1000;
    assert.equal(data.stepSeconds, 10);
    assert.equal(data.fallbackThreshold, 0.05);
    const close = (a: number | undefined, b: number) =>
      assert.ok(a !== undefined && Math.abs(a - b) < 1e-9, `${a} ≠ ${b}`);
    const [rcs, sms, ...more] = data.series.latency;
    assert.equal(more.length, 0);
    assert.deepEqual(
      [rcs?.at, rcs?.channel, rcs?.count, sms?.at, sms?.channel, sms?.count],
      [at, 'rcs', 2, at, 'sms', 2],
    );
    close(rcs?.p50, 0.3); // between 0.2 and 0.4
    close(rcs?.p95, 0.39); // 0.2 + 0.95 × 0.2
    close(sms?.p50, 1.5);
    close(sms?.p95, 1.95);
    assert.deepEqual(data.series.fallback, [
      { at, region: 'eu', eligible: 1, fellBack: 1 },
      { at, region: 'us', eligible: 3, fellBack: 1 },
    ]);
    assert.deepEqual(data.series.mix, [
      { at, channel: 'failed', count: 1 },
      { at, channel: 'rcs', count: 2 },
      { at, channel: 'sms', count: 2 },
    ]);
    assert.deepEqual(data.series.e2ee, [{ at, delivered: 4, e2ee: 1 }]);
    assert.equal(data.slo.length, OBJECTIVES.length);
    const fallback = data.slo.find((s) => s.name === 'rcs-fallback');
    assert.deepEqual(
      [fallback?.total, fallback?.bad],
      [5, 3],
      'the SLO counts the old message too (30 days)',
    );
    assert.equal(data.current.probes, null, 'no probe metric: "no probes"');
  });

  it('windows: 1m to 7d in s, m, h or d; anything else is refused naming the field', () => {
    assert.equal(parseWindow(undefined), 3600);
    assert.equal(parseWindow('15m'), 900);
    assert.equal(parseWindow('7d'), 7 * 86400);
    for (const bad of ['', '30s', '8d', '1w', '1.5h', '1h;drop'])
      assert.throws(() => parseWindow(bad), /^Error: window: expected/);
  });

  it('the snapshot holds what the registry holds, probes included once they exist', async () => {
    const metrics = new SwitchboardMetrics('test');
    metrics.messages.inc(
      {
        region: 'us',
        flow: 'standard',
        channel: 'rcs',
        outcome: 'delivered',
        fallback_reason: 'none',
        synthetic: 'false',
      },
      3,
    );
    const probe = metrics.gauge(PROBE_SUCCESS, 'test probe');
    probe.set({ region: 'us', carrier: 'sandbox' }, 1);
    const snapshot = await metricsSnapshot(metrics);
    assert.deepEqual(snapshot.messages, [
      {
        labels: {
          region: 'us',
          flow: 'standard',
          channel: 'rcs',
          outcome: 'delivered',
          fallback_reason: 'none',
          synthetic: 'false',
        },
        value: 3,
      },
    ]);
    assert.deepEqual(snapshot.probes?.success, [{ labels: { region: 'us', carrier: 'sandbox' }, value: 1 }]);
  });
});
