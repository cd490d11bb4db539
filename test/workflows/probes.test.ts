import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { DeliveryOutcome } from '../../domain/message';
import type { ProbeRecipient, ProbeRun, ProbeSettings } from '../../domain/probes';
import { SANDBOX_PROBE_RECIPIENTS } from '../../sandbox/number-plan';
import type { syntheticProbe } from '../../workflows';
import { auditEvents, deliver, messageRequest, workflowTier } from './workflow-tier';

/** Runs one probe to completion; answers its run and the ids of the messages it started. */
async function probe(settings: ProbeSettings): Promise<{ run: ProbeRun; children: string[] }> {
  const { env, taskQueue } = await workflowTier();
  const handle = await env.client.workflow.start<typeof syntheticProbe>('syntheticProbe', {
    taskQueue,
    workflowId: `probe-${settings.region}-${randomBytes(3).toString('hex')}`,
    args: [settings],
  });
  const run = await handle.result();
  const history = await handle.fetchHistory();
  const children = (history.events ?? [])
    .map((e) => e.startChildWorkflowExecutionInitiatedEventAttributes?.workflowId)
    .filter((id): id is string => !!id);
  return { run, children };
}

const messageIdOf = (workflowId: string) => workflowId.replace(/^deliver-/, '');
const strip = (run: ProbeRun) => run.results.map(({ latencyMs: _l, ...r }) => r);

describe('workflow tier: synthetic probe', function () {
  this.timeout(30_000);

  it('sends each recipient a synthetic message through deliverMessage and classes the outcomes', async () => {
    const { carrier } = await workflowTier();
    const recipients: ProbeRecipient[] = [
      ...(SANDBOX_PROBE_RECIPIENTS.us ?? []),
      // RCS phone offline: the RCS receipt times out, SMS delivers.
      { carrier: 'offline', capability: 'rcs', to: '+15550500001' },
      // The SMSC answers UNDELIV.
      { carrier: 'undeliv', capability: 'sms', to: '+15550700001' },
      // Said to be E2EE, but it has no KeyPackages: sent plain, delivered over RCS, not as asked.
      { carrier: 'nokeys', capability: 'rcs-e2ee', to: '+15550200009' },
    ];
    const { run, children } = await probe({ region: 'us', recipients, timeoutMs: 10_000 });

    assert.deepEqual(strip(run), [
      {
        carrier: 'sandbox',
        capability: 'rcs-e2ee',
        result: 'ok',
        channel: 'rcs',
        fallbackReason: null,
        observed: 'rcs-e2ee',
        e2ee: true,
        e2eeNegotiationMs: 7,
      },
      {
        carrier: 'sandbox',
        capability: 'rcs',
        result: 'ok',
        channel: 'rcs',
        fallbackReason: null,
        observed: 'rcs',
        e2ee: false,
        e2eeNegotiationMs: null,
      },
      {
        carrier: 'sandbox',
        capability: 'sms',
        result: 'ok',
        channel: 'sms',
        fallbackReason: 'not_rcs_capable',
        observed: 'sms',
        e2ee: false,
        e2eeNegotiationMs: null,
      },
      {
        carrier: 'offline',
        capability: 'rcs',
        result: 'fallback',
        channel: 'sms',
        fallbackReason: 'rcs_receipt_timeout',
        observed: 'rcs',
        e2ee: false,
        e2eeNegotiationMs: null,
      },
      {
        carrier: 'undeliv',
        capability: 'sms',
        result: 'failed',
        channel: null,
        fallbackReason: 'not_rcs_capable',
        observed: 'sms',
        e2ee: false,
        e2eeNegotiationMs: null,
      },
      {
        carrier: 'nokeys',
        capability: 'rcs-e2ee',
        result: 'fallback',
        channel: 'rcs',
        fallbackReason: null,
        observed: 'rcs',
        e2ee: false,
        e2eeNegotiationMs: null,
      },
    ]);
    for (const r of run.results.slice(0, 4)) assert.ok(r.latencyMs !== null && r.latencyMs >= 0);
    assert.equal(run.results[4]?.latencyMs, null);
    assert.equal(run.region, 'us');
    // What was recorded is what the workflow returned, once.
    assert.deepEqual(
      carrier.probeRuns.filter((p) => p.probeRunId === run.probeRunId),
      [run],
    );

    // One deliverMessage per recipient, marked synthetic where the guard and the counts look.
    assert.equal(children.length, recipients.length);
    for (const workflowId of children) {
      assert.match(workflowId, /^deliver-[0-9a-f-]{36}$/);
      const rows = carrier.audit(messageIdOf(workflowId));
      for (const event of ['received', 'routed']) {
        assert.equal(rows.find((r) => r.event === event)?.detail.synthetic, true, event);
      }
      assert.equal(rows.find((r) => r.event === 'completed' || r.event === 'failed')?.detail.synthetic, true);
    }
  });

  it('counts a message without an outcome by the deadline as timeout, and the message still finishes', async () => {
    const { carrier, env } = await workflowTier();
    const { run, children } = await probe({
      region: 'us',
      recipients: [{ carrier: 'offline', capability: 'rcs', to: '+15550500002' }],
      // Below the stub policy's 300 ms RCS receipt timeout: no outcome yet when the probe ends.
      timeoutMs: 100,
    });
    assert.deepEqual(strip(run), [
      {
        carrier: 'offline',
        capability: 'rcs',
        result: 'timeout',
        channel: null,
        fallbackReason: null,
        observed: 'rcs',
        e2ee: false,
        e2eeNegotiationMs: null,
      },
    ]);
    const [child] = children;
    assert.ok(child);
    // Abandoned, not terminated: it falls back to SMS and closes its audit trail.
    const outcome = (await env.client.workflow.getHandle(child).result()) as DeliveryOutcome;
    assert.equal(outcome.status, 'delivered');
    assert.equal(outcome.channel, 'sms');
    assert.equal(auditEvents(carrier, messageIdOf(child)).at(-1), 'completed');
  });

  it('leaves business messages unmarked', async () => {
    const { carrier } = await workflowTier();
    const request = messageRequest({ to: '+15550200001' });
    await deliver(request);
    for (const row of carrier.audit(request.messageId))
      assert.equal('synthetic' in row.detail, false, row.event);
  });
});
