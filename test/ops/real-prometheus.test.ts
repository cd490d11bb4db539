// A real Prometheus scrapes the running test stack with the generated rules, every window divided
// by 60 (`--shorten 60`: RcsFallbackSpike reads 5 s and waits 5 s). Offline-phone traffic makes
// the fallback alert fire; normal traffic resolves it. Every query of the Grafana dashboard runs
// against the same Prometheus: all are valid, and the panels' queries return data.

import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SwitchboardClient } from '../../client/switchboard-client';
import { deriveKey } from '../../config/secrets';
import { PostgresKeyDirectory } from '../../e2ee/key-directory';
import { E2eeSender, loadOrCreateSenderIdentity } from '../../e2ee/sender';
import { MemorySenderStateStore } from '../../e2ee/sender-state-store';
import { GRAFANA_FILE, grafanaDashboard } from '../../ops/grafana/dashboard';
import { writeRuleFiles } from '../../ops/slo/generate';
import { startPrometheus } from '../fixtures/prometheus';
import type { RunningPrometheus } from '../fixtures/prometheus';
import { TEST_SECRETS, stack, testDataConverter } from '../fixtures/stack';

const SHORTEN = 60;
const number = (prefix: string) => `${prefix}${String(randomInt(0, 10_000)).padStart(4, '0')}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface GrafanaTarget {
  expr: string;
  legendFormat: string;
}
const targetsOf = (dashboard: unknown) =>
  (dashboard as { panels: { title: string; targets: GrafanaTarget[] }[] }).panels.flatMap((p) =>
    p.targets.map((t) => ({ panel: p.title, ...t })),
  );
/** What Grafana substitutes before it sends a query: all regions, a window of a few scrapes. */
const asSent = (expr: string) => expr.replaceAll('$__rate_interval', '10s').replaceAll('$region', '.*');

/** Messages to numbers of the given plan prefixes, one loop each, until `done` says so. */
async function trafficUntil(
  loops: { client: SwitchboardClient; prefix: string; e2ee?: 'required' }[],
  done: () => Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  let stop = false;
  const running = loops.map(async ({ client, prefix, e2ee }) => {
    while (!stop) {
      const to = prefix.length >= 12 ? prefix : number(prefix);
      const sent = await client.send({ to, text: 'prometheus traffic', ...(e2ee ? { e2ee } : {}) });
      await client.waitForOutcome(sent.messageId);
    }
  });
  try {
    const deadline = Date.now() + timeoutMs;
    while (!(await done())) {
      if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s`);
      await sleep(500);
    }
  } finally {
    stop = true;
    await Promise.all(running);
  }
}

describe('a real Prometheus scraping the stack', function () {
  this.timeout(180_000);
  let prometheus: RunningPrometheus;
  let rulesDir: string;
  let e2eeApp: SwitchboardClient;

  before(async () => {
    const { worker, temporal, taskQueue, db } = stack();
    rulesDir = mkdtempSync(join(tmpdir(), 'switchboard-rules-'));
    prometheus = await startPrometheus({
      target: new URL(worker.metricsUrl).host,
      ruleFiles: writeRuleFiles(rulesDir, { shorten: SHORTEN }),
      intervalSeconds: 1,
    });
    const store = new MemorySenderStateStore();
    e2eeApp = await SwitchboardClient.connect({
      address: temporal.address,
      namespace: 'default',
      taskQueue,
      dataConverter: testDataConverter(),
      messageIdKey: deriveKey(TEST_SECRETS, 'message-id'),
      e2ee: new E2eeSender({
        directory: new PostgresKeyDirectory(db, deriveKey(TEST_SECRETS, 'key-directory')),
        store,
        identity: await loadOrCreateSenderIdentity(store),
      }),
    });
  });
  after(async () => {
    await e2eeApp?.close();
    await prometheus?.stop();
    if (rulesDir) rmSync(rulesDir, { recursive: true, force: true });
  });

  const spike = async (states: string[]) =>
    (await prometheus.alerts()).some(
      (a) =>
        a.labels.alertname === 'RcsFallbackSpike' && a.labels.region === 'us' && states.includes(a.state),
    );

  it('RcsFallbackSpike fires on offline-phone traffic and resolves after normal traffic', async () => {
    const { switchboard } = stack();
    assert.equal(await spike(['pending', 'firing']), false, 'no spike before the burst');
    const offline = Array.from({ length: 4 }, () => ({ client: switchboard, prefix: '+1555050' }));
    await trafficUntil(offline, () => spike(['firing']), 60_000, 'RcsFallbackSpike firing').catch((err) => {
      throw new Error(`${(err as Error).message}\n${prometheus.log()}`);
    });

    const rcs = Array.from({ length: 4 }, () => ({ client: switchboard, prefix: '+1555020' }));
    const ratio = `sum by (region) (rate(switchboard_rcs_fallback_total{region="us",synthetic="false"}[5s])) / sum by (region) (rate(switchboard_rcs_eligible_total{region="us",synthetic="false"}[5s]))`;
    await trafficUntil(
      rcs,
      async () => {
        const [us] = await prometheus.query(ratio);
        return !!us && Number(us.value[1]) < 0.05 && !(await spike(['pending', 'firing']));
      },
      60_000,
      'RcsFallbackSpike resolved with the fallback rate under 5 %',
    );
  });

  it('every Grafana query is valid, and the panels return data from live traffic', async () => {
    const { switchboard } = stack();
    const committed = JSON.parse(readFileSync(GRAFANA_FILE, 'utf8')) as unknown;
    assert.deepEqual(committed, grafanaDashboard({ shorten: 1 }), 'ops/grafana/switchboard.json is stale');
    for (const t of targetsOf(committed)) await prometheus.query(asSent(t.expr)); // throws on a bad query

    const probesRun = (await prometheus.query('switchboard_probe_success')).length > 0;
    // Empty here for a reason: no probe metric yet, and the test stack runs no guard workflow.
    const mayBeEmpty = (t: { panel: string; legendFormat: string }) =>
      (t.panel.startsWith('Probe') && !probesRun) || t.legendFormat === 'guard fallback rate';
    const short = targetsOf(grafanaDashboard({ shorten: SHORTEN })).filter((t) => !mayBeEmpty(t));
    const empty = async () => {
      const results = await Promise.all(
        short.map(async (t) => ({ t, n: (await prometheus.query(asSent(t.expr))).length })),
      );
      return results.filter((r) => r.n === 0).map((r) => `${r.t.panel}: ${r.t.legendFormat}`);
    };
    let missing: string[] = [];
    const loops = [
      { client: switchboard, prefix: '+1555020' },
      { client: switchboard, prefix: '+1555030' },
      { client: switchboard, prefix: '+1555050' },
      { client: e2eeApp, prefix: '+15550100034', e2ee: 'required' as const },
    ];
    await trafficUntil(
      loops,
      async () => (missing = await empty()).length === 0,
      60_000,
      'every panel has data',
    ).catch((err) => {
      throw new Error(`${(err as Error).message}; empty: ${missing.join(', ')}`);
    });
  });
});
