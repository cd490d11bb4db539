import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DELIVERY_LATENCY_BUCKETS_SECONDS, RECEIPT_LATENCY_BUCKETS_SECONDS } from '../../ops/metric-names';
import { CASES } from '../../ops/slo/alert-tests';
import { RULES_DIR, ruleFiles, writeRuleFiles } from '../../ops/slo/generate';
import { OBJECTIVES } from '../../ops/slo/objectives';
import { playbookAlerts } from '../../ops/slo/playbook';
import { burnRateAlerts } from '../../ops/slo/rules';

const run = promisify(execFile);
const promtool = (...args: string[]) => run('promtool', args);

describe('Prometheus rules generated from the SLOs', () => {
  it('the committed files are what `npm run slo:rules` writes', () => {
    for (const [name, text] of Object.entries(ruleFiles({ shorten: 1 }))) {
      assert.equal(readFileSync(join(RULES_DIR, name), 'utf8'), text, `${name} is stale: npm run slo:rules`);
    }
  });

  it('pass `promtool check rules`', async () => {
    const { stdout } = await promtool(
      'check',
      'rules',
      join(RULES_DIR, 'slo-rules.yml'),
      join(RULES_DIR, 'alerts.yml'),
    );
    assert.match(stdout, /SUCCESS/);
  });

  it('pass `promtool test rules`: every alert fires on its synthetic series and stays silent when healthy', async () => {
    const { stdout } = await promtool('test', 'rules', join(RULES_DIR, 'tests', 'alerts.test.yml'));
    assert.match(stdout, /SUCCESS/);
  });

  it('have a firing case for every alert rule and a silent one for every alert name', () => {
    const rules = [...burnRateAlerts({ shorten: 1 }), ...playbookAlerts({ shorten: 1 })];
    const fired = CASES.flatMap((c) =>
      Object.entries(c.expect).flatMap(([name, list]) => list.map((labels) => ({ name, labels }))),
    );
    for (const rule of rules) {
      const labels = rule.labels as Record<string, string>;
      const alert = rule.alert as string;
      const covered = fired.some(
        (f) => f.name === alert && Object.entries(labels).every(([k, v]) => f.labels[k] === v),
      );
      assert.ok(covered, `no case fires ${alert} ${JSON.stringify(labels)}`);
      const silent = CASES.some((c) => c.expect[alert]?.length === 0);
      assert.ok(silent, `no case checks ${alert} stays silent`);
    }
  });

  it('a weakened alert fails its promtool case (the tests can fail)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'slo-rules-'));
    writeRuleFiles(dir, { shorten: 1 });
    const alerts = join(dir, 'alerts.yml');
    const text = readFileSync(alerts, 'utf8');
    const weakened = text.replace('[5m])) > 0.05\n', '[5m])) > 0.9\n');
    assert.notEqual(weakened, text);
    writeFileSync(alerts, weakened);
    await assert.rejects(promtool('test', 'rules', join(dir, 'tests', 'alerts.test.yml')), (err) => {
      const { stdout, stderr } = err as { stdout: string; stderr: string };
      return /FAILED[\s\S]*alertname: RcsFallbackSpike/.test(stdout + stderr);
    });
  });

  it('a shortened variant divides every window and `for`, and is valid', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'slo-rules-short-'));
    const [rules, alerts] = writeRuleFiles(dir, { shorten: 60 });
    const text = readFileSync(alerts!, 'utf8') + readFileSync(rules!, 'utf8');
    assert.match(text, /rate5s/);
    assert.match(text, /\[12h\]/, 'the 30-day budget window becomes 12 h');
    assert.match(text, /for: "5s"/);
    assert.doesNotMatch(text, /\[(30d|3d|1d|6h|1h|30m|5m)\]/);
    const { stdout } = await promtool('check', 'rules', rules!, alerts!);
    assert.match(stdout, /SUCCESS: 54 rules/);
  });

  it('latency SLO thresholds are bucket boundaries of their histograms', () => {
    for (const o of OBJECTIVES) {
      if (o.prometheus.kind !== 'latency') continue;
      const buckets = o.prometheus.histogram.includes('receipt')
        ? RECEIPT_LATENCY_BUCKETS_SECONDS
        : DELIVERY_LATENCY_BUCKETS_SECONDS;
      assert.ok(buckets.includes(o.prometheus.le), `${o.name}: le=${o.prometheus.le} is not a bucket`);
    }
  });
});
