import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuditEntry } from '../../domain/audit';
import { AuditLog } from '../../store/audit-log';
import { runCli } from '../fixtures/cli';
import { createTestDatabase } from '../store/test-database';
import type { TestDatabase } from '../store/test-database';

const APP_DIR = mkdtempSync(join(tmpdir(), 'switchboard-slo-app-'));
const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

type Step = [
  offsetMs: number,
  event: string,
  channel: string | null,
  result: string | null,
  detail?: AuditEntry['detail'],
];

/** One message's trail, starting `agoMs` before now; offsets are from that start. */
async function seed(log: AuditLog, now: number, id: string, agoMs: number, steps: Step[]): Promise<void> {
  const start = now - agoMs;
  await log.append(
    { tenant: 'acme', recipient: `+1555000${id.length}`, region: 'eu', flow: 'standard' },
    steps.map(([offset, event, channel, result, detail], seq) => ({
      messageId: id,
      seq,
      event,
      channel,
      result,
      errorCode: null,
      detail: detail ?? {},
      occurredAt: new Date(start + offset).toISOString(),
    })),
  );
}

const RCS_FIRST = { plan: 'rcs>sms' };

describe('switchboard slo (from the audit trail)', function () {
  this.timeout(60_000);
  let database: TestDatabase;

  before(async () => {
    database = await createTestDatabase('slo_cli');
    const log = new AuditLog(database.db, 'slo-test-audit-hash-key');
    const now = Date.now();
    // m1, m2: RCS 10 minutes ago, delivered after 200 ms and 500 ms.
    for (const [id, ms] of [
      ['m1', 200],
      ['m2', 500],
    ] as const) {
      await seed(log, now, id, 10 * MIN, [
        [0, 'received', null, null],
        [0, 'routed', 'rcs', null, RCS_FIRST],
        [50, 'accepted', 'rcs', 'accepted'],
        [ms, 'delivered', 'rcs', 'delivered'],
        [ms, 'completed', 'rcs', 'delivered'],
      ]);
    }
    // m3: 3 h ago, the capability probe failed, routed to SMS; the receipt took 40 s.
    await seed(log, now, 'm3', 3 * HOUR, [
      [0, 'received', null, null],
      [0, 'probe_failed', 'rcs', 'failed'],
      [0, 'routed', 'sms', null, { plan: 'sms' }],
      [1000, 'accepted', 'sms', 'accepted'],
      [41_000, 'delivered', 'sms', 'delivered'],
      [41_000, 'completed', 'sms', 'delivered'],
    ]);
    // m4: 2 days ago, RCS failed, fell back to SMS, receipt after 5 s.
    await seed(log, now, 'm4', 2 * DAY, [
      [0, 'received', null, null],
      [0, 'routed', 'rcs', null, RCS_FIRST],
      [100, 'attempt', 'rcs', 'failed'],
      [200, 'accepted', 'sms', 'accepted'],
      [5200, 'delivered', 'sms', 'delivered'],
      [5200, 'completed', 'sms', 'delivered'],
    ]);
    // m5: 40 days ago, outside the 30-day window: a failure nobody may count.
    await seed(log, now, 'm5', 40 * DAY, [
      [0, 'received', null, null],
      [0, 'probe_failed', 'rcs', 'failed'],
      [0, 'routed', 'rcs', null, RCS_FIRST],
      [100, 'failed', null, 'failed'],
    ]);
  });

  after(() => database.drop());

  const slo = (args: string[]) => runCli(['slo', ...args], APP_DIR, { DATABASE_URL: database.url });

  it('--json: every SLI’s budget and burn rates, as computed by hand', async () => {
    const { code, stdout, stderr } = await slo(['--json']);
    assert.equal(code, 0, stderr);
    const out = JSON.parse(stdout) as {
      window: string;
      slis: ({ name: string } & Record<string, unknown>)[];
    };
    assert.equal(out.window, '30d');
    const byName = Object.fromEntries(out.slis.map(({ name, description: _d, ...rest }) => [name, rest]));
    const burns = (
      b5m: number | null,
      b30m: number | null,
      b1h: number | null,
      b2h: number | null,
      b6h: number | null,
      b1d: number | null,
      b3d: number | null,
    ) => ({
      '5m': b5m,
      '30m': b30m,
      '1h': b1h,
      '2h': b2h,
      '6h': b6h,
      '1d': b1d,
      '3d': b3d,
    });
    assert.deepEqual(byName, {
      // m1..m4 routed, m3 on a failed probe: 1/4 bad against a 0.01 % budget.
      'routing-availability': {
        target: 0.9999,
        source: 'audit-trail',
        total: 4,
        bad: 1,
        errorRatio: 0.25,
        budgetRemaining: -2499,
        burnRates: burns(null, 0, 0, 0, 3333.3333, 3333.3333, 2500),
      },
      'delivery-endpoints-availability': {
        target: 0.999,
        source: 'prometheus-only',
        total: null,
        bad: null,
        errorRatio: null,
        budgetRemaining: null,
        burnRates: burns(null, null, null, null, null, null, null),
      },
      // m1 in 200 ms, m2 in 500 ms: half above 300 ms spends the whole 50 % budget.
      'rcs-latency-median': {
        target: 0.5,
        source: 'audit-trail',
        total: 2,
        bad: 1,
        errorRatio: 0.5,
        budgetRemaining: 0,
        burnRates: burns(null, 1, 1, 1, 1, 1, 1),
      },
      'rcs-latency-p95': {
        target: 0.95,
        source: 'audit-trail',
        total: 2,
        bad: 0,
        errorRatio: 0,
        budgetRemaining: 1,
        burnRates: burns(null, 0, 0, 0, 0, 0, 0),
      },
      // m1, m2, m4 were RCS-eligible (m3's plan was SMS); m4 fell back.
      'rcs-fallback': {
        target: 0.95,
        source: 'audit-trail',
        total: 3,
        bad: 1,
        errorRatio: 0.3333,
        budgetRemaining: -5.6667,
        burnRates: burns(null, 0, 0, 0, 0, 0, 6.6667),
      },
      // m3's receipt after 40 s (bad), m4's after 5 s.
      'sms-receipt-latency-p95': {
        target: 0.95,
        source: 'audit-trail',
        total: 2,
        bad: 1,
        errorRatio: 0.5,
        budgetRemaining: -9,
        burnRates: burns(null, null, null, null, 20, 20, 10),
      },
    });
  });

  it('--window 1d counts only the last day; the human output names each SLI', async () => {
    const json = await slo(['--window', '1d', '--json']);
    const routing = (
      JSON.parse(json.stdout) as { slis: { name: string; total: number; bad: number }[] }
    ).slis.find((s) => s.name === 'routing-availability');
    assert.deepEqual([routing?.total, routing?.bad], [3, 1]);
    const text = await slo(['--window', '1d']);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /routing-availability {2}target 99\.99 % {2}over 1d: 1\/3 bad/);
    assert.match(text.stdout, /delivery-endpoints-availability .*Prometheus/);
  });

  it('refuses a malformed --window, naming the option', async () => {
    const { code, stderr } = await slo(['--window', 'a month']);
    assert.equal(code, 2);
    assert.match(stderr, /--window: a whole number and s, m, h or d/);
  });
});
