import { continueAsNew, setHandler, sleep } from '@temporalio/workflow';
import { measureFallback, recordGuardDecision } from './activities-proxy';
import type { GuardSettings, GuardStatus } from './definitions';
import { guardStatusQuery } from './definitions';
import { sealedInput } from './refusals';

const CHECKS_PER_RUN = 500;

/**
 * The playbook's guard, one per region: watches the fallback rate of RCS-eligible traffic over a
 * sliding window of the audit trail; above the threshold it throttles new RCS sends (routing
 * reads the decision) and may roll the region back; it lifts once the rate recovers.
 */
export async function rolloutGuard(input: GuardSettings, carried?: GuardStatus): Promise<void> {
  const settings = sealedInput(input);
  let status: GuardStatus = (carried && sealedInput(carried)) ?? {
    throttled: false,
    reason: null,
    fallbackRate: null,
    sampleSize: 0,
    trips: 0,
    rolledBackTo: null,
  };
  setHandler(guardStatusQuery, () => status);

  for (let check = 0; check < CHECKS_PER_RUN; check++) {
    const sample = await measureFallback({ region: settings.region, windowMs: settings.windowMs });
    const rate = sample.eligible > 0 ? sample.fellBack / sample.eligible : 0;
    status = { ...status, fallbackRate: rate, sampleSize: sample.eligible };

    if (!status.throttled && sample.eligible >= settings.minSample && rate > settings.threshold) {
      const reason = `fallback rate ${(rate * 100).toFixed(1)}% of ${sample.eligible} RCS-eligible messages exceeded ${(settings.threshold * 100).toFixed(1)}%`;
      const { rolledBackTo } = await recordGuardDecision({
        region: settings.region,
        throttled: true,
        reason,
        fallbackRate: rate,
        sampleSize: sample.eligible,
        rollback: settings.rollback,
      });
      status = { ...status, throttled: true, reason, trips: status.trips + 1, rolledBackTo };
    } else if (status.throttled && (sample.eligible < settings.minSample || rate < settings.recoverBelow)) {
      const reason = `recovered: ${(rate * 100).toFixed(1)}% of ${sample.eligible} RCS-eligible messages`;
      await recordGuardDecision({
        region: settings.region,
        throttled: false,
        reason,
        fallbackRate: rate,
        sampleSize: sample.eligible,
        rollback: false,
      });
      status = { ...status, throttled: false, reason };
    }
    await sleep(settings.checkEveryMs);
  }
  await continueAsNew<typeof rolloutGuard>(settings, status);
}
