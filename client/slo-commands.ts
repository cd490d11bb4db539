import type { Command } from 'commander';
import { ALERT_WINDOWS_SECONDS, OBJECTIVES, parseDuration, promDuration } from '../ops/slo/objectives';
import type { Objective } from '../ops/slo/objectives';
import { errorBudget } from '../ops/slo/rules';
import type { Database } from '../store/database';
import { capabilityShares } from '../store/capability-report';
import { countSliSamples } from '../store/slo-samples';
import type { SliCount } from '../store/slo-samples';
import { ValidationError } from './validation';

export interface SliReport {
  name: string;
  description: string;
  target: number;
  /** "audit-trail", or "prometheus-only" when PostgreSQL does not see the SLI (numbers null). */
  source: 'audit-trail' | 'prometheus-only';
  total: number | null;
  bad: number | null;
  errorRatio: number | null;
  /** 1 = untouched, 0 = spent, below 0 = overspent; null without samples. */
  budgetRemaining: number | null;
  /** Per alert window ("5m", "1h" …): error ratio / error budget; null without samples. */
  burnRates: Record<string, number | null>;
}

/** Four decimals: enough for a 99.99 % target's ratios, and exact numbers for a test to expect. */
const round = (x: number) => Math.round(x * 1e4) / 1e4;

function thresholdOf(name: string): number {
  const p = OBJECTIVES.find((o) => o.name === name)?.prometheus;
  if (p?.kind !== 'latency') throw new Error(`objective ${name} is not a latency objective`);
  return p.le;
}

function report(o: Objective, windowSeconds: number, counts: SliCount[]): SliReport {
  const of = (secs: number) => counts.find((c) => c.sli === o.name && c.windowSeconds === secs);
  const ratio = (c: SliCount | undefined) => (c && c.total > 0 ? c.bad / c.total : null);
  const budget = errorBudget(o);
  const whole = of(windowSeconds);
  const wholeRatio = o.auditTrail ? (ratio(whole) ?? null) : null;
  return {
    name: o.name,
    description: o.description,
    target: o.target,
    source: o.auditTrail ? 'audit-trail' : 'prometheus-only',
    total: o.auditTrail ? (whole?.total ?? 0) : null,
    bad: o.auditTrail ? (whole?.bad ?? 0) : null,
    errorRatio: wholeRatio === null ? null : round(wholeRatio),
    budgetRemaining: wholeRatio === null ? null : round(1 - wholeRatio / budget),
    burnRates: Object.fromEntries(
      ALERT_WINDOWS_SECONDS.map((secs) => {
        const r = o.auditTrail ? ratio(of(secs)) : null;
        return [promDuration(secs), r === null ? null : round(r / budget)];
      }),
    ),
  };
}

export async function sloReport(db: Database, now: Date, windowSeconds: number): Promise<SliReport[]> {
  // A window given twice would count its samples twice.
  const windows = [...new Set([...ALERT_WINDOWS_SECONDS, windowSeconds])];
  const counts = await countSliSamples(db, now, windows, {
    rcsMedianSeconds: thresholdOf('rcs-latency-median'),
    rcsP95Seconds: thresholdOf('rcs-latency-p95'),
    smsReceiptSeconds: thresholdOf('sms-receipt-latency-p95'),
  });
  return OBJECTIVES.map((o) => report(o, windowSeconds, counts));
}

const pct = (x: number | null) => (x === null ? 'n/a' : `${round(x * 100)} %`);

function describe(r: SliReport, window: string): string {
  if (r.source === 'prometheus-only') {
    return `${r.name}  target ${pct(r.target)}  not in the audit trail: see slo:error_budget_remaining:ratio in Prometheus`;
  }
  const burns = Object.entries(r.burnRates)
    .map(([w, b]) => `${w} ${b === null ? '-' : `${b}×`}`)
    .join('  ');
  return [
    `${r.name}  target ${pct(r.target)}  over ${window}: ${r.bad}/${r.total} bad, budget left ${pct(r.budgetRemaining)}`,
    `  burn rate  ${burns}`,
  ].join('\n');
}

/** `switchboard slo`: each SLI's budget and burn rates from the audit trail, no Prometheus needed. */
export function registerSloCommand(
  program: Command,
  withDb: (run: (db: Database) => Promise<void>) => Promise<void>,
): void {
  program
    .command('slo')
    .description('each SLO: target, error budget left and burn rates, from the audit trail')
    .option('--window <duration>', 'error budget window, e.g. 30d, 7d, 12h', '30d')
    .option('--json', 'JSON output')
    .action(async (opts: { window: string; json?: boolean }) => {
      const windowSeconds = parseDuration(opts.window);
      if (windowSeconds === null)
        throw new ValidationError('--window', 'a whole number and s, m, h or d, e.g. 30d');
      await withDb(async (db) => {
        const now = new Date();
        const slis = await sloReport(db, now, windowSeconds);
        process.stdout.write(
          opts.json
            ? `${JSON.stringify({ window: opts.window, at: now.toISOString(), slis })}\n`
            : `${slis.map((s) => describe(s, opts.window)).join('\n')}\n`,
        );
      });
    });
}

/** `switchboard report capability`: the share of recipients seen as RCS, RCS + E2EE, SMS-only. */
export function registerReportCommands(
  program: Command,
  withDb: (run: (db: Database) => Promise<void>) => Promise<void>,
): void {
  program
    .command('report')
    .description('migration KPIs')
    .command('capability')
    .description('share of recipients seen as RCS, RCS + E2EE and SMS-only, per region and carrier')
    .option('--region <region>', 'one region')
    .option('--window <duration>', 'recipients routed within, e.g. 30d', '30d')
    .option('--json', 'JSON output')
    .action(async (opts: { region?: string; window: string; json?: boolean }) => {
      const windowSeconds = parseDuration(opts.window);
      if (windowSeconds === null)
        throw new ValidationError('--window', 'a whole number and s, m, h or d, e.g. 30d');
      if (opts.region !== undefined && !/^[a-z0-9-]{1,32}$/.test(opts.region))
        throw new ValidationError('--region', 'lowercase letters, digits and dashes');
      await withDb(async (db) => {
        const rows = await capabilityShares(db, new Date(), windowSeconds, opts.region);
        const text = rows.length
          ? rows
              .map(
                (r) =>
                  `${r.region.padEnd(6)} carrier: ${r.carrier}  ${r.recipients} recipients  RCS ${pct(r.rcs)}  RCS+E2EE ${pct(r.rcsE2ee)}  SMS-only ${pct(r.smsOnly)}  unknown ${pct(r.unknown)}`,
              )
              .join('\n')
          : `no recipients routed in the last ${opts.window}`;
        process.stdout.write(opts.json ? `${JSON.stringify(rows)}\n` : `${text}\n`);
      });
    });
}
