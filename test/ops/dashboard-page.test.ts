// The operator page in a real browser: traffic goes through the running test stack, Debian's
// headless Chromium opens the worker's /dashboard, and the charts must hold data and the numbers
// shown match what /metrics says. The screenshot goes to DASHBOARD_SCREENSHOT (docs/dashboard.png
// when regenerating the README's picture), else to the temp directory.

import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { SwitchboardClient } from '../../client/switchboard-client';
import { deriveKey } from '../../config/secrets';
import { PostgresKeyDirectory } from '../../e2ee/key-directory';
import { E2eeSender, loadOrCreateSenderIdentity } from '../../e2ee/sender';
import { MemorySenderStateStore } from '../../e2ee/sender-state-store';
import { launchChromium } from '../fixtures/chromium';
import { scrape, sumOf } from '../fixtures/exposition';
import { TEST_SECRETS, stack, testDataConverter } from '../fixtures/stack';

const SCREENSHOT = process.env.DASHBOARD_SCREENSHOT ?? join(tmpdir(), 'dashboard.png');
const number = (prefix: string) => `${prefix}${String(randomInt(0, 10_000)).padStart(4, '0')}`;

/** An app with client-managed MLS keys, so a message goes out end-to-end encrypted. */
async function e2eeApp(): Promise<SwitchboardClient> {
  const { temporal, taskQueue, db } = stack();
  const store = new MemorySenderStateStore();
  return SwitchboardClient.connect({
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
}

/** Non-null points per chart and series label, read from the uPlot instances on the page. */
async function chartPoints(page: Page): Promise<Record<string, Record<string, number>>> {
  return page.evaluate(() => {
    interface Chart {
      series: { label?: string }[];
      data: (number | null)[][];
    }
    const { charts } = (globalThis as unknown as { switchboardDashboard: { charts: Record<string, Chart> } })
      .switchboardDashboard;
    return Object.fromEntries(
      Object.entries(charts).map(([id, c]) => [
        id,
        Object.fromEntries(
          c.series
            .slice(1)
            .map((s, i) => [s.label ?? '', (c.data[i + 1] ?? []).filter((v) => v !== null).length]),
        ),
      ]),
    );
  });
}

describe('operator dashboard (headless Chromium)', function () {
  this.timeout(120_000);
  let browser: BrowserContext;

  before(async () => {
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
  });

  it('draws latency, fallback, channel mix and E2EE from real traffic; its counts match /metrics', async () => {
    const { switchboard, worker } = stack();
    const recipients = [
      ...['+1555020', '+1555020', '+1555020'].map(number), // RCS
      ...['+1555030', '+1555030'].map(number), // SMS only
      ...['+1555050', '+1555050'].map(number), // RCS phone offline: falls back to SMS
    ];
    const outcomes = await Promise.all(
      recipients.map(async (to) => {
        const sent = await switchboard.send({ to, text: 'dashboard traffic' });
        return switchboard.waitForOutcome(sent.messageId);
      }),
    );
    const app = await e2eeApp();
    try {
      // A sandbox MLS phone: delivered over RCS, end-to-end encrypted.
      const sent = await app.send({ to: '+15550100036', text: 'dashboard e2ee', e2ee: 'required' });
      outcomes.push(await app.waitForOutcome(sent.messageId));
      assert.equal(outcomes.at(-1)?.e2ee, true);
    } finally {
      await app.close();
    }
    assert.ok(
      outcomes.every((o) => o.status === 'delivered'),
      JSON.stringify(outcomes.map((o) => o.status)),
    );

    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text());
    });
    page.on('pageerror', (err) => problems.push(err.message));
    // The page's numbers must equal /metrics scraped around its load; a message finishing in
    // between (background traffic such as probes) means loading again.
    const messageCount = (samples: Awaited<ReturnType<typeof scrape>>) =>
      sumOf(samples, 'switchboard_messages_total');
    let metrics = await scrape(worker.metricsUrl);
    for (let attempt = 1; ; attempt++) {
      const before = messageCount(metrics);
      const response = await page.goto(`${worker.dashboardUrl}?window=5m`);
      assert.equal(response?.status(), 200);
      await page.waitForSelector('#status[data-ready="true"]', { timeout: 15_000 });
      metrics = await scrape(worker.metricsUrl);
      if (messageCount(metrics) === before || attempt === 3) break;
    }

    const points = await chartPoints(page);
    assert.ok((points['chart-latency']?.['rcs p95'] ?? 0) > 0, `latency chart: ${JSON.stringify(points)}`);
    assert.ok((points['chart-latency']?.['sms p50'] ?? 0) > 0, 'sms latency points');
    assert.ok((points['chart-fallback']?.us ?? 0) > 0, 'us fallback rate points');
    assert.ok((points['chart-fallback']?.['SLO 5 %'] ?? 0) > 0, 'the 5 % line');
    assert.ok((points['chart-mix']?.rcs ?? 0) > 0 && (points['chart-mix']?.sms ?? 0) > 0, 'channel mix');
    assert.ok((points['chart-e2ee']?.['E2EE share'] ?? 0) > 0, 'E2EE share');
    for (const id of ['chart-latency', 'chart-fallback', 'chart-mix', 'chart-e2ee']) {
      const box = await page.locator(`#${id} canvas`).boundingBox();
      assert.ok(box && box.width > 300 && box.height > 100, `${id} has a drawn canvas`);
    }

    for (const channel of ['rcs', 'sms']) {
      const shown = await page.getByTestId(`messages-${channel}`).textContent();
      const counted = sumOf(metrics, 'switchboard_messages_total', { channel });
      assert.ok(counted > 0, `${channel} messages were counted`);
      assert.equal(Number(shown), counted, `messages over ${channel}: page vs /metrics`);
    }
    for (const region of ['us', 'eu']) {
      const phase = metrics.find(
        (s) => s.name === 'switchboard_rollout_phase' && s.labels.region === region && s.value === 1,
      );
      assert.equal(await page.getByTestId(`phase-${region}`).textContent(), phase?.labels.phase);
      const throttled = sumOf(metrics, 'switchboard_guard_throttled', { region });
      assert.equal(
        await page.getByTestId(`guard-${region}`).textContent(),
        throttled ? 'throttling RCS' : 'open',
      );
    }
    const probes = metrics.filter((s) => s.name === 'switchboard_probe_success');
    const probeRows = await page.locator('#probes tbody tr').allTextContents();
    if (probes.length) assert.equal(probeRows.length, probes.length);
    else assert.deepEqual(probeRows, ['no probes']);
    // The audit trail saw the fallbacks: the fallback SLO has spent budget.
    assert.notEqual(await page.getByTestId('budget-rcs-fallback').textContent(), '–');

    assert.deepEqual(problems, [], 'no console errors (CSP included)');
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    await page.close();
  });

  it('refuses a bad window, naming the field; an unknown asset is 404', async () => {
    const { worker } = stack();
    for (const bad of ['forever', '10s', '30d', '-1h']) {
      const res = await fetch(`${worker.dashboardUrl}/data.json?window=${encodeURIComponent(bad)}`);
      assert.equal(res.status, 400, bad);
      const body = (await res.json()) as { error: { code: string; field: string; message: string } };
      assert.equal(body.error.field, 'window');
      assert.match(body.error.message, /from 1m to 7d/);
    }
    assert.equal((await fetch(`${worker.dashboardUrl}/assets/constructor`)).status, 404);
    assert.equal((await fetch(`${worker.dashboardUrl}/assets/..%2F..%2Fpackage.json`)).status, 404);
  });
});
