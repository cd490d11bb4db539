import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createDeliveryActivities } from '../../activities';
import type { ChannelSet } from '../../activities/deps';
import { keyDirectoryToken } from '../../config/key-directory';
import type { AuditEntry } from '../../domain/audit';
import { SwitchboardMetrics, deliveryMeter, labelValue } from '../../metrics';
import { AuditLog } from '../../store/audit-log';
import { TEST_SECRETS, stack } from '../fixtures/stack';
import { SCENARIOS } from '../scenarios';
import { parseExposition, scrape, sumOf } from '../fixtures/exposition';

describe('metrics', function () {
  this.timeout(120_000);

  it('label values are closed sets: never a number sent to, a text or a secret', () => {
    assert.equal(labelValue('+15550100001'), 'other');
    assert.equal(labelValue('15550100001'), 'other');
    assert.equal(labelValue('hello from rcs-delivered'), 'other');
    assert.equal(labelValue('E2EE_DECRYPT_FAILED'), 'E2EE_DECRYPT_FAILED');
    assert.equal(labelValue('/s/:token'), '/s/:token');
    assert.equal(labelValue(503), '503');
    assert.equal(labelValue(null), 'none');
  });

  it('every process’s /metrics, after real traffic, holds no number, text or secret in a label', async () => {
    const { switchboard, worker, env, temporalMetricsUrl } = stack();
    const before = await scrape(worker.metricsUrl);
    const texts: string[] = [];
    const numbers: string[] = [];
    await Promise.all(
      SCENARIOS.map(async (scenario) => {
        const text = `metrics scan ${scenario.name} ${randomUUID()}`;
        texts.push(text);
        numbers.push(scenario.to);
        const sent = await switchboard.send({ to: scenario.to, text });
        await switchboard.waitForOutcome(sent.messageId);
      }),
    );
    const after = await scrape(worker.metricsUrl);
    const sdk = await scrape(temporalMetricsUrl);

    // The traffic was counted: one outcome per message, and the carriers' and servers' metrics.
    const messages = 'switchboard_messages_total';
    assert.equal(sumOf(after, messages) - sumOf(before, messages), SCENARIOS.length);
    const expected = new Map<string, number>();
    for (const s of SCENARIOS) {
      const key = JSON.stringify({
        channel: s.expect.channel ?? 'none',
        outcome: s.expect.status,
        fallback_reason: s.expect.fallbackReason ?? 'none',
      });
      expected.set(key, (expected.get(key) ?? 0) + 1);
    }
    for (const [key, n] of expected) {
      const labels = JSON.parse(key) as Record<string, string>;
      assert.equal(sumOf(after, messages, labels) - sumOf(before, messages, labels), n, key);
    }
    assert.ok(
      sumOf(after, 'switchboard_rcs_eligible_total') > sumOf(before, 'switchboard_rcs_eligible_total'),
    );
    assert.ok(
      sumOf(after, 'switchboard_http_requests_total', { process: 'receipts', route: '/rbm/events' }) > 0,
    );
    assert.ok(sumOf(after, 'switchboard_rcs_hub_requests_total', { op: 'send', status: '200' }) > 0);
    assert.ok(sumOf(after, 'switchboard_routing_decisions_total', { region: 'us', result: 'ok' }) > 0);
    assert.ok(sumOf(after, 'switchboard_smpp_bound_sessions', { region: 'us' }) >= 1);
    assert.ok(sumOf(after, 'switchboard_smpp_submit_seconds_count', { region: 'us' }) > 0);
    assert.ok(sumOf(after, 'switchboard_delivery_latency_seconds_count', { stage: 'accepted' }) > 0);
    assert.ok(sumOf(after, 'switchboard_delivery_latency_seconds_count', { stage: 'delivered' }) > 0);
    assert.equal(
      sumOf(after, 'switchboard_rollout_phase', { region: 'us', phase: env.ROLLOUT_DEFAULT_PHASE }),
      1,
    );
    assert.ok(
      sdk.some((s) => s.name.startsWith('temporal_')),
      'the Temporal SDK exports its metrics',
    );

    const secrets = [
      TEST_SECRETS.auditHashKey,
      ...TEST_SECRETS.codecKeys.split(/[:,]/),
      env.RCS_HUB_TOKEN,
      env.RCS_WEBHOOK_CLIENT_TOKEN,
      keyDirectoryToken(env, TEST_SECRETS),
    ];
    const labels = [...after, ...sdk].flatMap((s) => Object.entries(s.labels));
    assert.ok(labels.length > 100, 'the scan saw the labels');
    for (const [label, value] of labels) {
      for (const n of numbers)
        assert.ok(!value.includes(n) && !value.includes(n.slice(1)), `number in ${value}`);
      for (const t of texts) assert.ok(!value.includes(t), `text in label ${value}`);
      for (const s of secrets) assert.ok(!value.includes(s), 'a secret in a label');
      // A histogram's bucket bound is a number by definition (the SDK's are in ms: le="1000000").
      if (label !== 'le')
        assert.doesNotMatch(value, /\+?\d{7,15}/, `an E.164-like digit run in ${label}: ${value}`);
    }
  });

  it('an outcome whose final audit write is retried (same rows, twice) counts once', async () => {
    const { db } = stack();
    const metrics = new SwitchboardMetrics('test');
    const activities = createDeliveryActivities({
      channels: { forRegion: () => ({}) as ChannelSet },
      rcsSends: { record: () => Promise.resolve() },
      smsSubmissions: { record: () => Promise.resolve(), forMessage: () => Promise.resolve([]) },
      recipientHash: () => Buffer.alloc(0),
      audit: new AuditLog(db, TEST_SECRETS.auditHashKey),
      meter: deliveryMeter(metrics),
    });
    const messageId = randomUUID();
    const context = {
      tenant: 'default',
      recipient: '+15550100001',
      region: 'us',
      flow: 'standard',
      submittedAt: new Date(Date.now() - 500).toISOString(),
    };
    const row = (seq: number, event: string, detail: AuditEntry['detail'] = {}): AuditEntry => ({
      messageId,
      seq,
      event,
      channel: 'rcs',
      result: event,
      errorCode: null,
      detail,
      occurredAt: new Date().toISOString(),
    });
    const accepted = row(2, 'accepted');
    const completed = row(4, 'completed', {
      fallbackReason: null,
      flow: 'standard',
      rcsEligible: true,
      rcsFellBack: false,
      rcsMs: 120,
      smsMs: null,
    });
    await activities.recordAudit({ context, entries: [row(0, 'received'), accepted] });
    // A retry of the last write after the first attempt committed but its answer was lost,
    // and a later batch that repeats a row already written with the new final one.
    await activities.recordAudit({ context, entries: [accepted, row(3, 'delivered'), completed] });
    await activities.recordAudit({ context, entries: [row(3, 'delivered'), completed] });
    await activities.recordAudit({ context, entries: [completed] });

    const samples = parseExposition((await metrics.exposition()).body);
    assert.equal(sumOf(samples, 'switchboard_messages_total'), 1);
    assert.equal(
      sumOf(samples, 'switchboard_messages_total', {
        region: 'us',
        flow: 'standard',
        channel: 'rcs',
        outcome: 'delivered',
        fallback_reason: 'none',
        synthetic: 'false',
      }),
      1,
    );
    assert.equal(sumOf(samples, 'switchboard_rcs_eligible_total'), 1);
    assert.equal(sumOf(samples, 'switchboard_rcs_fallback_total'), 0);
    assert.equal(sumOf(samples, 'switchboard_delivery_latency_seconds_count', { stage: 'accepted' }), 1);
    assert.equal(sumOf(samples, 'switchboard_delivery_latency_seconds_count', { stage: 'delivered' }), 1);
    assert.equal(sumOf(samples, 'switchboard_receipt_latency_seconds_count', { channel: 'rcs' }), 1);
  });

  it('a message delivered through the real stack is counted once, with the guard’s fallback measure', async () => {
    const { switchboard, worker } = stack();
    const before = await scrape(worker.metricsUrl);
    // RCS phone offline: no receipt, revoked, then SMS delivers: eligible and fell back.
    const sent = await switchboard.send({ to: '+15550500001', text: `offline ${randomUUID()}` });
    const outcome = await switchboard.waitForOutcome(sent.messageId);
    assert.equal(outcome.channel, 'sms');
    const after = await scrape(worker.metricsUrl);
    const delta = (name: string, labels: Record<string, string> = {}) =>
      sumOf(after, name, labels) - sumOf(before, name, labels);
    assert.equal(delta('switchboard_messages_total'), 1);
    assert.equal(
      delta('switchboard_messages_total', { channel: 'sms', fallback_reason: 'rcs_receipt_timeout' }),
      1,
    );
    assert.equal(delta('switchboard_rcs_eligible_total', { region: 'us' }), 1);
    assert.equal(delta('switchboard_rcs_fallback_total', { region: 'us' }), 1);
    assert.equal(delta('switchboard_rcs_hub_requests_total', { op: 'revoke', status: '200' }), 1);
  });
});
