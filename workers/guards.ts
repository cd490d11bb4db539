import type { Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import type { Logger } from 'pino';
import type { Env } from '../config';
import type { GuardSettings } from '../workflows/definitions';
import { rolloutGuard } from '../workflows';
import { taskQueues } from '../config/task-queues';

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

const guardRegions = (env: Env) => env.GUARD_REGIONS.split(',').filter(Boolean);

/** One long-running guard per region; starting one that already runs is a no-op. */
async function startGuard(client: Client, env: Env, region: string): Promise<void> {
  await client.workflow.start(rolloutGuard, {
    taskQueue: taskQueues(env).guards,
    workflowId: guardWorkflowId(region),
    args: [guardSettingsFor(env, region)],
    workflowIdConflictPolicy: 'USE_EXISTING',
  });
}

/** The status of the region's guard's latest run, or null when it never ran. */
async function guardStatus(client: Client, region: string): Promise<string | null> {
  try {
    return (await client.workflow.getHandle(guardWorkflowId(region)).describe()).status.name;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return null;
    throw err;
  }
}

export interface GuardSupervisor {
  regions: string[];
  stop(): void;
}

/**
 * Starts every region's guard, then checks every GUARD_SUPERVISE_MS that each still runs and
 * starts again one that ended (terminated, failed, timed out), so a guard lost to an outage or
 * an operator comes back without a restart of the worker.
 */
export async function superviseGuards(client: Client, env: Env, logger: Logger): Promise<GuardSupervisor> {
  const regions = guardRegions(env);
  for (const region of regions) await startGuard(client, env, region);
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;
  const check = async () => {
    for (const region of regions) {
      if (stopped) return;
      const status = await guardStatus(client, region);
      if (status === 'RUNNING') continue;
      await startGuard(client, env, region);
      logger.warn({ region, status }, 'rollout guard was not running; started it again');
    }
  };
  const schedule = () => {
    if (stopped || regions.length === 0) return;
    timer = setTimeout(() => {
      check()
        .catch((err: unknown) => logger.warn({ err }, 'checking the rollout guards failed'))
        .finally(schedule);
    }, env.GUARD_SUPERVISE_MS);
  };
  schedule();
  return {
    regions,
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}
