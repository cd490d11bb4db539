import type { Logger } from 'pino';

/**
 * One warning line per interval, however many posts are rejected: a flood of forged webhook posts
 * must not become a flood of log lines. The line counts what it stands for since the last one.
 */
export class RejectionLog {
  private lastLoggedAt = -Infinity;
  private suppressed = 0;
  private readonly reasons = new Map<string, number>();

  constructor(
    private readonly logger: Logger,
    private readonly message: string,
    private readonly intervalMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  record(reason: string): void {
    this.suppressed++;
    this.reasons.set(reason, (this.reasons.get(reason) ?? 0) + 1);
    const now = this.now();
    if (now - this.lastLoggedAt < this.intervalMs) return;
    this.logger.warn(
      { rejected: this.suppressed, reasons: Object.fromEntries(this.reasons), sinceMs: this.intervalMs },
      this.message,
    );
    this.lastLoggedAt = now;
    this.suppressed = 0;
    this.reasons.clear();
  }
}
