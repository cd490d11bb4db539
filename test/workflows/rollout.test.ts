import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import type { rolloutGuard } from '../../workflows';
import { guardStatusQuery } from '../../workflows/definitions';
import type { GuardSettings } from '../../workflows/definitions';
import type { MessageScript } from './stub-activities';
import { attemptsOf, auditEvents, deliver, messageRequest, workflowTier } from './workflow-tier';

const sent = (names: string[]) => names.filter((n) => n === 'sendRcs' || n === 'sendSms');

describe('workflow tier: rollout state routes the message', function () {
  before(async function () {
    this.timeout(120_000);
    await workflowTier();
  });

  const blocked: Array<{ name: string; routing: MessageScript['routing']; reason: string }> = [
    { name: 'kill switch', routing: { config: { killSwitch: true, version: 4 } }, reason: 'kill_switch' },
    {
      name: 'guard throttled',
      routing: { guardThrottled: true, config: { version: 4 } },
      reason: 'guard_throttled',
    },
    { name: 'opted out', routing: { preference: 'opt-out', config: { version: 4 } }, reason: 'opted_out' },
  ];
  for (const row of blocked) {
    it(`${row.name}: an RCS user gets SMS only; ${row.reason}`, async () => {
      const { carrier } = await workflowTier();
      const request = messageRequest({ to: '+15550200201' });
      const outcome = await deliver(request, { routing: row.routing });

      assert.equal(outcome.status, 'delivered');
      assert.equal(outcome.channel, 'sms');
      assert.equal(outcome.fallbackReason, row.reason);
      assert.equal(outcome.configVersion, 4);
      assert.deepEqual(attemptsOf(outcome), [{ channel: 'sms', result: 'delivered', errorCode: null }]);
      assert.deepEqual(sent(carrier.calls(request.messageId).map((c) => c.name)), ['sendSms']);
      assert.deepEqual(auditEvents(carrier, request.messageId), [
        'received',
        'routed',
        'accepted',
        'delivered',
        'completed',
      ]);
      const routed = carrier.audit(request.messageId)[1];
      assert.equal(routed?.detail.reason, row.reason);
      assert.equal(routed?.detail.configVersion, 4);
    });
  }

  // 10 % of 10 000 buckets: 0–999 are in the cohort.
  const pilotPhase = (cohortBucket: number): MessageScript => ({
    routing: { cohortBucket, config: { phase: 'pilot', pilotPercent: 10, version: 9 } },
  });

  it('pilot phase, in the cohort: a standard message runs as a pilot (dual delivery)', async () => {
    const { carrier } = await workflowTier();
    const request = messageRequest({ to: '+15550200202' });
    const outcome = await deliver(request, pilotPhase(999));

    assert.equal(outcome.status, 'delivered');
    assert.equal(outcome.flow, 'pilot');
    assert.equal(outcome.configVersion, 9);
    assert.notEqual(outcome.pilot, null);
    assert.deepEqual(
      carrier
        .calls(request.messageId)
        .flatMap((c) => (c.name === 'sendRcs' || c.name === 'sendSms' ? [c.workflowId] : []))
        .sort(),
      [`deliver-${request.messageId}-rcs`, `deliver-${request.messageId}-sms`],
    );
  });

  it('pilot phase, outside the cohort: SMS only; not_in_cohort', async () => {
    const { carrier } = await workflowTier();
    const request = messageRequest({ to: '+15550200203' });
    const outcome = await deliver(request, pilotPhase(1000));

    assert.equal(outcome.channel, 'sms');
    assert.equal(outcome.flow, 'standard');
    assert.equal(outcome.fallbackReason, 'not_in_cohort');
    assert.equal(outcome.pilot, null);
    assert.deepEqual(sent(carrier.calls(request.messageId).map((c) => c.name)), ['sendSms']);
  });
});

describe('workflow tier: the rollout guard', function () {
  before(async function () {
    this.timeout(120_000);
    await workflowTier();
  });

  it('trips above the threshold (with a rollback), records why, and lifts on recovery', async () => {
    const { env, carrier, taskQueue } = await workflowTier();
    const region = `guard-${randomBytes(3).toString('hex')}`;
    const settings: GuardSettings = {
      region,
      threshold: 0.3,
      recoverBelow: 0.1,
      minSample: 10,
      windowMs: 60_000,
      checkEveryMs: 50,
      rollback: true,
    };
    carrier.guardSamples.set(region, [
      { eligible: 20, fellBack: 6 }, // 30 %: at the threshold, not above it
      { eligible: 5, fellBack: 5 }, // above, but too few to judge
      { eligible: 20, fellBack: 10 }, // 50 %: trips
      { eligible: 20, fellBack: 3 }, // 15 %: still above recoverBelow
      { eligible: 20, fellBack: 1 }, // 5 %: lifts, and stays lifted
    ]);
    const handle = await env.client.workflow.start<typeof rolloutGuard>('rolloutGuard', {
      taskQueue,
      workflowId: `rollout-guard-${region}`,
      args: [settings],
    });
    try {
      const decisions = () => carrier.guardDecisions.filter((d) => d.region === region);
      for (let i = 0; i < 200 && decisions().length < 2; i++) await delay(25);
      await delay(200);

      assert.deepEqual(decisions(), [
        {
          region,
          throttled: true,
          reason: 'fallback rate 50.0% of 20 RCS-eligible messages exceeded 30.0%',
          fallbackRate: 0.5,
          sampleSize: 20,
          rollback: true,
        },
        {
          region,
          throttled: false,
          reason: 'recovered: 5.0% of 20 RCS-eligible messages',
          fallbackRate: 0.05,
          sampleSize: 20,
          rollback: false,
        },
      ]);
      assert.deepEqual(await handle.query(guardStatusQuery), {
        throttled: false,
        reason: 'recovered: 5.0% of 20 RCS-eligible messages',
        fallbackRate: 0.05,
        sampleSize: 20,
        trips: 1,
        rolledBackTo: 7,
      });
    } finally {
      await handle.terminate('test over');
    }
  });
});
