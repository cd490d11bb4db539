// The probes on the full stack: each region's Schedule (interval shortened) runs the probe
// workflow, whose messages go through the real worker, carriers and PostgreSQL.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import pino from 'pino';
import type { Env } from '../../config';
import { SANDBOX_PROBE_RECIPIENTS } from '../../sandbox/number-plan';
import { GuardStore } from '../../store/rollout/guard-store';
import {
  ensureProbeSchedules,
  probeScheduleId,
  probeScheduleStatus,
  setProbesPaused,
} from '../../workers/probes';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../fixtures/cli';
import { scrape, sumOf } from '../fixtures/exposition';
import { stack } from '../fixtures/stack';

const INTERVAL_MS = 2_000;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const quiet = pino({ enabled: false });

async function probeRuns(region: string): Promise<number> {
  const { rows } = await stack().db.query<{ runs: number }>(
    'SELECT count(DISTINCT probe_run_id)::int AS runs FROM probe_results WHERE region = $1',
    [region],
  );
  return rows[0]?.runs ?? 0;
}

async function untilRuns(region: string, atLeast: number, withinMs: number): Promise<void> {
  const deadline = Date.now() + withinMs;
  while ((await probeRuns(region)) < atLeast) {
    if (Date.now() > deadline)
      assert.fail(`${region}: fewer than ${atLeast} probe runs after ${withinMs} ms`);
    await sleep(250);
  }
}

