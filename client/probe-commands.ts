import { Client, Connection } from '@temporalio/client';
import type { Command } from 'commander';
import pino from 'pino';
import { createDataConverter } from '../codec/data-converter';
import type { Env } from '../config';
import { temporalConnectionOptions } from '../config/temporal-connection';
import type { Secrets } from '../config/secrets';
import type { Database } from '../store/database';
import { ProbeResults } from '../store/probe-results';
import type { ProbeHealth } from '../store/probe-results';
import { TTL_WINDOW_SECONDS, ttlSuggestions } from '../workers/capability-ttl-tuning';
import { probeScheduleStatus, setProbesPaused } from '../workers/probes';
import type { ProbeScheduleStatus } from '../workers/probes';
import { parseDuration } from '../ops/slo/objectives';
import { ValidationError } from './validation';

export interface ProbeCommandDeps {
  db: Database;
  env: Env;
  secrets: Secrets;
}

type WithDeps = (run: (deps: ProbeCommandDeps) => Promise<void>) => Promise<void>;

/** The worker's data converter: a schedule's arguments (the recipients) are sealed like any payload. */
async function withTemporal<T>(deps: ProbeCommandDeps, run: (client: Client) => Promise<T>): Promise<T> {
  const { env, secrets } = deps;
  // Through envconfig like every process: the dev server, the mTLS cluster's profile, or Cloud.
  const connection = await Connection.connect(temporalConnectionOptions(env));
  try {
    const dataConverter = createDataConverter({
      codecKeys: secrets.codecKeys,
      activeKeyId: secrets.codecActiveKey,
    });
    return await run(new Client({ connection, namespace: env.TEMPORAL_NAMESPACE, dataConverter }));
  } finally {
    await connection.close();
  }
}

const out = (json: boolean, value: unknown, text: string) =>
  process.stdout.write(json ? `${JSON.stringify(value)}\n` : `${text}\n`);

function statusText(schedules: ProbeScheduleStatus[], health: ProbeHealth[]): string {
  const lines = schedules.map((s) => {
    const state = !s.exists ? 'no schedule' : s.paused ? 'paused' : `every ${(s.everyMs ?? 0) / 1000} s`;
    const probes = health
      .filter((h) => h.region === s.region)
      .map((h) => {
        const since =
          h.lastSuccessAt === null ? 'never ok' : `ok ${new Date(h.lastSuccessAt * 1000).toISOString()}`;
        return `  ${h.carrier} ${h.capability}: latest ${h.lastOk ? 'ok' : 'NOT ok'}, last ${since}`;
      });
    return [`${s.region}: ${state}, next ${s.nextRuns[0] ?? '-'}`, ...probes].join('\n');
  });
  return lines.join('\n') || 'no region has probe recipients (PROBE_RECIPIENTS)';
}

/** `switchboard probes enable|disable|status|ttl`. */
export function registerProbeCommands(program: Command, withDeps: WithDeps): void {
  const probes = program
    .command('probes')
    .description('synthetic probes: their schedules, health and TTL suggestions');
  probes
    .command('enable')
    .description("create or update each region's probe schedule and unpause it")
    .option('--json', 'JSON output')
    .action(async (opts: { json?: boolean }) => {
      await withDeps(async (deps) => {
        const regions = await withTemporal(deps, (c) =>
          setProbesPaused(c, deps.env, false, pino({ enabled: false })),
        );
        out(!!opts.json, { enabled: regions }, `probes enabled: ${regions.join(', ') || 'none configured'}`);
      });
    });
  probes
    .command('disable')
    .description("pause each region's probe schedule (worker starts keep it paused)")
    .option('--json', 'JSON output')
    .action(async (opts: { json?: boolean }) => {
      await withDeps(async (deps) => {
        const regions = await withTemporal(deps, (c) =>
          setProbesPaused(c, deps.env, true, pino({ enabled: false })),
        );
        out(!!opts.json, { disabled: regions }, `probes paused: ${regions.join(', ') || 'none configured'}`);
      });
    });
  probes
    .command('status')
    .description(
      'each region: its schedule, and per carrier and capability the latest probe and last success',
    )
    .option('--json', 'JSON output')
    .action(async (opts: { json?: boolean }) => {
      await withDeps(async (deps) => {
        const schedules = await withTemporal(deps, (c) => probeScheduleStatus(c, deps.env));
        const health = await new ProbeResults(deps.db).health();
        out(!!opts.json, { schedules, health }, statusText(schedules, health));
      });
    });
  probes
    .command('ttl')
    .description('suggested capability-cache TTL per carrier, from how often probes saw answers change')
    .option('--window <duration>', 'probe data to read', `${TTL_WINDOW_SECONDS / 3600}h`)
    .option('--json', 'JSON output')
    .action(async (opts: { window: string; json?: boolean }) => {
      const windowSeconds = parseDuration(opts.window);
      if (windowSeconds === null)
        throw new ValidationError('--window', 'a whole number and s, m, h or d, e.g. 24h');
      await withDeps(async (deps) => {
        const suggestions = await ttlSuggestions(new ProbeResults(deps.db), windowSeconds);
        const text = suggestions.map((s) =>
          s.freshTtlMs === null
            ? `${s.region} ${s.carrier}: no suggestion (${s.rule})`
            : `${s.region} ${s.carrier}: fresh ${s.freshTtlMs / 1000} s, max age ${(s.maxAgeMs ?? 0) / 1000} s ` +
              `(${s.changes} changes in ${s.answers} answers over ${s.observedSeconds} s: ${s.rule})`,
        );
        out(!!opts.json, { suggestions }, text.join('\n') || 'no probe data in the window');
      });
    });
}
