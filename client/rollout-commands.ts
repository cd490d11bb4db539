import type { Command } from 'commander';
import { Option } from 'commander';
import { FLOWS } from '../domain/message';
import type { Flow } from '../domain/message';
import { PHASES } from '../domain/rollout';
import type { Phase, RolloutConfig } from '../domain/rollout';
import type { RecipientPreferences } from '../store/rollout/recipient-preferences';
import type { RolloutChange, RolloutStore } from '../store/rollout/rollout-store';
import { ValidationError, validateSend } from './validation';

export interface RolloutDeps {
  rollout: RolloutStore;
  preferences: RecipientPreferences;
}

type WithDeps = (run: (deps: RolloutDeps) => Promise<void>) => Promise<void>;

function describe(c: RolloutConfig): string {
  const overrides = Object.entries(c.flowOverrides)
    .map(([f, p]) => `${f}=${p}`)
    .join(',');
  return [
    `${c.region.padEnd(4)} v${c.version}`,
    c.phase,
    c.phase === 'pilot' ? `${c.pilotPercent}%` : '',
    c.killSwitch ? 'KILL-SWITCH' : '',
    overrides ? `overrides ${overrides}` : '',
    c.good ? 'good' : '',
    c.note ? `(${c.note})` : '',
  ]
    .filter(Boolean)
    .join('  ');
}

function parsePercent(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n > 100)
    throw new ValidationError('--percent', 'a number from 0 to 100');
  return n;
}

function parseOverride(
  value: string,
  previous: Partial<Record<Flow, Phase>> = {},
): Partial<Record<Flow, Phase>> {
  const [flow, phase] = value.split('=');
  if (
    !flow ||
    !(FLOWS as readonly string[]).includes(flow) ||
    !phase ||
    !(PHASES as readonly string[]).includes(phase)
  ) {
    throw new ValidationError(
      '--override',
      `flow=phase with flow one of ${FLOWS.join(', ')} and phase one of ${PHASES.join(', ')}`,
    );
  }
  return { ...previous, [flow]: phase as Phase };
}

function parseRegion(region: string): string {
  if (!/^[a-z0-9-]{1,32}$/.test(region))
    throw new ValidationError('region', 'lowercase letters, digits and dashes');
  return region;
}

/** `switchboard rollout …` and `switchboard recipient …`: the migration's control panel. */
export function registerRolloutCommands(program: Command, withDeps: WithDeps): void {
  const print = (json: boolean | undefined, value: unknown, text: string) =>
    process.stdout.write(json ? `${JSON.stringify(value)}\n` : `${text}\n`);
  const rollout = program
    .command('rollout')
    .description('phased rollout per region: show, change, roll back');

  rollout
    .command('show')
    .argument('[region]', 'one region (default: every region with a stored config)')
    .option('--history', 'list earlier versions too')
    .option('--json', 'JSON output')
    .action(async (region: string | undefined, opts: { history?: boolean; json?: boolean }) => {
      await withDeps(async ({ rollout: store }) => {
        const regions = region ? [parseRegion(region)] : await store.regions();
        const configs = await Promise.all(
          regions.map((r) => (opts.history ? store.history(r) : store.current(r).then((c) => [c]))),
        );
        const flat = configs.flat();
        print(
          opts.json,
          flat,
          flat.length
            ? flat.map(describe).join('\n')
            : 'no stored rollout configs (every region uses ROLLOUT_DEFAULT_PHASE)',
        );
      });
    });

  rollout
    .command('set')
    .argument('<region>')
    .addOption(new Option('--phase <phase>', 'rollout phase').choices([...PHASES]))
    .option('--percent <n>', 'pilot cohort, % of recipients (1–5 typical)', parsePercent)
    .addOption(new Option('--kill-switch <state>', 'stop all RCS sends in the region').choices(['on', 'off']))
    .option('--override <flow=phase>', 'phase for one flow (repeatable)', parseOverride)
    .option('--good', 'mark the new version good (a rollback target)')
    .option('--note <text>', 'why')
    .option('--json', 'JSON output')
    .action(
      async (
        region: string,
        opts: {
          phase?: Phase;
          percent?: number;
          killSwitch?: 'on' | 'off';
          override?: Partial<Record<Flow, Phase>>;
          good?: boolean;
          note?: string;
          json?: boolean;
        },
      ) => {
        const change: RolloutChange = {
          ...(opts.phase ? { phase: opts.phase } : {}),
          ...(opts.percent !== undefined ? { pilotPercent: opts.percent } : {}),
          ...(opts.killSwitch ? { killSwitch: opts.killSwitch === 'on' } : {}),
          ...(opts.override ? { flowOverrides: opts.override } : {}),
          ...(opts.good ? { good: true } : {}),
          ...(opts.note ? { note: opts.note } : {}),
        };
        await withDeps(async ({ rollout: store }) => {
          const next = await store.set(parseRegion(region), change);
          print(opts.json, next, describe(next));
        });
      },
    );

  rollout
    .command('mark-good')
    .argument('<region>')
    .argument('[version]', 'default: the current version')
    .option('--json', 'JSON output')
    .action(async (region: string, version: string | undefined, opts: { json?: boolean }) => {
      const v = version === undefined ? undefined : Number(version);
      if (v !== undefined && !Number.isInteger(v)) throw new ValidationError('version', 'a whole number');
      await withDeps(async ({ rollout: store }) => {
        const marked = await store.markGood(parseRegion(region), v);
        print(opts.json, marked, describe(marked));
      });
    });

  rollout
    .command('rollback')
    .argument('<region>')
    .option('--json', 'JSON output')
    .description('return to the last version marked good, as a new version')
    .action(async (region: string, opts: { json?: boolean }) => {
      await withDeps(async ({ rollout: store }) => {
        const restored = await store.rollback(parseRegion(region));
        print(opts.json, restored, describe(restored));
      });
    });

  const recipient = program.command('recipient').description("a recipient's RCS opt-in or opt-out");
  for (const [name, preference] of [
    ['opt-in', 'opt-in'],
    ['opt-out', 'opt-out'],
    ['clear', null],
  ] as const) {
    recipient
      .command(name)
      .argument('<e164>')
      .action(async (e164: string) => {
        const { to } = validateSend({ to: e164, text: '-' });
        await withDeps(async ({ preferences }) => {
          await preferences.set(to, preference);
          process.stdout.write(`recipient preference ${preference ?? 'cleared'}\n`);
        });
      });
  }
}
