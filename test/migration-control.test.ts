import assert from 'node:assert/strict';
import { deriveKey } from '../config/secrets';
import { inPilotCohort } from '../domain/rollout';
import { cohortBucket } from '../store/rollout/cohort';
import { GuardStore } from '../store/rollout/guard-store';
import { RecipientPreferences } from '../store/rollout/recipient-preferences';
import { RolloutStore } from '../store/rollout/rollout-store';
import { rolloutGuard } from '../workflows';
import { taskQueues } from '../config/task-queues';
import { guardStatusQuery } from '../workflows/definitions';
import type { GuardSettings } from '../workflows/definitions';
import { TEST_SECRETS, stack } from './fixtures/stack';

const REGION = 'us';
const rollout = () => new RolloutStore(stack().db, 'rcs-default');
const send = async (to: string, extra: { flow?: string; rcsCopy?: boolean } = {}) => {
  const { switchboard } = stack();
  const sent = await switchboard.send({ to, text: 'migration control', ...extra });
  return switchboard.waitForOutcome(sent.messageId);
};

async function until<T>(
  probe: () => Promise<T>,
  ok: (v: T) => boolean,
  ms: number,
  what: string,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('migration control', function () {
  this.timeout(60_000);

  afterEach(async () => {
    // Leave the region as the other suites expect it: RCS by default, nothing throttled.
    await rollout().set(REGION, {
      phase: 'rcs-default',
      pilotPercent: 0,
      killSwitch: false,
      flowOverrides: {},
      note: 'test reset',
    });
    await new GuardStore(stack().db).set({
      region: REGION,
      throttled: false,
      reason: 'test reset',
      fallbackRate: null,
      sampleSize: null,
    });
  });

  describe('flows', () => {
    it('critical sends SMS first and only, even to an RCS+E2EE number', async () => {
      const outcome = await send('+15550100005', { flow: 'critical' });
      assert.equal(outcome.channel, 'sms');
      assert.equal(outcome.authoritative, 'sms');
      assert.equal(outcome.fallbackReason, 'critical_sms_first');
      assert.deepEqual(
        outcome.attempts.map((a) => a.channel),
        ['sms'],
      );
    });

    it('critical with an RCS copy: SMS authoritative, RCS marked supplementary in outcome and audit', async () => {
      const outcome = await send('+15550100006', { flow: 'critical', rcsCopy: true });
      assert.equal(outcome.authoritative, 'sms');
      assert.deepEqual(
        outcome.attempts.map((a) => [a.channel, a.result, a.supplementary ?? false]),
        [
          ['sms', 'delivered', false],
          ['rcs', 'delivered', true],
        ],
      );
      const { rows } = await stack().db.query<{ detail: { supplementary?: boolean } }>(
        `SELECT detail FROM audit_log WHERE message_id = $1 AND channel = 'rcs' AND event = 'delivered'`,
        [outcome.messageId],
      );
      assert.equal(rows[0]?.detail.supplementary, true);
    });

    it('pilot with both delivered: one winner, the other recorded as a duplicate', async () => {
      // SMS receipts come late, so RCS wins and the SMS (which cannot be recalled) lands too.
      const { smsc } = stack().carriers;
      smsc.inject({ receiptDelayMs: 600 });
      const outcome = await send('+15550200020', { flow: 'pilot' }).finally(() => smsc.resetFaults());
      assert.equal(outcome.pilot?.winner, 'rcs');
      assert.equal(outcome.status, 'delivered');
      assert.equal(outcome.flow, 'pilot');
      assert.ok(outcome.pilot);
      assert.ok(outcome.pilot.winner === 'rcs' || outcome.pilot.winner === 'sms');
      assert.equal(outcome.channel, outcome.pilot.winner);
      assert.equal(outcome.pilot.loser, 'duplicate');
      assert.equal(outcome.pilot.duplicate, true);
      assert.ok(outcome.pilot.rcsLatencyMs !== null && outcome.pilot.smsLatencyMs !== null);
      const { client } = stack();
      for (const lane of ['rcs', 'sms']) {
        const child = await client.workflow.getHandle(`${outcome.workflowId}-${lane}`).describe();
        assert.equal(child.status.name, 'COMPLETED');
      }
    });

    it('pilot where the RCS phone is offline: SMS wins and the RCS copy is revoked', async () => {
      const outcome = await send('+15550500020', { flow: 'pilot' });
      assert.equal(outcome.channel, 'sms');
      assert.deepEqual(
        outcome.pilot && [outcome.pilot.winner, outcome.pilot.loser, outcome.pilot.duplicate],
        ['sms', 'revoked', false],
      );
      assert.ok(
        outcome.attempts.some(
          (a) => a.channel === 'rcs' && a.result === 'revoked' && a.errorCode === 'STOOD_DOWN',
        ),
      );
      assert.ok(stack().carriers.rcsHub.requests.some((r) => r.op === 'revoke' && r.status === 200));
    });
  });

  describe('cohorts and phases', () => {
    it('cohorts are stable as the pilot grows 1 → 5 → 50 %', () => {
      const key = deriveKey(TEST_SECRETS, 'cohort');
      const numbers = Array.from({ length: 4000 }, (_, i) => `+1555090${String(i).padStart(4, '0')}`);
      const cohort = (pct: number) =>
        new Set(numbers.filter((n) => inPilotCohort(cohortBucket(key, n), pct)));
      const [c1, c5, c50] = [cohort(1), cohort(5), cohort(50)];
      for (const n of c1) assert.ok(c5.has(n), 'everyone in the 1 % pilot stays in at 5 %');
      for (const n of c5) assert.ok(c50.has(n), 'everyone in the 5 % pilot stays in at 50 %');
      assert.ok(c1.size > 15 && c1.size < 70, `1 % of 4000 ≈ 40, got ${c1.size}`);
      assert.ok(c5.size > 140 && c5.size < 260, `5 % of 4000 ≈ 200, got ${c5.size}`);
      assert.ok(c50.size > 1850 && c50.size < 2150, `50 % of 4000 ≈ 2000, got ${c50.size}`);
    });

    it('in the pilot phase, exactly the cohort runs dual delivery, recorded with the config version', async () => {
      const config = await rollout().set(REGION, {
        phase: 'pilot',
        pilotPercent: 50,
        note: 'test pilot 50 %',
      });
      const key = deriveKey(TEST_SECRETS, 'cohort');
      for (let i = 0; i < 6; i++) {
        const to = `+155502001${String(i).padStart(2, '0')}`;
        const outcome = await send(to);
        const expected = inPilotCohort(cohortBucket(key, to), 50);
        assert.equal(outcome.flow, expected ? 'pilot' : 'standard', `flow for recipient ${i}`);
        assert.equal(outcome.configVersion, config.version);
        if (!expected) assert.equal(outcome.fallbackReason, 'not_in_cohort');
      }
    });

    it('rcs-first honours opt-in and opt-out per recipient', async () => {
      const prefs = new RecipientPreferences(stack().db, deriveKey(TEST_SECRETS, 'preferences'));
      await rollout().set(REGION, { phase: 'rcs-first' });
      await prefs.set('+15550200030', 'opt-in');
      await prefs.set('+15550200031', 'opt-out');
      assert.equal((await send('+15550200030')).channel, 'rcs');
      assert.equal((await send('+15550200031')).fallbackReason, 'opted_out');
      assert.equal((await send('+15550200032')).fallbackReason, 'not_in_cohort');
      await rollout().set(REGION, { phase: 'rcs-default' });
      assert.equal((await send('+15550200031')).fallbackReason, 'opted_out', 'opt-out holds in every phase');
    });

    it('rollback restores the last version marked good, in one call', async () => {
      const good = await rollout().set(REGION, { phase: 'rcs-default', good: true, note: 'known good' });
      const bad = await rollout().set(REGION, { phase: 'sms-only', note: 'oops' });
      const during = await send('+15550200040');
      assert.equal(during.fallbackReason, 'policy_sms_only');
      assert.equal(during.configVersion, bad.version);
      const restored = await rollout().rollback(REGION);
      assert.equal(restored.phase, good.phase);
      assert.equal(restored.version, bad.version + 1);
      assert.match(restored.note ?? '', new RegExp(`v${good.version}`));
      const after = await send('+15550200041');
      assert.equal(after.channel, 'rcs');
      assert.equal(after.configVersion, restored.version);
    });

    it('the kill switch stops every RCS send in the region', async () => {
      await rollout().set(REGION, { killSwitch: true });
      const outcome = await send('+15550200042');
      assert.equal(outcome.channel, 'sms');
      assert.equal(outcome.fallbackReason, 'kill_switch');
    });
  });

  describe('guard', () => {
    it('a burst of offline-phone traffic trips the guard, new sends go to SMS, recovery lifts it', async () => {
      const { client, env, db } = stack();
      const settings: GuardSettings = {
        region: REGION,
        threshold: 0.05,
        recoverBelow: 0.025,
        minSample: 8,
        windowMs: 4000,
        checkEveryMs: 250,
        rollback: false,
      };
      const guard = await client.workflow.start(rolloutGuard, {
        taskQueue: taskQueues(env).guards,
        workflowId: `test-guard-${Date.now()}`,
        args: [settings],
      });
      try {
        const burst = Array.from({ length: 10 }, (_, i) => send(`+155505001${String(i).padStart(2, '0')}`));
        const outcomes = await Promise.all(burst);
        assert.ok(outcomes.every((o) => o.fallbackReason === 'rcs_receipt_timeout'));
        const tripped = await until(
          () => guard.query(guardStatusQuery),
          (s) => s.throttled,
          10_000,
          'the guard to trip',
        );
        assert.match(tripped.reason ?? '', /exceeded 5\.0%/);
        assert.equal(
          (await new GuardStore(db).get(REGION))?.throttled,
          true,
          'the decision is stored for routing',
        );

        const throttled = await send('+15550200050');
        assert.equal(throttled.channel, 'sms');
        assert.equal(throttled.fallbackReason, 'guard_throttled');

        const lifted = await until(
          () => guard.query(guardStatusQuery),
          (s) => !s.throttled,
          15_000,
          'the guard to lift',
        );
        assert.match(lifted.reason ?? '', /^recovered/);
        assert.equal((await send('+15550200051')).channel, 'rcs');
      } finally {
        await guard.terminate('test over');
      }
    });
  });
});
