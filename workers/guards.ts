import type { Client } from '@temporalio/client';
import type { Env } from '../config';
import type { GuardSettings } from '../workflows/definitions';
import { rolloutGuard } from '../workflows';

export function guardSettingsFor(env: Env, region: string): GuardSettings {
  return {
    region,
    threshold: env.GUARD_THRESHOLD,
    recoverBelow: env.GUARD_THRESHOLD / 2,
    minSample: env.GUARD_MIN_SAMPLE,
    windowMs: env.GUARD_WINDOW_MS,
    checkEveryMs: env.GUARD_CHECK_MS,
    rollback: env.GUARD_ROLLBACK,
  };
}

export const guardWorkflowId = (region: string) => `rollout-guard-${region}`;

/** One long-running guard per region; starting one that already runs is a no-op. */
export async function ensureGuards(client: Client, env: Env): Promise<string[]> {
  const regions = env.GUARD_REGIONS.split(',').filter(Boolean);
  for (const region of regions) {
    await client.workflow.start(rolloutGuard, {
      taskQueue: env.TEMPORAL_TASK_QUEUE,
      workflowId: guardWorkflowId(region),
      args: [guardSettingsFor(env, region)],
      workflowIdConflictPolicy: 'USE_EXISTING',
    });
  }
  return regions;
}
