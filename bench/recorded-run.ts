// A run as the before/after comparison reads it: from this run's report, or from a JSON file an
// earlier run wrote (BENCH_BEFORE), possibly by an older revision of the bench. Older files hold
// `variants: [...]` (one pipeline per behaviour flag combination); their last variant is the one
// that ran with that revision's defaults, so it stands for that revision.
import { readFileSync } from 'node:fs';
import { z } from 'zod';

// JSON writes NaN (a percentile of no messages) as null.
const measured = z.number().nullable();

const phaseSchema = z.object({
  perSecond: measured,
  perSecondMedianWindow: measured,
  completed: z.number(),
  latencyMs: z.object({ p50: measured, p95: measured }),
  resources: z.object({
    benchCpuMs: measured,
    temporalCpuMs: measured,
    postgresCpuMs: measured,
    othersBusyPct: measured,
  }),
});

const pathSchema = z.object({
  path: z.string(),
  label: z.string(),
  closed: phaseSchema,
  open: phaseSchema.nullable(),
  floor: phaseSchema.nullable().optional(),
  history: z
    .object({
      events: z.number(),
      roundTrips: z.number(),
      workflowTasks: z.number(),
      upserts: z.number(),
      byActivity: z.record(z.string(), z.number()),
    })
    .nullable(),
});

const common = {
  at: z.string(),
  scale: z.number(),
  plan: z.object({ concurrency: z.number(), openShare: z.number() }),
  baselineA: phaseSchema,
  // Older files may lack it; the latency comparisons that need it then show –.
  baselineAFloor: phaseSchema.optional(),
};

const revisionReport = z.object({
  ...common,
  revision: z.object({ name: z.string() }),
  paths: z.array(pathSchema).min(1),
});

const variantsReport = z.object({
  ...common,
  variants: z.array(z.object({ name: z.string(), paths: z.array(pathSchema).min(1) })).min(1),
});

export type RecordedPhase = z.infer<typeof phaseSchema>;
export type RecordedPath = z.infer<typeof pathSchema>;

export interface RecordedRun {
  /** The revision measured (an older file: its last variant's name). */
  name: string;
  at: string;
  scale: number;
  concurrency: number;
  baselineA: RecordedPhase;
  baselineAFloor: RecordedPhase | null;
  paths: RecordedPath[];
}

export class RecordedRunError extends Error {
  override name = 'RecordedRunError';
}

function issues(error: z.ZodError): string {
  return error.issues
    .map((i) => `${i.path.join('.') || '(top level)'}: ${i.message}`)
    .slice(0, 5)
    .join('; ');
}

/** Reads a bench/results/*.json file; `variable` names where its path came from, for errors. */
export function readRecordedRun(file: string, variable: string): RecordedRun {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    const why =
      err instanceof SyntaxError ? 'not JSON' : ((err as NodeJS.ErrnoException).code ?? 'unreadable');
    throw new RecordedRunError(`${variable}: ${file}: expected a bench/results/*.json file (${why})`);
  }
  const legacy = typeof raw === 'object' && raw !== null && 'variants' in raw;
  if (legacy) {
    const parsed = variantsReport.safeParse(raw);
    if (!parsed.success)
      throw new RecordedRunError(`${variable}: ${file}: not a bench report (${issues(parsed.error)})`);
    const r = parsed.data;
    const last = r.variants.at(-1) as (typeof r.variants)[number];
    return {
      name: last.name,
      at: r.at,
      scale: r.scale,
      concurrency: r.plan.concurrency,
      baselineA: r.baselineA,
      baselineAFloor: r.baselineAFloor ?? null,
      paths: last.paths,
    };
  }
  const parsed = revisionReport.safeParse(raw);
  if (!parsed.success)
    throw new RecordedRunError(`${variable}: ${file}: not a bench report (${issues(parsed.error)})`);
  const r = parsed.data;
  return {
    name: r.revision.name,
    at: r.at,
    scale: r.scale,
    concurrency: r.plan.concurrency,
    baselineA: r.baselineA,
    baselineAFloor: r.baselineAFloor ?? null,
    paths: r.paths,
  };
}
