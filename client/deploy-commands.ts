import type { Command } from 'commander';
import { ValidationError } from '../domain/delivery-request';
import type { RecordedDeploymentChange } from '../store/deployment-changes';
import type { DeploymentStatus, WorkerDeployments } from './worker-deployments';

export interface DeployDeps {
  deployments: WorkerDeployments;
  /** The delivery workers' deployment (WORKER_DEPLOYMENT_NAME, else the task queue's name). */
  deployment: string;
}

type WithDeps = (run: (deps: DeployDeps) => Promise<void>) => Promise<void>;

const out = (json: boolean | undefined, value: unknown, text: string) =>
  process.stdout.write(json ? `${JSON.stringify(value)}\n` : `${text}\n`);

function parsePercent(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0 || n > 100)
    throw new ValidationError('percent', 'a number from 0 to 100');
  return n;
}

function statusText(s: DeploymentStatus | null, name: string, history: RecordedDeploymentChange[]): string {
  if (!s) return `deployment ${name}: no delivery worker has polled yet`;
  const lines = [
    `deployment ${s.deployment}`,
    `  current  ${s.current ?? '-'}`,
    `  ramping  ${s.ramping ? `${s.ramping} at ${s.rampPercent}% of new messages` : '-'}`,
    ...s.builds.map((b) => `  build    ${b.buildId}  ${b.status}`),
  ];
  if (history.length) {
    lines.push('  changes (newest first):');
    for (const c of history.slice(0, 10))
      lines.push(
        `    ${c.changedAt}  ${c.action} ${c.buildId ?? '(ramp ended)'}` +
          `${c.rampPercent !== null ? ` ${c.rampPercent}%` : ''}  by ${c.actor}` +
          `  (was: current ${c.previousCurrent ?? '-'}, ramping ${c.previousRamping ?? '-'})`,
      );
  }
  return lines.join('\n');
}

const changeText = (c: RecordedDeploymentChange) =>
  `${c.action}: ${
    c.action === 'ramp'
      ? `${c.buildId} takes ${c.rampPercent}% of new messages, ${c.previousCurrent ?? '-'} the rest`
      : c.previousRamping && c.action === 'rollback'
        ? `ramp of ${c.previousRamping} ended; every new message to ${c.buildId ?? '-'}`
        : `every new message to ${c.buildId ?? '-'} (was ${c.previousCurrent ?? '-'})`
  }; messages in flight finish on the build they started on`;

/** `switchboard deploy status | ramp | promote | rollback`: canary deploys of the delivery workers. */
export function registerDeployCommands(program: Command, withDeps: WithDeps): void {
  const deploy = program
    .command('deploy')
    .description('which build of the delivery workers takes new messages (worker versioning)');

  deploy
    .command('status')
    .description('the current and ramping builds, every build seen, and the recorded changes')
    .option('--json', 'JSON output')
    .action(async (opts: { json?: boolean }) => {
      await withDeps(async ({ deployments, deployment }) => {
        const [status, history] = await Promise.all([
          deployments.status(deployment),
          deployments.history(deployment),
        ]);
        out(opts.json, { status, history }, statusText(status, deployment, history));
      });
    });

  deploy
    .command('ramp')
    .description('send a share of new messages to a build (a canary); the rest stay on the current one')
    .argument('<buildId>')
    .argument('<percent>', '0 to 100', parsePercent)
    .option('--note <text>', 'why')
    .option('--json', 'JSON output')
    .action(async (buildId: string, percent: number, opts: { note?: string; json?: boolean }) => {
      await withDeps(async ({ deployments, deployment }) => {
        const change = await deployments.ramp(deployment, buildId, percent, opts.note ?? null);
        out(opts.json, change, changeText(change));
      });
    });

  deploy
    .command('promote')
    .description('send every new message to a build')
    .argument('<buildId>')
    .option('--note <text>', 'why')
    .option('--json', 'JSON output')
    .action(async (buildId: string, opts: { note?: string; json?: boolean }) => {
      await withDeps(async ({ deployments, deployment }) => {
        const change = await deployments.promote(deployment, buildId, opts.note ?? null);
        out(opts.json, change, changeText(change));
      });
    });

  deploy
    .command('rollback')
    .description('end the ramp; with none, make the build current before the last promote current again')
    .option('--note <text>', 'why')
    .option('--json', 'JSON output')
    .action(async (opts: { note?: string; json?: boolean }) => {
      await withDeps(async ({ deployments, deployment }) => {
        const change = await deployments.rollback(deployment, opts.note ?? null);
        out(opts.json, change, changeText(change));
      });
    });
}
