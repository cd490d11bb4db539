import type { Client, ScheduleOptions } from '@temporalio/client';
import { ScheduleNotFoundError, ScheduleOverlapPolicy } from '@temporalio/client';
import type { Logger } from 'pino';
import type { Env } from '../config';
import { ConfigError } from '../config';
import type { ProbeRecipient, ProbeSettings } from '../domain/probes';
import { SANDBOX_PROBE_RECIPIENTS } from '../sandbox/number-plan';
import { syntheticProbe } from '../workflows';

/** The synthetic recipients per region: PROBE_RECIPIENTS, else the sandbox's while SANDBOX=true, else none. */
export function probeRecipients(env: Env): Record<string, ProbeRecipient[]> {
  return env.PROBE_RECIPIENTS ?? (env.SANDBOX ? SANDBOX_PROBE_RECIPIENTS : {});
}

/** Regions with endpoints: the home region and REGION_ENDPOINTS'. */
export const servedRegions = (env: Env) => [
  ...new Set([env.HOME_REGION, ...Object.keys(env.REGION_ENDPOINTS)]),
];

/** One Schedule per region; its workflows are `probe-<region>-<time>` (Temporal appends the time). */
export const probeScheduleId = (region: string) => `probe-${region}`;

export function probeSettingsFor(env: Env, region: string): ProbeSettings {
  return { region, recipients: probeRecipients(env)[region] ?? [], timeoutMs: env.PROBE_TIMEOUT_MS };
}

/**
 * Regions' probes spread evenly over the interval (the configured regions in name order: us and
 * eu start half an interval apart), so they never all hit the database and carriers at once.
 */
function regionOffsetMs(region: string, regions: string[], intervalMs: number): number {
  const sorted = [...regions].sort();
  return Math.floor((intervalMs * Math.max(0, sorted.indexOf(region))) / Math.max(1, sorted.length));
}

function scheduleOptions(env: Env, region: string, regions: string[]): ScheduleOptions {
  const every = env.PROBE_INTERVAL_MS;
  return {
    scheduleId: probeScheduleId(region),
    spec: {
      intervals: [{ every, offset: regionOffsetMs(region, regions, every) }],
      // A little jitter on top of the offset: probes are not a metronome the carriers can learn.
      jitter: Math.min(5_000, Math.floor(every / 10)),
    },
    action: {
      type: 'startWorkflow',
      workflowType: syntheticProbe,
      workflowId: probeScheduleId(region),
      taskQueue: env.TEMPORAL_TASK_QUEUE,
      args: [probeSettingsFor(env, region)],
    },
    policies: {
      // A probe still running when the next is due: skip the next (probes never pile up), and
      // after an outage run at most the one missed within about an interval, not a backlog.
      overlap: ScheduleOverlapPolicy.SKIP,
      catchupWindow: Math.max(10_000, every),
    },
  };
}

/** Refuses recipients for a region without endpoints: their probes could only fail. */
function checkRegions(env: Env): string[] {
  const served = servedRegions(env);
  const configured = Object.keys(probeRecipients(env));
  const unserved = configured.filter((r) => !served.includes(r));
  if (unserved.length)
    throw new ConfigError(
      `Invalid configuration:\n${unserved.map((r) => `  PROBE_RECIPIENTS.${r}: a region with endpoints (${served.join(', ')})`).join('\n')}`,
    );
  return configured;
}

/**
 * Creates each configured region's probe Schedule, or brings an existing one up to the current
 * config (a schedule paused by `switchboard probes disable` stays paused), and deletes those of
 * served regions no longer configured. Safe to run at every worker start.
 */
export async function ensureProbeSchedules(client: Client, env: Env, logger: Logger): Promise<string[]> {
  const regions = checkRegions(env);
  for (const region of regions) {
    const options = scheduleOptions(env, region, regions);
    const handle = client.schedule.getHandle(options.scheduleId);
    try {
      await handle.update((previous) => ({
        ...previous,
        spec: options.spec,
        action: options.action,
        policies: options.policies,
      }));
    } catch (err) {
      if (!(err instanceof ScheduleNotFoundError)) throw err;
      await client.schedule.create(options);
      logger.info({ region, everyMs: env.PROBE_INTERVAL_MS }, 'probe schedule created');
    }
  }
  for (const region of servedRegions(env).filter((r) => !regions.includes(r))) {
    await client.schedule
      .getHandle(probeScheduleId(region))
      .delete()
      .catch((err: unknown) => {
        if (!(err instanceof ScheduleNotFoundError)) throw err;
      });
  }
  return regions;
}

export interface ProbeScheduleStatus {
  region: string;
  exists: boolean;
  paused: boolean;
  everyMs: number | null;
  recentRuns: Array<{ workflowId: string; scheduledAt: string }>;
  nextRuns: string[];
}

/** `switchboard probes enable|disable`: unpause or pause the regions' schedules (enable creates missing ones). */
export async function setProbesPaused(
  client: Client,
  env: Env,
  paused: boolean,
  logger: Logger,
): Promise<string[]> {
  const regions = paused ? checkRegions(env) : await ensureProbeSchedules(client, env, logger);
  for (const region of regions) {
    const handle = client.schedule.getHandle(probeScheduleId(region));
    try {
      if (paused) await handle.pause('switchboard probes disable');
      else await handle.unpause('switchboard probes enable');
    } catch (err) {
      if (!(err instanceof ScheduleNotFoundError)) throw err;
    }
  }
  return regions;
}

export async function probeScheduleStatus(client: Client, env: Env): Promise<ProbeScheduleStatus[]> {
  const statuses: ProbeScheduleStatus[] = [];
  for (const region of checkRegions(env)) {
    try {
      const d = await client.schedule.getHandle(probeScheduleId(region)).describe();
      const interval = d.spec.intervals?.[0]?.every;
      statuses.push({
        region,
        exists: true,
        paused: d.state.paused,
        everyMs: typeof interval === 'number' ? interval : null,
        recentRuns: d.info.recentActions.map((a) => ({
          workflowId: a.action.workflow.workflowId,
          scheduledAt: a.scheduledAt.toISOString(),
        })),
        nextRuns: d.info.nextActionTimes.map((t) => t.toISOString()),
      });
    } catch (err) {
      if (!(err instanceof ScheduleNotFoundError)) throw err;
      statuses.push({ region, exists: false, paused: false, everyMs: null, recentRuns: [], nextRuns: [] });
    }
  }
  return statuses;
}
