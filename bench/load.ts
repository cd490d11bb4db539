// Load generators. Closed loop: N senders, each starts its next message when the last one is
// done, which finds the saturation rate. Open loop: messages arrive at a fixed offered rate
// (Poisson), whether or not earlier ones have finished, and each latency is measured from the
// moment its message was due, so a stall shows up in the percentiles instead of hiding in a
// slower send rate (no coordinated omission).
import { progress } from './progress';
import { seededRandom } from './stats';

/** What one call reports: null when it did what was expected, else a short kind ("undelivered"). */
export type CallOutcome = string | null;

export interface LoadRun {
  /** Latencies (ms) of the calls that succeeded. */
  latencies: number[];
  /** performance.now() at which each successful call completed. */
  completedAt: number[];
  startedAt: number;
  /** When the last call was issued (the end of the issuing period). */
  issueEndAt: number;
  /** When the last call finished. */
  finishedAt: number;
  issued: number;
  /** Failed calls by kind (an error's name, or the kind the call reported). */
  errors: Record<string, number>;
  maxInFlight: number;
}

export function errorCount(run: Pick<LoadRun, 'errors'>): number {
  return Object.values(run.errors).reduce((s, n) => s + n, 0);
}

/** An error's class name only: messages may carry things we never print. */
function errorKind(err: unknown): string {
  if (err instanceof Error) return err.name || 'Error';
  return 'non-error-throw';
}

class Tracker {
  readonly latencies: number[] = [];
  readonly completedAt: number[] = [];
  readonly errors: Record<string, number> = {};
  inFlight = 0;
  maxInFlight = 0;
  issued = 0;

  constructor(private readonly timeoutMs: number) {}

  async run(call: () => Promise<CallOutcome>, dueAt: number): Promise<void> {
    this.issued++;
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    let timer: NodeJS.Timeout | undefined;
    try {
      const outcome = await Promise.race([
        call(),
        new Promise<CallOutcome>((resolve) => {
          timer = setTimeout(() => resolve('timeout'), this.timeoutMs);
        }),
      ]);
      const now = performance.now();
      if (outcome === null) {
        this.latencies.push(now - dueAt);
        this.completedAt.push(now);
      } else {
        this.errors[outcome] = (this.errors[outcome] ?? 0) + 1;
      }
    } catch (err) {
      const kind = errorKind(err);
      this.errors[kind] = (this.errors[kind] ?? 0) + 1;
    } finally {
      clearTimeout(timer);
      this.inFlight--;
    }
  }

  ticker(label: string, startedAt: number, durationMs: number): NodeJS.Timeout {
    const timer = setInterval(() => {
      const elapsed = (performance.now() - startedAt) / 1000;
      const errors = Object.values(this.errors).reduce((s, n) => s + n, 0);
      progress(
        `  ${label}: ${elapsed.toFixed(0)}/${(durationMs / 1000).toFixed(0)} s, ${this.latencies.length} done, ` +
          `${this.inFlight} in flight, ${errors} failed`,
      );
    }, 5000);
    timer.unref();
    return timer;
  }
}

export interface LoadOptions {
  label: string;
  durationMs: number;
  /** A call still unfinished after this long counts as a 'timeout' failure (default 60 s). */
  callTimeoutMs?: number;
}

/** `concurrency` senders back to back for `durationMs`; calls still running at the end finish. */
export async function closedLoop(
  options: LoadOptions & { concurrency: number },
  call: (i: number) => Promise<CallOutcome>,
): Promise<LoadRun> {
  const tracker = new Tracker(options.callTimeoutMs ?? 60_000);
  const startedAt = performance.now();
  const end = startedAt + options.durationMs;
  const ticker = tracker.ticker(options.label, startedAt, options.durationMs);
  let n = 0;
  let issueEndAt = startedAt;
  await Promise.all(
    Array.from({ length: options.concurrency }, async () => {
      while (performance.now() < end) {
        const i = n++;
        const dueAt = performance.now();
        issueEndAt = dueAt;
        await tracker.run(() => call(i), dueAt);
      }
    }),
  );
  clearInterval(ticker);
  return {
    latencies: tracker.latencies,
    completedAt: tracker.completedAt,
    startedAt,
    issueEndAt: Math.max(issueEndAt, end),
    finishedAt: performance.now(),
    issued: tracker.issued,
    errors: tracker.errors,
    maxInFlight: tracker.maxInFlight,
  };
}

/**
 * Poisson arrivals at `ratePerSecond` for `durationMs`, seeded, so every run offers the same
 * schedule: exactly round(rate × duration) arrivals at uniformly drawn moments — a Poisson
 * process given its count, so short phases offer the rate asked for, bursts included. Waits for
 * every call to finish. Latency counts from each call's due time.
 */
export async function openLoop(
  options: LoadOptions & { ratePerSecond: number; seed: number },
  call: (i: number) => Promise<CallOutcome>,
): Promise<LoadRun> {
  const tracker = new Tracker(options.callTimeoutMs ?? 60_000);
  const random = seededRandom(options.seed);
  const count = Math.max(1, Math.round((options.ratePerSecond * options.durationMs) / 1000));
  const offsets = Array.from({ length: count }, () => random() * options.durationMs).sort((a, b) => a - b);
  const startedAt = performance.now();
  const ticker = tracker.ticker(options.label, startedAt, options.durationMs);
  const running: Promise<void>[] = [];
  for (const [i, offset] of offsets.entries()) {
    const due = startedAt + offset;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    running.push(tracker.run(() => call(i), due));
  }
  const issueEndAt = startedAt + options.durationMs;
  await Promise.all(running);
  clearInterval(ticker);
  return {
    latencies: tracker.latencies,
    completedAt: tracker.completedAt,
    startedAt,
    issueEndAt,
    finishedAt: performance.now(),
    issued: tracker.issued,
    errors: tracker.errors,
    maxInFlight: tracker.maxInFlight,
  };
}
