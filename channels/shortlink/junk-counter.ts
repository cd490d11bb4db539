// Requests for links that do not exist (garbage or guessed tokens, codes posted to them, and the
// 429s a guessing client gets) are counted here, not audited one by one: one summary per
// interval goes to the audit trail. Auditing each one let anyone on the internet write permanent
// rows at line rate, all on one hash chain, and slow every send's audit append behind them.
// A summary holds counts and its interval only: no token, no address, nothing of the callers.

import type { Logger } from 'pino';

export type JunkKind = 'notFound' | 'throttled';

export interface JunkSummary {
  /** ISO 8601: the interval the counts cover, [from, to). */
  from: string;
  to: string;
  /** 404s: unknown or malformed tokens, any method. */
  notFound: number;
  /** 429s to clients over their guess limit. */
  throttled: number;
}

export interface JunkCounterOptions {
  /** Records one summary; a failure keeps the counts for the next interval. */
  record: (summary: JunkSummary) => Promise<void>;
  logger: Logger;
  /** Default 60 000. */
  intervalMs?: number;
  now?: () => Date;
}

export class JunkCounter {
  private readonly record: JunkCounterOptions['record'];
  private readonly logger: Logger;
  private readonly now: () => Date;
  private readonly timer: NodeJS.Timeout;
  private from: Date;
  private pending: Record<JunkKind, number> = { notFound: 0, throttled: 0 };
  private readonly lifetime: Record<JunkKind, number> = { notFound: 0, throttled: 0 };

  constructor(options: JunkCounterOptions) {
    this.record = options.record;
    this.logger = options.logger;
    this.now = options.now ?? (() => new Date());
    this.from = this.now();
    this.timer = setInterval(() => void this.flush(), options.intervalMs ?? 60_000);
    this.timer.unref();
  }

  note(kind: JunkKind): void {
    this.pending[kind] += 1;
    this.lifetime[kind] += 1;
  }

  /** Everything counted since this counter started, recorded or not. */
  totals(): Readonly<Record<JunkKind, number>> {
    return { ...this.lifetime };
  }

  /** Records the counts since the last summary, if there are any. */
  async flush(): Promise<void> {
    const counts = this.pending;
    if (counts.notFound + counts.throttled === 0) return;
    const to = this.now();
    const summary: JunkSummary = { from: this.from.toISOString(), to: to.toISOString(), ...counts };
    this.pending = { notFound: 0, throttled: 0 };
    this.from = to;
    try {
      await this.record(summary);
    } catch (err) {
      // Carried over: the next summary covers both intervals.
      this.pending.notFound += counts.notFound;
      this.pending.throttled += counts.throttled;
      this.from = new Date(summary.from);
      this.logger.error(
        { err: { name: err instanceof Error ? err.name : typeof err } },
        'junk summary failed',
      );
    }
  }

  /** Stops the timer and records what is left. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}