describe('synthetic probes on the full stack', function () {
  this.timeout(90_000);
  let env: Env;

  before(async () => {
    // The stack's own worker serves the probe workflow; only the schedules are made here.
    env = { ...stack().env, SANDBOX: true, PROBE_INTERVAL_MS: INTERVAL_MS, PROBE_TIMEOUT_MS: 6_000 };
    const business = await scrape(stack().worker.metricsUrl);
    businessBefore = sumOf(business, 'switchboard_messages_total', { synthetic: 'false' });
    assert.deepEqual(await ensureProbeSchedules(stack().client, env, quiet), ['us', 'eu']);
  });
  let businessBefore = 0;

  after(async () => {
    for (const region of ['us', 'eu'])
      await stack()
        .client.schedule.getHandle(probeScheduleId(region))
        .delete()
        .catch(() => undefined);
  });

  it('runs every region’s probes through the pipeline, recorded per carrier and capability', async () => {
    await Promise.all([untilRuns('us', 2, 30_000), untilRuns('eu', 2, 30_000)]);
    const { rows } = await stack().db.query<{
      region: string;
      capability: string;
      result: string;
      observed: string;
    }>(`SELECT DISTINCT region, capability, result, observed FROM probe_results ORDER BY 1, 2, 3`);
    const expected = Object.entries(SANDBOX_PROBE_RECIPIENTS).flatMap(([region, rs]) =>
      rs.map((r) => ({ region, capability: r.capability, result: 'ok', observed: r.capability })),
    );
    assert.deepEqual(
      rows,
      expected.sort((a, b) => (a.region + a.capability).localeCompare(b.region + b.capability)),
    );
    // The E2EE recipients' messages were MLS-sealed by the worker and delivered encrypted.
    const { rows: e2ee } = await stack().db.query<{ region: string; sealed: boolean }>(
      `SELECT region, bool_and(e2ee AND e2ee_negotiation_ms IS NOT NULL) AS sealed FROM probe_results
       WHERE capability = 'rcs-e2ee' GROUP BY region ORDER BY region`,
    );
    assert.deepEqual(e2ee, [
      { region: 'eu', sealed: true },
      { region: 'us', sealed: true },
    ]);
    // The probe's own workflows are named by region and time only.
    const ids: string[] = [];
    for await (const w of stack().client.workflow.list({ query: 'WorkflowType = "syntheticProbe"' }))
      ids.push(w.workflowId);
    assert.ok(ids.length >= 4);
    for (const id of ids) assert.match(id, /^probe-(us|eu)-\d{4}-\d\d-\d\dT[\d:]+Z$/);
  });

  it('serves probe metrics; business counts and the fallback measure do not see probe traffic', async () => {
    const samples = await scrape(stack().worker.metricsUrl);
    for (const region of ['us', 'eu'])
      for (const capability of ['rcs-e2ee', 'rcs', 'sms']) {
        const labels = { region, carrier: 'sandbox', capability };
        assert.ok(
          sumOf(samples, 'switchboard_probe_runs_total', { ...labels, result: 'ok' }) >= 1,
          capability,
        );
        assert.equal(sumOf(samples, 'switchboard_probe_success', labels), 1);
        const last = sumOf(samples, 'switchboard_probe_last_success_timestamp_seconds', labels);
        assert.ok(Date.now() / 1000 - last < 30, `${region} ${capability} succeeded lately`);
        assert.ok(sumOf(samples, 'switchboard_probe_latency_seconds_count', labels) >= 1);
      }
    assert.equal(sumOf(samples, 'switchboard_probe_runs_total', { result: 'failed' }), 0);
    assert.ok(sumOf(samples, 'switchboard_probe_e2ee_negotiation_seconds_count', { region: 'eu' }) >= 1);
    // Probe messages are counted, labelled synthetic; no business message was added meanwhile.
    assert.ok(sumOf(samples, 'switchboard_messages_total', { synthetic: 'true' }) >= 12);
    assert.equal(sumOf(samples, 'switchboard_messages_total', { synthetic: 'false' }), businessBefore);

    // The audit trail marks them; the guard's measure leaves them out.
    const { rows } = await stack().db.query<{ marked: number; tenants: string[] }>(
      `SELECT count(*)::int AS marked, array_agg(DISTINCT tenant) AS tenants FROM audit_log
       WHERE event = 'routed' AND detail ? 'synthetic'`,
    );
    assert.ok((rows[0]?.marked ?? 0) >= 12);
    assert.deepEqual(rows[0]?.tenants, ['synthetic-probes']);
  });

  it('pauses with `probes disable` (kept paused by the next worker start) and resumes with `enable`', async () => {
    const { client } = stack();
    await setProbesPaused(client, env, true, quiet);
    await ensureProbeSchedules(client, env, quiet);
    assert.deepEqual(
      (await probeScheduleStatus(client, env)).map((s) => [s.region, s.paused]),
      [
        ['us', true],
        ['eu', true],
      ],
    );
    // A run already started may still land; then nothing for three intervals.
    await sleep(INTERVAL_MS + 6_000);
    const paused = await probeRuns('us');
    await sleep(INTERVAL_MS * 3);
    assert.equal(await probeRuns('us'), paused);

    await setProbesPaused(client, env, false, quiet);
    await untilRuns('us', paused + 1, 15_000);
  });

  it('the guard ignores synthetic fallbacks and still counts business ones', async () => {
    const { client, switchboard, taskQueue, db } = stack();
    await setProbesPaused(client, env, true, quiet);
    await sleep(7_000); // the last probe's messages finish
    const guard = new GuardStore(db);
    const DAY = 86_400_000;
    const before = await guard.measure('us', DAY);

    // A synthetic message to an offline RCS phone: RCS receipt timeout, then SMS.
    const messageId = randomUUID();
    const synthetic = await client.workflow.start('deliverMessage', {
      taskQueue,
      workflowId: `deliver-${messageId}`,
      args: [
        {
          messageId,
          to: '+15550500007',
          text: 'synthetic fallback',
          flow: 'standard',
          e2ee: 'preferred',
          tenant: 'synthetic-probes',
          region: 'us',
          submittedAt: new Date().toISOString(),
          synthetic: true,
        },
      ],
    });
    const outcome = (await synthetic.result()) as { channel: string; fallbackReason: string };
    assert.deepEqual([outcome.channel, outcome.fallbackReason], ['sms', 'rcs_receipt_timeout']);
    assert.deepEqual(await guard.measure('us', DAY), before);

    const sent = await switchboard.send({ to: '+15550500008', text: 'business fallback' });
    assert.equal((await switchboard.waitForOutcome(sent.messageId)).channel, 'sms');
    assert.deepEqual(await guard.measure('us', DAY), {
      eligible: before.eligible + 1,
      fellBack: before.fellBack + 1,
    });
  });

  it('switchboard probes status | disable | enable | ttl, with --json', async () => {
    const appDir = mkdtempSync(join(tmpdir(), 'switchboard-probes-cli-'));
    const cli = async (...args: string[]) => {
      const r = await runCli(['probes', ...args], appDir, { DATABASE_URL: stack().databaseUrl });
      assert.equal(r.code, 0, r.stderr);
      return JSON.parse(r.stdout) as Record<string, unknown>;
    };
    const paused = async () =>
      ((await cli('status', '--json')).schedules as Array<{ region: string; paused: boolean }>).map((s) => [
        s.region,
        s.paused,
      ]);
    assert.deepEqual(await cli('disable', '--json'), { disabled: ['us', 'eu'] });
    assert.deepEqual(await paused(), [
      ['us', true],
      ['eu', true],
    ]);
    const status = await cli('status', '--json');
    const health = status.health as Array<{ region: string; capability: string; lastOk: boolean }>;
    assert.deepEqual(health.map((h) => `${h.region} ${h.capability} ${h.lastOk}`).sort(), [
      'eu rcs true',
      'eu rcs-e2ee true',
      'eu sms true',
      'us rcs true',
      'us rcs-e2ee true',
      'us sms true',
    ]);
    // Enabled from the CLI (it creates the schedule with the CLI's config: the default 30 s).
    assert.deepEqual(await cli('enable', '--json'), { enabled: ['us', 'eu'] });
    assert.deepEqual(await paused(), [
      ['us', false],
      ['eu', false],
    ]);
    await cli('disable', '--json');

    const { suggestions } = (await cli('ttl', '--json')) as {
      suggestions: Array<{ region: string; carrier: string; answers: number; rule: string }>;
    };
    assert.deepEqual(
      suggestions.map((s) => [s.region, s.carrier]),
      [
        ['eu', 'sandbox'],
        ['us', 'sandbox'],
      ],
    );
    // Two probe runs or more per region so far, three answers each; the sandbox never changes one.
    for (const s of suggestions) assert.ok(s.answers >= 6 && s.rule.length > 0);
    const bad = await runCli(['probes', 'ttl', '--window', '5x'], appDir, {
      DATABASE_URL: stack().databaseUrl,
    });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--window/);
  });
});
